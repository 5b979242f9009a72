//! `GET /api/v1/clients/{client}/report?quarter=2026Q4|month=2026-11|from=…&to=…
//! [&format=html|pdf|csv|json][&lang=en|ru|it]`: a client's report, for automation and
//! for `reveille report` (`app::client_reports`, which the board's client page serves too).

use axum::extract::{Path, Query, State};
use axum::response::Response;

use crate::app::AppState;
use crate::app::client_reports::{Asked, answer};
use crate::app::error::ApiError;
use crate::i18n::Lang;

pub async fn get(
    State(state): State<AppState>,
    Path(client): Path<String>,
    Query(asked): Query<Asked>,
) -> Result<Response, ApiError> {
    answer(&state, &client, &asked, Lang::En).await
}

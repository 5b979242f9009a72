//! An installation's page: its state at a glance (the board's row, in full), what is open
//! on it, and its alerts of late, newest first; an admin also finds its settings there.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use super::page::{PageError, Ui, render};
use super::session::Visitor;
use crate::alerts::Alert;
use crate::app::AppState;
use crate::board::Row;
use crate::store::AlertFilter;

/// Alerts of late listed.
const RECENT: i64 = 50;

#[derive(Template)]
#[template(path = "installation.html")]
struct InstallationPage {
    ui: Ui,
    row: Row,
    alerts: Vec<Alert>,
}

pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let kept = state.web.board.rows().await?;
    // One the visitor may not see is as absent as one that is not there.
    let row = kept
        .rows
        .iter()
        .find(|r| r.installation.id == id && visitor.staff.sees(&r.installation.manager))
        .cloned()
        .ok_or_else(|| PageError::not_found(visitor.lang()))?;
    let alerts = state
        .store
        .alerts(&AlertFilter {
            installation: Some(id),
            limit: RECENT,
            ..AlertFilter::default()
        })
        .await?;
    Ok(render(&InstallationPage {
        ui: visitor.ui(),
        row,
        alerts,
    }))
}

//! Post-mortems of incidents and of single alerts: `GET …/postmortem` writes one from the
//! timeline (Markdown, or HTML when asked), `PUT …/postmortem` keeps what people wrote
//! (both `app::postmortems`', which the board's pages call too).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::incidents::incident_id;

use crate::alerts::On;
use crate::app::error::ApiError;
use crate::app::postmortems::{document, save};
use crate::app::{AppState, input};
use crate::postmortem::{self, Sections};

fn alert_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::bad_request(format!("alert id `{id}` is not a number")))
}

/// `GET /api/v1/incidents/{id}/postmortem[?format=md|html]`.
pub async fn incident(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    written(&state, On::Incident(incident_id(&id)?), &query, &headers).await
}

/// `GET /api/v1/alerts/{id}/postmortem[?format=md|html]`: a critical alert's, written as an
/// incident of one installation.
pub async fn alert(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    written(&state, On::Alert(alert_id(&id)?), &query, &headers).await
}

/// `PUT /api/v1/incidents/{id}/postmortem` with any of `cause`, `actions`, `prevention`.
pub async fn put_incident(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    write(&state, On::Incident(incident_id(&id)?), &body).await
}

/// `PUT /api/v1/alerts/{id}/postmortem` with any of `cause`, `actions`, `prevention`.
pub async fn put_alert(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    write(&state, On::Alert(alert_id(&id)?), &body).await
}

/// Markdown unless HTML is asked for (by `format=html`, or an `Accept` that prefers it, as
/// a browser's does).
async fn written(
    state: &AppState,
    on: On,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let html = match query.get("format").map(String::as_str) {
        Some("html") => true,
        Some("md" | "markdown") => false,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "format: `{}` is neither md nor html",
                input::text("format", other, input::MAX_NAME)?
            )));
        }
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.starts_with("text/html")),
    };
    let (markdown, title) = document(state, on).await?;
    Ok(if html {
        (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            postmortem::html(&markdown, &format!("Post-mortem: {title}")),
        )
            .into_response()
    } else {
        (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            markdown,
        )
            .into_response()
    })
}

async fn write(state: &AppState, on: On, body: &Bytes) -> Result<Json<Value>, ApiError> {
    let given: Sections =
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    let sections = save(state, on, given, "an administrator (API)").await?;
    Ok(Json(json!({ "postmortem": sections })))
}

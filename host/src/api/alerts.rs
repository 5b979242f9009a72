//! `/api/v1/alerts`: list and filter alerts, read one with its timeline, acknowledge one.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::input;
use crate::alerts::{self, AlertState};
use crate::store::{Acted, AlertFilter};

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1_000;

/// `GET /api/v1/alerts?state=&installation=&client=&manager=&severity=&plugin=&limit=`.
/// `state` is one state, a comma-separated list, or `open` (anything not resolved).
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let mut filter = AlertFilter {
        limit: DEFAULT_LIMIT,
        ..AlertFilter::default()
    };
    for (name, value) in query {
        input::text(&name, &value, input::MAX_NAME)?;
        match name.as_str() {
            "state" => filter.states = Some(states(&value)?),
            "installation" => filter.installation = Some(value),
            "client" => filter.client = Some(value),
            "manager" => filter.manager = Some(value),
            "plugin" => filter.plugin = Some(value),
            "severity" => {
                filter.severity = Some(
                    value
                        .parse()
                        .map_err(|e| ApiError::bad_request(format!("severity: {e}")))?,
                )
            }
            "limit" => {
                filter.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "limit: `{value}` is not a number from 1 to {MAX_LIMIT}"
                        ))
                    })?
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown filter `{other}` (use state, installation, client, manager, severity, plugin or limit)"
                )));
            }
        }
    }
    let alerts = state
        .store
        .alerts(&filter)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(json!({ "alerts": alerts })))
}

fn states(value: &str) -> Result<Vec<AlertState>, ApiError> {
    if value == "open" {
        return Ok(AlertState::OPEN.to_vec());
    }
    value
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .map_err(|e| ApiError::bad_request(format!("state: {e}, or open")))
        })
        .collect()
}

fn alert_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::bad_request(format!("alert id `{id}` is not a number")))
}

/// One alert and its timeline: fired, notified where and when, acknowledged by whom,
/// resolved and why.
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = alert_id(&id)?;
    let alert = state
        .store
        .alert(id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("no alert {id}")))?;
    let timeline = state
        .store
        .alert_timeline(id)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(json!({ "alert": alert, "timeline": timeline })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AckBody {
    /// Who takes it, for the timeline and the message.
    by: Option<String>,
}

/// `POST /api/v1/alerts/{id}/ack`, optional body `{"by": "name"}`.
pub async fn ack(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = alert_id(&id)?;
    let body: AckBody = if body.iter().all(u8::is_ascii_whitespace) {
        AckBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("body: {e}")))?
    };
    let by = match body.by.as_deref().map(str::trim) {
        Some("") => return Err(ApiError::bad_request("by: must not be empty")),
        Some(name) => format!("{} (API)", input::name("by", name)?),
        None => "an administrator (API)".to_string(),
    };
    let acted = state
        .store
        .acknowledge_alert(id, &by, state.clock.now_ms(), alerts::ON_ACKNOWLEDGE)
        .await
        .map_err(ApiError::internal)?;
    match acted {
        Acted::Done(alert) => {
            state.alerting.outbox.notify_one();
            Ok((StatusCode::OK, Json(json!({ "alert": alert }))))
        }
        Acted::Unchanged(alert) => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "alert {id} is {}: only a firing or snoozed alert can be acknowledged",
                alert.state
            ),
        )),
        Acted::NotFound => Err(ApiError::not_found(format!("no alert {id}"))),
    }
}

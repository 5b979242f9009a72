//! `/api/v1/incidents`: list incidents, read one with its members and timeline, acknowledge,
//! snooze or post an update on one (post-mortems are in `postmortems.rs`).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::alerts::{act_body, answer, snooze_until};
use crate::alerts::incidents::{Incident, MAX_UPDATE, Reach};
use crate::app::AppState;
use crate::app::error::ApiError;
use crate::app::input;
use crate::store::IncidentFilter;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1_000;

pub(super) fn incident_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::bad_request(format!("incident id `{id}` is not a number")))
}

/// `GET /api/v1/incidents?state=open|all&limit=`, newest first.
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let mut filter = IncidentFilter {
        open_only: false,
        before: None,
        limit: DEFAULT_LIMIT,
    };
    for (name, value) in query {
        match name.as_str() {
            "state" => {
                filter.open_only = match value.as_str() {
                    "open" => true,
                    "all" => false,
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "state: `{}` is neither open nor all",
                            input::text("state", other, input::MAX_NAME)?
                        )));
                    }
                }
            }
            "limit" => filter.limit = input::limit(&value, MAX_LIMIT)?,
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown filter `{}` (use state or limit)",
                    input::text("filter", other, input::MAX_NAME)?
                )));
            }
        }
    }
    let incidents = state.store.incidents(filter).await?;
    Ok(Json(json!({ "incidents": incidents })))
}

pub(super) async fn load(state: &AppState, id: i64) -> Result<Incident, ApiError> {
    state
        .store
        .incident(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no incident {id}")))
}

/// One incident: its members (with when each came back), chats, updates and timeline.
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = incident_id(&id)?;
    let incident = load(&state, id).await?;
    let timeline = state
        .store
        .timeline(crate::alerts::On::Incident(id))
        .await?;
    Ok(Json(json!({ "incident": incident, "timeline": timeline })))
}

/// `POST /api/v1/incidents/{id}/ack`, optional body `{"by": "name"}`: the incident and its
/// members.
pub async fn ack(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = incident_id(&id)?;
    let (_, by) = act_body(&body)?;
    let acted = state.alerting.acknowledge_incident(id, &by).await?;
    answer(
        id,
        acted,
        "only a firing or snoozed incident can be acknowledged",
    )
}

/// `POST /api/v1/incidents/{id}/snooze` with `{"for": "2h", "by": "name"}`.
pub async fn snooze(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = incident_id(&id)?;
    let (body, by) = act_body(&body)?;
    let until = snooze_until(&state, body)?;
    let acted = state.alerting.snooze_incident(id, &by, until).await?;
    answer(id, acted, "only an open incident can be snoozed")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    text: String,
    by: Option<String>,
    /// Also shown to the affected clients, on their status pages.
    #[serde(default)]
    publish: bool,
}

/// `POST /api/v1/incidents/{id}/updates` with `{"text": "...", "by": "name"}`: shown on
/// every chat's card and kept in the timeline; with `"publish": true`, also on the status
/// pages of the clients it touches.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = incident_id(&id)?;
    let body: UpdateBody =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    let text = input::text("text", body.text.trim(), MAX_UPDATE)?;
    if text.is_empty() {
        return Err(ApiError::bad_request("text: must not be empty"));
    }
    let by = match body.by.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => format!("{} (API)", input::name("by", name)?),
        _ => "an administrator (API)".to_string(),
    };
    let reach = if body.publish {
        Reach::Clients
    } else {
        Reach::Staff
    };
    let acted = state.alerting.update_incident(id, &by, text, reach).await?;
    answer(id, acted, "")
}

//! `/api/v1/incidents`: list incidents, read one with its members and timeline, acknowledge,
//! snooze or post an update on one, and read or write its post-mortem.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::alerts::{act_body, snooze_until};
use super::error::ApiError;
use super::input;
use crate::alerting::IncidentActed;
use crate::alerts::incidents::Incident;
use crate::alerts::{Event, EventKind};
use crate::postmortem::{self, Facts, Sections};
use crate::store::IncidentFilter;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1_000;
/// Longest update or post-mortem section.
const MAX_TEXT: usize = 20_000;

fn incident_id(id: &str) -> Result<i64, ApiError> {
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
            "limit" => {
                filter.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "limit: `{}` is not a number from 1 to {MAX_LIMIT}",
                            value.chars().take(40).collect::<String>()
                        ))
                    })?
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown filter `{}` (use state or limit)",
                    input::text("filter", other, input::MAX_NAME)?
                )));
            }
        }
    }
    let incidents = state
        .store
        .incidents(filter)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(json!({ "incidents": incidents })))
}

async fn load(state: &AppState, id: i64) -> Result<Incident, ApiError> {
    state
        .store
        .incident(id)
        .await
        .map_err(ApiError::internal)?
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
        .incident_timeline(id)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(json!({ "incident": incident, "timeline": timeline })))
}

fn answer(
    id: i64,
    acted: IncidentActed,
    only: &str,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    match acted {
        IncidentActed::Done(incident) => {
            Ok((StatusCode::OK, Json(json!({ "incident": incident }))))
        }
        IncidentActed::Unchanged(incident) => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("incident {id} is {}: {only}", incident.state.as_str()),
        )),
        IncidentActed::NotFound => Err(ApiError::not_found(format!("no incident {id}"))),
    }
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
    let acted = state
        .alerting
        .acknowledge_incident(id, &by)
        .await
        .map_err(ApiError::internal)?;
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
    let acted = state
        .alerting
        .snooze_incident(id, &by, until)
        .await
        .map_err(ApiError::internal)?;
    answer(id, acted, "only an open incident can be snoozed")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    text: String,
    by: Option<String>,
}

/// `POST /api/v1/incidents/{id}/updates` with `{"text": "...", "by": "name"}`: shown on
/// every chat's card and kept in the timeline.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = incident_id(&id)?;
    let body: UpdateBody =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    let text = input::text("text", body.text.trim(), MAX_TEXT)?;
    if text.is_empty() {
        return Err(ApiError::bad_request("text: must not be empty"));
    }
    let by = match body.by.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => format!("{} (API)", input::name("by", name)?),
        _ => "an administrator (API)".to_string(),
    };
    let acted = state
        .alerting
        .update_incident(id, &by, text)
        .await
        .map_err(ApiError::internal)?;
    answer(id, acted, "")
}

/// `GET /api/v1/incidents/{id}/postmortem[?format=md|html]`: Markdown unless HTML is asked
/// for (by `format=html` or an `Accept` that prefers it, as a browser's does).
pub async fn postmortem(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = incident_id(&id)?;
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
    let incident = load(&state, id).await?;
    let timeline = state
        .store
        .incident_timeline(id)
        .await
        .map_err(ApiError::internal)?;
    let sections = stored_sections(&state, id).await?;
    let (zone, at_night) = state
        .alerting
        .began_at_night(&incident)
        .await
        .map_err(ApiError::internal)?;
    let markdown = postmortem::markdown(&Facts {
        incident: &incident,
        timeline: &timeline,
        sections: &sections,
        zone: &zone,
        at_night,
    });
    Ok(if html {
        let title = format!("Post-mortem: incident #{id}");
        (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            postmortem::html(&markdown, &title),
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

async fn stored_sections(state: &AppState, id: i64) -> Result<Sections, ApiError> {
    Ok(state
        .store
        .postmortem(id)
        .await
        .map_err(ApiError::internal)?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

/// `PUT /api/v1/incidents/{id}/postmortem` with any of `cause`, `actions`, `prevention`:
/// the sections given replace what was written; the others stay.
pub async fn put_postmortem(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = incident_id(&id)?;
    let given: Sections =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    let mut sections = stored_sections(&state, id).await?;
    let mut changed = Vec::new();
    for (name, new, old) in [
        ("cause", given.cause, &mut sections.cause),
        ("actions", given.actions, &mut sections.actions),
        ("prevention", given.prevention, &mut sections.prevention),
    ] {
        if let Some(text) = new {
            for line in text.lines() {
                input::text(name, line, MAX_TEXT)?;
            }
            if text.chars().count() > MAX_TEXT {
                return Err(ApiError::bad_request(format!(
                    "{name}: more than the {MAX_TEXT} characters allowed"
                )));
            }
            *old = Some(text);
            changed.push(name);
        }
    }
    if changed.is_empty() {
        return Err(ApiError::bad_request(
            "body: give at least one of cause, actions, prevention",
        ));
    }
    let json = serde_json::to_string(&sections).map_err(ApiError::internal)?;
    let entry = Event::new(
        EventKind::Postmortem,
        format!("wrote {}", changed.join(", ")),
    )
    .by("an administrator (API)");
    let stored = state
        .store
        .put_postmortem(id, &json, &entry, state.clock.now_ms())
        .await
        .map_err(ApiError::internal)?;
    if !stored {
        return Err(ApiError::not_found(format!("no incident {id}")));
    }
    Ok(Json(json!({ "postmortem": sections })))
}

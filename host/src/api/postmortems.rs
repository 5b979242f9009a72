//! Post-mortems of incidents and of single alerts: `GET …/postmortem` writes one from the
//! timeline (Markdown, or HTML when asked), `PUT …/postmortem` keeps what people wrote.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::incidents::{incident_id, load};

use crate::alerts::incidents::{Incident, MAX_UPDATE};
use crate::alerts::{Detail, Event, EventKind, On};
use crate::app::AppState;
use crate::app::error::ApiError;
use crate::app::input;
use crate::postmortem::{self, Facts, Sections};

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

/// What the post-mortem is about, its heading and timeline.
async fn subject(
    state: &AppState,
    on: On,
) -> Result<(Incident, String, Vec<crate::alerts::AlertEvent>), ApiError> {
    match on {
        On::Incident(id) => {
            let incident = load(state, id).await?;
            let title = format!("incident #{id}, {}", incident.what(crate::i18n::Lang::En));
            let timeline = state.store.timeline(on).await?;
            Ok((incident, title, timeline))
        }
        On::Alert(id) => {
            let alert = state
                .store
                .alert(id)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no alert {id}")))?;
            let title = format!(
                "alert #{id}, {} on {} ({})",
                alert.plugin, alert.installation_id, alert.client
            );
            let timeline = state.store.timeline(on).await?;
            Ok((Incident::of_alert(&alert), title, timeline))
        }
    }
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

/// The post-mortem of `on` as Markdown, and its title.
pub(crate) async fn document(state: &AppState, on: On) -> Result<(String, String), ApiError> {
    let (incident, title, timeline) = subject(state, on).await?;
    let sections = sections(state, on).await?;
    let (zone, at_night) = state.alerting.began_at_night(&incident).await?;
    let markdown = postmortem::markdown(&Facts {
        title: title.clone(),
        incident: &incident,
        timeline: &timeline,
        sections: &sections,
        zone: &zone,
        at_night,
    });
    Ok((markdown, title))
}

/// What people wrote so far.
pub(crate) async fn sections(state: &AppState, on: On) -> Result<Sections, ApiError> {
    Ok(state
        .store
        .postmortem(on)
        .await?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

async fn write(state: &AppState, on: On, body: &Bytes) -> Result<Json<Value>, ApiError> {
    let given: Sections =
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    let sections = save(state, on, given, "an administrator (API)").await?;
    Ok(Json(json!({ "postmortem": sections })))
}

/// The sections given replace what was written (by `by`); the others stay.
pub(crate) async fn save(
    state: &AppState,
    on: On,
    given: Sections,
    by: &str,
) -> Result<Sections, ApiError> {
    let mut sections = sections(state, on).await?;
    let mut changed = Vec::new();
    for (name, new, old) in [
        ("cause", given.cause, &mut sections.cause),
        ("actions", given.actions, &mut sections.actions),
        ("prevention", given.prevention, &mut sections.prevention),
    ] {
        if let Some(text) = new {
            if text.chars().count() > MAX_UPDATE {
                return Err(ApiError::bad_request(format!(
                    "{name}: more than the {MAX_UPDATE} characters allowed"
                )));
            }
            for line in text.lines() {
                input::text(name, line, MAX_UPDATE)?;
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
        Detail::Wrote {
            sections: changed.iter().map(|s| s.to_string()).collect(),
        },
    )
    .by(by);
    let stored = state
        .store
        .put_postmortem(on, &json, &entry, state.clock.now_ms())
        .await?;
    if !stored {
        let what = match on {
            On::Incident(id) => format!("no incident {id}"),
            On::Alert(id) => format!("no alert {id}"),
        };
        return Err(ApiError::not_found(what));
    }
    Ok(sections)
}

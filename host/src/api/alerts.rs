//! `/api/v1/alerts`: list and filter alerts, read one with its timeline, acknowledge or
//! snooze one.

use std::collections::HashMap;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use reveille_sdk::parse_duration;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::alerting::Acted;
use crate::alerts::{ActedOn, AlertState};
use crate::app::AppState;
use crate::app::error::ApiError;
use crate::app::input;
use crate::store::AlertFilter;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1_000;

/// `GET /api/v1/alerts?state=&installation=&client=&manager=&severity=&plugin=&story=&limit=`.
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
            "story" => filter.story = Some(alert_id(&value)?),
            "severity" => {
                filter.severity = Some(
                    value
                        .parse()
                        .map_err(|e| ApiError::bad_request(format!("severity: {e}")))?,
                )
            }
            "limit" => filter.limit = input::limit(&value, MAX_LIMIT)?,
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown filter `{other}` (use state, installation, client, manager, severity, plugin, story or limit)"
                )));
            }
        }
    }
    let alerts = state.store.alerts(&filter).await?;
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
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no alert {id}")))?;
    let timeline = state.store.timeline(crate::alerts::On::Alert(id)).await?;
    Ok(Json(json!({ "alert": alert, "timeline": timeline })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ActBody {
    /// Who takes it, for the timeline and the message.
    by: Option<String>,
    /// A snooze's length (`"90m"`, `"4h"`).
    #[serde(rename = "for")]
    length: Option<String>,
}

/// The longest snooze the API grants.
const MAX_SNOOZE: Duration = Duration::from_secs(7 * 24 * 3600);

pub(super) fn act_body(body: &Bytes) -> Result<(ActBody, String), ApiError> {
    let body: ActBody = if body.iter().all(u8::is_ascii_whitespace) {
        ActBody::default()
    } else {
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("body: {e}")))?
    };
    let by = match body.by.as_deref().map(str::trim) {
        Some("") => return Err(ApiError::bad_request("by: must not be empty")),
        Some(name) => format!("{} (API)", input::name("by", name)?),
        None => "an administrator (API)".to_string(),
    };
    Ok((body, by))
}

/// The API's answer to acting on alert or incident `id`: it as it is now, or 409 saying
/// what it is and which `only` state the action applies to, or 404.
pub(super) fn answer<T: ActedOn + Serialize>(
    id: i64,
    acted: Acted<T>,
    only: &str,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    match acted {
        Acted::Done(subject) => {
            let mut body = serde_json::Map::new();
            body.insert(
                T::NOUN.to_string(),
                serde_json::to_value(&subject).map_err(ApiError::internal)?,
            );
            Ok((StatusCode::OK, Json(Value::Object(body))))
        }
        Acted::Unchanged(subject) => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("{} {id} is {}: {only}", T::NOUN, subject.state_name()),
        )),
        Acted::NotFound => Err(ApiError::not_found(format!("no {} {id}", T::NOUN))),
    }
}

/// When a snooze asked for with `{"for": "2h"}` ends.
pub(super) fn snooze_until(state: &AppState, body: ActBody) -> Result<i64, ApiError> {
    let text = body
        .length
        .ok_or_else(|| ApiError::bad_request("for: how long to snooze, such as \"2h\""))?;
    let length = parse_duration(&text)
        .ok()
        .filter(|d| !d.is_zero() && *d <= MAX_SNOOZE)
        .ok_or_else(|| {
            ApiError::bad_request(format!("for: `{text}` is not a length from 1s to 7d"))
        })?;
    Ok(state.clock.now_ms() + length.as_millis() as i64)
}

/// `POST /api/v1/alerts/{id}/ack`, optional body `{"by": "name"}`.
pub async fn ack(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = alert_id(&id)?;
    let (_, by) = act_body(&body)?;
    let acted = state.alerting.acknowledge(id, &by).await?;
    answer(
        id,
        acted,
        "only a firing or snoozed alert can be acknowledged",
    )
}

/// `POST /api/v1/alerts/{id}/snooze` with `{"for": "2h", "by": "name"}`: put aside for a
/// while; if it still holds then, it fires again (and escalates again).
pub async fn snooze(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = alert_id(&id)?;
    let (body, by) = act_body(&body)?;
    let until = snooze_until(&state, body)?;
    let acted = state.alerting.snooze(id, &by, until).await?;
    answer(
        id,
        acted,
        "only an open alert that was notified can be snoozed",
    )
}

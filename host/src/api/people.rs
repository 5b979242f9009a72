//! Who is who, under `/api/v1`: contacts, client policies (quiet hours, holidays, who is
//! woken for what), on-call schedules with overrides, and escalation policies. Each is a
//! JSON document stored whole under its name, after `alerts::directory` checked it against
//! the rest; a refusal is a 400 that names the field, and nothing is half-stored.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::alerting::EntryError;
use crate::alerts::directory::Kind;
use crate::alerts::oncall::{Override, Schedule};
use crate::app::AppState;
use crate::app::error::ApiError;
use crate::app::input;

/// Longest JSON document accepted for one entry.
const MAX_ENTRY: usize = 64 * 1024;

fn what(kind: Kind) -> &'static str {
    match kind {
        Kind::Contact => "contact",
        Kind::ClientPolicy => "policy for client",
        Kind::Schedule => "on-call schedule",
        Kind::Escalation => "escalation policy",
        Kind::Maintenance => "maintenance window",
    }
}

fn refused(error: EntryError) -> ApiError {
    match error {
        EntryError::Invalid(message) => ApiError::bad_request(message),
        EntryError::InUse(message) => ApiError::new(StatusCode::CONFLICT, message),
        EntryError::Store(error) => ApiError::internal(error),
    }
}

/// The body as JSON, every string in it bounded and clean, named by its path on refusal.
fn document(body: &Bytes) -> Result<Value, ApiError> {
    if body.len() > MAX_ENTRY {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "body: {} bytes, more than the {MAX_ENTRY} allowed",
                body.len()
            ),
        ));
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    fn walk(value: &Value, path: &str) -> Result<(), ApiError> {
        match value {
            Value::String(text) => input::text(path, text, input::MAX_SETTING_VALUE).map(|_| ()),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, v)| walk(v, &format!("{path}[{i}]"))),
            Value::Object(fields) => fields.iter().try_for_each(|(k, v)| {
                let at = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                input::text(&at, k, input::MAX_SETTING_KEY)?;
                walk(v, &at)
            }),
            _ => Ok(()),
        }
    }
    walk(&value, "")?;
    if !value.is_object() {
        return Err(ApiError::bad_request("body: must be a JSON object"));
    }
    Ok(value)
}

pub(crate) async fn put(
    state: &AppState,
    kind: Kind,
    name: &str,
    body: &Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    input::name("name", name)?;
    let spec = document(body)?;
    let created = state
        .alerting
        .put_entry(kind, name, &spec)
        .await
        .map_err(refused)?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!({ "name": name, "spec": spec }))))
}

async fn get(state: &AppState, kind: Kind, name: &str) -> Result<Json<Value>, ApiError> {
    let mut entries = state.store.directory_entries(kind).await?;
    let spec = entries
        .remove(name)
        .ok_or_else(|| ApiError::not_found(format!("no {} `{name}`", what(kind))))?;
    Ok(Json(json!({ "name": name, "spec": spec })))
}

pub(crate) async fn delete(
    state: &AppState,
    kind: Kind,
    name: &str,
) -> Result<Json<Value>, ApiError> {
    if !state
        .alerting
        .delete_entry(kind, name)
        .await
        .map_err(refused)?
    {
        return Err(ApiError::not_found(format!("no {} `{name}`", what(kind))));
    }
    Ok(Json(json!({ "deleted": name })))
}

async fn list(state: &AppState, kind: Kind) -> Result<Json<Value>, ApiError> {
    let entries = state.store.directory_entries(kind).await?;
    let items: Vec<Value> = entries
        .into_iter()
        .map(|(name, spec)| json!({ "name": name, "spec": spec }))
        .collect();
    Ok(Json(json!({ "items": items })))
}

macro_rules! resource {
    ($module:ident, $kind:expr, list) => {
        resource!($module, $kind, {
            pub async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
                super::list(&state, $kind).await
            }
        });
    };
    ($module:ident, $kind:expr) => {
        resource!($module, $kind, {});
    };
    ($module:ident, $kind:expr, { $($extra:item)* }) => {
        pub mod $module {
            use super::*;

            $($extra)*

            pub async fn get(
                State(state): State<AppState>,
                Path(name): Path<String>,
            ) -> Result<Json<Value>, ApiError> {
                super::get(&state, $kind, &name).await
            }

            pub async fn put(
                State(state): State<AppState>,
                Path(name): Path<String>,
                body: Bytes,
            ) -> Result<(StatusCode, Json<Value>), ApiError> {
                super::put(&state, $kind, &name, &body).await
            }

            pub async fn delete(
                State(state): State<AppState>,
                Path(name): Path<String>,
            ) -> Result<Json<Value>, ApiError> {
                super::delete(&state, $kind, &name).await
            }
        }
    };
}

resource!(contacts, Kind::Contact);
resource!(policies, Kind::ClientPolicy, list);
resource!(schedules, Kind::Schedule, list);
resource!(escalations, Kind::Escalation, list);
resource!(windows, Kind::Maintenance);

/// `GET /api/v1/maintenance`: every window, and whether it is on now (until when) or over.
pub async fn maintenance_list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let directory = state.alerting.directory().await?;
    let now = state.clock.now_ms();
    let items: Vec<Value> = directory
        .maintenance
        .iter()
        .map(|(name, window)| {
            json!({
                "name": name,
                "spec": window,
                "on_until": window.on_until(now),
                "over": window.is_over(now),
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/v1/contacts` with, for each, whether the bot may write to them yet.
pub async fn contacts_list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let directory = state.alerting.directory().await?;
    let items: Vec<Value> = directory
        .contacts
        .iter()
        .map(|(name, person)| {
            json!({
                "name": name,
                "spec": person.contact,
                "reachable": person.contact.reachable(person.started),
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

async fn schedule(state: &AppState, name: &str) -> Result<Schedule, ApiError> {
    let directory = state.alerting.directory().await?;
    directory
        .schedules
        .get(name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("no on-call schedule `{name}`")))
}

/// `GET /api/v1/oncall/{name}/now`: who is on call now, until when, and who is next.
pub async fn on_call_now(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let schedule = schedule(&state, &name).await?;
    let now = schedule.on_call(state.clock.now_ms());
    let next = schedule.on_call(now.until);
    Ok(Json(json!({ "schedule": name, "now": now, "next": next })))
}

/// `POST /api/v1/oncall/{name}/overrides` with `{"contact", "from", "to"}`: someone
/// covers a stretch. Overrides already over are dropped on the way.
pub async fn add_override(
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let value = document(&body)?;
    let added: Override =
        serde_json::from_value(value).map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    let mut schedule = schedule(&state, &name).await?;
    schedule.forget_past_overrides(state.clock.now_ms());
    schedule.overrides.push(added);
    let spec = serde_json::to_value(&schedule).map_err(ApiError::internal)?;
    let at = schedule.overrides.len() - 1;
    state
        .alerting
        .put_entry(Kind::Schedule, &name, &spec)
        .await
        .map_err(|e| match e {
            EntryError::Invalid(message) => {
                ApiError::bad_request(message.replace(&format!("overrides[{at}]"), "body"))
            }
            other => refused(other),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "name": name, "spec": spec })),
    ))
}

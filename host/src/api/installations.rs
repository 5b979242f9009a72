//! `/api/v1/installations`: register, list, change, remove installations, rotate their
//! ingest tokens, onboard many from a CSV file (`import`: a preview, or applied), and read
//! what the checks currently find about each.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::app::error::ApiError;
use crate::app::installations::{self, NewInstallation};
use crate::app::onboarding::{self, Verdict};
use crate::fleet::Installation;

/// A partial update; `null` clears an optional field.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallationPatch {
    client: Option<String>,
    manager: Option<String>,
    timezone: Option<String>,
    telegram_chat_id: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    ip: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    parent: Option<Option<String>>,
    tags: Option<Vec<String>>,
}

/// Tells "absent" (`None`) from "null" (`Some(None)`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn body<T>(json: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    json.map(|Json(v)| v)
        .map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))
}

async fn existing(state: &AppState, id: &str) -> Result<Installation, ApiError> {
    installations::path_id(id)?;
    state
        .store
        .installation(id)
        .await?
        .ok_or_else(|| installations::no_such(id))
}

pub async fn create(
    State(state): State<AppState>,
    json: Result<Json<NewInstallation>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (installation, token) = installations::register(&state, body(json)?).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "installation": installation, "token": token })),
    ))
}

pub async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let installations = state.store.installations().await?;
    Ok(Json(json!({ "installations": installations })))
}

pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let installation = existing(&state, &id).await?;
    let settings_errors = settings_errors(&state, &installation);
    Ok(Json(
        json!({ "installation": installation, "settings_errors": settings_errors }),
    ))
}

pub async fn patch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    json: Result<Json<InstallationPatch>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let patch = body(json)?;
    let mut installation = existing(&state, &id).await?;
    let i = &mut installation;
    i.client = patch.client.unwrap_or(std::mem::take(&mut i.client));
    i.manager = patch.manager.unwrap_or(std::mem::take(&mut i.manager));
    i.timezone = patch.timezone.unwrap_or(std::mem::take(&mut i.timezone));
    i.telegram_chat_id = patch.telegram_chat_id.unwrap_or(i.telegram_chat_id);
    i.url = patch.url.unwrap_or(i.url.take());
    i.ip = patch.ip.unwrap_or(i.ip.take());
    i.parent = patch.parent.unwrap_or(i.parent.take());
    i.tags = patch.tags.unwrap_or(std::mem::take(&mut i.tags));
    let installation = installations::update(&state, installation).await?;
    Ok(Json(json!({ "installation": installation })))
}

/// Removes an installation; its open alerts resolve, saying why, in the same transaction.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let resolved = installations::remove(&state, &id).await?;
    Ok(Json(json!({ "deleted": id, "alerts_resolved": resolved })))
}

/// Issues a new ingest token; the old one stops working at once.
pub async fn rotate_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let token = installations::rotate(&state, &id).await?;
    Ok(Json(json!({ "installation": id, "token": token })))
}

/// `POST …/test-alert`: a test alert on the installation (`alerts::test`), taking the way
/// a real one would; `DELETE` closes it. Answers with the test alert's id.
pub async fn test_alert(
    State(state): State<AppState>,
    method: Method,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let installation = existing(&state, &id).await?;
    let on = method != Method::DELETE;
    let alert = state
        .alerting
        .test_alert(&installation, "an administrator (API)", on)
        .await?;
    Ok(Json(
        json!({ "installation": id, "alert": alert, "open": on }),
    ))
}

/// What the checks find now, and which checks cannot evaluate it because they refuse
/// its client's settings.
pub async fn findings(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let installation = existing(&state, &id).await?;
    let findings = state.store.findings(&id).await?;
    Ok(Json(json!({
        "installation": id,
        "findings": findings,
        "settings_errors": settings_errors(&state, &installation),
    })))
}

fn settings_errors(state: &AppState, installation: &Installation) -> Vec<Value> {
    state
        .runtime
        .registry()
        .settings_errors_for(&installation.client)
        .into_iter()
        .map(
            |(plugin, error)| json!({ "plugin": plugin, "at": error.at, "message": error.message }),
        )
        .collect()
}

#[derive(Debug, Deserialize)]
pub struct ImportQuery {
    /// Store the rows that are not refused; otherwise only say what each would do.
    #[serde(default)]
    apply: bool,
}

/// `POST /api/v1/installations/import[?apply=true]` with a CSV body: what every row does
/// (or would do), every refused row's problems with its line, and the new tokens.
pub async fn import(
    State(state): State<AppState>,
    Query(query): Query<ImportQuery>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let text = std::str::from_utf8(&body)
        .map_err(|e| ApiError::bad_request(format!("the file is not UTF-8 text: {e}")))?;
    let (plan, issued) = if query.apply {
        onboarding::apply(&state, text).await?
    } else {
        onboarding::preview(&state, text)
            .await?
            .map(|plan| (plan, Vec::new()))
    }
    .map_err(|unreadable| ApiError::bad_request(unreadable.0))?;
    let rows: Vec<Value> = plan
        .rows
        .iter()
        .map(|row| match &row.verdict {
            Verdict::New => json!({ "line": row.line, "id": row.id, "verdict": "new" }),
            Verdict::Same => json!({ "line": row.line, "id": row.id, "verdict": "same" }),
            Verdict::Changed(fields) => {
                json!({ "line": row.line, "id": row.id, "verdict": "changed", "fields": fields })
            }
            Verdict::Refused(wrong) => json!({
                "line": row.line, "id": row.id, "verdict": "refused",
                "problems": wrong.iter().map(|w| w.english()).collect::<Vec<_>>(),
            }),
        })
        .collect();
    Ok(Json(json!({
        "applied": query.apply,
        "new": plan.new_ones(),
        "changed": plan.changed(),
        "same": plan.same(),
        "refused": plan.refused(),
        "rows": rows,
        "tokens": issued,
    })))
}

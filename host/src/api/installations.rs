//! `/api/v1/installations`: register, list, change, remove installations, rotate their
//! ingest tokens, and read what the checks currently find about each.

use std::net::IpAddr;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::app::error::ApiError;
use crate::app::input;
use crate::fleet::Installation;
use crate::ingest::token;
use crate::store::StoreError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInstallation {
    pub id: String,
    pub client: String,
    pub manager: String,
    pub timezone: String,
    pub telegram_chat_id: i64,
    pub url: Option<String>,
    pub ip: Option<String>,
    pub parent: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

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

fn invalid(field: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!("{field}: {message}"),
    )
}

/// Checks every field of an installation about to be stored.
async fn validate(state: &AppState, i: &Installation) -> Result<(), ApiError> {
    let id_ok = (1..=64).contains(&i.id.len())
        && i.id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !id_ok {
        return Err(invalid("id", "use 1-64 letters, digits, `-`, `_` or `.`"));
    }
    input::name("client", &i.client)?;
    input::name("manager", &i.manager)?;
    input::text("timezone", &i.timezone, input::MAX_TAG)?;
    for (field, value, max) in [
        ("url", &i.url, input::MAX_URL),
        ("ip", &i.ip, input::MAX_TAG),
        ("parent", &i.parent, input::MAX_TAG),
    ] {
        if let Some(value) = value {
            input::text(field, value, max)?;
        }
    }
    if jiff::tz::TimeZone::get(&i.timezone).is_err() {
        return Err(invalid(
            "timezone",
            format!(
                "unknown time zone `{}` (use an IANA name such as Europe/Moscow)",
                i.timezone
            ),
        ));
    }
    if let Some(url) = &i.url
        && !["http://", "https://"]
            .iter()
            .any(|scheme| url.starts_with(scheme))
    {
        return Err(invalid(
            "url",
            format!("`{url}` is not an http:// or https:// URL"),
        ));
    }
    if let Some(ip) = &i.ip
        && ip.parse::<IpAddr>().is_err()
    {
        return Err(invalid("ip", format!("`{ip}` is not an IP address")));
    }
    if let Some(parent) = &i.parent {
        if *parent == i.id {
            return Err(invalid(
                "parent",
                "an installation cannot sit behind itself",
            ));
        }
        if state.store.installation(parent).await?.is_none() {
            return Err(invalid("parent", format!("no installation `{parent}`")));
        }
    }
    if i.tags.len() > input::MAX_TAGS {
        return Err(invalid(
            "tags",
            format!(
                "{} tags, more than the {} allowed",
                i.tags.len(),
                input::MAX_TAGS
            ),
        ));
    }
    for tag in &i.tags {
        if tag.trim().is_empty() {
            return Err(invalid("tags", "a tag must not be empty"));
        }
        input::text("tags", tag, input::MAX_TAG)?;
    }
    Ok(())
}

async fn existing(state: &AppState, id: &str) -> Result<Installation, ApiError> {
    path_id(id)?;
    state
        .store
        .installation(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no installation `{id}`")))
}

pub async fn create(
    State(state): State<AppState>,
    json: Result<Json<NewInstallation>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (installation, token) = register(&state, body(json)?).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "installation": installation, "token": token })),
    ))
}

/// Checks and stores a new installation; returns it with its ingest token, which is not
/// kept (the API and the admin page show it once).
pub async fn register(
    state: &AppState,
    new: NewInstallation,
) -> Result<(Installation, String), ApiError> {
    let now = state.clock.now_ms();
    let installation = Installation {
        id: new.id,
        client: new.client,
        manager: new.manager,
        timezone: new.timezone,
        telegram_chat_id: new.telegram_chat_id,
        url: new.url,
        ip: new.ip,
        parent: new.parent,
        tags: new.tags,
        created_at: now,
        updated_at: now,
    };
    validate(state, &installation).await?;
    let token = token::generate();
    match state
        .store
        .create_installation(&installation, &token::digest(&token))
        .await
    {
        Ok(()) => {
            state.alerting.fleet_changed();
            Ok((installation, token))
        }
        Err(StoreError::Duplicate(id)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("id: installation `{id}` already exists"),
        )),
        Err(error) => Err(ApiError::internal(error)),
    }
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
    i.updated_at = state.clock.now_ms();
    validate(&state, &installation).await?;
    if !state.store.update_installation(&installation).await? {
        return Err(ApiError::not_found(format!("no installation `{id}`")));
    }
    state.alerting.fleet_changed();
    Ok(Json(json!({ "installation": installation })))
}

/// An installation id from a path: bounded and free of control characters, so a NUL never
/// reaches a query.
fn path_id(id: &str) -> Result<&str, ApiError> {
    input::text("installation id", id, input::MAX_TAG)
}

/// Removes an installation; its open alerts resolve, saying why, in the same transaction.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let resolved = remove(&state, &id).await?;
    Ok(Json(json!({ "deleted": id, "alerts_resolved": resolved })))
}

/// Removes installation `id`; returns how many of its alerts resolved.
pub async fn remove(state: &AppState, id: &str) -> Result<usize, ApiError> {
    path_id(id)?;
    state
        .alerting
        .remove_installation(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no installation `{id}`")))
}

/// Issues a new ingest token; the old one stops working at once.
pub async fn rotate_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let token = rotate(&state, &id).await?;
    Ok(Json(json!({ "installation": id, "token": token })))
}

/// A new ingest token for `id`, in place of the old one.
pub async fn rotate(state: &AppState, id: &str) -> Result<String, ApiError> {
    path_id(id)?;
    let token = token::generate();
    let now = state.clock.now_ms();
    if !state
        .store
        .set_token_hash(id, &token::digest(&token), now)
        .await?
    {
        return Err(ApiError::not_found(format!("no installation `{id}`")));
    }
    Ok(token)
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

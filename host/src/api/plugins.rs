//! `/api/v1/plugins`: list, upload (hot-load), inspect, switch off and on, and unload
//! plugins, on every node (`plugin_set`); read what a plugin said to its author. A built-in is replaced only when the upload says
//! so (`?override=builtin`); removing the override brings the built-in back; a built-in is
//! switched off, not removed, and stays off across restarts.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::app::error::ApiError;
use crate::app::input;
use crate::plugin_set::{InstallError, RemoveError, Removed, SwitchError};
use crate::store::KEPT_PER_PLUGIN;

pub async fn list(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "plugins": state.runtime.registry().list() }))
}

pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let status = state
        .runtime
        .registry()
        .status(&name)
        .ok_or_else(|| no_plugin(&name))?;
    Ok(Json(json!({ "plugin": status })))
}

fn no_plugin(name: &str) -> ApiError {
    ApiError::not_found(format!("no plugin named `{name}`"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadParams {
    /// `builtin`: serve this upload in place of the built-in of the same name.
    #[serde(rename = "override")]
    replace: Option<String>,
}

/// Validates, compiles, smoke-tests and swaps in the uploaded component. The previous
/// revision keeps serving unless every step passes.
pub async fn put(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Result<Query<UploadParams>, axum::extract::rejection::QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Query(params) = params.map_err(|r| ApiError::bad_request(r.body_text()))?;
    let body = body.map_err(|r| state.limits.upload().rejection(r))?;
    let overriding = match params.replace.as_deref() {
        None => false,
        Some("builtin") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "override=`{other}`: the only value is `builtin`"
            )));
        }
    };
    let installed = state
        .plugins
        .install(&name, body.to_vec(), overriding)
        .await?;
    let code = if installed.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        code,
        Json(json!({
            "plugin": installed.status,
            "replaced": installed.replaced,
        })),
    ))
}

impl From<InstallError> for ApiError {
    fn from(error: InstallError) -> Self {
        let status = match &error {
            InstallError::BadName(_) | InstallError::Empty => StatusCode::BAD_REQUEST,
            InstallError::Builtin(_) => StatusCode::CONFLICT,
            InstallError::Refused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            InstallError::Store(_) => return ApiError::internal(error),
        };
        ApiError::new(status, error.to_string())
    }
}

impl From<RemoveError> for ApiError {
    fn from(error: RemoveError) -> Self {
        match error {
            RemoveError::NotFound(_) => ApiError::not_found(error.to_string()),
            RemoveError::Builtin(_) => ApiError::new(StatusCode::CONFLICT, error.to_string()),
            RemoveError::Store(_) | RemoveError::File(_) => ApiError::internal(error),
        }
    }
}

impl From<SwitchError> for ApiError {
    fn from(error: SwitchError) -> Self {
        match error {
            SwitchError::NotLoaded(_) => ApiError::not_found(error.to_string()),
            SwitchError::Store(error) => error.into(),
        }
    }
}

/// Unloads a plugin (its findings go and its open alerts resolve, saying why), or removes
/// an override so the built-in serves again (its alerts carry on).
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    remove(&state, &name).await.map(Json)
}

/// Unloads plugin `name` or removes its override.
async fn remove(state: &AppState, name: &str) -> Result<Value, ApiError> {
    Ok(match state.plugins.remove(name).await? {
        Removed::Unloaded { alerts_resolved } => {
            json!({ "unloaded": name, "alerts_resolved": alerts_resolved })
        }
        Removed::BuiltinRestored => {
            let status = state.runtime.registry().status(name);
            json!({ "builtin_restored": name, "plugin": status })
        }
    })
}

/// Switches a plugin back on: one switched off by an admin, or disabled after failures.
pub async fn enable(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    set_on(&state, &name, true).await.map(Json)
}

/// Switches a plugin off, built-ins included, until it is enabled again (restarts too).
/// Its calls in flight stop and its open alerts resolve, saying so.
pub async fn disable(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    set_on(&state, &name, false).await.map(Json)
}

/// Switches plugin `name` on or off.
async fn set_on(state: &AppState, name: &str, on: bool) -> Result<Value, ApiError> {
    let resolved = state.plugins.switch(name, on).await?;
    let status = state.runtime.registry().status(name);
    Ok(if on {
        json!({ "plugin": status })
    } else {
        json!({ "plugin": status, "alerts_resolved": resolved })
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogParams {
    limit: Option<String>,
    /// A line's id: the page of lines older than it.
    before: Option<String>,
}

/// `GET /api/v1/plugins/{name}/log?limit=&before=`: what the plugin said to its author
/// (`plugins::log`), newest first, with the installation, report and trigger of each line;
/// `next_before` pages back through the newest [`KEPT_PER_PLUGIN`].
pub async fn log(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Result<Query<LogParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params.map_err(|r| ApiError::bad_request(r.body_text()))?;
    let limit = match &params.limit {
        Some(limit) => input::limit(limit, KEPT_PER_PLUGIN)?,
        None => 100,
    };
    let before = match &params.before {
        Some(id) => Some(id.parse::<i64>().map_err(|_| {
            ApiError::bad_request(format!("before: `{id}` is not a line id (a number)"))
        })?),
        None => None,
    };
    let page = state.store.plugin_log(&name, before, limit).await?;
    if page.lines.is_empty() && before.is_none() && state.runtime.registry().status(&name).is_none()
    {
        return Err(no_plugin(&name));
    }
    Ok(Json(json!({
        "plugin": name,
        "lines": page.lines,
        "next_before": page.next_before,
        "kept_per_plugin": KEPT_PER_PLUGIN,
        "kept_per_minute": state.runtime.log_per_minute(),
    })))
}

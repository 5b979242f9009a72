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

use super::AppState;
use super::error::ApiError;
use super::input;
use crate::alerts;
use crate::plugin_set::InstallError;
use crate::plugins::loader::valid_name;
use crate::plugins::{LoadError, PluginStatus, Removal};
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
    let installed = install(&state, &name, body.to_vec(), overriding).await?;
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

/// A plugin installed by [`install`].
pub struct Installed {
    pub status: PluginStatus,
    /// The revision it replaced, if another.
    pub replaced: Option<String>,
    /// Nothing served under its name before.
    pub new: bool,
}

/// Validates, compiles, smoke-tests and swaps in `bytes` as plugin `name` (the API's
/// upload and the admin page's). `overriding`: serve it in place of the built-in.
pub async fn install(
    state: &AppState,
    name: &str,
    bytes: Vec<u8>,
    overriding: bool,
) -> Result<Installed, ApiError> {
    if !valid_name(name) {
        return Err(ApiError::bad_request(
            LoadError::BadName(name.into()).to_string(),
        ));
    }
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "empty body: send the component's bytes (Content-Type: application/wasm)",
        ));
    }
    let registry = state.runtime.registry();
    // Replacing an override already serving needs no second confirmation.
    if registry.builtin_serves(name) && !overriding {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "`{name}` is a built-in check: to serve your build in its place, upload it with \
                 ?override=builtin (DELETE /api/v1/plugins/{name} later brings the built-in back)"
            ),
        ));
    }
    let previous = registry.status(name).and_then(|s| s.sha256);
    match state.plugins.install(name, bytes).await {
        Ok(revision) => {
            let status = registry
                .status(name)
                .ok_or_else(|| ApiError::bug("the plugin vanished right after loading"))?;
            Ok(Installed {
                status,
                new: previous.is_none(),
                replaced: previous.filter(|sha| *sha != revision.sha256),
            })
        }
        Err(InstallError::Load(error)) => {
            let serving = match &previous {
                Some(sha) => format!("; the previous revision ({}) keeps serving", &sha[..12]),
                None => String::new(),
            };
            Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("plugin `{name}` refused: {error}{serving}"),
            ))
        }
        Err(error @ InstallError::Store(_)) => Err(ApiError::internal(error)),
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

/// Unloads plugin `name` or removes its override (the API's DELETE and the admin page's).
pub async fn remove(state: &AppState, name: &str) -> Result<Value, ApiError> {
    let removal = state
        .plugins
        .remove(name)
        .await
        .map_err(ApiError::internal)?;
    match removal {
        Removal::Unloaded => {
            let resolved = retire(state, name, alerts::resolution::PLUGIN_REMOVED).await?;
            Ok(json!({ "unloaded": name, "alerts_resolved": resolved }))
        }
        Removal::BuiltinRestored => {
            let status = state.runtime.registry().status(name);
            Ok(json!({ "builtin_restored": name, "plugin": status }))
        }
        Removal::Builtin => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "`{name}` is a built-in check and cannot be removed; switch it off with \
                 POST /api/v1/plugins/{name}/disable"
            ),
        )),
        Removal::NotFound => Err(no_plugin(name)),
    }
}

/// Resolves the plugin's open alerts with `why`; returns how many.
async fn retire(state: &AppState, name: &str, why: &'static str) -> Result<usize, ApiError> {
    state
        .alerting
        .retire_plugin(name, why)
        .await
        .map_err(ApiError::internal)
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

/// Switches plugin `name` on or off (the API's and the admin page's).
pub async fn set_on(state: &AppState, name: &str, on: bool) -> Result<Value, ApiError> {
    switch(state, name, on).await?;
    if on {
        let status = state.runtime.registry().status(name);
        return Ok(json!({ "plugin": status }));
    }
    let resolved = retire(state, name, alerts::resolution::PLUGIN_SWITCHED_OFF).await?;
    let status = state.runtime.registry().status(name);
    Ok(json!({ "plugin": status, "alerts_resolved": resolved }))
}

async fn switch(state: &AppState, name: &str, on: bool) -> Result<(), ApiError> {
    let switched = state
        .plugins
        .switch(name, on)
        .await
        .map_err(ApiError::internal)?;
    if !switched {
        return Err(ApiError::not_found(format!(
            "no loaded plugin named `{name}`"
        )));
    }
    Ok(())
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

//! `/api/v1/plugins`: list, upload (hot-load), inspect, re-enable and unload plugins.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use crate::alerts;
use crate::plugins::LoadError;
use crate::plugins::directory::InstallError;
use crate::plugins::loader::valid_name;

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
        .ok_or_else(|| ApiError::not_found(format!("no plugin named `{name}`")))?;
    Ok(Json(json!({ "plugin": status })))
}

/// Validates, compiles, smoke-tests and swaps in the uploaded component. The previous
/// revision keeps serving unless every step passes.
pub async fn put(
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if !valid_name(&name) {
        return Err(ApiError::bad_request(LoadError::BadName(name).to_string()));
    }
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "empty body: send the component's bytes (Content-Type: application/wasm)",
        ));
    }
    let registry = state.runtime.registry();
    let previous = registry.status(&name).and_then(|s| s.sha256);
    match state.plugin_dir.install(&name, body.to_vec()).await {
        Ok(revision) => {
            let created = previous.is_none();
            let status = registry
                .status(&name)
                .ok_or_else(|| ApiError::internal("the plugin vanished right after loading"))?;
            let code = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok((
                code,
                Json(json!({
                    "plugin": status,
                    "replaced": previous.filter(|sha| *sha != revision.sha256),
                })),
            ))
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
        Err(error @ InstallError::Store { .. }) => Err(ApiError::internal(error)),
    }
}

/// Unloads a plugin; its findings go and its open alerts resolve, saying why.
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match state.plugin_dir.remove(&name).await {
        Ok(true) => {
            let open = state
                .store
                .open_alerts_of_plugin(&name)
                .await
                .map_err(ApiError::internal)?;
            let changes = alerts::lifecycle::retire(
                &state.alerting.policy,
                &open,
                alerts::resolution::PLUGIN_REMOVED,
            );
            state
                .store
                .retire_plugin(&name, state.clock.now_ms(), &changes)
                .await
                .map_err(ApiError::internal)?;
            state.alerting.outbox.notify_one();
            Ok(Json(
                json!({ "unloaded": name, "alerts_resolved": changes.len() }),
            ))
        }
        Ok(false) => Err(ApiError::not_found(format!("no plugin named `{name}`"))),
        Err(error) => Err(ApiError::internal(format!(
            "cannot delete the plugin file: {error}"
        ))),
    }
}

/// Re-enables a plugin that was disabled after consecutive failures.
pub async fn enable(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let registry = state.runtime.registry();
    if !registry.enable(&name) {
        return Err(ApiError::not_found(format!(
            "no loaded plugin named `{name}`"
        )));
    }
    let status = registry
        .status(&name)
        .ok_or_else(|| ApiError::not_found(format!("no plugin named `{name}`")))?;
    Ok(Json(json!({ "plugin": status })))
}

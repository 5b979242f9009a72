//! `/api/v1/clients/{client}/settings`: plugin settings for one client, over the host's
//! configuration (which is over each plugin's own defaults). Settings are checked before
//! they are stored: the plugin must be loaded, every key one it declares, and the plugin
//! must take the values (it is tried with them). A client whose settings a plugin refuses
//! later anyway is told on its installations and in the plugin list; the plugin keeps
//! serving everyone else.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::app::error::ApiError;
use crate::app::input;
use crate::plugins::loader::valid_name;

pub async fn get(
    State(state): State<AppState>,
    Path(client): Path<String>,
) -> Result<Json<Value>, ApiError> {
    input::name("client", &client)?;
    let settings = state.store.client_settings(&client).await?;
    Ok(Json(json!({ "client": client, "settings": settings })))
}

/// Replaces the client's settings for one plugin. Values may be strings, numbers or
/// booleans; `{}` returns the client to the defaults (allowed for any plugin name, so
/// settings of a plugin since removed can be cleared).
pub async fn put(
    State(state): State<AppState>,
    Path((client, plugin)): Path<(String, String)>,
    json: Result<Json<BTreeMap<String, Value>>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(values) = json.map_err(|r| ApiError::new(r.status(), r.body_text()))?;
    let settings = set(&state, &client, &plugin, values).await?;
    Ok(Json(
        json!({ "client": client, "plugin": plugin, "settings": settings }),
    ))
}

/// Checks and stores `client`'s settings for `plugin` (the API's and the client page's).
pub(crate) async fn set(
    state: &AppState,
    client: &str,
    plugin: &str,
    values: BTreeMap<String, Value>,
) -> Result<BTreeMap<String, String>, ApiError> {
    input::name("client", client)?;
    if !valid_name(plugin) {
        return Err(ApiError::bad_request(format!(
            "`{plugin}` is not a plugin name"
        )));
    }
    let mut settings = BTreeMap::new();
    for (key, value) in values {
        input::text("setting name", &key, input::MAX_SETTING_KEY)?;
        let text = match value {
            Value::String(s) => s,
            Value::Number(_) | Value::Bool(_) => value.to_string(),
            _ => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("{key}: use a string, number or boolean"),
                ));
            }
        };
        input::text(&key, &text, input::MAX_SETTING_VALUE)?;
        settings.insert(key, text);
    }
    if !settings.is_empty() {
        state
            .runtime
            .check_settings(plugin, client, &settings, state.clock.now_ms())
            .await
            .map_err(|refusal| ApiError::bad_request(refusal.to_string()))?;
    }
    state
        .store
        .set_client_settings(client, plugin, &settings)
        .await?;
    state.alerting.fleet_changed();
    if let Some(health) = state.runtime.registry().health(plugin) {
        health.settings_verdict(client, None);
    }
    Ok(settings)
}

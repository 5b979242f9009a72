//! A client's settings of one plugin, as the API and the client's settings page store
//! them. Settings are checked before they are stored: the plugin must be loaded, every key
//! one it declares, and the plugin must take the values (it is tried with them). A client
//! whose settings a plugin refuses later anyway is told on its installations and in the
//! plugin list; the plugin keeps serving everyone else.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::Value;

use super::AppState;
use super::error::ApiError;
use super::input;
use crate::plugins::loader::valid_name;

/// Checks and stores `client`'s settings for `plugin` (the API's and the client page's).
pub async fn set(
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

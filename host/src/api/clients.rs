//! `/api/v1/clients/{client}/settings`: plugin settings for one client, over the host's
//! configuration (which is over each plugin's own defaults).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use crate::plugins::loader::valid_name;

pub async fn get(
    State(state): State<AppState>,
    Path(client): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let settings = state
        .store
        .client_settings(&client)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(json!({ "client": client, "settings": settings })))
}

/// Replaces the client's settings for one plugin. Values may be strings, numbers or
/// booleans; `{}` returns the client to the defaults.
pub async fn put(
    State(state): State<AppState>,
    Path((client, plugin)): Path<(String, String)>,
    json: Result<Json<BTreeMap<String, Value>>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(values) = json.map_err(|r| ApiError::new(r.status(), r.body_text()))?;
    if !valid_name(&plugin) {
        return Err(ApiError::bad_request(format!(
            "`{plugin}` is not a plugin name"
        )));
    }
    let mut settings = BTreeMap::new();
    for (key, value) in values {
        let text = match value {
            Value::String(s) => s,
            Value::Number(_) | Value::Bool(_) => value.to_string(),
            _ => {
                return Err(ApiError::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    format!("{key}: use a string, number or boolean"),
                ));
            }
        };
        settings.insert(key, text);
    }
    state
        .store
        .set_client_settings(&client, &plugin, &settings)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(
        json!({ "client": client, "plugin": plugin, "settings": settings }),
    ))
}

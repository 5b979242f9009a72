//! `/api/v1/clients/{client}/settings`: plugin settings for one client, over the host's
//! configuration (which is over each plugin's own defaults), checked and stored by
//! `app::client_settings`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::app::error::ApiError;
use crate::app::{AppState, client_settings, input};

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
    let settings = client_settings::set(&state, &client, &plugin, values).await?;
    Ok(Json(
        json!({ "client": client, "plugin": plugin, "settings": settings }),
    ))
}

//! `GET /healthz`: is the service up, and how are its plugins.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::AppState;
use crate::plugins::PluginState;

pub async fn healthz(State(state): State<AppState>) -> Json<Value> {
    let plugins = state.runtime.registry().list();
    let count = |s: PluginState| plugins.iter().filter(|p| p.state == s).count();
    Json(json!({
        "status": "ok",
        "plugins": {
            "active": count(PluginState::Active),
            "disabled": count(PluginState::Disabled),
            "failed": count(PluginState::Failed),
        }
    }))
}

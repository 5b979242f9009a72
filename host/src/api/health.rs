//! `GET /healthz` (is the service up, how are its plugins) and `GET /metrics`
//! (Prometheus).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
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

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(state.pipeline.queue_depth()),
    )
}

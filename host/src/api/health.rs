//! `GET /healthz` (is the service up and evaluating, how are its plugins) and
//! `GET /metrics` (Prometheus).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::cluster::Role;
use crate::plugins::PluginState;
use crate::vitals::{self, Reading};

/// A plugin call is stuck when it runs this long past its deadline: calls end at their
/// deadline by construction, so this would be a bug, and worth a page.
const OVERDUE_GRACE: Duration = Duration::from_secs(1);

pub async fn healthz(State(state): State<AppState>) -> Json<Value> {
    let plugins = state.runtime.registry().list();
    let count = |s: PluginState| plugins.iter().filter(|p| p.state == s).count();
    let reading = Reading {
        oldest_job: state.pipeline.oldest_wait(),
        overdue: state.runtime.overdue_calls(OVERDUE_GRACE),
        switched_off: plugins
            .iter()
            .filter_map(|p| Some((p.name.clone(), p.stopped.as_ref()?.to_string())))
            .collect(),
        ..state.vitals.reading()
    };
    let problems = vitals::assess(&reading, &state.health);
    Json(json!({
        "status": if problems.is_empty() { "ok" } else { "degraded" },
        "problems": problems,
        "queue": {
            "jobs": state.pipeline.queue_depth(),
            "oldest_wait_ms": reading.oldest_job.map(|d| d.as_millis() as u64),
        },
        "outbox": reading.backlog.iter().map(|(channel, b)| (channel.to_string(), json!({
            "waiting": b.waiting,
            "oldest_ms": b.oldest_ms,
        }))).collect::<serde_json::Map<_, _>>(),
        "plugins": {
            "active": count(PluginState::Active),
            "disabled": count(PluginState::Disabled),
            "failed": count(PluginState::Failed),
        },
        "cluster": state.cluster.standing().await,
    }))
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(
            state.pipeline.queue_depth(),
            state.cluster.node(),
            &Role::ALL.map(|role| (role.as_str(), state.cluster.holds(role))),
            &state.vitals,
        ),
    )
}

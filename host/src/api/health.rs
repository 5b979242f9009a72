//! `GET /healthz` (is the service up and evaluating, how are its plugins) and
//! `GET /metrics` (Prometheus).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::AppState;
use crate::cluster::Role;
use crate::plugins::PluginState;
use crate::plugins::runtime::CallInFlight;

/// A plugin call is stuck when it runs this long past its deadline: calls end at their
/// deadline by construction, so this would be a bug, and worth a page.
const OVERDUE_GRACE: Duration = Duration::from_secs(1);

pub async fn healthz(State(state): State<AppState>) -> Json<Value> {
    let plugins = state.runtime.registry().list();
    let count = |s: PluginState| plugins.iter().filter(|p| p.state == s).count();
    let oldest_wait = state.pipeline.oldest_wait();
    let problems = problems(
        oldest_wait,
        state.stalled_after,
        &state.runtime.overdue_calls(OVERDUE_GRACE),
    );
    Json(json!({
        "status": if problems.is_empty() { "ok" } else { "degraded" },
        "problems": problems,
        "queue": {
            "jobs": state.pipeline.queue_depth(),
            "oldest_wait_ms": oldest_wait.map(|d| d.as_millis() as u64),
        },
        "plugins": {
            "active": count(PluginState::Active),
            "disabled": count(PluginState::Disabled),
            "failed": count(PluginState::Failed),
        },
        "cluster": state.cluster.standing().await,
    }))
}

/// Why evaluation is not keeping up, if it is not: the oldest job waited past the bound,
/// or a plugin call outlived its deadline.
fn problems(
    oldest_wait: Option<Duration>,
    stalled_after: Duration,
    overdue: &[CallInFlight],
) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(wait) = oldest_wait.filter(|w| *w >= stalled_after) {
        problems.push(format!(
            "evaluation is stalled: the oldest queued job has waited {} s (bound: {} s)",
            wait.as_secs(),
            stalled_after.as_secs()
        ));
    }
    for call in overdue {
        problems.push(format!(
            "a call of plugin `{}` has run {} ms, past its deadline of {} ms",
            call.plugin,
            call.running.as_millis(),
            call.deadline.as_millis()
        ));
    }
    problems
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(
            state.pipeline.queue_depth(),
            state.cluster.node(),
            &Role::ALL.map(|role| (role.as_str(), state.cluster.holds(role))),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthy_until_a_job_waits_too_long_or_a_call_overruns() {
        let bound = Duration::from_secs(60);
        assert!(problems(None, bound, &[]).is_empty());
        assert!(problems(Some(Duration::from_secs(59)), bound, &[]).is_empty());
        let stalled = problems(Some(Duration::from_secs(75)), bound, &[]);
        assert_eq!(stalled.len(), 1);
        assert!(stalled[0].contains("waited 75 s"), "{stalled:?}");
        let stuck = problems(
            None,
            bound,
            &[CallInFlight {
                plugin: "sleeper".into(),
                running: Duration::from_millis(5_000),
                deadline: Duration::from_millis(100),
            }],
        );
        assert_eq!(stuck.len(), 1);
        assert!(stuck[0].contains("`sleeper`"), "{stuck:?}");
        assert!(stuck[0].contains("deadline of 100 ms"), "{stuck:?}");
    }
}

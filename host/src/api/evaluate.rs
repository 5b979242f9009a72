//! `POST /api/v1/evaluate`: a dry run. Every active plugin evaluates the posted report
//! exactly as it would for a real upload (with the client's own settings, when the report
//! or `?client=` names one), and the answer shows each plugin's findings,
//! state changes or failure. Nothing is stored: this is how an admin asks "what would the
//! checks say about this report?" and how a new plugin is tried on real data.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::app::error::ApiError;
use crate::app::input;
use crate::plugins::{Evaluation, InstallationInfo, PluginRun, Trigger};
use crate::report;

#[derive(Debug, Deserialize)]
pub struct DryRunParams {
    /// Defaults to the report's `installation/@id`.
    installation: Option<String>,
    client: Option<String>,
    timezone: Option<String>,
    #[serde(default = "default_trigger")]
    trigger: String,
}

fn default_trigger() -> String {
    "report".into()
}

/// One plugin's answer, as JSON.
#[derive(Debug, Serialize)]
pub struct RunView<'a> {
    plugin: &'a str,
    version: &'a str,
    sha256: &'a str,
    elapsed_us: u128,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    findings: Option<&'a [crate::plugins::Finding]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'a [crate::plugins::contract::StateChange]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<&'a crate::plugins::Failure>,
    /// What the call said to the plugin's author (not kept: a dry run).
    log: &'a [crate::plugins::log::LogLine],
}

impl<'a> From<&'a PluginRun> for RunView<'a> {
    fn from(run: &'a PluginRun) -> Self {
        let (findings, state, failure) = match &run.outcome {
            Ok(output) => (Some(&output.findings[..]), Some(&output.state[..]), None),
            Err(failure) => (None, None, Some(failure)),
        };
        RunView {
            plugin: &run.plugin,
            version: &run.version,
            sha256: &run.sha256,
            elapsed_us: run.elapsed.as_micros(),
            ok: failure.is_none(),
            findings,
            state,
            failure,
            log: &run.said.lines,
        }
    }
}

pub async fn dry_run(
    State(state): State<AppState>,
    Query(params): Query<DryRunParams>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body.map_err(|r| state.limits.upload().rejection(r))?;
    for (field, value) in [
        ("installation", &params.installation),
        ("client", &params.client),
        ("timezone", &params.timezone),
    ] {
        if let Some(value) = value {
            input::text(field, value, input::MAX_NAME)?;
        }
    }
    let trigger: Trigger = params.trigger.parse().map_err(ApiError::bad_request)?;
    let document =
        report::parse(&body).map_err(|e| ApiError::bad_request(format!("invalid report: {e}")))?;
    let installation = InstallationInfo {
        id: params
            .installation
            .or_else(|| document.value("installation/@id").map(str::to_string))
            .unwrap_or_else(|| "dry-run".into()),
        client: params
            .client
            .or_else(|| document.value("installation/client").map(str::to_string))
            .unwrap_or_default(),
        tags: Vec::new(),
        timezone: params.timezone.unwrap_or_else(|| "UTC".into()),
    };
    // The client's own settings apply, as they would to its installations.
    let client_settings = if installation.client.is_empty() {
        BTreeMap::new()
    } else {
        state.store.client_settings(&installation.client).await?
    };
    let evaluation = Evaluation {
        installation,
        trigger,
        now_ms: state.clock.now_ms(),
        last_report_at_ms: None,
        report: Some(Arc::new(document)),
        state: BTreeMap::new(),
        client_settings,
    };
    let runs = state.runtime.evaluate(&evaluation).await;
    let views: Vec<RunView<'_>> = runs.iter().map(RunView::from).collect();
    Ok(Json(json!({
        "installation": evaluation.installation.id,
        "trigger": trigger,
        "results": views,
    })))
}

//! The admin's replays: a form to replay a rule over the stored history (a candidate
//! component not installed, or an installed plugin with other settings), the recent
//! replays and history imports (`import`, with their progress), and one replay's page,
//! which follows its progress and then shows what it found. The work is the
//! application's (`app::replays::begin`, in the same words as the API's query) and
//! `replay`'s; these pages ask and show.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::admin::CsrfOnly;
use super::page::{PageError, Ui, render};
use super::session::Visitor;
use crate::app::AppState;
use crate::app::replays::begin;
use crate::i18n::Lang;
use crate::import::Import;
use crate::replay::{Episode, Replay};

#[derive(Template)]
#[template(path = "admin_replays.html")]
struct ReplaysPage {
    ui: Ui,
    plugins: Vec<String>,
    replays: Vec<Replay>,
    imports: Vec<Import>,
    error: Option<String>,
}

async fn replays_page(
    state: &AppState,
    visitor: &Visitor,
    error: Option<String>,
) -> Result<Response, PageError> {
    let mut plugins: Vec<String> = (state.runtime.registry().list().into_iter())
        .filter(|p| p.version.is_some())
        .map(|p| p.name)
        .collect();
    plugins.sort();
    Ok(render(&ReplaysPage {
        ui: visitor.ui(),
        plugins,
        replays: state.replays.list().await?,
        imports: state.imports.list().await?,
        error,
    }))
}

pub async fn list(State(state): State<AppState>, visitor: Visitor) -> Result<Response, PageError> {
    replays_page(&state, &visitor, None).await
}

/// The form: `csrf`, `plugin`, `component` (a file, optional), `since`, `client`,
/// `installation`, `settings` (`key=value` lines) and `tick_every`.
pub async fn start(
    State(state): State<AppState>,
    visitor: Visitor,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let lang = visitor.lang();
    let refused = |error| PageError::part(lang, error);
    let (mut csrf, mut plugin, mut candidate) = (String::new(), String::new(), Vec::new());
    let mut pairs: Vec<(String, String)> = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(refused)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "component" {
            candidate = field.bytes().await.map_err(refused)?.to_vec();
            continue;
        }
        let text = field.text().await.map_err(refused)?;
        let text = text.trim();
        match name.as_str() {
            "csrf" => csrf = text.to_string(),
            "plugin" => plugin = text.to_string(),
            "settings" => pairs.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|line| !line.is_empty())
                    .map(|line| ("config".to_string(), line.to_string())),
            ),
            "since" | "client" | "installation" | "tick_every" if !text.is_empty() => {
                pairs.push((name, text.to_string()));
            }
            _ => {}
        }
    }
    visitor.check(&csrf)?;
    match begin(&state, &plugin, &pairs, candidate).await {
        Ok(replay) => Ok(Redirect::to(&format!("/admin/replays/{}", replay.id)).into_response()),
        Err(error) => replays_page(&state, &visitor, Some(error.message)).await,
    }
}

/// One alert of a replay's table, in the reader's words.
struct Row {
    change: String,
    installation: String,
    key: String,
    severity: String,
    fired: String,
    resolved: String,
    summary: String,
}

impl Row {
    fn of(ui: &Ui, change: &str, alert: &Episode, serving_fired_at: Option<i64>) -> Row {
        let mut fired = ui.at(&alert.fired_at);
        if let Some(serving) = serving_fired_at.filter(|_| change != "removed") {
            let shift = ui.lang.span((serving - alert.fired_at).abs());
            fired = format!("{fired} ({shift})");
        }
        Row {
            change: ui.t(&format!("replay-change-{change}")),
            installation: alert.installation.clone(),
            key: alert.key.clone(),
            severity: ui.t(alert.severity.as_str()),
            fired,
            resolved: alert.resolved_at.map(|at| ui.at(&at)).unwrap_or_default(),
            summary: (alert.translations)
                .summary(ui.lang.code(), &alert.summary)
                .to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin_replay.html")]
struct ReplayPage {
    ui: Ui,
    replay: Replay,
    rows: Vec<Row>,
}

pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let lang: Lang = visitor.lang();
    let replay = state
        .replays
        .get(id)
        .await?
        .ok_or_else(|| PageError::not_found(lang))?;
    let ui = visitor.ui();
    let rows = match &replay.result {
        None => Vec::new(),
        Some(result) => match &result.difference {
            Some(difference) => (difference.alerts.iter())
                .map(|d| Row::of(&ui, d.change.as_str(), &d.alert, d.serving_fired_at))
                .collect(),
            None => (result.alerts.iter())
                .map(|alert| Row::of(&ui, "fires", alert, None))
                .collect(),
        },
    };
    Ok(render(&ReplayPage { ui, replay, rows }))
}

pub async fn cancel(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    state.replays.cancel(id).await?;
    Ok(Redirect::to(&format!("/admin/replays/{id}")).into_response())
}

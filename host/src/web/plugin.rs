//! A plugin's own page (`/admin/plugins/{name}`): what it is, how it runs, its settings,
//! and what it said to its author (`plugins::log`), newest first, a page at a time.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use fluent_bundle::FluentValue;
use serde::Deserialize;

use super::page::{PageError, Ui, render};
use super::session::Visitor;
use crate::app::AppState;
use crate::plugins::PluginStatus;
use crate::store::{KEPT_PER_PLUGIN, LogPage};

/// Lines on one page of the log.
const PAGE: i64 = 100;

#[derive(Template)]
#[template(path = "admin_plugin.html")]
struct PluginPage {
    ui: Ui,
    name: String,
    /// `None`: not loaded (removed), its log still kept.
    plugin: Option<PluginStatus>,
    log: LogPage,
    /// What is kept of the log, in words.
    intro: String,
}

/// `?before=`: the page of lines older than this one.
#[derive(Debug, Deserialize)]
pub struct Older {
    before: Option<i64>,
}

pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(name): Path<String>,
    Query(query): Query<Older>,
) -> Result<Response, PageError> {
    let plugin = state.runtime.registry().status(&name);
    let log = state.store.plugin_log(&name, query.before, PAGE).await?;
    if plugin.is_none() && log.lines.is_empty() {
        return Err(PageError::not_found(visitor.lang()));
    }
    Ok(render(&PluginPage {
        ui: visitor.ui(),
        name,
        plugin,
        log,
        intro: visitor.lang().t_with(
            "plugin-log-intro",
            &[
                ("kept", FluentValue::from(KEPT_PER_PLUGIN)),
                (
                    "per_minute",
                    FluentValue::from(state.runtime.log_per_minute()),
                ),
            ],
        ),
    }))
}

//! The plugins' admin page (upload through the same inspect → compile → smoke-test → swap
//! path as the API), and what the admin pages share: the outcome of the last action shown
//! at a page's top.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::response::Response;
use serde::Deserialize;

use super::page::{PageError, Ui, render};
use super::session::Visitor;
use crate::app::AppState;
use crate::app::error::ApiError;
use crate::plugins::PluginStatus;

/// What the last action on an admin page came to, shown at its top.
#[derive(Default)]
pub(super) enum Outcome {
    #[default]
    None,
    Done(String),
    Failed(String),
    /// A new ingest token, shown this once.
    Token {
        installation: String,
        token: String,
        snippet: String,
    },
}

fn failed(error: ApiError) -> Outcome {
    Outcome::Failed(error.message)
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "admin_plugins.html")]
struct PluginsPage {
    ui: Ui,
    plugins: Vec<PluginStatus>,
    outcome: Outcome,
}

async fn plugins_page(
    state: &AppState,
    visitor: &Visitor,
    outcome: Outcome,
) -> Result<Response, PageError> {
    let mut plugins = state.runtime.registry().list();
    plugins.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(render(&PluginsPage {
        ui: visitor.ui(),
        plugins,
        outcome,
    }))
}

pub async fn plugins(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    plugins_page(&state, &visitor, Outcome::None).await
}

/// The upload form: `csrf`, `name`, `override` (a checkbox) and `component` (the file).
pub async fn upload_plugin(
    State(state): State<AppState>,
    visitor: Visitor,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let lang = visitor.lang();
    let (mut csrf, mut name, mut overriding, mut bytes) =
        (String::new(), String::new(), false, None);
    let refused = |error| PageError::part(lang, error);
    while let Some(field) = multipart.next_field().await.map_err(refused)? {
        match field.name() {
            Some("csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("name") => name = field.text().await.unwrap_or_default().trim().to_string(),
            Some("override") => overriding = true,
            Some("component") => {
                if name.is_empty() {
                    name = field
                        .file_name()
                        .and_then(|f| f.strip_suffix(".wasm"))
                        .unwrap_or_default()
                        .replace('_', "-");
                }
                bytes = Some(field.bytes().await.map_err(refused)?);
            }
            _ => {}
        }
    }
    visitor.check(&csrf)?;
    let outcome = match bytes {
        None => Outcome::Failed(lang.t("plugin-no-file")),
        Some(bytes) => match state
            .plugins
            .install(&name, bytes.to_vec(), overriding)
            .await
        {
            Ok(installed) => Outcome::Done(lang.t_with(
                "plugin-installed",
                &[
                    ("name", installed.status.name.as_str().into()),
                    (
                        "what",
                        installed.status.version.clone().unwrap_or_default().into(),
                    ),
                ],
            )),
            Err(error) => failed(error.into()),
        },
    };
    plugins_page(&state, &visitor, outcome).await
}

pub async fn plugin_action(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((name, action)): Path<(String, String)>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    let set = &state.plugins;
    let done: Result<(), ApiError> = match action.as_str() {
        "enable" => set.switch(&name, true).await.map(drop).map_err(Into::into),
        "disable" => set.switch(&name, false).await.map(drop).map_err(Into::into),
        "delete" => set.remove(&name).await.map(drop).map_err(Into::into),
        _ => return Err(PageError::not_found(visitor.lang())),
    };
    let outcome = match done {
        Ok(()) => Outcome::Done(visitor.lang().t_with(
            "plugin-done",
            &[
                ("name", name.as_str().into()),
                ("what", action.as_str().into()),
            ],
        )),
        Err(error) => failed(error),
    };
    plugins_page(&state, &visitor, outcome).await
}

//! The admin pages: plugins (upload through the same inspect → compile → smoke-test → swap
//! path as the API), staff accounts. The work is the API's own functions; these pages
//! only ask and show.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::page::{PageError, Ui, render};
use super::session::Visitor;
use crate::api::plugins;
use crate::app::AppState;
use crate::app::error::ApiError;
use crate::i18n::Lang;
use crate::plugins::PluginStatus;
use crate::staff::{NewStaff, Role, Staff};

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
    let done = match action.as_str() {
        "enable" => plugins::set_on(&state, &name, true).await,
        "disable" => plugins::set_on(&state, &name, false).await,
        "delete" => plugins::remove(&state, &name).await,
        _ => return Err(PageError::not_found(visitor.lang())),
    };
    let outcome = match done {
        Ok(_) => Outcome::Done(visitor.lang().t_with(
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

#[derive(Template)]
#[template(path = "admin_staff.html")]
struct StaffPage {
    ui: Ui,
    staff: Vec<Staff>,
    roles: [Role; 3],
    outcome: Outcome,
}

async fn staff_page(
    state: &AppState,
    visitor: &Visitor,
    outcome: Outcome,
) -> Result<Response, PageError> {
    Ok(render(&StaffPage {
        ui: visitor.ui(),
        staff: state.store.staff().await?,
        roles: Role::ALL,
        outcome,
    }))
}

pub async fn staff(State(state): State<AppState>, visitor: Visitor) -> Result<Response, PageError> {
    staff_page(&state, &visitor, Outcome::None).await
}

#[derive(Debug, Deserialize)]
pub struct StaffForm {
    #[serde(default)]
    csrf: String,
    name: String,
    password: String,
    role: String,
    #[serde(default)]
    manager: String,
    lang: String,
    #[serde(default)]
    telegram_user_id: String,
}

pub async fn create_staff(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<StaffForm>,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    let telegram = match form.telegram_user_id.trim() {
        "" => Ok(None),
        id => id
            .parse::<i64>()
            .map(Some)
            .map_err(|_| format!("telegram_user_id: `{id}` is not a Telegram user id")),
    };
    let checked = form
        .role
        .parse::<Role>()
        .map_err(|e| format!("role: {e}"))
        .and_then(|role| {
            Ok((
                role,
                form.lang
                    .parse::<Lang>()
                    .map_err(|e| format!("lang: {e}"))?,
                telegram?,
            ))
        });
    let outcome = match checked {
        Err(error) => Outcome::Failed(error),
        Ok((role, lang, telegram)) => {
            let (name, password, manager) = (form.name, form.password, form.manager);
            let new = tokio::task::spawn_blocking(move || {
                NewStaff::new(&name, &password, role, Some(&manager), lang, telegram)
            })
            .await
            .map_err(PageError::internal)?;
            match new {
                Err(error) => Outcome::Failed(error),
                Ok(new) => match state
                    .store
                    .create_staff(&new, state.clock.now_ms(), false)
                    .await
                {
                    Ok(_) => Outcome::Done(
                        visitor
                            .lang()
                            .t_with("staff-created", &[("name", new.staff.name.as_str().into())]),
                    ),
                    Err(crate::store::StoreError::Duplicate(name)) => Outcome::Failed(
                        visitor
                            .lang()
                            .t_with("staff-exists", &[("name", name.as_str().into())]),
                    ),
                    Err(error) => return Err(error.into()),
                },
            }
        }
    };
    staff_page(&state, &visitor, outcome).await
}

pub async fn delete_staff(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(name): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    if name == visitor.staff.name {
        return staff_page(
            &state,
            &visitor,
            Outcome::Failed(visitor.lang().t("staff-not-yourself")),
        )
        .await;
    }
    state.store.delete_staff(&name).await?;
    Ok(Redirect::to("/admin/staff").into_response())
}

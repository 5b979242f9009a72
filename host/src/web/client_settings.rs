//! A client's settings of one plugin, as a form: a field per setting the plugin declares,
//! typed from its declared type (a number with its bounds, a choice among its words, yes
//! or no), its description and default beside it. Each value is judged by the SDK's own
//! check of its type, every problem beside its field; what passes goes through the API's
//! `clients::set`, which also asks the plugin. An empty field means the default.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use reveille_sdk::SettingType;

use super::form::{Field, Group, Layout, Problems, Sent, Widget};
use super::page::{PageError, Ui, encode, render};
use super::session::Visitor;
use crate::app::AppState;
use crate::plugins::contract::ConfigKey;

#[derive(Template)]
#[template(path = "client_settings.html")]
struct SettingsPage {
    ui: Ui,
    client: String,
    plugin: String,
    groups: Vec<Group>,
    problems: Option<String>,
    general: Vec<String>,
}

/// The settings `plugin` declares, or "no such page".
fn declared(
    state: &AppState,
    plugin: &str,
    visitor: &Visitor,
) -> Result<Vec<ConfigKey>, PageError> {
    state
        .runtime
        .registry()
        .list()
        .into_iter()
        .find(|p| p.name == plugin)
        .map(|p| p.config)
        .filter(|config| !config.is_empty())
        .ok_or_else(|| PageError::not_found(visitor.lang()))
}

/// A setting's field, its widget from its type.
fn field(l: &Layout, key: &ConfigKey) -> Field {
    let widget = match &key.value_type {
        SettingType::Integer { .. } => Widget::Number,
        SettingType::OneOf(words) => Widget::Choice(
            std::iter::once(String::new())
                .chain(words.iter().cloned())
                .map(|w| (w.clone(), w))
                .collect(),
        ),
        SettingType::Boolean => Widget::Choice(vec![
            (String::new(), String::new()),
            ("true".into(), l.lang.t("setting-yes")),
            ("false".into(), l.lang.t("setting-no")),
        ]),
        _ => Widget::Text,
    };
    let mut field = l.field(&key.name, "", widget);
    field.label = key.name.clone();
    let default = if key.default_value.is_empty() {
        l.lang.t("setting-no-default")
    } else {
        l.lang.t_with(
            "setting-default",
            &[("value", key.default_value.clone().into())],
        )
    };
    field.hint = Some(format!(
        "{} · {} · {default}",
        key.description, key.value_type
    ));
    field
}

async fn show(
    state: &AppState,
    visitor: &Visitor,
    client: String,
    plugin: String,
    sent: Sent,
    problems: Problems,
) -> Result<Response, PageError> {
    let keys = declared(state, &plugin, visitor)?;
    let lang = visitor.lang();
    let layout = Layout {
        sent: &sent,
        problems: &problems,
        lang,
    };
    let groups = vec![Group {
        legend: None,
        fields: keys.iter().map(|k| field(&layout, k)).collect(),
    }];
    let failed = !problems.is_empty();
    let mut response = render(&SettingsPage {
        ui: visitor.ui(),
        client,
        plugin,
        groups,
        problems: failed.then(|| lang.t_with("form-problems", &[("n", problems.count().into())])),
        general: problems.general.clone(),
    });
    if failed {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((client, plugin)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let mut sent = Sent::default();
    let stored = state.store.client_settings(&client).await?;
    for (key, value) in stored.get(&plugin).into_iter().flatten() {
        sent.set(key.clone(), value.clone());
    }
    let problems = Problems::new(visitor.lang());
    show(&state, &visitor, client, plugin, sent, problems).await
}

pub async fn save(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((client, plugin)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let sent = Sent::new(pairs);
    visitor.check(sent.one("csrf"))?;
    let keys = declared(&state, &plugin, &visitor)?;
    let mut problems = Problems::new(visitor.lang());
    let mut values = BTreeMap::new();
    for key in &keys {
        let value = sent.one(&key.name);
        if value.is_empty() {
            continue;
        }
        match key.value_type.check(value) {
            Ok(()) => {
                values.insert(key.name.clone(), serde_json::Value::String(value.into()));
            }
            Err(words) => problems.say(&key.name, words.replace('`', "\"")),
        }
    }
    if problems.is_empty() {
        match crate::app::client_settings::set(&state, &client, &plugin, values).await {
            Ok(_) => {
                let back = format!("/clients/{}#client-settings", encode(&client));
                return Ok(Redirect::to(&back).into_response());
            }
            Err(error) => problems.refused(&error.message, &[]),
        }
    }
    show(&state, &visitor, client, plugin, sent, problems).await
}

//! The directory's admin pages: contacts, client policies, on-call schedules, escalation
//! policies and maintenance windows, one page per kind, each entry as the JSON document
//! the API takes (`README.md` shows each kind's fields). Saving and deleting go through
//! the API's own functions, so the checks and their messages are the same.

use askama::Template;
use axum::Form;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use super::page::{PageError, Ui, render};
use super::session::Visitor;
use crate::alerts::directory::Kind;
use crate::api::people;
use crate::app::AppState;

/// Each kind: its path segment, its title's message id, and an example entry.
const KINDS: [(&str, Kind, &str, &str); 5] = [
    (
        "contacts",
        Kind::Contact,
        "directory-contacts",
        r#"{"telegram_user_id": 123456789}"#,
    ),
    (
        "client-policies",
        Kind::ClientPolicy,
        "directory-policies",
        r#"{"timezone": "Europe/Moscow", "manager": "ivanov", "quiet": [{"days": ["mon","tue","wed","thu","fri"], "from": "20:00", "to": "08:30"}]}"#,
    ),
    (
        "oncall",
        Kind::Schedule,
        "directory-oncall",
        r#"{"contacts": ["ivanov", "petrov"], "rotation": "weekly", "handoff": "2026-11-23T09:00:00+03:00", "timezone": "Europe/Moscow"}"#,
    ),
    (
        "escalation",
        Kind::Escalation,
        "directory-escalation",
        r#"{"steps": [{"after": "15m", "to": ["ivanov"]}]}"#,
    ),
    (
        "maintenance",
        Kind::Maintenance,
        "directory-maintenance",
        r#"{"scope": {"installation": "vector-main"}, "from": "2026-11-22T22:00:00+03:00", "to": "2026-11-23T02:00:00+03:00", "reason": "upgrade"}"#,
    ),
];

#[derive(Template)]
#[template(path = "admin_directory.html")]
struct DirectoryPage {
    ui: Ui,
    kinds: Vec<(&'static str, String)>,
    kind: &'static str,
    title: String,
    example: &'static str,
    entries: Vec<(String, String)>,
    error: Option<String>,
    done: Option<String>,
}

fn kind_of(
    segment: &str,
    visitor: &Visitor,
) -> Result<(&'static str, Kind, &'static str, &'static str), PageError> {
    KINDS
        .iter()
        .find(|(path, ..)| *path == segment)
        .copied()
        .ok_or_else(|| PageError::not_found(visitor.lang()))
}

async fn show(
    state: &AppState,
    visitor: &Visitor,
    segment: &str,
    error: Option<String>,
    done: Option<String>,
) -> Result<Response, PageError> {
    let (path, kind, title, example) = kind_of(segment, visitor)?;
    let entries = state
        .store
        .directory_entries(kind)
        .await?
        .into_iter()
        .map(|(name, spec)| {
            (
                name,
                serde_json::to_string_pretty(&spec).unwrap_or_default(),
            )
        })
        .collect();
    let lang = visitor.lang();
    let mut response = render(&DirectoryPage {
        ui: visitor.ui(),
        kinds: KINDS.iter().map(|(p, _, t, _)| (*p, lang.t(t))).collect(),
        kind: path,
        title: lang.t(title),
        example,
        entries,
        done,
        error: error.clone(),
    });
    if error.is_some() {
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(segment): Path<String>,
) -> Result<Response, PageError> {
    show(&state, &visitor, &segment, None, None).await
}

#[derive(Debug, Deserialize)]
pub struct EntryForm {
    #[serde(default)]
    csrf: String,
    name: String,
    #[serde(default)]
    spec: String,
    /// Present: delete the entry instead.
    delete: Option<String>,
}

pub async fn save(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(segment): Path<String>,
    Form(form): Form<EntryForm>,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    let (_, kind, ..) = kind_of(&segment, &visitor)?;
    let name = form.name.trim();
    let outcome = if form.delete.is_some() {
        people::delete(&state, kind, name).await.map(|_| ())
    } else {
        people::put(&state, kind, name, &Bytes::from(form.spec.clone()))
            .await
            .map(|_| ())
    };
    match outcome {
        Ok(()) => {
            let done = visitor
                .lang()
                .t_with("directory-saved", &[("name", name.into())]);
            show(&state, &visitor, &segment, None, Some(done)).await
        }
        Err(error) => show(&state, &visitor, &segment, Some(error.message), None).await,
    }
}

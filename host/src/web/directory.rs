//! The directory's admin pages: contacts, client policies, on-call rotations, escalation
//! policies and maintenance windows, one page per kind. Each lists its entries in words
//! (a rotation says who is on call now and next) and edits them in a form field by field
//! (`entries/`); a saved form goes through the same `put_entry` as the API, so the checks
//! are the same, and a refused one comes back as it was typed with every problem beside
//! its field.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use super::chats;
use super::entries::{self, Context};
use super::form::{self, Group, Layout, Problems, Sent, Widget};
use super::page::{PageError, Ui, render};
use super::session::Visitor;
use crate::alerting::EntryError;
use crate::alerts::directory::Kind;
use crate::app::AppState;
use crate::app::input;
use crate::store::BotChat;

/// Each kind: its path segment and its title's message id.
const KINDS: [(&str, Kind, &str); 5] = [
    ("contacts", Kind::Contact, "directory-contacts"),
    ("client-policies", Kind::ClientPolicy, "directory-policies"),
    ("oncall", Kind::Schedule, "directory-oncall"),
    ("escalation", Kind::Escalation, "directory-escalation"),
    ("maintenance", Kind::Maintenance, "directory-maintenance"),
];

/// An entry as listed: its name and what it does.
struct Listed {
    name: String,
    lines: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin_directory.html")]
struct DirectoryPage {
    ui: Ui,
    kinds: Vec<(&'static str, String)>,
    kind: &'static str,
    title: String,
    entries: Vec<Listed>,
    /// The entry being edited; `None`: a new one.
    editing: Option<String>,
    name: String,
    name_error: Option<String>,
    groups: Vec<Group>,
    zones: Vec<String>,
    /// Chats the bot has heard a command in, to pick a group from.
    chats: Vec<BotChat>,
    problems: Option<String>,
    general: Vec<String>,
    done: Option<String>,
}

impl DirectoryPage {
    fn suggests_zones(&self) -> bool {
        self.groups
            .iter()
            .flat_map(|g| &g.fields)
            .any(|f| f.widget == Widget::Suggest("zones"))
    }
}

fn kind_of(
    segment: &str,
    visitor: &Visitor,
) -> Result<(&'static str, Kind, &'static str), PageError> {
    KINDS
        .iter()
        .find(|(path, ..)| *path == segment)
        .copied()
        .ok_or_else(|| PageError::not_found(visitor.lang()))
}

/// What the forms offer: the directory's names, the fleet's, the plugins'.
async fn context(state: &AppState, visitor: &Visitor) -> Result<Context, PageError> {
    let directory = state.alerting.directory().await?;
    let installations = state.store.installations().await?;
    let unique = |mut names: Vec<String>| {
        names.sort();
        names.dedup();
        names
    };
    let ui = visitor.ui();
    Ok(Context {
        installations: installations.iter().map(|i| i.id.clone()).collect(),
        clients: unique(installations.iter().map(|i| i.client.clone()).collect()),
        parents: unique(
            installations
                .iter()
                .filter_map(|i| i.parent.clone())
                .collect(),
        ),
        plugins: unique(state.runtime.registry().names()),
        zone: ui.zone.iana_name().unwrap_or("UTC").to_string(),
        author: visitor.staff.name.clone(),
        now: state.clock.now_ms(),
        lang: visitor.lang(),
        ..Context::of_directory(&directory)
    })
}

/// A form as shown: what was sent (or stored, or a new entry's defaults) and its problems.
struct Shown {
    editing: Option<String>,
    name: String,
    sent: Sent,
    problems: Problems,
    done: Option<String>,
}

async fn show(
    state: &AppState,
    visitor: &Visitor,
    segment: &str,
    shown: Shown,
) -> Result<Response, PageError> {
    let (path, kind, title) = kind_of(segment, visitor)?;
    let ctx = context(state, visitor).await?;
    let lang = visitor.lang();
    let entries = state
        .store
        .directory_entries(kind)
        .await?
        .into_iter()
        .map(|(name, spec)| Listed {
            lines: entries::summary(kind, &spec, &name, &ctx),
            name,
        })
        .collect();
    let layout = Layout {
        sent: &shown.sent,
        problems: &shown.problems,
        lang,
    };
    let groups = entries::layout(kind, &layout, &ctx);
    let failed = !shown.problems.is_empty();
    let mut page = DirectoryPage {
        ui: visitor.ui(),
        kinds: KINDS.iter().map(|(p, _, t)| (*p, lang.t(t))).collect(),
        kind: path,
        title: lang.t(title),
        entries,
        editing: shown.editing,
        name: shown.name,
        name_error: shown.problems.of("name").cloned(),
        groups,
        zones: Vec::new(),
        chats: state.store.bot_chats().await?,
        problems: failed
            .then(|| lang.t_with("form-problems", &[("n", shown.problems.count().into())])),
        general: shown.problems.general.clone(),
        done: shown.done,
    };
    if page.suggests_zones() {
        page.zones = jiff::tz::db().available().map(|n| n.to_string()).collect();
    }
    let mut response = render(&page);
    if failed {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct Editing {
    edit: Option<String>,
    /// A new entry's name, filled in (a client's page links to its policy this way).
    name: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(segment): Path<String>,
    Query(query): Query<Editing>,
) -> Result<Response, PageError> {
    let (_, kind, _) = kind_of(&segment, &visitor)?;
    let ctx = context(&state, &visitor).await?;
    let stored = match &query.edit {
        Some(name) => Some(
            state
                .store
                .directory_entries(kind)
                .await?
                .remove(name)
                .ok_or_else(|| PageError::not_found(visitor.lang()))?,
        ),
        None => None,
    };
    let sent = match &stored {
        Some(spec) => entries::sent(kind, spec, &ctx),
        None => entries::fresh(kind, &ctx),
    };
    let shown = Shown {
        name: query.edit.clone().or(query.name).unwrap_or_default(),
        editing: query.edit,
        sent,
        problems: Problems::new(visitor.lang()),
        done: None,
    };
    show(&state, &visitor, &segment, shown).await
}

pub async fn save(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(segment): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut sent = Sent::new(pairs);
    visitor.check(sent.one("csrf"))?;
    let (_, kind, _) = kind_of(&segment, &visitor)?;
    let lang = visitor.lang();
    let name = sent.one("name").to_string();
    let editing = Some(sent.one("editing").to_string()).filter(|e| !e.is_empty());
    let mut problems = Problems::new(lang);
    if !sent.one("delete").is_empty() {
        return delete(&state, &visitor, &segment, kind, &name).await;
    }
    chats::take_codes(&state, &mut sent, &mut problems).await?;
    if name.is_empty() {
        problems.add("name", "form-required", &[]);
    } else if let Err(error) = input::name("name", &name) {
        problems.refused(&error.message, &["name".into()]);
    }
    let ctx = context(&state, &visitor).await?;
    let old: Option<Value> = match &editing {
        Some(old) => state.store.directory_entries(kind).await?.remove(old),
        None => None,
    };
    let spec = entries::parse(kind, &sent, old.as_ref(), &ctx, &mut problems);
    if let Some(spec) = spec.filter(|_| problems.is_empty()) {
        match state.alerting.put_entry(kind, &name, &spec).await {
            Ok(_) => {
                let done = lang.t_with("directory-saved", &[("name", name.into())]);
                let shown = Shown {
                    editing: None,
                    name: String::new(),
                    sent: entries::fresh(kind, &ctx),
                    problems,
                    done: Some(done),
                };
                return show(&state, &visitor, &segment, shown).await;
            }
            Err(EntryError::Invalid(message)) => {
                let layout = Layout {
                    sent: &sent,
                    problems: &problems,
                    lang,
                };
                let fields = form::names(&entries::layout(kind, &layout, &ctx));
                problems.refused(&message, &fields);
            }
            Err(other) => return Err(PageError::internal(other)),
        }
    }
    let shown = Shown {
        editing,
        name,
        sent,
        problems,
        done: None,
    };
    show(&state, &visitor, &segment, shown).await
}

async fn delete(
    state: &AppState,
    visitor: &Visitor,
    segment: &str,
    kind: Kind,
    name: &str,
) -> Result<Response, PageError> {
    let lang = visitor.lang();
    let mut problems = Problems::new(lang);
    let done = match state.alerting.delete_entry(kind, name).await {
        Ok(true) => Some(lang.t_with("directory-deleted", &[("name", name.to_string().into())])),
        Ok(false) => return Err(PageError::not_found(lang)),
        Err(EntryError::InUse(message)) => {
            problems.refused(&message, &[]);
            None
        }
        Err(other) => return Err(PageError::internal(other)),
    };
    let ctx = context(state, visitor).await?;
    let shown = Shown {
        editing: None,
        name: String::new(),
        sent: entries::fresh(kind, &ctx),
        problems,
        done,
    };
    show(state, visitor, segment, shown).await
}

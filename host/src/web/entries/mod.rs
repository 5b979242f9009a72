//! The directory's entries as forms: for each kind, the fields a stored entry fills
//! (`sent`), a new entry's defaults (`fresh`), how the fields read back into the document
//! the API takes (`parse`, every problem beside its field), how they are laid out, and a
//! line that says what an entry does. The document then goes through the same
//! `put_entry` as the API, so the directory's own checks stay the last word.

mod contact;
mod escalation;
mod maintenance;
mod policy;
mod schedule;

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::form::{Field, Group, Layout, Problems, Sent, Widget, clock, read};
use crate::alerts::directory::{Directory, Kind};
use crate::alerts::hours::{Day, Window};
use crate::i18n::Lang;

/// What the forms offer to pick from, and who is filling them in.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub contacts: Vec<String>,
    /// Whether each contact pressed Start in their private chat with the bot.
    pub started: BTreeMap<String, bool>,
    pub schedules: Vec<String>,
    pub escalations: Vec<String>,
    pub installations: Vec<String>,
    pub clients: Vec<String>,
    pub parents: Vec<String>,
    pub plugins: Vec<String>,
    /// The reader's zone: a new entry's default and how instants are shown.
    pub zone: String,
    /// Who is saving: a maintenance window's author.
    pub author: String,
    pub now: i64,
    pub lang: Lang,
}

impl Context {
    pub fn of_directory(directory: &Directory) -> Context {
        Context {
            contacts: directory.contacts.keys().cloned().collect(),
            started: directory
                .contacts
                .iter()
                .map(|(name, person)| (name.clone(), person.started))
                .collect(),
            schedules: directory.schedules.keys().cloned().collect(),
            escalations: directory.escalations.keys().cloned().collect(),
            ..Context::default()
        }
    }
}

/// A stored entry's fields, for editing it.
pub fn sent(kind: Kind, spec: &Value, ctx: &Context) -> Sent {
    match kind {
        Kind::Contact => typed(spec).map(|c| contact::sent(&c)),
        Kind::ClientPolicy => typed(spec).map(|p| policy::sent(&p)),
        Kind::Schedule => typed(spec).map(|s| schedule::sent(&s)),
        Kind::Escalation => typed(spec).map(|e| escalation::sent(&e)),
        Kind::Maintenance => typed(spec).map(|m| maintenance::sent(&m, ctx)),
    }
    .unwrap_or_default()
}

/// A new entry's fields: the reader's zone, today, the usual choices.
pub fn fresh(kind: Kind, ctx: &Context) -> Sent {
    match kind {
        Kind::Schedule => schedule::fresh(ctx),
        Kind::Maintenance => maintenance::fresh(ctx),
        Kind::Escalation => escalation::fresh(),
        Kind::Contact | Kind::ClientPolicy => Sent::default(),
    }
}

/// The document the API takes, or every problem the fields have. `old` is the entry being
/// edited: what the form does not show (a policy's routing rules, a window's author) is
/// kept from it.
pub fn parse(
    kind: Kind,
    sent: &Sent,
    old: Option<&Value>,
    ctx: &Context,
    problems: &mut Problems,
) -> Option<Value> {
    let value = match kind {
        Kind::Contact => contact::parse(sent, problems).map(serde_json::to_value),
        Kind::ClientPolicy => {
            policy::parse(sent, old.and_then(typed), problems).map(serde_json::to_value)
        }
        Kind::Schedule => schedule::parse(sent, problems).map(serde_json::to_value),
        Kind::Escalation => escalation::parse(sent, problems).map(serde_json::to_value),
        Kind::Maintenance => {
            maintenance::parse(sent, old.and_then(typed), ctx, problems).map(serde_json::to_value)
        }
    }?;
    value.ok()
}

pub fn layout(kind: Kind, layout: &Layout, ctx: &Context) -> Vec<Group> {
    match kind {
        Kind::Contact => contact::layout(layout),
        Kind::ClientPolicy => policy::layout(layout, ctx),
        Kind::Schedule => schedule::layout(layout, ctx),
        Kind::Escalation => escalation::layout(layout, ctx),
        Kind::Maintenance => maintenance::layout(layout, ctx),
    }
}

/// What an entry does, in lines of the reader's words.
pub fn summary(kind: Kind, spec: &Value, name: &str, ctx: &Context) -> Vec<String> {
    match kind {
        Kind::Contact => typed(spec).map(|c| vec![contact::summary(&c, name, ctx)]),
        Kind::ClientPolicy => typed(spec).map(|p| vec![policy::summary(&p, ctx)]),
        Kind::Schedule => typed(spec).map(|s| schedule::summary(&s, ctx)),
        Kind::Escalation => typed(spec).map(|e| escalation::summary(&e, ctx)),
        Kind::Maintenance => typed(spec).map(|m| maintenance::summary(&m, ctx)),
    }
    .unwrap_or_default()
}

fn typed<T: DeserializeOwned>(spec: &Value) -> Option<T> {
    serde_json::from_value(spec.clone()).ok()
}

/// Names offered as choices, each shown as itself.
fn options(names: &[String]) -> Vec<(String, String)> {
    names.iter().map(|n| (n.clone(), n.clone())).collect()
}

/// Days as the forms send them (`mon`…`sun`).
fn day_names(days: &[Day]) -> Vec<String> {
    days.iter()
        .filter_map(|d| serde_json::to_value(d).ok()?.as_str().map(String::from))
        .collect()
}

/// Days in the reader's words, or "every day".
fn days_said(days: &[Day], lang: Lang) -> String {
    if days.is_empty() {
        return lang.t("form-every-day");
    }
    day_names(days)
        .iter()
        .map(|d| lang.t(&format!("day-{d}")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A weekly window from `prefix.days`, `prefix.from` and `prefix.to`.
fn window(sent: &Sent, prefix: &str, p: &mut Problems) -> Option<Window> {
    let days = sent
        .all(&format!("{prefix}.days"))
        .into_iter()
        .filter_map(|d| serde_json::from_value(Value::String(d.to_string())).ok())
        .collect();
    let from = p.required(sent, &format!("{prefix}.from"), read::time);
    let to = p.required(sent, &format!("{prefix}.to"), read::time);
    Some(Window {
        days,
        from: from?,
        to: to?,
    })
}

fn put_window(sent: &mut Sent, prefix: &str, window: &Window) {
    for day in day_names(&window.days) {
        sent.add(format!("{prefix}.days"), day);
    }
    sent.set(format!("{prefix}.from"), clock(window.from));
    sent.set(format!("{prefix}.to"), clock(window.to));
}

fn window_fields(l: &Layout, prefix: &str) -> Vec<Field> {
    vec![
        l.field(&format!("{prefix}.days"), "form-days", l.days()),
        l.field(&format!("{prefix}.from"), "form-from", Widget::Time),
        l.field(&format!("{prefix}.to"), "form-to", Widget::Time),
    ]
}

fn window_said(window: &Window, lang: Lang) -> String {
    format!(
        "{} {}–{}",
        days_said(&window.days, lang),
        clock(window.from),
        clock(window.to)
    )
}

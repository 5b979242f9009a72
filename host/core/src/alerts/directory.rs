//! Who is who: contacts, each client's policy (quiet hours, holidays, who is woken for
//! what), on-call schedules and escalation policies. These are the admin's words, kept as
//! given (the store holds each as JSON under its kind and name) and checked here, once,
//! with errors that name the field. Routing reads a [`Directory`] snapshot; nothing here
//! does I/O.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use reveille_sdk::parse_duration;
use serde::{Deserialize, Serialize};

use super::hours::{Window, check_windows};
use super::maintenance::Maintenance;
use super::oncall::Schedule;
use crate::contract::Severity;
use crate::i18n::Lang;
use crate::names::named;

/// The kinds of entries the directory holds; each is stored under its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Contact,
    ClientPolicy,
    Schedule,
    Escalation,
    Maintenance,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Contact => "contact",
            Kind::ClientPolicy => "client-policy",
            Kind::Schedule => "oncall-schedule",
            Kind::Escalation => "escalation-policy",
            Kind::Maintenance => "maintenance",
        }
    }
}

/// A person Reveille may write to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Their Telegram user id, which is also their private chat with the bot (they must
    /// send it /start once before it may write there).
    pub telegram_user_id: i64,
    /// A group to write to instead of the private chat (a team's chat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_chat_id: Option<i64>,
    /// A topic of that group, when it is a forum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<i64>,
}

impl Contact {
    pub fn check(&self) -> Result<(), String> {
        if self.telegram_user_id <= 0 {
            return Err("telegram_user_id: a Telegram user id is a positive number".into());
        }
        if self.thread_id.is_some() && self.group_chat_id.is_none() {
            return Err("thread_id: a topic needs group_chat_id, the forum it belongs to".into());
        }
        if matches!(self.group_chat_id, Some(id) if id >= 0) {
            return Err("group_chat_id: group chat ids are negative".into());
        }
        Ok(())
    }

    /// Where they are written to.
    pub fn destination(&self) -> Destination {
        match self.group_chat_id {
            Some(chat_id) => Destination {
                chat_id,
                thread_id: self.thread_id.unwrap_or(0),
            },
            None => Destination::chat(self.telegram_user_id),
        }
    }

    /// Whether the bot may write there: a group it was added to, or a private chat the
    /// person opened.
    pub fn reachable(&self, started: bool) -> bool {
        self.group_chat_id.is_some() || started
    }
}

/// A chat, or a topic of a forum group (`thread_id` 0: none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Destination {
    pub chat_id: i64,
    pub thread_id: i64,
}

impl Destination {
    pub fn chat(chat_id: i64) -> Destination {
        Destination {
            chat_id,
            thread_id: 0,
        }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.thread_id == 0 {
            write!(f, "Telegram chat {}", self.chat_id)
        } else {
            write!(f, "Telegram chat {} topic {}", self.chat_id, self.thread_id)
        }
    }
}

/// Who a destination is to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The installation's chat: its manager (and whoever shares the chat).
    Manager,
    /// The client's own administrator, when the client agreed to be contacted.
    Sysadmin,
    /// Receives `audience=sales` findings.
    Sales,
    /// Whoever the client's on-call schedule names.
    Oncall,
    /// Brought in by an escalation step.
    Escalation,
}

named!(Role, "role", {
    Manager => "manager",
    Sysadmin => "sysadmin",
    Sales => "sales",
    Oncall => "oncall",
    Escalation => "escalation",
});

/// What happens to a notice for a role at a given hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Send now, with sound.
    Wake,
    /// Send now, without sound (`disable_notification`).
    Silent,
    /// Keep it for the digest at the end of quiet hours.
    Hold,
}

/// What a rule is about: the severity, or the audience when a finding names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    Critical,
    Warning,
    Info,
    /// Findings labelled `audience=sales` (upsell signals), whatever their severity.
    Sales,
}

impl Class {
    pub fn of(severity: Severity, audience: Audience) -> Class {
        match (audience, severity) {
            (Audience::Sales, _) => Class::Sales,
            (_, Severity::Critical) => Class::Critical,
            (_, Severity::Warning) => Class::Warning,
            (_, Severity::Info) => Class::Info,
        }
    }
}

/// Who a finding is for, from its `audience` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    Support,
    Sales,
}

impl Audience {
    /// The label plugins write; anything but `sales` is for support.
    pub fn from_labels(labels: &[(String, String)]) -> Audience {
        if labels.iter().any(|(k, v)| k == "audience" && v == "sales") {
            Audience::Sales
        } else {
            Audience::Support
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Support => "support",
            Audience::Sales => "sales",
        }
    }
}

impl FromStr for Audience {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "support" => Ok(Audience::Support),
            "sales" => Ok(Audience::Sales),
            other => Err(format!("unknown audience `{other}`")),
        }
    }
}

/// Per class, what each role gets.
pub type Rules = BTreeMap<Class, BTreeMap<Role, Action>>;

/// A client's policy. Every field is optional; [`ClientPolicy::default`] is "no quiet
/// hours": everything goes to the manager's chat at once, as before policies existed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientPolicy {
    /// The clock quiet hours are read on; default: the installation's zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default)]
    pub quiet_hours: Vec<Window>,
    /// Whole quiet days.
    #[serde(default)]
    pub holidays: Vec<Date>,
    /// Seeded public-holiday calendars by country code (`ru`, `it`), on top of `holidays`.
    #[serde(default)]
    pub holiday_calendars: Vec<String>,
    /// When the morning digest goes out, if earlier than the end of quiet hours (e.g.
    /// 07:30, before users arrive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest_at: Option<Time>,
    /// A forum topic of the manager's chat to write in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager_thread_id: Option<i64>,
    /// The client's administrator (a contact name); written to only with consent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sysadmin: Option<String>,
    #[serde(default)]
    pub sysadmin_consent: bool,
    /// Who gets `audience=sales` findings (a contact name); default: the manager's chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales: Option<String>,
    /// The on-call schedule covering this client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oncall: Option<String>,
    /// The escalation policy for unacknowledged alerts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<String>,
    /// How long an acknowledgement lasts before a still-firing alert fires again; default
    /// `[alerts] ack_expires_after`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_expires_after: Option<String>,
    /// Working hours: what each role gets; default [`day_rules`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<Rules>,
    /// Quiet hours: what each role gets; default [`night_rules`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub night: Option<Rules>,
    /// The language its chats read, where a chat did not choose one (`/lang`); default
    /// `[telegram] language`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Lang>,
}

/// By day: support findings to the manager's chat, sales findings to sales.
pub fn day_rules() -> Rules {
    let manager = BTreeMap::from([(Role::Manager, Action::Wake)]);
    BTreeMap::from([
        (Class::Critical, manager.clone()),
        (Class::Warning, manager.clone()),
        (Class::Info, manager),
        (Class::Sales, BTreeMap::from([(Role::Sales, Action::Wake)])),
    ])
}

/// By night: critical wakes on-call and waits for the manager; everything else waits.
pub fn night_rules() -> Rules {
    let hold = |role| BTreeMap::from([(role, Action::Hold)]);
    BTreeMap::from([
        (
            Class::Critical,
            BTreeMap::from([(Role::Manager, Action::Hold), (Role::Oncall, Action::Wake)]),
        ),
        (Class::Warning, hold(Role::Manager)),
        (Class::Info, hold(Role::Manager)),
        (Class::Sales, hold(Role::Sales)),
    ])
}

impl ClientPolicy {
    /// The clock its hours and days are read on: its own zone, else `fallback` (the
    /// installation's).
    pub fn zone_or(&self, fallback: &TimeZone) -> TimeZone {
        self.timezone
            .as_deref()
            .and_then(|name| TimeZone::get(name).ok())
            .unwrap_or_else(|| fallback.clone())
    }

    /// Whether `date` is one of its holidays: listed, or in one of its calendars.
    pub fn is_holiday(&self, date: Date) -> bool {
        self.holidays.contains(&date)
            || self
                .holiday_calendars
                .iter()
                .any(|c| super::holidays::is_holiday(c, date))
    }

    /// Checks what serde cannot, against the rest of the directory; names the field.
    pub fn check(&self, directory: &Directory) -> Result<(), String> {
        if let Some(zone) = &self.timezone {
            TimeZone::get(zone)
                .map_err(|_| format!("timezone: `{zone}` is not an IANA time zone"))?;
        }
        check_windows(&self.quiet_hours)?;
        for code in &self.holiday_calendars {
            if !super::holidays::CALENDARS.contains(&code.as_str()) {
                return Err(format!(
                    "holiday_calendars: no seeded calendar `{code}` (there are: {})",
                    super::holidays::CALENDARS.join(", ")
                ));
            }
        }
        for (field, name) in [("sysadmin", &self.sysadmin), ("sales", &self.sales)] {
            if let Some(name) = name
                && !directory.contacts.contains_key(name)
            {
                return Err(format!("{field}: no contact `{name}`"));
            }
        }
        if self.sysadmin.is_some() && !self.sysadmin_consent {
            return Err(
                "sysadmin_consent: set it to true once the client agreed that its sysadmin be contacted"
                    .into(),
            );
        }
        if let Some(name) = &self.oncall
            && !directory.schedules.contains_key(name)
        {
            return Err(format!("oncall: no on-call schedule `{name}`"));
        }
        if let Some(name) = &self.escalation
            && !directory.escalations.contains_key(name)
        {
            return Err(format!("escalation: no escalation policy `{name}`"));
        }
        if let Some(text) = &self.ack_expires_after {
            parse_duration(text).map_err(|e| format!("ack_expires_after: {e}"))?;
        }
        Ok(())
    }
}

/// Who an escalation step brings in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Target {
    Contact(String),
    /// Whoever the schedule names at that moment.
    Oncall(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// How long after the previous step (or the firing) this one comes.
    pub after: String,
    pub to: Vec<Target>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationPolicy {
    pub steps: Vec<Step>,
    /// How many more times the chain runs after the first.
    #[serde(default)]
    pub repeat: u32,
    /// Which severities escalate; default critical only.
    #[serde(default = "critical_only")]
    pub severities: Vec<Severity>,
}

fn critical_only() -> Vec<Severity> {
    vec![Severity::Critical]
}

impl EscalationPolicy {
    pub fn check(&self, directory: &Directory) -> Result<(), String> {
        if self.steps.is_empty() {
            return Err("steps: an escalation policy needs at least one step".into());
        }
        for (i, step) in self.steps.iter().enumerate() {
            let delay =
                parse_duration(&step.after).map_err(|e| format!("steps[{i}].after: {e}"))?;
            if delay.is_zero() {
                return Err(format!("steps[{i}].after: must be longer than zero"));
            }
            if step.to.is_empty() {
                return Err(format!("steps[{i}].to: a step needs at least one target"));
            }
            for (j, target) in step.to.iter().enumerate() {
                match target {
                    Target::Contact(name) if !directory.contacts.contains_key(name) => {
                        return Err(format!("steps[{i}].to[{j}]: no contact `{name}`"));
                    }
                    Target::Oncall(name) if !directory.schedules.contains_key(name) => {
                        return Err(format!("steps[{i}].to[{j}]: no on-call schedule `{name}`"));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Step `n`'s delay in ms (steps are checked on the way in).
    pub fn delay(&self, n: usize) -> i64 {
        self.steps
            .get(n % self.steps.len().max(1))
            .and_then(|s| parse_duration(&s.after).ok())
            .map_or(i64::MAX, |d| d.as_millis() as i64)
    }
}

/// A contact and whether they opened their private chat with the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub contact: Contact,
    pub started: bool,
}

/// The whole directory, as routing needs it at one moment.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub contacts: BTreeMap<String, Person>,
    pub policies: BTreeMap<String, ClientPolicy>,
    pub schedules: BTreeMap<String, Schedule>,
    pub escalations: BTreeMap<String, EscalationPolicy>,
    pub maintenance: BTreeMap<String, Maintenance>,
    /// `[alerts] ack_expires_after`, in ms; `None`: acknowledgements do not expire.
    pub ack_expires_after: Option<i64>,
}

impl Directory {
    /// Checks an entry of `kind` given as JSON, as it would be stored under `name`.
    pub fn check_entry(&self, kind: Kind, json: &serde_json::Value) -> Result<(), String> {
        fn parsed<T: serde::de::DeserializeOwned>(json: &serde_json::Value) -> Result<T, String> {
            serde_path_to_error::deserialize(json).map_err(|e| match e.path().to_string() {
                path if path == "." => e.inner().to_string(),
                path => format!("{path}: {}", e.inner()),
            })
        }
        match kind {
            Kind::Contact => parsed::<Contact>(json)?.check(),
            Kind::ClientPolicy => parsed::<ClientPolicy>(json)?.check(self),
            Kind::Schedule => {
                let schedule: Schedule = parsed(json)?;
                schedule.check()?;
                for (i, name) in schedule.contacts.iter().enumerate() {
                    if !self.contacts.contains_key(name) {
                        return Err(format!("contacts[{i}]: no contact `{name}`"));
                    }
                }
                for (i, o) in schedule.overrides.iter().enumerate() {
                    if !self.contacts.contains_key(&o.contact) {
                        return Err(format!(
                            "overrides[{i}].contact: no contact `{}`",
                            o.contact
                        ));
                    }
                }
                Ok(())
            }
            Kind::Escalation => parsed::<EscalationPolicy>(json)?.check(self),
            Kind::Maintenance => parsed::<Maintenance>(json)?.check(),
        }
    }

    /// Who refers to the entry `name` of `kind` (which therefore cannot be deleted).
    pub fn users_of(&self, kind: Kind, name: &str) -> Vec<String> {
        let mut users = Vec::new();
        for (client, p) in &self.policies {
            let uses = match kind {
                Kind::Contact => {
                    p.sysadmin.as_deref() == Some(name) || p.sales.as_deref() == Some(name)
                }
                Kind::Schedule => p.oncall.as_deref() == Some(name),
                Kind::Escalation => p.escalation.as_deref() == Some(name),
                Kind::ClientPolicy | Kind::Maintenance => false,
            };
            if uses {
                users.push(format!("the policy of client `{client}`"));
            }
        }
        if kind == Kind::Contact {
            for (schedule, s) in &self.schedules {
                if s.contacts.iter().any(|c| c == name)
                    || s.overrides.iter().any(|o| o.contact == name)
                {
                    users.push(format!("on-call schedule `{schedule}`"));
                }
            }
        }
        for (policy, e) in &self.escalations {
            let uses = e.steps.iter().flat_map(|s| &s.to).any(|t| match (kind, t) {
                (Kind::Contact, Target::Contact(n)) | (Kind::Schedule, Target::Oncall(n)) => {
                    n == name
                }
                _ => false,
            });
            if uses {
                users.push(format!("escalation policy `{policy}`"));
            }
        }
        users
    }
}

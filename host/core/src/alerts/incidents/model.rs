//! What an incident is: its states, its members and chats, and the one shape every
//! decision about it takes (`IncidentDecision`), applied by the store at a version.

use std::borrow::Borrow;

use serde::Serialize;

use crate::alerts::directory::{Destination, Role};
use crate::alerts::model::{Alert, Event, acted_on};
use crate::alerts::routing::{NewDestination, Notice};
use crate::alerts::{AlertState, NoticeKind};
use crate::contract::Severity;
use crate::contract::Translations;
use crate::i18n::Lang;
use crate::names::named;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentState {
    Firing,
    Acknowledged,
    Snoozed,
    /// The parent is back; its children still down are being probed again.
    Rechecking,
    Resolved,
}

named!(IncidentState, "incident state", {
    Firing => "firing",
    Acknowledged => "acknowledged",
    Snoozed => "snoozed",
    Rechecking => "rechecking",
    Resolved => "resolved",
});

acted_on!(Incident, "incident", IncidentState);

/// An incident as it is kept and shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    pub id: i64,
    pub cause: String,
    pub parent: Option<String>,
    pub plugin: String,
    pub severity: Severity,
    pub state: IncidentState,
    pub opened_at: i64,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<String>,
    pub snoozed_until: Option<i64>,
    pub recheck_until: Option<i64>,
    /// Escalation steps taken so far, and when the next is due (by the policy of its
    /// first installation's client).
    pub escalation_step: i64,
    pub escalate_at: Option<i64>,
    pub resolved_at: Option<i64>,
    #[serde(skip)]
    pub shown: String,
    #[serde(skip)]
    pub version: i64,
    pub members: Vec<Member>,
    pub destinations: Vec<IncidentDestination>,
    /// What people said during it, oldest first.
    pub updates: Vec<Update>,
}

/// One alert of an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub alert_id: i64,
    pub installation_id: String,
    pub client: String,
    pub manager: String,
    pub summary: String,
    pub translations: Translations,
    pub state: AlertState,
    pub first_seen_at: i64,
    pub resolved_at: Option<i64>,
    /// Still down after the incident ended: an alert of its own since.
    pub on_its_own: bool,
}

impl Member {
    /// The summary a reader of `lang` is shown.
    pub fn summary_in(&self, lang: impl Borrow<Lang>) -> &str {
        self.translations
            .summary(lang.borrow().code(), &self.summary)
    }

    pub fn is_down(&self) -> bool {
        self.state != AlertState::Resolved
    }

    /// Told only through its incident, so it takes the incident's state when a person
    /// acts on the incident; one released to be an alert of its own keeps its own.
    fn follows(&self) -> bool {
        !self.on_its_own && !matches!(self.state, AlertState::Resolved | AlertState::Pending)
    }
}

/// Members that take the incident's new state (its clock, not theirs: no expiry of their
/// own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Follow {
    pub state: AlertState,
    pub alerts: Vec<i64>,
}

impl Follow {
    /// `incident`'s members that follow it into `state`, if any.
    pub(super) fn of(incident: &Incident, state: AlertState) -> Option<Follow> {
        let alerts: Vec<i64> = incident
            .members
            .iter()
            .filter(|m| m.follows())
            .map(|m| m.alert_id)
            .collect();
        (!alerts.is_empty()).then_some(Follow { state, alerts })
    }
}

/// One chat with a living message about the incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentDestination {
    pub chat_id: i64,
    pub thread_id: i64,
    pub role: Role,
    pub contact: Option<String>,
    pub message_id: Option<i64>,
    pub silent: bool,
}

impl IncidentDestination {
    pub fn to(&self) -> Destination {
        Destination {
            chat_id: self.chat_id,
            thread_id: self.thread_id,
        }
    }
}

/// Something a person said during the incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Update {
    pub at: i64,
    pub by: Option<String>,
    pub text: String,
    pub reach: Reach,
}

/// Who reads an incident update (in the API's JSON: `staff` or `clients`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reach {
    /// The distributor's people, on every card and in the timeline.
    #[default]
    Staff,
    /// Also the affected clients, on their status pages.
    Clients,
}

impl Incident {
    /// One alert seen as an incident of one installation, so that what is written about
    /// incidents (the post-mortem) is written the same way about a critical alert.
    pub fn of_alert(alert: &Alert) -> Incident {
        let state = match alert.state {
            AlertState::Resolved => IncidentState::Resolved,
            AlertState::Acknowledged => IncidentState::Acknowledged,
            AlertState::Snoozed => IncidentState::Snoozed,
            AlertState::Pending | AlertState::Firing => IncidentState::Firing,
        };
        Incident {
            id: alert.id,
            cause: format!("alert:{}", alert.id),
            parent: None,
            plugin: alert.plugin.clone(),
            severity: alert.severity,
            state,
            opened_at: alert.fired_at.unwrap_or(alert.first_seen_at),
            acknowledged_at: alert.acknowledged_at,
            acknowledged_by: alert.acknowledged_by.clone(),
            snoozed_until: alert.snoozed_until,
            recheck_until: None,
            escalation_step: alert.escalation_step,
            escalate_at: alert.escalate_at,
            resolved_at: alert.resolved_at,
            shown: String::new(),
            version: alert.version,
            members: vec![Member {
                alert_id: alert.id,
                installation_id: alert.installation_id.clone(),
                client: alert.client.clone(),
                manager: alert.manager.clone(),
                summary: alert.summary.clone(),
                translations: alert.translations.clone(),
                state: alert.state,
                first_seen_at: alert.first_seen_at,
                resolved_at: alert.resolved_at,
                on_its_own: true,
            }],
            destinations: alert
                .destinations
                .iter()
                .map(|d| IncidentDestination {
                    chat_id: d.chat_id,
                    thread_id: d.thread_id,
                    role: d.role,
                    contact: d.contact.clone(),
                    message_id: d.message_id,
                    silent: false,
                })
                .collect(),
            updates: Vec::new(),
        }
    }

    pub fn back(&self) -> usize {
        self.members.iter().filter(|m| !m.is_down()).count()
    }

    pub fn down(&self) -> usize {
        self.members.len() - self.back()
    }

    /// Distinct clients, in the order they joined.
    pub fn clients(&self) -> Vec<&str> {
        let mut clients: Vec<&str> = Vec::new();
        for m in &self.members {
            if !clients.contains(&m.client.as_str()) {
                clients.push(&m.client);
            }
        }
        clients
    }

    pub fn message_in(&self, to: Destination) -> Option<i64> {
        self.destinations
            .iter()
            .find(|d| d.to() == to)
            .and_then(|d| d.message_id)
    }

    /// What happened, in a few words: "redirect-1 is failing", "redirect-down on 30
    /// installations".
    pub fn what(&self, lang: Lang) -> String {
        match &self.parent {
            Some(parent) => lang.t_with("incident-parent", &[("parent", parent.as_str().into())]),
            None => lang.t_with(
                "incident-check",
                &[
                    ("plugin", self.plugin.as_str().into()),
                    ("n", self.members.len().into()),
                ],
            ),
        }
    }

    /// What its living messages show; they are edited only when this changes.
    pub fn fingerprint(&self) -> String {
        self.fingerprint_with(self.state, self.acknowledged_by.as_deref(), 0)
    }

    /// What they will show in `state`, taken by `by`, with `said` more updates.
    pub(super) fn fingerprint_with(
        &self,
        state: IncidentState,
        by: Option<&str>,
        said: usize,
    ) -> String {
        format!(
            "{}:{}:{}:{}:{}",
            state.as_str(),
            self.members.len(),
            self.back(),
            self.updates.len() + said,
            by.unwrap_or("")
        )
    }

    /// A notice of `kind` for every chat with a card.
    pub(super) fn to_every_card(&self, kind: NoticeKind) -> impl Iterator<Item = Notice> + '_ {
        self.destinations
            .iter()
            .map(move |dest| notice(kind, dest.to(), dest.silent))
    }
}

/// The columns an incident decision changes, as they are to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFields {
    pub state: IncidentState,
    pub severity: Severity,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<String>,
    pub snoozed_until: Option<i64>,
    pub recheck_until: Option<i64>,
    pub escalation_step: i64,
    pub escalate_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub shown: String,
}

impl IncidentFields {
    pub(super) fn of(incident: &Incident) -> IncidentFields {
        IncidentFields {
            state: incident.state,
            severity: incident.severity,
            acknowledged_at: incident.acknowledged_at,
            acknowledged_by: incident.acknowledged_by.clone(),
            snoozed_until: incident.snoozed_until,
            recheck_until: incident.recheck_until,
            escalation_step: incident.escalation_step,
            escalate_at: incident.escalate_at,
            resolved_at: incident.resolved_at,
            shown: incident.shown.clone(),
        }
    }
}

/// Which incident a decision is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    New {
        cause: String,
        parent: Option<String>,
        plugin: String,
    },
    /// An existing one, at the version it was read.
    Existing { id: i64, version: i64 },
}

/// What the store applies to one incident, in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentDecision {
    pub target: Target,
    pub fields: IncidentFields,
    /// Waiting alerts that become members (and are never sent on their own).
    pub attach: Vec<i64>,
    /// Members whose state follows the incident's (acknowledged or snoozed by a person).
    pub members_follow: Option<Follow>,
    pub destinations: Vec<(NewDestination, bool)>,
    pub notices: Vec<Notice>,
    pub events: Vec<Event>,
    /// Members still down when it ended: to be announced as alerts of their own.
    pub release: Vec<i64>,
    /// Installations to probe again now.
    pub reprobe: Vec<String>,
}

impl IncidentDecision {
    pub(super) fn on(incident: &Incident) -> IncidentDecision {
        IncidentDecision {
            target: Target::Existing {
                id: incident.id,
                version: incident.version,
            },
            fields: IncidentFields::of(incident),
            attach: Vec::new(),
            members_follow: None,
            destinations: Vec::new(),
            notices: Vec::new(),
            events: Vec::new(),
            release: Vec::new(),
            reprobe: Vec::new(),
        }
    }

    /// Whether applying it changes anything.
    pub fn is_empty(&self) -> bool {
        matches!(self.target, Target::Existing { .. })
            && self.attach.is_empty()
            && self.notices.is_empty()
            && self.events.is_empty()
            && self.members_follow.is_none()
    }
}

/// A notice to `to`, sent at once.
pub(super) fn notice(kind: NoticeKind, to: Destination, silent: bool) -> Notice {
    Notice {
        kind,
        to,
        silent,
        held_until: None,
    }
}

//! An alert as it is kept and shown, its destinations, and its timeline: the types every
//! part reads, written and parsed here only.

use std::borrow::Borrow;

use serde::Serialize;

use super::AlertState;
use super::detail::Detail;
use super::directory::{Audience, Destination, Role};
use super::routing::{Known, Subject};
use crate::contract::Severity;
use crate::contract::Translations;
use crate::fleet::Installation;
use crate::i18n::Lang;
use crate::names::named;

/// An alert as the API and the notifications show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub id: i64,
    pub installation_id: String,
    pub client: String,
    pub manager: String,
    pub plugin: String,
    pub key: String,
    pub severity: Severity,
    pub audience: Audience,
    /// In the plugin's own language; [`Alert::summary_in`] gives a reader's.
    pub summary: String,
    pub details: String,
    pub translations: Translations,
    pub state: AlertState,
    /// The installation's chat (the manager's), where `/alerts` lists it.
    pub chat_id: i64,
    pub first_seen_at: i64,
    pub fired_at: Option<i64>,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<String>,
    /// When the acknowledgement runs out and a still-firing alert fires again.
    pub ack_expires_at: Option<i64>,
    pub snoozed_until: Option<i64>,
    /// Escalation steps taken so far, and when the next is due.
    pub escalation_step: i64,
    pub escalate_at: Option<i64>,
    /// The latest escalation: to whom, when.
    pub escalated_to: Option<String>,
    pub escalated_at: Option<i64>,
    /// Kept quiet by a maintenance window: when it is announced if it still fires.
    pub announce_at: Option<i64>,
    /// The installation's story it belongs to: the alert that was open first when this one
    /// opened (its own id when none was). Its messages reply in that alert's thread.
    pub story_id: i64,
    /// What it may share with other installations' alerts (set while it waits to see, and
    /// kept), and the incident it belongs to.
    pub cause: Option<String>,
    pub incident_id: Option<i64>,
    /// Opened as flapping (its key came and went too often): it resolves only after a
    /// quiet while.
    pub flapping: bool,
    /// Opened by a late report and not concluded yet (see `alerts::backlog`): nobody has
    /// been told.
    pub late: bool,
    pub resolved_at: Option<i64>,
    pub resolution: Option<String>,
    pub updated_at: i64,
    /// Bumped by every change a person or time makes; a decision applies only to the
    /// version it was made on.
    #[serde(skip)]
    pub version: i64,
    /// Every chat that has (or will have) a living message about it.
    pub destinations: Vec<AlertDestination>,
}

impl Alert {
    /// Sent by an administrator to try the way to people (`alerts::test`).
    pub fn is_test(&self) -> bool {
        self.plugin == super::test::CHECK
    }

    /// The summary a reader of `lang` is shown: the plugin's words in that language, else
    /// its own.
    pub fn summary_in(&self, lang: impl Borrow<Lang>) -> &str {
        self.translations
            .summary(lang.borrow().code(), &self.summary)
    }

    /// The details a reader of `lang` is shown.
    pub fn details_in(&self, lang: impl Borrow<Lang>) -> &str {
        self.translations
            .details(lang.borrow().code(), &self.details)
    }

    /// The alert as routing sees it.
    pub fn subject<'a>(&'a self, installation: Option<&'a Installation>) -> Subject<'a> {
        Subject {
            installation: &self.installation_id,
            client: &self.client,
            parent: installation.and_then(|i| i.parent.as_deref()),
            plugin: &self.plugin,
            zone: installation.map_or(jiff::tz::TimeZone::UTC, Installation::time_zone),
            manager_chat: self.chat_id,
            severity: self.severity,
            audience: self.audience,
        }
    }

    /// Its destinations as routing knows them.
    pub fn known(&self) -> Vec<Known> {
        self.destinations
            .iter()
            .map(AlertDestination::known)
            .collect()
    }

    /// Its living message in `to`, once sent.
    pub fn message_in(&self, to: Destination) -> Option<i64> {
        self.destinations
            .iter()
            .find(|d| d.to() == to)
            .and_then(|d| d.message_id)
    }

    pub fn is_open(&self) -> bool {
        self.state != AlertState::Resolved
    }

    /// Waiting to learn whether other installations share its cause: until the incidents'
    /// review groups it or lets it go alone (`incidents::review`), time leaves its
    /// announcement to them.
    pub fn awaits_company(&self) -> bool {
        self.cause.is_some() && self.incident_id.is_none()
    }
}

/// One chat an alert is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertDestination {
    pub chat_id: i64,
    /// A forum topic; 0 for none.
    pub thread_id: i64,
    pub role: Role,
    pub contact: Option<String>,
    pub message_id: Option<i64>,
    /// Held for the digest due then.
    pub held_until: Option<i64>,
    pub added_at: i64,
}

impl AlertDestination {
    pub fn to(&self) -> Destination {
        Destination {
            chat_id: self.chat_id,
            thread_id: self.thread_id,
        }
    }

    pub fn known(&self) -> Known {
        Known {
            to: self.to(),
            role: self.role,
            held: self.held_until.is_some(),
        }
    }
}

/// What a person acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    Alert(i64),
    Incident(i64),
}

/// What people acting on an alert or an incident are told of it, in the words the two
/// share: the answers of the API, the board and the bot are written once for both.
pub trait ActedOn {
    /// `alert` or `incident`, as the API's answers and the catalogue's keys name it.
    const NOUN: &'static str;
    /// Its state's name, as the API says it.
    fn state_name(&self) -> &'static str;
    fn standing(&self) -> Standing<'_>;
}

/// How an alert or an incident stands, as far as acting on it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing<'a> {
    Resolved,
    /// Acknowledged, by whom if known.
    Taken(Option<&'a str>),
    Snoozed,
    /// Any other state, by its name.
    Other(&'static str),
}

/// [`ActedOn`] for a type with a `state` whose enum has `Resolved`, `Acknowledged` and
/// `Snoozed` (and `as_str`), and `acknowledged_by`: alerts and incidents, whose states
/// differ elsewhere but not here.
macro_rules! acted_on {
    ($subject:ty, $noun:literal, $state:ident) => {
        impl $crate::alerts::ActedOn for $subject {
            const NOUN: &'static str = $noun;

            fn state_name(&self) -> &'static str {
                self.state.as_str()
            }

            fn standing(&self) -> $crate::alerts::Standing<'_> {
                use $crate::alerts::Standing;
                match self.state {
                    $state::Resolved => Standing::Resolved,
                    $state::Acknowledged => Standing::Taken(self.acknowledged_by.as_deref()),
                    $state::Snoozed => Standing::Snoozed,
                    state => Standing::Other(state.as_str()),
                }
            }
        }
    };
}
pub(crate) use acted_on;

acted_on!(Alert, "alert", AlertState);

/// Who acted, by name: an actor is stored with the channel it came by (" (web)",
/// " (API)", Telegram's " (@user, id 501)"), which people and client reports need not
/// read. Only a channel we wrote goes: a name with brackets of its own stays whole.
pub fn who(actor: &str) -> &str {
    let Some((name, rest)) = actor.rsplit_once(" (") else {
        return actor;
    };
    let channel = rest.strip_suffix(')').unwrap_or_default();
    let id = |text: &str| {
        text.strip_prefix("id ")
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    };
    let known = channel == "web"
        || channel == "API"
        || id(channel)
        || channel
            .strip_prefix('@')
            .and_then(|c| c.split_once(", "))
            .is_some_and(|(_, rest)| id(rest));
    if known { name } else { actor }
}

/// One entry of an alert's timeline. The API gives its detail in English, in UTC, as it
/// always has, and as data under `said`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertEvent {
    pub at: i64,
    pub kind: EventKind,
    pub actor: Option<String>,
    pub detail: Detail,
}

impl Serialize for AlertEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut entry = serializer.serialize_struct("AlertEvent", 5)?;
        entry.serialize_field("at", &self.at)?;
        entry.serialize_field("kind", &self.kind)?;
        entry.serialize_field("actor", &self.actor)?;
        entry.serialize_field(
            "detail",
            &self.detail.words(Lang::En, &jiff::tz::TimeZone::UTC),
        )?;
        entry.serialize_field("said", &self.detail)?;
        entry.end()
    }
}

/// What a timeline entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Pending,
    Fired,
    Changed,
    Resolved,
    Acknowledged,
    Snoozed,
    SnoozeEnded,
    AckExpired,
    Escalated,
    /// A notice kept for a destination's morning digest.
    Held,
    /// Shown in a destination's morning digest.
    Digested,
    /// Could not be routed somewhere (a contact who never opened a chat).
    Unroutable,
    /// Not announced: a maintenance window covers it.
    Silenced,
    /// Announced after the maintenance window that kept it quiet ended, or after waiting
    /// for others with its cause found none (or its incident ended with it still firing).
    Announced,
    /// Waiting a moment for other installations with the same cause.
    Waiting,
    /// Opened as flapping: its key came and went too often lately.
    Flapping,
    /// Opened by a report its agent sent late: history, told nobody until the backlog is
    /// concluded.
    Late,
    /// Members joined an incident (in the incident's timeline), or this alert joined one.
    Joined,
    /// The incident's cause went away; its members still down are probed again.
    Rechecking,
    /// What a person said during an incident.
    Update,
    /// A post-mortem section was written.
    Postmortem,
    Notified,
    DeliveryDelayed,
    DeliveryFailed,
    /// An attempt to deliver was cut off (the node died or lost the database) after the
    /// call may have reached Telegram; it is made again, so a new message may arrive twice.
    DeliveryInterrupted,
    /// A button press by someone not allowed to act.
    Refused,
}

named!(EventKind, "timeline event kind", {
    Pending => "pending",
    Fired => "fired",
    Changed => "changed",
    Resolved => "resolved",
    Acknowledged => "acknowledged",
    Snoozed => "snoozed",
    SnoozeEnded => "snooze-ended",
    AckExpired => "ack-expired",
    Escalated => "escalated",
    Held => "held",
    Digested => "digested",
    Unroutable => "unroutable",
    Silenced => "silenced",
    Announced => "announced",
    Waiting => "waiting",
    Flapping => "flapping",
    Late => "late",
    Joined => "joined",
    Rechecking => "rechecking",
    Update => "update",
    Postmortem => "postmortem",
    Notified => "notified",
    DeliveryDelayed => "delivery-delayed",
    DeliveryFailed => "delivery-failed",
    DeliveryInterrupted => "delivery-interrupted",
    Refused => "refused",
});

/// A timeline entry a decision owes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub actor: Option<String>,
    pub detail: Detail,
}

impl Event {
    pub fn new(kind: EventKind, detail: Detail) -> Event {
        Event {
            kind,
            actor: None,
            detail,
        }
    }

    pub fn by(mut self, actor: &str) -> Event {
        self.actor = Some(actor.to_string());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// People are shown by name; the channel the store keeps beside it goes, and only a
    /// channel we wrote: a name with brackets of its own stays whole.
    #[test]
    fn who_acted_is_shown_by_name() {
        for (actor, name) in [
            ("admin (web)", "admin"),
            ("Petrov (API)", "Petrov"),
            ("Пётр Сидоров (@sidorov, id 501)", "Пётр Сидоров"),
            ("Mallory (id 666)", "Mallory"),
            ("Petrov (night shift)", "Petrov (night shift)"),
            ("Ivanov (id x)", "Ivanov (id x)"),
            ("plain", "plain"),
        ] {
            assert_eq!(who(actor), name, "{actor}");
        }
    }
}

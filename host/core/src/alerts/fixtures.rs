//! What the alerts' unit tests build on: an alert, the subject it is about, an incident
//! and its members.

use jiff::tz::TimeZone;

use super::AlertState;
use super::directory::{
    Audience, ClientPolicy, Contact, Directory, EscalationPolicy, Person, Role, Step, Target,
};
use super::incidents::{Incident, IncidentDestination, IncidentState, Member};
use super::model::Alert;
use super::routing::Subject;
use crate::contract::Severity;

/// A critical alert in `state` of installation `i` (client `C`, chat -100), at time 0,
/// version 3, nobody told yet: tests change what they are about.
pub fn alert(state: AlertState) -> Alert {
    Alert {
        id: 1,
        installation_id: "i".into(),
        client: "C".into(),
        manager: "m".into(),
        plugin: "p".into(),
        key: "k".into(),
        severity: Severity::Critical,
        audience: Audience::Support,
        summary: "down".into(),
        details: String::new(),
        translations: Default::default(),
        state,
        chat_id: -100,
        first_seen_at: 0,
        fired_at: Some(0),
        acknowledged_at: None,
        acknowledged_by: None,
        ack_expires_at: None,
        snoozed_until: None,
        escalation_step: 0,
        escalate_at: None,
        escalated_to: None,
        escalated_at: None,
        announce_at: None,
        story_id: 1,
        cause: None,
        incident_id: None,
        flapping: false,
        late: false,
        resolved_at: None,
        resolution: None,
        updated_at: 0,
        version: 3,
        destinations: Vec::new(),
    }
}

/// A directory in which `client`'s critical alerts escalate after 15 minutes to petrov
/// (user 501, who pressed Start), once.
pub fn escalating(client: &str) -> Directory {
    let mut directory = Directory::default();
    directory.contacts.insert(
        "petrov".into(),
        Person {
            contact: Contact {
                telegram_user_id: 501,
                group_chat_id: None,
                thread_id: None,
            },
            started: true,
        },
    );
    directory.escalations.insert(
        "e".into(),
        EscalationPolicy {
            steps: vec![Step {
                after: "15m".into(),
                to: vec![Target::Contact("petrov".into())],
            }],
            repeat: 0,
            severities: vec![Severity::Critical],
        },
    );
    directory.policies.insert(
        client.into(),
        ClientPolicy {
            escalation: Some("e".into()),
            ..ClientPolicy::default()
        },
    );
    directory
}

/// Installation `i` of client `C`, plugin `p`, in UTC, its chat -100.
pub fn subject(severity: Severity) -> Subject<'static> {
    Subject {
        installation: "i",
        client: "C",
        parent: None,
        plugin: "p",
        zone: TimeZone::UTC,
        manager_chat: -100,
        severity,
        audience: Audience::Support,
    }
}

/// A firing incident #9 behind `redirect-1`, version 3, with one chat (-1) holding its
/// card, showing what it is.
pub fn incident(members: Vec<Member>) -> Incident {
    let mut i = Incident {
        id: 9,
        cause: "parent:redirect-1".into(),
        parent: Some("redirect-1".into()),
        plugin: "redirect-down".into(),
        severity: Severity::Critical,
        state: IncidentState::Firing,
        opened_at: 0,
        acknowledged_at: None,
        acknowledged_by: None,
        snoozed_until: None,
        recheck_until: None,
        escalation_step: 0,
        escalate_at: None,
        resolved_at: None,
        shown: String::new(),
        version: 3,
        members,
        destinations: vec![IncidentDestination {
            chat_id: -1,
            thread_id: 0,
            role: Role::Manager,
            contact: None,
            message_id: Some(5),
            silent: false,
        }],
        updates: Vec::new(),
    };
    i.shown = i.fingerprint();
    i
}

/// Member alert `id` of installation `i{id}`, firing while `down`, resolved otherwise.
pub fn member(id: i64, down: bool) -> Member {
    Member {
        alert_id: id,
        installation_id: format!("i{id}"),
        client: "c".into(),
        manager: "m".into(),
        summary: "s".into(),
        translations: Default::default(),
        state: if down {
            AlertState::Firing
        } else {
            AlertState::Resolved
        },
        first_seen_at: 0,
        resolved_at: None,
        on_its_own: false,
    }
}

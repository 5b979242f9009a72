//! What people and time do to an alert: acknowledge, snooze, an acknowledgement or snooze
//! running out, an escalation step coming due, a morning digest. Each is decided here from
//! the alert as it was read, as a [`Decision`] the store applies only if the alert is still
//! that version, with the notices it owes, in one transaction.

use super::detail::{Detail, Kept, Whom};
use super::directory::{Destination, Role};
use super::model::{Alert, Event, EventKind};
use super::routing::{NewDestination, Notice, Routing, Subject, Targets};
use super::{AlertState, NoticeKind};

/// The columns people and time change, as they are to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    pub state: AlertState,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<String>,
    pub ack_expires_at: Option<i64>,
    pub snoozed_until: Option<i64>,
    pub escalation_step: i64,
    pub escalate_at: Option<i64>,
    pub escalated_to: Option<String>,
    pub escalated_at: Option<i64>,
    pub announce_at: Option<i64>,
}

impl Fields {
    pub fn of(alert: &Alert) -> Fields {
        Fields {
            state: alert.state,
            acknowledged_at: alert.acknowledged_at,
            acknowledged_by: alert.acknowledged_by.clone(),
            ack_expires_at: alert.ack_expires_at,
            snoozed_until: alert.snoozed_until,
            escalation_step: alert.escalation_step,
            escalate_at: alert.escalate_at,
            escalated_to: alert.escalated_to.clone(),
            escalated_at: alert.escalated_at,
            announce_at: alert.announce_at,
        }
    }
}

/// A change to one alert, to apply only to the version it was decided on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub id: i64,
    pub version: i64,
    pub fields: Fields,
    pub events: Vec<Event>,
    pub destinations: Vec<NewDestination>,
    pub notices: Vec<Notice>,
}

impl Decision {
    fn new(alert: &Alert, fields: Fields, event: Event) -> Decision {
        Decision {
            id: alert.id,
            version: alert.version,
            fields,
            events: vec![event],
            destinations: Vec::new(),
            notices: Vec::new(),
        }
    }
}

/// What the living message must now show, everywhere it is.
const REFRESH: &[NoticeKind] = &[NoticeKind::Refresh];
/// It fires again: the message shows it, and a reply makes the chat ring where the role
/// is woken now.
const REFIRE: &[NoticeKind] = &[NoticeKind::Refresh, NoticeKind::Reminder];

/// `firing` or `snoozed` → `acknowledged` by `by`, until its acknowledgement expires.
/// `None`: the alert is in no state to be acknowledged.
pub fn acknowledge(
    alert: &Alert,
    subject: &Subject,
    by: &str,
    routing: &Routing,
) -> Option<Decision> {
    if !matches!(alert.state, AlertState::Firing | AlertState::Snoozed) {
        return None;
    }
    let expires = routing.ack_expires_at(subject);
    let fields = Fields {
        state: AlertState::Acknowledged,
        acknowledged_at: Some(routing.now),
        acknowledged_by: Some(by.to_string()),
        ack_expires_at: expires,
        snoozed_until: None,
        escalate_at: None,
        ..Fields::of(alert)
    };
    let detail = Detail::For {
        ms: expires.map(|at| at - routing.now),
        members: false,
    };
    let mut decision = Decision::new(
        alert,
        fields,
        Event::new(EventKind::Acknowledged, detail).by(by),
    );
    decision.notices = routing.follow(subject, &alert.known(), REFRESH);
    Some(decision)
}

/// Any notified open state → `snoozed` until `until` by `by`.
pub fn snooze(
    alert: &Alert,
    subject: &Subject,
    by: &str,
    until: i64,
    routing: &Routing,
) -> Option<Decision> {
    if !matches!(
        alert.state,
        AlertState::Firing | AlertState::Acknowledged | AlertState::Snoozed
    ) {
        return None;
    }
    let fields = Fields {
        state: AlertState::Snoozed,
        acknowledged_by: Some(by.to_string()),
        ack_expires_at: None,
        snoozed_until: Some(until),
        escalate_at: None,
        ..Fields::of(alert)
    };
    let detail = Detail::For {
        ms: Some(until - routing.now),
        members: false,
    };
    let mut decision = Decision::new(alert, fields, Event::new(EventKind::Snoozed, detail).by(by));
    decision.notices = routing.follow(subject, &alert.known(), REFRESH);
    Some(decision)
}

/// What time does to the alert now, if anything: a snooze or acknowledgement that ran
/// out makes it fire again (and escalate again); an escalation step that came due brings
/// in its targets; an alert kept quiet is announced once its time comes, unless it waits
/// for company (then the incidents decide).
pub fn due(alert: &Alert, subject: &Subject, routing: &Routing) -> Option<Decision> {
    let now = routing.now;
    let passed = |at: Option<i64>| at.is_some_and(|at| at <= now);
    match alert.state {
        AlertState::Snoozed if passed(alert.snoozed_until) => {
            Some(refire(alert, subject, routing, EventKind::SnoozeEnded))
        }
        AlertState::Acknowledged if passed(alert.ack_expires_at) => {
            Some(refire(alert, subject, routing, EventKind::AckExpired))
        }
        AlertState::Firing if passed(alert.announce_at) && !alert.awaits_company() => {
            Some(announce(alert, subject, routing, Kept::Maintenance))
        }
        AlertState::Firing if passed(alert.escalate_at) => Some(escalate(alert, subject, routing)),
        _ => None,
    }
}

fn refire(alert: &Alert, subject: &Subject, routing: &Routing, why: EventKind) -> Decision {
    let fields = Fields {
        state: AlertState::Firing,
        acknowledged_at: None,
        acknowledged_by: None,
        ack_expires_at: None,
        snoozed_until: None,
        escalation_step: 0,
        escalate_at: routing.escalation_start(subject),
        ..Fields::of(alert)
    };
    let mut decision = Decision::new(alert, fields, Event::new(why, Detail::StillHolds));
    decision.notices = routing.follow(subject, &alert.known(), REFIRE);
    decision
}

/// An alert nobody was told about is announced now, `why` (the maintenance window that kept
/// it quiet ended, nothing shares its cause, its incident ended with it still down),
/// unless a maintenance window covers it now.
pub fn announce(alert: &Alert, subject: &Subject, routing: &Routing, why: Kept) -> Decision {
    let firing = super::lifecycle::fire(routing, subject);
    let fields = Fields {
        announce_at: firing.announce_at,
        escalation_step: 0,
        escalate_at: firing.escalate_at,
        ..Fields::of(alert)
    };
    let why = if firing.announce_at.is_some() {
        Kept::MaintenanceCovers
    } else {
        why
    };
    let mut decision = Decision::new(
        alert,
        fields,
        Event::new(EventKind::Announced, Detail::Announced { why }),
    );
    decision.events.extend(firing.events);
    decision.destinations = firing.route.destinations;
    decision.notices = firing.route.notices;
    decision
}

fn escalate(alert: &Alert, subject: &Subject, routing: &Routing) -> Decision {
    let taken = alert.escalation_step;
    let Some((targets, next)) = routing.escalation_step(subject, taken) else {
        let fields = Fields {
            escalate_at: None,
            ..Fields::of(alert)
        };
        return Decision::new(
            alert,
            fields,
            Event::new(EventKind::Escalated, Detail::NoMoreSteps),
        );
    };
    // Already there and told: ring again. Held: it is sent now, with sound.
    let step = Step::of(targets, taken, |to| {
        alert
            .destinations
            .iter()
            .any(|d| d.to() == to && d.held_until.is_none())
    });
    let fields = Fields {
        escalation_step: taken + 1,
        escalate_at: next,
        escalated_to: step.names.clone().or(alert.escalated_to.clone()),
        escalated_at: step
            .names
            .as_ref()
            .map(|_| routing.now)
            .or(alert.escalated_at),
        ..Fields::of(alert)
    };
    let mut decision = Decision::new(alert, fields, step.event);
    decision.notices = routing.follow(subject, &alert.known(), REFRESH);
    decision.notices.extend(step.notices);
    decision.destinations = step.destinations;
    decision
}

/// What one escalation step does, for an alert or an incident: whom it names, its
/// timeline entry, the chats it brings in (a post each) and those it rings again.
pub struct Step {
    pub names: Option<String>,
    pub event: Event,
    pub destinations: Vec<NewDestination>,
    pub notices: Vec<Notice>,
}

impl Step {
    /// Step number `taken` (0 the first) bringing in `targets`; `told(to)`: that chat
    /// already has the living message, so it is rung rather than sent it.
    pub fn of(targets: Targets, taken: i64, told: impl Fn(Destination) -> bool) -> Step {
        let to = super::routing::names(&targets);
        let names = (!to.is_empty()).then(|| to.join(", "));
        let detail = Detail::Escalated {
            step: taken + 1,
            to,
        };
        let mut step = Step {
            names,
            event: Event::new(EventKind::Escalated, detail),
            destinations: Vec::new(),
            notices: Vec::new(),
        };
        for (to, contact) in targets {
            if told(to) {
                step.notices.push(ring(NoticeKind::Reminder, to));
            } else {
                step.destinations.push(NewDestination {
                    to,
                    role: Role::Escalation,
                    contact,
                    held_until: None,
                });
                step.notices.push(ring(NoticeKind::Post, to));
            }
        }
        step
    }
}

fn ring(kind: NoticeKind, to: Destination) -> Notice {
    Notice {
        kind,
        to,
        silent: false,
        held_until: None,
    }
}

/// A destination's morning digest: every alert held for it, listed once as it is now;
/// those still open then continue as their own living messages there (after the digest,
/// silently: the digest rang).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub to: Destination,
    /// Who that chat is, as the held alerts know it, for their timelines.
    pub whom: Whom,
    pub alerts: Vec<i64>,
    pub posts: Vec<(i64, Notice)>,
}

pub fn digest(to: Destination, held: &[Alert]) -> Digest {
    let whom = held
        .iter()
        .flat_map(|a| &a.destinations)
        .find(|d| d.to() == to)
        .map_or_else(
            || Whom::chat(to.chat_id),
            |d| Whom {
                chat: to.chat_id,
                role: Some(d.role),
                contact: d.contact.clone(),
            },
        );
    Digest {
        to,
        whom,
        alerts: held.iter().map(|a| a.id).collect(),
        posts: held
            .iter()
            .filter(|a| a.is_open())
            .map(|a| {
                (
                    a.id,
                    Notice {
                        kind: NoticeKind::Post,
                        to,
                        silent: true,
                        held_until: None,
                    },
                )
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::directory::Directory;
    use crate::alerts::fixtures;
    use crate::contract::Severity;

    const NOW: i64 = 1_800_000_000_000;
    const HOUR: i64 = 3_600_000;

    fn alert(state: AlertState) -> Alert {
        Alert {
            first_seen_at: NOW - HOUR,
            fired_at: Some(NOW - HOUR),
            updated_at: NOW - HOUR,
            ..fixtures::alert(state)
        }
    }

    fn subject() -> Subject<'static> {
        fixtures::subject(Severity::Critical)
    }

    /// What each state becomes when a person acknowledges or snoozes it (`None`: the
    /// action does not apply, and nothing is written). The table is the rule.
    #[test]
    fn what_people_may_do_in_each_state() {
        use AlertState::{Acknowledged, Firing, Pending, Resolved, Snoozed};
        let table = [
            (Pending, None, None),
            (Firing, Some(Acknowledged), Some(Snoozed)),
            (Acknowledged, None, Some(Snoozed)),
            (Snoozed, Some(Acknowledged), Some(Snoozed)),
            (Resolved, None, None),
        ];
        let directory = Directory::default();
        let routing = Routing {
            directory: &directory,
            now: NOW,
        };
        for (from, acked, snoozed) in table {
            let alert = alert(from);
            let ack = acknowledge(&alert, &subject(), "petrov", &routing);
            assert_eq!(
                ack.map(|d| d.fields.state),
                acked,
                "acknowledge from {from}"
            );
            let snooze = snooze(&alert, &subject(), "petrov", NOW + HOUR, &routing);
            assert_eq!(
                snooze.map(|d| d.fields.state),
                snoozed,
                "snooze from {from}"
            );
        }
    }

    #[test]
    fn a_decision_is_for_the_version_it_was_made_on_and_says_who() {
        let directory = Directory::default();
        let routing = Routing {
            directory: &directory,
            now: NOW,
        };
        let alert = alert(AlertState::Firing);
        let decision = snooze(&alert, &subject(), "petrov", NOW + 2 * HOUR, &routing).unwrap();
        assert_eq!((decision.id, decision.version), (1, 3));
        assert_eq!(decision.fields.snoozed_until, Some(NOW + 2 * HOUR));
        assert_eq!(decision.fields.acknowledged_by.as_deref(), Some("petrov"));
        assert_eq!(decision.events.len(), 1);
        assert_eq!(decision.events[0].kind, EventKind::Snoozed);
        assert_eq!(
            decision.events[0].detail,
            Detail::For {
                ms: Some(2 * HOUR),
                members: false
            }
        );
    }

    /// What time does to each state: a snooze or an acknowledgement that ran out fires
    /// again (escalation from its first step), an escalation step or the end of a
    /// maintenance window comes due only while firing; before its time, nothing.
    #[test]
    fn what_time_does_to_each_state() {
        let directory = Directory::default();
        let routing = Routing {
            directory: &directory,
            now: NOW,
        };
        let due_now = |alert: Alert| {
            due(&alert, &subject(), &routing).map(|d| (d.fields.state, d.events[0].kind))
        };
        let mut snoozed = alert(AlertState::Snoozed);
        snoozed.snoozed_until = Some(NOW);
        assert_eq!(
            due_now(snoozed.clone()),
            Some((AlertState::Firing, EventKind::SnoozeEnded))
        );
        snoozed.snoozed_until = Some(NOW + 1);
        assert_eq!(due_now(snoozed), None);
        let mut acked = alert(AlertState::Acknowledged);
        acked.ack_expires_at = Some(NOW - 1);
        assert_eq!(
            due_now(acked.clone()),
            Some((AlertState::Firing, EventKind::AckExpired))
        );
        acked.ack_expires_at = None;
        assert_eq!(due_now(acked), None);
        let mut quiet = alert(AlertState::Firing);
        quiet.announce_at = Some(NOW);
        assert_eq!(
            due_now(quiet.clone()),
            Some((AlertState::Firing, EventKind::Announced))
        );
        let mut waiting = quiet.clone();
        waiting.cause = Some("redirect-1".into());
        assert_eq!(due_now(waiting.clone()), None, "its incident's business");
        waiting.escalate_at = Some(NOW);
        assert_eq!(
            due_now(waiting.clone()),
            Some((AlertState::Firing, EventKind::Escalated)),
            "escalation is time's"
        );
        waiting.escalate_at = None;
        waiting.incident_id = Some(4);
        assert_eq!(
            due_now(waiting),
            Some((AlertState::Firing, EventKind::Announced)),
            "released by its incident"
        );
        let mut resolved = alert(AlertState::Resolved);
        resolved.snoozed_until = Some(NOW - 1);
        resolved.escalate_at = Some(NOW - 1);
        assert_eq!(due_now(resolved), None);
    }
}

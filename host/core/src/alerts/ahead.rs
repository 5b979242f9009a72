//! What happens to an alert or an incident if nobody acts, and when: its page says it
//! ("escalates to petrov at 12:40, in 12 min") so a reader knows whether waiting is safe.
//! Read from the times the clockwork itself acts on (`transitions::due`,
//! `incidents::review`), and for an escalation from the policy as it stands now: who is on
//! call then may differ, which the page does not pretend to know.

use super::AlertState;
use super::incidents::{Incident, IncidentState};
use super::model::Alert;
use super::routing::{Routing, Subject};

/// One thing due, at its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ahead {
    /// Nobody was told yet: a maintenance window or the wait for company ends then.
    Announced { at: i64 },
    /// Quiet hours hold it for a digest then.
    Digest { at: i64 },
    /// The escalation step `step` (1 the first) brings these people in; none named when
    /// nobody could be written to.
    Escalates { at: i64, step: i64, to: Vec<String> },
    /// The acknowledgement runs out and it fires again.
    AckExpires { at: i64 },
    /// The snooze ends and it fires again.
    SnoozeEnds { at: i64 },
    /// The incident's cause is gone; those still down are probed again until then.
    Recheck { at: i64 },
}

impl Ahead {
    pub fn at(&self) -> i64 {
        match self {
            Ahead::Announced { at }
            | Ahead::Digest { at }
            | Ahead::Escalates { at, .. }
            | Ahead::AckExpires { at }
            | Ahead::SnoozeEnds { at }
            | Ahead::Recheck { at } => *at,
        }
    }
}

/// What is due for `alert`, soonest first. An incident's member has nothing of its own:
/// its incident's page says what is due.
pub fn of_alert(alert: &Alert, subject: &Subject, routing: &Routing) -> Vec<Ahead> {
    if alert.incident_id.is_some() {
        return Vec::new();
    }
    let mut ahead = Vec::new();
    match alert.state {
        AlertState::Firing => {
            if let Some(at) = alert.announce_at {
                ahead.push(Ahead::Announced { at });
            }
            if let Some(at) = alert.destinations.iter().filter_map(|d| d.held_until).min() {
                ahead.push(Ahead::Digest { at });
            }
            if let Some(at) = alert.escalate_at {
                ahead.push(escalation(at, alert.escalation_step, subject, routing));
            }
        }
        AlertState::Acknowledged => {
            ahead.extend(alert.ack_expires_at.map(|at| Ahead::AckExpires { at }))
        }
        AlertState::Snoozed => ahead.extend(alert.snoozed_until.map(|at| Ahead::SnoozeEnds { at })),
        AlertState::Pending | AlertState::Resolved => {}
    }
    ahead.sort_by_key(Ahead::at);
    ahead
}

/// What is due for `incident`, soonest first; its escalation needs its `subject`.
pub fn of_incident(
    incident: &Incident,
    subject: Option<&Subject>,
    routing: &Routing,
) -> Vec<Ahead> {
    let mut ahead = Vec::new();
    match incident.state {
        IncidentState::Firing => {
            if let (Some(at), Some(subject)) = (incident.escalate_at, subject) {
                ahead.push(escalation(at, incident.escalation_step, subject, routing));
            }
        }
        IncidentState::Snoozed => {
            ahead.extend(incident.snoozed_until.map(|at| Ahead::SnoozeEnds { at }));
        }
        IncidentState::Rechecking => {
            ahead.extend(incident.recheck_until.map(|at| Ahead::Recheck { at }));
        }
        IncidentState::Acknowledged | IncidentState::Resolved => {}
    }
    ahead.sort_by_key(Ahead::at);
    ahead
}

/// The step taken at `at`, after `taken` were: whom the policy names for it now.
fn escalation(at: i64, taken: i64, subject: &Subject, routing: &Routing) -> Ahead {
    let to = routing
        .escalation_step(subject, taken)
        .map(|(targets, _)| super::routing::names(&targets))
        .unwrap_or_default();
    Ahead::Escalates {
        at,
        step: taken + 1,
        to,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::AlertDestination;
    use crate::alerts::directory::Role;
    use crate::alerts::fixtures::{alert, escalating, incident, member, subject};
    use crate::contract::Severity;

    const MIN: i64 = 60_000;

    /// Each state says what time will do to it, soonest first; what is done or belongs to
    /// its incident says nothing.
    #[test]
    fn each_state_says_what_time_will_do() {
        let directory = escalating("C");
        let routing = Routing {
            directory: &directory,
            now: 0,
        };
        let ahead = |a: &Alert| of_alert(a, &subject(Severity::Critical), &routing);

        let mut firing = alert(AlertState::Firing);
        firing.escalate_at = Some(15 * MIN);
        firing.destinations.push(AlertDestination {
            chat_id: -100,
            thread_id: 0,
            role: Role::Manager,
            contact: None,
            message_id: None,
            held_until: Some(7 * MIN),
            added_at: 0,
        });
        assert_eq!(
            ahead(&firing),
            vec![
                Ahead::Digest { at: 7 * MIN },
                Ahead::Escalates {
                    at: 15 * MIN,
                    step: 1,
                    to: vec!["petrov".into()]
                }
            ]
        );
        firing.escalation_step = 1;
        assert_eq!(
            ahead(&firing)[1],
            Ahead::Escalates {
                at: 15 * MIN,
                step: 2,
                to: Vec::new()
            },
            "past the policy's last step nobody is named"
        );
        firing.incident_id = Some(4);
        assert!(ahead(&firing).is_empty(), "its incident's business");

        let mut acked = alert(AlertState::Acknowledged);
        acked.ack_expires_at = Some(60 * MIN);
        assert_eq!(ahead(&acked), vec![Ahead::AckExpires { at: 60 * MIN }]);
        acked.ack_expires_at = None;
        assert!(ahead(&acked).is_empty(), "an acknowledgement for good");

        let mut snoozed = alert(AlertState::Snoozed);
        snoozed.snoozed_until = Some(30 * MIN);
        snoozed.escalate_at = Some(MIN);
        assert_eq!(ahead(&snoozed), vec![Ahead::SnoozeEnds { at: 30 * MIN }]);

        let mut resolved = alert(AlertState::Resolved);
        resolved.escalate_at = Some(MIN);
        assert!(ahead(&resolved).is_empty());

        let mut open = incident(vec![member(1, true)]);
        open.members[0].client = "C".into();
        open.escalate_at = Some(15 * MIN);
        let about = subject(Severity::Critical);
        assert_eq!(
            of_incident(&open, Some(&about), &routing),
            vec![Ahead::Escalates {
                at: 15 * MIN,
                step: 1,
                to: vec!["petrov".into()]
            }]
        );
        open.state = IncidentState::Rechecking;
        open.recheck_until = Some(2 * MIN);
        assert_eq!(
            of_incident(&open, Some(&about), &routing),
            vec![Ahead::Recheck { at: 2 * MIN }]
        );
        open.state = IncidentState::Acknowledged;
        assert!(of_incident(&open, Some(&about), &routing).is_empty());
    }
}

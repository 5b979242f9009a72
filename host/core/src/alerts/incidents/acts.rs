//! What people and time do to an incident: acknowledge it, snooze it, post an update on
//! every card, and escalate it when nobody took it in time.

use super::model::{Follow, Incident, IncidentDecision, IncidentState, Reach};
use crate::alerts::detail::Detail;
use crate::alerts::model::{Event, EventKind};
use crate::alerts::routing::{Routing, Subject};
use crate::alerts::transitions::Step;
use crate::alerts::{AlertState, NoticeKind};
use crate::fleet::Installation;

/// The incident as routing sees it: its first installation's client, zone and chat (its
/// policy says who is brought in when nobody takes the incident).
pub fn subject_of<'a>(
    incident: &'a Incident,
    installation: Option<&'a Installation>,
) -> Option<Subject<'a>> {
    let first = incident.members.first()?;
    Some(Subject {
        installation: &first.installation_id,
        client: &first.client,
        parent: incident.parent.as_deref(),
        plugin: &incident.plugin,
        zone: installation.map_or(jiff::tz::TimeZone::UTC, Installation::time_zone),
        manager_chat: installation.map_or(0, |i| i.telegram_chat_id),
        severity: incident.severity,
        audience: crate::alerts::directory::Audience::Support,
    })
}

/// Nobody took the firing incident in time: the escalation step due now brings in its
/// people (a card for each new chat, a ring for those already holding one).
pub fn escalate(
    incident: &Incident,
    subject: &Subject,
    routing: &Routing,
) -> Option<IncidentDecision> {
    let due = incident.escalate_at.is_some_and(|at| at <= routing.now);
    if incident.state != IncidentState::Firing || !due {
        return None;
    }
    let mut d = IncidentDecision::on(incident);
    let taken = incident.escalation_step;
    let Some((targets, next)) = routing.escalation_step(subject, taken) else {
        d.fields.escalate_at = None;
        d.events
            .push(Event::new(EventKind::Escalated, Detail::NoMoreSteps));
        return Some(d);
    };
    d.fields.escalation_step = taken + 1;
    d.fields.escalate_at = next;
    let step = Step::of(targets, taken, |to| {
        incident.destinations.iter().any(|known| known.to() == to)
    });
    d.events.push(step.event);
    d.notices = step.notices;
    d.destinations = step.destinations.into_iter().map(|n| (n, false)).collect();
    Some(d)
}

/// `by` takes the incident (and its members): it stops ringing anyone.
pub fn acknowledge(incident: &Incident, by: &str, now: i64) -> Option<IncidentDecision> {
    if !matches!(
        incident.state,
        IncidentState::Firing | IncidentState::Snoozed
    ) {
        return None;
    }
    let mut d = IncidentDecision::on(incident);
    d.fields.state = IncidentState::Acknowledged;
    d.fields.acknowledged_at = Some(now);
    d.fields.acknowledged_by = Some(by.to_string());
    d.fields.snoozed_until = None;
    d.fields.escalate_at = None;
    d.members_follow = Follow::of(incident, AlertState::Acknowledged);
    d.events.push(
        Event::new(
            EventKind::Acknowledged,
            Detail::For {
                ms: None,
                members: true,
            },
        )
        .by(by),
    );
    refreshed(&mut d, incident);
    Some(d)
}

/// `by` puts the incident aside until `until`; it rings again then if it still holds.
pub fn snooze(incident: &Incident, by: &str, until: i64, now: i64) -> Option<IncidentDecision> {
    if !matches!(
        incident.state,
        IncidentState::Firing | IncidentState::Acknowledged | IncidentState::Snoozed
    ) {
        return None;
    }
    let mut d = IncidentDecision::on(incident);
    d.fields.state = IncidentState::Snoozed;
    d.fields.acknowledged_by = Some(by.to_string());
    d.fields.snoozed_until = Some(until);
    d.fields.escalate_at = None;
    d.members_follow = Follow::of(incident, AlertState::Snoozed);
    d.events.push(
        Event::new(
            EventKind::Snoozed,
            Detail::For {
                ms: Some(until - now),
                members: true,
            },
        )
        .by(by),
    );
    refreshed(&mut d, incident);
    Some(d)
}

/// `by` tells everyone following the incident what is going on; every card shows it.
pub fn update(incident: &Incident, by: &str, text: &str, reach: Reach) -> IncidentDecision {
    let mut d = IncidentDecision::on(incident);
    let detail = match reach {
        Reach::Staff => Detail::words_of(text),
        Reach::Clients => Detail::Published { text: text.into() },
    };
    d.events.push(Event::new(EventKind::Update, detail).by(by));
    d.fields.shown =
        incident.fingerprint_with(incident.state, incident.acknowledged_by.as_deref(), 1);
    d.notices = incident.to_every_card(NoticeKind::Refresh).collect();
    d
}

fn refreshed(d: &mut IncidentDecision, incident: &Incident) {
    d.fields.shown =
        incident.fingerprint_with(d.fields.state, d.fields.acknowledged_by.as_deref(), 0);
    d.notices = incident.to_every_card(NoticeKind::Refresh).collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::fixtures::{incident, member};
    use crate::alerts::incidents::Member;

    /// What each incident state becomes when a person acknowledges or snoozes it, and
    /// whether a due escalation step applies (`None`: nothing is written). The table is
    /// the rule, as `transitions`' is for alerts.
    #[test]
    fn what_people_and_time_may_do_in_each_state() {
        use IncidentState::{Acknowledged, Firing, Rechecking, Resolved, Snoozed};
        let table = [
            (Firing, Some(Acknowledged), Some(Snoozed), true),
            (Acknowledged, None, Some(Snoozed), false),
            (Snoozed, Some(Acknowledged), Some(Snoozed), false),
            (Rechecking, None, None, false),
            (Resolved, None, None, false),
        ];
        let directory = crate::alerts::directory::Directory::default();
        let routing = Routing {
            directory: &directory,
            now: 1_000,
        };
        let subject = crate::alerts::fixtures::subject(crate::contract::Severity::Critical);
        for (from, acked, snoozed, escalates) in table {
            let mut open = incident(vec![member(1, true)]);
            open.state = from;
            open.escalate_at = Some(1_000);
            let state = |d: Option<IncidentDecision>| d.map(|d| d.fields.state);
            assert_eq!(
                state(acknowledge(&open, "petrov", 1_000)),
                acked,
                "acknowledge from {from}"
            );
            assert_eq!(
                state(snooze(&open, "petrov", 3_600_000, 1_000)),
                snoozed,
                "snooze from {from}"
            );
            assert_eq!(
                escalate(&open, &subject, &routing).is_some(),
                escalates,
                "escalate from {from}"
            );
        }
    }

    /// A person acting on the incident carries along the members told only through it:
    /// not one already resolved, still pending, or released to be an alert of its own.
    #[test]
    fn members_told_only_through_the_incident_follow_it() {
        let mut members: Vec<Member> = (0..5).map(|i| member(i, i != 1)).collect();
        members[2].state = AlertState::Pending;
        members[3].on_its_own = true;
        let open = incident(members);
        let followers = |d: Option<IncidentDecision>| {
            d.and_then(|d| d.members_follow)
                .map(|f| (f.state, f.alerts))
        };
        assert_eq!(
            followers(acknowledge(&open, "petrov", 1_000)),
            Some((AlertState::Acknowledged, vec![0, 4]))
        );
        assert_eq!(
            followers(snooze(&open, "petrov", 3_600_000, 1_000)),
            Some((AlertState::Snoozed, vec![0, 4]))
        );
        let mut alone = open.clone();
        alone.members.truncate(2);
        alone.members[0].on_its_own = true;
        let d = acknowledge(&alone, "petrov", 1_000).expect("acknowledged");
        assert_eq!(d.members_follow, None, "nobody follows");
        assert_eq!(d.fields.state, IncidentState::Acknowledged);
    }

    #[test]
    fn an_update_says_whether_clients_read_it_and_refreshes_every_card() {
        let i = incident(vec![member(11, true), member(12, true)]);
        for (reach, published) in [(Reach::Staff, false), (Reach::Clients, true)] {
            let d = update(&i, "ivanov", "DNS is back", reach);
            let [event] = d.events.as_slice() else {
                panic!("one event: {:?}", d.events);
            };
            assert_eq!(event.kind, EventKind::Update);
            assert_eq!(event.detail.text(), Some("DNS is back"));
            assert_eq!(
                matches!(event.detail, Detail::Published { .. }),
                published,
                "{reach:?}"
            );
            assert_eq!(d.notices.len(), i.destinations.len());
        }
    }
}

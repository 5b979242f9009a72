//! The clockwork's look at every waiting alert and open incident: whether a cause is
//! real, who joins which incident, who goes alone, what each incident's cards must show,
//! and when a parent that came back releases its children still down.

use std::collections::{BTreeMap, HashMap};

use super::model::{
    Incident, IncidentDecision, IncidentFields, IncidentState, Member, Target, notice,
};
use crate::alerts::NoticeKind;
use crate::alerts::detail::{Detail, OpenedBy};
use crate::alerts::directory::Destination;
use crate::alerts::grouping::{Cause, Grouping};
use crate::alerts::model::{Alert, Event, EventKind};
use crate::alerts::routing::{NewDestination, Notice, Routing};
use crate::contract::Severity;
use crate::fleet::Installation;

/// A parent as the clockwork sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParentHealth {
    /// Installations that name it.
    pub children: usize,
    /// The parent is itself an installation with an open critical alert.
    pub down: bool,
}

/// An alert waiting to learn whether others share its cause, with its installation.
pub type Waiting = (Alert, Option<Installation>);

/// What the clockwork does about grouping now.
#[derive(Debug, Default)]
pub struct Review {
    pub decisions: Vec<IncidentDecision>,
    /// Waiting alerts whose wait is over and that nothing groups: announced on their own.
    pub alone: Vec<i64>,
}

/// Looks at every waiting alert and open incident at `routing.now`.
pub fn review(
    grouping: &Grouping,
    routing: &Routing,
    waiting: &[Waiting],
    open: &[Incident],
    parents: &HashMap<String, ParentHealth>,
) -> Review {
    let mut by_cause: BTreeMap<&str, Vec<&Waiting>> = BTreeMap::new();
    for w in waiting {
        if let Some(cause) = w.0.cause.as_deref() {
            by_cause.entry(cause).or_default().push(w);
        }
    }
    let mut review = Review::default();
    for incident in open {
        let joining = by_cause.remove(incident.cause.as_str()).unwrap_or_default();
        let decision = evolve(grouping, routing, incident, &joining, parents);
        if !decision.is_empty() {
            review.decisions.push(decision);
        }
    }
    for (cause, members) in by_cause {
        let Ok(parsed) = cause.parse::<Cause>() else {
            review.alone.extend(due(routing.now, &members));
            continue;
        };
        let installations = distinct_installations(&members, None);
        let real = match &parsed {
            Cause::Parent(name) => failing(
                grouping,
                parents.get(name).copied().unwrap_or_default(),
                installations,
            ),
            Cause::Check { plugin, .. } => {
                let threshold = grouping.checks.get(plugin);
                threshold.is_some_and(|t| {
                    let since = routing.now - t.within.as_millis() as i64;
                    distinct_installations(&members, Some(since)) >= t.count.max(2)
                })
            }
        };
        if real {
            review
                .decisions
                .push(open_incident(routing, cause, &parsed, &members));
        } else {
            review.alone.extend(due(routing.now, &members));
        }
    }
    review
}

fn due(now: i64, members: &[&Waiting]) -> Vec<i64> {
    members
        .iter()
        .filter(|(a, _)| a.announce_at.is_some_and(|at| at <= now))
        .map(|(a, _)| a.id)
        .collect()
}

fn distinct_installations(members: &[&Waiting], since: Option<i64>) -> usize {
    let mut seen: Vec<&str> = members
        .iter()
        .filter(|(a, _)| since.is_none_or(|s| a.first_seen_at >= s))
        .map(|(a, _)| a.installation_id.as_str())
        .collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

/// Whether a parent is failing with `down` of its children showing its symptoms.
fn failing(grouping: &Grouping, health: ParentHealth, down: usize) -> bool {
    health.down || (down >= 2 && down as f64 > grouping.parent_share * health.children as f64)
}

/// Where the members' alerts would have gone, merged: each chat once. A chat that policy
/// would hold for the morning digest gets the incident silently instead (an incident is
/// not held: it is one message, and it must be there when the manager wakes).
fn destinations_of(routing: &Routing, members: &[&Waiting]) -> Vec<(NewDestination, bool)> {
    let mut out: Vec<(NewDestination, bool)> = Vec::new();
    for (alert, installation) in members {
        let route = routing.first(&alert.subject(installation.as_ref()));
        for d in route.destinations {
            let silent = d.held_until.is_some()
                || route
                    .notices
                    .iter()
                    .any(|n| n.to == d.to && n.silent && n.held_until.is_none());
            match out.iter_mut().find(|(known, _)| known.to == d.to) {
                Some((_, was_silent)) => *was_silent &= silent,
                None => out.push((
                    NewDestination {
                        held_until: None,
                        ..d
                    },
                    silent,
                )),
            }
        }
    }
    out
}

fn joined_event(members: &[&Waiting]) -> Event {
    let installations = members
        .iter()
        .map(|(a, _)| (a.installation_id.clone(), a.client.clone()))
        .collect();
    Event::new(EventKind::Joined, Detail::Joined { installations })
}

fn open_incident(
    routing: &Routing,
    cause: &str,
    parsed: &Cause,
    members: &[&Waiting],
) -> IncidentDecision {
    let destinations = destinations_of(routing, members);
    let severity = members
        .iter()
        .map(|(a, _)| a.severity)
        .max()
        .unwrap_or(Severity::Critical);
    let why = Detail::Opened {
        by: match parsed {
            Cause::Parent(name) => OpenedBy::Parent { name: name.clone() },
            Cause::Check { plugin, key } => OpenedBy::Check {
                plugin: plugin.clone(),
                key: key.clone(),
            },
        },
        members: members.len(),
    };
    let (parent, plugin) = match parsed {
        Cause::Parent(name) => (Some(name.clone()), members[0].0.plugin.clone()),
        Cause::Check { plugin, .. } => (None, plugin.clone()),
    };
    IncidentDecision {
        target: Target::New {
            cause: cause.to_string(),
            parent,
            plugin,
        },
        fields: IncidentFields {
            state: IncidentState::Firing,
            severity,
            acknowledged_at: None,
            acknowledged_by: None,
            snoozed_until: None,
            recheck_until: None,
            escalation_step: 0,
            escalate_at: routing.escalation_start(&members[0].0.subject(members[0].1.as_ref())),
            resolved_at: None,
            shown: format!("firing:{}:0:0:", members.len()),
        },
        attach: members.iter().map(|(a, _)| a.id).collect(),
        members_follow: None,
        notices: destinations
            .iter()
            .map(|(d, silent)| notice(NoticeKind::Post, d.to, *silent))
            .collect(),
        destinations,
        events: vec![Event::new(EventKind::Fired, why), joined_event(members)],
        release: Vec::new(),
        reprobe: Vec::new(),
    }
}

/// What time and the members' changes do to an open incident.
fn evolve(
    grouping: &Grouping,
    routing: &Routing,
    incident: &Incident,
    joining: &[&Waiting],
    parents: &HashMap<String, ParentHealth>,
) -> IncidentDecision {
    let now = routing.now;
    let mut d = IncidentDecision::on(incident);
    let mut view = incident.clone();
    if !joining.is_empty() {
        d.attach = joining.iter().map(|(a, _)| a.id).collect();
        d.events.push(joined_event(joining));
        for (new, silent) in destinations_of(routing, joining) {
            if view.destinations.iter().all(|known| known.to() != new.to) {
                d.notices.push(notice(NoticeKind::Post, new.to, silent));
                d.destinations.push((new, silent));
            }
        }
        for (a, _) in joining {
            d.fields.severity = d.fields.severity.max(a.severity);
            view.members.push(Member {
                alert_id: a.id,
                installation_id: a.installation_id.clone(),
                client: a.client.clone(),
                manager: a.manager.clone(),
                summary: a.summary.clone(),
                translations: a.translations.clone(),
                state: a.state,
                first_seen_at: a.first_seen_at,
                resolved_at: None,
                on_its_own: false,
            });
        }
    }
    let told = |kind| incident.to_every_card(kind);
    if incident.state == IncidentState::Snoozed && incident.snoozed_until.is_some_and(|u| u <= now)
    {
        d.fields.state = IncidentState::Firing;
        d.fields.snoozed_until = None;
        d.events
            .push(Event::new(EventKind::SnoozeEnded, Detail::SnoozeRanOut));
        d.notices.extend(told(NoticeKind::Reminder));
    }
    let down: Vec<&Member> = view.members.iter().filter(|m| m.is_down()).collect();
    let still_failing = match incident.cause.parse::<Cause>() {
        Ok(Cause::Parent(name)) => failing(
            grouping,
            parents.get(&name).copied().unwrap_or_default(),
            down.len(),
        ),
        _ => !down.is_empty(),
    };
    let (back, of) = (view.back(), view.members.len());
    if d.fields.state == IncidentState::Rechecking {
        if still_failing {
            d.fields.state = if d.fields.acknowledged_by.is_some() {
                IncidentState::Acknowledged
            } else {
                IncidentState::Firing
            };
            d.fields.recheck_until = None;
            d.events.push(Event::new(
                EventKind::Fired,
                Detail::FailingAgain { back, of },
            ));
        } else if down.is_empty() || incident.recheck_until.is_some_and(|u| u <= now) {
            resolve(
                &mut d,
                incident,
                &view,
                &down,
                now,
                told(NoticeKind::ResolvedReply),
            );
        }
    } else if !still_failing {
        if down.is_empty() {
            resolve(
                &mut d,
                incident,
                &view,
                &down,
                now,
                told(NoticeKind::ResolvedReply),
            );
        } else {
            d.fields.state = IncidentState::Rechecking;
            d.fields.recheck_until = Some(now + grouping.recheck.as_millis() as i64);
            d.reprobe = down.iter().map(|m| m.installation_id.clone()).collect();
            d.events.push(Event::new(
                EventKind::Rechecking,
                Detail::Rechecking {
                    back,
                    of,
                    down: down.len(),
                },
            ));
        }
    }
    d.fields.shown = view.fingerprint_with(d.fields.state, d.fields.acknowledged_by.as_deref(), 0);
    if d.fields.shown != incident.shown {
        let fresh: Vec<Destination> = d.destinations.iter().map(|(n, _)| n.to).collect();
        let refresh: Vec<Notice> = told(NoticeKind::Refresh)
            .filter(|n| !fresh.contains(&n.to))
            .collect();
        // The edit goes before any reply about the same change.
        d.notices.splice(0..0, refresh);
    }
    d
}

fn resolve(
    d: &mut IncidentDecision,
    incident: &Incident,
    view: &Incident,
    down: &[&Member],
    now: i64,
    replies: impl Iterator<Item = Notice>,
) {
    d.fields.state = IncidentState::Resolved;
    d.fields.resolved_at = Some(now);
    d.fields.recheck_until = None;
    d.fields.snoozed_until = None;
    d.fields.escalate_at = None;
    d.release = down.iter().map(|m| m.alert_id).collect();
    let detail = Detail::Closed {
        ms: (now - incident.opened_at).max(0),
        back: view.back(),
        of: view.members.len(),
        still_down: down.iter().map(|m| m.installation_id.clone()).collect(),
    };
    d.events.push(Event::new(EventKind::Resolved, detail));
    d.notices.extend(replies);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::AlertState;
    use crate::alerts::directory::Directory;
    use crate::alerts::fixtures::{incident, member};

    fn waiting(id: i64, installation: &str, client: &str, chat: i64, at: i64) -> Waiting {
        let alert = Alert {
            id,
            installation_id: installation.into(),
            client: client.into(),
            plugin: "redirect-down".into(),
            key: "redirect-down".into(),
            summary: "unreachable by domain".into(),
            state: AlertState::Firing,
            chat_id: chat,
            first_seen_at: at,
            fired_at: Some(at),
            announce_at: Some(at + 60_000),
            story_id: id,
            cause: Some("parent:redirect-1".into()),
            updated_at: at,
            version: 0,
            ..crate::alerts::fixtures::alert(AlertState::Firing)
        };
        (alert, None)
    }

    /// `review` at `now`, with no directory (everything to the manager at once).
    fn look(
        now: i64,
        waiting: &[Waiting],
        open: &[Incident],
        parents: &HashMap<String, ParentHealth>,
    ) -> Review {
        let directory = Directory::default();
        let routing = Routing {
            directory: &directory,
            now,
        };
        review(&Grouping::default(), &routing, waiting, open, parents)
    }

    fn health(children: usize) -> HashMap<String, ParentHealth> {
        HashMap::from([(
            "redirect-1".to_string(),
            ParentHealth {
                children,
                down: false,
            },
        )])
    }

    #[test]
    fn most_children_failing_open_one_incident_with_each_chat_once() {
        let w: Vec<Waiting> = (0..4)
            .map(|i| waiting(i, &format!("i{i}"), &format!("c{}", i % 2), -(i % 2) - 1, 0))
            .collect();
        let review = look(61_000, &w, &[], &health(6));
        assert!(review.alone.is_empty());
        let [decision] = &review.decisions[..] else {
            panic!("{review:?}")
        };
        assert_eq!(decision.attach, [0, 1, 2, 3]);
        assert_eq!(decision.notices.len(), 2, "two chats, one post each");
        assert!(decision.notices.iter().all(|n| n.kind == NoticeKind::Post));
    }

    #[test]
    fn a_few_children_are_alerts_of_their_own_once_their_wait_is_over() {
        let directory = Directory::default();
        let w = vec![
            waiting(1, "i1", "c", -1, 0),
            waiting(2, "i2", "c", -1, 30_000),
        ];
        let early = Routing {
            directory: &directory,
            now: 59_000,
        };
        let r = review(&Grouping::default(), &early, &w, &[], &health(10));
        assert!(r.decisions.is_empty() && r.alone.is_empty());
        let later = Routing {
            directory: &directory,
            now: 61_000,
        };
        let r = review(&Grouping::default(), &later, &w, &[], &health(10));
        assert_eq!(r.alone, [1]);
    }

    #[test]
    fn the_parent_back_rechecks_the_rest_then_releases_who_is_still_down() {
        let mut members: Vec<Member> = (0..10).map(|i| member(i, i >= 8)).collect();
        let open = incident(members.clone());
        let r = look(1_000, &[], std::slice::from_ref(&open), &health(10));
        let d = &r.decisions[0];
        assert_eq!(d.fields.state, IncidentState::Rechecking);
        assert_eq!(d.reprobe, ["i8", "i9"]);
        assert!(d.release.is_empty());
        let kinds: Vec<NoticeKind> = d.notices.iter().map(|n| n.kind).collect();
        assert_eq!(kinds, [NoticeKind::Refresh], "one edit, no replies yet");

        let mut rechecking = open.clone();
        rechecking.state = IncidentState::Rechecking;
        rechecking.recheck_until = Some(121_000);
        members[8] = member(8, false);
        rechecking.members = members;
        rechecking.shown = rechecking.fingerprint();
        let r = look(60_000, &[], &[rechecking.clone()], &health(10));
        assert!(
            r.decisions.is_empty(),
            "still rechecking, nothing new to show: {r:?}"
        );
        let r = look(121_000, &[], &[rechecking], &health(10));
        let d = &r.decisions[0];
        assert_eq!(d.fields.state, IncidentState::Resolved);
        assert_eq!(d.release, [9]);
        let kinds: Vec<NoticeKind> = d.notices.iter().map(|n| n.kind).collect();
        assert_eq!(kinds, [NoticeKind::Refresh, NoticeKind::ResolvedReply]);
    }

    #[test]
    fn many_changes_between_two_looks_make_one_edit() {
        let mut open = incident((0..30).map(|i| member(i, true)).collect());
        let unchanged = look(1_000, &[], &[open.clone()], &health(30));
        assert!(unchanged.decisions.is_empty(), "{unchanged:?}");
        for m in open.members.iter_mut().take(3) {
            m.state = AlertState::Resolved;
        }
        let r = look(1_000, &[], &[open], &health(30));
        assert_eq!(r.decisions[0].notices.len(), 1);
    }

    #[test]
    fn a_check_groups_once_enough_installations_fire_within_its_window() {
        let check = |id, installation: &str, at| {
            let mut w = waiting(id, installation, "c", -1, at);
            w.0.cause = Some("check:redirect-down:redirect-down".into());
            w
        };
        // Three installations, but one of them fired long before the window.
        let spread = vec![
            check(1, "a", 0),
            check(2, "b", 390_000),
            check(3, "c", 395_000),
        ];
        let r = look(400_000, &spread, &[], &HashMap::new());
        assert!(r.decisions.is_empty());
        assert_eq!(
            r.alone,
            [1],
            "the old one's wait is over; the others still wait"
        );
        let close = vec![
            check(1, "a", 380_000),
            check(2, "b", 390_000),
            check(3, "b", 391_000),
        ];
        let r = look(400_000, &close, &[], &HashMap::new());
        assert!(r.decisions.is_empty(), "two installations are not three");
        let three = vec![
            check(1, "a", 380_000),
            check(2, "b", 390_000),
            check(4, "c", 399_000),
        ];
        let r = look(400_000, &three, &[], &HashMap::new());
        assert_eq!(r.decisions[0].attach, [1, 2, 4]);
    }

    #[test]
    fn a_new_chat_joining_gets_the_card_and_the_others_one_edit() {
        let open = incident((0..3).map(|i| member(i, true)).collect());
        let joining = vec![waiting(7, "i7", "other", -9, 900)];
        let r = look(1_000, &joining, &[open], &health(4));
        let d = &r.decisions[0];
        assert_eq!(d.attach, [7]);
        let sent: Vec<(NoticeKind, i64)> =
            d.notices.iter().map(|n| (n.kind, n.to.chat_id)).collect();
        assert_eq!(sent, [(NoticeKind::Refresh, -1), (NoticeKind::Post, -9)]);
    }

    #[test]
    fn a_snooze_that_ran_out_rings_every_card_again() {
        let mut open = incident((0..3).map(|i| member(i, true)).collect());
        open.state = IncidentState::Snoozed;
        open.snoozed_until = Some(9_000);
        open.shown = open.fingerprint();
        let r = look(10_000, &[], &[open], &health(3));
        let d = &r.decisions[0];
        assert_eq!(d.fields.state, IncidentState::Firing);
        let kinds: Vec<NoticeKind> = d.notices.iter().map(|n| n.kind).collect();
        assert_eq!(kinds, [NoticeKind::Refresh, NoticeKind::Reminder]);
    }
}

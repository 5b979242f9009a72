//! The lifecycle decision: given the alerts open for an installation and what each plugin
//! just reported, what changes and which notifications that owes. Pure, so every rule is
//! tested without a database; `store` applies the result in the evaluation's transaction.

use jiff::tz::TimeZone;

use super::directory::Audience;
use super::model::Event;
use super::routing::{FirstRoute, Known, NewDestination, Notice, Routing, Subject};
use super::{AlertPolicy, AlertState, EventKind, NoticeKind, resolution};
use crate::fleet::Installation;
use crate::plugins::{EvalOutput, Finding, Severity};

/// An alert not resolved yet, as the lifecycle needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAlert {
    pub id: i64,
    pub installation_id: String,
    /// Its installation's parent, while the installation exists.
    pub parent: Option<String>,
    pub plugin: String,
    pub key: String,
    pub client: String,
    /// The installation's chat and zone (UTC once the installation is gone).
    pub chat_id: i64,
    pub zone: TimeZone,
    pub state: AlertState,
    pub severity: Severity,
    pub audience: Audience,
    pub summary: String,
    pub details: String,
    pub first_seen_at: i64,
    pub seen_count: i64,
    /// Since when the finding has been gone, while damping keeps the alert open.
    pub cleared_at: Option<i64>,
    pub cleared_count: i64,
    /// When its next escalation step is due, while it escalates.
    pub escalate_at: Option<i64>,
    /// What it may share with others (see `incidents`).
    pub cause: Option<String>,
    /// Where its living messages are (or will be).
    pub destinations: Vec<Known>,
}

impl OpenAlert {
    /// Waiting to be grouped, or told only through its incident: it has no messages of
    /// its own to follow.
    pub fn grouped(&self) -> bool {
        self.cause.is_some() && self.destinations.is_empty()
    }

    pub fn subject(&self) -> Subject<'_> {
        Subject {
            installation: &self.installation_id,
            client: &self.client,
            parent: self.parent.as_deref(),
            plugin: &self.plugin,
            zone: self.zone.clone(),
            manager_chat: self.chat_id,
            severity: self.severity,
            audience: self.audience,
        }
    }
}

/// Where an alert that starts firing goes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Firing {
    pub route: FirstRoute,
    /// When its first escalation step is due, if its client's policy escalates it.
    pub escalate_at: Option<i64>,
    /// Kept quiet by maintenance, or waiting for others with its cause: when to announce
    /// it if it still fires then.
    pub announce_at: Option<i64>,
    /// The cause it may share with other installations' alerts.
    pub cause: Option<String>,
    /// What the timeline says about how it was routed (held, unreachable people).
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Change<'a> {
    /// A key with no open alert: a new alert, firing (`Some`) unless damping holds it
    /// pending.
    Open {
        installation: &'a Installation,
        plugin: &'a str,
        finding: &'a Finding,
        audience: Audience,
        firing: Option<Firing>,
    },
    /// Reported again. `fires`: damping let a pending alert through now. `note`: what
    /// changed that the timeline should say.
    Seen {
        id: i64,
        finding: &'a Finding,
        fires: Option<Firing>,
        note: Option<String>,
        /// Destinations a raised severity brings in (a warning held for the morning that
        /// turns critical wakes on-call), with their posts among the notices.
        joins: Vec<NewDestination>,
        /// A raised severity that escalates where the old one did not starts escalating.
        escalate_at: Option<i64>,
        notices: Vec<Notice>,
    },
    /// Not reported, but damping keeps the alert open a while longer.
    Fading { id: i64 },
    Resolve {
        id: i64,
        reason: &'static str,
        notices: Vec<Notice>,
    },
    /// A pending alert whose finding went away before anybody was told: forgotten.
    Discard { id: i64 },
}

impl Change<'_> {
    pub fn notices(&self) -> &[Notice] {
        match self {
            Change::Open {
                firing: Some(f), ..
            }
            | Change::Seen { fires: Some(f), .. } => &f.route.notices,
            Change::Seen { notices, .. } | Change::Resolve { notices, .. } => notices,
            Change::Open { firing: None, .. } | Change::Fading { .. } | Change::Discard { .. } => {
                &[]
            }
        }
    }
}

/// The subject of an alert of `installation` from `plugin` with this severity and audience.
fn subject<'a>(
    installation: &'a Installation,
    plugin: &'a str,
    severity: Severity,
    audience: Audience,
) -> Subject<'a> {
    Subject {
        installation: &installation.id,
        client: &installation.client,
        parent: installation.parent.as_deref(),
        plugin,
        zone: installation.time_zone(),
        manager_chat: installation.telegram_chat_id,
        severity,
        audience,
    }
}

/// Routes an alert that starts firing now.
pub fn fire(routing: &Routing, subject: &Subject) -> Firing {
    let route = routing.first(subject);
    if let Some(silence) = &route.silenced {
        let detail = format!(
            "not announced: {}; until {}",
            silence.why,
            super::local_time(silence.until, &subject.zone)
        );
        return Firing {
            announce_at: Some(silence.until),
            events: vec![Event::new(EventKind::Silenced, detail)],
            ..Firing::default()
        };
    }
    let mut events: Vec<Event> = route
        .unreachable
        .iter()
        .map(|why| Event::new(EventKind::Unroutable, why.clone()))
        .collect();
    for d in &route.destinations {
        if let Some(until) = d.held_until {
            events.push(Event::new(
                EventKind::Held,
                format!(
                    "quiet hours: for the {} ({}) until the digest at {}",
                    d.role.as_str(),
                    d.to,
                    super::local_time(until, &subject.zone)
                ),
            ));
        }
    }
    Firing {
        escalate_at: routing.escalation_start(subject),
        announce_at: None,
        cause: None,
        route,
        events,
    }
}

/// Routes an alert that starts firing now, unless it may share its cause with other
/// installations: then it waits (`grouping.wait`) for the clockwork to see whether others
/// do. A maintenance window that covers it wins over both.
fn fire_or_wait(policy: &AlertPolicy, routing: &Routing, subject: &Subject, key: &str) -> Firing {
    let firing = fire(routing, subject);
    if firing.announce_at.is_some() {
        return firing;
    }
    let grouping = &policy.grouping;
    let Some(cause) = grouping.cause_of(subject.plugin, key, subject.parent) else {
        return firing;
    };
    let detail = format!(
        "waiting up to {} for other installations with the same cause ({cause})",
        reveille_sdk::format_duration(grouping.wait)
    );
    Firing {
        announce_at: Some(routing.now + grouping.wait.as_millis() as i64),
        cause: Some(cause.to_string()),
        events: vec![Event::new(EventKind::Waiting, detail)],
        ..Firing::default()
    }
}

/// What the successful `outputs` of one evaluation do to the installation's `open` alerts.
/// Plugins without an output (they failed) leave their alerts as they are.
pub fn plan<'a>(
    policy: &AlertPolicy,
    routing: &Routing,
    installation: &'a Installation,
    open: &[OpenAlert],
    outputs: &[(&'a str, &'a EvalOutput)],
) -> Vec<Change<'a>> {
    let now = routing.now;
    let mut changes = Vec::new();
    for &(plugin, output) in outputs {
        let damping = policy.damping_for(plugin);
        let mine: Vec<&OpenAlert> = open.iter().filter(|a| a.plugin == plugin).collect();
        for finding in &output.findings {
            let audience = Audience::from_labels(&finding.labels);
            let about = subject(installation, plugin, finding.severity, audience);
            let Some(alert) = mine.iter().find(|a| a.key == finding.key) else {
                let firing = damping
                    .fires(1, now, now)
                    .then(|| fire_or_wait(policy, routing, &about, &finding.key));
                changes.push(Change::Open {
                    installation,
                    plugin,
                    finding,
                    audience,
                    firing,
                });
                continue;
            };
            let fires = alert.state == AlertState::Pending
                && damping.fires(alert.seen_count + 1, alert.first_seen_at, now);
            let changed = alert.severity != finding.severity
                || alert.summary != finding.summary
                || alert.details != finding.details;
            let mut joins = Vec::new();
            let mut escalate_at = None;
            let (note, notices) = if fires {
                (None, Vec::new())
            } else if changed && alert.state.was_notified() {
                let raised = finding.severity > alert.severity;
                let kinds: &[NoticeKind] = if raised {
                    &[NoticeKind::Refresh, NoticeKind::Raised]
                } else {
                    &[NoticeKind::Refresh]
                };
                let note = if alert.severity == finding.severity {
                    format!("now: {}", finding.summary)
                } else {
                    format!(
                        "severity {} → {}: {}",
                        alert.severity, finding.severity, finding.summary
                    )
                };
                let about = Subject {
                    severity: finding.severity,
                    ..alert.subject()
                };
                let mut notices = routing.follow(&about, &alert.destinations, kinds);
                if raised && !alert.grouped() {
                    let route = routing.first(&about);
                    let silenced = route.silenced.is_some();
                    let new = |to| !alert.destinations.iter().any(|d| d.to == to);
                    notices.extend(route.notices.into_iter().filter(|n| new(n.to)));
                    joins = route
                        .destinations
                        .into_iter()
                        .filter(|d| new(d.to))
                        .collect();
                    if !silenced && alert.state == AlertState::Firing && alert.escalate_at.is_none()
                    {
                        escalate_at = routing.escalation_start(&about);
                    }
                }
                (Some(note), notices)
            } else {
                (None, Vec::new())
            };
            changes.push(Change::Seen {
                id: alert.id,
                finding,
                fires: fires.then(|| fire_or_wait(policy, routing, &about, &finding.key)),
                note,
                joins,
                escalate_at,
                notices,
            });
        }
        for alert in mine {
            if output.findings.iter().any(|f| f.key == alert.key) {
                continue;
            }
            if alert.state == AlertState::Pending {
                changes.push(Change::Discard { id: alert.id });
                continue;
            }
            let since = alert.cleared_at.unwrap_or(now);
            if damping.resolves(alert.cleared_count + 1, since, now) {
                changes.push(resolve(policy, routing, alert, resolution::CLEARED));
            } else {
                changes.push(Change::Fading { id: alert.id });
            }
        }
    }
    changes
}

/// Every open alert resolved (or, if nobody was told, discarded) for `reason`: its
/// installation or its plugin is gone.
pub fn retire<'a>(
    policy: &AlertPolicy,
    routing: &Routing,
    open: &[OpenAlert],
    reason: &'static str,
) -> Vec<Change<'a>> {
    open.iter()
        .map(|alert| {
            if alert.state == AlertState::Pending {
                Change::Discard { id: alert.id }
            } else {
                resolve(policy, routing, alert, reason)
            }
        })
        .collect()
}

fn resolve<'a>(
    policy: &AlertPolicy,
    routing: &Routing,
    alert: &OpenAlert,
    reason: &'static str,
) -> Change<'a> {
    let kinds: &[NoticeKind] = if policy.resolve_reply {
        &[NoticeKind::Refresh, NoticeKind::ResolvedReply]
    } else {
        &[NoticeKind::Refresh]
    };
    Change::Resolve {
        id: alert.id,
        reason,
        notices: routing.follow(&alert.subject(), &alert.destinations, kinds),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::alerts::Damping;
    use crate::alerts::directory::Directory;

    /// `plan` with no directory (no client policies: everything to the manager at once).
    fn run<'a>(
        policy: &AlertPolicy,
        installation: &'a Installation,
        open: &[OpenAlert],
        outputs: &[(&'a str, &'a EvalOutput)],
        now: i64,
    ) -> Vec<Change<'a>> {
        let directory = Directory::default();
        plan(
            policy,
            &Routing {
                directory: &directory,
                now,
            },
            installation,
            open,
            outputs,
        )
    }

    const CHAT: i64 = -100;

    fn installation() -> Installation {
        Installation::example("vector-main", CHAT)
    }

    fn finding(key: &str, severity: Severity) -> Finding {
        Finding {
            key: key.into(),
            severity,
            summary: format!("{key} holds"),
            details: String::new(),
            labels: Vec::new(),
            translations: Default::default(),
        }
    }

    fn output(findings: Vec<Finding>) -> EvalOutput {
        EvalOutput {
            findings,
            state: Vec::new(),
        }
    }

    fn open(id: i64, key: &str, state: AlertState) -> OpenAlert {
        let f = finding(key, Severity::Warning);
        OpenAlert {
            id,
            installation_id: "vector-main".into(),
            parent: None,
            plugin: "p".into(),
            key: key.into(),
            client: "Vector".into(),
            chat_id: CHAT,
            zone: TimeZone::UTC,
            state,
            severity: f.severity,
            audience: Audience::Support,
            summary: f.summary,
            details: f.details,
            first_seen_at: 0,
            seen_count: 1,
            cleared_at: None,
            cleared_count: 0,
            escalate_at: None,
            cause: None,
            destinations: vec![Known {
                to: crate::alerts::directory::Destination::chat(CHAT),
                role: crate::alerts::directory::Role::Manager,
                held: false,
            }],
        }
    }

    fn kinds(change: &Change) -> Vec<NoticeKind> {
        change.notices().iter().map(|n| n.kind).collect()
    }

    #[test]
    fn a_new_finding_fires_and_owes_a_post() {
        let inst = installation();
        let out = output(vec![finding("k", Severity::Critical)]);
        let changes = run(&AlertPolicy::default(), &inst, &[], &[("p", &out)], 10);
        assert!(matches!(
            changes[0],
            Change::Open {
                firing: Some(_),
                ..
            }
        ));
        assert_eq!(kinds(&changes[0]), [NoticeKind::Post]);
    }

    #[test]
    fn a_gone_finding_resolves_with_an_edit_and_a_reply() {
        let inst = installation();
        let out = output(vec![]);
        let alerts = [open(7, "k", AlertState::Acknowledged)];
        let changes = run(&AlertPolicy::default(), &inst, &alerts, &[("p", &out)], 10);
        assert!(matches!(changes[0], Change::Resolve { id: 7, .. }));
        assert_eq!(
            kinds(&changes[0]),
            [NoticeKind::Refresh, NoticeKind::ResolvedReply]
        );
    }

    #[test]
    fn other_plugins_alerts_are_left_alone() {
        let inst = installation();
        let out = output(vec![]);
        let alerts = [open(7, "k", AlertState::Firing)];
        let changes = run(&AlertPolicy::default(), &inst, &alerts, &[("q", &out)], 10);
        assert!(changes.is_empty());
    }

    #[test]
    fn a_raised_severity_edits_and_replies_once() {
        let inst = installation();
        let out = output(vec![finding("k", Severity::Critical)]);
        let alerts = [open(7, "k", AlertState::Firing)];
        let changes = run(&AlertPolicy::default(), &inst, &alerts, &[("p", &out)], 10);
        assert_eq!(
            kinds(&changes[0]),
            [NoticeKind::Refresh, NoticeKind::Raised]
        );
        let Change::Seen { note, .. } = &changes[0] else {
            panic!("{changes:?}")
        };
        assert!(note.as_deref().unwrap().contains("warning → critical"));
        let same = output(vec![finding("k", Severity::Warning)]);
        let changes = run(&AlertPolicy::default(), &inst, &alerts, &[("p", &same)], 10);
        assert!(kinds(&changes[0]).is_empty());
    }

    #[test]
    fn a_warning_raised_to_critical_starts_escalating() {
        use crate::alerts::directory::{ClientPolicy, EscalationPolicy, Step, Target};
        let mut directory = Directory::default();
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
            "Vector".into(),
            ClientPolicy {
                escalation: Some("e".into()),
                ..ClientPolicy::default()
            },
        );
        let inst = installation();
        let routing = Routing {
            directory: &directory,
            now: 1_000,
        };
        let alerts = [open(7, "k", AlertState::Firing)];
        let raised = output(vec![finding("k", Severity::Critical)]);
        let changes = plan(
            &AlertPolicy::default(),
            &routing,
            &inst,
            &alerts,
            &[("p", &raised)],
        );
        let Change::Seen { escalate_at, .. } = &changes[0] else {
            panic!("{changes:?}")
        };
        assert_eq!(*escalate_at, Some(1_000 + 15 * 60 * 1_000));
        let same = output(vec![finding("k", Severity::Warning)]);
        let changes = plan(
            &AlertPolicy::default(),
            &routing,
            &inst,
            &alerts,
            &[("p", &same)],
        );
        assert!(matches!(
            changes[0],
            Change::Seen {
                escalate_at: None,
                ..
            }
        ));
    }

    #[test]
    fn damping_holds_firing_and_resolving() {
        let policy = AlertPolicy {
            damping: [(
                "p".to_string(),
                Damping {
                    fire_after_evaluations: 2,
                    resolve_after: Duration::from_secs(60),
                    ..Damping::default()
                },
            )]
            .into(),
            ..AlertPolicy::default()
        };
        let installation = installation();
        let route = &installation;
        let present = output(vec![finding("k", Severity::Warning)]);
        let changes = run(&policy, route, &[], &[("p", &present)], 0);
        assert!(matches!(changes[0], Change::Open { firing: None, .. }));
        assert!(changes[0].notices().is_empty());

        let pending = [open(1, "k", AlertState::Pending)];
        let changes = run(&policy, route, &pending, &[("p", &present)], 1);
        assert!(matches!(changes[0], Change::Seen { fires: Some(_), .. }));
        assert_eq!(kinds(&changes[0]), [NoticeKind::Post]);

        let gone = output(vec![]);
        let changes = run(&policy, route, &pending, &[("p", &gone)], 1);
        assert_eq!(changes, [Change::Discard { id: 1 }]);

        let mut firing = open(1, "k", AlertState::Firing);
        let changes = run(&policy, route, &[firing.clone()], &[("p", &gone)], 1_000);
        assert_eq!(changes, [Change::Fading { id: 1 }]);
        firing.cleared_at = Some(1_000);
        firing.cleared_count = 1;
        let changes = run(&policy, route, &[firing.clone()], &[("p", &gone)], 30_000);
        assert_eq!(changes, [Change::Fading { id: 1 }]);
        let changes = run(&policy, route, &[firing], &[("p", &gone)], 61_000);
        assert!(matches!(changes[0], Change::Resolve { id: 1, .. }));
    }

    #[test]
    fn retiring_resolves_the_told_and_forgets_the_pending() {
        let alerts = [
            open(1, "a", AlertState::Firing),
            open(2, "b", AlertState::Pending),
        ];
        let directory = Directory::default();
        let changes = retire(
            &AlertPolicy::default(),
            &Routing {
                directory: &directory,
                now: 0,
            },
            &alerts,
            resolution::INSTALLATION_REMOVED,
        );
        assert!(matches!(
            changes[0],
            Change::Resolve {
                id: 1,
                reason: resolution::INSTALLATION_REMOVED,
                ..
            }
        ));
        assert_eq!(changes[1], Change::Discard { id: 2 });
    }
}

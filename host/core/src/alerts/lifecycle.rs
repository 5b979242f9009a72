//! The lifecycle decision: given the alerts open for an installation and what each plugin
//! just reported, what changes and which notifications that owes. Pure, so every rule is
//! tested without a database; `store` applies the result in the evaluation's transaction.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use jiff::tz::TimeZone;

use super::detail::Whom;
use super::directory::Audience;
use super::model::Event;
use super::policy::Restraint;
use super::routing::{FirstRoute, Known, NewDestination, Notice, Routing, Subject};
use super::{AlertPolicy, AlertState, Detail, EventKind, NoticeKind, Resolution};
use crate::contract::{EvalOutput, Finding, Severity};
use crate::contract::{OVERFLOW_KEY, Translation, Translations};
use crate::fleet::Installation;
use crate::i18n::Lang;

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
    /// Opened as flapping: it resolves only after [`Restraint::quiet`].
    pub flapping: bool,
    /// Where its living messages are (or will be).
    pub destinations: Vec<Known>,
}

/// What an installation's alerts did lately (within [`Restraint::window`]), as restraint
/// needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recent {
    /// Alerts each plugin opened.
    pub opened: HashMap<String, usize>,
    /// How often each plugin's key resolved.
    pub resolved: HashMap<(String, String), usize>,
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
    /// Whether people are told as it fires: not for old news.
    pub heard: Heard,
}

/// How an alert's opening is heard: at once, or as old news, which tells nobody.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Heard {
    #[default]
    Now,
    /// Opened by a late report (an agent's backlog): told nobody until the backlog is
    /// concluded (`alerts::backlog`).
    Late,
    /// Opened by imported history (`import`): told nobody, ever; what is still open when
    /// the import ends resolves there.
    History,
}

impl Heard {
    /// As the `alerts.late` column keeps it.
    pub fn code(self) -> i64 {
        match self {
            Heard::Now => 0,
            Heard::Late => 1,
            Heard::History => 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Change<'a> {
    /// A key with no open alert: a new alert, firing (`Some`) unless damping holds it
    /// pending.
    Open {
        installation: &'a Installation,
        plugin: &'a str,
        /// The plugin's, or the host's own that stands for what is over the plugin's
        /// allowance ([`OVERFLOW_KEY`]).
        finding: Cow<'a, Finding>,
        audience: Audience,
        firing: Option<Firing>,
        /// Opened as flapping: its key resolved this often lately.
        flapping: Option<usize>,
        story: Story,
    },
    /// Reported again. `fires`: damping let a pending alert through now. `note`: what
    /// changed that the timeline should say.
    Seen {
        id: i64,
        finding: Cow<'a, Finding>,
        fires: Option<Firing>,
        note: Option<Detail>,
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
        reason: Resolution,
        notices: Vec<Notice>,
    },
    /// A pending alert whose finding went away before anybody was told: forgotten.
    Discard { id: i64 },
}

/// The story a new alert joins: its installation's oldest open alert that people were
/// (or are being) told about, so its post replies to that alert's message and one
/// installation's trouble reads as one thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Story {
    /// An alert already stored.
    Of(i64),
    /// The `n`th alert (from 0) opened by the same changes, before this one.
    Opened(usize),
    /// It starts a story of its own.
    Own,
}

/// Threads each alert `changes` open into its story, taking the changes in the order they
/// are applied: alerts that fire or resolve before it count as they will be then.
fn thread(open: &[OpenAlert], changes: &mut [Change]) {
    let mut told: BTreeSet<i64> = open
        .iter()
        .filter(|a| a.state != AlertState::Pending)
        .map(|a| a.id)
        .collect();
    let mut opened = 0;
    let mut first_firing = None;
    for change in changes {
        match change {
            Change::Open { firing, story, .. } => {
                // Stored alerts are older than any these changes open.
                *story = match (told.first(), first_firing) {
                    (Some(&id), _) => Story::Of(id),
                    (None, Some(n)) => Story::Opened(n),
                    (None, None) => Story::Own,
                };
                if firing.is_some() && first_firing.is_none() {
                    first_firing = Some(opened);
                }
                opened += 1;
            }
            Change::Seen {
                id, fires: Some(_), ..
            } => {
                told.insert(*id);
            }
            Change::Resolve { id, .. } => {
                told.remove(id);
            }
            Change::Seen { .. } | Change::Fading { .. } | Change::Discard { .. } => {}
        }
    }
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
        return Firing {
            announce_at: Some(silence.until),
            events: vec![Event::new(EventKind::Silenced, silence.why.clone())],
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
            let to = Whom {
                chat: d.to.chat_id,
                role: Some(d.role),
                contact: d.contact.clone(),
            };
            events.push(Event::new(EventKind::Held, Detail::Held { to, until }));
        }
    }
    Firing {
        escalate_at: routing.escalation_start(subject),
        announce_at: None,
        cause: None,
        route,
        events,
        heard: Heard::Now,
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
    let detail = Detail::Waiting {
        ms: grouping.wait.as_millis() as i64,
        cause: cause.to_string(),
    };
    Firing {
        announce_at: Some(routing.now + grouping.wait.as_millis() as i64),
        cause: Some(cause.to_string()),
        events: vec![Event::new(EventKind::Waiting, detail)],
        ..Firing::default()
    }
}

/// The changes of an evaluation of a late report (`report::Timing`) or of imported
/// history, as `heard` says: old news pages nobody. What it opens fires as history, routed
/// nowhere and grouped with nothing (an incident is about now), until `alerts::backlog`
/// concludes the installation's backlog and announces what is still true (history is
/// never announced); what it sees of open alerts rings no one. Resolutions still reach the
/// messages people already have.
pub fn as_old_news(changes: &mut [Change], heard: Heard) {
    let why = match heard {
        Heard::Now => return,
        Heard::Late => Detail::Late,
        Heard::History => Detail::Imported,
    };
    let unheard = || Firing {
        heard,
        events: vec![Event::new(EventKind::Late, why.clone())],
        ..Firing::default()
    };
    for change in changes {
        match change {
            Change::Open {
                firing: Some(firing),
                ..
            } => *firing = unheard(),
            Change::Seen {
                fires,
                joins,
                escalate_at,
                notices,
                ..
            } => {
                if let Some(firing) = fires {
                    *firing = unheard();
                }
                joins.clear();
                *escalate_at = None;
                notices.clear();
            }
            _ => {}
        }
    }
}

/// The findings of `plugin` that become or keep alerts: those with an open alert, and new
/// ones up to what the plugin may still open here ([`Restraint::new_alerts`], most severe
/// first); the rest stand together as one finding of the host's ([`OVERFLOW_KEY`]),
/// which says how many and which.
fn restrain<'a>(
    restraint: &Restraint,
    recent: &Recent,
    plugin: &str,
    mine: &[&OpenAlert],
    findings: &'a [Finding],
) -> Vec<Cow<'a, Finding>> {
    let known = |f: &Finding| mine.iter().any(|a| a.key == f.key);
    let allowed = restraint
        .new_alerts
        .saturating_sub(recent.opened.get(plugin).copied().unwrap_or(0));
    let mut new: Vec<&Finding> = findings.iter().filter(|f| !known(f)).collect();
    new.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let over = new.split_off(allowed.min(new.len()));
    let mut kept: Vec<Cow<'a, Finding>> = findings
        .iter()
        .filter(|f| known(f) || new.iter().any(|n| std::ptr::eq(*n, *f)))
        .map(Cow::Borrowed)
        .collect();
    if !over.is_empty() {
        kept.push(Cow::Owned(overflow(restraint, plugin, &over)));
    }
    kept
}

/// The host's finding for `over`, the findings `plugin` may not open alerts for now.
fn overflow(restraint: &Restraint, plugin: &str, over: &[&Finding]) -> Finding {
    const NAMED: usize = 10;
    let keys = over
        .iter()
        .take(NAMED)
        .map(|f| f.key.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let keys = if over.len() > NAMED {
        format!("{keys}, …")
    } else {
        keys
    };
    let words = |lang: Lang| {
        let args = [
            ("plugin", plugin.to_string().into()),
            ("count", over.len().into()),
            ("allowed", restraint.new_alerts.into()),
            (
                "within",
                lang.duration(restraint.window.as_millis() as i64).into(),
            ),
            ("keys", keys.clone().into()),
        ];
        (
            lang.t_with("overflow-summary", &args),
            lang.t_with("overflow-details", &args),
        )
    };
    let (summary, details) = words(Lang::En);
    let translations = Lang::ALL
        .into_iter()
        .filter(|lang| *lang != Lang::En)
        .map(|lang| {
            let (summary, details) = words(lang);
            Translation {
                language: lang.code().to_string(),
                summary,
                details,
            }
        })
        .collect();
    Finding {
        key: OVERFLOW_KEY.to_string(),
        severity: over
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Info),
        summary,
        details,
        labels: Vec::new(),
        translations: Translations(translations),
    }
}

/// What the successful `outputs` of one evaluation do to the installation's `open` alerts,
/// given what its alerts did lately. Plugins without an output (they failed) leave their
/// alerts as they are.
pub fn plan<'a>(
    policy: &AlertPolicy,
    routing: &Routing,
    installation: &'a Installation,
    open: &[OpenAlert],
    recent: &Recent,
    outputs: &[(&'a str, &'a EvalOutput)],
) -> Vec<Change<'a>> {
    let now = routing.now;
    let restraint = &policy.restraint;
    let mut changes = Vec::new();
    for &(plugin, output) in outputs {
        let damping = policy.damping_for(plugin);
        let mine: Vec<&OpenAlert> = open.iter().filter(|a| a.plugin == plugin).collect();
        let findings = restrain(restraint, recent, plugin, &mine, &output.findings);
        for finding in &findings {
            let audience = Audience::from_labels(&finding.labels);
            let about = subject(installation, plugin, finding.severity, audience);
            let Some(alert) = mine.iter().find(|a| a.key == finding.key) else {
                let firing = damping
                    .fires(1, now, now)
                    .then(|| fire_or_wait(policy, routing, &about, &finding.key));
                let flaps = recent
                    .resolved
                    .get(&(plugin.to_string(), finding.key.clone()))
                    .copied()
                    .unwrap_or(0);
                changes.push(Change::Open {
                    installation,
                    plugin,
                    finding: finding.clone(),
                    audience,
                    firing,
                    flapping: (flaps >= restraint.flap_after).then_some(flaps),
                    story: Story::Own,
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
                let note = Detail::now(alert.severity, finding);
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
                finding: finding.clone(),
                fires: fires.then(|| fire_or_wait(policy, routing, &about, &finding.key)),
                note,
                joins,
                escalate_at,
                notices,
            });
        }
        for alert in mine {
            if findings.iter().any(|f| f.key == alert.key) {
                continue;
            }
            if alert.state == AlertState::Pending {
                changes.push(Change::Discard { id: alert.id });
                continue;
            }
            let since = alert.cleared_at.unwrap_or(now);
            let quiet =
                !alert.flapping || now.saturating_sub(since) >= restraint.quiet.as_millis() as i64;
            if quiet && damping.resolves(alert.cleared_count + 1, since, now) {
                changes.push(resolve(policy, routing, alert, Resolution::Cleared));
            } else {
                changes.push(Change::Fading { id: alert.id });
            }
        }
    }
    thread(open, &mut changes);
    changes
}

/// Every open alert resolved (or, if nobody was told, discarded) for `reason`: its
/// installation or its plugin is gone.
pub fn retire<'a>(
    policy: &AlertPolicy,
    routing: &Routing,
    open: &[OpenAlert],
    reason: Resolution,
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
    reason: Resolution,
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

    /// `plan` with no directory (no client policies: everything to the manager at once)
    /// and nothing lately.
    fn run<'a>(
        policy: &AlertPolicy,
        installation: &'a Installation,
        open: &[OpenAlert],
        outputs: &[(&'a str, &'a EvalOutput)],
        now: i64,
    ) -> Vec<Change<'a>> {
        run_after(policy, installation, open, &Recent::default(), outputs, now)
    }

    /// `run` with what the installation's alerts did lately.
    fn run_after<'a>(
        policy: &AlertPolicy,
        installation: &'a Installation,
        open: &[OpenAlert],
        recent: &Recent,
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
            recent,
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
            flapping: false,
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
        assert!(
            matches!(
                note,
                Some(Detail::Now {
                    was: Some(Severity::Warning),
                    severity: Severity::Critical,
                    ..
                })
            ),
            "{note:?}"
        );
        let same = output(vec![finding("k", Severity::Warning)]);
        let changes = run(&AlertPolicy::default(), &inst, &alerts, &[("p", &same)], 10);
        assert!(kinds(&changes[0]).is_empty());
    }

    #[test]
    fn a_warning_raised_to_critical_starts_escalating() {
        let directory = crate::alerts::fixtures::escalating("Vector");
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
            &Recent::default(),
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
            &Recent::default(),
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

    /// The story each opened alert joins, in the order of `changes`.
    fn stories(changes: &[Change]) -> Vec<Story> {
        changes
            .iter()
            .filter_map(|c| match c {
                Change::Open { story, .. } => Some(*story),
                _ => None,
            })
            .collect()
    }

    /// A new alert joins its installation's oldest open alert people were told about;
    /// alerts that fire or resolve in the same evaluation count as they will be when it
    /// is stored; with none, the first alert this evaluation fires starts the story.
    #[test]
    fn a_new_alert_joins_its_installations_story() {
        let inst = installation();
        let policy = AlertPolicy::default();
        let a = output(vec![finding("a", Severity::Critical)]);
        let b = output(vec![finding("b", Severity::Critical)]);
        let none = output(Vec::new());

        let fresh = run(&policy, &inst, &[], &[("p", &a), ("q", &b)], 10);
        assert_eq!(stories(&fresh), [Story::Own, Story::Opened(0)]);

        let told = [
            open(5, "x", AlertState::Acknowledged),
            open(3, "y", AlertState::Pending),
        ];
        let mut told = told.to_vec();
        told[0].plugin = "r".into();
        told[1].plugin = "r".into();
        let r = output(vec![finding("x", Severity::Warning)]);
        let joined = run(&policy, &inst, &told, &[("r", &r), ("q", &b)], 10);
        assert_eq!(stories(&joined), [Story::Of(5)], "not the pending 3");

        let resolving = [open(5, "x", AlertState::Firing)];
        let after = run(&policy, &inst, &resolving, &[("p", &none), ("q", &b)], 10);
        assert!(matches!(after[0], Change::Resolve { id: 5, .. }));
        assert_eq!(stories(&after), [Story::Own], "5 resolved before it opened");
        let before = run(&policy, &inst, &resolving, &[("q", &b), ("p", &none)], 10);
        assert_eq!(
            stories(&before),
            [Story::Of(5)],
            "5 still open when it opened"
        );

        let damped = AlertPolicy {
            damping: [(
                "p".to_string(),
                Damping {
                    fire_after_evaluations: 2,
                    ..Damping::default()
                },
            )]
            .into(),
            ..AlertPolicy::default()
        };
        let quiet = run(&damped, &inst, &[], &[("p", &a), ("q", &b)], 10);
        assert_eq!(
            stories(&quiet),
            [Story::Own, Story::Own],
            "a pending alert starts no story for others"
        );
        let pending = [open(3, "a", AlertState::Pending)];
        let fires = run(&damped, &inst, &pending, &[("p", &a), ("q", &b)], 10);
        assert!(matches!(fires[0], Change::Seen { fires: Some(_), .. }));
        assert_eq!(stories(&fires), [Story::Of(3)], "3 fires before it opens");
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
            Resolution::InstallationRemoved,
        );
        assert!(matches!(
            changes[0],
            Change::Resolve {
                id: 1,
                reason: Resolution::InstallationRemoved,
                ..
            }
        ));
        assert_eq!(changes[1], Change::Discard { id: 2 });
    }

    #[test]
    fn a_flood_opens_what_the_plugin_may_and_one_alert_for_the_rest() {
        let inst = installation();
        let out = output(
            (0..20)
                .map(|n| {
                    let severity = if n == 15 {
                        Severity::Critical
                    } else {
                        Severity::Info
                    };
                    finding(&format!("k{n:02}"), severity)
                })
                .collect(),
        );
        let recent = Recent {
            opened: HashMap::from([("p".to_string(), 7)]),
            ..Recent::default()
        };
        let changes = run_after(
            &AlertPolicy::default(),
            &inst,
            &[],
            &recent,
            &[("p", &out)],
            10,
        );
        let opened: Vec<&str> = changes
            .iter()
            .map(|c| match c {
                Change::Open { finding, .. } => finding.key.as_str(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            opened,
            ["k00", "k01", "k15", OVERFLOW_KEY],
            "three left, the critical first"
        );
        let Change::Open { finding: more, .. } = &changes[3] else {
            unreachable!()
        };
        assert_eq!(more.severity, Severity::Info);
        assert_eq!(
            more.summary,
            "p found 17 more problems here than the 10 new alerts it may raise in 60 min"
        );
        assert!(
            more.details
                .starts_with("Not raised one by one: k02, k03, "),
            "{}",
            more.details
        );
        assert_eq!(more.translations.0.len(), 2, "Russian and Italian too");

        // Once the others are gone, the overflow alert resolves as any other.
        let alerts = [OpenAlert {
            plugin: "p".into(),
            ..open(9, OVERFLOW_KEY, AlertState::Firing)
        }];
        let calm = output(vec![finding("k00", Severity::Info)]);
        let changes = run_after(
            &AlertPolicy::default(),
            &inst,
            &alerts,
            &recent,
            &[("p", &calm)],
            10,
        );
        assert!(
            changes
                .iter()
                .any(|c| matches!(c, Change::Resolve { id: 9, .. })),
            "{changes:?}"
        );
    }

    #[test]
    fn a_key_that_keeps_coming_back_opens_as_flapping_and_waits_for_quiet() {
        let inst = installation();
        let out = output(vec![finding("k", Severity::Warning)]);
        let once = Recent {
            resolved: HashMap::from([(("p".to_string(), "k".to_string()), 1)]),
            ..Recent::default()
        };
        let changes = run_after(
            &AlertPolicy::default(),
            &inst,
            &[],
            &once,
            &[("p", &out)],
            10,
        );
        assert!(matches!(changes[0], Change::Open { flapping: None, .. }));
        let twice = Recent {
            resolved: HashMap::from([(("p".to_string(), "k".to_string()), 2)]),
            ..Recent::default()
        };
        let changes = run_after(
            &AlertPolicy::default(),
            &inst,
            &[],
            &twice,
            &[("p", &out)],
            10,
        );
        assert!(matches!(
            changes[0],
            Change::Open {
                flapping: Some(2),
                ..
            }
        ));

        let quiet = AlertPolicy::default().restraint.quiet.as_millis() as i64;
        let flapping = [OpenAlert {
            flapping: true,
            cleared_at: Some(1_000),
            ..open(7, "k", AlertState::Firing)
        }];
        let gone = output(vec![]);
        let changes = run(
            &AlertPolicy::default(),
            &inst,
            &flapping,
            &[("p", &gone)],
            1_000 + quiet - 1,
        );
        assert_eq!(
            changes,
            [Change::Fading { id: 7 }],
            "gone, but not for long enough"
        );
        let changes = run(
            &AlertPolicy::default(),
            &inst,
            &flapping,
            &[("p", &gone)],
            1_000 + quiet,
        );
        assert!(matches!(changes[0], Change::Resolve { id: 7, .. }));
    }
}

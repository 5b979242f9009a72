//! Where an alert's notices go, and how: to whom (the manager's chat, the client's sysadmin,
//! sales, on-call, whoever an escalation brought in), with sound or without, now or held
//! for the morning digest, on the client's clock. Every notice an alert owes is routed here
//! when the change that owes it is decided; the outbox records the answer.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use reveille_sdk::parse_duration;

use super::directory::{
    Action, Audience, Class, Destination, Directory, Role, Target, day_rules, night_rules,
};
use super::holidays::holidays_between;
use super::hours::Calendar;
use super::maintenance::Covered;
use super::{Detail, NoticeKind, Severity};

/// What routing needs to know about an alert.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    pub installation: &'a str,
    pub client: &'a str,
    /// The installation's parent (redirect server, cloud), if it names one.
    pub parent: Option<&'a str>,
    pub plugin: &'a str,
    /// The installation's zone, the default clock of its client's policy.
    pub zone: TimeZone,
    /// The installation's chat.
    pub manager_chat: i64,
    pub severity: Severity,
    pub audience: Audience,
}

/// A destination an alert already has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub to: Destination,
    pub role: Role,
    /// Its post is held for the digest: later changes are shown there, not sent.
    pub held: bool,
}

/// A destination an alert gains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDestination {
    pub to: Destination,
    pub role: Role,
    /// The person, when it is one.
    pub contact: Option<String>,
    /// Held for the digest due then.
    pub held_until: Option<i64>,
}

/// One notification for one destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub to: Destination,
    /// Sent without sound.
    pub silent: bool,
    /// Not sent: kept for the digest due then.
    pub held_until: Option<i64>,
}

/// Where a new alert goes, what it owes, and what the timeline should say about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirstRoute {
    pub destinations: Vec<NewDestination>,
    pub notices: Vec<Notice>,
    /// Destinations that could not be written to, for the timeline.
    pub unreachable: Vec<Detail>,
    /// A maintenance window keeps it quiet: announced (routed again) when it ends.
    pub silenced: Option<Silence>,
}

/// Why and until when an alert is not announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silence {
    pub until: i64,
    /// The window, its author and reason, for the timeline.
    pub why: Detail,
}

/// People or chats a role or step stands for: where, and who when it is a person.
pub type Targets = Vec<(Destination, Option<String>)>;

/// Whom `targets` names, for people to read: each person by name, a chat by itself.
pub fn names(targets: &Targets) -> Vec<String> {
    targets
        .iter()
        .map(|(to, contact)| contact.clone().unwrap_or_else(|| to.to_string()))
        .collect()
}

/// The routing questions, answered against one snapshot of the directory at `now`.
pub struct Routing<'a> {
    pub directory: &'a Directory,
    pub now: i64,
}

impl Routing<'_> {
    /// When quiet hours for the subject's client end, if it is quiet now.
    pub fn quiet_until(&self, subject: &Subject) -> Option<i64> {
        let at = self.now;
        let policy = self.directory.policies.get(subject.client)?;
        let probe = Calendar {
            zone: policy.zone_or(&subject.zone),
            windows: &policy.quiet_hours,
            holidays: &[],
        };
        let today = probe.date_of(at);
        let holidays = holidays_between(
            &policy.holidays,
            &policy.holiday_calendars,
            today.yesterday().unwrap_or(today),
            today
                .checked_add(jiff::Span::new().days(62))
                .unwrap_or(today),
        );
        let calendar = Calendar {
            holidays: &holidays,
            ..probe
        };
        let end = calendar.quiet_until(at)?;
        // An earlier digest time on the morning quiet hours end.
        let digest = policy.digest_at.and_then(|time| {
            let morning = calendar.date_of(end);
            let at_time = calendar.instant(morning.to_datetime(time))?;
            (at_time > at && at_time < end).then_some(at_time)
        });
        Some(digest.unwrap_or(end))
    }

    /// What each role gets for the subject now.
    fn rules(&self, subject: &Subject, quiet: bool) -> BTreeMap<Role, Action> {
        let policy = self.directory.policies.get(subject.client);
        let rules = match (quiet, policy) {
            (true, Some(p)) => p.night.clone().unwrap_or_else(night_rules),
            (false, Some(p)) => p.day.clone().unwrap_or_else(day_rules),
            (_, None) => day_rules(),
        };
        let class = Class::of(subject.severity, subject.audience);
        rules.get(&class).cloned().unwrap_or_default()
    }

    /// The people or chats a role stands for, for the subject's client, now.
    fn resolve(&self, subject: &Subject, role: Role) -> Targets {
        let policy = self.directory.policies.get(subject.client);
        let manager = || Destination {
            chat_id: subject.manager_chat,
            thread_id: policy.and_then(|p| p.manager_thread_id).unwrap_or(0),
        };
        let contact =
            |name: &Option<String>| name.as_ref().map(|n| self.person(n)).unwrap_or_default();
        match role {
            Role::Manager => vec![(manager(), None)],
            Role::Sales => match policy.and_then(|p| p.sales.clone()) {
                Some(name) => self.person(&name),
                None => vec![(manager(), None)],
            },
            Role::Sysadmin => match policy {
                Some(p) if p.sysadmin_consent => contact(&p.sysadmin),
                _ => Vec::new(),
            },
            Role::Oncall => match policy.and_then(|p| p.oncall.as_ref()) {
                Some(schedule) => self.on_call(schedule),
                None => Vec::new(),
            },
            Role::Escalation => Vec::new(),
        }
    }

    fn person(&self, name: &str) -> Targets {
        self.directory
            .contacts
            .get(name)
            .map(|p| vec![(p.contact.destination(), Some(name.to_string()))])
            .unwrap_or_default()
    }

    fn on_call(&self, schedule: &str) -> Targets {
        self.directory
            .schedules
            .get(schedule)
            .map(|s| self.person(&s.on_call(self.now).contact))
            .unwrap_or_default()
    }

    fn reachable(&self, contact: &Option<String>) -> bool {
        contact.as_ref().is_none_or(|name| {
            self.directory
                .contacts
                .get(name)
                .is_some_and(|p| p.contact.reachable(p.started))
        })
    }

    /// Where a firing alert first goes. If nobody can be told now (every rule holds, or
    /// the people it names cannot be written to) and the alert is critical, the manager's
    /// chat is woken rather than nobody.
    pub fn first(&self, subject: &Subject) -> FirstRoute {
        if let Some(silence) = self.maintenance(subject) {
            return FirstRoute {
                silenced: Some(silence),
                ..FirstRoute::default()
            };
        }
        let quiet_until = self.quiet_until(subject);
        let rules = self.rules(subject, quiet_until.is_some());
        let mut route = FirstRoute::default();
        for (&role, &action) in &rules {
            for (to, contact) in self.resolve(subject, role) {
                if route.destinations.iter().any(|d| d.to == to) {
                    continue;
                }
                if !self.reachable(&contact) {
                    route.unreachable.push(Detail::Unreachable {
                        contact: contact.unwrap_or_default(),
                        role,
                    });
                    continue;
                }
                let held_until = match action {
                    Action::Hold => quiet_until.or(Some(self.now)),
                    _ => None,
                };
                route.destinations.push(NewDestination {
                    to,
                    role,
                    contact,
                    held_until,
                });
                route.notices.push(Notice {
                    kind: NoticeKind::Post,
                    to,
                    silent: action == Action::Silent,
                    held_until,
                });
            }
        }
        let told = route.notices.iter().any(|n| n.held_until.is_none());
        if !told && subject.severity == Severity::Critical && !route.unreachable.is_empty() {
            let to = self.resolve(subject, Role::Manager)[0].0;
            route.destinations.retain(|d| d.to != to);
            route.notices.retain(|n| n.to != to);
            route.destinations.push(NewDestination {
                to,
                role: Role::Manager,
                contact: None,
                held_until: None,
            });
            route.notices.push(Notice {
                kind: NoticeKind::Post,
                to,
                silent: false,
                held_until: None,
            });
        }
        route
    }

    /// The maintenance window covering the subject now, if any (the one ending last).
    fn maintenance(&self, subject: &Subject) -> Option<Silence> {
        let covered = Covered {
            installation: subject.installation,
            client: subject.client,
            parent: subject.parent,
            plugin: subject.plugin,
        };
        self.directory
            .maintenance
            .iter()
            .filter(|(_, m)| m.scope_covers(&covered))
            .filter_map(|(name, m)| m.on_until(self.now).map(|until| (name, m, until)))
            .max_by_key(|(_, _, until)| *until)
            .map(|(name, m, until)| Silence {
                until,
                why: Detail::Silenced {
                    window: name.clone(),
                    author: m.author.clone(),
                    reason: m.reason.clone(),
                    until,
                },
            })
    }

    /// `kinds` for each destination an alert has. A held destination gets nothing (its
    /// digest shows the alert as it is then); replies ring only where the role is woken now.
    pub fn follow(&self, subject: &Subject, known: &[Known], kinds: &[NoticeKind]) -> Vec<Notice> {
        let quiet = self.quiet_until(subject).is_some();
        let rules = self.rules(subject, quiet);
        let mut notices = Vec::new();
        for destination in known.iter().filter(|d| !d.held) {
            let action = match destination.role {
                // They were brought in to be woken; later news about it reaches them quietly.
                Role::Escalation => Action::Silent,
                role => rules.get(&role).copied().unwrap_or(if quiet {
                    Action::Silent
                } else {
                    Action::Wake
                }),
            };
            for &kind in kinds {
                notices.push(Notice {
                    kind,
                    to: destination.to,
                    // Edits never ring; replies ring where the role is woken now.
                    silent: !matches!(kind, NoticeKind::Post | NoticeKind::Refresh)
                        && action != Action::Wake,
                    held_until: None,
                });
            }
        }
        notices
    }

    /// When an alert that fires now escalates first, if its client's policy escalates it.
    pub fn escalation_start(&self, subject: &Subject) -> Option<i64> {
        let policy = self.escalation(subject)?;
        Some(self.now.saturating_add(policy.delay(0)))
    }

    fn escalation(&self, subject: &Subject) -> Option<&super::directory::EscalationPolicy> {
        let name = self
            .directory
            .policies
            .get(subject.client)?
            .escalation
            .as_ref()?;
        self.directory
            .escalations
            .get(name)
            .filter(|p| p.severities.contains(&subject.severity))
    }

    /// Escalation step number `taken` (0 the first): who it brings in, and when the next
    /// step is due (none after the last repetition).
    pub fn escalation_step(&self, subject: &Subject, taken: i64) -> Option<(Targets, Option<i64>)> {
        let policy = self.escalation(subject)?;
        let steps = policy.steps.len() as i64;
        let total = steps * (i64::from(policy.repeat) + 1);
        if taken >= total {
            return None;
        }
        let step = &policy.steps[(taken % steps) as usize];
        let mut targets = Vec::new();
        for target in &step.to {
            let found = match target {
                Target::Contact(name) => self.person(name),
                Target::Oncall(schedule) => self.on_call(schedule),
            };
            for (to, contact) in found {
                if self.reachable(&contact) && !targets.iter().any(|(t, _)| *t == to) {
                    targets.push((to, contact));
                }
            }
        }
        let next = (taken + 1 < total)
            .then(|| self.now.saturating_add(policy.delay((taken + 1) as usize)));
        Some((targets, next))
    }

    /// How long an acknowledgement taken now lasts: until when, if it expires.
    pub fn ack_expires_at(&self, subject: &Subject) -> Option<i64> {
        let own = self
            .directory
            .policies
            .get(subject.client)
            .and_then(|p| p.ack_expires_after.as_deref())
            .and_then(|text| parse_duration(text).ok())
            .map(|d| d.as_millis() as i64);
        let length = own.or(self.directory.ack_expires_after)?;
        (length > 0).then(|| self.now.saturating_add(length))
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::{Date, Time};

    use super::*;
    use crate::alerts::directory::{ClientPolicy, Contact, Person};
    use crate::alerts::hours::Window;
    use crate::alerts::oncall::{Rotation, Schedule};

    const CHAT: i64 = -100;

    /// Client `C`, asleep all day, on call: `x`, who never opened a chat with the bot.
    fn directory() -> Directory {
        let mut directory = Directory::default();
        directory.contacts.insert(
            "x".into(),
            Person {
                contact: Contact {
                    telegram_user_id: 7,
                    group_chat_id: None,
                    thread_id: None,
                },
                started: false,
            },
        );
        directory.schedules.insert(
            "s".into(),
            Schedule {
                contacts: vec!["x".into()],
                rotation: Rotation::Daily,
                handoff: Time::constant(9, 0, 0, 0),
                timezone: "UTC".into(),
                start: Date::constant(2026, 1, 1),
                overrides: Vec::new(),
            },
        );
        directory.policies.insert(
            "C".into(),
            ClientPolicy {
                quiet_hours: vec![Window {
                    days: Vec::new(),
                    from: Time::constant(12, 0, 0, 0),
                    to: Time::constant(11, 0, 0, 0),
                }],
                oncall: Some("s".into()),
                ..ClientPolicy::default()
            },
        );
        directory
    }

    fn subject(severity: Severity) -> Subject<'static> {
        crate::alerts::fixtures::subject(severity)
    }

    #[test]
    fn a_critical_alert_nobody_can_be_woken_for_wakes_the_manager() {
        let directory = directory();
        let now = "2026-11-21T01:00:00Z".parse::<jiff::Timestamp>().unwrap();
        let routing = Routing {
            directory: &directory,
            now: now.as_millisecond(),
        };
        let route = routing.first(&subject(Severity::Critical));
        assert_eq!(route.unreachable.len(), 1, "{route:?}");
        assert_eq!(route.notices.len(), 1);
        assert_eq!(route.notices[0].to, Destination::chat(CHAT));
        assert_eq!(
            (route.notices[0].held_until, route.notices[0].silent),
            (None, false)
        );

        let warning = routing.first(&subject(Severity::Warning));
        let until = "2026-11-21T11:00:00Z".parse::<jiff::Timestamp>().unwrap();
        assert_eq!(warning.notices[0].held_until, Some(until.as_millisecond()));
    }

    #[test]
    fn the_digest_comes_at_digest_at_when_that_is_before_quiet_hours_end() {
        let mut directory = directory();
        let policy = directory.policies.get_mut("C").unwrap();
        policy.digest_at = Some(Time::constant(7, 30, 0, 0));
        let at = |t: &str| t.parse::<jiff::Timestamp>().unwrap().as_millisecond();
        let routing = Routing {
            directory: &directory,
            now: at("2026-11-21T01:00:00Z"),
        };
        let subject = subject(Severity::Warning);
        assert_eq!(
            routing.quiet_until(&subject),
            Some(at("2026-11-21T07:30:00Z"))
        );
        // After 07:30 the end of quiet hours stands.
        let later = Routing {
            directory: &directory,
            now: at("2026-11-21T08:00:00Z"),
        };
        assert_eq!(
            later.quiet_until(&subject),
            Some(at("2026-11-21T11:00:00Z"))
        );
    }

    #[test]
    fn an_escalation_chain_repeats_then_stops() {
        use crate::alerts::directory::{EscalationPolicy, Step};
        let mut directory = directory();
        directory.contacts.get_mut("x").unwrap().started = true;
        directory.escalations.insert(
            "e".into(),
            EscalationPolicy {
                steps: vec![
                    Step {
                        after: "15m".into(),
                        to: vec![Target::Oncall("s".into())],
                    },
                    Step {
                        after: "30m".into(),
                        to: vec![Target::Contact("x".into())],
                    },
                ],
                repeat: 1,
                severities: vec![Severity::Critical],
            },
        );
        directory.policies.get_mut("C").unwrap().escalation = Some("e".into());
        let routing = Routing {
            directory: &directory,
            now: 0,
        };
        let critical = subject(Severity::Critical);
        assert_eq!(routing.escalation_start(&critical), Some(15 * 60_000));
        assert_eq!(routing.escalation_start(&subject(Severity::Warning)), None);
        let nexts: Vec<Option<i64>> = (0..4)
            .map(|taken| routing.escalation_step(&critical, taken).unwrap().1)
            .collect();
        assert_eq!(
            nexts,
            [
                Some(30 * 60_000),
                Some(15 * 60_000),
                Some(30 * 60_000),
                None
            ]
        );
        assert!(routing.escalation_step(&critical, 4).is_none());
        let (targets, _) = routing.escalation_step(&critical, 0).unwrap();
        assert_eq!(targets, [(Destination::chat(7), Some("x".to_string()))]);
    }
}

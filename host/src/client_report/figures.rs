//! The figures of a client report, computed from what the store holds about the period.
//! Pure: the same facts give the same report, whichever door asked for it.

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Time;
use jiff::tz::TimeZone;
use serde::Serialize;

use super::availability::{self, Availability, Mark, Span};
use super::period::Period;
use crate::alerts::directory::ClientPolicy;
use crate::alerts::hours::{Calendar, Window};
use crate::alerts::incidents::Incident;
use crate::alerts::maintenance::{Covered, Maintenance};
use crate::alerts::{Alert, AlertEvent, EventKind, On};
use crate::fleet::Installation;
use crate::i18n::Lang;
use crate::plugins::Severity;
use crate::postmortem::Sections;
use crate::store::{LogLine, PROBE_AGENT};
use reveille_sdk::Version;

/// A report log line as availability reads it.
pub fn mark(line: &LogLine) -> Mark {
    Mark {
        at: line.at,
        probe: line.agent == PROBE_AGENT,
        reachable: line.glance.reachable,
    }
}

/// Everything a report is computed from.
pub struct Facts<'a> {
    pub client: &'a str,
    pub period: &'a Period,
    /// The client's clock: its policy's zone, else its first installation's.
    pub zone: &'a TimeZone,
    pub now: i64,
    pub lang: Lang,
    pub installations: &'a [Installation],
    /// Per installation, oldest first, with the last line before the period.
    pub log: &'a HashMap<String, Vec<LogLine>>,
    pub host_down: &'a [Span],
    pub maintenance: &'a BTreeMap<String, Maintenance>,
    /// The client's alerts that fired in the period, and their timelines.
    pub alerts: &'a [Alert],
    pub timelines: &'a HashMap<i64, Vec<AlertEvent>>,
    /// Incidents that opened in the period with a member of this client's.
    pub incidents: &'a [Incident],
    pub policy: Option<&'a ClientPolicy>,
    /// The shell version the client must run (`version-minimum`'s setting), if any.
    pub minimum: Option<&'a str>,
    /// Silence shorter than this after a report is not counted against availability.
    pub grace: i64,
    /// What people wrote after the period's problems, by reference.
    pub postmortems: &'a BTreeMap<String, Sections>,
}

/// When a problem began, by the client's own calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum When {
    Day,
    Night,
    Holiday,
}

/// How people were told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Handling {
    /// At once (with sound by day, or waking on-call at night).
    Told,
    /// Kept for the morning digest.
    Held,
    /// Nobody acknowledged it in time; the escalation policy went on.
    Escalated,
    /// A maintenance window kept it quiet.
    Maintenance,
}

/// One thing that went wrong: an alert on its own, or an incident (once, however many
/// installations it took).
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// `alert #12`, `incident #3`.
    pub reference: String,
    pub check: String,
    pub severity: Severity,
    pub installations: Vec<String>,
    pub summary: String,
    pub fired_at: i64,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<String>,
    pub resolved_at: Option<i64>,
    pub when: When,
    pub handling: Handling,
}

/// Median and worst of some durations (ms).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub count: usize,
    pub median: Option<i64>,
    pub worst: Option<i64>,
}

impl Stats {
    /// The median of an even count is the mean of the middle two (rounded down).
    fn of(mut values: Vec<i64>) -> Stats {
        values.sort_unstable();
        let n = values.len();
        Stats {
            count: n,
            median: (n > 0).then(|| {
                if n % 2 == 1 {
                    values[n / 2]
                } else {
                    (values[n / 2 - 1] + values[n / 2]) / 2
                }
            }),
            worst: values.last().copied(),
        }
    }
}

/// Time to acknowledge and to resolve, for all problems (`check` empty) or one check's.
#[derive(Debug, Clone, Serialize)]
pub struct Response {
    pub check: Option<String>,
    pub problems: usize,
    pub to_acknowledge: Stats,
    pub to_resolve: Stats,
}

#[derive(Debug, Clone, Serialize)]
pub struct InstallationAvailability {
    pub installation: String,
    /// `None`: it never reported.
    pub time: Option<Availability>,
    /// The share of the measured time it was up.
    pub ratio: Option<f64>,
}

/// A planned window that covered some of the client's installations in the period.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedWork {
    pub name: String,
    pub author: String,
    pub reason: String,
    pub installations: Vec<String>,
    /// Its time within the period (ms), summed over its occurrences.
    pub length: i64,
}

/// Seats over the period: the upsell signal.
#[derive(Debug, Clone, Serialize)]
pub struct SeatsLine {
    pub installation: String,
    pub peak: u32,
    pub limit: u32,
    /// The most sessions refused one report counted.
    pub refused: u32,
    /// Runs of consecutive reports with every seat taken or sessions refused.
    pub exhaustions: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct VersionsLine {
    pub installation: String,
    /// Shell versions in the order they appeared, with when each was first reported.
    pub seen: Vec<(String, i64)>,
    /// At the period's end (or now), against the client's minimum; `None`: no minimum or
    /// no version reported.
    pub minimum_met: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UpdatesLine {
    pub installation: String,
    /// The newest content update reported by the period's end: its number and date.
    pub latest: Option<(String, i64)>,
    /// The oldest the newest update ever was when a report came in (ms).
    pub worst_age: Option<i64>,
}

/// A post-mortem people wrote, for the appendix.
#[derive(Debug, Clone, Serialize)]
pub struct Postmortem {
    pub reference: String,
    pub summary: String,
    pub sections: Sections,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub installations: usize,
    pub problems: usize,
    pub critical: usize,
    pub night: usize,
    pub holiday: usize,
    pub escalated: usize,
    /// Over every installation's measured time.
    pub availability: Option<f64>,
    pub exhaustions: usize,
    pub below_minimum: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClientReport {
    pub client: String,
    pub period: String,
    pub period_key: String,
    pub zone: String,
    pub from: i64,
    pub to: i64,
    pub generated_at: i64,
    pub minimum: Option<String>,
    /// How long a silence must last after a report before it counts (ms).
    pub grace: i64,
    pub summary: Summary,
    pub problems: Vec<Problem>,
    pub response: Vec<Response>,
    pub availability: Vec<InstallationAvailability>,
    pub planned: Vec<PlannedWork>,
    pub seats: Vec<SeatsLine>,
    pub versions: Vec<VersionsLine>,
    pub updates: Vec<UpdatesLine>,
    pub postmortems: Vec<Postmortem>,
}

/// How a problem is named in the report and its appendix.
pub fn reference(on: On) -> String {
    match on {
        On::Alert(id) => format!("alert #{id}"),
        On::Incident(id) => format!("incident #{id}"),
    }
}

/// A [`reference`] as a reader of `lang` names it ("Тревога #12"); the CSV and the
/// post-mortems keep the reference itself.
pub fn reference_in(reference: &str, lang: Lang) -> String {
    let said = |word: &str, id: &str| format!("{} #{id}", lang.t(word));
    match (
        reference.strip_prefix("alert #"),
        reference.strip_prefix("incident #"),
    ) {
        (Some(id), _) => said("alert", id),
        (_, Some(id)) => said("incident", id),
        _ => reference.to_string(),
    }
}

/// Night for a client without quiet hours of its own: 22:00 to 08:00.
fn default_night() -> Vec<Window> {
    vec![Window {
        days: Vec::new(),
        from: Time::constant(22, 0, 0, 0),
        to: Time::constant(8, 0, 0, 0),
    }]
}

pub fn compute(facts: &Facts) -> ClientReport {
    let (from, end) = facts.period.instants(facts.zone);
    let to = end.min(facts.now);
    let problems = problems(facts);
    // Info notices (a sales signal) ask nobody to act: times count the rest.
    let answered: Vec<&Problem> = problems
        .iter()
        .filter(|p| p.severity >= Severity::Warning)
        .collect();
    let mut response = vec![response_of(None, answered.iter().copied())];
    let mut checks: Vec<&str> = answered.iter().map(|p| p.check.as_str()).collect();
    checks.sort_unstable();
    checks.dedup();
    for check in checks {
        response.push(response_of(
            Some(check),
            answered.iter().copied().filter(|p| p.check == check),
        ));
    }
    let empty = Vec::new();
    let mut availability = Vec::new();
    let mut planned: BTreeMap<String, PlannedWork> = BTreeMap::new();
    let (mut seats, mut versions, mut updates) = (Vec::new(), Vec::new(), Vec::new());
    for installation in facts.installations {
        let log = facts.log.get(&installation.id).unwrap_or(&empty);
        let windows = maintenance_of(facts.maintenance, installation, from, to);
        for (name, spans) in &windows {
            let work = planned.entry(name.clone()).or_insert_with(|| {
                let m = &facts.maintenance[name];
                PlannedWork {
                    name: name.clone(),
                    author: m.author.clone(),
                    reason: m.reason.clone(),
                    installations: Vec::new(),
                    length: availability::total(spans),
                }
            });
            work.installations.push(installation.id.clone());
        }
        let marks: Vec<Mark> = log.iter().map(mark).collect();
        let spans: Vec<Span> = windows.into_values().flatten().collect();
        let time = availability::of(
            &marks,
            &availability::Window {
                from: from.max(installation.created_at),
                to,
                grace: facts.grace,
                host_down: facts.host_down,
                maintenance: &spans,
            },
        );
        availability.push(InstallationAvailability {
            installation: installation.id.clone(),
            ratio: time.and_then(|t| t.ratio()),
            time,
        });
        let within: Vec<&LogLine> = log.iter().filter(|l| l.at >= from && l.at < to).collect();
        seats.extend(seats_of(&installation.id, &within));
        versions.extend(versions_of(&installation.id, &within, facts.minimum));
        updates.extend(updates_of(&installation.id, &within));
    }
    let (measured, down) = availability
        .iter()
        .filter_map(|a| a.time)
        .fold((0, 0), |(m, d), t| (m + t.measured, d + t.down));
    let summary = Summary {
        installations: facts.installations.len(),
        problems: problems.len(),
        critical: problems
            .iter()
            .filter(|p| p.severity == Severity::Critical)
            .count(),
        night: problems.iter().filter(|p| p.when == When::Night).count(),
        holiday: problems.iter().filter(|p| p.when == When::Holiday).count(),
        escalated: problems
            .iter()
            .filter(|p| p.handling == Handling::Escalated)
            .count(),
        availability: (measured > 0).then(|| (measured - down) as f64 / measured as f64),
        exhaustions: seats.iter().map(|s| s.exhaustions).sum(),
        below_minimum: versions
            .iter()
            .filter(|v| v.minimum_met == Some(false))
            .count(),
    };
    let postmortems = problems
        .iter()
        .filter_map(|p| {
            Some(Postmortem {
                reference: p.reference.clone(),
                summary: p.summary.clone(),
                sections: facts.postmortems.get(&p.reference)?.clone(),
            })
        })
        .collect();
    ClientReport {
        client: facts.client.to_string(),
        period: facts.period.to_string(),
        period_key: facts.period.key(),
        zone: facts.zone.iana_name().unwrap_or("UTC").to_string(),
        from,
        to,
        generated_at: facts.now,
        minimum: facts.minimum.map(str::to_string),
        grace: facts.grace,
        summary,
        problems,
        response,
        availability,
        planned: planned.into_values().collect(),
        seats,
        versions,
        updates,
        postmortems,
    }
}

fn response_of<'a>(check: Option<&str>, problems: impl Iterator<Item = &'a Problem>) -> Response {
    let (mut ack, mut resolve, mut count) = (Vec::new(), Vec::new(), 0);
    for p in problems {
        count += 1;
        if let Some(at) = p.acknowledged_at {
            ack.push((at - p.fired_at).max(0));
        }
        if let Some(at) = p.resolved_at {
            resolve.push((at - p.fired_at).max(0));
        }
    }
    Response {
        check: check.map(str::to_string),
        problems: count,
        to_acknowledge: Stats::of(ack),
        to_resolve: Stats::of(resolve),
    }
}

/// The period's problems, oldest first: its incidents, and its alerts outside them.
fn problems(facts: &Facts) -> Vec<Problem> {
    let mut out = Vec::new();
    for incident in facts.incidents {
        let mut installations: Vec<String> = incident
            .members
            .iter()
            .filter(|m| m.client == facts.client)
            .map(|m| m.installation_id.clone())
            .collect();
        installations.sort_unstable();
        let escalated = incident.escalation_step > 0;
        out.push(Problem {
            reference: reference(On::Incident(incident.id)),
            check: incident.plugin.clone(),
            severity: incident.severity,
            installations,
            summary: incident.what(facts.lang),
            fired_at: incident.opened_at,
            acknowledged_at: incident.acknowledged_at,
            acknowledged_by: incident.acknowledged_by.clone(),
            resolved_at: incident.resolved_at,
            when: when(facts, incident.opened_at),
            handling: if escalated {
                Handling::Escalated
            } else {
                Handling::Told
            },
        });
    }
    let none = Vec::new();
    for alert in facts.alerts.iter().filter(|a| a.incident_id.is_none()) {
        let fired_at = alert.fired_at.unwrap_or(alert.first_seen_at);
        let timeline = facts.timelines.get(&alert.id).unwrap_or(&none);
        let had = |kind: EventKind| timeline.iter().any(|e| e.kind == kind);
        let handling = if had(EventKind::Escalated) {
            Handling::Escalated
        } else if had(EventKind::Silenced) {
            Handling::Maintenance
        } else if had(EventKind::Held) && !had(EventKind::Notified) {
            Handling::Held
        } else {
            Handling::Told
        };
        out.push(Problem {
            reference: reference(On::Alert(alert.id)),
            check: alert.plugin.clone(),
            severity: alert.severity,
            installations: vec![alert.installation_id.clone()],
            summary: alert.summary_in(facts.lang).to_string(),
            fired_at,
            acknowledged_at: alert.acknowledged_at,
            acknowledged_by: alert.acknowledged_by.clone(),
            resolved_at: alert.resolved_at,
            when: when(facts, fired_at),
            handling,
        });
    }
    out.sort_by_key(|p| p.fired_at);
    out
}

/// Day, night or holiday at `at`, by the client's policy (its quiet hours, holidays and
/// holiday calendars, on its clock); a client without quiet hours has nights from 22:00
/// to 08:00.
fn when(facts: &Facts, at: i64) -> When {
    let default = default_night();
    let windows = match facts.policy {
        Some(policy) if !policy.quiet_hours.is_empty() => &policy.quiet_hours,
        _ => &default,
    };
    let calendar = Calendar {
        zone: facts.zone.clone(),
        windows,
        holidays: &[],
    };
    if facts
        .policy
        .is_some_and(|p| p.is_holiday(calendar.date_of(at)))
    {
        When::Holiday
    } else if calendar.quiet_until(at).is_some() {
        When::Night
    } else {
        When::Day
    }
}

/// The maintenance windows covering the whole installation (not one check of it) within
/// `[from, to)`, by name.
/// The planned work of `maintenance` that covers `installation` within `[from, to)`, by
/// window name (the client report's, and its status page's).
pub fn maintenance_of(
    maintenance: &BTreeMap<String, Maintenance>,
    installation: &Installation,
    from: i64,
    to: i64,
) -> BTreeMap<String, Vec<Span>> {
    let covered = Covered {
        installation: &installation.id,
        client: &installation.client,
        parent: installation.parent.as_deref(),
        plugin: "",
    };
    let mut out = BTreeMap::new();
    for (name, m) in maintenance {
        if m.scope.plugin.is_some() || !m.scope_covers(&covered) {
            continue;
        }
        let spans = match (&m.from, &m.to, &m.weekly) {
            (Some(a), Some(b), _) => vec![(a.as_millisecond(), b.as_millisecond())],
            (_, _, Some(weekly)) => {
                let zone = TimeZone::get(&weekly.timezone).unwrap_or(TimeZone::UTC);
                let first = Calendar {
                    zone: zone.clone(),
                    windows: &[],
                    holidays: &[],
                }
                .date_of(from);
                let mut spans = Vec::new();
                let mut day = first.yesterday().unwrap_or(first);
                loop {
                    let Ok(start) = day.to_datetime(weekly.from).to_zoned(zone.clone()) else {
                        break;
                    };
                    let start = start.timestamp().as_millisecond();
                    if start >= to {
                        break;
                    }
                    if let Some(end) = m.on_until(start) {
                        spans.push((start, end));
                    }
                    match day.tomorrow() {
                        Ok(next) => day = next,
                        Err(_) => break,
                    }
                }
                spans
            }
            _ => Vec::new(),
        };
        let spans: Vec<Span> = spans
            .into_iter()
            .map(|(a, b)| (a.max(from), b.min(to)))
            .filter(|(a, b)| b > a)
            .collect();
        if !spans.is_empty() {
            out.insert(name.clone(), spans);
        }
    }
    out
}

fn seats_of(installation: &str, log: &[&LogLine]) -> Option<SeatsLine> {
    let mut line: Option<SeatsLine> = None;
    let mut exhausted = false;
    for seats in log.iter().filter_map(|l| l.glance.seats.as_ref()) {
        let line = line.get_or_insert_with(|| SeatsLine {
            installation: installation.to_string(),
            peak: 0,
            limit: 0,
            refused: 0,
            exhaustions: 0,
        });
        line.peak = line.peak.max(seats.used);
        line.limit = seats.limit;
        line.refused = line.refused.max(seats.refused);
        let now = (seats.limit > 0 && seats.used >= seats.limit) || seats.refused > 0;
        if now && !exhausted {
            line.exhaustions += 1;
        }
        exhausted = now;
    }
    line
}

fn versions_of(
    installation: &str,
    log: &[&LogLine],
    minimum: Option<&str>,
) -> Option<VersionsLine> {
    let mut seen: Vec<(String, i64)> = Vec::new();
    for line in log {
        if let Some(v) = &line.glance.shell_version
            && seen.last().is_none_or(|(last, _)| last != v)
        {
            seen.push((v.clone(), line.at));
        }
    }
    let latest = seen.last()?.0.clone();
    let minimum_met =
        minimum.and_then(
            |m| match (latest.parse::<Version>(), m.parse::<Version>()) {
                (Ok(v), Ok(m)) => Some(v >= m),
                _ => None,
            },
        );
    Some(VersionsLine {
        installation: installation.to_string(),
        seen,
        minimum_met,
    })
}

fn updates_of(installation: &str, log: &[&LogLine]) -> Option<UpdatesLine> {
    let mut line: Option<UpdatesLine> = None;
    for entry in log {
        let Some(update) = &entry.glance.newest_update else {
            continue;
        };
        let line = line.get_or_insert_with(|| UpdatesLine {
            installation: installation.to_string(),
            latest: None,
            worst_age: None,
        });
        line.latest = Some((update.number.clone(), update.at));
        let age = (entry.at - update.at).max(0);
        line.worst_age = Some(line.worst_age.map_or(age, |w| w.max(age)));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::Stats;

    #[test]
    fn median_and_worst() {
        assert_eq!(
            Stats::of(vec![30, 10, 20]),
            Stats {
                count: 3,
                median: Some(20),
                worst: Some(30)
            }
        );
        assert_eq!(Stats::of(vec![10, 25]).median, Some(17));
        assert_eq!(Stats::of(vec![]).median, None);
    }
}

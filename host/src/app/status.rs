//! A client's status page, as the client reads it: reached by a private link (no login),
//! it says in plain words how each of the client's installations is now, what incidents
//! touch them (with the updates staff chose to publish), what planned work is on or
//! ahead, and how available each was on each of the last 90 days, counted as the
//! client's report counts availability. No alert ids, check names or staff names: what
//! the client needs, not how the distributor works. The shared services' public page is
//! the same view of the installations tagged [`SHARED`].

use std::collections::{BTreeMap, HashSet};

use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::AppState;
use crate::alerts::directory::Directory;
use crate::alerts::incidents::{Incident, Member, Reach};
use crate::board::{Light, Row};
use crate::client_report::availability::{self, Span};
use crate::client_report::figures::{maintenance_of, mark};
use crate::fleet::Installation;
use crate::i18n::Lang;
use crate::ingest::token;
use crate::store::StoreError;

/// The days of history a status page draws.
pub const DAYS: i64 = 90;
/// The tag that puts an installation on the public page of shared services.
pub const SHARED: &str = "shared";
/// How far ahead a status page lists planned work.
const AHEAD_MS: i64 = 30 * 86_400_000;

/// How an installation is, in the words a client reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    Down,
    Troubled,
    Planned,
    Unknown,
    Up,
}

impl Standing {
    /// The catalogue id of its words; its CSS class is the part after `status-`.
    pub fn id(self) -> &'static str {
        match self {
            Standing::Down => "status-down",
            Standing::Troubled => "status-troubled",
            Standing::Planned => "status-planned",
            Standing::Unknown => "status-unknown",
            Standing::Up => "status-up",
        }
    }

    fn of(row: Option<&Row>, planned: bool) -> Standing {
        match row.map(|r| r.light) {
            _ if planned => Standing::Planned,
            Some(Light::Red) => Standing::Down,
            Some(Light::Amber) => Standing::Troubled,
            Some(Light::Green) => Standing::Up,
            Some(Light::Grey) | None => Standing::Unknown,
        }
    }
}

pub struct InstallationStatus {
    /// Its address's host when it has one (what the client knows it by), else its id.
    pub name: String,
    pub standing: Standing,
    /// How available it was on each day, oldest first; `None` before it first reported.
    pub days: Vec<Option<f64>>,
    /// Over all the days.
    pub ratio: Option<f64>,
}

/// An open incident that touches the client.
pub struct IncidentStatus {
    pub since: i64,
    /// The client's installations in it, and how many of those work again.
    pub affected: usize,
    pub back: usize,
    /// Someone at the distributor took it.
    pub taken: bool,
    /// What the distributor chose to tell its clients about it, oldest first: when, and
    /// the words, never who.
    pub updates: Vec<(i64, String)>,
}

/// Planned work on the client's installations, on now or ahead.
pub struct PlannedWork {
    pub from: i64,
    pub to: i64,
    pub reason: String,
    pub now: bool,
}

pub struct ClientStatus {
    /// The client's name, or the shared services' page's title.
    pub title: String,
    /// The public page of the shared services, not a client's.
    pub shared: bool,
    pub lang: Lang,
    pub zone: TimeZone,
    pub installations: Vec<InstallationStatus>,
    pub incidents: Vec<IncidentStatus>,
    pub planned: Vec<PlannedWork>,
    /// The days drawn, oldest first.
    pub days: Vec<Date>,
}

impl ClientStatus {
    /// The worst standing among the installations: what the page says first.
    pub fn overall(&self) -> Standing {
        self.installations
            .iter()
            .map(|i| i.standing)
            .min()
            .unwrap_or(Standing::Unknown)
    }
}

/// A new private link's secret for `client`'s page; the link before it stops working.
/// `None` when no installation has that client.
pub async fn renew(state: &AppState, client: &str) -> Result<Option<String>, StoreError> {
    if state.store.installations_of(client).await?.is_empty() {
        return Ok(None);
    }
    let secret = token::secret("");
    state
        .store
        .renew_status_link(client, &token::digest(&secret), state.clock.now_ms())
        .await?;
    Ok(Some(secret))
}

/// The page behind `secret`, in `asked` or else the client's language; `None` for a link
/// that is not (or no longer) a client's.
pub async fn read(
    state: &AppState,
    secret: &str,
    asked: Option<Lang>,
) -> Result<Option<ClientStatus>, StoreError> {
    let store = &state.store;
    let Some(client) = store.status_link_client(&token::digest(secret)).await? else {
        return Ok(None);
    };
    let installations = store.installations_of(&client).await?;
    let Some(first) = installations.first() else {
        return Ok(None);
    };
    let directory = store.directory().await?;
    let policy = directory.policies.get(&client);
    let zone = policy.map_or_else(|| first.time_zone(), |p| p.zone_or(&first.time_zone()));
    let lang = match asked.or_else(|| policy.and_then(|p| p.language)) {
        Some(lang) => lang,
        None => store.chats_read(None).await?,
    };
    let page = Page {
        title: client.clone(),
        shared: false,
        lang,
        zone,
    };
    let touches = |_: &Incident, member: &Member| member.client == client;
    compose(state, page, &installations, &directory, touches)
        .await
        .map(Some)
}

/// The public page of the distributor's shared services: the installations tagged
/// [`SHARED`] (redirect servers, clouds), and the incidents they caused. `None` when
/// nothing is tagged so: no page at all.
pub async fn shared(
    state: &AppState,
    asked: Option<Lang>,
) -> Result<Option<ClientStatus>, StoreError> {
    let kept = state.web.board.rows().await?;
    let installations: Vec<Installation> = kept
        .rows
        .iter()
        .filter(|r| r.installation.tags.iter().any(|t| t == SHARED))
        .map(|r| r.installation.clone())
        .collect();
    if installations.is_empty() {
        return Ok(None);
    }
    let lang = match asked {
        Some(lang) => lang,
        None => state.store.chats_read(None).await?,
    };
    let page = Page {
        title: lang.t("status-shared-title"),
        shared: true,
        lang,
        zone: state.web.zone.clone(),
    };
    let ids: HashSet<&str> = installations.iter().map(|i| i.id.as_str()).collect();
    // An incident caused by a shared service: every installation behind it counts.
    let touches = |incident: &Incident, _: &Member| {
        incident
            .parent
            .as_deref()
            .is_some_and(|parent| ids.contains(parent))
    };
    let directory = state.store.directory().await?;
    compose(state, page, &installations, &directory, touches)
        .await
        .map(Some)
}

/// Whose page it is and how it reads.
struct Page {
    title: String,
    shared: bool,
    lang: Lang,
    zone: TimeZone,
}

/// The page of `installations`, with the open incidents whose members `touches` counts
/// (how many of them, how many back) and the planned work covering them.
async fn compose(
    state: &AppState,
    page: Page,
    installations: &[Installation],
    directory: &Directory,
    touches: impl Fn(&Incident, &Member) -> bool,
) -> Result<ClientStatus, StoreError> {
    let store = &state.store;
    let Page {
        title,
        shared,
        lang,
        zone,
    } = page;
    let now = state.clock.now_ms();
    let days = days(now, &zone);
    let spans: Vec<Span> = days
        .iter()
        .map(|&day| (start_of(day, &zone), start_of(next(day), &zone).min(now)))
        .collect();
    let from = spans.first().map_or(now, |s| s.0);
    let ids: Vec<String> = installations.iter().map(|i| i.id.clone()).collect();
    let log = store.report_log(&ids, from, now).await?;
    let host_down = store.downtime().await?.0;
    let grace = state.reports.grace_ms();
    let kept = state.web.board.rows().await?;
    let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let rows: BTreeMap<&str, &Row> = kept
        .rows
        .iter()
        .filter(|r| wanted.contains(r.installation.id.as_str()))
        .map(|r| (r.installation.id.as_str(), r))
        .collect();
    let mut planned: BTreeMap<String, PlannedWork> = BTreeMap::new();
    let statuses = installations
        .iter()
        .map(|installation| {
            let ahead = maintenance_of(&directory.maintenance, installation, now, now + AHEAD_MS);
            let mut on_now = false;
            for (name, windows) in &ahead {
                let Some(&(start, end)) = windows.first() else {
                    continue;
                };
                on_now |= start <= now;
                planned.entry(name.clone()).or_insert_with(|| PlannedWork {
                    from: start,
                    to: end,
                    reason: directory.maintenance[name].reason.clone(),
                    now: start <= now,
                });
            }
            let past: Vec<Span> = maintenance_of(&directory.maintenance, installation, from, now)
                .into_values()
                .flatten()
                .collect();
            let marks: Vec<availability::Mark> = log
                .get(&installation.id)
                .into_iter()
                .flatten()
                .map(mark)
                .collect();
            let counted: Vec<Span> = spans
                .iter()
                .map(|&(a, b)| (a.max(installation.created_at), b))
                .collect();
            let daily = availability::daily(&marks, &counted, grace, &host_down, &past);
            let whole = availability::of(
                &marks,
                &availability::Window {
                    from: from.max(installation.created_at),
                    to: now,
                    grace,
                    host_down: &host_down,
                    maintenance: &past,
                },
            );
            InstallationStatus {
                name: name_of(installation),
                standing: Standing::of(rows.get(installation.id.as_str()).copied(), on_now),
                days: daily.iter().map(|a| a.and_then(|a| a.ratio())).collect(),
                ratio: whole.and_then(|a| a.ratio()),
            }
        })
        .collect();
    let incidents = store
        .open_incidents()
        .await?
        .into_iter()
        .filter_map(|incident| {
            let counted: Vec<&Member> = incident
                .members
                .iter()
                .filter(|m| touches(&incident, m))
                .collect();
            (!counted.is_empty()).then(|| IncidentStatus {
                since: incident.opened_at,
                affected: counted.len(),
                back: counted.iter().filter(|m| m.resolved_at.is_some()).count(),
                taken: incident.acknowledged_at.is_some(),
                updates: incident
                    .updates
                    .iter()
                    .filter(|u| u.reach == Reach::Clients)
                    .map(|u| (u.at, u.text.clone()))
                    .collect(),
            })
        })
        .collect();
    let mut planned: Vec<PlannedWork> = planned.into_values().collect();
    planned.sort_by_key(|p| p.from);
    Ok(ClientStatus {
        title,
        shared,
        lang,
        zone,
        installations: statuses,
        incidents,
        planned,
        days,
    })
}

/// What a client calls an installation: its address's host, else its id.
fn name_of(installation: &Installation) -> String {
    installation
        .url
        .as_deref()
        .map(|url| url.split("://").last().unwrap_or(url))
        .and_then(|rest| rest.split(['/', ':', '?']).next())
        .filter(|host| !host.is_empty())
        .unwrap_or(&installation.id)
        .to_string()
}

/// The last [`DAYS`] days up to today on `zone`'s calendar, oldest first.
fn days(now: i64, zone: &TimeZone) -> Vec<Date> {
    let today = jiff::Timestamp::from_millisecond(now)
        .map(|t| t.to_zoned(zone.clone()).date())
        .unwrap_or_default();
    (0..DAYS)
        .rev()
        .filter_map(|back| today.checked_sub(jiff::Span::new().days(back)).ok())
        .collect()
}

/// The day after `day` (the last day jiff knows is its own last).
fn next(day: Date) -> Date {
    day.tomorrow().unwrap_or(day)
}

/// When `day` begins on `zone`'s clock, in ms.
fn start_of(day: Date, zone: &TimeZone) -> i64 {
    day.to_zoned(zone.clone())
        .map_or(0, |z| z.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_knows_an_installation_by_its_address() {
        let mut installation = Installation::example("vector-main", -1);
        assert_eq!(name_of(&installation), "vector-main");
        installation.url = Some("https://kds.vector.example:8443/login".into());
        assert_eq!(name_of(&installation), "kds.vector.example");
        installation.url = Some("vector.example/kds".into());
        assert_eq!(name_of(&installation), "vector.example");
    }

    #[test]
    fn the_days_are_the_clients_and_planned_work_explains_a_fault() {
        let zone = TimeZone::get("Europe/Moscow").unwrap();
        // 2026-12-08 00:30 in Moscow is still 12-07 in UTC.
        let now = jiff::Timestamp::from_second(1_796_679_000).unwrap();
        let drawn = days(now.as_millisecond(), &zone);
        assert_eq!(drawn.len(), DAYS as usize);
        assert_eq!(
            drawn.last().copied(),
            Some(now.to_zoned(zone.clone()).date())
        );
        assert_eq!(Standing::of(None, true), Standing::Planned);
        assert_eq!(Standing::of(None, false), Standing::Unknown);
        assert!(Standing::Down < Standing::Up);
    }
}

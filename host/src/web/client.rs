//! A client's page: its installations (as board rows), open alerts and incidents, 30
//! days of history as sparklines (report silence, seats in use), its policy and its plugin
//! settings. Someone who manages none of its installations is refused.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;

use super::board::RowsHtml;
use super::page::{PageError, Ui, render};
use super::session::Visitor;
use crate::alerts::directory::Kind;
use crate::alerts::incidents::Incident;
use crate::alerts::{Alert, AlertState};
use crate::app::AppState;
use crate::app::client_reports::{Asked, answer};
use crate::board::{Row, Sort};
use crate::client_report::{self, Cadence, Period, ReportError};
use crate::store::{AlertFilter, LogLine};

const DAY: i64 = 86_400_000;
const DAYS: i64 = 30;
/// A day's silence is drawn up to this many hours.
const MAX_SILENCE_H: f64 = 48.0;
const SPARK_W: f64 = 150.0;
const SPARK_H: f64 = 28.0;

/// A small line chart: SVG polyline points, and the largest value, for its label.
pub struct Spark {
    pub points: String,
    pub max: String,
    /// Days with something to draw: a line needs two, fewer is "collecting data".
    pub days: usize,
}

/// `values` (one per day, oldest first; `None` where there is nothing to draw) scaled
/// into the sparkline's box, `top` being its height.
fn spark(values: &[Option<f64>], top: f64) -> Spark {
    let step = SPARK_W / (values.len().max(2) - 1) as f64;
    let points = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let v = (*v)?.clamp(0.0, top);
            let y = SPARK_H - v / top.max(f64::EPSILON) * (SPARK_H - 2.0) - 1.0;
            Some(format!("{:.1},{:.1}", i as f64 * step, y))
        })
        .collect::<Vec<_>>()
        .join(" ");
    Spark {
        points,
        max: format!("{}", top.round()),
        days: values.iter().flatten().count(),
    }
}

/// Per day of the `DAYS` before `now`: the longest stretch without a report that the day
/// saw (hours), from the report times `at` (sorted).
fn silences(at: &[i64], now: i64) -> Vec<Option<f64>> {
    let first_day = now - DAYS * DAY;
    (0..DAYS)
        .map(|d| {
            let (start, end) = (first_day + d * DAY, (first_day + (d + 1) * DAY).min(now));
            let before = at.iter().rev().find(|t| **t < start).copied();
            let within: Vec<i64> = at
                .iter()
                .copied()
                .filter(|t| *t >= start && *t < end)
                .collect();
            let mut previous = before?;
            let mut longest = 0;
            for t in within {
                longest = longest.max(t - previous);
                previous = t;
            }
            longest = longest.max(end - previous);
            Some(longest as f64 / 3_600_000.0)
        })
        .collect()
}

/// Per day: the most seats in use that day's reports said.
fn seats_by_day(history: &[&LogLine], now: i64) -> (Vec<Option<f64>>, f64) {
    let first_day = now - DAYS * DAY;
    let mut days = vec![None; DAYS as usize];
    let mut limit: f64 = 1.0;
    for line in history {
        let Some(seats) = &line.glance.seats else {
            continue;
        };
        let day = (line.at - first_day) / DAY;
        if let Some(slot) = usize::try_from(day).ok().and_then(|d| days.get_mut(d)) {
            let used = f64::from(seats.used);
            *slot = Some(slot.map_or(used, |v: f64| v.max(used)));
        }
        limit = limit.max(f64::from(seats.limit)).max(f64::from(seats.used));
    }
    (days, limit)
}

pub struct History {
    pub installation: String,
    pub silence: Spark,
    pub seats: Spark,
    /// How available it was over the same days, as its client's report counts it;
    /// `None`: it never reported.
    pub up: Option<Up>,
}

/// An availability, drawn as a bar and said as a number.
pub struct Up {
    /// "99.85 %".
    pub percent: String,
    /// The bar's filled share, in percent.
    pub width: String,
}

impl Up {
    fn of(ratio: f64) -> Up {
        Up {
            percent: client_report::percent(Some(ratio)),
            width: client_report::bar(ratio),
        }
    }
}

#[derive(Template)]
#[template(path = "client.html")]
struct ClientPage {
    ui: Ui,
    client: String,
    /// Its installations as the board renders them.
    rows: String,
    history: Vec<History>,
    /// How to read the history, with its first and last day.
    range: String,
    alerts: Vec<Alert>,
    /// Open incidents with what each is about.
    incidents: Vec<(Incident, String)>,
    policy: Option<String>,
    settings: BTreeMap<String, BTreeMap<String, String>>,
    /// Plugins whose settings an admin may set here.
    plugins: Vec<String>,
    /// Quarters a report can be asked for, the one just ended first.
    quarters: Vec<String>,
    /// When the client's status page link was made, for an admin.
    status_since: Option<i64>,
    /// A status page link just made, shown once.
    made: Option<String>,
}

/// The quarter just ended, the current one, and `n - 1` before those.
fn quarters(today: jiff::civil::Date, n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n + 1);
    let mut day = today;
    for _ in 0..n {
        let period = Period::previous(Cadence::Quarterly, day);
        out.push(period.key());
        day = period.from;
    }
    out.insert(
        out.len().min(1),
        Period::current(Cadence::Quarterly, today).key(),
    );
    out
}

/// Refuses a client nobody registered, and someone who manages none of its installations;
/// otherwise the client's rows the visitor may see, worst first. From the board's kept
/// rows: reading every installation from the database took a second at 100,000 of them.
async fn admitted(
    state: &AppState,
    visitor: &Visitor,
    client: &str,
) -> Result<Vec<Row>, PageError> {
    let kept = state.web.board.rows().await?;
    let of_client: Vec<&Row> = kept
        .rows
        .iter()
        .filter(|r| r.installation.client == client)
        .collect();
    if of_client.is_empty() {
        return Err(PageError::not_found(visitor.lang()));
    }
    let mut seen: Vec<Row> = of_client
        .into_iter()
        .filter(|r| visitor.staff.sees(&r.installation.manager))
        .cloned()
        .collect();
    if seen.is_empty() {
        return Err(PageError::forbidden(visitor.lang()));
    }
    seen.sort_by(|a, b| Sort::State.compare(a, b));
    Ok(seen)
}

/// `GET /clients/{client}/report?…`: the client's report, as the API writes it, in the
/// visitor's language.
pub async fn report(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(client): Path<String>,
    Query(mut asked): Query<Asked>,
) -> Result<Response, PageError> {
    admitted(&state, &visitor, &client).await?;
    // The form offers a quarter (one is always chosen) and a month: a month given wins.
    if asked.month.as_deref().is_some_and(|m| !m.is_empty()) {
        asked.quarter = None;
    }
    answer(&state, &client, &asked, visitor.lang())
        .await
        .map_err(|e| PageError::api(e, visitor.lang()))
}

pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(client): Path<String>,
) -> Result<Response, PageError> {
    show(&state, &visitor, &client, None).await
}

/// The client's page; `made` is a status page link just made, shown this once.
pub async fn show(
    state: &AppState,
    visitor: &Visitor,
    client: &str,
    made: Option<String>,
) -> Result<Response, PageError> {
    let client = client.to_string();
    let rows = admitted(state, visitor, &client).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.installation.id.clone()).collect();
    let now = state.clock.now_ms();
    let since = now - (DAYS + 2) * DAY;
    let log = state.store.report_log(&ids, since, i64::MAX).await?;
    let ui = visitor.ui();
    let today = jiff::Timestamp::from_millisecond(now)
        .map(|t| t.to_zoned(ui.zone.clone()).date())
        .unwrap_or_default();
    let first_day = today
        .checked_sub(jiff::Span::new().days(DAYS - 1))
        .unwrap_or(today);
    // The same days on the client's clock, counted as its report counts them.
    let up: BTreeMap<String, f64> = match state.reports.last_days(&client, DAYS, ui.lang).await {
        Ok(report) => report
            .availability
            .into_iter()
            .filter_map(|a| Some((a.installation, a.ratio?)))
            .collect(),
        Err(ReportError::Store(e)) => return Err(e.into()),
        // Its installations were removed since the rows were read.
        Err(_) => BTreeMap::new(),
    };
    let history = ids
        .iter()
        .map(|id| {
            let mine: Vec<&LogLine> = log
                .get(id)
                .into_iter()
                .flatten()
                .filter(|l| l.at >= since)
                .collect();
            let times: Vec<i64> = mine.iter().map(|l| l.at).collect();
            let (seats, limit) = seats_by_day(&mine, now);
            History {
                installation: id.clone(),
                silence: spark(&silences(&times, now), MAX_SILENCE_H),
                seats: spark(&seats, limit),
                up: up.get(id).copied().map(Up::of),
            }
        })
        .collect();
    let alerts = state
        .store
        .alerts(&AlertFilter {
            states: Some(AlertState::OPEN.to_vec()),
            client: Some(client.clone()),
            limit: 200,
            ..AlertFilter::default()
        })
        .await?
        .into_iter()
        .filter(|a| visitor.staff.sees(&a.manager))
        .collect();
    let incidents = state
        .store
        .open_incidents()
        .await?
        .into_iter()
        .filter(|i| i.members.iter().any(|m| m.client == client))
        .map(|i| {
            let what = i.what(visitor.lang());
            (i, what)
        })
        .collect();
    let policy = state
        .store
        .directory_entries(Kind::ClientPolicy)
        .await?
        .remove(&client)
        .map(|spec| {
            let words = super::entries::Context {
                lang: visitor.lang(),
                ..Default::default()
            };
            super::entries::summary(Kind::ClientPolicy, &spec, &client, &words).join(" · ")
        });
    let settings = state.store.client_settings(&client).await?;
    let mut plugins: Vec<String> = state
        .runtime
        .registry()
        .list()
        .into_iter()
        .filter(|p| !p.config.is_empty())
        .map(|p| p.name)
        .collect();
    plugins.sort();
    let rows = RowsHtml {
        ui: &ui,
        rows: &rows.iter().collect::<Vec<_>>(),
        oob: false,
    }
    .to_string();
    let range = ui.lang.t_with(
        "client-history-range",
        &[
            ("from", ui.lang.date(first_day).into()),
            ("to", ui.lang.date(today).into()),
        ],
    );
    let status_since = match visitor.staff.is_admin() {
        true => state.store.status_link_made(&client).await?,
        false => None,
    };
    Ok(render(&ClientPage {
        status_since,
        made,
        quarters: quarters(today, 5),
        plugins,
        ui,
        client,
        rows,
        history,
        range,
        alerts,
        incidents,
        policy,
        settings,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_needs_two_days_to_draw() {
        let one = spark(&[None, None, Some(3.0)], 24.0);
        assert_eq!((one.days, one.points.split(' ').count()), (1, 1));
        let two = spark(&[None, Some(1.0), Some(3.0)], 24.0);
        assert_eq!(two.days, 2);
        assert_eq!(two.points.split(' ').count(), 2);
    }

    #[test]
    fn a_day_without_reports_is_a_long_silence() {
        let now = 100 * DAY;
        let first_day = now - DAYS * DAY;
        // Hourly reports, except a gap of the whole of day 10.
        let at: Vec<i64> = (0..DAYS * 24)
            .map(|h| first_day - DAY + h * 3_600_000)
            .filter(|t| (*t - first_day) / DAY != 10)
            .collect();
        let days = silences(&at, now);
        assert_eq!(days[5], Some(1.0));
        assert!(days[10].unwrap() > 24.0, "{:?}", days[10]);
        // Nothing before the first day: nothing to say about it.
        assert_eq!(silences(&[now - DAY / 2], now)[0], None);
        let line = spark(&days, MAX_SILENCE_H);
        assert_eq!(line.points.split(' ').count(), DAYS as usize);
    }
}

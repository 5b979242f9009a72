//! The fleet board: one row per installation the visitor may see, problems first, with
//! filters in the URL; its rows are fetched again when the fleet changes (`events.rs`).

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::extract::{Query, RawQuery, State};
use axum::response::Response;
use reveille_sdk::Version;
use serde::Deserialize;

use super::page::{PageError, Ui, render};
use super::session::Visitor;
use crate::app::AppState;
use crate::fleet::Installation;
use crate::plugins::Severity;
use crate::report::Seats;

/// A row's traffic light, worst first (the board's order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Light {
    /// A critical alert, or the dongle is not there.
    Red,
    /// A warning, a shell below the required version, or every seat taken.
    Amber,
    /// Nothing reported yet.
    Grey,
    Green,
}

impl Light {
    pub fn class(&self) -> &'static str {
        match self {
            Light::Red => "red",
            Light::Amber => "amber",
            Light::Grey => "grey",
            Light::Green => "green",
        }
    }
}

/// One installation as the board shows it.
pub struct Row {
    pub light: Light,
    pub installation: Installation,
    pub reported_at: Option<i64>,
    pub update: Option<crate::report::Update>,
    pub shell: Option<String>,
    pub minimum: Option<String>,
    pub below_minimum: bool,
    pub dongle: Option<String>,
    pub dongle_bad: bool,
    pub seats: Option<Seats>,
    pub seats_full: bool,
    pub critical: i64,
    pub warning: i64,
    pub info: i64,
    /// Plugins with an open alert here.
    plugins: BTreeSet<String>,
}

impl Row {
    fn problem(&self) -> bool {
        self.light != Light::Green
    }
}

/// Every installation `visitor` may see, as rows, worst first.
pub async fn fleet(state: &AppState, visitor: &Visitor) -> Result<Vec<Row>, PageError> {
    let installations = state.store.installations().await?;
    let mut glances = state.store.glances().await?;
    let settings = state.store.every_client_settings().await?;
    let mut counts: HashMap<String, Vec<crate::store::OpenCount>> = HashMap::new();
    for count in state.store.open_alert_counts().await? {
        counts
            .entry(count.installation_id.clone())
            .or_default()
            .push(count);
    }
    let no_settings = crate::store::Settings::new();
    let mut rows: Vec<Row> = installations
        .into_iter()
        .filter(|i| visitor.staff.sees(&i.manager))
        .map(|installation| {
            let latest = glances.remove(&installation.id);
            let minimum = state
                .runtime
                .setting(
                    "version-minimum",
                    "minimum",
                    settings.get(&installation.client).unwrap_or(&no_settings),
                )
                .filter(|m| !m.trim().is_empty());
            let open = counts.remove(&installation.id).unwrap_or_default();
            row(installation, latest, minimum, &open)
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.light, &a.installation.client, &a.installation.id).cmp(&(
            b.light,
            &b.installation.client,
            &b.installation.id,
        ))
    });
    Ok(rows)
}

fn row(
    installation: Installation,
    latest: Option<crate::store::Latest>,
    minimum: Option<String>,
    open: &[crate::store::OpenCount],
) -> Row {
    let of = |severity: Severity| {
        open.iter()
            .filter(|c| c.severity == severity)
            .map(|c| c.count)
            .sum::<i64>()
    };
    let (critical, warning, info) = (
        of(Severity::Critical),
        of(Severity::Warning),
        of(Severity::Info),
    );
    let (reported_at, glance) = match latest {
        Some(latest) => (Some(latest.received_at), latest.glance),
        None => (None, Default::default()),
    };
    let below_minimum = match (&glance.shell_version, &minimum) {
        (Some(shell), Some(minimum)) => matches!(
            (shell.parse::<Version>(), minimum.parse::<Version>()),
            (Ok(shell), Ok(minimum)) if shell < minimum
        ),
        _ => false,
    };
    let dongle_bad = glance.dongle.as_ref().is_some_and(|d| !d.is_ok());
    let seats_full = glance
        .seats
        .as_ref()
        .is_some_and(|s| s.limit > 0 && s.used >= s.limit);
    let light = if critical > 0 || dongle_bad {
        Light::Red
    } else if warning > 0 || below_minimum || seats_full {
        Light::Amber
    } else if reported_at.is_none() {
        Light::Grey
    } else {
        Light::Green
    };
    Row {
        light,
        installation,
        reported_at,
        update: glance.newest_update,
        shell: glance.shell_version,
        minimum,
        below_minimum,
        dongle: glance.dongle.map(|d| d.state),
        dongle_bad,
        seats: glance.seats,
        seats_full,
        critical,
        warning,
        info,
        plugins: open.iter().map(|c| c.plugin.clone()).collect(),
    }
}

/// The board's filters, as they stand in its URL.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    manager: String,
    #[serde(default)]
    client: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    plugin: String,
    #[serde(default)]
    problems: String,
}

impl Filters {
    fn keep(&self, row: &Row) -> bool {
        let client = self.client.trim().to_lowercase();
        (self.manager.is_empty() || row.installation.manager == self.manager)
            && (client.is_empty()
                || row.installation.client.to_lowercase().contains(&client)
                || row.installation.id.to_lowercase().contains(&client))
            && match self.severity.as_str() {
                "critical" => row.critical > 0,
                "warning" => row.warning > 0,
                "info" => row.info > 0,
                _ => true,
            }
            && (self.plugin.is_empty() || row.plugins.contains(&self.plugin))
            && (self.problems.is_empty() || row.problem())
    }
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    ui: Ui,
    rows: Vec<Row>,
    filters: Filters,
    query: String,
    managers: Vec<String>,
    plugins: Vec<String>,
    total: usize,
}

#[derive(Template)]
#[template(path = "rows.html")]
struct RowsFragment {
    ui: Ui,
    rows: Vec<Row>,
}

pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(filters): Query<Filters>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let all = fleet(&state, &visitor).await?;
    let total = all.len();
    let managers: BTreeSet<String> = all.iter().map(|r| r.installation.manager.clone()).collect();
    let mut plugins: Vec<String> = state
        .runtime
        .registry()
        .list()
        .into_iter()
        .map(|p| p.name)
        .collect();
    plugins.sort();
    let rows = all.into_iter().filter(|r| filters.keep(r)).collect();
    Ok(render(&BoardPage {
        ui: visitor.ui(),
        rows,
        filters,
        query: query.unwrap_or_default(),
        managers: managers.into_iter().collect(),
        plugins,
        total,
    }))
}

pub async fn rows(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    let rows = fleet(&state, &visitor)
        .await?
        .into_iter()
        .filter(|r| filters.keep(r))
        .collect();
    Ok(render(&RowsFragment {
        ui: visitor.ui(),
        rows,
    }))
}

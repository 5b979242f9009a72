//! History: every alert and every incident, newest first, a page at a time, with the
//! filters a head of support asks by (state, severity, check, client, installation). A
//! manager sees only hers, as everywhere.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::page::{PageError, Ui, render};
use super::session::Visitor;
use crate::alerts::incidents::Incident;
use crate::alerts::{Alert, AlertState};
use crate::app::AppState;
use crate::plugins::Severity;
use crate::store::{AlertFilter, IncidentFilter};

/// Rows on one page.
const PAGE: i64 = 100;

/// `/alerts` and `/incidents`' query string.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Asked {
    /// `open`, `resolved`, or anything else for both.
    state: String,
    severity: String,
    plugin: String,
    client: String,
    installation: String,
    /// The oldest id on the previous page.
    before: Option<i64>,
}

impl Asked {
    fn text(value: &str) -> Option<String> {
        Some(value.trim().to_string()).filter(|v| !v.is_empty())
    }

    /// This query for the page after one ending at `last`.
    fn older(&self, last: i64) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("state", &self.state),
            ("severity", &self.severity),
            ("plugin", &self.plugin),
            ("client", &self.client),
            ("installation", &self.installation),
        ] {
            if !value.is_empty() {
                query.append_pair(key, value);
            }
        }
        query.append_pair("before", &last.to_string());
        query.finish()
    }
}

#[derive(Template)]
#[template(path = "history_alerts.html")]
struct AlertsPage {
    ui: Ui,
    asked: Asked,
    alerts: Vec<Alert>,
    plugins: Vec<String>,
    /// The query of the next page, when there may be one.
    older: Option<String>,
}

#[derive(Template)]
#[template(path = "history_incidents.html")]
struct IncidentsPage {
    ui: Ui,
    asked: Asked,
    /// With what each is about.
    incidents: Vec<(Incident, String)>,
    older: Option<String>,
}

pub async fn alerts(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(asked): Query<Asked>,
) -> Result<Response, PageError> {
    let states = match asked.state.as_str() {
        "open" => Some(AlertState::OPEN.to_vec()),
        "resolved" => Some(vec![AlertState::Resolved]),
        _ => None,
    };
    let severity = match asked.severity.as_str() {
        "" => None,
        text => Some(text.parse::<Severity>().map_err(|_| {
            let lang = visitor.lang();
            PageError::bad(
                lang,
                lang.t_with("error-severity", &[("value", text.into())]),
            )
        })?),
    };
    let alerts = state
        .store
        .alerts(&AlertFilter {
            states,
            installation: Asked::text(&asked.installation),
            client: Asked::text(&asked.client),
            manager: visitor.staff.manager.clone(),
            severity,
            plugin: Asked::text(&asked.plugin),
            before: asked.before,
            limit: PAGE,
            ..AlertFilter::default()
        })
        .await?;
    let alerts: Vec<Alert> = alerts
        .into_iter()
        .filter(|a| visitor.staff.sees(&a.manager))
        .collect();
    let older = (alerts.len() as i64 == PAGE)
        .then(|| alerts.last().map(|a| asked.older(a.id)))
        .flatten();
    let plugins = state.runtime.registry().names();
    Ok(render(&AlertsPage {
        ui: visitor.ui(),
        asked,
        alerts,
        plugins,
        older,
    }))
}

pub async fn incidents(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(asked): Query<Asked>,
) -> Result<Response, PageError> {
    let listed = state
        .store
        .incidents(IncidentFilter {
            open_only: asked.state == "open",
            before: asked.before,
            limit: PAGE,
        })
        .await?;
    let older = (listed.len() as i64 == PAGE)
        .then(|| listed.last().map(|i| asked.older(i.id)))
        .flatten();
    let incidents = listed
        .into_iter()
        .filter(|i| i.members.iter().any(|m| visitor.staff.sees(&m.manager)))
        .filter(|i| asked.state != "resolved" || i.resolved_at.is_some())
        .map(|i| {
            let what = i.what(visitor.lang());
            (i, what)
        })
        .collect();
    Ok(render(&IncidentsPage {
        ui: visitor.ui(),
        asked,
        incidents,
        older,
    }))
}

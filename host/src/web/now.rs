//! "Now": what is broken across the fleet at this moment (open incidents, then open
//! alerts, worst and oldest first), the head of support's screen. Alerts of an incident
//! are listed under it, not again on their own.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::page::{PageError, Ui, render};
use super::session::Visitor;
use crate::alerts::incidents::Incident;
use crate::alerts::{Alert, AlertState};
use crate::app::AppState;
use crate::store::AlertFilter;

/// At most this many open alerts listed.
const MAX_ALERTS: i64 = 500;

pub struct Broken {
    /// Whether the visitor's fleet has any installation: nothing broken in an empty
    /// fleet says nothing.
    watched: bool,
    incidents: Vec<(Incident, String)>,
    alerts: Vec<Alert>,
}

async fn broken(state: &AppState, visitor: &Visitor) -> Result<Broken, PageError> {
    let incidents = state
        .store
        .open_incidents()
        .await?
        .into_iter()
        .filter(|i| i.members.iter().any(|m| visitor.staff.sees(&m.manager)))
        .map(|i| {
            let what = i.what(visitor.lang());
            (i, what)
        })
        .collect();
    let mut alerts: Vec<Alert> = state
        .store
        .alerts(&AlertFilter {
            states: Some(AlertState::TOLD.to_vec()),
            manager: visitor.staff.manager.clone(),
            limit: MAX_ALERTS,
            ..AlertFilter::default()
        })
        .await?
        .into_iter()
        .filter(|a| a.incident_id.is_none() && visitor.staff.sees(&a.manager))
        .collect();
    alerts.sort_by_key(|a| {
        (
            std::cmp::Reverse(a.severity),
            a.fired_at.unwrap_or(a.first_seen_at),
        )
    });
    let watched = state
        .store
        .any_installation(visitor.staff.manager.as_deref())
        .await?;
    Ok(Broken {
        watched,
        incidents,
        alerts,
    })
}

#[derive(Template)]
#[template(path = "now.html")]
struct NowPage {
    ui: Ui,
    broken: Broken,
}

#[derive(Template)]
#[template(path = "now_items.html")]
struct NowItems {
    ui: Ui,
    broken: Broken,
}

pub async fn page(State(state): State<AppState>, visitor: Visitor) -> Result<Response, PageError> {
    let broken = broken(&state, &visitor).await?;
    Ok(render(&NowPage {
        ui: visitor.ui(),
        broken,
    }))
}

pub async fn items(State(state): State<AppState>, visitor: Visitor) -> Result<Response, PageError> {
    let broken = broken(&state, &visitor).await?;
    Ok(render(&NowItems {
        ui: visitor.ui(),
        broken,
    }))
}

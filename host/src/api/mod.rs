//! The HTTP API (and, merged in, the board's pages: `web`). Admin routes (everything under `/api/v1`) sit behind [`auth`]; each
//! resource has its own file. Handlers parse and answer; the work happens in the modules
//! they call.

mod alerts;
pub mod auth;
pub mod body;
mod chats;
pub(crate) mod client_reports;
pub(crate) mod clients;
pub mod error;
mod evaluate;
mod health;
mod incidents;
mod input;
pub(crate) mod installations;
pub(crate) mod people;
pub(crate) mod plugins;
pub(crate) mod postmortems;
mod reports;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post, put};

use crate::alerting::Alerting;
use crate::clock::SharedClock;
use crate::metrics::Metrics;
use crate::pipeline::Pipeline;
use crate::plugin_set::PluginSet;
use crate::plugins::Runtime;
use crate::store::Store;
use auth::AdminToken;

#[derive(Clone)]
pub struct AppState {
    pub runtime: Arc<Runtime>,
    /// The installed set, the same on every node.
    pub plugins: Arc<PluginSet>,
    pub admin_token: Option<AdminToken>,
    pub clock: SharedClock,
    pub store: Store,
    pub pipeline: Arc<Pipeline>,
    pub metrics: Arc<Metrics>,
    pub alerting: Arc<Alerting>,
    pub limits: Limits,
    /// `/healthz` says degraded when the oldest queued job has waited this long.
    pub stalled_after: Duration,
    /// The board's sessions, setup link and live updates.
    pub web: Arc<crate::web::Web>,
    pub reports: Arc<crate::client_report::Reports>,
    /// This node among those sharing the database (`/healthz`, `/metrics`).
    pub cluster: Arc<crate::cluster::Cluster>,
    /// The stage requests belong to: long-lived responses end when it stops.
    pub intake: crate::tasks::Tasks,
}

/// Request body limits and timeouts.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Plugin uploads and dry-run reports.
    pub upload: usize,
    /// Reports from agents.
    pub report: usize,
    /// See [`crate::http::HttpSettings::body_timeout`].
    pub body_timeout: Duration,
}

impl Limits {
    pub fn upload(&self) -> body::BodyLimit {
        body::BodyLimit {
            bytes: self.upload,
            setting: "max_plugin_mb",
        }
    }

    pub fn report(&self) -> body::BodyLimit {
        body::BodyLimit {
            bytes: self.report,
            setting: "max_report_mb",
        }
    }
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    let limits = state.limits;
    let admin = Router::new()
        .route(
            "/installations",
            post(installations::create).get(installations::list),
        )
        .route(
            "/installations/{id}",
            get(installations::get)
                .patch(installations::patch)
                .delete(installations::delete),
        )
        .route(
            "/installations/{id}/token",
            post(installations::rotate_token),
        )
        .route("/installations/{id}/findings", get(installations::findings))
        .route("/clients/{client}/settings", get(clients::get))
        .route("/clients/{client}/report", get(client_reports::get))
        .route("/clients/{client}/settings/{plugin}", put(clients::put))
        .route("/plugins", get(plugins::list))
        .route(
            "/plugins/{name}",
            put(plugins::put).get(plugins::get).delete(plugins::delete),
        )
        .route("/plugins/{name}/enable", post(plugins::enable))
        .route("/plugins/{name}/disable", post(plugins::disable))
        .route("/evaluate", post(evaluate::dry_run))
        .route("/alerts", get(alerts::list))
        .route("/alerts/{id}", get(alerts::get))
        .route("/alerts/{id}/ack", post(alerts::ack))
        .route("/alerts/{id}/snooze", post(alerts::snooze))
        .route("/incidents", get(incidents::list))
        .route("/incidents/{id}", get(incidents::get))
        .route("/incidents/{id}/ack", post(incidents::ack))
        .route("/incidents/{id}/snooze", post(incidents::snooze))
        .route("/incidents/{id}/updates", post(incidents::update))
        .route(
            "/incidents/{id}/postmortem",
            get(postmortems::incident).put(postmortems::put_incident),
        )
        .route(
            "/alerts/{id}/postmortem",
            get(postmortems::alert).put(postmortems::put_alert),
        )
        .route("/contacts", get(people::contacts_list))
        .route(
            "/contacts/{name}",
            get(people::contacts::get)
                .put(people::contacts::put)
                .delete(people::contacts::delete),
        )
        .route("/client-policies", get(people::policies::list))
        .route(
            "/clients/{client}/policy",
            get(people::policies::get)
                .put(people::policies::put)
                .delete(people::policies::delete),
        )
        .route("/oncall", get(people::schedules::list))
        .route(
            "/oncall/{name}",
            get(people::schedules::get)
                .put(people::schedules::put)
                .delete(people::schedules::delete),
        )
        .route("/oncall/{name}/now", get(people::on_call_now))
        .route("/oncall/{name}/overrides", post(people::add_override))
        .route("/maintenance", get(people::maintenance_list))
        .route(
            "/maintenance/{name}",
            get(people::windows::get)
                .put(people::windows::put)
                .delete(people::windows::delete),
        )
        .route("/escalation-policies", get(people::escalations::list))
        .route(
            "/escalation-policies/{name}",
            get(people::escalations::get)
                .put(people::escalations::put)
                .delete(people::escalations::delete),
        )
        .route("/chats/{chat_id}/members", get(chats::list))
        .route(
            "/chats/{chat_id}/members/{user_id}",
            put(chats::put).delete(chats::delete),
        )
        .layer(DefaultBodyLimit::max(limits.upload))
        .route_layer(middleware::from_fn_with_state(
            limits.upload(),
            body::declared_size,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_admin,
        ));
    // Agents authenticate with their installation's token, before their body is read; then
    // a declared size over the limit is refused at once.
    let agents = Router::new()
        .route("/reports", post(reports::post_report))
        .layer(DefaultBodyLimit::max(limits.report))
        .route_layer(middleware::from_fn_with_state(
            limits.report(),
            body::declared_size,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            reports::authenticate,
        ));
    Router::new()
        .merge(crate::web::router(&state))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .nest("/api/v1", agents.merge(admin))
        .layer(middleware::from_fn_with_state(
            limits.body_timeout,
            body::slow_senders,
        ))
        .with_state(state)
}

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
pub(crate) mod imports;
mod incidents;
mod input;
pub(crate) mod installations;
pub(crate) mod people;
pub(crate) mod plugins;
pub(crate) mod postmortems;
pub(crate) mod replays;
mod reports;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{MethodRouter, get, post, put};

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
    /// When `/healthz` says degraded.
    pub health: crate::vitals::Bounds,
    /// What the service knows about its own condition.
    pub vitals: Arc<crate::vitals::Vitals>,
    /// The board's sessions, setup link and live updates.
    pub web: Arc<crate::web::Web>,
    pub reports: Arc<crate::client_report::Reports>,
    /// Replays of rules over history, this node's and every node's.
    pub replays: Arc<crate::replay::Replays>,
    /// History imports.
    pub imports: Arc<crate::import::Imports>,
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
    /// A report made longer ago than this (the report retention) is refused: history that
    /// old would not be kept.
    pub report_age: Duration,
    /// See [`crate::http::HttpSettings::body_timeout`].
    pub body_timeout: Duration,
}

impl Limits {
    pub fn upload(&self) -> body::BodyLimit {
        body::BodyLimit {
            bytes: self.upload,
            setting: Some("max_plugin_mb"),
        }
    }

    pub fn report(&self) -> body::BodyLimit {
        body::BodyLimit {
            bytes: self.report,
            setting: Some("max_report_mb"),
        }
    }
}

/// Who may call a route. The router is built from [`routes`]' tables, so the list is what
/// is served; the security walk (`tests/security.rs`) calls every route without and with
/// the wrong credentials and checks each answer against this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: health, metrics, the login page, static files.
    Public,
    /// Whoever holds the one-time secret in the path (the setup link, a login link).
    Secret,
    /// An agent with its installation's ingest token.
    Agent,
    /// Automation with the admin token.
    Admin,
    /// Any staff session.
    Staff,
    /// Any staff session reads; only an admin or a manager writes (acknowledge, snooze,
    /// post-mortems).
    Acting,
    /// An administrator's staff session.
    StaffAdmin,
}

/// One route of the router (its path as axum reads it, `{param}` included).
#[derive(Debug, Clone)]
pub struct Route {
    pub path: String,
    pub access: Access,
}

type Table = Vec<(&'static str, MethodRouter<AppState>)>;

/// Every route the service serves, with who may call it.
pub fn routes() -> Vec<Route> {
    let api = |table: Table, access| {
        table.into_iter().map(move |(path, _)| Route {
            path: format!("/api/v1{path}"),
            access,
        })
    };
    let mut all: Vec<Route> = service()
        .into_iter()
        .map(|(path, _)| Route {
            path: path.to_string(),
            access: Access::Public,
        })
        .collect();
    all.extend(api(agents(), Access::Agent));
    all.extend(api(admin(), Access::Admin));
    all.extend(crate::web::pages(usize::MAX).into_iter().map(|page| Route {
        path: page.path.to_string(),
        access: page.access,
    }));
    all
}

pub(crate) fn mount<'a>(
    table: impl IntoIterator<Item = (&'a str, MethodRouter<AppState>)>,
) -> Router<AppState> {
    table
        .into_iter()
        .fold(Router::new(), |router, (path, methods)| {
            router.route(path, methods)
        })
}

/// The service's own routes, open to anyone.
fn service() -> Table {
    vec![
        ("/healthz", get(health::healthz)),
        ("/metrics", get(health::metrics)),
    ]
}

/// What agents call with their installation's token.
fn agents() -> Table {
    vec![("/reports", post(reports::post_report))]
}

/// The admin API, behind the admin token.
fn admin() -> Table {
    vec![
        (
            "/installations",
            post(installations::create).get(installations::list),
        ),
        (
            "/installations/{id}",
            get(installations::get)
                .patch(installations::patch)
                .delete(installations::delete),
        ),
        (
            "/installations/{id}/token",
            post(installations::rotate_token),
        ),
        ("/installations/{id}/findings", get(installations::findings)),
        ("/clients/{client}/settings", get(clients::get)),
        ("/clients/{client}/report", get(client_reports::get)),
        ("/clients/{client}/settings/{plugin}", put(clients::put)),
        ("/plugins", get(plugins::list)),
        (
            "/plugins/{name}",
            put(plugins::put).get(plugins::get).delete(plugins::delete),
        ),
        ("/plugins/{name}/enable", post(plugins::enable)),
        ("/plugins/{name}/disable", post(plugins::disable)),
        ("/plugins/{name}/replay", post(replays::start)),
        ("/plugins/{name}/log", get(plugins::log)),
        ("/replays", get(replays::list)),
        ("/imports", post(imports::begin).get(imports::list)),
        ("/imports/{id}", get(imports::get).delete(imports::cancel)),
        ("/imports/{id}/reports", post(imports::batch)),
        ("/imports/{id}/finish", post(imports::finish)),
        ("/replays/{id}", get(replays::get).delete(replays::cancel)),
        ("/evaluate", post(evaluate::dry_run)),
        ("/alerts", get(alerts::list)),
        ("/alerts/{id}", get(alerts::get)),
        ("/alerts/{id}/ack", post(alerts::ack)),
        ("/alerts/{id}/snooze", post(alerts::snooze)),
        ("/incidents", get(incidents::list)),
        ("/incidents/{id}", get(incidents::get)),
        ("/incidents/{id}/ack", post(incidents::ack)),
        ("/incidents/{id}/snooze", post(incidents::snooze)),
        ("/incidents/{id}/updates", post(incidents::update)),
        (
            "/incidents/{id}/postmortem",
            get(postmortems::incident).put(postmortems::put_incident),
        ),
        (
            "/alerts/{id}/postmortem",
            get(postmortems::alert).put(postmortems::put_alert),
        ),
        ("/contacts", get(people::contacts_list)),
        (
            "/contacts/{name}",
            get(people::contacts::get)
                .put(people::contacts::put)
                .delete(people::contacts::delete),
        ),
        ("/client-policies", get(people::policies::list)),
        (
            "/clients/{client}/policy",
            get(people::policies::get)
                .put(people::policies::put)
                .delete(people::policies::delete),
        ),
        ("/oncall", get(people::schedules::list)),
        (
            "/oncall/{name}",
            get(people::schedules::get)
                .put(people::schedules::put)
                .delete(people::schedules::delete),
        ),
        ("/oncall/{name}/now", get(people::on_call_now)),
        ("/oncall/{name}/overrides", post(people::add_override)),
        ("/maintenance", get(people::maintenance_list)),
        (
            "/maintenance/{name}",
            get(people::windows::get)
                .put(people::windows::put)
                .delete(people::windows::delete),
        ),
        ("/escalation-policies", get(people::escalations::list)),
        (
            "/escalation-policies/{name}",
            get(people::escalations::get)
                .put(people::escalations::put)
                .delete(people::escalations::delete),
        ),
        ("/chats/{chat_id}/members", get(chats::list)),
        (
            "/chats/{chat_id}/members/{user_id}",
            put(chats::put).delete(chats::delete),
        ),
    ]
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    let limits = state.limits;
    let admin = mount(admin())
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
    let agents = mount(agents())
        .layer(DefaultBodyLimit::max(limits.report))
        .route_layer(middleware::from_fn_with_state(
            limits.report(),
            body::declared_size,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            reports::authenticate,
        ));
    mount(service())
        .merge(crate::web::router(&state))
        .nest("/api/v1", agents.merge(admin))
        .layer(middleware::from_fn_with_state(
            limits.body_timeout,
            body::slow_senders,
        ))
        .with_state(state)
}

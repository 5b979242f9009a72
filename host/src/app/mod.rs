//! What the API (`api`, JSON for automation) and the board (`web`, pages for people)
//! share, so that neither imports the other: the state every handler reads
//! ([`AppState`]), who may call a route ([`Access`]), request bodies (`body.rs`), errors
//! with a status (`error.rs`), the admin token (`admin_token.rs`) and the board's own
//! state (`board.rs`); and the use cases both call: installations (`installations.rs`)
//! and their onboarding from CSV (`onboarding.rs`), a client's plugin settings
//! (`client_settings.rs`) and reports (`client_reports.rs`), post-mortems
//! (`postmortems.rs`), replays (`replays.rs`) and status pages (`status.rs`). Plugins
//! are `PluginSet`'s, which both call directly. `routes.rs` puts the two routers
//! together.

pub mod admin_token;
mod board;
pub mod body;
pub mod client_reports;
pub mod client_settings;
pub mod error;
pub mod input;
pub mod installations;
pub mod onboarding;
pub mod postmortems;
pub mod replays;
pub mod status;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::MethodRouter;

use crate::alerting::Alerting;
use crate::clock::SharedClock;
use crate::metrics::Metrics;
use crate::pipeline::Pipeline;
use crate::plugin_set::PluginSet;
use crate::plugins::Runtime;
use crate::store::Store;
use admin_token::AdminToken;
pub use board::Web;
pub(crate) use board::same;

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
    pub web: Arc<Web>,
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

/// Who may call a route. The router is built from `routes`' tables, so the list is what
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

/// Routes as a table: each path with its handlers.
pub(crate) type Table = Vec<(&'static str, MethodRouter<AppState>)>;

/// Mounts a table of routes, each path with its handlers.
pub(crate) fn mount<'a>(
    table: impl IntoIterator<Item = (&'a str, MethodRouter<AppState>)>,
) -> Router<AppState> {
    table
        .into_iter()
        .fold(Router::new(), |router, (path, methods)| {
            router.route(path, methods)
        })
}

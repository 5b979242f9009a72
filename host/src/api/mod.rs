//! The HTTP API. Admin routes (everything under `/api/v1`) sit behind [`auth`]; each
//! resource has its own file. Handlers parse and answer; the work happens in the modules
//! they call.

mod alerts;
pub mod auth;
mod chats;
mod clients;
pub mod error;
mod evaluate;
mod health;
mod installations;
mod plugins;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post, put};

use crate::clock::SharedClock;
use crate::ingest;
use crate::metrics::Metrics;
use crate::pipeline::{Alerting, Pipeline};
use crate::plugins::Runtime;
use crate::plugins::directory::PluginDir;
use crate::store::Store;
use auth::AdminToken;

#[derive(Clone)]
pub struct AppState {
    pub runtime: Arc<Runtime>,
    pub plugin_dir: Arc<PluginDir>,
    pub admin_token: Option<AdminToken>,
    pub clock: SharedClock,
    pub store: Store,
    pub pipeline: Arc<Pipeline>,
    pub metrics: Arc<Metrics>,
    pub alerting: Alerting,
}

/// Request body limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Plugin uploads and dry-run reports.
    pub upload: usize,
    /// Reports from agents.
    pub report: usize,
}

/// The whole API.
pub fn router(state: AppState, limits: Limits) -> Router {
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
        .route("/clients/{client}/settings/{plugin}", put(clients::put))
        .route("/plugins", get(plugins::list))
        .route(
            "/plugins/{name}",
            put(plugins::put).get(plugins::get).delete(plugins::delete),
        )
        .route("/plugins/{name}/enable", post(plugins::enable))
        .route("/evaluate", post(evaluate::dry_run))
        .route("/alerts", get(alerts::list))
        .route("/alerts/{id}", get(alerts::get))
        .route("/alerts/{id}/ack", post(alerts::ack))
        .route("/chats/{chat_id}/members", get(chats::list))
        .route(
            "/chats/{chat_id}/members/{user_id}",
            put(chats::put).delete(chats::delete),
        )
        .layer(DefaultBodyLimit::max(limits.upload))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_admin,
        ));
    // Agents authenticate with their installation's token, before their body is read.
    let agents = Router::new()
        .route("/reports", post(ingest::post_report))
        .layer(DefaultBodyLimit::max(limits.report))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            ingest::authenticate,
        ));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .nest("/api/v1", agents.merge(admin))
        .with_state(state)
}

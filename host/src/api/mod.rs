//! The HTTP API. Admin routes (everything under `/api/v1`) sit behind [`auth`]; each
//! resource has its own file. Handlers parse and answer; the work happens in the modules
//! they call.

pub mod auth;
pub mod error;
mod evaluate;
mod health;
mod plugins;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post, put};

use crate::clock::SharedClock;
use crate::plugins::Runtime;
use crate::plugins::directory::PluginDir;
use auth::AdminToken;

#[derive(Clone)]
pub struct AppState {
    pub runtime: Arc<Runtime>,
    pub plugin_dir: Arc<PluginDir>,
    pub admin_token: Option<AdminToken>,
    pub clock: SharedClock,
}

/// The whole API. `max_upload` bounds plugin uploads and dry-run reports.
pub fn router(state: AppState, max_upload: usize) -> Router {
    let admin = Router::new()
        .route("/plugins", get(plugins::list))
        .route(
            "/plugins/{name}",
            put(plugins::put).get(plugins::get).delete(plugins::delete),
        )
        .route("/plugins/{name}/enable", post(plugins::enable))
        .route("/evaluate", post(evaluate::dry_run))
        .layer(DefaultBodyLimit::max(max_upload))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_admin,
        ));
    Router::new()
        .route("/healthz", get(health::healthz))
        .nest("/api/v1", admin)
        .with_state(state)
}

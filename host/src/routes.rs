//! The router: the API's tables and the board's pages, each route with who may call it
//! ([`routes`], which the security walk in `tests/security.rs` calls every entry of) and
//! the layers that enforce it.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;

use crate::api::{self, auth, reports};
use crate::app::{Access, AppState, Table, body, mount};

/// One route of the router (its path as axum reads it, `{param}` included).
#[derive(Debug, Clone)]
pub struct Route {
    pub path: String,
    pub access: Access,
}

/// Every route the service serves, with who may call it.
pub fn routes() -> Vec<Route> {
    let api = |table: Table, access| {
        table.into_iter().map(move |(path, _)| Route {
            path: format!("/api/v1{path}"),
            access,
        })
    };
    let mut all: Vec<Route> = api::service()
        .into_iter()
        .map(|(path, _)| Route {
            path: path.to_string(),
            access: Access::Public,
        })
        .collect();
    all.extend(api(api::agents(), Access::Agent));
    all.extend(api(api::admin(), Access::Admin));
    all.extend(crate::web::pages(usize::MAX).into_iter().map(|page| Route {
        path: page.path.to_string(),
        access: page.access,
    }));
    all
}

/// The service's router: its own routes, the board's pages and the API under `/api/v1`,
/// each behind the guard its `Access` asks for.
pub fn router(state: AppState) -> Router {
    let limits = state.limits;
    let admin = mount(api::admin())
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
    let agents = mount(api::agents())
        .layer(DefaultBodyLimit::max(limits.report))
        .route_layer(middleware::from_fn_with_state(
            limits.report(),
            body::declared_size,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            reports::authenticate,
        ));
    mount(api::service())
        .merge(crate::web::router(&state))
        .nest("/api/v1", agents.merge(admin))
        .layer(middleware::from_fn_with_state(
            limits.body_timeout,
            body::slow_senders,
        ))
        .with_state(state)
}

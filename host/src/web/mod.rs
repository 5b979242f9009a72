//! The board: pages for people, served beside the API on the same port. Server-rendered
//! HTML (askama templates in `host/templates`), htmx for forms and fragments, and one
//! server-sent event stream (`/events`) that tells open pages the fleet changed. Every
//! page needs a staff session (`session.rs`); a manager sees only their own clients, a
//! viewer only reads, the admin pages are the admin's. The static files are embedded
//! (`assets.rs`): nothing comes from the internet.

mod admin;
mod assets;
mod board;
mod client;
mod directory;
mod events;
mod now;
mod page;
mod session;
mod subject;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::api::AppState;
use crate::live::Live;
pub use session::Web;

/// Every page.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(board::page))
        .route("/board/rows", get(board::rows))
        .route("/now", get(now::page))
        .route("/now/items", get(now::items))
        .route("/events", get(events::stream))
        .route("/clients/{client}", get(client::page))
        .route("/clients/{client}/report", get(client::report))
        .route("/clients/{client}/settings", post(client::set_settings))
        .route("/alerts/{id}", get(subject::alert))
        .route("/alerts/{id}/ack", post(subject::ack_alert))
        .route("/alerts/{id}/snooze", post(subject::snooze_alert))
        .route("/incidents/{id}", get(subject::incident))
        .route("/incidents/{id}/ack", post(subject::ack_incident))
        .route("/incidents/{id}/snooze", post(subject::snooze_incident))
        .route(
            "/{kind}/{id}/postmortem",
            get(subject::postmortem).post(subject::save_postmortem),
        )
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route(
            "/login/telegram/{secret}",
            get(session::login_link_page).post(session::login_link),
        )
        .route(
            "/setup/{token}",
            get(session::setup_page).post(session::setup),
        )
        .route("/account/lang", post(session::set_lang))
        .route(
            "/admin/installations",
            get(admin::installations).post(admin::create_installation),
        )
        .route("/admin/installations/{id}/token", post(admin::rotate_token))
        .route(
            "/admin/installations/{id}/delete",
            post(admin::delete_installation),
        )
        .route(
            "/admin/plugins",
            get(admin::plugins).post(admin::upload_plugin),
        )
        .route("/admin/plugins/{name}/{action}", post(admin::plugin_action))
        .route("/admin/staff", get(admin::staff).post(admin::create_staff))
        .route(
            "/admin/directory/{kind}",
            get(directory::page).post(directory::save),
        )
        .route("/admin/staff/{name}/delete", post(admin::delete_staff))
        .route("/static/{file}", get(assets::serve))
        .layer(DefaultBodyLimit::max(state.limits.upload))
}

/// The board's own state, inside the API's.
pub fn web(live: Live, public_url: Option<String>) -> Arc<Web> {
    Arc::new(Web::new(live, public_url))
}

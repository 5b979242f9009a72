//! The board: pages for people, served beside the API on the same port. Server-rendered
//! HTML (askama templates in `host/templates`), htmx for forms and fragments, and one
//! server-sent event stream (`/events`) that tells open pages the fleet changed. Every
//! page needs a staff session (`session.rs`); a manager sees only their own clients, a
//! viewer only reads, the admin pages are the admin's. The static files are embedded
//! (`assets.rs`): nothing comes from the internet.

mod account;
mod admin;
mod assets;
mod board;
mod chats;
mod client;
mod client_settings;
mod directory;
mod entries;
mod events;
mod form;
mod history;
mod installation;
mod installations;
mod now;
mod page;
mod plugin;
mod replays;
mod session;
mod staff;
mod status;
mod subject;
mod test_alert;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{MethodRouter, get, post};

use crate::app::body::{BodyLimit, declared_size};
use crate::app::{Access, AppState};

/// The most a form may send (post-mortem sections are the longest).
const FORM: BodyLimit = BodyLimit {
    bytes: 1 << 20,
    setting: None,
};

/// One page's route: who may open it, what its body may be, and its handlers.
pub(crate) struct Page {
    pub path: &'static str,
    pub access: Access,
    pub body: BodyLimit,
    pub methods: MethodRouter<AppState>,
}

/// Every page; `upload` bounds the forms that upload a component (as it does the API's
/// upload).
pub(crate) fn pages(upload: usize) -> Vec<Page> {
    use Access::{Acting, Public, Secret, Staff, StaffAdmin};
    let page = |path, access, methods| Page {
        path,
        access,
        body: FORM,
        methods,
    };
    let uploading = |page: Page| Page {
        body: BodyLimit {
            bytes: upload,
            setting: Some("max_plugin_mb"),
        },
        ..page
    };
    vec![
        page("/", Staff, get(board::page)),
        page("/board/live", Staff, get(events::board)),
        page("/installations/{id}", Staff, get(installation::page)),
        page("/alerts", Staff, get(history::alerts)),
        page("/incidents", Staff, get(history::incidents)),
        page("/now", Staff, get(now::page)),
        page("/now/items", Staff, get(now::items)),
        page("/events", Staff, get(events::stream)),
        page("/clients/{client}", Staff, get(client::page)),
        page("/clients/{client}/report", Staff, get(client::report)),
        page(
            "/clients/{client}/settings/{plugin}",
            StaffAdmin,
            get(client_settings::page).post(client_settings::save),
        ),
        page("/alerts/{id}", Staff, get(subject::alert)),
        page("/alerts/{id}/ack", Acting, post(subject::ack_alert)),
        page("/alerts/{id}/snooze", Acting, post(subject::snooze_alert)),
        page("/incidents/{id}", Staff, get(subject::incident)),
        page("/incidents/{id}/ack", Acting, post(subject::ack_incident)),
        page(
            "/incidents/{id}/snooze",
            Acting,
            post(subject::snooze_incident),
        ),
        page(
            "/incidents/{id}/update",
            Acting,
            post(subject::update_incident),
        ),
        page(
            "/{kind}/{id}/postmortem",
            Acting,
            get(subject::postmortem).post(subject::save_postmortem),
        ),
        page(
            "/login",
            Public,
            get(session::login_page).post(session::login),
        ),
        page("/logout", Staff, post(session::logout)),
        page(
            "/login/telegram/{secret}",
            Secret,
            get(session::login_link_page).post(session::login_link),
        ),
        page(
            "/password/{secret}",
            Secret,
            get(staff::password_page).post(staff::set_password),
        ),
        page("/status", Public, get(status::shared)),
        page("/status/{secret}", Secret, get(status::page)),
        page(
            "/clients/{client}/status-link",
            StaffAdmin,
            post(status::renew),
        ),
        page(
            "/setup/{token}",
            Secret,
            get(session::setup_page).post(session::setup),
        ),
        page("/account/lang", Staff, post(session::set_lang)),
        page("/account", Staff, get(account::page).post(account::save)),
        page(
            "/admin/installations",
            StaffAdmin,
            get(installations::page).post(installations::save),
        ),
        page(
            "/admin/installations/import",
            StaffAdmin,
            post(installations::import),
        ),
        page(
            "/admin/installations/{id}/token",
            StaffAdmin,
            post(installations::rotate_token),
        ),
        page(
            "/admin/installations/{id}/delete",
            StaffAdmin,
            post(installations::delete),
        ),
        uploading(page(
            "/admin/plugins",
            StaffAdmin,
            get(admin::plugins).post(admin::upload_plugin),
        )),
        page("/admin/plugins/{name}", StaffAdmin, get(plugin::page)),
        page(
            "/admin/plugins/{name}/{action}",
            StaffAdmin,
            post(admin::plugin_action),
        ),
        uploading(page(
            "/admin/replays",
            StaffAdmin,
            get(replays::list).post(replays::start),
        )),
        page("/admin/replays/{id}", StaffAdmin, get(replays::page)),
        page(
            "/admin/replays/{id}/cancel",
            StaffAdmin,
            post(replays::cancel),
        ),
        page(
            "/admin/staff",
            StaffAdmin,
            get(staff::page).post(staff::create),
        ),
        page(
            "/admin/directory/{kind}",
            StaffAdmin,
            get(directory::page).post(directory::save),
        ),
        page("/admin/staff/{name}", StaffAdmin, post(staff::update)),
        page(
            "/admin/staff/{name}/delete",
            StaffAdmin,
            post(staff::delete),
        ),
        page("/admin/staff/{name}/reset", StaffAdmin, post(staff::reset)),
        page(
            "/admin/staff/{name}/telegram",
            StaffAdmin,
            post(staff::telegram_code),
        ),
        page("/admin/test-alert", StaffAdmin, post(test_alert::send)),
        page(
            "/admin/test-alert/close",
            StaffAdmin,
            post(test_alert::close),
        ),
        page("/static/{file}", Public, get(assets::serve)),
    ]
}

/// Every page's route: its session's right decided first ([`session::guard`]), then its
/// body's declared size, then the body read within its limit.
pub fn router(state: &AppState) -> Router<AppState> {
    crate::app::mount(pages(state.limits.upload).into_iter().map(|page| {
        let methods = page
            .methods
            .layer(DefaultBodyLimit::max(page.body.bytes))
            .route_layer(middleware::from_fn_with_state(page.body, declared_size));
        let methods = match page.access {
            Access::Public | Access::Secret => methods,
            access => methods.route_layer(middleware::from_fn_with_state(
                (state.clone(), access),
                session::guard,
            )),
        };
        // Outermost, so that the guard's own look at the session is said in words too.
        (
            page.path,
            methods.layer(middleware::from_fn(page::unavailable)),
        )
    }))
}

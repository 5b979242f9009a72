//! The HTTP API for automation: JSON in and out. Admin routes (everything under `/api/v1`)
//! sit behind [`auth`]; each resource has its own file. Handlers parse and answer; the
//! work happens in the modules they call. The tables here are mounted by `routes`, beside
//! the board's pages.

mod alerts;
pub mod auth;
mod chats;
pub(crate) mod client_reports;
pub(crate) mod clients;
mod evaluate;
mod health;
pub(crate) mod imports;
mod incidents;
pub(crate) mod installations;
pub(crate) mod people;
pub(crate) mod plugins;
pub(crate) mod postmortems;
pub(crate) mod replays;
pub(crate) mod reports;

use axum::routing::{get, post, put};

use crate::app::Table;

/// The service's own routes, open to anyone.
pub(crate) fn service() -> Table {
    vec![
        ("/healthz", get(health::healthz)),
        ("/metrics", get(health::metrics)),
    ]
}

/// What agents call with their installation's token.
pub(crate) fn agents() -> Table {
    vec![("/reports", post(reports::post_report))]
}

/// The admin API, behind the admin token.
pub(crate) fn admin() -> Table {
    vec![
        (
            "/installations",
            post(installations::create).get(installations::list),
        ),
        ("/installations/import", post(installations::import)),
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
        (
            "/installations/{id}/test-alert",
            post(installations::test_alert).delete(installations::test_alert),
        ),
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

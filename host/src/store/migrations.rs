//! The schema for each backend, embedded so the binary needs no files at run time.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};

use super::Backend;

/// Every migration, in order; each exists once per backend folder.
macro_rules! migrations {
    ($backend:literal) => {
        &[
            (
                1,
                "init",
                include_str!(concat!("../../../migrations/", $backend, "/0001_init.sql")),
            ),
            (
                2,
                "host runs",
                include_str!(concat!(
                    "../../../migrations/",
                    $backend,
                    "/0002_host_runs.sql"
                )),
            ),
            (
                3,
                "client settings",
                include_str!(concat!(
                    "../../../migrations/",
                    $backend,
                    "/0003_client_settings.sql"
                )),
            ),
            (
                4,
                "alerts",
                include_str!(concat!(
                    "../../../migrations/",
                    $backend,
                    "/0004_alerts.sql"
                )),
            ),
            (
                5,
                "plugin switches",
                include_str!(concat!(
                    "../../../migrations/",
                    $backend,
                    "/0005_plugin_switches.sql"
                )),
            ),
            (
                6,
                "people",
                include_str!(concat!(
                    "../../../migrations/",
                    $backend,
                    "/0006_people.sql"
                )),
            ),
            (
                7,
                "maintenance",
                include_str!(concat!(
                    "../../../migrations/",
                    $backend,
                    "/0007_maintenance.sql"
                )),
            ),
            (
                8,
                "incidents",
                include_str!(concat!(
                    "../../../migrations/",
                    $backend,
                    "/0008_incidents.sql"
                )),
            ),
            (
                9,
                "board",
                include_str!(concat!("../../../migrations/", $backend, "/0009_board.sql")),
            ),
            (
                10,
                "client reports",
                include_str!(concat!(
                    "../../../migrations/",
                    $backend,
                    "/0010_client_reports.sql"
                )),
            ),
            (
                11,
                "cluster",
                include_str!(concat!(
                    "../../../migrations/",
                    $backend,
                    "/0011_cluster.sql"
                )),
            ),
        ]
    };
}

const SQLITE: &[(i64, &str, &str)] = migrations!("sqlite");
const POSTGRES: &[(i64, &str, &str)] = migrations!("postgres");

pub fn for_backend(backend: Backend) -> Migrator {
    let list = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    Migrator {
        migrations: Cow::Owned(
            list.iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect(),
        ),
        ..Migrator::DEFAULT
    }
}

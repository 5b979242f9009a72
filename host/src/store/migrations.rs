//! The schema for each backend, embedded by `sqlx::migrate!` so the binary needs no files
//! at run time. sqlx records each applied migration with its checksum: a migration edited
//! after it was applied stops the start with an error naming its version, rather than
//! leaving two databases with different schemas under the same number.

use sqlx::migrate::Migrator;

use super::Backend;

static SQLITE: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("../migrations/postgres");

pub fn for_backend(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    }
}

//! Durable storage through sqlx: SQLite by default (an embedded file, zero setup),
//! PostgreSQL when a distributor outgrows one machine. Both share every query (written in
//! the dialect they have in common, `$N` placeholders included); only the migrations differ.
//! This module stores and loads; it never decides anything about what it stores.

mod alerts;
mod chats;
mod client_settings;
mod directory;
mod glances;
mod history;
mod host_runs;
mod incidents;
mod installations;
mod leases;
mod migrations;
mod outbox;
mod plugins;
mod replays;
mod reports;
mod staff;

use std::str::FromStr;

use sqlx::any::AnyRow;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor, Row};

pub use alerts::AlertFilter;
pub use chats::ChatMember;
pub use client_settings::Settings;
pub use glances::{Latest, OpenCount};
pub use history::LogLine;
pub use host_runs::Downtime;
pub use incidents::IncidentFilter;
pub use leases::Lease;
pub use outbox::{Interrupted, OutboxEntry};
pub use replays::{ReplayRow, ReplayState};
pub use reports::{
    EvaluationCommit, HistoricReport, NewReport, PROBE_AGENT, StoredFinding, StoredReport,
};
pub use staff::Session as StaffSession;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl FromStr for Backend {
    type Err = StoreError;

    fn from_str(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Url(
                url.split(':').next().unwrap_or_default().to_string(),
            ))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "unsupported database URL scheme `{0}`: use sqlite://path/to/reveille.db or postgres://user@host/db"
    )]
    Url(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("cannot apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("installation `{0}` already exists")]
    Duplicate(String),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

/// The database, shared by every part of the host.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// Where every write goes. SQLite has one writer at a time: several connections
    /// writing at once would wait on each other inside SQLite, in its busy handler's
    /// sleeps of up to 100 ms, or fail to upgrade a read transaction. One connection,
    /// handed out in turn by the pool, queues writers in the host instead, fairly and
    /// without sleeping. PostgreSQL writes concurrently: there it is the same pool.
    writer: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects and applies migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        install_default_drivers();
        let backend: Backend = url.parse()?;
        let (pool, writer) = match backend {
            Backend::Sqlite => {
                let pool = sqlite_pool(8).connect(url).await?;
                // Readers do not wait for the writer; the setting sticks to the file.
                pool.execute("PRAGMA journal_mode = WAL").await?;
                let writer = sqlite_pool(1).connect(url).await?;
                (pool, writer)
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .connect(url)
                    .await?;
                (pool.clone(), pool)
            }
        };
        migrations::for_backend(backend).run(&writer).await?;
        Ok(Store {
            pool,
            writer,
            backend,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// On SQLite, copies what the write-ahead log holds into the database file, on a
    /// reader's connection while the writer goes on (see [`sqlite_pool`]); nothing on
    /// PostgreSQL, which checkpoints by itself (and where nobody calls this).
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            self.pool.execute("PRAGMA wal_checkpoint(PASSIVE)").await?;
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// SQLite connections that sync the WAL at checkpoints, not at every commit: a commit
/// survives the process being killed (the outage test does so), and only a power loss can
/// take back the last moments; without it every commit waits for the disk.
///
/// No connection checkpoints by itself: SQLite's automatic checkpoint runs in the
/// connection whose commit crossed the threshold, which is always the one writer, so one
/// commit in a few hundred waited for megabytes to be copied and synced (the latency
/// tail that moved with the disk's mood). [`Store::checkpoint`] does it beside the writer.
fn sqlite_pool(connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(connections)
        .after_connect(|connection, _| {
            Box::pin(async move {
                connection.execute("PRAGMA synchronous = NORMAL").await?;
                connection.execute("PRAGMA wal_autocheckpoint = 0").await?;
                Ok(())
            })
        })
}

/// Column `column` of `row`, stored as text, read back as `T`; unreadable text is corrupt
/// data, not a query error.
fn parse<T: FromStr<Err = String>>(row: &AnyRow, column: &str) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    text.parse().map_err(StoreError::Corrupt)
}

/// A unique-key violation as a `Duplicate` error for `what`.
fn duplicate(error: sqlx::Error, what: &str) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate(what.into()),
        _ => StoreError::Db(error),
    }
}

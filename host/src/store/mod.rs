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
mod imports;
mod incidents;
mod installations;
mod leases;
mod migrations;
mod outbox;
mod plugin_log;
mod plugins;
mod replays;
mod reports;
mod staff;
mod status_links;
mod trouble;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::AnyRow;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyConnection, AnyPool, Connection, Executor, Row};

pub use alerts::AlertFilter;
pub use chats::{BotChat, ChatMember, ChatPerson};
pub use client_settings::Settings;
pub use glances::{Latest, OpenCount};
pub use history::LogLine;
pub use host_runs::Downtime;
pub use imports::{Import, ImportState};
pub use incidents::IncidentFilter;
pub use leases::Lease;
pub use outbox::{OutboxEntry, Waiting};
pub use plugin_log::{KEPT_PER_PLUGIN, LogPage, PluginSaid, SaidIn, StoredLogLine};
pub use replays::{ReplayRow, ReplayState};
pub use reports::{
    Evaluated, HistoricReport, Inserted, NewReport, PROBE_AGENT, StoredFinding, StoredReport,
};
pub use staff::Changed;
pub use staff::Session as StaffSession;
pub use trouble::Trouble;

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

impl StoreError {
    /// The storage's condition behind this error, when it is one that passes (a full
    /// disk, a server out of reach) rather than a bug.
    pub fn trouble(&self) -> Option<Trouble> {
        Trouble::of(self)
    }

    /// PostgreSQL rolled the transaction back to break a deadlock or a serialization
    /// conflict with another (SQLSTATE class 40): the same work done again succeeds.
    pub fn conflicted(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(db)) => {
                db.code().is_some_and(|code| code.starts_with("40"))
            }
            _ => false,
        }
    }
}

/// How long a caller waits for a connection before the database counts as out of reach
/// (`[database] acquire_timeout`): an agent is answered 503 and retries, rather than
/// hanging until its own timeout.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

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
    /// A connection of its own for [`Store::ping`], so a pool busy with work does not look
    /// like a database out of reach.
    monitor: Arc<tokio::sync::Mutex<Option<AnyConnection>>>,
    url: Arc<str>,
}

/// How a store is opened (`[database]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// See [`DEFAULT_ACQUIRE_TIMEOUT`].
    pub acquire_timeout: Duration,
    /// On SQLite, the most the database file may grow to, in bytes: beyond it writes are
    /// refused as on a full disk. `None`: as large as the disk allows.
    pub max_size: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            max_size: None,
        }
    }
}

impl Store {
    /// Connects with the default [`Options`] and applies migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Self::open_with(url, Options::default()).await
    }

    /// Connects and applies migrations.
    pub async fn open_with(url: &str, options: Options) -> Result<Store, StoreError> {
        install_default_drivers();
        let backend: Backend = url.parse()?;
        let (pool, writer) = match backend {
            Backend::Sqlite => {
                let pool = sqlite_pool(8, options).connect(url).await?;
                // Readers do not wait for the writer; the setting sticks to the file.
                pool.execute("PRAGMA journal_mode = WAL").await?;
                let writer = sqlite_pool(1, options).connect(url).await?;
                (pool, writer)
            }
            Backend::Postgres => {
                let pool = pool_options(options)
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
            monitor: Arc::default(),
            url: url.into(),
        })
    }

    /// Whether the database answers a query within `within`, on a connection kept for
    /// this alone (made again when it was lost).
    pub async fn ping(&self, within: Duration) -> Result<(), StoreError> {
        let mut monitor = self.monitor.lock().await;
        let asked = tokio::time::timeout(within, async {
            if monitor.is_none() {
                *monitor = Some(AnyConnection::connect(&self.url).await?);
            }
            let connection = monitor.as_mut().expect("connected above");
            connection.execute("SELECT 1").await.map(drop)
        })
        .await;
        match asked {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => {
                *monitor = None;
                Err(error.into())
            }
            Err(_) => {
                *monitor = None;
                Err(sqlx::Error::PoolTimedOut.into())
            }
        }
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
///
/// `max_size` becomes each connection's `max_page_count` (SQLite's pages are 4 KiB).
fn sqlite_pool(connections: u32, options: Options) -> AnyPoolOptions {
    let max_pages = options.max_size.map(|bytes| (bytes / 4096).max(1));
    pool_options(options)
        .max_connections(connections)
        .after_connect(move |connection, _| {
            Box::pin(async move {
                connection.execute("PRAGMA synchronous = NORMAL").await?;
                connection.execute("PRAGMA wal_autocheckpoint = 0").await?;
                if let Some(pages) = max_pages {
                    connection
                        .execute(format!("PRAGMA max_page_count = {pages}").as_str())
                        .await?;
                }
                Ok(())
            })
        })
}

/// Options every pool starts from: a connection that comes back still inside a
/// transaction is closed rather than reused.
///
/// When SQLite rolls a transaction back by itself (a full disk, an I/O error), the
/// rollback sqlx sends on drop fails and sqlx goes on believing it is inside one: its next
/// `BEGIN` becomes a savepoint in a transaction nobody commits, and every later write on
/// that connection, answered as committed, vanished when the process stopped. A fresh
/// connection has no such past.
fn pool_options(options: Options) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .acquire_timeout(options.acquire_timeout)
        .after_release(|connection, _| {
        Box::pin(async move {
            if !connection.is_in_transaction() {
                return Ok(true);
            }
            // The rollback a dropped transaction queued goes first.
            connection.ping().await?;
            let clean = !connection.is_in_transaction();
            if !clean {
                tracing::warn!("a database connection came back inside a transaction after an error; replacing it");
            }
            Ok(clean)
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

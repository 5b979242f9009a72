//! The board's rows kept in memory between changes: every page and every live update of
//! every open board is cut from them, so a hundred thousand installations are read from
//! the database once per change to the fleet (a ring of [`Live`]), not once per visitor.
//! A live stream after a ring waits for the one load that follows it, so it never sends
//! rows older than the last ring it could have heard. A page does too while loads are
//! quick; once a load takes longer than [`PATIENCE`] (a large fleet), the board's page is
//! cut from the rows it has, labelled with their ring, while the next load runs: its
//! stream sees the label is behind and sends the change within that load's time, so
//! nobody waits a second or two for the board after every report. An installation's or
//! a client's page, which has no stream, waits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::row::{Facts, Row, Tag, build};
use crate::alerts::AlertState;
use crate::live::Live;
use crate::plugins::Runtime;
use crate::store::{AlertFilter, Settings, Store, StoreError};

/// The fleet's rows after some ring.
pub struct Rows {
    /// Rings heard before it was read.
    rung: u64,
    pub rows: Vec<Row>,
    /// Open incidents.
    pub incidents: Vec<Arc<Tag>>,
}

/// A page waits for the rows after a ring while loading them takes no longer than this.
pub const PATIENCE: Duration = Duration::from_millis(250);

pub struct Kept {
    store: Store,
    runtime: Arc<Runtime>,
    live: Live,
    current: RwLock<Option<Arc<Rows>>>,
    /// One load at a time; readers who find it busy wait for its result.
    loading: Mutex<()>,
    /// How long the last load took, in ms.
    last_load_ms: AtomicU64,
}

impl Rows {
    /// Rings heard before these rows were read: a page says which it shows, so that its
    /// live stream knows whether it missed a change.
    pub fn rung(&self) -> u64 {
        self.rung
    }
}

impl Kept {
    pub fn new(store: Store, runtime: Arc<Runtime>, live: Live) -> Kept {
        Kept {
            store,
            runtime,
            live,
            current: RwLock::default(),
            loading: Mutex::default(),
            last_load_ms: AtomicU64::new(0),
        }
    }

    /// The rows a page is cut from: as of the last ring, or, while loads are slow, the
    /// last rows read (their [`Rows::rung`] says which) with the next load started.
    pub async fn for_page(self: &Arc<Self>) -> Result<Arc<Rows>, StoreError> {
        if let Some(rows) = self.fresh() {
            return Ok(rows);
        }
        let slow = self.last_load_ms.load(Ordering::Relaxed) > PATIENCE.as_millis() as u64;
        let kept = self.current.read().expect("kept rows").clone();
        match kept {
            Some(rows) if slow => {
                // One read at a time: pages that come while it runs start no other.
                if self.loading.try_lock().is_ok() {
                    let kept = self.clone();
                    tokio::spawn(async move {
                        if let Err(error) = kept.rows().await {
                            tracing::warn!(%error, "the board's rows could not be read again");
                        }
                    });
                }
                Ok(rows)
            }
            _ => self.rows().await,
        }
    }

    /// The rows as of the last ring.
    pub async fn rows(&self) -> Result<Arc<Rows>, StoreError> {
        if let Some(rows) = self.fresh() {
            return Ok(rows);
        }
        let _loading = self.loading.lock().await;
        if let Some(rows) = self.fresh() {
            return Ok(rows);
        }
        // Read before loading: a ring during the load makes the next reader load again.
        let rung = self.live.rung();
        let started = Instant::now();
        let rows = Arc::new(self.load(rung).await?);
        self.last_load_ms
            .store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        *self.current.write().expect("kept rows") = Some(rows.clone());
        Ok(rows)
    }

    fn fresh(&self) -> Option<Arc<Rows>> {
        let current = self.current.read().expect("kept rows");
        current
            .as_ref()
            .filter(|rows| rows.rung == self.live.rung())
            .cloned()
    }

    #[tracing::instrument(name = "board_load", skip(self))]
    async fn load(&self, rung: u64) -> Result<Rows, StoreError> {
        let installations = self.store.installations().await?;
        let glances = self.store.glances().await?;
        let settings = self.store.every_client_settings().await?;
        let alerts = self
            .store
            .alerts(&AlertFilter {
                states: Some(AlertState::TOLD.to_vec()),
                limit: i64::MAX,
                ..AlertFilter::default()
            })
            .await?;
        let incidents = self.store.open_incidents().await?;
        let none = Settings::new();
        let (rows, incidents) = build(
            Facts {
                installations,
                glances,
                alerts,
                incidents,
            },
            |installation| {
                self.runtime
                    .minimum_shell(settings.get(&installation.client).unwrap_or(&none))
            },
        );
        Ok(Rows {
            rung,
            rows,
            incidents,
        })
    }
}

//! The board's rows kept in memory between changes: every page and every live update of
//! every open board is cut from them, so a hundred thousand installations are read from
//! the database once per change to the fleet (a ring of [`Live`]), not once per visitor.
//! A reader after a ring waits for the one load that follows it; readers never see rows
//! older than the last ring they could have heard.

use std::sync::{Arc, RwLock};

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

pub struct Kept {
    store: Store,
    runtime: Arc<Runtime>,
    live: Live,
    current: RwLock<Option<Arc<Rows>>>,
    /// One load at a time; readers who find it busy wait for its result.
    loading: Mutex<()>,
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
        let rows = Arc::new(self.load(rung).await?);
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
                self.runtime.setting(
                    "version-minimum",
                    "minimum",
                    settings.get(&installation.client).unwrap_or(&none),
                )
            },
        );
        Ok(Rows {
            rung,
            rows,
            incidents,
        })
    }
}

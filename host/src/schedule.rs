//! The periodic tick: every interval, every installation is evaluated by the plugins that
//! want `tick` (silence, staleness), with `now` from the host's clock, and snoozed alerts
//! whose snooze ended fire again.
//!
//! Each tick also deletes reports past their retention (each installation keeps its newest).
//! The scheduler keeps the host's own uptime record (a row per run, refreshed on every
//! tick), so that after the host was down, the silence it caused is not blamed on the
//! installations: their last report time is moved forward by the host's downtime.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::alerts;
use crate::clock::SharedClock;
use crate::pipeline::{Job, Pipeline};
use crate::store::{Store, StoreError};

pub struct Scheduler {
    store: Store,
    pipeline: Arc<Pipeline>,
    clock: SharedClock,
    /// How long reports are kept.
    retention: Duration,
    run: i64,
    /// Woken when a snooze ended and its alert fires again.
    outbox: Arc<Notify>,
}

impl Scheduler {
    /// Records this run of the host.
    pub async fn start(
        store: Store,
        pipeline: Arc<Pipeline>,
        clock: SharedClock,
        retention: Duration,
        outbox: Arc<Notify>,
    ) -> Result<Arc<Self>, StoreError> {
        let run = store.record_start(clock.now_ms()).await?;
        Ok(Arc::new(Scheduler {
            store,
            pipeline,
            clock,
            retention,
            run,
            outbox,
        }))
    }

    /// Ticks every `interval` until the task is aborted.
    pub fn spawn(self: &Arc<Self>, interval: Duration) -> JoinHandle<()> {
        let scheduler = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                if let Err(error) = scheduler.tick().await {
                    tracing::warn!(%error, "tick failed; retrying at the next interval");
                }
            }
        })
    }

    /// Marks the host alive now, wakes snoozed alerts whose snooze ended, enforces report
    /// retention and queues a tick for every installation.
    pub async fn tick(&self) -> Result<usize, StoreError> {
        self.heartbeat().await?;
        if self
            .store
            .wake_snoozed(self.clock.now_ms(), alerts::ON_WAKE)
            .await?
            > 0
        {
            self.outbox.notify_one();
        }
        let cutoff =
            self.clock.now_ms() - i64::try_from(self.retention.as_millis()).unwrap_or(i64::MAX);
        let pruned = self.store.prune_reports(cutoff).await?;
        if pruned > 0 {
            tracing::info!(reports = pruned, "reports past their retention deleted");
        }
        let downtime = Arc::new(self.store.downtime().await?);
        let installations = self.store.installations().await?;
        for installation in &installations {
            self.pipeline.submit(
                &installation.id,
                Job::Tick {
                    downtime: downtime.clone(),
                },
            );
        }
        Ok(installations.len())
    }

    /// Records that the host is alive now (also called at a clean shutdown).
    pub async fn heartbeat(&self) -> Result<(), StoreError> {
        self.store.heartbeat(self.run, self.clock.now_ms()).await
    }
}

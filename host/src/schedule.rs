//! The periodic tick: every interval, every installation is evaluated by the plugins that
//! want `tick` (silence, staleness), with `now` from the host's clock. More often, the
//! alerts' clockwork runs: snoozes and acknowledgements that ran out, escalation steps and
//! morning digests that came due (`Alerting::run_due`).
//!
//! Each tick also deletes reports past their retention (each installation keeps its newest),
//! and report log lines past theirs.
//! The scheduler keeps the host's own uptime record (a row per run, refreshed on every
//! tick), so that after the host was down, the silence it caused is not blamed on the
//! installations: their last report time is moved forward by the host's downtime.

use std::sync::Arc;
use std::time::Duration;

use crate::alerting::Alerting;
use crate::clock::SharedClock;
use crate::pipeline::{Job, Pipeline};
use crate::store::{Store, StoreError};
use crate::tasks::Tasks;

/// How long the clockwork gathers after being asked to look soon.
const GATHER: Duration = Duration::from_secs(1);

/// How long what the host learns is kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Reports themselves, raw bytes included.
    pub reports: Duration,
    /// The report log client reports read.
    pub history: Duration,
}

pub struct Scheduler {
    store: Store,
    pipeline: Arc<Pipeline>,
    clock: SharedClock,
    retention: Retention,
    run: i64,
    alerting: Arc<Alerting>,
}

impl Scheduler {
    /// Records this run of the host.
    pub async fn start(
        store: Store,
        pipeline: Arc<Pipeline>,
        clock: SharedClock,
        retention: Retention,
        alerting: Arc<Alerting>,
    ) -> Result<Arc<Self>, StoreError> {
        let run = store.record_start(clock.now_ms()).await?;
        Ok(Arc::new(Scheduler {
            store,
            pipeline,
            clock,
            retention,
            run,
            alerting,
        }))
    }

    /// Ticks every `interval`, in `tasks`.
    pub fn spawn(self: &Arc<Self>, interval: Duration, tasks: &Tasks) {
        let scheduler = self.clone();
        let stop = tasks.clone();
        tasks.spawn(async move {
            while stop.pause(interval).await {
                if let Err(error) = scheduler.tick().await {
                    tracing::warn!(%error, "tick failed; retrying at the next interval");
                }
            }
        });
    }

    /// Runs the alerts' clockwork every `interval`, in `tasks`: escalations,
    /// expiries and digests are due to the minute, not to the next tick. When asked to
    /// look soon (alerts waiting to be grouped), it looks after [`GATHER`], so a storm's
    /// alerts are seen together rather than one by one.
    pub fn spawn_clockwork(self: &Arc<Self>, interval: Duration, tasks: &Tasks) {
        let scheduler = self.clone();
        let stop = tasks.clone();
        tasks.spawn(async move {
            // At start, at once: whatever came due while the host was down.
            let mut wait = Duration::ZERO;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = scheduler.alerting.due_soon() => {
                        if !stop.pause(GATHER).await {
                            return;
                        }
                    }
                    _ = stop.stopping() => return,
                }
                wait = interval;
                if !scheduler.pipeline.engine() {
                    continue;
                }
                if let Err(error) = scheduler.alerting.run_due().await {
                    tracing::warn!(%error, "alerts clockwork failed; retrying at the next interval");
                }
            }
        });
    }

    /// Marks the host alive now; on the engine node, runs the alerts' clockwork, enforces
    /// report retention and queues a tick for every installation that is not still
    /// waiting for its last one. How many were queued.
    pub async fn tick(&self) -> Result<usize, StoreError> {
        self.heartbeat().await?;
        if !self.pipeline.engine() {
            return Ok(0);
        }
        self.alerting.run_due().await?;
        let now = self.clock.now_ms();
        let cutoff = |keep: Duration| now - i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
        let pruned = self
            .store
            .prune_reports(cutoff(self.retention.reports))
            .await?;
        if pruned > 0 {
            tracing::info!(reports = pruned, "reports past their retention deleted");
        }
        let pruned = self
            .store
            .prune_report_log(cutoff(self.retention.history))
            .await?;
        if pruned > 0 {
            tracing::info!(
                lines = pruned,
                "report log lines past their retention deleted"
            );
        }
        let downtime = Arc::new(self.store.downtime().await?);
        let installations = self.store.installation_ids().await?;
        let queued = installations
            .iter()
            .filter(|installation| {
                self.pipeline.submit(
                    installation,
                    Job::Tick {
                        downtime: downtime.clone(),
                    },
                )
            })
            .count();
        if queued < installations.len() {
            tracing::warn!(
                installations = installations.len(),
                queued,
                "the last tick is still being worked through: installations still waiting for theirs keep it (a sweep of the fleet takes longer than the tick interval)"
            );
        }
        Ok(queued)
    }

    /// Records that the host is alive now (also called at a clean shutdown).
    pub async fn heartbeat(&self) -> Result<(), StoreError> {
        self.store.heartbeat(self.run, self.clock.now_ms()).await
    }
}

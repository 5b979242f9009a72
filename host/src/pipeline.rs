//! Stored report → every interested plugin → findings and state, committed together.
//!
//! Reports are sharded by installation over a few workers: one installation's reports are
//! evaluated in the order they arrived (each sees the state the previous one left), while
//! different installations proceed in parallel, and each evaluation fans out over the
//! plugin worker pool. On start, reports accepted but never evaluated (the host stopped in
//! between) are queued again, so nothing accepted is lost and nothing is applied twice.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::clock::SharedClock;
use crate::plugins::{Evaluation, InstallationInfo, Runtime, Trigger};
use crate::store::{Store, StoreError};

/// How often a failed commit is retried before the report waits for the next start.
const COMMIT_ATTEMPTS: u32 = 3;

pub struct Pipeline {
    shards: Vec<mpsc::UnboundedSender<i64>>,
    queued: Arc<AtomicI64>,
}

struct Worker {
    store: Store,
    runtime: Arc<Runtime>,
    clock: SharedClock,
    queued: Arc<AtomicI64>,
}

impl Pipeline {
    /// Starts `shards` workers (at least one).
    pub fn start(
        store: Store,
        runtime: Arc<Runtime>,
        clock: SharedClock,
        shards: usize,
    ) -> Arc<Self> {
        let queued = Arc::new(AtomicI64::new(0));
        let senders = (0..shards.max(1))
            .map(|_| {
                let (tx, rx) = mpsc::unbounded_channel();
                let worker = Worker {
                    store: store.clone(),
                    runtime: runtime.clone(),
                    clock: clock.clone(),
                    queued: queued.clone(),
                };
                tokio::spawn(worker.run(rx));
                tx
            })
            .collect();
        Arc::new(Pipeline {
            shards: senders,
            queued,
        })
    }

    /// Queues a committed report for evaluation.
    pub fn submit(&self, report_id: i64, installation_id: &str) {
        let mut hasher = DefaultHasher::new();
        installation_id.hash(&mut hasher);
        let shard = (hasher.finish() % self.shards.len() as u64) as usize;
        self.queued.fetch_add(1, Ordering::Relaxed);
        if self.shards[shard].send(report_id).is_err() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            tracing::error!(
                report = report_id,
                "the evaluation pipeline is stopped; the report waits for the next start"
            );
        }
    }

    /// Queues every report accepted but not yet evaluated.
    pub async fn resume(&self, store: &Store) -> Result<usize, StoreError> {
        let pending = store.pending_reports().await?;
        for (id, installation) in &pending {
            self.submit(*id, installation);
        }
        if !pending.is_empty() {
            tracing::info!(
                reports = pending.len(),
                "resuming evaluation of reports accepted before the restart"
            );
        }
        Ok(pending.len())
    }

    /// Reports queued or being evaluated.
    pub fn queue_depth(&self) -> i64 {
        self.queued.load(Ordering::Relaxed)
    }
}

impl Worker {
    async fn run(self, mut reports: mpsc::UnboundedReceiver<i64>) {
        while let Some(report_id) = reports.recv().await {
            for attempt in 1..=COMMIT_ATTEMPTS {
                match self.evaluate(report_id).await {
                    Ok(()) => break,
                    Err(error) if attempt < COMMIT_ATTEMPTS => {
                        tracing::warn!(report = report_id, %error, attempt, "evaluation not committed; retrying");
                        tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                    }
                    Err(error) => {
                        tracing::error!(report = report_id, %error, "evaluation not committed; the report waits for the next start");
                    }
                }
            }
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
    }

    async fn evaluate(&self, report_id: i64) -> Result<(), StoreError> {
        let Some(report) = self.store.report(report_id).await? else {
            return Ok(()); // deleted with its installation meanwhile
        };
        let Some(installation) = self.store.installation(&report.installation_id).await? else {
            return Ok(());
        };
        let span =
            tracing::info_span!("evaluate", report = report_id, installation = %installation.id);
        let evaluation = Evaluation {
            installation: InstallationInfo {
                id: installation.id.clone(),
                client: installation.client.clone(),
                tags: installation.tags.clone(),
                timezone: installation.timezone.clone(),
            },
            trigger: Trigger::Report,
            now_ms: self.clock.now_ms(),
            last_report_at_ms: Some(report.received_at),
            report: Some(Arc::new(report.document)),
            state: self.store.plugin_state(&installation.id).await?,
        };
        let runs = self.runtime.evaluate(&evaluation).await;
        let outputs: Vec<(&str, &crate::plugins::EvalOutput)> = runs
            .iter()
            .filter_map(|run| Some((run.plugin.as_str(), run.outcome.as_ref().ok()?)))
            .collect();
        self.store
            .complete_evaluation(report_id, &installation.id, evaluation.now_ms, &outputs)
            .await?;
        span.in_scope(|| {
            tracing::debug!(
                plugins = runs.len(),
                failed = runs.len() - outputs.len(),
                "report evaluated"
            )
        });
        Ok(())
    }
}

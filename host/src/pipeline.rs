//! Reports, ticks and probes → every interested plugin → findings and state, committed
//! together.
//!
//! Work is sharded by installation over a few workers: one installation's jobs run in the
//! order they were queued (each sees the state the previous one left), while different
//! installations proceed in parallel, and each evaluation fans out over the plugin worker
//! pool. On start, reports accepted but never evaluated (the host stopped in between) are
//! queued again, so nothing accepted is lost and nothing is applied twice.

use std::collections::VecDeque;
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::alerting::Alerting;
use crate::alerts::directory::Directory;
use crate::clock::SharedClock;
use crate::fleet::Installation;
use crate::metrics::Metrics;
use crate::plugins::{EvalOutput, Evaluation, InstallationInfo, Runtime, Trigger};
use crate::report::Document;
use crate::store::{Downtime, EvaluationCommit, Store, StoreError};

/// Beyond this many queued jobs, a report's parsed document is not kept in the queue but
/// loaded back when its turn comes: a backlog costs database reads, not memory.
const FRESH_QUEUE_LIMIT: i64 = 1_000;

/// Shards per plugin worker thread. A job spends most of its time waiting for the
/// database (a few reads, one commit) rather than in plugins: with one shard per core the
/// cores sat idle between queries; with several, one shard's plugin calls fill another's
/// waits. Jobs of one installation still run in order, in its shard.
pub const SHARDS_PER_WORKER: usize = 8;

/// How often a failed commit is retried before the job is dropped (a report then waits
/// for the next start; a tick or probe for the next round).
const COMMIT_ATTEMPTS: u32 = 3;

/// A report as ingest just stored it.
#[derive(Debug, Clone)]
pub struct Fresh {
    pub document: Arc<Document>,
    pub received_at: i64,
}

/// One unit of work for one installation.
#[derive(Debug, Clone)]
pub enum Job {
    /// A stored report to evaluate. `fresh` carries it as ingest parsed it, which saves
    /// loading it back; without it (a report resumed after a restart) it is loaded.
    Report { id: i64, fresh: Option<Fresh> },
    /// Time passed. `downtime` is when the host itself was down, which is not the
    /// installation's silence.
    Tick { downtime: Arc<Downtime> },
    /// The host probed the installation; the result in report form.
    Probe(Arc<Document>),
}

/// What a log line says about a job: its kind and, for a report, its id; never the
/// report's content.
impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Job::Report { id, .. } => write!(f, "report {id}"),
            Job::Tick { .. } => f.write_str("tick"),
            Job::Probe(_) => f.write_str("probe"),
        }
    }
}

/// When each job of a shard was queued, oldest first: the running job is the front.
type Waiting = Arc<Mutex<VecDeque<Instant>>>;

pub struct Pipeline {
    shards: Vec<(mpsc::UnboundedSender<(String, Job)>, Waiting)>,
    queued: Arc<AtomicI64>,
}

struct Worker {
    store: Store,
    runtime: Arc<Runtime>,
    clock: SharedClock,
    metrics: Arc<Metrics>,
    queued: Arc<AtomicI64>,
    waiting: Waiting,
    alerting: Arc<Alerting>,
}

impl Pipeline {
    /// Starts `shards` workers (at least one).
    pub fn start(
        store: Store,
        runtime: Arc<Runtime>,
        clock: SharedClock,
        metrics: Arc<Metrics>,
        alerting: Arc<Alerting>,
        shards: usize,
    ) -> Arc<Self> {
        let queued = Arc::new(AtomicI64::new(0));
        let senders = (0..shards.max(1))
            .map(|_| {
                let (tx, rx) = mpsc::unbounded_channel();
                let waiting = Waiting::default();
                let worker = Worker {
                    store: store.clone(),
                    runtime: runtime.clone(),
                    clock: clock.clone(),
                    metrics: metrics.clone(),
                    queued: queued.clone(),
                    waiting: waiting.clone(),
                    alerting: alerting.clone(),
                };
                tokio::spawn(worker.run(rx));
                (tx, waiting)
            })
            .collect();
        Arc::new(Pipeline {
            shards: senders,
            queued,
        })
    }

    /// Queues `job` for `installation`.
    pub fn submit(&self, installation: &str, mut job: Job) {
        if let Job::Report { fresh, .. } = &mut job
            && self.queue_depth() > FRESH_QUEUE_LIMIT
        {
            *fresh = None;
        }
        let mut hasher = DefaultHasher::new();
        installation.hash(&mut hasher);
        let (sender, waiting) = &self.shards[(hasher.finish() % self.shards.len() as u64) as usize];
        self.queued.fetch_add(1, Ordering::Relaxed);
        let mut waiting = waiting.lock().expect("queue lock");
        waiting.push_back(Instant::now());
        if sender.send((installation.to_string(), job)).is_err() {
            waiting.pop_back();
            self.queued.fetch_sub(1, Ordering::Relaxed);
            tracing::error!(installation, "the evaluation pipeline is stopped");
        }
    }

    /// How long the oldest job queued or running has waited.
    pub fn oldest_wait(&self) -> Option<Duration> {
        self.shards
            .iter()
            .filter_map(|(_, waiting)| Some(waiting.lock().expect("queue lock").front()?.elapsed()))
            .max()
    }

    /// Queues every report accepted but not yet evaluated.
    pub async fn resume(&self, store: &Store) -> Result<usize, StoreError> {
        let pending = store.pending_reports().await?;
        for (id, installation) in &pending {
            self.submit(
                installation,
                Job::Report {
                    id: *id,
                    fresh: None,
                },
            );
        }
        if !pending.is_empty() {
            tracing::info!(
                reports = pending.len(),
                "resuming evaluation of reports accepted before the restart"
            );
        }
        Ok(pending.len())
    }

    /// Jobs queued or running.
    pub fn queue_depth(&self) -> i64 {
        self.queued.load(Ordering::Relaxed)
    }
}

impl Worker {
    async fn run(self, mut jobs: mpsc::UnboundedReceiver<(String, Job)>) {
        while let Some((installation, job)) = jobs.recv().await {
            for attempt in 1..=COMMIT_ATTEMPTS {
                match self.handle(&installation, &job).await {
                    Ok(()) => break,
                    Err(error) if attempt < COMMIT_ATTEMPTS => {
                        tracing::warn!(%installation, %job, %error, attempt, "evaluation not committed; retrying");
                        tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                    }
                    Err(error) => {
                        tracing::error!(%installation, %job, %error, "evaluation not committed; giving up on this job");
                    }
                }
            }
            self.waiting.lock().expect("queue lock").pop_front();
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
    }

    async fn handle(&self, installation_id: &str, job: &Job) -> Result<(), StoreError> {
        // Deleted meanwhile: nothing left to evaluate or to commit to.
        let Some(installation) = self.store.installation(installation_id).await? else {
            return Ok(());
        };
        let now = self.clock.now_ms();
        let (trigger, report_id, report, last_report_at) = match job {
            Job::Report {
                id,
                fresh: Some(fresh),
            } => (
                Trigger::Report,
                Some(*id),
                Some(fresh.document.clone()),
                Some(fresh.received_at),
            ),
            Job::Report { id, fresh: None } => {
                let Some(stored) = self.store.report(*id).await? else {
                    return Ok(());
                };
                (
                    Trigger::Report,
                    Some(*id),
                    Some(Arc::new(stored.document)),
                    Some(stored.received_at),
                )
            }
            Job::Tick { downtime } => match self.store.latest_report(installation_id).await? {
                Some((id, received_at)) => {
                    let report = self.store.report(id).await?.map(|r| Arc::new(r.document));
                    let silence_while_up = received_at + downtime.within(received_at, now);
                    (Trigger::Tick, None, report, Some(silence_while_up))
                }
                None => (Trigger::Tick, None, None, None),
            },
            Job::Probe(document) => {
                let last = self
                    .store
                    .latest_report(installation_id)
                    .await?
                    .map(|(_, at)| at);
                (Trigger::Probe, None, Some(document.clone()), last)
            }
        };
        let evaluation = Evaluation {
            installation: info(&installation),
            trigger,
            now_ms: now,
            last_report_at_ms: last_report_at,
            report,
            state: self.store.plugin_state(installation_id).await?,
            client_settings: self.store.client_settings(&installation.client).await?,
        };
        let runs = self.runtime.evaluate(&evaluation).await;
        self.metrics.evaluated(&runs);
        let outputs: Vec<(&str, &EvalOutput)> = runs
            .iter()
            .filter_map(|run| Some((run.plugin.as_str(), run.outcome.as_ref().ok()?)))
            .collect();
        let open = self.store.open_alerts(installation_id).await?;
        // Routing needs the directory only when something can change.
        let directory = if open.is_empty() && outputs.iter().all(|(_, o)| o.findings.is_empty()) {
            Directory::default()
        } else {
            self.alerting.directory().await?
        };
        let changes = self
            .alerting
            .plan(&directory, &installation, &open, &outputs, now);
        let queued = self
            .store
            .commit_evaluation(&EvaluationCommit {
                report_id,
                installation: &installation,
                now,
                outputs: &outputs,
                alerts: &changes,
            })
            .await?;
        self.alerting.committed(&changes, queued);
        tracing::debug!(
            installation = installation_id,
            %trigger,
            plugins = runs.len(),
            failed = runs.len() - outputs.len(),
            "evaluated"
        );
        Ok(())
    }
}

fn info(installation: &Installation) -> InstallationInfo {
    InstallationInfo {
        id: installation.id.clone(),
        client: installation.client.clone(),
        tags: installation.tags.clone(),
        timezone: installation.timezone.clone(),
    }
}

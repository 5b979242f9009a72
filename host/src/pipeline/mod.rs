//! Reports, ticks and probes → every interested plugin → findings and state, committed
//! together.
//!
//! Work is sharded by installation over a few workers: one installation's jobs run in the
//! order they were queued (each sees the state the previous one left), while different
//! installations proceed in parallel, and each evaluation fans out over the plugin worker
//! pool. On start, reports accepted but never evaluated (the host stopped in between) are
//! queued again, so nothing accepted is lost and nothing is applied twice.
//!
//! Only the node holding the [`Role::Engine`] lease evaluates. Elsewhere a report is only
//! stored, and the other nodes are told; the engine's sweep queues whatever is stored and
//! not evaluated (at once when told, every [`SWEEP_EVERY`] anyway, and when it takes the
//! lease over). A report queued twice (by its own node and by a sweep, or by two engines
//! one after the other) is applied once: its commit only counts if nobody's did before.
//!
//! Most reports say exactly what their installation's previous one said (fleets report
//! on the hour, mostly that all is well), and a burst of them must not delay the one that
//! says a dongle is gone: a report whose content differs from its installation's previous
//! one (apart from when it was generated), a probe whose answer changed, or a report whose
//! predecessor this node never saw, waits in the urgent lane of its shard ([`queue`]);
//! routine reports and ticks in the routine lane. Every job is still evaluated, with the
//! same inputs, in its installation's order; only installations are reordered.

mod queue;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use queue::{Lane, ShardQueue, Taken};

use crate::alerting::Alerting;
use crate::alerts::lifecycle::Heard;
use crate::clock::SharedClock;
use crate::cluster::{Cluster, Role, Topic};
use crate::metrics::Metrics;
use crate::plugins::{EvalOutput, Evaluation, InstallationInfo, Runtime, Trigger};
use crate::report::{Document, Judged, Timing};
use crate::store::{Downtime, Evaluated, PluginSaid, Store, StoreError};
use crate::tasks::Tasks;
use crate::vitals::Vitals;

/// Beyond this many queued jobs, a report's parsed document is not kept in the queue but
/// loaded back when its turn comes: a backlog costs database reads, not memory.
const FRESH_QUEUE_LIMIT: i64 = 1_000;

/// Shards per plugin worker thread. A job spends most of its time waiting for the
/// database (a few reads, one commit) rather than in plugins: with one shard per core the
/// cores sat idle between queries; with several, one shard's plugin calls fill another's
/// waits. Jobs of one installation still run in order, in its shard.
pub const SHARDS_PER_WORKER: usize = 8;

/// How often the engine looks for reports other nodes stored, even if nobody said so.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// The most reports one sweep queues; the rest wait for the next.
const SWEEP_LIMIT: i64 = 5_000;

/// How often a failed commit is retried before the job is dropped (a report then waits
/// for the next start; a tick or probe for the next round).
const COMMIT_ATTEMPTS: u32 = 3;

/// A report as ingest just stored it.
#[derive(Debug, Clone)]
pub struct Fresh {
    pub document: Arc<Document>,
    pub received_at: i64,
    pub generated_at: i64,
    /// Imported history (`import`), not an agent's report.
    pub imported: bool,
    /// The document's [`Document::fingerprint`].
    pub fingerprint: u64,
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

pub struct Pipeline {
    shards: Vec<Arc<ShardQueue<Job>>>,
    queued: Arc<AtomicI64>,
    /// Reports queued and not done yet, so a sweep does not queue them again.
    reports: Arc<Mutex<HashSet<i64>>>,
    /// Installations with a tick queued and not started: another tick for them would only
    /// repeat it (a tick reads the clock when it runs), so it is not queued. Without this a
    /// fleet whose sweep takes longer than the tick interval would pile sweeps up.
    ticking: Arc<Mutex<HashSet<String>>>,
    /// The fingerprint of what each installation's agent (by a hash of both) said last.
    said: Mutex<HashMap<u64, u64>>,
    /// Set when a worker gave up on a report (its commit kept failing): the sweep queues
    /// it again, on every backend.
    missed: Arc<AtomicBool>,
    cluster: Arc<Cluster>,
    /// Told of backlogs left unconcluded when this node becomes the engine.
    alerting: Arc<Alerting>,
}

struct Worker {
    store: Store,
    runtime: Arc<Runtime>,
    clock: SharedClock,
    metrics: Arc<Metrics>,
    queued: Arc<AtomicI64>,
    alerting: Arc<Alerting>,
    reports: Arc<Mutex<HashSet<i64>>>,
    ticking: Arc<Mutex<HashSet<String>>>,
    missed: Arc<AtomicBool>,
    vitals: Arc<Vitals>,
    cluster: Arc<Cluster>,
    timing: Timing,
}

/// A tick concludes an installation's backlog (see `alerts::backlog`) once its agent has
/// sent nothing for this long: the backlog has been read.
const BACKLOG_READ_AFTER: i64 = 60_000;

impl Pipeline {
    /// Starts `shards` workers (at least one) in `tasks`; when they stop, each finishes
    /// the job it is on, and reports queued behind it stay stored and unevaluated for the
    /// next engine (this node started again, or another).
    #[expect(
        clippy::too_many_arguments,
        reason = "the parts of the service the workers share, each owned elsewhere"
    )]
    pub fn start(
        store: Store,
        runtime: Arc<Runtime>,
        clock: SharedClock,
        metrics: Arc<Metrics>,
        alerting: Arc<Alerting>,
        cluster: Arc<Cluster>,
        vitals: Arc<Vitals>,
        timing: Timing,
        shards: usize,
        tasks: &Tasks,
    ) -> Arc<Self> {
        let queued = Arc::new(AtomicI64::new(0));
        let missed = Arc::<AtomicBool>::default();
        let reports = Arc::<Mutex<HashSet<i64>>>::default();
        let ticking = Arc::<Mutex<HashSet<String>>>::default();
        let queues = (0..shards.max(1))
            .map(|_| {
                let queue = Arc::new(ShardQueue::default());
                let worker = Worker {
                    store: store.clone(),
                    runtime: runtime.clone(),
                    clock: clock.clone(),
                    metrics: metrics.clone(),
                    queued: queued.clone(),
                    alerting: alerting.clone(),
                    reports: reports.clone(),
                    ticking: ticking.clone(),
                    missed: missed.clone(),
                    vitals: vitals.clone(),
                    cluster: cluster.clone(),
                    timing,
                };
                tasks.spawn(worker.run(queue.clone(), tasks.clone()));
                queue
            })
            .collect();
        Arc::new(Pipeline {
            shards: queues,
            queued,
            reports,
            ticking,
            said: Mutex::default(),
            missed,
            cluster,
            alerting,
        })
    }

    /// Queues `job` for `installation`, if this node is the engine; a report stored here
    /// while another node is, is announced to it instead. False if nothing was queued (not
    /// the engine, the report or a tick of the installation is queued already, or the
    /// pipeline stopped).
    pub fn submit(&self, installation: &str, mut job: Job) -> bool {
        if !self.engine() {
            if let Job::Report { .. } = job {
                self.cluster.publish(Topic::Reports);
            }
            return false;
        }
        let report = match &job {
            Job::Report { id, .. } => Some(*id),
            _ => None,
        };
        let tick = matches!(job, Job::Tick { .. });
        // Claimed here, so that a sweep or the next tick does not queue it again.
        let claimed = match report {
            Some(id) => self.reports.lock().expect("report set").insert(id),
            None if tick => self
                .ticking
                .lock()
                .expect("tick set")
                .insert(installation.to_string()),
            None => true,
        };
        if !claimed {
            return false;
        }
        let lane = self.lane(installation, &job);
        if let Job::Report { fresh, .. } = &mut job
            && self.queue_depth() > FRESH_QUEUE_LIMIT
        {
            *fresh = None;
        }
        self.queued.fetch_add(1, Ordering::Relaxed);
        if !self.shards[shard(installation, self.shards.len())].push(installation, job, lane) {
            if let Some(id) = report {
                self.reports.lock().expect("report set").remove(&id);
            }
            if tick {
                self.ticking.lock().expect("tick set").remove(installation);
            }
            self.queued.fetch_sub(1, Ordering::Relaxed);
            tracing::error!(installation, "the evaluation pipeline is stopped");
            return false;
        }
        true
    }

    /// Urgent for a document unlike the one the same installation's agent sent before
    /// (or one this node has not seen), routine for a repeat and for a tick.
    fn lane(&self, installation: &str, job: &Job) -> Lane {
        let (document, fingerprint) = match job {
            Job::Report {
                fresh: Some(fresh), ..
            } => (&fresh.document, fresh.fingerprint),
            // Made by the host, and small.
            Job::Probe(document) => (document, document.fingerprint()),
            Job::Report { fresh: None, .. } => return Lane::Urgent,
            Job::Tick { .. } => return Lane::Routine,
        };
        let mut speaker = DefaultHasher::new();
        (installation, document.root().attr("agent")).hash(&mut speaker);
        let before = self
            .said
            .lock()
            .expect("fingerprints")
            .insert(speaker.finish(), fingerprint);
        if before == Some(fingerprint) {
            Lane::Routine
        } else {
            Lane::Urgent
        }
    }

    /// How long the oldest job queued or running has waited.
    pub fn oldest_wait(&self) -> Option<Duration> {
        self.shards
            .iter()
            .filter_map(|queue| queue.oldest())
            .min()
            .map(|oldest| oldest.elapsed())
    }

    /// Queues the reports accepted but not yet evaluated (the oldest [`SWEEP_LIMIT`]) that
    /// are not queued already.
    pub async fn resume(&self, store: &Store) -> Result<usize, StoreError> {
        let pending = store.pending_reports(SWEEP_LIMIT).await?;
        let queued = pending
            .into_iter()
            .filter(|(id, installation)| {
                self.submit(
                    installation,
                    Job::Report {
                        id: *id,
                        fresh: None,
                    },
                )
            })
            .count();
        if queued > 0 {
            tracing::info!(
                reports = queued,
                "queued reports accepted but not evaluated (before a restart, or by another node)"
            );
        }
        Ok(queued)
    }

    /// The engine's sweep, in `tasks`, for reports stored and not evaluated: on a shared
    /// database those other nodes stored (every [`SWEEP_EVERY`], and when told); on any,
    /// those a worker gave up on because their commit kept failing (a full disk, a lost
    /// database), until they are evaluated.
    pub fn spawn_sweep(self: &Arc<Self>, store: Store, tasks: &Tasks) {
        let pipeline = self.clone();
        let told = self.cluster.heard(Topic::Reports);
        let stop = tasks.clone();
        tasks.spawn(async move {
            let mut engine = pipeline.engine();
            loop {
                tokio::select! {
                    _ = told.notified() => {}
                    _ = pipeline.cluster.changed(Role::Engine) => {}
                    _ = tokio::time::sleep(SWEEP_EVERY) => {}
                    _ = stop.stopping() => return,
                }
                // Taken over: backlogs another engine was reading are this one's now.
                let was = std::mem::replace(&mut engine, pipeline.engine());
                if engine
                    && !was
                    && let Err(error) = pipeline.alerting.recover_backlogs().await
                {
                    engine = false;
                    tracing::warn!(%error, "cannot look for backlogs being read; looking again soon");
                }
                let due = pipeline.cluster.shared() || pipeline.missed.swap(false, Ordering::Relaxed);
                if due
                    && pipeline.cluster.holds(Role::Engine)
                    && let Err(error) = pipeline.resume(&store).await
                {
                    pipeline.missed.store(true, Ordering::Relaxed);
                    tracing::warn!(%error, "cannot look for reports to evaluate; looking again soon");
                }
            }
        });
    }

    /// Whether this node evaluates (holds the engine lease): the clockwork, ticks, probes
    /// and scheduled reports run only where evaluations do.
    pub fn engine(&self) -> bool {
        self.cluster.holds(Role::Engine)
    }

    /// Jobs queued or running.
    pub fn queue_depth(&self) -> i64 {
        self.queued.load(Ordering::Relaxed)
    }
}

impl Worker {
    async fn run(self, queue: Arc<ShardQueue<Job>>, tasks: Tasks) {
        loop {
            let taken = tokio::select! {
                // Checked first: a worker told to stop takes no further job.
                biased;
                () = tasks.stopping() => break,
                taken = queue.take() => match taken {
                    Some(taken) => taken,
                    None => break,
                },
            };
            self.metrics.queue_waited(taken.waited);
            self.run_one(&taken).await;
            queue.done(&taken);
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
        queue.close();
    }

    async fn run_one(
        &self,
        Taken {
            installation, job, ..
        }: &Taken<Job>,
    ) {
        if let Job::Tick { .. } = job {
            self.ticking.lock().expect("tick set").remove(installation);
        }
        // Queued before the lease went to another node: it is that node's now (a report
        // stays stored and unevaluated for its sweep).
        let attempts = if self.cluster.holds(Role::Engine) {
            COMMIT_ATTEMPTS
        } else {
            0
        };
        for attempt in 1..=attempts {
            let handled = self.handle(installation, job).await;
            match &handled {
                Ok(()) => self.vitals.write_succeeded(),
                Err(error) => {
                    if let Some(trouble) = error.trouble() {
                        self.vitals.write_failed(trouble);
                    }
                }
            }
            match handled {
                Ok(()) => break,
                Err(error) if attempt < COMMIT_ATTEMPTS => {
                    tracing::warn!(%installation, %job, %error, attempt, "evaluation not committed; retrying");
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                }
                Err(error) => {
                    if matches!(job, Job::Report { .. }) {
                        self.missed.store(true, Ordering::Relaxed);
                    }
                    tracing::error!(%installation, %job, %error, "evaluation not committed; giving up on this job for now");
                }
            }
        }
        if let Job::Report { id, .. } = job {
            self.reports.lock().expect("report set").remove(id);
        }
    }

    async fn handle(&self, installation_id: &str, job: &Job) -> Result<(), StoreError> {
        // Deleted meanwhile: nothing left to evaluate or to commit to.
        let Some(installation) = self.store.installation(installation_id).await? else {
            return Ok(());
        };
        let now = self.clock.now_ms();
        // A report is judged as of its own time (`report::Timing`), a tick and a probe as
        // of ours; `judged` is a report's, `heard` how its news is told.
        let (trigger, report_id, report, last_report_at, judged, heard) = match job {
            Job::Report { id, fresh } => {
                let (document, received_at, generated_at, imported) = match fresh {
                    Some(fresh) => (
                        fresh.document.clone(),
                        fresh.received_at,
                        fresh.generated_at,
                        fresh.imported,
                    ),
                    None => {
                        let Some(stored) = self.store.report(*id).await? else {
                            return Ok(());
                        };
                        (
                            Arc::new(stored.document),
                            stored.received_at,
                            stored.generated_at,
                            stored.import_id.is_some(),
                        )
                    }
                };
                let judged = self.timing.judge(generated_at, received_at);
                if judged.ahead {
                    self.metrics.report_ahead();
                    tracing::warn!(
                        installation = installation_id,
                        report = id,
                        "the agent's clock is ahead of ours; judged as of its arrival"
                    );
                }
                let heard = if imported {
                    Heard::History
                } else if judged.late {
                    Heard::Late
                } else {
                    Heard::Now
                };
                (
                    Trigger::Report,
                    Some(*id),
                    Some(document),
                    Some(judged.at),
                    Some(judged),
                    heard,
                )
            }
            Job::Tick { downtime } => match self.store.latest_report(installation_id).await? {
                Some((id, received_at)) => {
                    let stored = self.store.report(id).await?;
                    if let Some(import) = stored.as_ref().and_then(|r| r.import_id)
                        && self.store.import_in_progress(import, now).await?
                    {
                        // History still arriving: a tick now would judge the present by
                        // part of the past.
                        return Ok(());
                    }
                    let report = stored.map(|r| Arc::new(r.document));
                    let silence_while_up = received_at + downtime.within(received_at, now);
                    (
                        Trigger::Tick,
                        None,
                        report,
                        Some(silence_while_up),
                        None,
                        Heard::Now,
                    )
                }
                None => (Trigger::Tick, None, None, None, None, Heard::Now),
            },
            Job::Probe(document) => {
                let last = self
                    .store
                    .latest_report(installation_id)
                    .await?
                    .map(|(_, at)| at);
                (
                    Trigger::Probe,
                    None,
                    Some(document.clone()),
                    last,
                    None,
                    Heard::Now,
                )
            }
        };
        let at = judged.map_or(now, |j| j.at);
        let evaluation = Evaluation {
            installation: InstallationInfo::from(&installation),
            trigger,
            now_ms: at,
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
        if heard == Heard::Late {
            self.metrics.report_late();
        }
        let said: Vec<PluginSaid> = runs
            .iter()
            .map(|run| PluginSaid {
                plugin: &run.plugin,
                version: &run.version,
                lines: self.runtime.kept_log(run, now),
            })
            .collect();
        let evaluated = Evaluated {
            report_id,
            installation: &installation,
            at,
            now,
            outputs: &outputs,
            trigger,
            said: &said,
        };
        if !self.alerting.evaluated(&evaluated, heard).await? {
            tracing::debug!(installation = installation_id, %trigger, "evaluated already, or a newer report was; nothing changed");
            return Ok(());
        }
        if heard != Heard::History {
            self.after_backlog(&installation, judged, last_report_at, now)
                .await?;
        }
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

impl Worker {
    /// Keeps the alerts service's account of `installation`'s backlog: a late report adds
    /// to it; a report on time, or a tick once the agent has been quiet a while, concludes
    /// it (what old news left open is announced, the rest told in one quiet message).
    async fn after_backlog(
        &self,
        installation: &crate::fleet::Installation,
        judged: Option<Judged>,
        last_report_at: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        let read = match judged {
            Some(judged) if judged.late => {
                self.alerting.heard_late(&installation.id, judged.at);
                return Ok(());
            }
            Some(_) => true,
            None => last_report_at.is_some_and(|at| now - at >= BACKLOG_READ_AFTER),
        };
        if read {
            self.alerting.conclude_backlog(installation).await?;
        }
        Ok(())
    }
}

/// The shard of `installation`'s jobs, of `shards`.
fn shard(installation: &str, shards: usize) -> usize {
    let mut hasher = DefaultHasher::new();
    installation.hash(&mut hasher);
    (hasher.finish() % shards as u64) as usize
}

//! Replaying a rule over stored history before it is enabled: what a candidate (an upload
//! that is not installed, or the serving plugin with other settings) would have fired and
//! resolved, when, where, how severe and saying what; and, beside the revision serving
//! now, which alerts it adds, removes, or fires earlier or later.
//!
//! `walk` evaluates each installation's stored reports in order, with ticks between them,
//! on the clock of those reports and with a state of its own; `timeline` turns each
//! evaluation's findings into alerts through the same lifecycle decision live alerts take
//! (damping included), kept in memory; `compare` matches the candidate's alerts to the
//! serving revision's. Nothing live is touched: no alert, state, finding or outbox entry.
//!
//! A replay runs in the background ([`Replays::start`] answers at once) on the plugin
//! runtime's offline threads, stops at its deadline or after its cap on reports (and says
//! so), and is kept in the database with its progress and result, so any node answers
//! for it and a node that stops marks its replays interrupted.

pub mod compare;
pub mod timeline;
mod walk;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::alerts::AlertPolicy;
use crate::clock::SharedClock;
use crate::fleet::Installation;
use crate::plugins::contract::SettingsError;
use crate::plugins::loader::Revision;
use crate::plugins::{FailureKind, Runtime};
use crate::store::{ReplayRow, ReplayState, Store, StoreError};
use crate::tasks::Tasks;
pub use compare::{Difference, Differing};
pub use timeline::Episode;
use walk::{Counts, Shared, Variant, Walked};

/// Ticks between reports, unless asked otherwise: a time-driven rule (reports stopped,
/// updates stale) fires in a replay at most this much later than it would live.
pub const DEFAULT_TICK_EVERY: Duration = Duration::from_secs(3600);
/// The finest tick a replay takes: finer costs calls and says nothing more.
pub const MIN_TICK_EVERY: Duration = Duration::from_secs(60);
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(600);
pub const MAX_DEADLINE: Duration = Duration::from_secs(3600);
pub const DEFAULT_MAX_REPORTS: u64 = 2_000_000;
/// Alerts a result lists, of each kind (all are counted).
const LISTED: usize = 2_000;
/// Failed evaluations a result quotes, per variant (all are counted, by kind).
const EXAMPLES: usize = 10;
/// How often a running replay records its progress (and looks whether it was cancelled).
const PROGRESS_EVERY: Duration = Duration::from_secs(1);
/// A replay whose progress is older than this stopped with its node.
const STALE_AFTER: i64 = 30_000;
/// Replays listed.
const LISTED_REPLAYS: i64 = 50;

/// What a replay covers and how far it may go, besides the candidate; kept with it as
/// asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Settings for the candidate, over the host's and each client's own.
    pub settings: BTreeMap<String, String>,
    pub from: i64,
    pub until: i64,
    pub client: Option<String>,
    pub installation: Option<String>,
    #[serde(with = "as_text")]
    pub tick_every: Duration,
    #[serde(with = "as_text")]
    pub deadline: Duration,
    pub max_reports: u64,
}

impl Scope {
    /// The tick as people write it (`1h`).
    pub fn tick_text(&self) -> String {
        reveille_sdk::format_duration(self.tick_every)
    }
}

/// Durations as people write them (`1h`, `10m`).
mod as_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(duration: &Duration, out: S) -> Result<S::Ok, S::Error> {
        out.serialize_str(&reveille_sdk::format_duration(*duration))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(input)?;
        reveille_sdk::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

/// What to replay.
pub struct Request {
    /// The plugin's name; the revision serving under it is what a candidate is compared
    /// with.
    pub plugin: String,
    /// An upload to try without installing it; `None`: the serving revision.
    pub candidate: Option<Arc<Revision>>,
    pub scope: Scope,
}

/// Why a replay does not start.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("no plugin named `{0}` serves here, and no candidate was uploaded to replay")]
    NoPlugin(String),
    #[error("nothing to replay: {0}")]
    Nothing(String),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A revision a replay ran, as kept with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionNote {
    pub version: String,
    pub sha256: String,
    pub api_version: String,
    /// An upload tried without installing it (else the serving revision).
    pub uploaded: bool,
}

impl RevisionNote {
    /// The first characters of its digest, enough to tell builds apart.
    pub fn short_sha(&self) -> &str {
        self.sha256.get(..12).unwrap_or(&self.sha256)
    }

    fn of(revision: &Revision, uploaded: bool) -> Self {
        RevisionNote {
            version: revision.descriptor.version.clone(),
            sha256: revision.sha256.clone(),
            api_version: revision.stamp.to_string(),
            uploaded,
        }
    }
}

/// What a replay was asked, as kept with it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Asked {
    pub candidate: RevisionNote,
    /// The serving revision it is compared with, if any.
    pub compared_with: Option<RevisionNote>,
    #[serde(flatten)]
    pub scope: Scope,
}

/// How far a replay got.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Progress {
    pub installations: usize,
    pub installations_done: u64,
    pub reports: u64,
    pub ticks: u64,
    pub evaluations: u64,
    pub failures: u64,
    pub elapsed_ms: u64,
}

/// Why a replay ended before the end of its window, in words.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stopped {
    pub why: StoppedEarly,
    pub message: String,
}

/// A failed evaluation, as an example of what went wrong.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FailureNote {
    pub installation: String,
    pub at: i64,
    pub kind: FailureKind,
    pub message: String,
}

/// The evaluations of one revision that failed: by kind, and a few quoted.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Failures {
    pub count: u64,
    pub by_kind: BTreeMap<FailureKind, u64>,
    pub examples: Vec<FailureNote>,
}

impl Failures {
    /// Counts one failure, quoting it while fewer than `quote` are.
    fn note(&mut self, note: FailureNote, quote: usize) {
        self.count += 1;
        *self.by_kind.entry(note.kind).or_default() += 1;
        if self.examples.len() < quote {
            self.examples.push(note);
        }
    }

    /// Adds `other`'s failures, quoting at most `quote` in all.
    fn merge(&mut self, other: Failures, quote: usize) {
        self.count += other.count;
        for (kind, count) in other.by_kind {
            *self.by_kind.entry(kind).or_default() += count;
        }
        let room = quote.saturating_sub(self.examples.len());
        self.examples.extend(other.examples.into_iter().take(room));
    }
}

/// What a replay found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub installations: usize,
    pub installations_walked: u64,
    pub reports: u64,
    pub ticks: u64,
    pub evaluations: u64,
    pub elapsed_ms: u64,
    pub reports_per_second: u64,
    pub stopped_early: Option<Stopped>,
    pub fired: usize,
    pub resolved: usize,
    pub open_at_end: usize,
    /// The candidate's alerts in the order they fired, the first [`LISTED`].
    pub alerts: Vec<Episode>,
    pub alerts_listed: usize,
    pub failures: Failures,
    /// The serving revision's failures over the same history, when compared.
    pub compared_with_failures: Option<Failures>,
    pub difference: Option<Difference>,
}

/// A replay as any node reads it.
#[derive(Debug, Clone, Serialize)]
pub struct Replay {
    pub id: i64,
    pub plugin: String,
    pub node: String,
    pub state: ReplayState,
    pub request: Asked,
    pub progress: Progress,
    pub result: Option<Summary>,
    pub error: Option<String>,
    pub started_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

impl Replay {
    fn read(row: ReplayRow) -> Result<Replay, StoreError> {
        let corrupt = |what: &str, e: serde_json::Error| {
            StoreError::Corrupt(format!("replay {} {what}: {e}", row.id))
        };
        Ok(Replay {
            request: serde_json::from_value(row.request).map_err(|e| corrupt("request", e))?,
            progress: serde_json::from_value(row.progress).map_err(|e| corrupt("progress", e))?,
            result: row
                .result
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| corrupt("result", e))?,
            id: row.id,
            plugin: row.plugin,
            node: row.node,
            state: row.state,
            error: row.error,
            started_at: row.started_at,
            updated_at: row.updated_at,
            finished_at: row.finished_at,
        })
    }
}

fn to_json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).expect("replay payloads serialize")
}

/// The replays of this node, and the door to every node's.
pub struct Replays {
    store: Store,
    runtime: Arc<Runtime>,
    policy: Arc<AlertPolicy>,
    clock: SharedClock,
    node: String,
    tasks: Tasks,
}

impl Replays {
    pub fn new(
        store: Store,
        runtime: Arc<Runtime>,
        policy: Arc<AlertPolicy>,
        clock: SharedClock,
        node: String,
        tasks: Tasks,
    ) -> Arc<Self> {
        Arc::new(Replays {
            store,
            runtime,
            policy,
            clock,
            node,
            tasks,
        })
    }

    /// Marks the replays this node ran before it started (again) as interrupted.
    pub async fn recover(&self) -> Result<(), StoreError> {
        let interrupted = (self.store)
            .interrupt_replays(&self.node, self.clock.now_ms())
            .await?;
        if interrupted > 0 {
            tracing::info!(
                replays = interrupted,
                "marked the replays this node was running when it stopped as interrupted"
            );
        }
        Ok(())
    }

    /// Checks `request` and starts it in the background; returns it as stored.
    pub async fn start(&self, request: Request) -> Result<Replay, ReplayError> {
        let Request {
            plugin,
            candidate: upload,
            scope,
        } = request;
        let serving = self.runtime.registry().revision(&plugin);
        let candidate = (upload.clone())
            .or_else(|| serving.clone())
            .ok_or_else(|| ReplayError::NoPlugin(plugin.clone()))?;
        candidate.descriptor.check_settings(&scope.settings, "")?;
        // Against itself a replay would show no difference: compare only with something
        // else (another build, or other settings).
        let compared = serving.filter(|_| upload.is_some() || !scope.settings.is_empty());
        if scope.from >= scope.until {
            return Err(ReplayError::Nothing(
                "the window is empty: `since` must come before `until`".into(),
            ));
        }
        let installations = self.installations(&scope).await?;
        let name = &plugin;
        let mut variants = vec![Variant {
            revision: candidate.clone(),
            overrides: scope.settings.clone(),
        }];
        variants.extend(compared.iter().map(|serving| Variant {
            revision: serving.clone(),
            overrides: BTreeMap::new(),
        }));
        let asked = Asked {
            candidate: RevisionNote::of(&candidate, upload.is_some()),
            compared_with: compared.as_deref().map(|r| RevisionNote::of(r, false)),
            scope: scope.clone(),
        };
        let now = self.clock.now_ms();
        let progress = Progress {
            installations: installations.len(),
            ..Progress::default()
        };
        let id = (self.store)
            .insert_replay(name, &self.node, &to_json(&asked), &to_json(&progress), now)
            .await?;
        let downtime = Arc::new(self.store.downtime().await?);
        let client_settings = self.store.every_client_settings().await?;
        let shared = Arc::new(Shared {
            store: self.store.clone(),
            runtime: self.runtime.clone(),
            policy: self.policy.clone(),
            downtime,
            client_settings,
            from: scope.from,
            until: scope.until,
            tick_every: i64::try_from(scope.tick_every.as_millis()).unwrap_or(i64::MAX),
            max_reports: scope.max_reports,
            counts: Counts::default(),
            stop: CancellationToken::new(),
        });
        let run = Run {
            id,
            store: self.store.clone(),
            clock: self.clock.clone(),
            shared,
            installations,
            variants,
            deadline: scope.deadline,
            // Twice the threads: one installation's page is read while another's runs.
            workers: 2 * self.runtime.settings().offline_workers(),
            tasks: self.tasks.clone(),
        };
        tracing::info!(replay = id, plugin = %name, "replay started");
        self.tasks
            .spawn(run.run().instrument(tracing::info_span!("replay", id)));
        let replay = self.get(id).await?;
        replay.ok_or_else(|| StoreError::Corrupt(format!("replay {id} vanished")).into())
    }

    /// The installations in `scope`.
    async fn installations(&self, scope: &Scope) -> Result<Vec<Installation>, ReplayError> {
        let all = self.store.installations().await?;
        let chosen: Vec<Installation> = all
            .into_iter()
            .filter(|i| scope.client.as_ref().is_none_or(|c| &i.client == c))
            .filter(|i| scope.installation.as_ref().is_none_or(|id| &i.id == id))
            .collect();
        if chosen.is_empty() {
            let what = match (&scope.installation, &scope.client) {
                (Some(id), _) => format!("no installation `{id}`"),
                (None, Some(client)) => format!("client `{client}` has no installations"),
                (None, None) => "no installations are registered".into(),
            };
            return Err(ReplayError::Nothing(what));
        }
        Ok(chosen)
    }

    /// A replay of any node; one whose node stopped answering says it was interrupted.
    pub async fn get(&self, id: i64) -> Result<Option<Replay>, StoreError> {
        let row = self.store.replay(id).await?;
        row.map(|row| self.judged(row)).transpose()
    }

    /// The newest replays, without their results.
    pub async fn list(&self) -> Result<Vec<Replay>, StoreError> {
        let rows = self.store.replays(LISTED_REPLAYS).await?;
        rows.into_iter().map(|row| self.judged(row)).collect()
    }

    /// Asks replay `id` to stop (its node stops within a second); `None` if there is no
    /// such replay.
    pub async fn cancel(&self, id: i64) -> Result<Option<Replay>, StoreError> {
        self.store.cancel_replay(id, self.clock.now_ms()).await?;
        self.get(id).await
    }

    fn judged(&self, row: ReplayRow) -> Result<Replay, StoreError> {
        let mut replay = Replay::read(row)?;
        if replay.state.is_live() && self.clock.now_ms() - replay.updated_at > STALE_AFTER {
            replay.state = ReplayState::Interrupted;
            replay.error = Some(format!(
                "node `{}`, which was running it, stopped answering",
                replay.node
            ));
        }
        Ok(replay)
    }
}

/// Keeps `listed` bounded as installations add to it: past twice [`LISTED`], only the
/// first [`LISTED`] to fire stay (a result lists those, and counts the rest).
fn earliest<T>(listed: &mut Vec<T>, fired_at: impl Fn(&T) -> i64) {
    if listed.len() > 2 * LISTED {
        listed.sort_by_key(|item| fired_at(item));
        listed.truncate(LISTED);
    }
}

/// Why a replay ended before the end of its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StoppedEarly {
    Deadline,
    ReportCap,
    Cancelled,
    /// This node was told to stop.
    Shutdown,
}

/// One replay, running.
struct Run {
    id: i64,
    store: Store,
    clock: SharedClock,
    shared: Arc<Shared>,
    installations: Vec<Installation>,
    variants: Vec<Variant>,
    deadline: Duration,
    workers: usize,
    tasks: Tasks,
}

impl Run {
    async fn run(self) {
        let started = Instant::now();
        let total = self.installations.len();
        let shared = self.shared.clone();
        let variants = self.variants.clone();
        let mut walks = futures_util::stream::iter(self.installations.clone())
            .map(|installation| walk::installation(shared.clone(), installation, variants.clone()))
            .buffer_unordered(self.workers);
        let mut gathered = Gathered::new(self.variants.len() > 1, self.shared.until);
        let mut stopped = None;
        let mut error = None;
        let deadline = tokio::time::sleep(self.deadline);
        tokio::pin!(deadline);
        let mut progress = tokio::time::interval(PROGRESS_EVERY);
        loop {
            tokio::select! {
                walked = walks.next() => match walked {
                    Some(Ok(walked)) => gathered.add(walked),
                    Some(Err(e)) => {
                        error.get_or_insert(e.to_string());
                        self.shared.stop.cancel();
                    }
                    None => break,
                },
                () = &mut deadline, if stopped.is_none() => {
                    stopped = Some(StoppedEarly::Deadline);
                    self.shared.stop.cancel();
                }
                () = self.tasks.stopping(), if stopped.is_none() => {
                    stopped = Some(StoppedEarly::Shutdown);
                    self.shared.stop.cancel();
                }
                _ = progress.tick() => {
                    let asked = self.store.replay_progress(self.id, &self.progress(total, started), self.clock.now_ms()).await;
                    if matches!(asked, Ok(Some(ReplayState::Cancelling))) && stopped.is_none() {
                        stopped = Some(StoppedEarly::Cancelled);
                        self.shared.stop.cancel();
                    }
                }
            }
        }
        if stopped.is_none() && self.shared.counts.capped.load(Ordering::Relaxed) {
            stopped = Some(StoppedEarly::ReportCap);
        }
        let elapsed = started.elapsed();
        let (state, summary) = match (&error, stopped) {
            (Some(_), _) => (ReplayState::Failed, None),
            (None, Some(StoppedEarly::Cancelled)) => (ReplayState::Cancelled, None),
            (None, Some(StoppedEarly::Shutdown)) => (ReplayState::Interrupted, None),
            (None, stopped) => (
                ReplayState::Done,
                Some(to_json(&gathered.summary(&self, stopped, total, elapsed))),
            ),
        };
        let error = error.or_else(|| match state {
            ReplayState::Cancelled => Some("cancelled by an admin".into()),
            ReplayState::Interrupted => Some("the node running it stopped".into()),
            _ => None,
        });
        let finished = self
            .store
            .finish_replay(
                self.id,
                state,
                &self.progress(total, started),
                summary.as_ref(),
                error.as_deref(),
                self.clock.now_ms(),
            )
            .await;
        let counts = &self.shared.counts;
        tracing::info!(
            replay = self.id,
            %state,
            reports = counts.reports.load(Ordering::Relaxed),
            evaluations = counts.evaluations.load(Ordering::Relaxed),
            elapsed_ms = elapsed.as_millis() as u64,
            "replay ended"
        );
        if let Err(error) = finished {
            tracing::error!(replay = self.id, %error, "cannot record how the replay ended");
        }
    }

    fn progress(&self, total: usize, started: Instant) -> Value {
        let counts = &self.shared.counts;
        to_json(&Progress {
            installations: total,
            installations_done: counts.installations_done.load(Ordering::Relaxed),
            reports: counts.reports.load(Ordering::Relaxed),
            ticks: counts.ticks.load(Ordering::Relaxed),
            evaluations: counts.evaluations.load(Ordering::Relaxed),
            failures: counts.failures.load(Ordering::Relaxed),
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    }
}

/// What a replay found, gathered as installations finish.
struct Gathered {
    compares: bool,
    until: i64,
    alerts: Vec<Episode>,
    fired: usize,
    resolved: usize,
    difference: Difference,
    /// Per variant.
    failures: Vec<Failures>,
}

impl Gathered {
    fn new(compares: bool, until: i64) -> Self {
        Gathered {
            compares,
            until,
            alerts: Vec::new(),
            fired: 0,
            resolved: 0,
            difference: Difference::default(),
            failures: Vec::new(),
        }
    }

    fn add(&mut self, walked: Walked) {
        let Walked {
            mut episodes,
            failures,
            reached,
            ..
        } = walked;
        if self.failures.len() < failures.len() {
            self.failures.resize_with(failures.len(), Default::default);
        }
        for (failures, all) in failures.into_iter().zip(&mut self.failures) {
            all.merge(failures, EXAMPLES);
        }
        let serving = (episodes.len() > 1).then(|| episodes.remove(1));
        let candidate = episodes.into_iter().next().unwrap_or_default();
        if let Some(serving) = serving {
            let end = reached.min(self.until);
            self.difference
                .merge(compare::compare(&candidate, &serving, end));
        }
        self.fired += candidate.len();
        self.resolved += candidate.iter().filter(|e| e.resolved_at.is_some()).count();
        self.alerts.extend(candidate);
        earliest(&mut self.alerts, |e| e.fired_at);
        earliest(&mut self.difference.alerts, |d| d.alert.fired_at);
    }

    fn summary(
        mut self,
        run: &Run,
        stopped: Option<StoppedEarly>,
        total: usize,
        elapsed: Duration,
    ) -> Summary {
        let counts = &run.shared.counts;
        let reports = counts.reports.load(Ordering::Relaxed);
        let done = counts.installations_done.load(Ordering::Relaxed);
        let stopped_early = stopped.map(|why| {
            let what = match why {
                StoppedEarly::Deadline => format!(
                    "the deadline of {} passed",
                    reveille_sdk::format_duration(run.deadline)
                ),
                _ => format!("the cap of {} reports was reached", run.shared.max_reports),
            };
            Stopped {
                why,
                message: format!(
                    "{what} after {done} of {total} installations; what follows covers only \
                     the history walked"
                ),
            }
        });
        self.alerts
            .sort_by_key(|e| (e.fired_at, e.installation.clone()));
        let listed = self.alerts.len().min(LISTED);
        self.alerts.truncate(listed);
        self.difference.alerts.truncate(LISTED);
        let mut failures = self.failures.into_iter();
        let seconds = elapsed.as_secs_f64().max(1e-3);
        Summary {
            installations: total,
            installations_walked: done,
            reports,
            ticks: counts.ticks.load(Ordering::Relaxed),
            evaluations: counts.evaluations.load(Ordering::Relaxed),
            elapsed_ms: elapsed.as_millis() as u64,
            reports_per_second: (reports as f64 / seconds).round() as u64,
            stopped_early,
            fired: self.fired,
            resolved: self.resolved,
            open_at_end: self.fired - self.resolved,
            alerts: self.alerts,
            alerts_listed: listed,
            failures: failures.next().unwrap_or_default(),
            compared_with_failures: failures.next(),
            difference: self.compares.then_some(self.difference),
        }
    }
}

//! The plugin runtime as the rest of the host uses it: compile, install, unload, evaluate.
//!
//! It owns the engine, the linkers, the compile cache, the registry and the threads plugin
//! calls run on (a tokio runtime of their own, sized to the cores, so a plugin burning its
//! whole deadline never starves the one that serves HTTP). Compiling happens off the async
//! runtime; evaluating fans one request out to every active plugin that wants its trigger,
//! in parallel, and returns every plugin's outcome. A failure is recorded against its
//! plugin and logged; it is never a finding.
//!
//! A plugin that refuses one client's settings while the host's own settings work is that
//! client's problem: the call fails as `bad settings`, which is noted per client and never
//! counts toward disabling the plugin for everyone.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::cache::{CompileCache, sha256_hex};
use super::contract::{EvalInput, EvalOutput, InstallationInfo, SettingsError, Trigger};
use super::engine::{CONCURRENT_CALLS, PluginEngine};
use super::executor::{self, Bounds, Failure, FailureKind, Limits};
use super::loader::{self, LoadError, Revision, valid_name};
use super::log::{LogBudget, LogLine, Said};
use super::registry::{Health, HealthPolicy, Registry, Removal, Source};
use super::world::Linkers;
use crate::report::Document;

/// How the runtime is set up; see `config.rs` for where each value comes from.
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    /// Limits for plugins without their own.
    pub limits: Limits,
    /// Limits for named plugins.
    pub plugin_limits: HashMap<String, Limits>,
    /// When a failing plugin is disabled.
    pub health: HealthPolicy,
    /// Threads that run plugin calls.
    pub workers: usize,
    /// Where compiled plugins are cached; `None` compiles every time.
    pub cache_dir: Option<PathBuf>,
    /// Settings for named plugins (`[plugins.<name>]`), over the plugins' own defaults.
    pub plugin_config: BTreeMap<String, BTreeMap<String, String>>,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        RuntimeSettings {
            limits: Limits::default(),
            plugin_limits: HashMap::new(),
            health: HealthPolicy::default(),
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            cache_dir: None,
            plugin_config: BTreeMap::new(),
        }
    }
}

impl RuntimeSettings {
    pub fn limits_for(&self, plugin: &str) -> Limits {
        self.plugin_limits
            .get(plugin)
            .copied()
            .unwrap_or(self.limits)
    }

    /// Threads for calls outside live evaluation (replays): half the workers, at least one.
    pub fn offline_workers(&self) -> usize {
        (self.workers / 2).max(1)
    }

    fn max_memory(&self) -> usize {
        self.plugin_limits
            .values()
            .map(|l| l.memory)
            .fold(self.limits.memory, usize::max)
    }
}

/// One evaluation request: one installation, one trigger, every interested plugin.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub installation: InstallationInfo,
    pub trigger: Trigger,
    pub now_ms: i64,
    pub last_report_at_ms: Option<i64>,
    pub report: Option<Arc<Document>>,
    /// What each plugin kept for this installation, by plugin name.
    pub state: BTreeMap<String, BTreeMap<String, String>>,
    /// The client's own settings, by plugin name, over the host's configuration.
    pub client_settings: BTreeMap<String, BTreeMap<String, String>>,
}

impl Evaluation {
    /// The input `revision` gets, with its settings resolved from `overrides`.
    pub fn input_for(
        &self,
        revision: &Revision,
        overrides: &BTreeMap<String, String>,
    ) -> EvalInput {
        let name = &revision.descriptor.name;
        EvalInput {
            installation: self.installation.clone(),
            trigger: self.trigger,
            now_ms: self.now_ms,
            last_report_at_ms: self.last_report_at_ms,
            config: revision.descriptor.resolve_config(overrides),
            state: self.state.get(name).cloned().unwrap_or_default(),
            report: self.report.clone(),
        }
    }
}

/// One plugin's part of an evaluation.
#[derive(Debug, Clone)]
pub struct PluginRun {
    pub plugin: String,
    pub version: String,
    pub sha256: String,
    pub elapsed: Duration,
    pub outcome: Result<EvalOutput, Failure>,
    /// What the call said to the plugin's author (`plugins::log`).
    pub said: Said,
}

/// How one call ended, what it said and how long it ran.
struct Called {
    outcome: Result<EvalOutput, Failure>,
    said: Said,
    elapsed: Duration,
}

/// Why a client's settings for a plugin are refused before they are stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsRefusal {
    #[error("no plugin named `{0}` is loaded")]
    UnknownPlugin(String),
    /// A key the plugin does not declare, or a value not of its declared type.
    #[error(transparent)]
    Invalid(#[from] SettingsError),
    #[error("plugin `{plugin}` refuses these settings: {message}")]
    Refused { plugin: String, message: String },
}

/// A plugin call in flight, for the health check.
#[derive(Debug, Clone)]
pub struct CallInFlight {
    pub plugin: String,
    pub running: Duration,
    pub deadline: Duration,
}

/// Calls in flight by id; a [`Tracked`] guard takes its call out when dropped.
#[derive(Default)]
struct InFlight {
    next: AtomicU64,
    calls: Mutex<HashMap<u64, (String, Instant, Duration)>>,
}

struct Tracked<'a> {
    registry: &'a InFlight,
    id: u64,
}

impl InFlight {
    fn track(&self, plugin: &str, deadline: Duration) -> Tracked<'_> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.calls
            .lock()
            .expect("in-flight lock")
            .insert(id, (plugin.to_string(), Instant::now(), deadline));
        Tracked { registry: self, id }
    }
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        self.registry
            .calls
            .lock()
            .expect("in-flight lock")
            .remove(&self.id);
    }
}

/// Threads plugin calls run on: a tokio runtime of their own, shut down without waiting
/// when the plugin runtime goes (its calls end at their deadlines anyway).
struct CallThreads(Option<tokio::runtime::Runtime>);

impl CallThreads {
    fn new(workers: usize, name: &str) -> std::io::Result<Self> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers.max(1))
            .thread_name(name)
            .enable_all()
            .build()
            .map(|runtime| CallThreads(Some(runtime)))
    }

    fn handle(&self) -> &tokio::runtime::Handle {
        self.0.as_ref().expect("running until dropped").handle()
    }
}

impl Drop for CallThreads {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

pub struct Runtime {
    engine: PluginEngine,
    linkers: Linkers,
    cache: Option<CompileCache>,
    registry: Registry,
    threads: CallThreads,
    /// Threads for calls nobody waits on live (replays over history): half the cores, so
    /// that live evaluations, on threads of their own, keep a core whatever a replay does.
    offline: CallThreads,
    permits: Arc<Semaphore>,
    in_flight: InFlight,
    settings: RuntimeSettings,
    log_budget: LogBudget,
}

impl Runtime {
    pub fn new(settings: RuntimeSettings) -> anyhow::Result<Arc<Self>> {
        let engine = PluginEngine::new(settings.max_memory())
            .map_err(|e| anyhow::anyhow!("cannot start the WebAssembly engine: {e:#}"))?;
        let linkers = Linkers::new(&engine.engine)
            .map_err(|e| anyhow::anyhow!("cannot link the host API: {e:#}"))?;
        let cache = match &settings.cache_dir {
            Some(dir) => Some(CompileCache::open(dir, &engine.engine).map_err(|e| {
                anyhow::anyhow!("cannot open the compile cache {}: {e}", dir.display())
            })?),
            None => None,
        };
        tracing::info!(
            pooling = engine.pooling,
            workers = settings.workers,
            "plugin runtime ready"
        );
        Ok(Arc::new(Runtime {
            threads: CallThreads::new(settings.workers, "reveille-plugin")?,
            offline: CallThreads::new(settings.offline_workers(), "reveille-offline")?,
            permits: Arc::new(Semaphore::new(CONCURRENT_CALLS)),
            in_flight: InFlight::default(),
            registry: Registry::new(settings.health),
            engine,
            linkers,
            cache,
            settings,
            log_budget: LogBudget::default(),
        }))
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The engine plugin calls run on, for calling a revision directly
    /// (`executor::evaluate`) as the micro benchmarks do.
    pub fn engine(&self) -> &wasmtime::Engine {
        &self.engine.engine
    }

    pub fn settings(&self) -> &RuntimeSettings {
        &self.settings
    }

    /// What is kept of what `run` said, at `now_ms` on the host's clock: within the
    /// plugin's lines a minute (`plugins::log`).
    pub fn kept_log(&self, run: &PluginRun, now_ms: i64) -> Vec<LogLine> {
        self.log_budget.admit(&run.plugin, now_ms, &run.said)
    }

    /// Lines a minute kept of one plugin's log.
    pub fn log_per_minute(&self) -> usize {
        self.log_budget.per_minute()
    }

    /// Inspects, compiles, links and smoke-tests `bytes` without installing anything, and
    /// checks its declared defaults and, under `expected`, the host's settings for it
    /// against the types it declares. `expected` is the name the plugin must call itself,
    /// when there is one.
    pub async fn compile(
        self: &Arc<Self>,
        expected: Option<&str>,
        bytes: Vec<u8>,
    ) -> Result<Arc<Revision>, LoadError> {
        if let Some(name) = expected.filter(|n| !valid_name(n)) {
            return Err(LoadError::BadName(name.to_string()));
        }
        let runtime = self.clone();
        let linked = tokio::task::spawn_blocking(move || {
            loader::compile(
                &runtime.engine.engine,
                &runtime.linkers,
                runtime.cache.as_ref(),
                &bytes,
            )
        })
        .await
        .unwrap_or_else(|e| {
            Err(LoadError::Compile(format!(
                "the compiler thread failed: {e}"
            )))
        })?;
        let limits = expected.map_or(self.settings.limits, |n| self.settings.limits_for(n));
        let engine = self.engine.engine.clone();
        let name = expected.map(str::to_string);
        let revision = self
            .threads
            .handle()
            .spawn(
                async move { loader::smoke_test(&engine, linked, name.as_deref(), limits).await },
            )
            .await
            .unwrap_or_else(|e| {
                Err(LoadError::Compile(format!("the plugin thread failed: {e}")))
            })?;
        let descriptor = &revision.descriptor;
        descriptor.check_defaults()?;
        if let Some(name) = expected {
            let declared: BTreeMap<String, String> = self
                .host_settings(name)
                .into_iter()
                .filter(|(key, _)| descriptor.config.iter().any(|k| &k.name == key))
                .collect();
            descriptor.check_settings(&declared, " (the host's configuration)")?;
        }
        Ok(Arc::new(revision))
    }

    /// Compiles `bytes` as plugin `name` and, if every step passes, makes it the serving
    /// revision. On failure the previous revision (if any) keeps serving, and the failure
    /// is kept as the plugin's last error (a file in the directory, an upload another node
    /// stored: nobody else is told).
    pub async fn load(
        self: &Arc<Self>,
        name: &str,
        bytes: Vec<u8>,
        source: Source,
    ) -> Result<Arc<Revision>, LoadError> {
        self.load_as(name, bytes, source, true).await
    }

    /// [`Runtime::load`] for an upload whose sender is answered: a refusal leaves nothing
    /// behind but the answer (no failed entry, no last error).
    pub async fn upload(
        self: &Arc<Self>,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<Arc<Revision>, LoadError> {
        self.load_as(name, bytes, Source::Uploaded, false).await
    }

    async fn load_as(
        self: &Arc<Self>,
        name: &str,
        bytes: Vec<u8>,
        source: Source,
        keep_refusal: bool,
    ) -> Result<Arc<Revision>, LoadError> {
        let span = tracing::info_span!("plugin.load", plugin = name, bytes = bytes.len());
        let sha256 = sha256_hex(&bytes);
        let result = self
            .compile(Some(name), bytes)
            .instrument(span.clone())
            .await;
        let _entered = span.enter();
        match result {
            Ok(revision) => {
                tracing::info!(
                    version = %revision.descriptor.version,
                    sha256 = %revision.sha256,
                    cache = ?revision.cache,
                    compile_ms = revision.compile_time.as_millis() as u64,
                    builtin = source == Source::Builtin,
                    "plugin loaded"
                );
                self.registry.install(name, revision.clone(), source);
                Ok(revision)
            }
            Err(error) => {
                tracing::warn!(%error, %sha256, "plugin refused");
                if keep_refusal {
                    self.registry
                        .record_load_failure(name, &sha256, source, error.to_string());
                }
                Err(error)
            }
        }
    }

    /// Unloads `name` (ending its calls in flight), or removes its override so the
    /// built-in serves again.
    pub fn unload(&self, name: &str) -> Removal {
        let removal = self.registry.remove(name);
        match removal {
            Removal::Unloaded => tracing::info!(plugin = name, "plugin unloaded"),
            Removal::BuiltinRestored => {
                tracing::info!(plugin = name, "override removed; the built-in serves again")
            }
            Removal::Builtin | Removal::NotFound => {}
        }
        removal
    }

    /// Runs every active plugin that wants `request.trigger`, concurrently, and returns each
    /// one's outcome, ordered by plugin name.
    ///
    /// The calls go to the plugin threads as one task, not one task each: a call is short
    /// (tens of microseconds) and handing each to another thread and back cost more in
    /// wake-ups than the call itself; the shards keep both threads busy. Within the task
    /// the calls still interleave (each yields at every epoch tick, and one waiting in an
    /// import lets the others run), so one slow plugin does not hold up the rest.
    pub async fn evaluate(self: &Arc<Self>, request: &Evaluation) -> Vec<PluginRun> {
        let active = self.registry.active(request.trigger);
        let calls: Vec<_> = active
            .iter()
            .map(|active| {
                let name = &active.revision.descriptor.name;
                let host = self.host_settings(name);
                let client = request
                    .client_settings
                    .get(name)
                    .filter(|settings| !settings.is_empty());
                let input = request.input_for(&active.revision, &layered(&host, client));
                // Asked only if the client's settings are refused: would the host's do?
                let fallback = client.map(|_| request.input_for(&active.revision, &host));
                let runtime = self.clone();
                let client = request.installation.client.clone();
                let active = active.clone();
                async move {
                    let mut called = runtime
                        .call(active.revision.clone(), input, active.stop.clone())
                        .await;
                    if let (Err(failure), Some(fallback)) = (&called.outcome, fallback)
                        && failure.kind == FailureKind::PluginError
                    {
                        let retry = runtime.call(active.revision.clone(), fallback, active.stop);
                        if retry.await.outcome.is_ok() {
                            called.outcome = Err(Failure::new(
                                FailureKind::BadSettings,
                                format!("the settings of client `{client}`: {}", failure.message),
                            ));
                        }
                    }
                    runtime.note_outcome(
                        &active.revision,
                        &active.health,
                        &client,
                        &called.outcome,
                        called.elapsed,
                    );
                    run_of(&active.revision, called)
                }
            })
            .collect();
        match self
            .threads
            .handle()
            .spawn(futures_util::future::join_all(calls))
            .await
        {
            Ok(runs) => runs,
            Err(error) => active
                .iter()
                .map(|active| {
                    let failure = Failure::host(format!("the plugin thread failed: {error}"));
                    run_of(&active.revision, Called::lost(failure))
                })
                .collect(),
        }
    }

    /// Checks settings a client is about to get for `plugin`: every key must be one the
    /// plugin declares and every value of its declared type, and the plugin must not refuse
    /// the values when the host's own settings work (tried on an evaluation without a
    /// report; recorded nowhere), for what a type cannot say (one setting against another).
    pub async fn check_settings(
        self: &Arc<Self>,
        plugin: &str,
        client: &str,
        proposed: &BTreeMap<String, String>,
        now_ms: i64,
    ) -> Result<(), SettingsRefusal> {
        let revision = self
            .registry
            .revision(plugin)
            .ok_or_else(|| SettingsRefusal::UnknownPlugin(plugin.to_string()))?;
        revision.descriptor.check_settings(proposed, "")?;
        let host = self.host_settings(plugin);
        let trial = Evaluation {
            installation: InstallationInfo {
                id: "settings-check".into(),
                client: client.to_string(),
                tags: Vec::new(),
                timezone: "UTC".into(),
            },
            trigger: revision
                .descriptor
                .triggers
                .first()
                .copied()
                .unwrap_or(Trigger::Report),
            now_ms,
            last_report_at_ms: None,
            report: None,
            state: BTreeMap::new(),
            client_settings: BTreeMap::new(),
        };
        let stop = CancellationToken::new();
        let with = trial.input_for(&revision, &layered(&host, Some(proposed)));
        let called = self.spawn_call(revision.clone(), with, stop.clone()).await;
        let failure = match called.outcome {
            Err(failure) if failure.kind == FailureKind::PluginError => failure,
            _ => return Ok(()),
        };
        let without = trial.input_for(&revision, &host);
        match self.spawn_call(revision, without, stop).await.outcome {
            Ok(_) => Err(SettingsRefusal::Refused {
                plugin: plugin.to_string(),
                message: failure.message,
            }),
            Err(_) => Ok(()),
        }
    }

    /// The settings `plugin` runs with for a client whose own are `client`: the host's
    /// configuration with the client's on top (the plugin's defaults fill in the rest).
    pub fn settings_for(
        &self,
        plugin: &str,
        client: Option<&BTreeMap<String, String>>,
    ) -> BTreeMap<String, String> {
        layered(&self.host_settings(plugin), client)
    }

    /// A plugin's settings from the host's configuration (`[plugins.<name>]`).
    fn host_settings(&self, plugin: &str) -> BTreeMap<String, String> {
        self.settings
            .plugin_config
            .get(plugin)
            .cloned()
            .unwrap_or_default()
    }

    /// The shell version a client must run: `version-minimum`'s `minimum` as that client
    /// has it, when the check is loaded and the setting is not empty. The board, `/status`
    /// and client reports all ask this one question.
    pub fn minimum_shell(
        &self,
        client_settings: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> Option<String> {
        self.setting("version-minimum", "minimum", client_settings)
            .filter(|m| !m.trim().is_empty())
    }

    /// The value plugin `plugin` would see for `key` with this client's settings, if the
    /// plugin is loaded and declares it.
    fn setting(
        &self,
        plugin: &str,
        key: &str,
        client_settings: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> Option<String> {
        let revision = self.registry.revision(plugin)?;
        revision
            .descriptor
            .resolve_config(&layered(
                &self.host_settings(plugin),
                client_settings.get(plugin),
            ))
            .remove(key)
    }

    /// Runs one revision on one input, outside the registry (`reveille plugin test`, the
    /// micro benchmarks).
    pub async fn run(self: &Arc<Self>, revision: Arc<Revision>, input: EvalInput) -> PluginRun {
        let called = self
            .spawn_call(revision.clone(), input, CancellationToken::new())
            .await;
        run_of(&revision, called)
    }

    /// Runs `work` on the offline threads (see [`Runtime::evaluate_offline`]).
    pub fn spawn_offline<F>(&self, work: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.offline.handle().spawn(work)
    }

    /// One call of `revision` outside live evaluation, to be awaited on the offline threads
    /// ([`Runtime::spawn_offline`]): bounded like any call, but neither counted in the
    /// plugin's health nor in the calls in flight, since no live evaluation depends on it;
    /// what it says is not kept.
    pub async fn evaluate_offline(
        &self,
        revision: &Revision,
        input: &EvalInput,
        stop: &CancellationToken,
    ) -> Result<EvalOutput, Failure> {
        let name = &revision.descriptor.name;
        let bounds = Bounds {
            limits: self.settings.limits_for(name),
            stop,
        };
        executor::evaluate(&self.engine.engine, &revision.pre, name, bounds, input)
            .await
            .0
    }

    /// Plugin calls running longer than their deadline plus `grace`: a stuck worker.
    pub fn overdue_calls(&self, grace: Duration) -> Vec<CallInFlight> {
        let calls = self.in_flight.calls.lock().expect("in-flight lock");
        calls
            .values()
            .filter(|(_, started, deadline)| started.elapsed() > *deadline + grace)
            .map(|(plugin, started, deadline)| CallInFlight {
                plugin: plugin.clone(),
                running: started.elapsed(),
                deadline: *deadline,
            })
            .collect()
    }

    /// Starts one call on the plugin threads now (for the callers outside
    /// [`Runtime::evaluate`]); the returned future yields its outcome and how long it ran.
    /// A call the threads lose still comes back, as a host failure.
    fn spawn_call(
        self: &Arc<Self>,
        revision: Arc<Revision>,
        input: EvalInput,
        stop: CancellationToken,
    ) -> impl Future<Output = Called> + use<> {
        let call = self
            .threads
            .handle()
            .spawn(self.call(revision, input, stop));
        async move {
            call.await.unwrap_or_else(|error| {
                Called::lost(Failure::host(format!("the plugin thread failed: {error}")))
            })
        }
    }

    /// One call, to be run on the plugin threads: bounded, counted in flight, traced.
    fn call(
        self: &Arc<Self>,
        revision: Arc<Revision>,
        input: EvalInput,
        stop: CancellationToken,
    ) -> impl Future<Output = Called> + Send + use<> {
        let descriptor = &revision.descriptor;
        let span = tracing::info_span!(
            "plugin.evaluate",
            plugin = %descriptor.name,
            version = %descriptor.version,
            installation = %input.installation.id,
            trigger = %input.trigger,
        );
        let limits = self.settings.limits_for(&descriptor.name);
        let runtime = self.clone();
        async move {
            let _permit = runtime.permits.acquire().await;
            let name = &revision.descriptor.name;
            let _tracked = runtime.in_flight.track(name, limits.deadline);
            let started = Instant::now();
            let bounds = Bounds {
                limits,
                stop: &stop,
            };
            let (outcome, said) =
                executor::evaluate(&runtime.engine.engine, &revision.pre, name, bounds, &input)
                    .await;
            Called {
                outcome,
                said,
                elapsed: started.elapsed(),
            }
        }
        .instrument(span)
    }

    fn note_outcome(
        &self,
        revision: &Revision,
        health: &Health,
        client: &str,
        outcome: &Result<EvalOutput, Failure>,
        elapsed: Duration,
    ) {
        match outcome {
            Ok(_) => health.settings_verdict(client, None),
            Err(failure) if failure.kind == FailureKind::BadSettings => {
                health.settings_verdict(client, Some(failure))
            }
            Err(_) => {}
        }
        let name = &revision.descriptor.name;
        let stopped = health.record(
            outcome.as_ref().map(|_| ()),
            elapsed,
            self.registry.policy(),
            self.settings.limits_for(name).slow_after,
        );
        if let Err(failure) = outcome {
            tracing::warn!(
                plugin = %name,
                kind = %failure.kind,
                error = %failure.message,
                "plugin call failed"
            );
        }
        if let Some(why) = stopped {
            tracing::error!(
                plugin = %name,
                version = %revision.descriptor.version,
                %why,
                "plugin disabled"
            );
        }
    }
}

/// `host` settings with a client's own on top.
fn layered(
    host: &BTreeMap<String, String>,
    client: Option<&BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let mut settings = host.clone();
    if let Some(client) = client {
        settings.extend(client.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    settings
}

impl Called {
    /// A call the plugin threads lost before it could say anything.
    fn lost(failure: Failure) -> Self {
        Called {
            outcome: Err(failure),
            said: Said::default(),
            elapsed: Duration::ZERO,
        }
    }
}

fn run_of(revision: &Revision, called: Called) -> PluginRun {
    PluginRun {
        plugin: revision.descriptor.name.clone(),
        version: revision.descriptor.version.clone(),
        sha256: revision.sha256.clone(),
        elapsed: called.elapsed,
        outcome: called.outcome,
        said: called.said,
    }
}

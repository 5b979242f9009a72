//! The plugin runtime as the rest of the host uses it: compile, install, unload, evaluate.
//!
//! It owns the engine, the linkers, the compile cache, the registry and the worker pool.
//! Compiling happens off the async runtime; evaluating fans one request out to every
//! active plugin that wants its trigger, in parallel, and returns every plugin's outcome.
//! A failure is recorded against its plugin and logged; it is never a finding.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Instrument;

use super::cache::{CompileCache, sha256_hex};
use super::contract::{EvalInput, EvalOutput, InstallationInfo, Trigger};
use super::engine::PluginEngine;
use super::executor::{self, Failure, Limits, WorkerPool};
use super::loader::{self, Linkers, LoadError, Revision};
use super::registry::{Health, Registry, Source};
use crate::report::Document;

/// How the runtime is set up; see `config.rs` for where each value comes from.
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    /// Limits for plugins without their own.
    pub limits: Limits,
    /// Limits for named plugins.
    pub plugin_limits: HashMap<String, Limits>,
    /// Consecutive failures after which a plugin is disabled.
    pub disable_after: u32,
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
            disable_after: 3,
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
}

pub struct Runtime {
    engine: PluginEngine,
    linkers: Linkers,
    cache: Option<CompileCache>,
    registry: Registry,
    pool: WorkerPool,
    settings: RuntimeSettings,
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
            pool: WorkerPool::new(settings.workers)?,
            engine,
            linkers,
            cache,
            registry: Registry::default(),
            settings,
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

    /// Inspects, compiles, links and smoke-tests `bytes` without installing anything.
    /// `expected` is the name the plugin must call itself, when there is one.
    pub async fn compile(
        self: &Arc<Self>,
        expected: Option<&str>,
        bytes: Vec<u8>,
    ) -> Result<Arc<Revision>, LoadError> {
        let runtime = self.clone();
        let expected = expected.map(str::to_string);
        tokio::task::spawn_blocking(move || {
            let limits = expected
                .as_deref()
                .map_or(runtime.settings.limits, |n| runtime.settings.limits_for(n));
            loader::load(
                &runtime.engine.engine,
                &runtime.linkers,
                runtime.cache.as_ref(),
                expected.as_deref(),
                &bytes,
                limits,
            )
            .map(Arc::new)
        })
        .await
        .unwrap_or_else(|e| {
            Err(LoadError::Compile(format!(
                "the compiler thread failed: {e}"
            )))
        })
    }

    /// Compiles `bytes` as plugin `name` and, if every step passes, makes it the serving
    /// revision. On failure the previous revision (if any) keeps serving.
    pub async fn load(
        self: &Arc<Self>,
        name: &str,
        bytes: Vec<u8>,
        source: Source,
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
                    "plugin loaded"
                );
                self.registry.install(name, revision.clone(), source);
                Ok(revision)
            }
            Err(error) => {
                tracing::warn!(%error, %sha256, "plugin refused");
                self.registry
                    .record_load_failure(name, &sha256, source, error.to_string());
                Err(error)
            }
        }
    }

    pub fn unload(&self, name: &str) -> bool {
        let removed = self.registry.remove(name);
        if removed {
            tracing::info!(plugin = name, "plugin unloaded");
        }
        removed
    }

    /// Runs every active plugin that wants `request.trigger`, in parallel, and returns each
    /// one's outcome, ordered by plugin name.
    pub async fn evaluate(self: &Arc<Self>, request: &Evaluation) -> Vec<PluginRun> {
        let calls: Vec<_> = self
            .registry
            .active(request.trigger)
            .into_iter()
            .map(|active| {
                let overrides =
                    self.overrides(&active.revision.descriptor.name, &request.client_settings);
                let input = request.input_for(&active.revision, &overrides);
                self.spawn_run(active.revision, input, Some(active.health))
            })
            .collect();
        let mut runs = Vec::with_capacity(calls.len());
        for call in calls {
            runs.push(call.await);
        }
        runs
    }

    /// A plugin's settings as given: the host's `[plugins.<name>]`, then the client's own.
    fn overrides(
        &self,
        plugin: &str,
        client_settings: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> BTreeMap<String, String> {
        let mut overrides = self
            .settings
            .plugin_config
            .get(plugin)
            .cloned()
            .unwrap_or_default();
        if let Some(client) = client_settings.get(plugin) {
            overrides.extend(client.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        overrides
    }

    /// The value plugin `plugin` would see for `key` with this client's settings, if the
    /// plugin is loaded and declares it.
    pub fn setting(
        &self,
        plugin: &str,
        key: &str,
        client_settings: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> Option<String> {
        let revision = self.registry.revision(plugin)?;
        revision
            .descriptor
            .resolve_config(&self.overrides(plugin, client_settings))
            .remove(key)
    }

    /// Runs one revision on one input, outside the registry (`reveille plugin test`).
    pub async fn run(self: &Arc<Self>, revision: Arc<Revision>, input: EvalInput) -> PluginRun {
        self.spawn_run(revision, input, None).await
    }

    /// Starts the call on a worker now; the returned future yields its outcome. A call the
    /// worker pool loses still comes back, as a host failure.
    fn spawn_run(
        self: &Arc<Self>,
        revision: Arc<Revision>,
        input: EvalInput,
        health: Option<Arc<Health>>,
    ) -> impl Future<Output = PluginRun> + use<> {
        let descriptor = &revision.descriptor;
        let span = tracing::info_span!(
            "plugin.evaluate",
            plugin = %descriptor.name,
            version = %descriptor.version,
            installation = %input.installation.id,
            trigger = %input.trigger,
        );
        let limits = self.settings.limits_for(&descriptor.name);
        let mut run = PluginRun {
            plugin: descriptor.name.clone(),
            version: descriptor.version.clone(),
            sha256: revision.sha256.clone(),
            elapsed: Duration::ZERO,
            outcome: Ok(EvalOutput::default()),
        };
        let runtime = self.clone();
        let call = self.pool.spawn(move || {
            let _entered = span.enter();
            let started = Instant::now();
            let outcome = executor::evaluate(&runtime.engine.engine, &revision, limits, &input);
            let elapsed = started.elapsed();
            if let Some(health) = health {
                runtime.note_outcome(&revision, &health, &outcome);
            }
            (outcome, elapsed)
        });
        async move {
            match call.await {
                Ok((outcome, elapsed)) => {
                    run.outcome = outcome;
                    run.elapsed = elapsed;
                }
                Err(failure) => run.outcome = Err(failure),
            }
            run
        }
    }

    fn note_outcome(
        &self,
        revision: &Revision,
        health: &Health,
        outcome: &Result<EvalOutput, Failure>,
    ) {
        let disabled = health.record(outcome.as_ref().map(|_| ()), self.settings.disable_after);
        if let Err(failure) = outcome {
            tracing::warn!(kind = %failure.kind, error = %failure.message, "plugin call failed");
            if disabled {
                tracing::error!(
                    plugin = %revision.descriptor.name,
                    version = %revision.descriptor.version,
                    failures = self.settings.disable_after,
                    "plugin disabled after consecutive failures"
                );
            }
        }
    }
}

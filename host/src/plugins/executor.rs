//! Runs one plugin call in a fresh store and classifies what went wrong.
//!
//! Every call gets a new `Store` from the revision's cached `InstancePre`: nothing a plugin
//! did in one evaluation survives into the next, and a trapped instance is simply dropped.
//! Calls run on the [`WorkerPool`]'s threads, never on a tokio worker, because a plugin may
//! burn its whole deadline.

use std::fmt;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::oneshot;
use wasmtime::{Engine, Store, Trap};

use super::contract::{Descriptor, EvalInput, EvalOutput};
use super::engine::PluginEngine;
use super::loader::{Revision, WorldPre};
use super::sandbox::HostState;
use super::world::v1;

/// Per-plugin resource limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall time for one call, instantiation included.
    pub deadline: Duration,
    /// Linear memory, in bytes.
    pub memory: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline: Duration::from_millis(100),
            memory: 64 << 20,
        }
    }
}

/// Why a call produced no output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// Ran past its deadline.
    Timeout,
    /// Asked for more memory than its limit.
    OutOfMemory,
    /// Panicked or trapped.
    Trap,
    /// Returned an error of its own (bad configuration, say).
    PluginError,
    /// The host could not run it (not the plugin's fault; never counts toward disabling).
    Host,
}

impl FailureKind {
    /// Whether this failure is the plugin's doing.
    pub fn blames_plugin(self) -> bool {
        !matches!(self, FailureKind::Host)
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailureKind::Timeout => "timeout",
            FailureKind::OutOfMemory => "out of memory",
            FailureKind::Trap => "trap",
            FailureKind::PluginError => "plugin error",
            FailureKind::Host => "host error",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

impl Failure {
    pub fn host(message: impl Into<String>) -> Self {
        Failure {
            kind: FailureKind::Host,
            message: message.into(),
        }
    }
}

fn new_store(engine: &Engine, limits: Limits) -> Store<HostState> {
    let mut store = Store::new(engine, HostState::new(limits.memory));
    store.limiter(|state| state.limiter());
    store.set_epoch_deadline(PluginEngine::deadline_ticks(limits.deadline));
    store
}

/// Calls `describe()` in a fresh store: the smoke test every revision passes before it
/// may serve.
pub fn describe(engine: &Engine, pre: &WorldPre, limits: Limits) -> Result<Descriptor, Failure> {
    let mut store = new_store(engine, limits);
    let started = Instant::now();
    let result = match pre {
        WorldPre::V1(pre) => pre
            .instantiate(&mut store)
            .and_then(|bindings| bindings.call_describe(&mut store))
            .map(v1::descriptor),
    };
    result.map_err(|error| classify(&store, error, limits, started))
}

/// Calls `evaluate(input)` in a fresh store.
pub fn evaluate(
    engine: &Engine,
    revision: &Revision,
    limits: Limits,
    input: &EvalInput,
) -> Result<EvalOutput, Failure> {
    let mut store = new_store(engine, limits);
    let started = Instant::now();
    let result = match &revision.pre {
        WorldPre::V1(pre) => pre.instantiate(&mut store).and_then(|bindings| {
            let input = v1::input(store.data_mut(), input)?;
            bindings.call_evaluate(&mut store, &input)
        }),
    };
    match result {
        Ok(Ok(output)) => Ok(v1::output(output)),
        Ok(Err(message)) => Err(Failure {
            kind: FailureKind::PluginError,
            message,
        }),
        Err(error) => Err(classify(&store, error, limits, started)),
    }
}

fn classify(
    store: &Store<HostState>,
    error: wasmtime::Error,
    limits: Limits,
    started: Instant,
) -> Failure {
    let state = store.data();
    if state.hit_memory_limit() {
        return Failure {
            kind: FailureKind::OutOfMemory,
            message: format!("exceeded its memory limit of {} MiB", limits.memory >> 20),
        };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => Failure {
            kind: FailureKind::Timeout,
            message: format!(
                "stopped after {} ms, past its deadline of {} ms",
                started.elapsed().as_millis(),
                limits.deadline.as_millis()
            ),
        },
        Some(trap) => {
            let mut message = trap.to_string();
            if let Some(stderr) = state.stderr_text() {
                message = format!("{message}; it said: {stderr}");
            }
            Failure {
                kind: FailureKind::Trap,
                message,
            }
        }
        None => Failure::host(format!("{error:#}")),
    }
}

/// Threads that run plugin calls. Sized to the machine's cores, so evaluations of one
/// report run in parallel without starving the tokio runtime that serves HTTP.
pub struct WorkerPool {
    pool: rayon::ThreadPool,
}

impl WorkerPool {
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .thread_name(|i| format!("reveille-plugin-{i}"))
            .panic_handler(|_| tracing::error!("a plugin worker panicked; the call is lost"))
            .build()
            .map_err(std::io::Error::other)?;
        Ok(WorkerPool { pool })
    }

    /// Starts `job` on a worker now; the returned future waits for it without blocking the
    /// async runtime. Starting before awaiting is what lets several calls run at once.
    pub fn spawn<R, F>(&self, job: F) -> impl Future<Output = Result<R, Failure>> + use<R, F>
    where
        R: Send + 'static,
        F: FnOnce() -> R + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.pool.spawn(move || {
            let _ = tx.send(job());
        });
        async move {
            rx.await
                .map_err(|_| Failure::host("the plugin worker stopped before answering"))
        }
    }
}

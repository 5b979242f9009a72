//! Runs one plugin call in a fresh store, bounds it, and classifies what went wrong.
//!
//! Every call gets a new `Store` from the revision's linked component: nothing a plugin
//! did in one evaluation survives into the next, and a trapped instance is simply dropped.
//!
//! A call ends at its deadline whatever the plugin does. Calls are asynchronous: a plugin
//! computing is interrupted by the engine's epoch ticker (and yields to other calls at
//! every tick); a plugin waiting in a WASI import (a sleep, a poll on something that never
//! comes) is a pending future, dropped when the deadline passes. Unloading the plugin
//! (its stop token) ends the call the same way.

use std::fmt;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use wasmtime::{Engine, Store, Trap, UpdateDeadline, WasmBacktrace};

use super::contract::{Descriptor, EvalInput, EvalOutput, OutputLimits, OutputProblem};
use super::log::Said;
use super::sandbox::{HostState, Moment};
use super::world::{HostFault, WorldPre};

/// Per-plugin resource limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall time for one call, instantiation included.
    pub deadline: Duration,
    /// Linear memory, in bytes.
    pub memory: usize,
    /// The mean call time over the health window past which the plugin is stopped as
    /// too slow: each evaluation waits for every plugin it calls.
    pub slow_after: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline: Duration::from_millis(100),
            memory: 64 << 20,
            slow_after: Duration::from_millis(50),
        }
    }
}

/// Why a call produced no output.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// Ran past its deadline.
    Timeout,
    /// Asked for more memory than its limit.
    OutOfMemory,
    /// Panicked or trapped.
    Trap,
    /// Returned an error of its own.
    PluginError,
    /// Returned more than the host takes (see [`OutputLimits`]).
    OutputTooLarge,
    /// Returned something the host cannot store (a NUL in a string).
    InvalidOutput,
    /// Refused the settings one client gave it, while the host's own settings work: that
    /// client's problem, not the plugin's.
    BadSettings,
    /// Stopped because the plugin was unloaded or disabled meanwhile.
    Cancelled,
    /// The host could not run it.
    Host,
}

impl FailureKind {
    /// Whether this failure is the plugin's doing (and counts toward disabling it).
    pub fn blames_plugin(self) -> bool {
        !matches!(
            self,
            FailureKind::BadSettings | FailureKind::Cancelled | FailureKind::Host
        )
    }

    /// The name in metrics labels.
    pub fn label(self) -> &'static str {
        match self {
            FailureKind::Timeout => "timeout",
            FailureKind::OutOfMemory => "out_of_memory",
            FailureKind::Trap => "trap",
            FailureKind::PluginError => "plugin_error",
            FailureKind::OutputTooLarge => "output_too_large",
            FailureKind::InvalidOutput => "invalid_output",
            FailureKind::BadSettings => "bad_settings",
            FailureKind::Cancelled => "cancelled",
            FailureKind::Host => "host",
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailureKind::Host => "host error",
            kind => return f.write_str(&kind.label().replace('_', " ")),
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
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
        }
    }

    pub fn host(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Host, message)
    }
}

/// What bounds one call besides its limits: when it may be stopped early.
#[derive(Clone, Copy)]
pub struct Bounds<'a> {
    pub limits: Limits,
    /// Cancelled when the plugin is unloaded or disabled.
    pub stop: &'a CancellationToken,
}

/// Calls `describe()` in a fresh store: the smoke test every revision passes before it
/// may serve.
pub async fn describe(
    engine: &Engine,
    pre: &WorldPre,
    bounds: Bounds<'_>,
) -> Result<Descriptor, Failure> {
    let moment = Moment {
        plugin: "",
        installation: "",
        now_ms: 0,
    };
    run(engine, bounds, moment, async |store| {
        pre.describe(store).await
    })
    .await
    .0
}

/// Calls `evaluate(input)` for `plugin` in a fresh store and admits its output; with what
/// the call said, whichever way it ended.
pub async fn evaluate(
    engine: &Engine,
    pre: &WorldPre,
    plugin: &str,
    bounds: Bounds<'_>,
    input: &EvalInput,
) -> (Result<EvalOutput, Failure>, Said) {
    let moment = Moment {
        plugin,
        installation: &input.installation.id,
        now_ms: input.now_ms,
    };
    let (returned, said) = run(engine, bounds, moment, async |store| {
        pre.evaluate(store, input).await
    })
    .await;
    let admitted = returned.and_then(|returned| {
        let output = returned.map_err(|message| Failure::new(FailureKind::PluginError, message))?;
        OutputLimits::DEFAULT
            .admit(output, &input.state)
            .map_err(|problem| match problem {
                OutputProblem::TooLarge(message) => {
                    Failure::new(FailureKind::OutputTooLarge, message)
                }
                OutputProblem::Invalid(message) => {
                    Failure::new(FailureKind::InvalidOutput, message)
                }
            })
    });
    (admitted, said)
}

/// How a call ended, before it is classified.
enum Ended<R> {
    Returned(wasmtime::Result<R>),
    Deadline,
    Stopped,
}

async fn run<R>(
    engine: &Engine,
    bounds: Bounds<'_>,
    moment: Moment<'_>,
    call: impl AsyncFnOnce(&mut Store<HostState>) -> wasmtime::Result<R>,
) -> (Result<R, Failure>, Said) {
    let Bounds { limits, stop } = bounds;
    let started = Instant::now();
    let mut store = Store::new(engine, HostState::new(limits.memory, moment));
    store.limiter(|state| state.limiter());
    store.set_epoch_deadline(1);
    let watch = stop.clone();
    store.epoch_deadline_callback(move |_| {
        Ok(
            if watch.is_cancelled() || started.elapsed() >= limits.deadline {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Yield(1)
            },
        )
    });
    let ended = tokio::select! {
        result = call(&mut store) => Ended::Returned(result),
        () = tokio::time::sleep(limits.deadline) => Ended::Deadline,
        () = stop.cancelled() => Ended::Stopped,
    };
    let said = store.data().log.said();
    let result = match ended {
        Ended::Returned(Ok(value)) => Ok(value),
        Ended::Returned(Err(error)) => Err(classify(&store, &said, &error, limits, started, stop)),
        Ended::Deadline => Err(timeout(limits, started)),
        Ended::Stopped => Err(cancelled()),
    };
    (result, said)
}

fn timeout(limits: Limits, started: Instant) -> Failure {
    Failure::new(
        FailureKind::Timeout,
        format!(
            "stopped after {} ms, past its deadline of {} ms",
            started.elapsed().as_millis(),
            limits.deadline.as_millis()
        ),
    )
}

fn cancelled() -> Failure {
    Failure::new(
        FailureKind::Cancelled,
        "stopped: the plugin was unloaded or disabled during the call",
    )
}

fn classify(
    store: &Store<HostState>,
    said: &Said,
    error: &wasmtime::Error,
    limits: Limits,
    started: Instant,
    stop: &CancellationToken,
) -> Failure {
    let state = store.data();
    if state.hit_memory_limit() {
        return Failure::new(
            FailureKind::OutOfMemory,
            format!("exceeded its memory limit of {} MiB", limits.memory >> 20),
        );
    }
    let trap = match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) if stop.is_cancelled() => return cancelled(),
        Some(Trap::Interrupt) => return timeout(limits, started),
        Some(trap) => *trap,
        None if error.downcast_ref::<HostFault>().is_some() => {
            return Failure::host(format!("{error:#}"));
        }
        None => {
            return Failure::new(
                FailureKind::InvalidOutput,
                format!("returned what the host cannot read: {error:#}"),
            );
        }
    };
    let mut message = match trap {
        Trap::StackOverflow => {
            "stack overflow: the call stack is exhausted (recursion too deep or endless)"
                .to_string()
        }
        Trap::MemoryOutOfBounds if recursing(error) => format!(
            "{trap}: most likely a stack overflow (one function fills the top of the stack; \
             recursion too deep or endless)"
        ),
        trap => trap.to_string(),
    };
    if let Some(stderr) = &said.stderr {
        message = format!("{message}; it said: {stderr}");
    }
    Failure::new(FailureKind::Trap, message)
}

/// Whether the trapping stack is one function calling itself over and over: a Rust
/// plugin whose stack (in its own linear memory) runs out traps with an out-of-bounds
/// access, not a stack overflow, and this is how the two are told apart.
fn recursing(error: &wasmtime::Error) -> bool {
    let Some(backtrace) = error.downcast_ref::<WasmBacktrace>() else {
        return false;
    };
    let frames = backtrace.frames();
    let mut counts = std::collections::HashMap::new();
    for frame in frames {
        *counts.entry(frame.func_index()).or_insert(0usize) += 1;
    }
    let most = counts.values().copied().max().unwrap_or(0);
    frames.len() >= 8 && most * 2 >= frames.len()
}

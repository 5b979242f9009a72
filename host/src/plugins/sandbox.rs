//! What a plugin's store holds: the only doors out of the sandbox.
//!
//! WASI is linked because Rust's `wasm32-wasip2` standard library imports it, but its
//! context is empty: no preopened directories, no environment, no arguments, no network,
//! stdin empty. Stdout and stderr go to the call's [`CallLog`], with the `log` interface:
//! what a check says reaches its author (and a panic's message the call's failure), never
//! the host's terminal.
//!
//! Time and chance are the evaluation's, not the machine's: the wall clock reads the
//! evaluation's `now` and stands still, the monotonic clock stands at zero, and random
//! bytes come from a generator seeded with the plugin, the installation and `now`. So a
//! rule gives the same answer when it is replayed over history, and two plugins cannot
//! tell the host's real time. Sleeping is still real waiting, which the executor cuts at
//! the deadline.

use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use sha2::{Digest, Sha256};
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use super::log::{CallLog, Stream};
use crate::report::Document;

/// Most random bytes one call may ask for: a check needs a few, never megabytes.
const MAX_RANDOM_BYTES: u64 = 64 << 10;

/// The report resource handed to plugins: a shared, read-only reference to the parsed
/// document, so every plugin evaluating one report reads the same copy.
pub struct ReportHandle(pub Arc<Document>);

/// What the sandbox's clocks and randomness are derived from.
#[derive(Debug, Clone, Copy)]
pub struct Moment<'a> {
    pub plugin: &'a str,
    pub installation: &'a str,
    /// The evaluation's `now`, milliseconds since the Unix epoch.
    pub now_ms: i64,
}

/// Store data for one evaluation.
pub struct HostState {
    wasi: WasiCtx,
    pub(super) table: ResourceTable,
    limiter: MemoryLimiter,
    pub(super) log: CallLog,
}

impl HostState {
    pub fn new(memory_limit: usize, moment: Moment<'_>) -> Self {
        let log = CallLog::default();
        let seed: [u8; 32] = Sha256::new()
            .chain_update(moment.plugin.as_bytes())
            .chain_update([0])
            .chain_update(moment.installation.as_bytes())
            .chain_update([0])
            .chain_update(moment.now_ms.to_le_bytes())
            .finalize()
            .into();
        let wasi = WasiCtx::builder()
            .stdout(log.stream(Stream::Stdout))
            .stderr(log.stream(Stream::Stderr))
            .wall_clock(FrozenWallClock(moment.now_ms))
            .monotonic_clock(FrozenMonotonicClock)
            .secure_random(StdRng::from_seed(seed))
            .insecure_random(StdRng::from_seed(seed))
            .insecure_random_seed(u128::from_le_bytes(
                seed[..16].try_into().expect("16 bytes"),
            ))
            .max_random_size(MAX_RANDOM_BYTES)
            .build();
        HostState {
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(memory_limit),
            log,
        }
    }

    pub fn limiter(&mut self) -> &mut dyn ResourceLimiter {
        &mut self.limiter
    }

    /// Whether the plugin asked for more memory than its limit allows.
    pub fn hit_memory_limit(&self) -> bool {
        self.limiter.exceeded
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// `wasi:clocks/wall-clock`: the evaluation's `now`, standing still.
struct FrozenWallClock(i64);

impl HostWallClock for FrozenWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }

    fn now(&self) -> Duration {
        Duration::from_millis(self.0.max(0) as u64)
    }
}

/// `wasi:clocks/monotonic-clock`: zero throughout the call, so no plugin can time the host.
struct FrozenMonotonicClock;

impl HostMonotonicClock for FrozenMonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        0
    }
}

/// `StoreLimits` with `trap_on_grow_failure`, remembering that it refused, so an
/// out-of-memory trap is told apart from any other trap.
struct MemoryLimiter {
    inner: StoreLimits,
    exceeded: bool,
}

impl MemoryLimiter {
    fn new(memory_limit: usize) -> Self {
        MemoryLimiter {
            inner: StoreLimitsBuilder::new()
                .memory_size(memory_limit)
                .trap_on_grow_failure(true)
                .build(),
            exceeded: false,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.inner.memory_growing(current, desired, maximum);
        if !matches!(allowed, Ok(true)) {
            self.exceeded = true;
        }
        allowed
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

//! What a plugin's store holds: the only doors out of the sandbox.
//!
//! WASI is linked because Rust's `wasm32-wasip2` standard library imports it, but its
//! context is empty: no preopened directories, no environment, no arguments, no network,
//! stdin empty and stdout discarded. Stderr goes to a small in-memory buffer so a panic
//! message reaches the plugin's failure record instead of the host's terminal.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::report::Document;

/// How much of a plugin's stderr is kept for its failure record.
const STDERR_CAPACITY: usize = 4096;

/// The report resource handed to plugins: a shared, read-only reference to the parsed
/// document, so every plugin evaluating one report reads the same copy.
pub struct ReportHandle(pub Arc<Document>);

/// Store data for one evaluation.
pub struct HostState {
    wasi: WasiCtx,
    pub(super) table: ResourceTable,
    limiter: MemoryLimiter,
    stderr: MemoryOutputPipe,
}

impl HostState {
    pub fn new(memory_limit: usize) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let wasi = WasiCtx::builder().stderr(stderr.clone()).build();
        HostState {
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(memory_limit),
            stderr,
        }
    }

    pub fn limiter(&mut self) -> &mut dyn ResourceLimiter {
        &mut self.limiter
    }

    /// Whether the plugin asked for more memory than its limit allows.
    pub fn hit_memory_limit(&self) -> bool {
        self.limiter.exceeded
    }

    /// What the plugin wrote to stderr (a panic message, usually), on one line, without
    /// Rust's hint about backtraces the plugin cannot produce anyway.
    pub fn stderr_text(&self) -> Option<String> {
        let bytes = self.stderr.contents();
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE"))
            .collect();
        (!lines.is_empty()).then(|| lines.join(" "))
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

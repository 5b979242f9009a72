//! The one wasmtime `Engine` and its epoch ticker.
//!
//! Every plugin runs with epoch interruption: a ticker thread advances the engine's epoch
//! every [`EPOCH_TICK`], and at each tick a running call either yields to other calls or,
//! past its deadline, traps (`executor.rs`), so a runaway loop stops within a tick of its
//! deadline whatever it is doing. Calls run on fibers (wasmtime's async support), which is
//! what lets a call waiting in a WASI import be abandoned at its deadline too. Instances
//! and fiber stacks come from the pooling allocator (no mmap per evaluation) where the
//! address space allows it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Granularity of deadlines: a plugin is stopped within one tick of its deadline.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Stack a plugin may use; deep recursion traps instead of overflowing the host.
const MAX_WASM_STACK: usize = 1 << 20;

/// A call's fiber stack: the wasm stack plus room for the host functions it calls.
const ASYNC_STACK: usize = 2 * MAX_WASM_STACK;

/// How many plugin instances may be alive at once with the pooling allocator: one per
/// evaluation in flight plus load-time smoke tests, with ample headroom.
const POOLED_INSTANCES: u32 = 256;

/// Plugin calls allowed at once: the pool's instances less room for load-time smoke tests.
pub const CONCURRENT_CALLS: usize = POOLED_INSTANCES as usize - 32;

/// Bytes of each pooled memory and table kept mapped between instances.
const KEEP_RESIDENT: usize = 2 << 20;

/// The engine and the thread that keeps its clock.
pub struct PluginEngine {
    pub engine: Engine,
    pub pooling: bool,
    ticker: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
}

impl PluginEngine {
    /// `max_memory` is the largest memory limit any plugin may get.
    pub fn new(max_memory: usize) -> wasmtime::Result<Self> {
        let (engine, pooling) = match Engine::new(&config(Some(max_memory))) {
            Ok(engine) => (engine, true),
            Err(error) => {
                tracing::warn!(%error, "pooling allocator unavailable, allocating instances on demand");
                (Engine::new(&config(None))?, false)
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let engine = engine.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("reveille-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                })?
        };
        Ok(PluginEngine {
            engine,
            pooling,
            ticker: Some(ticker),
            stop,
        })
    }
}

impl Drop for PluginEngine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}

fn config(pooling_max_memory: Option<usize>) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.max_wasm_stack(MAX_WASM_STACK);
    config.async_stack_size(ASYNC_STACK);
    if let Some(max_memory) = pooling_max_memory {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(POOLED_INSTANCES)
            .total_core_instances(POOLED_INSTANCES * 4)
            .total_memories(POOLED_INSTANCES * 2)
            .total_tables(POOLED_INSTANCES * 4)
            .total_stacks(POOLED_INSTANCES)
            .max_memories_per_component(4)
            .max_tables_per_component(16)
            .max_core_instances_per_component(32)
            .max_memory_size(max_memory)
            // Reset the first pages of a slot with memset instead of handing them back to
            // the kernel: the next instance touches them at once, so this avoids a page
            // fault per page on every evaluation.
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT)
            // Where the kernel can say which pages an instance dirtied (Linux 6.7 and
            // later), reset only those instead of memsetting the whole resident part.
            .pagemap_scan(Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

//! Bytes → a [`Revision`] ready to serve: inspect (component? API version? imports?) →
//! compile (or take from the cache) → link ([`compile`], blocking) → smoke-test
//! `describe()` ([`smoke_test`], a plugin call like any other). Each step's failure
//! says which step and why; nothing is installed until every step has passed.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use wasmtime::Engine;

use super::cache::{CacheOutcome, CompileCache, sha256_hex};
use super::contract::Descriptor;
use super::executor::{self, Bounds, Limits};
use super::world::{self, InspectError, Linkers, SemVer, WorldPre};
pub use reveille_core::contract::valid_name;

/// One loaded version of a plugin. Immutable: replacing a plugin installs a new revision
/// while calls in flight finish on the one they started with.
pub struct Revision {
    pub descriptor: Descriptor,
    pub sha256: String,
    pub stamp: SemVer,
    pub pre: WorldPre,
    pub cache: CacheOutcome,
    /// Time to compile or to load from the cache.
    pub compile_time: Duration,
    pub loaded_at: jiff::Timestamp,
}

/// A component compiled and linked, not yet smoke-tested.
pub struct Linked {
    pub sha256: String,
    pub stamp: SemVer,
    pub pre: WorldPre,
    pub cache: CacheOutcome,
    pub compile_time: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("invalid plugin name `{0}`: use 1-64 lowercase letters, digits and dashes")]
    BadName(String),
    #[error(transparent)]
    Inspect(#[from] InspectError),
    #[error("does not compile: {0}")]
    Compile(String),
    #[error("does not link against the host: {0}")]
    Link(String),
    #[error("describe() failed: {0}")]
    Describe(executor::Failure),
    #[error(
        "describes itself as `{found}` but was loaded as `{expected}`: install it under its own name (`reveille plugin install --name {found}`, or PUT /api/v1/plugins/{found})"
    )]
    NameMismatch { expected: String, found: String },
    /// A declared default, or the host's configuration, is not of the setting's type.
    #[error(transparent)]
    Settings(#[from] super::contract::SettingsError),
}

/// Inspects, compiles and links `bytes`. Blocking: call it off the async runtime.
pub fn compile(
    engine: &Engine,
    linkers: &Linkers,
    cache: Option<&CompileCache>,
    bytes: &[u8],
) -> Result<Linked, LoadError> {
    let inspection = world::inspect(bytes)?;
    let sha256 = sha256_hex(bytes);
    let started = Instant::now();
    let (component, cache_outcome) = match cache {
        Some(cache) => cache.load_or_compile(engine, &sha256, bytes),
        None => {
            wasmtime::component::Component::new(engine, bytes).map(|c| (c, CacheOutcome::Compiled))
        }
    }
    .map_err(|e| LoadError::Compile(format!("{e:#}")))?;
    let compile_time = started.elapsed();
    let pre = WorldPre::link(linkers, inspection.api, &component)
        .map_err(|e| LoadError::Link(format!("{e:#}")))?;
    Ok(Linked {
        sha256,
        stamp: inspection.stamp,
        pre,
        cache: cache_outcome,
        compile_time,
    })
}

/// Smoke-tests a linked component with `describe()`: it must answer in time and name
/// itself `expected` (if given).
pub async fn smoke_test(
    engine: &Engine,
    linked: Linked,
    expected: Option<&str>,
    limits: Limits,
) -> Result<Revision, LoadError> {
    let stop = CancellationToken::new();
    let descriptor = executor::describe(
        engine,
        &linked.pre,
        Bounds {
            limits,
            stop: &stop,
        },
    )
    .await
    .map_err(LoadError::Describe)?;
    if !valid_name(&descriptor.name) {
        return Err(LoadError::BadName(descriptor.name));
    }
    if let Some(name) = expected.filter(|n| *n != descriptor.name) {
        return Err(LoadError::NameMismatch {
            expected: name.to_string(),
            found: descriptor.name,
        });
    }
    Ok(Revision {
        descriptor,
        sha256: linked.sha256,
        stamp: linked.stamp,
        pre: linked.pre,
        cache: linked.cache,
        compile_time: linked.compile_time,
        loaded_at: jiff::Timestamp::now(),
    })
}

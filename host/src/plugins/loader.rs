//! Bytes → a [`Revision`] ready to serve: inspect (component? API version? imports?) →
//! compile (or take from the cache) → link → smoke-test `describe()`. Each step's failure
//! says which step and why; nothing is installed until every step has passed.

use std::time::{Duration, Instant};

use wasmtime::Engine;
use wasmtime::component::Linker;

use super::cache::{CacheOutcome, CompileCache, sha256_hex};
use super::contract::Descriptor;
use super::executor::{self, Limits};
use super::sandbox::HostState;
use super::world::{self, ApiVersion, InspectError, SemVer, v1};

/// A linked component, ready to instantiate once per call.
pub enum WorldPre {
    V1(v1::BindingsPre<HostState>),
}

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
    #[error("describes itself as `{found}` but was loaded as `{expected}`")]
    NameMismatch { expected: String, found: String },
}

/// The linkers for each world, built once.
pub struct Linkers {
    v1: Linker<HostState>,
}

impl Linkers {
    pub fn new(engine: &Engine) -> wasmtime::Result<Self> {
        let mut v1 = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut v1)?;
        v1::Bindings::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut v1, |s| s)?;
        Ok(Linkers { v1 })
    }
}

/// Whether `name` may name a plugin (it becomes a file name and a URL segment).
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
}

/// Runs every step for a plugin that must call itself `expected` (if given). Blocking:
/// call it off the async runtime.
pub fn load(
    engine: &Engine,
    linkers: &Linkers,
    cache: Option<&CompileCache>,
    expected: Option<&str>,
    bytes: &[u8],
    limits: Limits,
) -> Result<Revision, LoadError> {
    if let Some(name) = expected.filter(|n| !valid_name(n)) {
        return Err(LoadError::BadName(name.to_string()));
    }
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
    let pre = match inspection.api {
        ApiVersion::V1 => linkers
            .v1
            .instantiate_pre(&component)
            .and_then(v1::BindingsPre::new)
            .map(WorldPre::V1),
    }
    .map_err(|e| LoadError::Link(format!("{e:#}")))?;
    let descriptor = executor::describe(engine, &pre, limits).map_err(LoadError::Describe)?;
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
        sha256,
        stamp: inspection.stamp,
        pre,
        cache: cache_outcome,
        compile_time,
        loaded_at: jiff::Timestamp::now(),
    })
}

//! Checks as sandboxed WebAssembly components: loading, running, replacing.
//!
//! The flow for a new plugin is `world::inspect` (API stamp, imports) → `loader` (compile
//! through `cache`, link, smoke-test `describe`) → `registry` (atomic swap). For each
//! evaluation, `runtime` fans out to the active plugins on its call threads, and the
//! `executor` runs each call in a fresh store inside the `sandbox`, bounded by its
//! deadline; `world` is the one place that dispatches on a plugin's API version.
//! `directory` keeps the plugins directory and the registry in step; `builtin` holds the
//! plugins compiled into the binary.

pub mod builtin;
pub mod cache;
pub mod directory;
pub mod engine;
pub mod executor;
pub mod loader;
pub mod log;
pub mod registry;
pub mod runtime;
pub mod sandbox;
pub mod world;

pub use contract::{Descriptor, EvalOutput, Finding, InstallationInfo, Severity, Trigger};
pub use executor::{Failure, FailureKind, Limits};
pub use loader::LoadError;
pub use registry::{Cost, HealthPolicy, PluginState, PluginStatus, Removal, Source, Stopped};
pub use reveille_core::contract;
pub use runtime::{Evaluation, PluginRun, Runtime, RuntimeSettings, SettingsRefusal};

//! The built-in checks, compiled from `plugins/*` by the build script and embedded.

use std::sync::Arc;

use super::registry::Source;
use super::runtime::Runtime;

include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));

/// Loads every built-in plugin not named in `skip`. A built-in that fails to load is
/// logged and listed as failed; the service still starts.
pub async fn load_all(runtime: &Arc<Runtime>, skip: &[String]) {
    for (name, bytes) in BUILTIN_PLUGINS {
        if skip.iter().any(|s| s == name) {
            continue;
        }
        let _ = runtime.load(name, bytes.to_vec(), Source::Builtin).await;
    }
}

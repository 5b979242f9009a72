//! The built-in checks, compiled from `plugins/*` by the build script and embedded.

use std::sync::Arc;

use super::loader::LoadError;
use super::registry::Source;
use super::runtime::Runtime;

include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));

/// Loads every built-in plugin not named in `skip`. A built-in that fails to load is
/// logged and listed as failed, and the service still starts, unless the host's own
/// configuration gives it a setting of the wrong type: that is the admin's to fix before
/// a check silently stops running.
pub async fn load_all(runtime: &Arc<Runtime>, skip: &[String]) -> Result<(), LoadError> {
    for (name, bytes) in BUILTIN_PLUGINS {
        if skip.iter().any(|s| s == name) {
            continue;
        }
        let loaded = runtime.load(name, bytes.to_vec(), Source::Builtin).await;
        if let Err(error @ LoadError::Settings(_)) = loaded {
            return Err(error);
        }
    }
    Ok(())
}

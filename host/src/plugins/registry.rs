//! The plugins currently loaded, by name, and how each is faring.
//!
//! Replacing a plugin swaps an `Arc<Revision>` under a short write lock: an evaluation
//! takes its snapshot of revisions first and finishes on them, so a swap never interrupts
//! or loses a call. Health (counts, consecutive failures, disabled) belongs to the name and
//! survives swaps; a new revision clears the consecutive count and re-enables.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;

use super::contract::Trigger;
use super::executor::Failure;
use super::loader::Revision;

/// Where a plugin's current bytes came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "path")]
pub enum Source {
    /// Embedded in the `reveille` binary.
    Builtin,
    /// A `.wasm` file in the plugins directory (dropped in, or uploaded through the API).
    File(PathBuf),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginState {
    /// Serving evaluations.
    Active,
    /// Stopped after too many consecutive failures; a new revision or `enable` revives it.
    Disabled,
    /// Never loaded successfully; the last error says why.
    Failed,
}

#[derive(Debug, Clone, Serialize)]
pub struct LastError {
    pub at: jiff::Timestamp,
    pub message: String,
}

/// Counters for one plugin name.
#[derive(Debug, Default)]
pub struct Health {
    evaluations: AtomicU64,
    failures: AtomicU64,
    consecutive: AtomicU32,
    disabled: AtomicBool,
    last_error: Mutex<Option<LastError>>,
}

impl Health {
    fn set_error(&self, message: String) {
        *self.last_error.lock().expect("health lock") = Some(LastError {
            at: jiff::Timestamp::now(),
            message,
        });
    }

    /// Records one call's outcome; returns true when this failure disabled the plugin.
    pub fn record(&self, outcome: Result<(), &Failure>, disable_after: u32) -> bool {
        self.evaluations.fetch_add(1, Ordering::Relaxed);
        match outcome {
            Ok(()) => {
                self.consecutive.store(0, Ordering::Relaxed);
                false
            }
            Err(failure) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                self.set_error(failure.to_string());
                if !failure.kind.blames_plugin() {
                    return false;
                }
                let consecutive = self.consecutive.fetch_add(1, Ordering::Relaxed) + 1;
                consecutive >= disable_after && !self.disabled.swap(true, Ordering::Relaxed)
            }
        }
    }

    fn revive(&self) {
        self.consecutive.store(0, Ordering::Relaxed);
        self.disabled.store(false, Ordering::Relaxed);
    }
}

struct Slot {
    revision: Option<Arc<Revision>>,
    source: Source,
    /// sha256 and source of the last bytes tried for this name, loaded or not, so the
    /// same bad file is not retried on every directory event.
    attempted: (String, Source),
    health: Arc<Health>,
}

/// A plugin as the admin sees it.
#[derive(Debug, Clone, Serialize)]
pub struct PluginStatus {
    pub name: String,
    pub state: PluginState,
    pub version: Option<String>,
    pub description: Option<String>,
    pub sha256: Option<String>,
    pub api_version: Option<String>,
    pub triggers: Vec<Trigger>,
    pub config: Vec<super::contract::ConfigKey>,
    pub source: Source,
    pub loaded_at: Option<jiff::Timestamp>,
    pub compile_ms: Option<u128>,
    pub from_cache: Option<bool>,
    pub evaluations: u64,
    pub failures: u64,
    pub consecutive_failures: u32,
    pub last_error: Option<LastError>,
}

/// An active revision and the health it reports to.
pub struct Active {
    pub revision: Arc<Revision>,
    pub health: Arc<Health>,
}

#[derive(Default)]
pub struct Registry {
    slots: RwLock<BTreeMap<String, Slot>>,
}

impl Registry {
    /// Makes `revision` the one serving `name`.
    pub fn install(&self, name: &str, revision: Arc<Revision>, source: Source) {
        let mut slots = self.slots.write().expect("registry lock");
        let attempted = (revision.sha256.clone(), source.clone());
        match slots.get_mut(name) {
            Some(slot) => {
                slot.revision = Some(revision);
                slot.source = source;
                slot.attempted = attempted;
                slot.health.revive();
            }
            None => {
                slots.insert(
                    name.to_string(),
                    Slot {
                        revision: Some(revision),
                        source,
                        attempted,
                        health: Arc::default(),
                    },
                );
            }
        }
    }

    /// Records a failed load. A revision already serving `name` keeps serving.
    pub fn record_load_failure(&self, name: &str, sha256: &str, source: Source, error: String) {
        let mut slots = self.slots.write().expect("registry lock");
        let attempted = (sha256.to_string(), source.clone());
        let slot = slots.entry(name.to_string()).or_insert_with(|| Slot {
            revision: None,
            source: source.clone(),
            attempted: attempted.clone(),
            health: Arc::default(),
        });
        if slot.revision.is_none() {
            slot.source = source;
        }
        slot.attempted = attempted;
        slot.health.set_error(format!("load failed: {error}"));
    }

    /// Unloads `name`; false if it was not there.
    pub fn remove(&self, name: &str) -> bool {
        self.slots
            .write()
            .expect("registry lock")
            .remove(name)
            .is_some()
    }

    /// Re-enables a disabled plugin; false if there is no revision to enable.
    pub fn enable(&self, name: &str) -> bool {
        let slots = self.slots.read().expect("registry lock");
        match slots.get(name) {
            Some(slot) if slot.revision.is_some() => {
                slot.health.revive();
                true
            }
            _ => false,
        }
    }

    /// Snapshot of the active revisions that want `trigger`.
    pub fn active(&self, trigger: Trigger) -> Vec<Active> {
        let slots = self.slots.read().expect("registry lock");
        slots
            .values()
            .filter(|slot| !slot.health.disabled.load(Ordering::Relaxed))
            .filter_map(|slot| {
                let revision = slot.revision.as_ref()?;
                revision.descriptor.wants(trigger).then(|| Active {
                    revision: revision.clone(),
                    health: slot.health.clone(),
                })
            })
            .collect()
    }

    /// The revision serving as `name`, if one is loaded.
    pub fn revision(&self, name: &str) -> Option<Arc<Revision>> {
        let slots = self.slots.read().expect("registry lock");
        slots.get(name)?.revision.clone()
    }

    /// The sha256 last attempted for `name` and where it came from.
    pub fn attempted(&self, name: &str) -> Option<(String, Source)> {
        let slots = self.slots.read().expect("registry lock");
        slots.get(name).map(|s| s.attempted.clone())
    }

    /// Names whose bytes came from files.
    pub fn file_backed(&self) -> Vec<(String, PathBuf)> {
        let slots = self.slots.read().expect("registry lock");
        slots
            .iter()
            .filter_map(|(name, slot)| match &slot.source {
                Source::File(path) => Some((name.clone(), path.clone())),
                Source::Builtin => None,
            })
            .collect()
    }

    pub fn status(&self, name: &str) -> Option<PluginStatus> {
        let slots = self.slots.read().expect("registry lock");
        slots.get(name).map(|slot| status(name, slot))
    }

    pub fn list(&self) -> Vec<PluginStatus> {
        let slots = self.slots.read().expect("registry lock");
        slots
            .iter()
            .map(|(name, slot)| status(name, slot))
            .collect()
    }
}

fn status(name: &str, slot: &Slot) -> PluginStatus {
    let health = &slot.health;
    let revision = slot.revision.as_deref();
    let state = match revision {
        None => PluginState::Failed,
        Some(_) if health.disabled.load(Ordering::Relaxed) => PluginState::Disabled,
        Some(_) => PluginState::Active,
    };
    PluginStatus {
        name: name.to_string(),
        state,
        version: revision.map(|r| r.descriptor.version.clone()),
        description: revision.map(|r| r.descriptor.description.clone()),
        sha256: revision.map(|r| r.sha256.clone()),
        api_version: revision.map(|r| r.stamp.to_string()),
        triggers: revision
            .map(|r| r.descriptor.triggers.clone())
            .unwrap_or_default(),
        config: revision
            .map(|r| r.descriptor.config.clone())
            .unwrap_or_default(),
        source: slot.source.clone(),
        loaded_at: revision.map(|r| r.loaded_at),
        compile_ms: revision.map(|r| r.compile_time.as_millis()),
        from_cache: revision.map(|r| r.cache == super::cache::CacheOutcome::Hit),
        evaluations: health.evaluations.load(Ordering::Relaxed),
        failures: health.failures.load(Ordering::Relaxed),
        consecutive_failures: health.consecutive.load(Ordering::Relaxed),
        last_error: health.last_error.lock().expect("health lock").clone(),
    }
}

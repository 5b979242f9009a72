//! The plugins currently loaded, by name, and how each is faring.
//!
//! Replacing a plugin swaps an `Arc<Revision>` under a short write lock: an evaluation
//! takes its snapshot of revisions first and finishes on them, so a swap never interrupts
//! or loses a call. Health (counts, recent failures, disabled) belongs to the name and
//! survives swaps; a new revision clears the recent failures and re-enables.
//!
//! A built-in keeps its revision in its slot when an upload or a file overrides it, so
//! removing the override puts the built-in back; a built-in itself is never removed, only
//! switched off. Unloading or switching a plugin off cancels its stop token, which ends
//! its calls in flight.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::contract::Trigger;
use super::executor::Failure;
use super::loader::Revision;

/// Where a plugin's current bytes came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "path")]
pub enum Source {
    /// Embedded in the `reveille` binary.
    Builtin,
    /// A `.wasm` file in this node's plugins directory.
    File(PathBuf),
    /// Uploaded through the API and kept in the database: served by every node.
    Uploaded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginState {
    /// Serving evaluations.
    Active,
    /// Not serving: switched off by an admin, or stopped after too many recent failures;
    /// `enable` (or, for failures, a new revision) revives it.
    Disabled,
    /// Never loaded successfully; the last error says why.
    Failed,
}

#[derive(Debug, Clone, Serialize)]
pub struct LastError {
    pub at: jiff::Timestamp,
    pub message: String,
}

impl LastError {
    fn now(message: String) -> Self {
        LastError {
            at: jiff::Timestamp::now(),
            message,
        }
    }
}

/// When a plugin is disabled: `failures` of its last `window` calls failed, or those
/// `window` calls took more than the plugin's `slow_after` on average (a plugin that is
/// never late but always slow holds every evaluation up as surely as one that fails).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthPolicy {
    pub failures: u32,
    pub window: u32,
}

/// Why the host stopped a plugin serving (an admin's switch is not this).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "why", rename_all = "kebab-case")]
pub enum Stopped {
    /// `failed` of its last `window` calls failed.
    Failing { failed: usize, window: usize },
    /// Its last `calls` calls took `mean` on average, over its bound.
    Slow {
        #[serde(rename = "mean_ms", serialize_with = "as_millis")]
        mean: Duration,
        #[serde(rename = "bound_ms", serialize_with = "as_millis")]
        bound: Duration,
        calls: usize,
    },
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(millis(*d))
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stopped::Failing { failed, window } => {
                write!(f, "{failed} of its last {window} calls failed")
            }
            Stopped::Slow { mean, bound, calls } => write!(
                f,
                "too slow: its last {calls} calls took {:.1} ms on average, over the bound of {} ms (runtime.slow_after)",
                mean.as_secs_f64() * 1000.0,
                bound.as_millis()
            ),
        }
    }
}

/// One call as health counts it.
#[derive(Debug, Clone, Copy)]
struct Call {
    failed: bool,
    elapsed: Duration,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy {
            failures: 3,
            window: 10,
        }
    }
}

/// Counters for one plugin name.
#[derive(Debug, Default)]
pub struct Health {
    evaluations: AtomicU64,
    failures: AtomicU64,
    /// Time spent in its calls, in nanoseconds: what it costs the evaluations.
    busy_nanos: AtomicU64,
    /// The latest calls that count, newest last.
    recent: Mutex<VecDeque<Call>>,
    /// Read on every evaluation; `stopped` says why.
    disabled: AtomicBool,
    stopped: Mutex<Option<Stopped>>,
    last_error: Mutex<Option<LastError>>,
    /// Clients whose own settings this plugin refuses, with what it said.
    bad_settings: Mutex<BTreeMap<String, LastError>>,
}

impl Health {
    fn set_error(&self, message: String) {
        *self.last_error.lock().expect("health lock") = Some(LastError::now(message));
    }

    /// Records one call's outcome and how long it took (`slow_after`: the plugin's bound
    /// on the mean); returns why, when this call stopped the plugin. Failures that are not
    /// the plugin's doing are kept as its last error but judged neither way.
    pub fn record(
        &self,
        outcome: Result<(), &Failure>,
        elapsed: Duration,
        policy: HealthPolicy,
        slow_after: Duration,
    ) -> Option<Stopped> {
        self.evaluations.fetch_add(1, Ordering::Relaxed);
        self.busy_nanos.fetch_add(
            u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        let failed = match outcome {
            Ok(()) => false,
            Err(failure) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                self.set_error(failure.to_string());
                if !failure.kind.blames_plugin() {
                    return None;
                }
                true
            }
        };
        let window = policy.window as usize;
        let mut recent = self.recent.lock().expect("health lock");
        recent.push_back(Call { failed, elapsed });
        while recent.len() > window {
            recent.pop_front();
        }
        let failed_calls = recent.iter().filter(|c| c.failed).count();
        let verdict = if failed && failed_calls >= policy.failures as usize {
            Some(Stopped::Failing {
                failed: failed_calls,
                window,
            })
        } else if recent.len() == window
            && let mean = mean(&recent)
            && mean > slow_after
        {
            Some(Stopped::Slow {
                mean,
                bound: slow_after,
                calls: window,
            })
        } else {
            None
        };
        drop(recent);
        let verdict = verdict.filter(|_| !self.disabled.swap(true, Ordering::Relaxed))?;
        *self.stopped.lock().expect("health lock") = Some(verdict.clone());
        Some(verdict)
    }

    /// Notes that `client`'s settings are refused (`Some`) or accepted again (`None`).
    pub fn settings_verdict(&self, client: &str, refused: Option<&Failure>) {
        let mut bad = self.bad_settings.lock().expect("health lock");
        match refused {
            Some(failure) => {
                bad.insert(client.to_string(), LastError::now(failure.message.clone()));
            }
            None => {
                bad.remove(client);
            }
        }
    }

    /// What this plugin said about `client`'s settings, if it refuses them.
    pub fn settings_error(&self, client: &str) -> Option<LastError> {
        self.bad_settings
            .lock()
            .expect("health lock")
            .get(client)
            .cloned()
    }

    fn revive(&self) {
        self.recent.lock().expect("health lock").clear();
        *self.stopped.lock().expect("health lock") = None;
        self.disabled.store(false, Ordering::Relaxed);
    }

    fn recent_failures(&self) -> usize {
        let recent = self.recent.lock().expect("health lock");
        recent.iter().filter(|c| c.failed).count()
    }

    fn busy(&self) -> Duration {
        Duration::from_nanos(self.busy_nanos.load(Ordering::Relaxed))
    }

    /// What this plugin costs: its mean call overall and lately, and its share of the
    /// time every plugin's calls took (`all`).
    fn cost(&self, all: Duration) -> Cost {
        let calls = self.evaluations.load(Ordering::Relaxed);
        let busy = self.busy();
        let recent = self.recent.lock().expect("health lock");
        Cost {
            mean_ms: millis(busy.checked_div(calls as u32).unwrap_or_default()),
            recent_mean_ms: (!recent.is_empty()).then(|| millis(mean(&recent))),
            share: if all.is_zero() {
                0.0
            } else {
                (busy.as_secs_f64() / all.as_secs_f64() * 1000.0).round() / 1000.0
            },
        }
    }
}

fn mean(calls: &VecDeque<Call>) -> Duration {
    calls.iter().map(|c| c.elapsed).sum::<Duration>() / calls.len().max(1) as u32
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e5).round() / 100.0
}

/// What a plugin's calls cost the evaluations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cost {
    /// Its mean call since it was loaded, in milliseconds.
    pub mean_ms: f64,
    /// Its mean over the calls health judges (the last `health_window`).
    pub recent_mean_ms: Option<f64>,
    /// Its part of all plugins' call time on this node since it started, from 0 to 1.
    pub share: f64,
}

struct Slot {
    revision: Option<Arc<Revision>>,
    source: Source,
    /// The built-in of this name, kept while an override serves in its place.
    builtin: Option<Arc<Revision>>,
    /// sha256 and source of the last bytes tried for this name, loaded or not, so the
    /// same bad file is not retried on every directory event.
    attempted: (String, Source),
    health: Arc<Health>,
    /// Switched off by an admin (persisted by the caller).
    switched_off: bool,
    /// Cancelled to end the calls in flight; replaced by a fresh token afterwards.
    stop: CancellationToken,
}

impl Slot {
    fn new(source: Source, attempted: (String, Source)) -> Slot {
        Slot {
            revision: None,
            source,
            builtin: None,
            attempted,
            health: Arc::default(),
            switched_off: false,
            stop: CancellationToken::new(),
        }
    }

    fn stop_calls(&mut self) {
        std::mem::replace(&mut self.stop, CancellationToken::new()).cancel();
    }
}

/// The built-in a listed plugin overrides.
#[derive(Debug, Clone, Serialize)]
pub struct Overridden {
    pub version: String,
    pub sha256: String,
}

/// A client whose settings a plugin refuses.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsError {
    pub client: String,
    pub at: jiff::Timestamp,
    pub message: String,
}

/// A plugin as the admin sees it.
#[derive(Debug, Clone, Serialize)]
pub struct PluginStatus {
    pub name: String,
    pub state: PluginState,
    /// Why it is disabled.
    pub disabled: Option<String>,
    /// Why the host (not an admin) stopped it: failing or too slow.
    pub stopped: Option<Stopped>,
    /// What its calls cost.
    pub cost: Cost,
    pub version: Option<String>,
    pub description: Option<String>,
    pub sha256: Option<String>,
    pub api_version: Option<String>,
    pub triggers: Vec<Trigger>,
    pub config: Vec<super::contract::ConfigKey>,
    pub source: Source,
    /// Set when this upload or file serves in place of the built-in of the same name;
    /// removing it brings the built-in back.
    pub overrides_builtin: Option<Overridden>,
    pub loaded_at: Option<jiff::Timestamp>,
    pub compile_ms: Option<u128>,
    pub from_cache: Option<bool>,
    pub evaluations: u64,
    pub failures: u64,
    /// Failed calls among the latest `health_window` that count.
    pub recent_failures: usize,
    pub last_error: Option<LastError>,
    pub settings_errors: Vec<SettingsError>,
}

impl PluginStatus {
    /// What an admin can do to it now: switch it on or off, whichever it is not, and
    /// delete it unless it is built into the binary (deleting one of those is refused).
    pub fn actions(&self) -> Vec<&'static str> {
        let mut actions = vec![if self.disabled.is_some() {
            "enable"
        } else {
            "disable"
        }];
        if !matches!(self.source, Source::Builtin) {
            actions.push("delete");
        }
        actions
    }
}

/// An active revision, the health it reports to and the token that stops its calls.
#[derive(Clone)]
pub struct Active {
    pub revision: Arc<Revision>,
    pub health: Arc<Health>,
    pub stop: CancellationToken,
}

/// What [`Registry::remove`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Gone; its calls in flight were stopped.
    Unloaded,
    /// The override is gone and the built-in serves again.
    BuiltinRestored,
    /// A built-in with no override: it can be switched off, not removed.
    Builtin,
    NotFound,
}

#[derive(Default)]
pub struct Registry {
    slots: RwLock<BTreeMap<String, Slot>>,
    policy: HealthPolicy,
}

impl Registry {
    pub fn new(policy: HealthPolicy) -> Self {
        Registry {
            slots: RwLock::default(),
            policy,
        }
    }

    pub fn policy(&self) -> HealthPolicy {
        self.policy
    }

    /// Makes `revision` the one serving `name`. A built-in arriving where an override
    /// already serves is kept behind it.
    pub fn install(&self, name: &str, revision: Arc<Revision>, source: Source) {
        let mut slots = self.slots.write().expect("registry lock");
        let attempted = (revision.sha256.clone(), source.clone());
        let slot = slots
            .entry(name.to_string())
            .or_insert_with(|| Slot::new(source.clone(), attempted.clone()));
        if source == Source::Builtin {
            slot.builtin = Some(revision.clone());
            if slot.revision.is_some() && slot.source != Source::Builtin {
                return;
            }
        }
        slot.revision = Some(revision);
        slot.source = source;
        slot.attempted = attempted;
        slot.health.revive();
    }

    /// Records a failed load. A revision already serving `name` keeps serving.
    pub fn record_load_failure(&self, name: &str, sha256: &str, source: Source, error: String) {
        let mut slots = self.slots.write().expect("registry lock");
        let attempted = (sha256.to_string(), source.clone());
        let slot = slots
            .entry(name.to_string())
            .or_insert_with(|| Slot::new(source.clone(), attempted.clone()));
        if slot.revision.is_none() {
            slot.source = source;
        }
        slot.attempted = attempted;
        slot.health.set_error(format!("load failed: {error}"));
    }

    /// Unloads `name`, or its override.
    pub fn remove(&self, name: &str) -> Removal {
        let mut slots = self.slots.write().expect("registry lock");
        let Some(slot) = slots.get_mut(name) else {
            return Removal::NotFound;
        };
        match (&slot.source, slot.builtin.clone()) {
            (Source::Builtin, Some(_)) => Removal::Builtin,
            (_, Some(builtin)) => {
                slot.attempted = (builtin.sha256.clone(), Source::Builtin);
                slot.revision = Some(builtin);
                slot.source = Source::Builtin;
                slot.health.revive();
                Removal::BuiltinRestored
            }
            (_, None) => {
                if let Some(mut slot) = slots.remove(name) {
                    slot.stop_calls();
                }
                Removal::Unloaded
            }
        }
    }

    /// Switches `name` off (`on: false`) or back on, reviving one disabled for failures
    /// too; false if no revision is loaded under that name.
    pub fn switch(&self, name: &str, on: bool) -> bool {
        let mut slots = self.slots.write().expect("registry lock");
        match slots.get_mut(name) {
            Some(slot) if slot.revision.is_some() => {
                slot.switched_off = !on;
                if on {
                    slot.health.revive();
                } else {
                    slot.stop_calls();
                }
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
            .filter(|slot| !slot.switched_off && !slot.health.disabled.load(Ordering::Relaxed))
            .filter_map(|slot| {
                let revision = slot.revision.as_ref()?;
                revision.descriptor.wants(trigger).then(|| Active {
                    revision: revision.clone(),
                    health: slot.health.clone(),
                    stop: slot.stop.clone(),
                })
            })
            .collect()
    }

    /// The revision serving as `name`, if one is loaded.
    pub fn revision(&self, name: &str) -> Option<Arc<Revision>> {
        let slots = self.slots.read().expect("registry lock");
        slots.get(name)?.revision.clone()
    }

    /// The health record of `name`, if it is known.
    pub fn health(&self, name: &str) -> Option<Arc<Health>> {
        let slots = self.slots.read().expect("registry lock");
        slots.get(name).map(|s| s.health.clone())
    }

    /// What each plugin that refuses `client`'s settings said, by plugin.
    pub fn settings_errors_for(&self, client: &str) -> Vec<(String, LastError)> {
        let slots = self.slots.read().expect("registry lock");
        slots
            .iter()
            .filter_map(|(name, slot)| Some((name.clone(), slot.health.settings_error(client)?)))
            .collect()
    }

    /// Whether the built-in of this name is what serves it (no override in its place).
    pub fn builtin_serves(&self, name: &str) -> bool {
        let slots = self.slots.read().expect("registry lock");
        slots
            .get(name)
            .is_some_and(|s| s.builtin.is_some() && s.source == Source::Builtin)
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
                Source::Builtin | Source::Uploaded => None,
            })
            .collect()
    }

    /// Names served by an upload (a failed upload of a new name serves nothing and is
    /// kept as its error, as any failed load is).
    pub fn uploaded(&self) -> Vec<String> {
        let slots = self.slots.read().expect("registry lock");
        slots
            .iter()
            .filter(|(_, slot)| slot.source == Source::Uploaded && slot.revision.is_some())
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Where `name`'s serving bytes came from.
    pub fn source(&self, name: &str) -> Option<Source> {
        let slots = self.slots.read().expect("registry lock");
        slots.get(name).map(|slot| slot.source.clone())
    }

    /// Names an admin switched off (on this node).
    pub fn switched_off(&self) -> Vec<String> {
        let slots = self.slots.read().expect("registry lock");
        slots
            .iter()
            .filter(|(_, slot)| slot.switched_off)
            .map(|(name, _)| name.clone())
            .collect()
    }

    pub fn status(&self, name: &str) -> Option<PluginStatus> {
        let slots = self.slots.read().expect("registry lock");
        let all = busy(&slots);
        slots.get(name).map(|slot| status_of(name, slot, all))
    }

    /// Every plugin's name, in order: the choices of a filter by check.
    pub fn names(&self) -> Vec<String> {
        self.slots
            .read()
            .expect("registry lock")
            .keys()
            .cloned()
            .collect()
    }

    pub fn list(&self) -> Vec<PluginStatus> {
        let slots = self.slots.read().expect("registry lock");
        let all = busy(&slots);
        slots
            .iter()
            .map(|(name, slot)| status_of(name, slot, all))
            .collect()
    }
}

/// Time every plugin's calls took.
fn busy(slots: &BTreeMap<String, Slot>) -> Duration {
    slots.values().map(|slot| slot.health.busy()).sum()
}

fn status_of(name: &str, slot: &Slot, all: Duration) -> PluginStatus {
    let health = &slot.health;
    let revision = slot.revision.as_deref();
    let stopped = health.stopped.lock().expect("health lock").clone();
    let disabled = if slot.switched_off {
        Some("switched off by an admin".to_string())
    } else {
        stopped.as_ref().map(ToString::to_string)
    };
    let state = match (revision, &disabled) {
        (None, _) => PluginState::Failed,
        (Some(_), Some(_)) => PluginState::Disabled,
        (Some(_), None) => PluginState::Active,
    };
    let overrides_builtin = match (&slot.source, &slot.builtin) {
        (Source::File(_) | Source::Uploaded, Some(builtin)) => Some(Overridden {
            version: builtin.descriptor.version.clone(),
            sha256: builtin.sha256.clone(),
        }),
        _ => None,
    };
    let settings_errors = health
        .bad_settings
        .lock()
        .expect("health lock")
        .iter()
        .map(|(client, error)| SettingsError {
            client: client.clone(),
            at: error.at,
            message: error.message.clone(),
        })
        .collect();
    PluginStatus {
        name: name.to_string(),
        state,
        disabled,
        stopped: stopped.filter(|_| !slot.switched_off),
        cost: health.cost(all),
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
        overrides_builtin,
        loaded_at: revision.map(|r| r.loaded_at),
        compile_ms: revision.map(|r| r.compile_time.as_millis()),
        from_cache: revision.map(|r| r.cache == super::cache::CacheOutcome::Hit),
        evaluations: health.evaluations.load(Ordering::Relaxed),
        failures: health.failures.load(Ordering::Relaxed),
        recent_failures: health.recent_failures(),
        last_error: health.last_error.lock().expect("health lock").clone(),
        settings_errors,
    }
}

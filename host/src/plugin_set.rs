//! The installed set of plugins, the same on every node: what admins uploaded through the
//! API and what they switched off, kept in the database.
//!
//! An upload is loaded where it arrives (every check before anything is kept: a refused
//! upload changes nothing anywhere), then stored, and the other nodes are told; each node
//! makes its registry match the database ([`PluginSet::sync`]): it loads what it lacks from
//! the stored bytes (compiling into its own cache), unloads what was removed and applies
//! the switches. It does so at start, when told, and every [`SYNC_EVERY`], so a node that
//! missed a notification, or was down, catches up. Files in a node's plugins directory are
//! that node's own (`plugins::directory`); a file named like an upload waits behind it.
//!
//! It owns what an admin does to plugins (install, remove, switch, and the rule that a
//! built-in is replaced only on purpose), for the API and the admin page alike, and is the
//! one place a plugin's going away retires its alerts: the node that takes an admin's
//! change resolves the plugin's open alerts at once; the engine, when its own sync
//! switches the plugin off or unloads it, resolves whatever its evaluations opened in
//! between; a file deleted from a node's directory by hand retires them too.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use crate::alerting::Alerting;
use crate::alerts::Resolution;
use crate::clock::SharedClock;
use crate::cluster::{Cluster, Role, Topic};
use crate::plugins::directory::PluginDir;
use crate::plugins::loader::valid_name;
use crate::plugins::{Failure, FailureKind, LoadError, PluginStatus, Removal, Runtime, Source};
use crate::store::{Store, StoreError};
use crate::tasks::Tasks;

/// How often a node compares its plugins with the database even if nobody said so.
const SYNC_EVERY: Duration = Duration::from_secs(5);

pub struct PluginSet {
    runtime: Arc<Runtime>,
    dir: Arc<PluginDir>,
    store: Store,
    cluster: Arc<Cluster>,
    alerting: Arc<Alerting>,
    clock: SharedClock,
    /// Orders this node's uploads, removals, switches and syncs.
    changes: Mutex<()>,
}

/// Why an upload was not installed. Each says what and where in words for the admin; the
/// API and the admin page give them as they are.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{}", LoadError::BadName(.0.clone()))]
    BadName(String),
    #[error("empty body: send the component's bytes (Content-Type: application/wasm)")]
    Empty,
    /// A built-in serves under the name, and the upload did not say to override it.
    #[error(
        "`{0}` is a built-in check: to serve your build in its place, upload it with \
         ?override=builtin (DELETE /api/v1/plugins/{0} later brings the built-in back)"
    )]
    Builtin(String),
    /// The component was refused; `serving` is the revision that keeps serving, if any.
    #[error("plugin `{name}` refused: {error}{}", serving.as_deref().map(|sha| format!("; the previous revision ({}) keeps serving", &sha[..12.min(sha.len())])).unwrap_or_default())]
    Refused {
        name: String,
        error: LoadError,
        serving: Option<String>,
    },
    #[error("the plugin loaded but could not be kept: {0}")]
    Store(#[from] StoreError),
}

/// A plugin installed by [`PluginSet::install`].
pub struct Installed {
    pub status: PluginStatus,
    /// The revision it replaced, if another.
    pub replaced: Option<String>,
    /// Nothing served under its name before.
    pub new: bool,
}

/// What [`PluginSet::remove`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    /// Unloaded everywhere; its open alerts resolved, this many.
    Unloaded { alerts_resolved: usize },
    /// An override removed: the built-in serves again, its alerts carry on.
    BuiltinRestored,
}

impl PluginSet {
    pub fn new(
        runtime: Arc<Runtime>,
        dir: Arc<PluginDir>,
        store: Store,
        cluster: Arc<Cluster>,
        alerting: Arc<Alerting>,
        clock: SharedClock,
    ) -> Arc<Self> {
        Arc::new(PluginSet {
            runtime,
            dir,
            store,
            cluster,
            alerting,
            clock,
            changes: Mutex::new(()),
        })
    }

    /// Validates, compiles, smoke-tests and swaps in `bytes` as plugin `name` and, once it
    /// serves here, keeps it for every node; the previous revision keeps serving unless
    /// every step passes. A built-in is replaced only when `overriding`; replacing an
    /// override already serving needs no second confirmation. If the upload cannot be
    /// kept, this node goes back to what the database says.
    pub async fn install(
        &self,
        name: &str,
        bytes: Vec<u8>,
        overriding: bool,
    ) -> Result<Installed, InstallError> {
        if !valid_name(name) {
            return Err(InstallError::BadName(name.into()));
        }
        if bytes.is_empty() {
            return Err(InstallError::Empty);
        }
        let registry = self.runtime.registry();
        if registry.builtin_serves(name) && !overriding {
            return Err(InstallError::Builtin(name.into()));
        }
        let previous = registry.status(name).and_then(|s| s.sha256);
        let _changes = self.changes.lock().await;
        let revision = match self.runtime.upload(name, bytes.clone()).await {
            Ok(revision) => revision,
            Err(error) => {
                return Err(InstallError::Refused {
                    name: name.into(),
                    error,
                    serving: previous,
                });
            }
        };
        let kept = self
            .store
            .put_uploaded_plugin(name, &revision.sha256, &bytes, self.clock.now_ms())
            .await;
        if let Err(error) = kept {
            if let Err(again) = self.apply().await {
                tracing::warn!(error = %again, plugin = name, "cannot read the installed set back; the upload serves on this node until it can");
            }
            return Err(error.into());
        }
        self.cluster.publish(Topic::Plugins);
        if let Err(error) = self.check_client_settings(Some(name)).await {
            tracing::warn!(plugin = name, %error, "cannot check the clients' stored settings against the new revision");
        }
        let status = registry.status(name).ok_or_else(|| {
            StoreError::Corrupt(format!("plugin `{name}` vanished right after loading"))
        })?;
        Ok(Installed {
            status,
            new: previous.is_none(),
            replaced: previous.filter(|sha| *sha != revision.sha256),
        })
    }

    /// Checks every client's stored settings for plugin `only` (every plugin, when none)
    /// against the types its serving revision declares. A client whose settings a new
    /// revision no longer takes is listed under the plugin's `settings_errors` at once,
    /// as a refused evaluation would list it, and logged.
    pub async fn check_client_settings(&self, only: Option<&str>) -> Result<(), StoreError> {
        let registry = self.runtime.registry();
        for (client, settings) in self.store.every_client_settings().await? {
            for (plugin, values) in settings {
                if only.is_some_and(|only| only != plugin) {
                    continue;
                }
                let (Some(revision), Some(health)) =
                    (registry.revision(&plugin), registry.health(&plugin))
                else {
                    continue;
                };
                let Err(error) = revision.descriptor.check_settings(&values, "") else {
                    continue;
                };
                tracing::warn!(%plugin, %client, %error, "a client's stored settings do not suit the plugin's declared types");
                let failure = Failure::new(
                    FailureKind::BadSettings,
                    format!("the settings of client `{client}`: {error}"),
                );
                health.settings_verdict(&client, Some(&failure));
            }
        }
        Ok(())
    }

    /// Removes the upload named `name` (on every node) and this node's file of that name;
    /// its findings go and its open alerts resolve, saying why. An override's removal
    /// brings the built-in back (its alerts carry on). A plugin gone for good forgets its
    /// switch, so one installed again later under that name starts on.
    pub async fn remove(&self, name: &str) -> Result<Removed, RemoveError> {
        let removal = {
            let _changes = self.changes.lock().await;
            let stored = self.store.delete_uploaded_plugin(name).await?;
            let removal = match self.dir.remove(name).await.map_err(RemoveError::File)? {
                Removal::NotFound if stored => Removal::Unloaded,
                removal => removal,
            };
            if removal == Removal::Unloaded {
                self.store
                    .set_plugin_switch(name, false, self.clock.now_ms())
                    .await?;
            }
            if stored || removal == Removal::Unloaded {
                self.cluster.publish(Topic::Plugins);
            }
            // A file of this name waited behind the upload: it serves now.
            self.dir.reconcile().await;
            removal
        };
        match removal {
            Removal::Unloaded => Ok(Removed::Unloaded {
                alerts_resolved: self.retire(name, Resolution::PluginRemoved).await?,
            }),
            Removal::BuiltinRestored => Ok(Removed::BuiltinRestored),
            Removal::Builtin => Err(RemoveError::Builtin(name.into())),
            Removal::NotFound => Err(RemoveError::NotFound(name.into())),
        }
    }

    /// A plugin file deleted from this node's directory by hand: its alerts retire as a
    /// removal's do.
    pub async fn file_removed(&self, name: &str) -> Result<usize, StoreError> {
        self.retire(name, Resolution::PluginRemoved).await
    }

    /// Resolves plugin `name`'s open alerts with `why` and removes its findings: the one
    /// place a plugin's going away reaches its alerts. Returns how many resolved.
    async fn retire(&self, name: &str, why: Resolution) -> Result<usize, StoreError> {
        self.alerting.retire_plugin(name, why).await
    }

    /// Switches plugin `name` on or off on every node, built-ins included, until switched
    /// again (restarts too). Switched off, its calls in flight stop and its open alerts
    /// resolve, saying so; returns how many.
    pub async fn switch(&self, name: &str, on: bool) -> Result<usize, SwitchError> {
        {
            let _changes = self.changes.lock().await;
            if self.runtime.registry().revision(name).is_none() {
                return Err(SwitchError::NotLoaded(name.into()));
            }
            self.store
                .set_plugin_switch(name, !on, self.clock.now_ms())
                .await?;
            self.runtime.registry().switch(name, on);
            self.cluster.publish(Topic::Plugins);
        }
        if on {
            return Ok(0);
        }
        Ok(self.retire(name, Resolution::PluginSwitchedOff).await?)
    }

    /// Makes this node serve the installed set as the database has it now.
    pub async fn sync(&self) -> Result<(), StoreError> {
        let _changes = self.changes.lock().await;
        self.apply().await
    }

    async fn apply(&self) -> Result<(), StoreError> {
        let registry = self.runtime.registry();
        let uploads = self.store.uploaded_plugins().await?;
        let mut retired = Vec::new();
        for (name, sha256) in &uploads {
            if registry.attempted(name) == Some((sha256.clone(), Source::Uploaded)) {
                continue;
            }
            // Changed again since it was listed: the next sync takes the newer one.
            let Some((_, bytes)) = self.store.uploaded_plugin(name).await? else {
                continue;
            };
            if let Err(error) = self.runtime.load(name, bytes, Source::Uploaded).await {
                tracing::warn!(plugin = %name, %error, "an upload another node took does not load here");
            }
        }
        let mut freed = false;
        for name in registry.uploaded() {
            if uploads.iter().any(|(n, _)| *n == name) {
                continue;
            }
            freed = true;
            if self.runtime.unload(&name) == Removal::Unloaded {
                retired.push((name, Resolution::PluginRemoved));
            }
        }
        if freed {
            // A file of a removed upload's name serves now.
            self.dir.reconcile().await;
        }
        let off: BTreeSet<String> = self
            .store
            .switched_off_plugins()
            .await?
            .into_iter()
            .collect();
        let was_off: BTreeSet<String> = registry.switched_off().into_iter().collect();
        for name in off.difference(&was_off) {
            if registry.switch(name, false) {
                tracing::info!(plugin = %name, "plugin switched off, as an admin asked");
                retired.push((name.clone(), Resolution::PluginSwitchedOff));
            }
        }
        for name in was_off.difference(&off) {
            registry.switch(name, true);
            tracing::info!(plugin = %name, "plugin switched on again, as an admin asked");
        }
        // What this node's evaluations opened since the admin's node retired the plugin.
        if self.cluster.holds(Role::Engine) {
            for (name, why) in retired {
                self.retire(&name, why).await?;
            }
        }
        Ok(())
    }

    /// On a shared database, keeps this node in step with the others, in `tasks`.
    pub fn spawn(self: &Arc<Self>, tasks: &Tasks) {
        if !self.cluster.shared() {
            return;
        }
        let set = self.clone();
        let told = self.cluster.heard(Topic::Plugins);
        let stop = tasks.clone();
        tasks.spawn(async move {
            loop {
                tokio::select! {
                    () = told.notified() => {}
                    () = tokio::time::sleep(SYNC_EVERY) => {}
                    () = stop.stopping() => return,
                }
                if let Err(error) = set.sync().await {
                    tracing::warn!(%error, "cannot read the installed plugins; trying again soon");
                }
            }
        });
    }
}

/// Why a removal did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    #[error("no plugin named `{0}`")]
    NotFound(String),
    #[error(
        "`{0}` is a built-in check and cannot be removed; switch it off with \
         POST /api/v1/plugins/{0}/disable"
    )]
    Builtin(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot delete the plugin file: {0}")]
    File(std::io::Error),
}

/// Why a switch did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SwitchError {
    #[error("no loaded plugin named `{0}`")]
    NotLoaded(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

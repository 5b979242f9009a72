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
//! The node that takes an admin's change resolves the plugin's open alerts at once; the
//! engine, when its own sync switches the plugin off or unloads it, resolves whatever its
//! evaluations opened in between.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use crate::alerting::Alerting;
use crate::alerts::resolution;
use crate::clock::SharedClock;
use crate::cluster::{Cluster, Role, Topic};
use crate::plugins::directory::PluginDir;
use crate::plugins::loader::Revision;
use crate::plugins::{Failure, FailureKind, LoadError, Removal, Runtime, Source};
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

/// Why an upload was not installed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("the plugin loaded but could not be kept: {0}")]
    Store(#[from] StoreError),
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

    /// Loads `bytes` as plugin `name` and, once it serves here, keeps it for every node.
    /// If it cannot be kept, this node goes back to what the database says.
    pub async fn install(&self, name: &str, bytes: Vec<u8>) -> Result<Arc<Revision>, InstallError> {
        let _changes = self.changes.lock().await;
        let revision = self.runtime.upload(name, bytes.clone()).await?;
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
        Ok(revision)
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
    /// an override's removal brings the built-in back. A plugin gone for good forgets its
    /// switch, so one installed again later under that name starts on.
    pub async fn remove(&self, name: &str) -> Result<Removal, RemoveError> {
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
        Ok(removal)
    }

    /// Switches plugin `name` on or off on every node; false if no plugin of that name
    /// serves here.
    pub async fn switch(&self, name: &str, on: bool) -> Result<bool, StoreError> {
        let _changes = self.changes.lock().await;
        if self.runtime.registry().revision(name).is_none() {
            return Ok(false);
        }
        self.store
            .set_plugin_switch(name, !on, self.clock.now_ms())
            .await?;
        self.runtime.registry().switch(name, on);
        self.cluster.publish(Topic::Plugins);
        Ok(true)
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
                retired.push((name, resolution::PLUGIN_REMOVED));
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
                retired.push((name.clone(), resolution::PLUGIN_SWITCHED_OFF));
            }
        }
        for name in was_off.difference(&off) {
            registry.switch(name, true);
            tracing::info!(plugin = %name, "plugin switched on again, as an admin asked");
        }
        // What this node's evaluations opened since the admin's node retired the plugin.
        if self.cluster.holds(Role::Engine) {
            for (name, why) in retired {
                self.alerting.retire_plugin(&name, why).await?;
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
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot delete the plugin file: {0}")]
    File(std::io::Error),
}

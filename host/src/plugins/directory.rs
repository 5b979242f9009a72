//! The plugins directory: this node's own plugins, beside the uploads every node serves
//! (`plugin_set`).
//!
//! A `.wasm` file dropped in is loaded as the plugin named by its file stem, a changed
//! file is reloaded, a removed file unloads its plugin. Watch events are debounced, then
//! the directory is reconciled as a whole, so a burst of partial writes ends in one load
//! of the final bytes. One lock orders removals and reconciles, so the registry and the
//! directory never disagree for long. A file named like a built-in overrides it; removing
//! the file brings the built-in back. A file named like an upload waits behind it: the
//! upload is what the cluster was asked to serve.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::{Mutex, mpsc};

use super::cache::sha256_hex;
use super::loader::valid_name;
use super::registry::{Removal, Source};
use super::runtime::Runtime;

/// Quiet time after the last event before the directory is read.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

pub struct PluginDir {
    dir: PathBuf,
    runtime: Arc<Runtime>,
    changes: Mutex<()>,
}

/// The plugin name a file in the plugins directory stands for, if it is a plugin file.
pub fn plugin_name(path: &Path) -> Option<String> {
    if path.extension()? != "wasm" {
        return None;
    }
    let stem = path.file_stem()?.to_str()?;
    valid_name(stem).then(|| stem.to_string())
}

impl PluginDir {
    pub fn new(dir: PathBuf, runtime: Arc<Runtime>) -> std::io::Result<Arc<Self>> {
        std::fs::create_dir_all(&dir)?;
        Ok(Arc::new(PluginDir {
            dir,
            runtime,
            changes: Mutex::new(()),
        }))
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Unloads `name` and deletes its file, if it has one; an override's removal brings
    /// the built-in back, and a built-in itself has no file and is not removed.
    pub async fn remove(&self, name: &str) -> std::io::Result<Removal> {
        let _changes = self.changes.lock().await;
        let file = self
            .runtime
            .registry()
            .file_backed()
            .into_iter()
            .find_map(|(n, path)| (n == name).then_some(path));
        if let Some(path) = file {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(self.runtime.unload(name))
    }

    /// Loads what is in the directory now and what lands there later; names each plugin
    /// unloaded because its file was deleted to `removed` (whose alerts must resolve).
    /// Runs until the watcher fails.
    pub async fn watch(
        self: Arc<Self>,
        removed: mpsc::UnboundedSender<String>,
    ) -> anyhow::Result<()> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut watcher = notify::recommended_watcher(move |event| {
            let _ = tx.send(event);
        })?;
        watcher.watch(&self.dir, RecursiveMode::NonRecursive)?;
        let reconcile = async || {
            for name in self.reconcile().await {
                let _ = removed.send(name);
            }
        };
        reconcile().await;
        while rx.recv().await.is_some() {
            while let Ok(Some(_)) = tokio::time::timeout(DEBOUNCE, rx.recv()).await {}
            reconcile().await;
        }
        Ok(())
    }

    /// Makes the registry match the directory: load new or changed files, unload plugins
    /// whose file is gone. Returns the plugins unloaded for good (not an override whose
    /// built-in serves again).
    pub async fn reconcile(&self) -> Vec<String> {
        let _changes = self.changes.lock().await;
        let present: Vec<(String, PathBuf)> = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter_map(|path| plugin_name(&path).map(|name| (name, path)))
                .collect(),
            Err(error) => {
                tracing::warn!(%error, dir = %self.dir.display(), "cannot read the plugins directory");
                return Vec::new();
            }
        };
        let registry = self.runtime.registry();
        for (name, path) in &present {
            if registry.source(name) == Some(Source::Uploaded) {
                tracing::info!(plugin = %name, file = %path.display(), "the upload of this name serves; the file waits behind it");
                continue;
            }
            let Ok(bytes) = std::fs::read(path) else {
                continue;
            };
            let source = Source::File(path.clone());
            let unchanged = registry
                .attempted(name)
                .is_some_and(|(sha, from)| from == source && sha == sha256_hex(&bytes));
            if !unchanged {
                let _ = self.runtime.load(name, bytes, source).await;
            }
        }
        let mut unloaded = Vec::new();
        for (name, path) in registry.file_backed() {
            if path.parent() == Some(self.dir.as_path())
                && !present.iter().any(|(n, _)| *n == name)
                && self.runtime.unload(&name) == Removal::Unloaded
            {
                unloaded.push(name);
            }
        }
        unloaded
    }
}

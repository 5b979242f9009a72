//! Compiled plugins on disk, so a restart with the same plugins does not recompile.
//!
//! An entry is keyed by the component's sha256 and the engine's compatibility hash
//! (wasmtime version and every setting that affects code generation). Deserializing
//! machine code is only safe for artifacts this host produced, so every entry carries an
//! HMAC-SHA256 under a key that only the host holds (created on first use, mode 0600);
//! a file that fails the check, whatever put it there, is recompiled, never loaded.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub use reveille_core::contract::sha256_hex;
use wasmtime::Engine;
use wasmtime::component::Component;

type HmacSha256 = Hmac<Sha256>;

const KEY_FILE: &str = "cache.key";
const MAC_LEN: usize = 32;

/// Whether a component came from the cache or was compiled now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheOutcome {
    Hit,
    Compiled,
}

pub struct CompileCache {
    dir: PathBuf,
    key: [u8; 32],
    engine_hash: String,
}

impl CompileCache {
    /// Opens (creating if needed) the cache in `dir` for `engine`.
    pub fn open(dir: &Path, engine: &Engine) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let key = load_or_create_key(&dir.join(KEY_FILE))?;
        let mut hasher = ShaHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_hash = hex::encode(&hasher.0.finalize()[..12]);
        Ok(CompileCache {
            dir: dir.to_path_buf(),
            key,
            engine_hash,
        })
    }

    /// The compiled component for `bytes` (whose sha256 is `sha256`), from the cache when
    /// a valid entry exists, otherwise compiled and stored.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        sha256: &str,
        bytes: &[u8],
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let path = self
            .dir
            .join(format!("{sha256}-{}.cwasm", self.engine_hash));
        if let Some(component) = self.read(engine, &path) {
            return Ok((component, CacheOutcome::Hit));
        }
        let component = Component::new(engine, bytes)?;
        if let Err(error) = self.write(&path, &component) {
            tracing::warn!(%error, path = %path.display(), "could not write the compile cache");
        }
        Ok((component, CacheOutcome::Compiled))
    }

    fn read(&self, engine: &Engine, path: &Path) -> Option<Component> {
        let data = fs::read(path).ok()?;
        if data.len() < MAC_LEN {
            return None;
        }
        let (mac, artifact) = data.split_at(MAC_LEN);
        let mut check = self.mac();
        check.update(artifact);
        if check.verify_slice(mac).is_err() {
            tracing::warn!(path = %path.display(), "compile cache entry failed its integrity check; recompiling");
            return None;
        }
        // SAFETY: the HMAC proves the artifact was written by this host from its own
        // `Component::serialize`, under a key nobody else holds, for this engine's
        // compatibility hash (part of the file name).
        match unsafe { Component::deserialize(engine, artifact) } {
            Ok(component) => Some(component),
            Err(error) => {
                tracing::warn!(%error, path = %path.display(), "compile cache entry unusable; recompiling");
                None
            }
        }
    }

    fn write(&self, path: &Path, component: &Component) -> wasmtime::Result<()> {
        let artifact = component.serialize()?;
        let mut mac = self.mac();
        mac.update(&artifact);
        let tmp = unique_tmp(path);
        let mut file = fs::File::create(&tmp)?;
        file.write_all(&mac.finalize().into_bytes())?;
        file.write_all(&artifact)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        Ok(())
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length")
    }
}

/// A temporary file beside `path` that no other writer uses, so two hosts writing the same
/// entry at once (processes sharing a cache) each rename a whole file into place.
fn unique_tmp(path: &Path) -> PathBuf {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    path.with_extension(format!("{}-{n}.tmp", std::process::id()))
}

/// The cache's key, created on first use. Created whole and only if absent (a hard link
/// does not replace), so hosts opening one cache at once all end up with the same key.
fn load_or_create_key(path: &Path) -> io::Result<[u8; 32]> {
    let read = || {
        fs::read(path)
            .ok()
            .and_then(|existing| <[u8; 32]>::try_from(existing.as_slice()).ok())
    };
    if let Some(key) = read() {
        return Ok(key);
    }
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| io::Error::other(e.to_string()))?;
    let tmp = unique_tmp(path);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(&tmp)?.write_all(&key)?;
    let linked = fs::hard_link(&tmp, path);
    fs::remove_file(&tmp)?;
    match linked {
        Ok(()) => Ok(key),
        // Another host's key got there first, or a short one is left from a crash.
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => match read() {
            Some(theirs) => Ok(theirs),
            None => {
                fs::remove_file(path)?;
                load_or_create_key(path)
            }
        },
        Err(error) => Err(error),
    }
}

/// Feeds `Hash` output into sha256, so the key is stable across Rust versions.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        unreachable!("only the sha256 digest is used")
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

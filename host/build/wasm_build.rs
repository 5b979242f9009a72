//! Builds workspace crates to WebAssembly components from a build script.
//!
//! Shared by `host/build.rs` (the built-in plugins, embedded in the binary) and
//! `tests/build.rs` (test fixtures). The nested cargo uses its own target directory, so it
//! never waits on the lock of the build that runs it, and the `plugin` profile.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const TARGET: &str = "wasm32-wasip2";
pub const PROFILE: &str = "plugin";

/// Crate directories directly under `dir` (each holding a Cargo.toml), sorted by name.
pub fn crates_in(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut crates: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    crates.sort();
    crates
}

/// Builds `packages` for wasm32-wasip2 and returns each one's component path.
pub fn build(workspace: &Path, packages: &[String]) -> Vec<(String, PathBuf)> {
    let target_dir = workspace.join("target").join("wasm-plugins");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args(["build", "--target", TARGET, "--profile", PROFILE])
        .arg("--target-dir")
        .arg(&target_dir);
    for package in packages {
        command.args(["-p", package]);
    }
    // The outer build's settings are for the host, not for wasm: drop them.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let outer = key.starts_with("CARGO_") && key != "CARGO_HOME" && key != "CARGO_MAKEFLAGS";
        if outer
            || matches!(
                &*key,
                "RUSTC_WRAPPER" | "RUSTC_WORKSPACE_WRAPPER" | "RUSTFLAGS"
            )
        {
            command.env_remove(&*key);
        }
    }
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build plugins: {e}"));
    if !status.success() {
        panic!(
            "building plugins for {TARGET} failed (see above). If the target is missing, run \
             `rustup target add {TARGET}`."
        );
    }
    let out = target_dir.join(TARGET).join(PROFILE);
    packages
        .iter()
        .map(|p| (p.clone(), out.join(format!("{}.wasm", p.replace('-', "_")))))
        .collect()
}

/// Asks cargo to rerun the build script when any source a plugin depends on changes.
pub fn rerun_if_changed(workspace: &Path, dirs: &[&str]) {
    for dir in dirs {
        println!("cargo:rerun-if-changed={}", workspace.join(dir).display());
    }
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("Cargo.lock").display()
    );
}

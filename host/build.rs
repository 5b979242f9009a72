//! Builds the built-in plugins (`plugins/*`) to components and embeds them, so the
//! `reveille` binary carries its checks and `cargo run -p reveille -- serve` just works;
//! and lists the SDK's sources and the WIT it builds against, which the binary carries
//! too (`reveille sdk export`), so a plugin author needs nothing from this repository.

#[path = "build/wasm_build.rs"]
mod wasm_build;

use std::fmt::Write;
use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let workspace = Path::new(&manifest)
        .parent()
        .expect("host/ is in the workspace");
    // `migrations` for `sqlx::migrate!`, which embeds them and cannot ask to be rerun.
    wasm_build::rerun_if_changed(workspace, &["plugins", "sdk", "wit", "migrations"]);
    let names: Vec<String> = wasm_build::crates_in(&workspace.join("plugins"))
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let built = wasm_build::build(workspace, &names);
    let mut code = String::from("/// Built-in plugins: name and component bytes.\n");
    code.push_str("pub const BUILTIN_PLUGINS: &[(&str, &[u8])] = &[\n");
    for (name, path) in built {
        writeln!(
            code,
            "    ({name:?}, include_bytes!({:?})),",
            path.display().to_string()
        )
        .expect("write to string");
    }
    code.push_str("];\n");
    let out = std::env::var("OUT_DIR").expect("set by cargo");
    std::fs::write(Path::new(&out).join("builtin_plugins.rs"), code)
        .expect("write builtin_plugins.rs");
    std::fs::write(Path::new(&out).join("sdk_files.rs"), sdk_files(workspace))
        .expect("write sdk_files.rs");
}

/// `SDK_FILES`: every file of the SDK as `reveille sdk export` writes it, by its path
/// relative to the export (`sdk/...`, the WIT at `wit/v1/`, where the SDK finds it), and
/// `CARGO_LOCK`, the versions the SDK was built with, for the crates `plugin new` makes.
/// The scaffold's templates stay behind: the binary uses them, an export does not.
fn sdk_files(workspace: &Path) -> String {
    let mut files = Vec::new();
    for root in ["sdk", "wit/v1"] {
        collect(workspace, &workspace.join(root), &mut files);
    }
    files.sort();
    let mut code = String::from("/// The SDK's files: path in an export, bytes.\n");
    code.push_str("pub const SDK_FILES: &[(&str, &[u8])] = &[\n");
    for (relative, path) in files {
        writeln!(code, "    ({relative:?}, include_bytes!({path:?})),").expect("write to string");
    }
    code.push_str("];\n");
    let lock = workspace.join("Cargo.lock").display().to_string();
    writeln!(
        code,
        "/// The workspace's lock file: the versions the SDK was built with.\n\
         pub const CARGO_LOCK: &str = include_str!({lock:?});"
    )
    .expect("write to string");
    code
}

fn collect(workspace: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target" && path != workspace.join("sdk/template") {
                collect(workspace, &path, out);
            }
            continue;
        }
        let relative = path
            .strip_prefix(workspace)
            .expect("under the workspace")
            .to_string_lossy()
            .replace('\\', "/");
        out.push((relative, path.display().to_string()));
    }
}

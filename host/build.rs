//! Builds the built-in plugins (`plugins/*`) to components and embeds them, so the
//! `reveille` binary carries its checks and `cargo run -p reveille -- serve` just works.

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
}

//! Builds the test fixture plugins (`tests/plugins/*`) and the SDK's examples
//! (`sdk/examples/*`) to components for the tests.

#[path = "../host/build/wasm_build.rs"]
mod wasm_build;

use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let workspace = Path::new(&manifest)
        .parent()
        .expect("tests/ is in the workspace");
    wasm_build::rerun_if_changed(workspace, &["tests/plugins", "sdk", "wit"]);
    let names: Vec<String> = ["tests/plugins", "sdk/examples"]
        .iter()
        .flat_map(|dir| wasm_build::crates_in(&workspace.join(dir)))
        .map(|(name, _)| name)
        .collect();
    let built = wasm_build::build(workspace, &names);
    let dir = built[0].1.parent().expect("components are in a directory");
    println!(
        "cargo:rustc-env=REVEILLE_TEST_PLUGINS_DIR={}",
        dir.display()
    );
}

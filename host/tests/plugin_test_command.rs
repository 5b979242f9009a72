//! `reveille plugin test`: a distributor runs one plugin on one report before shipping it.

use std::path::{Path, PathBuf};
use std::process::Command;

use reveille::plugins::builtin::BUILTIN_PLUGINS;

fn dongle_component(dir: &Path) -> PathBuf {
    let bytes = BUILTIN_PLUGINS
        .iter()
        .find(|(name, _)| *name == "dongle-lost")
        .expect("dongle-lost is built in")
        .1;
    let path = dir.join("dongle-lost.wasm");
    std::fs::write(&path, bytes).unwrap();
    path
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/reports")
        .join(name)
}

fn run(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_reveille"))
        .args(args)
        .output()
        .expect("run reveille");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn prints_findings_for_a_lost_key_and_none_once_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let component = dongle_component(dir.path());
    let lost = fixture("lost-key-evening.xml");
    let (code, out, err) = run(&[
        "plugin".as_ref(),
        "test".as_ref(),
        component.as_os_str(),
        lost.as_os_str(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("plugin dongle-lost"), "{out}");
    assert!(
        out.contains("[Critical] dongle-lost: License dongle lost"),
        "{out}"
    );
    assert!(out.contains("error code 4111"), "{out}");
    assert!(err.is_empty(), "a one-shot command should be quiet: {err}");

    let restored = fixture("key-restored.xml");
    let (code, out, _) = run(&[
        "plugin".as_ref(),
        "test".as_ref(),
        component.as_os_str(),
        restored.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).expect("--json prints JSON");
    assert_eq!(
        json["outcome"]["ok"]["findings"].as_array().unwrap().len(),
        0
    );
}

#[test]
fn says_what_is_wrong_with_a_bad_report_or_component() {
    let dir = tempfile::tempdir().unwrap();
    let component = dongle_component(dir.path());
    let broken = dir.path().join("broken.xml");
    std::fs::write(&broken, "<report schema=\"1\">\n<bases>\n</report>").unwrap();
    let (code, _, err) = run(&[
        "plugin".as_ref(),
        "test".as_ref(),
        component.as_os_str(),
        broken.as_os_str(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("broken.xml: line 3"), "{err}");

    let not_wasm = dir.path().join("not.wasm");
    std::fs::write(&not_wasm, "hello").unwrap();
    let lost = fixture("lost-key-evening.xml");
    let (code, _, err) = run(&[
        "plugin".as_ref(),
        "test".as_ref(),
        not_wasm.as_os_str(),
        lost.as_os_str(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("not a WebAssembly component"), "{err}");

    let (code, _, err) = run(&[
        "plugin".as_ref(),
        "test".as_ref(),
        component.as_os_str(),
        lost.as_os_str(),
        "--config".as_ref(),
        "novalue".as_ref(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("expected key=value"), "{err}");
}

//! What the host learns from a component's bytes before compiling it: the API version the
//! SDK stamped, and whether it imports anything beyond WASI and `reveille:check`.

use reveille::plugins::world::{ApiVersion, InspectError, STAMP_SECTION, inspect};
use reveille_tests::{bare_component, fixture_plugin, with_custom_section};

fn component_importing(interface: &str) -> Vec<u8> {
    let text = format!("(component (import \"{interface}\" (instance)))");
    let bytes = wat::parse_str(&text).expect("valid component text");
    with_custom_section(&bytes, STAMP_SECTION, b"1.0.0")
}

#[test]
fn reads_the_stamp_the_sdk_writes() {
    let inspection = inspect(&fixture_plugin("echo")).unwrap();
    assert_eq!(inspection.api, ApiVersion::V1_2);
    assert_eq!(inspection.stamp.to_string(), "1.2.0");
    assert!(
        inspection
            .imports
            .iter()
            .any(|i| i.starts_with("reveille:check/log@1.2")),
        "{:?}",
        inspection.imports
    );
    let before_log = inspect(&fixture_plugin("legacy-v1-1")).unwrap();
    assert_eq!(before_log.api, ApiVersion::V1_1);
    let legacy = inspect(&fixture_plugin("legacy-v1-0")).unwrap();
    assert_eq!(legacy.api, ApiVersion::V1_0);
    assert_eq!(legacy.stamp.to_string(), "1.0.0");
}

#[test]
fn refuses_other_majors_and_newer_minors() {
    for stamp in ["2.0.0", "1.3.0", "0.9.0"] {
        let err = inspect(&bare_component(&[(STAMP_SECTION, stamp.as_bytes())])).unwrap_err();
        assert!(
            matches!(err, InspectError::Incompatible { .. }),
            "{stamp}: {err}"
        );
        assert!(err.to_string().contains(stamp), "{err}");
    }
    assert!(inspect(&bare_component(&[(STAMP_SECTION, b"1.0.7")])).is_ok());
    assert!(inspect(&bare_component(&[(STAMP_SECTION, b"1.1.3")])).is_ok());
    assert!(inspect(&bare_component(&[(STAMP_SECTION, b"1.2.1")])).is_ok());
}

#[test]
fn refuses_missing_bad_and_conflicting_stamps() {
    assert_eq!(
        inspect(&bare_component(&[])),
        Err(InspectError::MissingStamp)
    );
    let bad = bare_component(&[(STAMP_SECTION, b"one")]);
    assert!(matches!(inspect(&bad), Err(InspectError::BadStamp(_))));
    let restamped = with_custom_section(&fixture_plugin("echo"), STAMP_SECTION, b"2.0.0");
    assert!(matches!(
        inspect(&restamped),
        Err(InspectError::ConflictingStamps(_))
    ));
}

#[test]
fn refuses_imports_the_host_does_not_provide() {
    let err = inspect(&component_importing("acme:net/http@1.0.0")).unwrap_err();
    assert_eq!(
        err,
        InspectError::ForbiddenImport("acme:net/http@1.0.0".into())
    );
    assert!(err.to_string().contains("acme:net/http"));
    assert!(inspect(&component_importing("wasi:cli/environment@0.2.0")).is_ok());
    assert!(inspect(&component_importing("reveille:check/document@1.0.0")).is_ok());
}

#[test]
fn refuses_core_modules_and_garbage() {
    let core = inspect(b"\0asm\x01\x00\x00\x00").unwrap_err();
    assert!(
        core.to_string().contains("core WebAssembly module"),
        "{core}"
    );
    assert!(matches!(
        inspect(b"hello"),
        Err(InspectError::NotAComponent(_))
    ));
}

/// `reveille plugin inspect`: what an author (or an admin given a file) learns of a
/// component without a service.
#[tokio::test]
async fn the_cli_says_what_a_component_is() {
    let dir = tempfile::tempdir().unwrap();
    let component = dir.path().join("echo.wasm");
    std::fs::write(&component, fixture_plugin("echo")).unwrap();
    let run = crate::succeeded(
        crate::reveille()
            .args(["plugin", "inspect"])
            .arg(&component),
    )
    .await;
    let out = String::from_utf8_lossy(&run.stdout);
    for expected in [
        "echo 0.1.0: Echoes what it reads",
        "API 1.2.0",
        "triggers: report, tick, probe",
        "window (text; default \"3d\"): A duration setting",
        "imports: ",
        "reveille:check/document",
        "reveille:check/log",
        "sha256: ",
    ] {
        assert!(out.contains(expected), "{expected:?} not in\n{out}");
    }
    let json = crate::reveille()
        .args(["plugin", "inspect", "--json"])
        .arg(&component)
        .output()
        .await
        .unwrap();
    let described: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(described["plugin"]["name"], "echo");
    assert_eq!(described["api_version"], "1.2.0");
    assert_eq!(described["size"], fixture_plugin("echo").len());
}

/// `reveille serve --help` names every variable the service reads.
#[tokio::test]
async fn serve_help_lists_the_environment() {
    let run = crate::reveille()
        .args(["serve", "--help"])
        .output()
        .await
        .unwrap();
    let help = String::from_utf8_lossy(&run.stdout);
    for variable in [
        "REVEILLE_LISTEN",
        "REVEILLE_DATA_DIR",
        "REVEILLE_PLUGINS_DIR",
        "REVEILLE_ADMIN_TOKEN",
        "REVEILLE_DATABASE_URL",
        "REVEILLE_TELEGRAM_TOKEN",
        "REVEILLE_TELEGRAM_API_URL",
        "REVEILLE_NODE",
        "REVEILLE_LOG",
        "REVEILLE_URL",
    ] {
        assert!(help.contains(variable), "{variable} not in\n{help}");
    }
}

//! A misbehaving plugin is contained: stopped, classified, counted, disabled; the other
//! plugins' findings for the same report still arrive, and the host keeps serving.

use std::time::Duration;

use reveille_tests::{Options, Service, failure_of, label, last_error, report, result_for};
use serde_json::Value;

async fn service_with(plugin: &str) -> Service {
    let service = Service::start(Options {
        config: "[runtime.limits.runaway-loop]\ndeadline = \"100ms\"\n".into(),
        ..Options::default()
    })
    .await;
    service.install_fixture(plugin).await;
    service
}

/// The built-in dongle check still reports the lost key next to the failing plugin.
fn assert_dongle_finding_arrived(results: &[Value]) {
    let dongle = result_for(results, "dongle-lost");
    assert_eq!(dongle["ok"], true, "{dongle:#}");
    assert_eq!(dongle["findings"][0]["key"], "dongle-lost");
    assert_eq!(dongle["findings"][0]["severity"], "critical");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runaway_loop_is_stopped_near_its_deadline() {
    let service = service_with("runaway-loop").await;
    let results = service.evaluate(&report("lost-key-evening.xml")).await;
    let failure = failure_of(&results, "runaway-loop");
    assert_eq!(failure["kind"], "timeout", "{failure:#}");
    let elapsed = Duration::from_micros(
        result_for(&results, "runaway-loop")["elapsed_us"]
            .as_u64()
            .unwrap(),
    );
    // Its deadline is 100 ms; one epoch tick of slack, and generous room for a loaded CI.
    assert!(
        elapsed >= Duration::from_millis(100),
        "stopped early: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(600),
        "stopped late: {elapsed:?}"
    );
    assert_dongle_finding_arrived(&results);
    let health: Value = reqwest::get(service.url("/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_bomb_is_contained() {
    let service = service_with("memory-bomb").await;
    let results = service.evaluate(&report("lost-key-evening.xml")).await;
    let failure = failure_of(&results, "memory-bomb");
    assert_eq!(failure["kind"], "out-of-memory", "{failure:#}");
    assert!(
        failure["message"].as_str().unwrap().contains("64 MiB"),
        "{failure:#}"
    );
    assert_dongle_finding_arrived(&results);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_isolated_and_its_message_kept() {
    let service = service_with("panics").await;
    let results = service.evaluate(&report("lost-key-evening.xml")).await;
    let failure = failure_of(&results, "panics");
    assert_eq!(failure["kind"], "trap", "{failure:#}");
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("deliberate panic for installation vector-main"),
        "{failure:#}"
    );
    assert_dongle_finding_arrived(&results);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_error_is_the_plugins_and_never_a_finding() {
    let service = Service::start(Options {
        config: "[plugins.echo]\nfail = \"threshold `x` is not a duration\"\n".into(),
        ..Options::default()
    })
    .await;
    service.install_fixture("echo").await;
    let results = service.evaluate(&report("lost-key-evening.xml")).await;
    let failure = failure_of(&results, "echo");
    assert_eq!(failure["kind"], "plugin-error");
    assert_eq!(failure["message"], "threshold `x` is not a duration");
    assert!(result_for(&results, "echo").get("findings").is_none());
    assert_dongle_finding_arrived(&results);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_disable_a_plugin_until_it_is_enabled() {
    let service = service_with("panics").await;
    for _ in 0..3 {
        service.evaluate(&report("lost-key-evening.xml")).await;
    }
    let listed = service.plugin("panics").await.unwrap();
    assert_eq!(listed["state"], "disabled", "{listed:#}");
    assert_eq!(listed["failures"], 3);
    assert_eq!(listed["evaluations"], 3);
    assert!(last_error(&listed).contains("deliberate panic"));

    let results = service.evaluate(&report("lost-key-evening.xml")).await;
    assert!(
        results.iter().all(|r| r["plugin"] != "panics"),
        "a disabled plugin ran"
    );
    assert_dongle_finding_arrived(&results);

    let enabled = service.post_admin("/api/v1/plugins/panics/enable").await;
    assert_eq!(enabled.status(), 200);
    assert_eq!(service.plugin("panics").await.unwrap()["state"], "active");
    let results = service.evaluate(&report("lost-key-evening.xml")).await;
    assert_eq!(failure_of(&results, "panics")["kind"], "trap");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_read_any_field_by_path_and_keep_state_through_the_host() {
    let service = service_with("echo").await;
    let results = service.evaluate(&report("lost-key-evening.xml")).await;
    let echo = result_for(&results, "echo");
    assert_eq!(
        label(echo, "value"),
        "812",
        "disk/@free-mb, a field the host never modelled"
    );
    assert_eq!(label(echo, "client"), "ООО «Вектор»");
    assert_eq!(label(echo, "agent"), "report-agent");
    assert_eq!(label(echo, "shell-version"), "6.4.2.73");
    assert_eq!(label(echo, "protection"), "lost");
    assert_eq!(label(echo, "bases"), "2");
    assert_eq!(label(echo, "failed-bases"), "1");
    assert_eq!(label(echo, "newest-operup"), "2026-11-19 19:41 UTC");
    assert_eq!(label(echo, "refused"), "7");
    assert_eq!(label(echo, "reachable-by-domain"), "false");
    assert_eq!(label(echo, "installation"), "vector-main");
    assert_eq!(label(echo, "window-ms"), "259200000");
    assert_eq!(echo["state"][0]["key"], "seen");
    assert_eq!(echo["state"][0]["value"], "1");
}

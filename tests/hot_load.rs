//! Hot-loading through the admin API and the plugins directory: every refusal says why and
//! leaves the previous revision serving; a swap under load loses no evaluation.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reveille_tests::{
    ADMIN_TOKEN, Options, Service, bare_component, fixture_plugin, last_error, report, result_for,
    with_custom_section,
};
use serde_json::Value;

async fn refusal(service: &Service, name: &str, bytes: Vec<u8>) -> (u16, String) {
    let response = service.put_plugin(name, bytes).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incompatible_api_version_is_refused_and_the_previous_revision_keeps_serving() {
    let service = Service::start(Options::default()).await;
    service.install_fixture("echo").await;
    let serving = service.plugin("echo").await.unwrap()["sha256"].clone();

    let future = bare_component(&[("reveille:api-version", b"2.0.0")]);
    let (status, error) = refusal(&service, "echo", future).await;
    assert_eq!(status, 422);
    assert!(error.contains("built for plugin API 2.0.0"), "{error}");
    assert!(error.contains("runs 1.0.0"), "{error}");
    assert!(error.contains("previous revision"), "{error}");

    let listed = service.plugin("echo").await.unwrap();
    assert_eq!(listed["sha256"], serving);
    assert_eq!(listed["state"], "active");
    assert!(
        !last_error(&listed).contains("2.0.0"),
        "a refused upload leaves nothing behind but its answer"
    );
    let results = service.evaluate(&report("lost-key-evening.xml")).await;
    assert_eq!(result_for(&results, "echo")["ok"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_are_refused_with_the_reason() {
    let service = Service::start(Options {
        builtin_plugins: false,
        ..Options::default()
    })
    .await;
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "junk",
            b"MZ\x90\x00 not wasm".to_vec(),
            422,
            "not a WebAssembly component",
        ),
        (
            "core",
            b"\0asm\x01\x00\x00\x00".to_vec(),
            422,
            "core WebAssembly module",
        ),
        (
            "unstamped",
            bare_component(&[]),
            422,
            "not built with reveille-sdk",
        ),
        (
            "hollow",
            bare_component(&[("reveille:api-version", b"1.0.0")]),
            422,
            "does not link against the host",
        ),
        (
            "not-echo",
            fixture_plugin("echo"),
            422,
            "describes itself as `echo` but was loaded as `not-echo`: install it under its own name (`reveille plugin install --name echo`",
        ),
        (
            "Bad_Name",
            fixture_plugin("echo"),
            400,
            "invalid plugin name",
        ),
        ("empty", Vec::new(), 400, "empty body"),
    ];
    for (name, bytes, status, reason) in cases {
        let (got, error) = refusal(&service, name, bytes).await;
        assert_eq!(got, status, "{name}: {error}");
        assert!(
            error.contains(reason),
            "{name}: expected `{reason}` in `{error}`"
        );
    }
    let installed: Vec<_> = std::fs::read_dir(service.plugins_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        installed.is_empty(),
        "refused uploads left files: {installed:?}"
    );
    assert!(
        service
            .plugins()
            .await
            .iter()
            .all(|p| p["state"] == "failed")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_replaced_while_evaluations_run_loses_none_of_them() {
    let service = Arc::new(Service::start(Options::default()).await);
    let original = fixture_plugin("echo");
    assert_eq!(
        service.put_plugin("echo", original.clone()).await.status(),
        201
    );
    const CLIENTS: usize = 4;
    let swapping = Arc::new(AtomicBool::new(true));
    let evaluations: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let service = service.clone();
            let swapping = swapping.clone();
            tokio::spawn(async move {
                let xml = report("lost-key-evening.xml");
                let mut seen = Vec::new();
                while swapping.load(Ordering::SeqCst) {
                    let results = service.evaluate(&xml).await;
                    let echo = result_for(&results, "echo").clone();
                    assert_eq!(echo["ok"], true, "{echo:#}");
                    seen.push(echo["sha256"].as_str().unwrap().to_string());
                }
                seen
            })
        })
        .collect();
    let mut uploaded = BTreeSet::from([service.plugin("echo").await.unwrap()["sha256"]
        .as_str()
        .unwrap()
        .to_string()]);
    for revision in 0..6u8 {
        let bytes = with_custom_section(&original, "revision", &[revision]);
        let response = service.put_plugin("echo", bytes).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        uploaded.insert(body["plugin"]["sha256"].as_str().unwrap().to_string());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    swapping.store(false, Ordering::SeqCst);
    let mut seen = Vec::new();
    for task in evaluations {
        seen.extend(task.await.expect("evaluation task"));
    }
    eprintln!("{} evaluations during 6 swaps", seen.len());
    let distinct: BTreeSet<_> = seen.iter().cloned().collect();
    assert!(
        distinct.is_subset(&uploaded),
        "{distinct:?} not in {uploaded:?}"
    );
    assert!(
        distinct.len() >= 2,
        "no swap happened during the evaluations: {distinct:?}"
    );
    let listed = service.plugin("echo").await.unwrap();
    assert_eq!(listed["failures"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_file_loads_it_and_removing_it_unloads_it() {
    let service = Service::start(Options {
        builtin_plugins: false,
        ..Options::default()
    })
    .await;
    let file = service.plugins_dir().join("echo.wasm");
    std::fs::write(&file, fixture_plugin("echo")).unwrap();
    assert!(
        service.wait_for_plugin("echo", Some("active")).await,
        "a dropped file was not loaded"
    );
    let listed = service.plugin("echo").await.unwrap();
    assert_eq!(listed["source"]["kind"], "file");
    let token = service.installation("vector-main").await;
    let sent = service
        .post_report(&token, report("lost-key-evening.xml"))
        .await;
    assert_eq!(sent.status(), 202);
    service.settle().await;
    assert_eq!(service.alerts("plugin=echo&state=open").await.len(), 1);

    std::fs::write(
        service.plugins_dir().join("broken.wasm"),
        b"not a component",
    )
    .unwrap();
    assert!(
        service.wait_for_plugin("broken", Some("failed")).await,
        "a broken file is not listed as failed"
    );
    let broken = service.plugin("broken").await.unwrap();
    assert!(last_error(&broken).contains("not a WebAssembly component"));

    std::fs::remove_file(&file).unwrap();
    assert!(
        service.wait_for_plugin("echo", None).await,
        "removing the file did not unload the plugin"
    );
    // Its alerts resolve as if it had been deleted through the API.
    let resolved = service
        .eventually(Duration::from_secs(10), || async {
            service.alerts("plugin=echo&state=resolved").await.len() == 1
        })
        .await;
    assert!(resolved, "{:#?}", service.alerts("plugin=echo").await);
    assert_eq!(
        service.alerts("plugin=echo").await[0]["resolution"],
        "the check was removed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_kept_across_restarts_and_delete_forgets_them() {
    let service = Service::start(Options::default()).await;
    service.install_fixture("echo").await;
    // Kept in the database, where every node sharing it finds it; not in this node's
    // directory, which is its own.
    assert_eq!(
        service.plugin("echo").await.unwrap()["source"]["kind"],
        "uploaded"
    );
    assert!(!service.plugins_dir().join("echo.wasm").exists());

    let service = service.restart().await;
    let listed = service
        .plugin("echo")
        .await
        .expect("the upload survived the restart");
    assert_eq!(listed["state"], "active");
    assert_eq!(listed["from_cache"], true);

    // A file of the same name waits behind the upload, and serves once it is deleted.
    let file = service.plugins_dir().join("echo.wasm");
    std::fs::write(
        &file,
        with_custom_section(&fixture_plugin("echo"), "revision", b"file"),
    )
    .unwrap();
    tokio::time::sleep(reveille::plugins::directory::DEBOUNCE * 3).await;
    assert_eq!(
        service.plugin("echo").await.unwrap()["source"]["kind"],
        "uploaded"
    );
    let response = service.delete_plugin("echo").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        service.plugin("echo").await.unwrap()["source"]["kind"],
        "file"
    );
    std::fs::remove_file(&file).unwrap();
    assert!(service.wait_for_plugin("echo", None).await);
    let service = service.restart().await;
    assert!(
        service.plugin("echo").await.is_none(),
        "a deleted upload came back"
    );
    let results = service.evaluate(&report("lost-key-evening.xml")).await;
    assert!(results.iter().all(|r| r["plugin"] != "echo"));
    assert_eq!(service.delete_plugin("echo").await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_refuses_everything_until_a_token_is_configured() {
    let closed = Service::start(Options {
        admin_token: None,
        ..Options::default()
    })
    .await;
    for (method, path) in [
        ("GET", "/api/v1/plugins"),
        ("PUT", "/api/v1/plugins/echo"),
        ("POST", "/api/v1/evaluate"),
    ] {
        let response = closed
            .client
            .request(method.parse().unwrap(), closed.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("REVEILLE_ADMIN_TOKEN"),
            "{body}"
        );
    }
    let health = closed
        .client
        .get(closed.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let open = Service::start(Options::default()).await;
    let anonymous = open
        .client
        .get(open.url("/api/v1/plugins"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    let wrong = open
        .client
        .get(open.url("/api/v1/plugins"))
        .bearer_auth("not-the-admin-token-at-all")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
}

//! Time and probes: ticks measure an installation's silence by the host's clock (which the
//! tests move instead of sleeping), the host's own downtime is not blamed on anyone, and
//! probes tell a redirect outage from a dead server.

use std::sync::Arc;
use std::time::Duration;

use reveille::clock::ManualClock;
use reveille_tests::{Options, Service, at, databases, later, report};
use serde_json::{Value, json};

fn has(findings: &[Value], key: &str, severity: &str) -> bool {
    findings
        .iter()
        .any(|f| f["key"] == key && f["severity"] == severity)
}

fn healthy_report() -> Vec<u8> {
    String::from_utf8(report("key-restored.xml"))
        .unwrap()
        .replace(r#"state="error" error-code="2020""#, r#"state="ok""#)
        .replace(
            r#"in-use="25" peak="25" refused="7""#,
            r#"in-use="5" peak="9" refused="0""#,
        )
        .replace(
            r#"reachable-by-domain="false""#,
            r#"reachable-by-domain="true""#,
        )
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_is_measured_while_the_host_is_up() {
    for db in databases().await {
        let clock = Arc::new(ManualClock::new(at("2026-11-19T23:00:00Z")));
        let options = Options {
            database_url: db.url.clone(),
            clock: Some(clock.clone()),
            config: "[plugins.stale-updates]\nthreshold = \"30d\"\n".into(),
            ..Options::default()
        };
        let service = Service::start(options).await;
        let token = service.installation("vector-main").await;
        assert_eq!(
            service.post_report(&token, healthy_report()).await.status(),
            202
        );
        clock.advance(Duration::from_secs(3600));
        service.tick().await;
        assert!(
            service.findings("vector-main").await.is_empty(),
            "{}",
            db.name
        );

        // The host is down for almost four days; the installation was silent only the
        // hour the host was up.
        let mut service = {
            let mut stopping = service;
            stopping.stop().await;
            clock.advance(Duration::from_secs(4 * 86_400));
            stopping.restart().await
        };
        service.tick().await;
        let findings = service.findings("vector-main").await;
        assert!(
            !has(&findings, "reports-stopped", "warning")
                && !has(&findings, "reports-stopped", "critical"),
            "{}: {findings:?}",
            db.name
        );

        clock.advance(Duration::from_secs(2 * 86_400));
        service.tick().await;
        let findings = service.findings("vector-main").await;
        assert!(
            has(&findings, "reports-stopped", "warning"),
            "{}: {findings:?}",
            db.name
        );

        clock.advance(Duration::from_secs(2 * 86_400));
        service.tick().await;
        assert!(has(
            &service.findings("vector-main").await,
            "reports-stopped",
            "critical"
        ));

        assert_eq!(
            service
                .post_report(&token, later(&healthy_report(), 8 * 86_400))
                .await
                .status(),
            202
        );
        service.tick().await;
        assert!(service.findings("vector-main").await.is_empty());
        service.stop().await;
        db.drop_database().await;
    }
}

/// A web server on loopback answering as the product's main page does; its port.
async fn answering_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "Техэксперт" }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

/// A probe that answers says the server is up, not that its agent still reports: the
/// silence check and the board go by the agent's reports alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_do_not_stand_in_for_the_agents_reports() {
    let port = answering_server().await;
    let clock = Arc::new(ManualClock::new(at("2026-11-19T23:00:00Z")));
    let service = Service::start(Options {
        clock: Some(clock.clone()),
        config:
            "[schedule]\nprobe_timeout = \"3s\"\n[plugins.stale-updates]\nthreshold = \"30d\"\n"
                .into(),
        ..Options::default()
    })
    .await;
    let (status, body) = service
        .create_installation(json!({
            "id": "vector-main", "client": "ООО «Вектор»", "manager": "Ivanov",
            "timezone": "Europe/Moscow", "telegram_chat_id": -100,
            "url": format!("http://127.0.0.1:{port}/"),
        }))
        .await;
    assert_eq!(status, 201, "{body}");
    let token = body["token"].as_str().unwrap().to_string();
    assert_eq!(
        service.post_report(&token, healthy_report()).await.status(),
        202
    );
    service.settle().await;
    // Three days of answered probes, and no report from the agent.
    for _ in 0..3 * 24 {
        clock.advance(Duration::from_secs(3600));
        assert_eq!(service.probe_round().await, 1);
    }
    service.tick().await;
    let findings = service.findings("vector-main").await;
    assert!(has(&findings, "reports-stopped", "warning"), "{findings:?}");
    let newest = service
        .store()
        .glance("vector-main")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(newest.glance.agent.as_deref(), Some("report-agent"));
    assert!(newest.glance.seats.is_some(), "{newest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_tell_a_redirect_outage_from_a_dead_server() {
    let port = answering_server().await;

    let service = Service::start(Options {
        config: "[schedule]\nprobe_timeout = \"3s\"\n".into(),
        ..Options::default()
    })
    .await;
    // 127.0.0.2 stands for the domain: nothing answers there, while the server answers
    // at its IP, 127.0.0.1. That is what a failed redirect server looks like.
    let (status, body) = service
        .create_installation(json!({
            "id": "vector-main", "client": "ООО «Вектор»", "manager": "Ivanov",
            "timezone": "Europe/Moscow", "telegram_chat_id": -100,
            "url": format!("http://127.0.0.2:{port}/"), "ip": "127.0.0.1",
        }))
        .await;
    assert_eq!(status, 201, "{body}");
    service.installation("no-url").await;
    assert_eq!(
        service.probe_round().await,
        1,
        "only installations with a URL are probed"
    );
    let findings = service.findings("vector-main").await;
    assert!(has(&findings, "redirect-down", "critical"), "{findings:?}");

    let (status, _) = service
        .admin_request(
            "PATCH",
            "/api/v1/installations/vector-main",
            Some(json!({"url": format!("http://127.0.0.1:{port}/")})),
        )
        .await;
    assert_eq!(status, 200);
    service.probe_round().await;
    assert!(service.findings("vector-main").await.is_empty());

    // A real domain whose name no longer resolves, while the server answers at its IP:
    // the probe by IP speaks to the domain but connects to the address.
    let (status, _) = service
        .admin_request(
            "PATCH",
            "/api/v1/installations/vector-main",
            Some(json!({"url": format!("http://vector.invalid:{port}/")})),
        )
        .await;
    assert_eq!(status, 200);
    service.probe_round().await;
    assert!(has(
        &service.findings("vector-main").await,
        "redirect-down",
        "critical"
    ));

    // Unreachable both ways is a dead server, not a redirect outage.
    let (status, _) = service
        .admin_request(
            "PATCH",
            "/api/v1/installations/vector-main",
            Some(json!({"url": "http://127.0.0.2:9/", "ip": "127.0.0.3"})),
        )
        .await;
    assert_eq!(status, 200);
    service.probe_round().await;
    assert!(service.findings("vector-main").await.is_empty());
}

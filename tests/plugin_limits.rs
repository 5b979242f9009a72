//! What a plugin cannot do to the host, tried with the `misbehave` fixture: sleep past its
//! deadline (or forever), return floods, fail now and then, read the real clock, break
//! everyone's evaluations with one client's typo, replace a built-in unnoticed; and the
//! messages an admin gets when an upload or a call goes wrong.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_telegram::FakeTelegram;
use reveille::clock::ManualClock;
use reveille_tests::{
    Options, Service, TELEGRAM_TOKEN, at, builtin_plugin, failure_of, last_error, later, report,
    report_for, report_xml, result_for, with_custom_section,
};
use serde_json::{Value, json};

const CHAT: i64 = -1001234567;

fn misbehaving(mode: &str, extra: &str) -> String {
    format!("[plugins.misbehave]\nmode = \"{mode}\"\n{extra}")
}

async fn with_misbehave(options: Options) -> Service {
    let service = Service::start(options).await;
    service.install_fixture("misbehave").await;
    service
}

/// A service whose `misbehave` plugin has `config`, alerting in a fake Telegram chat, with
/// `vector-main` registered; returns its token too.
async fn alerting_with(fake: &FakeTelegram, config: String) -> (Service, String) {
    fake.add_chat(CHAT, "Vector support");
    let service = with_misbehave(Options {
        telegram_api: Some(fake.api_url()),
        config,
        ..Options::default()
    })
    .await;
    let token = service.installation("vector-main").await;
    (service, token)
}

/// Waits until the dongle alert's message is in the chat; returns how long it took.
async fn dongle_message_after(fake: &FakeTelegram, since: Instant) -> Duration {
    assert!(
        fake.wait_for(Duration::from_secs(20), |f| f
            .bot_messages(CHAT)
            .iter()
            .any(|m| m.text.contains("License dongle")))
            .await,
        "the dongle alert never arrived: {:#?}",
        fake.bot_messages(CHAT)
    );
    since.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sleeping_plugin_ends_at_its_deadline_and_holds_back_nobody() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    let (service, vector) = alerting_with(
        &fake,
        misbehaving(
            "sleep",
            "seconds = \"3600\"\n[runtime.limits.misbehave]\ndeadline = \"100ms\"\n",
        ),
    )
    .await;
    // Four installations whose evaluations each call the plugin that sleeps an hour.
    for n in 0..4 {
        let id = format!("sleepy-{n}");
        let token = service.installation(&id).await;
        let sent = service
            .post_report(&token, report_for("key-restored.xml", &id))
            .await;
        assert_eq!(sent.status(), 202);
    }
    let started = Instant::now();
    let sent = service
        .post_report(&vector, report("lost-key-evening.xml"))
        .await;
    assert_eq!(sent.status(), 202);
    let took = dongle_message_after(&fake, started).await;
    assert!(
        took < Duration::from_secs(1),
        "an unrelated alert waited {took:?} behind a sleeping plugin"
    );
    service.settle().await;
    let listed = service.plugin("misbehave").await.unwrap();
    assert!(
        last_error(&listed).contains("past its deadline of 100 ms"),
        "{listed:#}"
    );
    assert_eq!(listed["state"], "disabled", "{listed:#}");
    // Switched off by the host, which wants a person to look.
    let health = service.health().await;
    assert_eq!(health["status"], "degraded", "{health:#}");
    assert_eq!(health["problems"][0]["reason"], "plugin-off", "{health:#}");
    assert!(
        health["problems"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("plugin `misbehave` was switched off: 3 of its last 10 calls failed"),
        "{health:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unloading_a_plugin_ends_its_calls_and_health_tells_a_stall() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    // A deadline of an hour, and a plugin waiting on a clock that never rings.
    let (service, vector) = alerting_with(
        &fake,
        misbehaving(
            "forever",
            "[runtime.limits.misbehave]\ndeadline = \"1h\"\n[health]\nstalled_after = \"1s\"\n",
        ),
    )
    .await;
    let sent = service
        .post_report(&vector, report("lost-key-evening.xml"))
        .await;
    assert_eq!(sent.status(), 202);
    let degraded = service
        .eventually(Duration::from_secs(20), || async {
            service.health().await["status"] == "degraded"
        })
        .await;
    let health = service.health().await;
    assert!(degraded, "{health:#}");
    assert!(
        health["problems"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("evaluation lags: the oldest queued job has waited"),
        "{health:#}"
    );
    assert!(
        fake.bot_messages(CHAT).is_empty(),
        "evaluated while the call hangs?"
    );

    let started = Instant::now();
    let deleted = service.delete_plugin("misbehave").await;
    assert_eq!(deleted.status(), 200);
    let took = dongle_message_after(&fake, started).await;
    assert!(
        took < Duration::from_secs(2),
        "the evaluation went on {took:?} after its plugin was unloaded"
    );
    service.settle().await;
    assert_eq!(service.health().await["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_plugin_returns_is_bounded_and_never_floods_downstream() {
    let service = with_misbehave(Options {
        runtime: "disable_after_failures = 10\nhealth_window = 10",
        ..Options::default()
    })
    .await;
    let cases = [
        (
            "Flood",
            json!({"mode": "flood", "count": "100000"}),
            "output-too-large",
            "findings: 100000, over the limit of 256",
        ),
        (
            "Huge",
            json!({"mode": "huge-summary", "bytes": "20000000"}),
            "output-too-large",
            "summary bytes: 20000000, over the limit of 1024",
        ),
        (
            "Hoard",
            json!({"mode": "huge-state", "count": "300", "bytes": "10"}),
            "output-too-large",
            "state entries after this evaluation: 300, over the limit of 256",
        ),
        (
            "Nul",
            json!({"mode": "nul"}),
            "invalid-output",
            "state `nul` contains a NUL character",
        ),
    ];
    for (client, settings, kind, message) in &cases {
        let (status, body) = service
            .put_client_settings(client, "misbehave", settings.clone())
            .await;
        assert_eq!(status, 200, "{body}");
        let results = service
            .evaluate_with(&report("lost-key-evening.xml"), &format!("client={client}"))
            .await;
        let failure = failure_of(&results, "misbehave");
        assert_eq!(failure["kind"], *kind, "{client}: {failure:#}");
        assert!(
            failure["message"].as_str().unwrap().contains(message),
            "{client}: {failure:#}"
        );
    }

    // Through the pipeline: nothing of a flood is stored or alerted on.
    let token = service.installation_of("flood-main", "Flood").await;
    let sent = service
        .post_report(&token, report_for("lost-key-evening.xml", "flood-main"))
        .await;
    assert_eq!(sent.status(), 202);
    let findings = service.findings("flood-main").await;
    assert!(findings.iter().any(|f| f["plugin"] == "dongle-lost"));
    assert!(
        findings.iter().all(|f| f["plugin"] != "misbehave"),
        "{findings:#?}"
    );
    assert!(service.alerts("plugin=misbehave").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_failing_three_calls_in_four_is_disabled() {
    let service = with_misbehave(Options {
        config: misbehaving("flaky", ""),
        ..Options::default()
    })
    .await;
    let call = |fail: bool| {
        report_xml(
            "report-agent",
            "2026-11-20T01:07:00+03:00",
            &format!(r#"<flaky fail="{}"/>"#, if fail { "yes" } else { "no" }),
        )
    };
    for fail in [true, true, false] {
        service.evaluate(call(fail).as_bytes()).await;
    }
    let listed = service.plugin("misbehave").await.unwrap();
    assert_eq!(listed["state"], "active", "{listed:#}");
    assert_eq!(listed["recent_failures"], 2, "{listed:#}");
    service.evaluate(call(true).as_bytes()).await;
    let listed = service.plugin("misbehave").await.unwrap();
    assert_eq!(listed["state"], "disabled", "{listed:#}");
    assert_eq!(listed["disabled"], "3 of its last 10 calls failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugins_clock_and_chance_are_the_evaluations() {
    let clock = Arc::new(ManualClock::new(at("2026-11-20T01:07:00+03:00")));
    let service = with_misbehave(Options {
        config: misbehaving("clock", ""),
        clock: Some(clock.clone()),
        ..Options::default()
    })
    .await;
    let sandbox = async || {
        let results = service.evaluate(&report("lost-key-evening.xml")).await;
        let labels = result_for(&results, "misbehave")["findings"][0]["labels"].clone();
        let label = |name: &str| {
            labels
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l[0] == name)
                .map(|l| l[1].as_str().unwrap().to_string())
                .unwrap_or_else(|| panic!("no {name} in {labels}"))
        };
        (label("wall-ms"), label("monotonic-ns"), label("random"))
    };
    let (wall, monotonic, random) = sandbox().await;
    assert_eq!(wall, at("2026-11-20T01:07:00+03:00").to_string());
    assert_eq!(monotonic, "0");
    let (_, _, again) = sandbox().await;
    assert_eq!(again, random, "the same evaluation draws the same numbers");
    clock.advance(Duration::from_secs(60));
    let (wall, _, later) = sandbox().await;
    assert_eq!(wall, at("2026-11-20T01:08:00+03:00").to_string());
    assert_ne!(later, random, "another moment draws other numbers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_reaching_for_files_sockets_or_the_environment_gets_nothing() {
    // Something to connect to, which must never hear from the plugin.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let service = with_misbehave(Options {
        config: misbehaving("snoop", &format!("port = \"{port}\"\n")),
        ..Options::default()
    })
    .await;
    std::fs::write(service.data_dir.join("secret.txt"), "do not read").unwrap();
    let results = service.evaluate(&report("lost-key-evening.xml")).await;
    let snoop = result_for(&results, "misbehave");
    assert_eq!(snoop["ok"], true, "{snoop:#}");
    let labels = snoop["findings"][0]["labels"].as_array().unwrap().clone();
    let tried: Vec<&str> = labels.iter().map(|l| l[0].as_str().unwrap()).collect();
    assert_eq!(
        tried,
        [
            "read-file",
            "list-root",
            "list-here",
            "write-file",
            "environment",
            "arguments",
            "resolve",
            "connect",
            "udp"
        ]
    );
    for label in &labels {
        assert!(
            label[1].as_str().unwrap().starts_with("nothing"),
            "the sandbox let {} through: {}",
            label[0],
            label[1]
        );
    }
    let heard = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
    assert!(heard.is_err(), "the plugin reached a socket on loopback");
    assert!(!service.data_dir.join("snooped.txt").exists());
    assert!(!std::path::Path::new("snooped.txt").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_clients_bad_setting_is_that_clients_problem() {
    let service = with_misbehave(Options::default()).await;
    let vector = "ООО «Вектор»";
    let refused = |status: u16, body: &Value, needle: &str| {
        assert_eq!(status, 400, "{body}");
        assert!(body["error"].as_str().unwrap().contains(needle), "{body}");
    };
    let (status, body) = service
        .put_client_settings(vector, "no-such-check", json!({"x": "1"}))
        .await;
    refused(status, &body, "`no-such-check`");
    let (status, body) = service
        .put_client_settings(vector, "misbehave", json!({"critical-before": "6"}))
        .await;
    refused(status, &body, "no setting `critical-before`");
    let (status, body) = service
        .put_client_settings(vector, "misbehave", json!({"threshold": "6"}))
        .await;
    refused(status, &body, "refuses these settings: setting `threshold`");

    // A value the plugin reads only with a report passes the check, and fails later.
    let (status, body) = service
        .put_client_settings(vector, "misbehave", json!({"report-threshold": "6"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let token = service.installation_of("vector-main", vector).await;
    let horns = service.installation_of("horns-main", "Рога и Копыта").await;
    for _ in 0..5 {
        let sent = service
            .post_report(&token, report("lost-key-evening.xml"))
            .await;
        assert_eq!(sent.status(), 202);
    }
    let sent = service
        .post_report(&horns, report_for("key-restored.xml", "horns-main"))
        .await;
    assert_eq!(sent.status(), 202);
    service.settle().await;

    let listed = service.plugin("misbehave").await.unwrap();
    assert_eq!(listed["state"], "active", "{listed:#}");
    assert_eq!(listed["recent_failures"], 0, "{listed:#}");
    assert_eq!(listed["settings_errors"][0]["client"], vector, "{listed:#}");
    assert!(
        listed["settings_errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("report-threshold"),
        "{listed:#}"
    );
    let (_, findings) = service
        .admin_request("GET", "/api/v1/installations/vector-main/findings", None)
        .await;
    assert_eq!(
        findings["settings_errors"][0]["plugin"], "misbehave",
        "{findings:#}"
    );
    let horns_findings = service.findings("horns-main").await;
    assert!(
        horns_findings.iter().any(|f| f["plugin"] == "misbehave"),
        "the other client is still evaluated: {horns_findings:#?}"
    );

    let (status, _) = service
        .put_client_settings(vector, "misbehave", json!({}))
        .await;
    assert_eq!(status, 200);
    let listed = service.plugin("misbehave").await.unwrap();
    assert_eq!(listed["settings_errors"], json!([]), "{listed:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacing_a_builtin_is_explicit_and_reversible_and_switching_off_persists() {
    let service = Service::start(Options::default()).await;
    let builtin_sha = service.plugin("dongle-lost").await.unwrap()["sha256"].clone();
    let custom = with_custom_section(&builtin_plugin("dongle-lost"), "build", b"ours");

    let refused = service.put_plugin("dongle-lost", custom.clone()).await;
    assert_eq!(refused.status(), 409);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("?override=builtin"),
        "{body}"
    );
    assert_eq!(
        service.plugin("dongle-lost").await.unwrap()["sha256"],
        builtin_sha
    );

    let replaced = service
        .put_plugin("dongle-lost?override=builtin", custom)
        .await;
    assert_eq!(replaced.status(), 200);
    let listed = service.plugin("dongle-lost").await.unwrap();
    assert_eq!(listed["source"]["kind"], "uploaded", "{listed:#}");
    assert_eq!(listed["overrides_builtin"]["sha256"], builtin_sha);
    assert_ne!(listed["sha256"], builtin_sha);

    // The override fires; removing it brings the built-in back without resolving anything.
    let token = service.installation("vector-main").await;
    service
        .post_report(&token, report("lost-key-evening.xml"))
        .await;
    service.settle().await;
    assert_eq!(
        service.alerts("plugin=dongle-lost&state=open").await.len(),
        1
    );
    let (status, body) = service
        .admin_request("DELETE", "/api/v1/plugins/dongle-lost", None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["builtin_restored"], "dongle-lost");
    let listed = service.plugin("dongle-lost").await.unwrap();
    assert_eq!(listed["source"]["kind"], "builtin");
    assert_eq!(listed["sha256"], builtin_sha);
    assert_eq!(
        service.alerts("plugin=dongle-lost&state=open").await.len(),
        1
    );
    let (status, body) = service
        .admin_request("DELETE", "/api/v1/plugins/dongle-lost", None)
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("/disable"),
        "{body}"
    );

    // Switched off, it stays off across a restart, and on once enabled.
    let (status, body) = service
        .admin_request("POST", "/api/v1/plugins/dongle-lost/disable", None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["alerts_resolved"], 1);
    let service = service.restart().await;
    let listed = service.plugin("dongle-lost").await.unwrap();
    assert_eq!(listed["state"], "disabled", "{listed:#}");
    assert_eq!(listed["disabled"], "switched off by an admin");
    let results = service.evaluate(&report("lost-key-evening.xml")).await;
    assert!(results.iter().all(|r| r["plugin"] != "dongle-lost"));
    let (status, _) = service
        .admin_request("POST", "/api/v1/plugins/dongle-lost/enable", None)
        .await;
    assert_eq!(status, 200);
    let service = service.restart().await;
    assert_eq!(
        service.plugin("dongle-lost").await.unwrap()["state"],
        "active"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_and_call_failures_say_what_happened_in_one_line() {
    let service = with_misbehave(Options {
        config: format!("max_plugin_mb = 1\n{}", misbehaving("recurse", "")),
        ..Options::default()
    })
    .await;
    let junk = service
        .put_plugin("junk", b"\x13\x37 random bytes, not a component".to_vec())
        .await;
    assert_eq!(junk.status(), 422);
    let error = junk.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!error.contains('\n'), "{error}");
    assert!(error.contains("magic bytes"), "{error}");

    let big = service.put_plugin("big", vec![0; 2 << 20]).await;
    assert_eq!(big.status(), 413);
    let error: Value = big.json().await.unwrap();
    assert!(
        error["error"].as_str().unwrap().contains("max_plugin_mb"),
        "{error}"
    );

    let results = service.evaluate(&report("lost-key-evening.xml")).await;
    let failure = failure_of(&results, "misbehave");
    assert_eq!(failure["kind"], "trap", "{failure:#}");
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("stack overflow"),
        "{failure:#}"
    );
}

/// A plugin that never fails but takes 90 ms a call holds every evaluation up: it is
/// charged for its time, shown with its cost, and switched off with the reason once its
/// mean passes the bound (50 ms), as a failing one is; the others' alerts go on. Its
/// deadline is far above its calls, so a loaded machine cannot turn slow into failing
/// (at 100 ms, a CI run saw three calls cut off and the plugin stopped as failing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_plugin_is_charged_for_its_time_and_switched_off() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    let (service, vector) = alerting_with(
        &fake,
        misbehaving(
            "slow",
            "millis = \"90\"\n[runtime.limits.misbehave]\ndeadline = \"2s\"\nslow_after = \"50ms\"\n",
        ),
    )
    .await;
    // The busy installations alert in a chat of their own: their four dozen alerts, paced
    // by Telegram's limit on a group, must not stand in front of the dongle's message.
    const BUSY_CHAT: i64 = -1009999999;
    fake.add_chat(BUSY_CHAT, "Busy clients");
    let mut tokens = Vec::new();
    for n in 0..12 {
        let id = format!("busy-{n}");
        let token = service
            .installation_in_chat(&id, "ООО «Вектор»", BUSY_CHAT)
            .await;
        tokens.push((id, token));
    }
    for (id, token) in &tokens {
        let sent = service
            .post_report(token, report_for("key-restored.xml", id))
            .await;
        assert_eq!(sent.status(), 202);
    }
    service.settle().await;
    let listed = service.plugin("misbehave").await.unwrap();
    assert_eq!(listed["state"], "disabled", "{listed:#}");
    assert_eq!(listed["stopped"]["why"], "slow", "{listed:#}");
    assert_eq!(listed["stopped"]["bound_ms"], 50.0, "{listed:#}");
    assert!(
        listed["stopped"]["mean_ms"].as_f64().unwrap() >= 90.0,
        "{listed:#}"
    );
    assert!(
        listed["disabled"]
            .as_str()
            .unwrap()
            .starts_with("too slow: its last 10 calls took "),
        "{listed:#}"
    );
    let cost = &listed["cost"];
    assert!(cost["mean_ms"].as_f64().unwrap() >= 90.0, "{cost:#}");
    assert!(
        cost["share"].as_f64().unwrap() > 0.5,
        "its calls are most of the time plugins took: {cost:#}"
    );
    let dongle = service.plugin("dongle-lost").await.unwrap();
    assert!(
        dongle["cost"]["mean_ms"].as_f64().unwrap() < 50.0,
        "{dongle:#}"
    );
    let calls = listed["evaluations"].as_u64().unwrap();

    let health = service.health().await;
    assert_eq!(health["status"], "degraded", "{health:#}");
    assert_eq!(health["problems"][0]["reason"], "plugin-off");
    assert!(
        health["problems"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("plugin `misbehave` was switched off: too slow"),
        "{health:#}"
    );

    // The others go on, without it.
    let started = Instant::now();
    let sent = service
        .post_report(&vector, report("lost-key-evening.xml"))
        .await;
    assert_eq!(sent.status(), 202);
    dongle_message_after(&fake, started).await;
    service.settle().await;
    assert_eq!(
        service.plugin("misbehave").await.unwrap()["evaluations"].as_u64(),
        Some(calls),
        "not called once off"
    );

    // An admin switching it on again gives it a fresh window.
    assert_eq!(
        service
            .post_admin("/api/v1/plugins/misbehave/enable")
            .await
            .status(),
        200
    );
    let listed = service.plugin("misbehave").await.unwrap();
    assert_eq!(listed["state"], "active", "{listed:#}");
    assert!(listed["stopped"].is_null(), "{listed:#}");
}

/// A string that is not UTF-8 is the plugin's fault: counted toward switching it off, not
/// a failure of the host's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_returning_what_is_not_text_is_at_fault() {
    let service = with_misbehave(Options {
        config: misbehaving("bad-utf8", ""),
        ..Options::default()
    })
    .await;
    let results = service.evaluate(&report("lost-key-evening.xml")).await;
    let failure = failure_of(&results, "misbehave");
    assert_eq!(failure["kind"], "invalid-output", "{failure:#}");
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .starts_with("returned what the host cannot read: "),
        "{failure:#}"
    );
    let token = service.installation("vector-main").await;
    for n in 0..3 {
        let sent = service
            .post_report(&token, later(&report("lost-key-evening.xml"), n))
            .await;
        assert_eq!(sent.status(), 202);
    }
    service.settle().await;
    let listed = service.plugin("misbehave").await.unwrap();
    assert_eq!(listed["state"], "disabled", "{listed:#}");
    assert_eq!(listed["stopped"]["why"], "failing", "{listed:#}");
}

/// An upload that is refused leaves nothing but its answer: no failed entry in the list or
/// in `/healthz`, and a revision serving under that name goes on as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_upload_leaves_nothing_behind() {
    let service = with_misbehave(Options::default()).await;
    let before = service.plugin("misbehave").await.unwrap();
    for name in ["junk", "misbehave"] {
        let refused = service
            .put_plugin(name, b"\x13\x37 not a component".to_vec())
            .await;
        assert_eq!(refused.status(), 422, "{name}");
    }
    assert!(service.plugin("junk").await.is_none());
    let after = service.plugin("misbehave").await.unwrap();
    assert_eq!(after["state"], "active");
    assert_eq!(after["sha256"], before["sha256"]);
    assert_eq!(after["last_error"], before["last_error"], "{after:#}");
    let health = service.health().await;
    assert_eq!(health["plugins"]["failed"], 0, "{health:#}");
    assert_eq!(health["status"], "ok", "{health:#}");
}

/// Bounded over time, not only per evaluation: a plugin opens at most ten new alerts an hour
/// on one installation (the rest stand in one alert that counts them), a finding that comes
/// and goes with every report becomes one flapping alert that waits for quiet, and info
/// findings go out folded, not a message each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_plugin_raises_is_bounded_over_time() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    fake.add_chat(CHAT, "Vector support");
    let clock = Arc::new(ManualClock::new(at("2026-11-20T12:00:00+03:00")));
    let service = with_misbehave(Options {
        telegram_api: Some(fake.api_url()),
        clock: Some(clock.clone()),
        config: "[alerts]\nresolve_reply = false\n".into(),
        ..Options::default()
    })
    .await;
    let post = async |id: &str, token: &str, n: i64| {
        let sent = service
            .post_report(token, later(&report_for("key-restored.xml", id), n))
            .await;
        assert_eq!(sent.status(), 202);
        service.settle().await;
    };
    let of = |alerts: &[Value], key: &str| alerts.iter().filter(|a| a["key"] == key).count();

    // A flood of 40 critical findings, three reports running.
    let flood = service.installation_of("flood-1", "Flood").await;
    let (status, _) = service
        .put_client_settings(
            "Flood",
            "misbehave",
            json!({"mode": "flood", "count": "40"}),
        )
        .await;
    assert_eq!(status, 200);
    for n in 0..3 {
        post("flood-1", &flood, n).await;
    }
    let alerts = service
        .alerts("installation=flood-1&plugin=misbehave")
        .await;
    assert_eq!(alerts.len(), 11, "ten and one for the rest: {alerts:#?}");
    let more = alerts.iter().find(|a| a["key"] == "+more").unwrap();
    assert_eq!(more["severity"], "critical");
    assert!(
        more["summary"]
            .as_str()
            .unwrap()
            .starts_with("misbehave found 30 more problems here than the 10 new alerts"),
        "{more:#}"
    );
    let findings = service.findings("flood-1").await;
    assert_eq!(
        findings
            .iter()
            .filter(|f| f["plugin"] == "misbehave")
            .count(),
        40,
        "every finding is kept and shown, only the alerts are bounded"
    );

    // A finding that flips with every report.
    let flip = service.installation_of("flip-1", "Flip").await;
    let (status, _) = service
        .put_client_settings("Flip", "misbehave", json!({"mode": "flip"}))
        .await;
    assert_eq!(status, 200);
    for n in 0..12 {
        clock.advance(Duration::from_secs(60));
        post("flip-1", &flip, n).await;
    }
    let flips = service.alerts("installation=flip-1&plugin=misbehave").await;
    assert_eq!(
        of(&flips, "flip"),
        3,
        "two before it flapped, then one: {flips:#?}"
    );
    let flapping = flips
        .iter()
        .find(|a| a["key"] == "flip" && a["state"] != "resolved")
        .expect("the flapping one stays open through the flaps");
    let id = flapping["id"].as_i64().unwrap();
    let timeline = service.alert(id).await["timeline"].to_string();
    assert!(timeline.contains("flapping"), "{timeline}");
    let messages = fake.bot_messages(-1001234567);
    assert!(
        messages
            .iter()
            .any(|m| m.text.contains("keeps coming and going")),
        "{messages:#?}"
    );
    // Quiet for half an hour: it resolves.
    let (status, _) = service
        .put_client_settings("Flip", "misbehave", json!({"mode": "ok"}))
        .await;
    assert_eq!(status, 200);
    post("flip-1", &flip, 100).await;
    clock.advance(Duration::from_secs(31 * 60));
    post("flip-1", &flip, 101).await;
    assert_eq!(service.alert(id).await["alert"]["state"], "resolved");

    // Thirteen info findings: folded, not thirteen messages.
    let chatty = service
        .installation_in_chat("chatty-1", "Chatty", -1002)
        .await;
    fake.add_chat(-1002, "Chatty support");
    let (status, _) = service
        .put_client_settings(
            "Chatty",
            "misbehave",
            json!({"mode": "chatty", "count": "13"}),
        )
        .await;
    assert_eq!(status, 200);
    post("chatty-1", &chatty, 0).await;
    let told = fake
        .wait_for(Duration::from_secs(30), |f| {
            let said: String = f
                .bot_messages(-1002)
                .iter()
                .map(|m| m.text.clone())
                .collect();
            (0..10).all(|n| said.contains(&format!("note {n}")))
                && said.contains("found 3 more problems")
        })
        .await;
    let messages = fake.bot_messages(-1002);
    assert!(told, "{messages:#?}");
    assert!(
        messages.len() <= 3,
        "{} messages for 13 info findings: {messages:#?}",
        messages.len()
    );
}

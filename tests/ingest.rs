//! Installations and report ingestion through the real HTTP API, on SQLite and PostgreSQL:
//! what is accepted is stored and evaluated, what is rejected says why and leaves nothing.

use reveille_tests::{Options, Service, TestDatabase, databases, later, report, report_for};
use serde_json::{Value, json};

async fn each_backend<F, Fut>(options: Options, test: F)
where
    F: Fn(Service, &'static str) -> Fut,
    Fut: std::future::Future<Output = Service>,
{
    for db in databases().await {
        let name = db.name;
        let service = Service::start(Options {
            database_url: db.url.clone(),
            ..options.clone()
        })
        .await;
        let mut service = test(service, name).await;
        service.stop().await;
        TestDatabase::drop_database(db).await;
    }
}

fn keys_of(findings: &[Value]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            format!(
                "{}/{}",
                f["plugin"].as_str().unwrap(),
                f["key"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installations_are_registered_validated_changed_and_removed() {
    each_backend(Options::default(), |service, backend| async move {
        let token = service.installation("cloud-1").await;
        assert!(token.starts_with("rvt_"), "{backend}");
        let (status, body) = service
            .create_installation(json!({
                "id": "vector-main", "client": "ООО «Вектор»", "manager": "Ivanov",
                "timezone": "Europe/Moscow", "telegram_chat_id": -100, "url": "https://vector.example.ru",
                "ip": "192.0.2.10", "parent": "cloud-1", "tags": ["msp", "moscow"],
            }))
            .await;
        assert_eq!(status, 201, "{backend}: {body}");
        assert_eq!(body["installation"]["parent"], "cloud-1");
        assert_eq!(body["installation"]["tags"], json!(["msp", "moscow"]));

        let refusals = [
            (json!({"id": "vector-main", "client": "c", "manager": "m", "timezone": "UTC", "telegram_chat_id": 1}), 409, "id: installation `vector-main` already exists"),
            (json!({"id": "x", "client": "c", "manager": "m", "timezone": "Mars/Base", "telegram_chat_id": 1}), 422, "timezone: unknown time zone `Mars/Base`"),
            (json!({"id": "x", "client": "c", "manager": "m", "timezone": "UTC", "telegram_chat_id": "one"}), 422, "telegram_chat_id"),
            (json!({"id": "x", "client": "c", "manager": "m", "timezone": "UTC"}), 422, "telegram_chat_id"),
            (json!({"id": "x", "client": "c", "manager": "m", "timezone": "UTC", "telegram_chat_id": 1, "colour": "red"}), 422, "colour"),
            (json!({"id": "x", "client": "c", "manager": "m", "timezone": "UTC", "telegram_chat_id": 1, "parent": "nowhere"}), 422, "parent: no installation `nowhere`"),
            (json!({"id": "x", "client": "c", "manager": "m", "timezone": "UTC", "telegram_chat_id": 1, "ip": "10.0.0"}), 422, "ip:"),
            (json!({"id": "x", "client": "c", "manager": "m", "timezone": "UTC", "telegram_chat_id": 1, "url": "ftp://x"}), 422, "url:"),
            (json!({"id": "no spaces", "client": "c", "manager": "m", "timezone": "UTC", "telegram_chat_id": 1}), 422, "id:"),
            (json!({"id": "x", "client": " ", "manager": "m", "timezone": "UTC", "telegram_chat_id": 1}), 422, "client: must not be empty"),
        ];
        for (body, status, message) in refusals {
            let (got, answer) = service.create_installation(body.clone()).await;
            assert_eq!(got, status, "{backend}: {body} → {answer}");
            assert!(answer["error"].as_str().unwrap().contains(message), "{backend}: {answer}");
        }
        let (status, _) = service.admin_request("GET", "/api/v1/installations/x", None).await;
        assert_eq!(status, 404, "a refused installation was stored");

        let (status, list) = service.admin_request("GET", "/api/v1/installations", None).await;
        assert_eq!(status, 200);
        assert_eq!(list["installations"].as_array().unwrap().len(), 2);

        let (status, patched) = service
            .admin_request("PATCH", "/api/v1/installations/vector-main", Some(json!({"timezone": "Asia/Yekaterinburg", "url": null})))
            .await;
        assert_eq!(status, 200, "{patched}");
        assert_eq!(patched["installation"]["timezone"], "Asia/Yekaterinburg");
        assert_eq!(patched["installation"]["url"], Value::Null);
        assert_eq!(patched["installation"]["ip"], "192.0.2.10");
        let (status, _) = service
            .admin_request("PATCH", "/api/v1/installations/vector-main", Some(json!({"timezone": "Nowhere"})))
            .await;
        assert_eq!(status, 422);

        let accepted = service.post_report(&token, report_for("lost-key-evening.xml", "cloud-1")).await;
        assert_eq!(accepted.status(), 202);
        let (status, rotated) = service.admin_request("POST", "/api/v1/installations/cloud-1/token", None).await;
        assert_eq!(status, 200);
        assert_eq!(service.post_report(&token, report_for("lost-key-evening.xml", "cloud-1")).await.status(), 401, "the old token still works");
        let new_token = rotated["token"].as_str().unwrap();
        assert_eq!(service.post_report(new_token, report_for("lost-key-evening.xml", "cloud-1")).await.status(), 202);

        let (status, body) = service.admin_request("DELETE", "/api/v1/installations/cloud-1", None).await;
        assert_eq!(status, 200, "{body}");
        let (status, _) = service.admin_request("DELETE", "/api/v1/installations/cloud-1", None).await;
        assert_eq!(status, 404);
        let (_, vector) = service.admin_request("GET", "/api/v1/installations/vector-main", None).await;
        assert_eq!(vector["installation"]["parent"], Value::Null, "{backend}");
        service
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_report_is_stored_evaluated_and_its_findings_shown() {
    each_backend(Options::default(), |service, backend| async move {
        let token = service.installation("vector-main").await;
        let response = service
            .post_report(&token, report("lost-key-evening.xml"))
            .await;
        assert_eq!(response.status(), 202, "{backend}");
        let body: Value = response.json().await.unwrap();
        assert!(body["report"].as_i64().unwrap() > 0);

        let findings = service.findings("vector-main").await;
        let keys = keys_of(&findings);
        for expected in [
            "dongle-lost/dongle-lost",
            "stale-updates/base-error:KDS-LAW",
            "limit-exhaustion/limit-reached",
            "redirect-down/redirect-down",
        ] {
            assert!(keys.contains(&expected.to_string()), "{backend}: {keys:?}");
        }
        let dongle = findings.iter().find(|f| f["key"] == "dongle-lost").unwrap();
        assert_eq!(dongle["severity"], "critical");
        let since = dongle["since"].as_i64().unwrap();

        // The same problem reported again keeps its `since`; a fixed one disappears.
        service
            .post_report(&token, later(&report("lost-key-evening.xml"), 3600))
            .await;
        let again = service.findings("vector-main").await;
        assert_eq!(
            again.iter().find(|f| f["key"] == "dongle-lost").unwrap()["since"].as_i64(),
            Some(since)
        );
        service
            .post_report(&token, report("key-restored.xml"))
            .await;
        let keys = keys_of(&service.findings("vector-main").await);
        assert!(
            !keys.contains(&"dongle-lost/dongle-lost".to_string()),
            "{backend}: {keys:?}"
        );
        assert_eq!(
            service.store().report_count("vector-main").await.unwrap(),
            3
        );
        service
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_windows_1251_report_comes_out_with_correct_cyrillic() {
    each_backend(Options::default(), |service, backend| async move {
        let token = service.installation("vector-main").await;
        let utf8 = String::from_utf8(report("lost-key-evening.xml"))
            .unwrap()
            .replace("UTF-8", "windows-1251");
        let (cp1251, _, unmappable) = encoding_rs::WINDOWS_1251.encode(&utf8);
        assert!(!unmappable);
        assert!(
            std::str::from_utf8(&cp1251).is_err(),
            "the body really is windows-1251"
        );
        assert_eq!(
            service
                .post_report(&token, cp1251.into_owned())
                .await
                .status(),
            202
        );
        let findings = service.findings("vector-main").await;
        let base = findings
            .iter()
            .find(|f| f["key"] == "base-error:KDS-LAW")
            .expect("base error");
        assert_eq!(
            base["summary"], "Content base Законодательство (KDS-LAW) is in error",
            "{backend}"
        );
        service
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_report_says_why_and_leaves_nothing_behind() {
    let options = Options {
        config: "max_report_mb = 1\n".into(),
        ..Options::default()
    };
    each_backend(options, |service, backend| async move {
        let token = service.installation("vector-main").await;
        service.installation("other").await;
        let good = report("lost-key-evening.xml");
        let text = String::from_utf8(good.clone()).unwrap();

        let anonymous = service
            .client
            .post(service.url("/api/v1/reports"))
            .body(good.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 401);
        assert_eq!(
            service
                .post_report("rvt_not-a-token", good.clone())
                .await
                .status(),
            401
        );

        let cases: Vec<(Vec<u8>, u16, &str)> = vec![
            (
                report_for("lost-key-evening.xml", "other"),
                403,
                "the report is for installation `other`",
            ),
            (
                b"<report schema=\"1\">\n  <bases>\n</report>".to_vec(),
                400,
                "line 3",
            ),
            (b"<inventory/>".to_vec(), 400, "root must be `<report>`"),
            (
                text.replace("schema=\"1\"", "schema=\"2\"").into_bytes(),
                400,
                "unsupported report schema `2`",
            ),
            (
                text.replace("2026-11-20T20:00:00+03:00", "20.11.2026 20:00")
                    .into_bytes(),
                400,
                "generated-at `20.11.2026 20:00` is not an RFC 3339",
            ),
            (
                text.replace("2026-11-20T20:00:00+03:00", "2026-11-20T20:00:00")
                    .into_bytes(),
                400,
                "not an RFC 3339",
            ),
        ];
        for (body, status, message) in cases {
            let response = service.post_report(&token, body).await;
            assert_eq!(response.status().as_u16(), status, "{backend}: {message}");
            let error: Value = response.json().await.expect("a JSON error");
            assert!(
                error["error"].as_str().unwrap().contains(message),
                "{backend}: {error}"
            );
        }
        let mut oversize = text.clone().into_bytes();
        oversize.extend(std::iter::repeat_n(b' ', 1 << 20));
        assert_eq!(
            service
                .post_report("rvt_not-a-token", oversize.clone())
                .await
                .status(),
            401,
            "a stranger is turned away before the body is read"
        );
        assert_eq!(service.post_report(&token, oversize).await.status(), 413);

        assert_eq!(
            service.store().report_count("vector-main").await.unwrap(),
            0,
            "{backend}"
        );
        assert!(service.findings("vector-main").await.is_empty());
        service
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_loses_no_accepted_report_and_evaluates_none_twice() {
    for db in databases().await {
        let options = Options {
            database_url: db.url.clone(),
            ..Options::default()
        };
        let service = Service::start(options).await;
        service.install_fixture("echo").await;
        let token = service.installation("vector-main").await;
        const REPORTS: usize = 30;
        for n in 0..REPORTS {
            assert_eq!(
                service
                    .post_report(&token, later(&report("lost-key-evening.xml"), n as i64))
                    .await
                    .status(),
                202
            );
        }
        // Stop at once, evaluations possibly still queued; then start again.
        let mut service = service.restart().await;
        let findings = service.findings("vector-main").await;
        let echo = findings
            .iter()
            .find(|f| f["plugin"] == "echo")
            .expect("echo's finding");
        assert_eq!(
            echo["summary"],
            format!("evaluation {REPORTS}"),
            "{}: each report evaluated exactly once",
            db.name
        );
        assert!(
            service
                .store()
                .pending_reports(i64::MAX)
                .await
                .unwrap()
                .is_empty()
        );
        service.stop().await;
        db.drop_database().await;
    }
}

/// An agent that never got its answer sends the report again, possibly many times and at
/// once: it is stored and evaluated once, and every copy is answered 202 with the first's
/// id. The same bytes gzipped are the same report; another moment is another report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_sent_again_is_kept_once() {
    each_backend(Options::default(), |service, backend| async move {
        let token = service.installation("vector-main").await;
        let xml = report("lost-key-evening.xml");
        let posts = (0..50).map(|_| service.post_report_as_is(&token, xml.clone()));
        let mut ids = std::collections::BTreeSet::new();
        let mut repeats = 0;
        for response in futures_util::future::join_all(posts).await {
            assert_eq!(response.status(), 202, "{backend}");
            let body: Value = response.json().await.unwrap();
            ids.insert(body["report"].as_i64().unwrap());
            repeats += usize::from(body["repeat"] == true);
        }
        assert_eq!(ids.len(), 1, "{backend}: one report, one id: {ids:?}");
        assert_eq!(repeats, 49, "{backend}");

        let mut gzipped = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gzipped, &xml).unwrap();
        let response = service
            .client
            .post(service.url("/api/v1/reports"))
            .bearer_auth(&token)
            .header("content-type", "application/xml")
            .header("content-encoding", "gzip")
            .body(gzipped.finish().unwrap())
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["repeat"], true, "{backend}: {body}");
        assert!(ids.contains(&body["report"].as_i64().unwrap()));

        let later = String::from_utf8(xml)
            .unwrap()
            .replace("2026-11-20T20:00:00+03:00", "2026-11-20T21:00:00+03:00");
        let response = service.post_report(&token, later.into_bytes()).await;
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["repeat"], false,
            "{backend}: another moment is another report"
        );
        assert!(!ids.contains(&body["report"].as_i64().unwrap()));

        service.settle().await;
        assert_eq!(
            service.store().report_count("vector-main").await.unwrap(),
            2,
            "{backend}"
        );
        let dongle = service.alerts("installation=vector-main").await;
        let fired: Vec<_> = dongle
            .iter()
            .filter(|a| a["plugin"] == "dongle-lost")
            .collect();
        assert_eq!(fired.len(), 1, "{backend}: {dongle:#?}");
        let metrics = service.get_text("/metrics").await;
        assert!(
            metrics.contains("reveille_reports_repeated_total 50"),
            "{backend}"
        );
        service
    })
    .await;
}

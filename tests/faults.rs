//! Promises kept under faults: a full database refuses reports (503, `Retry-After`)
//! instead of losing them and takes them again when there is room; a database out of
//! reach is answered at once, not after the agent's own timeout; `/healthz` says each of
//! these, and the Telegram outage and its backlog, within a second and without waiting on
//! anything.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use fake_telegram::FakeTelegram;
use reqwest::StatusCode;
use reveille_tests::{
    Options, Proxy, Service, Session, TELEGRAM_TOKEN, TestDatabase, large_report, report_for,
};
use serde_json::Value;
use sqlx::{Connection, Row};

fn message_of<'a>(health: &'a Value, reason: &str) -> &'a str {
    health["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["reason"] == reason)
        .and_then(|p| p["message"].as_str())
        .unwrap_or_else(|| panic!("no `{reason}` in {health:#}"))
}

/// A distinct report of `installation` (`n` in its generated-at and a comment), grown to
/// about `size` bytes so that the database fills.
fn nth_report(installation: &str, n: usize, size: usize) -> Vec<u8> {
    let xml = String::from_utf8(large_report(size)).unwrap();
    xml.replace("\"vector-main\"", &format!("\"{installation}\""))
        .replace(
            "generated-at=\"2026-11-20T20:00:00+03:00\"",
            &format!(
                "generated-at=\"2026-11-20T20:{:02}:{:02}+03:00\"",
                n / 60 % 60,
                n % 60
            ),
        )
        .replace("</report>", &format!("<!-- {n} --></report>"))
        .into_bytes()
}

/// Every report id the database holds, and those evaluated.
async fn stored_reports(url: &str) -> (BTreeSet<i64>, BTreeSet<i64>) {
    let mut db = sqlx::AnyConnection::connect(url)
        .await
        .expect("open the database");
    let rows = sqlx::query("SELECT id, evaluated_at FROM reports")
        .fetch_all(&mut db)
        .await
        .unwrap();
    let mut all = BTreeSet::new();
    let mut evaluated = BTreeSet::new();
    for row in rows {
        let id: i64 = row.get("id");
        all.insert(id);
        if row.get::<Option<i64>, _>("evaluated_at").is_some() {
            evaluated.insert(id);
        }
    }
    (all, evaluated)
}

#[tokio::test]
async fn a_full_database_refuses_reports_it_cannot_keep_and_takes_them_again_when_there_is_room() {
    sqlx::any::install_default_drivers();
    let service = Service::start(Options {
        config: "[database]\nmax_size_mb = 2\n".into(),
        ..Options::default()
    })
    .await;
    let filler = service.installation("filler").await;
    let token = service.installation("vector-main").await;

    // Fill the database: every report answered 202 is kept; the first refusal is a 503
    // that says why and when to come back.
    let mut accepted = Vec::new();
    let mut refused = None;
    for n in 0..2_000 {
        let response = service
            .post_report(&filler, nth_report("filler", n, 20_000))
            .await;
        match response.status() {
            StatusCode::ACCEPTED => {
                let body: Value = response.json().await.unwrap();
                accepted.push(body["report"].as_i64().unwrap());
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                let retry = response.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .to_string();
                refused = Some((retry, response.json::<Value>().await.unwrap()));
                break;
            }
            other => panic!("report {n}: {other}: {}", response.text().await.unwrap()),
        }
    }
    let (retry, body) = refused.expect("the database filled up");
    assert_eq!(retry, "5");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("disk full") && error.contains("nothing was kept"),
        "{error}"
    );
    assert!(accepted.len() > 20, "{} reports fit", accepted.len());

    // Nothing else gets in either, and health says so at once.
    for n in 0..5 {
        let response = service
            .post_report(&token, nth_report("vector-main", n, 20_000))
            .await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    // A small write may still fit in a page with room: then it is kept.
    let (late, _) = service
        .create_installation(serde_json::json!({
            "id": "late", "client": "ООО «Вектор»", "manager": "Ivanov",
            "timezone": "Europe/Moscow", "telegram_chat_id": -1,
        }))
        .await;
    assert!(late == 201 || late == 503, "{late}");
    let health = service.health().await;
    assert_eq!(health["status"], "degraded", "{health:#}");
    assert!(
        message_of(&health, "database-write").starts_with("cannot write (disk full) since "),
        "{health:#}"
    );
    let metrics = service.get_text("/metrics").await;
    assert!(
        metrics.contains("reveille_database_write_failures_total{condition=\"disk-full\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("reveille_reports_rejected_total{reason=\"unavailable\"}"));

    // Room comes back (the filler is deleted, and its reports with it): writes go on by
    // themselves, and a report refused before is taken when sent again.
    let (status, _) = service
        .admin_request("DELETE", "/api/v1/installations/filler", None)
        .await;
    assert_eq!(status, 200);
    let mut kept = Vec::new();
    for n in 0..10 {
        let response = service
            .post_report(&token, nth_report("vector-main", n, 20_000))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::ACCEPTED,
            "report {n} after room came back"
        );
        kept.push(
            response.json::<Value>().await.unwrap()["report"]
                .as_i64()
                .unwrap(),
        );
    }
    assert!(
        kept.iter().all(|id| id > accepted.last().unwrap()),
        "ids go on from where they were: {kept:?} after {:?}",
        accepted.last()
    );
    service.settle().await;
    let healthy = service
        .eventually(Duration::from_secs(15), || async {
            service.health().await["status"] == "ok"
        })
        .await;
    assert!(healthy, "{:#}", service.health().await);

    // What was answered 202 is in the file, evaluated, after a stop too.
    let data = service.data_dir.clone();
    let mut service = service;
    service.stop().await;
    let url = format!("sqlite://{}", data.join("reveille.db").display());
    let (all, evaluated) = stored_reports(&url).await;
    for id in &kept {
        assert!(all.contains(id), "report {id} was answered 202 and is gone");
        assert!(evaluated.contains(id), "report {id} was never evaluated");
    }
    let mut db = sqlx::AnyConnection::connect(&url).await.unwrap();
    let installations: Vec<String> = sqlx::query_scalar("SELECT id FROM installations ORDER BY id")
        .fetch_all(&mut db)
        .await
        .unwrap();
    let expected: &[&str] = if late == 201 {
        &["late", "vector-main"]
    } else {
        &["vector-main"]
    };
    assert_eq!(installations, expected, "answered {late}");
}

#[tokio::test]
async fn a_database_out_of_reach_is_answered_at_once_and_loses_nothing() {
    let Ok(admin_url) = std::env::var("REVEILLE_TEST_POSTGRES_URL") else {
        eprintln!("REVEILLE_TEST_POSTGRES_URL is not set: the PostgreSQL cut is not tried");
        return;
    };
    sqlx::any::install_default_drivers();
    let database = TestDatabase::postgres(admin_url).await;
    let direct = database.url.clone().unwrap();
    let server = direct
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_string();
    let proxy = Proxy::start(server.clone()).await;
    let through_proxy = direct.replace(&server, &proxy.addr.to_string());
    let service = Service::start(Options {
        database_url: Some(through_proxy),
        config: "[database]\nacquire_timeout = \"1s\"\n".into(),
        ..Options::default()
    })
    .await;
    let token = service.installation("vector-main").await;
    let admin = Session::first_admin(&service, "admin", "correct horse battery").await;
    let mut accepted = Vec::new();
    for n in 0..3 {
        let response = service
            .post_report(&token, nth_report("vector-main", n, 1_000))
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        accepted.push(
            response.json::<Value>().await.unwrap()["report"]
                .as_i64()
                .unwrap(),
        );
    }

    proxy.cut();
    // An agent is told to come back within the bound, not held until its own timeout.
    for n in 3..6 {
        let asked = Instant::now();
        let response = service
            .post_report(&token, nth_report("vector-main", n, 1_000))
            .await;
        let took = asked.elapsed();
        assert_eq!(
            response.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "report {n}"
        );
        assert_eq!(response.headers()["retry-after"], "5");
        // Well short of the 30 s an agent waited before, with room for a loaded machine.
        assert!(took < Duration::from_secs(6), "report {n} waited {took:?}");
        let error = response.json::<Value>().await.unwrap()["error"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(error.contains("database unreachable"), "{error}");
    }
    // Health answers at once, and says why.
    let asked = Instant::now();
    let health = service.health().await;
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "/healthz took {:?}",
        asked.elapsed()
    );
    assert_eq!(health["status"], "degraded", "{health:#}");
    assert!(
        message_of(&health, "database-unreachable").starts_with("database unreachable since "),
        "{health:#}"
    );
    // A page says it too, in the reader's language, instead of spinning.
    let asked = Instant::now();
    let page = service
        .client
        .get(service.url("/"))
        .header("cookie", &admin.cookie)
        .header("accept-language", "ru")
        .send()
        .await
        .unwrap();
    assert!(
        asked.elapsed() < Duration::from_secs(6),
        "the page took {:?}",
        asked.elapsed()
    );
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    let text = page.text().await.unwrap();
    assert!(text.contains("база данных недоступна"), "{text}");

    proxy.restore();
    let mut later = Vec::new();
    for n in 3..6 {
        let mut response = None;
        for _ in 0..40 {
            let sent = service
                .post_report(&token, nth_report("vector-main", n, 1_000))
                .await;
            if sent.status() == StatusCode::ACCEPTED {
                response = Some(sent);
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let response = response.expect("reports are taken again once the database is back");
        later.push(
            response.json::<Value>().await.unwrap()["report"]
                .as_i64()
                .unwrap(),
        );
    }
    service.settle().await;
    let healthy = service
        .eventually(Duration::from_secs(15), || async {
            service.health().await["status"] == "ok"
        })
        .await;
    assert!(healthy, "{:#}", service.health().await);
    let mut service = service;
    service.stop().await;
    let (all, evaluated) = stored_reports(&direct).await;
    for id in accepted.iter().chain(&later) {
        assert!(all.contains(id) && evaluated.contains(id), "report {id}");
    }
    database.drop_database().await;
}

#[tokio::test]
async fn health_sees_telegram_refuse_or_go_away_and_the_notices_that_wait() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    fake.add_chat(-1001234567, "Вектор");
    let service = Service::start(Options {
        telegram_api: Some(fake.api_url()),
        config: "[health]\ntelegram_after = \"2s\"\nnotices_after = \"3s\"\n".into(),
        ..Options::default()
    })
    .await;
    let token = service.installation("vector-main").await;
    assert_eq!(service.health().await["status"], "ok");
    let problem =
        async |reason: &str, says: &str| {
            service
                .eventually(Duration::from_secs(20), || async {
                    let health = service.health().await;
                    health["problems"].as_array().unwrap().iter().any(|p| {
                        p["reason"] == reason && p["message"].as_str().unwrap().contains(says)
                    })
                })
                .await
        };

    // Flood control: the Bot API answers 429 to every message for a while. Reading
    // updates still works, which does not make the channel look well.
    fake.rate_limit(6);
    let response = service
        .post_report(&token, report_for("lost-key-evening.xml", "vector-main"))
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(
        problem("telegram-failing", "(the latest: 429; bound: 2 s)").await,
        "{:#}",
        service.health().await
    );

    // Then gone altogether: the notices wait, and health says how many and how long.
    fake.go_down();
    assert!(
        problem("telegram-failing", "(the latest: network; bound: 2 s)").await,
        "{:#}",
        service.health().await
    );
    assert!(problem("notices-waiting", "telegram notices wait; the oldest for ").await);
    let health = service.health().await;
    let waiting = health["outbox"]["telegram"]["waiting"].as_i64().unwrap();
    assert!(waiting >= 1, "{health:#}");
    assert!(
        message_of(&health, "notices-waiting")
            .starts_with(&format!("{waiting} telegram notices wait; the oldest for ")),
        "{health:#}"
    );
    let metrics = service.get_text("/metrics").await;
    for series in [
        "reveille_telegram_calls_total{outcome=\"429\"}",
        "reveille_telegram_calls_total{outcome=\"network\"}",
        &format!("reveille_outbox_waiting{{channel=\"telegram\"}} {waiting}"),
        "reveille_outbox_oldest_seconds{channel=\"telegram\"}",
        "reveille_evaluation_queue_wait_seconds_count",
    ] {
        assert!(metrics.contains(series), "{series} in {metrics}");
    }

    // Back: delivered, and well again.
    fake.come_up().await;
    let delivered = service
        .eventually(Duration::from_secs(30), || async {
            !fake.bot_messages(-1001234567).is_empty() && service.health().await["status"] == "ok"
        })
        .await;
    assert!(delivered, "{:#}", service.health().await);
    let metrics = service.get_text("/metrics").await;
    assert!(
        metrics.contains("reveille_telegram_calls_total{outcome=\"ok\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn health_warns_before_the_disk_is_full() {
    let service = Service::start(Options {
        config: "[health]\nmin_free_mb = 1000000000\n".into(),
        ..Options::default()
    })
    .await;
    let low = service
        .eventually(Duration::from_secs(5), || async {
            service.health().await["status"] == "degraded"
        })
        .await;
    assert!(low);
    let health = service.health().await;
    assert_eq!(health["status"], "degraded");
    let message = message_of(&health, "disk-low");
    assert!(
        message.starts_with(&format!("free space on {} is ", service.data_dir.display()))
            && message.ends_with("MiB, below the floor of 1000000000 MiB"),
        "{message}"
    );
}

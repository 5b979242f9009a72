//! Replaying a rule over stored history through the admin API: a month of reports for 50
//! installations, a candidate `stale-updates` with a one-day threshold against the
//! installed three-day one, counted against a hand-made expectation; failures, caps and
//! refusals said plainly; nothing live touched.
//!
//! The history is stored through ingest as the API stores reports, with chosen receive
//! times (`Service::seed_report`); the replays themselves go through the HTTP API.

use std::time::Duration;

use reveille_tests::{ADMIN_TOKEN, Options, Service, builtin_plugin, fixture_plugin};
use serde_json::Value;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// 2026-11-01T00:00:00Z: the month replayed starts here.
const T0: i64 = 1_793_491_200_000;

fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

/// A report whose only base was last updated at `updated`.
fn report(installation: &str, at: i64, updated: i64) -> String {
    format!(
        r#"<report schema="1" agent="report-agent" generated-at="{}">
             <installation id="{installation}"><client>ООО «Вектор»</client></installation>
             <bases><base code="KDS-SNIP" update="4287" operup-at="{}"/></bases>
           </report>"#,
        rfc3339(at),
        rfc3339(updated)
    )
}

/// When each kind of installation last got a content update, as of `at`:
/// - `daily`: every day at midnight, never stale;
/// - `gap-2d`: none from day 10 until day 12 noon (2.5 days: stale by one day, not three);
/// - `gap-4d`: none from day 15 until day 19 (4 days: stale by either threshold);
/// - `stopped`: none from day 25 on (still stale when the month ends).
fn last_update(kind: &str, at: i64) -> i64 {
    let midnight = at - at.rem_euclid(DAY);
    let (stop, resume) = match kind {
        "daily" => return midnight,
        "gap-2d" => (T0 + 10 * DAY, T0 + 12 * DAY + 12 * HOUR),
        "gap-4d" => (T0 + 15 * DAY, T0 + 19 * DAY),
        "stopped" => (T0 + 25 * DAY, i64::MAX),
        other => panic!("{other}"),
    };
    if at >= stop && at < resume {
        stop
    } else if at >= resume {
        resume.max(midnight)
    } else {
        midnight
    }
}

/// 50 installations (20 daily, 15 with a two-day gap, 10 with a four-day gap, 5 that stop
/// being updated), each reporting every six hours for the month from `T0`.
async fn month_of_history(service: &Service) -> Vec<(String, &'static str)> {
    let kinds = [
        ("daily", 20),
        ("gap-2d", 15),
        ("gap-4d", 10),
        ("stopped", 5),
    ];
    let mut fleet = Vec::new();
    for (kind, count) in kinds {
        for n in 0..count {
            let id = format!("{kind}-{n:02}");
            service.installation(&id).await;
            fleet.push((id, kind));
        }
    }
    for (id, kind) in &fleet {
        for k in 0..(30 * 4) {
            let at = T0 + k * 6 * HOUR;
            service
                .seed_report(id, at, &report(id, at, last_update(kind, at)))
                .await;
        }
    }
    fleet
}

/// `POST /api/v1/plugins/{plugin}/replay?{query}` with `candidate` as the body.
async fn start(service: &Service, plugin: &str, query: &str, candidate: Vec<u8>) -> (u16, Value) {
    let response = service
        .client
        .post(service.url(&format!("/api/v1/plugins/{plugin}/replay?{query}")))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/wasm")
        .body(candidate)
        .send()
        .await
        .expect("POST replay");
    let status = response.status().as_u16();
    if status == 202 {
        let location = response.headers()["location"].to_str().unwrap().to_string();
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            location,
            format!("/api/v1/replays/{}", body["replay"]["id"])
        );
        return (status, body);
    }
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Polls the replay until it is no longer running; returns it.
async fn finished(service: &Service, id: i64) -> Value {
    for _ in 0..1200 {
        let body: Value = service
            .client
            .get(service.url(&format!("/api/v1/replays/{id}")))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("GET replay")
            .json()
            .await
            .expect("replay JSON");
        let state = body["replay"]["state"].as_str().unwrap_or_default();
        if state != "running" && state != "cancelling" {
            return body["replay"].clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("replay {id} did not finish in two minutes");
}

/// Starts a replay and waits for it to end.
pub(crate) async fn replay(
    service: &Service,
    plugin: &str,
    query: &str,
    candidate: Vec<u8>,
) -> Value {
    let (status, body) = start(service, plugin, query, candidate).await;
    assert_eq!(status, 202, "{body}");
    finished(service, body["replay"]["id"].as_i64().unwrap()).await
}

fn service_after_the_month() -> Options {
    let clock = reveille::clock::ManualClock::new(T0 + 31 * DAY);
    Options {
        clock: Some(std::sync::Arc::new(clock)),
        ..Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_day_threshold_adds_exactly_the_alerts_counted_by_hand() {
    let service = Service::start(service_after_the_month()).await;
    let fleet = month_of_history(&service).await;
    let window = format!(
        "since={}&until={}&tick_every=6h",
        rfc3339(T0),
        rfc3339(T0 + 30 * DAY)
    );
    let query = format!("{window}&config=threshold%3D1d");
    let done = replay(
        &service,
        "stale-updates",
        &query,
        builtin_plugin("stale-updates"),
    )
    .await;
    assert_eq!(done["state"], "done", "{done}");
    let result = &done["result"];
    assert_eq!(result["installations"], 50);
    assert_eq!(result["reports"], 50 * 120);
    assert_eq!(result["stopped_early"], Value::Null);
    assert_eq!(result["failures"]["count"], 0, "{}", result["failures"]);
    // By hand: a one-day threshold fires once on each of the 15 two-day gaps, the 10
    // four-day gaps and the 5 that stopped; only the last 5 are still open at the end.
    assert_eq!(result["fired"], 30, "{result}");
    assert_eq!(result["resolved"], 25);
    assert_eq!(result["open_at_end"], 5);
    // The installed three-day threshold never fires on a two-day gap and fires two days
    // later on the others: 15 added, 15 earlier, none removed.
    let difference = &result["difference"];
    assert_eq!(difference["added"], 15, "{difference}");
    assert_eq!(difference["earlier"], 15);
    assert_eq!(difference["removed"], 0);
    assert_eq!(difference["later"], 0);
    assert_eq!(difference["same"], 0);
    let alerts = difference["alerts"].as_array().unwrap();
    let added: Vec<&Value> = alerts.iter().filter(|a| a["change"] == "added").collect();
    assert!(
        added
            .iter()
            .all(|a| a["installation"].as_str().unwrap().starts_with("gap-2d"))
    );
    // The first evaluation past a day after the gap began: the next six-hourly one.
    assert_eq!(added[0]["fired_at"], T0 + 11 * DAY + 6 * HOUR);
    assert_eq!(added[0]["resolved_at"], T0 + 12 * DAY + 12 * HOUR);
    assert_eq!(added[0]["severity"], "warning");
    assert_eq!(
        added[0]["summary"],
        "Content updates stale: the newest is 1d 6h old"
    );
    assert_eq!(
        added[0]["translations"][0]["summary"],
        "Обновления устарели: самому свежему 1 д 6 ч"
    );
    let earlier = alerts
        .iter()
        .find(|a| a["change"] == "earlier" && a["installation"] == "gap-4d-00")
        .expect("gap-4d-00 fires earlier");
    assert_eq!(earlier["fired_at"], T0 + 16 * DAY + 6 * HOUR);
    assert_eq!(earlier["serving_fired_at"], T0 + 18 * DAY + 6 * HOUR);
    let request = &done["request"];
    assert_eq!(request["candidate"]["uploaded"], true);
    assert_eq!(request["settings"]["threshold"], "1d");
    assert_eq!(
        request["compared_with"]["api_version"],
        reveille_sdk::API_VERSION
    );

    // The installed plugin alone, as it runs: its own alerts, nothing to compare.
    let serving = replay(&service, "stale-updates", &window, Vec::new()).await;
    let result = &serving["result"];
    assert_eq!(
        (result["fired"].as_i64(), result["open_at_end"].as_i64()),
        (Some(15), Some(5))
    );
    assert_eq!(result["difference"], Value::Null);

    // Nothing live was touched: no alert, finding, state or notice.
    assert!(service.alerts("").await.is_empty());
    assert_eq!(service.store().outbox_backlog().await.unwrap().0, 0);
    for (id, _) in &fleet {
        assert!(service.findings(id).await.is_empty(), "{id}");
        assert!(
            service.store().plugin_state(id).await.unwrap().is_empty(),
            "{id}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_says_when_it_stopped_early_and_what_failed() {
    let service = Service::start(service_after_the_month()).await;
    service.installation("vector-main").await;
    for k in 0..50 {
        let at = T0 + k * HOUR;
        service
            .seed_report("vector-main", at, &report("vector-main", at, at))
            .await;
    }
    service.install_fixture("echo").await;
    let since = format!("since={}&tick_every=1h", rfc3339(T0));

    let capped = replay(
        &service,
        "echo",
        &format!("{since}&max_reports=20"),
        Vec::new(),
    )
    .await;
    assert_eq!(capped["state"], "done");
    let result = &capped["result"];
    assert_eq!(result["reports"], 20);
    assert_eq!(result["stopped_early"]["why"], "report-cap");
    assert!(
        result["stopped_early"]["message"]
            .as_str()
            .unwrap()
            .contains("the cap of 20 reports was reached"),
        "{result}"
    );

    // A candidate setting that makes every evaluation fail: counted, quoted, never an
    // alert, and the serving plugin's health untouched.
    let failing = replay(
        &service,
        "echo",
        &format!("{since}&config=fail%3Dboom"),
        Vec::new(),
    )
    .await;
    let result = &failing["result"];
    let failures = &result["failures"];
    assert!(failures["count"].as_u64().unwrap() >= 50, "{failures}");
    assert_eq!(failures["by_kind"]["plugin-error"], failures["count"]);
    assert_eq!(failures["examples"][0]["message"], "boom");
    assert_eq!(result["fired"], 0);
    // The serving echo (compared because the settings differ) fires from the first
    // report on: every alert of it is one the candidate removes.
    assert_eq!(result["difference"]["removed"], 1);
    let echo = service.plugin("echo").await.unwrap();
    assert_eq!(echo["failures"], 0, "{echo}");
    assert_eq!(echo["state"], "active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_say_what_is_wrong_and_start_nothing() {
    let service = Service::start(service_after_the_month()).await;
    service.installation("vector-main").await;
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "no-such-check",
            "",
            Vec::new(),
            404,
            "no plugin named `no-such-check`",
        ),
        (
            "stale-updates",
            "config=threshold%3D3%20days",
            Vec::new(),
            400,
            "plugin `stale-updates`, setting `threshold`: `3 days` is not a duration",
        ),
        (
            "stale-updates",
            "config=treshold%3D1d",
            Vec::new(),
            400,
            "has no setting `treshold`",
        ),
        (
            "stale-updates",
            "since=yesterday",
            Vec::new(),
            400,
            "since `yesterday`",
        ),
        (
            "stale-updates",
            "installation=nowhere",
            Vec::new(),
            400,
            "no installation `nowhere`",
        ),
        (
            "stale-updates",
            "",
            fixture_plugin("echo"),
            422,
            "describes itself as `echo` but was loaded as `stale-updates`",
        ),
        (
            "stale-updates",
            "",
            b"not wasm".to_vec(),
            422,
            "candidate `stale-updates` refused",
        ),
    ];
    for (plugin, query, body, status, says) in cases {
        let (got, answer) = start(&service, plugin, query, body).await;
        assert_eq!(got, status, "{plugin}?{query}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(says), "{plugin}?{query}: {error}");
    }
    let listed: Value = service
        .client
        .get(service.url("/api/v1/replays"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["replays"], serde_json::json!([]));
}

//! A report's own time, end to end: a week of a fleet's reports that arrive at once (the
//! agents were cut off and send their backlog) are judged as of when they were made. What
//! opened and closed inside the backlog pages nobody and is told in one quiet message per
//! installation; what is still true is announced with its real start; a replay of that
//! week sees it hour by hour.

use std::sync::Arc;
use std::time::Duration;

use fake_telegram::{ChatMessage, FakeTelegram};
use reveille::clock::ManualClock;
use reveille_tests::{Options, Service, TELEGRAM_TOKEN, at, builtin_plugin, fixture_plugin};
use serde_json::Value;

use crate::replay::replay;

const WAIT: Duration = Duration::from_secs(20);
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
const CLIENT: &str = "ООО «Вектор»";
/// Each installation's chat.
const ALFA: i64 = -1_001;
const BETA: i64 = -1_002;
const GAMMA: i64 = -1_003;

fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

/// A report of `installation` made at `made`, its dongle `dongle`, its one base last
/// updated at `updated`.
fn report(installation: &str, made: i64, dongle: &str, updated: i64) -> Vec<u8> {
    format!(
        r#"<report schema="1" agent="report-agent" generated-at="{}">
  <installation id="{installation}"><client>{CLIENT}</client></installation>
  <protection kind="senselock" state="{dongle}"/>
  <bases><base code="KDS-SNIP" name="Строительство" update="4287" operup-at="{}" state="ok"/></bases>
</report>"#,
        rfc3339(made),
        rfc3339(updated)
    )
    .into_bytes()
}

/// The week (Moscow time): day 1 is 22 November. Every installation reports on the hour
/// and gets a content update every day at 02:00, except:
/// - `alfa` loses its dongle on day 2 from 20:00 until 23:00 (three reports say `lost`);
/// - `beta` gets its last update on day 4 (25 November, 02:00): with the installed
///   three-day threshold it is stale from the report of 28 November 03:00 on, with a
///   one-day threshold from 26 November 03:00 (the first report past the threshold; the
///   hourly ticks before it see exactly the threshold, not more).
struct Week {
    start: i64,
}

impl Week {
    fn new() -> Week {
        Week {
            start: at("2026-11-22T00:00:00+03:00"),
        }
    }

    /// Hour `h`'s report of `installation`.
    fn report(&self, installation: &str, h: i64) -> Vec<u8> {
        let made = self.start + h * HOUR;
        let dongle = if installation == "alfa"
            && (DAY + 20 * HOUR..DAY + 23 * HOUR).contains(&(made - self.start))
        {
            "lost"
        } else {
            "present"
        };
        let last_update = |t: i64| {
            let two = 2 * HOUR;
            let since_start = t - self.start;
            let day = (since_start - two).div_euclid(DAY);
            self.start + day * DAY + two
        };
        let updated = match installation {
            "beta" => last_update(made).min(self.start + 3 * DAY + 2 * HOUR),
            _ => last_update(made),
        };
        report(installation, made, dongle, updated)
    }
}

fn bot(fake: &FakeTelegram, chat: i64) -> Vec<ChatMessage> {
    fake.bot_messages(chat)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weeks_backlog_pages_nobody_for_what_was_over() {
    let week = Week::new();
    let hours = 7 * 24;
    // The agents come back five minutes after their last report was made: that one is on
    // time, the week before it is old news.
    let clock = Arc::new(ManualClock::new(week.start + hours * HOUR + 5 * 60_000));
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    for (chat, title) in [(ALFA, "Alfa"), (BETA, "Beta"), (GAMMA, "Gamma")] {
        fake.add_chat(chat, title);
    }
    let service = Service::start(Options {
        clock: Some(clock.clone()),
        telegram_api: Some(fake.api_url()),
        ..Options::default()
    })
    .await;
    let mut tokens = Vec::new();
    for (id, chat) in [("alfa", ALFA), ("beta", BETA), ("gamma", GAMMA)] {
        tokens.push((id, service.installation_in_chat(id, CLIENT, chat).await));
    }
    for h in 0..=hours {
        for (id, token) in &tokens {
            let response = service.post_report_as_is(token, week.report(id, h)).await;
            assert_eq!(response.status(), 202, "{id} at hour {h}");
        }
    }
    service.settle().await;

    // Alfa: one quiet message says what happened while it could not be heard.
    assert!(
        fake.wait_for(WAIT, |f| !bot(f, ALFA).is_empty()
            && !bot(f, BETA).is_empty())
            .await,
        "alfa: {:#?}\nbeta: {:#?}",
        bot(&fake, ALFA),
        bot(&fake, BETA)
    );
    // Whatever else would come has had its chance.
    service.settle().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let alfa = bot(&fake, ALFA);
    assert_eq!(alfa.len(), 1, "{alfa:#?}");
    let told = &alfa[0];
    assert!(told.silent, "old news makes no sound: {told:#?}");
    assert!(
        told.text
            .contains("While alfa could not reach us (22.11.2026 00:00 – 29.11.2026 00:05)"),
        "{}",
        told.text
    );
    assert!(told.text.contains("License dongle lost"), "{}", told.text);
    assert!(
        told.text.contains("23.11.2026 20:00 – 23.11.2026 23:00"),
        "{}",
        told.text
    );
    assert!(told.text.contains("(for 3h)"), "{}", told.text);

    // Beta: the stale updates still hold; announced as any alert, since when they began.
    let beta = bot(&fake, BETA);
    assert_eq!(beta.len(), 1, "{beta:#?}");
    assert!(
        beta[0].text.contains("Content updates stale"),
        "{}",
        beta[0].text
    );
    assert!(
        beta[0].text.contains("Since 28.11.2026 03:00"),
        "{}",
        beta[0].text
    );
    assert!(!beta[0].silent);

    // Gamma: nothing happened, nothing said.
    assert!(bot(&fake, GAMMA).is_empty(), "{:#?}", bot(&fake, GAMMA));

    // The alerts keep their own times, and are told like any other from now on.
    let alerts = service.alerts("").await;
    let dongle = alerts
        .iter()
        .find(|a| a["installation_id"] == "alfa")
        .expect("alfa's dongle alert");
    assert_eq!(dongle["state"], "resolved");
    assert_eq!(dongle["fired_at"], week.start + DAY + 20 * HOUR);
    assert_eq!(dongle["resolved_at"], week.start + DAY + 23 * HOUR);
    assert_eq!(dongle["late"], false);
    let stale = alerts
        .iter()
        .find(|a| a["installation_id"] == "beta")
        .expect("beta's stale alert");
    assert_eq!(stale["state"], "firing");
    assert_eq!(stale["fired_at"], week.start + 6 * DAY + 3 * HOUR);
    assert_eq!(alerts.len(), 2, "{alerts:#?}");

    let metrics = service.get_text("/metrics").await;
    assert!(
        metrics.contains(&format!(
            "reveille_reports_out_of_time_total{{why=\"late\"}} {}",
            3 * hours
        )),
        "{metrics}"
    );

    // The replay of that week sees it hour by hour: a one-day threshold fires on beta
    // two days before the installed three-day one, and on nothing else.
    let query = format!(
        "since={}&until={}&tick_every=1h&config=threshold%3D1d",
        rfc3339(week.start),
        rfc3339(week.start + hours * HOUR + HOUR)
    );
    let done = replay(
        &service,
        "stale-updates",
        &query,
        builtin_plugin("stale-updates"),
    )
    .await;
    let result = &done["result"];
    assert_eq!(result["reports"], 3 * (hours + 1), "{result}");
    assert_eq!(result["fired"], 1, "{result}");
    assert_eq!(result["open_at_end"], 1, "{result}");
    let difference = &result["difference"];
    assert_eq!(
        (
            difference["added"].as_i64(),
            difference["removed"].as_i64(),
            difference["earlier"].as_i64(),
            difference["later"].as_i64()
        ),
        (Some(0), Some(0), Some(1), Some(0)),
        "{difference}"
    );
    let earlier = &difference["alerts"][0];
    assert_eq!(earlier["installation"], "beta");
    assert_eq!(earlier["fired_at"], week.start + 4 * DAY + 3 * HOUR);
    assert_eq!(earlier["serving_fired_at"], week.start + 6 * DAY + 3 * HOUR);
}

/// A report older than the newest one evaluated for its installation is kept, and judged
/// as history: it changes nothing that holds now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_older_than_the_last_one_judged_changes_nothing() {
    let week = Week::new();
    let clock = Arc::new(ManualClock::new(week.start + 2 * DAY + 10 * 60_000));
    let service = Service::start(Options {
        clock: Some(clock.clone()),
        ..Options::default()
    })
    .await;
    let token = service.installation_in_chat("alfa", CLIENT, ALFA).await;
    let now = report(
        "alfa",
        week.start + 2 * DAY,
        "present",
        week.start + 2 * DAY,
    );
    let earlier = report(
        "alfa",
        week.start + 2 * DAY - HOUR,
        "lost",
        week.start + 2 * DAY,
    );
    for xml in [now, earlier] {
        assert_eq!(service.post_report_as_is(&token, xml).await.status(), 202);
    }
    assert!(service.findings("alfa").await.is_empty());
    assert!(service.alerts("").await.is_empty());
    assert_eq!(service.store().report_count("alfa").await.unwrap(), 2);
}

/// A report made longer ago than reports are kept is refused, saying so; one from a clock
/// ahead of ours is judged as of its arrival.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_too_old_are_refused_and_clocks_ahead_clamped() {
    let now = at("2026-12-01T12:00:00+03:00");
    let clock = Arc::new(ManualClock::new(now));
    let service = Service::start(Options {
        clock: Some(clock.clone()),
        config: "report_retention = \"30d\"".into(),
        ..Options::default()
    })
    .await;
    let token = service.installation_in_chat("alfa", CLIENT, ALFA).await;
    let old = service
        .post_report_as_is(
            &token,
            report("alfa", now - 31 * DAY, "lost", now - 31 * DAY),
        )
        .await;
    assert_eq!(old.status(), 400);
    let body: Value = old.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("older than the report retention (30d)"),
        "{body}"
    );
    let ahead = service
        .post_report_as_is(&token, report("alfa", now + 2 * HOUR, "lost", now))
        .await;
    assert_eq!(ahead.status(), 202);
    let findings = service.findings("alfa").await;
    let dongle = findings
        .iter()
        .find(|f| f["plugin"] == "dongle-lost")
        .expect("the dongle finding");
    assert_eq!(
        dongle["since"], now,
        "judged at its arrival, not in the future"
    );
    let metrics = service.get_text("/metrics").await;
    assert!(
        metrics.contains("reveille_reports_out_of_time_total{why=\"ahead\"} 1"),
        "{metrics}"
    );
}

/// One report made ten days before it arrives, its base updated two days before that: the
/// service, a replay, `reveille plugin test` and the SDK's `testing` all judge it as of
/// its own time. `stale-updates` says "2d old" in the first three (judged at arrival it
/// would be twelve days, and stale by the installed three-day threshold too); the `echo`
/// fixture, which reports the `now` it was given, shows the same moment in the service,
/// the command line and natively in the SDK.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_a_replay_the_cli_and_the_sdk_judge_a_report_alike() {
    const SAID: &str = "Content updates stale: the newest is 2d old";
    let arrived = at("2026-12-01T12:00:00+03:00");
    let made = arrived - 10 * DAY;
    let clock = Arc::new(ManualClock::new(arrived));
    let service = Service::start(Options {
        clock: Some(clock.clone()),
        ..Options::default()
    })
    .await;
    service.install_fixture("echo").await;
    let (strict, usual) = ("Строгий клиент", CLIENT);
    let (status, body) = service
        .put_client_settings(
            strict,
            "stale-updates",
            serde_json::json!({"threshold": "1d"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let xml = |id: &str, client: &str| {
        String::from_utf8(report(id, made, "present", made - 2 * DAY))
            .unwrap()
            .replace(CLIENT, client)
    };
    for (id, client) in [("strict", strict), ("usual", usual)] {
        let token = service.installation_of(id, client).await;
        let sent = service
            .post_report_as_is(&token, xml(id, client).into_bytes())
            .await;
        assert_eq!(sent.status(), 202);
    }

    // The service.
    let findings = service.findings("strict").await;
    let of = |plugin: &str| {
        findings
            .iter()
            .find(|f| f["plugin"] == plugin)
            .unwrap_or_else(|| panic!("no {plugin} finding: {findings:#?}"))
    };
    assert_eq!(of("stale-updates")["summary"], SAID);
    let echoed_now = |labels: &Value| -> i64 {
        let now = labels
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l[0] == "now" || l["name"] == "now")
            .unwrap_or_else(|| panic!("no `now` label: {labels}"));
        let value = if now.is_array() {
            &now[1]
        } else {
            &now["value"]
        };
        value.as_str().unwrap().parse().unwrap()
    };
    assert_eq!(echoed_now(&of("echo")["labels"]), made);
    assert!(
        service
            .findings("usual")
            .await
            .iter()
            .all(|f| f["plugin"] != "stale-updates")
    );

    // A replay of a one-day threshold over the hour the report was made in (later ticks
    // would find the three days passed too): it adds exactly the alert the usual
    // client's three days do not raise, fired at the report's own time.
    let query = format!(
        "since={}&until={}&config=threshold%3D1d",
        rfc3339(made - DAY),
        rfc3339(made + HOUR)
    );
    let done = replay(
        &service,
        "stale-updates",
        &query,
        builtin_plugin("stale-updates"),
    )
    .await;
    let difference = &done["result"]["difference"];
    assert_eq!(difference["added"], 1, "{difference}");
    assert_eq!(difference["same"], 1, "{difference}");
    let added = &difference["alerts"][0];
    assert_eq!(added["installation"], "usual");
    assert_eq!(added["fired_at"], made);
    assert_eq!(added["summary"], SAID);

    // `reveille plugin test`, without `--now`.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.xml");
    std::fs::write(&file, xml("strict", strict)).unwrap();
    let cli = async |plugin: &str, bytes: Vec<u8>, config: &[&str]| -> Vec<Value> {
        let component = dir
            .path()
            .join(format!("{}.wasm", plugin.replace('-', "_")));
        std::fs::write(&component, bytes).unwrap();
        let run = crate::succeeded(
            crate::reveille()
                .args(["plugin", "test", "--json"])
                .args(config.iter().flat_map(|c| ["--config", c]))
                .arg(&component)
                .arg(&file),
        )
        .await;
        let tested: Value = serde_json::from_slice(&run.stdout).unwrap();
        tested["outcome"]["ok"]["findings"]
            .as_array()
            .unwrap()
            .clone()
    };
    let stale = cli(
        "stale-updates",
        builtin_plugin("stale-updates"),
        &["threshold=1d"],
    )
    .await;
    assert_eq!(stale[0]["summary"], SAID, "{stale:#?}");
    let echo = cli("echo", fixture_plugin("echo"), &[]).await;
    assert_eq!(echoed_now(&echo[0]["labels"]), made);

    // The SDK's `testing`, natively.
    let native = reveille_sdk::testing::Case::report(&xml("strict", strict)).run::<echo::Echo>();
    let label = native
        .finding("echo")
        .labels
        .iter()
        .find(|(name, _)| name == "now")
        .map(|(_, value)| value.parse::<i64>().unwrap());
    assert_eq!(label, Some(made));
}

/// An agent that reports hourly sends a night's backlog, every report of it late: what is
/// still true waits until the agent has fallen quiet (a tick a minute on), then is
/// announced once, since when it began.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_with_nothing_on_time_is_read_when_the_agent_falls_quiet() {
    let night = at("2026-11-24T00:00:00+03:00");
    let clock = Arc::new(ManualClock::new(night + 10 * HOUR + 40 * 60_000));
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    fake.add_chat(ALFA, "Alfa");
    let service = Service::start(Options {
        clock: Some(clock.clone()),
        telegram_api: Some(fake.api_url()),
        ..Options::default()
    })
    .await;
    let token = service.installation_in_chat("alfa", CLIENT, ALFA).await;
    for h in 0..=10 {
        let dongle = if h >= 8 { "lost" } else { "present" };
        let made = night + h * HOUR;
        let sent = service
            .post_report_as_is(&token, report("alfa", made, dongle, made))
            .await;
        assert_eq!(sent.status(), 202);
    }
    service.settle().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(bot(&fake, ALFA).is_empty(), "{:#?}", bot(&fake, ALFA));
    let waiting = service.alerts("state=open").await;
    assert_eq!(waiting.len(), 1, "{waiting:#?}");
    assert_eq!(waiting[0]["late"], true);

    clock.advance(Duration::from_secs(2 * 60));
    service.tick().await;
    assert!(
        fake.wait_for(WAIT, |f| !bot(f, ALFA).is_empty()).await,
        "the dongle was never announced"
    );
    let told = bot(&fake, ALFA);
    assert_eq!(told.len(), 1, "{told:#?}");
    assert!(
        told[0].text.contains("License dongle lost"),
        "{}",
        told[0].text
    );
    assert!(
        told[0].text.contains("Since 24.11.2026 08:00"),
        "{}",
        told[0].text
    );
    let alert = service.alert(waiting[0]["id"].as_i64().unwrap()).await;
    let kinds: Vec<&str> = alert["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"late") && kinds.contains(&"announced"),
        "{kinds:?}"
    );
}

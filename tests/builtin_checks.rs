//! The built-in checks, run as components through the real runtime, on the stories of
//! DOMAIN.md told day by day.

use reveille_tests::{Harness, report_xml};

const FULL_HEALTHY: &str = r#"
  <product name="Техэксперт" shell-version="6.4.2.73"/>
  <service state="running" http-status="200"/>
  <protection kind="senselock" state="present" forwarding="usb-over-network"/>
  <users limit="25" in-use="12" peak="20" refused="0"/>
"#;

fn bases(operup: &str, law_state: &str) -> String {
    format!(
        r#"<bases>
    <base code="KDS-SNIP" name="Строительство" update="4287" operup-at="{operup}" state="ok"/>
    <base code="KDS-LAW" name="Законодательство" update="4287" operup-at="{operup}" {law_state}/>
  </bases>"#
    )
}

fn full(time: &str, operup: &str, replace: &[(&str, &str)]) -> String {
    let mut body = format!("{FULL_HEALTHY}{}", bases(operup, r#"state="ok""#));
    for (from, to) in replace {
        assert!(body.contains(from), "{from} not in the healthy report");
        body = body.replace(from, to);
    }
    report_xml("report-agent", time, &body)
}

/// Story 1: 20:00 the dongle is lost (the USB-over-network license expired); fixed 21:17.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_key_in_the_evening_fires_then_resolves() {
    let mut h = Harness::new(&[]).await;
    let updated = "2026-11-19T22:40:00+03:00";
    h.report(
        "2026-11-20T19:00:00+03:00",
        &full("2026-11-20T19:00:00+03:00", updated, &[]),
    )
    .await;
    assert!(h.keys().is_empty(), "{:?}", h.keys());

    let lost = full(
        "2026-11-20T20:00:00+03:00",
        updated,
        &[(r#"state="present""#, r#"state="lost" error-code="4111""#)],
    );
    h.report("2026-11-20T20:00:00+03:00", &lost).await;
    let finding = h.finding("dongle-lost", "dongle-lost");
    assert_eq!(finding.severity, "critical");
    assert_eq!(finding.summary, "License dongle lost");
    assert!(
        finding.details.contains("error code 4111"),
        "{}",
        finding.details
    );
    assert!(
        finding.details.contains("usb-over-network"),
        "{}",
        finding.details
    );

    // A status report without a protection section says nothing either way.
    h.report(
        "2026-11-20T20:15:00+03:00",
        &report_xml(
            "status-agent",
            "2026-11-20T20:15:00+03:00",
            r#"<service state="running"/>"#,
        ),
    )
    .await;
    assert_eq!(h.finding("dongle-lost", "dongle-lost").severity, "critical");

    h.report(
        "2026-11-20T21:17:00+03:00",
        &full("2026-11-20T21:17:00+03:00", updated, &[]),
    )
    .await;
    assert!(h.keys().is_empty(), "{:?}", h.keys());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_without_protection_is_a_lost_dongle_and_each_state_says_which() {
    let mut h = Harness::new(&[]).await;
    let time = "2026-11-20T01:07:00+03:00";
    let updated = "2026-11-19T22:40:00+03:00";
    let without = full(
        time,
        updated,
        &[(
            r#"<protection kind="senselock" state="present" forwarding="usb-over-network"/>"#,
            "",
        )],
    );
    h.report(time, &without).await;
    assert_eq!(
        h.finding("dongle-lost", "dongle-lost").summary,
        "License dongle not reported"
    );
    for (state, summary) in [
        ("expired", "License expired"),
        ("blacklisted", "License dongle blacklisted"),
        ("manager-unreachable", "License manager unreachable"),
        ("warming-up", "License dongle not usable"),
    ] {
        let xml = full(
            time,
            updated,
            &[(r#"state="present""#, &format!(r#"state="{state}""#))],
        );
        h.report(time, &xml).await;
        assert_eq!(h.finding("dongle-lost", "dongle-lost").summary, summary);
    }
}

/// Story 4: day 1 bases updated; day 2 the shell is changed, the service (now under the
/// wrong account) cannot see its bases, and the report agent is removed; then silence.
/// `service-down` tells on day 2, not day 5.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_february_upgrade_gone_wrong_day_by_day() {
    let mut h = Harness::new(&[
        ("version-minimum", "minimum", "6.4.3.59"),
        ("service-down", "run-as", "kodeks-svc"),
    ])
    .await;
    let day1 = "2023-02-01T23:00:00+03:00";
    h.report(
        day1,
        &full(
            day1,
            "2023-02-01T22:40:00+03:00",
            &[(r#"shell-version="6.4.2.73""#, r#"shell-version="6.4.3.59""#)],
        ),
    )
    .await;
    assert!(h.keys().is_empty(), "day 1: {:?}", h.keys());

    let day2 = "2023-02-02T11:00:00+03:00";
    let broken = full(
        day2,
        "2023-02-01T22:40:00+03:00",
        &[
            (r#"shell-version="6.4.2.73""#, r#"shell-version="6.4.3.60""#),
            (
                r#"<service state="running" http-status="200"/>"#,
                r#"<service state="error" http-status="500" run-as="user"/>"#,
            ),
            (
                r#"operup-at="2023-02-01T22:40:00+03:00" state="ok"/>
  </bases>"#,
                r#"operup-at="2023-02-01T22:40:00+03:00" state="error" error-code="2020"/>
  </bases>"#,
            ),
        ],
    );
    h.report(day2, &broken).await;
    let base = h.finding("stale-updates", "base-error:KDS-LAW");
    assert_eq!(base.severity, "warning");
    assert!(base.details.contains("error code 2020"), "{}", base.details);
    let down = h.finding("service-down", "service-down");
    assert_eq!(down.severity, "critical");
    assert_eq!(down.summary, "Service in error");
    assert!(
        down.details.contains("main page HTTP 500"),
        "{}",
        down.details
    );
    let account = h.finding("service-down", "wrong-account");
    assert_eq!(account.summary, "Service runs as user, not kodeks-svc");
    assert_eq!(h.keys().len(), 3, "day 2: {:?}", h.keys());

    h.tick("2023-02-03T12:00:00+03:00").await;
    assert_eq!(h.keys().len(), 3, "day 3: {:?}", h.keys());

    h.tick("2023-02-04T12:00:00+03:00").await;
    let keys = h.keys();
    assert!(
        keys.contains("reports-stopped/reports-stopped:warning"),
        "day 4: {keys:?}"
    );
    assert!(
        !keys.contains("stale-updates/stale-updates:warning"),
        "day 4: {keys:?}"
    );

    h.tick("2023-02-05T12:00:00+03:00").await;
    let stale = h.finding("stale-updates", "stale-updates");
    assert_eq!(stale.severity, "warning");
    assert!(stale.summary.contains("3d 13h old"), "{}", stale.summary);
    assert!(
        stale.details.contains("KDS-LAW: update 4287"),
        "{}",
        stale.details
    );

    h.tick("2023-02-06T12:00:00+03:00").await;
    let stopped = h.finding("reports-stopped", "reports-stopped");
    assert_eq!(stopped.severity, "critical", "day 6: {stopped:?}");
    assert_eq!(stopped.summary, "No reports for 4d 1h");
    assert_eq!(h.keys().len(), 5, "day 6: {:?}", h.keys());

    // The agent is reinstalled and everything is fixed: every alert resolves.
    let fixed = "2023-02-07T10:00:00+03:00";
    h.report(
        fixed,
        &full(
            fixed,
            "2023-02-07T06:00:00+03:00",
            &[(r#"shell-version="6.4.2.73""#, r#"shell-version="6.4.3.60""#)],
        ),
    )
    .await;
    h.tick("2023-02-07T10:05:00+03:00").await;
    assert!(h.keys().is_empty(), "fixed: {:?}", h.keys());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_versions_compare_numerically_against_the_configured_minimum() {
    let time = "2026-11-20T10:00:00+03:00";
    let updated = "2026-11-20T06:00:00+03:00";
    let with_version = |v: &str| {
        full(
            time,
            updated,
            &[(
                r#"shell-version="6.4.2.73""#,
                &format!(r#"shell-version="{v}""#),
            )],
        )
    };

    let mut unconfigured = Harness::new(&[]).await;
    unconfigured.report(time, &with_version("1.0")).await;
    assert!(unconfigured.keys().is_empty());

    let mut h = Harness::new(&[("version-minimum", "minimum", "6.4.3.59")]).await;
    h.report(time, &with_version("6.4.2.73")).await;
    let below = h.finding("version-minimum", "version-below-minimum");
    assert_eq!(below.severity, "warning");
    assert_eq!(
        below.summary,
        "Shell version 6.4.2.73 is below the required 6.4.3.59"
    );
    h.report(
        time,
        &report_xml("status-agent", time, r#"<service state="running"/>"#),
    )
    .await;
    assert_eq!(
        h.keys().len(),
        1,
        "a status report resolved it: {:?}",
        h.keys()
    );
    h.report(time, &with_version("6.4.10.1")).await;
    assert!(
        h.keys().is_empty(),
        "6.4.10.1 is above 6.4.3.59: {:?}",
        h.keys()
    );
    h.report(time, &with_version("6.4.x")).await;
    assert_eq!(
        h.finding("version-minimum", "version-unreadable").severity,
        "info"
    );
}

/// The status agent's view of the service: stopped and 5xx are critical, a 4xx main page a
/// warning, starting and maintenance nothing; a report without `service` changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_down_reads_the_status_agent() {
    let mut h = Harness::new(&[]).await;
    let status = |time: &str, service: &str| report_xml("status-agent", time, service);
    for (service, expected) in [
        (r#"<service state="running" http-status="200"/>"#, None),
        (
            r#"<service state="stopped"/>"#,
            Some(("critical", "Service stopped")),
        ),
        (
            r#"<service state="running" http-status="503"/>"#,
            Some(("critical", "Service answers with a server error")),
        ),
        (
            r#"<service state="running" http-status="404"/>"#,
            Some(("warning", "Main page answers HTTP 404")),
        ),
        (r#"<service state="maintenance"/>"#, None),
        (r#"<service state="starting" http-status="200"/>"#, None),
    ] {
        let time = "2023-02-02T11:00:00+03:00";
        h.report(time, &status(time, service)).await;
        match expected {
            None => assert!(h.keys().is_empty(), "{service}: {:?}", h.keys()),
            Some((severity, summary)) => {
                let down = h.finding("service-down", "service-down");
                assert_eq!(
                    (down.severity.as_str(), down.summary.as_str()),
                    (severity, summary)
                );
            }
        }
    }
    h.report(
        "2023-02-02T12:00:00+03:00",
        &status("2023-02-02T12:00:00+03:00", r#"<service state="stopped"/>"#),
    )
    .await;
    h.report(
        "2023-02-02T12:05:00+03:00",
        &status(
            "2023-02-02T12:05:00+03:00",
            r#"<users limit="25" in-use="3"/>"#,
        ),
    )
    .await;
    assert_eq!(
        h.finding("service-down", "service-down").summary,
        "Service stopped"
    );
}

/// Story 3: the redirect server fails at 06:00; installations answer by IP only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_outage_is_told_apart_from_a_dead_server() {
    let mut h = Harness::new(&[]).await;
    h.probe("2022-11-15T05:45:00+03:00", true, true).await;
    assert!(h.keys().is_empty());
    h.probe("2022-11-15T06:00:00+03:00", false, true).await;
    let down = h.finding("redirect-down", "redirect-down");
    assert_eq!(down.severity, "critical");
    assert_eq!(
        down.summary,
        "Unreachable by domain name vector.example.ru, reachable by IP"
    );

    // A regular report without a network section does not resolve it.
    let time = "2022-11-15T06:30:00+03:00";
    h.report(time, &full(time, "2022-11-15T04:00:00+03:00", &[]))
        .await;
    assert_eq!(h.keys().len(), 1, "{:?}", h.keys());

    h.probe("2022-11-15T07:00:00+03:00", false, false).await;
    assert!(
        h.keys().is_empty(),
        "both unreachable is a dead server, not a redirect outage"
    );
    h.probe("2022-11-15T07:15:00+03:00", false, true).await;
    assert_eq!(h.keys().len(), 1);
    h.probe("2022-11-15T09:00:00+03:00", true, true).await;
    assert!(h.keys().is_empty(), "{:?}", h.keys());
}

/// Story 5: a client runs out of seats three times in a month.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_exhausted_three_times_in_a_month_is_an_upsell_signal() {
    let mut h = Harness::new(&[]).await;
    let updated = "2023-03-01T06:00:00+03:00";
    let exhausted = |time: &str| {
        full(
            time,
            updated,
            &[(
                r#"in-use="12" peak="20" refused="0""#,
                r#"in-use="25" peak="25" refused="4""#,
            )],
        )
    };
    let calm = |time: &str| full(time, updated, &[]);
    let day = |d: u32, full_up: bool| {
        let time = format!("2023-03-{d:02}T11:00:00+03:00");
        let xml = if full_up {
            exhausted(&time)
        } else {
            calm(&time)
        };
        (time, xml)
    };

    for (d, full_up, expect_upsell) in [
        (2, true, false),
        (2, true, false), // the same exhaustion, reported again: counts once
        (3, false, false),
        (10, true, false),
        (11, false, false),
        (20, true, true),
    ] {
        let (time, xml) = day(d, full_up);
        h.report(&time, &xml).await;
        let keys = h.keys();
        assert_eq!(
            keys.contains("limit-exhaustion/limit-reached:info"),
            full_up,
            "day {d}: {keys:?}"
        );
        assert_eq!(
            keys.contains("limit-exhaustion/upsell:info"),
            expect_upsell,
            "day {d}: {keys:?}"
        );
    }
    let upsell = h.finding("limit-exhaustion", "upsell");
    assert_eq!(
        upsell.summary,
        "Seat limit exhausted 3 times in 30d: offer more seats"
    );

    // Five weeks later the first exhaustion has left the window.
    let (time, xml) = day(21, false);
    h.report(&time, &xml).await;
    assert!(h.keys().contains("limit-exhaustion/upsell:info"));
    let time = "2023-04-05T11:00:00+03:00";
    h.report(time, &full(time, "2023-04-05T06:00:00+03:00", &[]))
        .await;
    assert!(h.keys().is_empty(), "{:?}", h.keys());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_threshold_is_configurable() {
    let mut h = Harness::new(&[
        ("stale-updates", "threshold", "5s"),
        ("reports-stopped", "warning-after", "10s"),
        ("reports-stopped", "critical-after", "20s"),
    ])
    .await;
    let time = "2026-11-20T10:00:00Z";
    h.report(time, &full(time, "2026-11-20T09:59:58Z", &[]))
        .await;
    assert!(h.keys().is_empty());
    h.tick("2026-11-20T10:00:06Z").await;
    assert_eq!(
        h.keys().into_iter().collect::<Vec<_>>(),
        ["stale-updates/stale-updates:warning"]
    );
    h.tick("2026-11-20T10:00:11Z").await;
    assert!(h.keys().contains("reports-stopped/reports-stopped:warning"));
    h.tick("2026-11-20T10:00:21Z").await;
    assert!(
        h.keys()
            .contains("reports-stopped/reports-stopped:critical")
    );
}

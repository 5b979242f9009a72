//! Client reports end to end: eight days of one client's history made on the manual clock
//! through the real APIs (a dongle lost at night and on a holiday, a service stopped by
//! day, acknowledgements, planned maintenance, the host itself down for an hour, reports
//! stopping for two days, seats running out twice, a shell upgrade, a content update),
//! then every figure of the CSV checked against values worked out by hand below; the same
//! report as HTML with its sections, as a PDF Chromium printed (read back with poppler),
//! from `reveille report`, and sent by the bot on the first working morning.

use std::collections::BTreeMap;
use std::path::PathBuf;

use reveille_tests::{ADMIN_TOKEN, at, databases};
use serde_json::json;

use crate::nights::{MOSCOW, OFFICE, VECTOR, World, start_at};

const H: i64 = 3_600;

/// An hourly report of `vector-main` at `time` (Moscow), as its state was then.
fn report(time: &str, dongle: &str, service: &str, in_use: u32) -> Vec<u8> {
    let ms = at(time);
    let (shell, update, operup) = (
        if ms < at("2026-11-06T12:00:00+03:00") {
            "6.4.2.73"
        } else {
            "6.4.3.10"
        },
        if ms < at("2026-11-05T03:00:00+03:00") {
            "4287"
        } else {
            "4290"
        },
        if ms < at("2026-11-05T03:00:00+03:00") {
            "2026-11-01T03:00:00+03:00"
        } else {
            "2026-11-05T03:00:00+03:00"
        },
    );
    let refused = if in_use >= 25 { 4 } else { 0 };
    format!(
        r#"<report schema="1" agent="report-agent" generated-at="{time}">
  <installation id="vector-main"><client>{VECTOR}</client></installation>
  <product name="Техэксперт" shell-version="{shell}"/>
  <service state="{service}" http-status="200"/>
  <protection kind="senselock" state="{dongle}"/>
  <users limit="25" in-use="{in_use}" peak="{in_use}" refused="{refused}"/>
  <bases><base code="KDS" name="Строительство" update="{update}" operup-at="{operup}" state="ok"/></bases>
</report>"#
    )
    .into_bytes()
}

/// The hour `h` after 2026-11-02 00:00 in Moscow, RFC 3339.
fn hour(h: i64) -> String {
    jiff::Timestamp::from_millisecond(at("2026-11-02T00:00:00+03:00") + h * H * 1000)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get(MOSCOW).unwrap())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn utc(time: &str) -> String {
    time.parse::<jiff::Timestamp>().unwrap().to_string()
}

/// The CSV as `(section, subject, metric) -> value`.
pub(crate) fn figures(csv: &str) -> BTreeMap<(String, String, String), String> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    reader
        .records()
        .map(|r| {
            let r = r.expect("a CSV record");
            ((r[0].into(), r[1].into(), r[2].into()), r[3].into())
        })
        .collect()
}

async fn acknowledge(world: &World, plugin: &str, time: &str) {
    world.clock.set(at(time));
    let id = world
        .service
        .alerts(&format!("plugin={plugin}&state=open"))
        .await[0]["id"]
        .as_i64()
        .unwrap();
    let (status, body) = world
        .service
        .admin_request(
            "POST",
            &format!("/api/v1/alerts/{id}/ack"),
            Some(json!({ "by": "Ivanov" })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// The eight days, 2 to 9 November 2026 (4 November is Unity Day, a Russian holiday).
async fn history(mut world: World, token: &str) -> World {
    for h in 0..8 * 24 {
        let time = hour(h);
        // Reports stop after 7 November 00:00 and come back on the 9th at 00:00.
        if (at("2026-11-07T01:00:00+03:00")..at("2026-11-09T00:00:00+03:00")).contains(&at(&time)) {
            continue;
        }
        if time == "2026-11-06T21:00:00+03:00" {
            // The host went down at 20:00 and is back at 21:00.
            world.service.stop().await;
            world.clock.set(at(&time));
            world.service = world.service.restart().await;
        }
        let dongle = match time.as_str() {
            "2026-11-03T01:00:00+03:00" | "2026-11-03T02:00:00+03:00" => "lost",
            "2026-11-04T10:00:00+03:00" => "lost",
            _ => "present",
        };
        let service = match time.as_str() {
            "2026-11-05T14:00:00+03:00"
            | "2026-11-05T15:00:00+03:00"
            | "2026-11-05T16:00:00+03:00" => "stopped",
            _ => "running",
        };
        let in_use = match time.as_str() {
            "2026-11-03T10:00:00+03:00" | "2026-11-09T10:00:00+03:00" => 25,
            _ => 12,
        };
        world.clock.set(at(&time));
        world
            .post(token, report(&time, dongle, service, in_use))
            .await;
        match time.as_str() {
            "2026-11-03T01:00:00+03:00" => {
                acknowledge(&world, "dongle-lost", "2026-11-03T01:30:00+03:00").await
            }
            "2026-11-05T14:00:00+03:00" => {
                acknowledge(&world, "service-down", "2026-11-05T14:20:00+03:00").await
            }
            _ => {}
        }
    }
    world
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarter_report_tells_every_figure_of_a_known_history() {
    for (n, db) in databases().await.into_iter().enumerate() {
        let world = start_at(
            "2026-11-01T12:00:00+03:00",
            "[schedule]\ntick_interval = \"1h\"\n\
             [plugins.stale-updates]\nthreshold = \"30d\"\n\
             [client_reports]\nschedule = \"monthly\"\n",
            db.url.clone(),
        )
        .await;
        let token = world
            .installation("vector-main", VECTOR, MOSCOW, OFFICE)
            .await;
        world
            .put(
                &format!("/api/v1/clients/{VECTOR}/policy"),
                json!({ "quiet_hours": [{ "from": "22:00", "to": "08:00" }], "holiday_calendars": ["ru"] }),
            )
            .await;
        world
            .put(
                "/api/v1/maintenance/upgrade",
                json!({
                    "scope": { "installation": "vector-main" },
                    "from": "2026-11-06T10:00:00+03:00", "to": "2026-11-06T12:00:00+03:00",
                    "author": "Ivanov", "reason": "shell upgrade to 6.4.3",
                }),
            )
            .await;
        let (status, body) = world
            .service
            .put_client_settings(VECTOR, "version-minimum", json!({ "minimum": "6.4.2" }))
            .await;
        assert_eq!(status, 200, "{body}");
        let world = history(world, &token).await;

        // A post-mortem of the day's outage, for the appendix.
        let day_outage = world.service.alerts("plugin=service-down").await[0]["id"]
            .as_i64()
            .unwrap();
        let (status, body) = world
            .service
            .admin_request(
                "PUT",
                &format!("/api/v1/alerts/{day_outage}/postmortem"),
                Some(json!({ "cause": "Техник сменил версию оболочки без проверки службы" })),
            )
            .await;
        assert_eq!(status, 200, "{body}");

        world.clock.set(at("2026-11-10T09:00:00+03:00"));
        let path = format!("/api/v1/clients/{VECTOR}/report?from=2026-11-02&to=2026-11-09");
        let csv = world.service.get_text(&format!("{path}&format=csv")).await;
        let f = figures(&csv);
        let get = |section: &str, subject: &str, metric: &str| -> &str {
            f.get(&(section.into(), subject.into(), metric.into()))
                .unwrap_or_else(|| panic!("{}: no {section},{subject},{metric} in\n{csv}", db.name))
        };
        let expect = |section: &str, subject: &str, metric: &str, value: String| {
            assert_eq!(
                get(section, subject, metric),
                value,
                "{}: {section},{subject},{metric}",
                db.name
            );
        };
        let s = |n: i64| n.to_string();

        expect("report", VECTOR, "from", utc("2026-11-02T00:00:00+03:00"));
        expect("report", VECTOR, "to", utc("2026-11-10T00:00:00+03:00"));
        // Five problems: three critical (the dongle at night, held for the digest, and on
        // the holiday; the service by day, told at once) and the two times the seats ran
        // out (info, for sales).
        for (metric, value) in [
            ("installations", 1),
            ("problems", 5),
            ("critical", 3),
            ("night", 1),
            ("holiday", 1),
            ("escalated", 0),
            ("exhaustions", 2),
            ("below_minimum", 0),
        ] {
            expect("summary", VECTOR, metric, s(value));
        }
        let problems: Vec<String> = f
            .iter()
            .filter(|((section, _, metric), value)| {
                section == "problem" && metric == "severity" && *value == "critical"
            })
            .map(|((_, subject, _), _)| subject.clone())
            .collect();
        assert_eq!(problems.len(), 3, "{}: {problems:?}", db.name);
        let exhaustions: Vec<String> = f
            .iter()
            .filter(|((section, _, metric), value)| {
                section == "problem" && metric == "check" && *value == "limit-exhaustion"
            })
            .map(|((_, subject, _), _)| get("problem", subject, "fired_at").to_string())
            .collect();
        assert_eq!(
            exhaustions,
            [
                utc("2026-11-03T10:00:00+03:00"),
                utc("2026-11-09T10:00:00+03:00")
            ],
            "{}",
            db.name
        );
        let mut by_start: Vec<(String, String)> = problems
            .iter()
            .map(|p| (get("problem", p, "fired_at").to_string(), p.clone()))
            .collect();
        by_start.sort();
        let [(_, night), (_, holiday), (_, day)] = <[_; 3]>::try_from(by_start).unwrap();
        for (problem, check, fired, acked, resolved, when, handling) in [
            (
                &night,
                "dongle-lost",
                "2026-11-03T01:00:00+03:00",
                Some("2026-11-03T01:30:00+03:00"),
                "2026-11-03T03:00:00+03:00",
                "night",
                "held",
            ),
            (
                &holiday,
                "dongle-lost",
                "2026-11-04T10:00:00+03:00",
                None,
                "2026-11-04T11:00:00+03:00",
                "holiday",
                "held",
            ),
            (
                &day,
                "service-down",
                "2026-11-05T14:00:00+03:00",
                Some("2026-11-05T14:20:00+03:00"),
                "2026-11-05T17:00:00+03:00",
                "day",
                "told",
            ),
        ] {
            expect("problem", problem, "check", check.into());
            expect("problem", problem, "fired_at", utc(fired));
            expect(
                "problem",
                problem,
                "acknowledged_at",
                acked.map(utc).unwrap_or_default(),
            );
            expect(
                "problem",
                problem,
                "acknowledged_by",
                if acked.is_some() { "Ivanov (API)" } else { "" }.into(),
            );
            expect("problem", problem, "resolved_at", utc(resolved));
            expect("problem", problem, "when", when.into());
            expect("problem", problem, "handling", handling.into());
        }
        // Times count the critical three. To acknowledge: 30 and 20 minutes; to resolve:
        // 2 h, 1 h and 3 h.
        for (subject, problems, ack, resolve) in [
            ("all", 3, (2, 1500, 1800), (3, 2 * H, 3 * H)),
            ("dongle-lost", 2, (1, 1800, 1800), (2, 3 * H / 2, 2 * H)),
            ("service-down", 1, (1, 1200, 1200), (1, 3 * H, 3 * H)),
        ] {
            assert!(
                !f.contains_key(&(
                    "response".into(),
                    "limit-exhaustion".into(),
                    "problems".into()
                )),
                "{}: info notices have no response times",
                db.name
            );
            expect("response", subject, "problems", s(problems));
            expect("response", subject, "acknowledge_count", s(ack.0));
            expect("response", subject, "acknowledge_median_s", s(ack.1));
            expect("response", subject, "acknowledge_worst_s", s(ack.2));
            expect("response", subject, "resolve_count", s(resolve.0));
            expect("response", subject, "resolve_median_s", s(resolve.1));
            expect("response", subject, "resolve_worst_s", s(resolve.2));
        }
        // Eight days (192 h) less the 2 h maintenance and the host's hour: 189 h
        // measured. Silent from 2 h after the last report on the 7th (00:00) to the next,
        // on the 9th at 00:00: 46 h. 143 of 189 h up.
        for (metric, seconds) in [
            ("measured_s", 189 * H),
            ("down_s", 46 * H),
            ("silent_s", 46 * H),
            ("unreachable_s", 0),
            ("maintenance_s", 2 * H),
            ("host_down_s", H),
        ] {
            expect("availability", "vector-main", metric, s(seconds));
        }
        let ratio = format!("{:.3}", 143.0 / 189.0 * 100.0);
        expect(
            "availability",
            "vector-main",
            "availability_percent",
            ratio.clone(),
        );
        expect("summary", VECTOR, "availability_percent", ratio);
        expect("maintenance", "upgrade", "length_s", s(2 * H));
        expect(
            "maintenance",
            "upgrade",
            "installations",
            "vector-main".into(),
        );
        for (metric, value) in [
            ("peak", 25),
            ("limit", 25),
            ("refused_max", 4),
            ("exhaustions", 2),
        ] {
            expect("seats", "vector-main", metric, s(value));
        }
        expect(
            "versions",
            "vector-main",
            "seen",
            format!(
                "6.4.2.73@{} 6.4.3.10@{}",
                utc("2026-11-02T00:00:00+03:00"),
                utc("2026-11-06T12:00:00+03:00")
            ),
        );
        expect("versions", "vector-main", "minimum_met", "true".into());
        expect("updates", "vector-main", "latest", "4290".into());
        expect(
            "updates",
            "vector-main",
            "latest_at",
            utc("2026-11-05T03:00:00+03:00"),
        );
        // The newest update was oldest at the last report: 9 Nov 23:00 against 5 Nov 03:00.
        expect(
            "updates",
            "vector-main",
            "worst_age_s",
            s(4 * 24 * H + 20 * H),
        );

        // The same report as HTML, in Russian, with every section and the appendix.
        let html = world
            .service
            .get_text(&format!("{path}&format=html&lang=ru"))
            .await;
        for part in [
            "<html lang=\"ru\"",
            "Отчёт об обслуживании",
            VECTOR,
            "id=\"summary\"",
            "id=\"problems\"",
            "id=\"response\"",
            "id=\"availability\"",
            "id=\"planned\"",
            "id=\"seats\"",
            "id=\"versions\"",
            "id=\"updates\"",
            "id=\"appendix\"",
            "Техник сменил версию оболочки",
            "75.66 %",
            // Drawn as well as said.
            "<span class=\"bar\"><span style=\"width: 75.7%\"></span></span> 75.66 %",
            "shell upgrade to 6.4.3",
            "@page",
        ] {
            assert!(html.contains(part), "{}: {part:?} not in the HTML", db.name);
        }
        // Its problems are named in Russian, and nobody by a Telegram id.
        assert!(
            (html.contains("Тревога #") || html.contains("Инцидент #"))
                && !html.contains("alert #")
                && !html.contains("incident #")
                && !html.contains(", id "),
            "{}",
            db.name
        );

        if n == 0 {
            pdf(&world, &path).await;
            command_line(&world, &csv).await;
        }
        delivery(&world).await;
        let mut service = world.service;
        service.stop().await;
        db.drop_database().await;
    }
}

/// Where a test leaves files for people to look at.
fn output_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/client-report");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// With Chromium, a PDF whose text poppler reads back and whose first page becomes an
/// image (`target/client-report/first-page.png`); without, a clear refusal.
async fn pdf(world: &World, path: &str) {
    let response = world
        .service
        .client
        .get(world.service.url(&format!("{path}&format=pdf&lang=ru")))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    if reveille::client_report::pdf::chromium(None).is_none() {
        assert_eq!(response.status(), 503);
        assert!(response.text().await.unwrap().contains("Chromium"));
        return;
    }
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    let dir = output_dir();
    let file = dir.join("report.pdf");
    std::fs::write(&file, &bytes).unwrap();
    let text = std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed with Chromium by .ci/setup");
    let text = String::from_utf8_lossy(&text.stdout);
    for part in [VECTOR, "Отчёт об обслуживании", "Доступность", "75.66 %"]
    {
        assert!(
            text.contains(part),
            "{part:?} not in the PDF's text:\n{text}"
        );
    }
    let image = dir.join("first-page");
    let status = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&file)
        .arg(&image)
        .status()
        .unwrap();
    assert!(status.success());
    let png = std::fs::read(image.with_extension("png")).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
}

/// `reveille report` writes what the API serves.
async fn command_line(world: &World, csv: &str) {
    let out = output_dir().join("report.csv");
    crate::succeeded(
        crate::reveille()
            .args([
                "report",
                "--client",
                VECTOR,
                "--from",
                "2026-11-02",
                "--to",
                "2026-11-09",
            ])
            .arg("--url")
            .arg(&world.service.base)
            .arg("-o")
            .arg(&out)
            .env("REVEILLE_ADMIN_TOKEN", ADMIN_TOKEN),
    )
    .await;
    assert_eq!(std::fs::read_to_string(&out).unwrap(), csv);
    let run = crate::reveille()
        .args(["report", "--client", VECTOR, "--quarter", "2026Q5"])
        .arg("--url")
        .arg(&world.service.base)
        .env("REVEILLE_ADMIN_TOKEN", ADMIN_TOKEN)
        .output()
        .await
        .unwrap();
    assert!(!run.status.success());
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("2026Q5"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// On the first working morning of December (Tuesday the 1st, 09:00 in Moscow) the
/// November report goes to the manager's chat once, as a document.
async fn delivery(world: &World) {
    let delivery = world
        .service
        .running()
        .delivery
        .clone()
        .expect("reports on schedule");
    world.clock.set(at("2026-12-01T08:59:00+03:00"));
    assert_eq!(
        delivery.run_due().await.unwrap(),
        0,
        "sent before the morning"
    );
    world.clock.set(at("2026-12-01T09:00:00+03:00"));
    assert_eq!(delivery.run_due().await.unwrap(), 1);
    assert_eq!(delivery.run_due().await.unwrap(), 0, "sent twice");
    let documents: Vec<_> = world
        .fake
        .bot_messages(OFFICE)
        .into_iter()
        .filter_map(|m| Some((m.text.clone(), m.document?)))
        .collect();
    assert_eq!(documents.len(), 1);
    let (caption, document) = &documents[0];
    assert!(
        caption.contains(VECTOR) && caption.contains("2026-11"),
        "{caption}"
    );
    assert!(
        document.file_name.starts_with("report-ооо-вектор-2026-11."),
        "{}",
        document.file_name
    );
    assert!(document.bytes.len() > 1000);
}

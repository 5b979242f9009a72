//! History imports through `reveille import`: a quarter of a fleet's reports from the old
//! system, stored and evaluated as history (nothing told), seen afterwards by the
//! quarterly client report exactly as counted by hand; the same archive imported again
//! changes nothing; an import cut off midway is finished by running it again.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use reveille::clock::ManualClock;
use reveille_tests::{ADMIN_TOKEN, Options, Service, at};
use serde_json::Value;

use crate::client_reports::figures;

const HOUR: i64 = 3_600_000;
/// How often the old system's agents reported (hourly would take CI minutes; the bench
/// imports hourly at scale).
const EVERY: i64 = 3 * HOUR;
const CLIENT: &str = "ООО «Вектор»";
const FLEET: usize = 20;
const PROGRAM: &str = env!("CARGO_BIN_EXE_reveille-under-test");

/// 2026 Q3 on Moscow time: every installation reports every three hours from the first
/// moment of July to the first of October, both included, except:
/// - `v-00` loses its dongle on 10 August from 09:00 until 15:00;
/// - `v-01` is silent after 31 August 21:00 until 3 September 00:00;
/// - `v-03` loses its dongle on 30 September at 21:00, still lost when the history ends.
struct Quarter {
    start: i64,
    end: i64,
}

impl Quarter {
    fn new() -> Quarter {
        let start = at("2026-07-01T00:00:00+03:00");
        let end = at("2026-10-01T00:00:00+03:00");
        Quarter { start, end }
    }

    fn report(&self, installation: &str, made: i64) -> Option<String> {
        let within = |from: &str, to: &str| made >= at(from) && made < at(to);
        if installation == "v-01"
            && within("2026-09-01T00:00:00+03:00", "2026-09-03T00:00:00+03:00")
        {
            return None;
        }
        let lost = (installation == "v-00"
            && within("2026-08-10T09:00:00+03:00", "2026-08-10T15:00:00+03:00"))
            || (installation == "v-03" && made >= at("2026-09-30T21:00:00+03:00"));
        let time = jiff::Timestamp::from_millisecond(made).unwrap();
        Some(format!(
            r#"<report schema="1" agent="report-agent" generated-at="{time}">
  <installation id="{installation}"><client>{CLIENT}</client></installation>
  <protection kind="senselock" state="{}"/>
  <bases><base code="KDS-SNIP" update="4287" operup-at="{time}" state="ok"/></bases>
</report>"#,
            if lost { "lost" } else { "present" }
        ))
    }

    /// The archive as the old system kept it: a folder per installation, a file per report.
    fn write(&self, dir: &Path) -> usize {
        let mut files = 0;
        for n in 0..FLEET {
            let id = format!("v-{n:02}");
            std::fs::create_dir_all(dir.join(&id)).unwrap();
            for (n, made) in (self.start..=self.end).step_by(EVERY as usize).enumerate() {
                if let Some(xml) = self.report(&id, made) {
                    std::fs::write(dir.join(&id).join(format!("{n:05}.xml")), xml).unwrap();
                    files += 1;
                }
            }
        }
        files
    }
}

/// `reveille import` of `archive` into `service`.
fn import(service: &Service, archive: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(PROGRAM);
    command
        .args(["import", "--batch", "400"])
        .arg(archive)
        .env("REVEILLE_URL", &service.base)
        .env("REVEILLE_ADMIN_TOKEN", ADMIN_TOKEN)
        .kill_on_drop(true);
    command
}

async fn imports(service: &Service) -> Vec<Value> {
    let (status, body) = service.admin_request("GET", "/api/v1/imports", None).await;
    assert_eq!(status, 200, "{body}");
    body["imports"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarter_imported_is_history_the_client_report_counts() {
    let quarter = Quarter::new();
    // Just after the history ends (a tick of the live service meanwhile sees fresh news).
    let clock = Arc::new(ManualClock::new(at("2026-10-01T00:30:00+03:00")));
    let service = Service::start(Options {
        clock: Some(clock.clone()),
        // Reports three hours apart are not silence: four hours of grace.
        config: "report_retention = \"400d\"\n[client_reports]\nsilence_grace = \"4h\"".into(),
        ..Options::default()
    })
    .await;
    for n in 0..FLEET {
        service.installation(&format!("v-{n:02}")).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("old-system");
    let total = quarter.write(&archive);

    // Cut off midway (the importer's machine died): part of it is stored.
    let mut first = import(&service, &archive).spawn().unwrap();
    let stored_some = service
        .eventually(Duration::from_secs(120), || async {
            imports(&service)
                .await
                .first()
                .is_some_and(|i| i["stored"].as_i64().unwrap() >= 1_500)
        })
        .await;
    assert!(stored_some, "{:#?}", imports(&service).await);
    first.kill().await.unwrap();

    // Run again: it stores what is missing, shows how far it got, and ends.
    let run = import(&service, &archive).output().await.unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr),
    );
    assert!(run.status.success(), "{out}\n{err}");
    assert!(err.contains(&format!("of {total} files")), "{err}");
    assert!(out.contains("done"), "{out}");
    let second = &imports(&service).await[0];
    assert_eq!(second["state"], "done", "{second}");
    let before = imports(&service).await[1]["stored"].as_i64().unwrap();
    assert!(before > 0);
    assert_eq!(
        second["stored"].as_i64().unwrap() + second["repeated"].as_i64().unwrap(),
        total as i64,
        "{second}"
    );
    assert_eq!(second["evaluated"], second["stored"]);
    let mut stored = 0;
    for n in 0..FLEET {
        stored += service
            .store()
            .report_count(&format!("v-{n:02}"))
            .await
            .unwrap();
    }
    assert_eq!(stored as usize, total, "every report once");

    // History told nobody, and what it left open resolved where it ended.
    let alerts = service.alerts("").await;
    let said: Vec<String> = alerts
        .iter()
        .map(|a| {
            format!(
                "{} {} {} {}",
                a["installation_id"], a["plugin"], a["state"], a["summary"]
            )
        })
        .collect();
    assert_eq!(alerts.len(), 2, "{said:#?}");
    for alert in &alerts {
        assert_eq!(alert["state"], "resolved", "{alert}");
        assert_eq!(alert["late"], false, "{alert}");
        assert!(
            alert["destinations"].as_array().unwrap().is_empty(),
            "{alert}"
        );
    }
    assert_eq!(service.store().outbox_backlog().await.unwrap().0, 0);

    // The quarterly report counts what happened, by hand: two critical problems; v-01
    // silent from the grace after its last report (31 August 21:00 + 4 h) until 3
    // September: 47 hours.
    let csv = service
        .get_text(&format!(
            "/api/v1/clients/{CLIENT}/report?quarter=2026Q3&format=csv"
        ))
        .await;
    let f = figures(&csv);
    let get = |section: &str, subject: &str, metric: &str| -> String {
        f.get(&(section.into(), subject.into(), metric.into()))
            .unwrap_or_else(|| {
                let near: Vec<&str> = csv.lines().filter(|l| l.contains(subject)).collect();
                panic!("no {section},{subject},{metric} in\n{}", near.join("\n"))
            })
            .clone()
    };
    assert_eq!(get("summary", CLIENT, "installations"), FLEET.to_string());
    assert_eq!(get("summary", CLIENT, "problems"), "2");
    assert_eq!(get("summary", CLIENT, "critical"), "2");
    let quarter_s = (quarter.end - quarter.start) / 1_000;
    assert_eq!(
        get("availability", "v-01", "measured_s"),
        quarter_s.to_string()
    );
    assert_eq!(
        get("availability", "v-01", "silent_s"),
        (47 * 3_600).to_string()
    );
    assert_eq!(get("availability", "v-00", "down_s"), "0");
    assert_eq!(get("availability", "v-00", "host_down_s"), "0");
    let up = (FLEET as i64 * quarter_s - 47 * 3_600) as f64 / (FLEET as i64 * quarter_s) as f64;
    assert_eq!(
        get("summary", CLIENT, "availability_percent"),
        format!("{:.3}", up * 100.0)
    );

    // The same archive again changes nothing.
    let again = import(&service, &archive).output().await.unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let third = &imports(&service).await[0];
    assert_eq!(third["stored"], 0, "{third}");
    assert_eq!(third["repeated"], total as i64);
    assert_eq!(service.alerts("").await, alerts);
}

//! Importing history: a quarter of hourly reports for a fleet (1,000 installations by
//! default: 2.2 million reports) sent to `/api/v1/imports` in tar batches of 500, as
//! `reveille import` sends them, and evaluated as history. Reports per second from the
//! first batch until every report is evaluated, and resident memory along the way.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use crate::fleet::{ADMIN, Backend, Bench};
use crate::results::Figure;

const HOUR: i64 = 3_600_000;
const DAYS: i64 = 92;
const BATCH: i64 = 500;

fn report(installation: &str, at: i64) -> anyhow::Result<String> {
    let time = jiff::Timestamp::from_millisecond(at)?;
    let day = jiff::Timestamp::from_millisecond(at - at.rem_euclid(24 * HOUR))?;
    Ok(format!(
        r#"<report schema="1" agent="report-agent" generated-at="{time}">
  <installation id="{installation}"><client>Client</client></installation>
  <product name="Техэксперт" shell-version="6.4.2.73"/>
  <service state="running" http-status="200"/>
  <protection kind="senselock" state="present"/>
  <bases><base code="KDS-SNIP" update="4287" operup-at="{day}" state="ok"/></bases>
  <users limit="25" in-use="12" peak="19" refused="0"/>
</report>"#
    ))
}

fn rss() -> u64 {
    crate::child::rss_of(std::process::id())
}

pub async fn run(backend: &Backend, installations: usize) -> anyhow::Result<Vec<Figure>> {
    let bench = Bench::start_with(backend, "report_retention = \"400d\"").await?;
    let ids: Vec<String> = (0..installations)
        .map(|k| format!("import-{k:05}"))
        .collect();
    for id in &ids {
        let created = bench
            .client
            .post(bench.url("/api/v1/installations"))
            .bearer_auth(ADMIN)
            .json(&json!({
                "id": id, "client": "Client", "manager": "bench",
                "timezone": "Europe/Moscow", "telegram_chat_id": -4_000_000,
            }))
            .send()
            .await?;
        anyhow::ensure!(
            created.status().is_success(),
            "installation {id}: {}",
            created.status()
        );
    }
    let now = jiff::Timestamp::now().as_millisecond();
    let start = (now - (DAYS + 1) * 24 * HOUR).div_euclid(HOUR) * HOUR;
    let hours = DAYS * 24;
    let total = installations as i64 * hours;
    let begun: Value = bench
        .client
        .post(bench.url("/api/v1/imports"))
        .bearer_auth(ADMIN)
        .json(&json!({ "source": "bench" }))
        .send()
        .await?
        .json()
        .await?;
    let id = begun["import"]["id"].as_i64().context("an import id")?;
    let started = Instant::now();
    let (mut peak, first) = (rss(), rss());
    // Installation by installation, each in the order its reports were made.
    let mut files = ids
        .iter()
        .flat_map(|id| (0..hours).map(move |h| (id.clone(), start + h * HOUR)));
    loop {
        let mut batch = tar::Builder::new(Vec::new());
        let mut count = 0;
        for (installation, at) in files.by_ref().take(BATCH as usize) {
            let xml = report(&installation, at)?;
            let mut header = tar::Header::new_gnu();
            header.set_size(xml.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            batch.append_data(
                &mut header,
                format!("{installation}/{at}.xml"),
                xml.as_bytes(),
            )?;
            count += 1;
        }
        if count == 0 {
            break;
        }
        let answer = bench
            .client
            .post(bench.url(&format!("/api/v1/imports/{id}/reports")))
            .bearer_auth(ADMIN)
            .header("content-type", "application/x-tar")
            .body(batch.into_inner()?)
            .send()
            .await?;
        anyhow::ensure!(
            answer.status().is_success(),
            "a batch: {}",
            answer.text().await?
        );
        peak = peak.max(rss());
    }
    let sent_in = started.elapsed();
    bench
        .client
        .post(bench.url(&format!("/api/v1/imports/{id}/finish")))
        .bearer_auth(ADMIN)
        .send()
        .await?;
    let import = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        peak = peak.max(rss());
        let answer: Value = bench
            .client
            .get(bench.url(&format!("/api/v1/imports/{id}")))
            .bearer_auth(ADMIN)
            .send()
            .await?
            .json()
            .await?;
        if answer["import"]["state"] != "reading" {
            break answer["import"].clone();
        }
    };
    let took = started.elapsed();
    anyhow::ensure!(
        import["stored"] == total,
        "stored {} of {total}",
        import["stored"]
    );
    let rate = total as f64 / took.as_secs_f64();
    let figures = vec![
        Figure::new(
            "import",
            backend.name(),
            format!("import of {DAYS} days × {installations} installations hourly ({total} reports), stored and evaluated as history"),
        )
        .value(format!(
            "{:.1} s, {rate:.0} reports/s (all sent in {:.1} s); resident {} → {} MB at most",
            took.as_secs_f64(),
            sent_in.as_secs_f64(),
            first >> 20,
            peak >> 20
        ))
        .target("3,000 reports/s on SQLite, memory flat")
        .data(json!({
            "seconds": took.as_secs_f64(),
            "reports_per_second": rate,
            "sent_in_seconds": sent_in.as_secs_f64(),
            "rss_start_bytes": first,
            "rss_peak_bytes": peak,
            "import": import,
        })),
    ];
    bench.stop().await?;
    Ok(figures)
}

//! Replaying a rule over history: a month of hourly reports from a fleet (1,000
//! installations by default: 720,000 reports, written straight into the store as ingest
//! stores them), then `stale-updates` replayed over it through the API, twice: the
//! installed one alone, and a candidate (the same component with a one-day threshold)
//! against it, which evaluates every report and tick twice. Ticks every hour, as by
//! default. One installation in ten stops getting content updates on day 10, so both
//! replays have alerts to find and the candidate has some to add and some to fire earlier.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use reveille::fleet::Installation;
use reveille::ingest::Accepted;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::fleet::{ADMIN, Backend, Bench};
use crate::results::Figure;

const HOUR: i64 = 3_600_000;
const DAYS: i64 = 30;

/// A report whose bases were last updated at `updated`, generated at `at`, as ingest
/// accepts it.
fn report(at: i64, updated: i64) -> anyhow::Result<Accepted> {
    let time = |ms: i64| jiff::Timestamp::from_millisecond(ms).map(|t| t.to_string());
    let mut bases = String::new();
    for n in 0..8 {
        bases.push_str(&format!(
            "    <base code=\"KDS-{n:03}\" update=\"{}\" operup-at=\"{}\" state=\"ok\"/>\n",
            4280 + n,
            time(updated - n * 60_000)?
        ));
    }
    let xml = format!(
        r#"<report schema="1" agent="report-agent" generated-at="{}">
  <product name="Техэксперт" shell-version="6.4.2.73"/>
  <service state="running" http-status="200"/>
  <protection kind="senselock" state="present"/>
  <bases>
{bases}  </bases>
  <users limit="25" in-use="12" peak="19" refused="0"/>
</report>"#,
        time(at)?
    );
    Ok(reveille::ingest::accept(
        "replay",
        xml.as_bytes(),
        None,
        usize::MAX,
    )?)
}

pub async fn run(backend: &Backend, installations: usize) -> anyhow::Result<Vec<Figure>> {
    let bench = Bench::start(backend).await?;
    let now = jiff::Timestamp::now().as_millisecond();
    let start = (now - DAYS * 24 * HOUR).div_euclid(HOUR) * HOUR;
    // Every hour's report, updated that midnight, and the same with updates frozen on day
    // 10 (each generated at its hour: a report sent again is stored once).
    let hours = |frozen: bool| -> anyhow::Result<Arc<Vec<Accepted>>> {
        (0..DAYS * 24)
            .map(|h| {
                let day = if frozen { (h / 24).min(10) } else { h / 24 };
                report(start + h * HOUR, start + day * 24 * HOUR)
            })
            .collect::<anyhow::Result<_>>()
            .map(Arc::new)
    };
    let (days, frozen) = (hours(false)?, hours(true)?);
    let seeding = Instant::now();
    let store = bench.running.store.clone();
    let mut writing = JoinSet::new();
    for k in 0..installations {
        let (store, days, frozen) = (store.clone(), days.clone(), frozen.clone());
        writing.spawn(async move {
            let installation = Installation {
                id: format!("replay-{k:05}"),
                client: format!("Client {}", k % 97),
                manager: "bench".into(),
                timezone: "Europe/Moscow".into(),
                telegram_chat_id: -3_000_000 - k as i64,
                url: None,
                ip: None,
                parent: None,
                tags: Vec::new(),
                created_at: start,
                updated_at: start,
            };
            let token = format!("rvt_bench_replay_{k:05}");
            store
                .create_installation(&installation, &reveille::ingest::token::digest(&token))
                .await?;
            for h in 0..DAYS * 24 {
                let report = if k % 10 == 0 {
                    &frozen[h as usize]
                } else {
                    &days[h as usize]
                };
                let at = start + h * HOUR;
                store
                    .insert_report(&report.to_store(&installation.id, at))
                    .await?;
            }
            anyhow::Ok(())
        });
        if writing.len() >= 64 {
            writing.join_next().await.context("a writer")???;
        }
    }
    while let Some(done) = writing.join_next().await {
        done??;
    }
    let seeded_in = seeding.elapsed();
    let reports = installations as i64 * DAYS * 24;
    let mut figures = Vec::new();
    let since = format!(
        "since={}&until={}",
        jiff::Timestamp::from_millisecond(start)?,
        jiff::Timestamp::from_millisecond(start + DAYS * 24 * HOUR)?
    );
    let candidate = reveille::plugins::builtin::BUILTIN_PLUGINS
        .iter()
        .find(|(name, _)| *name == "stale-updates")
        .context("stale-updates is built in")?
        .1
        .to_vec();
    for (what, query, body) in [
        (
            "the installed stale-updates alone",
            since.clone(),
            Vec::new(),
        ),
        (
            "a candidate (threshold 1d) against the installed",
            format!("{since}&config=threshold%3D1d"),
            candidate,
        ),
    ] {
        let started = Instant::now();
        let replay = replay(&bench, &query, body).await?;
        let took = started.elapsed();
        let result = &replay["result"];
        anyhow::ensure!(replay["state"] == "done", "the replay ended {replay}");
        let rate = reports as f64 / took.as_secs_f64();
        figures.push(
            Figure::new(
                "replay",
                backend.name(),
                format!(
                    "replay of {DAYS} days × {installations} installations hourly ({reports} reports, ticks every hour), {what}"
                ),
            )
            .value(format!(
                "{:.1} s, {rate:.0} reports/s ({} evaluations; fired {}{})",
                took.as_secs_f64(),
                result["evaluations"],
                result["fired"],
                match result["difference"].as_object() {
                    Some(d) => format!(", {} added, {} earlier", d["added"], d["earlier"]),
                    None => String::new(),
                }
            ))
            .target("minutes, not hours")
            .data(json!({
                "seconds": took.as_secs_f64(),
                "reports_per_second": rate,
                "seeded_in_seconds": seeded_in.as_secs_f64(),
                "result": result,
            })),
        );
    }
    bench.stop().await?;
    Ok(figures)
}

/// Starts a replay of `stale-updates` and waits for it.
async fn replay(bench: &Bench, query: &str, body: Vec<u8>) -> anyhow::Result<Value> {
    let started: Value = bench
        .client
        .post(bench.url(&format!(
            "/api/v1/plugins/stale-updates/replay?{query}&deadline=1h"
        )))
        .bearer_auth(ADMIN)
        .body(body)
        .send()
        .await?
        .json()
        .await?;
    let id = started["replay"]["id"]
        .as_i64()
        .with_context(|| format!("no replay started: {started}"))?;
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let answer: Value = bench
            .client
            .get(bench.url(&format!("/api/v1/replays/{id}")))
            .bearer_auth(ADMIN)
            .send()
            .await?
            .json()
            .await?;
        let state = answer["replay"]["state"].as_str().unwrap_or_default();
        if state != "running" && state != "cancelling" {
            return Ok(answer["replay"].clone());
        }
    }
}

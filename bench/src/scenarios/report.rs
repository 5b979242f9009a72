//! A client's quarterly report: 50 installations of one client reporting every hour
//! through the third quarter of 2026 (110,400 reports through the ingest API, on the
//! manual clock), each losing its dongle for an hour once a week; then how long the
//! report for the quarter takes over HTTP as CSV (every figure) and as HTML (median and
//! worst of 10), and as a PDF once when Chromium is installed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use reveille::clock::ManualClock;
use tokio::task::JoinSet;

use crate::fleet::{ADMIN, Backend, Bench, Member, typical_report};
use crate::results::{Figure, ms};

const INSTALLATIONS: usize = 50;
const CLIENT: &str = "Client Q";
const FETCHES: usize = 10;

pub async fn run(backend: &Backend) -> anyhow::Result<Vec<Figure>> {
    let start = "2026-07-01T00:00:00+03:00"
        .parse::<jiff::Timestamp>()?
        .as_millisecond();
    let clock = Arc::new(ManualClock::new(start - 3_600_000));
    let bench = Bench::start_clocked(backend, "", clock.clone()).await?;
    let mut fleet = Vec::with_capacity(INSTALLATIONS);
    for k in 0..INSTALLATIONS {
        let id = format!("q-{k:03}");
        let chat = -2_000_000 - k as i64;
        bench.fake.add_chat(chat, &id);
        let body: serde_json::Value = bench
            .client
            .post(bench.url("/api/v1/installations"))
            .bearer_auth(ADMIN)
            .json(&serde_json::json!({
                "id": id, "client": CLIENT, "manager": "bench",
                "timezone": "Europe/Moscow", "telegram_chat_id": chat,
            }))
            .send()
            .await?
            .json()
            .await?;
        let token = body["token"].as_str().context("no token")?.to_string();
        fleet.push(Member { id, chat, token });
    }
    let hours = 92 * 24;
    let seeding = Instant::now();
    for h in 0..hours {
        clock.set(start + h * 3_600_000);
        let mut posts = JoinSet::new();
        for (k, member) in fleet.iter().enumerate() {
            let lost = (h + k as i64 * 3) % (7 * 24) == 0;
            posts.spawn(bench.post(
                member,
                typical_report(&member.id, if lost { "lost" } else { "present" }),
            ));
        }
        while posts.join_next().await.is_some() {}
        bench.drained(Duration::from_secs(60)).await;
    }
    let seeded = seeding.elapsed();
    clock.set(start + hours * 3_600_000 + 9 * 3_600_000);
    let path = "/api/v1/clients/Client%20Q/report?quarter=2026Q3";
    let bearer = format!("Bearer {ADMIN}");
    let mut figures = Vec::new();
    for format in ["csv", "html"] {
        let (median, worst, bytes) = bench
            .timed_gets(
                &format!("{path}&format={format}"),
                ("authorization", &bearer),
                FETCHES,
            )
            .await?;
        figures.push(
            Figure::new(
                "report",
                backend.name(),
                format!("a quarter's report, {INSTALLATIONS} installations, {format}"),
            )
            .value(format!(
                "median {:.0} ms, worst {:.0} ms, {} KB ({} reports laid in {:.0} s)",
                ms(median),
                ms(worst),
                bytes / 1024,
                hours * INSTALLATIONS as i64,
                seeded.as_secs_f64()
            ))
            .target("a few seconds")
            .data(serde_json::json!({
                "median_ms": ms(median), "worst_ms": ms(worst), "bytes": bytes,
            })),
        );
    }
    if reveille::client_report::pdf::chromium(None).is_some() {
        let started = Instant::now();
        let response = bench
            .client
            .get(bench.url(&format!("{path}&format=pdf")))
            .bearer_auth(ADMIN)
            .send()
            .await?
            .error_for_status()?;
        let bytes = response.bytes().await?.len();
        let took = started.elapsed();
        figures.push(
            Figure::new(
                "report",
                backend.name(),
                format!("a quarter's report, {INSTALLATIONS} installations, pdf"),
            )
            .value(format!("{:.0} ms, {} KB", ms(took), bytes / 1024))
            .data(serde_json::json!({ "ms": ms(took), "bytes": bytes })),
        );
    }
    bench.stop().await?;
    Ok(figures)
}

//! A tick sweep over a large fleet: every installation evaluated by the plugins that want
//! `tick` (reports-stopped), its latest report loaded, its findings and alerts committed.
//! The fleet is written straight into the store (registering 100,000 installations through
//! the API would measure the API); one in a hundred last reported three days ago, the
//! rest five minutes ago. Two sweeps: the first finds the silent ones (new alerts, messages
//! to Telegram), the second finds nothing new.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::DeflateEncoder;
use reveille::fleet::Installation;
use reveille::store::NewReport;
use serde_json::json;
use tokio::task::JoinSet;

use crate::fleet::{Backend, Bench, typical_report};
use crate::results::Figure;

const SILENT_EVERY: usize = 100;

pub async fn run(backend: &Backend, size: usize) -> anyhow::Result<Vec<Figure>> {
    let bench = Bench::start(backend).await?;
    let seeding = Instant::now();
    seed(&bench, size).await?;
    let seeded_in = seeding.elapsed();
    let mut figures = Vec::new();
    for sweep in [
        "first sweep (1% newly silent)",
        "second sweep (nothing new)",
    ] {
        let started = Instant::now();
        let queued = bench.running.scheduler.tick().await?;
        let drained = bench.drained(Duration::from_secs(1800)).await;
        let took = started.elapsed();
        let rate = queued as f64 / took.as_secs_f64();
        figures.push(
            Figure::new("tick", backend.name(), format!("tick over {queued} installations, {sweep}"))
                .value(format!(
                    "{:.2} s ({rate:.0} installations/s){}",
                    took.as_secs_f64(),
                    if drained { "" } else { ", timed out" }
                ))
                .target("< 1 s for 100,000")
                .data(json!({ "installations": queued, "seconds": took.as_secs_f64(), "per_second": rate, "seeded_in_seconds": seeded_in.as_secs_f64() })),
        );
    }
    let delivered = bench
        .metric("reveille_notifications_total{outcome=\"delivered\"}")
        .await?;
    let attempts = bench.metric("reveille_notifications_total").await?;
    if let Some(first) = figures.first_mut() {
        first.value.push_str(&format!(
            "; {delivered} alerts delivered to Telegram in {attempts} attempts"
        ));
    }
    bench.stop().await?;
    Ok(figures)
}

/// `size` installations, each with one stored report.
async fn seed(bench: &Bench, size: usize) -> anyhow::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let xml = typical_report("fleet", "present");
    let parsed = reveille::report::parse(xml.as_bytes())?;
    let glance = Arc::new(reveille::report::Glance::of(&parsed));
    let document = Arc::new(parsed.to_stored()?);
    let mut raw = DeflateEncoder::new(Vec::new(), Compression::fast());
    raw.write_all(xml.as_bytes())?;
    let raw = Arc::new(raw.finish()?);
    let raw_size = xml.len();
    for chunk in (0..size).collect::<Vec<_>>().chunks(256) {
        let mut writing = JoinSet::new();
        for &k in chunk {
            let store = bench.running.store.clone();
            let (document, raw, glance) = (document.clone(), raw.clone(), glance.clone());
            let silent = k % SILENT_EVERY == 0;
            let chat = -2_000_000 - k as i64;
            if silent {
                bench.fake.add_chat(chat, "silent installation");
            }
            writing.spawn(async move {
                let installation = Installation {
                    id: format!("fleet-{k:06}"),
                    client: format!("Client {}", k % 997),
                    manager: "bench".into(),
                    timezone: "Europe/Moscow".into(),
                    telegram_chat_id: chat,
                    url: None,
                    ip: None,
                    parent: None,
                    tags: Vec::new(),
                    created_at: now - 30 * 86_400_000,
                    updated_at: now - 30 * 86_400_000,
                };
                store
                    .create_installation(&installation, &format!("{k:064x}"))
                    .await?;
                let received_at = now - if silent { 3 * 86_400_000 } else { 300_000 };
                store
                    .insert_report(&NewReport {
                        installation_id: &installation.id,
                        received_at,
                        generated_at: received_at,
                        agent: "report-agent",
                        document: &document,
                        raw: &raw,
                        raw_size,
                        glance: &glance,
                    })
                    .await?;
                anyhow::Ok(())
            });
        }
        while let Some(done) = writing.join_next().await {
            done??;
        }
    }
    Ok(())
}

//! A tick sweep over a large fleet: every installation evaluated by the plugins that want
//! `tick` (reports-stopped), its latest report loaded, its findings and alerts committed.
//! The fleet is written straight into the store ([`seed`]); one in a hundred last
//! reported three days ago, the rest five minutes ago. Two sweeps: the first finds the silent ones (new alerts, messages
//! to Telegram), the second finds nothing new.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::fleet::{Backend, Bench, seed};
use crate::results::Figure;

const SILENT_EVERY: usize = 100;

pub async fn run(backend: &Backend, size: usize) -> anyhow::Result<Vec<Figure>> {
    let bench = Bench::start(backend).await?;
    let seeding = Instant::now();
    seed(&bench.running.store, size, SILENT_EVERY, |chat| {
        bench.fake.add_chat(chat, "silent installation")
    })
    .await?;
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

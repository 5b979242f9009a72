//! The morning burst: agents post routine reports (each what its installation said last
//! time) as fast as the service takes them for a while, which leaves a backlog of
//! evaluations; right after, a few installations lose their dongle. What counts is how
//! long those alerts take to reach Telegram while the backlog is still there.
//!
//! `slow` runs the same with a plugin loaded that never fails but takes 90 ms a call
//! (under its 100 ms deadline): the host charges it for its time and switches it off, and
//! the lost dongles, found by another plugin, must still be told within a second.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::ingest::{Routine, routine};
use super::latency::percentile;
use crate::fleet::{ADMIN, Backend, Bench, typical_report};
use crate::results::{Figure, ms};

/// The burst's length, as in the issue that set the target.
const BURST_SECONDS: f64 = 15.0;
/// Installations that lose their dongle after the burst, one every [`LOST_EVERY`].
const LOST: usize = 10;
const LOST_EVERY: Duration = Duration::from_millis(100);

pub async fn run(backend: &Backend) -> anyhow::Result<Vec<Figure>> {
    let bench = Arc::new(Bench::start(backend).await?);
    let figures = measure(
        &bench,
        backend,
        "burst",
        format!(
            "a lost dongle posted right after {BURST_SECONDS:.0} s of routine reports at full speed"
        ),
    )
    .await?;
    stop(bench).await?;
    Ok(figures)
}

/// The burst with `misbehave` sleeping 90 ms a call.
pub async fn slow(backend: &Backend) -> anyhow::Result<Vec<Figure>> {
    let bench = Bench::start_with(
        backend,
        "[plugins.misbehave]\nmode = \"slow\"\nmillis = \"90\"\n\
         [runtime.limits.misbehave]\ndeadline = \"100ms\"\n",
    )
    .await?;
    let installed = bench
        .client
        .put(bench.url("/api/v1/plugins/misbehave"))
        .bearer_auth(ADMIN)
        .body(reveille_tests::fixture_plugin("misbehave"))
        .send()
        .await?;
    anyhow::ensure!(
        installed.status() == 201,
        "the slow plugin was refused: {}",
        installed.text().await?
    );
    let bench = Arc::new(bench);
    let mut figures = measure(
        &bench,
        backend,
        "slow",
        format!(
            "a lost dongle after {BURST_SECONDS:.0} s of routine reports, a plugin taking 90 ms a call loaded"
        ),
    )
    .await?;
    let calls = bench
        .metric("reveille_plugin_evaluations_total{plugin=\"misbehave\"}")
        .await?;
    figures.push(
        Figure::new(
            "slow",
            backend.name(),
            "calls of the 90 ms plugin before the host switched it off",
        )
        .value(format!("{calls:.0}"))
        .target("about a health window (10) per shard running")
        .data(json!({ "calls": calls })),
    );
    stop(bench).await?;
    Ok(figures)
}

async fn stop(bench: Arc<Bench>) -> anyhow::Result<()> {
    Arc::into_inner(bench)
        .expect("every agent has finished")
        .stop()
        .await
}

async fn measure(
    bench: &Arc<Bench>,
    backend: &Backend,
    name: &'static str,
    description: String,
) -> anyhow::Result<Vec<Figure>> {
    eprintln!("{name}: {BURST_SECONDS} s of routine reports");
    let Routine { fleet, flooded, .. } = routine(bench, BURST_SECONDS).await?;
    let backlog = bench.running.pipeline.queue_depth();
    let burst_ended = Instant::now();
    let mut posted = Vec::with_capacity(LOST);
    for (n, member) in fleet
        .iter()
        .step_by(fleet.len() / LOST)
        .take(LOST)
        .enumerate()
    {
        tokio::time::sleep_until((burst_ended + LOST_EVERY * n as u32).into()).await;
        let at = Instant::now();
        let status = bench.post(member, typical_report(&member.id, "lost")).await;
        anyhow::ensure!(
            status == Some(202),
            "a lost-dongle report was refused: {status:?}"
        );
        posted.push((member.chat, at));
    }
    let told = |chat: i64| {
        bench
            .fake
            .calls()
            .into_iter()
            .find(|c| c.chat_id == chat && c.method == "sendMessage")
            .map(|c| c.at)
    };
    bench
        .fake
        .wait_for(Duration::from_secs(300), |_| {
            posted.iter().all(|(chat, _)| told(*chat).is_some())
        })
        .await;
    let mut latencies: Vec<Duration> = posted
        .iter()
        .filter_map(|(chat, at)| Some(told(*chat)?.duration_since(*at)))
        .collect();
    latencies.sort();
    let drained = bench.drained(Duration::from_secs(900)).await;
    let backlog_gone = burst_ended.elapsed();
    let (p50, max) = (
        percentile(&latencies, 0.5),
        latencies.last().copied().unwrap_or_default(),
    );
    let figures = vec![
        Figure::new(name, backend.name(), description)
        .value(format!(
            "at Telegram after p50 {:.0} ms, max {:.0} ms ({} of {LOST}); burst {:.0} reports/s accepted, {backlog} jobs queued when it ended, gone {:.1} s later{}",
            ms(p50),
            ms(max),
            latencies.len(),
            flooded.accepted as f64 / flooded.took.as_secs_f64(),
            backlog_gone.as_secs_f64(),
            if drained { "" } else { " (timed out)" }
        ))
        .target("< 1 s")
        .data(json!({
            "accepted": flooded.accepted, "sent": flooded.sent, "burst_seconds": flooded.took.as_secs_f64(),
            "backlog": backlog, "backlog_gone_seconds": backlog_gone.as_secs_f64(),
            "lost": LOST, "told": latencies.len(), "p50_ms": ms(p50), "max_ms": ms(max),
        })),
    ];
    Ok(figures)
}

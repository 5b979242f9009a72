//! Figures of the service as a whole process (`reveille serve` with the six built-in
//! plugins on SQLite): start-up without and with the compile cache, idle memory, a
//! 30 MB report's ingest time and peak memory, and memory with a large fleet registered,
//! reporting and ticked.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reveille_tests::large_report;
use serde_json::json;

use crate::child::{Child, rss_of};
use crate::fleet::{ADMIN, Flooded, flood, seed, seeded, sum_metric, typical_report};
use crate::results::{Figure, mb, ms};

const BACKEND: &str = "sqlite";

/// How long the large fleet's agents post, and how many at once.
const REPORTING_SECONDS: f64 = 10.0;
const AGENTS: usize = 32;

pub async fn run(fleet: usize) -> anyhow::Result<Vec<Figure>> {
    let data = tempfile::tempdir()?;
    eprintln!("process: starting with an empty compile cache");
    let cold = Child::spawn(data.path()).await?;
    let cold_in = cold.started_in;
    drop(cold);
    eprintln!("process: starting again, compile cache filled");
    let warm = Child::spawn(data.path()).await?;
    // Settled: the start-up's transient buffers are freed, the timers are running.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = rss_of(warm.pid());
    let mut figures = vec![
        Figure::new(
            "start",
            BACKEND,
            "start to healthy /healthz, 6 plugins, empty compile cache",
        )
        .value(format!("{:.0} ms", ms(cold_in)))
        .data(json!({ "ms": ms(cold_in) })),
        Figure::new(
            "start",
            BACKEND,
            "start to healthy /healthz, 6 plugins, compile cache filled",
        )
        .value(format!("{:.0} ms", ms(warm.started_in)))
        .data(json!({ "ms": ms(warm.started_in) })),
        Figure::new("idle", BACKEND, "resident memory, idle, 6 plugins loaded")
            .value(format!("{:.1} MB", mb(idle)))
            .target("< 50 MB")
            .data(json!({ "bytes": idle })),
    ];
    figures.push(large(&warm, idle).await?);
    drop(warm);
    figures.push(large_fleet(fleet).await?);
    Ok(figures)
}

async fn large(service: &Child, idle: u64) -> anyhow::Result<Figure> {
    let client = reqwest::Client::new();
    let token = service.register("vector-main", "Vector", -1).await?;
    let body = large_report(30 << 20);
    let size = body.len();

    let peak = Arc::new(AtomicU64::new(idle));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling, pid) = (peak.clone(), sampling.clone(), service.pid());
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(rss_of(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    eprintln!("process: posting a {:.0} MB report", mb(size as u64));
    let started = Instant::now();
    let status = client
        .post(format!("{}/api/v1/reports", service.base))
        .bearer_auth(&token)
        .header("content-type", "application/xml")
        .body(body)
        .send()
        .await?
        .status();
    let accepted_in = started.elapsed();
    anyhow::ensure!(status == 202, "the 30 MB report was refused: {status}");
    let findings_url = format!("{}/api/v1/installations/vector-main/findings", service.base);
    loop {
        let findings = client
            .get(&findings_url)
            .bearer_auth(ADMIN)
            .send()
            .await?
            .text()
            .await?;
        if findings.contains("dongle-lost") {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(120),
            "the 30 MB report was never evaluated"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let evaluated_in = started.elapsed();
    sampling.store(false, Ordering::Relaxed);
    sampler.join().expect("the memory sampler does not panic");
    let peak = peak.load(Ordering::Relaxed).max(service.peak_rss());
    Ok(Figure::new(
        "large",
        BACKEND,
        format!("one {:.0} MB report", mb(size as u64)),
    )
    .value(format!(
        "accepted in {:.0} ms, evaluated in {:.0} ms; process peak {:.0} MB ({:.0} MB over idle)",
        ms(accepted_in),
        ms(evaluated_in),
        mb(peak),
        mb(peak.saturating_sub(idle))
    ))
    .target("< 0.3 s, < 100 MB")
    .data(json!({
        "bytes": size, "accepted_ms": ms(accepted_in), "evaluated_ms": ms(evaluated_in),
        "peak_rss_bytes": peak, "idle_rss_bytes": idle,
    })))
}

/// `size` installations in the store, the service started on it (ticks every minute, the
/// default); agents of as many installations as post in [`REPORTING_SECONDS`] send a report
/// each, then the service works through its queue (the reports, then the first tick of the
/// whole fleet).
async fn large_fleet(size: usize) -> anyhow::Result<Figure> {
    let data = tempfile::tempdir()?;
    eprintln!("process: writing {size} installations into a new store");
    let store = reveille::store::Store::open(&format!(
        "sqlite://{}?mode=rwc",
        data.path().join("reveille.db").display()
    ))
    .await?;
    seed(&store, size, 100, |_| {}).await?;
    store.close().await;
    let service = Child::spawn(data.path()).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let started = rss_of(service.pid());
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/reports", service.base);
    eprintln!("process: {size} installations, reporting for {REPORTING_SECONDS} s");
    let Flooded { accepted, .. } = flood(AGENTS, REPORTING_SECONDS, move |k| {
        let (id, token) = seeded(k % size);
        let request = client
            .post(&url)
            .bearer_auth(token)
            .header("content-type", "application/xml")
            .body(typical_report(&id, "present"));
        async move { request.send().await.ok().map(|r| r.status().as_u16()) }
    })
    .await;
    let metrics = format!("{}/metrics", service.base);
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut ticked = false;
    loop {
        let text = reqwest::get(&metrics).await?.text().await?;
        let queued = sum_metric(&text, "reveille_evaluation_queue_depth");
        // Done once a tick over the whole fleet has been queued (most of it at once) and
        // worked through.
        ticked |= queued >= size as f64 * 0.9;
        if (ticked && queued == 0.0) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let peak = service.peak_rss();
    let after = rss_of(service.pid());
    Ok(Figure::new(
        "memory",
        BACKEND,
        format!("resident memory with {size} installations registered, reporting and ticked"),
    )
    .value(format!(
        "{:.0} MB started, peak {:.0} MB while {accepted} reports came and the fleet was ticked, {:.0} MB after{}",
        mb(started),
        mb(peak),
        mb(after),
        if ticked { "" } else { " (no tick seen within 10 min)" }
    ))
    .target("< 200 MB")
    .data(json!({
        "installations": size, "reports": accepted, "ticked": ticked,
        "started_rss_bytes": started, "peak_rss_bytes": peak, "after_rss_bytes": after,
    })))
}

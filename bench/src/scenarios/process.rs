//! Figures of the service as a whole process (`reveille serve` with the six built-in
//! plugins on SQLite): start-up without and with the compile cache, idle memory, and a
//! 30 MB report's ingest time and peak memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reveille_tests::large_report;
use serde_json::json;

use crate::child::{Child, rss_of};
use crate::fleet::ADMIN;
use crate::results::{Figure, mb, ms};

const BACKEND: &str = "sqlite";

pub async fn run() -> anyhow::Result<Vec<Figure>> {
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

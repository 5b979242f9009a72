//! A full 30 MB system report: accepted, stored, evaluated, in bounded memory. Alone in its
//! test binary, so the process's memory is this test's.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reveille_tests::{Options, Service, large_report};

/// Resident memory of this process, in bytes.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_30_mb_report_is_ingested_in_bounded_memory() {
    let service = Service::start(Options::default()).await;
    let token = service.installation("vector-main").await;
    let body = large_report(30 << 20);
    assert!(body.len() >= 30 << 20);

    let before = rss();
    let peak = Arc::new(AtomicU64::new(before));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(rss(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let started = Instant::now();
    let response = service.post_report(&token, body).await;
    let accepted_in = started.elapsed();
    assert_eq!(response.status(), 202);
    let findings = service.findings("vector-main").await;
    let evaluated_in = started.elapsed();
    sampling.store(false, Ordering::Relaxed);
    sampler.join().unwrap();

    assert!(
        findings.iter().any(|f| f["key"] == "dongle-lost"),
        "{findings:?}"
    );
    let extra = peak.load(Ordering::Relaxed).saturating_sub(before);
    eprintln!(
        "30 MB report: accepted in {accepted_in:?}, evaluated in {evaluated_in:?}, peak extra memory {} MB",
        extra >> 20
    );
    // The body (30 MB, in the client here and in the server) and the parsed document
    // (about 55 MB for this report); its stored form is compressed. Far from the hundreds
    // of MB a DOM would take; the margin absorbs the allocator's moods.
    assert!(extra < 200 << 20, "peak extra memory {} MB", extra >> 20);
}

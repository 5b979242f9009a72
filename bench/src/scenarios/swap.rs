//! Hot-swapping a plugin under load: reports arrive at a steady rate while, halfway
//! through, a new build of `dongle-lost` is uploaded. The new build is the built-in's
//! bytes plus a custom section, so its digest is new and the host really compiles it.
//! Afterwards every accepted report must have been evaluated by `dongle-lost` (old or new
//! revision) and no plugin call may have failed.

use std::time::{Duration, Instant};

use anyhow::Context;
use reveille::plugins::cache::sha256_hex;
use reveille_tests::{builtin_plugin, with_custom_section};
use serde_json::json;

use crate::fleet::{ADMIN, Backend, Bench};
use crate::results::{Figure, ms};

const INSTALLATIONS: usize = 200;
const PLUGIN: &str = "dongle-lost";

pub async fn run(backend: &Backend, rate: u32, seconds: u32) -> anyhow::Result<Vec<Figure>> {
    let bench = Bench::start(backend).await?;
    let fleet = bench.register(INSTALLATIONS).await?;
    let stamp = format!("{:?}", std::time::SystemTime::now());
    let upload = with_custom_section(&builtin_plugin(PLUGIN), "reveille-bench", stamp.as_bytes());
    let total = (rate * seconds) as usize;
    let mut swap = None;
    let accepted = bench
        .steady(&fleet, rate, seconds, |k, _, _| {
            if k == total / 2 {
                let request = bench
                    .client
                    .put(bench.url(&format!("/api/v1/plugins/{PLUGIN}?override=builtin")))
                    .bearer_auth(ADMIN)
                    .header("content-type", "application/wasm")
                    .body(upload.clone());
                swap = Some(tokio::spawn(async move {
                    let at = Instant::now();
                    let status = request.send().await.map(|r| r.status().as_u16());
                    (status, at.elapsed())
                }));
            }
        })
        .await;
    let (status, swap_took) = swap.context("the swap never started")?.await?;
    let drained = bench.drained(Duration::from_secs(600)).await;
    let evaluations = bench
        .metric(&format!(
            "reveille_plugin_evaluations_total{{plugin=\"{PLUGIN}\"}}"
        ))
        .await? as usize;
    let failures = bench.metric("reveille_plugin_failures_total").await? as usize;
    let unevaluated = bench.running.store.pending_reports(i64::MAX).await?.len();
    let serving = bench
        .running
        .runtime
        .registry()
        .status(PLUGIN)
        .and_then(|s| s.sha256)
        .unwrap_or_default();
    let swapped = serving == sha256_hex(&upload);
    let figures = vec![
        Figure::new("swap", backend.name(), format!("hot swap of {PLUGIN} while {rate} reports/s arrive"))
            .value(format!(
                "PUT answered {} in {:.0} ms (new build compiled, smoke-tested, swapped: {}); {accepted} of {total} reports accepted, {evaluations} evaluated by {PLUGIN}, {failures} plugin calls failed, {unevaluated} left unevaluated{}",
                status.map_or_else(|e| e.to_string(), |s| s.to_string()),
                ms(swap_took),
                if swapped { "yes" } else { "NO" },
                if drained { "" } else { " (timed out)" },
            ))
            .target("no failed or lost evaluation")
            .data(json!({
                "rate": rate, "seconds": seconds, "reports": total, "accepted": accepted,
                "evaluations": evaluations, "failures": failures, "unevaluated": unevaluated,
                "swap_ms": ms(swap_took), "swapped": swapped,
            })),
    ];
    bench.stop().await?;
    Ok(figures)
}

//! Report POST → `sendMessage` at the fake Telegram, at a steady rate. Each installation
//! alternately loses and finds its dongle, so every "lost" report owes one new living
//! message (and every "found" one an edit and a reply, which load the same path).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::fleet::{Backend, Bench};
use crate::results::{Figure, ms};

pub struct Load {
    pub rate: u32,
    pub seconds: u32,
    pub installations: usize,
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub async fn run(backend: &Backend, load: &Load) -> anyhow::Result<Vec<Figure>> {
    let bench = Bench::start(backend).await?;
    let fleet = bench.register(load.installations).await?;
    let total = (load.rate * load.seconds) as usize;
    let mut sent: BTreeMap<i64, Vec<Instant>> = BTreeMap::new();
    let accepted = bench
        .steady(&fleet, load.rate, load.seconds, |_, member, lost| {
            if lost {
                sent.entry(member.chat).or_default().push(Instant::now());
            }
        })
        .await;
    let refused = total - accepted;
    let expected: usize = sent.values().map(Vec::len).sum();
    let living = |chat: i64| -> Vec<i64> {
        bench
            .fake
            .bot_messages(chat)
            .iter()
            .filter(|m| m.reply_to.is_none())
            .map(|m| m.id)
            .collect()
    };
    bench
        .fake
        .wait_for(Duration::from_secs(120), |_| {
            sent.keys().map(|chat| living(*chat).len()).sum::<usize>() >= expected
        })
        .await;
    // The k-th living message in a chat answers the k-th "lost" report to it.
    let calls = bench.fake.calls();
    let mut latencies = Vec::new();
    for (chat, posted) in &sent {
        for (at, message) in posted.iter().zip(&living(*chat)) {
            if let Some(call) = calls.iter().find(|c| {
                c.chat_id == *chat && c.message_id == *message && c.method == "sendMessage"
            }) {
                latencies.push(call.at.duration_since(*at));
            }
        }
    }
    latencies.sort();
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    let max = latencies.last().copied().unwrap_or_default();
    let name = backend.name();
    let figures = vec![
        Figure::new("latency", name, format!(
            "report POST → sendMessage, {} reports/s over {} installations for {} s",
            load.rate, load.installations, load.seconds
        ))
        .value(format!(
            "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} of {expected} alerts delivered, {refused} reports refused)",
            ms(p50), ms(p99), ms(max), latencies.len()
        ))
        .target(match load.rate {
            ..=200 => "p99 < 20 ms at 200 reports/s",
            _ => "p99 < 50 ms at 1,000 reports/s on SQLite",
        })
        .data(json!({
            "rate": load.rate, "seconds": load.seconds, "installations": load.installations,
            "reports": total, "refused": refused,
            "alerts_expected": expected, "alerts_delivered": latencies.len(),
            "p50_ms": ms(p50), "p99_ms": ms(p99), "max_ms": ms(max),
        })),
    ];
    bench.stop().await?;
    Ok(figures)
}

//! `cargo run --release -p reveille-bench [-- --rate 200 --seconds 10 --installations 200]`
//!
//! Starts the real service on loopback (SQLite in a temporary directory, or PostgreSQL
//! when `REVEILLE_TEST_POSTGRES_URL` is set) with the built-in plugins and a fake Telegram,
//! then drives a fleet at a steady rate: each installation alternately loses and finds its
//! dongle, so every "lost" report must become a Telegram message. Measures the time from
//! the report's POST to the alert's `sendMessage` arriving at the fake, and writes the
//! figures as JSON (`bench-results.json`) for comparison between commits.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fake_telegram::FakeTelegram;
use reveille::clock::SystemClock;
use reveille::config::Config;
use serde_json::json;

const ADMIN: &str = "bench-admin-token-0123456789";
const BOT: &str = "1:bench-bot-token";

struct Args {
    rate: u32,
    seconds: u32,
    installations: usize,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args {
        rate: 200,
        seconds: 10,
        installations: 200,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--rate" => args.rate = value.parse().context("--rate")?,
            "--seconds" => args.seconds = value.parse().context("--seconds")?,
            "--installations" => args.installations = value.parse().context("--installations")?,
            other => bail!("unknown flag {other} (use --rate, --seconds, --installations)"),
        }
    }
    Ok(args)
}

fn report(id: &str, state: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<report schema="1" agent="status-agent" generated-at="2026-11-20T20:00:00+03:00">
  <installation id="{id}"><client>Client {id}</client></installation>
  <service state="running" http-status="200"/>
  <protection kind="senselock" state="{state}" forwarding="usb-over-network"/>
</report>"#
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let fake = FakeTelegram::start(BOT).await;
    let data = tempfile::tempdir()?;
    let database = std::env::var("REVEILLE_TEST_POSTGRES_URL").ok();
    let config = Config::load_with(None, |key| match key {
        "REVEILLE_LISTEN" => Some("127.0.0.1:0".into()),
        "REVEILLE_DATA_DIR" => Some(data.path().display().to_string()),
        "REVEILLE_ADMIN_TOKEN" => Some(ADMIN.into()),
        "REVEILLE_TELEGRAM_TOKEN" => Some(BOT.into()),
        "REVEILLE_TELEGRAM_API_URL" => Some(fake.api_url()),
        "REVEILLE_DATABASE_URL" => database.clone(),
        _ => None,
    })?;
    let backend = if database.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let running = reveille::server::start(config, Arc::new(SystemClock)).await?;
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::new();

    let mut tokens = Vec::new();
    for n in 0..args.installations {
        let id = format!("inst-{n:05}");
        let chat = -1_000_000 - n as i64;
        fake.add_chat(chat, &id);
        let body: serde_json::Value = client
            .post(format!("{base}/api/v1/installations"))
            .bearer_auth(ADMIN)
            .json(&json!({
                "id": id, "client": format!("Client {n}"), "manager": "bench",
                "timezone": "Europe/Moscow", "telegram_chat_id": chat,
            }))
            .send()
            .await?
            .json()
            .await?;
        let token = body["token"]
            .as_str()
            .context("installation token")?
            .to_string();
        tokens.push((id, chat, token));
    }

    // Steady rate: report k goes to installation k mod N; even rounds lose the dongle
    // (a new alert, one sendMessage), odd rounds find it again.
    let total = (args.rate * args.seconds) as usize;
    let interval = Duration::from_secs_f64(1.0 / f64::from(args.rate));
    let started = Instant::now();
    let mut sent: BTreeMap<i64, Vec<Instant>> = BTreeMap::new();
    let mut posts = tokio::task::JoinSet::new();
    for k in 0..total {
        let due = started + interval * k as u32;
        tokio::time::sleep_until(due.into()).await;
        let (id, chat, token) = &tokens[k % tokens.len()];
        let lost = (k / tokens.len()) % 2 == 0;
        let body = report(id, if lost { "lost" } else { "present" });
        if lost {
            sent.entry(*chat).or_default().push(Instant::now());
        }
        let request = client
            .post(format!("{base}/api/v1/reports"))
            .bearer_auth(token)
            .header("content-type", "application/xml")
            .body(body);
        posts.spawn(async move { request.send().await.map(|r| r.status().as_u16()) });
    }
    let mut failed = 0;
    while let Some(result) = posts.join_next().await {
        if !matches!(result, Ok(Ok(202))) {
            failed += 1;
        }
    }
    let expected: usize = sent.values().map(Vec::len).sum();
    let delivered = fake
        .wait_for(Duration::from_secs(60), |f| {
            sent.keys()
                .map(|chat| {
                    f.bot_messages(*chat)
                        .iter()
                        .filter(|m| m.reply_to.is_none())
                        .count()
                })
                .sum::<usize>()
                >= expected
        })
        .await;
    // The k-th living message in a chat answers the k-th "lost" report to it.
    let calls = fake.calls();
    let mut latencies = Vec::new();
    for (chat, posted) in &sent {
        let living: Vec<i64> = fake
            .bot_messages(*chat)
            .iter()
            .filter(|m| m.reply_to.is_none())
            .map(|m| m.id)
            .collect();
        for (at, message) in posted.iter().zip(&living) {
            if let Some(call) = calls.iter().find(|c| {
                c.chat_id == *chat && c.message_id == *message && c.method == "sendMessage"
            }) {
                latencies.push(call.at.duration_since(*at));
            }
        }
    }
    latencies.sort();
    let p50 = percentile(&latencies, 0.5);
    let p99 = percentile(&latencies, 0.99);
    let max = latencies.last().copied().unwrap_or_default();
    println!("| figure | value |");
    println!("|---|---|");
    println!("| backend | {backend} |");
    println!(
        "| load | {} reports/s for {} s over {} installations ({total} reports, {failed} not accepted) |",
        args.rate, args.seconds, args.installations
    );
    println!(
        "| alerts delivered | {} of {expected}{} |",
        latencies.len(),
        if delivered { "" } else { " (timed out)" }
    );
    println!(
        "| report POST → sendMessage at the fake | p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms |",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
    let results = json!({
        "backend": backend,
        "rate": args.rate,
        "seconds": args.seconds,
        "installations": args.installations,
        "reports": total,
        "not_accepted": failed,
        "alerts_expected": expected,
        "alerts_delivered": latencies.len(),
        "post_to_send_ms": { "p50": p50.as_secs_f64() * 1e3, "p99": p99.as_secs_f64() * 1e3, "max": max.as_secs_f64() * 1e3 },
    });
    std::fs::write(
        "bench-results.json",
        serde_json::to_string_pretty(&results)?,
    )?;
    running.stop().await?;
    Ok(())
}

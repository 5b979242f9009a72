//! A long steady load on the service as a process of its own (SQLite, the built-in
//! plugins, the fake Telegram in this process): 200 installations reporting at a steady
//! rate, each losing its dongle in one round of ten and finding it in the next (so most
//! reports are routine, as a fleet's are, and every installation has an alert fired and
//! resolved every few rounds), with ticks every minute, for `--soak-minutes` (60 by
//! default; outside CI). Every window (a twelfth of the run) says the process's resident
//! memory, the POST latency, the reports refused or failed, and the messages Telegram got;
//! the target is flat lines. The last row compares the last window with the second (the
//! first warms up).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fake_telegram::FakeTelegram;
use serde_json::json;
use tokio::sync::Mutex;

use crate::child::{Child, rss_of};
use crate::fleet::{BOT, typical_report};
use crate::results::{Figure, mb, ms};
use crate::scenarios::latency::percentile;

const BACKEND: &str = "sqlite";
const INSTALLATIONS: usize = 200;
/// Reports a second, across the fleet.
const RATE: u32 = 50;
const WINDOWS: u32 = 12;

/// What one window saw.
#[derive(Default)]
struct Window {
    latencies: Vec<Duration>,
    errors: u64,
}

pub async fn run(minutes: u32) -> anyhow::Result<Vec<Figure>> {
    let fake = FakeTelegram::start(BOT).await;
    let data = tempfile::tempdir()?;
    std::fs::write(
        data.path().join("reveille.toml"),
        "[schedule]\ntick_interval = \"1m\"\n",
    )?;
    let config = data.path().join("reveille.toml").display().to_string();
    let service = Child::spawn_with(
        data.path(),
        &["--config", &config],
        &[
            ("REVEILLE_TELEGRAM_TOKEN", BOT),
            ("REVEILLE_TELEGRAM_API_URL", &fake.api_url()),
        ],
    )
    .await?;
    let client = reqwest::Client::new();
    let mut tokens = Vec::with_capacity(INSTALLATIONS);
    for k in 0..INSTALLATIONS {
        let id = format!("soak-{k:04}");
        let chat = -2_000_000 - k as i64;
        fake.add_chat(chat, &id);
        let token = service.register(&id, &format!("Client {k}"), chat).await?;
        tokens.push((id, token));
    }
    let window_length = Duration::from_secs(u64::from(minutes) * 60) / WINDOWS;
    let current = Arc::new(Mutex::new(Window::default()));
    let sent = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut rows = Vec::new();
    eprintln!("soak: {minutes} min at {RATE} reports/s over {INSTALLATIONS} installations");
    let interval = Duration::from_secs_f64(1.0 / f64::from(RATE));
    for window in 0..WINDOWS {
        let window_end = started + window_length * (window + 1);
        while Instant::now() < window_end {
            let k = sent.fetch_add(1, Ordering::Relaxed) as usize;
            tokio::time::sleep_until((started + interval * k as u32).into()).await;
            let (id, token) = &tokens[k % tokens.len()];
            let lost = (k / tokens.len()).is_multiple_of(10);
            let body = typical_report(id, if lost { "lost" } else { "present" });
            let (client, base, token, current) = (
                client.clone(),
                service.base.clone(),
                token.clone(),
                current.clone(),
            );
            tokio::spawn(async move {
                let posted = Instant::now();
                let answer = client
                    .post(format!("{base}/api/v1/reports"))
                    .bearer_auth(token)
                    .header("content-type", "application/xml")
                    .body(body)
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await;
                let mut window = current.lock().await;
                match answer {
                    Ok(response) if response.status() == 202 => {
                        window.latencies.push(posted.elapsed())
                    }
                    _ => window.errors += 1,
                }
            });
        }
        let seen = std::mem::take(&mut *current.lock().await);
        let mut latencies = seen.latencies;
        latencies.sort();
        let row = json!({
            "minute": (started.elapsed().as_secs_f64() / 60.0),
            "rss_bytes": rss_of(service.pid()),
            "accepted": latencies.len(),
            "errors": seen.errors,
            "p50_ms": ms(percentile(&latencies, 0.5)),
            "p99_ms": ms(percentile(&latencies, 0.99)),
            "telegram_calls": fake.calls().len(),
        });
        eprintln!("soak: {row}");
        rows.push(row);
    }
    let second = &rows[1.min(rows.len() - 1)];
    let last = &rows[rows.len() - 1];
    let f = |row: &serde_json::Value, key: &str| row[key].as_f64().unwrap_or_default();
    let errors: f64 = rows.iter().map(|r| f(r, "errors")).sum();
    let figures = vec![
        Figure::new(
            "soak",
            BACKEND,
            format!("{minutes} min at {RATE} reports/s, {INSTALLATIONS} installations, ticks every minute"),
        )
        .value(format!(
            "resident memory {:.1} MB → {:.1} MB, POST p99 {:.1} ms → {:.1} ms (second window → last), {errors} errors, {} Telegram calls",
            mb(f(second, "rss_bytes") as u64),
            mb(f(last, "rss_bytes") as u64),
            f(second, "p99_ms"),
            f(last, "p99_ms"),
            f(last, "telegram_calls"),
        ))
        .target("flat")
        .data(json!({ "windows": rows })),
    ];
    drop(service);
    Ok(figures)
}

//! The board's pages with a fleet of 1,000 installations (97 clients, one manager), every
//! installation having reported and a tenth of them with a lost dongle: how long the
//! fleet board, its live rows fragment, "Now" and a client's page take to render, as a
//! logged-in admin fetches them over HTTP (median and worst of 30).

use std::time::Duration;

use anyhow::Context;
use tokio::task::JoinSet;

use crate::fleet::{Backend, Bench, typical_report};
use crate::results::{Figure, ms};

const FLEET: usize = 1_000;
const FETCHES: usize = 30;

pub async fn run(backend: &Backend) -> anyhow::Result<Vec<Figure>> {
    let bench = Bench::start(backend).await?;
    let fleet = bench.register(FLEET).await?;
    for chunk in fleet.chunks(64) {
        let mut posts = JoinSet::new();
        for (k, member) in chunk.iter().enumerate() {
            let dongle = if k % 10 == 0 { "lost" } else { "present" };
            posts.spawn(bench.post(member, typical_report(&member.id, dongle)));
        }
        while posts.join_next().await.is_some() {}
    }
    bench.drained(Duration::from_secs(300)).await;
    let cookie = admin_session(&bench).await?;
    let mut figures = Vec::new();
    for (name, path) in [
        ("fleet board", "/"),
        ("board rows (live refresh)", "/board/rows"),
        ("now", "/now"),
        ("client page", "/clients/Client%2042"),
    ] {
        let (median, worst, bytes) = bench.timed_gets(path, ("cookie", &cookie), FETCHES).await?;
        figures.push(
            Figure::new(
                "board",
                backend.name(),
                format!("{name}, {FLEET} installations"),
            )
            .value(format!(
                "median {:.1} ms, worst {:.1} ms, {} KB",
                ms(median),
                ms(worst),
                bytes / 1024
            ))
            .target("well under 100 ms")
            .data(serde_json::json!({
                "median_ms": ms(median), "worst_ms": ms(worst), "bytes": bytes,
            })),
        );
    }
    Ok(figures)
}

/// Creates the first admin through the setup link; the session cookie.
async fn admin_session(bench: &Bench) -> anyhow::Result<String> {
    let link = bench
        .running
        .setup_link
        .clone()
        .context("no setup link: the bench's service has staff already")?;
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?
        .post(link)
        .form(&[
            ("name", "bench"),
            ("password", "bench password"),
            ("lang", "en"),
        ])
        .send()
        .await?;
    let cookie = response
        .headers()
        .get("set-cookie")
        .context("no session cookie")?
        .to_str()?
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    Ok(cookie)
}

//! The board with a fleet of `--fleet` installations (100,000 by default, 997 clients, one
//! manager), written straight into the store, every one having reported, one in a hundred
//! then reporting a lost dongle through the API: how long the board's pages take as a
//! logged-in admin fetches them over HTTP (median and worst of 30), how long the first
//! page takes right after a change (served from the rows it has while they are read
//! again), what the kept rows cost
//! in memory, and how many bytes an open board receives when one of its rows changes.

use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::task::JoinSet;

use crate::fleet::{Backend, Bench, seed, seeded, typical_report};
use crate::results::{Figure, ms};

const FETCHES: usize = 30;
/// One in this many reports a lost dongle.
const LOST_EVERY: usize = 100;

pub async fn run(backend: &Backend, size: usize) -> anyhow::Result<Vec<Figure>> {
    let bench = Bench::start(backend).await?;
    seed(&bench.running.store, size, usize::MAX, |_| {}).await?;
    let lost: Vec<usize> = (0..size).step_by(LOST_EVERY).collect();
    for chunk in lost.chunks(64) {
        let mut posts = JoinSet::new();
        for &k in chunk {
            let (id, token) = seeded(k);
            posts.spawn(bench.post_as(&token, typical_report(&id, "lost")));
        }
        while posts.join_next().await.is_some() {}
    }
    bench.drained(Duration::from_secs(600)).await;
    let cookie = admin_session(&bench).await?;
    let header = ("cookie", cookie.as_str());
    let before = resident_kb();
    let loaded = Instant::now();
    bench.timed_gets("/", header, 1).await?;
    let first_load = loaded.elapsed();
    let kept_kb = resident_kb().saturating_sub(before);
    let mut figures = vec![
        Figure::new(
            "board",
            backend.name(),
            format!("kept rows, {size} installations"),
        )
        .value(format!(
            "loaded in {:.0} ms, about {} MB resident",
            ms(first_load),
            kept_kb / 1024
        ))
        .target("read once per change, not per visitor")
        .data(serde_json::json!({ "load_ms": ms(first_load), "resident_kb": kept_kb })),
    ];
    for (name, path) in [
        ("first page", "/"),
        ("a client searched", "/?client=Client%2042"),
        ("failing only", "/?state=red"),
        ("page 900", "/?page=900&sort=report"),
        ("by client", "/?group=client"),
        ("now", "/now"),
        ("client page", "/clients/Client%2042"),
    ] {
        let (median, worst, bytes) = bench.timed_gets(path, header, FETCHES).await?;
        figures.push(
            Figure::new(
                "board",
                backend.name(),
                format!("{name}, {size} installations"),
            )
            .value(format!(
                "median {:.1} ms, worst {:.1} ms, {} KB",
                ms(median),
                ms(worst),
                bytes / 1024
            ))
            .target("< 100 ms on the server")
            .data(serde_json::json!({
                "median_ms": ms(median), "worst_ms": ms(worst), "bytes": bytes,
            })),
        );
    }
    figures.push(after_a_change(&bench, backend, header, size).await?);
    figures.push(live_update(&bench, backend, &cookie, size).await?);
    bench.stop().await?;
    Ok(figures)
}

/// The first page right after a report changed a row: once reading the kept rows again
/// takes long, the page does not wait for it (its live stream brings the change).
async fn after_a_change(
    bench: &Bench,
    backend: &Backend,
    header: (&str, &str),
    size: usize,
) -> anyhow::Result<Figure> {
    let (id, token) = seeded(1);
    bench
        .post_as(&token, typical_report(&id, "lost"))
        .await
        .context("the report was not accepted")?;
    bench.drained(Duration::from_secs(60)).await;
    let (took, _, bytes) = bench.timed_gets("/", header, 1).await?;
    Ok(Figure::new(
        "board",
        backend.name(),
        format!("first page right after a change, {size} installations"),
    )
    .value(format!("{:.1} ms, {} KB", ms(took), bytes / 1024))
    .target("< 100 ms on the server")
    .data(serde_json::json!({ "ms": ms(took), "bytes": bytes })))
}

/// An open board on its first page; an installation on it reports again (its row's words
/// change, its place does not): the bytes of the one event the page receives, and how
/// long after the report it came.
async fn live_update(
    bench: &Bench,
    backend: &Backend,
    cookie: &str,
    size: usize,
) -> anyhow::Result<Figure> {
    let mut events = bench
        .client
        .get(bench.url("/board/live?seen=0"))
        .header("cookie", cookie)
        .send()
        .await?
        .error_for_status()?;
    let mut buffer = Vec::new();
    // The first event is the whole page (the stream was told it showed nothing yet).
    let whole = next_event(&mut events, &mut buffer).await?;
    let first = whole
        .split("id=\"row-")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("no row in the first event")?
        .to_string();
    let k: usize = first
        .trim_start_matches("fleet-")
        .parse()
        .with_context(|| format!("{first} is not a seeded installation"))?;
    let (id, token) = seeded(k);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let posted = Instant::now();
    bench
        .post_as(&token, typical_report(&id, "lost"))
        .await
        .context("the report was not accepted")?;
    let update = next_event(&mut events, &mut buffer).await?;
    let took = posted.elapsed();
    let rows = update.matches("<tr ").count();
    Ok(Figure::new(
        "board",
        backend.name(),
        format!("live update, one row changed, {size} installations"),
    )
    .value(format!(
        "{} bytes ({rows} row(s); the whole page is {} KB), {:.0} ms after the report",
        update.len(),
        whole.len() / 1024,
        ms(took)
    ))
    .target("only the changed rows")
    .data(serde_json::json!({
        "bytes": update.len(), "rows": rows, "page_bytes": whole.len(), "after_ms": ms(took),
    })))
}

/// The data of the next server-sent event (keep-alive comments skipped).
async fn next_event(
    events: &mut reqwest::Response,
    buffer: &mut Vec<u8>,
) -> anyhow::Result<String> {
    loop {
        if let Some(end) = buffer.windows(2).position(|w| w == b"\n\n") {
            let event: Vec<u8> = buffer.drain(..end + 2).collect();
            let text = String::from_utf8(event)?;
            let data: Vec<&str> = text
                .lines()
                .filter_map(|line| line.strip_prefix("data: ").or(line.strip_prefix("data:")))
                .collect();
            if !data.is_empty() {
                return Ok(data.join("\n"));
            }
            continue;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(60), events.chunk())
            .await
            .context("no event within a minute")??
            .context("the stream ended")?;
        buffer.extend_from_slice(&chunk);
    }
}

/// This process's resident memory (the service runs in it).
fn resident_kb() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
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

//! A storm: 1,000 installations behind 5 parents (redirect servers), their managers in 20
//! group chats, become unreachable by name at once and come back. Run twice: with
//! incidents (the default) and with grouping switched off (`[incidents] wait = "0s"`, how
//! every alert used to go out on its own), to show what the grouping saves: messages sent,
//! Telegram's 429s, and the time from the first failure to the first incident card.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::fleet::{ADMIN, Backend, Bench, Member};
use crate::results::{Figure, ms};

const CHILDREN: usize = 1_000;
const PARENTS: usize = 5;
const CHATS: usize = 20;
/// How long the storm may take to settle before the run gives up waiting.
const SETTLE: Duration = Duration::from_secs(180);

/// A status agent's report, generated now (a report sent again is stored once).
fn report(id: &str, by_domain: bool) -> String {
    let now = jiff::Timestamp::now();
    format!(
        r#"<report schema="1" agent="status-agent" generated-at="{now:.3}"><installation id="{id}"/><network domain="{id}.example.ru" reachable-by-domain="{by_domain}" reachable-by-ip="true"/></report>"#
    )
}

async fn register(bench: &Bench) -> anyhow::Result<Vec<Member>> {
    for c in 0..CHATS {
        bench
            .fake
            .add_chat(-2_000_000 - c as i64, &format!("Manager {c}"));
    }
    let create = |body: Value| {
        bench
            .client
            .post(bench.url("/api/v1/installations"))
            .bearer_auth(ADMIN)
            .json(&body)
            .send()
    };
    for p in 0..PARENTS {
        create(json!({
            "id": format!("redirect-{p}"), "client": "Distributor", "manager": "support",
            "timezone": "Europe/Moscow", "telegram_chat_id": -2_000_000,
        }))
        .await?
        .error_for_status()?;
    }
    let mut members = Vec::with_capacity(CHILDREN);
    for chunk in (0..CHILDREN).collect::<Vec<_>>().chunks(32) {
        let mut creating = JoinSet::new();
        for &k in chunk {
            let id = format!("child-{k:04}");
            let chat = -2_000_000 - (k % CHATS) as i64;
            let request = create(json!({
                "id": id, "client": format!("Client {}", k % 200), "manager": "bench",
                "timezone": "Europe/Moscow", "telegram_chat_id": chat,
                "parent": format!("redirect-{}", k % PARENTS),
            }));
            creating.spawn(async move {
                let body: Value = request.await?.json().await?;
                let token = body["token"]
                    .as_str()
                    .with_context(|| format!("no token for {id}: {body}"))?
                    .to_string();
                anyhow::Ok(Member { id, chat, token })
            });
        }
        while let Some(member) = creating.join_next().await {
            members.push(member??);
        }
    }
    Ok(members)
}

/// Every child reports "unreachable by name" (or reachable again), as fast as it can.
async fn report_all(bench: &Bench, fleet: &[Member], by_domain: bool) {
    let mut posts = JoinSet::new();
    for member in fleet {
        posts.spawn(bench.post(member, report(&member.id, by_domain)));
        if posts.len() >= 64 {
            posts.join_next().await;
        }
    }
    while posts.join_next().await.is_some() {}
}

struct Storm {
    sends: usize,
    edits: usize,
    rate_limited: usize,
    first_message: Option<Duration>,
    all_told: Option<Duration>,
}

/// Bot API calls so far: (sendMessage, editMessageText).
fn calls(bench: &Bench) -> (usize, usize) {
    let calls = bench.fake.calls();
    let count = |method| calls.iter().filter(|c| c.method == method).count();
    (count("sendMessage"), count("editMessageText"))
}

async fn storm(backend: &Backend, config: &str) -> anyhow::Result<Storm> {
    let bench = Bench::start_with(backend, config).await?;
    let fleet = register(&bench).await?;
    let started = Instant::now();
    report_all(&bench, &fleet, false).await;
    // Told: every chat has heard of it (a card or, without incidents, its alerts).
    let told = bench
        .fake
        .wait_for(SETTLE, |f| {
            (0..CHATS).all(|c| !f.bot_messages(-2_000_000 - c as i64).is_empty())
        })
        .await;
    let all_told = told.then(|| started.elapsed());
    let first_message = bench
        .fake
        .calls()
        .iter()
        .filter(|c| c.method == "sendMessage")
        .map(|c| c.at)
        .min()
        .map(|at| at.saturating_duration_since(started));
    // Without incidents every alert is owed a message; wait for the outbox either way.
    let store = bench.running.store.clone();
    let deadline = Instant::now() + SETTLE;
    while store.outbox_backlog().await?.0 > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    report_all(&bench, &fleet, true).await;
    bench.drained(SETTLE).await;
    let deadline = Instant::now() + SETTLE;
    loop {
        let open = store
            .alerts(&reveille::store::AlertFilter {
                states: Some(reveille::alerts::AlertState::OPEN.to_vec()),
                limit: 1,
                ..Default::default()
            })
            .await?;
        let incidents = store.open_incidents().await?;
        if (open.is_empty() && incidents.is_empty() && store.outbox_backlog().await?.0 == 0)
            || Instant::now() > deadline
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (sends, edits) = calls(&bench);
    let rate_limited = bench.fake.rate_limited();
    bench.stop().await?;
    Ok(Storm {
        sends,
        edits,
        rate_limited,
        first_message,
        all_told,
    })
}

pub async fn run(backend: &Backend) -> anyhow::Result<Vec<Figure>> {
    let name = backend.name();
    let mut figures = Vec::new();
    for (label, config) in [
        ("with incidents", ""),
        ("grouping off", "[incidents]\nwait = \"0s\"\n"),
    ] {
        let s = storm(backend, config).await?;
        let time = |d: Option<Duration>| {
            d.map_or("never".to_string(), |d| format!("{:.1} s", ms(d) / 1000.0))
        };
        figures.push(
            Figure::new(
                "storm",
                name,
                format!(
                    "{CHILDREN} installations behind {PARENTS} parents, {CHATS} chats, down and back ({label})"
                ),
            )
            .value(format!(
                "{} messages sent, {} edits, {} answered 429; first message after {}, every chat told after {}",
                s.sends,
                s.edits,
                s.rate_limited,
                time(s.first_message),
                time(s.all_told)
            ))
            .data(json!({
                "grouping": label, "sends": s.sends, "edits": s.edits,
                "rate_limited": s.rate_limited,
                "first_message_ms": s.first_message.map(ms),
                "all_told_ms": s.all_told.map(ms),
            })),
        );
    }
    Ok(figures)
}

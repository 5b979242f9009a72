//! Server-sent events for open pages. `/events` sends `fleet` ("something changed, look
//! again"); `/board/live` sends an open board only what changed on it: its counts, the
//! rows whose words changed, or the page's rows when their order or set did. Rings closer
//! together than [`QUIET`] make one event, so a burst of reports costs a page one update,
//! not a thousand. A stream ends when the service stops taking requests, so the browser
//! reconnects (to another node, behind a load balancer) instead of holding the shutdown up.

use std::convert::Infallible;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;

use super::board::{Parts, RowHtml, visible};
use super::page::Ui;
use super::session::Visitor;
use crate::app::AppState;
use crate::board::Ask;
use crate::tasks::Tasks;

/// Rings within this long after one are folded into it.
const QUIET: Duration = Duration::from_millis(250);

/// Waits for the next ring and the quiet after it; `false` when the service is stopping.
async fn next_change(changes: &mut Receiver<()>, intake: &Tasks) -> bool {
    tokio::select! {
        changed = changes.recv() => match changed {
            Ok(()) | Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return false,
        },
        () = intake.stopping() => return false,
    }
    tokio::time::sleep(QUIET).await;
    *changes = changes.resubscribe();
    true
}

pub async fn stream(
    State(state): State<AppState>,
    _visitor: Visitor,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let changes = state.web.live.watch();
    let events = stream::unfold(
        (changes, state.intake),
        |(mut changes, intake)| async move {
            next_change(&mut changes, &intake).await.then(|| {
                (
                    Ok::<_, Infallible>(Event::default().event("fleet").data("changed")),
                    (changes, intake),
                )
            })
        },
    );
    Sse::new(events).keep_alive(KeepAlive::default())
}

/// Which rows' version the page was rendered from.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Seen {
    seen: u64,
}

/// What an open board shows now, by digest: all a stream keeps of it (a few kilobytes for
/// a page of rows, whatever the fleet's size).
#[derive(Default)]
struct Shown {
    head: u64,
    clients: u64,
    /// The page's rows in order: installation id and digest.
    rows: Vec<(String, u64)>,
}

fn digest(text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

impl Shown {
    /// What to send so the page shows `parts`; empty when it already does.
    fn update(&mut self, parts: &Parts) -> String {
        let mut out = String::new();
        let mut send = |html: String, shown: &mut u64| {
            let now = digest(&html);
            if now != *shown {
                *shown = now;
                out.push_str(&html);
            }
        };
        send(parts.head.to_string(), &mut self.head);
        send(parts.clients.to_string(), &mut self.clients);
        let rows: Vec<(&str, String, u64)> = parts
            .rows
            .rows
            .iter()
            .map(|row| {
                let html = RowHtml {
                    ui: parts.rows.ui,
                    row,
                    oob: true,
                }
                .to_string();
                let digest = digest(&html);
                (row.installation.id.as_str(), html, digest)
            })
            .collect();
        let same_rows = rows.len() == self.rows.len()
            && rows
                .iter()
                .zip(&self.rows)
                .all(|((id, ..), (was, _))| id == was);
        if same_rows {
            for ((_, html, now), (_, was)) in rows.iter().zip(&self.rows) {
                if now != was {
                    out.push_str(html);
                }
            }
        } else {
            out.push_str(&parts.rows.to_string());
        }
        self.rows = rows
            .into_iter()
            .map(|(id, _, digest)| (id.to_string(), digest))
            .collect();
        out
    }
}

struct Watching {
    changes: Receiver<()>,
    state: AppState,
    visitor: Visitor,
    ask: Ask,
    shown: Shown,
    /// The page's rows' version, until the first look.
    seen: Option<u64>,
}

impl Watching {
    /// The next update for the page, or `None` when the service is stopping.
    async fn next(&mut self) -> Option<String> {
        loop {
            let first = self.seen.take();
            if first.is_none() && !next_change(&mut self.changes, &self.state.intake).await {
                return None;
            }
            let rows = match self.state.web.board.rows().await {
                Ok(rows) => rows,
                Err(error) => {
                    tracing::warn!(%error, "the board's live stream could not read the fleet");
                    continue;
                }
            };
            let ui = Ui {
                now: self.state.clock.now_ms(),
                ..self.visitor.ui()
            };
            let view = visible(&rows, &self.visitor, &self.ask);
            let update = self.shown.update(&Parts::of(&ui, &self.ask, &view, true));
            // The page already shows the rows it was rendered from.
            if first == Some(rows.rung()) || update.is_empty() {
                continue;
            }
            return Some(update);
        }
    }
}

pub async fn board(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(ask): Query<Ask>,
    Query(seen): Query<Seen>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let watching = Watching {
        changes: state.web.live.watch(),
        state,
        visitor,
        ask,
        shown: Shown::default(),
        seen: Some(seen.seen),
    };
    let events = stream::unfold(watching, |mut watching| async move {
        let update = watching.next().await?;
        Some((
            Ok::<_, Infallible>(Event::default().event("board").data(update)),
            watching,
        ))
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

//! `/events`: one server-sent event stream per open page. An event named `fleet` says
//! "something changed, look again"; rings closer together than [`QUIET`] make one event,
//! so a burst of reports costs a page one fetch, not a thousand.

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;

use super::session::Visitor;
use crate::api::AppState;
use axum::extract::State;

/// Rings within this long after one are folded into it.
const QUIET: Duration = Duration::from_millis(250);

pub async fn stream(
    State(state): State<AppState>,
    _visitor: Visitor,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let changes = state.web.live.watch();
    let events = stream::unfold(changes, |mut changes| async move {
        match changes.recv().await {
            Ok(()) | Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return None,
        }
        tokio::time::sleep(QUIET).await;
        changes = changes.resubscribe();
        Some((Ok(Event::default().event("fleet").data("changed")), changes))
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

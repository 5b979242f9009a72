//! `/events`: one server-sent event stream per open page. An event named `fleet` says
//! "something changed, look again"; rings closer together than [`QUIET`] make one event,
//! so a burst of reports costs a page one fetch, not a thousand. A stream ends when the
//! service stops taking requests, so the browser reconnects (to another node, behind a
//! load balancer) instead of holding the shutdown up.

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;

use super::session::Visitor;
use crate::app::AppState;
use axum::extract::State;

/// Rings within this long after one are folded into it.
const QUIET: Duration = Duration::from_millis(250);

pub async fn stream(
    State(state): State<AppState>,
    _visitor: Visitor,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let changes = state.web.live.watch();
    let events = stream::unfold(
        (changes, state.intake),
        |(mut changes, intake)| async move {
            tokio::select! {
                changed = changes.recv() => match changed {
                    Ok(()) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return None,
                },
                () = intake.stopping() => return None,
            }
            tokio::time::sleep(QUIET).await;
            changes = changes.resubscribe();
            Some((
                Ok(Event::default().event("fleet").data("changed")),
                (changes, intake),
            ))
        },
    );
    Sse::new(events).keep_alive(KeepAlive::default())
}

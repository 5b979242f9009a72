//! The HTTP listener: accepts connections up to a cap, serves each with hyper's HTTP/1.1
//! and a header read timeout, tells handlers who is calling, and shuts down gracefully.
//!
//! `axum::serve` has neither the timeout nor the cap: a client sending its headers a byte
//! a second kept a connection forever, and enough of them exhausted the open-file limit
//! until nothing was accepted at all. Here the header timeout also closes a keep-alive
//! connection left idle, and an accept error (the file limit, say) pauses accepting briefly
//! instead of spinning.
//!
//! At the cap, a new connection does not simply lose to those already open: a flood of
//! connections that never send a request (10,000 of them, from anyone) would otherwise
//! refuse every agent behind it for as long as the header timeout. The oldest connection
//! that has not yet sent a whole request is closed to make room, so an agent that connects
//! and speaks gets through; only when every connection is busy with a request is the new
//! one closed. Both count in `/metrics` (`reveille_connections_refused_total`). Body
//! timeouts are per route (`api/body.rs`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::metrics::Metrics;

/// Connection limits and timeouts (`[http]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpSettings {
    /// Time a client has to send a request's headers, and the longest a keep-alive
    /// connection waits idle for its next request.
    pub header_timeout: Duration,
    /// Longest silence within a request body, and the time after which it must average
    /// [`crate::app::body::MIN_RATE`].
    pub body_timeout: Duration,
    /// Connections served at once; beyond it, the oldest that has not sent a request yet
    /// is closed to make room.
    pub max_connections: usize,
    /// Take the client's address from the last hop of `X-Forwarded-For` (set when a proxy
    /// of yours fronts the service; otherwise anyone could name any address).
    pub forwarded_for: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 512,
            forwarded_for: false,
        }
    }
}

/// Who is calling, as handlers see it (login throttling is per address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub String);

impl Caller {
    /// The address of `request`'s client: the connection's peer, or, behind a proxy of
    /// ours, the last address `X-Forwarded-For` names.
    fn of<B>(request: &hyper::Request<B>, peer: SocketAddr, forwarded_for: bool) -> Caller {
        let forwarded = forwarded_for
            .then(|| request.headers().get("x-forwarded-for")?.to_str().ok())
            .flatten()
            .and_then(|hops| hops.rsplit(',').next())
            .map(str::trim)
            .filter(|hop| !hop.is_empty());
        Caller(forwarded.map_or_else(|| peer.ip().to_string(), str::to_string))
    }
}

/// How long shutting down waits for requests in flight.
const DRAIN: Duration = Duration::from_secs(10);
/// Pause after a failed accept (out of file descriptors, usually).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// At most one warning per this long about refused connections.
const WARN_EVERY: Duration = Duration::from_secs(60);
/// How long a new connection waits for the room an evicted one leaves.
const ROOM_WITHIN: Duration = Duration::from_millis(200);

/// The connections that have not sent a whole request yet, oldest first: the ones a new
/// connection may push out at the cap.
#[derive(Default)]
struct Waiting {
    next: u64,
    open: BTreeMap<u64, (Arc<AtomicBool>, CancellationToken)>,
}

impl Waiting {
    fn add(&mut self, spoke: Arc<AtomicBool>, close: CancellationToken) -> u64 {
        let id = self.next;
        self.next += 1;
        self.open.insert(id, (spoke, close));
        id
    }

    /// Closes the oldest connection that has not spoken; false if every one has.
    fn evict(&mut self) -> bool {
        let silent = self
            .open
            .iter()
            .find(|(_, (spoke, _))| !spoke.load(Ordering::Relaxed))
            .map(|(id, _)| *id);
        match silent.and_then(|id| self.open.remove(&id)) {
            Some((_, close)) => {
                close.cancel();
                true
            }
            None => false,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in flight
/// finish (up to [`DRAIN`]).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    settings: HttpSettings,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(settings.max_connections));
    let waiting = Arc::new(Mutex::new(Waiting::default()));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout);
    let mut warned: Option<Instant> = None;
    let mut warn = |what: &str, detail: String| {
        if warned.is_none_or(|at| at.elapsed() > WARN_EVERY) {
            tracing::warn!(detail, "{what}");
            warned = Some(Instant::now());
        }
    };
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    warn("cannot accept connections", error.to_string());
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                let evicted = waiting.lock().expect("connections lock").evict();
                let room = match evicted {
                    true => {
                        metrics.connection_refused();
                        tokio::time::timeout(ROOM_WITHIN, permits.clone().acquire_owned())
                            .await
                            .ok()
                            .and_then(Result::ok)
                    }
                    false => None,
                };
                match room {
                    Some(permit) => {
                        warn(
                            "connection limit reached: closing connections that sent no request to make room",
                            format!("max_connections = {}", settings.max_connections),
                        );
                        permit
                    }
                    None => {
                        metrics.connection_refused();
                        warn(
                            "connection limit reached and every connection busy: closing new connections",
                            format!("max_connections = {}", settings.max_connections),
                        );
                        continue;
                    }
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let spoke = Arc::new(AtomicBool::new(false));
        let close = CancellationToken::new();
        let id = waiting
            .lock()
            .expect("connections lock")
            .add(spoke.clone(), close.clone());
        let forwarded_for = settings.forwarded_for;
        let service = app
            .clone()
            .map_request(move |mut request: hyper::Request<Incoming>| {
                spoke.store(true, Ordering::Relaxed);
                let caller = Caller::of(&request, peer, forwarded_for);
                request.extensions_mut().insert(caller);
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        let waiting = waiting.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = connection => {}
                () = close.cancelled() => {}
            }
            waiting.lock().expect("connections lock").open.remove(&id);
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running at shutdown were cut off");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_silent_connection_makes_room() {
        let mut waiting = Waiting::default();
        let spoke = |yes| Arc::new(AtomicBool::new(yes));
        let (a, b, c) = (
            CancellationToken::new(),
            CancellationToken::new(),
            CancellationToken::new(),
        );
        waiting.add(spoke(true), a.clone());
        waiting.add(spoke(false), b.clone());
        waiting.add(spoke(false), c.clone());
        assert!(waiting.evict());
        assert!(!a.is_cancelled(), "a connection that sent a request stays");
        assert!(b.is_cancelled(), "the oldest silent one goes");
        assert!(!c.is_cancelled());
        assert!(waiting.evict());
        assert!(c.is_cancelled());
        assert!(!waiting.evict(), "only busy connections left");
    }

    #[test]
    fn the_callers_address_is_the_peers_unless_a_proxy_of_ours_says() {
        let peer: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let request = hyper::Request::builder()
            .header("x-forwarded-for", "203.0.113.9, 198.51.100.7")
            .body(())
            .unwrap();
        assert_eq!(Caller::of(&request, peer, false), Caller("10.0.0.1".into()));
        assert_eq!(
            Caller::of(&request, peer, true),
            Caller("198.51.100.7".into()),
            "the hop our proxy added, not one the client wrote"
        );
    }
}

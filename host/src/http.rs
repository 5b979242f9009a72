//! The HTTP listener: accepts connections up to a cap, serves each with hyper's HTTP/1.1
//! and a header read timeout, and shuts down gracefully.
//!
//! `axum::serve` has neither the timeout nor the cap: a client sending its headers a byte
//! a second kept a connection forever, and enough of them exhausted the open-file limit
//! until nothing was accepted at all. Here the header timeout also closes a keep-alive
//! connection left idle, a connection over the cap is closed at once (the ones already
//! served go on), and an accept error (the file limit, say) pauses accepting briefly
//! instead of spinning. Body timeouts are per route (`api/body.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Connection limits and timeouts (`[http]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpSettings {
    /// Time a client has to send a request's headers, and the longest a keep-alive
    /// connection waits idle for its next request.
    pub header_timeout: Duration,
    /// Longest silence within a request body, and the time after which it must average
    /// [`crate::api::body::MIN_RATE`].
    pub body_timeout: Duration,
    /// Connections served at once; more are closed as they arrive.
    pub max_connections: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 512,
        }
    }
}

/// How long shutting down waits for requests in flight.
const DRAIN: Duration = Duration::from_secs(10);
/// Pause after a failed accept (out of file descriptors, usually).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// At most one warning per this long about refused connections.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in flight
/// finish (up to [`DRAIN`]).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    settings: HttpSettings,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(settings.max_connections));
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
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    warn("cannot accept connections", error.to_string());
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            warn(
                "connection limit reached: closing new connections",
                format!("max_connections = {}", settings.max_connections),
            );
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
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

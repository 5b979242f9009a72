//! Request bodies: a declared size over the route's limit is answered 413 before a byte of
//! the body is used (what follows is drained for a moment, so the client reads the answer),
//! and a body that trickles in (silent for `body_timeout`, or averaging
//! under [`MIN_RATE`] once `body_timeout` has passed) is cut off with 408. tower-http's body
//! timeout restarts at every frame, which a sender of one byte a second never trips; this
//! one also holds the sender to a minimum rate, so a slow link is served and a slow
//! attacker is not.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tokio::time::Sleep;

use super::error::ApiError;

/// The slowest average rate a body may arrive at once its grace time is over.
pub const MIN_RATE: u64 = 1024;

/// How long, and how much, of a refused request's body is read and dropped after the
/// answer (see [`linger`]).
const LINGER_TIME: Duration = Duration::from_secs(5);
const LINGER_BYTES: u64 = 16 << 20;

/// A route's body limit and the setting that sets it (named in the 413), if one does.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit {
    pub bytes: usize,
    pub setting: Option<&'static str>,
}

impl BodyLimit {
    fn too_large(&self) -> ApiError {
        let limit = match self.setting {
            Some(setting) => format!("the limit is the setting `{setting}`"),
            None => "the most a form may send".to_string(),
        };
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {} KiB; {limit}", self.bytes >> 10),
        )
    }

    /// The error for a body that could not be read whole.
    pub fn rejection(&self, rejection: BytesRejection) -> ApiError {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            self.too_large()
        } else {
            ApiError::new(rejection.status(), rejection.body_text())
        }
    }
}

/// Middleware: refuses a declared `Content-Length` over the limit at once.
pub async fn declared_size(
    State(limit): State<BodyLimit>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > limit.bytes as u64 => {
            linger(request.into_body());
            closing(limit.too_large().into_response())
        }
        _ => next.run(request).await,
    }
}

/// Reads what is left of a refused request's body, and drops it, on a task of its own for
/// a bounded time and amount, while the answer goes out at once. A client still sending
/// (most do not wait for an early answer) would otherwise have its connection reset under
/// it and see a broken pipe instead of the reason; a sender that goes on for longer is
/// cut off when the task ends, and the connection closes.
pub fn linger(body: Body) {
    tokio::spawn(async move {
        let mut body = body;
        let mut read = 0u64;
        let drain = async {
            while let Some(Ok(frame)) = body.frame().await {
                read += frame.data_ref().map_or(0, |d| d.len() as u64);
                if read > LINGER_BYTES {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout(LINGER_TIME, drain).await;
    });
}

/// Middleware: cuts off bodies that arrive too slowly (see the module doc).
pub async fn slow_senders(
    State(timeout): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let tripped = Arc::new(AtomicBool::new(false));
    let request = request.map(|body| {
        Body::new(Guarded {
            inner: body,
            started: Instant::now(),
            received: 0,
            timeout,
            silence: Box::pin(tokio::time::sleep(timeout)),
            tripped: tripped.clone(),
        })
    });
    let response = next.run(request).await;
    if tripped.load(Ordering::Relaxed) {
        return closing(
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body arrived too slowly: silent for {} s, or under {MIN_RATE} bytes a second on average after it",
                    timeout.as_secs()
                ),
            )
            .into_response(),
        );
    }
    response
}

/// `response` with the connection closed after it: the rest of the body is not wanted.
pub fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

#[derive(Debug, thiserror::Error)]
#[error("the request body arrived too slowly")]
struct TooSlow;

struct Guarded {
    inner: Body,
    started: Instant,
    received: u64,
    timeout: Duration,
    silence: Pin<Box<Sleep>>,
    tripped: Arc<AtomicBool>,
}

impl Guarded {
    fn trip(&self) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        self.tripped.store(true, Ordering::Relaxed);
        Poll::Ready(Some(Err(axum::Error::new(TooSlow))))
    }
}

impl HttpBody for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let elapsed = this.started.elapsed();
        if elapsed > this.timeout && this.received < MIN_RATE * elapsed.as_secs() {
            return this.trip();
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                }
                let next = tokio::time::Instant::now() + this.timeout;
                this.silence.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => match this.silence.as_mut().poll(cx) {
                Poll::Ready(()) => this.trip(),
                Poll::Pending => Poll::Pending,
            },
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

//! `POST /api/v1/reports`: an installation's agent uploads a report.
//!
//! The token names the installation; the report is parsed (any declared encoding) and
//! checked against report format v1, then stored, compressed raw bytes included, and only
//! after the commit does the agent get 202. Evaluation happens afterwards in the
//! [`pipeline`](crate::pipeline), never on this request. A rejected report leaves nothing.

pub mod token;

use std::io::Write;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use flate2::Compression;
use flate2::write::DeflateEncoder;
use serde_json::{Value, json};

use crate::api::AppState;
use crate::api::auth::bearer;
use crate::api::error::ApiError;
use crate::metrics::Rejection;
use crate::pipeline::{Fresh, Job};
use crate::report::{self, Document};
use crate::store::{Installation, NewReport};

/// A report that passed every check, ready to store (with its raw bytes, compressed
/// apart: see [`accept`]).
struct Accepted {
    document: Document,
    /// The document in its stored form.
    encoded: Vec<u8>,
    generated_at: i64,
    agent: String,
}

/// Middleware for the report route: finds the installation by its token before the body
/// is read, so a stranger cannot make the host buffer a report.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let installation = match bearer(request.headers()) {
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing `Authorization: Bearer <installation token>` header",
        )),
        Some(token) => state
            .store
            .installation_by_token(&token::digest(token))
            .await
            .map_err(ApiError::internal)
            .and_then(|found| {
                found.ok_or_else(|| {
                    ApiError::new(StatusCode::UNAUTHORIZED, "unknown installation token")
                })
            }),
    };
    match installation {
        Ok(installation) => {
            request.extensions_mut().insert(installation);
            next.run(request).await
        }
        Err(error) => {
            state.metrics.report_rejected(rejection(&error));
            // Reading a refused body to its end (up to a bound, then dropped) lets the agent
            // read the 401: answering with its bytes still unread makes the socket reset,
            // and the agent would see a broken connection instead of the reason.
            let _ = axum::body::to_bytes(request.into_body(), REFUSED_BODY_DRAIN).await;
            error.into_response()
        }
    }
}

/// How much of a refused request's body is read (and dropped) before answering.
const REFUSED_BODY_DRAIN: usize = 2 << 20;

fn rejection(error: &ApiError) -> Rejection {
    match error.status {
        StatusCode::UNAUTHORIZED => Rejection::Unauthorized,
        StatusCode::FORBIDDEN => Rejection::WrongInstallation,
        StatusCode::PAYLOAD_TOO_LARGE => Rejection::TooLarge,
        status if status.is_client_error() => Rejection::Invalid,
        _ => Rejection::Internal,
    }
}

pub async fn post_report(
    State(state): State<AppState>,
    Extension(installation): Extension<Installation>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let result = match body {
        Ok(body) => receive(&state, installation, body).await,
        Err(rejection) => Err(ApiError::new(rejection.status(), rejection.body_text())),
    };
    match &result {
        Ok(_) => state.metrics.report_accepted(),
        Err(error) => state.metrics.report_rejected(rejection(error)),
    }
    result
}

async fn receive(
    state: &AppState,
    installation: Installation,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let received_at = state.clock.now_ms();
    let span = tracing::info_span!("report", installation = %installation.id, bytes = body.len());
    let id = installation.id.clone();
    let size = body.len();
    let (accepted, raw) = tokio::task::spawn_blocking(move || accept(&id, &body))
        .await
        .map_err(ApiError::internal)??;
    let report_id = state
        .store
        .insert_report(&NewReport {
            installation_id: &installation.id,
            received_at,
            generated_at: accepted.generated_at,
            agent: &accepted.agent,
            document: &accepted.encoded,
            raw: &raw,
            raw_size: size,
        })
        .await
        .map_err(ApiError::internal)?;
    span.in_scope(
        || tracing::info!(report = report_id, agent = %accepted.agent, "report accepted"),
    );
    state.pipeline.submit(
        &installation.id,
        Job::Report {
            id: report_id,
            fresh: Some(Fresh {
                document: Arc::new(accepted.document),
                received_at,
            }),
        },
    );
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "report": report_id,
            "installation": installation.id,
            "received_at": jiff::Timestamp::from_millisecond(received_at).ok(),
        })),
    ))
}

/// From this size on, the raw bytes are compressed on a thread of their own while the
/// report is parsed: for a 30 MB report that is a tenth of a second not waited for. Below
/// it, a thread would cost more than it saves.
const PARALLEL_FROM: usize = 1 << 20;

/// Parses and checks a report for `installation`, and makes both stored forms: the
/// document's and the raw bytes deflated. Blocking: a large report takes a while.
fn accept(installation: &str, body: &[u8]) -> Result<(Accepted, Vec<u8>), ApiError> {
    if body.len() < PARALLEL_FROM {
        let accepted = check(installation, body)?;
        return Ok((accepted, deflate(body).map_err(ApiError::internal)?));
    }
    let (checked, raw) = std::thread::scope(|scope| {
        let raw = scope.spawn(|| deflate(body));
        let checked = check(installation, body);
        let raw = raw
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("compressing the report panicked")));
        (checked, raw)
    });
    Ok((checked?, raw.map_err(ApiError::internal)?))
}

fn deflate(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = DeflateEncoder::new(Vec::with_capacity(body.len() / 4), Compression::fast());
    encoder.write_all(body)?;
    encoder.finish()
}

fn check(installation: &str, body: &[u8]) -> Result<Accepted, ApiError> {
    let document =
        report::parse(body).map_err(|e| ApiError::bad_request(format!("invalid report: {e}")))?;
    if let Some(claimed) = document.value("installation/@id")
        && claimed != installation
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "the report is for installation `{claimed}`, but the token belongs to `{installation}`"
            ),
        ));
    }
    let generated = document.value("@generated-at").ok_or_else(|| {
        ApiError::bad_request("invalid report: `<report>` has no `generated-at` attribute")
    })?;
    let generated_at = generated
        .parse::<jiff::Timestamp>()
        .map_err(|_| {
            ApiError::bad_request(format!(
                "invalid report: generated-at `{generated}` is not an RFC 3339 date-time with an offset (e.g. 2026-11-20T01:07:00+03:00)"
            ))
        })?
        .as_millisecond();
    let agent = document.value("@agent").unwrap_or("unknown").to_string();
    Ok(Accepted {
        encoded: document.to_stored().map_err(ApiError::internal)?,
        generated_at,
        agent,
        document,
    })
}

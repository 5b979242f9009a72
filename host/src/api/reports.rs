//! `POST /api/v1/reports`: an installation's agent uploads a report.
//!
//! The token names the installation before the body is read; the body is accepted
//! (`ingest`: unpacked, parsed, checked, compressed) off the async runtime, stored, and only
//! after the commit does the agent get 202. Evaluation happens afterwards in the
//! [`pipeline`](crate::pipeline), never on this request. A rejected report leaves nothing.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::app::admin_token::bearer;
use crate::app::body;
use crate::app::error::ApiError;
use crate::fleet::Installation;
use crate::ingest::{self, Refusal, token};
use crate::metrics::Rejection;
use crate::pipeline::{Fresh, Job};
use crate::store::Inserted;

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
            .map_err(ApiError::from)
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
            state.metrics.report_rejected(rejection(error.status));
            body::linger(request.into_body());
            body::closing(error.into_response())
        }
    }
}

fn rejection(status: StatusCode) -> Rejection {
    match status {
        StatusCode::UNAUTHORIZED => Rejection::Unauthorized,
        StatusCode::FORBIDDEN => Rejection::WrongInstallation,
        StatusCode::PAYLOAD_TOO_LARGE => Rejection::TooLarge,
        StatusCode::SERVICE_UNAVAILABLE => Rejection::Unavailable,
        status if status.is_client_error() => Rejection::Invalid,
        _ => Rejection::Internal,
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        let status = match &refusal {
            Refusal::Invalid(_) => StatusCode::BAD_REQUEST,
            Refusal::WrongInstallation(_) => StatusCode::FORBIDDEN,
            Refusal::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Refusal::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::Internal(_) => return ApiError::internal(refusal),
        };
        ApiError::new(status, refusal.to_string())
    }
}

pub async fn post_report(
    State(state): State<AppState>,
    Extension(installation): Extension<Installation>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let result = match body {
        Ok(body) => receive(&state, installation, &headers, body).await,
        Err(refused) => Err(state.limits.report().rejection(refused)),
    };
    match &result {
        Ok(_) => state.metrics.report_accepted(),
        Err(error) => state.metrics.report_rejected(rejection(error.status)),
    }
    result
}

async fn receive(
    state: &AppState,
    installation: Installation,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let received_at = state.clock.now_ms();
    let span = tracing::info_span!("report", installation = %installation.id, bytes = body.len());
    let id = installation.id.clone();
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("(not text)").to_string());
    let limit = state.limits.report;
    let accepted =
        tokio::task::spawn_blocking(move || ingest::accept(&id, &body, encoding.as_deref(), limit))
            .await
            .map_err(ApiError::internal)??;
    if received_at - accepted.generated_at > state.limits.report_age.as_millis() as i64 {
        let made = jiff::Timestamp::from_millisecond(accepted.generated_at)
            .map_or_else(|_| accepted.generated_at.to_string(), |t| t.to_string());
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "generated-at {made} is older than the report retention ({}): a report that old would not be kept",
                reveille_sdk::format_duration(state.limits.report_age)
            ),
        ));
    }
    let stored = state
        .store
        .insert_report(&accepted.to_store(&installation.id, received_at))
        .await;
    let inserted = match stored {
        Ok(inserted) => {
            state.vitals.write_succeeded();
            inserted
        }
        Err(error) => {
            if let Some(trouble) = error.trouble() {
                state.vitals.write_failed(trouble);
            }
            return Err(error.into());
        }
    };
    let report_id = inserted.id();
    let repeat = matches!(inserted, Inserted::Repeat(_));
    if repeat {
        // Sent again (the agent never got our answer): stored and evaluated once.
        state.metrics.report_repeated();
        span.in_scope(|| {
            tracing::info!(report = report_id, "report received again; already stored")
        });
        return Ok(answer(report_id, &installation.id, received_at, true));
    }
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
                generated_at: accepted.generated_at,
                imported: false,
                fingerprint: accepted.fingerprint,
            }),
        },
    );
    Ok(answer(report_id, &installation.id, received_at, false))
}

/// 202 with the report's id; `repeat` when it was stored before.
fn answer(
    report: i64,
    installation: &str,
    received_at: i64,
    repeat: bool,
) -> (StatusCode, Json<Value>) {
    (
        StatusCode::ACCEPTED,
        Json(json!({
            "report": report,
            "installation": installation,
            "received_at": jiff::Timestamp::from_millisecond(received_at).ok(),
            "repeat": repeat,
        })),
    )
}

//! Every API error is `{"error": "..."}` with a status that says whose fault it is.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::{StoreError, Trouble};

/// How long a caller refused for the storage's condition is told to wait before trying
/// again (`Retry-After`).
pub const RETRY_AFTER_SECS: u64 = 5;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Set when the storage refused: the response says when to come back.
    pub trouble: Option<Trouble>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            trouble: None,
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, what)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// The storage cannot do it now, for a reason that passes: 503 with `Retry-After`.
    /// Nothing of the request was kept, so sending it again is safe.
    pub fn unavailable(trouble: Trouble) -> Self {
        tracing::warn!(%trouble, "request refused: the database cannot take it now");
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: format!(
                "the service cannot store this now ({trouble}); nothing was kept: try again in {RETRY_AFTER_SECS} s"
            ),
            trouble: Some(trouble),
        }
    }

    /// A failure of the host's own, or of its storage. A failure of the storage that
    /// passes (anywhere in `error`'s sources) is [`ApiError::unavailable`]; anything else
    /// is [`ApiError::bug`].
    pub fn internal(error: impl std::error::Error + 'static) -> Self {
        match Trouble::of(&error) {
            Some(trouble) => {
                tracing::debug!(%error, "the storage refused");
                Self::unavailable(trouble)
            }
            None => Self::bug(error),
        }
    }

    /// A failure of the host's own. Its text (a database's error, say, with names of
    /// tables and values) goes to the log, never to the client, who gets a reference to
    /// find it there.
    pub fn bug(error: impl std::fmt::Display) -> Self {
        let reference = format!("{:08x}", getrandom::u32().unwrap_or_default());
        tracing::error!(%error, reference, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error; the service log has the details under reference {reference}"),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        Self::internal(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({ "error": self.message }))).into_response();
        if let Some(trouble) = self.trouble {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
            response.extensions_mut().insert(trouble);
        }
        response
    }
}

//! Admin authentication: one bearer token from the configuration. Only its sha256 is kept
//! in memory, comparison is constant-time, and with no token configured every admin
//! request is refused with instructions, never let through.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::AppState;
use super::body;
use super::error::ApiError;

/// Shortest admin token accepted.
pub const MIN_TOKEN_LEN: usize = 16;

/// The admin token, as a digest.
#[derive(Clone)]
pub struct AdminToken {
    digest: [u8; 32],
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

impl AdminToken {
    pub fn new(secret: &str) -> Result<Self, String> {
        if secret.trim().len() < MIN_TOKEN_LEN {
            return Err(format!(
                "must be at least {MIN_TOKEN_LEN} characters (generate one with `openssl rand -hex 32`)"
            ));
        }
        Ok(AdminToken {
            digest: Sha256::digest(secret.trim().as_bytes()).into(),
        })
    }

    pub fn verify(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        digest
            .iter()
            .zip(self.digest.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Middleware for every admin route.
pub async fn require_admin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = &state.admin_token else {
        body::linger(request.into_body());
        return ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "the admin API is disabled because no admin token is configured; set \
                 REVEILLE_ADMIN_TOKEN (or admin_token in the config file) to a secret of at \
                 least {MIN_TOKEN_LEN} characters and restart"
            ),
        )
        .into_response();
    };
    let refusal = match bearer(request.headers()) {
        Some(presented) if token.verify(presented) => return next.run(request).await,
        Some(_) => "the admin token is not valid",
        None => "missing `Authorization: Bearer <admin token>` header",
    };
    body::linger(request.into_body());
    unauthorized(refusal)
}

fn unauthorized(message: &str) -> Response {
    let mut response = ApiError::new(StatusCode::UNAUTHORIZED, message).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        "Bearer".parse().expect("static header"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_configured_token() {
        let token = AdminToken::new("correct horse battery staple").unwrap();
        assert!(token.verify("correct horse battery staple"));
        assert!(!token.verify("correct horse battery stapl"));
        assert!(!token.verify(""));
        assert!(AdminToken::new("short").is_err());
        assert!(!format!("{token:?}").contains("horse"));
    }
}

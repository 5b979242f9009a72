//! Admin authentication: every admin route asks for the one bearer token from the
//! configuration (`app::admin_token`); with no token configured every admin request is
//! refused with instructions, never let through.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::admin_token::{MIN_TOKEN_LEN, bearer};
use crate::app::error::ApiError;
use crate::app::{AppState, body};

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

//! The board's "send a test alert": an administrator tries the way from an alert to its
//! people on one installation (`alerts::test`), then closes the test from the alert's page.

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::page::PageError;
use super::session::Visitor;
use crate::app::AppState;

#[derive(Deserialize)]
pub struct TestForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    installation: String,
}

/// Opens a test alert on the installation (or keeps the one open) and shows its page,
/// whose timeline says where it went.
pub async fn send(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<TestForm>,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    tried(&state, &visitor, &form.installation, true).await
}

/// Resolves the installation's test alert and goes back to its page.
pub async fn close(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<TestForm>,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    tried(&state, &visitor, &form.installation, false).await
}

async fn tried(
    state: &AppState,
    visitor: &Visitor,
    installation: &str,
    on: bool,
) -> Result<Response, PageError> {
    let lang = visitor.lang();
    let installation = state
        .store
        .installation(installation)
        .await?
        .ok_or_else(|| PageError::not_found(lang))?;
    let by = format!("{} (web)", visitor.staff.name);
    let page = match state.alerting.test_alert(&installation, &by, on).await? {
        Some(id) => format!("/alerts/{id}"),
        None => format!("/installations/{}", super::page::encode(&installation.id)),
    };
    Ok(Redirect::to(&page).into_response())
}

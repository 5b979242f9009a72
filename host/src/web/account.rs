//! A member of staff's own page: the language and the time zone their pages speak. The
//! zone is theirs because a manager in Novosibirsk and an office in Moscow read the same
//! alert; nobody should convert "02:10 MSK" in their head at night.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::page::{PageError, Ui, render};
use super::session::Visitor;
use crate::app::AppState;
use crate::i18n::Lang;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    ui: Ui,
    /// Every zone this build knows, by name.
    zones: Vec<String>,
    /// The one they chose; `None`: the service's.
    chosen: Option<String>,
    /// The service's, for the "as the service" choice.
    service_zone: String,
    saved: bool,
}

#[derive(Debug, Deserialize)]
pub struct Saved {
    #[serde(default)]
    saved: bool,
}

/// A zone's name as people know it; a zone from a bare offset has none.
fn name_of(zone: &TimeZone) -> String {
    zone.iana_name().unwrap_or("UTC").to_string()
}

pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(saved): Query<Saved>,
) -> Result<Response, PageError> {
    let mut zones: Vec<String> = jiff::tz::db()
        .available()
        .map(|name| name.to_string())
        .collect();
    zones.sort();
    Ok(render(&AccountPage {
        zones,
        chosen: visitor.staff.zone.clone(),
        service_zone: name_of(&state.web.zone),
        saved: saved.saved,
        ui: visitor.ui(),
    }))
}

#[derive(Debug, Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    csrf: String,
    lang: String,
    /// Empty: the service's.
    #[serde(default)]
    zone: String,
}

pub async fn save(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<AccountForm>,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    let lang: Lang = form
        .lang
        .parse()
        .map_err(|e: String| PageError::bad(visitor.lang(), format!("lang: {e}")))?;
    let zone = form.zone.trim();
    let zone = if zone.is_empty() {
        None
    } else {
        let known = TimeZone::get(zone).map_err(|_| {
            PageError::bad(
                lang,
                lang.t_with("error-zone", &[("zone", zone.to_string().into())]),
            )
        })?;
        Some(name_of(&known))
    };
    let name = &visitor.staff.name;
    state.store.set_staff_lang(name, lang).await?;
    state.store.set_staff_zone(name, zone.as_deref()).await?;
    Ok(Redirect::to("/account?saved=true").into_response())
}

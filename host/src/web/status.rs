//! A client's status page (`/status/<secret>`, `app::status`): readable without a login
//! or a script, on a phone too, in the client's language and on its clock; the public
//! page of the shared services (`/status`); and the administrator's button on the
//! client's page that makes or renews a client's link.

use std::borrow::Borrow;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use jiff::civil::Date;
use serde::Deserialize;

use super::admin::CsrfOnly;
use super::page::{PageError, address, browser_lang, render};
use super::session::Visitor;
use crate::app::AppState;
use crate::app::status::{self, ClientStatus, InstallationStatus};
use crate::client_report::percent;
use crate::i18n::Lang;

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    s: ClientStatus,
    /// This page's own path, to switch its language.
    here: String,
}

impl StatusPage {
    fn t(&self, id: &str) -> String {
        self.s.lang.t(id)
    }

    fn n(&self, id: &str, n: impl Borrow<usize>) -> String {
        self.s.lang.t_with(id, &[("n", (*n.borrow()).into())])
    }

    fn at(&self, at: impl Borrow<i64>) -> String {
        self.s.lang.moment(*at.borrow(), &self.s.zone)
    }

    fn langs(&self) -> [Lang; 3] {
        Lang::ALL
    }

    /// One day's bar: its class and its words ("8 Dec: 99.2 %").
    fn day(
        &self,
        installation: &InstallationStatus,
        i: impl Borrow<usize>,
    ) -> (&'static str, String) {
        let i = *i.borrow();
        let date = self.s.days.get(i).copied().unwrap_or_default();
        let ratio = installation.days.get(i).copied().flatten();
        let class = match ratio {
            None => "none",
            Some(r) if r >= 0.999 => "up",
            Some(r) if r >= 0.95 => "troubled",
            Some(_) => "down",
        };
        let words = match ratio {
            None => self.t("status-no-data"),
            Some(_) => percent(ratio),
        };
        (class, format!("{}: {words}", self.s.lang.date(date)))
    }

    fn whole(&self, installation: &InstallationStatus) -> String {
        match installation.ratio {
            None => self.t("status-no-data"),
            Some(_) => percent(installation.ratio),
        }
    }

    fn first_day(&self) -> Date {
        self.s.days.first().copied().unwrap_or_default()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Asked {
    lang: Option<String>,
}

impl Asked {
    /// The language the query asks for, if it names one the service speaks.
    fn lang(&self) -> Option<Lang> {
        self.lang.as_deref().and_then(|code| code.parse().ok())
    }
}

/// The page found at `here`; one not found is said in the language asked, else the
/// browser's.
fn shown(
    found: Option<ClientStatus>,
    here: String,
    asked: &Asked,
    headers: &HeaderMap,
) -> Result<Response, PageError> {
    match found {
        Some(s) => Ok(render(&StatusPage { s, here })),
        None => Err(PageError::not_found(
            asked.lang().unwrap_or_else(|| browser_lang(headers)),
        )),
    }
}

/// The page behind a link; a link renewed since, or never made, is not found.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(secret): Path<String>,
    Query(asked): Query<Asked>,
) -> Result<Response, PageError> {
    let found = status::read(&state, &secret, asked.lang()).await?;
    shown(found, format!("/status/{secret}"), &asked, &headers)
}

/// `/status`: the public page of the shared services, when some are tagged so.
pub async fn shared(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(asked): Query<Asked>,
) -> Result<Response, PageError> {
    let found = status::shared(&state, asked.lang()).await?;
    shown(found, "/status".into(), &asked, &headers)
}

/// Makes (or renews) the client's link and shows it on the client's page, once.
pub async fn renew(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Path(client): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    let Some(secret) = status::renew(&state, &client).await? else {
        return Err(PageError::not_found(visitor.lang()));
    };
    let link = format!(
        "{}/status/{secret}",
        address(&state, &headers).unwrap_or_default()
    );
    super::client::show(&state, &visitor, &client, Some(link)).await
}

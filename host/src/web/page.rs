//! What every page shares: the chrome (who is logged in, in which language, the CSRF token
//! its forms carry) and how a page, or its refusal, becomes a response.

use askama::Template;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use fluent_bundle::FluentValue;
use jiff::tz::TimeZone;
use percent_encoding::{AsciiSet, utf8_percent_encode};

use crate::alerts::ahead::Ahead;
use crate::alerts::detail::{Detail, Resolution};
use crate::app::AppState;
use crate::app::error::{ApiError, RETRY_AFTER_SECS};
use crate::i18n::Lang;
use crate::import::{Import, ImportState};
use crate::plugins::{Cost, PluginState, PluginStatus, Stopped, Trigger};
use crate::staff::Staff;
use crate::store::{ReplayState, StoreError, Trouble};
use crate::text::UNRESERVED;
use axum::extract::multipart::MultipartError;

/// The chrome of a page.
pub struct Ui {
    pub lang: Lang,
    /// `None` on the login and setup pages.
    pub staff: Option<Staff>,
    pub csrf: String,
    pub now: i64,
    /// The reader's zone: every time on a page is in it, and says so.
    pub zone: TimeZone,
}

impl Ui {
    pub fn t(&self, id: &str) -> String {
        self.lang.t(id)
    }

    /// Templates hand numbers over by value or by reference, as the expression falls.
    pub fn n(&self, id: &str, n: impl std::borrow::Borrow<usize>) -> String {
        self.lang
            .t_with(id, &[("n", FluentValue::from(*n.borrow()))])
    }

    pub fn with(&self, id: &str, name: &str) -> String {
        self.lang.t_with(id, &[("name", FluentValue::from(name))])
    }

    pub fn ago(&self, at: &i64) -> String {
        self.lang.ago(*at, self.now)
    }

    pub fn ago_opt(&self, at: &Option<i64>) -> String {
        at.map_or_else(String::new, |at| self.lang.ago(at, self.now))
    }

    /// A moment in the reader's zone, saying which.
    pub fn at(&self, at: &i64) -> String {
        self.lang.moment(*at, &self.zone)
    }

    /// Who acted, by name: without the channel the store keeps beside it (" (web)",
    /// " (API)", Telegram's " (@user, id 501)"), which the title of the name still shows.
    pub fn who(&self, actor: &str) -> String {
        crate::alerts::model::who(actor).to_string()
    }

    /// A timeline entry's detail, in words.
    pub fn detail(&self, detail: &Detail) -> String {
        detail.words(self.lang, &self.zone)
    }

    /// Why an alert resolved, in words.
    pub fn resolution(&self, stored: &str) -> String {
        Resolution::words(stored, self.lang)
    }

    /// What is due, in words: when ("at … UTC, in 12 min") and what it does.
    pub fn ahead(&self, next: &Ahead) -> String {
        let at = next.at();
        let mut args = vec![
            ("at", FluentValue::from(self.at(&at))),
            ("in", FluentValue::from(self.lang.within(at, self.now))),
        ];
        let id = match next {
            Ahead::Announced { .. } => "ahead-announced",
            Ahead::Digest { .. } => "ahead-digest",
            Ahead::Escalates { step, to, .. } => {
                args.push(("step", FluentValue::from(*step)));
                if to.is_empty() {
                    "ahead-escalates-nobody"
                } else {
                    args.push(("to", FluentValue::from(to.join(", "))));
                    "ahead-escalates"
                }
            }
            Ahead::AckExpires { .. } => "ahead-ack-expires",
            Ahead::SnoozeEnds { .. } => "ahead-snooze-ends",
            Ahead::Recheck { .. } => "ahead-recheck",
        };
        self.lang.t_with(id, &args)
    }

    pub fn is_admin(&self) -> bool {
        self.staff.as_ref().is_some_and(Staff::is_admin)
    }

    pub fn can_act(&self) -> bool {
        self.staff.as_ref().is_some_and(Staff::can_act)
    }

    pub fn name(&self) -> &str {
        self.staff.as_ref().map_or("", |s| s.name.as_str())
    }

    pub fn langs(&self) -> [Lang; 3] {
        Lang::ALL
    }

    /// Where a replay is, in words.
    pub fn replay_state(&self, state: &ReplayState) -> String {
        self.lang.t(&format!("replay-state-{state}"))
    }

    /// Where a history import is, in words.
    pub fn import_state(&self, state: &ImportState) -> String {
        self.lang.t(&format!("import-state-{state}"))
    }

    /// How far a history import got, in words.
    pub fn import_counts(&self, import: &Import) -> String {
        self.lang.t_with(
            "import-counts",
            &[
                ("stored", import.stored.into()),
                ("evaluated", import.evaluated.into()),
                ("repeated", import.repeated.into()),
                ("refused", import.refused.into()),
            ],
        )
    }

    /// A timeline entry's kind, in words.
    pub fn event(&self, kind: &str) -> String {
        self.lang.t_or(&format!("event-{kind}"), kind)
    }

    /// A dongle's state as the report says it, in words where we know it.
    pub fn dongle(&self, state: &str) -> String {
        self.lang.t_or(&format!("dongle-{state}"), state)
    }

    /// Why a plugin is off, in words: an admin's switch, or the host's verdict.
    pub fn plugin_off(&self, plugin: &PluginStatus) -> String {
        match &plugin.stopped {
            Some(Stopped::Failing { failed, window }) => self.lang.t_with(
                "plugin-off-failing",
                &[
                    ("failed", FluentValue::from(*failed)),
                    ("window", FluentValue::from(*window)),
                ],
            ),
            Some(Stopped::Slow { mean, bound, calls }) => self.lang.t_with(
                "plugin-off-slow",
                &[
                    ("calls", FluentValue::from(*calls)),
                    (
                        "mean",
                        FluentValue::from(format!("{:.1}", mean.as_secs_f64() * 1e3)),
                    ),
                    ("bound", FluentValue::from(bound.as_millis() as u64)),
                ],
            ),
            None if plugin.disabled.is_some() => self.t("plugin-off-admin"),
            None => String::new(),
        }
    }

    /// What a plugin's calls cost: the mean call and its share of all plugins' time.
    pub fn plugin_cost(&self, cost: &Cost) -> String {
        self.lang.t_with(
            "plugin-cost",
            &[
                ("mean", FluentValue::from(format!("{:.2}", cost.mean_ms))),
                (
                    "share",
                    FluentValue::from(format!("{:.0}", cost.share * 100.0)),
                ),
            ],
        )
    }

    /// What made the host evaluate: a report, time, a probe.
    pub fn trigger(&self, trigger: &Trigger) -> String {
        self.t(&format!("trigger-{trigger}"))
    }

    pub fn plugin_state(&self, state: &PluginState) -> String {
        let id = match state {
            PluginState::Active => "plugin-active",
            PluginState::Disabled => "plugin-disabled",
            PluginState::Failed => "plugin-failed",
        };
        self.t(id)
    }
}

/// A page that could not be shown, and why.
#[derive(Debug)]
pub enum PageError {
    /// Not logged in: to the login page, and back here afterwards.
    Login { next: String },
    Status {
        status: StatusCode,
        lang: Lang,
        message: String,
    },
    /// The storage cannot be used now.
    Unavailable { trouble: Trouble },
}

impl PageError {
    pub fn forbidden(lang: Lang) -> PageError {
        PageError::Status {
            status: StatusCode::FORBIDDEN,
            lang,
            message: lang.t("error-forbidden"),
        }
    }

    pub fn not_found(lang: Lang) -> PageError {
        PageError::Status {
            status: StatusCode::NOT_FOUND,
            lang,
            message: lang.t("error-not-found"),
        }
    }

    /// A form's part that could not be read: one over the limit is a 413, as the API's
    /// upload answers it.
    pub fn part(lang: Lang, error: MultipartError) -> PageError {
        PageError::Status {
            status: error.status(),
            lang,
            message: error.body_text(),
        }
    }

    pub fn bad(lang: Lang, message: impl Into<String>) -> PageError {
        PageError::Status {
            status: StatusCode::BAD_REQUEST,
            lang,
            message: message.into(),
        }
    }

    /// A refusal by the API's own functions, with its status and words.
    pub fn api(error: ApiError, lang: Lang) -> PageError {
        PageError::Status {
            status: error.status,
            lang,
            message: error.message,
        }
    }

    /// The database cannot be used now; the page says so in the reader's language
    /// (unknown here: the error page is drawn without a session), and when to try again.
    pub fn unavailable(trouble: Trouble) -> PageError {
        tracing::warn!(%trouble, "a page could not be shown: the database cannot be used now");
        PageError::Unavailable { trouble }
    }

    pub fn internal(error: impl std::fmt::Display) -> PageError {
        tracing::error!(%error, "a page failed");
        PageError::Status {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            lang: Lang::En,
            message: "Internal error; the log says more.".into(),
        }
    }
}

impl From<StoreError> for PageError {
    /// The storage's condition (a full disk, a database out of reach) is said as such,
    /// with 503: the page will work when it passes.
    fn from(error: StoreError) -> Self {
        match error.trouble() {
            Some(trouble) => PageError::unavailable(trouble),
            None => PageError::internal(error),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    ui: Ui,
    message: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Login { next } => {
                let target = format!("/login?next={}", encode(&next));
                Redirect::to(&target).into_response()
            }
            PageError::Status {
                status,
                lang,
                message,
            } => error_page(status, lang, &message),
            // Drawn by [`unavailable`], which knows the reader's language.
            PageError::Unavailable { trouble } => {
                let mut response = StatusCode::SERVICE_UNAVAILABLE.into_response();
                response.extensions_mut().insert(Unavailable(trouble));
                response
            }
        }
    }
}

fn error_page(status: StatusCode, lang: Lang, message: &str) -> Response {
    let page = ErrorPage {
        ui: Ui {
            lang,
            staff: None,
            csrf: String::new(),
            now: 0,
            zone: TimeZone::UTC,
        },
        message,
    };
    (status, render(&page)).into_response()
}

/// The language of someone not logged in: their browser's.
pub fn browser_lang(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Lang::En, Lang::preferred)
}

/// A page that met [`PageError::Unavailable`].
#[derive(Debug, Clone, Copy)]
struct Unavailable(Trouble);

/// Middleware on every page: one that could not be drawn because the database cannot be
/// used says so in the browser's language (the account's would need the database), with
/// `Retry-After`, instead of a page that spins or an internal error.
pub async fn unavailable(request: Request, next: Next) -> Response {
    let lang = browser_lang(request.headers());
    let response = next.run(request).await;
    let Some(Unavailable(trouble)) = response.extensions().get::<Unavailable>().copied() else {
        return response;
    };
    let why = lang.t(&format!("trouble-{}", trouble.as_str()));
    let message = lang.t_with(
        "error-unavailable",
        &[
            ("why", FluentValue::from(why)),
            ("seconds", FluentValue::from(RETRY_AFTER_SECS)),
        ],
    );
    let mut page = error_page(StatusCode::SERVICE_UNAVAILABLE, lang, &message);
    page.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    page
}

/// A template as a response; a template that fails to render is a bug, logged. Pages
/// are never stored: they show what one person may see, now (and a page kept in the
/// back-forward cache would keep its event stream, one of the browser's few connections
/// per host, open).
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "a template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

/// Where people reach the service, for links and an agent's configuration: its
/// `public_url`, else the address the admin reached this page at (the `Host` they typed,
/// not a guessed port).
pub fn address(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let reached = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .map(|host| format!("http://{host}"));
    state.web.public_url.clone().or(reached)
}

/// `text` percent-encoded for a query string or a path: every byte but unreserved ones
/// and `/`.
pub fn encode(text: &str) -> String {
    const KEPT: &AsciiSet = &UNRESERVED.remove(b'/');
    utf8_percent_encode(text, KEPT).to_string()
}

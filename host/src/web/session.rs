//! Who is looking: staff sessions (a random cookie, HttpOnly and SameSite=Lax, stored as a
//! digest), the CSRF token every form carries, logging in (throttled per account) and
//! out, the first start's one-time setup link, and the reader's language.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Extension, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::page::{PageError, Ui, browser_lang, render};
use crate::app::{Access, AppState, same};
use crate::http::Caller;
use crate::i18n::Lang;
use crate::ingest::token;
use crate::staff::{self, Link, NewStaff, Role, Staff, throttle};

const COOKIE: &str = "reveille_session";
/// How long a login lasts.
const SESSION_MS: i64 = 7 * 86_400_000;

/// Whether an account with `failures` (how many, since when) may try to log in at `now`.
/// A hash no password matches in practice, made once.
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        staff::hash_password(&token::secret("decoy-")).expect("hashing a long secret")
    })
}

/// A logged-in member of staff, from their session cookie (found once per request: by the
/// page's [`guard`], then handed to the handler).
#[derive(Clone)]
pub struct Visitor {
    pub staff: Staff,
    pub csrf: String,
    now: i64,
    /// Theirs, else the service's.
    zone: TimeZone,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        if let Some(visitor) = parts.extensions.get::<Visitor>() {
            return Ok(visitor.clone());
        }
        let next = parts
            .uri
            .path_and_query()
            .map_or("/".to_string(), |p| p.to_string());
        let now = state.clock.now_ms();
        let Some(cookie) = cookie(&parts.headers) else {
            return Err(PageError::Login { next });
        };
        match state.store.session(&token::digest(cookie), now).await? {
            Some(session) => Ok(Visitor {
                zone: session
                    .staff
                    .zone
                    .as_deref()
                    .and_then(|name| TimeZone::get(name).ok())
                    .unwrap_or_else(|| state.web.zone.clone()),
                staff: session.staff,
                csrf: session.csrf,
                now,
            }),
            None => Err(PageError::Login { next }),
        }
    }
}

impl Visitor {
    pub fn ui(&self) -> Ui {
        Ui {
            lang: self.staff.lang,
            staff: Some(self.staff.clone()),
            csrf: self.csrf.clone(),
            now: self.now,
            zone: self.zone.clone(),
        }
    }

    pub fn lang(&self) -> Lang {
        self.staff.lang
    }

    /// A form's CSRF token must be this session's.
    pub fn check(&self, presented: &str) -> Result<(), PageError> {
        if same(&self.csrf, presented) {
            Ok(())
        } else {
            Err(PageError::Status {
                status: axum::http::StatusCode::FORBIDDEN,
                lang: self.lang(),
                message: self.lang().t("error-csrf"),
            })
        }
    }

    /// Installations managed by `manager` must be theirs to see.
    pub fn sees(&self, manager: &str) -> Result<(), PageError> {
        if self.staff.sees(manager) {
            Ok(())
        } else {
            Err(PageError::forbidden(self.lang()))
        }
    }

    fn admin(&self) -> Result<(), PageError> {
        if self.staff.is_admin() {
            Ok(())
        } else {
            Err(PageError::forbidden(self.lang()))
        }
    }

    fn act(&self) -> Result<(), PageError> {
        if self.staff.can_act() {
            Ok(())
        } else {
            Err(PageError::forbidden(self.lang()))
        }
    }
}

/// Middleware: a page's [`Access`], decided before anything of the request's body is read
/// (a form from someone with too little right is refused unread, as the API refuses a body
/// without its token). Staff pages need a session; `Acting` pages take writes only from an
/// admin or a manager; `StaffAdmin` pages are an administrator's.
pub async fn guard(
    State((state, access)): State<(AppState, Access)>,
    request: Request,
    next: middleware::Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let visitor = match Visitor::from_request_parts(&mut parts, &state).await {
        Ok(visitor) => visitor,
        Err(refusal) => return refusal.into_response(),
    };
    let reads = parts.method == Method::GET || parts.method == Method::HEAD;
    let allowed = match access {
        Access::StaffAdmin => visitor.admin(),
        Access::Acting if !reads => visitor.act(),
        _ => Ok(()),
    };
    if let Err(refusal) = allowed {
        return refusal.into_response();
    }
    parts.extensions.insert(visitor);
    next.run(Request::from_parts(parts, body)).await
}

fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

/// The chrome of a page for someone not logged in, which shows no times.
pub(super) fn anonymous(lang: Lang, now: i64) -> Ui {
    Ui {
        lang,
        staff: None,
        csrf: String::new(),
        now,
        zone: TimeZone::UTC,
    }
}

/// Where to go after logging in: only a path on this site.
fn local(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

/// Starts a session for `staff` and sends them to `to`.
pub(super) async fn log_in(
    state: &AppState,
    staff: &Staff,
    to: &str,
) -> Result<Response, PageError> {
    let now = state.clock.now_ms();
    let secret = token::secret("");
    state
        .store
        .create_session(
            &token::digest(&secret),
            &staff.name,
            &token::secret(""),
            now,
            now + SESSION_MS,
        )
        .await?;
    let secure = match &state.web.public_url {
        Some(url) if url.starts_with("https://") => "; Secure",
        _ => "",
    };
    let cookie = format!(
        "{COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        SESSION_MS / 1000
    );
    let mut response = Redirect::to(to).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(PageError::internal)?,
    );
    tracing::info!(staff = %staff.name, role = %staff.role, "logged in");
    Ok(response)
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    ui: Ui,
    next: &'a str,
    error: Option<String>,
    nobody_yet: bool,
}

#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
}

pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<Next>,
) -> Result<Response, PageError> {
    let page = LoginPage {
        ui: anonymous(browser_lang(&headers), state.clock.now_ms()),
        next: &local(query.next.as_deref()),
        error: None,
        nobody_yet: state.store.staff_count().await? == 0,
    };
    Ok(render(&page))
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
    next: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    Extension(Caller(address)): Extension<Caller>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let now = state.clock.now_ms();
    let lang = browser_lang(&headers);
    let account = form.name.trim().to_lowercase();
    let next = local(form.next.as_deref());
    let refuse = |error: String, status| {
        let page = LoginPage {
            ui: anonymous(lang, now),
            next: &next,
            error: Some(error),
            nobody_yet: false,
        };
        let mut response = render(&page);
        *response.status_mut() = status;
        Ok(response)
    };
    let wait = throttle::wait(
        state.store.login_failures(&account, &address, now).await?,
        now,
    );
    if wait > 0 {
        let seconds = (wait + 999) / 1000;
        tracing::warn!(account = %account, %address, seconds, "login refused: too soon after failures");
        let mut refused = refuse(
            lang.t_with(
                "login-throttled",
                &[("wait", lang.duration(wait.max(1000)).into())],
            ),
            StatusCode::TOO_MANY_REQUESTS,
        )?;
        refused
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        return Ok(refused);
    }
    let found = state.store.staff_login(form.name.trim()).await?;
    // The hash is checked off the async threads: argon2 takes a while, on purpose. A name
    // nobody has is checked against a decoy, so its answer takes as long as a wrong
    // password's and timing does not tell which accounts exist.
    let password = form.password;
    let verified = tokio::task::spawn_blocking(move || match found {
        Some((staff, hash)) => staff::verify_password(&password, &hash).then_some(staff),
        None => {
            staff::verify_password(&password, decoy());
            None
        }
    })
    .await
    .map_err(PageError::internal)?;
    match verified {
        Some(staff) => {
            state.store.login_succeeded(&account, &address, now).await?;
            log_in(&state, &staff, &next).await
        }
        None => {
            // Counted from now, not from when the request came: checking the password
            // takes a while, on purpose, and the wait runs from the answer.
            let failed_at = state.clock.now_ms();
            state
                .store
                .login_failed(&account, &address, failed_at)
                .await?;
            tracing::warn!(account = %account, %address, "login failed");
            refuse(lang.t("login-failed"), StatusCode::UNAUTHORIZED)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    if let Some(secret) = cookie(&headers) {
        state.store.end_session(&token::digest(secret)).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("reveille_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    Ok(response)
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage<'a> {
    ui: Ui,
    secret: &'a str,
    error: Option<String>,
}

/// A setup link is good only while nobody can log in and it is the one logged.
async fn setup_open(state: &AppState, secret: &str, lang: Lang) -> Result<(), PageError> {
    if state.store.staff_count().await? == 0 && state.web.setup_matches(secret) {
        Ok(())
    } else {
        Err(PageError::Status {
            status: axum::http::StatusCode::NOT_FOUND,
            lang,
            message: lang.t("setup-gone"),
        })
    }
}

pub async fn setup_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(secret): Path<String>,
) -> Result<Response, PageError> {
    let lang = browser_lang(&headers);
    setup_open(&state, &secret, lang).await?;
    Ok(render(&SetupPage {
        ui: anonymous(lang, state.clock.now_ms()),
        secret: &secret,
        error: None,
    }))
}

#[derive(Debug, Deserialize)]
pub struct SetupForm {
    name: String,
    password: String,
    lang: String,
}

pub async fn setup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(secret): Path<String>,
    form: Result<Form<SetupForm>, FormRejection>,
) -> Result<Response, PageError> {
    // The secret first: without it, not even what is wrong with the form is told.
    setup_open(&state, &secret, browser_lang(&headers)).await?;
    let Form(form) = form.map_err(|rejection| PageError::Status {
        status: rejection.status(),
        lang: browser_lang(&headers),
        message: rejection.body_text(),
    })?;
    let lang = form.lang.parse().unwrap_or_else(|_| browser_lang(&headers));
    let (name, password) = (form.name, form.password);
    let new = tokio::task::spawn_blocking(move || {
        NewStaff::new(&name, &password, Role::Admin, None, lang, None)
    })
    .await
    .map_err(PageError::internal)?;
    let new = match new {
        Ok(new) => new,
        Err(error) => {
            let mut response = render(&SetupPage {
                ui: anonymous(lang, state.clock.now_ms()),
                secret: &secret,
                error: Some(error),
            });
            *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            return Ok(response);
        }
    };
    if !state
        .store
        .create_staff(&new, state.clock.now_ms(), true)
        .await?
    {
        return Err(PageError::Status {
            status: axum::http::StatusCode::NOT_FOUND,
            lang,
            message: lang.t("setup-gone"),
        });
    }
    state.web.close_setup();
    state.store.set_setup_lang(new.staff.lang).await?;
    tracing::info!(admin = %new.staff.name, "the first admin was created; the setup link is spent");
    log_in(&state, &new.staff, "/").await
}

#[derive(Debug, Deserialize)]
pub struct LangForm {
    #[serde(default)]
    csrf: String,
    lang: String,
    next: Option<String>,
}

pub async fn set_lang(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<LangForm>,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    let lang: Lang = form
        .lang
        .parse()
        .map_err(|e: String| PageError::bad(visitor.lang(), e))?;
    state
        .store
        .set_staff_lang(&visitor.staff.name, lang)
        .await?;
    Ok(Redirect::to(&local(form.next.as_deref())).into_response())
}

#[derive(Template)]
#[template(path = "login_link.html")]
struct LoginLinkPage<'a> {
    ui: Ui,
    secret: &'a str,
}

/// A login link from the bot. Opening it only shows a button: link previews (Telegram's
/// own fetches a link to draw its preview) must not spend it.
pub async fn login_link_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(secret): Path<String>,
) -> Result<Response, PageError> {
    let now = state.clock.now_ms();
    if !state
        .store
        .login_link_open(Link::Login, &token::digest(&secret), now)
        .await?
    {
        return Err(link_gone(&headers));
    }
    Ok(render(&LoginLinkPage {
        ui: anonymous(browser_lang(&headers), now),
        secret: &secret,
    }))
}

/// A login link that is spent, expired or was never made.
fn link_gone(headers: &HeaderMap) -> PageError {
    let lang = browser_lang(headers);
    PageError::Status {
        status: axum::http::StatusCode::NOT_FOUND,
        lang,
        message: lang.t("login-link-gone"),
    }
}

/// Spends the link and logs its owner in. Opening the link only shows the button that
/// comes here, so a preview of the link cannot spend it; a link that would not work says
/// so at once.
pub async fn login_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(secret): Path<String>,
) -> Result<Response, PageError> {
    let now = state.clock.now_ms();
    match state
        .store
        .take_login_link(Link::Login, &token::digest(&secret), now)
        .await?
    {
        Some(staff) => log_in(&state, &staff, "/").await,
        None => Err(link_gone(&headers)),
    }
}

//! Staff accounts for administrators: create one (a viewer unless said otherwise), change
//! its role, manager name, language and Telegram id, hand its owner a one-time link to
//! set a new password, or remove it. The last administrator can be neither removed nor
//! demoted, and nobody removes their own account. The owner of a reset link sets the new
//! password on `/password/<secret>` and is logged in.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::admin::{CsrfOnly, Outcome};
use super::page::{PageError, Ui, address, browser_lang, render};
use super::session::{Visitor, anonymous, log_in};
use crate::app::AppState;
use crate::i18n::Lang;
use crate::ingest::token;
use crate::staff::{Link, NewStaff, Role, Staff, hash_password};
use crate::store::{Changed, StoreError};

/// How long a reset link works.
const RESET_MS: i64 = 24 * 3_600_000;
/// How long a code to tie an account to Telegram works.
const CODE_MS: i64 = 3_600_000;

#[derive(Template)]
#[template(path = "admin_staff.html")]
struct StaffPage {
    ui: Ui,
    staff: Vec<Staff>,
    /// Least right first: a new account is a viewer unless the admin says otherwise.
    roles: [Role; 3],
    outcome: Outcome,
    editing: Option<Staff>,
    /// A link or code just made, shown this once.
    handed: Option<Handed>,
}

/// What an administrator just made to hand to an account's owner, shown once.
enum Handed {
    /// A link to set a new password.
    Reset { name: String, link: String },
    /// A code to send the bot, tying the account to the sender's Telegram user.
    Code { name: String, code: String },
}

#[derive(Debug, Default, Deserialize)]
pub struct Editing {
    edit: Option<String>,
}

async fn show(
    state: &AppState,
    visitor: &Visitor,
    outcome: Outcome,
    editing: Option<Staff>,
    handed: Option<Handed>,
) -> Result<Response, PageError> {
    let failed = matches!(outcome, Outcome::Failed(_));
    let mut response = render(&StaffPage {
        ui: visitor.ui(),
        staff: state.store.staff().await?,
        roles: [Role::Viewer, Role::Manager, Role::Admin],
        outcome,
        editing,
        handed,
    });
    if failed {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(query): Query<Editing>,
) -> Result<Response, PageError> {
    let editing = match &query.edit {
        Some(name) => Some(account(&state, &visitor, name).await?),
        None => None,
    };
    show(&state, &visitor, Outcome::None, editing, None).await
}

async fn account(state: &AppState, visitor: &Visitor, name: &str) -> Result<Staff, PageError> {
    state
        .store
        .staff_login(name)
        .await?
        .map(|(staff, _)| staff)
        .ok_or_else(|| PageError::not_found(visitor.lang()))
}

#[derive(Debug, Deserialize)]
pub struct StaffForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    role: String,
    #[serde(default)]
    manager: String,
    lang: String,
    #[serde(default)]
    telegram_user_id: String,
}

impl StaffForm {
    /// The role, language and Telegram id, read; the error names the field.
    fn read(&self) -> Result<(Role, Lang, Option<i64>), String> {
        let telegram = match self.telegram_user_id.trim() {
            "" => None,
            id => Some(
                id.parse::<i64>()
                    .map_err(|_| format!("telegram_user_id: `{id}` is not a Telegram user id"))?,
            ),
        };
        let role = self
            .role
            .parse::<Role>()
            .map_err(|e| format!("role: {e}"))?;
        let lang = self
            .lang
            .parse::<Lang>()
            .map_err(|e| format!("lang: {e}"))?;
        Ok((role, lang, telegram))
    }
}

pub async fn create(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<StaffForm>,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    let lang = visitor.lang();
    let outcome = match form.read() {
        Err(error) => Outcome::Failed(error),
        Ok((role, account_lang, telegram)) => {
            let (name, password, manager) = (form.name, form.password, form.manager);
            let new = tokio::task::spawn_blocking(move || {
                NewStaff::new(
                    &name,
                    &password,
                    role,
                    Some(&manager),
                    account_lang,
                    telegram,
                )
            })
            .await
            .map_err(PageError::internal)?;
            match new {
                Err(error) => Outcome::Failed(error),
                Ok(new) => match state
                    .store
                    .create_staff(&new, state.clock.now_ms(), false)
                    .await
                {
                    Ok(_) => Outcome::Done(
                        lang.t_with("staff-created", &[("name", new.staff.name.as_str().into())]),
                    ),
                    Err(StoreError::Duplicate(name)) => {
                        Outcome::Failed(lang.t_with("staff-exists", &[("name", name.into())]))
                    }
                    Err(error) => return Err(error.into()),
                },
            }
        }
    };
    show(&state, &visitor, outcome, None, None).await
}

/// What a refused change says.
fn refusal(changed: Changed, lang: Lang, name: &str) -> Result<Outcome, PageError> {
    match changed {
        Changed::Done => Ok(Outcome::None),
        Changed::NoSuch => Err(PageError::not_found(lang)),
        Changed::LastAdmin => Ok(Outcome::Failed(
            lang.t_with("staff-last-admin", &[("name", name.to_string().into())]),
        )),
    }
}

pub async fn update(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(name): Path<String>,
    Form(form): Form<StaffForm>,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    let lang = visitor.lang();
    let old = account(&state, &visitor, &name).await?;
    let changed = form.read().and_then(|(role, account_lang, telegram)| {
        Staff::checked(&name, role, Some(&form.manager), account_lang, telegram)
    });
    let outcome = match changed {
        Err(error) => Outcome::Failed(error),
        Ok(staff) => match state.store.update_staff(&staff).await? {
            Changed::Done => Outcome::Done(lang.t_with("staff-saved", &[("name", name.into())])),
            other => refusal(other, lang, &name)?,
        },
    };
    let editing = matches!(outcome, Outcome::Failed(_)).then_some(old);
    show(&state, &visitor, outcome, editing, None).await
}

pub async fn delete(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(name): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    let lang = visitor.lang();
    let outcome = if name == visitor.staff.name {
        Outcome::Failed(lang.t("staff-not-yourself"))
    } else {
        match state.store.delete_staff(&name).await? {
            Changed::Done => Outcome::Done(lang.t_with("staff-deleted", &[("name", name.into())])),
            other => refusal(other, lang, &name)?,
        }
    };
    show(&state, &visitor, outcome, None, None).await
}

/// Stores a one-time link of `kind` for `name`'s owner, by the digest of `secret`,
/// working for `lasts` ms.
async fn issue(
    state: &AppState,
    kind: Link,
    name: &str,
    secret: &str,
    lasts: i64,
) -> Result<(), StoreError> {
    let now = state.clock.now_ms();
    state
        .store
        .create_login_link(kind, &token::digest(secret), name, now, now + lasts)
        .await
}

/// A one-time link for the account's owner to set a new password: shown to the admin
/// once, working for a day. The old password keeps working until the new one is set.
pub async fn reset(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    account(&state, &visitor, &name).await?;
    let secret = token::generate();
    issue(&state, Link::Password, &name, &secret, RESET_MS).await?;
    let link = format!(
        "{}/password/{secret}",
        address(&state, &headers).unwrap_or_default()
    );
    show(
        &state,
        &visitor,
        Outcome::None,
        None,
        Some(Handed::Reset { name, link }),
    )
    .await
}

/// A one-time code the account's owner sends the bot (`/link <code>` in a private chat)
/// to tie the account to their Telegram user: for login links from the bot, without
/// anyone typing an id.
pub async fn telegram_code(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(name): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    account(&state, &visitor, &name).await?;
    // Short enough to type on a phone, long enough not to be guessed within the hour.
    let code = token::secret("")[..10].to_string();
    issue(&state, Link::Telegram, &name, &code, CODE_MS).await?;
    show(
        &state,
        &visitor,
        Outcome::None,
        None,
        Some(Handed::Code { name, code }),
    )
    .await
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage<'a> {
    ui: Ui,
    secret: &'a str,
    error: Option<String>,
}

/// A reset link that is spent, expired or was never made.
fn gone(lang: Lang) -> PageError {
    PageError::Status {
        status: StatusCode::NOT_FOUND,
        lang,
        message: lang.t("password-link-gone"),
    }
}

/// The reset link's page: the new password, twice. Opening it spends nothing, so a link
/// preview cannot.
pub async fn password_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(secret): Path<String>,
) -> Result<Response, PageError> {
    let lang = browser_lang(&headers);
    let now = state.clock.now_ms();
    if !state
        .store
        .login_link_open(Link::Password, &token::digest(&secret), now)
        .await?
    {
        return Err(gone(lang));
    }
    Ok(render(&PasswordPage {
        ui: anonymous(lang, now),
        secret: &secret,
        error: None,
    }))
}

#[derive(Debug, Deserialize)]
pub struct NewPassword {
    #[serde(default)]
    password: String,
    #[serde(default)]
    again: String,
}

/// Sets the new password (the link is spent only by a password that is taken) and logs
/// its owner in.
pub async fn set_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(secret): Path<String>,
    form: Result<Form<NewPassword>, FormRejection>,
) -> Result<Response, PageError> {
    let lang = browser_lang(&headers);
    let now = state.clock.now_ms();
    let digest = token::digest(&secret);
    if !state
        .store
        .login_link_open(Link::Password, &digest, now)
        .await?
    {
        return Err(gone(lang));
    }
    // The secret first: without it, not even what is wrong with the form is told.
    let Form(form) = form.map_err(|rejection| PageError::Status {
        status: rejection.status(),
        lang,
        message: rejection.body_text(),
    })?;
    let again = |error: String| {
        let mut response = render(&PasswordPage {
            ui: anonymous(lang, now),
            secret: &secret,
            error: Some(error),
        });
        *response.status_mut() = StatusCode::BAD_REQUEST;
        Ok(response)
    };
    if form.password != form.again {
        return again(lang.t("password-differ"));
    }
    let password = form.password;
    let hashed = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(PageError::internal)?;
    let hash = match hashed {
        Ok(hash) => hash,
        Err(_) => return again(lang.t("password-short")),
    };
    let Some(staff) = state
        .store
        .take_login_link(Link::Password, &digest, now)
        .await?
    else {
        return Err(gone(lang));
    };
    state.store.set_password(&staff.name, &hash).await?;
    log_in(&state, &staff, "/").await
}

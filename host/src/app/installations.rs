//! Installations as people and automation change them: the one check of an installation's
//! fields (every problem at once, each naming its field, in English for the API and in
//! the reader's words for pages), registering one, changing one without touching its token
//! or history, a new token, removal. The API's handlers, the admin pages and CSV
//! onboarding (`onboarding.rs`) all come through here.

use std::net::IpAddr;

use axum::http::StatusCode;
use fluent_bundle::FluentValue;
use serde::Deserialize;

use crate::app::AppState;
use crate::app::error::ApiError;
use crate::app::input;
use crate::fleet::Installation;
use crate::i18n::Lang;
use crate::ingest::token;
use crate::store::StoreError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInstallation {
    pub id: String,
    pub client: String,
    pub manager: String,
    pub timezone: String,
    pub telegram_chat_id: i64,
    pub url: Option<String>,
    pub ip: Option<String>,
    pub parent: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

impl NewInstallation {
    /// As it would be stored at `now`.
    pub fn at(self, now: i64) -> Installation {
        Installation {
            id: self.id,
            client: self.client,
            manager: self.manager,
            timezone: self.timezone,
            telegram_chat_id: self.telegram_chat_id,
            url: self.url,
            ip: self.ip,
            parent: self.parent,
            tags: self.tags,
            created_at: now,
            updated_at: now,
        }
    }
}

/// An installation's fields, to register it again (onboarding, a page's form).
impl From<Installation> for NewInstallation {
    fn from(i: Installation) -> NewInstallation {
        NewInstallation {
            id: i.id,
            client: i.client,
            manager: i.manager,
            timezone: i.timezone,
            telegram_chat_id: i.telegram_chat_id,
            url: i.url,
            ip: i.ip,
            parent: i.parent,
            tags: i.tags,
        }
    }
}

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Empty,
    Id,
    /// Too long, or a character that is not allowed: `input`'s own words.
    Text(String),
    Zone(String),
    Url(String),
    Ip(String),
    BehindItself,
    NoParent(String),
    TooManyTags(usize),
    EmptyTag,
    /// A chat id that is not a number.
    Number(String),
    /// An id given twice in one import, first on that line.
    Repeated(usize),
}

/// A problem and the field it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrong {
    pub field: &'static str,
    pub problem: Problem,
}

impl Wrong {
    /// The API's words: "field: what is wrong".
    pub fn english(&self) -> String {
        let what = match &self.problem {
            Problem::Empty => "must not be empty".to_string(),
            Problem::Id => "use 1-64 letters, digits, `-`, `_` or `.`".into(),
            Problem::Text(words) => return words.clone(),
            Problem::Zone(zone) => {
                format!("unknown time zone `{zone}` (use an IANA name such as Europe/Moscow)")
            }
            Problem::Url(url) => format!("`{url}` is not an http:// or https:// URL"),
            Problem::Ip(ip) => format!("`{ip}` is not an IP address"),
            Problem::BehindItself => "an installation cannot sit behind itself".into(),
            Problem::NoParent(parent) => format!("no installation `{parent}`"),
            Problem::TooManyTags(n) => {
                format!("{n} tags, more than the {} allowed", input::MAX_TAGS)
            }
            Problem::EmptyTag => "a tag must not be empty".into(),
            Problem::Number(text) => {
                format!("`{text}` is not a chat id (a number such as -1001234567)")
            }
            Problem::Repeated(line) => format!("already given on line {line}"),
        };
        format!("{}: {what}", self.field)
    }

    /// A page's words, in the reader's language (without the field: it stands beside it).
    pub fn words(&self, lang: Lang) -> String {
        let (id, value): (&str, Option<FluentValue>) = match &self.problem {
            Problem::Empty => ("form-required", None),
            Problem::Id => ("installation-wrong-id", None),
            Problem::Text(words) => {
                let words = words.split_once(": ").map_or(words.as_str(), |(_, w)| w);
                return words.replace('`', "\"");
            }
            Problem::Zone(zone) => ("form-not-zone", Some(zone.clone().into())),
            Problem::Url(url) => ("installation-wrong-url", Some(url.clone().into())),
            Problem::Ip(ip) => ("installation-wrong-ip", Some(ip.clone().into())),
            Problem::BehindItself => ("installation-wrong-self", None),
            Problem::NoParent(parent) => ("installation-wrong-parent", Some(parent.clone().into())),
            Problem::TooManyTags(n) => ("installation-wrong-tags", Some((*n).into())),
            Problem::EmptyTag => ("installation-wrong-tag", None),
            Problem::Number(text) => ("form-not-number", Some(text.clone().into())),
            Problem::Repeated(line) => ("installation-wrong-repeated", Some((*line).into())),
        };
        match value {
            Some(value) => lang.t_with(id, &[("value", value)]),
            None => lang.t(id),
        }
    }
}

/// Every problem an installation's fields have; `known` says whether a parent exists.
pub fn check(i: &Installation, known: impl Fn(&str) -> bool) -> Vec<Wrong> {
    let mut wrong = Vec::new();
    let mut add = |field, problem| wrong.push(Wrong { field, problem });
    let id_ok = (1..=64).contains(&i.id.len())
        && i.id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !id_ok {
        add("id", Problem::Id);
    }
    for (field, value) in [("client", &i.client), ("manager", &i.manager)] {
        if value.trim().is_empty() {
            add(field, Problem::Empty);
        } else if let Err(error) = input::text(field, value, input::MAX_NAME) {
            add(field, Problem::Text(error.message));
        }
    }
    if let Err(error) = input::text("timezone", &i.timezone, input::MAX_TAG) {
        add("timezone", Problem::Text(error.message));
    } else if i.timezone.is_empty() {
        add("timezone", Problem::Empty);
    } else if jiff::tz::TimeZone::get(&i.timezone).is_err() {
        add("timezone", Problem::Zone(i.timezone.clone()));
    }
    for (field, value, max) in [
        ("url", &i.url, input::MAX_URL),
        ("ip", &i.ip, input::MAX_TAG),
        ("parent", &i.parent, input::MAX_TAG),
    ] {
        let Some(value) = value else { continue };
        if let Err(error) = input::text(field, value, max) {
            add(field, Problem::Text(error.message));
            continue;
        }
        match field {
            "url" if !value.starts_with("http://") && !value.starts_with("https://") => {
                add(field, Problem::Url(value.clone()))
            }
            "ip" if value.parse::<IpAddr>().is_err() => add(field, Problem::Ip(value.clone())),
            "parent" if *value == i.id => add(field, Problem::BehindItself),
            "parent" if !known(value) => add(field, Problem::NoParent(value.clone())),
            _ => {}
        }
    }
    if i.tags.len() > input::MAX_TAGS {
        add("tags", Problem::TooManyTags(i.tags.len()));
    }
    for tag in &i.tags {
        if tag.trim().is_empty() {
            add("tags", Problem::EmptyTag);
        } else if let Err(error) = input::text("tags", tag, input::MAX_TAG) {
            add("tags", Problem::Text(error.message));
        }
    }
    wrong
}

/// The API's refusal for an installation's problems: the first one (each names its field).
pub fn refusal(wrong: &[Wrong]) -> Option<ApiError> {
    let first = wrong.first()?;
    let status = match first.problem {
        Problem::Text(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Some(ApiError::new(status, first.english()))
}

/// Every problem of `i`, its parent looked up in the store.
pub async fn problems(state: &AppState, i: &Installation) -> Result<Vec<Wrong>, StoreError> {
    let parent_known = match &i.parent {
        Some(parent) if parent != &i.id => state.store.installation(parent).await?.is_some(),
        _ => true,
    };
    Ok(check(i, |_| parent_known))
}

async fn validate(state: &AppState, i: &Installation) -> Result<(), ApiError> {
    match refusal(&problems(state, i).await?) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Checks and stores a new installation; returns it with its ingest token, which is not
/// kept (the API and the admin page show it once).
pub async fn register(
    state: &AppState,
    new: NewInstallation,
) -> Result<(Installation, String), ApiError> {
    let installation = new.at(state.clock.now_ms());
    validate(state, &installation).await?;
    let token = token::generate();
    match state
        .store
        .create_installation(&installation, &token::digest(&token))
        .await
    {
        Ok(()) => {
            state.alerting.fleet_changed();
            Ok((installation, token))
        }
        Err(StoreError::Duplicate(id)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("id: installation `{id}` already exists"),
        )),
        Err(error) => Err(ApiError::internal(error)),
    }
}

/// Stores an installation's changed fields; its token, alerts and history stay.
pub async fn update(
    state: &AppState,
    mut installation: Installation,
) -> Result<Installation, ApiError> {
    installation.updated_at = state.clock.now_ms();
    validate(state, &installation).await?;
    if !state.store.update_installation(&installation).await? {
        return Err(no_such(&installation.id));
    }
    state.alerting.fleet_changed();
    Ok(installation)
}

pub fn no_such(id: &str) -> ApiError {
    ApiError::not_found(format!("no installation `{id}`"))
}

/// An installation id from a path: bounded and free of control characters, so a NUL never
/// reaches a query.
pub fn path_id(id: &str) -> Result<&str, ApiError> {
    input::text("installation id", id, input::MAX_TAG)
}

/// Removes installation `id`; returns how many of its alerts resolved.
pub async fn remove(state: &AppState, id: &str) -> Result<usize, ApiError> {
    path_id(id)?;
    state
        .alerting
        .remove_installation(id)
        .await?
        .ok_or_else(|| no_such(id))
}

/// A new ingest token for `id`, in place of the old one.
pub async fn rotate(state: &AppState, id: &str) -> Result<String, ApiError> {
    path_id(id)?;
    let token = token::generate();
    let now = state.clock.now_ms();
    if !state
        .store
        .set_token_hash(id, &token::digest(&token), now)
        .await?
    {
        return Err(no_such(id));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn installation() -> Installation {
        NewInstallation {
            id: "vector-main".into(),
            client: "ООО «Вектор»".into(),
            manager: "Ivanov".into(),
            timezone: "Europe/Moscow".into(),
            telegram_chat_id: -1001,
            url: None,
            ip: None,
            parent: None,
            tags: Vec::new(),
        }
        .at(0)
    }

    #[test]
    fn every_problem_is_found_at_once_each_with_its_field() {
        assert!(check(&installation(), |_| true).is_empty());
        let mut i = installation();
        i.id = "vector main".into();
        i.manager = " ".into();
        i.timezone = "Moscow".into();
        i.url = Some("vector.local".into());
        i.parent = Some("redirect-1".into());
        let wrong = check(&i, |_| false);
        let fields: Vec<&str> = wrong.iter().map(|w| w.field).collect();
        assert_eq!(fields, ["id", "manager", "timezone", "url", "parent"]);
        assert_eq!(
            wrong[2].english(),
            "timezone: unknown time zone `Moscow` (use an IANA name such as Europe/Moscow)"
        );
        assert!(wrong[4].words(Lang::Ru).contains("redirect-1"));
    }
}

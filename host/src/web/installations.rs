//! The installations' admin page: the fleet searched and paged, each installation edited
//! in a form (everything but its id; its token and history stay), a new one added (its
//! ingest token shown once, with what to paste into the agent), and a spreadsheet of them
//! onboarded: a preview of what every row would do, then applied, with a file of the new
//! tokens to hand out. The work is `app::installations` and `app::onboarding`, as for the
//! API.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::admin::{CsrfOnly, Outcome};
use super::chats;
use super::form::{Group, Layout, Problems, Sent, Widget, read};
use super::page::{PageError, Ui, address, encode, render};
use super::session::Visitor;
use crate::app::AppState;
use crate::app::installations::{self, NewInstallation};
use crate::app::onboarding::{self, COLUMNS, Issued, Plan, Verdict};
use crate::fleet::Installation;
use crate::store::{BotChat, ChatPerson};

/// Installations listed on one page.
const PAGE: usize = 50;

/// A file read for onboarding: what each row would do, or has done.
struct Onboarding {
    plan: Plan,
    /// The file, carried to the "apply" button unchanged.
    text: String,
    applied: bool,
    /// New tokens as a CSV, and as a link that downloads it.
    tokens: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "admin_installations.html")]
struct InstallationsPage {
    ui: Ui,
    rows: Vec<Installation>,
    total: usize,
    q: String,
    page: usize,
    pages: usize,
    outcome: Outcome,
    editing: Option<String>,
    groups: Vec<Group>,
    zones: Vec<String>,
    problems: Option<String>,
    onboarding: Option<Onboarding>,
    unreadable: Option<String>,
    /// Chats the bot has heard a command in, to pick an installation's chat from.
    chats: Vec<BotChat>,
    /// Who the bot heard in each group, and whether it may write to them.
    people: BTreeMap<i64, Vec<ChatPerson>>,
}

impl InstallationsPage {
    /// Who the bot heard in `chat_id`.
    fn people_in(&self, chat_id: &i64) -> &[ChatPerson] {
        self.people.get(chat_id).map_or(&[], Vec::as_slice)
    }

    /// A row's verdict in the reader's words.
    fn verdict(&self, verdict: &Verdict) -> String {
        let lang = self.ui.lang;
        match verdict {
            Verdict::New => lang.t("onboard-new"),
            Verdict::Same => lang.t("onboard-same"),
            Verdict::Changed(fields) => {
                lang.t_with("onboard-changed", &[("fields", fields.join(", ").into())])
            }
            Verdict::Refused(wrong) => wrong
                .iter()
                .map(|w| format!("{}: {}", w.field, w.words(lang)))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }

    /// The columns a file may have, for the hint.
    fn columns(&self) -> String {
        COLUMNS.join(",")
    }

    fn link(&self, page: usize) -> String {
        format!("/admin/installations?q={}&page={page}", encode(&self.q))
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Listing {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<usize>,
    edit: Option<String>,
}

/// What the page shows besides the list.
#[derive(Default)]
struct Shown {
    outcome: Outcome,
    editing: Option<String>,
    sent: Sent,
    problems: Option<Problems>,
    onboarding: Option<Onboarding>,
    unreadable: Option<String>,
}

async fn show(
    state: &AppState,
    visitor: &Visitor,
    listing: &Listing,
    shown: Shown,
) -> Result<Response, PageError> {
    let lang = visitor.lang();
    let q = listing.q.trim().to_lowercase();
    let mut matching: Vec<Installation> = state
        .store
        .installations()
        .await?
        .into_iter()
        .filter(|i| {
            q.is_empty()
                || [&i.id, &i.client, &i.manager]
                    .iter()
                    .any(|f| f.to_lowercase().contains(&q))
                || i.tags.iter().any(|t| t.to_lowercase() == q)
        })
        .collect();
    matching.sort_by(|a, b| a.id.cmp(&b.id));
    let total = matching.len();
    let pages = total.div_ceil(PAGE).max(1);
    let page = listing.page.unwrap_or(1).clamp(1, pages);
    let rows = matching
        .into_iter()
        .skip((page - 1) * PAGE)
        .take(PAGE)
        .collect();
    let problems = shown.problems.unwrap_or_else(|| Problems::new(lang));
    let layout = Layout {
        sent: &shown.sent,
        problems: &problems,
        lang,
    };
    let failed = !problems.is_empty() || shown.unreadable.is_some();
    let mut response = render(&InstallationsPage {
        ui: visitor.ui(),
        rows,
        total,
        q: listing.q.clone(),
        page,
        pages,
        outcome: shown.outcome,
        groups: fields(&layout, shown.editing.is_some()),
        editing: shown.editing,
        zones: jiff::tz::db().available().map(|n| n.to_string()).collect(),
        problems: (!problems.is_empty())
            .then(|| lang.t_with("form-problems", &[("n", problems.count().into())])),
        onboarding: shown.onboarding,
        unreadable: shown.unreadable,
        chats: state.store.bot_chats().await?,
        people: state.store.bot_chat_people().await?,
    });
    if failed {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

/// The installation's fields; its id cannot change once it reports.
fn fields(l: &Layout, editing: bool) -> Vec<Group> {
    let mut id = l
        .hinted(
            "id",
            "col-installation",
            Widget::Text,
            "installation-id-hint",
        )
        .needed();
    if editing {
        id.hint = None;
    }
    vec![Group {
        legend: None,
        fields: vec![
            id,
            l.field("client", "col-client", Widget::Text).needed(),
            l.field("manager", "col-manager", Widget::Text).needed(),
            l.field("timezone", "field-timezone", Widget::Suggest("zones"))
                .needed(),
            l.hinted(
                "telegram_chat_id",
                "field-chat",
                Widget::Suggest("chats"),
                "form-group-id-hint",
            )
            .needed(),
            l.field("url", "installation-url", Widget::Text),
            l.field("ip", "installation-ip", Widget::Text),
            l.hinted(
                "parent",
                "field-parent",
                Widget::Text,
                "installation-parent-hint",
            ),
            l.hinted(
                "tags",
                "installation-tags",
                Widget::Text,
                "installation-tags-hint",
            ),
        ],
    }]
}

/// A stored installation's fields, for editing it.
fn sent_of(i: &Installation) -> Sent {
    let mut sent = Sent::default();
    for (name, value) in [
        ("id", i.id.clone()),
        ("client", i.client.clone()),
        ("manager", i.manager.clone()),
        ("timezone", i.timezone.clone()),
        ("telegram_chat_id", i.telegram_chat_id.to_string()),
        ("url", i.url.clone().unwrap_or_default()),
        ("ip", i.ip.clone().unwrap_or_default()),
        ("parent", i.parent.clone().unwrap_or_default()),
        ("tags", i.tags.join(" ")),
    ] {
        sent.set(name, value);
    }
    sent
}

fn fresh(state: &AppState) -> Sent {
    let mut sent = Sent::default();
    sent.set("timezone", state.web.zone.iana_name().unwrap_or("UTC"));
    sent
}

pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(listing): Query<Listing>,
) -> Result<Response, PageError> {
    let shown = match &listing.edit {
        Some(id) => {
            let installation = state
                .store
                .installation(id)
                .await?
                .ok_or_else(|| PageError::not_found(visitor.lang()))?;
            Shown {
                editing: Some(id.clone()),
                sent: sent_of(&installation),
                ..Shown::default()
            }
        }
        None => Shown {
            sent: fresh(&state),
            ..Shown::default()
        },
    };
    show(&state, &visitor, &listing, shown).await
}

/// What the agent's configuration says on the installation, at the service's [`address`].
fn snippet(state: &AppState, headers: &HeaderMap, installation: &str, token: &str) -> String {
    let base = address(state, headers).unwrap_or_else(|| "http://REVEILLE-HOST".into());
    format!(
        "# report agent configuration\n\
         [reveille]\n\
         url = \"{base}/api/v1/reports\"\n\
         installation = \"{installation}\"\n\
         token = \"{token}\"\n\n\
         # or by hand:\n\
         curl -fsS -X POST {base}/api/v1/reports \\\n  \
         -H 'Authorization: Bearer {token}' \\\n  \
         -H 'Content-Type: application/xml' --data-binary @report.xml\n"
    )
}

/// The form's fields read into an installation, every problem recorded.
async fn read_form(
    state: &AppState,
    sent: &Sent,
    old: Option<&Installation>,
    problems: &mut Problems,
) -> Result<Option<Installation>, PageError> {
    let chat = problems.required(sent, "telegram_chat_id", read::whole);
    let optional = |name| Some(sent.one(name).to_string()).filter(|v| !v.is_empty());
    let now = state.clock.now_ms();
    let mut installation = NewInstallation {
        id: old.map_or_else(|| sent.one("id").to_string(), |o| o.id.clone()),
        client: sent.one("client").into(),
        manager: sent.one("manager").into(),
        timezone: sent.one("timezone").into(),
        telegram_chat_id: chat.unwrap_or_default(),
        url: optional("url"),
        ip: optional("ip"),
        parent: optional("parent"),
        tags: sent
            .one("tags")
            .split([' ', ','])
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect(),
    }
    .at(now);
    if let Some(old) = old {
        installation.created_at = old.created_at;
    }
    let lang = problems.lang();
    for wrong in installations::problems(state, &installation).await? {
        problems.say(wrong.field, wrong.words(lang));
    }
    Ok(problems.is_empty().then_some(installation))
}

pub async fn save(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut sent = Sent::new(pairs);
    visitor.check(sent.one("csrf"))?;
    let lang = visitor.lang();
    let mut problems = Problems::new(lang);
    chats::take_codes(&state, &mut sent, &mut problems).await?;
    let editing = Some(sent.one("editing").to_string()).filter(|e| !e.is_empty());
    let old = match &editing {
        Some(id) => Some(
            state
                .store
                .installation(id)
                .await?
                .ok_or_else(|| PageError::not_found(lang))?,
        ),
        None => None,
    };
    if let Some(installation) = read_form(&state, &sent, old.as_ref(), &mut problems).await? {
        let outcome = match old {
            Some(_) => installations::update(&state, installation).await.map(|i| {
                Outcome::Done(lang.t_with("installation-saved", &[("name", i.id.into())]))
            }),
            None => installations::register(&state, installation.into())
                .await
                .map(|(i, token)| Outcome::Token {
                    snippet: snippet(&state, &headers, &i.id, &token),
                    installation: i.id,
                    token,
                }),
        };
        match outcome {
            Ok(outcome) => return after(&state, &visitor, outcome).await,
            Err(error) => problems.refused(&error.message, &["id".into()]),
        }
    }
    let shown = Shown {
        editing,
        sent,
        problems: Some(problems),
        ..Shown::default()
    };
    show(&state, &visitor, &Listing::default(), shown).await
}

pub async fn rotate_token(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    let outcome = match installations::rotate(&state, &id).await {
        Ok(token) => Outcome::Token {
            snippet: snippet(&state, &headers, &id, &token),
            installation: id,
            token,
        },
        Err(error) => Outcome::Failed(error.message),
    };
    after(&state, &visitor, outcome).await
}

pub async fn delete(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    let outcome = match installations::remove(&state, &id).await {
        Ok(resolved) => Outcome::Done(visitor.lang().t_with(
            "installation-deleted",
            &[("name", id.as_str().into()), ("n", resolved.into())],
        )),
        Err(error) => Outcome::Failed(error.message),
    };
    after(&state, &visitor, outcome).await
}

/// The page after an action: what it came to at the top, an empty form below.
async fn after(
    state: &AppState,
    visitor: &Visitor,
    outcome: Outcome,
) -> Result<Response, PageError> {
    let shown = Shown {
        outcome,
        sent: fresh(state),
        ..Shown::default()
    };
    show(state, visitor, &Listing::default(), shown).await
}

/// The rows that need the admin's eye first, then the others in the file's order.
fn refused_first(mut plan: Plan) -> Plan {
    plan.rows
        .sort_by_key(|r| (!matches!(r.verdict, Verdict::Refused(_)), r.line));
    plan
}

/// A file of new tokens to hand out: each installation's id, client, token and the agent
/// configuration to paste.
fn tokens_file(state: &AppState, headers: &HeaderMap, issued: &[Issued]) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    let _ = out.write_record(["id", "client", "token", "agent_configuration"]);
    for i in issued {
        let config = snippet(state, headers, &i.id, &i.token);
        let _ = out.write_record([&i.id, &i.client, &i.token, &config]);
    }
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// `POST /admin/installations/import`: a CSV file (or pasted text) previewed, or, with
/// `apply`, the same text applied.
pub async fn import(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let lang = visitor.lang();
    let (mut csrf, mut file, mut pasted, mut apply) =
        (String::new(), String::new(), String::new(), false);
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| PageError::part(lang, e))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let value = field.bytes().await.map_err(|e| PageError::part(lang, e))?;
        let text = String::from_utf8_lossy(&value).into_owned();
        match name.as_str() {
            "csrf" => csrf = text,
            "file" => file = text,
            "text" => pasted = text,
            "apply" => apply = true,
            _ => {}
        }
    }
    visitor.check(&csrf)?;
    let text = if file.trim().is_empty() { pasted } else { file };
    let read = if apply {
        onboarding::apply(&state, &text)
            .await?
            .map(|(plan, issued)| {
                let tokens = (!issued.is_empty()).then(|| {
                    let csv = tokens_file(&state, &headers, &issued);
                    let link = format!("data:text/csv;charset=utf-8,{}", encode(&csv));
                    (csv, link)
                });
                (plan, tokens)
            })
    } else {
        onboarding::preview(&state, &text)
            .await?
            .map(|plan| (plan, None))
    };
    let shown = match read {
        Ok((plan, tokens)) => Shown {
            onboarding: Some(Onboarding {
                plan: refused_first(plan),
                text,
                applied: apply,
                tokens,
            }),
            sent: fresh(&state),
            ..Shown::default()
        },
        Err(unreadable) => Shown {
            unreadable: Some(unreadable.0),
            sent: fresh(&state),
            ..Shown::default()
        },
    };
    show(&state, &visitor, &Listing::default(), shown).await
}

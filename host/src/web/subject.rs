//! An alert's page and an incident's: what it is, who it touches, its timeline, and the
//! buttons (acknowledge, snooze) and the incident's update box, which act through the
//! alerts service as the Telegram buttons and replies and the API do, so the messages in
//! the chats change with it.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::page::{PageError, Ui, render};
use super::session::Visitor;
use crate::alerts::ahead::{self, Ahead};
use crate::alerts::incidents::{self, Incident, IncidentState, MAX_UPDATE, Member, Reach};
use crate::alerts::{Alert, AlertEvent, AlertState, On, Routing};
use crate::app::AppState;
use crate::app::input;
use crate::app::postmortems;
use crate::postmortem::{self, Sections};
use crate::store::AlertFilter;

/// Snoozes the pages offer, in hours.
const SNOOZES: [u32; 3] = [1, 4, 24];

/// The most alerts of its story an alert's page lists.
const STORY_SHOWN: i64 = 50;

#[derive(Template)]
#[template(path = "alert.html")]
struct AlertPage {
    ui: Ui,
    alert: Alert,
    /// The other alerts of its story, oldest first (their messages reply to the first's).
    story: Vec<Alert>,
    timeline: Vec<AlertEvent>,
    snoozes: [u32; 3],
    can_ack: bool,
    can_snooze: bool,
    /// An administrator may close a test alert (`alerts::test`).
    can_close_test: bool,
    /// What time will do to it if nobody acts.
    ahead: Vec<Ahead>,
    closed: bool,
    in_incident: bool,
    /// What people wrote for its post-mortem.
    sections: Sections,
    postmortem: String,
}

#[derive(Template)]
#[template(path = "incident.html")]
struct IncidentPage {
    ui: Ui,
    incident: Incident,
    what: String,
    /// The members the visitor may see.
    members: Vec<Member>,
    hidden: usize,
    timeline: Vec<AlertEvent>,
    snoozes: [u32; 3],
    can_act: bool,
    ahead: Vec<Ahead>,
    closed: bool,
    in_incident: bool,
    sections: Sections,
    postmortem: String,
    max_update: usize,
}

fn id(text: &str, visitor: &Visitor) -> Result<i64, PageError> {
    text.parse()
        .map_err(|_| PageError::not_found(visitor.lang()))
}

async fn visible_alert(state: &AppState, visitor: &Visitor, id: i64) -> Result<Alert, PageError> {
    let alert = state
        .store
        .alert(id)
        .await?
        .ok_or_else(|| PageError::not_found(visitor.lang()))?;
    visitor.sees(&alert.manager)?;
    Ok(alert)
}

async fn visible_incident(
    state: &AppState,
    visitor: &Visitor,
    id: i64,
) -> Result<Incident, PageError> {
    let incident = state
        .store
        .incident(id)
        .await?
        .ok_or_else(|| PageError::not_found(visitor.lang()))?;
    if incident
        .members
        .iter()
        .any(|m| visitor.staff.sees(&m.manager))
    {
        Ok(incident)
    } else {
        Err(PageError::forbidden(visitor.lang()))
    }
}

pub async fn alert(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(text): Path<String>,
) -> Result<Response, PageError> {
    let alert = visible_alert(&state, &visitor, id(&text, &visitor)?).await?;
    let timeline = state.store.timeline(On::Alert(alert.id)).await?;
    let mut story = state
        .store
        .alerts(&AlertFilter {
            installation: Some(alert.installation_id.clone()),
            story: Some(alert.story_id),
            limit: STORY_SHOWN,
            ..AlertFilter::default()
        })
        .await?;
    story.retain(|other| other.id != alert.id);
    story.reverse();
    let open = matches!(alert.state, AlertState::Firing | AlertState::Snoozed);
    let ahead = if alert.state == AlertState::Resolved {
        Vec::new()
    } else {
        let directory = state.alerting.directory().await?;
        let installation = state.store.installation(&alert.installation_id).await?;
        let routing = Routing {
            directory: &directory,
            now: state.clock.now_ms(),
        };
        ahead::of_alert(&alert, &alert.subject(installation.as_ref()), &routing)
    };
    let sections = postmortems::sections(&state, On::Alert(alert.id))
        .await
        .map_err(|e| PageError::api(e, visitor.lang()))?;
    Ok(render(&AlertPage {
        sections,
        postmortem: format!("/alerts/{}/postmortem", alert.id),
        can_ack: visitor.staff.can_act() && open && alert.incident_id.is_none(),
        can_snooze: visitor.staff.can_act()
            && alert.state != AlertState::Resolved
            && alert.state != AlertState::Pending
            && alert.incident_id.is_none(),
        can_close_test: visitor.staff.is_admin()
            && alert.is_test()
            && alert.state != AlertState::Resolved,
        ui: visitor.ui(),
        ahead,
        closed: alert.state == AlertState::Resolved,
        in_incident: alert.incident_id.is_some(),
        alert,
        story,
        timeline,
        snoozes: SNOOZES,
    }))
}

pub async fn incident(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(text): Path<String>,
) -> Result<Response, PageError> {
    let incident = visible_incident(&state, &visitor, id(&text, &visitor)?).await?;
    let timeline = state.store.timeline(On::Incident(incident.id)).await?;
    let members: Vec<Member> = incident
        .members
        .iter()
        .filter(|m| visitor.staff.sees(&m.manager))
        .cloned()
        .collect();
    let sections = postmortems::sections(&state, On::Incident(incident.id))
        .await
        .map_err(|e| PageError::api(e, visitor.lang()))?;
    let closed = incident.state == IncidentState::Resolved;
    let ahead = if closed {
        Vec::new()
    } else {
        let directory = state.alerting.directory().await?;
        let first = match incident.members.first() {
            Some(m) => state.store.installation(&m.installation_id).await?,
            None => None,
        };
        let routing = Routing {
            directory: &directory,
            now: state.clock.now_ms(),
        };
        let subject = incidents::subject_of(&incident, first.as_ref());
        ahead::of_incident(&incident, subject.as_ref(), &routing)
    };
    Ok(render(&IncidentPage {
        ahead,
        closed,
        in_incident: false,
        sections,
        postmortem: format!("/incidents/{}/postmortem", incident.id),
        can_act: visitor.staff.can_act() && !closed,
        ui: visitor.ui(),
        what: incident.what(visitor.lang()),
        hidden: incident.members.len() - members.len(),
        members,
        incident,
        timeline,
        snoozes: SNOOZES,
        max_update: MAX_UPDATE,
    }))
}

#[derive(Debug, Deserialize)]
pub struct ActForm {
    #[serde(default)]
    csrf: String,
    hours: Option<u32>,
}

impl ActForm {
    fn until(&self, state: &AppState, visitor: &Visitor) -> Result<i64, PageError> {
        let hours = self
            .hours
            .filter(|h| SNOOZES.contains(h))
            .ok_or_else(|| PageError::bad(visitor.lang(), visitor.lang().t("error-snooze")))?;
        Ok(state.clock.now_ms() + i64::from(hours) * 3_600_000)
    }
}

/// Who did it, as the timeline and the chats say.
fn by(visitor: &Visitor) -> String {
    format!("{} (web)", visitor.staff.name)
}

/// Back to the page, which shows what became of the request.
fn back(path: String, done: bool, visitor: &Visitor) -> Result<Response, PageError> {
    if done {
        Ok(Redirect::to(&path).into_response())
    } else {
        Err(PageError::Status {
            status: axum::http::StatusCode::CONFLICT,
            lang: visitor.lang(),
            message: visitor.lang().t("error-changed"),
        })
    }
}

/// Acknowledges or (`snooze`) snoozes what `kind` and `text` name, if the visitor may
/// see it, and goes back to its page.
async fn act(
    state: &AppState,
    visitor: &Visitor,
    (kind, text): (&str, &str),
    form: &ActForm,
    snooze: bool,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    let on = subject_of(state, visitor, kind, text).await?;
    let by = by(visitor);
    let until = snooze.then(|| form.until(state, visitor)).transpose()?;
    let alerting = &state.alerting;
    let done = match (on, until) {
        (On::Alert(id), Some(until)) => alerting.snooze(id, &by, until).await?.done(),
        (On::Alert(id), None) => alerting.acknowledge(id, &by).await?.done(),
        (On::Incident(id), Some(until)) => alerting.snooze_incident(id, &by, until).await?.done(),
        (On::Incident(id), None) => alerting.acknowledge_incident(id, &by).await?.done(),
    };
    back(page_of(on), done, visitor)
}

/// The page of what `on` names.
fn page_of(on: On) -> String {
    match on {
        On::Alert(id) => format!("/alerts/{id}"),
        On::Incident(id) => format!("/incidents/{id}"),
    }
}

pub async fn ack_alert(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(text): Path<String>,
    Form(form): Form<ActForm>,
) -> Result<Response, PageError> {
    act(&state, &visitor, ("alerts", &text), &form, false).await
}

pub async fn snooze_alert(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(text): Path<String>,
    Form(form): Form<ActForm>,
) -> Result<Response, PageError> {
    act(&state, &visitor, ("alerts", &text), &form, true).await
}

pub async fn ack_incident(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(text): Path<String>,
    Form(form): Form<ActForm>,
) -> Result<Response, PageError> {
    act(&state, &visitor, ("incidents", &text), &form, false).await
}

pub async fn snooze_incident(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(text): Path<String>,
    Form(form): Form<ActForm>,
) -> Result<Response, PageError> {
    act(&state, &visitor, ("incidents", &text), &form, true).await
}

#[derive(Debug, Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
    /// The box "also show it to the clients" ticked.
    #[serde(default)]
    publish: Option<String>,
}

/// Posts an update on the incident, as a reply to its card in Telegram does: every card
/// shows it, and its timeline keeps it; ticked, its clients' status pages show it too.
pub async fn update_incident(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(path): Path<String>,
    Form(form): Form<UpdateForm>,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    let lang = visitor.lang();
    let incident = visible_incident(&state, &visitor, id(&path, &visitor)?).await?;
    let text = form.text.trim();
    let length = text.chars().count();
    if length == 0 {
        return Err(PageError::bad(lang, lang.t("error-update-empty")));
    }
    if length > MAX_UPDATE {
        let args = [("max", MAX_UPDATE.into()), ("length", length.into())];
        return Err(PageError::bad(
            lang,
            lang.t_with("error-update-long", &args),
        ));
    }
    let text = input::text("text", text, MAX_UPDATE).map_err(|e| PageError::api(e, lang))?;
    let reach = match form.publish {
        Some(_) => Reach::Clients,
        None => Reach::Staff,
    };
    let acted = state
        .alerting
        .update_incident(incident.id, &by(&visitor), text, reach)
        .await?;
    back(page_of(On::Incident(incident.id)), acted.done(), &visitor)
}

/// What `path` (`alerts/12` or `incidents/3`) is about, if the visitor may see it.
async fn subject_of(
    state: &AppState,
    visitor: &Visitor,
    kind: &str,
    text: &str,
) -> Result<On, PageError> {
    let id = id(text, visitor)?;
    Ok(match kind {
        "alerts" => On::Alert(visible_alert(state, visitor, id).await?.id),
        "incidents" => On::Incident(visible_incident(state, visitor, id).await?.id),
        _ => return Err(PageError::not_found(visitor.lang())),
    })
}

/// The post-mortem, written from the timeline with what people wrote, as a page to read
/// (and print).
pub async fn postmortem(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((kind, text)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let on = subject_of(&state, &visitor, &kind, &text).await?;
    let (markdown, title) = postmortems::document(&state, on)
        .await
        .map_err(|e| PageError::api(e, visitor.lang()))?;
    Ok((
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        axum::response::Html(postmortem::html(
            &markdown,
            &format!("Post-mortem: {title}"),
        )),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct SectionsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    cause: String,
    #[serde(default)]
    actions: String,
    #[serde(default)]
    prevention: String,
}

/// Saves the post-mortem's sections from the alert's or incident's page.
pub async fn save_postmortem(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((kind, text)): Path<(String, String)>,
    Form(form): Form<SectionsForm>,
) -> Result<Response, PageError> {
    visitor.check(&form.csrf)?;
    let on = subject_of(&state, &visitor, &kind, &text).await?;
    let given = Sections {
        cause: Some(form.cause),
        actions: Some(form.actions),
        prevention: Some(form.prevention),
    };
    postmortems::save(&state, on, given, &by(&visitor))
        .await
        .map_err(|e| PageError::api(e, visitor.lang()))?;
    Ok(Redirect::to(&page_of(on)).into_response())
}

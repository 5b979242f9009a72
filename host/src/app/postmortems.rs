//! Post-mortems of incidents and of single alerts, as the API and the board's pages write
//! and read them: written from the timeline with what people wrote in each section.

use super::AppState;
use super::error::ApiError;
use super::input;
use crate::alerts::incidents::{Incident, MAX_UPDATE};
use crate::alerts::{AlertEvent, Detail, Event, EventKind, On};
use crate::postmortem::{self, Facts, Sections};

/// What the post-mortem is about, its heading and timeline.
async fn subject(
    state: &AppState,
    on: On,
) -> Result<(Incident, String, Vec<AlertEvent>), ApiError> {
    match on {
        On::Incident(id) => {
            let incident = state
                .store
                .incident(id)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no incident {id}")))?;
            let title = format!("incident #{id}, {}", incident.what(crate::i18n::Lang::En));
            let timeline = state.store.timeline(on).await?;
            Ok((incident, title, timeline))
        }
        On::Alert(id) => {
            let alert = state
                .store
                .alert(id)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no alert {id}")))?;
            let title = format!(
                "alert #{id}, {} on {} ({})",
                alert.plugin, alert.installation_id, alert.client
            );
            let timeline = state.store.timeline(on).await?;
            Ok((Incident::of_alert(&alert), title, timeline))
        }
    }
}

/// The post-mortem of `on` as Markdown, and its title.
pub async fn document(state: &AppState, on: On) -> Result<(String, String), ApiError> {
    let (incident, title, timeline) = subject(state, on).await?;
    let sections = sections(state, on).await?;
    let (zone, at_night) = state.alerting.began_at_night(&incident).await?;
    let markdown = postmortem::markdown(&Facts {
        title: title.clone(),
        incident: &incident,
        timeline: &timeline,
        sections: &sections,
        zone: &zone,
        at_night,
    });
    Ok((markdown, title))
}

/// What people wrote so far.
pub async fn sections(state: &AppState, on: On) -> Result<Sections, ApiError> {
    Ok(state
        .store
        .postmortem(on)
        .await?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

/// The sections given replace what was written (by `by`); the others stay.
pub async fn save(
    state: &AppState,
    on: On,
    given: Sections,
    by: &str,
) -> Result<Sections, ApiError> {
    let mut sections = sections(state, on).await?;
    let mut changed = Vec::new();
    for (name, new, old) in [
        ("cause", given.cause, &mut sections.cause),
        ("actions", given.actions, &mut sections.actions),
        ("prevention", given.prevention, &mut sections.prevention),
    ] {
        if let Some(text) = new {
            if text.chars().count() > MAX_UPDATE {
                return Err(ApiError::bad_request(format!(
                    "{name}: more than the {MAX_UPDATE} characters allowed"
                )));
            }
            for line in text.lines() {
                input::text(name, line, MAX_UPDATE)?;
            }
            *old = Some(text);
            changed.push(name);
        }
    }
    if changed.is_empty() {
        return Err(ApiError::bad_request(
            "body: give at least one of cause, actions, prevention",
        ));
    }
    let json = serde_json::to_string(&sections).map_err(ApiError::internal)?;
    let entry = Event::new(
        EventKind::Postmortem,
        Detail::Wrote {
            sections: changed.iter().map(|s| s.to_string()).collect(),
        },
    )
    .by(by);
    let stored = state
        .store
        .put_postmortem(on, &json, &entry, state.clock.now_ms())
        .await?;
    if !stored {
        let what = match on {
            On::Incident(id) => format!("no incident {id}"),
            On::Alert(id) => format!("no alert {id}"),
        };
        return Err(ApiError::not_found(what));
    }
    Ok(sections)
}

//! `/status`, `/alerts` and `/oncall`: what a manager asks the bot. Answers about
//! installations cover only those routed to the chat asking, so nothing leaks into another
//! client's chat.

use jiff::tz::TimeZone;
use reveille_sdk::Version;

use super::render::{Message, Style, elapsed, icon, local_time};
use crate::alerts::directory::Directory;
use crate::alerts::incidents::Incident;
use crate::alerts::{Alert, AlertState};
use crate::fleet::Installation;
use crate::plugins::Runtime;
use crate::report::{Dongle, Glance};
use crate::store::{AlertFilter, Latest, Store, StoreError};

/// At most this many installations listed when `/status` matches several.
const MAX_LISTED: usize = 20;
/// Open alerts counted per listed installation; more show as "1000+".
const MAX_COUNTED: usize = 1_000;
/// At most this many alerts per `/alerts` answer.
const MAX_ALERTS: usize = 30;

/// The status cards of installations in `chat_id` whose id is `query` or whose client
/// name contains it (case-insensitively).
pub async fn status(
    store: &Store,
    runtime: &Runtime,
    chat_id: i64,
    query: &str,
    now: i64,
) -> Result<String, StoreError> {
    let query = query.trim();
    if query.is_empty() {
        return Ok(Message::default()
            .text("Usage: /status <client or installation>")
            .html());
    }
    let needle = query.to_lowercase();
    let routed = store.installations_in_chat(chat_id).await?;
    let exact: Vec<&Installation> = routed.iter().filter(|i| i.id == query).collect();
    let matches: Vec<&Installation> = if exact.is_empty() {
        routed
            .iter()
            .filter(|i| i.client.to_lowercase().contains(&needle) || i.id.contains(&needle))
            .collect()
    } else {
        exact
    };
    if matches.is_empty() {
        return Ok(Message::default()
            .text(format!(
                "No installation matching “{query}” sends its alerts to this chat."
            ))
            .html());
    }
    if let [one] = matches.as_slice() {
        return card(store, runtime, one, now).await;
    }
    // Several: one line each, so the answer always fits one message; a card is one
    // `/status <id>` away.
    let mut message = Message::default().line(vec![(
        Style::Bold,
        format!("{} installations match “{query}”:", matches.len()),
    )]);
    for installation in matches.iter().take(MAX_LISTED) {
        message = message.text(summary_line(store, installation, now).await?);
    }
    if matches.len() > MAX_LISTED {
        message = message.text(format!("…and {} more.", matches.len() - MAX_LISTED));
    }
    Ok(message
        .text("Ask /status <installation id> for one installation's card.")
        .html())
}

/// One line for an installation: its worst open alert's icon, client and id, how long
/// since it reported, and how many alerts are open.
async fn summary_line(
    store: &Store,
    installation: &Installation,
    now: i64,
) -> Result<String, StoreError> {
    let open = open_of(store, installation, MAX_COUNTED).await?;
    let worst = open.iter().map(|a| a.severity).max();
    let plus = if open.len() == MAX_COUNTED { "+" } else { "" };
    let reported = match store.latest_report(&installation.id).await? {
        Some((_, at)) => format!("reported {} ago", elapsed(at, now)),
        None => "no report yet".into(),
    };
    Ok(format!(
        "{} {} · {}: {reported}, {} open",
        worst.map_or("✅", icon),
        installation.client,
        installation.id,
        match open.len() {
            0 => "nothing".to_string(),
            1 => "1 alert".to_string(),
            n => format!("{n}{plus} alerts"),
        }
    ))
}

async fn card(
    store: &Store,
    runtime: &Runtime,
    installation: &Installation,
    now: i64,
) -> Result<String, StoreError> {
    let tz = installation.time_zone();
    let mut message = Message::default().line(vec![
        (Style::Bold, installation.client.clone()),
        (Style::Plain, " · ".into()),
        (Style::Plain, installation.id.clone()),
    ]);
    let Some(latest) = latest_glance(store, &installation.id).await? else {
        message = message.text("Last report: none received yet");
        return Ok(with_alerts(store, message, installation, &tz).await?.html());
    };
    let glance = &latest.glance;
    message = message.text(format!(
        "Last report: {} ({} ago, {})",
        local_time(latest.received_at, &tz),
        elapsed(latest.received_at, now),
        glance.agent.as_deref().unwrap_or("unknown agent")
    ));
    message = message.text(match &glance.newest_update {
        Some(update) => format!(
            "Newest update: №{}, {} ({} ago)",
            update.number,
            local_time(update.at, &tz),
            elapsed(update.at, now)
        ),
        None => "Newest update: no bases in the last report".into(),
    });
    let settings = store.client_settings(&installation.client).await?;
    let minimum = runtime.setting("version-minimum", "minimum", &settings);
    message = message.text(shell(glance.shell_version.as_deref(), minimum.as_deref()));
    message = message.text(match &glance.dongle {
        Some(Dongle {
            state,
            error_code: Some(code),
        }) => format!("Dongle: {state} (error {code})"),
        Some(Dongle { state, .. }) => format!("Dongle: {state}"),
        None => "Dongle: no protection record in the last report".into(),
    });
    message = message.text(match &glance.seats {
        Some(seats) => {
            let refused = match seats.refused {
                0 => String::new(),
                n => format!(", {n} refused"),
            };
            format!("Seats: {} of {} in use{refused}", seats.used, seats.limit)
        }
        None => "Seats: not in the last report".into(),
    });
    Ok(with_alerts(store, message, installation, &tz).await?.html())
}

/// The newest report's glance; for a report stored before glances were kept, taken
/// from the report itself.
async fn latest_glance(store: &Store, installation: &str) -> Result<Option<Latest>, StoreError> {
    if let Some(latest) = store.glance(installation).await? {
        return Ok(Some(latest));
    }
    let Some((id, received_at)) = store.latest_report(installation).await? else {
        return Ok(None);
    };
    Ok(store.report(id).await?.map(|report| Latest {
        received_at,
        glance: Glance::of(&report.document),
    }))
}

fn shell(version: Option<&str>, minimum: Option<&str>) -> String {
    let Some(version) = version else {
        return "Shell: version not in the last report".into();
    };
    let verdict = match (
        version.parse::<Version>(),
        minimum.map(str::parse::<Version>),
    ) {
        (Ok(v), Some(Ok(min))) if v < min => format!(" (below the minimum {min})"),
        (Ok(_), Some(Ok(min))) => format!(" (minimum {min}: fine)"),
        _ => String::new(),
    };
    format!("Shell: {version}{verdict}")
}

/// Up to `limit` open alerts of `installation`.
async fn open_of(
    store: &Store,
    installation: &Installation,
    limit: usize,
) -> Result<Vec<Alert>, StoreError> {
    store
        .alerts(&AlertFilter {
            states: Some(AlertState::OPEN.to_vec()),
            installation: Some(installation.id.clone()),
            limit: limit as i64,
            ..AlertFilter::default()
        })
        .await
}

async fn with_alerts(
    store: &Store,
    mut message: Message,
    installation: &Installation,
    tz: &TimeZone,
) -> Result<Message, StoreError> {
    let open = open_of(store, installation, MAX_ALERTS).await?;
    if open.is_empty() {
        return Ok(message.text("Open alerts: none ✅"));
    }
    message = message.text(format!("Open alerts: {}", open.len()));
    for alert in &open {
        message = message.text(format!(
            "{} {} ({}, since {})",
            icon(alert.severity),
            alert.summary,
            alert.state,
            local_time(alert.fired_at.unwrap_or(alert.first_seen_at), tz)
        ));
    }
    Ok(message)
}

/// Every open alert of the installations routed to `chat_id`.
pub async fn open_alerts(store: &Store, chat_id: i64) -> Result<String, StoreError> {
    let routed: Vec<Installation> = store.installations_in_chat(chat_id).await?;
    let mut alerts = store
        .alerts(&AlertFilter {
            states: Some(AlertState::OPEN.to_vec()),
            chat_id: Some(chat_id),
            limit: MAX_ALERTS as i64 + 1,
            ..AlertFilter::default()
        })
        .await?;
    // In a group: an alert posted here before its installation moved to another chat stays
    // with the chat it was posted to; one whose installation is routed elsewhere now is not
    // shown. A private chat (on-call, escalation) sees what was sent to it.
    if chat_id < 0 {
        alerts.retain(|a| routed.iter().any(|i| i.id == a.installation_id));
    }
    // Members of an incident are told through its card: the incident stands for them.
    let incidents: Vec<Incident> = store
        .open_incidents()
        .await?
        .into_iter()
        .filter(|i| i.destinations.iter().any(|d| d.chat_id == chat_id))
        .collect();
    if alerts.is_empty() && incidents.is_empty() {
        return Ok(Message::default().text("No open alerts here ✅").html());
    }
    let head = if incidents.is_empty() {
        format!("Open alerts: {}", alerts.len().min(MAX_ALERTS))
    } else {
        format!(
            "Open here: {} incident(s), {} alert(s)",
            incidents.len(),
            alerts.len().min(MAX_ALERTS)
        )
    };
    let mut message = Message::default().line(vec![(Style::Bold, head)]);
    for incident in &incidents {
        let what = incident.what(crate::i18n::Lang::En);
        message = message.text(format!(
            "{} Incident #{}: {what}, {} of {} still down ({})",
            icon(incident.severity),
            incident.id,
            incident.down(),
            incident.members.len(),
            incident.state.as_str()
        ));
    }
    for alert in alerts.iter().take(MAX_ALERTS) {
        let tz = routed
            .iter()
            .find(|i| i.id == alert.installation_id)
            .map_or(TimeZone::UTC, Installation::time_zone);
        message = message.text(format!(
            "{} {} · {}: {} ({}, since {})",
            icon(alert.severity),
            alert.client,
            alert.installation_id,
            alert.summary,
            alert.state,
            local_time(alert.fired_at.unwrap_or(alert.first_seen_at), &tz)
        ));
    }
    if alerts.len() > MAX_ALERTS {
        message = message.text("…and more: see the dashboard or ask /status for one client.");
    }
    Ok(message.html())
}

/// `/oncall [schedule]`: who is on call now, until when, and who is next, per schedule.
pub fn on_call(directory: &Directory, query: &str, now: i64) -> String {
    let query = query.trim();
    let schedules: Vec<_> = directory
        .schedules
        .iter()
        .filter(|(name, _)| query.is_empty() || name.as_str() == query)
        .collect();
    if schedules.is_empty() {
        let text = if query.is_empty() {
            "No on-call schedule is set up.".to_string()
        } else {
            format!("No on-call schedule “{query}”.")
        };
        return Message::default().text(text).html();
    }
    let mut message = Message::default();
    for (name, schedule) in schedules {
        let zone = TimeZone::get(&schedule.timezone).unwrap_or(TimeZone::UTC);
        let shift = schedule.on_call(now);
        let next = schedule.on_call(shift.until);
        message = message
            .line(vec![
                (Style::Bold, format!("{name}: ")),
                (Style::Plain, shift.contact.clone()),
                (
                    Style::Plain,
                    format!(
                        "{} until {}",
                        if shift.covering { " (covering)" } else { "" },
                        local_time(shift.until, &zone)
                    ),
                ),
            ])
            .text(format!("  next: {}", next.contact));
    }
    message.html()
}

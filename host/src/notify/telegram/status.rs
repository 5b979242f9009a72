//! `/status`, `/alerts` and `/oncall`: what a manager asks the bot. Answers about
//! installations cover only those routed to the chat asking, so nothing leaks into another
//! client's chat.

use jiff::tz::TimeZone;
use reveille_sdk::Version;

use super::render::{Message, Style, icon, local_time};
use crate::alerts::directory::Directory;
use crate::alerts::incidents::Incident;
use crate::alerts::{Alert, AlertState};
use crate::fleet::Installation;
use crate::i18n::Lang;
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
    lang: Lang,
) -> Result<String, StoreError> {
    let query = query.trim();
    if query.is_empty() {
        return Ok(Message::default().text(lang.t("tg-status-usage")).html());
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
            .text(lang.t_with("tg-status-none", &[("query", query.into())]))
            .html());
    }
    if let [one] = matches.as_slice() {
        return card(store, runtime, one, now, lang).await;
    }
    // Several: one line each, so the answer always fits one message; a card is one
    // `/status <id>` away.
    let mut message = Message::default().line(vec![(
        Style::Bold,
        lang.t_with(
            "tg-status-many",
            &[("n", matches.len().into()), ("query", query.into())],
        ),
    )]);
    for installation in matches.iter().take(MAX_LISTED) {
        message = message.text(summary_line(store, installation, now, lang).await?);
    }
    if matches.len() > MAX_LISTED {
        message = message.text(lang.t_with(
            "tg-status-more",
            &[("n", (matches.len() - MAX_LISTED).into())],
        ));
    }
    Ok(message.text(lang.t("tg-status-hint")).html())
}

/// One line for an installation: its worst open alert's icon, client and id, how long
/// since it reported, and how many alerts are open.
async fn summary_line(
    store: &Store,
    installation: &Installation,
    now: i64,
    lang: Lang,
) -> Result<String, StoreError> {
    let open = open_of(store, installation, MAX_COUNTED).await?;
    let worst = open.iter().map(|a| a.severity).max();
    let plus = if open.len() == MAX_COUNTED { "+" } else { "" };
    let reported = match store.latest_report(&installation.id).await? {
        Some((_, at)) => lang.t_with(
            "tg-status-reported",
            &[("duration", lang.span(now - at).into())],
        ),
        None => lang.t("tg-status-no-report"),
    };
    let count = match open.len() {
        0 => lang.t("tg-status-nothing-open"),
        1 => lang.t("tg-status-one-open"),
        n => lang.t_with("tg-status-open", &[("n", format!("{n}{plus}").into())]),
    };
    Ok(format!(
        "{} {} · {}: {reported}, {count}",
        worst.map_or("✅", icon),
        installation.client,
        installation.id,
    ))
}

async fn card(
    store: &Store,
    runtime: &Runtime,
    installation: &Installation,
    now: i64,
    lang: Lang,
) -> Result<String, StoreError> {
    let tz = installation.time_zone();
    let mut message = Message::default().line(vec![
        (Style::Bold, installation.client.clone()),
        (Style::Plain, " · ".into()),
        (Style::Plain, installation.id.clone()),
    ]);
    let Some(latest) = latest_glance(store, &installation.id).await? else {
        message = message.text(lang.t("tg-card-no-report"));
        return Ok(with_alerts(store, message, installation, &tz, lang)
            .await?
            .html());
    };
    let glance = &latest.glance;
    let at = |ms: i64| -> fluent_bundle::FluentValue<'static> { local_time(ms, &tz).into() };
    let ago = |ms: i64| -> fluent_bundle::FluentValue<'static> { lang.span(now - ms).into() };
    message = message.text(lang.t_with(
        "tg-card-report",
        &[
            ("when", at(latest.received_at)),
            ("duration", ago(latest.received_at)),
            (
                "agent",
                glance.agent.clone().unwrap_or_else(|| "?".into()).into(),
            ),
        ],
    ));
    message = message.text(match &glance.newest_update {
        Some(update) => lang.t_with(
            "tg-card-update",
            &[
                ("number", update.number.as_str().into()),
                ("when", at(update.at)),
                ("duration", ago(update.at)),
            ],
        ),
        None => lang.t("tg-card-no-update"),
    });
    let settings = store.client_settings(&installation.client).await?;
    let minimum = runtime.minimum_shell(&settings);
    message = message.text(shell(
        glance.shell_version.as_deref(),
        minimum.as_deref(),
        lang,
    ));
    message = message.text(match &glance.dongle {
        Some(Dongle {
            state,
            error_code: Some(code),
        }) => lang.t_with(
            "tg-card-dongle-error",
            &[
                ("state", lang.t_or(&format!("dongle-{state}"), state).into()),
                ("code", code.as_str().into()),
            ],
        ),
        Some(Dongle { state, .. }) => lang.t_with(
            "tg-card-dongle",
            &[("state", lang.t_or(&format!("dongle-{state}"), state).into())],
        ),
        None => lang.t("tg-card-no-dongle"),
    });
    message = message.text(match &glance.seats {
        Some(seats) => lang.t_with(
            "tg-card-seats",
            &[
                ("used", seats.used.into()),
                ("limit", seats.limit.into()),
                ("refused", seats.refused.into()),
            ],
        ),
        None => lang.t("tg-card-no-seats"),
    });
    Ok(with_alerts(store, message, installation, &tz, lang)
        .await?
        .html())
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

fn shell(version: Option<&str>, minimum: Option<&str>, lang: Lang) -> String {
    let Some(version) = version else {
        return lang.t("tg-card-no-shell");
    };
    let id = match (
        version.parse::<Version>(),
        minimum.map(str::parse::<Version>),
    ) {
        (Ok(v), Some(Ok(min))) if v < min => "tg-card-shell-low",
        (Ok(_), Some(Ok(_))) => "tg-card-shell-fine",
        _ => "tg-card-shell",
    };
    lang.t_with(
        id,
        &[
            ("version", version.into()),
            ("minimum", minimum.unwrap_or_default().into()),
        ],
    )
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
    lang: Lang,
) -> Result<Message, StoreError> {
    let open = open_of(store, installation, MAX_ALERTS).await?;
    if open.is_empty() {
        return Ok(message.text(lang.t("tg-card-no-alerts")));
    }
    message = message.text(lang.t_with("tg-card-alerts", &[("n", open.len().into())]));
    for alert in &open {
        message = message.text(format!(
            "{} {} ({})",
            icon(alert.severity),
            alert.summary_in(lang),
            state_since(alert, tz, lang)
        ));
    }
    Ok(message)
}

/// "firing, since 20.11.2026 20:00", in the reader's words.
fn state_since(alert: &Alert, tz: &TimeZone, lang: Lang) -> String {
    lang.t_with(
        "tg-state-since",
        &[
            ("state", lang.t(alert.state.as_str()).into()),
            (
                "when",
                local_time(alert.fired_at.unwrap_or(alert.first_seen_at), tz).into(),
            ),
        ],
    )
}

/// Every open alert of the installations routed to `chat_id`.
pub async fn open_alerts(store: &Store, chat_id: i64, lang: Lang) -> Result<String, StoreError> {
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
        return Ok(Message::default().text(lang.t("tg-alerts-none")).html());
    }
    let shown = alerts.len().min(MAX_ALERTS);
    let head = if incidents.is_empty() {
        lang.t_with("tg-card-alerts", &[("n", shown.into())])
    } else {
        lang.t_with(
            "tg-alerts-with-incidents",
            &[("incidents", incidents.len().into()), ("n", shown.into())],
        )
    };
    let mut message = Message::default().line(vec![(Style::Bold, head)]);
    for incident in &incidents {
        message = message.text(format!(
            "{} {}",
            icon(incident.severity),
            lang.t_with(
                "tg-alerts-incident",
                &[
                    ("id", incident.id.into()),
                    ("what", incident.what(lang).into()),
                    ("down", incident.down().into()),
                    ("total", incident.members.len().into()),
                    ("state", lang.t(incident.state.as_str()).into()),
                ],
            )
        ));
    }
    for alert in alerts.iter().take(MAX_ALERTS) {
        let tz = routed
            .iter()
            .find(|i| i.id == alert.installation_id)
            .map_or(TimeZone::UTC, Installation::time_zone);
        message = message.text(format!(
            "{} {} · {}: {} ({})",
            icon(alert.severity),
            alert.client,
            alert.installation_id,
            alert.summary_in(lang),
            state_since(alert, &tz, lang)
        ));
    }
    if alerts.len() > MAX_ALERTS {
        message = message.text(lang.t("tg-alerts-more"));
    }
    Ok(message.html())
}

/// `/oncall [schedule]`: who is on call now, until when, and who is next, per schedule.
pub fn on_call(directory: &Directory, query: &str, now: i64, lang: Lang) -> String {
    let query = query.trim();
    let schedules: Vec<_> = directory
        .schedules
        .iter()
        .filter(|(name, _)| query.is_empty() || name.as_str() == query)
        .collect();
    if schedules.is_empty() {
        let text = if query.is_empty() {
            lang.t("tg-oncall-none")
        } else {
            lang.t_with("tg-oncall-unknown", &[("name", query.into())])
        };
        return Message::default().text(text).html();
    }
    let mut message = Message::default();
    for (name, schedule) in schedules {
        let zone = TimeZone::get(&schedule.timezone).unwrap_or(TimeZone::UTC);
        let shift = schedule.on_call(now);
        let next = schedule.on_call(shift.until);
        let covering = if shift.covering {
            format!(" {}", lang.t("tg-oncall-covering"))
        } else {
            String::new()
        };
        message = message
            .line(vec![
                (Style::Bold, format!("{name}: ")),
                (Style::Plain, shift.contact.clone()),
                (
                    Style::Plain,
                    format!(
                        "{covering} {}",
                        lang.t_with(
                            "tg-oncall-until",
                            &[("when", local_time(shift.until, &zone).into())]
                        )
                    ),
                ),
            ])
            .text(format!(
                "  {}",
                lang.t_with("tg-oncall-next", &[("name", next.contact.as_str().into())])
            ));
    }
    message.html()
}

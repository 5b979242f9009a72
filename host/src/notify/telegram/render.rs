//! What Reveille says in Telegram. Messages are built from plain-text pieces and escaped in
//! one place, so no value from a report, a plugin or an admin can break the HTML (or inject
//! markup); and they are cut to Telegram's limit by shortening the details, never rejected.

use fluent_bundle::FluentValue;
use jiff::tz::TimeZone;

use super::actions::{Action, On};
use super::client::Button;
use crate::alerts::incidents::{Incident, IncidentState, Reach};
pub use crate::alerts::local_time;
use crate::alerts::{Alert, AlertState, Resolution};
use crate::i18n::Lang;
use crate::plugins::Severity;
use crate::text::unwanted;

/// Telegram's limit for a message's text after entity parsing, in UTF-16 code units.
pub const MAX_MESSAGE: usize = 4096;
/// A summary is one line; plugins are told so, and a long one is cut here.
const MAX_SUMMARY: usize = 500;

/// How a piece of text is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Style {
    Plain,
    Bold,
    Italic,
    Code,
    /// A link to this address (ours: the board's page of what the message is about).
    Link(String),
}

/// A message as lines of styled plain-text pieces.
#[derive(Debug, Default, Clone)]
pub struct Message {
    lines: Vec<Vec<(Style, String)>>,
}

impl Message {
    pub fn line(mut self, pieces: Vec<(Style, String)>) -> Self {
        self.lines.push(pieces);
        self
    }

    pub fn text(self, text: impl Into<String>) -> Self {
        self.line(vec![(Style::Plain, text.into())])
    }

    /// The HTML, cut to [`MAX_MESSAGE`] visible characters: the last line (the details)
    /// gives way first, then earlier lines; a cut ends in `…`.
    pub fn html(&self) -> String {
        let mut budget = MAX_MESSAGE;
        let mut out = String::new();
        for (i, line) in self.lines.iter().enumerate() {
            if i > 0 {
                if budget < 2 {
                    break;
                }
                out.push('\n');
                budget -= 1;
            }
            for (style, text) in line {
                let (shown, cut) = cut_to(text, budget);
                budget -= utf16_len(shown) + usize::from(cut);
                let mut piece = escape(shown);
                if cut {
                    piece.push('…');
                }
                let (open, close) = match style {
                    Style::Plain => (String::new(), ""),
                    Style::Bold => ("<b>".into(), "</b>"),
                    Style::Italic => ("<i>".into(), "</i>"),
                    Style::Code => ("<code>".into(), "</code>"),
                    Style::Link(href) => (format!("<a href=\"{}\">", escape(href)), "</a>"),
                };
                if !piece.is_empty() {
                    out.push_str(&open);
                    out.push_str(&piece);
                    out.push_str(close);
                }
                if cut {
                    return out;
                }
            }
        }
        out
    }
}

fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// The longest prefix of `text` that fits `budget` UTF-16 units, and whether it was cut
/// (a cut leaves room for the `…`).
fn cut_to(text: &str, budget: usize) -> (&str, bool) {
    if utf16_len(text) <= budget {
        return (text, false);
    }
    let room = budget.saturating_sub(1);
    let mut used = 0;
    let mut end = 0;
    for (at, c) in text.char_indices() {
        if used + c.len_utf16() > room {
            break;
        }
        used += c.len_utf16();
        end = at + c.len_utf8();
    }
    (&text[..end], true)
}

/// Escapes text for Telegram's HTML parse mode, leaving out every character people must
/// not get ([`unwanted`]) but line feeds, and showing a tab as a space.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push('\n'),
            '\t' => out.push(' '),
            c if unwanted(c).is_some() => {}
            c => out.push(c),
        }
    }
    out
}

fn short(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

pub fn icon(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "🔴",
        Severity::Warning => "🟠",
        Severity::Info => "🔵",
    }
}

/// Who reads a message: its words' language and the installation's clock, and where the
/// board is (the service's public address), for a link to the page of what it is about.
pub struct Reader {
    pub lang: Lang,
    pub tz: TimeZone,
    pub board: Option<String>,
}

impl Reader {
    fn say(&self, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        self.lang.t_with(id, args)
    }

    fn at(&self, ms: i64) -> FluentValue<'static> {
        local_time(ms, &self.tz).into()
    }

    fn span(&self, from: i64, to: i64) -> FluentValue<'static> {
        self.lang.span(to - from).into()
    }

    fn severity(&self, severity: Severity) -> String {
        self.lang.t(&format!("tg-{}", severity.as_str()))
    }

    fn since(&self, ms: i64) -> String {
        self.say(
            "tg-since",
            &[
                ("when", self.at(ms)),
                (
                    "zone",
                    self.tz.iana_name().unwrap_or("UTC").to_string().into(),
                ),
            ],
        )
    }

    fn who(&self, name: Option<&str>) -> FluentValue<'static> {
        name.map_or_else(|| self.lang.t("tg-someone"), str::to_string)
            .into()
    }

    fn why(&self, resolution: Option<&str>) -> String {
        resolution.map_or_else(
            || self.lang.t("tg-cleared"),
            |stored| Resolution::words(stored, self.lang),
        )
    }
}

/// The alert's living message as it should look now, and its buttons.
pub fn living(alert: &Alert, to: &Reader) -> (String, Vec<Button>) {
    let since = alert.fired_at.unwrap_or(alert.first_seen_at);
    let head = match alert.state {
        AlertState::Resolved => to.say(
            "tg-resolved-head",
            &[("severity", to.severity(alert.severity).into())],
        ),
        _ => format!("{} {}", icon(alert.severity), to.severity(alert.severity)),
    };
    let status = match alert.state {
        AlertState::Pending | AlertState::Firing => to.say("tg-firing", &[]),
        AlertState::Acknowledged => {
            let until = alert
                .ack_expires_at
                .map(|at| to.say("tg-ack-until", &[("when", to.at(at))]))
                .unwrap_or_default();
            let taken = to.say(
                "tg-acknowledged",
                &[
                    ("who", to.who(alert.acknowledged_by.as_deref())),
                    (
                        "when",
                        to.at(alert.acknowledged_at.unwrap_or(alert.updated_at)),
                    ),
                ],
            );
            format!("{taken}{until}")
        }
        AlertState::Snoozed => to.say(
            "tg-snoozed",
            &[
                ("who", to.who(alert.acknowledged_by.as_deref())),
                (
                    "when",
                    to.at(alert.snoozed_until.unwrap_or(alert.updated_at)),
                ),
            ],
        ),
        AlertState::Resolved => {
            let at = alert.resolved_at.unwrap_or(alert.updated_at);
            to.say(
                "tg-resolved",
                &[
                    ("when", to.at(at)),
                    ("duration", to.span(since, at)),
                    ("why", to.why(alert.resolution.as_deref()).into()),
                ],
            )
        }
    };
    let mut message = Message::default()
        .line(vec![
            (Style::Bold, head),
            (Style::Plain, " · ".into()),
            (Style::Bold, short(alert.summary_in(to.lang), MAX_SUMMARY)),
        ])
        .line(vec![
            (Style::Bold, alert.client.clone()),
            (Style::Plain, " · ".into()),
            (Style::Plain, alert.installation_id.clone()),
        ])
        .text(to.since(since))
        .text(status);
    if alert.flapping && alert.state != AlertState::Resolved {
        message = message.text(to.say("tg-flapping", &[]));
    }
    if let (Some(who), Some(at)) = (&alert.escalated_to, alert.escalated_at) {
        message = message.text(to.say(
            "tg-escalated",
            &[("who", who.as_str().into()), ("when", to.at(at))],
        ));
    }
    // Which check said it, for whoever looks it up, and the alert's page.
    let mut footer = vec![(
        Style::Code,
        short(&format!("{}/{}", alert.plugin, alert.key), 80),
    )];
    if let Some(board) = &to.board {
        footer.push((Style::Plain, " · ".into()));
        footer.push((
            Style::Link(format!("{board}/alerts/{}", alert.id)),
            to.say("tg-open", &[]),
        ));
    }
    message = message.line(footer);
    let details = alert.details_in(to.lang);
    if !details.is_empty() {
        message = message.line(vec![(Style::Italic, details.to_string())]);
    }
    let buttons = match alert.state {
        AlertState::Firing | AlertState::Pending => {
            Action::offered(On::Alert(alert.id), false, to.lang)
        }
        AlertState::Snoozed => Action::offered(On::Alert(alert.id), true, to.lang),
        AlertState::Acknowledged | AlertState::Resolved => Vec::new(),
    };
    (message.html(), buttons)
}

/// The reply that makes the chat ring when an alert resolves.
pub fn resolved_reply(alert: &Alert, to: &Reader) -> String {
    let since = alert.fired_at.unwrap_or(alert.first_seen_at);
    let at = alert.resolved_at.unwrap_or(alert.updated_at);
    Message::default()
        .line(vec![
            (
                Style::Plain,
                format!(
                    "{}: ",
                    to.say("tg-resolved-after", &[("duration", to.span(since, at))])
                ),
            ),
            (Style::Bold, short(alert.summary_in(to.lang), MAX_SUMMARY)),
        ])
        .text(format!(
            "{} · {} ({})",
            alert.client,
            alert.installation_id,
            to.why(alert.resolution.as_deref())
        ))
        .html()
}

/// The reply when an open alert's severity went up.
pub fn raised_reply(alert: &Alert, to: &Reader) -> String {
    Message::default()
        .line(vec![
            (
                Style::Plain,
                format!("{} {} ", icon(alert.severity), to.say("tg-now", &[])),
            ),
            (Style::Bold, to.severity(alert.severity)),
            (Style::Plain, ": ".into()),
            (Style::Plain, short(alert.summary_in(to.lang), MAX_SUMMARY)),
        ])
        .html()
}

/// The reply when the alert needs someone again: a snooze or acknowledgement ran out, or
/// an escalation step rang this chat.
pub fn reminder_reply(alert: &Alert, to: &Reader) -> String {
    let why = if alert.escalated_at.is_some() && alert.escalated_at == Some(alert.updated_at) {
        "tg-reminder-escalated"
    } else {
        "tg-reminder"
    };
    Message::default()
        .line(vec![
            (Style::Plain, format!("{}: ", to.say(why, &[]))),
            (Style::Bold, short(alert.summary_in(to.lang), MAX_SUMMARY)),
        ])
        .text(format!("{} · {}", alert.client, alert.installation_id))
        .html()
}

/// A destination's morning digest: what happened while it was quiet, alert by alert, as
/// things are now. Alerts still open follow as their own messages.
pub fn digest(alerts: &[Alert], to: &Reader) -> String {
    let mut message = Message::default().line(vec![(
        Style::Bold,
        to.say("tg-digest-head", &[("n", alerts.len().into())]),
    )]);
    type Belongs = fn(&Alert) -> bool;
    let sections: [(&str, Belongs); 3] = [
        ("tg-digest-firing", |a| {
            matches!(
                a.state,
                AlertState::Firing | AlertState::Pending | AlertState::Snoozed
            )
        }),
        ("tg-digest-acknowledged", |a| {
            a.state == AlertState::Acknowledged
        }),
        ("tg-digest-resolved", |a| a.state == AlertState::Resolved),
    ];
    for (title, belongs) in sections {
        let mine: Vec<&Alert> = alerts.iter().filter(|a| belongs(a)).collect();
        if mine.is_empty() {
            continue;
        }
        message = message
            .text("")
            .line(vec![(Style::Bold, to.say(title, &[]))]);
        for alert in mine {
            message = message.line(digest_line(alert, to));
        }
    }
    message.html()
}

/// What happened while `installation` could not be heard: the alerts its agent's backlog
/// (made from `from`, read by `until`) opened, each with when and how long. Old news, sent
/// quietly; what still holds also has its own living message.
pub fn unheard(installation: &str, from: i64, until: i64, alerts: &[Alert], to: &Reader) -> String {
    let mut message = Message::default().line(vec![(
        Style::Bold,
        to.say(
            "tg-unheard-head",
            &[
                ("installation", installation.to_string().into()),
                ("from", to.at(from)),
                ("until", to.at(until)),
            ],
        ),
    )]);
    for alert in alerts {
        let mut line = digest_line(alert, to);
        if let Some(end) = alert.resolved_at {
            let start = alert.fired_at.unwrap_or(alert.first_seen_at);
            line.push((
                Style::Plain,
                format!(
                    " ({})",
                    to.say("tg-unheard-lasted", &[("span", to.span(start, end))])
                ),
            ));
        }
        message = message.line(line);
    }
    message.html()
}

/// New alerts too many at once for one chat's budget, in one message: each still has its
/// own living messages elsewhere, and its resolution is said here when it comes.
pub fn folded(alerts: &[Alert], to: &Reader) -> String {
    let mut message = Message::default()
        .line(vec![(
            Style::Bold,
            to.say("tg-folded-head", &[("n", alerts.len().into())]),
        )])
        .text(to.say("tg-folded-hint", &[]));
    for alert in alerts {
        message = message.line(digest_line(alert, to));
    }
    message.html()
}

/// Clients named on an incident card, and installations named per client; the rest are
/// counted, so a card for a thousand installations still reads in a glance.
const CARD_CLIENTS: usize = 12;
const CARD_INSTALLATIONS: usize = 6;
/// Updates shown on a card, newest last.
const CARD_UPDATES: usize = 3;

/// An incident's living message as it should look now, and its buttons. `link`: where its
/// post-mortem is read, when the service has a public address.
pub fn incident(incident: &Incident, to: &Reader, link: Option<&str>) -> (String, Vec<Button>) {
    let total = incident.members.len();
    let clients = incident.clients();
    let what = incident.what(to.lang);
    let args = [("id", incident.id.into()), ("what", what.into())];
    let head = match incident.state {
        IncidentState::Resolved => to.say("tg-incident-resolved-head", &args),
        _ => format!(
            "{} {}",
            icon(incident.severity),
            to.say("tg-incident-head", &args)
        ),
    };
    let mut message = Message::default()
        .line(vec![(Style::Bold, head)])
        .line(vec![(
            Style::Bold,
            to.say(
                "tg-incident-count",
                &[
                    ("total", total.into()),
                    ("clients", clients.len().into()),
                    ("back", incident.back().into()),
                ],
            ),
        )]);
    if let Some(first) = incident.members.first() {
        message = message.text(short(first.summary_in(to.lang), MAX_SUMMARY));
    }
    if let Some(parent) = &incident.parent {
        message = message.text(to.say(
            "tg-incident-parent-cause",
            &[("parent", parent.as_str().into())],
        ));
    }
    message = message.text(to.since(incident.opened_at));
    let status = match incident.state {
        IncidentState::Firing => to.say("tg-firing", &[]),
        IncidentState::Acknowledged => to.say(
            "tg-acknowledged",
            &[
                ("who", to.who(incident.acknowledged_by.as_deref())),
                (
                    "when",
                    to.at(incident.acknowledged_at.unwrap_or(incident.opened_at)),
                ),
            ],
        ),
        IncidentState::Snoozed => to.say(
            "tg-snoozed",
            &[
                ("who", to.who(incident.acknowledged_by.as_deref())),
                (
                    "when",
                    to.at(incident.snoozed_until.unwrap_or(incident.opened_at)),
                ),
            ],
        ),
        IncidentState::Rechecking => {
            to.say("tg-incident-rechecking", &[("n", incident.down().into())])
        }
        IncidentState::Resolved => {
            let at = incident.resolved_at.unwrap_or(incident.opened_at);
            to.say(
                "tg-incident-resolved",
                &[
                    ("when", to.at(at)),
                    ("duration", to.span(incident.opened_at, at)),
                ],
            )
        }
    };
    message = message.text(status);
    let alone: Vec<&str> = incident
        .members
        .iter()
        .filter(|m| m.is_down() && m.on_its_own)
        .map(|m| m.installation_id.as_str())
        .collect();
    if !alone.is_empty() {
        message = message.text(to.say("tg-incident-alone", &[("list", alone.join(", ").into())]));
    }
    let shown = incident.updates.len().saturating_sub(CARD_UPDATES);
    for update in &incident.updates[shown..] {
        let mut line = vec![
            (
                Style::Plain,
                format!("📣 {} ", local_time(update.at, &to.tz)),
            ),
            (Style::Italic, update.by.clone().unwrap_or_default()),
            (
                Style::Plain,
                format!(": {}", short(&update.text, MAX_SUMMARY)),
            ),
        ];
        // Staff see which of their words the clients read on their status pages.
        if update.reach == Reach::Clients {
            line.push((
                Style::Italic,
                format!(" · {}", to.say("tg-update-public", &[])),
            ));
        }
        message = message.line(line);
    }
    if let (Some(link), IncidentState::Resolved) = (link, incident.state) {
        message = message.text(to.say("tg-postmortem", &[("link", link.into())]));
    }
    if let Some(board) = &to.board {
        message = message.line(vec![(
            Style::Link(format!("{board}/incidents/{}", incident.id)),
            to.say("tg-open", &[]),
        )]);
    }
    message = message
        .text("")
        .line(vec![(Style::Bold, to.say("tg-affected", &[]))]);
    for client in clients.iter().take(CARD_CLIENTS) {
        let theirs: Vec<String> = incident
            .members
            .iter()
            .filter(|m| m.client == *client)
            .map(|m| {
                let mark = if m.is_down() { "" } else { " ✅" };
                format!("{}{mark}", m.installation_id)
            })
            .collect();
        let mut named = theirs
            .iter()
            .take(CARD_INSTALLATIONS)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if theirs.len() > CARD_INSTALLATIONS {
            named = to.say(
                "tg-and-more",
                &[
                    ("named", named.into()),
                    ("n", (theirs.len() - CARD_INSTALLATIONS).into()),
                ],
            );
        }
        message = message.line(vec![
            (Style::Plain, "• ".into()),
            (Style::Bold, (*client).to_string()),
            (Style::Plain, format!(": {named}")),
        ]);
    }
    if clients.len() > CARD_CLIENTS {
        message = message.text(to.say(
            "tg-more-clients",
            &[
                ("n", (clients.len() - CARD_CLIENTS).into()),
                ("id", incident.id.into()),
            ],
        ));
    }
    let buttons = match incident.state {
        IncidentState::Firing => Action::offered(On::Incident(incident.id), false, to.lang),
        IncidentState::Snoozed => Action::offered(On::Incident(incident.id), true, to.lang),
        _ => Vec::new(),
    };
    (message.html(), buttons)
}

/// The reply that makes the chat ring once when an incident ends.
pub fn incident_resolved_reply(incident: &Incident, to: &Reader) -> String {
    let at = incident.resolved_at.unwrap_or(incident.opened_at);
    let mut message = Message::default().line(vec![
        (
            Style::Plain,
            format!(
                "{}: ",
                to.say(
                    "tg-incident-resolved-reply",
                    &[
                        ("id", incident.id.into()),
                        ("duration", to.span(incident.opened_at, at)),
                    ],
                )
            ),
        ),
        (
            Style::Bold,
            to.say(
                "tg-incident-back",
                &[
                    ("back", incident.back().into()),
                    ("total", incident.members.len().into()),
                ],
            ),
        ),
    ]);
    if incident.down() > 0 {
        message = message.text(to.say("tg-incident-still-down", &[("n", incident.down().into())]));
    }
    message.html()
}

/// The reply when an incident needs someone again (its snooze ran out).
pub fn incident_reminder_reply(incident: &Incident, to: &Reader) -> String {
    Message::default()
        .text(to.say(
            "tg-incident-reminder",
            &[
                ("id", incident.id.into()),
                ("down", incident.down().into()),
                ("total", incident.members.len().into()),
            ],
        ))
        .html()
}

fn digest_line(alert: &Alert, to: &Reader) -> Vec<(Style, String)> {
    let since = alert.fired_at.unwrap_or(alert.first_seen_at);
    let when = match alert.resolved_at {
        Some(at) => format!("{} – {}", local_time(since, &to.tz), local_time(at, &to.tz)),
        None => to.say("tg-line-since", &[("when", to.at(since))]),
    };
    let mut who = Vec::new();
    if let (Some(by), Some(at)) = (&alert.acknowledged_by, alert.acknowledged_at) {
        who.push(to.say(
            "tg-line-acknowledged",
            &[("who", by.as_str().into()), ("when", to.at(at))],
        ));
    }
    if let (Some(whom), Some(at)) = (&alert.escalated_to, alert.escalated_at) {
        who.push(to.say(
            "tg-line-escalated",
            &[("who", whom.as_str().into()), ("when", to.at(at))],
        ));
    }
    if alert.state == AlertState::Resolved && who.is_empty() {
        who.push(to.why(alert.resolution.as_deref()));
    }
    let mut line = vec![
        (Style::Plain, format!("{} ", icon(alert.severity))),
        (Style::Bold, short(alert.summary_in(to.lang), 120)),
        (
            Style::Plain,
            format!(" · {} · {} · {when}", alert.client, alert.installation_id),
        ),
    ];
    if !who.is_empty() {
        line.push((Style::Italic, format!(" · {}", who.join(", "))));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dynamic_value_is_escaped() {
        let html = Message::default()
            .line(vec![(Style::Bold, "<b>x</b> & \"y\"".into())])
            .html();
        assert_eq!(html, "<b>&lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot;</b>");
    }

    #[test]
    fn hidden_characters_never_reach_a_chat() {
        let html = Message::default()
            .text("Petr\u{202E}vortep\u{7} \r\nrings\tand\u{0}")
            .html();
        assert_eq!(html, "Petrvortep \nrings and");
    }

    #[test]
    fn long_text_is_cut_to_the_limit_with_an_ellipsis() {
        let details = "Ж<".repeat(5_000);
        let html = Message::default()
            .text("head")
            .line(vec![(Style::Italic, details)])
            .html();
        assert!(html.ends_with("…</i>"), "{}", &html[html.len() - 20..]);
        let visible: String = html
            .replace("<i>", "")
            .replace("</i>", "")
            .replace("&lt;", "<")
            .chars()
            .collect();
        assert_eq!(utf16_len(&visible), MAX_MESSAGE);
    }

    #[test]
    fn a_cut_never_splits_a_surrogate_pair() {
        let text = "😀".repeat(10);
        let (shown, cut) = cut_to(&text, 5);
        assert!(cut);
        assert_eq!(shown, "😀😀");
    }
}

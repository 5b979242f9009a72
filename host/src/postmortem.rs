//! The post-mortem of an incident: written from its timeline (what fired, who was told and
//! when, who took it, what people said, when each installation came back), with the three
//! sections only people can write (cause, actions, prevention). Markdown is the source;
//! the HTML is that Markdown rendered (pulldown-cmark), with raw HTML shown as text, so
//! nothing anyone typed becomes markup.

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::alerts::incidents::Incident;
use crate::alerts::{AlertEvent, EventKind};
use crate::i18n::Lang;

/// What people write after an incident.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    pub cause: Option<String>,
    pub actions: Option<String>,
    pub prevention: Option<String>,
}

/// Everything a post-mortem is written from.
pub struct Facts<'a> {
    /// What it is about, for the heading ("incident #12, redirect-1 failing").
    pub title: String,
    pub incident: &'a Incident,
    pub timeline: &'a [AlertEvent],
    pub sections: &'a Sections,
    /// The zone times are written in (the first affected installation's).
    pub zone: &'a TimeZone,
    /// It began in the affected client's quiet hours (or on a holiday).
    pub at_night: bool,
}

/// Text as Markdown shows it literally: every character Markdown (or HTML) could read as
/// syntax is escaped, and a table cell keeps to one line.
fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A moment in the post-mortem's zone, one format for the whole document.
fn when(at: i64, zone: &TimeZone) -> String {
    jiff::Timestamp::from_millisecond(at)
        .map(|t| {
            t.to_zoned(zone.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| at.to_string())
}

fn length(from: i64, to: i64) -> String {
    reveille_sdk::format_duration(std::time::Duration::from_millis((to - from).max(0) as u64))
}

/// Section text as people wrote it (paragraphs kept, markup shown as text), or a
/// placeholder that says it is still to be written.
fn written(text: &Option<String>) -> String {
    match text.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => t.lines().map(literal).collect::<Vec<_>>().join("\n"),
        _ => "_Not written yet._".to_string(),
    }
}

pub fn markdown(facts: &Facts) -> String {
    let Facts {
        title,
        incident,
        timeline,
        sections,
        zone,
        at_night,
    } = facts;
    let zone_name = zone.iana_name().unwrap_or("UTC");
    let mut md = format!("# Post-mortem: {}\n\n", literal(title));
    let ended = incident.resolved_at.map_or_else(
        || "not yet".to_string(),
        |at| {
            format!(
                "{}, after {}",
                when(at, zone),
                length(incident.opened_at, at)
            )
        },
    );
    let clients = incident.clients();
    md.push_str("## Impact\n\n| | |\n|---|---|\n");
    for (name, value) in [
        (
            "Began",
            format!("{} ({zone_name})", when(incident.opened_at, zone)),
        ),
        ("Ended", ended),
        ("At night", if *at_night { "yes" } else { "no" }.to_string()),
        ("Severity", incident.severity.as_str().to_string()),
        ("Check", literal(&incident.plugin)),
        (
            "Clients",
            format!("{}: {}", clients.len(), literal(&clients.join(", "))),
        ),
        (
            "Installations",
            format!(
                "{} ({} back, {} still down when it ended)",
                incident.members.len(),
                incident.back(),
                incident.down()
            ),
        ),
    ] {
        md.push_str(&format!("| {name} | {value} |\n"));
    }
    md.push_str("\n## Timeline\n\n| Time | What | Who | Detail |\n|---|---|---|---|\n");
    for event in timeline.iter() {
        md.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            when(event.at, zone),
            event.kind.as_str(),
            literal(event.actor.as_deref().unwrap_or("")),
            literal(&event.detail.words(Lang::En, zone))
        ));
    }
    md.push_str("\n## Who was told\n\n");
    for d in &incident.destinations {
        md.push_str(&format!(
            "- {} in chat {}{}{}\n",
            d.role.as_str(),
            d.chat_id,
            d.contact
                .as_deref()
                .map(|c| format!(" ({})", literal(c)))
                .unwrap_or_default(),
            if d.silent { ", silently" } else { "" }
        ));
    }
    let acknowledged = timeline.iter().find(|e| e.kind == EventKind::Acknowledged);
    if let Some(ack) = acknowledged {
        md.push_str(&format!(
            "\nAcknowledged by {} at {}, {} after it began.\n",
            literal(ack.actor.as_deref().unwrap_or("someone")),
            when(ack.at, zone),
            length(incident.opened_at, ack.at)
        ));
    }
    md.push_str(
        "\n## Installations\n\n| Client | Installation | Down since | Back at | Down for |\n\
         |---|---|---|---|---|\n",
    );
    for m in &incident.members {
        let (back, down_for) = match m.resolved_at {
            Some(at) => (when(at, zone), length(m.first_seen_at, at)),
            None if m.on_its_own => ("still down: an alert of its own".to_string(), String::new()),
            None => ("still down".to_string(), String::new()),
        };
        md.push_str(&format!(
            "| {} | {} | {} | {back} | {down_for} |\n",
            literal(&m.client),
            literal(&m.installation_id),
            when(m.first_seen_at, zone)
        ));
    }
    for (title, text) in [
        ("Cause", &sections.cause),
        ("Actions", &sections.actions),
        ("Prevention", &sections.prevention),
    ] {
        md.push_str(&format!("\n## {title}\n\n{}\n", written(text)));
    }
    md
}

/// The Markdown as an HTML page.
pub fn html(markdown: &str, title: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, html::push_html};
    let events = Parser::new_ext(markdown, Options::ENABLE_TABLES).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut body = String::new();
    push_html(&mut body, events);
    let mut escaped_title = String::new();
    push_html(
        &mut escaped_title,
        std::iter::once(Event::Text(title.into())),
    );
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{escaped_title}</title>\
         <style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.2em .5em}}</style>\
         </head><body>\n{body}</body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_people_type_never_becomes_markup() {
        let md = written(&Some("<script>alert(1)</script> | **bold**".into()));
        let page = html(&md, "t");
        assert!(!page.contains("<script>"), "{page}");
        assert!(!page.contains("<strong>"), "{page}");
        assert!(page.contains("&lt;script&gt;"), "{page}");
    }

    #[test]
    fn a_moment_is_written_once_in_the_zone() {
        let moscow = TimeZone::get("Europe/Moscow").unwrap();
        let at = jiff::Timestamp::from_second(1_796_598_600).unwrap();
        assert_eq!(when(at.as_millisecond(), &moscow), "2026-12-07 02:10");
    }
}

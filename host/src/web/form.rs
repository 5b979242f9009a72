//! A form field by field instead of a JSON document: what the browser sent, read into typed
//! values with every problem kept beside the field it is about, in the reader's language,
//! and the fields laid out again from what was sent, so a mistake never costs what was
//! typed. The directory's entries (`entries/`) are the forms built on it.

use std::collections::BTreeMap;

use fluent_bundle::FluentValue;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use crate::i18n::Lang;

/// What a browser sent, in order: a name repeats for a field with several choices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sent(Vec<(String, String)>);

impl Sent {
    pub fn new(pairs: Vec<(String, String)>) -> Sent {
        Sent(pairs)
    }

    /// The field's value, trimmed; empty when it was not sent.
    pub fn one(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// Every non-empty value sent under the name, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, v)| n == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
            .collect()
    }

    /// The fields (name and value, trimmed) whose value `test` accepts.
    pub fn matching(&self, test: fn(&str) -> bool) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter(|(_, v)| test(v.trim()))
            .map(|(n, v)| (n.clone(), v.trim().to_string()))
            .collect()
    }

    /// Sets one value (replacing what was sent under the name).
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        self.0.retain(|(n, _)| *n != name);
        self.0.push((name, value.into()));
    }

    /// Adds one more value under the name (a choice among several).
    pub fn add(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// How many rows of a repeated group (`prefix[i].…`) were sent.
    pub fn rows(&self, prefix: &str) -> usize {
        let start = format!("{prefix}[");
        self.0
            .iter()
            .filter_map(|(n, _)| {
                n.strip_prefix(&start)?
                    .split(']')
                    .next()?
                    .parse::<usize>()
                    .ok()
            })
            .map(|i| i + 1)
            .max()
            .unwrap_or(0)
    }

    /// Whether nothing was written in a row (it is left out, not refused).
    pub fn row_is_empty(&self, prefix: &str, row: usize) -> bool {
        let start = format!("{prefix}[{row}].");
        self.0
            .iter()
            .all(|(n, v)| !n.starts_with(&start) || v.trim().is_empty())
    }
}

/// Every problem a form has, by field name, in the reader's words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems {
    lang: Lang,
    by_field: BTreeMap<String, String>,
    /// Problems no single field owns (two windows overlapping).
    pub general: Vec<String>,
}

impl Problems {
    pub fn new(lang: Lang) -> Problems {
        Problems {
            lang,
            ..Problems::default()
        }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    pub fn is_empty(&self) -> bool {
        self.by_field.is_empty() && self.general.is_empty()
    }

    pub fn count(&self) -> usize {
        self.by_field.len() + self.general.len()
    }

    /// Records a problem under `field` (the first one found for a field is kept).
    pub fn add(&mut self, field: &str, id: &str, args: &[(&str, FluentValue<'_>)]) {
        let message = self.lang.t_with(id, args);
        self.by_field.entry(field.to_string()).or_insert(message);
    }

    /// Records a problem already in the reader's words.
    pub fn say(&mut self, field: &str, message: String) {
        self.by_field.entry(field.to_string()).or_insert(message);
    }

    pub fn of(&self, field: &str) -> Option<&String> {
        self.by_field.get(field)
    }

    /// A refusal from the directory's own check ("field: what is wrong"), beside its field
    /// when the form has one by that name, else above the form; code quotes are dropped.
    pub fn refused(&mut self, message: &str, fields: &[String]) {
        let plain = message.replace('`', "\"");
        match plain.split_once(": ") {
            Some((field, rest)) if fields.iter().any(|f| f == field) => {
                self.by_field
                    .entry(field.to_string())
                    .or_insert_with(|| rest.to_string());
            }
            _ => self.general.push(plain),
        }
    }

    /// Reads a required field with `read`; records what is wrong.
    pub fn required<T>(
        &mut self,
        sent: &Sent,
        field: &str,
        read: fn(&mut Problems, &str, &str) -> Option<T>,
    ) -> Option<T> {
        let text = sent.one(field);
        if text.is_empty() {
            self.add(field, "form-required", &[]);
            return None;
        }
        read(self, field, text)
    }

    /// Reads an optional field: `Ok(None)` when empty, `Err` when given and wrong.
    pub fn optional<T>(
        &mut self,
        sent: &Sent,
        field: &str,
        read: fn(&mut Problems, &str, &str) -> Option<T>,
    ) -> Result<Option<T>, ()> {
        let text = sent.one(field);
        if text.is_empty() {
            return Ok(None);
        }
        read(self, field, text).map(Some).ok_or(())
    }
}

/// Readers for [`Problems::required`] and [`Problems::optional`]: each records why a
/// value is refused, quoting it.
pub mod read {
    use super::*;

    fn refuse<T>(problems: &mut Problems, field: &str, id: &str, text: &str) -> Option<T> {
        problems.add(field, id, &[("value", text.to_string().into())]);
        None
    }

    pub fn text(_: &mut Problems, _: &str, text: &str) -> Option<String> {
        Some(text.to_string())
    }

    pub fn whole(problems: &mut Problems, field: &str, text: &str) -> Option<i64> {
        text.parse()
            .ok()
            .or_else(|| refuse(problems, field, "form-not-number", text))
    }

    pub fn count(problems: &mut Problems, field: &str, text: &str) -> Option<u32> {
        text.parse()
            .ok()
            .or_else(|| refuse(problems, field, "form-not-count", text))
    }

    pub fn time(problems: &mut Problems, field: &str, text: &str) -> Option<Time> {
        let full = if text.len() == 5 {
            format!("{text}:00")
        } else {
            text.to_string()
        };
        full.parse()
            .ok()
            .or_else(|| refuse(problems, field, "form-not-time", text))
    }

    pub fn date(problems: &mut Problems, field: &str, text: &str) -> Option<Date> {
        text.parse()
            .ok()
            .or_else(|| refuse(problems, field, "form-not-date", text))
    }

    pub fn moment(problems: &mut Problems, field: &str, text: &str) -> Option<DateTime> {
        text.parse()
            .ok()
            .or_else(|| refuse(problems, field, "form-not-moment", text))
    }

    pub fn zone(problems: &mut Problems, field: &str, text: &str) -> Option<String> {
        TimeZone::get(text)
            .ok()
            .map(|_| text.to_string())
            .or_else(|| refuse(problems, field, "form-not-zone", text))
    }

    pub fn duration(problems: &mut Problems, field: &str, text: &str) -> Option<String> {
        match reveille_sdk::parse_duration(text) {
            Ok(d) if !d.is_zero() => Some(text.to_string()),
            _ => refuse(problems, field, "form-not-duration", text),
        }
    }
}

/// A civil moment on `zone`'s clock as an instant (the later one in a repeated hour).
pub fn instant(moment: DateTime, zone: &str) -> Timestamp {
    let zone = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
    zone.to_zoned(moment)
        .map_or(Timestamp::UNIX_EPOCH, |z| z.timestamp())
}

/// An instant as a `datetime-local` input shows it, on `zone`'s clock.
pub fn local(at: Timestamp, zone: &str) -> String {
    let zone = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
    Zoned::new(at, zone).strftime("%Y-%m-%dT%H:%M").to_string()
}

/// A time of day as a `time` input shows it.
pub fn clock(time: Time) -> String {
    time.strftime("%H:%M").to_string()
}

/// What a field is typed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Widget {
    Text,
    Number,
    Time,
    Date,
    Moment,
    /// A line of text with suggestions (zones).
    Suggest(&'static str),
    /// One of these (value, label); the first is what an empty field means.
    Choice(Vec<(String, String)>),
    /// Any of these (value, label).
    Many(Vec<(String, String)>),
    Check,
    /// Free text on several lines.
    Lines,
}

/// One field as shown: its value is what was sent (or stored), never a default over it.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub label: String,
    pub widget: Widget,
    pub value: String,
    pub chosen: Vec<String>,
    pub hint: Option<String>,
    pub error: Option<String>,
    pub required: bool,
}

impl Field {
    /// Marked as one that must be filled.
    pub fn needed(self) -> Field {
        Field {
            required: true,
            ..self
        }
    }

    /// Whether the choice `value` was made.
    pub fn has(&self, value: &str) -> bool {
        self.chosen.iter().any(|c| c == value)
    }

    /// The element's id: the name with what ids cannot hold replaced.
    pub fn id(&self) -> String {
        format!(
            "f-{}",
            self.name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect::<String>()
        )
    }
}

/// Fields shown together (a quiet window, an escalation step).
#[derive(Debug, Clone)]
pub struct Group {
    pub legend: Option<String>,
    pub fields: Vec<Field>,
}

/// Lays out fields from what was sent and what was wrong with it.
pub struct Layout<'a> {
    pub sent: &'a Sent,
    pub problems: &'a Problems,
    pub lang: Lang,
}

impl Layout<'_> {
    pub fn field(&self, name: &str, label: &str, widget: Widget) -> Field {
        let chosen = match widget {
            Widget::Many(_) => self.sent.all(name).into_iter().map(String::from).collect(),
            _ => Vec::new(),
        };
        Field {
            name: name.to_string(),
            label: self.lang.t(label),
            value: self.sent.one(name).to_string(),
            chosen,
            widget,
            hint: None,
            error: self.problems.of(name).cloned(),
            required: false,
        }
    }

    pub fn hinted(&self, name: &str, label: &str, widget: Widget, hint: &str) -> Field {
        Field {
            hint: Some(self.lang.t(hint)),
            ..self.field(name, label, widget)
        }
    }

    /// A choice among names, with "none" first.
    pub fn names(&self, names: &[String]) -> Widget {
        let mut options = vec![(String::new(), self.lang.t("form-none"))];
        options.extend(names.iter().map(|n| (n.clone(), n.clone())));
        Widget::Choice(options)
    }

    /// The days of the week, Monday first, in the reader's words.
    pub fn days(&self) -> Widget {
        Widget::Many(
            ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                .iter()
                .map(|d| (d.to_string(), self.lang.t(&format!("day-{d}"))))
                .collect(),
        )
    }

    /// How many rows of `prefix` to show: those sent, and one empty to add another.
    pub fn rows(&self, prefix: &str) -> usize {
        let sent = self.sent.rows(prefix);
        let last_empty = sent > 0 && self.sent.row_is_empty(prefix, sent - 1);
        if last_empty { sent } else { sent + 1 }
    }
}

/// Every name a form's problems may be filed under, for [`Problems::refused`].
pub fn names(groups: &[Group]) -> Vec<String> {
    groups
        .iter()
        .flat_map(|g| g.fields.iter().map(|f| f.name.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(pairs: &[(&str, &str)]) -> Sent {
        Sent::new(
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn rows_count_what_was_sent_and_leave_one_to_add() {
        let s = sent(&[("steps[0].after", "15m"), ("steps[2].after", "")]);
        assert_eq!(s.rows("steps"), 3);
        assert!(s.row_is_empty("steps", 2));
        assert!(!s.row_is_empty("steps", 0));
        let problems = Problems::new(Lang::En);
        let layout = Layout {
            sent: &s,
            problems: &problems,
            lang: Lang::En,
        };
        assert_eq!(
            layout.rows("steps"),
            3,
            "the empty last row is the one to add"
        );
        assert_eq!(layout.rows("quiet"), 1);
    }

    #[test]
    fn every_problem_is_kept_beside_its_field() {
        let s = sent(&[("from", "25:00"), ("to", ""), ("zone", "Mars/Base")]);
        let mut p = Problems::new(Lang::En);
        assert_eq!(p.required(&s, "from", read::time), None);
        assert_eq!(p.required(&s, "to", read::time), None);
        assert_eq!(p.optional(&s, "zone", read::zone), Err(()));
        assert_eq!(p.optional(&s, "digest", read::time), Ok(None));
        assert_eq!(p.count(), 3);
        assert!(
            p.of("from").unwrap().contains("25:00"),
            "{:?}",
            p.of("from")
        );
        assert!(p.of("zone").unwrap().contains("Mars/Base"));
        p.refused("timezone: `X` is wrong", &["timezone".into()]);
        assert_eq!(p.of("timezone").map(String::as_str), Some("\"X\" is wrong"));
        p.refused("quiet_hours: windows 0 and 1 overlap", &[]);
        assert_eq!(p.general.len(), 1);
    }

    #[test]
    fn a_local_moment_is_read_on_the_zone_clock() {
        let moment: DateTime = "2026-11-22T22:00".parse().unwrap();
        let at = instant(moment, "Europe/Moscow");
        assert_eq!(at.to_string(), "2026-11-22T19:00:00Z");
        assert_eq!(local(at, "Europe/Moscow"), "2026-11-22T22:00");
        assert_eq!(clock(Time::constant(7, 30, 0, 0)), "07:30");
    }
}

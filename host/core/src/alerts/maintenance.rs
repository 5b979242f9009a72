//! Maintenance windows: planned work during which new alerts of what the window covers are
//! recorded but not announced. One-off (`from`–`to`) or weekly (days and times on a
//! zone's clock). Pure; the directory keeps them like its other entries.

use jiff::Timestamp;
use jiff::civil::Time;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::hours::{Calendar, Day, Window, check_windows};

/// What a window covers: every field given must match (at least one must be given).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// Installations behind this parent (the redirect server or cloud they name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
}

/// A weekly window on a zone's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weekly {
    /// The days it starts on; empty means every day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<Day>,
    pub from: Time,
    pub to: Time,
    pub timezone: String,
}

impl Weekly {
    pub fn window(&self) -> Window {
        Window {
            days: self.days.clone(),
            from: self.from,
            to: self.to,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Maintenance {
    pub scope: Scope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekly: Option<Weekly>,
    /// Who planned it, and why: shown in the timeline of what it kept quiet.
    pub author: String,
    pub reason: String,
}

/// What an alert is, as a window's scope sees it.
#[derive(Debug, Clone, Copy)]
pub struct Covered<'a> {
    pub installation: &'a str,
    pub client: &'a str,
    pub parent: Option<&'a str>,
    pub plugin: &'a str,
}

impl Maintenance {
    pub fn check(&self) -> Result<(), String> {
        let s = &self.scope;
        if s.installation.is_none()
            && s.client.is_none()
            && s.parent.is_none()
            && s.plugin.is_none()
        {
            return Err(
                "scope: name at least one of installation, client, parent or plugin".into(),
            );
        }
        for (field, text) in [("author", &self.author), ("reason", &self.reason)] {
            if text.trim().is_empty() {
                return Err(format!("{field}: must not be empty"));
            }
        }
        match (&self.from, &self.to, &self.weekly) {
            (Some(from), Some(to), None) if to > from => Ok(()),
            (Some(_), Some(_), None) => Err("to: must be after from".into()),
            (None, None, Some(weekly)) => {
                TimeZone::get(&weekly.timezone).map_err(|_| {
                    format!(
                        "weekly.timezone: `{}` is not an IANA time zone",
                        weekly.timezone
                    )
                })?;
                check_windows(&[weekly.window()])
                    .map_err(|e| e.replacen("quiet_hours[0]", "weekly", 1))
            }
            _ => Err("from, to: give both (a one-off window) or weekly instead, not both".into()),
        }
    }

    pub fn scope_covers(&self, alert: &Covered) -> bool {
        let s = &self.scope;
        let matches = |want: &Option<String>, have: Option<&str>| {
            want.as_deref().is_none_or(|w| have == Some(w))
        };
        matches(&s.installation, Some(alert.installation))
            && matches(&s.client, Some(alert.client))
            && matches(&s.parent, alert.parent)
            && matches(&s.plugin, Some(alert.plugin))
    }

    /// If the window is on at `at`, until when.
    pub fn on_until(&self, at: i64) -> Option<i64> {
        match (&self.from, &self.to, &self.weekly) {
            (Some(from), Some(to), _) => (from.as_millisecond() <= at && at < to.as_millisecond())
                .then(|| to.as_millisecond()),
            (_, _, Some(weekly)) => Calendar {
                zone: TimeZone::get(&weekly.timezone).unwrap_or(TimeZone::UTC),
                windows: &[weekly.window()],
                holidays: &[],
            }
            .quiet_until(at),
            _ => None,
        }
    }

    /// Over for good: a one-off window that has ended.
    pub fn is_over(&self, at: i64) -> bool {
        self.to.is_some_and(|to| to.as_millisecond() <= at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn a_weekly_window_and_a_scope() {
        let m = Maintenance {
            scope: Scope {
                parent: Some("redirect-1".into()),
                ..Scope::default()
            },
            from: None,
            to: None,
            weekly: Some(Weekly {
                days: vec![Day::Sun],
                from: Time::constant(2, 0, 0, 0),
                to: Time::constant(4, 0, 0, 0),
                timezone: "Europe/Moscow".into(),
            }),
            author: "Ivanov".into(),
            reason: "updates".into(),
        };
        m.check().unwrap();
        assert_eq!(
            m.on_until(at("2026-11-22T03:00:00+03:00")),
            Some(at("2026-11-22T04:00:00+03:00"))
        );
        assert_eq!(m.on_until(at("2026-11-21T03:00:00+03:00")), None);
        let behind = Covered {
            installation: "a",
            client: "C",
            parent: Some("redirect-1"),
            plugin: "p",
        };
        assert!(m.scope_covers(&behind));
        assert!(!m.scope_covers(&Covered {
            parent: None,
            ..behind
        }));
        let both = Maintenance {
            from: Some("2026-11-22T03:00:00+03:00".parse().unwrap()),
            ..m.clone()
        };
        assert!(both.check().unwrap_err().starts_with("from, to"));
    }
}

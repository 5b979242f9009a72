//! A client's clock: when its quiet hours are, on its own time zone, with its holidays.
//!
//! Windows are civil times ("22:00–07:30 every day"), turned into instants only for one date
//! at a time, in the zone, so a daylight-saving change moves the instant and never the
//! civil time: the night of the change is an hour shorter or longer, never skipped or
//! doubled. Pure; the store keeps the policy as it was given.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// A weekly quiet window: from `from` to `to` on each of `days` (a window whose `to` is
/// not later than its `from` ends the next day; `from == to` is the whole day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// The days the window starts on; empty means every day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<Day>,
    pub from: Time,
    pub to: Time,
}

/// A weekday as policies write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    fn of(weekday: Weekday) -> Day {
        match weekday {
            Weekday::Monday => Day::Mon,
            Weekday::Tuesday => Day::Tue,
            Weekday::Wednesday => Day::Wed,
            Weekday::Thursday => Day::Thu,
            Weekday::Friday => Day::Fri,
            Weekday::Saturday => Day::Sat,
            Weekday::Sunday => Day::Sun,
        }
    }
}

/// When a client is asleep: weekly windows plus whole-day holidays, in `zone`.
#[derive(Debug, Clone)]
pub struct Calendar<'a> {
    pub zone: TimeZone,
    pub windows: &'a [Window],
    pub holidays: &'a [Date],
}

/// The longest chain of quiet intervals followed: a year of holidays back to back.
const MAX_LINKS: usize = 400;

impl Calendar<'_> {
    /// If `now` is in quiet hours, when they end (the first instant after `now` that is
    /// not quiet, following windows and holidays that touch each other).
    pub fn quiet_until(&self, now: i64) -> Option<i64> {
        let mut end = self.interval_end(now)?;
        for _ in 0..MAX_LINKS {
            match self.interval_end(end) {
                Some(next) if next > end => end = next,
                _ => break,
            }
        }
        Some(end)
    }

    /// The end of the latest-ending quiet interval that contains `at`, if any.
    fn interval_end(&self, at: i64) -> Option<i64> {
        let today = self.date_of(at);
        let mut end = None;
        for date in [today.yesterday().ok()?, today] {
            for (start, stop) in self.intervals_starting(date) {
                if start <= at && at < stop {
                    end = end.max(Some(stop));
                }
            }
        }
        end
    }

    /// Quiet intervals (instants, ms) that start on civil `date`.
    fn intervals_starting(&self, date: Date) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        if self.holidays.contains(&date)
            && let (Some(start), Some(end)) = (
                self.instant(date.to_datetime(Time::midnight())),
                date.tomorrow()
                    .ok()
                    .and_then(|d| self.instant(d.to_datetime(Time::midnight()))),
            )
        {
            out.push((start, end));
        }
        let day = Day::of(date.weekday());
        for window in self.windows {
            if !window.days.is_empty() && !window.days.contains(&day) {
                continue;
            }
            let end_date = if window.to <= window.from {
                date.tomorrow().ok()
            } else {
                Some(date)
            };
            if let (Some(start), Some(end)) = (
                self.instant(date.to_datetime(window.from)),
                end_date.and_then(|d| self.instant(d.to_datetime(window.to))),
            ) {
                out.push((start, end));
            }
        }
        out
    }

    pub fn date_of(&self, at: i64) -> Date {
        timestamp(at).to_zoned(self.zone.clone()).date()
    }

    /// A civil time as an instant; in a gap (clocks jump forward) the later side, in a
    /// fold (clocks go back) the earlier, as Temporal's "compatible" does.
    pub fn instant(&self, civil: DateTime) -> Option<i64> {
        self.zone
            .to_zoned(civil)
            .ok()
            .map(|z| z.timestamp().as_millisecond())
    }
}

/// `ms` as people read it on `zone`'s clock.
pub fn local_time(ms: i64, zone: &TimeZone) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(at) => at
            .to_zoned(zone.clone())
            .strftime("%d.%m.%Y %H:%M")
            .to_string(),
        Err(_) => ms.to_string(),
    }
}

pub fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Checks that windows are usable: not empty.
pub fn check_windows(windows: &[Window]) -> Result<(), String> {
    for (i, window) in windows.iter().enumerate() {
        if window.from == window.to && !window.days.is_empty() {
            continue;
        }
        if window.from == window.to {
            return Err(format!(
                "quiet_hours[{i}]: from and to are both {} every day: the client would never be awake (list holidays or name days for whole quiet days)",
                window.from
            ));
        }
    }
    // Whole days may cover evenings that other windows name (a weekend and the Sunday
    // evening before Monday); partial windows must not overlap each other.
    let partial = |w: &&Window| w.from != w.to;
    for (i, a) in windows.iter().enumerate().filter(|(_, w)| partial(w)) {
        for (j, b) in windows
            .iter()
            .enumerate()
            .skip(i + 1)
            .filter(|(_, w)| partial(w))
        {
            let same_days =
                a.days.is_empty() || b.days.is_empty() || a.days.iter().any(|d| b.days.contains(d));
            if same_days && overlaps(a, b) {
                return Err(format!(
                    "quiet_hours[{j}]: overlaps quiet_hours[{i}] ({}–{} and {}–{}): merge them into one window",
                    a.from, a.to, b.from, b.to
                ));
            }
        }
    }
    Ok(())
}

/// Whether two windows starting on the same day, or one the day after the other, share a
/// moment.
fn overlaps(a: &Window, b: &Window) -> bool {
    fn span(w: &Window) -> (i64, i64) {
        let minutes = |t: Time| i64::from(t.hour()) * 60 + i64::from(t.minute());
        let from = minutes(w.from);
        let mut to = minutes(w.to);
        if to <= from {
            to += 24 * 60;
        }
        (from, to)
    }
    let (a0, a1) = span(a);
    let (b0, b1) = span(b);
    let day = 24 * 60;
    [(0, 0), (day, 0), (0, day)]
        .iter()
        .any(|(da, db)| a0 + da < b1 + db && b0 + db < a1 + da)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    fn night() -> Vec<Window> {
        vec![Window {
            days: Vec::new(),
            from: Time::constant(22, 0, 0, 0),
            to: Time::constant(7, 30, 0, 0),
        }]
    }

    #[test]
    fn a_night_window_ends_in_the_morning_on_the_clients_clock() {
        let windows = night();
        let calendar = Calendar {
            zone: TimeZone::get("Europe/Moscow").unwrap(),
            windows: &windows,
            holidays: &[],
        };
        assert_eq!(
            calendar.quiet_until(at("2026-11-21T01:07:00+03:00")),
            Some(at("2026-11-21T07:30:00+03:00"))
        );
        assert_eq!(
            calendar.quiet_until(at("2026-11-20T23:00:00+03:00")),
            Some(at("2026-11-21T07:30:00+03:00"))
        );
        assert_eq!(calendar.quiet_until(at("2026-11-21T07:30:00+03:00")), None);
        assert_eq!(calendar.quiet_until(at("2026-11-21T12:00:00+03:00")), None);
    }

    #[test]
    fn holidays_and_weekends_chain_into_one_quiet_stretch() {
        let windows = vec![
            Window {
                days: vec![Day::Sun, Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri],
                from: Time::constant(19, 0, 0, 0),
                to: Time::constant(8, 30, 0, 0),
            },
            Window {
                days: vec![Day::Sat, Day::Sun],
                from: Time::midnight(),
                to: Time::midnight(),
            },
        ];
        let holidays = [Date::constant(2026, 8, 14)];
        let calendar = Calendar {
            zone: TimeZone::get("Europe/Rome").unwrap(),
            windows: &windows,
            holidays: &holidays,
        };
        // Saturday 15 August 2026, 06:10: quiet until Monday 08:30.
        assert_eq!(
            calendar.quiet_until(at("2026-08-15T06:10:00+02:00")),
            Some(at("2026-08-17T08:30:00+02:00"))
        );
        // A Friday holiday, 11:00: quiet through the weekend too.
        assert_eq!(
            calendar.quiet_until(at("2026-08-14T11:00:00+02:00")),
            Some(at("2026-08-17T08:30:00+02:00"))
        );
    }

    #[test]
    fn the_spring_forward_night_ends_once_at_the_same_civil_time() {
        let windows = night();
        let calendar = Calendar {
            zone: TimeZone::get("Europe/Rome").unwrap(),
            windows: &windows,
            holidays: &[],
        };
        // 29 March 2026: clocks go from 02:00 to 03:00.
        let end = calendar.quiet_until(at("2026-03-29T01:30:00+01:00"));
        assert_eq!(end, Some(at("2026-03-29T07:30:00+02:00")));
        assert_eq!(
            calendar.quiet_until(at("2026-03-29T03:30:00+02:00")),
            end,
            "the same night, after the jump"
        );
    }

    #[test]
    fn bad_windows_are_named() {
        let mut windows = night();
        windows.push(Window {
            days: Vec::new(),
            from: Time::constant(6, 0, 0, 0),
            to: Time::constant(9, 0, 0, 0),
        });
        let error = check_windows(&windows).unwrap_err();
        assert!(error.starts_with("quiet_hours[1]: overlaps"), "{error}");
        let empty = vec![Window {
            days: Vec::new(),
            from: Time::constant(6, 0, 0, 0),
            to: Time::constant(6, 0, 0, 0),
        }];
        assert!(
            check_windows(&empty)
                .unwrap_err()
                .contains("never be awake")
        );
    }
}

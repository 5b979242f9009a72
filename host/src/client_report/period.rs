//! The period a client report covers: a quarter, a month or any run of days, as dates on
//! the client's clock (a quarter in Moscow begins at midnight in Moscow).

use std::fmt;

use jiff::civil::Date;
use jiff::tz::TimeZone;

/// Whole days, `from` to `until` (exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub until: Date,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Quarter,
    Month,
    Days,
}

/// How often reports go out on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    Monthly,
    Quarterly,
}

impl Period {
    /// `2026Q4`.
    pub fn quarter(text: &str) -> Result<Period, String> {
        let bad = || format!("quarter `{text}`: expected a year and a quarter, as 2026Q4");
        let (year, q) = text.trim().split_once(['Q', 'q']).ok_or_else(bad)?;
        let year: i16 = year.trim_end_matches('-').parse().map_err(|_| bad())?;
        let q: i8 = q.parse().map_err(|_| bad())?;
        if !(1..=4).contains(&q) {
            return Err(bad());
        }
        let from = Date::new(year, (q - 1) * 3 + 1, 1).map_err(|_| bad())?;
        Ok(Period {
            from,
            until: months_later(from, 3).map_err(|_| bad())?,
            kind: Kind::Quarter,
        })
    }

    /// `2026-11`.
    pub fn month(text: &str) -> Result<Period, String> {
        let bad = || format!("month `{text}`: expected a year and a month, as 2026-11");
        let (year, month) = text.trim().split_once('-').ok_or_else(bad)?;
        let from = Date::new(
            year.parse().map_err(|_| bad())?,
            month.parse().map_err(|_| bad())?,
            1,
        )
        .map_err(|_| bad())?;
        Ok(Period {
            from,
            until: months_later(from, 1).map_err(|_| bad())?,
            kind: Kind::Month,
        })
    }

    /// `from` to `to`, both days included.
    pub fn days(from: &str, to: &str) -> Result<Period, String> {
        let date = |name: &str, text: &str| {
            text.trim()
                .parse::<Date>()
                .map_err(|_| format!("{name} `{text}`: expected a date, as 2026-10-01"))
        };
        let (from, to) = (date("from", from)?, date("to", to)?);
        if to < from {
            return Err(format!("to `{to}` is before from `{from}`"));
        }
        let until = to.tomorrow().map_err(|e| format!("to `{to}`: {e}"))?;
        if (until - from).get_days() > 400 {
            return Err("from, to: a report covers at most 400 days".into());
        }
        Ok(Period {
            from,
            until,
            kind: Kind::Days,
        })
    }

    /// The `days` days that end with `today`, today included.
    pub fn ending(today: Date, days: i64) -> Period {
        Period {
            from: today
                .checked_sub(jiff::Span::new().days(days.max(1) - 1))
                .unwrap_or(today),
            until: today.tomorrow().unwrap_or(today),
            kind: Kind::Days,
        }
    }

    /// The period a request names: exactly one of a quarter, a month, or from and to.
    pub fn named(
        quarter: Option<&str>,
        month: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Period, String> {
        match (quarter, month, from, to) {
            (Some(q), None, None, None) => Period::quarter(q),
            (None, Some(m), None, None) => Period::month(m),
            (None, None, Some(from), Some(to)) => Period::days(from, to),
            (None, None, Some(_), None) | (None, None, None, Some(_)) => {
                Err("from, to: give both".into())
            }
            (None, None, None, None) => {
                Err("period: give a quarter (2026Q4), a month (2026-11), or from and to".into())
            }
            _ => Err("period: give only one of quarter, month, or from and to".into()),
        }
    }

    /// The month or quarter `today` is in.
    pub fn current(cadence: Cadence, today: Date) -> Period {
        let (months, kind) = match cadence {
            Cadence::Monthly => (1, Kind::Month),
            Cadence::Quarterly => (3, Kind::Quarter),
        };
        let first_month = (today.month() - 1) / months * months + 1;
        let from = Date::new(today.year(), first_month, 1).unwrap_or(today);
        Period {
            from,
            until: months_later(from, i32::from(months)).unwrap_or(from),
            kind,
        }
    }

    /// The whole month or quarter before the one `today` is in.
    pub fn previous(cadence: Cadence, today: Date) -> Period {
        let current = Period::current(cadence, today);
        Period::current(cadence, current.from.yesterday().unwrap_or(current.from))
    }

    /// Its first and last instants (ms, the end exclusive) on `zone`'s clock.
    pub fn instants(&self, zone: &TimeZone) -> (i64, i64) {
        let at = |date: Date| {
            date.to_zoned(zone.clone())
                .map(|z| z.timestamp().as_millisecond())
                .unwrap_or(0)
        };
        (at(self.from), at(self.until))
    }

    /// Its last day.
    pub fn last_day(&self) -> Date {
        self.until.yesterday().unwrap_or(self.until)
    }

    /// A short name for file names and the delivery record: `2026Q4`, `2026-11`,
    /// `2026-10-01_2026-12-31`.
    pub fn key(&self) -> String {
        match self.kind {
            Kind::Quarter => format!("{}Q{}", self.from.year(), (self.from.month() - 1) / 3 + 1),
            Kind::Month => self.from.strftime("%Y-%m").to_string(),
            Kind::Days => format!("{}_{}", self.from, self.last_day()),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Quarter | Kind::Month => f.write_str(&self.key()),
            Kind::Days => write!(f, "{} – {}", self.from, self.last_day()),
        }
    }
}

fn months_later(date: Date, months: i32) -> Result<Date, jiff::Error> {
    date.checked_add(jiff::Span::new().months(months))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn names_and_bounds() {
        let q = Period::quarter("2026Q4").unwrap();
        assert_eq!((q.from, q.until), (date(2026, 10, 1), date(2027, 1, 1)));
        assert_eq!(q.key(), "2026Q4");
        let m = Period::month("2026-02").unwrap();
        assert_eq!((m.from, m.until), (date(2026, 2, 1), date(2026, 3, 1)));
        let d = Period::days("2026-11-01", "2026-11-07").unwrap();
        assert_eq!(d.until, date(2026, 11, 8));
        assert_eq!(d.key(), "2026-11-01_2026-11-07");
        assert!(Period::quarter("2026Q5").unwrap_err().contains("2026Q4"));
        assert!(Period::days("2026-11-07", "2026-11-01").is_err());
        assert!(Period::named(Some("2026Q4"), Some("2026-11"), None, None).is_err());
        let moscow = TimeZone::get("Europe/Moscow").unwrap();
        let (from, _) = q.instants(&moscow);
        assert_eq!(
            from,
            "2026-09-30T21:00:00Z"
                .parse::<jiff::Timestamp>()
                .unwrap()
                .as_millisecond()
        );
    }

    /// The last 30 days end with today, included, and start 29 days before.
    #[test]
    fn the_days_ending_today() {
        let p = Period::ending(date(2026, 12, 8), 30);
        assert_eq!((p.from, p.until), (date(2026, 11, 9), date(2026, 12, 9)));
        assert_eq!(p.to_string(), "2026-11-09 – 2026-12-08");
    }

    #[test]
    fn the_period_before() {
        let p = Period::previous(Cadence::Quarterly, date(2027, 1, 4));
        assert_eq!(p.key(), "2026Q4");
        let p = Period::previous(Cadence::Monthly, date(2026, 12, 1));
        assert_eq!(p.key(), "2026-11");
    }
}

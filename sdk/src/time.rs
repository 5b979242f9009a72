//! Points in time as the contract carries them (milliseconds since the Unix epoch, UTC) and
//! RFC 3339 parsing for the report's dates (`2026-11-19T22:40:00+03:00`). Checks have no
//! clock of their own: `now` comes from the host in the context, so tests can move it.

use std::fmt;
use std::ops::Sub;
use std::time::Duration;

/// A point in time: milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Why a string is not an RFC 3339 date-time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampError {
    input: String,
}

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not an RFC 3339 date-time (expected e.g. 2026-11-19T22:40:00+03:00)",
            self.input
        )
    }
}

impl std::error::Error for TimestampError {}

impl Timestamp {
    pub const fn from_millis(millis: i64) -> Self {
        Timestamp(millis)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; a space may stand for the `T`.
    pub fn parse_rfc3339(input: &str) -> Result<Self, TimestampError> {
        parse(input.trim()).ok_or_else(|| TimestampError {
            input: input.to_string(),
        })
    }

    /// How long ago this was, seen from `now`; zero when it lies in the future.
    pub fn age_at(self, now: Timestamp) -> Duration {
        now - self
    }

    /// This time plus `duration`, saturating at the end of representable time.
    pub fn plus(self, duration: Duration) -> Timestamp {
        let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_add(millis))
    }
}

/// The time between two timestamps, zero when `rhs` is later.
impl Sub for Timestamp {
    type Output = Duration;

    fn sub(self, rhs: Timestamp) -> Duration {
        Duration::from_millis(u64::try_from(self.0.saturating_sub(rhs.0)).unwrap_or(0))
    }
}

/// UTC, to the minute: `2026-11-19 19:40 UTC`.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let of_day = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
            of_day / 3600,
            of_day % 3600 / 60
        )
    }
}

fn parse(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(range)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let sep_ok = b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b't' | b' ')
        && b[13] == b':'
        && b[16] == b':';
    if !sep_ok {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0i64;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let first3 = &fraction[..digits.min(3)];
        millis = first3.parse::<i64>().ok()? * 10i64.pow(3 - first3.len() as u32);
        rest = &fraction[digits..];
    }
    let offset_secs = match rest.as_bytes() {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let hours = num(s.len() - 5..s.len() - 3)?;
            let minutes = num(s.len() - 2..s.len())?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let value = hours * 3600 + minutes * 60;
            if *sign == b'-' { -value } else { value }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset_secs;
    Some(Timestamp(secs * 1000 + millis))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn parses_offsets_to_the_same_instant() {
        assert_eq!(ts("1970-01-01T00:00:00Z").as_millis(), 0);
        assert_eq!(ts("2026-11-20T01:07:00+03:00"), ts("2026-11-19T22:07:00Z"));
        assert_eq!(ts("2026-11-19T17:07:00-05:00"), ts("2026-11-19T22:07:00Z"));
        assert_eq!(ts("2026-11-19T22:07:00.250Z").as_millis() % 1000, 250);
        assert_eq!(ts("2024-02-29 12:00:00Z"), ts("2024-02-29T12:00:00Z"));
    }

    #[test]
    fn refuses_what_is_not_rfc3339() {
        for bad in [
            "2026-11-19",
            "2026-11-19T22:40:00",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-19T24:00:00Z",
            "19.11.2026 22:40",
            "2026-11-19T22:40:00+0300",
        ] {
            assert!(Timestamp::parse_rfc3339(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn displays_utc_to_the_minute() {
        assert_eq!(
            ts("2026-11-19T22:40:59+03:00").to_string(),
            "2026-11-19 19:40 UTC"
        );
    }

    #[test]
    fn ages_saturate_at_zero() {
        let earlier = ts("2026-11-19T00:00:00Z");
        let later = ts("2026-11-21T00:00:00Z");
        assert_eq!(earlier.age_at(later), Duration::from_secs(2 * 86_400));
        assert_eq!(later.age_at(earlier), Duration::ZERO);
    }
}

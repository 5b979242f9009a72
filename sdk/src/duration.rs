//! Human durations for thresholds: `90s`, `15m`, `2h`, `3d`, `1w`, and combinations such as
//! `1d12h`. Tests configure a two-day rule as `5s`, so seconds matter as much as days.

use std::fmt;
use std::time::Duration;

/// Why a string is not a duration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError {
    input: String,
    reason: &'static str,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a duration ({}); use e.g. 500ms, 90s, 15m, 2h, 3d, 1w or 1d12h",
            self.input, self.reason
        )
    }
}

impl std::error::Error for DurationError {}

/// Parses a duration such as `90s`, `2h`, `3d` or `1d12h`. A bare number is refused: a
/// threshold without a unit is a bug waiting to happen.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let error = |reason| DurationError {
        input: input.to_string(),
        reason,
    };
    let s = input.trim();
    if s.is_empty() {
        return Err(error("empty"));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(error("expected a number"));
        }
        let amount: u64 = rest[..digits]
            .parse()
            .map_err(|_| error("number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let millis_per_unit: u64 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            "" => return Err(error("missing unit")),
            _ => return Err(error("unknown unit")),
        };
        let part = amount
            .checked_mul(millis_per_unit)
            .ok_or_else(|| error("too large"))?;
        total = total
            .checked_add(Duration::from_millis(part))
            .ok_or_else(|| error("too large"))?;
    }
    Ok(total)
}

/// Formats a duration the way managers read it: the two largest units (`2d 3h`, `5m 10s`).
pub fn format_duration(duration: Duration) -> String {
    format_duration_in("en", duration)
}

/// [`format_duration`] in `language`: `ru` writes `2 д 3 ч`, `5 мин 10 с`; a language
/// without its own units gets English's.
pub fn format_duration_in(language: &str, duration: Duration) -> String {
    // Day, hour, minute, second, millisecond; then what stands between number and unit.
    let (units, gap) = if crate::language::same_language(language, "ru") {
        (["д", "ч", "мин", "с", "мс"], " ")
    } else {
        (["d", "h", "m", "s", "ms"], "")
    };
    let sizes = [86_400, 3_600, 60, 1];
    let mut secs = duration.as_secs();
    if secs == 0 {
        return format!("{}{gap}{}", duration.as_millis(), units[4]);
    }
    let mut parts = Vec::new();
    for (size, name) in sizes.into_iter().zip(units) {
        if secs >= size {
            parts.push(format!("{}{gap}{name}", secs / size));
            secs %= size;
        }
        if parts.len() == 2 {
            break;
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_unit() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7_200)));
        assert_eq!(parse_duration("3d"), Ok(Duration::from_secs(259_200)));
        assert_eq!(parse_duration("1w"), Ok(Duration::from_secs(604_800)));
    }

    #[test]
    fn parses_combinations() {
        assert_eq!(parse_duration("1d12h"), Ok(Duration::from_secs(129_600)));
        assert_eq!(parse_duration(" 2m30s "), Ok(Duration::from_secs(150)));
    }

    #[test]
    fn refuses_bad_input_with_a_reason() {
        assert!(parse_duration("").is_err());
        assert!(
            parse_duration("3")
                .unwrap_err()
                .to_string()
                .contains("missing unit")
        );
        assert!(
            parse_duration("3y")
                .unwrap_err()
                .to_string()
                .contains("unknown unit")
        );
        assert!(parse_duration("d").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn formats_two_largest_units() {
        assert_eq!(format_duration(Duration::from_secs(183_900)), "2d 3h");
        assert_eq!(format_duration(Duration::from_secs(310)), "5m 10s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        let ru = |secs| format_duration_in("ru", Duration::from_secs(secs));
        assert_eq!(ru(183_900), "2 д 3 ч");
        assert_eq!(ru(310), "5 мин 10 с");
        assert_eq!(format_duration_in("it", Duration::from_secs(310)), "5m 10s");
    }
}

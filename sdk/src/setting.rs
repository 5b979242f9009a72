//! What values a setting takes, and the one judgement of a value against it. The host
//! applies it when a setting is configured, set for a client or loaded with a plugin, and
//! the SDK's tests apply it to the settings a test gives, so a check meets a bad value in
//! neither place: `evaluate` reads only values of the declared type.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Bound, RangeBounds};

use crate::duration::parse_duration;
use crate::version::Version;

/// The values a setting accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingType {
    /// Any text. Settings declared without a type (and every setting of a plugin built
    /// for API 1.0) are text.
    Text,
    /// A duration: `90s`, `15m`, `2h`, `3d`, `1d12h` ([`parse_duration`]).
    Duration,
    /// A whole number within the bounds, inclusive.
    Integer { min: Option<i64>, max: Option<i64> },
    /// A dotted numeric version ([`Version`]), or empty for none.
    Version,
    /// One of these words, exactly.
    OneOf(Vec<String>),
    /// `true` or `false`.
    Boolean,
}

impl SettingType {
    /// An integer within `bounds` (`1..=100`, `0..`, `..`).
    pub fn integer(bounds: impl RangeBounds<i64>) -> Self {
        let min = match bounds.start_bound() {
            Bound::Included(&n) => Some(n),
            Bound::Excluded(&n) => Some(n.saturating_add(1)),
            Bound::Unbounded => None,
        };
        let max = match bounds.end_bound() {
            Bound::Included(&n) => Some(n),
            Bound::Excluded(&n) => Some(n.saturating_sub(1)),
            Bound::Unbounded => None,
        };
        SettingType::Integer { min, max }
    }

    /// Whether `value` is of this type; the error says what was expected.
    pub fn check(&self, value: &str) -> Result<(), String> {
        let trimmed = value.trim();
        match self {
            SettingType::Text => Ok(()),
            SettingType::Duration => parse_duration(value).map(drop).map_err(|e| e.to_string()),
            SettingType::Integer { min, max } => {
                let n: i64 = trimmed
                    .parse()
                    .map_err(|_| format!("`{value}` is not {self}"))?;
                let low = min.is_some_and(|min| n < min);
                let high = max.is_some_and(|max| n > max);
                if low || high {
                    return Err(format!("{n} is not {self}"));
                }
                Ok(())
            }
            SettingType::Version if trimmed.is_empty() => Ok(()),
            SettingType::Version => trimmed
                .parse::<Version>()
                .map(drop)
                .map_err(|e| e.to_string()),
            SettingType::OneOf(options) if options.iter().any(|o| o == trimmed) => Ok(()),
            SettingType::OneOf(_) => Err(format!("`{value}` is not {self}")),
            SettingType::Boolean if matches!(trimmed, "true" | "false") => Ok(()),
            SettingType::Boolean => Err(format!("`{value}` is not {self}")),
        }
    }
}

/// What the type accepts, as an admin reads it: "a duration (e.g. 3d)".
impl fmt::Display for SettingType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingType::Text => f.write_str("text"),
            SettingType::Duration => f.write_str("a duration (e.g. 90s, 2h, 3d)"),
            SettingType::Integer { min, max } => match (min, max) {
                (Some(min), Some(max)) => write!(f, "a whole number from {min} to {max}"),
                (Some(min), None) => write!(f, "a whole number of at least {min}"),
                (None, Some(max)) => write!(f, "a whole number of at most {max}"),
                (None, None) => f.write_str("a whole number"),
            },
            SettingType::Version => f.write_str("a dotted version (e.g. 6.4.3.59) or empty"),
            SettingType::OneOf(options) => {
                let quoted: Vec<String> = options.iter().map(|o| format!("`{o}`")).collect();
                write!(f, "one of {}", quoted.join(", "))
            }
            SettingType::Boolean => f.write_str("`true` or `false`"),
        }
    }
}

/// Why a plugin's settings are refused: a key it does not declare, or a value not of its
/// declared type. The host says exactly this (it calls [`check_settings`]), so a test of a
/// check meets the words an admin would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingsError {
    Unknown {
        plugin: String,
        key: String,
        /// The settings it does declare, as the message lists them.
        known: String,
    },
    WrongType {
        plugin: String,
        key: String,
        /// Where the value came from, when not from the request at hand: ` (its default)`,
        /// ` (the host's configuration)`.
        whose: &'static str,
        problem: String,
    },
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingsError::Unknown { plugin, key, known } => {
                write!(
                    f,
                    "plugin `{plugin}` has no setting `{key}` (its settings: {known})"
                )
            }
            SettingsError::WrongType {
                plugin,
                key,
                whose,
                problem,
            } => write!(f, "plugin `{plugin}`, setting `{key}`{whose}: {problem}"),
        }
    }
}

impl std::error::Error for SettingsError {}

/// Checks `values` against the settings plugin `plugin` declares (`declared`: each name
/// with its type): every key must be declared and every value of its type. `whose` says
/// where the values came from (see [`SettingsError::WrongType`]).
pub fn check_settings<'k, I>(
    plugin: &str,
    declared: I,
    values: &BTreeMap<String, String>,
    whose: &'static str,
) -> Result<(), SettingsError>
where
    I: IntoIterator<Item = (&'k str, &'k SettingType)> + Clone,
{
    for (key, value) in values {
        let found = declared.clone().into_iter().find(|(name, _)| name == key);
        let Some((_, value_type)) = found else {
            let known: Vec<String> = (declared.clone().into_iter())
                .map(|(name, _)| format!("`{name}`"))
                .collect();
            return Err(SettingsError::Unknown {
                plugin: plugin.to_string(),
                key: key.clone(),
                known: if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                },
            });
        };
        value_type
            .check(value)
            .map_err(|problem| SettingsError::WrongType {
                plugin: plugin.to_string(),
                key: key.clone(),
                whose,
                problem,
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_values_as_the_check_reads_them() {
        assert!(SettingType::Duration.check(" 3d ").is_ok());
        let error = SettingType::Duration.check("3 days").unwrap_err();
        assert!(error.contains("`3 days` is not a duration"), "{error}");

        let seats = SettingType::integer(1..=100);
        assert!(seats.check("1").is_ok() && seats.check(" 100").is_ok());
        assert_eq!(
            seats.check("0").unwrap_err(),
            "0 is not a whole number from 1 to 100"
        );
        assert!(seats.check("1.5").unwrap_err().contains("`1.5` is not"));
        assert_eq!(
            SettingType::integer(0..),
            SettingType::Integer {
                min: Some(0),
                max: None
            }
        );

        assert!(SettingType::Version.check("").is_ok());
        assert!(SettingType::Version.check("6.4.3.59").is_ok());
        assert!(SettingType::Version.check("6.4.x").is_err());

        let mode = SettingType::OneOf(vec!["strict".into(), "lenient".into()]);
        assert!(mode.check("lenient").is_ok());
        assert_eq!(
            mode.check("loose").unwrap_err(),
            "`loose` is not one of `strict`, `lenient`"
        );

        assert!(SettingType::Boolean.check("true").is_ok());
        assert!(SettingType::Boolean.check("yes").is_err());
        assert!(SettingType::Text.check("anything at all").is_ok());
    }
}

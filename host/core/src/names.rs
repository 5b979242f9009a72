//! Enums kept and sent as words (states, kinds, roles): each gets its words from one
//! table ([`named!`]), so the database, the API's JSON and the catalogue's keys cannot
//! disagree about a name, and a word nobody knows is refused saying which were expected.

/// Gives `$enum` its words from one table: `as_str`, `Display`, `FromStr` and `Serialize`.
/// `as_str` is an exhaustive match, so a new variant without a word does not compile.
#[macro_export]
macro_rules! named {
    ($enum:ident, $what:literal, { $($variant:ident => $word:literal),+ $(,)? }) => {
        impl $enum {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($enum::$variant => $word,)+
                }
            }
        }

        impl ::std::fmt::Display for $enum {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $enum {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($word => Ok($enum::$variant),)+
                    other => Err($crate::names::unknown($what, other, &[$($word),+])),
                }
            }
        }

        impl ::serde::Serialize for $enum {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}
pub use crate::named;

/// Refuses `word` as a `what`: "unknown alert state `x` (expected pending, firing or
/// resolved)".
pub fn unknown(what: &str, word: &str, words: &[&str]) -> String {
    let expected = match words {
        [] => String::new(),
        [only] => (*only).to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    };
    format!("unknown {what} `{word}` (expected {expected})")
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Tide {
        High,
        LowWater,
    }

    named!(Tide, "tide", { High => "high", LowWater => "low-water" });

    #[test]
    fn one_table_gives_every_direction() {
        assert_eq!(Tide::LowWater.as_str(), "low-water");
        assert_eq!(Tide::High.to_string(), "high");
        assert_eq!(Tide::from_str("low-water"), Ok(Tide::LowWater));
        assert_eq!(
            serde_json::to_value([Tide::High, Tide::LowWater]).unwrap(),
            serde_json::json!(["high", "low-water"])
        );
        assert_eq!(
            Tide::from_str("Low"),
            Err("unknown tide `Low` (expected high or low-water)".to_string())
        );
    }

    /// The two named enums that people also write in JSON (alert states in filters,
    /// roles in client policies) read them with serde's own derive: its words must be
    /// the table's.
    #[test]
    fn what_serde_reads_is_what_the_tables_write() {
        use crate::alerts::AlertState;
        use crate::alerts::directory::Role;
        for state in AlertState::OPEN.into_iter().chain([AlertState::Resolved]) {
            let read: AlertState =
                serde_json::from_value(serde_json::json!(state.as_str())).unwrap();
            assert_eq!(read, state);
        }
        for role in [
            Role::Manager,
            Role::Sysadmin,
            Role::Sales,
            Role::Oncall,
            Role::Escalation,
        ] {
            let read: Role = serde_json::from_value(serde_json::json!(role.as_str())).unwrap();
            assert_eq!(read, role);
        }
    }
}

//! Dotted version numbers compared numerically, part by part (`6.4.10.1` > `6.4.9.99`), as
//! the product's shell versions are. A string comparison gets this wrong.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A dotted numeric version such as `6.4.2.73`. Missing trailing parts count as zero, so
/// `6.4` == `6.4.0.0`.
#[derive(Debug, Clone, Eq)]
pub struct Version {
    parts: Vec<u64>,
}

/// Why a string is not a dotted numeric version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionError {
    input: String,
}

impl fmt::Display for VersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a dotted numeric version (expected e.g. 6.4.3.59)",
            self.input
        )
    }
}

impl std::error::Error for VersionError {}

impl Version {
    /// The numeric parts, as written.
    pub fn parts(&self) -> &[u64] {
        &self.parts
    }

    fn significant(&self) -> &[u64] {
        let len = self
            .parts
            .iter()
            .rposition(|&p| p != 0)
            .map_or(0, |i| i + 1);
        &self.parts[..len]
    }
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = || VersionError {
            input: s.to_string(),
        };
        let trimmed = s.trim();
        if trimmed.is_empty() {
            return Err(error());
        }
        let parts = trimmed
            .split('.')
            .map(|p| {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(error());
                }
                p.parse::<u64>().map_err(|_| error())
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Version { parts })
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.significant() == other.significant()
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.parts.len().max(other.parts.len());
        (0..len)
            .map(|i| {
                let a = self.parts.get(i).copied().unwrap_or(0);
                let b = other.parts.get(i).copied().unwrap_or(0);
                a.cmp(&b)
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{part}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    #[test]
    fn compares_numerically_not_lexically() {
        assert!(v("6.4.10.1") > v("6.4.9.99"));
        assert!(v("6.4.2.73") < v("6.4.3.59"));
        assert!(v("10.0") > v("9.9.9"));
    }

    #[test]
    fn missing_parts_are_zero() {
        assert_eq!(v("6.4"), v("6.4.0.0"));
        assert!(v("6.4.0.1") > v("6.4"));
        assert_eq!(v("6.4").cmp(&v("6.4.0")), Ordering::Equal);
    }

    #[test]
    fn rejects_what_is_not_a_version() {
        for bad in ["", "6..4", "6.4.x", "v6.4", "6.4.", "-1.2", "6.4 .2"] {
            assert!(bad.parse::<Version>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn displays_as_written() {
        assert_eq!(v("6.4.02.73").to_string(), "6.4.2.73");
    }
}

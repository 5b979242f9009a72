//! What makes alerts one incident: the grouping the config sets (`[incidents]`) and the
//! cause several alerts share. Read by the policy that carries it and by the incidents'
//! clockwork that applies it.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How the host groups alerts into incidents (`[incidents]` in the config).
#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    /// How long a groupable alert waits for others with its cause before it is announced
    /// on its own; zero switches grouping off.
    pub wait: Duration,
    /// Checks whose alerts on a child are symptoms of its parent failing.
    pub parent_checks: Vec<String>,
    /// A parent is failing when more than this share of its children (and at least two)
    /// show a symptom.
    pub parent_share: f64,
    /// After a parent comes back, how long its children still down get to show they are
    /// fine (they are probed again at once) before they become alerts of their own.
    pub recheck: Duration,
    /// Checks that group by themselves: the same finding on at least `count` installations
    /// within `within`.
    pub checks: HashMap<String, Threshold>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    pub count: usize,
    pub within: Duration,
}

impl Default for Grouping {
    fn default() -> Self {
        Grouping {
            wait: Duration::from_secs(60),
            parent_checks: vec!["redirect-down".into()],
            parent_share: 0.5,
            recheck: Duration::from_secs(120),
            checks: HashMap::from([(
                "redirect-down".into(),
                Threshold {
                    count: 3,
                    within: Duration::from_secs(300),
                },
            )]),
        }
    }
}

impl Grouping {
    /// The cause an alert of `plugin` with `key` on an installation behind `parent` may
    /// share with others, if it is groupable at all.
    pub fn cause_of(&self, plugin: &str, key: &str, parent: Option<&str>) -> Option<Cause> {
        if self.wait.is_zero() {
            return None;
        }
        if let Some(parent) = parent
            && self.parent_checks.iter().any(|p| p == plugin)
        {
            return Some(Cause::Parent(parent.to_string()));
        }
        self.checks.contains_key(plugin).then(|| Cause::Check {
            plugin: plugin.to_string(),
            key: key.to_string(),
        })
    }
}

/// What several alerts have in common.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cause {
    /// Installations behind this parent show its symptoms.
    Parent(String),
    /// The same finding of the same check on several installations.
    Check { plugin: String, key: String },
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Parent(name) => write!(f, "parent:{name}"),
            Cause::Check { plugin, key } => write!(f, "check:{plugin}:{key}"),
        }
    }
}

impl FromStr for Cause {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(name) = s.strip_prefix("parent:") {
            return Ok(Cause::Parent(name.to_string()));
        }
        s.strip_prefix("check:")
            .and_then(|rest| rest.split_once(':'))
            .map(|(plugin, key)| Cause::Check {
                plugin: plugin.to_string(),
                key: key.to_string(),
            })
            .ok_or_else(|| format!("unknown incident cause `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_read_back() {
        for cause in [
            Cause::Parent("redirect-1".into()),
            Cause::Check {
                plugin: "p".into(),
                key: "a:b".into(),
            },
        ] {
            assert_eq!(cause.to_string().parse::<Cause>(), Ok(cause));
        }
    }
}

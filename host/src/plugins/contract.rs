//! The host's own view of what a plugin declares, receives and returns, independent of the
//! WIT world version a plugin was built against: each `api::vN` module converts to and from
//! these, so the rest of the host never sees generated bindings.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::report::Document;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "info" => Ok(Severity::Info),
            "warning" => Ok(Severity::Warning),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity `{other}` (expected info, warning or critical)"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    Report,
    Tick,
    Probe,
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Trigger::Report => "report",
            Trigger::Tick => "tick",
            Trigger::Probe => "probe",
        })
    }
}

impl std::str::FromStr for Trigger {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "report" => Ok(Trigger::Report),
            "tick" => Ok(Trigger::Tick),
            "probe" => Ok(Trigger::Probe),
            other => Err(format!(
                "unknown trigger `{other}` (expected report, tick or probe)"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigKey {
    pub name: String,
    pub default_value: String,
    pub description: String,
}

/// What a plugin says about itself in `describe()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Descriptor {
    pub name: String,
    pub version: String,
    pub description: String,
    pub config: Vec<ConfigKey>,
    pub triggers: Vec<Trigger>,
}

impl Descriptor {
    pub fn wants(&self, trigger: Trigger) -> bool {
        self.triggers.contains(&trigger)
    }

    /// The plugin's defaults overlaid with `overrides`; keys the plugin does not declare
    /// are passed through too, so a newer setting reaches an older host's plugin.
    pub fn resolve_config(&self, overrides: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut config: BTreeMap<String, String> = self
            .config
            .iter()
            .map(|k| (k.name.clone(), k.default_value.clone()))
            .collect();
        config.extend(overrides.iter().map(|(k, v)| (k.clone(), v.clone())));
        config
    }
}

/// The installation an evaluation is about.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InstallationInfo {
    pub id: String,
    pub client: String,
    pub tags: Vec<String>,
    pub timezone: String,
}

/// Everything one evaluation of one plugin gets.
#[derive(Debug, Clone)]
pub struct EvalInput {
    pub installation: InstallationInfo,
    pub trigger: Trigger,
    /// Milliseconds since the Unix epoch.
    pub now_ms: i64,
    pub last_report_at_ms: Option<i64>,
    pub config: BTreeMap<String, String>,
    pub state: BTreeMap<String, String>,
    pub report: Option<Arc<Document>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub key: String,
    pub severity: Severity,
    pub summary: String,
    pub details: String,
    pub labels: Vec<(String, String)>,
}

impl Finding {
    /// Longest finding key stored as given. Keys are indexed (PostgreSQL refuses index rows
    /// over ~2.7 KB) and a key built from report data can be anything.
    pub const MAX_KEY: usize = 200;

    /// `key`, or for a longer one its first bytes and a digest of the whole, so a long key
    /// stays distinct and stable instead of failing the evaluation's commit.
    pub fn bounded_key(key: String) -> String {
        if key.len() <= Self::MAX_KEY {
            return key;
        }
        let mut end = Self::MAX_KEY - 20;
        while !key.is_char_boundary(end) {
            end -= 1;
        }
        let digest = crate::plugins::cache::sha256_hex(key.as_bytes());
        format!("{}…{}", &key[..end], &digest[..16])
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateChange {
    pub key: String,
    pub value: Option<String>,
}

/// What one successful evaluation returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EvalOutput {
    pub findings: Vec<Finding>,
    pub state: Vec<StateChange>,
}

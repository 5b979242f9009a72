//! The host's own view of what a plugin declares, receives and returns, independent of the
//! WIT world version a plugin was built against: each `api::vN` module converts to and from
//! these, so the rest of the host never sees generated bindings.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use reveille_sdk::{SettingType, limits};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use sha2::{Digest, Sha256};

use crate::fleet::Installation;
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
    /// What values it takes; text for every setting of a plugin built for API 1.0.
    #[serde(rename = "type", serialize_with = "setting_type_json")]
    pub value_type: SettingType,
}

/// A setting's type as the admin API shows it: `{"kind": "integer", "min": 1, "max":
/// 100, "accepts": "a whole number from 1 to 100"}`.
fn setting_type_json<S: Serializer>(value_type: &SettingType, out: S) -> Result<S::Ok, S::Error> {
    let mut map = out.serialize_map(None)?;
    let kind = match value_type {
        SettingType::Text => "text",
        SettingType::Duration => "duration",
        SettingType::Integer { min, max } => {
            map.serialize_entry("min", min)?;
            map.serialize_entry("max", max)?;
            "integer"
        }
        SettingType::Version => "version",
        SettingType::OneOf(options) => {
            map.serialize_entry("options", options)?;
            "one-of"
        }
        SettingType::Boolean => "boolean",
    };
    map.serialize_entry("kind", kind)?;
    map.serialize_entry("accepts", &value_type.to_string())?;
    map.end()
}

/// Why a plugin's settings are not of the types it declares: the SDK's judgement, so a
/// check's unit test meets the very words the host says.
pub use reveille_sdk::SettingsError;

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

    /// Checks `values` against the settings this plugin declares: each key must be one it
    /// declares, and each value of its type. `whose` says where they came from.
    pub fn check_settings(
        &self,
        values: &BTreeMap<String, String>,
        whose: &'static str,
    ) -> Result<(), SettingsError> {
        let declared = self.config.iter().map(|k| (k.name.as_str(), &k.value_type));
        reveille_sdk::check_settings(&self.name, declared, values, whose)
    }

    /// Checks that every declared default is of its own type.
    pub fn check_defaults(&self) -> Result<(), SettingsError> {
        let defaults = self
            .config
            .iter()
            .map(|k| (k.name.clone(), k.default_value.clone()))
            .collect();
        self.check_settings(&defaults, " (its default)")
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

impl From<&Installation> for InstallationInfo {
    fn from(installation: &Installation) -> Self {
        InstallationInfo {
            id: installation.id.clone(),
            client: installation.client.clone(),
            tags: installation.tags.clone(),
            timezone: installation.timezone.clone(),
        }
    }
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
    /// In the plugin's own language.
    pub summary: String,
    pub details: String,
    pub labels: Vec<(String, String)>,
    pub translations: Translations,
}

/// A finding's words in one more language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Translation {
    pub language: String,
    pub summary: String,
    /// Empty: the finding's own details stand.
    pub details: String,
}

/// What a plugin wrote of one finding in other languages, and the one rule that picks a
/// reader's words: their language's translation (`ru` also serves `ru-RU`), else the
/// plugin's own words. Stored with findings and alerts as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Translations(pub Vec<Translation>);

impl Translations {
    /// The summary a reader of `language` gets; `own` is the finding's.
    pub fn summary<'a>(&'a self, language: &str, own: &'a str) -> &'a str {
        self.pick(language, |t| &t.summary).unwrap_or(own)
    }

    /// The details a reader of `language` gets; `own` are the finding's.
    pub fn details<'a>(&'a self, language: &str, own: &'a str) -> &'a str {
        self.pick(language, |t| &t.details).unwrap_or(own)
    }

    fn pick<'a>(&'a self, language: &str, field: fn(&Translation) -> &String) -> Option<&'a str> {
        self.0
            .iter()
            .filter(|t| reveille_sdk::same_language(&t.language, language))
            .map(field)
            .find(|text| !text.is_empty())
            .map(String::as_str)
    }

    /// The stored form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("translations serialize")
    }

    /// Reads the stored form.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
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
        let digest = sha256_hex(key.as_bytes());
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

impl EvalOutput {
    /// `state` as this output's changes leave it.
    pub fn apply_state(&self, state: &mut BTreeMap<String, String>) {
        for change in &self.state {
            match &change.value {
                Some(value) => state.insert(change.key.clone(), value.clone()),
                None => state.remove(&change.key),
            };
        }
    }
}

/// The key of the alert that stands for a plugin's findings on one installation beyond
/// the new alerts it may open in a while (`alerts::policy::Restraint`); no plugin may use
/// it.
pub const OVERFLOW_KEY: &str = "+more";

/// How much one evaluation may hand back. Everything a plugin returns is stored, shown to
/// admins and sent to people, so it is bounded where it enters the host: a plugin over a
/// bound fails its call ("output too large", with the numbers) and nothing of it goes on.
/// The numbers are the SDK's (`reveille_sdk::limits`), which fits an SDK check's findings
/// within them whatever the report says, so only a plugin that bypasses the SDK, or keeps
/// unbounded state, ever meets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimits {
    pub findings: usize,
    /// Longer keys than [`Finding::MAX_KEY`] (up to this) are shortened with a digest.
    pub key_bytes: usize,
    pub summary_bytes: usize,
    pub details_bytes: usize,
    pub labels: usize,
    pub label_bytes: usize,
    /// Languages per finding besides its own.
    pub translations: usize,
    pub state_entries: usize,
    pub state_key_bytes: usize,
    pub state_value_bytes: usize,
    /// The plugin's whole state for one installation, after this evaluation's changes.
    pub state_bytes: usize,
    /// Every string of the output together.
    pub total_bytes: usize,
}

impl OutputLimits {
    /// The limits the SDK publishes, and keeps its checks' findings within.
    pub const DEFAULT: OutputLimits = OutputLimits {
        findings: limits::MAX_FINDINGS,
        key_bytes: limits::MAX_KEY_BYTES,
        summary_bytes: limits::MAX_SUMMARY_BYTES,
        details_bytes: limits::MAX_DETAILS_BYTES,
        labels: limits::MAX_LABELS,
        label_bytes: limits::MAX_LABEL_BYTES,
        translations: limits::MAX_TRANSLATIONS,
        state_entries: limits::MAX_STATE_ENTRIES,
        state_key_bytes: limits::MAX_STATE_KEY_BYTES,
        state_value_bytes: limits::MAX_STATE_VALUE_BYTES,
        state_bytes: limits::MAX_STATE_BYTES,
        total_bytes: limits::MAX_OUTPUT_BYTES,
    };

    /// `output` with long keys shortened, or why the host does not take it: over a bound
    /// (given the state the plugin had before), or holding a NUL, which PostgreSQL cannot
    /// store in text.
    pub fn admit(
        &self,
        mut output: EvalOutput,
        state: &BTreeMap<String, String>,
    ) -> Result<EvalOutput, OutputProblem> {
        self.check(&output, state)
            .map_err(OutputProblem::TooLarge)?;
        if let Some(what) = nul_in(&output) {
            return Err(OutputProblem::Invalid(format!(
                "{what} contains a NUL character"
            )));
        }
        if let Some((key, language)) = output.findings.iter().find_map(|f| {
            let bad = f
                .translations
                .0
                .iter()
                .find(|t| !limits::language_tag(&t.language))?;
            Some((short(&f.key), short(&bad.language)))
        }) {
            return Err(OutputProblem::Invalid(format!(
                "finding `{key}` has a translation into `{language}`, which is not a language tag \
                 (1-{} ASCII letters, digits and dashes)",
                limits::MAX_LANGUAGE_BYTES
            )));
        }
        if output.findings.iter().any(|f| f.key == OVERFLOW_KEY) {
            return Err(OutputProblem::Invalid(format!(
                "finding key `{OVERFLOW_KEY}` is the host's own (it counts a plugin's findings beyond its alerts)"
            )));
        }
        for finding in &mut output.findings {
            finding.key = Finding::bounded_key(std::mem::take(&mut finding.key));
        }
        Ok(output)
    }

    fn check(&self, output: &EvalOutput, state: &BTreeMap<String, String>) -> Result<(), String> {
        let over = |what: &str, found: usize, limit: usize| -> Result<(), String> {
            if found > limit {
                Err(format!("{what}: {found}, over the limit of {limit}"))
            } else {
                Ok(())
            }
        };
        over("findings", output.findings.len(), self.findings)?;
        let mut total = 0;
        for finding in &output.findings {
            let key = short(&finding.key);
            over(
                &format!("finding `{key}` key bytes"),
                finding.key.len(),
                self.key_bytes,
            )?;
            over(
                &format!("finding `{key}` summary bytes"),
                finding.summary.len(),
                self.summary_bytes,
            )?;
            over(
                &format!("finding `{key}` details bytes"),
                finding.details.len(),
                self.details_bytes,
            )?;
            over(
                &format!("finding `{key}` labels"),
                finding.labels.len(),
                self.labels,
            )?;
            for (name, value) in &finding.labels {
                over(
                    &format!("finding `{key}` label `{}` bytes", short(name)),
                    name.len() + value.len(),
                    self.label_bytes,
                )?;
                total += name.len() + value.len();
            }
            over(
                &format!("finding `{key}` translations"),
                finding.translations.0.len(),
                self.translations,
            )?;
            for t in &finding.translations.0 {
                let language = short(&t.language);
                over(
                    &format!("finding `{key}` summary in `{language}` bytes"),
                    t.summary.len(),
                    self.summary_bytes,
                )?;
                over(
                    &format!("finding `{key}` details in `{language}` bytes"),
                    t.details.len(),
                    self.details_bytes,
                )?;
                total += t.language.len() + t.summary.len() + t.details.len();
            }
            total += finding.key.len() + finding.summary.len() + finding.details.len();
        }
        let mut after = state.clone();
        for change in &output.state {
            let key = short(&change.key);
            over(
                &format!("state key `{key}` bytes"),
                change.key.len(),
                self.state_key_bytes,
            )?;
            let value = change.value.as_deref().unwrap_or_default();
            over(
                &format!("state `{key}` value bytes"),
                value.len(),
                self.state_value_bytes,
            )?;
            total += change.key.len() + value.len();
        }
        output.apply_state(&mut after);
        over(
            "state entries after this evaluation",
            after.len(),
            self.state_entries,
        )?;
        over(
            "state bytes after this evaluation",
            after.iter().map(|(k, v)| k.len() + v.len()).sum(),
            self.state_bytes,
        )?;
        over("output bytes", total, self.total_bytes)
    }
}

/// Why the host does not take an evaluation's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputProblem {
    TooLarge(String),
    Invalid(String),
}

/// The first string of `output` holding a NUL, named.
fn nul_in(output: &EvalOutput) -> Option<String> {
    let has_nul = |text: &str| text.contains('\0');
    for finding in &output.findings {
        let key = short(&finding.key);
        if has_nul(&finding.key) {
            return Some(format!("finding key `{key}`"));
        }
        if has_nul(&finding.summary) || has_nul(&finding.details) {
            return Some(format!("finding `{key}`"));
        }
        if finding.labels.iter().any(|(n, v)| has_nul(n) || has_nul(v)) {
            return Some(format!("a label of finding `{key}`"));
        }
        if (finding.translations.0.iter()).any(|t| has_nul(&t.summary) || has_nul(&t.details)) {
            return Some(format!("a translation of finding `{key}`"));
        }
    }
    output
        .state
        .iter()
        .find(|c| has_nul(&c.key) || c.value.as_deref().is_some_and(has_nul))
        .map(|c| format!("state `{}`", short(&c.key)))
}

/// A plugin-chosen string, cut to something a message can quote.
fn short(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Whether `name` may name a plugin (it becomes a file name and a URL segment).
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
}

/// The hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

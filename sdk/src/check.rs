//! The SDK's side of the contract: what a check declares, receives and returns. These types
//! mirror `wit/v1` but belong to the SDK, so plugins compile against a stable Rust API while
//! the bindings underneath can change.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::duration::parse_duration;
use crate::language::same_language;
use crate::report::Report;
use crate::setting::SettingType;
use crate::time::Timestamp;
use crate::version::Version;

/// A check: a pure function from one evaluation's input to findings and state changes.
///
/// Implement it on a unit struct and export it with [`export_check!`](crate::export_check).
pub trait Check {
    /// Name, version, settings and triggers. Called once when the host loads the plugin.
    fn describe() -> Descriptor;

    /// Decides what holds for this installation now. An `Err` means the check could not
    /// decide (bad configuration, say): the host records it against the plugin, never as a
    /// finding about the installation.
    fn evaluate(input: &Input) -> Result<Output, String>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// What made the host evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// An installation's agent uploaded a report.
    Report,
    /// Time passed (the host's scheduler).
    Tick,
    /// The host probed the installation itself.
    Probe,
}

/// One setting a check reads, with its default, meaning and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigKey {
    pub name: String,
    pub default_value: String,
    pub description: String,
    pub value_type: SettingType,
}

/// What a check says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub name: String,
    pub version: String,
    pub description: String,
    pub config: Vec<ConfigKey>,
    pub triggers: Vec<Trigger>,
}

impl Descriptor {
    /// `name` must be lowercase with dashes and is the name the plugin is loaded as;
    /// pass `env!("CARGO_PKG_VERSION")` as the version.
    pub fn new(name: &str, version: &str, description: &str) -> Self {
        Descriptor {
            name: name.to_string(),
            version: version.to_string(),
            description: description.to_string(),
            config: Vec::new(),
            triggers: Vec::new(),
        }
    }

    /// Asks to be evaluated on `trigger`.
    pub fn on(mut self, trigger: Trigger) -> Self {
        if !self.triggers.contains(&trigger) {
            self.triggers.push(trigger);
        }
        self
    }

    /// Declares a text setting, its default and its meaning.
    pub fn setting(self, name: &str, default_value: &str, description: &str) -> Self {
        self.typed(name, default_value, SettingType::Text, description)
    }

    /// Declares a duration setting (`90s`, `2h`, `3d`); read it with
    /// [`Input::config_duration`].
    pub fn setting_duration(self, name: &str, default_value: &str, description: &str) -> Self {
        self.typed(name, default_value, SettingType::Duration, description)
    }

    /// Declares a whole-number setting within `bounds` (`1..=1000`, `0..`); read it with
    /// [`Input::config_parsed`].
    pub fn setting_integer(
        self,
        name: &str,
        default_value: i64,
        bounds: impl std::ops::RangeBounds<i64>,
        description: &str,
    ) -> Self {
        let value_type = SettingType::integer(bounds);
        self.typed(name, &default_value.to_string(), value_type, description)
    }

    /// Declares a version setting (`6.4.3.59`, or empty for none); read it with
    /// [`Input::config_version`].
    pub fn setting_version(self, name: &str, default_value: &str, description: &str) -> Self {
        self.typed(name, default_value, SettingType::Version, description)
    }

    /// Declares a setting that is one of `options`.
    pub fn setting_choice(
        self,
        name: &str,
        default_value: &str,
        options: &[&str],
        description: &str,
    ) -> Self {
        let options = options.iter().map(|o| o.to_string()).collect();
        self.typed(
            name,
            default_value,
            SettingType::OneOf(options),
            description,
        )
    }

    /// Declares a `true`/`false` setting; read it with `config_parsed::<bool>`.
    pub fn setting_bool(self, name: &str, default_value: bool, description: &str) -> Self {
        let default_value = default_value.to_string();
        self.typed(name, &default_value, SettingType::Boolean, description)
    }

    /// The declared settings' defaults, by name.
    pub fn defaults(&self) -> BTreeMap<String, String> {
        (self.config.iter())
            .map(|k| (k.name.clone(), k.default_value.clone()))
            .collect()
    }

    /// Checks `values` against the settings declared here, as the host does.
    pub fn check_settings(
        &self,
        values: &BTreeMap<String, String>,
        whose: &'static str,
    ) -> Result<(), crate::SettingsError> {
        let declared = self.config.iter().map(|k| (k.name.as_str(), &k.value_type));
        crate::check_settings(&self.name, declared, values, whose)
    }

    /// Declares a setting of `value_type`.
    pub fn typed(
        mut self,
        name: &str,
        default_value: &str,
        value_type: SettingType,
        description: &str,
    ) -> Self {
        self.config.push(ConfigKey {
            name: name.to_string(),
            default_value: default_value.to_string(),
            description: description.to_string(),
            value_type,
        });
        self
    }
}

/// The installation an evaluation is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    pub id: String,
    pub client: String,
    pub tags: Vec<String>,
    /// IANA time zone name.
    pub timezone: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub installation: Installation,
    pub trigger: Trigger,
    /// The host's clock; a check has no other.
    pub now: Timestamp,
    /// When the installation's last report was received, if ever.
    pub last_report_at: Option<Timestamp>,
}

/// Everything one evaluation gets.
pub struct Input {
    pub(crate) context: Context,
    pub(crate) config: BTreeMap<String, String>,
    pub(crate) state: BTreeMap<String, String>,
    pub(crate) report: Option<Report>,
}

impl Input {
    pub fn context(&self) -> &Context {
        &self.context
    }

    pub fn now(&self) -> Timestamp {
        self.context.now
    }

    pub fn trigger(&self) -> Trigger {
        self.context.trigger
    }

    /// The report under evaluation: the upload for `Report`, the probe's for `Probe`, the
    /// latest one (if any) for `Tick`.
    pub fn report(&self) -> Option<&Report> {
        self.report.as_ref()
    }

    /// A setting's resolved value; settings declared in `describe` are always present.
    pub fn config(&self, key: &str) -> Option<&str> {
        self.config.get(key).map(String::as_str)
    }

    /// A setting parsed as `T`, with an error that names the setting.
    pub fn config_parsed<T>(&self, key: &str) -> Result<T, String>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let raw = self
            .config(key)
            .ok_or_else(|| format!("setting `{key}` is not set"))?;
        raw.trim()
            .parse()
            .map_err(|e| format!("setting `{key}` = `{raw}`: {e}"))
    }

    /// A duration setting (`90s`, `2h`, `3d`).
    pub fn config_duration(&self, key: &str) -> Result<Duration, String> {
        let raw = self
            .config(key)
            .ok_or_else(|| format!("setting `{key}` is not set"))?;
        parse_duration(raw).map_err(|e| format!("setting `{key}`: {e}"))
    }

    /// An optional version setting: `None` when it is empty.
    pub fn config_version(&self, key: &str) -> Result<Option<Version>, String> {
        match self.config(key).map(str::trim) {
            None | Some("") => Ok(None),
            Some(_) => self.config_parsed(key).map(Some),
        }
    }

    /// A value this check kept for this installation.
    pub fn state(&self, key: &str) -> Option<&str> {
        self.state.get(key).map(String::as_str)
    }

    /// Everything this check kept for this installation, ordered by key.
    pub fn state_entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.state.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// "This condition holds now."
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub key: String,
    pub severity: Severity,
    /// In the check's own language (the built-in checks write English).
    pub summary: String,
    pub details: String,
    pub labels: Vec<(String, String)>,
    /// The summary and details in other languages: each reader gets their own language's,
    /// else these.
    pub translations: Vec<Translation>,
}

/// A finding's words in one more language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    /// A language tag: `ru`, `en`, `it`.
    pub language: String,
    pub summary: String,
    /// Empty: the finding's own details stand.
    pub details: String,
}

impl Finding {
    /// `key` must stay the same for the same problem, so it keeps the same alert.
    pub fn new(key: impl Into<String>, severity: Severity, summary: impl Into<String>) -> Self {
        Finding {
            key: key.into(),
            severity,
            summary: summary.into(),
            details: String::new(),
            labels: Vec::new(),
            translations: Vec::new(),
        }
    }

    pub fn details(mut self, details: impl Into<String>) -> Self {
        self.details = details.into();
        self
    }

    /// The summary in `language` (`"ru"`), for readers of that language.
    pub fn summary_in(mut self, language: &str, summary: impl Into<String>) -> Self {
        self.translation(language).summary = summary.into();
        self
    }

    /// The details in `language`, for readers of that language.
    pub fn details_in(mut self, language: &str, details: impl Into<String>) -> Self {
        self.translation(language).details = details.into();
        self
    }

    /// The summary a reader of `language` gets.
    pub fn summary_for(&self, language: &str) -> &str {
        self.translated(language, |t| &t.summary)
            .unwrap_or(&self.summary)
    }

    /// The details a reader of `language` gets.
    pub fn details_for(&self, language: &str) -> &str {
        self.translated(language, |t| &t.details)
            .unwrap_or(&self.details)
    }

    fn translated<'a>(
        &'a self,
        language: &str,
        field: impl Fn(&'a Translation) -> &'a String,
    ) -> Option<&'a str> {
        self.translations
            .iter()
            .filter(|t| same_language(&t.language, language))
            .map(field)
            .find(|text| !text.is_empty())
            .map(String::as_str)
    }

    fn translation(&mut self, language: &str) -> &mut Translation {
        let at = match self
            .translations
            .iter()
            .position(|t| t.language == language)
        {
            Some(at) => at,
            None => {
                self.translations.push(Translation {
                    language: language.to_string(),
                    summary: String::new(),
                    details: String::new(),
                });
                self.translations.len() - 1
            }
        };
        &mut self.translations[at]
    }

    pub fn label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.push((name.into(), value.into()));
        self
    }
}

/// Set a state key, or remove it (`value` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub key: String,
    pub value: Option<String>,
}

/// What one evaluation returns: every finding that holds now, and state changes the host
/// applies in the same transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    pub findings: Vec<Finding>,
    pub state: Vec<StateChange>,
}

impl Output {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn finding(mut self, finding: Finding) -> Self {
        self.findings.push(finding);
        self
    }

    pub fn set_state(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.state.push(StateChange {
            key: key.into(),
            value: Some(value.into()),
        });
        self
    }

    pub fn remove_state(mut self, key: impl Into<String>) -> Self {
        self.state.push(StateChange {
            key: key.into(),
            value: None,
        });
        self
    }
}

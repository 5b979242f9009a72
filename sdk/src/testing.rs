//! Running a check natively in `cargo test`: no WebAssembly, no host.
//!
//! A [`Case`] is one evaluation's input (installation, trigger, `now`, settings, earlier
//! state and report, the report given as XML text); [`Case::run`] evaluates a check on it
//! in this process and returns an [`Outcome`] to assert on. The report is parsed and
//! queried by the host's own code (`reveille-document`), so every path answers as it would
//! inside the host; settings are resolved and checked as the host does (defaults from
//! `describe`, each value against its declared type), and the output is fitted to the
//! host's limits as [`export_check!`](crate::export_check) does. A sequence of
//! evaluations carries state forward with [`Outcome::then_report`] and its siblings. An
//! error `evaluate` returns is asserted with [`Outcome::assert_error`], and what the check
//! logged ([`crate::log`]) is in [`Outcome::log`].
//!
//! ```
//! # use reveille_sdk::{Check, Descriptor, Finding, Input, Output, Severity, Trigger};
//! # struct DiskSpace;
//! # impl Check for DiskSpace {
//! #     fn describe() -> Descriptor {
//! #         Descriptor::new("disk-space", "0.1.0", "Free disk space")
//! #             .on(Trigger::Report)
//! #             .setting_integer("min-free-mb", 1024, 1.., "Warn below this")
//! #     }
//! #     fn evaluate(input: &Input) -> Result<Output, String> {
//! #         let min: i64 = input.config_parsed("min-free-mb")?;
//! #         let free = input.report().and_then(|r| r.value("disk/@free-mb"));
//! #         Ok(match free.and_then(|f| f.parse::<i64>().ok()) {
//! #             Some(free) if free < min => Output::new().finding(
//! #                 Finding::new("disk-low", Severity::Warning, format!("{free} MB free"))),
//! #             _ => Output::new(),
//! #         })
//! #     }
//! # }
//! use reveille_sdk::testing::Case;
//!
//! let report = r#"<report schema="1" generated-at="2026-11-20T10:00:00Z">
//!     <disk free-mb="812"/></report>"#;
//! let outcome = Case::report(report).run::<DiskSpace>();
//! assert_eq!(outcome.finding("disk-low").summary, "812 MB free");
//!
//! let roomy = Case::report(report).setting("min-free-mb", "500").run::<DiskSpace>();
//! roomy.assert_quiet();
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use reveille_document::Document;

use crate::check::{Check, Context, Finding, Input, Installation, Output, Trigger};
use crate::log::Line;
use crate::report::Report;
use crate::time::Timestamp;

/// One evaluation's input, built up for a test.
#[derive(Clone)]
pub struct Case {
    installation: Installation,
    trigger: Trigger,
    now: Option<Timestamp>,
    last_report_at: Option<Timestamp>,
    settings: BTreeMap<String, String>,
    state: BTreeMap<String, String>,
    report: Option<Arc<Document>>,
}

impl Case {
    /// An agent's report arrives: trigger `Report`, `now` and the last report's time are
    /// the report's `generated-at` until set otherwise. The installation's id and client
    /// are the report's, as `reveille plugin test` takes them.
    ///
    /// Panics, saying where, on XML the host would refuse.
    pub fn report(xml: &str) -> Case {
        Case::of(Trigger::Report).with_report(xml)
    }

    /// The host's probe answered: trigger `Probe` with the probe's report (its root says
    /// `agent="probe"`, and `network` what it found).
    pub fn probe(xml: &str) -> Case {
        Case::of(Trigger::Probe).with_report(xml)
    }

    /// Time passed: trigger `Tick`, with no report until [`Case::with_report`] gives the
    /// installation's latest. Set `now` (and the last report's time) yourself.
    pub fn tick() -> Case {
        Case::of(Trigger::Tick)
    }

    fn of(trigger: Trigger) -> Case {
        Case {
            installation: Installation {
                id: "test-installation".into(),
                client: "test-client".into(),
                tags: Vec::new(),
                timezone: "UTC".into(),
            },
            trigger,
            now: None,
            last_report_at: None,
            settings: BTreeMap::new(),
            state: BTreeMap::new(),
            report: None,
        }
    }

    /// The report under evaluation (for a tick: the installation's latest). Panics,
    /// saying where, on XML the host would refuse.
    pub fn with_report(mut self, xml: &str) -> Case {
        let document = reveille_document::parse(xml.as_bytes()).unwrap_or_else(|error| {
            panic!("the test's report is not one the host accepts: {error}")
        });
        if let Some(id) = document.value("installation/@id") {
            self.installation.id = id.to_string();
        }
        if let Some(client) = document.value("installation/client") {
            self.installation.client = client.to_string();
        }
        let generated = document
            .value("@generated-at")
            .and_then(|at| Timestamp::parse_rfc3339(at).ok());
        self.now = self.now.or(generated);
        // A probe's answer is the host's, not a report from the installation's agents.
        if self.trigger != Trigger::Probe {
            self.last_report_at = self.last_report_at.or(generated);
        }
        self.report = Some(Arc::new(document));
        self
    }

    /// The evaluation's `now`, RFC 3339 (`2026-11-20T01:07:00+03:00`).
    pub fn now(mut self, at: &str) -> Case {
        self.now = Some(timestamp(at, "now"));
        self
    }

    /// `now` moved on by `by`.
    pub fn advance(mut self, by: Duration) -> Case {
        let now = self
            .now
            .unwrap_or_else(|| panic!("set `now` before advancing it"));
        self.now = Some(now.plus(by));
        self
    }

    /// When the installation's last report was received, RFC 3339.
    pub fn last_report_at(mut self, at: &str) -> Case {
        self.last_report_at = Some(timestamp(at, "last_report_at"));
        self
    }

    pub fn installation(mut self, id: &str) -> Case {
        self.installation.id = id.to_string();
        self
    }

    pub fn client(mut self, client: &str) -> Case {
        self.installation.client = client.to_string();
        self
    }

    pub fn tag(mut self, tag: &str) -> Case {
        self.installation.tags.push(tag.to_string());
        self
    }

    /// The installation's IANA time zone (`Europe/Moscow`); `UTC` until set.
    pub fn timezone(mut self, zone: &str) -> Case {
        self.installation.timezone = zone.to_string();
        self
    }

    /// A setting, over the check's default; checked against the declared type at
    /// [`Case::run`], as the host checks it when an admin sets it (its words:
    /// `plugin `x`, setting `k`: ...`).
    pub fn setting(mut self, key: &str, value: &str) -> Case {
        self.settings.insert(key.to_string(), value.to_string());
        self
    }

    /// A value the check kept from earlier evaluations.
    pub fn state(mut self, key: &str, value: &str) -> Case {
        self.state.insert(key.to_string(), value.to_string());
        self
    }

    /// The input `C` gets for this case, its settings resolved and checked as the host
    /// does, or what the host would say instead (see [`Case::try_run`]). For calling
    /// `C::evaluate` directly, as a benchmark of the check's own cost does.
    pub fn input<C: Check>(&self) -> Result<Input, String> {
        let descriptor = C::describe();
        let name = &descriptor.name;
        if !descriptor.triggers.contains(&self.trigger) {
            return Err(format!(
                "the host never evaluates `{name}` on {:?}: its `describe` does not ask for it",
                self.trigger
            ));
        }
        let mut config = descriptor.defaults();
        let refused = |error: crate::SettingsError| error.to_string();
        descriptor
            .check_settings(&config, " (its default)")
            .map_err(refused)?;
        descriptor
            .check_settings(&self.settings, "")
            .map_err(refused)?;
        config.extend(self.settings.clone());
        let now = self.now.unwrap_or_else(|| {
            panic!("set `now`: a tick, or a report without `generated-at`, does not say when")
        });
        Ok(Input {
            context: Context {
                installation: self.installation.clone(),
                trigger: self.trigger,
                now,
                last_report_at: self.last_report_at,
            },
            config,
            state: self.state.clone(),
            report: self.report.clone().map(Report::native),
        })
    }

    /// Evaluates `C` on this case, as the host would: settings resolved from `describe`'s
    /// defaults and checked against their types, the output fitted to the host's limits.
    /// Panics with the host's words where the host would refuse (see [`Case::try_run`]).
    pub fn run<C: Check>(self) -> Outcome {
        self.try_run::<C>()
            .unwrap_or_else(|refusal| panic!("{refusal}"))
    }

    /// [`Case::run`], or what the host would say instead of evaluating: a setting that is
    /// not declared or not of its type, a default not of its own type (the plugin would
    /// not load), a trigger the check does not ask for. An error `evaluate` itself returns
    /// is not a refusal: it is in the [`Outcome`] ([`Outcome::assert_error`]).
    pub fn try_run<C: Check>(self) -> Result<Outcome, String> {
        let input = self.input::<C>()?;
        crate::log::native::kept::take();
        let result = C::evaluate(&input).map(crate::limits::fit);
        let log = crate::log::native::kept::take();
        let mut state = self.state.clone();
        if let Ok(output) = &result {
            for change in &output.state {
                match &change.value {
                    Some(value) => state.insert(change.key.clone(), value.clone()),
                    None => state.remove(&change.key),
                };
            }
        }
        Ok(Outcome {
            case: Case { state, ..self },
            result,
            log,
        })
    }
}

/// What one evaluation returned, with the state it leaves for the next.
pub struct Outcome {
    /// The case evaluated, holding the state after this evaluation.
    case: Case,
    result: Result<Output, String>,
    log: Vec<Line>,
}

impl Outcome {
    /// The output; panics with the check's error if it failed.
    pub fn output(&self) -> &Output {
        match &self.result {
            Ok(output) => output,
            Err(error) => panic!(
                "the check failed: {error}\n(to test a failure, use `Outcome::error` or `Outcome::assert_error`)"
            ),
        }
    }

    /// What `evaluate` returned, for a test that takes either way.
    pub fn result(&self) -> Result<&Output, &str> {
        self.result.as_ref().map_err(String::as_str)
    }

    /// The check's error; panics if it succeeded.
    pub fn error(&self) -> &str {
        match &self.result {
            Ok(output) => panic!(
                "the check succeeded (findings {:?}) where an error was expected",
                keys(output)
            ),
            Err(error) => error,
        }
    }

    /// Panics unless `evaluate` returned an error containing `words`; the host would
    /// record it as the call's failure (`plugin error`), count it toward switching the
    /// plugin off, and leave the installation's alerts as they were.
    pub fn assert_error(&self, words: &str) {
        let error = self.error();
        assert!(
            error.contains(words),
            "the check's error does not say {words:?}: {error:?}"
        );
    }

    /// What the check logged in this evaluation (`reveille_sdk::log`), in order.
    pub fn log(&self) -> &[Line] {
        &self.log
    }

    /// Every finding that holds now.
    pub fn findings(&self) -> &[Finding] {
        &self.output().findings
    }

    /// The keys of the findings that hold now, in the order the check returned them.
    pub fn keys(&self) -> Vec<&str> {
        keys(self.output())
    }

    /// The finding `key`; panics, listing what holds, when there is none.
    pub fn finding(&self, key: &str) -> &Finding {
        self.findings()
            .iter()
            .find(|f| f.key == key)
            .unwrap_or_else(|| panic!("no finding `{key}`; the findings: {:?}", self.keys()))
    }

    /// Panics unless nothing holds.
    pub fn assert_quiet(&self) {
        assert!(
            self.findings().is_empty(),
            "expected no findings, got {:?}",
            self.keys()
        );
    }

    /// A state value after this evaluation's changes.
    pub fn state(&self, key: &str) -> Option<&str> {
        self.case.state.get(key).map(String::as_str)
    }

    /// The next report for the same installation, with the same settings and the state
    /// this evaluation left; `now` is the new report's `generated-at` (or this `now`).
    pub fn then_report(&self, xml: &str) -> Case {
        self.then(Trigger::Report).fresh_report(xml)
    }

    /// The next probe, as [`Outcome::then_report`].
    pub fn then_probe(&self, xml: &str) -> Case {
        self.then(Trigger::Probe).fresh_report(xml)
    }

    /// A tick for the same installation, with the state this evaluation left and the same
    /// latest report; move `now` on with [`Case::advance`] or [`Case::now`].
    pub fn then_tick(&self) -> Case {
        self.then(Trigger::Tick)
    }

    fn then(&self, trigger: Trigger) -> Case {
        Case {
            trigger,
            ..self.case.clone()
        }
    }
}

impl Case {
    /// [`Case::with_report`] for a report that follows another: its own times win.
    fn fresh_report(self, xml: &str) -> Case {
        let previous_now = self.now;
        let last_report_at = match self.trigger {
            Trigger::Report => None,
            _ => self.last_report_at,
        };
        let next = Case {
            now: None,
            last_report_at,
            ..self
        }
        .with_report(xml);
        Case {
            now: next.now.or(previous_now),
            ..next
        }
    }
}

fn keys(output: &Output) -> Vec<&str> {
    output.findings.iter().map(|f| f.key.as_str()).collect()
}

fn timestamp(at: &str, what: &str) -> Timestamp {
    Timestamp::parse_rfc3339(at).unwrap_or_else(|error| panic!("`{what}`: {error}"))
}

//! The plugin runtime in-process, driven the way the host's pipeline drives it: reports,
//! probes and ticks at chosen times, state carried from one evaluation to the next, and
//! the set of findings that hold after each step. No HTTP: stories span days.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use reveille::plugins::builtin;
use reveille::plugins::{
    Evaluation, InstallationInfo, Limits, PluginRun, PluginState, Runtime, RuntimeSettings, Trigger,
};
use reveille::report::{self, Document};

/// One finding as the stories check it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Held {
    pub plugin: String,
    pub key: String,
    pub severity: String,
    pub summary: String,
    pub details: String,
}

pub struct Harness {
    runtime: Arc<Runtime>,
    installation: InstallationInfo,
    state: BTreeMap<String, BTreeMap<String, String>>,
    holding: BTreeMap<String, Vec<Held>>,
    latest: Option<Arc<Document>>,
    last_report_at: Option<i64>,
}

/// Milliseconds since the epoch of an RFC 3339 time.
pub fn at(time: &str) -> i64 {
    time.parse::<jiff::Timestamp>()
        .unwrap_or_else(|e| panic!("{time}: {e}"))
        .as_millisecond()
}

/// A v1 report for installation `vector-main` from `agent`, generated at `time`, with
/// `sections` as its body.
pub fn report_xml(agent: &str, time: &str, sections: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<report schema="1" agent="{agent}" agent-version="2.3.0" generated-at="{time}">
  <installation id="vector-main"><client>ООО «Вектор»</client></installation>
  {sections}
</report>"#
    )
}

impl Harness {
    /// The built-in plugins with `settings` as `[plugins.<name>]` values.
    pub async fn new(settings: &[(&str, &str, &str)]) -> Harness {
        let mut plugin_config: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (plugin, key, value) in settings {
            plugin_config
                .entry(plugin.to_string())
                .or_default()
                .insert(key.to_string(), value.to_string());
        }
        let runtime = Runtime::new(RuntimeSettings {
            plugin_config,
            // The stories are not about time: a loaded machine must not fail them.
            limits: Limits {
                deadline: Duration::from_secs(5),
                ..Limits::default()
            },
            ..RuntimeSettings::default()
        })
        .expect("runtime");
        builtin::load_all(&runtime, &[])
            .await
            .expect("the built-ins load");
        let failed: Vec<_> = runtime
            .registry()
            .list()
            .into_iter()
            .filter(|p| p.state == PluginState::Failed)
            .map(|p| p.name)
            .collect();
        assert!(
            failed.is_empty(),
            "built-in plugins failed to load: {failed:?}"
        );
        Harness {
            runtime,
            installation: InstallationInfo {
                id: "vector-main".into(),
                client: "ООО «Вектор»".into(),
                tags: vec![],
                timezone: "Europe/Moscow".into(),
            },
            state: BTreeMap::new(),
            holding: BTreeMap::new(),
            latest: None,
            last_report_at: None,
        }
    }

    /// A report received at `time`.
    pub async fn report(&mut self, time: &str, xml: &str) -> &mut Self {
        let document = Arc::new(report::parse(xml.as_bytes()).expect("a valid report"));
        self.latest = Some(document.clone());
        self.evaluate(Trigger::Report, time, Some(document)).await;
        self.last_report_at = Some(at(time));
        self
    }

    /// A probe result at `time`.
    pub async fn probe(
        &mut self,
        time: &str,
        reachable_by_domain: bool,
        reachable_by_ip: bool,
    ) -> &mut Self {
        let xml = report_xml(
            "probe",
            time,
            &format!(
                r#"<network domain="vector.example.ru" reachable-by-domain="{reachable_by_domain}" reachable-by-ip="{reachable_by_ip}"/>"#
            ),
        );
        let document = Arc::new(report::parse(xml.as_bytes()).expect("a valid probe"));
        self.evaluate(Trigger::Probe, time, Some(document)).await;
        self
    }

    /// The scheduler's tick at `time`, with the latest report.
    pub async fn tick(&mut self, time: &str) -> &mut Self {
        let latest = self.latest.clone();
        self.evaluate(Trigger::Tick, time, latest).await;
        self
    }

    async fn evaluate(&mut self, trigger: Trigger, time: &str, report: Option<Arc<Document>>) {
        let evaluation = Evaluation {
            installation: self.installation.clone(),
            trigger,
            now_ms: at(time),
            last_report_at_ms: self.last_report_at,
            report,
            state: self.state.clone(),
            client_settings: BTreeMap::new(),
        };
        for run in self.runtime.evaluate(&evaluation).await {
            self.apply(run);
        }
    }

    fn apply(&mut self, run: PluginRun) {
        let output = match run.outcome {
            Ok(output) => output,
            Err(failure) => panic!("{} failed: {failure}", run.plugin),
        };
        let state = self.state.entry(run.plugin.clone()).or_default();
        for change in output.state {
            match change.value {
                Some(value) => state.insert(change.key, value),
                None => state.remove(&change.key),
            };
        }
        let held = output
            .findings
            .into_iter()
            .map(|f| Held {
                plugin: run.plugin.clone(),
                key: f.key,
                severity: serde_json::to_value(f.severity)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string(),
                summary: f.summary,
                details: f.details,
            })
            .collect();
        self.holding.insert(run.plugin, held);
    }

    /// Every finding that holds now.
    pub fn holding(&self) -> Vec<Held> {
        self.holding.values().flatten().cloned().collect()
    }

    /// `plugin/key:severity` for every finding that holds now.
    pub fn keys(&self) -> BTreeSet<String> {
        self.holding()
            .into_iter()
            .map(|h| format!("{}/{}:{}", h.plugin, h.key, h.severity))
            .collect()
    }

    /// The finding `plugin/key`, which must hold.
    pub fn finding(&self, plugin: &str, key: &str) -> Held {
        self.holding()
            .into_iter()
            .find(|h| h.plugin == plugin && h.key == key)
            .unwrap_or_else(|| panic!("{plugin}/{key} does not hold; holding: {:?}", self.keys()))
    }
}

//! Host side of `wit/v1`: the generated bindings, the `report` resource plugins query, and
//! conversions between the bindings and the host's [`contract`](crate::plugins::contract).

use wasmtime::component::Resource;

use crate::plugins::contract::{
    ConfigKey, Descriptor, EvalInput, EvalOutput, Finding, Severity, StateChange, Trigger,
};
use crate::plugins::sandbox::{HostState, ReportHandle};
use crate::report::ElementView;

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/v1",
        world: "check",
        with: { "reveille:check/document.report": crate::plugins::sandbox::ReportHandle },
        imports: { default: trappable },
        exports: { default: async },
    });
}

pub use bindings::Check as Bindings;
pub use bindings::CheckPre as BindingsPre;
use bindings::reveille::check::document::{self as wit_doc, HostReport};
use bindings::reveille::check::types as wit;

impl wit_doc::Host for HostState {}
impl wit::Host for HostState {}

fn element(view: ElementView<'_>) -> wit_doc::Element {
    wit_doc::Element {
        node: view.id(),
        name: view.name().to_string(),
        attributes: view
            .attributes()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        text: view.text().to_string(),
    }
}

impl HostReport for HostState {
    fn select(
        &mut self,
        report: Resource<ReportHandle>,
        path: String,
    ) -> wasmtime::Result<Vec<wit_doc::Element>> {
        let doc = &self.table.get(&report)?.0;
        Ok(doc.select(&path).into_iter().map(element).collect())
    }

    fn children_of(
        &mut self,
        report: Resource<ReportHandle>,
        node: u32,
        path: String,
    ) -> wasmtime::Result<Vec<wit_doc::Element>> {
        let doc = &self.table.get(&report)?.0;
        Ok(doc
            .select_from(node, &path)
            .into_iter()
            .map(element)
            .collect())
    }

    fn value(
        &mut self,
        report: Resource<ReportHandle>,
        path: String,
    ) -> wasmtime::Result<Option<String>> {
        let doc = &self.table.get(&report)?.0;
        Ok(doc.value(&path).map(str::to_string))
    }

    fn count(&mut self, report: Resource<ReportHandle>, path: String) -> wasmtime::Result<u32> {
        let doc = &self.table.get(&report)?.0;
        Ok(u32::try_from(doc.select(&path).len()).unwrap_or(u32::MAX))
    }

    fn drop(&mut self, report: Resource<ReportHandle>) -> wasmtime::Result<()> {
        self.table.delete(report)?;
        Ok(())
    }
}

fn trigger_from_wit(t: wit::Trigger) -> Trigger {
    match t {
        wit::Trigger::Report => Trigger::Report,
        wit::Trigger::Tick => Trigger::Tick,
        wit::Trigger::Probe => Trigger::Probe,
    }
}

fn trigger_to_wit(t: Trigger) -> wit::Trigger {
    match t {
        Trigger::Report => wit::Trigger::Report,
        Trigger::Tick => wit::Trigger::Tick,
        Trigger::Probe => wit::Trigger::Probe,
    }
}

pub fn descriptor(d: wit::Descriptor) -> Descriptor {
    Descriptor {
        name: d.name,
        version: d.version,
        description: d.description,
        config: d
            .config
            .into_iter()
            .map(|k| ConfigKey {
                name: k.name,
                default_value: k.default_value,
                description: k.description,
            })
            .collect(),
        triggers: d.triggers.into_iter().map(trigger_from_wit).collect(),
    }
}

/// The v1 input for `input`; the report (if any) becomes a resource in `state`'s table.
pub fn input(state: &mut HostState, input: &EvalInput) -> wasmtime::Result<wit::Input> {
    let report = match &input.report {
        Some(doc) => Some(state.table.push(ReportHandle(doc.clone()))?),
        None => None,
    };
    Ok(wit::Input {
        context: wit::Context {
            installation: wit::Installation {
                id: input.installation.id.clone(),
                client: input.installation.client.clone(),
                tags: input.installation.tags.clone(),
                timezone: input.installation.timezone.clone(),
            },
            trigger: trigger_to_wit(input.trigger),
            now: input.now_ms,
            last_report_at: input.last_report_at_ms,
        },
        config: input.config.clone().into_iter().collect(),
        state: input
            .state
            .iter()
            .map(|(k, v)| wit::StateEntry {
                key: k.clone(),
                value: v.clone(),
            })
            .collect(),
        report,
    })
}

pub fn output(o: wit::Output) -> EvalOutput {
    EvalOutput {
        findings: o
            .findings
            .into_iter()
            .map(|f| Finding {
                key: f.key,
                severity: match f.severity {
                    wit::Severity::Info => Severity::Info,
                    wit::Severity::Warning => Severity::Warning,
                    wit::Severity::Critical => Severity::Critical,
                },
                summary: f.summary,
                details: f.details,
                labels: f.labels,
            })
            .collect(),
        state: o
            .state
            .into_iter()
            .map(|s| StateChange {
                key: s.key,
                value: s.value,
            })
            .collect(),
    }
}

//! Host side of `wit/v1` at its newest minor version (1.2): the generated bindings, the
//! `report` resource plugins query, the `log` they write to, and conversions between the
//! bindings and the host's [`contract`](crate::plugins::contract). The linker holds these
//! imports only; a plugin built for an older 1.x imports the same interfaces at its own
//! version, which the linker serves from these (a minor version only adds).

use wasmtime::component::Resource;

use crate::plugins::contract::{Translation, Translations};
use crate::plugins::log::LogLevel;
use crate::plugins::sandbox::{HostState, ReportHandle};
use crate::report::ElementView;
use reveille_sdk::SettingType;

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
use bindings::reveille::check::log as wit_log;
use bindings::reveille::check::types as wit;

impl wit_doc::Host for HostState {}
impl wit::Host for HostState {}

impl wit_log::Host for HostState {
    fn write(&mut self, level: wit_log::Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            wit_log::Level::Debug => LogLevel::Debug,
            wit_log::Level::Info => LogLevel::Info,
            wit_log::Level::Warn => LogLevel::Warn,
            wit_log::Level::Error => LogLevel::Error,
        };
        self.log.write(level, &message);
        Ok(())
    }
}

fn element(view: ElementView<'_>) -> wit_doc::Element {
    wit_doc::Element {
        node: view.id(),
        name: view.name().to_string(),
        attributes: view.owned_attributes(),
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
        Ok(u32::try_from(doc.count(&path)).unwrap_or(u32::MAX))
    }

    fn drop(&mut self, report: Resource<ReportHandle>) -> wasmtime::Result<()> {
        self.table.delete(report)?;
        Ok(())
    }
}

super::v1_records!(
    value_type: |key| setting_type(key.value_type),
    translations: |finding| Translations(
        finding
            .translations
            .into_iter()
            .map(|t| Translation {
                language: t.language,
                summary: t.summary,
                details: t.details,
            })
            .collect(),
    ),
);

fn setting_type(t: wit::SettingType) -> SettingType {
    match t {
        wit::SettingType::Text => SettingType::Text,
        wit::SettingType::Duration => SettingType::Duration,
        wit::SettingType::Integer(b) => SettingType::Integer {
            min: b.min,
            max: b.max,
        },
        wit::SettingType::Version => SettingType::Version,
        wit::SettingType::OneOf(options) => SettingType::OneOf(options),
        wit::SettingType::Boolean => SettingType::Boolean,
    }
}

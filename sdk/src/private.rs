//! Glue between the generated bindings and the SDK's types. Not part of the API.

/// The generated guest bindings for `wit/v1` (its newest minor version). Plugin authors never see these: the SDK's own
/// types wrap them, so a plugin never depends on wit-bindgen directly and two wit-bindgen
/// versions never meet in one component.
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit/v1",
        world: "check",
        pub_export_macro: true,
        export_macro_name: "__export_check_world",
        default_bindings_module: "reveille_sdk::__private::bindings",
        runtime_path: "reveille_sdk::__private::wit_bindgen::rt",
    });
}
pub use wit_bindgen;

use crate::check::{Check, Context, Input, Installation, Output, Severity, Trigger};
use crate::report::Report;
use crate::setting::SettingType;
use crate::time::Timestamp;
use bindings::reveille::check::types as wit;

/// Written into the `reveille:api-version` custom section of every plugin.
pub const API_VERSION_STAMP: [u8; 5] = *b"1.2.0";

pub fn describe<C: Check>() -> wit::Descriptor {
    let d = C::describe();
    wit::Descriptor {
        name: d.name,
        version: d.version,
        description: d.description,
        config: d
            .config
            .into_iter()
            .map(|k| wit::ConfigKey {
                name: k.name,
                default_value: k.default_value,
                description: k.description,
                value_type: setting_type_to_wit(k.value_type),
            })
            .collect(),
        triggers: d.triggers.into_iter().map(trigger_to_wit).collect(),
    }
}

fn setting_type_to_wit(value_type: SettingType) -> wit::SettingType {
    match value_type {
        SettingType::Text => wit::SettingType::Text,
        SettingType::Duration => wit::SettingType::Duration,
        SettingType::Integer { min, max } => {
            wit::SettingType::Integer(wit::IntegerBounds { min, max })
        }
        SettingType::Version => wit::SettingType::Version,
        SettingType::OneOf(options) => wit::SettingType::OneOf(options),
        SettingType::Boolean => wit::SettingType::Boolean,
    }
}

pub fn evaluate<C: Check>(input: wit::Input) -> Result<wit::Output, String> {
    let output = C::evaluate(&input_from_wit(input))?;
    Ok(output_to_wit(crate::limits::fit(output)))
}

/// `output` as the bindings take it, as it is (test fixtures use it to return what a
/// plugin written without the SDK could).
pub fn output_to_wit(output: Output) -> wit::Output {
    wit::Output {
        findings: output
            .findings
            .into_iter()
            .map(|f| wit::Finding {
                key: f.key,
                severity: match f.severity {
                    Severity::Info => wit::Severity::Info,
                    Severity::Warning => wit::Severity::Warning,
                    Severity::Critical => wit::Severity::Critical,
                },
                summary: f.summary,
                details: f.details,
                labels: f.labels,
                translations: f
                    .translations
                    .into_iter()
                    .map(|t| wit::Translation {
                        language: t.language,
                        summary: t.summary,
                        details: t.details,
                    })
                    .collect(),
            })
            .collect(),
        state: output
            .state
            .into_iter()
            .map(|s| wit::StateChange {
                key: s.key,
                value: s.value,
            })
            .collect(),
    }
}

fn trigger_to_wit(trigger: Trigger) -> wit::Trigger {
    match trigger {
        Trigger::Report => wit::Trigger::Report,
        Trigger::Tick => wit::Trigger::Tick,
        Trigger::Probe => wit::Trigger::Probe,
    }
}

pub fn input_from_wit(input: wit::Input) -> Input {
    let ctx = input.context;
    Input {
        context: Context {
            installation: Installation {
                id: ctx.installation.id,
                client: ctx.installation.client,
                tags: ctx.installation.tags,
                timezone: ctx.installation.timezone,
            },
            trigger: match ctx.trigger {
                wit::Trigger::Report => Trigger::Report,
                wit::Trigger::Tick => Trigger::Tick,
                wit::Trigger::Probe => Trigger::Probe,
            },
            now: Timestamp::from_millis(ctx.now),
            last_report_at: ctx.last_report_at.map(Timestamp::from_millis),
        },
        config: input.config.into_iter().collect(),
        state: input.state.into_iter().map(|e| (e.key, e.value)).collect(),
        report: input.report.map(Report::from_host),
    }
}

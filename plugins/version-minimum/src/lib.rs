//! `version-minimum`: the shell version is below the distributor's required minimum.
//!
//! Versions compare numerically part by part (`6.4.10.1` > `6.4.9.99`). With no minimum
//! configured the check says nothing. A report without a `product` section (a status
//! report) leaves the last verdict standing.

use reveille_sdk::{Check, Descriptor, Finding, Input, Output, Severity, Trigger};

pub struct VersionMinimum;

impl Check for VersionMinimum {
    fn describe() -> Descriptor {
        Descriptor::new(
            "version-minimum",
            env!("CARGO_PKG_VERSION"),
            "Shell version below the required minimum",
        )
        .on(Trigger::Report)
        .setting(
            "minimum",
            "",
            "Lowest acceptable shell version, e.g. 6.4.3.59; empty: no requirement",
        )
    }

    fn evaluate(input: &Input) -> Result<Output, String> {
        let Some(minimum) = input.config_version("minimum")? else {
            return Ok(Output::new().conclude(input, Vec::new()));
        };
        let Some(version) = input.report().and_then(|r| r.shell_version()) else {
            return Ok(Output::new().carry_forward(input));
        };
        let findings = match version {
            Err(error) => vec![
                Finding::new(
                    "version-unreadable",
                    Severity::Info,
                    "Shell version unreadable",
                )
                .details(format!("The report's product/@shell-version: {error}.")),
            ],
            Ok(version) if version < minimum => vec![
                Finding::new(
                    "version-below-minimum",
                    Severity::Warning,
                    format!("Shell version {version} is below the required {minimum}"),
                )
                .details(format!(
                    "The installation runs shell {version}; the distributor requires \
                     {minimum} or later. Plan the upgrade with the client's administrator."
                ))
                .label("version", version.to_string())
                .label("minimum", minimum.to_string()),
            ],
            Ok(_) => Vec::new(),
        };
        Ok(Output::new().conclude(input, findings))
    }
}

reveille_sdk::export_check!(VersionMinimum);

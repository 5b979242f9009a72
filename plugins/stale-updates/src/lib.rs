//! `stale-updates`: content updates ("операпы") stopped arriving, or a base is in error.
//!
//! Fires when the newest `operup-at` over all bases is older than the threshold, and once
//! per base reported in `state="error"`. It runs on every report and on every tick (with
//! the latest report), so staleness is noticed even when reports stop too.

use reveille_sdk::{
    Base, Check, Descriptor, Finding, Input, Output, Severity, Trigger, format_duration,
};

pub struct StaleUpdates;

impl Check for StaleUpdates {
    fn describe() -> Descriptor {
        Descriptor::new(
            "stale-updates",
            env!("CARGO_PKG_VERSION"),
            "Content updates older than a threshold, or a content base in error",
        )
        .on(Trigger::Report)
        .on(Trigger::Tick)
        .setting(
            "threshold",
            "3d",
            "Warn when the newest update of any base is older than this",
        )
    }

    fn evaluate(input: &Input) -> Result<Output, String> {
        let threshold = input.config_duration("threshold")?;
        let Some(report) = input.report() else {
            return Ok(Output::new());
        };
        if report.count("bases") == 0 {
            return Ok(Output::new().carry_forward(input));
        }
        let bases = report.bases();
        let mut findings = Vec::new();
        let newest = bases
            .iter()
            .filter_map(|b| b.operup_at.clone().and_then(Result::ok))
            .max();
        match newest {
            Some(newest) if newest.age_at(input.now()) > threshold => {
                let age = newest.age_at(input.now());
                findings.push(
                    Finding::new(
                        "stale-updates",
                        Severity::Warning,
                        format!(
                            "Content updates stale: the newest is {} old",
                            format_duration(age)
                        ),
                    )
                    .details(format!(
                        "No base has been updated since {newest} (threshold {}). {}",
                        format_duration(threshold),
                        base_list(&bases)
                    ))
                    .label("newest-update", newest.to_string()),
                );
            }
            Some(_) => {}
            None if !bases.is_empty() => findings.push(
                Finding::new(
                    "stale-updates",
                    Severity::Warning,
                    "Content updates unknown: no base reports an update date",
                )
                .details(base_list(&bases)),
            ),
            None => {}
        }
        findings.extend(bases.iter().filter(|b| b.failed).map(base_error));
        Ok(Output::new().conclude(input, findings))
    }
}

fn base_error(base: &Base) -> Finding {
    let name = base.name.as_deref().unwrap_or(&base.code);
    let code = base.error_code.as_deref().unwrap_or("none given");
    Finding::new(
        format!("base-error:{}", base.code),
        Severity::Warning,
        format!("Content base {name} ({}) is in error", base.code),
    )
    .details(format!(
        "The product reports base {} in state \"error\" with error code {code}; its users do \
         not get its documents. Check that the base files are reachable by the service.",
        base.code
    ))
    .label("base", base.code.clone())
    .label("error-code", code)
}

fn base_list(bases: &[Base]) -> String {
    let lines: Vec<String> = bases
        .iter()
        .map(|b| {
            let when = match &b.operup_at {
                Some(Ok(t)) => t.to_string(),
                Some(Err(_)) => "unreadable date".into(),
                None => "no date".into(),
            };
            let update = b
                .update
                .map(|u| format!("update {u}, "))
                .unwrap_or_default();
            format!("{}: {update}{when}", b.code)
        })
        .collect();
    format!("Bases: {}.", lines.join("; "))
}

reveille_sdk::export_check!(StaleUpdates);

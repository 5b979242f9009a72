//! `reports-stopped`: no report from the installation for too long.
//!
//! Runs on the host's periodic tick. Silence past the first threshold is a warning (the
//! agent may have been removed or stopped), past the second it is critical. An
//! installation that never reported has nothing to stop; it is not flagged here.

use reveille_sdk::{Check, Descriptor, Finding, Input, Output, Severity, Trigger, format_duration};

pub struct ReportsStopped;

impl Check for ReportsStopped {
    fn describe() -> Descriptor {
        Descriptor::new(
            "reports-stopped",
            env!("CARGO_PKG_VERSION"),
            "No report from an installation for longer than a threshold",
        )
        .on(Trigger::Tick)
        .setting(
            "warning-after",
            "2d",
            "Warn after this long without a report",
        )
        .setting(
            "critical-after",
            "4d",
            "Escalate to critical after this long without a report",
        )
    }

    fn evaluate(input: &Input) -> Result<Output, String> {
        let warning = input.config_duration("warning-after")?;
        let critical = input.config_duration("critical-after")?;
        if critical < warning {
            return Err(format!(
                "setting `critical-after` ({}) is shorter than `warning-after` ({})",
                format_duration(critical),
                format_duration(warning)
            ));
        }
        let Some(last) = input.context().last_report_at else {
            return Ok(Output::new());
        };
        let silence = last.age_at(input.now());
        let severity = if silence > critical {
            Severity::Critical
        } else if silence > warning {
            Severity::Warning
        } else {
            return Ok(Output::new());
        };
        Ok(Output::new().finding(
            Finding::new(
                "reports-stopped",
                severity,
                format!("No reports for {}", format_duration(silence)),
            )
            .details(format!(
                "The last report arrived at {last}. The report agent may have been stopped or \
                 removed, or the server may be down: check the agent's service on the \
                 installation's server."
            ))
            .label("last-report", last.to_string()),
        ))
    }
}

reveille_sdk::export_check!(ReportsStopped);

//! `reports-stopped`: no report from the installation for too long.
//!
//! Runs on the host's periodic tick. Silence past the first threshold is a warning (the
//! agent may have been removed or stopped), past the second it is critical. An
//! installation that never reported has nothing to stop; it is not flagged here. It speaks
//! English and Russian.

use reveille_sdk::{
    Check, Descriptor, Finding, Input, Output, Severity, Trigger, format_duration,
    format_duration_in,
};

pub struct ReportsStopped;

impl Check for ReportsStopped {
    fn describe() -> Descriptor {
        Descriptor::new(
            "reports-stopped",
            env!("CARGO_PKG_VERSION"),
            "No report from an installation for longer than a threshold",
        )
        .on(Trigger::Tick)
        .setting_duration(
            "warning-after",
            "2d",
            "Warn after this long without a report",
        )
        .setting_duration(
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
            .summary_in(
                "ru",
                format!("Нет отчётов уже {}", format_duration_in("ru", silence)),
            )
            .details_in(
                "ru",
                format!(
                    "Последний отчёт пришёл {last}. Агент отчётов мог быть остановлен или \
                     удалён, или сервер недоступен: проверьте службу агента на сервере \
                     установки."
                ),
            )
            .label("last-report", last.to_string()),
        ))
    }
}

reveille_sdk::export_check!(ReportsStopped);

#[cfg(test)]
mod tests {
    use super::*;
    use reveille_sdk::testing::Case;

    fn silent_since(last: &str) -> Case {
        Case::tick().last_report_at(last)
    }

    #[test]
    fn silence_is_a_warning_past_the_first_threshold_and_critical_past_the_second() {
        let last = "2026-11-20T00:00:00Z";
        let run = |now: &str| silent_since(last).now(now).run::<ReportsStopped>();
        run("2026-11-22T00:00:00Z").assert_quiet();
        let warning = run("2026-11-22T00:00:01Z");
        let finding = warning.finding("reports-stopped");
        assert_eq!(finding.severity, Severity::Warning);
        assert_eq!(finding.summary, "No reports for 2d 1s");
        assert_eq!(finding.summary_for("ru"), "Нет отчётов уже 2 д 1 с");
        let four_days = run("2026-11-24T00:00:00Z");
        assert_eq!(
            four_days.finding("reports-stopped").severity,
            Severity::Warning
        );
        let critical = run("2026-11-24T00:00:01Z");
        assert_eq!(
            critical.finding("reports-stopped").severity,
            Severity::Critical
        );
    }

    #[test]
    fn an_installation_that_never_reported_has_nothing_to_stop() {
        Case::tick()
            .now("2026-11-24T00:00:00Z")
            .run::<ReportsStopped>()
            .assert_quiet();
    }

    #[test]
    fn thresholds_in_the_wrong_order_are_the_settings_fault() {
        let outcome = silent_since("2026-11-20T00:00:00Z")
            .now("2026-11-21T00:00:00Z")
            .setting("warning-after", "3d")
            .setting("critical-after", "1d")
            .run::<ReportsStopped>();
        assert_eq!(
            outcome.error(),
            "setting `critical-after` (1d) is shorter than `warning-after` (3d)"
        );
    }
}

//! `maintenance-too-long`: the product's service was put in maintenance mode and left
//! there. Maintenance is planned work and says nothing by itself; hours later it usually
//! means a technician forgot to switch it back, and users see no documents meanwhile.
//!
//! It remembers in its state since when the service has been in maintenance (a check's
//! memory between evaluations), and runs on reports and on the host's ticks, so the alert
//! fires at its time even when the next report is an hour away. A report without a
//! `service` record neither starts nor ends the count. Findings are in English and Russian.

use reveille_sdk::{
    Check, Descriptor, Finding, Input, Output, ServiceState, Severity, Timestamp, Trigger,
    format_duration, format_duration_in,
};

pub struct MaintenanceTooLong;

/// State: when the service was first seen in maintenance, in milliseconds.
const SINCE: &str = "maintenance-since";

impl Check for MaintenanceTooLong {
    fn describe() -> Descriptor {
        Descriptor::new(
            "maintenance-too-long",
            env!("CARGO_PKG_VERSION"),
            "The service left in maintenance mode too long",
        )
        .on(Trigger::Report)
        .on(Trigger::Tick)
        .setting_duration(
            "max",
            "4h",
            "Warn when the service has been in maintenance longer than this",
        )
    }

    fn evaluate(input: &Input) -> Result<Output, String> {
        let max = input.config_duration("max")?;
        let since = input
            .state(SINCE)
            .and_then(|ms| ms.parse().ok())
            .map(Timestamp::from_millis);
        let service = input.report().and_then(|report| report.service());
        let in_maintenance = match service {
            Some(service) => service.state == ServiceState::Maintenance,
            // Nothing said (no report yet, or one without `service`): as it was.
            None => since.is_some(),
        };
        if !in_maintenance {
            return Ok(Output::new().remove_state(SINCE));
        }
        let now = input.now();
        let Some(since) = since else {
            return Ok(Output::new().set_state(SINCE, now.as_millis().to_string()));
        };
        let lasting = since.age_at(now);
        if lasting <= max {
            return Ok(Output::new());
        }
        Ok(Output::new().finding(
            Finding::new(
                "maintenance-too-long",
                Severity::Warning,
                format!("In maintenance mode for {}", format_duration(lasting)),
            )
            .details(format!(
                "The service has been in maintenance since {since}, longer than {}: users \
                 get no documents. Switch it back if the work is done.",
                format_duration(max)
            ))
            .summary_in(
                "ru",
                format!(
                    "Режим обслуживания уже {}",
                    format_duration_in("ru", lasting)
                ),
            )
            .details_in(
                "ru",
                format!(
                    "Служба в режиме обслуживания с {since}, дольше {}: пользователи не \
                     получают документы. Верните её в работу, если работы закончены.",
                    format_duration_in("ru", max)
                ),
            )
            .label("since", since.to_string()),
        ))
    }
}

reveille_sdk::export_check!(MaintenanceTooLong);

#[cfg(test)]
mod tests {
    use super::*;
    use reveille_sdk::testing::Case;

    fn status(at: &str, state: &str) -> String {
        format!(
            r#"<report schema="1" agent="status-agent" generated-at="{at}">
                 <service state="{state}" http-status="503"/>
               </report>"#
        )
    }

    #[test]
    fn fires_once_maintenance_outlasts_the_limit_even_between_reports() {
        let began = Case::report(&status("2026-11-20T18:00:00Z", "maintenance"))
            .run::<MaintenanceTooLong>();
        began.assert_quiet();
        assert!(began.state(SINCE).is_some());
        let still = began
            .then_report(&status("2026-11-20T21:00:00Z", "maintenance"))
            .run::<MaintenanceTooLong>();
        still.assert_quiet();
        let tick = still
            .then_tick()
            .now("2026-11-20T22:30:00Z")
            .run::<MaintenanceTooLong>();
        let finding = tick.finding("maintenance-too-long");
        assert_eq!(finding.summary, "In maintenance mode for 4h 30m");
        assert_eq!(
            finding.summary_for("ru"),
            "Режим обслуживания уже 4 ч 30 мин"
        );
    }

    #[test]
    fn running_again_ends_it_and_a_report_without_service_changes_nothing() {
        let long = Case::report(&status("2026-11-20T10:00:00Z", "maintenance"))
            .run::<MaintenanceTooLong>()
            .then_tick()
            .now("2026-11-20T15:00:00Z")
            .run::<MaintenanceTooLong>();
        assert_eq!(long.keys(), ["maintenance-too-long"]);
        let silent = r#"<report schema="1" agent="report-agent"
            generated-at="2026-11-20T15:30:00Z"><bases/></report>"#;
        let unsaid = long.then_report(silent).run::<MaintenanceTooLong>();
        assert_eq!(unsaid.keys(), ["maintenance-too-long"]);
        let back = unsaid
            .then_report(&status("2026-11-20T16:00:00Z", "running"))
            .run::<MaintenanceTooLong>();
        back.assert_quiet();
        assert_eq!(back.state(SINCE), None);
    }

    #[test]
    fn the_limit_is_a_duration() {
        let refused = Case::report(&status("2026-11-20T10:00:00Z", "maintenance"))
            .setting("max", "four hours")
            .try_run::<MaintenanceTooLong>()
            .err()
            .unwrap();
        assert!(refused.contains("is not a duration"), "{refused}");
    }
}

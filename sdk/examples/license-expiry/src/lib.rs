//! `license-expiry`: a license the report names runs out soon: 90 days before (info, time
//! to sell the renewal), 7 days (warning), 2 days (critical), and once it has run out.
//!
//! The date comes from the report, wherever the agent puts it (`path`, by default
//! `license/@expires`, as `<license expires="2027-01-31"/>`): a date, or a date and time
//! with its offset; a date alone ends at midnight UTC. The check runs on every report and
//! on the host's ticks (with the latest report), so the alert grows more severe as the day
//! comes even when nothing new is reported: one alert, `license-expiry`, whose severity
//! rises. Findings are in English and Russian.

use std::time::Duration;

use reveille_sdk::{
    Check, Descriptor, Finding, Input, Output, Severity, Timestamp, Trigger, format_duration,
    format_duration_in,
};

pub struct LicenseExpiry;

const KEY: &str = "license-expiry";

impl Check for LicenseExpiry {
    fn describe() -> Descriptor {
        Descriptor::new(
            "license-expiry",
            env!("CARGO_PKG_VERSION"),
            "A license date the report carries draws near (90, 7, 2 days)",
        )
        .on(Trigger::Report)
        .on(Trigger::Tick)
        .setting(
            "path",
            "license/@expires",
            "Where the report says when the license ends (a date, or an RFC 3339 date-time)",
        )
        .setting_duration("info-before", "90d", "Tell (info) this long before")
        .setting_duration("warning-before", "7d", "Warn this long before")
        .setting_duration(
            "critical-before",
            "2d",
            "Critical this long before, and after",
        )
    }

    fn evaluate(input: &Input) -> Result<Output, String> {
        let path = input.config("path").unwrap_or_default().to_string();
        let notices = [
            (
                Severity::Critical,
                input.config_duration("critical-before")?,
            ),
            (Severity::Warning, input.config_duration("warning-before")?),
            (Severity::Info, input.config_duration("info-before")?),
        ];
        let Some(report) = input.report() else {
            return Ok(Output::new());
        };
        let Some(written) = report.value(&path) else {
            return Ok(Output::new().carry_forward(input));
        };
        let Some(expires) = parse_date(&written) else {
            let finding = Finding::new(KEY, Severity::Warning, "License date unreadable")
                .details(format!(
                    "The report's {path} is `{written}`, not a date (2027-01-31) or an RFC \
                     3339 date-time."
                ))
                .summary_in("ru", "Дата лицензии не читается")
                .details_in(
                    "ru",
                    format!("В отчёте {path} = `{written}`: это не дата (2027-01-31)."),
                );
            return Ok(Output::new().conclude(input, vec![finding]));
        };
        let now = input.now();
        let left = expires - now;
        let findings = if expires <= now {
            vec![
                Finding::new(
                    KEY,
                    Severity::Critical,
                    format!("License expired on {expires}"),
                )
                .summary_in("ru", format!("Лицензия истекла {expires}"))
                .label("expires", expires.to_string()),
            ]
        } else {
            // The most severe notice whose time has come, if any.
            notices
                .iter()
                .find(|(_, before)| left <= *before)
                .map(|(severity, _)| expiring(*severity, expires, left))
                .into_iter()
                .collect()
        };
        Ok(Output::new().conclude(input, findings))
    }
}

fn expiring(severity: Severity, expires: Timestamp, left: Duration) -> Finding {
    // Whole hours are enough for a countdown of days.
    let left = Duration::from_secs(left.as_secs() / 3600 * 3600);
    Finding::new(
        KEY,
        severity,
        format!("License expires in {}", format_duration(left)),
    )
    .details(format!(
        "The license ends at {expires}: renew it before then, or the product stops serving \
         documents."
    ))
    .summary_in(
        "ru",
        format!("Лицензия истекает через {}", format_duration_in("ru", left)),
    )
    .details_in(
        "ru",
        format!(
            "Лицензия заканчивается {expires}: продлите её заранее, иначе продукт перестанет \
             выдавать документы."
        ),
    )
    .label("expires", expires.to_string())
}

/// `2027-01-31` (midnight UTC) or an RFC 3339 date-time.
fn parse_date(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if text.len() == 10 {
        return Timestamp::parse_rfc3339(&format!("{text}T00:00:00Z")).ok();
    }
    Timestamp::parse_rfc3339(text).ok()
}

reveille_sdk::export_check!(LicenseExpiry);

#[cfg(test)]
mod tests {
    use super::*;
    use reveille_sdk::testing::Case;

    fn report(license: &str) -> String {
        format!(
            r#"<report schema="1" agent="report-agent" generated-at="2026-11-01T00:00:00Z">
                 {license}
               </report>"#
        )
    }

    fn at(expires: &str, now: &str) -> reveille_sdk::testing::Outcome {
        Case::report(&report(&format!(r#"<license expires="{expires}"/>"#)))
            .now(now)
            .run::<LicenseExpiry>()
    }

    #[test]
    fn ninety_seven_and_two_days_before_and_after() {
        at("2027-01-31", "2026-11-01T00:00:00Z").assert_quiet();
        let cases = [
            (
                "2026-11-02T00:00:00Z",
                Severity::Info,
                "License expires in 90d",
            ),
            (
                "2027-01-24T00:00:00Z",
                Severity::Warning,
                "License expires in 7d",
            ),
            (
                "2027-01-29T12:30:00Z",
                Severity::Critical,
                "License expires in 1d 11h",
            ),
            (
                "2027-01-31T00:00:00Z",
                Severity::Critical,
                "License expired on 2027-01-31 00:00 UTC",
            ),
        ];
        for (now, severity, summary) in cases {
            let outcome = at("2027-01-31", now);
            let finding = outcome.finding(KEY);
            assert_eq!(
                (finding.severity, finding.summary.as_str()),
                (severity, summary),
                "{now}"
            );
        }
        let russian = at("2027-01-31", "2027-01-29T12:30:00Z");
        assert_eq!(
            russian.finding(KEY).summary_for("ru"),
            "Лицензия истекает через 1 д 11 ч"
        );
    }

    #[test]
    fn ticks_raise_the_alert_as_the_day_comes_without_a_new_report() {
        let first = at("2027-01-31T09:00:00+03:00", "2026-12-01T00:00:00Z");
        assert_eq!(first.finding(KEY).severity, Severity::Info);
        let later = first
            .then_tick()
            .now("2027-01-30T00:00:00Z")
            .run::<LicenseExpiry>();
        assert_eq!(later.finding(KEY).severity, Severity::Critical);
        assert_eq!(later.finding(KEY).summary, "License expires in 1d 6h");
    }

    #[test]
    fn a_date_elsewhere_an_unreadable_one_and_none_at_all() {
        let elsewhere = Case::report(&report(r#"<product license-until="2026-11-05"/>"#))
            .setting("path", "product/@license-until")
            .run::<LicenseExpiry>();
        assert_eq!(elsewhere.finding(KEY).severity, Severity::Warning);
        let unreadable = at("next spring", "2026-11-01T00:00:00Z");
        assert_eq!(unreadable.finding(KEY).summary, "License date unreadable");
        let status = unreadable
            .then_report(&report("").replace("report-agent", "status-agent"))
            .run::<LicenseExpiry>();
        assert_eq!(status.keys(), [KEY]);
    }
}

//! `dongle-lost`: the SenseLock license dongle is missing or not usable.
//!
//! Without the dongle there is no license, the content sets are not assembled and users
//! see no documents, so this is critical. It fires when the report carries no
//! `protection` record at all (exactly what the product's own alert checks) or when the
//! record's state is anything but `present`. A status agent's report may leave the section
//! out; then the last conclusion stands. It speaks English and Russian.

use reveille_sdk::{Check, Descriptor, Finding, Input, Output, ProtectionState, Severity, Trigger};

pub struct DongleLost;

/// Stable key: one alert per installation for "the license is gone", whatever the cause.
const KEY: &str = "dongle-lost";

impl Check for DongleLost {
    fn describe() -> Descriptor {
        Descriptor::new(
            "dongle-lost",
            env!("CARGO_PKG_VERSION"),
            "License dongle (SenseLock) missing, lost, expired, blacklisted or unreachable",
        )
        .on(Trigger::Report)
    }

    fn evaluate(input: &Input) -> Result<Output, String> {
        let Some(report) = input.report() else {
            return Ok(Output::new().carry_forward(input));
        };
        let finding = match report.protection() {
            None if report.agent().as_deref() == Some("status-agent") => {
                return Ok(Output::new().carry_forward(input));
            }
            None => Some(
                Finding::new(KEY, Severity::Critical, "License dongle not reported")
                    .details(
                        "The report has no protection record: the dongle is not visible to \
                         the product. Check that the SenseLock key is plugged in or forwarded \
                         to this machine (USB over network) and that its forwarding software \
                         is running and licensed.",
                    )
                    .summary_in("ru", "Ключ защиты не виден в отчёте")
                    .details_in(
                        "ru",
                        "В отчёте нет записи о защите: продукт не видит ключ. Проверьте, что \
                         ключ SenseLock подключён к этой машине или проброшен на неё (USB по \
                         сети) и что программа проброса запущена и её лицензия действует.",
                    )
                    .label("state", "missing"),
            ),
            Some(p) if p.state == ProtectionState::Present => None,
            Some(p) => {
                let state = p.state.as_str();
                let (what, ru, state_ru) = match &p.state {
                    ProtectionState::Lost => {
                        ("License dongle lost", "Ключ защиты потерян", "потерян")
                    }
                    ProtectionState::Expired => ("License expired", "Лицензия истекла", "истёк"),
                    ProtectionState::Blacklisted => (
                        "License dongle blacklisted",
                        "Ключ защиты в чёрном списке",
                        "в чёрном списке",
                    ),
                    ProtectionState::ManagerUnreachable => (
                        "License manager unreachable",
                        "Менеджер лицензий недоступен",
                        "менеджер лицензий недоступен",
                    ),
                    _ => ("License dongle not usable", "Ключ защиты непригоден", state),
                };
                let mut details = format!("Protection state: {state}");
                let mut details_ru = format!("Состояние защиты: {state_ru}");
                if let Some(code) = &p.error_code {
                    details.push_str(&format!(", error code {code}"));
                    details_ru.push_str(&format!(", код ошибки {code}"));
                }
                if let Some(forwarding) = &p.forwarding {
                    details.push_str(&format!(
                        ". The dongle reaches the machine via {forwarding}: check that this \
                         software is running and its license is valid"
                    ));
                    details_ru.push_str(&format!(
                        ". Ключ доступен машине через {forwarding}: проверьте, что эта \
                         программа запущена и её лицензия действует"
                    ));
                }
                details.push('.');
                details_ru.push('.');
                let mut finding = Finding::new(KEY, Severity::Critical, what)
                    .details(details)
                    .summary_in("ru", ru)
                    .details_in("ru", details_ru)
                    .label("state", state);
                if let Some(code) = p.error_code {
                    finding = finding.label("error-code", code);
                }
                Some(finding)
            }
        };
        Ok(Output::new().conclude(input, finding.into_iter().collect()))
    }
}

reveille_sdk::export_check!(DongleLost);

#[cfg(test)]
mod tests {
    use super::*;
    use reveille_sdk::testing::Case;

    fn report(protection: &str) -> String {
        format!(
            r#"<report schema="1" agent="report-agent" generated-at="2026-11-20T01:07:00+03:00">
                 <installation id="vector-main"><client>ООО «Вектор»</client></installation>
                 {protection}
               </report>"#
        )
    }

    const LOST: &str = r#"<protection kind="senselock" state="lost" error-code="4111"
        forwarding="usb-over-network"/>"#;
    const PRESENT: &str = r#"<protection kind="senselock" state="present"/>"#;

    #[test]
    fn a_lost_dongle_says_its_code_and_forwarding_in_both_languages() {
        let outcome = Case::report(&report(LOST)).run::<DongleLost>();
        let finding = outcome.finding(KEY);
        assert_eq!(finding.severity, Severity::Critical);
        assert_eq!(finding.summary, "License dongle lost");
        assert!(
            finding.details.contains("error code 4111"),
            "{}",
            finding.details
        );
        assert!(finding.details.contains("usb-over-network"));
        assert_eq!(finding.summary_for("ru"), "Ключ защиты потерян");
        assert!(finding.details_for("ru-RU").contains("код ошибки 4111"));
        assert_eq!(finding.summary_for("it"), "License dongle lost");
        assert_eq!(
            finding.labels,
            vec![
                ("state".into(), "lost".into()),
                ("error-code".into(), "4111".into())
            ]
        );
    }

    #[test]
    fn no_protection_record_in_a_full_report_is_the_alarm_itself() {
        let outcome = Case::report(&report("")).run::<DongleLost>();
        assert_eq!(outcome.finding(KEY).summary, "License dongle not reported");
        assert_eq!(outcome.finding(KEY).labels[0].1, "missing");
    }

    #[test]
    fn every_state_but_present_fires_and_an_unknown_one_is_never_taken_for_present() {
        for (state, summary) in [
            ("expired", "License expired"),
            ("blacklisted", "License dongle blacklisted"),
            ("manager-unreachable", "License manager unreachable"),
            ("on-fire", "License dongle not usable"),
        ] {
            let xml = report(&format!(r#"<protection state="{state}"/>"#));
            let outcome = Case::report(&xml).run::<DongleLost>();
            assert_eq!(outcome.finding(KEY).summary, summary, "{state}");
        }
        Case::report(&report(PRESENT))
            .run::<DongleLost>()
            .assert_quiet();
    }

    #[test]
    fn a_status_report_without_protection_leaves_the_last_verdict_standing() {
        let lost = Case::report(&report(LOST)).run::<DongleLost>();
        let status = report("").replace("report-agent", "status-agent");
        let later = lost.then_report(&status).run::<DongleLost>();
        assert_eq!(later.finding(KEY).summary, "License dongle lost");
        assert_eq!(later.finding(KEY).summary_for("ru"), "Ключ защиты потерян");
        let back = later.then_report(&report(PRESENT)).run::<DongleLost>();
        back.assert_quiet();
        let quiet_status = back.then_report(&status).run::<DongleLost>();
        quiet_status.assert_quiet();
    }
}

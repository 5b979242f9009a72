//! `service-down`: the product's service is not serving, seen from the machine itself.
//!
//! The status agent (and the full report) say what the service is doing: its state, the
//! HTTP status of its main page and the account it runs as. A stopped service or one in
//! error, or a main page answering 5xx, leaves every user without documents: critical,
//! the same hour, days before stale updates or silent reports would tell (story 4 of
//! DOMAIN.md). A 4xx main page is a warning; a service running under another account
//! than the one the distributor expects (it cannot see bases on a network share) is a
//! warning when `run-as` is set. `starting` and `maintenance` are intentional or passing
//! and say nothing; a report without a `service` record leaves the last verdict standing.
//! It speaks English and Russian.

use reveille_sdk::{Check, Descriptor, Finding, Input, Output, ServiceState, Severity, Trigger};

pub struct ServiceDown;

/// One alert per installation for "the service does not serve", whatever the symptom, so
/// a stopped service that comes back in error stays the same story.
const KEY: &str = "service-down";

impl Check for ServiceDown {
    fn describe() -> Descriptor {
        Descriptor::new(
            "service-down",
            env!("CARGO_PKG_VERSION"),
            "The product's service stopped, in error, answering HTTP errors, or running as the wrong account",
        )
        .on(Trigger::Report)
        .setting(
            "run-as",
            "",
            "The account the service must run as (e.g. kodeks-svc); empty: not checked",
        )
    }

    fn evaluate(input: &Input) -> Result<Output, String> {
        let Some(service) = input.report().and_then(|r| r.service()) else {
            return Ok(Output::new().carry_forward(input));
        };
        let mut findings = Vec::new();
        let status = service.http_status;
        let down = match &service.state {
            ServiceState::Stopped => Some(("Service stopped", "Служба остановлена")),
            ServiceState::Error => Some(("Service in error", "Служба в ошибке")),
            ServiceState::Running if status.is_some_and(|s| s >= 500) => Some((
                "Service answers with a server error",
                "Служба отвечает ошибкой сервера",
            )),
            _ => None,
        };
        let state = service.state.as_str();
        let mut details = format!("Service state: {state}");
        let mut details_ru = format!("Состояние службы: {state}");
        if let Some(status) = status {
            details.push_str(&format!(", main page HTTP {status}"));
            details_ru.push_str(&format!(", главная страница HTTP {status}"));
        }
        let run_as = service.element.attr("run-as").map(str::to_string);
        if let Some(account) = &run_as {
            details.push_str(&format!(", running as {account}"));
            details_ru.push_str(&format!(", учётная запись {account}"));
        }
        details.push('.');
        details_ru.push('.');
        if let Some((what, what_ru)) = down {
            findings.push(
                Finding::new(KEY, Severity::Critical, what)
                    .details(format!(
                        "{details} Users cannot open documents: check the service on the \
                         installation's server (its log, the account it runs as, whether it \
                         sees the bases)."
                    ))
                    .summary_in("ru", what_ru)
                    .details_in(
                        "ru",
                        format!(
                            "{details_ru} Пользователи не могут открыть документы: проверьте \
                             службу на сервере установки (её журнал, учётную запись, видит ли \
                             она базы)."
                        ),
                    )
                    .label("state", state),
            );
        } else if let Some(status) = status.filter(|s| (400..500).contains(s)) {
            findings.push(
                Finding::new(
                    KEY,
                    Severity::Warning,
                    format!("Main page answers HTTP {status}"),
                )
                .details(details.clone())
                .summary_in("ru", format!("Главная страница отвечает HTTP {status}"))
                .details_in("ru", details_ru.clone())
                .label("http-status", status.to_string()),
            );
        }
        let expected = input.config("run-as").map(str::trim).unwrap_or_default();
        if let Some(account) = run_as.filter(|a| !expected.is_empty() && a != expected) {
            findings.push(
                Finding::new(
                    "wrong-account",
                    Severity::Warning,
                    format!("Service runs as {account}, not {expected}"),
                )
                .details(format!(
                    "{details} Under another account the service may not see bases on a \
                     network share or the license forwarding."
                ))
                .summary_in(
                    "ru",
                    format!("Служба работает под {account}, а не под {expected}"),
                )
                .details_in(
                    "ru",
                    format!(
                        "{details_ru} Под другой учётной записью служба может не видеть базы на \
                         сетевом ресурсе или проброс лицензии."
                    ),
                )
                .label("run-as", account),
            );
        }
        Ok(Output::new().conclude(input, findings))
    }
}

reveille_sdk::export_check!(ServiceDown);

#[cfg(test)]
mod tests {
    use super::*;
    use reveille_sdk::testing::Case;

    fn status(service: &str) -> String {
        format!(
            r#"<report schema="1" agent="status-agent" generated-at="2026-02-02T10:00:00+03:00">
                 {service}
               </report>"#
        )
    }

    #[test]
    fn a_stopped_service_or_a_server_error_is_critical_in_both_languages() {
        let stopped = Case::report(&status(r#"<service state="stopped" run-as="svc"/>"#))
            .run::<ServiceDown>();
        let finding = stopped.finding(KEY);
        assert_eq!(finding.severity, Severity::Critical);
        assert_eq!(finding.summary_for("ru"), "Служба остановлена");
        assert!(
            finding
                .details
                .starts_with("Service state: stopped, running as svc.")
        );
        assert!(
            finding
                .details_for("ru")
                .starts_with("Состояние службы: stopped")
        );
        let failing = Case::report(&status(r#"<service state="running" http-status="503"/>"#))
            .run::<ServiceDown>();
        assert_eq!(
            failing.finding(KEY).summary,
            "Service answers with a server error"
        );
    }

    #[test]
    fn a_client_error_is_a_warning_and_passing_states_say_nothing() {
        let missing = Case::report(&status(r#"<service state="running" http-status="404"/>"#))
            .run::<ServiceDown>();
        assert_eq!(missing.finding(KEY).severity, Severity::Warning);
        for state in ["starting", "maintenance", "running"] {
            let xml = status(&format!(r#"<service state="{state}" http-status="200"/>"#));
            Case::report(&xml).run::<ServiceDown>().assert_quiet();
        }
    }

    #[test]
    fn the_wrong_account_is_told_only_when_one_is_expected() {
        let xml = status(r#"<service state="running" run-as="user"/>"#);
        Case::report(&xml).run::<ServiceDown>().assert_quiet();
        let wrong = Case::report(&xml)
            .setting("run-as", "kodeks-svc")
            .run::<ServiceDown>();
        assert_eq!(wrong.keys(), ["wrong-account"]);
        assert_eq!(
            wrong.finding("wrong-account").summary_for("ru"),
            "Служба работает под user, а не под kodeks-svc"
        );
    }

    #[test]
    fn a_report_without_a_service_record_keeps_the_verdict() {
        let stopped = Case::report(&status(r#"<service state="stopped"/>"#)).run::<ServiceDown>();
        let without = stopped.then_report(&status("")).run::<ServiceDown>();
        assert_eq!(without.keys(), [KEY]);
    }
}

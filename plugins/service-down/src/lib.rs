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
            ServiceState::Stopped => Some("Service stopped"),
            ServiceState::Error => Some("Service in error"),
            ServiceState::Running if status.is_some_and(|s| s >= 500) => {
                Some("Service answers with a server error")
            }
            _ => None,
        };
        let mut details = format!("Service state: {}", service.state.as_str());
        if let Some(status) = status {
            details.push_str(&format!(", main page HTTP {status}"));
        }
        let run_as = service.element.attr("run-as").map(str::to_string);
        if let Some(account) = &run_as {
            details.push_str(&format!(", running as {account}"));
        }
        details.push('.');
        if let Some(what) = down {
            findings.push(
                Finding::new(KEY, Severity::Critical, what)
                    .details(format!(
                        "{details} Users cannot open documents: check the service on the \
                         installation's server (its log, the account it runs as, whether it \
                         sees the bases)."
                    ))
                    .label("state", service.state.as_str()),
            );
        } else if let Some(status) = status.filter(|s| (400..500).contains(s)) {
            findings.push(
                Finding::new(
                    KEY,
                    Severity::Warning,
                    format!("Main page answers HTTP {status}"),
                )
                .details(details.clone())
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
                .label("run-as", account),
            );
        }
        Ok(Output::new().conclude(input, findings))
    }
}

reveille_sdk::export_check!(ServiceDown);

//! `dongle-lost`: the SenseLock license dongle is missing or not usable.
//!
//! Without the dongle there is no license, the content sets are not assembled and users
//! see no documents, so this is critical. It fires when the report carries no
//! `protection` record at all (exactly what the product's own alert checks) or when the
//! record's state is anything but `present`. A status agent's report may leave the section
//! out; then the last conclusion stands.

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
                    .label("state", "missing"),
            ),
            Some(p) if p.state == ProtectionState::Present => None,
            Some(p) => {
                let what = match &p.state {
                    ProtectionState::Lost => "License dongle lost",
                    ProtectionState::Expired => "License expired",
                    ProtectionState::Blacklisted => "License dongle blacklisted",
                    ProtectionState::ManagerUnreachable => "License manager unreachable",
                    _ => "License dongle not usable",
                };
                let mut details = format!("Protection state: {}", p.state.as_str());
                if let Some(code) = &p.error_code {
                    details.push_str(&format!(", error code {code}"));
                }
                if let Some(forwarding) = &p.forwarding {
                    details.push_str(&format!(
                        ". The dongle reaches the machine via {forwarding}: check that this \
                         software is running and its license is valid"
                    ));
                }
                details.push('.');
                let mut finding = Finding::new(KEY, Severity::Critical, what)
                    .details(details)
                    .label("state", p.state.as_str());
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

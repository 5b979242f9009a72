//! `redirect-down`: the installation is unreachable by its domain name but reachable by IP.
//!
//! That pattern means the redirect server or DNS in front of it failed, not the
//! installation: usually many installations at once, and not the client's fault. The
//! verdict comes from the host's probes or a report's `network` section; a report without
//! that section leaves the last verdict standing.

use reveille_sdk::{Check, Descriptor, Finding, Input, Output, Severity, Trigger};

pub struct RedirectDown;

impl Check for RedirectDown {
    fn describe() -> Descriptor {
        Descriptor::new(
            "redirect-down",
            env!("CARGO_PKG_VERSION"),
            "Unreachable by domain name but reachable by IP: the redirect server or DNS failed",
        )
        .on(Trigger::Probe)
        .on(Trigger::Report)
    }

    fn evaluate(input: &Input) -> Result<Output, String> {
        let Some(network) = input.report().and_then(|r| r.network()) else {
            return Ok(Output::new().carry_forward(input));
        };
        let down =
            network.reachable_by_domain == Some(false) && network.reachable_by_ip == Some(true);
        let findings = if down {
            let domain = network
                .domain
                .clone()
                .unwrap_or_else(|| "its domain".into());
            vec![
                Finding::new(
                    "redirect-down",
                    Severity::Critical,
                    format!("Unreachable by domain name {domain}, reachable by IP"),
                )
                .details(format!(
                    "Requests to {domain} fail while the server answers by IP address: the \
                     redirect server or DNS in front of the installation is down, not the \
                     installation. Users can work by IP address meanwhile."
                ))
                .label("domain", domain),
            ]
        } else {
            Vec::new()
        };
        Ok(Output::new().conclude(input, findings))
    }
}

reveille_sdk::export_check!(RedirectDown);

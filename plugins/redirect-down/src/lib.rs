//! `redirect-down`: the installation is unreachable by its domain name but reachable by IP.
//!
//! That pattern means the redirect server or DNS in front of it failed, not the
//! installation: usually many installations at once, and not the client's fault. The
//! verdict comes from the host's probes or a report's `network` section; a report without
//! that section leaves the last verdict standing. It speaks English and Russian.

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
            // How the summary names the domain, and how the details say where requests go.
            let (name, name_ru, to, to_ru) = match network.domain.as_deref() {
                Some(domain) => (
                    format!("domain name {domain}"),
                    format!("имени {domain}"),
                    domain.to_string(),
                    domain.to_string(),
                ),
                None => (
                    "its domain name".to_string(),
                    "доменному имени".to_string(),
                    "its domain name".to_string(),
                    "доменному имени".to_string(),
                ),
            };
            vec![
                Finding::new(
                    "redirect-down",
                    Severity::Critical,
                    format!("Unreachable by {name}, reachable by IP"),
                )
                .details(format!(
                    "Requests to {to} fail while the server answers by IP address: the \
                     redirect server or DNS in front of the installation is down, not the \
                     installation. Users can work by IP address meanwhile."
                ))
                .summary_in("ru", format!("Недоступна по {name_ru}, доступна по IP"))
                .details_in(
                    "ru",
                    format!(
                        "Запросы по {to_ru} не проходят, а по IP-адресу сервер отвечает: не \
                         работает сервер перенаправления или DNS перед установкой, а не сама \
                         установка. Пока пользователи могут работать по IP-адресу."
                    ),
                )
                .label("domain", network.domain.as_deref().unwrap_or("unknown")),
            ]
        } else {
            Vec::new()
        };
        Ok(Output::new().conclude(input, findings))
    }
}

reveille_sdk::export_check!(RedirectDown);

#[cfg(test)]
mod tests {
    use super::*;
    use reveille_sdk::testing::Case;

    fn probe(by_domain: bool, by_ip: bool) -> String {
        format!(
            r#"<report schema="1" agent="probe" generated-at="2026-11-15T06:00:00+03:00">
                 <network domain="vector.example.ru" reachable-by-domain="{by_domain}"
                          reachable-by-ip="{by_ip}"/>
               </report>"#
        )
    }

    #[test]
    fn unreachable_by_name_but_not_by_ip_is_the_redirect_server() {
        let down = Case::probe(&probe(false, true)).run::<RedirectDown>();
        let finding = down.finding("redirect-down");
        assert_eq!(
            finding.summary,
            "Unreachable by domain name vector.example.ru, reachable by IP"
        );
        assert_eq!(
            finding.summary_for("ru"),
            "Недоступна по имени vector.example.ru, доступна по IP"
        );
        assert_eq!(
            finding.labels,
            vec![("domain".into(), "vector.example.ru".into())]
        );
    }

    #[test]
    fn a_dead_server_or_a_healthy_one_is_not_a_redirect_outage() {
        Case::probe(&probe(false, false))
            .run::<RedirectDown>()
            .assert_quiet();
        Case::probe(&probe(true, true))
            .run::<RedirectDown>()
            .assert_quiet();
    }

    #[test]
    fn a_report_without_network_keeps_the_probes_verdict() {
        let down = Case::probe(&probe(false, true)).run::<RedirectDown>();
        let report = r#"<report schema="1" agent="report-agent"
            generated-at="2026-11-15T07:00:00+03:00"><service state="running"/></report>"#;
        let carried = down.then_report(report).run::<RedirectDown>();
        assert_eq!(carried.keys(), ["redirect-down"]);
        let back = carried.then_probe(&probe(true, true)).run::<RedirectDown>();
        back.assert_quiet();
    }

    #[test]
    fn without_a_domain_it_says_so() {
        let xml = r#"<report schema="1" agent="probe" generated-at="2026-11-15T06:00:00Z">
            <network reachable-by-domain="false" reachable-by-ip="true"/></report>"#;
        let outcome = Case::probe(xml).run::<RedirectDown>();
        assert_eq!(
            outcome.finding("redirect-down").summary,
            "Unreachable by its domain name, reachable by IP"
        );
    }
}

//! `version-minimum`: the shell version is below the distributor's required minimum.
//!
//! Versions compare numerically part by part (`6.4.10.1` > `6.4.9.99`). With no minimum
//! configured the check says nothing. A report without a `product` section (a status
//! report) leaves the last verdict standing.

use reveille_sdk::{Check, Descriptor, Finding, Input, Output, Severity, Trigger};

pub struct VersionMinimum;

impl Check for VersionMinimum {
    fn describe() -> Descriptor {
        Descriptor::new(
            "version-minimum",
            env!("CARGO_PKG_VERSION"),
            "Shell version below the required minimum",
        )
        .on(Trigger::Report)
        .setting_version(
            "minimum",
            "",
            "Lowest acceptable shell version, e.g. 6.4.3.59; empty: no requirement",
        )
    }

    fn evaluate(input: &Input) -> Result<Output, String> {
        let Some(minimum) = input.config_version("minimum")? else {
            return Ok(Output::new().conclude(input, Vec::new()));
        };
        let Some(version) = input.report().and_then(|r| r.shell_version()) else {
            return Ok(Output::new().carry_forward(input));
        };
        let findings = match version {
            Err(error) => vec![
                Finding::new(
                    "version-unreadable",
                    Severity::Info,
                    "Shell version unreadable",
                )
                .details(format!("The report's product/@shell-version: {error}."))
                .summary_in("ru", "Версия оболочки не читается")
                .details_in("ru", format!("product/@shell-version в отчёте: {error}.")),
            ],
            Ok(version) if version < minimum => vec![
                Finding::new(
                    "version-below-minimum",
                    Severity::Warning,
                    format!("Shell version {version} is below the required {minimum}"),
                )
                .details(format!(
                    "The installation runs shell {version}; the distributor requires \
                     {minimum} or later. Plan the upgrade with the client's administrator."
                ))
                .summary_in(
                    "ru",
                    format!("Версия оболочки {version} ниже требуемой {minimum}"),
                )
                .details_in(
                    "ru",
                    format!(
                        "На установке оболочка {version}; требуется {minimum} или новее. \
                         Запланируйте обновление с администратором клиента."
                    ),
                )
                .label("version", version.to_string())
                .label("minimum", minimum.to_string()),
            ],
            Ok(_) => Vec::new(),
        };
        Ok(Output::new().conclude(input, findings))
    }
}

reveille_sdk::export_check!(VersionMinimum);

#[cfg(test)]
mod tests {
    use super::*;
    use reveille_sdk::testing::Case;

    fn shell(version: &str) -> String {
        format!(
            r#"<report schema="1" generated-at="2026-11-20T10:00:00Z">
                 <product name="Техэксперт" shell-version="{version}"/>
               </report>"#
        )
    }

    #[test]
    fn versions_compare_numerically_part_by_part() {
        let run = |version: &str| {
            Case::report(&shell(version))
                .setting("minimum", "6.4.9.99")
                .run::<VersionMinimum>()
        };
        run("6.4.10.1").assert_quiet();
        run("6.4.9.99").assert_quiet();
        let old = run("6.4.2.73");
        let finding = old.finding("version-below-minimum");
        assert_eq!(
            finding.summary,
            "Shell version 6.4.2.73 is below the required 6.4.9.99"
        );
        assert_eq!(
            finding.summary_for("ru"),
            "Версия оболочки 6.4.2.73 ниже требуемой 6.4.9.99"
        );
    }

    #[test]
    fn no_minimum_says_nothing_and_a_bad_minimum_is_refused_before_evaluating() {
        Case::report(&shell("1.0"))
            .run::<VersionMinimum>()
            .assert_quiet();
        let refused = Case::report(&shell("1.0"))
            .setting("minimum", "six")
            .try_run::<VersionMinimum>()
            .err()
            .unwrap();
        assert!(
            refused.contains("`six` is not a dotted numeric version"),
            "{refused}"
        );
    }

    #[test]
    fn an_unreadable_version_is_told_and_a_status_report_keeps_the_verdict() {
        let unreadable = Case::report(&shell("6.4-beta"))
            .setting("minimum", "6.4.3.59")
            .run::<VersionMinimum>();
        assert_eq!(unreadable.keys(), ["version-unreadable"]);
        let old = Case::report(&shell("6.4.2.73"))
            .setting("minimum", "6.4.3.59")
            .run::<VersionMinimum>();
        let status = r#"<report schema="1" agent="status-agent"
            generated-at="2026-11-20T11:00:00Z"><service state="running"/></report>"#;
        let carried = old.then_report(status).run::<VersionMinimum>();
        assert_eq!(carried.keys(), ["version-below-minimum"]);
    }
}

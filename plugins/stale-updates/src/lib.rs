//! `stale-updates`: content updates ("операпы") stopped arriving, or a base is in error.
//!
//! Fires when the newest `operup-at` over all bases is older than the threshold, and once
//! per base reported in `state="error"`. It runs on every report and on every tick (with
//! the latest report), so staleness is noticed even when reports stop too. It speaks
//! English and Russian.

use reveille_sdk::{
    Base, Check, Descriptor, Finding, Input, Output, Severity, Trigger, format_duration,
    format_duration_in,
};

pub struct StaleUpdates;

impl Check for StaleUpdates {
    fn describe() -> Descriptor {
        Descriptor::new(
            "stale-updates",
            env!("CARGO_PKG_VERSION"),
            "Content updates older than a threshold, or a content base in error",
        )
        .on(Trigger::Report)
        .on(Trigger::Tick)
        .setting_duration(
            "threshold",
            "3d",
            "Warn when the newest update of any base is older than this",
        )
    }

    fn evaluate(input: &Input) -> Result<Output, String> {
        let threshold = input.config_duration("threshold")?;
        let Some(report) = input.report() else {
            return Ok(Output::new());
        };
        if report.count("bases") == 0 {
            return Ok(Output::new().carry_forward(input));
        }
        let bases = report.bases();
        let mut findings = Vec::new();
        let newest = bases
            .iter()
            .filter_map(|b| b.operup_at.clone().and_then(Result::ok))
            .max();
        match newest {
            Some(newest) if newest.age_at(input.now()) > threshold => {
                let age = newest.age_at(input.now());
                let (en, ru) = (format_duration(age), format_duration_in("ru", age));
                let (limit, limit_ru) = (
                    format_duration(threshold),
                    format_duration_in("ru", threshold),
                );
                findings.push(
                    Finding::new(
                        "stale-updates",
                        Severity::Warning,
                        format!("Content updates stale: the newest is {en} old"),
                    )
                    .details(format!(
                        "No base has been updated since {newest} (threshold {limit}). {}",
                        base_list(&bases, &EN)
                    ))
                    .summary_in("ru", format!("Обновления устарели: самому свежему {ru}"))
                    .details_in(
                        "ru",
                        format!(
                            "Ни одна база не обновлялась с {newest} (порог {limit_ru}). {}",
                            base_list(&bases, &RU)
                        ),
                    )
                    .label("newest-update", newest.to_string()),
                );
            }
            Some(_) => {}
            None if !bases.is_empty() => findings.push(
                Finding::new(
                    "stale-updates",
                    Severity::Warning,
                    "Content updates unknown: no base reports an update date",
                )
                .details(base_list(&bases, &EN))
                .summary_in(
                    "ru",
                    "Свежесть обновлений неизвестна: ни одна база не сообщает дату обновления",
                )
                .details_in("ru", base_list(&bases, &RU)),
            ),
            None => {}
        }
        findings.extend(bases.iter().filter(|b| b.failed).map(base_error));
        Ok(Output::new().conclude(input, findings))
    }
}

fn base_error(base: &Base) -> Finding {
    let name = base.name.as_deref().unwrap_or(&base.code);
    let code = base.code.as_str();
    let error = base.error_code.as_deref();
    Finding::new(
        format!("base-error:{code}"),
        Severity::Warning,
        format!("Content base {name} ({code}) is in error"),
    )
    .details(format!(
        "The product reports base {code} in state \"error\" with error code {}; its users do \
         not get its documents. Check that the base files are reachable by the service.",
        error.unwrap_or("none given")
    ))
    .summary_in("ru", format!("База {name} ({code}) в ошибке"))
    .details_in(
        "ru",
        format!(
            "Продукт сообщает, что база {code} в состоянии «error» с кодом ошибки {}; её \
             пользователи не получают документы. Проверьте, что файлы базы доступны службе.",
            error.unwrap_or("не указан")
        ),
    )
    .label("base", code)
    .label("error-code", error.unwrap_or("none given"))
}

/// The words of a list of bases in one language.
struct Words {
    bases: &'static str,
    update: &'static str,
    unreadable: &'static str,
    undated: &'static str,
}

const EN: Words = Words {
    bases: "Bases",
    update: "update",
    unreadable: "unreadable date",
    undated: "no date",
};

const RU: Words = Words {
    bases: "Базы",
    update: "обновление",
    unreadable: "дата не читается",
    undated: "нет даты",
};

fn base_list(bases: &[Base], words: &Words) -> String {
    let lines: Vec<String> = bases
        .iter()
        .map(|b| {
            let when = match &b.operup_at {
                Some(Ok(t)) => t.to_string(),
                Some(Err(_)) => words.unreadable.into(),
                None => words.undated.into(),
            };
            let update = b
                .update
                .map(|u| format!("{} {u}, ", words.update))
                .unwrap_or_default();
            format!("{}: {update}{when}", b.code)
        })
        .collect();
    format!("{}: {}.", words.bases, lines.join("; "))
}

reveille_sdk::export_check!(StaleUpdates);

#[cfg(test)]
mod tests {
    use super::*;
    use reveille_sdk::testing::Case;

    fn report(bases: &str) -> String {
        format!(
            r#"<report schema="1" agent="report-agent" generated-at="2026-11-20T12:00:00Z">
                 <installation id="vector-main"><client>ООО «Вектор»</client></installation>
                 <bases>{bases}</bases>
               </report>"#
        )
    }

    fn updated(at: &str) -> String {
        report(&format!(
            r#"<base code="KDS-SNIP" name="Строительство" update="4287" operup-at="{at}"/>"#
        ))
    }

    #[test]
    fn fires_only_past_the_threshold() {
        let at_threshold = Case::report(&updated("2026-11-17T12:00:00Z")).run::<StaleUpdates>();
        at_threshold.assert_quiet();
        let past = Case::report(&updated("2026-11-17T11:59:00Z")).run::<StaleUpdates>();
        let finding = past.finding("stale-updates");
        assert_eq!(finding.severity, Severity::Warning);
        assert_eq!(
            finding.summary,
            "Content updates stale: the newest is 3d 1m old"
        );
        assert_eq!(
            finding.summary_for("ru"),
            "Обновления устарели: самому свежему 3 д 1 мин"
        );
        assert!(finding.details_for("ru").contains("обновление 4287"));
    }

    #[test]
    fn the_threshold_is_a_setting_of_its_own_type() {
        let xml = updated("2026-11-19T00:00:00Z");
        Case::report(&xml).run::<StaleUpdates>().assert_quiet();
        let tight = Case::report(&xml)
            .setting("threshold", "1d")
            .run::<StaleUpdates>();
        assert_eq!(tight.keys(), ["stale-updates"]);
        let refused = Case::report(&xml)
            .setting("threshold", "3 days")
            .try_run::<StaleUpdates>()
            .err()
            .unwrap();
        assert!(refused.contains("`3 days` is not a duration"), "{refused}");
    }

    #[test]
    fn the_newest_base_counts_and_an_unreadable_date_does_not() {
        let xml = report(
            r#"<base code="A" operup-at="2026-11-01T00:00:00Z"/>
               <base code="B" operup-at="2026-11-20T00:00:00Z"/>
               <base code="C" operup-at="yesterday"/>"#,
        );
        Case::report(&xml).run::<StaleUpdates>().assert_quiet();
        let undated = report(r#"<base code="A"/><base code="C" operup-at="yesterday"/>"#);
        let outcome = Case::report(&undated).run::<StaleUpdates>();
        let finding = outcome.finding("stale-updates");
        assert!(finding.summary.starts_with("Content updates unknown"));
        assert_eq!(finding.details, "Bases: A: no date; C: unreadable date.");
    }

    #[test]
    fn each_base_in_error_is_its_own_finding() {
        let xml = report(
            r#"<base code="KDS-LAW" name="Законодательство" operup-at="2026-11-20T00:00:00Z"
                     state="error" error-code="2020"/>
               <base code="KDS-SNIP" operup-at="2026-11-20T00:00:00Z" state="error"/>"#,
        );
        let outcome = Case::report(&xml).run::<StaleUpdates>();
        assert_eq!(
            outcome.keys(),
            ["base-error:KDS-LAW", "base-error:KDS-SNIP"]
        );
        let law = outcome.finding("base-error:KDS-LAW");
        assert_eq!(
            law.summary_for("ru"),
            "База Законодательство (KDS-LAW) в ошибке"
        );
        assert!(law.details.contains("error code 2020"));
        let snip = outcome.finding("base-error:KDS-SNIP");
        assert!(snip.details_for("ru").contains("кодом ошибки не указан"));
    }

    #[test]
    fn a_tick_ages_the_latest_report_and_a_status_report_carries_the_verdict() {
        let fresh = Case::report(&updated("2026-11-20T00:00:00Z")).run::<StaleUpdates>();
        fresh.assert_quiet();
        let days_later = fresh
            .then_tick()
            .now("2026-11-23T00:01:00Z")
            .run::<StaleUpdates>();
        assert_eq!(days_later.keys(), ["stale-updates"]);
        let status = r#"<report schema="1" agent="status-agent"
            generated-at="2026-11-23T01:00:00Z"><service state="running"/></report>"#;
        let carried = days_later.then_report(status).run::<StaleUpdates>();
        assert_eq!(carried.keys(), ["stale-updates"]);
        Case::tick()
            .now("2026-11-23T00:00:00Z")
            .run::<StaleUpdates>()
            .assert_quiet();
    }
}

//! `limit-exhaustion`: seats in use reached the limit, or users were refused.
//!
//! A sales signal, not an outage: every finding is `info` and labelled for the sales
//! audience. While the limit is reached it reports `limit-reached`; it also counts
//! exhaustions in a rolling window (a run of reports at the limit counts once) and, after
//! K of them, reports `upsell`: this client keeps running out of seats. It speaks English
//! and Russian.

use reveille_sdk::{
    Check, Descriptor, Finding, Input, Output, Severity, Timestamp, Trigger, format_duration,
    format_duration_in,
};

pub struct LimitExhaustion;

const EPISODES: &str = "episodes";
const EXHAUSTED: &str = "exhausted";

impl Check for LimitExhaustion {
    fn describe() -> Descriptor {
        Descriptor::new(
            "limit-exhaustion",
            env!("CARGO_PKG_VERSION"),
            "Seat limit reached or users refused; an upsell signal when it keeps happening",
        )
        .on(Trigger::Report)
        .setting_integer(
            "count",
            3,
            0..=1000,
            "Exhaustions within the window that make an upsell signal; 0: never",
        )
        .setting_duration(
            "window",
            "30d",
            "The rolling window exhaustions are counted in",
        )
    }

    fn evaluate(input: &Input) -> Result<Output, String> {
        let count: usize = input.config_parsed("count")?;
        let window = input.config_duration("window")?;
        let Some(users) = input.report().and_then(|r| r.users()) else {
            return Ok(Output::new().carry_forward(input));
        };
        let now = input.now();
        let at_limit = matches!((users.limit, users.in_use), (Some(limit), Some(used)) if limit > 0 && used >= limit);
        let refused = users.refused.unwrap_or(0);
        let exhausted = at_limit || refused > 0;
        let mut episodes: Vec<Timestamp> = input
            .state(EPISODES)
            .unwrap_or_default()
            .split(',')
            .filter_map(|t| t.parse().ok().map(Timestamp::from_millis))
            .filter(|t| t.age_at(now) <= window)
            .collect();
        if exhausted && input.state(EXHAUSTED).is_none() {
            episodes.push(now);
        }
        let mut findings = Vec::new();
        if exhausted {
            let (seats, seats_ru) = match (users.in_use, users.limit) {
                (Some(used), Some(limit)) => (
                    format!("{used} of {limit} seats in use"),
                    format!("занято {used} из {limit} мест"),
                ),
                _ => ("seat limit reached".into(), "лимит мест достигнут".into()),
            };
            let peak = users.peak.map(|p| p.to_string());
            findings.push(
                Finding::new(
                    "limit-reached",
                    Severity::Info,
                    format!("Seat limit reached: {seats}, {refused} users refused"),
                )
                .details(format!(
                    "The license's seat limit is exhausted ({seats}; peak {}; {refused} users \
                     refused). Users are being turned away.",
                    peak.as_deref().unwrap_or("unknown")
                ))
                .summary_in(
                    "ru",
                    format!("Лимит мест исчерпан: {seats_ru}, отказано пользователям: {refused}"),
                )
                .details_in(
                    "ru",
                    format!(
                        "Лимит мест лицензии исчерпан ({seats_ru}; пик {}; отказано: \
                         {refused}). Пользователям отказывают во входе.",
                        peak.as_deref().unwrap_or("неизвестен")
                    ),
                )
                .label("audience", "sales"),
            );
        }
        if count > 0 && episodes.len() >= count {
            let times = episodes.len();
            let when: Vec<String> = episodes.iter().map(|t| t.to_string()).collect();
            findings.push(
                Finding::new(
                    "upsell",
                    Severity::Info,
                    format!(
                        "Seat limit exhausted {times} times in {}: offer more seats",
                        format_duration(window)
                    ),
                )
                .details(format!(
                    "Exhaustions at: {}. A client that keeps running out of seats looks \
                     elsewhere rather than complaining.",
                    when.join(", ")
                ))
                .summary_in(
                    "ru",
                    format!(
                        "Лимит мест исчерпан {times} раз(а) за {}: предложите больше мест",
                        format_duration_in("ru", window)
                    ),
                )
                .details_in(
                    "ru",
                    format!(
                        "Исчерпания: {}. Клиент, которому постоянно не хватает мест, скорее \
                         уйдёт к другим, чем пожалуется.",
                        when.join(", ")
                    ),
                )
                .label("audience", "sales")
                .label("exhaustions", episodes.len().to_string()),
            );
        }
        let record: Vec<String> = episodes.iter().map(|t| t.as_millis().to_string()).collect();
        let mut output = Output::new()
            .conclude(input, findings)
            .set_state(EPISODES, record.join(","));
        output = if exhausted {
            output.set_state(EXHAUSTED, "1")
        } else {
            output.remove_state(EXHAUSTED)
        };
        Ok(output)
    }
}

reveille_sdk::export_check!(LimitExhaustion);

#[cfg(test)]
mod tests {
    use super::*;
    use reveille_sdk::testing::{Case, Outcome};

    fn users(at: &str, in_use: u32, refused: u32) -> String {
        format!(
            r#"<report schema="1" generated-at="{at}">
                 <users limit="25" in-use="{in_use}" peak="25" refused="{refused}"/>
               </report>"#
        )
    }

    /// Runs reports one after the other, each on the state the previous one left.
    fn sequence(reports: &[String], count: &str) -> Outcome {
        let first = Case::report(&reports[0])
            .setting("count", count)
            .run::<LimitExhaustion>();
        reports[1..].iter().fold(first, |before, xml| {
            before.then_report(xml).run::<LimitExhaustion>()
        })
    }

    #[test]
    fn a_run_of_reports_at_the_limit_is_one_exhaustion() {
        let at_limit = sequence(
            &[
                users("2026-11-01T10:00:00Z", 25, 0),
                users("2026-11-01T11:00:00Z", 25, 3),
                users("2026-11-01T12:00:00Z", 25, 0),
            ],
            "2",
        );
        assert_eq!(at_limit.keys(), ["limit-reached"]);
        let finding = at_limit.finding("limit-reached");
        assert_eq!(
            finding.summary,
            "Seat limit reached: 25 of 25 seats in use, 0 users refused"
        );
        assert_eq!(
            finding.summary_for("ru"),
            "Лимит мест исчерпан: занято 25 из 25 мест, отказано пользователям: 0"
        );
        assert_eq!(finding.labels, vec![("audience".into(), "sales".into())]);
    }

    #[test]
    fn k_exhaustions_in_the_window_are_an_upsell_signal_and_old_ones_drop_out() {
        let mut reports = Vec::new();
        for day in ["01", "08", "15"] {
            reports.push(users(&format!("2026-11-{day}T10:00:00Z"), 25, 1));
            reports.push(users(&format!("2026-11-{day}T11:00:00Z"), 10, 0));
        }
        let third = sequence(&reports[..5], "3");
        let upsell = third.finding("upsell");
        assert_eq!(
            upsell.summary,
            "Seat limit exhausted 3 times in 30d: offer more seats"
        );
        assert!(upsell.summary_for("ru").contains("за 30 д"));
        // A month later the first two fell out of the window.
        let later = third
            .then_report(&users("2026-12-10T10:00:00Z", 25, 0))
            .run::<LimitExhaustion>();
        assert_eq!(later.keys(), ["limit-reached"]);
    }

    #[test]
    fn a_count_of_zero_never_signals_and_counts_are_bounded() {
        let reports: Vec<String> = (10..20)
            .flat_map(|day| {
                [
                    users(&format!("2026-11-{day}T10:00:00Z"), 25, 0),
                    users(&format!("2026-11-{day}T11:00:00Z"), 1, 0),
                ]
            })
            .collect();
        sequence(&reports, "0").assert_quiet();
        let refused = Case::report(&reports[0])
            .setting("count", "-1")
            .try_run::<LimitExhaustion>()
            .err()
            .unwrap();
        assert!(refused.contains("from 0 to 1000"), "{refused}");
    }
}

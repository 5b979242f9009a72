//! `limit-exhaustion`: seats in use reached the limit, or users were refused.
//!
//! A sales signal, not an outage: every finding is `info` and labelled for the sales
//! audience. While the limit is reached it reports `limit-reached`; it also counts
//! exhaustions in a rolling window (a run of reports at the limit counts once) and, after
//! K of them, reports `upsell`: this client keeps running out of seats.

use reveille_sdk::{
    Check, Descriptor, Finding, Input, Output, Severity, Timestamp, Trigger, format_duration,
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
        .setting(
            "count",
            "3",
            "Exhaustions within the window that make an upsell signal",
        )
        .setting(
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
            let seats = match (users.in_use, users.limit) {
                (Some(used), Some(limit)) => format!("{used} of {limit} seats in use"),
                _ => "seat limit reached".into(),
            };
            findings.push(
                Finding::new(
                    "limit-reached",
                    Severity::Info,
                    format!("Seat limit reached: {seats}, {refused} users refused"),
                )
                .details(format!(
                    "The license's seat limit is exhausted ({seats}; peak {}; {refused} users \
                     refused). Users are being turned away.",
                    users.peak.map_or("unknown".into(), |p| p.to_string())
                ))
                .label("audience", "sales"),
            );
        }
        if count > 0 && episodes.len() >= count {
            findings.push(
                Finding::new(
                    "upsell",
                    Severity::Info,
                    format!(
                        "Seat limit exhausted {} times in {}: offer more seats",
                        episodes.len(),
                        format_duration(window)
                    ),
                )
                .details(format!(
                    "Exhaustions at: {}. A client that keeps running out of seats looks \
                     elsewhere rather than complaining.",
                    episodes
                        .iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
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

//! An escalation policy: steps, each bringing in contacts or whoever a rotation names after
//! a delay, repeated a number of times, for the severities chosen.

use super::Context;
use crate::alerts::directory::{EscalationPolicy, Step, Target};
use crate::plugins::Severity;
use crate::web::form::{Group, Layout, Problems, Sent, Widget, read};

const STEPS: &str = "steps";
const SEVERITIES: [Severity; 3] = [Severity::Critical, Severity::Warning, Severity::Info];

pub fn fresh() -> Sent {
    let mut sent = Sent::default();
    sent.add("severities", "critical");
    sent
}

/// A target as a choice's value: `contact:name` or `oncall:name`.
fn target_value(target: &Target) -> String {
    match target {
        Target::Contact(name) => format!("contact:{name}"),
        Target::Oncall(name) => format!("oncall:{name}"),
    }
}

pub fn sent(policy: &EscalationPolicy) -> Sent {
    let mut sent = Sent::default();
    for (i, step) in policy.steps.iter().enumerate() {
        sent.set(format!("{STEPS}[{i}].after"), step.after.clone());
        for target in &step.to {
            sent.add(format!("{STEPS}[{i}].to"), target_value(target));
        }
    }
    sent.set("repeat", policy.repeat.to_string());
    for severity in &policy.severities {
        sent.add("severities", severity.as_str());
    }
    sent
}

pub fn parse(sent: &Sent, p: &mut Problems) -> Option<EscalationPolicy> {
    let mut steps = Vec::new();
    for i in (0..sent.rows(STEPS)).filter(|&i| !sent.row_is_empty(STEPS, i)) {
        let row = format!("{STEPS}[{i}]");
        let after = p.required(sent, &format!("{row}.after"), read::duration);
        let to: Vec<Target> = sent
            .all(&format!("{row}.to"))
            .into_iter()
            .filter_map(|value| match value.split_once(':') {
                Some(("contact", name)) => Some(Target::Contact(name.into())),
                Some(("oncall", name)) => Some(Target::Oncall(name.into())),
                _ => None,
            })
            .collect();
        if to.is_empty() {
            p.add(&format!("{row}.to"), "form-one-target", &[]);
        }
        if let Some(after) = after {
            steps.push(Step { after, to });
        }
    }
    if steps.is_empty() && p.is_empty() {
        p.add(&format!("{STEPS}[0].after"), "form-one-step", &[]);
    }
    let repeat = p.optional(sent, "repeat", read::count);
    let severities: Vec<Severity> = SEVERITIES
        .into_iter()
        .filter(|s| sent.all("severities").contains(&s.as_str()))
        .collect();
    if severities.is_empty() {
        p.add("severities", "form-one-severity", &[]);
    }
    if !p.is_empty() {
        return None;
    }
    Some(EscalationPolicy {
        steps,
        repeat: repeat.ok()?.unwrap_or(0),
        severities,
    })
}

pub fn layout(l: &Layout, ctx: &Context) -> Vec<Group> {
    let lang = l.lang;
    let targets: Vec<(String, String)> = ctx
        .contacts
        .iter()
        .map(|n| (target_value(&Target::Contact(n.clone())), n.clone()))
        .chain(ctx.schedules.iter().map(|n| {
            (
                target_value(&Target::Oncall(n.clone())),
                lang.t_with("form-oncall-of", &[("name", n.clone().into())]),
            )
        }))
        .collect();
    let mut groups: Vec<Group> = (0..l.rows(STEPS))
        .map(|i| {
            let row = format!("{STEPS}[{i}]");
            Group {
                legend: Some(lang.t_with("form-step", &[("n", (i + 1).into())])),
                fields: vec![
                    l.hinted(
                        &format!("{row}.after"),
                        "form-after",
                        Widget::Text,
                        "form-after-hint",
                    ),
                    l.field(
                        &format!("{row}.to"),
                        "form-whom",
                        Widget::Many(targets.clone()),
                    ),
                ],
            }
        })
        .collect();
    let severities = SEVERITIES
        .iter()
        .map(|s| (s.as_str().to_string(), lang.t(s.as_str())))
        .collect();
    groups.push(Group {
        legend: None,
        fields: vec![
            l.hinted("repeat", "form-repeat", Widget::Number, "form-repeat-hint"),
            l.field("severities", "form-severities", Widget::Many(severities)),
        ],
    });
    groups
}

pub fn summary(policy: &EscalationPolicy, ctx: &Context) -> Vec<String> {
    let lang = ctx.lang;
    let mut lines: Vec<String> = policy
        .steps
        .iter()
        .map(|step| {
            let whom: Vec<String> = step
                .to
                .iter()
                .map(|t| match t {
                    Target::Contact(name) => name.clone(),
                    Target::Oncall(name) => {
                        lang.t_with("form-oncall-of", &[("name", name.clone().into())])
                    }
                })
                .collect();
            lang.t_with(
                "summary-step",
                &[
                    ("after", step.after.clone().into()),
                    ("whom", whom.join(", ").into()),
                ],
            )
        })
        .collect();
    let severities: Vec<String> = policy
        .severities
        .iter()
        .map(|s| lang.t(s.as_str()))
        .collect();
    lines.push(lang.t_with(
        "summary-repeat",
        &[
            ("n", policy.repeat.into()),
            ("severities", severities.join(", ").into()),
        ],
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn a_policy_reads_back_as_it_was_stored() {
        let stored = EscalationPolicy {
            steps: vec![
                Step {
                    after: "15m".into(),
                    to: vec![Target::Oncall("duty".into())],
                },
                Step {
                    after: "30m".into(),
                    to: vec![
                        Target::Contact("ivanov".into()),
                        Target::Contact("petrov".into()),
                    ],
                },
            ],
            repeat: 2,
            severities: vec![Severity::Critical, Severity::Warning],
        };
        let mut p = Problems::new(Lang::En);
        assert_eq!(parse(&sent(&stored), &mut p), Some(stored), "{p:?}");
    }

    #[test]
    fn a_step_without_whom_or_with_a_wrong_delay_is_named() {
        let mut s = fresh();
        s.set("steps[0].after", "quarter hour");
        s.set("steps[1].after", "30m");
        let mut p = Problems::new(Lang::En);
        assert_eq!(parse(&s, &mut p), None);
        assert!(p.of("steps[0].after").unwrap().contains("quarter hour"));
        assert!(p.of("steps[0].to").is_some());
        assert!(p.of("steps[1].to").is_some());
    }
}

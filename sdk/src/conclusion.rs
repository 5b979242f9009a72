//! Carrying a conclusion across evaluations that cannot decide.
//!
//! The host treats the findings of an evaluation as everything that holds now: a key left
//! out is resolved. A sparse status report without a `protection` section, or a report
//! without the `network` section a probe fills in, says nothing either way; a check that
//! returned no findings then would resolve an alert that still stands. So a check either
//! *concludes* from evidence ([`Output::conclude`]), which also remembers the findings in
//! its state, or *carries forward* what it last concluded ([`Output::carry_forward`]).

use crate::check::{Finding, Input, Output, Severity};

/// State keys holding remembered findings start with this.
const PREFIX: &str = "conclusion:";
const FIELD: char = '\u{1e}';
const PAIR: char = '\u{1f}';
/// Opens a field holding a translation (language, summary, details), so that what an
/// older SDK remembered (labels only) still reads.
const TRANSLATION: char = '\u{1d}';

impl Output {
    /// Reports `findings` as what holds now, and remembers exactly them: findings
    /// remembered earlier and absent here are forgotten.
    pub fn conclude(mut self, input: &Input, findings: Vec<Finding>) -> Self {
        for key in remembered_keys(input) {
            if !findings.iter().any(|f| f.key == key) {
                self = self.remove_state(format!("{PREFIX}{key}"));
            }
        }
        for finding in findings {
            self = self
                .set_state(format!("{PREFIX}{}", finding.key), encode(&finding))
                .finding(finding);
        }
        self
    }

    /// Reports again what the last [`conclude`](Output::conclude) found, because this
    /// evaluation's input does not say.
    pub fn carry_forward(self, input: &Input) -> Self {
        remembered(input).into_iter().fold(self, Output::finding)
    }
}

/// The findings the last conclusion remembered.
pub fn remembered(input: &Input) -> Vec<Finding> {
    input
        .state_entries()
        .filter_map(|(key, value)| decode(key.strip_prefix(PREFIX)?, value))
        .collect()
}

/// The finding a state entry written by [`Output::conclude`] remembers; `None` for any
/// other entry. For tools that show a check's state to its author (`reveille plugin
/// test`), where the entry's separators would be unreadable.
pub fn remembered_finding(key: &str, value: &str) -> Option<Finding> {
    decode(key.strip_prefix(PREFIX)?, value)
}

fn remembered_keys(input: &Input) -> Vec<String> {
    input
        .state_entries()
        .filter_map(|(key, _)| key.strip_prefix(PREFIX).map(str::to_string))
        .collect()
}

fn clean(s: &str) -> String {
    s.replace([FIELD, PAIR, TRANSLATION], " ")
}

fn encode(f: &Finding) -> String {
    let severity = match f.severity {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Critical => "critical",
    };
    let mut fields = vec![severity.to_string(), clean(&f.summary), clean(&f.details)];
    fields.extend(
        f.labels
            .iter()
            .map(|(k, v)| format!("{}{PAIR}{}", clean(k), clean(v))),
    );
    fields.extend(f.translations.iter().map(|t| {
        format!(
            "{TRANSLATION}{}{PAIR}{}{PAIR}{}",
            clean(&t.language),
            clean(&t.summary),
            clean(&t.details)
        )
    }));
    fields.join(&FIELD.to_string())
}

fn decode(key: &str, value: &str) -> Option<Finding> {
    let mut fields = value.split(FIELD);
    let severity = match fields.next()? {
        "info" => Severity::Info,
        "warning" => Severity::Warning,
        "critical" => Severity::Critical,
        _ => return None,
    };
    let summary = fields.next()?;
    let details = fields.next()?;
    let mut finding = Finding::new(key, severity, summary).details(details);
    for field in fields {
        if let Some(translation) = field.strip_prefix(TRANSLATION) {
            let mut parts = translation.splitn(3, PAIR);
            let (language, summary, details) = (parts.next()?, parts.next()?, parts.next()?);
            finding = finding
                .summary_in(language, summary)
                .details_in(language, details);
        } else {
            let (k, v) = field.split_once(PAIR)?;
            finding = finding.label(k, v);
        }
    }
    Some(finding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Context, Installation, Trigger};
    use crate::time::Timestamp;

    fn input_with(state: &Output) -> Input {
        Input {
            context: Context {
                installation: Installation {
                    id: "i".into(),
                    client: "c".into(),
                    tags: vec![],
                    timezone: "UTC".into(),
                },
                trigger: Trigger::Report,
                now: Timestamp::from_millis(0),
                last_report_at: None,
            },
            config: Default::default(),
            state: state
                .state
                .iter()
                .filter_map(|c| Some((c.key.clone(), c.value.clone()?)))
                .collect(),
            report: None,
        }
    }

    #[test]
    fn carries_forward_what_it_concluded() {
        let empty = input_with(&Output::new());
        let lost = Finding::new("dongle-lost", Severity::Critical, "Lost")
            .details("code 4111")
            .label("state", "lost")
            .summary_in("ru", "Ключ потерян")
            .details_in("ru", "код 4111");
        let concluded = Output::new().conclude(&empty, vec![lost.clone()]);
        assert_eq!(concluded.findings, vec![lost.clone()]);
        let later = input_with(&concluded);
        assert_eq!(Output::new().carry_forward(&later).findings, vec![lost]);
    }

    #[test]
    fn reads_what_an_sdk_without_translations_remembered() {
        let old = format!("critical{FIELD}Lost{FIELD}code 4111{FIELD}state{PAIR}lost");
        let finding = decode("dongle-lost", &old).unwrap();
        assert_eq!(finding.labels, vec![("state".into(), "lost".into())]);
        assert!(finding.translations.is_empty());
    }

    #[test]
    fn a_new_conclusion_forgets_what_no_longer_holds() {
        let first = Output::new().conclude(
            &input_with(&Output::new()),
            vec![Finding::new("a", Severity::Info, "A")],
        );
        let cleared = Output::new().conclude(&input_with(&first), vec![]);
        assert!(cleared.findings.is_empty());
        assert_eq!(cleared.state.len(), 1);
        assert_eq!(cleared.state[0].value, None);
    }
}

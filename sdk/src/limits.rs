//! How much one evaluation may return. The host refuses an output over any of these
//! (the call fails as "output too large" and counts against the plugin), so the SDK keeps
//! a check's findings within them before they leave: a summary, details or label cut
//! with `…`, labels past the limit dropped, and findings past the limit folded into one
//! `more-findings` finding that says how many there were, translations past the limit or
//! with a tag that is not one dropped. A report full of failing bases
//! thus never makes a check fail. State is not trimmed: what a check keeps is its own
//! design, and the host refuses state over the limits.

use crate::check::{Finding, Output, Severity};

/// Findings per evaluation.
pub const MAX_FINDINGS: usize = 256;
/// Bytes of a finding key. The host shortens keys over 200 bytes with a digest.
pub const MAX_KEY_BYTES: usize = 1024;
/// Bytes of a summary (one line a manager reads).
pub const MAX_SUMMARY_BYTES: usize = 1024;
/// Bytes of a finding's details.
pub const MAX_DETAILS_BYTES: usize = 16 << 10;
/// Languages a finding's words are given in besides its own.
pub const MAX_TRANSLATIONS: usize = 8;
/// Bytes of a language tag (`ru`, `pt-BR`): ASCII letters, digits and `-`.
pub const MAX_LANGUAGE_BYTES: usize = 16;
/// Labels per finding.
pub const MAX_LABELS: usize = 32;
/// Bytes of one label, name and value together.
pub const MAX_LABEL_BYTES: usize = 1024;
/// State entries a check keeps per installation, after an evaluation's changes.
pub const MAX_STATE_ENTRIES: usize = 256;
/// Bytes of a state key.
pub const MAX_STATE_KEY_BYTES: usize = 256;
/// Bytes of a state value.
pub const MAX_STATE_VALUE_BYTES: usize = 64 << 10;
/// Bytes of a check's whole state per installation, after an evaluation's changes.
pub const MAX_STATE_BYTES: usize = 256 << 10;
/// Bytes of every string of one output together.
pub const MAX_OUTPUT_BYTES: usize = 1 << 20;

/// `output` with its findings fitted to the limits (see the module doc).
pub(crate) fn fit(mut output: Output) -> Output {
    if output.findings.len() > MAX_FINDINGS {
        let dropped = output.findings.split_off(MAX_FINDINGS - 1);
        let severity = dropped
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Info);
        output.findings.push(Finding::new(
            "more-findings",
            severity,
            format!(
                "…and {} more findings, not listed (at most {MAX_FINDINGS} per evaluation)",
                dropped.len()
            ),
        ));
    }
    for finding in &mut output.findings {
        cut(&mut finding.key, MAX_KEY_BYTES);
        cut(&mut finding.summary, MAX_SUMMARY_BYTES);
        cut(&mut finding.details, MAX_DETAILS_BYTES);
        finding.translations.retain(|t| language_tag(&t.language));
        finding.translations.truncate(MAX_TRANSLATIONS);
        for translation in &mut finding.translations {
            cut(&mut translation.summary, MAX_SUMMARY_BYTES);
            cut(&mut translation.details, MAX_DETAILS_BYTES);
        }
        finding.labels.truncate(MAX_LABELS);
        for (name, value) in &mut finding.labels {
            cut(name, MAX_LABEL_BYTES / 2);
            cut(value, MAX_LABEL_BYTES - name.len());
        }
    }
    output
}

/// Whether `tag` can name a language: 1 to [`MAX_LANGUAGE_BYTES`] ASCII letters, digits
/// and dashes. The host refuses a finding with any other.
pub fn language_tag(tag: &str) -> bool {
    (1..=MAX_LANGUAGE_BYTES).contains(&tag.len())
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Cuts `text` to at most `max` bytes at a character boundary, ending in `…`.
fn cut(text: &mut String, max: usize) {
    if text.len() <= max {
        return;
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push('…');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_whatever_a_report_makes_a_check_return() {
        let huge = "Ж".repeat(10_000);
        let output = (0..1000).fold(Output::new(), |output, n| {
            output.finding(
                Finding::new(
                    format!("base-error:{n}"),
                    if n == 999 {
                        Severity::Critical
                    } else {
                        Severity::Warning
                    },
                    huge.clone(),
                )
                .details(huge.clone())
                .summary_in("ru", huge.clone())
                .summary_in("not a tag!", "dropped")
                .label("code", huge.clone()),
            )
        });
        let fitted = fit(output);
        assert_eq!(fitted.findings.len(), MAX_FINDINGS);
        let last = fitted.findings.last().unwrap();
        assert_eq!(last.key, "more-findings");
        assert_eq!(last.severity, Severity::Critical);
        assert!(last.summary.starts_with("…and 745 more findings"));
        let first = &fitted.findings[0];
        assert!(first.summary.len() <= MAX_SUMMARY_BYTES && first.summary.ends_with('…'));
        assert!(first.details.len() <= MAX_DETAILS_BYTES);
        assert_eq!(first.translations.len(), 1);
        assert!(first.translations[0].summary.len() <= MAX_SUMMARY_BYTES);
        let (name, value) = &first.labels[0];
        assert!(name.len() + value.len() <= MAX_LABEL_BYTES);
    }
}

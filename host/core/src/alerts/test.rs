//! A test alert: what an administrator sends from the board to see the whole way from an
//! alert to its people work (routing, quiet hours, the chat's language, the buttons, the
//! link back) before a real problem takes it. It comes from a check of its own, named so
//! that no plugin can have the name, and counts in no client's report.

use crate::contract::{Finding, Severity};
use crate::contract::{Translation, Translations};
use crate::i18n::Lang;

/// The check test alerts come from: a plugin's name has no dot.
pub const CHECK: &str = "reveille.test";

/// What the test check finds while a test is on, sent by `by`: a warning, so it reaches
/// the installation's chat as a manager's alert does, and wakes no on-call person.
pub fn finding(by: &str) -> Finding {
    let words = |lang: Lang, id: &str| lang.t_with(id, &[("who", by.into())]);
    Finding {
        key: "test".into(),
        severity: Severity::Warning,
        summary: words(Lang::En, "test-alert-summary"),
        details: words(Lang::En, "test-alert-details"),
        labels: Vec::new(),
        translations: Translations(
            Lang::ALL
                .into_iter()
                .filter(|lang| *lang != Lang::En)
                .map(|lang| Translation {
                    language: lang.code().into(),
                    summary: words(lang, "test-alert-summary"),
                    details: words(lang, "test-alert-details"),
                })
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_alert_speaks_every_language_and_wakes_nobody() {
        let finding = finding("admin");
        assert_eq!(finding.severity, Severity::Warning);
        assert!(finding.summary.contains("admin"), "{}", finding.summary);
        for lang in Lang::ALL {
            let summary = finding.translations.summary(lang.code(), &finding.summary);
            assert_eq!(
                summary,
                lang.t_with("test-alert-summary", &[("who", "admin".into())])
            );
        }
        assert!(!crate::contract::valid_name(CHECK));
    }
}

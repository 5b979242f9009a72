//! What a timeline entry says besides its kind, as data: each reader gets it in their own
//! language and zone ("for 2h", «на 2 ч»), where a sentence written once at the time would
//! be English for everyone. Written and read here only: the store keeps it as JSON in the
//! entry's `detail` column; entries written before there was a type read back as the words
//! they were.

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::NoticeKind;
use super::directory::Role;
use super::grouping::Cause;
use crate::contract::{Finding, Severity};
use crate::contract::{Translation, Translations};
use crate::i18n::Lang;

/// A stored detail that starts so is one of ours; anything else is words.
const TYPED: &str = "{\"said\":";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "said", rename_all = "kebab-case")]
pub enum Detail {
    /// The kind says it all.
    Nothing,
    /// Someone's own words, shown as written: an incident update, what Telegram answered.
    Words { text: String },
    /// An incident update its clients read too, on their status pages.
    Published { text: String },
    /// What the check said when the alert opened or fired, with its summary in the other
    /// languages the plugin wrote.
    Finding {
        severity: Severity,
        summary: String,
        #[serde(default, skip_serializing_if = "unsaid")]
        translations: Translations,
    },
    /// Reported again, changed: the severity it had when it differs, and what it says now.
    Now {
        was: Option<Severity>,
        severity: Severity,
        summary: String,
        #[serde(default, skip_serializing_if = "unsaid")]
        translations: Translations,
    },
    /// Opened as flapping: resolved this many times lately.
    Flapping { flaps: usize },
    /// An acknowledgement or a snooze for this long (`None`: until it resolves); `members`:
    /// an incident's, taken by its members too.
    For { ms: Option<i64>, members: bool },
    /// Fires again after a snooze or an acknowledgement ran out: the finding still holds.
    StillHolds,
    /// An incident's snooze ran out.
    SnoozeRanOut,
    /// Announced now, after `why` kept it from being announced before.
    Announced { why: Kept },
    /// The escalation step `step` (1 the first) brought these people in; none when nobody
    /// could be written to.
    Escalated { step: i64, to: Vec<String> },
    /// The escalation policy has no more steps.
    NoMoreSteps,
    /// Shown in a morning digest (`backlog`: in the message about an agent's backlog).
    Digested { to: Whom, backlog: bool },
    /// This alert joined incident `id`.
    JoinedIncident { id: i64 },
    /// These installations (id, client) joined the incident.
    Joined {
        installations: Vec<(String, String)>,
    },
    /// The incident opened: a parent failing under `members` installations, or one check
    /// firing on that many.
    Opened { by: OpenedBy, members: usize },
    /// The incident's cause came back while rechecking.
    FailingAgain { back: usize, of: usize },
    /// The incident's cause is gone; the `down` still down are probed again.
    Rechecking { back: usize, of: usize, down: usize },
    /// The incident resolved after `ms`; those still down are alerts of their own now.
    Closed {
        ms: i64,
        back: usize,
        of: usize,
        still_down: Vec<String>,
    },
    /// The alert resolved for this reason.
    Resolved { why: Resolution },
    /// Not announced: a maintenance window covers it until `until`.
    Silenced {
        window: String,
        author: String,
        reason: String,
        until: i64,
    },
    /// A contact who never opened a chat with the bot cannot be written to.
    Unreachable { contact: String, role: Role },
    /// Quiet hours hold it for `to`'s digest at `until`.
    Held { to: Whom, until: i64 },
    /// Waiting up to `ms` for other installations with the same cause.
    Waiting { ms: i64, cause: String },
    /// Reported late by its agent: told nobody until its backlog is read.
    Late,
    /// Imported history: told nobody.
    Imported,
    /// Post-mortem sections written.
    Wrote { sections: Vec<String> },
    /// A notice was delivered: folded into a summary with others, into a message (`None`:
    /// there was nothing of its own there to edit), without sound.
    Notified {
        notice: NoticeKind,
        to: Whom,
        folded: bool,
        message: Option<i64>,
        silent: bool,
    },
    /// Telegram refused for now; it is tried again.
    Delayed { notice: NoticeKind, error: String },
    /// Telegram refused for good.
    Failed { notice: NoticeKind, error: String },
    /// An attempt `seconds` ago was cut off before its outcome was recorded: made again.
    Interrupted { notice: NoticeKind, seconds: i64 },
    /// Someone not allowed to act pressed a button (`update`: or posted an update).
    NotAllowed { update: bool },
}

/// What kept an alert from being announced when it fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kept {
    /// A maintenance window; it ended and the finding still holds.
    Maintenance,
    /// A maintenance window covers it still: announced when it ends.
    MaintenanceCovers,
    /// Its agent reported it late; the backlog is read and it still holds.
    ReportedLate,
    /// It waited for company; none came.
    AloneInItsCause,
    /// Its incident ended with it still failing.
    IncidentEnded,
}

/// Why an incident opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpenedBy {
    Parent { name: String },
    Check { plugin: String, key: String },
}

/// Why an alert resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resolution {
    Cleared,
    InstallationRemoved,
    PluginRemoved,
    PluginSwitchedOff,
    /// An import's history ended with it open: live reports judge it from now on.
    HistoryEnded,
}

impl Resolution {
    const ALL: [Resolution; 5] = [
        Resolution::Cleared,
        Resolution::InstallationRemoved,
        Resolution::PluginRemoved,
        Resolution::PluginSwitchedOff,
        Resolution::HistoryEnded,
    ];

    /// As the alert's `resolution` column and the API have always said it.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Cleared => "the condition cleared",
            Resolution::InstallationRemoved => "the installation was removed",
            Resolution::PluginRemoved => "the check was removed",
            Resolution::PluginSwitchedOff => "the check was switched off",
            Resolution::HistoryEnded => {
                "the imported history ended here: live reports judge it from now on"
            }
        }
    }

    fn id(self) -> &'static str {
        match self {
            Resolution::Cleared => "resolution-cleared",
            Resolution::InstallationRemoved => "resolution-installation-removed",
            Resolution::PluginRemoved => "resolution-plugin-removed",
            Resolution::PluginSwitchedOff => "resolution-plugin-switched-off",
            Resolution::HistoryEnded => "resolution-history-ended",
        }
    }

    /// A stored resolution in `lang`; one we do not know as written.
    pub fn words(stored: &str, lang: Lang) -> String {
        Resolution::ALL
            .into_iter()
            .find(|r| r.as_str() == stored)
            .map_or_else(|| stored.to_string(), |r| lang.t(r.id()))
    }
}

/// Whom a message went to: the person by name where there is one, else the chat's role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Whom {
    pub chat: i64,
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub contact: Option<String>,
}

impl Whom {
    pub fn chat(chat: i64) -> Whom {
        Whom {
            chat,
            role: None,
            contact: None,
        }
    }

    fn words(&self, lang: Lang) -> String {
        match (&self.contact, self.role) {
            (Some(name), _) => name.clone(),
            (None, Some(role)) => lang.t(&format!("whom-{role}")),
            (None, None) => lang.t_with("whom-chat", &[("id", self.chat.to_string().into())]),
        }
    }
}

fn unsaid(translations: &Translations) -> bool {
    translations.0.is_empty()
}

/// A finding's summaries only: its details are the alert's, not the timeline's.
fn summaries(finding: &Finding) -> Translations {
    Translations(
        finding
            .translations
            .0
            .iter()
            .map(|t| Translation {
                details: String::new(),
                ..t.clone()
            })
            .collect(),
    )
}

impl Detail {
    /// What `finding` says, as the alert opens or fires.
    pub fn finding(finding: &Finding) -> Detail {
        Detail::Finding {
            severity: finding.severity,
            summary: finding.summary.clone(),
            translations: summaries(finding),
        }
    }

    /// What `finding` says now, reported again with a change; `was` the severity it had.
    pub fn now(was: Severity, finding: &Finding) -> Detail {
        Detail::Now {
            was: (was != finding.severity).then_some(was),
            severity: finding.severity,
            summary: finding.summary.clone(),
            translations: summaries(finding),
        }
    }

    pub fn words_of(text: impl Into<String>) -> Detail {
        Detail::Words { text: text.into() }
    }

    /// As the store keeps it.
    pub fn stored(&self) -> String {
        match self {
            Detail::Nothing => String::new(),
            Detail::Words { text } if !text.starts_with(TYPED) => text.clone(),
            typed => serde_json::to_string(typed).unwrap_or_default(),
        }
    }

    /// What the store kept, read back; anything not ours is words.
    pub fn read(stored: &str) -> Detail {
        if stored.is_empty() {
            return Detail::Nothing;
        }
        if stored.starts_with(TYPED)
            && let Ok(detail) = serde_json::from_str(stored)
        {
            return detail;
        }
        Detail::words_of(stored)
    }

    /// Someone's words, when that is what it is (an incident update).
    pub fn text(&self) -> Option<&str> {
        match self {
            Detail::Words { text } | Detail::Published { text } => Some(text),
            _ => None,
        }
    }

    /// In `lang`, its times in `zone`.
    pub fn words(&self, lang: Lang, zone: &TimeZone) -> String {
        let n = |v: usize| fluent_bundle::FluentValue::from(v);
        let s = |v: &str| fluent_bundle::FluentValue::from(v.to_string());
        let list = |v: &[String]| s(&v.join(", "));
        let notice = |kind: &NoticeKind| s(&lang.t(&format!("notice-{kind}")));
        match self {
            Detail::Nothing => String::new(),
            Detail::Words { text } => text.clone(),
            Detail::Published { text } => lang.t_with("detail-published", &[("text", s(text))]),
            Detail::Finding {
                severity,
                summary,
                translations,
            } => format!(
                "{}: {}",
                lang.t(severity.as_str()),
                translations.summary(lang.code(), summary)
            ),
            Detail::Now {
                was: Some(was),
                severity,
                summary,
                translations,
            } => format!(
                "{} → {}: {}",
                lang.t(was.as_str()),
                lang.t(severity.as_str()),
                translations.summary(lang.code(), summary)
            ),
            Detail::Now {
                was: None,
                summary,
                translations,
                ..
            } => lang.t_with(
                "detail-now",
                &[("summary", s(translations.summary(lang.code(), summary)))],
            ),
            Detail::Flapping { flaps } => lang.t_with("detail-flapping", &[("n", n(*flaps))]),
            Detail::For { ms: None, members } => lang.t(if *members {
                "detail-with-members"
            } else {
                "detail-for-good"
            }),
            Detail::For {
                ms: Some(ms),
                members,
            } => lang.t_with(
                if *members {
                    "detail-for-members"
                } else {
                    "detail-for"
                },
                &[("length", s(&lang.span(*ms)))],
            ),
            Detail::StillHolds => lang.t("detail-still-holds"),
            Detail::SnoozeRanOut => lang.t("detail-snooze-ran-out"),
            Detail::Announced { why } => lang.t(match why {
                Kept::Maintenance => "detail-kept-maintenance",
                Kept::MaintenanceCovers => "detail-kept-maintenance-covers",
                Kept::ReportedLate => "detail-kept-reported-late",
                Kept::AloneInItsCause => "detail-kept-alone",
                Kept::IncidentEnded => "detail-kept-incident-ended",
            }),
            Detail::Escalated { step, to } if to.is_empty() => {
                lang.t_with("detail-escalated-nobody", &[("step", n(*step as usize))])
            }
            Detail::Escalated { step, to } => lang.t_with(
                "detail-escalated",
                &[("step", n(*step as usize)), ("to", list(to))],
            ),
            Detail::NoMoreSteps => lang.t("detail-no-more-steps"),
            Detail::Digested { to, backlog } => lang.t_with(
                if *backlog {
                    "detail-digested-backlog"
                } else {
                    "detail-digested"
                },
                &[("to", s(&to.words(lang)))],
            ),
            Detail::JoinedIncident { id } => {
                format!("{} #{id}", lang.t("incident"))
            }
            Detail::Joined { installations } => installations
                .iter()
                .map(|(id, client)| format!("{id} ({client})"))
                .collect::<Vec<_>>()
                .join(", "),
            Detail::Opened { by, members } => match by {
                OpenedBy::Parent { name } => lang.t_with(
                    "detail-opened-parent",
                    &[("name", s(name)), ("n", n(*members))],
                ),
                OpenedBy::Check { plugin, key } => lang.t_with(
                    "detail-opened-check",
                    &[("plugin", s(plugin)), ("key", s(key)), ("n", n(*members))],
                ),
            },
            Detail::FailingAgain { back, of } => lang.t_with(
                "detail-failing-again",
                &[("back", n(*back)), ("of", n(*of))],
            ),
            Detail::Rechecking { back, of, down } => lang.t_with(
                "detail-rechecking",
                &[("back", n(*back)), ("of", n(*of)), ("down", n(*down))],
            ),
            Detail::Closed {
                ms,
                back,
                of,
                still_down,
            } => {
                let closed = lang.t_with(
                    "detail-closed",
                    &[
                        ("length", s(&lang.span(*ms))),
                        ("back", n(*back)),
                        ("of", n(*of)),
                    ],
                );
                if still_down.is_empty() {
                    closed
                } else {
                    let down = lang.t_with("detail-closed-down", &[("names", list(still_down))]);
                    format!("{closed}; {down}")
                }
            }
            Detail::Resolved { why } => lang.t(why.id()),
            Detail::Silenced {
                window,
                author,
                reason,
                until,
            } => lang.t_with(
                "detail-silenced",
                &[
                    ("window", s(window)),
                    ("author", s(author)),
                    ("reason", s(reason)),
                    ("until", s(&lang.moment(*until, zone))),
                ],
            ),
            Detail::Unreachable { contact, role } => lang.t_with(
                "detail-unreachable",
                &[
                    ("contact", s(contact)),
                    ("role", s(&lang.t(&format!("whom-{role}")))),
                ],
            ),
            Detail::Held { to, until } => lang.t_with(
                "detail-held",
                &[
                    ("to", s(&to.words(lang))),
                    ("until", s(&lang.moment(*until, zone))),
                ],
            ),
            // The alert is the finding it waits with; a parent is worth naming.
            Detail::Waiting { ms, cause } => match cause.parse::<Cause>() {
                Ok(Cause::Parent(name)) => lang.t_with(
                    "detail-waiting-parent",
                    &[("length", s(&lang.span(*ms))), ("name", s(&name))],
                ),
                _ => lang.t_with("detail-waiting", &[("length", s(&lang.span(*ms)))]),
            },
            Detail::Late => lang.t("detail-late"),
            Detail::Imported => lang.t("detail-imported"),
            Detail::Wrote { sections } => {
                let named: Vec<String> = sections
                    .iter()
                    .map(|section| lang.t_or(&format!("postmortem-{section}"), section))
                    .collect();
                lang.t_with("detail-wrote", &[("sections", list(&named))])
            }
            Detail::Notified {
                notice: kind,
                to,
                folded,
                message,
                silent,
            } => {
                let mut words = lang.t_with(
                    "detail-notified",
                    &[("notice", notice(kind)), ("to", s(&to.words(lang)))],
                );
                if *folded {
                    words.push_str(&format!(", {}", lang.t("detail-folded")));
                }
                if message.is_none() {
                    words.push_str(&format!(", {}", lang.t("detail-nothing-to-edit")));
                }
                if *silent {
                    words.push_str(&format!(", {}", lang.t("detail-silently")));
                }
                words
            }
            Detail::Delayed {
                notice: kind,
                error,
            } => lang.t_with(
                "detail-delayed",
                &[("notice", notice(kind)), ("error", s(error))],
            ),
            Detail::Failed {
                notice: kind,
                error,
            } => lang.t_with(
                "detail-failed",
                &[("notice", notice(kind)), ("error", s(error))],
            ),
            Detail::Interrupted {
                notice: kind,
                seconds,
            } => lang.t_with(
                if *kind == NoticeKind::Refresh {
                    "detail-interrupted-edit"
                } else {
                    "detail-interrupted"
                },
                &[
                    ("notice", notice(kind)),
                    ("ago", s(&lang.span(seconds * 1000))),
                ],
            ),
            Detail::NotAllowed { update } => lang.t(if *update {
                "detail-not-allowed-update"
            } else {
                "detail-not-allowed"
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every detail goes into the store and comes back as it was; what was stored as
    /// words before there was a type, or words that happen to look like ours, stay words.
    #[test]
    fn a_detail_reads_back_as_it_was_written() {
        let details = [
            Detail::Nothing,
            Detail::words_of("the redirect server is being replaced"),
            Detail::words_of("{\"said\":\"late\"} is what I typed"),
            Detail::For {
                ms: Some(7_200_000),
                members: true,
            },
            Detail::Notified {
                notice: NoticeKind::ResolvedReply,
                to: Whom {
                    chat: -1001,
                    role: Some(Role::Oncall),
                    contact: Some("petrov".into()),
                },
                folded: false,
                message: Some(5),
                silent: true,
            },
            Detail::Resolved {
                why: Resolution::PluginSwitchedOff,
            },
        ];
        for detail in details {
            assert_eq!(Detail::read(&detail.stored()), detail);
        }
        assert_eq!(
            Detail::read("for 2h"),
            Detail::words_of("for 2h"),
            "written before the type"
        );
    }

    /// The same entry reads in each language, with its times in the reader's zone and
    /// people by name.
    #[test]
    fn a_detail_is_said_in_the_readers_language() {
        let held = Detail::Held {
            to: Whom {
                chat: 501,
                role: Some(Role::Oncall),
                contact: None,
            },
            until: 1_796_630_400_000,
        };
        let moscow = TimeZone::get("Europe/Moscow").unwrap();
        let en = held.words(Lang::En, &TimeZone::UTC);
        assert!(en.contains("2026-12-07 08:00 UTC"), "{en}");
        let ru = held.words(Lang::Ru, &moscow);
        assert!(ru.contains("07.12.2026 11:00 MSK"), "{ru}");
        assert!(!ru.contains("501") && !ru.contains("on-call"), "{ru}");
        let snoozed = Detail::For {
            ms: Some(2 * 3_600_000),
            members: false,
        };
        assert_eq!(snoozed.words(Lang::En, &TimeZone::UTC), "for 2h");
        assert_eq!(snoozed.words(Lang::Ru, &TimeZone::UTC), "на 2 ч");
        let told = Detail::Notified {
            notice: NoticeKind::Post,
            to: Whom {
                chat: -1001,
                role: None,
                contact: Some("petrov".into()),
            },
            folded: false,
            message: Some(7),
            silent: false,
        };
        assert_eq!(
            told.words(Lang::Ru, &TimeZone::UTC),
            "сообщение для: petrov"
        );
        assert_eq!(
            Resolution::words("the check was switched off", Lang::Ru),
            "проверку выключили"
        );
        assert_eq!(Resolution::words("gone fishing", Lang::Ru), "gone fishing");
    }
}

//! Old news told as old news. An agent cut off for a night sends its backlog when it is
//! back; its reports are judged at their own time (`report::Timing`) and what they open is
//! recorded without paging anyone (`lifecycle::as_old_news`). When the backlog has been
//! read (a report on time arrives, or the agent has been quiet a while), it is concluded
//! here: what is still true is announced as usual, and one quiet message says what
//! happened while the installation could not be heard.

use serde::{Deserialize, Serialize};

use super::Alert;
use super::directory::Destination;
use crate::fleet::Installation;

/// What a listing notice (a digest's kind, about no single alert) lists: its outbox
/// payload, written and read here only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Listing {
    /// A destination's morning digest: the alerts held for it.
    Held(Vec<i64>),
    /// What happened while an installation could not be heard: its agent's backlog,
    /// made from `from` and read by `until`.
    Unheard {
        installation: String,
        from: i64,
        until: i64,
        alerts: Vec<i64>,
    },
}

impl Listing {
    pub fn alerts(&self) -> &[i64] {
        match self {
            Listing::Held(alerts) | Listing::Unheard { alerts, .. } => alerts,
        }
    }

    pub fn to_payload(&self) -> String {
        serde_json::to_string(self).expect("a listing serializes")
    }

    /// `None` for a payload this version did not write.
    pub fn parse(payload: &str) -> Option<Listing> {
        serde_json::from_str(payload).ok()
    }
}

/// What concluding an installation's backlog does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conclusion {
    /// Alerts the backlog left open: announced now, as any alert that starts firing.
    pub announce: Vec<i64>,
    /// The one quiet message, when something the backlog opened is already over.
    pub told: Option<(Destination, Listing)>,
    /// Every alert concluded: told from now on like any other.
    pub concluded: Vec<i64>,
}

/// Concludes `installation`'s backlog, whose reports were made from `from`, read by
/// `until`; `late` are the alerts it opened that nobody has been told about.
pub fn conclude(installation: &Installation, late: &[Alert], from: i64, until: i64) -> Conclusion {
    let announce: Vec<i64> = late.iter().filter(|a| a.is_open()).map(|a| a.id).collect();
    let told = late.iter().any(|a| !a.is_open()).then(|| {
        (
            Destination::chat(installation.telegram_chat_id),
            Listing::Unheard {
                installation: installation.id.clone(),
                from: from.min(late.iter().map(|a| a.first_seen_at).min().unwrap_or(from)),
                until,
                alerts: late.iter().map(|a| a.id).collect(),
            },
        )
    });
    Conclusion {
        announce,
        told,
        concluded: late.iter().map(|a| a.id).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_written_before_this_version_still_reads() {
        assert_eq!(Listing::parse("[3,4]"), Some(Listing::Held(vec![3, 4])));
        let unheard = Listing::Unheard {
            installation: "vector-main".into(),
            from: 1,
            until: 2,
            alerts: vec![7],
        };
        assert_eq!(Listing::parse(&unheard.to_payload()), Some(unheard));
        assert_eq!(Listing::parse("{\"what\":1}"), None);
    }
}

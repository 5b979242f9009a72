//! What a report says at a glance: the facts a manager reads first (the `/status` card, a
//! row of the board). Taken from the document once, when the report is accepted, and kept
//! beside it, so showing a fleet never reads a report.

use serde::{Deserialize, Serialize};

use super::Document;

/// The newest content update among the report's bases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Update {
    pub number: String,
    pub at: i64,
}

/// The seats: in use, the licence's limit, and sessions refused for want of one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seats {
    pub used: u32,
    pub limit: u32,
    pub refused: u32,
}

/// The protection (dongle) record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dongle {
    pub state: String,
    pub error_code: Option<String>,
}

impl Dongle {
    /// The only state in which the product runs.
    pub fn is_ok(&self) -> bool {
        self.state == "present"
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Glance {
    pub agent: Option<String>,
    pub shell_version: Option<String>,
    pub newest_update: Option<Update>,
    pub dongle: Option<Dongle>,
    pub seats: Option<Seats>,
    /// Whether the installation answered by its domain (a probe's `network` record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reachable: Option<bool>,
}

impl Glance {
    pub fn of(doc: &Document) -> Glance {
        let newest_update = doc
            .select("bases/base")
            .into_iter()
            .filter_map(|base| {
                let at: jiff::Timestamp = base.attr("operup-at")?.parse().ok()?;
                Some(Update {
                    number: base.attr("update").unwrap_or("?").to_string(),
                    at: at.as_millisecond(),
                })
            })
            .max_by_key(|update| update.at);
        let count = |path: &str| doc.value(path).and_then(|v| v.trim().parse::<u32>().ok());
        let seats = match (count("users/@in-use"), count("users/@limit")) {
            (Some(used), Some(limit)) => Some(Seats {
                used,
                limit,
                refused: count("users/@refused").unwrap_or(0),
            }),
            _ => None,
        };
        Glance {
            agent: doc.value("@agent").map(str::to_string),
            shell_version: doc.value("product/@shell-version").map(str::to_string),
            newest_update,
            dongle: doc.value("protection/@state").map(|state| Dongle {
                state: state.to_string(),
                error_code: doc.value("protection/@error-code").map(str::to_string),
            }),
            seats,
            reachable: doc
                .value("network/@reachable-by-domain")
                .and_then(|v| v.trim().parse().ok()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_facts_a_manager_looks_at_first() {
        let doc = crate::report::parse(
            br#"<report schema="1" agent="kagent" generated-at="2026-11-20T01:07:00+03:00">
                <installation id="x"/>
                <product shell-version="4.2.1"/>
                <protection state="lost" error-code="4111"/>
                <users in-use="48" limit="50" refused="2"/>
                <bases>
                  <base update="812" operup-at="2026-11-18T03:00:00+03:00"/>
                  <base update="815" operup-at="2026-11-19T03:00:00+03:00"/>
                </bases>
            </report>"#,
        )
        .unwrap();
        let glance = Glance::of(&doc);
        assert_eq!(glance.agent.as_deref(), Some("kagent"));
        assert_eq!(glance.shell_version.as_deref(), Some("4.2.1"));
        assert_eq!(glance.newest_update.as_ref().unwrap().number, "815");
        let dongle = glance.dongle.unwrap();
        assert!(!dongle.is_ok());
        assert_eq!(dongle.error_code.as_deref(), Some("4111"));
        assert_eq!(
            glance.seats,
            Some(Seats {
                used: 48,
                limit: 50,
                refused: 2
            })
        );
        assert_eq!(glance.reachable, None);
        let probe = crate::report::parse(
            br#"<report schema="1" agent="probe"><network domain="k.example" reachable-by-domain="false"/></report>"#,
        )
        .unwrap();
        assert_eq!(Glance::of(&probe).reachable, Some(false));
        let empty = Glance::of(&crate::report::parse(br#"<report schema="1"/>"#).unwrap());
        assert_eq!(empty, Glance::default());
    }
}

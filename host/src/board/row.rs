//! One installation as the board shows it: its state (a traffic light), what is wrong in
//! words, and the incident it is part of or the failing parent of. Built from what the
//! store keeps, without I/O, so every rule here is tested on its own.

use std::borrow::Borrow;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use reveille_sdk::Version;

use crate::alerts::incidents::Incident;
use crate::alerts::{Alert, AlertState};
use crate::fleet::Installation;
use crate::i18n::Lang;
use crate::plugins::Severity;
use crate::plugins::contract::Translations;
use crate::report::{Seats, Update};
use crate::store::Latest;

/// A row's traffic light, worst first (the board's order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Light {
    /// A critical alert, the dongle is not there, or the parent of a failing incident.
    Red,
    /// A warning, a shell below the required version, or every seat taken.
    Amber,
    /// Nothing reported yet: neither fine nor known to be broken.
    Grey,
    Green,
}

impl Light {
    pub const ALL: [Light; 4] = [Light::Red, Light::Amber, Light::Grey, Light::Green];

    /// The name in URLs, CSS classes and the catalogue (`light-red`…).
    pub fn class(&self) -> &'static str {
        match self {
            Light::Red => "red",
            Light::Amber => "amber",
            Light::Grey => "grey",
            Light::Green => "green",
        }
    }

    /// Its name for people, as a catalogue id: the state in words beside the colour.
    pub fn word(&self) -> &'static str {
        match self {
            Light::Red => "light-red",
            Light::Amber => "light-amber",
            Light::Grey => "light-grey",
            Light::Green => "light-green",
        }
    }

    pub fn parse(name: &str) -> Option<Light> {
        Light::ALL.into_iter().find(|l| l.class() == name)
    }

    /// Something for a person to look at (never reported is not a problem but a gap).
    pub fn is_problem(&self) -> bool {
        matches!(self, Light::Red | Light::Amber)
    }
}

/// The open alert a reader should see first on a row: the worst, then the newest.
#[derive(Debug, Clone)]
pub struct Headline {
    pub alert_id: i64,
    pub severity: Severity,
    summary: String,
    translations: Translations,
}

impl Headline {
    pub fn summary_in(&self, lang: impl Borrow<Lang>) -> &str {
        self.translations
            .summary(lang.borrow().code(), &self.summary)
    }
}

/// An open incident as rows mention it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub id: i64,
    /// The redirect server or cloud it is about, when it is about one.
    pub parent: Option<String>,
    pub plugin: String,
    pub severity: Severity,
    /// Its installations, for who may see it.
    pub installations: BTreeSet<String>,
    pub managers: BTreeSet<String>,
}

impl Tag {
    fn of(incident: &Incident) -> Tag {
        Tag {
            id: incident.id,
            parent: incident.parent.clone(),
            plugin: incident.plugin.clone(),
            severity: incident.severity,
            installations: incident
                .members
                .iter()
                .map(|m| m.installation_id.clone())
                .collect(),
            managers: incident.members.iter().map(|m| m.manager.clone()).collect(),
        }
    }

    /// What a member row says of it: "behind redirect-1 · incident #1".
    pub fn member_words(&self, lang: impl Borrow<Lang>) -> String {
        let lang = *lang.borrow();
        let id = ("id", self.id.into());
        match &self.parent {
            Some(parent) => lang.t_with("board-behind", &[("parent", parent.as_str().into()), id]),
            None => lang.t_with(
                "board-in-incident",
                &[
                    ("plugin", self.plugin.as_str().into()),
                    ("n", self.installations.len().into()),
                    id,
                ],
            ),
        }
    }

    /// What the parent's own row says: "9 installations behind it are down · incident #1".
    pub fn parent_words(&self, lang: impl Borrow<Lang>) -> String {
        let lang = *lang.borrow();
        lang.t_with(
            "board-leads",
            &[
                ("n", self.installations.len().into()),
                ("id", self.id.into()),
            ],
        )
    }
}

/// One installation as the board shows it.
#[derive(Debug, Clone)]
pub struct Row {
    pub light: Light,
    pub installation: Installation,
    pub reported_at: Option<i64>,
    pub update: Option<Update>,
    pub shell: Option<String>,
    pub minimum: Option<String>,
    pub below_minimum: bool,
    pub dongle: Option<String>,
    pub dongle_bad: bool,
    pub seats: Option<Seats>,
    pub seats_full: bool,
    pub critical: i64,
    pub warning: i64,
    pub info: i64,
    pub headline: Option<Headline>,
    /// Open alerts besides the headline.
    pub more: usize,
    /// The open incident its alerts are part of.
    pub incident: Option<Arc<Tag>>,
    /// The open incident about this installation as a parent (its children are down).
    pub leads: Option<Arc<Tag>>,
    /// Plugins with an open alert here.
    pub plugins: BTreeSet<String>,
}

impl Row {
    /// Why a row without an open alert is not green, as a catalogue id and the CSS class
    /// it is shown in; `None` when nothing but an alert could say.
    pub fn reason(&self) -> Option<(&'static str, &'static str)> {
        if self.dongle_bad {
            Some(("board-dongle-bad", "bad"))
        } else if self.below_minimum {
            Some(("board-below-minimum", "warn"))
        } else if self.seats_full {
            Some(("board-seats-full", "warn"))
        } else if self.reported_at.is_none() {
            Some(("board-never", "muted"))
        } else {
            None
        }
    }
}

/// What the board is built from: the store's view of the fleet at one moment.
pub struct Facts {
    pub installations: Vec<Installation>,
    pub glances: HashMap<String, Latest>,
    /// Open alerts people were told about (pending ones are not counted).
    pub alerts: Vec<Alert>,
    pub incidents: Vec<Incident>,
}

/// Every installation's row, in no particular order, and the open incidents they mention.
/// `minimum` is the shell version the installation's client requires, if any.
pub fn build(
    facts: Facts,
    minimum: impl Fn(&Installation) -> Option<String>,
) -> (Vec<Row>, Vec<Arc<Tag>>) {
    let Facts {
        installations,
        mut glances,
        alerts,
        incidents,
    } = facts;
    let tags: Vec<Arc<Tag>> = incidents.iter().map(|i| Arc::new(Tag::of(i))).collect();
    let by_id: HashMap<i64, &Arc<Tag>> = tags.iter().map(|t| (t.id, t)).collect();
    let mut parents: HashMap<&str, &Arc<Tag>> = HashMap::new();
    for tag in &tags {
        if let Some(parent) = &tag.parent {
            parents.insert(parent, tag);
        }
    }
    let mut open: HashMap<String, Vec<Alert>> = HashMap::new();
    for alert in alerts {
        if AlertState::TOLD.contains(&alert.state) {
            open.entry(alert.installation_id.clone())
                .or_default()
                .push(alert);
        }
    }
    let rows = installations
        .into_iter()
        .map(|installation| {
            let latest = glances.remove(&installation.id);
            let minimum = minimum(&installation).filter(|m| !m.trim().is_empty());
            let alerts = open.remove(&installation.id).unwrap_or_default();
            let incident = alerts
                .iter()
                .find_map(|a| a.incident_id.and_then(|id| by_id.get(&id)))
                .map(|t| Arc::clone(t));
            let leads = parents.get(installation.id.as_str()).map(|t| Arc::clone(t));
            row(installation, latest, minimum, alerts, incident, leads)
        })
        .collect();
    (rows, tags)
}

fn row(
    installation: Installation,
    latest: Option<Latest>,
    minimum: Option<String>,
    mut alerts: Vec<Alert>,
    incident: Option<Arc<Tag>>,
    leads: Option<Arc<Tag>>,
) -> Row {
    // A test alert tries the way to people; it says nothing is wrong, so it is shown but
    // neither counted nor coloured (a client's status page reads the light too).
    let of = |severity: Severity| {
        alerts
            .iter()
            .filter(|a| a.severity == severity && !a.is_test())
            .count() as i64
    };
    let (critical, warning, info) = (
        of(Severity::Critical),
        of(Severity::Warning),
        of(Severity::Info),
    );
    let (reported_at, glance) = match latest {
        Some(latest) => (Some(latest.received_at), latest.glance),
        None => (None, Default::default()),
    };
    let below_minimum = match (&glance.shell_version, &minimum) {
        (Some(shell), Some(minimum)) => matches!(
            (shell.parse::<Version>(), minimum.parse::<Version>()),
            (Ok(shell), Ok(minimum)) if shell < minimum
        ),
        _ => false,
    };
    let dongle_bad = glance.dongle.as_ref().is_some_and(|d| !d.is_ok());
    let seats_full = glance
        .seats
        .as_ref()
        .is_some_and(|s| s.limit > 0 && s.used >= s.limit);
    let leading = leads.as_ref().map(|t| t.severity);
    let light = if critical > 0 || dongle_bad || leading == Some(Severity::Critical) {
        Light::Red
    } else if warning > 0 || below_minimum || seats_full || leading.is_some() {
        Light::Amber
    } else if reported_at.is_none() {
        Light::Grey
    } else {
        Light::Green
    };
    // The worst first; of those, one nobody has taken before one being handled; then the
    // newest; alerts one evaluation opened together tie on time, and the first it opened
    // leads, as its message leads the installation's thread in Telegram.
    alerts.sort_by_key(|a| {
        (
            std::cmp::Reverse(a.severity),
            a.state != AlertState::Firing,
            std::cmp::Reverse(a.fired_at.unwrap_or(a.first_seen_at)),
            a.id,
        )
    });
    let plugins = alerts.iter().map(|a| a.plugin.clone()).collect();
    let more = alerts.len().saturating_sub(1);
    let headline = alerts.into_iter().next().map(|a| Headline {
        alert_id: a.id,
        severity: a.severity,
        summary: a.summary,
        translations: a.translations,
    });
    Row {
        light,
        installation,
        reported_at,
        update: glance.newest_update,
        shell: glance.shell_version,
        minimum,
        below_minimum,
        dongle: glance.dongle.map(|d| d.state),
        dongle_bad,
        seats: glance.seats,
        seats_full,
        critical,
        warning,
        info,
        headline,
        more,
        incident,
        leads,
        plugins,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::fixtures;
    use crate::report::{Dongle, Glance};

    fn latest(dongle: &str, shell: &str) -> Latest {
        Latest {
            received_at: 1_000,
            glance: Glance {
                shell_version: Some(shell.into()),
                dongle: Some(Dongle {
                    state: dongle.into(),
                    error_code: None,
                }),
                ..Glance::default()
            },
        }
    }

    fn alert(id: i64, on: &str, severity: Severity, fired_at: i64, summary: &str) -> Alert {
        let mut alert = fixtures::alert(AlertState::Firing);
        alert.id = id;
        alert.installation_id = on.into();
        alert.severity = severity;
        alert.fired_at = Some(fired_at);
        alert.summary = summary.into();
        alert
    }

    #[test]
    fn a_test_alert_is_shown_but_says_nothing_is_wrong() {
        let mut test = alert(
            1,
            "a",
            Severity::Warning,
            10,
            "Test alert: nothing is wrong",
        );
        test.plugin = crate::alerts::test::CHECK.into();
        let rows = built(Facts {
            installations: vec![Installation::example("a", 1)],
            glances: [("a".to_string(), latest("present", "7.0.0"))]
                .into_iter()
                .collect(),
            alerts: vec![test],
            incidents: Vec::new(),
        });
        let a = &rows["a"];
        assert_eq!((a.light, a.warning), (Light::Green, 0));
        assert_eq!(a.headline.as_ref().map(|h| h.alert_id), Some(1));
    }

    fn built(facts: Facts) -> HashMap<String, Row> {
        let (rows, _) = build(facts, |i| (i.id == "old").then(|| "6.5.0".into()));
        rows.into_iter()
            .map(|r| (r.installation.id.clone(), r))
            .collect()
    }

    #[test]
    fn a_row_says_what_is_worst_and_how_much_more() {
        let rows = built(Facts {
            installations: ["a", "b", "c", "d", "e", "old", "new"]
                .map(|id| Installation::example(id, 1))
                .to_vec(),
            glances: [
                ("a", latest("present", "7.0.0")),
                ("b", latest("lost", "7.0.0")),
                ("old", latest("present", "6.4.0")),
            ]
            .map(|(id, l)| (id.to_string(), l))
            .into_iter()
            .collect(),
            alerts: vec![
                alert(1, "a", Severity::Warning, 50, "Bases are old"),
                alert(2, "a", Severity::Critical, 10, "Dongle lost"),
                alert(3, "a", Severity::Critical, 20, "Seats refused"),
                alert(4, "a", Severity::Info, 90, "Newer shell out"),
                alert(5, "c", Severity::Critical, 30, "Dongle lost"),
                alert(6, "c", Severity::Critical, 30, "Unreachable by domain"),
                alert(7, "d", Severity::Critical, 10, "Dongle lost"),
                alert(8, "d", Severity::Critical, 40, "Unreachable by domain"),
                alert(9, "e", Severity::Critical, 10, "Dongle lost"),
                Alert {
                    state: AlertState::Acknowledged,
                    ..alert(10, "e", Severity::Critical, 40, "Seats refused")
                },
            ],
            incidents: Vec::new(),
        });
        let headline = |id: &str| rows[id].headline.as_ref().unwrap().alert_id;
        assert_eq!(headline("c"), 5, "of one evaluation's, the first it opened");
        assert_eq!(headline("d"), 8, "the newest");
        assert_eq!(headline("e"), 9, "nobody took it: before one being handled");
        let a = &rows["a"];
        assert_eq!(a.light, Light::Red);
        let headline = a.headline.as_ref().unwrap();
        assert_eq!(
            (headline.alert_id, headline.summary_in(Lang::En), a.more),
            (3, "Seats refused", 3),
            "the worst first, and of those the newest"
        );
        assert_eq!((a.critical, a.warning, a.info), (2, 1, 1));
        assert_eq!(
            rows["b"].light,
            Light::Red,
            "a lost dongle with no alert yet"
        );
        assert!(rows["b"].headline.is_none());
        assert_eq!(rows["b"].reason(), Some(("board-dongle-bad", "bad")));
        assert_eq!(rows["old"].reason(), Some(("board-below-minimum", "warn")));
        assert_eq!(rows["new"].reason(), Some(("board-never", "muted")));
        assert_eq!(rows["a"].reason(), None, "its alerts say it");
        assert_eq!(rows["old"].light, Light::Amber);
        assert!(rows["old"].below_minimum);
        assert_eq!(rows["new"].light, Light::Grey, "never reported");
    }

    #[test]
    fn incident_members_name_it_and_its_parent_is_failing() {
        let mut incident =
            fixtures::incident(vec![fixtures::member(11, true), fixtures::member(12, true)]);
        incident.id = 7;
        let mut members: Vec<Alert> = [(11, "i11"), (12, "i12")]
            .map(|(id, on)| alert(id, on, Severity::Critical, 5, "Redirect down"))
            .to_vec();
        for member in &mut members {
            member.incident_id = Some(7);
        }
        let mut pending = alert(13, "i13", Severity::Critical, 5, "Redirect down");
        pending.state = AlertState::Pending;
        members.push(pending);
        let rows = built(Facts {
            installations: ["redirect-1", "i11", "i12", "i13"]
                .map(|id| Installation::example(id, 1))
                .to_vec(),
            glances: ["redirect-1", "i11", "i12", "i13"]
                .map(|id| (id.to_string(), latest("present", "7.0.0")))
                .into_iter()
                .collect(),
            alerts: members,
            incidents: vec![incident],
        });
        let parent = &rows["redirect-1"];
        assert_eq!(parent.light, Light::Red, "the parent of a failing incident");
        assert_eq!(
            parent.leads.as_ref().unwrap().parent_words(Lang::En),
            "2 installations behind it are down · incident #7"
        );
        assert_eq!(
            rows["i11"]
                .incident
                .as_ref()
                .unwrap()
                .member_words(Lang::En),
            "behind redirect-1 · incident #7"
        );
        assert_eq!(rows["i13"].light, Light::Green, "pending is not told yet");
        assert!(rows["i13"].incident.is_none());
    }
}

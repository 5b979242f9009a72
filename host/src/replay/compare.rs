//! What a candidate would change against the revision serving now, over the same history:
//! each candidate alert is matched to a serving one of the same installation and key whose
//! time overlaps it; matched ones fired earlier, later or at the same evaluation, the rest
//! are added (only the candidate fires them) or removed (only the serving one does). Pure.

use serde::{Deserialize, Serialize};

use super::timeline::Episode;

/// How one alert differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    Earlier,
    Later,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Earlier => "earlier",
            Change::Later => "later",
        }
    }
}

/// One alert that differs: the candidate's (for `removed`, the serving revision's), and
/// when the serving revision fired its match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Differing {
    pub change: Change,
    #[serde(flatten)]
    pub alert: Episode,
    pub serving_fired_at: Option<i64>,
}

/// The difference over one installation's history (or, summed, a whole replay's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    pub added: usize,
    pub removed: usize,
    pub earlier: usize,
    pub later: usize,
    pub same: usize,
    /// Every alert that differs, in the order they fired.
    pub alerts: Vec<Differing>,
}

impl Difference {
    /// Adds `other`'s counts and alerts to this one's.
    pub fn merge(&mut self, other: Difference) {
        self.added += other.added;
        self.removed += other.removed;
        self.earlier += other.earlier;
        self.later += other.later;
        self.same += other.same;
        self.alerts.extend(other.alerts);
    }
}

/// The difference between the `candidate`'s alerts and the `serving` revision's, both over
/// the same history ending at `until` (where open alerts end for the overlap).
pub fn compare(candidate: &[Episode], serving: &[Episode], until: i64) -> Difference {
    let span = |e: &Episode| (e.fired_at, e.resolved_at.unwrap_or(until));
    let mut matched = vec![false; serving.len()];
    let mut difference = Difference::default();
    for c in candidate {
        let (from, to) = span(c);
        let partner = serving.iter().enumerate().find(|(at, s)| {
            let (s_from, s_to) = span(s);
            !matched[*at]
                && s.installation == c.installation
                && s.key == c.key
                && s_from <= to
                && from <= s_to
        });
        let Some((at, s)) = partner else {
            difference.added += 1;
            difference.alerts.push(Differing {
                change: Change::Added,
                alert: c.clone(),
                serving_fired_at: None,
            });
            continue;
        };
        matched[at] = true;
        let change = match c.fired_at.cmp(&s.fired_at) {
            std::cmp::Ordering::Less => Change::Earlier,
            std::cmp::Ordering::Greater => Change::Later,
            std::cmp::Ordering::Equal => {
                difference.same += 1;
                continue;
            }
        };
        match change {
            Change::Earlier => difference.earlier += 1,
            _ => difference.later += 1,
        }
        difference.alerts.push(Differing {
            change,
            alert: c.clone(),
            serving_fired_at: Some(s.fired_at),
        });
    }
    for (s, _) in serving.iter().zip(&matched).filter(|(_, m)| !**m) {
        difference.removed += 1;
        difference.alerts.push(Differing {
            change: Change::Removed,
            alert: s.clone(),
            serving_fired_at: Some(s.fired_at),
        });
    }
    difference.alerts.sort_by_key(|d| d.alert.fired_at);
    difference
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::Severity;

    fn episode(key: &str, fired_at: i64, resolved_at: Option<i64>) -> Episode {
        Episode {
            installation: "i".into(),
            client: "c".into(),
            key: key.into(),
            severity: Severity::Warning,
            summary: String::new(),
            translations: Default::default(),
            fired_at,
            resolved_at,
        }
    }

    #[test]
    fn overlapping_alerts_match_and_the_rest_are_added_or_removed() {
        let candidate = [
            episode("stale", 10, Some(50)),
            episode("stale", 100, Some(120)),
            episode("stale", 200, None),
            episode("other", 10, None),
        ];
        let serving = [
            episode("stale", 30, Some(50)),
            episode("stale", 210, None),
            episode("stale", 300, None),
            episode("other", 10, Some(20)),
            episode("gone", 5, Some(6)),
        ];
        let d = compare(&candidate, &serving, 1_000);
        assert_eq!(
            (d.added, d.removed, d.earlier, d.later, d.same),
            (1, 2, 2, 0, 1)
        );
        let changes: Vec<(Change, i64)> = d
            .alerts
            .iter()
            .map(|a| (a.change, a.alert.fired_at))
            .collect();
        assert_eq!(
            changes,
            [
                (Change::Removed, 5),
                (Change::Earlier, 10),
                (Change::Added, 100),
                (Change::Earlier, 200),
                (Change::Removed, 300),
            ]
        );
        assert_eq!(d.alerts[1].serving_fired_at, Some(30));
    }

    #[test]
    fn a_later_start_is_later() {
        let d = compare(
            &[episode("a", 40, None)],
            &[episode("a", 10, Some(45))],
            100,
        );
        assert_eq!((d.later, d.alerts[0].serving_fired_at), (1, Some(10)));
    }
}

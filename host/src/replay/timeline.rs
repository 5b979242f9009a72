//! One revision's alerts on one installation, as a replay sees them: every evaluation's
//! findings go through the lifecycle decision live alerts go through
//! ([`alerts::plan`](crate::alerts::plan), damping included), and its changes are applied
//! here, to alerts kept in memory, instead of by the store. Pure: no I/O, no clock.

use serde::{Deserialize, Serialize};

use crate::alerts::directory::Directory;
use crate::alerts::lifecycle::Recent;
use crate::alerts::{AlertPolicy, AlertState, Change, OpenAlert, Routing, plan};
use crate::fleet::Installation;
use crate::plugins::contract::Translations;
use crate::plugins::{EvalOutput, Finding, Severity};

/// An alert the replayed rule would have fired: from when it fired until it resolved
/// (still open at the end of the replay: no end).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Episode {
    pub installation: String,
    pub client: String,
    pub key: String,
    /// The highest severity it reached.
    pub severity: Severity,
    /// What it said when it fired, in the plugin's own language and in others.
    pub summary: String,
    pub translations: Translations,
    pub fired_at: i64,
    pub resolved_at: Option<i64>,
}

/// The alerts of one revision on one installation, open and ended.
pub struct Timeline {
    plugin: String,
    open: Vec<OpenAlert>,
    /// The episode each open alert that fired is in, by alert id.
    firing: Vec<(i64, usize)>,
    episodes: Vec<Episode>,
    next_id: i64,
}

impl Timeline {
    pub fn new(plugin: &str) -> Self {
        Timeline {
            plugin: plugin.to_string(),
            open: Vec::new(),
            firing: Vec::new(),
            episodes: Vec::new(),
            next_id: 1,
        }
    }

    /// Applies one successful evaluation of `installation` at `now`.
    pub fn evaluated(
        &mut self,
        policy: &AlertPolicy,
        installation: &Installation,
        output: &EvalOutput,
        now: i64,
    ) {
        let directory = Directory::default();
        let routing = Routing {
            directory: &directory,
            now,
        };
        let plugin = self.plugin.clone();
        let outputs = [(plugin.as_str(), output)];
        let changes = plan(
            policy,
            &routing,
            installation,
            &self.open,
            &Recent::default(),
            &outputs,
        );
        for change in &changes {
            match change {
                Change::Open {
                    finding,
                    firing,
                    audience,
                    ..
                } => {
                    self.open.push(OpenAlert {
                        id: self.next_id,
                        installation_id: installation.id.clone(),
                        parent: installation.parent.clone(),
                        plugin: self.plugin.clone(),
                        key: finding.key.clone(),
                        client: installation.client.clone(),
                        chat_id: installation.telegram_chat_id,
                        zone: installation.time_zone(),
                        state: AlertState::Pending,
                        severity: finding.severity,
                        audience: *audience,
                        summary: finding.summary.clone(),
                        details: finding.details.clone(),
                        first_seen_at: now,
                        seen_count: 1,
                        cleared_at: None,
                        cleared_count: 0,
                        escalate_at: None,
                        cause: firing.as_ref().and_then(|f| f.cause.clone()),
                        flapping: false,
                        destinations: Vec::new(),
                    });
                    self.next_id += 1;
                    if firing.is_some() {
                        self.fire(installation, self.open.len() - 1, finding, now);
                    }
                }
                Change::Seen {
                    id, finding, fires, ..
                } => {
                    let Some(at) = self.open.iter().position(|a| a.id == *id) else {
                        continue;
                    };
                    let alert = &mut self.open[at];
                    alert.seen_count += 1;
                    alert.cleared_at = None;
                    alert.cleared_count = 0;
                    alert.severity = finding.severity;
                    alert.summary.clone_from(&finding.summary);
                    alert.details.clone_from(&finding.details);
                    if fires.is_some() {
                        self.fire(installation, at, finding, now);
                    } else if let Some(&(_, episode)) = self.firing.iter().find(|(a, _)| a == id) {
                        let episode = &mut self.episodes[episode];
                        episode.severity = episode.severity.max(finding.severity);
                    }
                }
                Change::Fading { id } => {
                    if let Some(alert) = self.open.iter_mut().find(|a| a.id == *id) {
                        alert.cleared_at.get_or_insert(now);
                        alert.cleared_count += 1;
                    }
                }
                Change::Resolve { id, .. } => {
                    if let Some(at) = self.firing.iter().position(|(a, _)| a == id) {
                        let (_, episode) = self.firing.swap_remove(at);
                        self.episodes[episode].resolved_at = Some(now);
                    }
                    self.open.retain(|a| a.id != *id);
                }
                Change::Discard { id } => self.open.retain(|a| a.id != *id),
            }
        }
    }

    /// The open alert at `at` starts firing now, saying `finding`: an episode begins.
    fn fire(&mut self, installation: &Installation, at: usize, finding: &Finding, now: i64) {
        let alert = &mut self.open[at];
        alert.state = AlertState::Firing;
        self.firing.push((alert.id, self.episodes.len()));
        self.episodes.push(Episode {
            installation: installation.id.clone(),
            client: installation.client.clone(),
            key: alert.key.clone(),
            severity: alert.severity,
            summary: alert.summary.clone(),
            translations: finding.translations.clone(),
            fired_at: now,
            resolved_at: None,
        });
    }

    /// Every alert that fired, in the order they fired; those still open have no end.
    pub fn episodes(self) -> Vec<Episode> {
        self.episodes
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::alerts::Damping;

    fn installation() -> Installation {
        Installation::example("vector-main", -100)
    }

    fn output(findings: &[(&str, Severity)]) -> EvalOutput {
        EvalOutput {
            findings: findings
                .iter()
                .map(|(key, severity)| Finding {
                    key: key.to_string(),
                    severity: *severity,
                    summary: format!("{key} holds"),
                    details: String::new(),
                    labels: Vec::new(),
                    translations: Default::default(),
                })
                .collect(),
            state: Vec::new(),
        }
    }

    #[test]
    fn a_finding_fires_when_it_appears_and_resolves_when_it_goes() {
        let policy = AlertPolicy::default();
        let mut timeline = Timeline::new("stale-updates");
        let i = installation();
        timeline.evaluated(&policy, &i, &output(&[]), 0);
        timeline.evaluated(&policy, &i, &output(&[("a", Severity::Warning)]), 10);
        timeline.evaluated(&policy, &i, &output(&[("a", Severity::Critical)]), 20);
        timeline.evaluated(&policy, &i, &output(&[]), 30);
        timeline.evaluated(&policy, &i, &output(&[("a", Severity::Warning)]), 40);
        let episodes = timeline.episodes();
        assert_eq!(episodes.len(), 2);
        assert_eq!(
            (episodes[0].fired_at, episodes[0].resolved_at),
            (10, Some(30))
        );
        assert_eq!(episodes[0].severity, Severity::Critical);
        assert_eq!(episodes[0].summary, "a holds");
        assert_eq!((episodes[1].fired_at, episodes[1].resolved_at), (40, None));
    }

    #[test]
    fn damping_holds_back_what_does_not_last_as_it_does_live() {
        let mut policy = AlertPolicy::default();
        policy.damping.insert(
            "flappy".into(),
            Damping {
                fire_after: Duration::ZERO,
                fire_after_evaluations: 2,
                resolve_after: Duration::ZERO,
                resolve_after_evaluations: 2,
            },
        );
        let mut timeline = Timeline::new("flappy");
        let i = installation();
        let holds = output(&[("a", Severity::Warning)]);
        let gone = output(&[]);
        // A blip that lasts one evaluation never fires.
        timeline.evaluated(&policy, &i, &holds, 10);
        timeline.evaluated(&policy, &i, &gone, 20);
        // Two in a row fire on the second; one evaluation without it does not resolve.
        timeline.evaluated(&policy, &i, &holds, 30);
        timeline.evaluated(&policy, &i, &holds, 40);
        timeline.evaluated(&policy, &i, &gone, 50);
        timeline.evaluated(&policy, &i, &holds, 60);
        timeline.evaluated(&policy, &i, &gone, 70);
        timeline.evaluated(&policy, &i, &gone, 80);
        let episodes = timeline.episodes();
        assert_eq!(episodes.len(), 1, "{episodes:?}");
        assert_eq!(
            (episodes[0].fired_at, episodes[0].resolved_at),
            (40, Some(80))
        );
    }
}

//! How eagerly findings become and stop being alerts, per plugin.

use std::collections::HashMap;
use std::time::Duration;

/// Damping keeps a flapping condition from spamming: an alert fires only once its finding
/// has held for `fire_after` and `fire_after_evaluations` evaluations, and resolves only
/// once it has been gone as long. The default fires and resolves on the first evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Damping {
    pub fire_after: Duration,
    pub fire_after_evaluations: u32,
    pub resolve_after: Duration,
    pub resolve_after_evaluations: u32,
}

impl Default for Damping {
    fn default() -> Self {
        Damping {
            fire_after: Duration::ZERO,
            fire_after_evaluations: 1,
            resolve_after: Duration::ZERO,
            resolve_after_evaluations: 1,
        }
    }
}

impl Damping {
    /// Whether something seen `count` times since `since` has held long enough.
    pub fn fires(&self, count: i64, since: i64, now: i64) -> bool {
        held(
            count,
            since,
            now,
            self.fire_after_evaluations,
            self.fire_after,
        )
    }

    /// Whether something gone `count` times since `since` has been gone long enough.
    pub fn resolves(&self, count: i64, since: i64, now: i64) -> bool {
        held(
            count,
            since,
            now,
            self.resolve_after_evaluations,
            self.resolve_after,
        )
    }
}

fn held(count: i64, since: i64, now: i64, evaluations: u32, duration: Duration) -> bool {
    count >= i64::from(evaluations)
        && now.saturating_sub(since) >= i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// How far one plugin may go on one installation over time: the output of one evaluation
/// is bounded elsewhere (`contract::OutputLimits`), but 256 findings a report, or one that
/// comes and goes with every report, would still be hundreds of messages an hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restraint {
    /// New alerts one plugin may open on one installation within `window`; the findings
    /// beyond wait in one alert that counts them
    /// ([`OVERFLOW_KEY`](crate::contract::OVERFLOW_KEY)).
    pub new_alerts: usize,
    pub window: Duration,
    /// A key whose alerts resolved this many times within `window` opens its next alert
    /// as flapping: it stays open through the flaps and resolves only once the finding
    /// has been gone for `quiet`.
    pub flap_after: usize,
    pub quiet: Duration,
}

impl Default for Restraint {
    fn default() -> Self {
        Restraint {
            new_alerts: 10,
            window: Duration::from_secs(3600),
            flap_after: 2,
            quiet: Duration::from_secs(30 * 60),
        }
    }
}

/// The alerting settings of the host.
#[derive(Debug, Clone)]
pub struct AlertPolicy {
    pub damping: HashMap<String, Damping>,
    /// Besides editing the living message, reply to it when the alert resolves, so the
    /// chat is notified (an edit alone is silent).
    pub resolve_reply: bool,
    /// How long an acknowledgement lasts by default (a client policy may say otherwise);
    /// `None`: for good.
    pub ack_expires_after: Option<Duration>,
    /// How often the clockwork (escalations, expiries, digests) looks at the time.
    pub due_interval: Duration,
    pub grouping: super::grouping::Grouping,
    pub restraint: Restraint,
}

impl Default for AlertPolicy {
    fn default() -> Self {
        AlertPolicy {
            damping: HashMap::new(),
            resolve_reply: true,
            ack_expires_after: Some(Duration::from_secs(4 * 3600)),
            due_interval: Duration::from_secs(15),
            grouping: super::grouping::Grouping::default(),
            restraint: Restraint::default(),
        }
    }
}

impl AlertPolicy {
    pub fn damping_for(&self, plugin: &str) -> Damping {
        self.damping.get(plugin).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_damping_acts_at_once() {
        let d = Damping::default();
        assert!(d.fires(1, 100, 100));
        assert!(d.resolves(1, 100, 100));
    }

    #[test]
    fn damping_needs_both_count_and_duration() {
        let d = Damping {
            fire_after: Duration::from_secs(60),
            fire_after_evaluations: 3,
            ..Damping::default()
        };
        assert!(!d.fires(3, 0, 59_999));
        assert!(!d.fires(2, 0, 60_000));
        assert!(d.fires(3, 0, 60_000));
    }
}

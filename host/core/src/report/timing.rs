//! The one rule for when a report is judged. A report says what was true when its agent
//! made it (`generated-at`), not when it reached us: an agent cut off overnight sends its
//! backlog in the morning, and a ten-hour-old lost dongle is history, not an emergency.
//!
//! A report is evaluated as of its own `generated-at`, never later than it arrived (an
//! agent's clock ahead of ours is clamped to the arrival, and noted when it is ahead by
//! more than the skew tolerance). It is *late* when it was made more than `late_after`
//! before it arrived: what it opens and closes is recorded but pages nobody. A probe and a
//! tick are judged as of the host's clock. The service, a replay and `reveille plugin
//! test` all call [`Timing::judge`].

use std::time::Duration;

/// The bounds of the rule, from `[reports]` in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Made longer than this before it arrived: old news.
    pub late_after: Duration,
    /// An agent's clock may run ahead of ours by this much without a note.
    pub clock_skew: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            late_after: Duration::from_secs(15 * 60),
            clock_skew: Duration::from_secs(5 * 60),
        }
    }
}

/// When a report is judged, and how it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judged {
    /// The evaluation's `now`, in milliseconds since the epoch.
    pub at: i64,
    /// Made more than `late_after` before it arrived.
    pub late: bool,
    /// Its agent's clock is ahead of ours by more than the skew tolerance.
    pub ahead: bool,
}

/// The moment a report made at `generated_at` and received at `received_at` is judged as
/// of (what a replay, which pages nobody, needs of the rule).
pub fn judged_at(generated_at: i64, received_at: i64) -> i64 {
    generated_at.min(received_at)
}

impl Timing {
    pub fn judge(&self, generated_at: i64, received_at: i64) -> Judged {
        Judged {
            at: judged_at(generated_at, received_at),
            late: received_at - generated_at > millis(self.late_after),
            ahead: generated_at - received_at > millis(self.clock_skew),
        }
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    #[test]
    fn a_report_is_judged_at_its_own_time_never_after_it_arrived() {
        let timing = Timing::default();
        let arrived = 1_000 * MINUTE;
        let fresh = timing.judge(arrived - 10_000, arrived);
        assert_eq!(
            fresh,
            Judged {
                at: arrived - 10_000,
                late: false,
                ahead: false
            }
        );
        let backlog = timing.judge(arrived - 600 * MINUTE, arrived);
        assert_eq!(backlog.at, arrived - 600 * MINUTE);
        assert!(backlog.late);
        assert!(!timing.judge(arrived - 15 * MINUTE, arrived).late);
        assert!(timing.judge(arrived - 15 * MINUTE - 1, arrived).late);
    }

    #[test]
    fn a_clock_ahead_of_ours_is_clamped_and_noted_past_the_tolerance() {
        let timing = Timing::default();
        let arrived = 1_000 * MINUTE;
        let slightly = timing.judge(arrived + 2 * MINUTE, arrived);
        assert_eq!((slightly.at, slightly.ahead), (arrived, false));
        let far = timing.judge(arrived + 60 * MINUTE, arrived);
        assert_eq!((far.at, far.late, far.ahead), (arrived, false, true));
    }
}

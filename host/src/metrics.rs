//! Counters and latency histograms, rendered in the Prometheus text format at
//! `GET /metrics`. Kept by hand (a few atomics and a lock per plugin) rather than through a
//! metrics framework: there are a dozen series and they must cost nothing on the hot path.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::plugins::PluginRun;

/// Upper bounds of the evaluation latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, value: Duration) {
        let secs = value.as_secs_f64();
        for (count, bound) in self.counts.iter_mut().zip(BUCKETS) {
            if secs <= bound {
                *count += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }
}

#[derive(Debug, Default, Clone)]
struct PluginSeries {
    evaluations: u64,
    failures: BTreeMap<&'static str, u64>,
    latency: Histogram,
}

/// Why a report was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rejection {
    Unauthorized,
    WrongInstallation,
    Invalid,
    TooLarge,
    Internal,
}

impl Rejection {
    fn label(self) -> &'static str {
        match self {
            Rejection::Unauthorized => "unauthorized",
            Rejection::WrongInstallation => "wrong_installation",
            Rejection::Invalid => "invalid",
            Rejection::TooLarge => "too_large",
            Rejection::Internal => "internal",
        }
    }
}

#[derive(Debug, Default)]
pub struct Metrics {
    reports_accepted: AtomicU64,
    reports_rejected: Mutex<BTreeMap<Rejection, u64>>,
    plugins: Mutex<BTreeMap<String, PluginSeries>>,
    notifications: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    pub fn report_accepted(&self) {
        self.reports_accepted.fetch_add(1, Ordering::Relaxed);
    }

    pub fn report_rejected(&self, why: Rejection) {
        *self
            .reports_rejected
            .lock()
            .expect("metrics lock")
            .entry(why)
            .or_default() += 1;
    }

    pub fn evaluated(&self, runs: &[PluginRun]) {
        let mut plugins = self.plugins.lock().expect("metrics lock");
        for run in runs {
            let series = plugins.entry(run.plugin.clone()).or_default();
            series.evaluations += 1;
            series.latency.observe(run.elapsed);
            if let Err(failure) = &run.outcome {
                *series.failures.entry(failure.kind.label()).or_default() += 1;
            }
        }
    }

    /// One delivery attempt of a notification, by outcome.
    pub fn notification(&self, outcome: &'static str) {
        *self
            .notifications
            .lock()
            .expect("metrics lock")
            .entry(outcome)
            .or_default() += 1;
    }

    /// The Prometheus text exposition of every series.
    /// `leases`: what this node (`node`) holds, per role.
    pub fn render(&self, queue_depth: i64, node: &str, leases: &[(&str, bool)]) -> String {
        let mut out = String::new();
        let w = &mut out;
        let _ = writeln!(
            w,
            "# HELP reveille_lease_held Whether this node does a role's work (holds its lease)."
        );
        let _ = writeln!(w, "# TYPE reveille_lease_held gauge");
        for (role, held) in leases {
            let _ = writeln!(
                w,
                "reveille_lease_held{{node=\"{node}\",role=\"{role}\"}} {}",
                u8::from(*held)
            );
        }
        let _ = writeln!(
            w,
            "# HELP reveille_reports_accepted_total Reports accepted and stored."
        );
        let _ = writeln!(w, "# TYPE reveille_reports_accepted_total counter");
        let _ = writeln!(
            w,
            "reveille_reports_accepted_total {}",
            self.reports_accepted.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            w,
            "# HELP reveille_reports_rejected_total Reports turned away, by reason."
        );
        let _ = writeln!(w, "# TYPE reveille_reports_rejected_total counter");
        for (why, n) in self.reports_rejected.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                w,
                "reveille_reports_rejected_total{{reason=\"{}\"}} {n}",
                why.label()
            );
        }
        let _ = writeln!(
            w,
            "# HELP reveille_evaluation_queue_depth Jobs waiting for or under evaluation."
        );
        let _ = writeln!(w, "# TYPE reveille_evaluation_queue_depth gauge");
        let _ = writeln!(w, "reveille_evaluation_queue_depth {queue_depth}");
        let _ = writeln!(
            w,
            "# HELP reveille_notifications_total Notification delivery attempts, by outcome."
        );
        let _ = writeln!(w, "# TYPE reveille_notifications_total counter");
        for (outcome, n) in self.notifications.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                w,
                "reveille_notifications_total{{outcome=\"{outcome}\"}} {n}"
            );
        }
        let plugins = self.plugins.lock().expect("metrics lock").clone();
        let _ = writeln!(
            w,
            "# HELP reveille_plugin_evaluations_total Plugin calls, by plugin."
        );
        let _ = writeln!(w, "# TYPE reveille_plugin_evaluations_total counter");
        for (plugin, s) in &plugins {
            let _ = writeln!(
                w,
                "reveille_plugin_evaluations_total{{plugin=\"{plugin}\"}} {}",
                s.evaluations
            );
        }
        let _ = writeln!(
            w,
            "# HELP reveille_plugin_failures_total Failed plugin calls, by plugin and kind."
        );
        let _ = writeln!(w, "# TYPE reveille_plugin_failures_total counter");
        for (plugin, s) in &plugins {
            for (kind, n) in &s.failures {
                let _ = writeln!(
                    w,
                    "reveille_plugin_failures_total{{plugin=\"{plugin}\",kind=\"{kind}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            w,
            "# HELP reveille_plugin_evaluation_seconds Time of one plugin call, store creation included."
        );
        let _ = writeln!(w, "# TYPE reveille_plugin_evaluation_seconds histogram");
        for (plugin, s) in &plugins {
            for (bound, count) in BUCKETS.iter().zip(s.latency.counts) {
                let _ = writeln!(
                    w,
                    "reveille_plugin_evaluation_seconds_bucket{{plugin=\"{plugin}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                w,
                "reveille_plugin_evaluation_seconds_bucket{{plugin=\"{plugin}\",le=\"+Inf\"}} {}",
                s.latency.count
            );
            let _ = writeln!(
                w,
                "reveille_plugin_evaluation_seconds_sum{{plugin=\"{plugin}\"}} {}",
                s.latency.sum
            );
            let _ = writeln!(
                w,
                "reveille_plugin_evaluation_seconds_count{{plugin=\"{plugin}\"}} {}",
                s.latency.count
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let mut h = Histogram::default();
        h.observe(Duration::from_micros(300));
        h.observe(Duration::from_millis(3));
        assert_eq!(h.counts[1], 0);
        assert_eq!(h.counts[2], 1);
        assert_eq!(h.counts[5], 2);
        assert_eq!(h.count, 2);
    }
}

//! Counters and latency histograms, rendered in the Prometheus text format at
//! `GET /metrics`. Kept by hand rather than through a metrics framework: there are a dozen
//! series, they must cost nothing on the hot path (recording a plugin call is a few atomic
//! adds under a shared read lock; prometheus-client's histogram takes a lock per
//! observation), and the tests run several services in one process, which a global
//! recorder (the `metrics` crate's) would mix up.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::plugins::PluginRun;

/// Upper bounds of the evaluation latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// Observations per bucket (each counted in the first bucket that holds it; the exposition
/// adds them up), their number and their sum.
#[derive(Debug, Default)]
struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, value: Duration) {
        let secs = value.as_secs_f64();
        if let Some(bucket) = BUCKETS.iter().position(|bound| secs <= *bound) {
            self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_nanos.fetch_add(
            u64::try_from(value.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Cumulative counts per bucket bound, as Prometheus has them.
    fn cumulative(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        BUCKETS
            .iter()
            .zip(&self.counts)
            .scan(0, |total, (bound, count)| {
                *total += count.load(Ordering::Relaxed);
                Some((*bound, *total))
            })
    }
}

#[derive(Debug, Default)]
struct PluginSeries {
    evaluations: AtomicU64,
    /// Rare, so a lock is fine.
    failures: Mutex<BTreeMap<&'static str, u64>>,
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
    plugins: RwLock<BTreeMap<String, Arc<PluginSeries>>>,
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
        for run in runs {
            let series = self.series(&run.plugin);
            series.evaluations.fetch_add(1, Ordering::Relaxed);
            series.latency.observe(run.elapsed);
            if let Err(failure) = &run.outcome {
                *series
                    .failures
                    .lock()
                    .expect("metrics lock")
                    .entry(failure.kind.label())
                    .or_default() += 1;
            }
        }
    }

    /// `plugin`'s series, made on its first call.
    fn series(&self, plugin: &str) -> Arc<PluginSeries> {
        if let Some(series) = self.plugins.read().expect("metrics lock").get(plugin) {
            return series.clone();
        }
        self.plugins
            .write()
            .expect("metrics lock")
            .entry(plugin.to_string())
            .or_default()
            .clone()
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
        let plugins = self.plugins.read().expect("metrics lock").clone();
        let _ = writeln!(
            w,
            "# HELP reveille_plugin_evaluations_total Plugin calls, by plugin."
        );
        let _ = writeln!(w, "# TYPE reveille_plugin_evaluations_total counter");
        for (plugin, s) in &plugins {
            let _ = writeln!(
                w,
                "reveille_plugin_evaluations_total{{plugin=\"{plugin}\"}} {}",
                s.evaluations.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            w,
            "# HELP reveille_plugin_failures_total Failed plugin calls, by plugin and kind."
        );
        let _ = writeln!(w, "# TYPE reveille_plugin_failures_total counter");
        for (plugin, s) in &plugins {
            for (kind, n) in s.failures.lock().expect("metrics lock").iter() {
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
            for (bound, within) in s.latency.cumulative() {
                let _ = writeln!(
                    w,
                    "reveille_plugin_evaluation_seconds_bucket{{plugin=\"{plugin}\",le=\"{bound}\"}} {within}"
                );
            }
            let count = s.latency.count.load(Ordering::Relaxed);
            let _ = writeln!(
                w,
                "reveille_plugin_evaluation_seconds_bucket{{plugin=\"{plugin}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                w,
                "reveille_plugin_evaluation_seconds_sum{{plugin=\"{plugin}\"}} {}",
                s.latency.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9
            );
            let _ = writeln!(
                w,
                "reveille_plugin_evaluation_seconds_count{{plugin=\"{plugin}\"}} {count}"
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
        let h = Histogram::default();
        h.observe(Duration::from_micros(300));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(2));
        let counts: Vec<u64> = h.cumulative().map(|(_, n)| n).collect();
        assert_eq!(counts[1], 0);
        assert_eq!(counts[2], 1);
        assert_eq!(counts[5], 2);
        assert_eq!(counts[BUCKETS.len() - 1], 2, "2 s is beyond every bound");
        assert_eq!(h.count.load(Ordering::Relaxed), 3);
        assert!((h.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9 - 2.0033).abs() < 1e-9);
    }
}

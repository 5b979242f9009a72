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
use crate::vitals::Vitals;

/// Upper bounds of the plugin call latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// Upper bounds of the queue wait buckets, in seconds: a job may wait a minute in a
/// backlog.
const WAIT_BUCKETS: [f64; 12] = [
    0.000_1, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 15.0, 60.0,
];

/// Observations per bucket (each counted in the first bucket that holds it; the exposition
/// adds them up), their number and their sum.
#[derive(Debug)]
struct Histogram {
    bounds: &'static [f64; 12],
    counts: [AtomicU64; 12],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::with(&BUCKETS)
    }
}

impl Histogram {
    fn with(bounds: &'static [f64; 12]) -> Self {
        Histogram {
            bounds,
            counts: Default::default(),
            count: AtomicU64::default(),
            sum_nanos: AtomicU64::default(),
        }
    }

    fn observe(&self, value: Duration) {
        let secs = value.as_secs_f64();
        if let Some(bucket) = self.bounds.iter().position(|bound| secs <= *bound) {
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
        self.bounds
            .iter()
            .zip(&self.counts)
            .scan(0, |total, (bound, count)| {
                *total += count.load(Ordering::Relaxed);
                Some((*bound, *total))
            })
    }

    /// The series `name{labels,le=...}`, `_sum` and `_count`.
    fn write(&self, w: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, within) in self.cumulative() {
            let _ = writeln!(w, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {within}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(w, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let braces = |labels: &str| {
            if labels.is_empty() {
                String::new()
            } else {
                format!("{{{labels}}}")
            }
        };
        let _ = writeln!(
            w,
            "{name}_sum{} {}",
            braces(labels),
            self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9
        );
        let _ = writeln!(w, "{name}_count{} {count}", braces(labels));
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
    /// The storage could not take it now (503): the agent sends it again.
    Unavailable,
    Internal,
}

impl Rejection {
    fn label(self) -> &'static str {
        match self {
            Rejection::Unauthorized => "unauthorized",
            Rejection::WrongInstallation => "wrong_installation",
            Rejection::Invalid => "invalid",
            Rejection::TooLarge => "too_large",
            Rejection::Unavailable => "unavailable",
            Rejection::Internal => "internal",
        }
    }
}

#[derive(Debug)]
pub struct Metrics {
    reports_accepted: AtomicU64,
    reports_repeated: AtomicU64,
    reports_late: AtomicU64,
    reports_ahead: AtomicU64,
    reports_rejected: Mutex<BTreeMap<Rejection, u64>>,
    plugins: RwLock<BTreeMap<String, Arc<PluginSeries>>>,
    notifications: Mutex<BTreeMap<&'static str, u64>>,
    queue_wait: Histogram,
    connections_refused: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            reports_accepted: AtomicU64::default(),
            reports_repeated: AtomicU64::default(),
            reports_late: AtomicU64::default(),
            reports_ahead: AtomicU64::default(),
            reports_rejected: Mutex::default(),
            plugins: RwLock::default(),
            notifications: Mutex::default(),
            queue_wait: Histogram::with(&WAIT_BUCKETS),
            connections_refused: AtomicU64::default(),
        }
    }
}

impl Metrics {
    pub fn report_accepted(&self) {
        self.reports_accepted.fetch_add(1, Ordering::Relaxed);
    }

    /// A report accepted that was stored before (an agent sending it again).
    pub fn report_repeated(&self) {
        self.reports_repeated.fetch_add(1, Ordering::Relaxed);
    }

    /// A report evaluated as old news: its agent sent it late (`report::Timing`).
    pub fn report_late(&self) {
        self.reports_late.fetch_add(1, Ordering::Relaxed);
    }

    /// A report whose agent's clock is ahead of ours: judged as of its arrival.
    pub fn report_ahead(&self) {
        self.reports_ahead.fetch_add(1, Ordering::Relaxed);
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

    /// A job waited this long in the evaluation queue before it ran.
    pub fn queue_waited(&self, waited: Duration) {
        self.queue_wait.observe(waited);
    }

    /// A connection was closed unserved (over the limit), or an idle one closed to make
    /// room.
    pub fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
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

    /// The Prometheus text exposition of every series, with what `vitals` heard and saw.
    /// `leases`: what this node (`node`) holds, per role.
    pub fn render(
        &self,
        queue_depth: i64,
        node: &str,
        leases: &[(&str, bool)],
        vitals: &Vitals,
    ) -> String {
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
            "# HELP reveille_reports_repeated_total Reports accepted that were stored before: sent again, kept once."
        );
        let _ = writeln!(w, "# TYPE reveille_reports_repeated_total counter");
        let _ = writeln!(
            w,
            "reveille_reports_repeated_total {}",
            self.reports_repeated.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            w,
            "# HELP reveille_reports_out_of_time_total Reports evaluated not as they came: sent late (old news, paging nobody) or from a clock ahead of ours (judged at arrival)."
        );
        let _ = writeln!(w, "# TYPE reveille_reports_out_of_time_total counter");
        for (why, n) in [("late", &self.reports_late), ("ahead", &self.reports_ahead)] {
            let _ = writeln!(
                w,
                "reveille_reports_out_of_time_total{{why=\"{why}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
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
            "# HELP reveille_evaluation_queue_wait_seconds How long a job waited in the queue before it ran."
        );
        let _ = writeln!(w, "# TYPE reveille_evaluation_queue_wait_seconds histogram");
        self.queue_wait
            .write(w, "reveille_evaluation_queue_wait_seconds", "");
        let _ = writeln!(
            w,
            "# HELP reveille_connections_refused_total Connections closed unserved: over http.max_connections, or idle ones closed to make room."
        );
        let _ = writeln!(w, "# TYPE reveille_connections_refused_total counter");
        let _ = writeln!(
            w,
            "reveille_connections_refused_total {}",
            self.connections_refused.load(Ordering::Relaxed)
        );
        let counts = vitals.counts();
        let _ = writeln!(
            w,
            "# HELP reveille_database_write_failures_total Writes the storage refused, by condition."
        );
        let _ = writeln!(w, "# TYPE reveille_database_write_failures_total counter");
        for (trouble, n) in &counts.write_failures {
            let _ = writeln!(
                w,
                "reveille_database_write_failures_total{{condition=\"{}\"}} {n}",
                trouble.as_str()
            );
        }
        let _ = writeln!(
            w,
            "# HELP reveille_telegram_calls_total Bot API calls, by outcome (ok, 429, 4xx, 401, 5xx, network)."
        );
        let _ = writeln!(w, "# TYPE reveille_telegram_calls_total counter");
        for (outcome, n) in &counts.telegram_calls {
            let _ = writeln!(
                w,
                "reveille_telegram_calls_total{{outcome=\"{}\"}} {n}",
                outcome.label()
            );
        }
        let backlog = vitals.backlog();
        let _ = writeln!(
            w,
            "# HELP reveille_outbox_waiting Notices owed and not delivered (not those held for a digest), by channel."
        );
        let _ = writeln!(w, "# TYPE reveille_outbox_waiting gauge");
        for (channel, b) in &backlog {
            let _ = writeln!(
                w,
                "reveille_outbox_waiting{{channel=\"{channel}\"}} {}",
                b.waiting
            );
        }
        let _ = writeln!(
            w,
            "# HELP reveille_outbox_oldest_seconds How long the oldest undelivered notice has waited, by channel."
        );
        let _ = writeln!(w, "# TYPE reveille_outbox_oldest_seconds gauge");
        for (channel, b) in &backlog {
            let _ = writeln!(
                w,
                "reveille_outbox_oldest_seconds{{channel=\"{channel}\"}} {}",
                b.oldest_ms as f64 / 1000.0
            );
        }
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
            s.latency.write(
                w,
                "reveille_plugin_evaluation_seconds",
                &format!("plugin=\"{plugin}\""),
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

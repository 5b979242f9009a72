//! What the service knows about its own condition: kept up to date by the parts that meet
//! trouble (a write refused, a Telegram call failed) and by a watcher that looks every
//! second (the database answers, the disk has room, notices do not wait), and read by
//! `/healthz` without waiting on anything: a load balancer asking during a database outage
//! gets an answer at once, and the answer says so.
//!
//! Judging is pure ([`assess`]): a [`Reading`] of everything at one moment and the
//! [`Bounds`] give the [`Problem`]s.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

use crate::clock::{SharedClock, wall_ms};
use crate::plugins::runtime::CallInFlight;
use crate::store::{Store, Trouble};
use crate::tasks::Tasks;

/// How long after its last failure a kind of work still counts as failing: a success in
/// between (an update that needed no new page on a full disk) does not make a failing
/// database look well, and the answer does not flap.
const LINGER_MS: i64 = 5_000;

/// How often the watcher looks.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// How long the watcher's questions to the database may take before it counts as
/// unreachable.
const PING_WITHIN: Duration = Duration::from_secs(1);

/// When `/healthz` says `degraded` (`[health]` in the configuration).
#[derive(Debug, Clone, PartialEq)]
pub struct Bounds {
    /// The oldest queued evaluation has waited this long.
    pub stalled_after: Duration,
    /// The oldest undelivered notice (not one held for a digest) has waited this long.
    pub notices_after: Duration,
    /// Telegram has refused or not answered for this long.
    pub telegram_after: Duration,
    /// Free space on the data directory's filesystem is below this.
    pub min_free_bytes: u64,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            stalled_after: Duration::from_secs(5),
            notices_after: Duration::from_secs(60),
            telegram_after: Duration::from_secs(30),
            min_free_bytes: 1 << 30,
        }
    }
}

/// A run of failures of one kind of work: since when, and the latest.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Streak<T> {
    since: i64,
    last: i64,
    what: T,
    /// The latest success after `last`, if any.
    recovered: Option<i64>,
    /// Failing until then whatever succeeds meanwhile: the other side said how long it
    /// would refuse (a 429's `retry_after`).
    held_until: i64,
}

/// Failures of one kind of work, as they come.
#[derive(Debug)]
struct Record<T>(Mutex<Option<Streak<T>>>);

impl<T> Default for Record<T> {
    fn default() -> Self {
        Record(Mutex::new(None))
    }
}

impl<T: Clone> Record<T> {
    fn failed(&self, what: T, now: i64) {
        self.failed_until(what, now, now);
    }

    /// A failure that lasts until `until` whatever succeeds meanwhile.
    fn failed_until(&self, what: T, now: i64, until: i64) {
        let mut streak = self.0.lock().expect("vitals lock");
        match streak.as_mut() {
            Some(s) if s.recovered.is_none_or(|at| now - at < LINGER_MS) => {
                s.last = now;
                s.what = what;
                s.recovered = None;
                s.held_until = s.held_until.max(until);
            }
            _ => {
                *streak = Some(Streak {
                    since: now,
                    last: now,
                    what,
                    recovered: None,
                    held_until: until,
                })
            }
        }
    }

    fn succeeded(&self, now: i64) {
        if let Some(streak) = self.0.lock().expect("vitals lock").as_mut()
            && streak.recovered.is_none()
            && now >= streak.held_until
        {
            streak.recovered = Some(now);
        }
    }

    /// The streak, while it lasts: its latest attempt failed, or one did within
    /// [`LINGER_MS`], or it is held.
    fn failing(&self, now: i64) -> Option<Failing<T>> {
        let streak = self.0.lock().expect("vitals lock");
        let s = streak.as_ref()?;
        (s.recovered.is_none() || now - s.last < LINGER_MS).then(|| Failing {
            since: s.since,
            what: s.what.clone(),
        })
    }
}

/// A kind of work failing since `since` (wall clock, ms), the latest time for `what`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failing<T> {
    pub since: i64,
    pub what: T,
}

/// How one Bot API call ended, as `/metrics` counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CallOutcome {
    Ok,
    /// 429: flood control.
    RateLimited,
    /// 4xx other than 429: a chat that is gone, a bad request; the service answered.
    Refused,
    /// The token is refused: nothing will get through.
    Unauthorized,
    /// 5xx, or an answer that could not be read.
    Unavailable,
    /// No answer: connection refused or lost, timed out.
    Network,
}

impl CallOutcome {
    pub fn label(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::RateLimited => "429",
            CallOutcome::Refused => "4xx",
            CallOutcome::Unauthorized => "401",
            CallOutcome::Unavailable => "5xx",
            CallOutcome::Network => "network",
        }
    }

    /// Whether Telegram is not doing its part: a chat that refuses is that chat's
    /// trouble, not the channel's.
    fn failed(self) -> bool {
        !matches!(self, CallOutcome::Ok | CallOutcome::Refused)
    }
}

/// Free space where the service keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disk {
    pub path: PathBuf,
    pub free_bytes: u64,
}

/// Notices owed on one channel and not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Backlog {
    pub waiting: i64,
    /// How long the oldest has waited, in ms.
    pub oldest_ms: i64,
}

/// Everything `/healthz` judges, at one moment.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    pub now: i64,
    pub writes: Option<Failing<Trouble>>,
    pub unreachable: Option<Failing<Trouble>>,
    pub disks: Vec<Disk>,
    /// By channel; only channels that are on.
    pub backlog: BTreeMap<&'static str, Backlog>,
    pub telegram: Option<Failing<CallOutcome>>,
    pub oldest_job: Option<Duration>,
    /// Plugin calls running past their deadline.
    pub overdue: Vec<CallInFlight>,
    /// Plugins the host switched off, with why.
    pub switched_off: Vec<(String, String)>,
}

/// One reason the service is not well, with what an operator should read.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    CannotWrite(Failing<Trouble>),
    Unreachable(Failing<Trouble>),
    DiskLow {
        disk: Disk,
        floor: u64,
    },
    NoticesWaiting {
        channel: &'static str,
        backlog: Backlog,
        bound: Duration,
    },
    TelegramFailing {
        failing: Failing<CallOutcome>,
        bound: Duration,
    },
    EvaluationLags {
        oldest: Duration,
        bound: Duration,
    },
    PluginOverdue {
        plugin: String,
        running: Duration,
        deadline: Duration,
    },
    PluginOff {
        plugin: String,
        why: String,
    },
}

impl Problem {
    /// The reason's name, as README.md lists them.
    pub fn reason(&self) -> &'static str {
        match self {
            Problem::CannotWrite(_) => "database-write",
            Problem::Unreachable(_) => "database-unreachable",
            Problem::DiskLow { .. } => "disk-low",
            Problem::NoticesWaiting { .. } => "notices-waiting",
            Problem::TelegramFailing { .. } => "telegram-failing",
            Problem::EvaluationLags { .. } => "evaluation-lags",
            Problem::PluginOverdue { .. } => "plugin-overdue",
            Problem::PluginOff { .. } => "plugin-off",
        }
    }
}

fn at(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.round(jiff::Unit::Second).unwrap_or(t).to_string())
        .unwrap_or_else(|_| ms.to_string())
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::CannotWrite(failing) => write!(
                f,
                "cannot write ({}) since {}: reports are answered 503 and kept by their agents",
                failing.what,
                at(failing.since)
            ),
            Problem::Unreachable(failing) => {
                write!(f, "{} since {}", failing.what, at(failing.since))
            }
            Problem::DiskLow { disk, floor } => write!(
                f,
                "free space on {} is {} MiB, below the floor of {} MiB",
                disk.path.display(),
                disk.free_bytes >> 20,
                floor >> 20
            ),
            Problem::NoticesWaiting {
                channel,
                backlog,
                bound,
            } => write!(
                f,
                "{} {channel} notices wait; the oldest for {} s (bound: {} s)",
                backlog.waiting,
                backlog.oldest_ms / 1000,
                bound.as_secs()
            ),
            Problem::TelegramFailing { failing, bound } => write!(
                f,
                "Telegram calls fail since {} (the latest: {}; bound: {} s)",
                at(failing.since),
                failing.what.label(),
                bound.as_secs()
            ),
            Problem::EvaluationLags { oldest, bound } => write!(
                f,
                "evaluation lags: the oldest queued job has waited {} s (bound: {} s)",
                oldest.as_secs(),
                bound.as_secs()
            ),
            Problem::PluginOverdue {
                plugin,
                running,
                deadline,
            } => write!(
                f,
                "a call of plugin `{plugin}` has run {} ms, past its deadline of {} ms",
                running.as_millis(),
                deadline.as_millis()
            ),
            Problem::PluginOff { plugin, why } => {
                write!(f, "plugin `{plugin}` was switched off: {why}")
            }
        }
    }
}

impl Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Problem", 2)?;
        s.serialize_field("reason", self.reason())?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}

/// What is wrong in `reading`, judged by `bounds`.
pub fn assess(reading: &Reading, bounds: &Bounds) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(failing) = &reading.unreachable {
        problems.push(Problem::Unreachable(failing.clone()));
    } else if let Some(failing) = &reading.writes {
        problems.push(Problem::CannotWrite(failing.clone()));
    }
    for disk in &reading.disks {
        if disk.free_bytes < bounds.min_free_bytes {
            problems.push(Problem::DiskLow {
                disk: disk.clone(),
                floor: bounds.min_free_bytes,
            });
        }
    }
    if let Some(failing) = &reading.telegram
        && reading.now - failing.since >= bounds.telegram_after.as_millis() as i64
    {
        problems.push(Problem::TelegramFailing {
            failing: failing.clone(),
            bound: bounds.telegram_after,
        });
    }
    for (channel, backlog) in &reading.backlog {
        if backlog.waiting > 0 && backlog.oldest_ms >= bounds.notices_after.as_millis() as i64 {
            problems.push(Problem::NoticesWaiting {
                channel,
                backlog: *backlog,
                bound: bounds.notices_after,
            });
        }
    }
    if let Some(oldest) = reading.oldest_job.filter(|w| *w >= bounds.stalled_after) {
        problems.push(Problem::EvaluationLags {
            oldest,
            bound: bounds.stalled_after,
        });
    }
    for call in &reading.overdue {
        problems.push(Problem::PluginOverdue {
            plugin: call.plugin.clone(),
            running: call.running,
            deadline: call.deadline,
        });
    }
    for (plugin, why) in &reading.switched_off {
        problems.push(Problem::PluginOff {
            plugin: plugin.clone(),
            why: why.clone(),
        });
    }
    problems
}

/// The service's condition as its parts report it, and how often each thing happened
/// (for `/metrics`).
#[derive(Debug, Default)]
pub struct Vitals {
    writes: Record<Trouble>,
    reach: Record<Trouble>,
    telegram: Record<CallOutcome>,
    disks: Mutex<Vec<Disk>>,
    backlog: Mutex<BTreeMap<&'static str, Backlog>>,
    counts: Mutex<Counts>,
}

/// What `/metrics` counts of what the vitals hear.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    pub write_failures: BTreeMap<Trouble, u64>,
    pub telegram_calls: BTreeMap<CallOutcome, u64>,
}

impl Vitals {
    /// A write failed for a reason of the storage's (other failures are bugs, logged where
    /// they happen).
    pub fn write_failed(&self, trouble: Trouble) {
        self.writes.failed(trouble, wall_ms());
        *self
            .counts
            .lock()
            .expect("vitals lock")
            .write_failures
            .entry(trouble)
            .or_default() += 1;
    }

    pub fn write_succeeded(&self) {
        self.writes.succeeded(wall_ms());
    }

    /// A Bot API call ended so; a 429 said to wait `retry_after`, and until then the
    /// channel counts as failing whatever other calls (reading updates) do.
    pub fn telegram_call(&self, outcome: CallOutcome, retry_after: Option<Duration>) {
        let now = wall_ms();
        if outcome.failed() {
            let until = now + retry_after.map_or(0, |wait| wait.as_millis() as i64);
            self.telegram.failed_until(outcome, now, until);
        } else {
            self.telegram.succeeded(now);
        }
        *self
            .counts
            .lock()
            .expect("vitals lock")
            .telegram_calls
            .entry(outcome)
            .or_default() += 1;
    }

    pub fn counts(&self) -> Counts {
        self.counts.lock().expect("vitals lock").clone()
    }

    /// What the parts reported and the watcher saw, now.
    pub fn reading(&self) -> Reading {
        let now = wall_ms();
        Reading {
            now,
            writes: self.writes.failing(now),
            unreachable: self.reach.failing(now),
            disks: self.disks.lock().expect("vitals lock").clone(),
            backlog: self.backlog.lock().expect("vitals lock").clone(),
            telegram: self.telegram.failing(now),
            ..Reading::default()
        }
    }

    /// Notices waiting per channel, as the watcher last saw them.
    pub fn backlog(&self) -> BTreeMap<&'static str, Backlog> {
        self.backlog.lock().expect("vitals lock").clone()
    }

    /// Looks every second, in `tasks`: whether the database answers, how much room the
    /// disks holding `paths` have, and (when `channels` are on) what waits in the outbox.
    pub fn watch(
        self: &std::sync::Arc<Self>,
        store: Store,
        clock: SharedClock,
        paths: Vec<PathBuf>,
        channels: &'static [&'static str],
        tasks: &Tasks,
    ) {
        let vitals = self.clone();
        let stop = tasks.clone();
        tasks.spawn(async move {
            loop {
                vitals.look(&store, &clock, &paths, channels).await;
                tokio::select! {
                    () = tokio::time::sleep(WATCH_EVERY) => {}
                    () = stop.stopping() => return,
                }
            }
        });
    }

    async fn look(
        &self,
        store: &Store,
        clock: &SharedClock,
        paths: &[PathBuf],
        channels: &'static [&'static str],
    ) {
        let disks = paths
            .iter()
            .filter_map(|path| {
                let free_bytes = free_space(path)
                    .inspect_err(|error| tracing::debug!(path = %path.display(), %error, "cannot read free space"))
                    .ok()?;
                Some(Disk {
                    path: path.clone(),
                    free_bytes,
                })
            })
            .collect();
        *self.disks.lock().expect("vitals lock") = disks;
        match store.ping(PING_WITHIN).await {
            Ok(()) => self.reach.succeeded(wall_ms()),
            Err(error) => {
                self.reach
                    .failed(error.trouble().unwrap_or(Trouble::Unreachable), wall_ms());
                return;
            }
        }
        if let Some(&channel) = channels.first() {
            match tokio::time::timeout(PING_WITHIN, store.outbox_backlog()).await {
                Ok(Ok((waiting, oldest))) => {
                    let backlog = Backlog {
                        waiting,
                        oldest_ms: oldest.map_or(0, |at| (clock.now_ms() - at).max(0)),
                    };
                    self.backlog
                        .lock()
                        .expect("vitals lock")
                        .insert(channel, backlog);
                }
                Ok(Err(error)) => tracing::debug!(%error, "cannot read the outbox's backlog"),
                Err(_) => tracing::debug!("the outbox's backlog took too long to read"),
            }
        }
    }
}

/// Bytes an unprivileged process may still write on the filesystem holding `path`.
fn free_space(path: &std::path::Path) -> std::io::Result<u64> {
    let stat = rustix::fs::statvfs(path)?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(now: i64) -> Reading {
        Reading {
            now,
            ..Reading::default()
        }
    }

    #[test]
    fn a_streak_lasts_until_a_success_and_a_quiet_while() {
        let record = Record::<Trouble>::default();
        assert_eq!(record.failing(0), None);
        record.failed(Trouble::DiskFull, 1_000);
        record.failed(Trouble::DiskFull, 2_000);
        assert_eq!(record.failing(3_000).map(|f| f.since), Some(1_000));
        record.succeeded(4_000);
        assert!(
            record.failing(4_500).is_some(),
            "one success within the linger does not hide a failing disk"
        );
        record.failed(Trouble::DiskFull, 5_000);
        assert_eq!(
            record.failing(6_000).map(|f| f.since),
            Some(1_000),
            "the same streak"
        );
        record.succeeded(7_000);
        assert_eq!(record.failing(5_000 + LINGER_MS), None, "well again");
        record.failed_until(Trouble::Busy, 20_000, 30_000);
        record.succeeded(25_000);
        assert!(record.failing(29_000).is_some(), "held");
        record.succeeded(30_000);
        assert_eq!(record.failing(30_000 + LINGER_MS), None);
        record.failed(Trouble::Io, 40_000);
        assert_eq!(
            record.failing(40_000),
            Some(Failing {
                since: 40_000,
                what: Trouble::Io
            }),
            "a new streak"
        );
    }

    #[test]
    fn each_reason_has_its_trigger() {
        let bounds = Bounds::default();
        assert!(assess(&reading(0), &bounds).is_empty());

        let mut r = reading(100_000);
        r.writes = Some(Failing {
            since: 90_000,
            what: Trouble::DiskFull,
        });
        let problems = assess(&r, &bounds);
        assert_eq!(problems[0].reason(), "database-write");
        assert!(
            problems[0]
                .to_string()
                .starts_with("cannot write (disk full) since 1970-01-01T00:01:30Z"),
            "{}",
            problems[0]
        );

        r.unreachable = Some(Failing {
            since: 95_000,
            what: Trouble::Unreachable,
        });
        let problems = assess(&r, &bounds);
        assert_eq!(problems.len(), 1, "unreachable says why writes fail too");
        assert_eq!(
            problems[0].to_string(),
            "database unreachable since 1970-01-01T00:01:35Z"
        );

        let mut r = reading(100_000);
        r.disks = vec![Disk {
            path: "/data".into(),
            free_bytes: 100 << 20,
        }];
        let problems = assess(&r, &bounds);
        assert_eq!(problems[0].reason(), "disk-low");
        assert_eq!(
            problems[0].to_string(),
            "free space on /data is 100 MiB, below the floor of 1024 MiB"
        );

        let mut r = reading(100_000);
        r.telegram = Some(Failing {
            since: 80_000,
            what: CallOutcome::Network,
        });
        assert!(
            assess(&r, &bounds).is_empty(),
            "20 s of failures: within the bound"
        );
        r.now = 110_000;
        assert_eq!(assess(&r, &bounds)[0].reason(), "telegram-failing");

        let mut r = reading(0);
        r.backlog.insert(
            "telegram",
            Backlog {
                waiting: 3,
                oldest_ms: 59_000,
            },
        );
        assert!(assess(&r, &bounds).is_empty());
        r.backlog.insert(
            "telegram",
            Backlog {
                waiting: 3,
                oldest_ms: 61_000,
            },
        );
        assert_eq!(
            assess(&r, &bounds)[0].to_string(),
            "3 telegram notices wait; the oldest for 61 s (bound: 60 s)"
        );

        let mut r = reading(0);
        r.oldest_job = Some(Duration::from_secs(4));
        assert!(assess(&r, &bounds).is_empty());
        r.oldest_job = Some(Duration::from_secs(6));
        assert_eq!(assess(&r, &bounds)[0].reason(), "evaluation-lags");

        let mut r = reading(0);
        r.overdue = vec![CallInFlight {
            plugin: "sleeper".into(),
            running: Duration::from_millis(5_000),
            deadline: Duration::from_millis(100),
        }];
        r.switched_off = vec![("slow".into(), "too slow".into())];
        let problems = assess(&r, &bounds);
        assert_eq!(
            problems[0].to_string(),
            "a call of plugin `sleeper` has run 5000 ms, past its deadline of 100 ms"
        );
        assert_eq!(
            problems[1].to_string(),
            "plugin `slow` was switched off: too slow"
        );
    }

    #[test]
    fn a_chat_that_refuses_is_not_telegram_failing() {
        let vitals = Vitals::default();
        vitals.telegram_call(CallOutcome::Refused, None);
        assert!(vitals.reading().telegram.is_none());
        vitals.telegram_call(CallOutcome::RateLimited, Some(Duration::from_secs(60)));
        vitals.telegram_call(CallOutcome::Ok, None);
        assert_eq!(
            vitals.reading().telegram.map(|f| f.what),
            Some(CallOutcome::RateLimited),
            "reading updates does not end flood control"
        );
    }
}

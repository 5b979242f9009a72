//! One shard's queue: jobs kept in order per installation, installations served so that a
//! job that can change an alert does not wait behind routine ones.
//!
//! Each installation has its own line of jobs, and the shard serves installations, not
//! jobs: it takes the front job of the first installation in the urgent list, or else of
//! the first in the routine list, and while that job runs the installation is in neither
//! list, so its next job cannot start before it ends. An installation is urgent while any
//! of its queued jobs is: an urgent job takes the routine jobs queued before it along (they
//! run first, in order), so every check still sees one installation's reports in the order
//! they came. Only the order between installations changes, which no check can observe
//! (state is per installation).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

use tokio::sync::Notify;

/// Which line a job waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Can change an alert (a report that says something new, a probe): served first.
    Urgent,
    /// Most likely changes nothing (a report like the one before, a tick).
    Routine,
}

/// A job taken from the queue; hand it back to [`ShardQueue::done`] when it has run.
#[derive(Debug)]
pub struct Taken<J> {
    pub installation: String,
    pub job: J,
    /// How long it waited in the queue.
    pub waited: std::time::Duration,
    seq: u64,
}

pub struct ShardQueue<J> {
    inner: Mutex<Inner<J>>,
    /// One permit per push: the shard's single worker waits on it when the queue is empty.
    pushed: Notify,
}

struct Queued<J> {
    job: J,
    lane: Lane,
    seq: u64,
}

/// One installation's jobs; it exists while one of them is queued or running.
struct Line<J> {
    jobs: VecDeque<Queued<J>>,
    running: bool,
    /// The list this installation waits in (never while running). An installation
    /// promoted to urgent stays behind in the routine list, skipped there when it comes up.
    listed: Option<Lane>,
}

struct Inner<J> {
    lines: HashMap<String, Line<J>>,
    urgent: VecDeque<String>,
    routine: VecDeque<String>,
    /// When each job still queued or running was queued, by sequence number (so the first
    /// is the oldest).
    since: BTreeMap<u64, Instant>,
    next_seq: u64,
    closed: bool,
}

impl<J> Default for ShardQueue<J> {
    fn default() -> Self {
        ShardQueue {
            inner: Mutex::new(Inner {
                lines: HashMap::new(),
                urgent: VecDeque::new(),
                routine: VecDeque::new(),
                since: BTreeMap::new(),
                next_seq: 0,
                closed: false,
            }),
            pushed: Notify::new(),
        }
    }
}

impl<J> ShardQueue<J> {
    /// Queues `job` behind `installation`'s others; false (and the job dropped) once the
    /// queue is closed.
    pub fn push(&self, installation: &str, job: J, lane: Lane) -> bool {
        let mut inner = self.inner.lock().expect("shard queue lock");
        if inner.closed {
            return false;
        }
        let seq = inner.next_seq;
        inner.next_seq += 1;
        inner.since.insert(seq, Instant::now());
        let line = inner
            .lines
            .entry(installation.to_string())
            .or_insert_with(|| Line {
                jobs: VecDeque::new(),
                running: false,
                listed: None,
            });
        line.jobs.push_back(Queued { job, lane, seq });
        let list = match line.listed {
            // Running: listed again when its job is done.
            _ if line.running => None,
            None => Some(lane),
            Some(Lane::Routine) if lane == Lane::Urgent => Some(Lane::Urgent),
            Some(_) => None,
        };
        if let Some(list) = list {
            line.listed = Some(list);
            inner.list(list).push_back(installation.to_string());
        }
        drop(inner);
        self.pushed.notify_one();
        true
    }

    /// The next job to run, waiting for one; `None` once closed. One worker per queue.
    pub async fn take(&self) -> Option<Taken<J>> {
        loop {
            if let Some(taken) = self.try_take() {
                return Some(taken);
            }
            if self.inner.lock().expect("shard queue lock").closed {
                return None;
            }
            self.pushed.notified().await;
        }
    }

    fn try_take(&self) -> Option<Taken<J>> {
        let mut inner = self.inner.lock().expect("shard queue lock");
        for lane in [Lane::Urgent, Lane::Routine] {
            while let Some(installation) = inner.list(lane).pop_front() {
                // An entry left behind by a promotion: its line may be gone, or in the other list.
                let Some(line) = inner.lines.get_mut(&installation) else {
                    continue;
                };
                if line.listed != Some(lane) {
                    continue;
                }
                line.listed = None;
                line.running = true;
                let queued = line.jobs.pop_front().expect("a listed line has jobs");
                let waited = inner
                    .since
                    .get(&queued.seq)
                    .map(Instant::elapsed)
                    .unwrap_or_default();
                return Some(Taken {
                    installation,
                    job: queued.job,
                    waited,
                    seq: queued.seq,
                });
            }
        }
        None
    }

    /// `taken` has run: its installation's next job may be taken.
    pub fn done(&self, taken: &Taken<J>) {
        let mut inner = self.inner.lock().expect("shard queue lock");
        inner.since.remove(&taken.seq);
        let line = inner
            .lines
            .get_mut(&taken.installation)
            .expect("a running job's line");
        line.running = false;
        if line.jobs.is_empty() {
            inner.lines.remove(&taken.installation);
            return;
        }
        let lane = if line.jobs.iter().any(|q| q.lane == Lane::Urgent) {
            Lane::Urgent
        } else {
            Lane::Routine
        };
        line.listed = Some(lane);
        inner.list(lane).push_back(taken.installation.clone());
    }

    /// Takes no more jobs; what is queued is dropped (a report stays stored and
    /// unevaluated for the next engine).
    pub fn close(&self) {
        self.inner.lock().expect("shard queue lock").closed = true;
        self.pushed.notify_one();
    }

    /// When the oldest job queued or running was queued.
    pub fn oldest(&self) -> Option<Instant> {
        let inner = self.inner.lock().expect("shard queue lock");
        inner.since.values().next().copied()
    }
}

impl<J> Inner<J> {
    fn list(&mut self, lane: Lane) -> &mut VecDeque<String> {
        match lane {
            Lane::Urgent => &mut self.urgent,
            Lane::Routine => &mut self.routine,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_all(queue: &ShardQueue<u32>) -> Vec<(String, u32)> {
        let mut order = Vec::new();
        while let Some(taken) = queue.try_take() {
            order.push((taken.installation.clone(), taken.job));
            queue.done(&taken);
        }
        order
    }

    fn pairs(expected: &[(&str, u32)]) -> Vec<(String, u32)> {
        expected.iter().map(|(i, j)| (i.to_string(), *j)).collect()
    }

    #[test]
    fn an_urgent_job_goes_before_routine_ones_with_its_own_earlier_jobs() {
        let queue = ShardQueue::default();
        queue.push("a", 1, Lane::Routine);
        queue.push("b", 2, Lane::Routine);
        queue.push("c", 3, Lane::Routine);
        queue.push("c", 4, Lane::Urgent);
        queue.push("a", 5, Lane::Routine);
        assert_eq!(
            run_all(&queue),
            pairs(&[("c", 3), ("c", 4), ("a", 1), ("b", 2), ("a", 5)])
        );
    }

    #[test]
    fn what_a_promotion_leaves_behind_is_skipped_once_the_installation_is_done() {
        let queue = ShardQueue::default();
        queue.push("a", 1, Lane::Routine);
        queue.push("a", 2, Lane::Urgent);
        queue.push("b", 3, Lane::Routine);
        let first = queue.try_take().expect("a's first job");
        queue.done(&first);
        let second = queue.try_take().expect("a's second job");
        assert_eq!(second.job, 2);
        queue.done(&second);
        assert_eq!(run_all(&queue), pairs(&[("b", 3)]));
        queue.push("a", 4, Lane::Routine);
        assert_eq!(run_all(&queue), pairs(&[("a", 4)]));
    }

    #[test]
    fn one_installation_never_has_two_jobs_taken_at_once() {
        let queue = ShardQueue::default();
        queue.push("a", 1, Lane::Routine);
        let first = queue.try_take().expect("a job");
        queue.push("a", 2, Lane::Urgent);
        queue.push("b", 3, Lane::Routine);
        let second = queue.try_take().expect("b's job");
        assert_eq!((second.installation.as_str(), second.job), ("b", 3));
        assert!(
            queue.try_take().is_none(),
            "a's next job waits for its first"
        );
        queue.done(&first);
        queue.done(&second);
        assert_eq!(run_all(&queue), pairs(&[("a", 2)]));
    }

    #[test]
    fn a_running_installation_with_an_urgent_job_comes_back_urgent() {
        let queue = ShardQueue::default();
        queue.push("a", 1, Lane::Routine);
        let running = queue.try_take().expect("a job");
        queue.push("b", 2, Lane::Routine);
        queue.push("a", 3, Lane::Urgent);
        queue.done(&running);
        assert_eq!(run_all(&queue), pairs(&[("a", 3), ("b", 2)]));
    }

    #[test]
    fn the_oldest_wait_is_the_first_job_still_queued_or_running() {
        let queue = ShardQueue::default();
        assert!(queue.oldest().is_none());
        queue.push("a", 1, Lane::Routine);
        let first = queue.oldest().expect("one job");
        queue.push("b", 2, Lane::Urgent);
        let urgent = queue.try_take().expect("b first");
        queue.done(&urgent);
        assert_eq!(queue.oldest(), Some(first));
        run_all(&queue);
        assert!(queue.oldest().is_none());
    }

    #[test]
    fn a_closed_queue_takes_nothing_more() {
        let queue = ShardQueue::default();
        queue.close();
        assert!(!queue.push("a", 1, Lane::Urgent));
        assert!(queue.try_take().is_none());
    }
}

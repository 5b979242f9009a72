//! The service's background tasks, in groups that stop in order.
//!
//! Aborting a task drops it at whatever await it sits on: a delivery between its Bot API
//! call and the commit that records it, an evaluation halfway through its transaction.
//! Instead each group has a token that its loops look at only where they wait (between
//! two pieces of work, never inside one), and a tracker that says when all of them
//! returned. [`Stages::stop`] stops the groups one after the other, so nothing is fed to a
//! part that has already stopped: first what brings work in (HTTP, Telegram's updates),
//! then what makes work on its own (ticks, probes, the clockwork, plugin syncs), then the
//! pipeline, then the dispatcher, then the node's place in the cluster.

use std::time::Duration;

use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};
use tokio_util::task::TaskTracker;

/// One group of background tasks: told to stop by one token, waited for by one tracker.
#[derive(Clone, Default)]
pub struct Tasks {
    stop: CancellationToken,
    tracker: TaskTracker,
}

impl Tasks {
    /// Runs `task` in this group; it must return soon after [`Tasks::stopping`] resolves.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(task);
    }

    /// Resolves once the group is told to stop.
    pub fn stopping(&self) -> WaitForCancellationFuture<'_> {
        self.stop.cancelled()
    }

    pub fn is_stopping(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// Waits `wait`; false if the group was told to stop meanwhile (or before), so a loop
    /// reads `while tasks.pause(every).await { ... }`.
    pub async fn pause(&self, wait: Duration) -> bool {
        tokio::select! {
            () = self.stop.cancelled() => false,
            () = tokio::time::sleep(wait) => !self.stop.is_cancelled(),
        }
    }

    /// Tells the group to stop and waits up to `within` for its tasks; false if some were
    /// still running then (they are left to the runtime's end).
    async fn stop(&self, within: Duration) -> bool {
        self.stop.cancel();
        self.tracker.close();
        tokio::time::timeout(within, self.tracker.wait())
            .await
            .is_ok()
    }
}

/// Every group, in the order [`Stages::stop`] stops them.
#[derive(Clone, Default)]
pub struct Stages {
    /// What brings work in: the HTTP listener and Telegram's update loop.
    pub intake: Tasks,
    /// What makes work on its own: ticks, probes, the alerts' clockwork, the report sweep,
    /// the plugins directory and the installed set, scheduled client reports.
    pub producers: Tasks,
    /// The evaluation workers: each finishes the job it is on; what is queued behind it
    /// stays stored for the next engine.
    pub pipeline: Tasks,
    /// The outbox's dispatcher: a round in flight finishes and records its outcomes.
    pub delivery: Tasks,
    /// The election, the notifications between nodes and their relays.
    pub cluster: Tasks,
}

impl Stages {
    /// How long each group may take to stop. A delivery round is bounded by the Bot API
    /// call's deadline, the HTTP listener by its drain.
    const WITHIN: Duration = Duration::from_secs(15);

    /// Stops every group in order, each after the one before has stopped.
    pub async fn stop(&self) {
        for (name, tasks) in [
            ("intake", &self.intake),
            ("producers", &self.producers),
            ("pipeline", &self.pipeline),
            ("delivery", &self.delivery),
            ("cluster", &self.cluster),
        ] {
            if tasks.stop(Self::WITHIN).await {
                tracing::debug!(stage = name, "stopped");
            } else {
                tracing::warn!(stage = name, within = ?Self::WITHIN, "still running at shutdown; left behind");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn groups_stop_in_order_and_a_loop_finishes_its_piece_of_work() {
        let stages = Stages::default();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let done = Arc::new(AtomicUsize::new(0));
        for (name, tasks) in [("delivery", &stages.delivery), ("intake", &stages.intake)] {
            let (tasks_in, order, done) = (tasks.clone(), order.clone(), done.clone());
            tasks.spawn(async move {
                while tasks_in.pause(Duration::from_millis(10)).await {
                    // A piece of work longer than the pause: never cut off in the middle.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                order.lock().unwrap().push(name);
            });
        }
        tokio::time::sleep(Duration::from_millis(35)).await;
        stages.stop().await;
        assert_eq!(*order.lock().unwrap(), ["intake", "delivery"]);
        assert!(stages.pipeline.is_stopping());
        // Both loops were inside their work when told, and finished it.
        assert_eq!(done.load(Ordering::Relaxed), 2);
    }
}

//! "Something in the fleet changed": rung after every committed evaluation, every change
//! to alerts and every change to an installation, heard by the board's kept rows (which
//! load again when next read) and its open pages (server-sent events), which then show
//! what changed. It carries no data, so nothing a page may not see leaks through it, and
//! a page that misses a ring only waits for the next.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::broadcast;

#[derive(Debug, Clone)]
pub struct Live {
    sender: broadcast::Sender<()>,
    /// How many rings so far: what the board's kept rows were built after is compared
    /// with it.
    rung: Arc<AtomicU64>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            sender: broadcast::channel(16).0,
            rung: Arc::default(),
        }
    }
}

impl Live {
    pub fn changed(&self) {
        self.rung.fetch_add(1, Ordering::SeqCst);
        // Nobody watching is not an error.
        let _ = self.sender.send(());
    }

    pub fn watch(&self) -> broadcast::Receiver<()> {
        self.sender.subscribe()
    }

    /// Rings so far: a view built after reading this many is current until the next.
    pub fn rung(&self) -> u64 {
        self.rung.load(Ordering::SeqCst)
    }
}

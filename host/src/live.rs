//! "Something in the fleet changed": rung after every committed evaluation and every
//! change to alerts, heard by the board's open pages (server-sent events), which then
//! fetch what they show again. It carries no data, so nothing a page may not see leaks
//! through it, and a page that misses a ring only waits for the next.

use tokio::sync::broadcast;

#[derive(Debug, Clone)]
pub struct Live {
    sender: broadcast::Sender<()>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            sender: broadcast::channel(16).0,
        }
    }
}

impl Live {
    pub fn changed(&self) {
        // Nobody watching is not an error.
        let _ = self.sender.send(());
    }

    pub fn watch(&self) -> broadcast::Receiver<()> {
        self.sender.subscribe()
    }
}

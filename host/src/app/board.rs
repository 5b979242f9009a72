//! The board's own state: live updates for open pages, the fleet's rows kept between
//! changes, the public address, and the one-time setup secret while nobody can log in yet.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use jiff::tz::TimeZone;

use crate::board::Kept;
use crate::ingest::token;
use crate::live::Live;

/// The board's own state.
pub struct Web {
    pub live: Live,
    pub board: Arc<Kept>,
    /// Where people reach the service (for links and the agent snippet).
    pub public_url: Option<String>,
    /// The zone pages show times in to staff who chose none.
    pub zone: TimeZone,
    /// Whether a bot token is configured (the board's setup checklist says so).
    pub telegram: bool,
    /// Every step of the setup checklist was seen done: a service set up stays set up,
    /// so the board stops asking the database about it.
    pub set_up: AtomicBool,
    /// The digest of the setup secret while there is one (nobody can log in yet).
    setup: Mutex<Option<String>>,
}

impl Web {
    pub fn new(
        live: Live,
        board: Arc<Kept>,
        public_url: Option<String>,
        zone: TimeZone,
        telegram: bool,
    ) -> Web {
        Web {
            live,
            board,
            public_url,
            zone,
            telegram,
            set_up: AtomicBool::new(false),
            setup: Mutex::default(),
        }
    }

    /// A fresh one-time secret for `/setup/{secret}`, which creates the first admin.
    pub fn open_setup(&self) -> String {
        let secret = token::secret("");
        *self.setup.lock().expect("setup lock") = Some(token::digest(&secret));
        secret
    }

    pub(crate) fn setup_matches(&self, presented: &str) -> bool {
        let digest = token::digest(presented);
        self.setup
            .lock()
            .expect("setup lock")
            .as_deref()
            .is_some_and(|expected| same(expected, &digest))
    }

    pub(crate) fn close_setup(&self) {
        *self.setup.lock().expect("setup lock") = None;
    }
}

/// Constant-time equality of two digests.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

//! Where an alert's notifications go.
//!
//! Deliberately simple for now: an installation's alerts go to its chat. Every notice an
//! alert owes is routed here, once, when the change that owes it is decided, and the outbox
//! records the destination. That is the seam for what comes next: quiet hours in the
//! client's time zone (hold a notice for the morning, or wake someone by severity),
//! escalation (a second destination when a critical alert stays unacknowledged), incidents
//! (one message for many installations' alerts) and suppression behind a failing parent.

use super::{Notice, NoticeKind};
use crate::store::Installation;

/// An alert's destinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub chat_id: i64,
}

impl Route {
    /// Where a new alert of `installation` goes: its chat.
    pub fn for_installation(installation: &Installation) -> Route {
        Route::to_chat(installation.telegram_chat_id)
    }

    /// An alert's existing destination (where its living message is).
    pub fn to_chat(chat_id: i64) -> Route {
        Route { chat_id }
    }

    /// `kinds`, each addressed to this route's destinations.
    pub fn notices(&self, kinds: &[NoticeKind]) -> Vec<Notice> {
        kinds
            .iter()
            .map(|&kind| Notice {
                kind,
                chat_id: self.chat_id,
            })
            .collect()
    }
}

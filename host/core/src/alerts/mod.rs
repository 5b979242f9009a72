//! Findings become alerts. An alert is the lifecycle of one finding key on one installation
//! from one plugin: `firing` when first reported (or `pending` while damping holds it),
//! `acknowledged` or `snoozed` when someone takes it, `resolved` when a later evaluation of
//! that plugin no longer reports the key (or the installation or plugin is removed). A key
//! that comes back after resolving is a new alert.
//!
//! This module decides; `store` records; `alerting` (the service) loads, asks, applies and
//! wakes the dispatcher. Every decision comes with the notifications it owes ([`Notice`]),
//! routed to their destinations, which the store writes to the outbox in the same
//! transaction as the change, so the dispatcher (`notify`) can never miss one or see it
//! before its cause. Findings decide in `lifecycle`, people and time in `transitions`.

pub mod ahead;
pub mod backlog;
pub mod detail;
pub mod directory;
/// For the unit tests here and the host's (its `fixtures` feature).
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod grouping;
pub mod holidays;
pub mod hours;
pub mod incidents;
pub mod lifecycle;
pub mod maintenance;
pub mod model;
pub mod oncall;
pub mod policy;
pub mod routing;
pub mod test;
pub mod transitions;

use serde::Deserialize;

pub use detail::{Detail, Resolution};
pub use hours::local_time;
pub use lifecycle::{Change, OpenAlert, plan};
pub use model::{ActedOn, Alert, AlertDestination, AlertEvent, Event, EventKind, On, Standing};
pub use policy::{AlertPolicy, Damping};
pub use routing::{Notice, Routing};

use crate::contract::Severity;
use crate::names::named;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Reported, but damping holds it back: nobody has been told.
    Pending,
    Firing,
    Acknowledged,
    /// Taken for a while; it fires again when the snooze ends if it still holds.
    Snoozed,
    Resolved,
}

named!(AlertState, "alert state", {
    Pending => "pending",
    Firing => "firing",
    Acknowledged => "acknowledged",
    Snoozed => "snoozed",
    Resolved => "resolved",
});

impl AlertState {
    /// Every state but resolved.
    pub const OPEN: [AlertState; 4] = [
        AlertState::Pending,
        AlertState::Firing,
        AlertState::Acknowledged,
        AlertState::Snoozed,
    ];

    /// Open and told: what the board and "Now" count (damping holds pending ones back).
    pub const TOLD: [AlertState; 3] = [
        AlertState::Firing,
        AlertState::Acknowledged,
        AlertState::Snoozed,
    ];

    /// Someone has been (or is being) told about it.
    pub fn was_notified(self) -> bool {
        !matches!(self, AlertState::Pending)
    }
}

/// What a notification does to the chat, in the order an alert's notices are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoticeKind {
    /// Send the alert's living message.
    Post,
    /// Edit the living message to show the alert as it is now.
    Refresh,
    /// A short reply to the living message, so the chat is notified that it resolved.
    ResolvedReply,
    /// A short reply: the severity went up.
    Raised,
    /// A short reply: it fires again (a snooze or acknowledgement ran out, an escalation
    /// step rang an existing message).
    Reminder,
    /// A destination's morning digest (not about one alert).
    Digest,
}

named!(NoticeKind, "notice kind", {
    Post => "post",
    Refresh => "refresh",
    ResolvedReply => "resolved-reply",
    Raised => "raised",
    Reminder => "reminder",
    Digest => "digest",
});

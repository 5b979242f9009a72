//! Findings become alerts. An alert is the lifecycle of one finding key on one installation
//! from one plugin: `firing` when first reported (or `pending` while damping holds it),
//! `acknowledged` or `snoozed` when someone takes it, `resolved` when a later evaluation of
//! that plugin no longer reports the key (or the installation or plugin is removed). A key
//! that comes back after resolving is a new alert.
//!
//! This module decides; `store` records. Every decision comes with the notifications it
//! owes ([`Notice`]), which the store writes to the outbox in the same transaction as the
//! change, so the dispatcher (`notify`) can never miss one or see it before its cause.

pub mod lifecycle;
pub mod policy;
pub mod routing;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use lifecycle::{Change, OpenAlert, plan};
pub use policy::{AlertPolicy, Damping};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

impl AlertState {
    /// Every state but resolved.
    pub const OPEN: [AlertState; 4] = [
        AlertState::Pending,
        AlertState::Firing,
        AlertState::Acknowledged,
        AlertState::Snoozed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Snoozed => "snoozed",
            AlertState::Resolved => "resolved",
        }
    }

    /// Someone has been (or is being) told about it.
    pub fn was_notified(self) -> bool {
        !matches!(self, AlertState::Pending)
    }
}

impl fmt::Display for AlertState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "pending" => AlertState::Pending,
            "firing" => AlertState::Firing,
            "acknowledged" => AlertState::Acknowledged,
            "snoozed" => AlertState::Snoozed,
            "resolved" => AlertState::Resolved,
            other => {
                return Err(format!(
                    "unknown alert state `{other}` (expected pending, firing, acknowledged, snoozed or resolved)"
                ));
            }
        })
    }
}

/// What a notification does to the chat, in the order an alert's notices are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
    /// A short reply: a snooze ended and the alert still holds.
    Reminder,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Post => "post",
            NoticeKind::Refresh => "refresh",
            NoticeKind::ResolvedReply => "resolved-reply",
            NoticeKind::Raised => "raised",
            NoticeKind::Reminder => "reminder",
        }
    }
}

impl FromStr for NoticeKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "post" => NoticeKind::Post,
            "refresh" => NoticeKind::Refresh,
            "resolved-reply" => NoticeKind::ResolvedReply,
            "raised" => NoticeKind::Raised,
            "reminder" => NoticeKind::Reminder,
            other => return Err(format!("unknown notice kind `{other}`")),
        })
    }
}

/// A notification an alert owes to one chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub chat_id: i64,
}

/// Why an open alert was resolved without its finding clearing.
pub mod resolution {
    pub const CLEARED: &str = "the condition cleared";
    pub const INSTALLATION_REMOVED: &str = "the installation was removed";
    pub const PLUGIN_REMOVED: &str = "the check was removed";
    pub const PLUGIN_SWITCHED_OFF: &str = "the check was switched off";
}

/// What an acknowledgement owes: the living message shows who took it.
pub const ON_ACKNOWLEDGE: &[NoticeKind] = &[NoticeKind::Refresh];
/// What a snooze owes: the living message shows until when.
pub const ON_SNOOZE: &[NoticeKind] = &[NoticeKind::Refresh];
/// What the end of a snooze owes when the alert still holds: the message fires again, and
/// a reply makes the chat ring.
pub const ON_WAKE: &[NoticeKind] = &[NoticeKind::Refresh, NoticeKind::Reminder];

//! Telegram through teloxide: the Bot API client (`client.rs`), what messages say
//! (`render.rs`) and what their buttons carry (`actions.rs`), the status card
//! (`status.rs`), the update loop that hears button presses and messages (`updates.rs`)
//! and what each command does (`commands.rs`).

pub mod actions;
pub mod client;
mod commands;
pub mod render;
pub mod status;
pub mod updates;

use std::time::Duration;

pub use client::{DeliveryError, Telegram};

/// Where the bot talks to and how.
#[derive(Clone)]
pub struct TelegramSettings {
    pub token: String,
    /// The Bot API base URL (a local Bot API server, or a fake in tests).
    pub api_url: String,
    /// How long one getUpdates call waits for news.
    pub poll_timeout: Duration,
    /// What chats that did not choose with `/lang` read, when the configuration says;
    /// otherwise the language chosen on the setup page (`Store::chats_read`).
    pub language: Option<crate::i18n::Lang>,
}

impl std::fmt::Debug for TelegramSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramSettings")
            .field("token", &"<secret>")
            .field("api_url", &self.api_url)
            .field("poll_timeout", &self.poll_timeout)
            .finish()
    }
}

pub const DEFAULT_API_URL: &str = "https://api.telegram.org";

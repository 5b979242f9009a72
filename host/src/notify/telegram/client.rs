//! The Bot API calls Reveille makes, with teloxide's errors sorted into what the dispatcher
//! does about them: wait as told, retry with backoff, or give up.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use teloxide::prelude::*;
use teloxide::types::{
    AllowedUpdate, CallbackQueryId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile,
    MessageId, ParseMode, ReplyParameters, ThreadId, Update,
};
use teloxide::{ApiError, RequestError};

use super::TelegramSettings;
use crate::alerts::directory::Destination;
use crate::vitals::{CallOutcome, Vitals};

/// A button under a message: label and callback data.
pub type Button = (String, String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Flood control: Telegram said how long to wait.
    #[error("rate limited by Telegram; retry after {0:?}")]
    RetryAfter(Duration),
    /// Worth trying again later (network, Telegram unavailable).
    #[error("{0}")]
    Transient(String),
    /// Will never succeed as it is (unknown chat, bot removed, bad request).
    #[error("{0}")]
    Permanent(String),
}

#[derive(Clone)]
pub struct Telegram {
    bot: Bot,
    /// Told how every call ended (`/healthz`, `/metrics`).
    vitals: Arc<Vitals>,
}

impl Telegram {
    pub fn new(settings: &TelegramSettings, vitals: Arc<Vitals>) -> anyhow::Result<Telegram> {
        let url = reqwest::Url::parse(&settings.api_url)
            .with_context(|| format!("telegram.api_url `{}` is not a URL", settings.api_url))?;
        // Long polls hold a request open for `poll_timeout`; give them room beyond it.
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(settings.poll_timeout + Duration::from_secs(10))
            .tcp_nodelay(true)
            .build()
            .context("cannot build the Telegram HTTP client")?;
        Ok(Telegram {
            bot: Bot::with_client(settings.token.clone(), client).set_api_url(url),
            vitals,
        })
    }

    /// The bot's own user id: Telegram makes it the part of the token before the colon.
    pub fn bot_id(&self) -> Option<i64> {
        self.bot.token().split(':').next()?.parse().ok()
    }

    /// `answer` as the dispatcher and the update loop see it, its outcome told to the
    /// vitals.
    fn observed<T>(&self, answer: Result<T, RequestError>) -> Result<T, DeliveryError> {
        let outcome = match &answer {
            Ok(_) => CallOutcome::Ok,
            Err(RequestError::RetryAfter(_)) => CallOutcome::RateLimited,
            Err(RequestError::Network(_) | RequestError::Io(_)) => CallOutcome::Network,
            Err(RequestError::InvalidJson { .. }) => CallOutcome::Unavailable,
            Err(RequestError::Api(ApiError::InvalidToken)) => CallOutcome::Unauthorized,
            Err(RequestError::Api(ApiError::Unknown(text))) if server_error(text) => {
                CallOutcome::Unavailable
            }
            Err(RequestError::Api(_) | RequestError::MigrateToChatId(_)) => CallOutcome::Refused,
        };
        let retry_after = match &answer {
            Err(RequestError::RetryAfter(seconds)) => Some(seconds.duration()),
            _ => None,
        };
        self.vitals.telegram_call(outcome, retry_after);
        answer.map_err(classify)
    }

    /// A call that got no answer within the caller's own bound.
    pub fn timed_out(&self) {
        self.vitals.telegram_call(CallOutcome::Network, None);
    }

    /// Sends an HTML message to a chat or a forum topic, with sound unless `silent`;
    /// returns its id.
    pub async fn send(
        &self,
        to: Destination,
        html: &str,
        buttons: &[Button],
        reply_to: Option<i64>,
        silent: bool,
    ) -> Result<i64, DeliveryError> {
        let mut request = self
            .bot
            .send_message(ChatId(to.chat_id), html)
            .parse_mode(ParseMode::Html);
        if to.thread_id != 0 {
            request = request.message_thread_id(ThreadId(MessageId(to.thread_id as i32)));
        }
        if silent {
            request = request.disable_notification(true);
        }
        if let Some(markup) = keyboard(buttons) {
            request = request.reply_markup(markup);
        }
        if let Some(reply_to) = reply_to {
            request = request.reply_parameters(
                ReplyParameters::new(MessageId(reply_to as i32)).allow_sending_without_reply(),
            );
        }
        let message = self.observed(request.await)?;
        Ok(i64::from(message.id.0))
    }

    /// Sends a file (a client report) to a chat or a forum topic, with an HTML caption;
    /// returns the message's id. Telegram takes up to 50 MB from a bot.
    pub async fn send_document(
        &self,
        to: Destination,
        file_name: &str,
        bytes: Vec<u8>,
        caption: &str,
    ) -> Result<i64, DeliveryError> {
        let file = InputFile::memory(bytes).file_name(file_name.to_string());
        let mut request = self
            .bot
            .send_document(ChatId(to.chat_id), file)
            .caption(caption)
            .parse_mode(ParseMode::Html);
        if to.thread_id != 0 {
            request = request.message_thread_id(ThreadId(MessageId(to.thread_id as i32)));
        }
        let message = self.observed(request.await)?;
        Ok(i64::from(message.id.0))
    }

    /// Replaces a message's text and buttons (no buttons removes them). A message already
    /// showing exactly this is not an error: the edit is done.
    pub async fn edit(
        &self,
        chat_id: i64,
        message_id: i64,
        html: &str,
        buttons: &[Button],
    ) -> Result<(), DeliveryError> {
        let mut request = self
            .bot
            .edit_message_text(ChatId(chat_id), MessageId(message_id as i32), html)
            .parse_mode(ParseMode::Html);
        if let Some(markup) = keyboard(buttons) {
            request = request.reply_markup(markup);
        }
        let answer = match request.await {
            Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(()),
            answer => answer.map(drop),
        };
        self.observed(answer)
    }

    /// Answers a button press; `alert` shows the text as a dialog rather than a toast.
    pub async fn answer(
        &self,
        query_id: &str,
        text: &str,
        alert: bool,
    ) -> Result<(), DeliveryError> {
        self.observed(
            self.bot
                .answer_callback_query(CallbackQueryId(query_id.to_string()))
                .text(text)
                .show_alert(alert)
                .await,
        )?;
        Ok(())
    }

    /// Waits up to `timeout` for updates from `offset` on (confirming those before it).
    pub async fn updates(
        &self,
        offset: i64,
        timeout: Duration,
    ) -> Result<Vec<Update>, DeliveryError> {
        self.observed(
            self.bot
                .get_updates()
                .offset(offset as i32)
                .timeout(timeout.as_secs() as u32)
                .allowed_updates([AllowedUpdate::Message, AllowedUpdate::CallbackQuery])
                .await,
        )
    }
}

fn keyboard(buttons: &[Button]) -> Option<InlineKeyboardMarkup> {
    (!buttons.is_empty()).then(|| {
        InlineKeyboardMarkup::new([buttons
            .iter()
            .map(|(label, data)| InlineKeyboardButton::callback(label.clone(), data.clone()))
            .collect::<Vec<_>>()])
    })
}

/// Whether Telegram's words say the fault is on its side (a 5xx).
fn server_error(text: &str) -> bool {
    text.contains("Internal Server Error") || text.contains("Bad Gateway")
}

/// teloxide keeps the token out of network errors (it strips URLs); nothing here adds it.
fn classify(error: RequestError) -> DeliveryError {
    match error {
        RequestError::RetryAfter(seconds) => DeliveryError::RetryAfter(seconds.duration()),
        RequestError::Network(e) => DeliveryError::Transient(format!("network: {e}")),
        RequestError::InvalidJson { source, .. } => {
            DeliveryError::Transient(format!("unreadable answer from Telegram: {source}"))
        }
        RequestError::Io(e) => DeliveryError::Transient(format!("I/O: {e}")),
        RequestError::MigrateToChatId(to) => DeliveryError::Permanent(format!(
            "the group became supergroup {to}: update the installation's telegram_chat_id"
        )),
        RequestError::Api(ApiError::Unknown(text)) if server_error(&text) => {
            DeliveryError::Transient(text)
        }
        RequestError::Api(e) => DeliveryError::Permanent(e.to_string()),
    }
}

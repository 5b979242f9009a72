//! The bot's ears: long polling (works behind NAT, no public address), button presses on
//! alert messages, and commands. Only the node holding [`Role::Telegram`] polls (Telegram
//! answers a second poller with 409). The read position is kept in the database and moves
//! past a button press only once the press was handled: a node that dies in between leaves
//! it to the next poller, which handles it again, and a press handled twice changes nothing
//! twice (a decision applies only to the alert version it was made on).
//!
//! Updates are handled concurrently: each button press at once on a task of its own (a
//! press must be answered within seconds or Telegram expires it), and commands in order
//! per chat, on one task per chat with a short queue. A chat flooding the bot with
//! commands, or a reply waiting out Telegram's flood control, holds back only that chat's
//! commands, never a button press and never another chat. Commands beyond the queue are
//! dropped: a burst of 200 `/status` is not answered 200 times. What each command does is
//! `commands.rs`'s.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use teloxide::types::{CallbackQuery, Message, Update, UpdateKind, User};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::actions::{Action, On};
use super::client::{DeliveryError, Telegram};
use crate::alerting::{Acted, Alerting};

use crate::alerts::{ActedOn, Standing};
use crate::clock::SharedClock;
use crate::cluster::{Cluster, Role};
use crate::i18n::Lang;
use crate::plugins::Runtime;
use crate::store::{Store, StoreError};
use crate::tasks::Tasks;

/// Longest wait between attempts while Telegram cannot be reached.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

pub struct UpdateLoop {
    pub telegram: Telegram,
    pub store: Store,
    pub runtime: Arc<Runtime>,
    pub clock: SharedClock,
    /// Where buttons act on alerts.
    pub alerting: Arc<Alerting>,
    pub poll_timeout: Duration,
    /// What chats that did not choose with `/lang` read, when the configuration says.
    pub language: Option<Lang>,
    /// Where people reach the service, for login links.
    pub site: String,
    /// Polls only while this node holds [`Role::Telegram`].
    pub cluster: Arc<Cluster>,
    /// Where the loop and its chats' command tasks run, and what stops them.
    pub tasks: Tasks,
}

/// Commands waiting per chat; more are dropped.
const CHAT_QUEUE: usize = 8;
/// A chat's command task ends after this long without commands.
const CHAT_IDLE: Duration = Duration::from_secs(60);

/// How a Telegram user appears in timelines: name, username and id (the id is what
/// authorization is checked against).
pub(super) fn actor(user: &User) -> String {
    match &user.username {
        Some(username) => format!("{} (@{username}, id {})", user.full_name(), user.id.0),
        None => format!("{} (id {})", user.full_name(), user.id.0),
    }
}

impl UpdateLoop {
    /// Polls in its `tasks` until they stop: a long poll is given up at once (its updates
    /// stay unread), presses being handled are finished first.
    pub fn spawn(self) {
        let tasks = self.tasks.clone();
        tasks.spawn(Arc::new(self).run());
    }

    async fn run(self: Arc<Self>) {
        let mut offset = None;
        let mut chats: HashMap<i64, mpsc::Sender<Message>> = HashMap::new();
        let mut backoff = Duration::from_secs(1);
        while !self.tasks.is_stopping() {
            if !self.cluster.holds(Role::Telegram) {
                // Another node polls; where it got to is read again when this one takes over.
                offset = None;
                tokio::select! {
                    _ = self.cluster.wait_for(Role::Telegram) => {}
                    _ = self.tasks.pause(Duration::from_secs(1)) => {}
                }
                continue;
            }
            let from = match offset {
                Some(offset) => offset,
                None => match self.store.telegram_offset().await {
                    Ok(stored) => *offset.insert(stored),
                    Err(error) => {
                        tracing::warn!(%error, retry_in = ?backoff, "cannot read the Telegram update offset");
                        tokio::time::sleep(backoff).await;
                        continue;
                    }
                },
            };
            let polled = tokio::select! {
                polled = self.telegram.updates(from, self.poll_timeout) => polled,
                () = self.tasks.stopping() => return,
            };
            match polled {
                Ok(updates) => {
                    backoff = Duration::from_secs(1);
                    let Some(last) = updates.last() else {
                        continue;
                    };
                    let next = i64::from(last.id.0) + 1;
                    chats.retain(|_, queue| !queue.is_closed());
                    let presses: Vec<_> = updates
                        .into_iter()
                        .filter_map(|update| self.dispatch(update, &mut chats))
                        .collect();
                    // A press counts as read only once handled: a node that dies before
                    // leaves it to the next poller (pressing twice changes nothing twice).
                    for press in presses {
                        let _ = press.await;
                    }
                    offset = Some(next);
                    if let Err(error) = self.store.set_telegram_offset(next).await {
                        tracing::warn!(%error, "cannot record the Telegram update offset");
                    }
                }
                Err(DeliveryError::RetryAfter(wait)) => {
                    self.tasks.pause(wait).await;
                }
                Err(error) => {
                    tracing::warn!(%error, retry_in = ?backoff, "cannot read Telegram updates");
                    self.tasks.pause(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// Starts handling one update: a button press on a task of its own (returned), a
    /// command in its chat's queue.
    fn dispatch(
        self: &Arc<Self>,
        update: Update,
        chats: &mut HashMap<i64, mpsc::Sender<Message>>,
    ) -> Option<JoinHandle<()>> {
        let span = tracing::info_span!("telegram.update", id = update.id.0);
        match update.kind {
            UpdateKind::CallbackQuery(query) => {
                let this = self.clone();
                return Some(tokio::spawn(
                    async move {
                        if let Err(error) = this.button(query).await {
                            tracing::warn!(%error, "a button press was not handled");
                        }
                    }
                    .instrument(span),
                ));
            }
            UpdateKind::Message(message) if self.for_the_bot(&message) => {
                let chat_id = message.chat.id.0;
                let mut message = message;
                // A queue whose task just ended for idleness is closed: start another.
                for _ in 0..2 {
                    let queue = chats
                        .entry(chat_id)
                        .or_insert_with(|| self.chat_queue(chat_id));
                    match queue.try_send(message) {
                        Ok(()) => return None,
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            span.in_scope(|| {
                                tracing::info!(
                                    chat = chat_id,
                                    "too many commands at once; one dropped"
                                )
                            });
                            return None;
                        }
                        Err(mpsc::error::TrySendError::Closed(back)) => {
                            chats.remove(&chat_id);
                            message = back;
                        }
                    }
                }
            }
            _ => {}
        }
        None
    }

    /// Whether a message is the bot's business: a command, a reply (an incident update,
    /// perhaps), or the bot being added to a group (it introduces itself).
    fn for_the_bot(&self, message: &Message) -> bool {
        match message.text() {
            Some(text) => text.starts_with('/') || message.reply_to_message().is_some(),
            None => self.joined(message),
        }
    }

    /// Whether `message` says the bot was just added to its group, or the group was
    /// created with the bot in it.
    pub(super) fn joined(&self, message: &Message) -> bool {
        let added = message.new_chat_members().is_some_and(|members| {
            members
                .iter()
                .any(|m| Some(m.id.0 as i64) == self.telegram.bot_id())
        });
        added
            || message.group_chat_created().is_some()
            || message.super_group_chat_created().is_some()
    }

    /// A task answering `chat_id`'s commands in order; it ends when idle, or when the
    /// loop stops (answering what was queued).
    fn chat_queue(self: &Arc<Self>, chat_id: i64) -> mpsc::Sender<Message> {
        let (sender, mut commands) = mpsc::channel::<Message>(CHAT_QUEUE);
        let this = self.clone();
        self.tasks.spawn(async move {
            loop {
                let next = tokio::select! {
                    next = tokio::time::timeout(CHAT_IDLE, commands.recv()) => next.ok(),
                    () = this.tasks.stopping() => None,
                };
                let message = match next {
                    Some(Some(message)) => message,
                    Some(None) => return,
                    None => {
                        // Idle or stopping: close first, so nothing more is queued here,
                        // then answer what slipped in meanwhile.
                        commands.close();
                        while let Ok(message) = commands.try_recv() {
                            this.answer_command(chat_id, message).await;
                        }
                        return;
                    }
                };
                this.answer_command(chat_id, message).await;
            }
        });
        sender
    }

    async fn answer_command(&self, chat_id: i64, message: Message) {
        let span = tracing::info_span!("telegram.command", chat = chat_id);
        if let Err(error) = self.command(message).instrument(span).await {
            tracing::warn!(%error, chat = chat_id, "a command was not answered");
        }
    }

    async fn button(&self, query: CallbackQuery) -> Result<(), StoreError> {
        let id = query.id.0.clone();
        let (Some(action), Some(chat_id)) = (
            query.data.as_deref().and_then(Action::parse),
            query.message.as_ref().map(|m| m.chat().id.0),
        ) else {
            let lang = self.store.chats_read(self.language).await?;
            self.answer(&id, &lang.t("tg-button-unknown"), false).await;
            return Ok(());
        };
        let lang = self.lang(chat_id).await?;
        let who = actor(&query.from);
        let now = self.clock.now_ms();
        if chat_id < 0 {
            self.store
                .heard_from(chat_id, query.from.id.0 as i64, &who, now)
                .await?;
        }
        let here = match action.on() {
            On::Alert(alert) => self
                .store
                .alert(alert)
                .await?
                .is_some_and(|a| a.destinations.iter().any(|d| d.chat_id == chat_id)),
            On::Incident(incident) => self
                .store
                .incident(incident)
                .await?
                .is_some_and(|i| i.destinations.iter().any(|d| d.chat_id == chat_id)),
        };
        if !here {
            self.answer(&id, &lang.t("tg-button-not-here"), true).await;
            return Ok(());
        }
        if !self.may_act(chat_id, query.from.id.0 as i64).await? {
            self.alerting.refused(action.on(), &who, false).await?;
            tracing::info!(
                on = ?action.on(),
                user = query.from.id.0,
                "button press refused: not authorized"
            );
            self.answer(&id, &lang.t("tg-button-not-allowed"), true)
                .await;
            return Ok(());
        }
        let until = |length: Duration| now + length.as_millis() as i64;
        let answer = match action {
            Action::Acknowledge(On::Alert(alert)) => {
                answer_for(self.alerting.acknowledge(alert, &who).await?, lang)
            }
            Action::Snooze(On::Alert(alert), length) => answer_for(
                self.alerting.snooze(alert, &who, until(length)).await?,
                lang,
            ),
            Action::Acknowledge(On::Incident(incident)) => answer_for(
                self.alerting.acknowledge_incident(incident, &who).await?,
                lang,
            ),
            Action::Snooze(On::Incident(incident), length) => answer_for(
                self.alerting
                    .snooze_incident(incident, &who, until(length))
                    .await?,
                lang,
            ),
        };
        self.answer(&id, &answer, false).await;
        Ok(())
    }
}

/// What a press did, in the chat's words: taken or put aside, or why nothing changed.
fn answer_for<T: ActedOn>(acted: Acted<T>, lang: Lang) -> String {
    match acted {
        Acted::Done(subject) => match subject.standing() {
            Standing::Snoozed => lang.t(&format!("tg-{}-snoozed", T::NOUN)),
            _ => lang.t(&format!("tg-{}-taken", T::NOUN)),
        },
        Acted::Unchanged(subject) => unchanged(lang, subject.standing()),
        Acted::NotFound => lang.t("tg-gone"),
    }
}

/// Why a press changed nothing, by what it found.
fn unchanged(lang: Lang, found: Standing<'_>) -> String {
    match found {
        Standing::Resolved => lang.t("tg-already-resolved"),
        Standing::Taken(by) => lang.t_with(
            "tg-already-taken",
            &[(
                "who",
                by.map_or_else(|| lang.t("tg-someone"), str::to_string)
                    .into(),
            )],
        ),
        Standing::Snoozed => {
            lang.t_with("tg-nothing-to-do", &[("state", lang.t("snoozed").into())])
        }
        Standing::Other(state) => {
            lang.t_with("tg-nothing-to-do", &[("state", lang.t(state).into())])
        }
    }
}

impl UpdateLoop {
    /// Whether `user` may act on alerts in `chat_id`: an authorized member of the chat,
    /// or a contact in the chat Reveille writes to them in (their private chat or group).
    pub(super) async fn may_act(&self, chat_id: i64, user: i64) -> Result<bool, StoreError> {
        if self.store.is_chat_member(chat_id, user).await? {
            return Ok(true);
        }
        let directory = self.alerting.directory().await?;
        Ok(directory.contacts.values().any(|p| {
            p.contact.telegram_user_id == user
                && (chat_id == user || p.contact.group_chat_id == Some(chat_id))
        }))
    }

    /// The language `chat_id` reads.
    pub(super) async fn lang(&self, chat_id: i64) -> Result<Lang, StoreError> {
        match self.store.chat_lang(chat_id).await? {
            Some(lang) => Ok(lang),
            None => self.store.chats_read(self.language).await,
        }
    }

    async fn answer(&self, query_id: &str, text: &str, alert: bool) {
        if let Err(error) = self.telegram.answer(query_id, text, alert).await {
            tracing::warn!(%error, "cannot answer a button press");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::incidents::IncidentState;

    #[test]
    fn a_press_that_changed_nothing_says_what_it_found() {
        let said = |found| unchanged(Lang::En, found);
        assert_eq!(said(Standing::Resolved), "It has already resolved.");
        assert_eq!(
            said(Standing::Taken(Some("Petr (@petrov, id 42)"))),
            "Already acknowledged by Petr (@petrov, id 42)."
        );
        assert_eq!(
            said(Standing::Taken(None)),
            "Already acknowledged by someone."
        );
        assert_eq!(
            unchanged(Lang::Ru, Standing::Snoozed),
            Lang::Ru.t_with(
                "tg-nothing-to-do",
                &[("state", Lang::Ru.t("snoozed").into())]
            )
        );
        assert_eq!(
            said(Standing::Other(IncidentState::Rechecking.as_str())),
            "Nothing to do: it is rechecking."
        );
    }
}

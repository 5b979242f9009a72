//! What the bot does with a message: each command (`/status`, `/alerts`, `/oncall`,
//! `/maintenance`, `/update`, `/publish`, `/lang`, `/login`, `/link`, `/start`, `/help`),
//! a reply to an incident's card, which is an update for everyone following it, and the
//! bot being added to a group. `updates.rs` hears them and hands each chat's messages
//! here in order.

use teloxide::types::Message;

use super::actions::On;
use super::client::DeliveryError;
use super::render::{self, local_time};
use super::status;
use super::updates::{UpdateLoop, actor};
use crate::alerting::{Acted, EntryError};
use crate::alerts::directory::{Destination, Kind};
use crate::alerts::incidents::Reach;
use crate::chat_codes;
use crate::i18n::Lang;
use crate::ingest::token;
use crate::staff::Link;
use crate::store::{BotChat, StoreError};

/// How long a login link from `/login` works.
const LOGIN_LINK_MS: i64 = 10 * 60_000;

/// The chat a command came from, as the admin pages list it.
fn heard(message: &Message, now: i64) -> BotChat {
    let chat = &message.chat;
    let kind = if chat.is_private() {
        "private"
    } else if chat.is_channel() {
        "channel"
    } else if chat.is_supergroup() {
        "supergroup"
    } else {
        "group"
    };
    let title = chat
        .title()
        .map(String::from)
        .or_else(|| message.from.as_ref().map(actor))
        .unwrap_or_default();
    BotChat {
        chat_id: chat.id.0,
        title,
        kind: kind.into(),
        seen_at: now,
    }
}

impl UpdateLoop {
    /// A reply to an incident's card, by someone allowed to act in the chat: an update
    /// for everyone following it. Other replies are conversation, not for the bot.
    async fn incident_update(&self, message: &Message, text: &str) -> Result<(), StoreError> {
        let chat_id = message.chat.id.0;
        let Some(card) = message.reply_to_message() else {
            return Ok(());
        };
        let Some(incident) = self
            .store
            .incident_by_message(chat_id, i64::from(card.id.0))
            .await?
        else {
            return Ok(());
        };
        let lang = self.lang(chat_id).await?;
        let html = self
            .post_update(message, incident, text, Reach::Staff, lang)
            .await?;
        self.reply(chat_id, &html, i64::from(message.id.0)).await;
        Ok(())
    }

    /// `/update <incident> <text>`: the same as a reply to the incident's card here;
    /// `/publish <incident> <text>` also tells its clients, on their status pages.
    async fn update_command(
        &self,
        message: &Message,
        argument: &str,
        reach: Reach,
        lang: Lang,
    ) -> Result<String, StoreError> {
        let usage = || {
            render::escape(&lang.t(match reach {
                Reach::Staff => "tg-update-usage",
                Reach::Clients => "tg-publish-usage",
            }))
        };
        let (number, text) = argument
            .trim()
            .split_once(char::is_whitespace)
            .unwrap_or((argument.trim(), ""));
        let Ok(incident) = number.trim_start_matches('#').parse::<i64>() else {
            return Ok(usage());
        };
        if text.trim().is_empty() {
            return Ok(usage());
        }
        let here = self.store.incident(incident).await?.is_some_and(|i| {
            i.destinations
                .iter()
                .any(|d| d.chat_id == message.chat.id.0)
        });
        if !here {
            return Ok(lang.t_with("tg-update-not-here", &[("id", incident.into())]));
        }
        self.post_update(message, incident, text, reach, lang).await
    }

    /// Adds `text` to `incident` by the message's author, if they may act in its chat.
    async fn post_update(
        &self,
        message: &Message,
        incident: i64,
        text: &str,
        reach: Reach,
        lang: Lang,
    ) -> Result<String, StoreError> {
        let Some(from) = message.from.as_ref() else {
            return Ok(lang.t("tg-update-anonymous"));
        };
        if !self.may_act(message.chat.id.0, from.id.0 as i64).await? {
            self.alerting
                .refused(On::Incident(incident), &actor(from), true)
                .await?;
            return Ok(lang.t("tg-update-not-allowed"));
        }
        Ok(
            match self
                .alerting
                .update_incident(incident, &actor(from), text.trim(), reach)
                .await?
            {
                Acted::Done(_) if reach == Reach::Clients => lang.t("tg-update-published"),
                Acted::Done(_) => lang.t("tg-update-added"),
                _ => lang.t("tg-gone"),
            },
        )
    }

    /// `/maintenance <installation> <length> <reason>`: a one-off window from now, by an
    /// authorized member, for an installation whose alerts come to this chat.
    async fn maintenance(
        &self,
        message: &Message,
        argument: &str,
        now: i64,
        lang: Lang,
    ) -> Result<String, StoreError> {
        let chat_id = message.chat.id.0;
        let usage = || render::escape(&lang.t("tg-maintenance-usage"));
        let mut words = argument.split_whitespace();
        let (Some(installation), Some(length)) = (words.next(), words.next()) else {
            return Ok(usage());
        };
        // The reason reaches timelines: no hidden characters, one line's length.
        let reason: String = words
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .filter(|c| crate::text::unwanted(*c).is_none())
            .take(300)
            .collect();
        let Some(user) = message.from.as_ref() else {
            return Ok(usage());
        };
        if !self.may_act(chat_id, user.id.0 as i64).await? {
            return Ok(lang.t("tg-maintenance-not-allowed"));
        }
        let routed = self.store.installations_in_chat(chat_id).await?;
        let Some(target) = routed.iter().find(|i| i.id == installation) else {
            return Ok(render::escape(
                &lang.t_with("tg-status-none", &[("query", installation.into())]),
            ));
        };
        let Some(length) = reveille_sdk::parse_duration(length)
            .ok()
            .filter(|d| !d.is_zero() && d.as_secs() <= 7 * 24 * 3600)
        else {
            return Ok(render::escape(
                &lang.t_with("tg-maintenance-length", &[("length", length.into())]),
            ));
        };
        if reason.is_empty() {
            return Ok(usage());
        }
        let until = now + length.as_millis() as i64;
        let at =
            |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let spec = serde_json::json!({
            "scope": { "installation": target.id },
            "from": at(now), "to": at(until),
            "author": actor(user), "reason": reason,
        });
        let name = format!("telegram-{}-{now}", target.id);
        match self
            .alerting
            .put_entry(Kind::Maintenance, &name, &spec)
            .await
        {
            Ok(_) => Ok(render::escape(&lang.t_with(
                "tg-maintenance-set",
                &[
                    ("name", target.id.as_str().into()),
                    ("when", local_time(until, &target.time_zone()).into()),
                ],
            ))),
            Err(EntryError::Invalid(error)) => Ok(render::escape(&error)),
            Err(EntryError::InUse(error)) => Ok(render::escape(&error)),
            Err(EntryError::Store(error)) => Err(error),
        }
    }

    /// `/lang [en|ru]`: which language this chat reads; an authorized member changes it.
    async fn lang_command(&self, message: &Message, argument: &str) -> Result<String, StoreError> {
        let chat_id = message.chat.id.0;
        let argument = argument.trim();
        if argument.is_empty() {
            return Ok(self.lang(chat_id).await?.t("tg-lang-now"));
        }
        let current = self.lang(chat_id).await?;
        let Ok(lang) = argument.parse::<Lang>() else {
            return Ok(current.t("tg-lang-usage"));
        };
        let allowed = match message.from.as_ref() {
            Some(user) => self.may_act(chat_id, user.id.0 as i64).await?,
            None => false,
        };
        if !allowed {
            return Ok(current.t("tg-lang-not-allowed"));
        }
        self.store.set_chat_lang(chat_id, lang).await?;
        Ok(lang.t("tg-lang-set"))
    }

    /// `/link <code>` in a private chat: ties the staff account an administrator made the
    /// code for to the writer's Telegram user. The code works once; in a group it is
    /// refused (and spent, since everyone there has seen it).
    async fn link_account(
        &self,
        message: &Message,
        code: &str,
        now: i64,
        lang: Lang,
    ) -> Result<String, StoreError> {
        let Some(user) = message.from.as_ref() else {
            return Ok(render::escape(&lang.t("tg-update-anonymous")));
        };
        let user_id = user.id.0 as i64;
        let taken = self
            .store
            .take_login_link(Link::Telegram, &token::digest(code), now)
            .await?;
        if message.chat.id.0 != user_id {
            return Ok(render::escape(&lang.t("tg-link-private")));
        }
        let Some(staff) = taken else {
            return Ok(render::escape(&lang.t("tg-link-unknown")));
        };
        self.store.set_staff_telegram(&staff.name, user_id).await?;
        Ok(render::escape(&lang.t_with(
            "tg-link-done",
            &[
                ("name", staff.name.into()),
                ("id", user_id.to_string().into()),
            ],
        )))
    }

    /// `/login` in a private chat: a one-time link to the board for the staff account that
    /// carries the writer's Telegram id. In a group anyone could use it, so it is refused.
    async fn login_link(
        &self,
        message: &Message,
        now: i64,
        lang: Lang,
    ) -> Result<String, StoreError> {
        let Some(user) = message.from.as_ref() else {
            return Ok(render::escape(&lang.t("tg-update-anonymous")));
        };
        let user_id = user.id.0 as i64;
        if message.chat.id.0 != user_id {
            return Ok(render::escape(&lang.t("tg-login-private")));
        }
        let Some(staff) = self.store.staff_by_telegram(user_id).await? else {
            // Saying the id is how a newcomer learns what to give the administrator.
            return Ok(render::escape(&lang.t_with(
                "tg-login-unknown",
                &[("id", user_id.to_string().into())],
            )));
        };
        let secret = token::secret("");
        self.store
            .create_login_link(
                Link::Login,
                &token::digest(&secret),
                &staff.name,
                now,
                now + LOGIN_LINK_MS,
            )
            .await?;
        tracing::info!(staff = %staff.name, "login link sent through Telegram");
        let link = format!("{}/login/telegram/{secret}", self.site);
        Ok(render::escape(
            &lang.t_with("tg-login-link", &[("link", link.into())]),
        ))
    }

    /// A message to the bot: a command, a reply to an incident's card, or the bot added to
    /// a group.
    pub(super) async fn command(&self, message: Message) -> Result<(), StoreError> {
        let chat_id = message.chat.id.0;
        let now = self.clock.now_ms();
        let Some(text) = message.text() else {
            if self.joined(&message) {
                self.heard(&message, now).await?;
                let lang = self.first_lang(&message).await?;
                let html = format!(
                    "{}\n\n{}",
                    render::escape(&lang.t("tg-joined")),
                    self.chat_id_and_code(chat_id, now, lang).await?
                );
                self.reply(chat_id, &html, i64::from(message.id.0)).await;
            }
            return Ok(());
        };
        let Some(rest) = text.strip_prefix('/') else {
            return self.incident_update(&message, text).await;
        };
        let (command, argument) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        // `/status@reveille_bot` in groups with several bots.
        let command = command.split('@').next().unwrap_or_default();
        self.heard(&message, now).await?;
        let lang = self.first_lang(&message).await?;
        let html = match command {
            "status" => {
                status::status(&self.store, &self.runtime, chat_id, argument, now, lang).await?
            }
            "alerts" => status::open_alerts(&self.store, chat_id, lang).await?,
            "oncall" => status::on_call(&self.alerting.directory().await?, argument, now, lang),
            "maintenance" => self.maintenance(&message, argument, now, lang).await?,
            "update" => {
                self.update_command(&message, argument, Reach::Staff, lang)
                    .await?
            }
            "publish" => {
                self.update_command(&message, argument, Reach::Clients, lang)
                    .await?
            }
            "lang" => self.lang_command(&message, argument).await?,
            "login" => self.login_link(&message, now, lang).await?,
            "link" => self.link_account(&message, argument, now, lang).await?,
            "start" if chat_id > 0 => {
                let name = message.from.as_ref().map(actor).unwrap_or_default();
                self.store.private_chat_started(chat_id, &name, now).await?;
                render::escape(&format!(
                    "{}\n\n{}",
                    lang.t("tg-help"),
                    lang.t_with("tg-start-private", &[("id", chat_id.to_string().into())])
                ))
            }
            // In a group: the chat's id, which its installations must carry, and a code
            // to pick it by.
            "help" | "start" => format!(
                "{}\n\n{}",
                render::escape(&lang.t("tg-help")),
                self.chat_id_and_code(chat_id, now, lang).await?
            ),
            _ => return Ok(()),
        };
        self.reply(chat_id, &html, i64::from(message.id.0)).await;
        Ok(())
    }

    /// Keeps where a message came from, and in a group who wrote it, for the admin pages.
    async fn heard(&self, message: &Message, now: i64) -> Result<(), StoreError> {
        self.store.heard_in_chat(&heard(message, now)).await?;
        match message.from.as_ref() {
            Some(from) if !message.chat.is_private() => {
                self.store
                    .heard_from(message.chat.id.0, from.id.0 as i64, &actor(from), now)
                    .await
            }
            _ => Ok(()),
        }
    }

    /// A group's id and a fresh one-time code naming it (`chat_codes`), as HTML.
    async fn chat_id_and_code(
        &self,
        chat_id: i64,
        now: i64,
        lang: Lang,
    ) -> Result<String, StoreError> {
        let code = chat_codes::issue(&self.store, chat_id, now).await?;
        let said = render::escape(&format!(
            "{}\n{}",
            lang.t_with("tg-chat-id", &[("id", chat_id.to_string().into())]),
            lang.t_with("tg-chat-code", &[("code", code.as_str().into())])
        ));
        // A code is `chat-` and hex digits: the same escaped, set apart to copy.
        Ok(said.replace(&code, &format!("<code>{code}</code>")))
    }

    /// The chat's language; a chat that never chose one takes the language of the first
    /// person to write a command in it, when their Telegram app is set to one the bot
    /// speaks (so a Russian team reads Russian from its first `/start`, with no `/lang`).
    async fn first_lang(&self, message: &Message) -> Result<Lang, StoreError> {
        let chat_id = message.chat.id.0;
        if let Some(lang) = self.store.chat_lang(chat_id).await? {
            return Ok(lang);
        }
        let spoken = message
            .from
            .as_ref()
            .and_then(|from| from.language_code.as_deref())
            .and_then(Lang::of_tag);
        match spoken {
            Some(lang) => {
                self.store.set_chat_lang(chat_id, lang).await?;
                Ok(lang)
            }
            None => self.lang(chat_id).await,
        }
    }

    /// Answers a command; waits out flood control a few times rather than dropping it.
    async fn reply(&self, chat_id: i64, html: &str, to: i64) {
        for _ in 0..3 {
            match self
                .telegram
                .send(Destination::chat(chat_id), html, &[], Some(to), false)
                .await
            {
                Ok(_) => return,
                Err(DeliveryError::RetryAfter(wait)) => tokio::time::sleep(wait).await,
                Err(error) => {
                    tracing::warn!(%error, chat = chat_id, "cannot answer a command");
                    return;
                }
            }
        }
    }
}

//! Telegram chats: who may act on alerts in each, the language each reads, the chats the
//! bot has heard from, and how far the bot has read its updates.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError, parse};
use crate::i18n::Lang;

/// A Telegram user allowed to acknowledge and snooze alerts in a chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatMember {
    pub user_id: i64,
    pub name: String,
    pub added_at: i64,
}

/// Someone the bot heard in a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatPerson {
    /// As the bot heard them: name, username and id.
    pub name: String,
    /// Pressed Start in a private chat with the bot: the bot may write to them.
    pub started: bool,
}

/// A chat the bot has heard a command in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BotChat {
    pub chat_id: i64,
    /// A group's title, or a person's name for a private chat.
    pub title: String,
    /// `private`, `group`, `supergroup` or `channel`.
    pub kind: String,
    pub seen_at: i64,
}

impl Store {
    /// Adds or renames an authorized user of `chat_id`.
    pub async fn put_chat_member(
        &self,
        chat_id: i64,
        member: &ChatMember,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO chat_members (chat_id, user_id, name, added_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (chat_id, user_id) DO UPDATE SET name = excluded.name",
        )
        .bind(chat_id)
        .bind(member.user_id)
        .bind(&member.name)
        .bind(member.added_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn remove_chat_member(&self, chat_id: i64, user_id: i64) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM chat_members WHERE chat_id = $1 AND user_id = $2")
            .bind(chat_id)
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn chat_members(&self, chat_id: i64) -> Result<Vec<ChatMember>, StoreError> {
        let rows = sqlx::query(
            "SELECT user_id, name, added_at FROM chat_members WHERE chat_id = $1 ORDER BY user_id",
        )
        .bind(chat_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ChatMember {
                    user_id: row.try_get("user_id")?,
                    name: row.try_get("name")?,
                    added_at: row.try_get("added_at")?,
                })
            })
            .collect()
    }

    pub async fn is_chat_member(&self, chat_id: i64, user_id: i64) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM chat_members WHERE chat_id = $1 AND user_id = $2",
        )
        .bind(chat_id)
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// The first Telegram update id not handled yet (0 before the first).
    pub async fn telegram_offset(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT next_offset FROM telegram_updates WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row
            .map(|r| r.try_get("next_offset"))
            .transpose()?
            .unwrap_or(0))
    }

    pub async fn set_telegram_offset(&self, next_offset: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO telegram_updates (id, next_offset) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET next_offset = excluded.next_offset",
        )
        .bind(next_offset)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}

impl Store {
    /// The language `chat_id` chose, if it did.
    pub async fn chat_lang(&self, chat_id: i64) -> Result<Option<Lang>, StoreError> {
        let row = sqlx::query("SELECT lang FROM chat_languages WHERE chat_id = $1")
            .bind(chat_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| parse(&row, "lang")).transpose()
    }

    pub async fn set_chat_lang(&self, chat_id: i64, lang: Lang) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO chat_languages (chat_id, lang) VALUES ($1, $2) \
             ON CONFLICT (chat_id) DO UPDATE SET lang = excluded.lang",
        )
        .bind(chat_id)
        .bind(lang.code())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Notes that the bot heard a command in a chat (its title and kind as Telegram gives
    /// them now).
    pub async fn heard_in_chat(&self, chat: &BotChat) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO bot_chats (chat_id, title, kind, seen_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title, kind = excluded.kind, \
             seen_at = excluded.seen_at",
        )
        .bind(chat.chat_id)
        .bind(&chat.title)
        .bind(&chat.kind)
        .bind(chat.seen_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The chats the bot has heard a command in, groups first, most recent first.
    pub async fn bot_chats(&self) -> Result<Vec<BotChat>, StoreError> {
        let rows = sqlx::query(
            "SELECT chat_id, title, kind, seen_at FROM bot_chats \
             ORDER BY CASE WHEN chat_id < 0 THEN 0 ELSE 1 END, seen_at DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(BotChat {
                    chat_id: row.try_get("chat_id")?,
                    title: row.try_get("title")?,
                    kind: row.try_get("kind")?,
                    seen_at: row.try_get("seen_at")?,
                })
            })
            .collect()
    }

    /// `user_id` (named `name`) was heard in group `chat_id` at `now`.
    pub async fn heard_from(
        &self,
        chat_id: i64,
        user_id: i64,
        name: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO bot_chat_people (chat_id, user_id, name, seen_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (chat_id, user_id) DO UPDATE SET name = excluded.name, \
             seen_at = excluded.seen_at",
        )
        .bind(chat_id)
        .bind(user_id)
        .bind(name)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The people heard in groups, by chat, most recent first, each with whether the bot
    /// may write to them in private.
    pub async fn bot_chat_people(&self) -> Result<BTreeMap<i64, Vec<ChatPerson>>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.chat_id, p.name, \
             CASE WHEN s.user_id IS NULL THEN 0 ELSE 1 END AS started \
             FROM bot_chat_people p LEFT JOIN private_chats s ON s.user_id = p.user_id \
             ORDER BY p.chat_id, p.seen_at DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut people: BTreeMap<i64, Vec<ChatPerson>> = BTreeMap::new();
        for row in &rows {
            people
                .entry(row.try_get("chat_id")?)
                .or_default()
                .push(ChatPerson {
                    name: row.try_get("name")?,
                    started: row.try_get::<i32, _>("started")? == 1,
                });
        }
        Ok(people)
    }

    /// Keeps a one-time code (by its digest) that names `chat_id` until `expires_at`; the
    /// codes expired by `now` go.
    pub async fn create_chat_code(
        &self,
        code_hash: &str,
        chat_id: i64,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM chat_codes WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO chat_codes (code_hash, chat_id, expires_at) VALUES ($1, $2, $3)")
            .bind(code_hash)
            .bind(chat_id)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Spends the code with digest `code_hash`: the chat it names, if it is still good.
    pub async fn take_chat_code(
        &self,
        code_hash: &str,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM chat_codes WHERE code_hash = $1 RETURNING chat_id, expires_at",
        )
        .bind(code_hash)
        .fetch_optional(&self.writer)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let expires_at: i64 = row.try_get("expires_at")?;
        Ok((expires_at > now)
            .then(|| row.try_get("chat_id"))
            .transpose()?)
    }

    /// What a chat that chose no language reads: `configured` (`[telegram] language`),
    /// else the language chosen on the setup page, else English.
    pub async fn chats_read(&self, configured: Option<Lang>) -> Result<Lang, StoreError> {
        if let Some(lang) = configured {
            return Ok(lang);
        }
        let row = sqlx::query("SELECT value FROM service_settings WHERE key = 'language'")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row
            .map(|row| parse::<Lang>(&row, "value"))
            .transpose()?
            .unwrap_or_default())
    }

    /// Keeps the language chosen on the setup page, for chats that choose none.
    pub async fn set_setup_lang(&self, lang: Lang) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO service_settings (key, value) VALUES ('language', $1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(lang.code())
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}

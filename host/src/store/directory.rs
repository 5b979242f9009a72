//! The directory (contacts, client policies, on-call schedules, escalation policies) as
//! checked JSON under a kind and a name, and the private chats people opened with the bot.

use std::collections::BTreeMap;

use sqlx::Row;

use super::{Store, StoreError};
use crate::alerts::directory::{Directory, Kind, Person};

/// Every kind, in the order entries may refer to each other.
const KINDS: [Kind; 5] = [
    Kind::Contact,
    Kind::Schedule,
    Kind::Escalation,
    Kind::ClientPolicy,
    Kind::Maintenance,
];

impl Store {
    /// The whole directory as routing needs it.
    pub async fn directory(&self) -> Result<Directory, StoreError> {
        let rows = sqlx::query("SELECT kind, name, spec FROM directory ORDER BY kind, name")
            .fetch_all(&self.pool)
            .await?;
        let started: Vec<i64> = sqlx::query("SELECT user_id FROM private_chats")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get("user_id"))
            .collect::<Result<_, _>>()?;
        let mut directory = Directory::default();
        for row in rows {
            let kind: String = row.try_get("kind")?;
            let name: String = row.try_get("name")?;
            let spec: String = row.try_get("spec")?;
            let what = format!("{kind} `{name}`");
            let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("{what}: {e}"));
            match KINDS.iter().find(|k| k.as_str() == kind) {
                Some(Kind::Contact) => {
                    let contact: crate::alerts::directory::Contact =
                        serde_json::from_str(&spec).map_err(corrupt)?;
                    let started = started.contains(&contact.telegram_user_id);
                    directory.contacts.insert(name, Person { contact, started });
                }
                Some(Kind::ClientPolicy) => {
                    directory
                        .policies
                        .insert(name, serde_json::from_str(&spec).map_err(corrupt)?);
                }
                Some(Kind::Schedule) => {
                    directory
                        .schedules
                        .insert(name, serde_json::from_str(&spec).map_err(corrupt)?);
                }
                Some(Kind::Escalation) => {
                    directory
                        .escalations
                        .insert(name, serde_json::from_str(&spec).map_err(corrupt)?);
                }
                Some(Kind::Maintenance) => {
                    directory
                        .maintenance
                        .insert(name, serde_json::from_str(&spec).map_err(corrupt)?);
                }
                None => {
                    return Err(StoreError::Corrupt(format!(
                        "unknown directory kind `{kind}`"
                    )));
                }
            }
        }
        Ok(directory)
    }

    /// The entries of `kind`, by name, as stored.
    pub async fn directory_entries(
        &self,
        kind: Kind,
    ) -> Result<BTreeMap<String, serde_json::Value>, StoreError> {
        let rows = sqlx::query("SELECT name, spec FROM directory WHERE kind = $1 ORDER BY name")
            .bind(kind.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let name: String = row.try_get("name")?;
                let spec: String = row.try_get("spec")?;
                let value = serde_json::from_str(&spec)
                    .map_err(|e| StoreError::Corrupt(format!("{} `{name}`: {e}", kind.as_str())))?;
                Ok((name, value))
            })
            .collect()
    }

    /// One entry, as stored.
    pub async fn directory_entry(
        &self,
        kind: Kind,
        name: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let row = sqlx::query("SELECT spec FROM directory WHERE kind = $1 AND name = $2")
            .bind(kind.as_str())
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            let spec: String = row.try_get("spec")?;
            serde_json::from_str(&spec)
                .map_err(|e| StoreError::Corrupt(format!("{} `{name}`: {e}", kind.as_str())))
        })
        .transpose()
    }

    /// Stores an entry (checked by the caller); true if it is new.
    pub async fn put_directory_entry(
        &self,
        kind: Kind,
        name: &str,
        spec: &serde_json::Value,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await?;
        let existed = sqlx::query("SELECT 1 AS one FROM directory WHERE kind = $1 AND name = $2")
            .bind(kind.as_str())
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        sqlx::query(
            "INSERT INTO directory (kind, name, spec, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind, name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at",
        )
        .bind(kind.as_str())
        .bind(name)
        .bind(spec.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(!existed)
    }

    pub async fn delete_directory_entry(&self, kind: Kind, name: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM directory WHERE kind = $1 AND name = $2")
            .bind(kind.as_str())
            .bind(name)
            .execute(&self.writer)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Remembers that `user_id` opened a private chat with the bot.
    pub async fn private_chat_started(
        &self,
        user_id: i64,
        name: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO private_chats (user_id, name, started_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET name = excluded.name",
        )
        .bind(user_id)
        .bind(name)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}

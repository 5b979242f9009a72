//! Installations and their ingest-token hashes.

use jiff::tz::TimeZone;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, duplicate};
use crate::alerts::Change;
use crate::fleet::Installation;

const COLUMNS: &str = "id, client, manager, timezone, telegram_chat_id, url, ip, parent, tags, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<Installation, StoreError> {
    let tags: String = row.try_get("tags")?;
    Ok(Installation {
        id: row.try_get("id")?,
        client: row.try_get("client")?,
        manager: row.try_get("manager")?,
        timezone: row.try_get("timezone")?,
        telegram_chat_id: row.try_get("telegram_chat_id")?,
        url: row.try_get("url")?,
        ip: row.try_get("ip")?,
        parent: row.try_get("parent")?,
        tags: serde_json::from_str(&tags).map_err(|e| StoreError::Corrupt(format!("tags: {e}")))?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn tags_json(tags: &[String]) -> String {
    serde_json::to_string(tags).expect("a list of strings serializes")
}

impl Store {
    pub async fn create_installation(
        &self,
        i: &Installation,
        token_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO installations (id, client, manager, timezone, telegram_chat_id, url, ip, \
             parent, tags, token_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&i.id)
        .bind(&i.client)
        .bind(&i.manager)
        .bind(&i.timezone)
        .bind(i.telegram_chat_id)
        .bind(&i.url)
        .bind(&i.ip)
        .bind(&i.parent)
        .bind(tags_json(&i.tags))
        .bind(token_hash)
        .bind(i.created_at)
        .bind(i.updated_at)
        .execute(&self.writer)
        .await
        .map_err(|e| duplicate(e, &i.id))?;
        Ok(())
    }

    pub async fn installation(&self, id: &str) -> Result<Option<Installation>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM installations WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Whether any installation is registered (of `manager`, when given): an empty fleet
    /// is not a healthy one.
    pub async fn any_installation(&self, manager: Option<&str>) -> Result<bool, StoreError> {
        let found = match manager {
            Some(manager) => {
                sqlx::query("SELECT id FROM installations WHERE manager = $1 LIMIT 1")
                    .bind(manager)
                    .fetch_optional(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT id FROM installations LIMIT 1")
                    .fetch_optional(&self.pool)
                    .await?
            }
        };
        Ok(found.is_some())
    }

    pub async fn installations(&self) -> Result<Vec<Installation>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM installations ORDER BY id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// `client`'s installations, by id.
    pub async fn installations_of(&self, client: &str) -> Result<Vec<Installation>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM installations WHERE client = $1 ORDER BY id");
        let rows = sqlx::query(&sql).bind(client).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// Every installation's id, in order: what a tick sweep needs (each job reads its
    /// installation when it runs, so nothing read here could go stale in the queue).
    pub async fn installation_ids(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT id FROM installations ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| Ok(row.try_get("id")?)).collect()
    }

    /// The installation an ingest token (by its hash) belongs to.
    pub async fn installation_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<Installation>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM installations WHERE token_hash = $1");
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Writes every field but `id` and `created_at`; false when there is no such installation.
    pub async fn update_installation(&self, i: &Installation) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE installations SET client = $1, manager = $2, timezone = $3, \
             telegram_chat_id = $4, url = $5, ip = $6, parent = $7, tags = $8, updated_at = $9 \
             WHERE id = $10",
        )
        .bind(&i.client)
        .bind(&i.manager)
        .bind(&i.timezone)
        .bind(i.telegram_chat_id)
        .bind(&i.url)
        .bind(&i.ip)
        .bind(&i.parent)
        .bind(tags_json(&i.tags))
        .bind(i.updated_at)
        .bind(&i.id)
        .execute(&self.writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn set_token_hash(
        &self,
        id: &str,
        token_hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result =
            sqlx::query("UPDATE installations SET token_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(token_hash)
                .bind(now)
                .bind(id)
                .execute(&self.writer)
                .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Deletes the installation with its reports, findings and state, and applies `alerts`
    /// (its open alerts retired) in the same transaction.
    pub async fn delete_installation(
        &self,
        id: &str,
        now: i64,
        alerts: &[Change<'_>],
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await?;
        let result = sqlx::query("DELETE FROM installations WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() == 0 {
            return Ok(false);
        }
        super::alerts::apply(&mut tx, now, now, alerts).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The time zone of installation `id`, UTC when it is gone.
    pub async fn installation_zone(&self, id: &str) -> Result<TimeZone, StoreError> {
        Ok(self
            .installation(id)
            .await?
            .map_or(TimeZone::UTC, |i| i.time_zone()))
    }

    /// The installations whose alerts go to `chat_id`.
    pub async fn installations_in_chat(
        &self,
        chat_id: i64,
    ) -> Result<Vec<Installation>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM installations WHERE telegram_chat_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql)
            .bind(chat_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row).collect()
    }
}

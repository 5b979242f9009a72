//! Plugin settings per client: a distributor tightens or loosens a threshold for one
//! client without touching the others.

use std::collections::{BTreeMap, HashMap};

use sqlx::Row;

use super::{Store, StoreError};

/// Settings by plugin, then key.
pub type Settings = BTreeMap<String, BTreeMap<String, String>>;

impl Store {
    /// Every plugin setting stored for `client`.
    pub async fn client_settings(&self, client: &str) -> Result<Settings, StoreError> {
        let rows = sqlx::query("SELECT plugin, key, value FROM client_settings WHERE client = $1")
            .bind(client)
            .fetch_all(&self.pool)
            .await?;
        let mut settings = Settings::new();
        for row in &rows {
            add(&mut settings, row)?;
        }
        Ok(settings)
    }

    /// Every client's stored settings, by client (clients without any are absent).
    pub async fn every_client_settings(&self) -> Result<HashMap<String, Settings>, StoreError> {
        let rows = sqlx::query("SELECT client, plugin, key, value FROM client_settings")
            .fetch_all(&self.pool)
            .await?;
        let mut every: HashMap<String, Settings> = HashMap::new();
        for row in &rows {
            add(every.entry(row.try_get("client")?).or_default(), row)?;
        }
        Ok(every)
    }

    /// Replaces `client`'s settings for `plugin` with `values` (empty: back to defaults).
    pub async fn set_client_settings(
        &self,
        client: &str,
        plugin: &str,
        values: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM client_settings WHERE client = $1 AND plugin = $2")
            .bind(client)
            .bind(plugin)
            .execute(&mut *tx)
            .await?;
        for (key, value) in values {
            sqlx::query(
                "INSERT INTO client_settings (client, plugin, key, value) VALUES ($1, $2, $3, $4)",
            )
            .bind(client)
            .bind(plugin)
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

fn add(settings: &mut Settings, row: &sqlx::any::AnyRow) -> Result<(), StoreError> {
    settings
        .entry(row.try_get("plugin")?)
        .or_default()
        .insert(row.try_get("key")?, row.try_get("value")?);
    Ok(())
}

//! Plugins switched off by an admin, kept so they stay off across restarts.

use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// Names of the plugins switched off.
    pub async fn switched_off_plugins(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT name FROM plugin_switches ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| row.try_get("name").map_err(StoreError::from))
            .collect()
    }

    /// Records `name` as switched off (`off`) at `now`, or switched on again.
    pub async fn set_plugin_switch(
        &self,
        name: &str,
        off: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        let query = if off {
            sqlx::query(
                "INSERT INTO plugin_switches (name, disabled_at) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET disabled_at = $2",
            )
            .bind(name)
            .bind(now)
        } else {
            sqlx::query("DELETE FROM plugin_switches WHERE name = $1").bind(name)
        };
        query.execute(&self.writer).await?;
        Ok(())
    }
}

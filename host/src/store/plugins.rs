//! The installed set of plugins: what admins uploaded (every node serves it) and what they
//! switched off (off on every node, across restarts).

use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// Names and digests of the uploaded plugins: what a node compares with what it serves
    /// before reading any bytes.
    pub async fn uploaded_plugins(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query("SELECT name, sha256 FROM plugins ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("name")?, row.try_get("sha256")?)))
            .collect()
    }

    /// The bytes uploaded as `name`, and their digest.
    pub async fn uploaded_plugin(
        &self,
        name: &str,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let row = sqlx::query("SELECT sha256, bytes FROM plugins WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((row.try_get("sha256")?, row.try_get("bytes")?)))
            .transpose()
    }

    /// Keeps `bytes` as the upload named `name`, in place of any before.
    pub async fn put_uploaded_plugin(
        &self,
        name: &str,
        sha256: &str,
        bytes: &[u8],
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO plugins (name, sha256, bytes, installed_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET sha256 = $2, bytes = $3, installed_at = $4",
        )
        .bind(name)
        .bind(sha256)
        .bind(bytes)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Forgets the upload named `name`; false if there was none.
    pub async fn delete_uploaded_plugin(&self, name: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM plugins WHERE name = $1")
            .bind(name)
            .execute(&self.writer)
            .await?;
        Ok(deleted.rows_affected() > 0)
    }

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

//! The private links to clients' status pages: one per client, its secret kept by digest.

use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// Makes `secret_hash` the digest of `client`'s link, replacing the one before.
    pub async fn renew_status_link(
        &self,
        client: &str,
        secret_hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO status_links (client, secret_hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (client) DO UPDATE SET secret_hash = excluded.secret_hash, \
             created_at = excluded.created_at",
        )
        .bind(client)
        .bind(secret_hash)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The client whose link has the digest `secret_hash`.
    pub async fn status_link_client(
        &self,
        secret_hash: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT client FROM status_links WHERE secret_hash = $1")
            .bind(secret_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.try_get("client")).transpose()?)
    }

    /// When `client`'s current link was made, if it has one.
    pub async fn status_link_made(&self, client: &str) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT created_at FROM status_links WHERE client = $1")
            .bind(client)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.try_get("created_at")).transpose()?)
    }
}

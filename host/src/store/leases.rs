//! Leases: which node does which kind of background work, until when. Taking one is a
//! single statement, so two nodes asking at once cannot both get it.

use sqlx::Row;

use super::{Store, StoreError};

/// A lease as the database holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub role: String,
    pub holder: String,
    pub acquired_at: i64,
    pub expires_at: i64,
}

impl Store {
    /// Takes or renews `role` for `holder` until `expires_at`, if it is free, expired at
    /// `now`, or already `holder`'s. True if `holder` has it now.
    pub async fn take_lease(
        &self,
        role: &str,
        holder: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let taken = sqlx::query(
            "INSERT INTO leases (role, holder, acquired_at, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (role) DO UPDATE SET holder = excluded.holder, \
             expires_at = excluded.expires_at, acquired_at = CASE \
             WHEN leases.holder = excluded.holder THEN leases.acquired_at \
             ELSE excluded.acquired_at END \
             WHERE leases.holder = excluded.holder OR leases.expires_at <= $3",
        )
        .bind(role)
        .bind(holder)
        .bind(now)
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(taken.rows_affected() == 1)
    }

    /// Gives up every lease `holder` has (a clean shutdown), so another node takes over at
    /// once rather than after expiry.
    pub async fn release_leases(&self, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM leases WHERE holder = $1")
            .bind(holder)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Every lease, expired or not.
    pub async fn leases(&self) -> Result<Vec<Lease>, StoreError> {
        let rows =
            sqlx::query("SELECT role, holder, acquired_at, expires_at FROM leases ORDER BY role")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| {
                Ok(Lease {
                    role: row.try_get("role")?,
                    holder: row.try_get("holder")?,
                    acquired_at: row.try_get("acquired_at")?,
                    expires_at: row.try_get("expires_at")?,
                })
            })
            .collect()
    }

    /// `NOTIFY channel, payload` (PostgreSQL only).
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

//! What each installation's newest report says at a glance (written with the report, in
//! `reports.rs`), and the open alerts counted per installation: what a fleet view reads.
//! Older glances are in the report log (`history.rs`).

use std::collections::HashMap;

use sqlx::Row;

use super::{Store, StoreError};
use crate::plugins::Severity;
use crate::report::Glance;

/// The newest report's glance and when it was received.
#[derive(Debug, Clone)]
pub struct Latest {
    pub received_at: i64,
    pub glance: Glance,
}

impl Store {
    pub async fn glance(&self, installation_id: &str) -> Result<Option<Latest>, StoreError> {
        let row = sqlx::query("SELECT received_at, glance FROM glances WHERE installation_id = $1")
            .bind(installation_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(latest).transpose()
    }

    /// Every installation's, by installation id.
    pub async fn glances(&self) -> Result<HashMap<String, Latest>, StoreError> {
        let rows = sqlx::query("SELECT installation_id, received_at, glance FROM glances")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("installation_id")?, latest(row)?)))
            .collect()
    }

    /// How many alerts people were told about and are still open, per installation,
    /// plugin and severity (pending ones, which damping holds back, are not counted).
    pub async fn open_alert_counts(&self) -> Result<Vec<OpenCount>, StoreError> {
        let rows = sqlx::query(
            "SELECT installation_id, plugin, severity, COUNT(*) AS n FROM alerts \
             WHERE state IN ('firing', 'acknowledged', 'snoozed') \
             GROUP BY installation_id, plugin, severity",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(OpenCount {
                    installation_id: row.try_get("installation_id")?,
                    plugin: row.try_get("plugin")?,
                    severity: super::parse(row, "severity")?,
                    count: row.try_get("n")?,
                })
            })
            .collect()
    }
}

/// Open alerts of one installation, plugin and severity.
#[derive(Debug, Clone)]
pub struct OpenCount {
    pub installation_id: String,
    pub plugin: String,
    pub severity: Severity,
    pub count: i64,
}

fn latest(row: &sqlx::any::AnyRow) -> Result<Latest, StoreError> {
    let text: String = row.try_get("glance")?;
    Ok(Latest {
        received_at: row.try_get("received_at")?,
        glance: serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("glance: {e}")))?,
    })
}

//! History imports (`crate::import` decides their course): their rows, counts and
//! states, and the end of an import's history applied to its alerts.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, parse};
use crate::alerts::{Detail, EventKind, Resolution};
use crate::names::named;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportState {
    /// Taking batches.
    Receiving,
    /// Every batch is in; its reports are being evaluated.
    Reading,
    Done,
    Cancelled,
}

named!(ImportState, "import state", {
    Receiving => "receiving",
    Reading => "reading",
    Done => "done",
    Cancelled => "cancelled",
});

/// An import as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Import {
    pub id: i64,
    /// What the importer said it imports (an archive's name).
    pub source: String,
    pub state: ImportState,
    /// Reports stored by this import, repeats of reports stored before, files refused.
    pub stored: i64,
    pub repeated: i64,
    pub refused: i64,
    /// Of `stored`, how many are evaluated.
    pub evaluated: i64,
    pub max_reports: i64,
    pub started_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

const COLUMNS: &str = "id, source, state, stored, repeated, refused, max_reports, started_at, \
    updated_at, finished_at";

fn import_from(row: &AnyRow, evaluated: i64) -> Result<Import, StoreError> {
    Ok(Import {
        id: row.try_get("id")?,
        source: row.try_get("source")?,
        state: parse(row, "state")?,
        stored: row.try_get("stored")?,
        repeated: row.try_get("repeated")?,
        refused: row.try_get("refused")?,
        evaluated,
        max_reports: row.try_get("max_reports")?,
        started_at: row.try_get("started_at")?,
        updated_at: row.try_get("updated_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

impl Store {
    pub async fn insert_import(
        &self,
        source: &str,
        max_reports: i64,
        now: i64,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO imports (source, state, max_reports, started_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(source)
        .bind(ImportState::Receiving.as_str())
        .bind(max_reports)
        .bind(now)
        .fetch_one(&self.writer)
        .await?;
        Ok(row.try_get("id")?)
    }

    /// Import `id` with how many of its reports are evaluated.
    pub async fn import(&self, id: i64) -> Result<Option<Import>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM imports WHERE id = $1");
        let Some(row) = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let stored: i64 = row.try_get("stored")?;
        let waiting = self.import_unevaluated(id).await?;
        import_from(&row, stored - waiting).map(Some)
    }

    /// The 50 newest imports.
    pub async fn imports(&self) -> Result<Vec<Import>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM imports ORDER BY id DESC LIMIT 50");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        let mut imports = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get("id")?;
            let stored: i64 = row.try_get("stored")?;
            let waiting = self.import_unevaluated(id).await?;
            imports.push(import_from(row, stored - waiting)?);
        }
        Ok(imports)
    }

    pub async fn imports_in(&self, state: ImportState) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query("SELECT id FROM imports WHERE state = $1")
            .bind(state.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    /// Whether import `id` is still bringing history: its reports are being read, or a
    /// batch came within `IDLE` (an importer that stopped sending for longer is gone).
    pub async fn import_in_progress(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        const IDLE: i64 = 10 * 60_000;
        let row = sqlx::query(
            "SELECT 1 AS busy FROM imports WHERE id = $1 AND (state = $2 OR \
             (state = $3 AND updated_at > $4))",
        )
        .bind(id)
        .bind(ImportState::Reading.as_str())
        .bind(ImportState::Receiving.as_str())
        .bind(now - IDLE)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// How many of import `id`'s reports wait to be evaluated.
    pub async fn import_unevaluated(&self, id: i64) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM reports WHERE import_id = $1 AND evaluated_at IS NULL",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// Records that import `id` named `installations` (stored or repeated).
    pub async fn import_named(&self, id: i64, installations: &[&str]) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        for installation in installations {
            sqlx::query(
                "INSERT INTO import_installations (import_id, installation_id) VALUES ($1, $2) \
                 ON CONFLICT (import_id, installation_id) DO NOTHING",
            )
            .bind(id)
            .bind(*installation)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds a batch's counts to import `id`.
    pub async fn count_import(
        &self,
        id: i64,
        stored: i64,
        repeated: i64,
        refused: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE imports SET stored = stored + $1, repeated = repeated + $2, \
             refused = refused + $3, updated_at = $4 WHERE id = $5",
        )
        .bind(stored)
        .bind(repeated)
        .bind(refused)
        .bind(now)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Moves import `id` from `from` to `to`; false if it was not in `from`.
    pub async fn move_import(
        &self,
        id: i64,
        from: ImportState,
        to: ImportState,
        now: i64,
    ) -> Result<bool, StoreError> {
        let finished = matches!(to, ImportState::Done | ImportState::Cancelled).then_some(now);
        let done = sqlx::query(
            "UPDATE imports SET state = $1, updated_at = $2, \
             finished_at = COALESCE($3, finished_at) WHERE id = $4 AND state = $5",
        )
        .bind(to.as_str())
        .bind(now)
        .bind(finished)
        .bind(id)
        .bind(from.as_str())
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Applies the end of import `id`'s history (`import` decides it): its alerts still
    /// open resolve, with `reason`, at their installation's last imported report; every
    /// alert its history opened is told like any other from now on; the span of its
    /// reports counts as watched, and its installations as watched since their history
    /// begins. Returns how many resolved.
    pub async fn close_history(
        &self,
        id: i64,
        reason: Resolution,
        now: i64,
    ) -> Result<u64, StoreError> {
        let mut tx = self.writer.begin().await?;
        let touched = "SELECT installation_id FROM import_installations WHERE import_id = $1";
        let last = "(SELECT MAX(r.generated_at) FROM reports r WHERE r.import_id IS NOT NULL \
                    AND r.installation_id = alerts.installation_id)";
        let open = format!("late = 2 AND state <> 'resolved' AND installation_id IN ({touched})");
        sqlx::query(&format!(
            "INSERT INTO alert_events (alert_id, at, kind, actor, detail) \
             SELECT id, COALESCE({last}, $2), $3, NULL, $4 FROM alerts WHERE {open}"
        ))
        .bind(id)
        .bind(now)
        .bind(EventKind::Resolved.as_str())
        .bind(Detail::Resolved { why: reason }.stored())
        .execute(&mut *tx)
        .await?;
        let resolved = sqlx::query(&format!(
            "UPDATE alerts SET state = 'resolved', resolution = $3, \
             resolved_at = COALESCE({last}, $2), updated_at = $2, version = version + 1, \
             snoozed_until = NULL, ack_expires_at = NULL, escalate_at = NULL, \
             announce_at = NULL WHERE {open}"
        ))
        .bind(id)
        .bind(now)
        .bind(reason.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(&format!(
            "UPDATE alerts SET late = 0 WHERE late = 2 AND installation_id IN ({touched})"
        ))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        // Watched since its history begins: a client report of an imported quarter
        // measures it.
        let first = "(SELECT MIN(r.generated_at) FROM reports r WHERE r.import_id IS NOT NULL \
                     AND r.installation_id = installations.id)";
        sqlx::query(&format!(
            "UPDATE installations SET created_at = CASE WHEN {first} < created_at \
             THEN {first} ELSE created_at END WHERE id IN ({touched})"
        ))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        // The old system watched while the history was made: its span is no downtime of
        // ours (silence in it is the installations').
        sqlx::query(&format!(
            "INSERT INTO host_runs (started_at, last_seen) \
             SELECT MIN(generated_at), MAX(generated_at) FROM reports \
             WHERE import_id IS NOT NULL AND installation_id IN ({touched}) HAVING COUNT(*) > 0"
        ))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(resolved)
    }
}

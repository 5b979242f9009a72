//! Replays of a rule over history, as rows any node can read: what was asked, which node
//! runs it, how far it got, and what it found. The request, progress and result are
//! JSON the replay module writes and reads; this module keeps them.

use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, parse};
use crate::names::named;

/// Where a replay is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayState {
    Running,
    /// Asked to stop (on any node); the node running it stops at its next look.
    Cancelling,
    Done,
    Cancelled,
    Failed,
    /// Its node stopped, or stopped answering, before it finished.
    Interrupted,
}

named!(ReplayState, "replay state", {
    Running => "running",
    Cancelling => "cancelling",
    Done => "done",
    Cancelled => "cancelled",
    Failed => "failed",
    Interrupted => "interrupted",
});

impl ReplayState {
    /// Still being worked on.
    pub fn is_live(self) -> bool {
        matches!(self, ReplayState::Running | ReplayState::Cancelling)
    }
}

/// A replay as stored.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayRow {
    pub id: i64,
    pub plugin: String,
    pub node: String,
    pub state: ReplayState,
    pub request: Value,
    pub progress: Value,
    pub result: Option<Value>,
    pub error: Option<String>,
    pub started_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

const COLUMNS: &str = "id, plugin, node, state, request, progress, result, error, started_at, \
    updated_at, finished_at";

fn json(row: &AnyRow, column: &str) -> Result<Option<Value>, StoreError> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("replay {column}: {e}")))
}

fn replay_from(row: &AnyRow) -> Result<ReplayRow, StoreError> {
    Ok(ReplayRow {
        id: row.try_get("id")?,
        plugin: row.try_get("plugin")?,
        node: row.try_get("node")?,
        state: parse(row, "state")?,
        request: json(row, "request")?.unwrap_or_default(),
        progress: json(row, "progress")?.unwrap_or_default(),
        result: json(row, "result")?,
        error: row.try_get("error")?,
        started_at: row.try_get("started_at")?,
        updated_at: row.try_get("updated_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

impl Store {
    /// Records a replay `node` starts now; returns its id.
    pub async fn insert_replay(
        &self,
        plugin: &str,
        node: &str,
        request: &Value,
        progress: &Value,
        now: i64,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO replays (plugin, node, request, state, progress, started_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(plugin)
        .bind(node)
        .bind(request.to_string())
        .bind(ReplayState::Running.as_str())
        .bind(progress.to_string())
        .bind(now)
        .fetch_one(&self.writer)
        .await?;
        Ok(row.try_get("id")?)
    }

    /// Records how far replay `id` got; returns its state now (someone may have asked it
    /// to stop).
    pub async fn replay_progress(
        &self,
        id: i64,
        progress: &Value,
        now: i64,
    ) -> Result<Option<ReplayState>, StoreError> {
        sqlx::query("UPDATE replays SET progress = $1, updated_at = $2 WHERE id = $3")
            .bind(progress.to_string())
            .bind(now)
            .bind(id)
            .execute(&self.writer)
            .await?;
        let row = sqlx::query("SELECT state FROM replays WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.writer)
            .await?;
        row.map(|row| parse(&row, "state")).transpose()
    }

    /// Records how replay `id` ended.
    pub async fn finish_replay(
        &self,
        id: i64,
        state: ReplayState,
        progress: &Value,
        result: Option<&Value>,
        error: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE replays SET state = $1, progress = $2, result = $3, error = $4, \
             updated_at = $5, finished_at = $5 WHERE id = $6",
        )
        .bind(state.as_str())
        .bind(progress.to_string())
        .bind(result.map(Value::to_string))
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Asks a running replay to stop: true if it was running.
    pub async fn cancel_replay(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE replays SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4",
        )
        .bind(ReplayState::Cancelling.as_str())
        .bind(now)
        .bind(id)
        .bind(ReplayState::Running.as_str())
        .execute(&self.writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Marks the replays `node` was running as interrupted (it started again, so they
    /// stopped with it); returns how many.
    pub async fn interrupt_replays(&self, node: &str, now: i64) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "UPDATE replays SET state = $1, updated_at = $2, finished_at = $2, \
             error = 'the node running it stopped' WHERE node = $3 AND state IN ($4, $5)",
        )
        .bind(ReplayState::Interrupted.as_str())
        .bind(now)
        .bind(node)
        .bind(ReplayState::Running.as_str())
        .bind(ReplayState::Cancelling.as_str())
        .execute(&self.writer)
        .await?;
        Ok(result.rows_affected())
    }

    pub async fn replay(&self, id: i64) -> Result<Option<ReplayRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM replays WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(replay_from).transpose()
    }

    /// The newest `limit` replays, newest first, without their results (which can be
    /// long): a list to choose from.
    pub async fn replays(&self, limit: i64) -> Result<Vec<ReplayRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM replays ORDER BY id DESC LIMIT $1",
            COLUMNS.replace("result,", "CAST(NULL AS TEXT) AS result,")
        );
        let rows = sqlx::query(&sql).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(replay_from).collect()
    }
}

//! What checks said to their authors (`plugins::log`): kept with the evaluation that said
//! it, in that evaluation's transaction, the newest [`KEPT_PER_PLUGIN`] lines of each
//! plugin.

use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use super::{Store, StoreError, parse};
use crate::plugins::Trigger;
use crate::plugins::log::{LogLevel, LogLine};

/// Lines kept of one plugin; older ones go as new ones come.
pub const KEPT_PER_PLUGIN: i64 = 1000;

/// What one plugin said in one evaluation, as its budget kept it.
pub struct PluginSaid<'a> {
    pub plugin: &'a str,
    pub version: &'a str,
    pub lines: Vec<LogLine>,
}

/// Where a line was said: the evaluation's installation, report (if any) and trigger, on
/// the host's clock.
#[derive(Debug, Clone, Copy)]
pub struct SaidIn<'a> {
    pub installation: &'a str,
    pub report_id: Option<i64>,
    pub trigger: Trigger,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredLogLine {
    pub id: i64,
    pub at: i64,
    pub level: LogLevel,
    pub message: String,
    pub version: String,
    pub installation: String,
    pub report: Option<i64>,
    pub trigger: Trigger,
}

/// Keeps `said` and lets each plugin's oldest lines beyond [`KEPT_PER_PLUGIN`] go.
pub(super) async fn keep(
    tx: &mut Transaction<'_, Any>,
    place: SaidIn<'_>,
    said: &[PluginSaid<'_>],
) -> Result<(), StoreError> {
    for plugin in said.iter().filter(|s| !s.lines.is_empty()) {
        for line in &plugin.lines {
            sqlx::query(
                "INSERT INTO plugin_log (plugin, version, at, level, message, installation_id, \
                 report_id, trigger_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(plugin.plugin)
            .bind(plugin.version)
            .bind(place.at)
            .bind(line.level.as_str())
            .bind(&line.message)
            .bind(place.installation)
            .bind(place.report_id)
            .bind(place.trigger.to_string())
            .execute(&mut **tx)
            .await?;
        }
        sqlx::query(
            "DELETE FROM plugin_log WHERE plugin = $1 AND id <= \
             (SELECT id FROM plugin_log WHERE plugin = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)",
        )
        .bind(plugin.plugin)
        .bind(KEPT_PER_PLUGIN)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// One page of a plugin's log, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct LogPage {
    pub lines: Vec<StoredLogLine>,
    /// The `before` of the next page, when there are older lines.
    pub next_before: Option<i64>,
}

impl Store {
    /// `plugin`'s newest lines: at most `limit`, older than line `before` when given.
    pub async fn plugin_log(
        &self,
        plugin: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<LogPage, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, level, message, version, installation_id, report_id, trigger_name \
             FROM plugin_log WHERE plugin = $1 AND ($2 IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(plugin)
        .bind(before)
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        let mut lines = rows
            .iter()
            .map(|row| {
                Ok(StoredLogLine {
                    id: row.try_get("id")?,
                    at: row.try_get("at")?,
                    level: parse(row, "level")?,
                    message: row.try_get("message")?,
                    version: row.try_get("version")?,
                    installation: row.try_get("installation_id")?,
                    report: row.try_get("report_id")?,
                    trigger: parse(row, "trigger_name")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let more = lines.len() as i64 > limit;
        lines.truncate(limit as usize);
        let next_before = more.then(|| lines.last().map(|l| l.id)).flatten();
        Ok(LogPage { lines, next_before })
    }
}

//! Reports, and what the checks concluded from them: findings and plugin state.
//!
//! A report is stored before anyone evaluates it (`evaluated_at` empty), and its
//! evaluation is committed in one transaction with the findings and state it produced, so
//! a crash at any point either leaves it to be evaluated again or leaves it done, never
//! half-applied and never applied twice.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use super::plugin_log::{PluginSaid, SaidIn};
use super::{Store, StoreError, parse};
use crate::alerts::Change;
use crate::fleet::Installation;
use crate::plugins::contract::Translations;
use crate::plugins::{EvalOutput, Severity, Trigger};
use crate::report::{Document, Glance, judged_at};

/// The agent name the host's own probes report under.
pub const PROBE_AGENT: &str = "probe";

/// A report as accepted: parsed, and the raw bytes compressed.
pub struct NewReport<'a> {
    pub installation_id: &'a str,
    pub received_at: i64,
    pub generated_at: i64,
    pub agent: &'a str,
    /// The parsed document in its stored form (`Document::to_stored`).
    pub document: &'a [u8],
    /// Deflate-compressed original bytes, kept for replaying new rules over history.
    pub raw: &'a [u8],
    pub raw_size: usize,
    /// See [`crate::ingest::Accepted::digest`].
    pub digest: &'a str,
    pub glance: &'a Glance,
    /// The import bringing it, for imported history.
    pub import_id: Option<i64>,
}

/// What storing a report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// Stored under this id, to be evaluated.
    New(i64),
    /// The same report (generated at the same moment, the same bytes) was stored before,
    /// under this id: nothing was stored again.
    Repeat(i64),
}

impl Inserted {
    pub fn id(self) -> i64 {
        match self {
            Inserted::New(id) | Inserted::Repeat(id) => id,
        }
    }
}

/// One evaluation as it is kept: committed together with what it does to the
/// installation's alerts (`alerts::Change`, decided by the alerts service).
#[derive(Clone, Copy)]
pub struct Evaluated<'a> {
    /// The report evaluated, if the job was a report.
    pub report_id: Option<i64>,
    pub installation: &'a Installation,
    /// When the evaluation judged (a report's own time, `report::Timing`): findings and
    /// alerts keep it.
    pub at: i64,
    /// The host's clock: when the report was evaluated, when notices were queued.
    pub now: i64,
    /// The successful plugins' outputs.
    pub outputs: &'a [(&'a str, &'a EvalOutput)],
    pub trigger: Trigger,
    /// What the plugins said to their authors (`plugins::log`), kept even when the
    /// evaluation changes nothing.
    pub said: &'a [PluginSaid<'a>],
}

/// A stored report, ready to evaluate.
pub struct StoredReport {
    pub id: i64,
    pub installation_id: String,
    pub received_at: i64,
    pub generated_at: i64,
    /// The import that brought it, for imported history.
    pub import_id: Option<i64>,
    pub document: Document,
}

/// A stored report as a replay reads it: the stored form is decoded where the replay
/// runs, off the threads that talk to the database.
pub struct HistoricReport {
    pub id: i64,
    pub received_at: i64,
    pub generated_at: i64,
    pub agent: String,
    /// `Document::to_stored`'s bytes.
    pub stored: Vec<u8>,
}

/// A finding that holds now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredFinding {
    pub plugin: String,
    pub key: String,
    pub severity: Severity,
    pub summary: String,
    pub details: String,
    pub labels: Vec<(String, String)>,
    pub translations: Translations,
    /// When it was first reported.
    pub since: i64,
    /// When an evaluation last confirmed it.
    pub updated_at: i64,
}

impl Store {
    /// Stores an accepted report, not yet evaluated, with its line in the report log and
    /// its glance as the newest (unless a newer report's is there already), once committed;
    /// or, when the same report is stored already, nothing, and says which it is.
    pub async fn insert_report(&self, report: &NewReport<'_>) -> Result<Inserted, StoreError> {
        let mut tx = self.writer.begin().await?;
        let inserted = insert(&mut tx, report).await?;
        tx.commit().await?;
        Ok(inserted)
    }

    /// [`Store::insert_report`] for several reports, in one transaction: an import's
    /// batch, whose reports are all kept or none.
    pub async fn insert_reports(
        &self,
        reports: &[NewReport<'_>],
    ) -> Result<Vec<Inserted>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let mut inserted = Vec::with_capacity(reports.len());
        for report in reports {
            inserted.push(insert(&mut tx, report).await?);
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// Reports accepted but not evaluated yet, the `limit` oldest first, with their
    /// installation.
    pub async fn pending_reports(&self, limit: i64) -> Result<Vec<(i64, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, installation_id FROM reports WHERE evaluated_at IS NULL ORDER BY id \
             LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("installation_id")?)))
            .collect()
    }

    pub async fn report(&self, id: i64) -> Result<Option<StoredReport>, StoreError> {
        let row = sqlx::query(
            "SELECT id, installation_id, received_at, generated_at, import_id, document \
             FROM reports WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let bytes: Vec<u8> = row.try_get("document")?;
        Ok(Some(StoredReport {
            id: row.try_get("id")?,
            installation_id: row.try_get("installation_id")?,
            received_at: row.try_get("received_at")?,
            generated_at: row.try_get("generated_at")?,
            import_id: row.try_get("import_id")?,
            document: Document::from_stored(&bytes)
                .map_err(|e| StoreError::Corrupt(format!("report {id}: {e}")))?,
        }))
    }

    /// The installation's newest report from its own agents (a probe's says nothing of
    /// them): its id and when it was received. Silence is measured from it.
    pub async fn latest_report(
        &self,
        installation_id: &str,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let row = sqlx::query(
            "SELECT id, received_at FROM reports WHERE installation_id = $1 \
             AND agent <> $2 ORDER BY received_at DESC, id DESC LIMIT 1",
        )
        .bind(installation_id)
        .bind(PROBE_AGENT)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.try_get("id")?, r.try_get("received_at")?)))
            .transpose()
    }

    /// Up to `limit` of `installation_id`'s reports made within `[from, to)` after the
    /// report `after` (its `generated_at` and id), in the order they were made: history
    /// as it happened, however late each report arrived.
    pub async fn history_page(
        &self,
        installation_id: &str,
        from: i64,
        to: i64,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> Result<Vec<HistoricReport>, StoreError> {
        let (after_at, after_id) = after.unwrap_or((i64::MIN, i64::MIN));
        let rows = sqlx::query(
            "SELECT id, received_at, generated_at, agent, document FROM reports \
             WHERE installation_id = $1 AND generated_at >= $2 AND generated_at < $3 \
             AND (generated_at > $4 OR (generated_at = $4 AND id > $5)) \
             ORDER BY generated_at, id LIMIT $6",
        )
        .bind(installation_id)
        .bind(from)
        .bind(to)
        .bind(after_at)
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(historic).collect()
    }

    /// `installation_id`'s newest report from its own agents made before `before`: what
    /// it had said when a replay's window opens.
    pub async fn report_before(
        &self,
        installation_id: &str,
        before: i64,
    ) -> Result<Option<HistoricReport>, StoreError> {
        let row = sqlx::query(
            "SELECT id, received_at, generated_at, agent, document FROM reports \
             WHERE installation_id = $1 AND generated_at < $2 AND agent <> $3 \
             ORDER BY generated_at DESC, id DESC LIMIT 1",
        )
        .bind(installation_id)
        .bind(before)
        .bind(PROBE_AGENT)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(historic).transpose()
    }

    /// Deletes report log lines older than `cutoff`; returns how many went.
    pub async fn prune_report_log(&self, cutoff: i64) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM report_log WHERE received_at < $1")
            .bind(cutoff)
            .execute(&self.writer)
            .await?;
        Ok(result.rows_affected())
    }

    /// Deletes evaluated reports received before `cutoff`, keeping each installation's
    /// newest (ticks read it). Returns how many went.
    pub async fn prune_reports(&self, cutoff: i64) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "DELETE FROM reports WHERE received_at < $1 AND evaluated_at IS NOT NULL \
             AND id NOT IN (SELECT MAX(id) FROM reports GROUP BY installation_id)",
        )
        .bind(cutoff)
        .execute(&self.writer)
        .await?;
        Ok(result.rows_affected())
    }

    /// How many reports are stored for an installation (evaluated or not).
    pub async fn report_count(&self, installation_id: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM reports WHERE installation_id = $1")
            .bind(installation_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// What every plugin kept for an installation, by plugin.
    pub async fn plugin_state(
        &self,
        installation_id: &str,
    ) -> Result<BTreeMap<String, BTreeMap<String, String>>, StoreError> {
        let rows =
            sqlx::query("SELECT plugin, key, value FROM plugin_state WHERE installation_id = $1")
                .bind(installation_id)
                .fetch_all(&self.pool)
                .await?;
        let mut state: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for row in rows {
            state
                .entry(row.try_get("plugin")?)
                .or_default()
                .insert(row.try_get("key")?, row.try_get("value")?);
        }
        Ok(state)
    }

    /// Commits one evaluation: for every plugin that succeeded, its findings replace the
    /// ones it reported before (a finding that still holds keeps its `since`) and its state
    /// changes apply; the alert changes and the notifications they owe are recorded; the
    /// report it evaluated, if any, is marked evaluated. All or nothing. Returns how many
    /// notifications were queued, or `None` when the report had been evaluated already, or
    /// a newer one of its installation had (then nothing changes but its being evaluated).
    pub async fn commit_evaluation(
        &self,
        evaluated: &Evaluated<'_>,
        alerts: &[Change<'_>],
    ) -> Result<Option<usize>, StoreError> {
        let Evaluated {
            report_id,
            installation,
            at,
            now,
            outputs,
            trigger,
            said,
        } = *evaluated;
        let installation_id = installation.id.as_str();
        let writes_nothing = report_id.is_none()
            && alerts.is_empty()
            && said.iter().all(|s| s.lines.is_empty())
            && outputs
                .iter()
                .all(|(_, o)| o.findings.is_empty() && o.state.is_empty());
        // The usual tick of a healthy installation: nothing found, nothing was. Reading
        // that costs no turn at the single writer.
        if writes_nothing
            && finding_keys(&self.pool, installation_id, outputs)
                .await?
                .is_empty()
        {
            return Ok(Some(0));
        }
        let mut tx = self.writer.begin().await?;
        // A report is evaluated once: by whoever commits first (another node that took
        // over, or a restart that queued it again, finds it done and changes nothing). One
        // older than a report of its installation already evaluated (by `generated-at`:
        // an agent's late report, or one stored by another node a moment late) is kept,
        // but changes nothing either: what holds was decided on the newer one.
        let mut superseded = false;
        if let Some(report_id) = report_id {
            // Answered from the index of evaluated reports (`reports_evaluated`): only
            // those made since this one are looked at (usually none), not the reports
            // stored and waiting behind it (an import's whole history).
            superseded = sqlx::query(
                "SELECT 1 AS newer FROM reports r JOIN reports n \
                 ON n.installation_id = r.installation_id AND n.generated_at >= r.generated_at \
                 WHERE r.id = $1 AND n.evaluated_at IS NOT NULL \
                 AND (n.generated_at > r.generated_at OR n.id > r.id) LIMIT 1",
            )
            .bind(report_id)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
            let claimed = sqlx::query(
                "UPDATE reports SET evaluated_at = $1 WHERE id = $2 AND evaluated_at IS NULL",
            )
            .bind(now)
            .bind(report_id)
            .execute(&mut *tx)
            .await?;
            if claimed.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(None);
            }
        }
        let place = SaidIn {
            installation: installation_id,
            report_id,
            trigger,
            at: now,
        };
        super::plugin_log::keep(&mut tx, place, said).await?;
        if superseded {
            tx.commit().await?;
            return Ok(None);
        }
        let existing = finding_keys(&mut *tx, installation_id, outputs).await?;
        for (plugin, output) in outputs {
            let keep: BTreeSet<&str> = output.findings.iter().map(|f| f.key.as_str()).collect();
            let gone = existing
                .iter()
                .filter(|(p, key)| p == plugin && !keep.contains(key.as_str()));
            for (_, key) in gone {
                sqlx::query(
                    "DELETE FROM findings WHERE installation_id = $1 AND plugin = $2 AND key = $3",
                )
                .bind(installation_id)
                .bind(*plugin)
                .bind(key)
                .execute(&mut *tx)
                .await?;
            }
            for f in &output.findings {
                sqlx::query(
                    "INSERT INTO findings (installation_id, plugin, key, severity, summary, details, \
                     labels, since, updated_at, translations) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     ON CONFLICT (installation_id, plugin, key) DO UPDATE SET \
                     severity = excluded.severity, summary = excluded.summary, \
                     details = excluded.details, labels = excluded.labels, \
                     updated_at = excluded.updated_at, translations = excluded.translations",
                )
                .bind(installation_id)
                .bind(*plugin)
                .bind(&f.key)
                .bind(f.severity.as_str())
                .bind(&f.summary)
                .bind(&f.details)
                .bind(serde_json::to_string(&f.labels).expect("labels serialize"))
                .bind(at)
                .bind(at)
                .bind(f.translations.to_json())
                .execute(&mut *tx)
                .await?;
            }
            for change in &output.state {
                match &change.value {
                    Some(value) => {
                        sqlx::query(
                            "INSERT INTO plugin_state (installation_id, plugin, key, value) \
                             VALUES ($1, $2, $3, $4) ON CONFLICT (installation_id, plugin, key) \
                             DO UPDATE SET value = excluded.value",
                        )
                        .bind(installation_id)
                        .bind(*plugin)
                        .bind(&change.key)
                        .bind(value)
                        .execute(&mut *tx)
                        .await?;
                    }
                    None => {
                        sqlx::query(
                            "DELETE FROM plugin_state WHERE installation_id = $1 AND plugin = $2 AND key = $3",
                        )
                        .bind(installation_id)
                        .bind(*plugin)
                        .bind(&change.key)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
            }
        }
        let queued = super::alerts::apply(&mut tx, at, now, alerts).await?;
        tx.commit().await?;
        Ok(Some(queued))
    }

    /// Removes a plugin's findings everywhere and applies `alerts` (its alerts retired).
    pub async fn retire_plugin(
        &self,
        plugin: &str,
        now: i64,
        alerts: &[Change<'_>],
    ) -> Result<usize, StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM findings WHERE plugin = $1")
            .bind(plugin)
            .execute(&mut *tx)
            .await?;
        let queued = super::alerts::apply(&mut tx, now, now, alerts).await?;
        tx.commit().await?;
        Ok(queued)
    }

    /// Every finding that holds now for an installation, by plugin and key.
    pub async fn findings(&self, installation_id: &str) -> Result<Vec<StoredFinding>, StoreError> {
        let rows = sqlx::query(
            "SELECT plugin, key, severity, summary, details, labels, since, updated_at, \
             translations FROM findings WHERE installation_id = $1 ORDER BY plugin, key",
        )
        .bind(installation_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let labels: String = row.try_get("labels")?;
                let translations: String = row.try_get("translations")?;
                Ok(StoredFinding {
                    plugin: row.try_get("plugin")?,
                    key: row.try_get("key")?,
                    severity: parse(row, "severity")?,
                    summary: row.try_get("summary")?,
                    details: row.try_get("details")?,
                    labels: serde_json::from_str(&labels)
                        .map_err(|e| StoreError::Corrupt(format!("labels: {e}")))?,
                    translations: Translations::from_json(&translations)
                        .map_err(|e| StoreError::Corrupt(format!("translations: {e}")))?,
                    since: row.try_get("since")?,
                    updated_at: row.try_get("updated_at")?,
                })
            })
            .collect()
    }
}

fn historic(row: &sqlx::any::AnyRow) -> Result<HistoricReport, StoreError> {
    Ok(HistoricReport {
        id: row.try_get("id")?,
        received_at: row.try_get("received_at")?,
        generated_at: row.try_get("generated_at")?,
        agent: row.try_get("agent")?,
        stored: row.try_get("document")?,
    })
}

/// The findings standing for `installation_id` from the plugins in `outputs`, as
/// (plugin, key).
async fn finding_keys<'e, E>(
    executor: E,
    installation_id: &str,
    outputs: &[(&str, &EvalOutput)],
) -> Result<Vec<(String, String)>, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query("SELECT plugin, key FROM findings WHERE installation_id = $1")
        .bind(installation_id)
        .fetch_all(executor)
        .await?;
    let mut keys = Vec::new();
    for row in rows {
        let plugin: String = row.try_get("plugin")?;
        if outputs.iter().any(|(p, _)| *p == plugin) {
            keys.push((plugin, row.try_get("key")?));
        }
    }
    Ok(keys)
}

/// Stores `report` in `tx`: the report, its line in the log and (for an agent's) the
/// board's glance; or finds the same report stored before.
async fn insert(
    tx: &mut Transaction<'_, Any>,
    report: &NewReport<'_>,
) -> Result<Inserted, StoreError> {
    let glance = serde_json::to_string(report.glance)
        .map_err(|e| StoreError::Corrupt(format!("glance: {e}")))?;
    let row = sqlx::query(
        "INSERT INTO reports (installation_id, received_at, generated_at, agent, document, \
             raw, raw_size, digest, import_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (installation_id, generated_at, digest) DO NOTHING RETURNING id",
    )
    .bind(report.installation_id)
    .bind(report.received_at)
    .bind(report.generated_at)
    .bind(report.agent)
    .bind(report.document)
    .bind(report.raw)
    .bind(report.raw_size as i64)
    .bind(report.digest)
    .bind(report.import_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        let first: i64 = sqlx::query_scalar(
            "SELECT id FROM reports WHERE installation_id = $1 AND generated_at = $2 \
                 AND digest = $3",
        )
        .bind(report.installation_id)
        .bind(report.generated_at)
        .bind(report.digest)
        .fetch_one(&mut **tx)
        .await?;
        return Ok(Inserted::Repeat(first));
    };
    let id: i64 = row.try_get("id")?;
    // The log and the glance keep a report at its own time (in columns named for
    // when reports arrived, from before the rule): an agent's backlog fills the
    // history where it belongs, and an old report does not hide a newer one.
    let at = judged_at(report.generated_at, report.received_at);
    sqlx::query(
        "INSERT INTO report_log (installation_id, received_at, agent, glance) \
             VALUES ($1, $2, $3, $4)",
    )
    .bind(report.installation_id)
    .bind(at)
    .bind(report.agent)
    .bind(&glance)
    .execute(&mut **tx)
    .await?;
    // What the board shows is what the installation says; a probe's line is in the
    // log (availability reads it), not here.
    if report.agent != PROBE_AGENT {
        sqlx::query(
            "INSERT INTO glances (installation_id, report_id, received_at, glance) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (installation_id) DO UPDATE SET \
                 report_id = excluded.report_id, received_at = excluded.received_at, \
                 glance = excluded.glance WHERE glances.received_at <= excluded.received_at",
        )
        .bind(report.installation_id)
        .bind(id)
        .bind(at)
        .bind(glance)
        .execute(&mut **tx)
        .await?;
    }
    Ok(Inserted::New(id))
}

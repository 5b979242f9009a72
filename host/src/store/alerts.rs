//! Alerts and their timelines. Changes decided by `alerts::lifecycle` are applied here inside
//! the caller's transaction, together with the outbox entries they owe.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{Store, StoreError, parse};
use crate::alerts::{AlertState, Change, Notice, NoticeKind, OpenAlert};
use crate::plugins::Severity;

/// An alert as the API and the notifications show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub id: i64,
    pub installation_id: String,
    pub client: String,
    pub manager: String,
    pub plugin: String,
    pub key: String,
    pub severity: Severity,
    pub summary: String,
    pub details: String,
    pub state: AlertState,
    pub chat_id: i64,
    pub first_seen_at: i64,
    pub fired_at: Option<i64>,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<String>,
    pub snoozed_until: Option<i64>,
    pub resolved_at: Option<i64>,
    pub resolution: Option<String>,
    pub message_id: Option<i64>,
    pub updated_at: i64,
}

/// One entry of an alert's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertEvent {
    pub at: i64,
    pub kind: String,
    pub actor: Option<String>,
    pub detail: String,
}

/// Which alerts to list; every field narrows.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// `None`: every state. Open means anything not resolved.
    pub states: Option<Vec<AlertState>>,
    pub installation: Option<String>,
    pub client: Option<String>,
    pub manager: Option<String>,
    pub severity: Option<Severity>,
    pub plugin: Option<String>,
    pub chat_id: Option<i64>,
    pub limit: i64,
}

/// What became of a request to act on an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acted {
    Done(Alert),
    /// The alert is not in a state the action applies to; as it is now.
    Unchanged(Alert),
    NotFound,
}

const COLUMNS: &str = "id, installation_id, client, manager, plugin, key, severity, summary, \
    details, state, chat_id, first_seen_at, seen_count, fired_at, cleared_at, cleared_count, \
    acknowledged_at, acknowledged_by, snoozed_until, resolved_at, resolution, message_id, updated_at";

fn alert_from(row: &AnyRow) -> Result<Alert, StoreError> {
    Ok(Alert {
        id: row.try_get("id")?,
        installation_id: row.try_get("installation_id")?,
        client: row.try_get("client")?,
        manager: row.try_get("manager")?,
        plugin: row.try_get("plugin")?,
        key: row.try_get("key")?,
        severity: parse(row, "severity")?,
        summary: row.try_get("summary")?,
        details: row.try_get("details")?,
        state: parse(row, "state")?,
        chat_id: row.try_get("chat_id")?,
        first_seen_at: row.try_get("first_seen_at")?,
        fired_at: row.try_get("fired_at")?,
        acknowledged_at: row.try_get("acknowledged_at")?,
        acknowledged_by: row.try_get("acknowledged_by")?,
        snoozed_until: row.try_get("snoozed_until")?,
        resolved_at: row.try_get("resolved_at")?,
        resolution: row.try_get("resolution")?,
        message_id: row.try_get("message_id")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn open_from(row: &AnyRow) -> Result<OpenAlert, StoreError> {
    Ok(OpenAlert {
        id: row.try_get("id")?,
        plugin: row.try_get("plugin")?,
        key: row.try_get("key")?,
        state: parse(row, "state")?,
        severity: parse(row, "severity")?,
        summary: row.try_get("summary")?,
        details: row.try_get("details")?,
        chat_id: row.try_get("chat_id")?,
        first_seen_at: row.try_get("first_seen_at")?,
        seen_count: row.try_get("seen_count")?,
        cleared_at: row.try_get("cleared_at")?,
        cleared_count: row.try_get("cleared_count")?,
    })
}

impl Store {
    /// The installation's alerts that are not resolved.
    pub async fn open_alerts(&self, installation_id: &str) -> Result<Vec<OpenAlert>, StoreError> {
        self.open_alerts_where("installation_id", installation_id)
            .await
    }

    /// Every open alert raised by `plugin`.
    pub async fn open_alerts_of_plugin(&self, plugin: &str) -> Result<Vec<OpenAlert>, StoreError> {
        self.open_alerts_where("plugin", plugin).await
    }

    async fn open_alerts_where(
        &self,
        column: &'static str,
        value: &str,
    ) -> Result<Vec<OpenAlert>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM alerts WHERE {column} = $1 AND state <> 'resolved' ORDER BY id"
        );
        let rows = sqlx::query(&sql).bind(value).fetch_all(&self.pool).await?;
        rows.iter().map(open_from).collect()
    }

    pub async fn alert(&self, id: i64) -> Result<Option<Alert>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM alerts WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(alert_from).transpose()
    }

    /// Alerts matching `filter`, newest first.
    pub async fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>, StoreError> {
        let mut conditions = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        if let Some(states) = &filter.states {
            let placeholders: Vec<String> = states
                .iter()
                .map(|s| {
                    texts.push(s.as_str().into());
                    format!("${}", texts.len())
                })
                .collect();
            conditions.push(format!("state IN ({})", placeholders.join(", ")));
        }
        for (column, value) in [
            ("installation_id", &filter.installation),
            ("client", &filter.client),
            ("manager", &filter.manager),
            ("plugin", &filter.plugin),
            ("severity", &filter.severity.map(|s| s.as_str().to_string())),
        ] {
            if let Some(value) = value {
                texts.push(value.clone());
                conditions.push(format!("{column} = ${}", texts.len()));
            }
        }
        if let Some(chat) = filter.chat_id {
            conditions.push(format!("chat_id = {chat}"));
        }
        let filter_sql = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM alerts {filter_sql} ORDER BY id DESC LIMIT {}",
            filter.limit.max(1)
        );
        let mut query = sqlx::query(&sql);
        for text in &texts {
            query = query.bind(text);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(alert_from).collect()
    }

    pub async fn alert_timeline(&self, id: i64) -> Result<Vec<AlertEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, kind, actor, detail FROM alert_events WHERE alert_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AlertEvent {
                    at: row.try_get("at")?,
                    kind: row.try_get("kind")?,
                    actor: row.try_get("actor")?,
                    detail: row.try_get("detail")?,
                })
            })
            .collect()
    }

    /// Adds an entry to an alert's timeline on its own (an action that changed nothing).
    pub async fn record_alert_event(
        &self,
        id: i64,
        now: i64,
        kind: &str,
        actor: Option<&str>,
        detail: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        event(&mut tx, id, now, kind, actor, detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `firing` or `snoozed` → `acknowledged` by `actor`, owing `kinds` to the alert's chat.
    pub async fn acknowledge_alert(
        &self,
        id: i64,
        actor: &str,
        now: i64,
        kinds: &[NoticeKind],
    ) -> Result<Acted, StoreError> {
        self.act(
            id,
            "UPDATE alerts SET state = 'acknowledged', acknowledged_at = $1, acknowledged_by = $2, \
             snoozed_until = NULL, updated_at = $1 \
             WHERE id = $3 AND state IN ('firing', 'snoozed') RETURNING chat_id",
            now,
            actor,
            None,
            ("acknowledged", String::new()),
            kinds,
        )
        .await
    }

    /// Any notified open state → `snoozed` until `until` by `actor`.
    pub async fn snooze_alert(
        &self,
        id: i64,
        actor: &str,
        now: i64,
        until: i64,
        detail: String,
        kinds: &[NoticeKind],
    ) -> Result<Acted, StoreError> {
        self.act(
            id,
            "UPDATE alerts SET state = 'snoozed', acknowledged_by = $2, snoozed_until = $4, \
             updated_at = $1 WHERE id = $3 AND state IN ('firing', 'acknowledged', 'snoozed') \
             RETURNING chat_id",
            now,
            actor,
            Some(until),
            ("snoozed", detail),
            kinds,
        )
        .await
    }

    /// Runs one conditional state change (`update` binds now, actor, id and optionally a
    /// time) with its timeline entry and notices, in one transaction.
    #[allow(clippy::too_many_arguments)]
    async fn act(
        &self,
        id: i64,
        update: &str,
        now: i64,
        actor: &str,
        time: Option<i64>,
        (kind, detail): (&str, String),
        kinds: &[NoticeKind],
    ) -> Result<Acted, StoreError> {
        let mut tx = self.writer.begin().await?;
        let mut query = sqlx::query(update).bind(now).bind(actor).bind(id);
        if let Some(time) = time {
            query = query.bind(time);
        }
        let changed = query.fetch_optional(&mut *tx).await?;
        if let Some(row) = changed {
            let chat_id: i64 = row.try_get("chat_id")?;
            event(&mut tx, id, now, kind, Some(actor), &detail).await?;
            for &kind in kinds {
                enqueue(&mut tx, id, Notice { kind, chat_id }, now).await?;
            }
            tx.commit().await?;
            let alert = self.alert(id).await?.ok_or(StoreError::Corrupt(format!(
                "alert {id} vanished while acted on"
            )))?;
            return Ok(Acted::Done(alert));
        }
        tx.rollback().await?;
        Ok(match self.alert(id).await? {
            Some(alert) => Acted::Unchanged(alert),
            None => Acted::NotFound,
        })
    }

    /// Snoozed alerts whose snooze has ended fire again, owing `kinds`. Returns how many.
    pub async fn wake_snoozed(&self, now: i64, kinds: &[NoticeKind]) -> Result<usize, StoreError> {
        let due = sqlx::query(
            "SELECT id FROM alerts WHERE state = 'snoozed' AND snoozed_until <= $1 ORDER BY id",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let mut woken = 0;
        for row in due {
            let id: i64 = row.try_get("id")?;
            let mut tx = self.writer.begin().await?;
            let changed = sqlx::query(
                "UPDATE alerts SET state = 'firing', snoozed_until = NULL, updated_at = $1 \
                 WHERE id = $2 AND state = 'snoozed' RETURNING chat_id",
            )
            .bind(now)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = changed {
                let chat_id: i64 = row.try_get("chat_id")?;
                event(&mut tx, id, now, "snooze-ended", None, "still holds").await?;
                for &kind in kinds {
                    enqueue(&mut tx, id, Notice { kind, chat_id }, now).await?;
                }
                woken += 1;
            }
            tx.commit().await?;
        }
        Ok(woken)
    }
}

/// Applies lifecycle `changes` inside `tx`, with their timeline entries and outbox entries.
/// Returns how many notices were queued.
pub(super) async fn apply(
    tx: &mut Transaction<'_, Any>,
    now: i64,
    changes: &[Change<'_>],
) -> Result<usize, StoreError> {
    let mut queued = 0;
    for change in changes {
        let id = match change {
            Change::Open {
                installation,
                plugin,
                finding,
                firing,
                ..
            } => {
                let state = if *firing {
                    AlertState::Firing
                } else {
                    AlertState::Pending
                };
                let row = sqlx::query(
                    "INSERT INTO alerts (installation_id, client, manager, plugin, key, severity, \
                     summary, details, state, chat_id, first_seen_at, seen_count, fired_at, \
                     cleared_count, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, 0, $11) \
                     RETURNING id",
                )
                .bind(&installation.id)
                .bind(&installation.client)
                .bind(&installation.manager)
                .bind(*plugin)
                .bind(&finding.key)
                .bind(finding.severity.as_str())
                .bind(&finding.summary)
                .bind(&finding.details)
                .bind(state.as_str())
                .bind(installation.telegram_chat_id)
                .bind(now)
                .bind(firing.then_some(now))
                .fetch_one(&mut **tx)
                .await?;
                let id: i64 = row.try_get("id")?;
                let detail = format!("{}: {}", finding.severity, finding.summary);
                let kind = if *firing { "fired" } else { "pending" };
                event(tx, id, now, kind, None, &detail).await?;
                id
            }
            Change::Seen {
                id,
                finding,
                fires,
                note,
                ..
            } => {
                sqlx::query(
                    "UPDATE alerts SET severity = $1, summary = $2, details = $3, \
                     seen_count = seen_count + 1, cleared_at = NULL, cleared_count = 0, \
                     updated_at = $4 WHERE id = $5",
                )
                .bind(finding.severity.as_str())
                .bind(&finding.summary)
                .bind(&finding.details)
                .bind(now)
                .bind(*id)
                .execute(&mut **tx)
                .await?;
                if *fires {
                    sqlx::query(
                        "UPDATE alerts SET state = 'firing', fired_at = $1 \
                         WHERE id = $2 AND state = 'pending'",
                    )
                    .bind(now)
                    .bind(*id)
                    .execute(&mut **tx)
                    .await?;
                    let detail = format!("{}: {}", finding.severity, finding.summary);
                    event(tx, *id, now, "fired", None, &detail).await?;
                }
                if let Some(note) = note {
                    event(tx, *id, now, "changed", None, note).await?;
                }
                *id
            }
            Change::Fading { id } => {
                sqlx::query(
                    "UPDATE alerts SET cleared_at = COALESCE(cleared_at, $1), \
                     cleared_count = cleared_count + 1 WHERE id = $2",
                )
                .bind(now)
                .bind(*id)
                .execute(&mut **tx)
                .await?;
                *id
            }
            Change::Resolve { id, reason, .. } => {
                sqlx::query(
                    "UPDATE alerts SET state = 'resolved', resolved_at = $1, resolution = $2, \
                     snoozed_until = NULL, updated_at = $1 WHERE id = $3 AND state <> 'resolved'",
                )
                .bind(now)
                .bind(*reason)
                .bind(*id)
                .execute(&mut **tx)
                .await?;
                event(tx, *id, now, "resolved", None, reason).await?;
                *id
            }
            Change::Discard { id } => {
                sqlx::query("DELETE FROM alerts WHERE id = $1 AND state = 'pending'")
                    .bind(*id)
                    .execute(&mut **tx)
                    .await?;
                continue;
            }
        };
        for notice in change.notices() {
            enqueue(tx, id, *notice, now).await?;
            queued += 1;
        }
    }
    Ok(queued)
}

pub(super) async fn event(
    tx: &mut Transaction<'_, Any>,
    alert_id: i64,
    at: i64,
    kind: &str,
    actor: Option<&str>,
    detail: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO alert_events (alert_id, at, kind, actor, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(alert_id)
    .bind(at)
    .bind(kind)
    .bind(actor)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn enqueue(
    tx: &mut Transaction<'_, Any>,
    alert_id: i64,
    notice: Notice,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (alert_id, kind, chat_id, created_at, attempts, retry_at) \
         VALUES ($1, $2, $3, $4, 0, 0)",
    )
    .bind(alert_id)
    .bind(notice.kind.as_str())
    .bind(notice.chat_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

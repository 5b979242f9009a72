//! The outbox: notifications owed, written in the same transaction as the alert change that
//! owes them, and marked done by the dispatcher once delivered (or given up on).

use sqlx::Row;

use super::alerts::event;
use super::incidents::incident_event;
use super::{Store, StoreError, parse};
use crate::alerts::directory::Destination;
use crate::alerts::{Detail, Event, EventKind, NoticeKind};
use crate::plugins::Severity;

/// One notification to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: i64,
    /// The alert it is about; none for a digest or an incident's notice.
    pub alert_id: Option<i64>,
    pub incident_id: Option<i64>,
    pub kind: NoticeKind,
    pub to: Destination,
    pub silent: bool,
    /// A digest's alerts, as JSON.
    pub payload: Option<String>,
    /// Attempts so far.
    pub attempts: i64,
    /// When an earlier attempt marked it `sending` and never finished (a crash, or a node
    /// cut off): the Bot API call may have gone through.
    pub interrupted: Option<i64>,
    /// Its alert's or incident's severity; none for a digest.
    pub severity: Option<Severity>,
}

/// An entry waiting to be delivered, with what decides when it may go
/// (`notify::order`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub entry: OutboxEntry,
    /// Not before (wall clock, ms).
    pub retry_at: i64,
    /// The node whose `sending` mark it carries, if any.
    pub sending_by: Option<String>,
    /// For an alert that is not its story's first, the story's first alert.
    pub story: Option<i64>,
}

impl Store {
    /// Every entry waiting to be delivered and not held for a digest, in the order it was
    /// queued: `notify::order` picks which may go now.
    pub async fn outbox_waiting(&self) -> Result<Vec<Waiting>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.id, o.alert_id, o.incident_id, o.kind, o.chat_id, o.thread_id, o.silent, \
             o.payload, o.attempts, o.sending_at, o.sending_by, o.retry_at, \
             COALESCE(a.severity, i.severity) AS severity, \
             CASE WHEN a.story_id <> a.id THEN a.story_id END AS story \
             FROM outbox o LEFT JOIN alerts a ON a.id = o.alert_id \
             LEFT JOIN incidents i ON i.id = o.incident_id \
             WHERE o.done_at IS NULL AND o.held_until IS NULL ORDER BY o.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let silent: i64 = row.try_get("silent")?;
                let entry = OutboxEntry {
                    id: row.try_get("id")?,
                    alert_id: row.try_get("alert_id")?,
                    incident_id: row.try_get("incident_id")?,
                    kind: parse(row, "kind")?,
                    to: Destination {
                        chat_id: row.try_get("chat_id")?,
                        thread_id: row.try_get("thread_id")?,
                    },
                    silent: silent != 0,
                    payload: row.try_get("payload")?,
                    attempts: row.try_get("attempts")?,
                    interrupted: row.try_get("sending_at")?,
                    severity: row
                        .try_get::<Option<String>, _>("severity")?
                        .map(|s| s.parse().map_err(StoreError::Corrupt))
                        .transpose()?,
                };
                Ok(Waiting {
                    entry,
                    retry_at: row.try_get("retry_at")?,
                    sending_by: row.try_get("sending_by")?,
                    story: row.try_get("story")?,
                })
            })
            .collect()
    }

    /// The earliest retry time among undelivered entries nobody is sending (wall clock,
    /// ms), if any wait.
    pub async fn outbox_next_retry(&self) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(retry_at) AS at FROM outbox WHERE done_at IS NULL AND held_until IS NULL \
             AND sending_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("at")?)
    }

    /// How many entries wait to be delivered (held ones wait for their digest by
    /// design, and are not counted) and when the oldest of them was queued.
    pub async fn outbox_backlog(&self) -> Result<(i64, Option<i64>), StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox \
             WHERE done_at IS NULL AND held_until IS NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get("n")?, row.try_get("oldest")?))
    }

    /// Marks `entry` as being sent by `node` since `wall_now`, if it is still as it was
    /// read (not done, and nobody marked it since): only then may the Bot API call be made.
    /// An entry whose earlier attempt was interrupted records `resent` (what sending again
    /// risks) in its timeline in the same transaction.
    pub async fn outbox_claim(
        &self,
        entry: &OutboxEntry,
        node: &str,
        wall_now: i64,
        resent: Option<(i64, Detail)>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await?;
        let claimed = sqlx::query(
            "UPDATE outbox SET sending_at = $1, sending_by = $2 WHERE id = $3 \
             AND done_at IS NULL AND COALESCE(sending_at, -1) = $4",
        )
        .bind(wall_now)
        .bind(node)
        .bind(entry.id)
        .bind(entry.interrupted.unwrap_or(-1))
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Some((now, detail)) = resent {
            let happened = Event::new(EventKind::DeliveryInterrupted, detail);
            timeline(&mut tx, entry, now, &happened).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Takes `node`'s mark off `entry`, unsent.
    pub async fn outbox_release(&self, entry: &OutboxEntry, node: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET sending_at = NULL, sending_by = NULL WHERE id = $1 \
             AND sending_by = $2 AND done_at IS NULL",
        )
        .bind(entry.id)
        .bind(node)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Marks `entry` delivered, records where in the alert's timeline, and for a post
    /// remembers the living message. False if it was already done (nothing changes).
    pub async fn outbox_delivered(
        &self,
        entry: &OutboxEntry,
        now: i64,
        message_id: Option<i64>,
        detail: &Detail,
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(
            "UPDATE outbox SET done_at = $1, outcome = 'delivered', attempts = attempts + 1 \
             WHERE id = $2 AND done_at IS NULL",
        )
        .bind(now)
        .bind(entry.id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        if let (NoticeKind::Post, Some(message_id), Some(alert_id)) =
            (entry.kind, message_id, entry.alert_id)
        {
            sqlx::query(
                "UPDATE alert_destinations SET message_id = $1 WHERE alert_id = $2 \
                 AND chat_id = $3 AND thread_id = $4",
            )
            .bind(message_id)
            .bind(alert_id)
            .bind(entry.to.chat_id)
            .bind(entry.to.thread_id)
            .execute(&mut *tx)
            .await?;
        }
        if let (NoticeKind::Post, Some(message_id), Some(incident_id)) =
            (entry.kind, message_id, entry.incident_id)
        {
            sqlx::query(
                "UPDATE incident_destinations SET message_id = $1 WHERE incident_id = $2 \
                 AND chat_id = $3 AND thread_id = $4",
            )
            .bind(message_id)
            .bind(incident_id)
            .bind(entry.to.chat_id)
            .bind(entry.to.thread_id)
            .execute(&mut *tx)
            .await?;
        }
        timeline(
            &mut tx,
            entry,
            now,
            &Event::new(EventKind::Notified, detail.clone()),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The newest undelivered edit of `entry`'s incident card in its chat: one edit shows
    /// everything queued up to it.
    pub async fn latest_refresh(&self, entry: &OutboxEntry) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT MAX(id) AS id FROM outbox WHERE incident_id = $1 AND chat_id = $2 \
             AND thread_id = $3 AND kind = 'refresh' AND done_at IS NULL",
        )
        .bind(entry.incident_id)
        .bind(entry.to.chat_id)
        .bind(entry.to.thread_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<Option<i64>, _>("id")?.unwrap_or(entry.id))
    }

    /// The edits of `entry`'s incident card queued up to `upto` are shown by the one just
    /// made: done, as coalesced.
    pub async fn outbox_coalesced(
        &self,
        entry: &OutboxEntry,
        upto: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET done_at = $1, outcome = 'coalesced' WHERE incident_id = $2 \
             AND chat_id = $3 AND thread_id = $4 AND kind = 'refresh' AND done_at IS NULL \
             AND id <= $5",
        )
        .bind(now)
        .bind(entry.incident_id)
        .bind(entry.to.chat_id)
        .bind(entry.to.thread_id)
        .bind(upto)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// `entry` failed for now; try again at `retry_at` (wall clock, ms). The first delay
    /// goes into the alert's timeline; later ones only into the entry.
    pub async fn outbox_retry(
        &self,
        entry: &OutboxEntry,
        now: i64,
        error: &str,
        retry_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $1, retry_at = $2, \
             sending_at = NULL, sending_by = NULL WHERE id = $3 AND done_at IS NULL",
        )
        .bind(error)
        .bind(retry_at)
        .bind(entry.id)
        .execute(&mut *tx)
        .await?;
        if entry.attempts == 0 {
            let detail = Detail::Delayed {
                notice: entry.kind,
                error: error.to_string(),
            };
            timeline(
                &mut tx,
                entry,
                now,
                &Event::new(EventKind::DeliveryDelayed, detail),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// `entry` waits until `until` (wall clock, ms) for its chat's pace: not an attempt.
    pub async fn outbox_defer(&self, entry: &OutboxEntry, until: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET retry_at = $1 WHERE id = $2 AND done_at IS NULL")
            .bind(until)
            .bind(entry.id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Holds every undelivered entry until `until` (wall clock, ms): Telegram's flood control
    /// applies to the bot, and written down it outlives a restart.
    pub async fn outbox_hold_all(&self, until: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET retry_at = $1 WHERE done_at IS NULL AND held_until IS NULL \
             AND retry_at < $1",
        )
        .bind(until)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// `entry` can never be delivered (the chat does not exist, the bot was removed, ...):
    /// done, as failed, and said in the alert's timeline.
    pub async fn outbox_failed(
        &self,
        entry: &OutboxEntry,
        now: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "UPDATE outbox SET done_at = $1, outcome = 'failed', attempts = attempts + 1, \
             last_error = $2 WHERE id = $3 AND done_at IS NULL",
        )
        .bind(now)
        .bind(error)
        .bind(entry.id)
        .execute(&mut *tx)
        .await?;
        let detail = Detail::Failed {
            notice: entry.kind,
            error: error.to_string(),
        };
        timeline(
            &mut tx,
            entry,
            now,
            &Event::new(EventKind::DeliveryFailed, detail),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Records `happened` in the timeline of what `entry` is about (a digest has none).
async fn timeline(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    entry: &OutboxEntry,
    now: i64,
    happened: &Event,
) -> Result<(), StoreError> {
    if let Some(alert_id) = entry.alert_id {
        event(tx, alert_id, now, happened).await?;
    }
    if let Some(incident_id) = entry.incident_id {
        incident_event(tx, incident_id, now, happened).await?;
    }
    Ok(())
}

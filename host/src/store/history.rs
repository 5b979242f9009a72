//! What a client report reads about a past period: the report log, the alerts that fired
//! and their timelines, the incidents that opened, and which reports went to which chat.

use std::collections::HashMap;

use sqlx::Row;

use super::alerts::{COLUMNS, alert_from, id_list};
use super::{Store, StoreError, parse};
use crate::alerts::{Alert, AlertEvent, Detail};
use crate::report::Glance;

/// One line of an installation's report log: a report as a client report remembers it,
/// long after the report itself is gone.
#[derive(Debug, Clone)]
pub struct LogLine {
    pub at: i64,
    pub agent: String,
    pub glance: Glance,
}

impl Store {
    /// The report log of `installations` within `[from, to)`, each with its last line
    /// before `from` (what was known when the period began), oldest first.
    pub async fn report_log(
        &self,
        installations: &[String],
        from: i64,
        to: i64,
    ) -> Result<HashMap<String, Vec<LogLine>>, StoreError> {
        let mut out: HashMap<String, Vec<LogLine>> = HashMap::new();
        for id in installations {
            let rows = sqlx::query(
                "SELECT received_at, agent, glance FROM report_log WHERE installation_id = $1 \
                 AND received_at < $3 AND received_at >= COALESCE((SELECT MAX(received_at) \
                 FROM report_log WHERE installation_id = $1 AND received_at < $2), $2) \
                 ORDER BY received_at",
            )
            .bind(id)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?;
            let lines = rows
                .iter()
                .map(|row| {
                    let glance: String = row.try_get("glance")?;
                    Ok(LogLine {
                        at: row.try_get("received_at")?,
                        agent: row.try_get("agent")?,
                        glance: serde_json::from_str(&glance)
                            .map_err(|e| StoreError::Corrupt(format!("report log glance: {e}")))?,
                    })
                })
                .collect::<Result<_, StoreError>>()?;
            out.insert(id.clone(), lines);
        }
        Ok(out)
    }

    /// The alerts of `client` that fired within `[from, to)`, oldest first.
    pub async fn alerts_fired(
        &self,
        client: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<Alert>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM alerts WHERE client = $1 AND fired_at >= $2 \
             AND fired_at < $3 ORDER BY fired_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(client)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(alert_from).collect()
    }

    /// The timelines of the alerts `ids`, by alert.
    pub async fn timelines(
        &self,
        ids: &[i64],
    ) -> Result<HashMap<i64, Vec<AlertEvent>>, StoreError> {
        let mut out: HashMap<i64, Vec<AlertEvent>> = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let sql = format!(
            "SELECT alert_id, at, kind, actor, detail FROM alert_events \
             WHERE alert_id IN ({}) ORDER BY id",
            id_list(ids.iter().copied())
        );
        for row in sqlx::query(&sql).fetch_all(&self.pool).await? {
            out.entry(row.try_get("alert_id")?)
                .or_default()
                .push(AlertEvent {
                    at: row.try_get("at")?,
                    kind: parse(&row, "kind")?,
                    actor: row.try_get("actor")?,
                    detail: Detail::read(&row.try_get::<String, _>("detail")?),
                });
        }
        Ok(out)
    }

    /// Claims the delivery of `client`'s report for `period` to `chat_id`: true once, for
    /// the one caller that is to send it.
    pub async fn claim_delivery(
        &self,
        client: &str,
        period: &str,
        chat_id: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO report_deliveries (client, period, chat_id, claimed_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(client)
        .bind(period)
        .bind(chat_id)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Gives a claim back, to be tried again.
    pub async fn release_delivery(
        &self,
        client: &str,
        period: &str,
        chat_id: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM report_deliveries WHERE client = $1 AND period = $2 AND chat_id = $3",
        )
        .bind(client)
        .bind(period)
        .bind(chat_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Records how a claimed delivery ended.
    pub async fn delivery_done(
        &self,
        client: &str,
        period: &str,
        chat_id: i64,
        now: i64,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE report_deliveries SET sent_at = $1, error = $2 \
             WHERE client = $3 AND period = $4 AND chat_id = $5",
        )
        .bind(error.is_none().then_some(now))
        .bind(error)
        .bind(client)
        .bind(period)
        .bind(chat_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}

//! Alerts, their destinations and timelines. Changes decided by `alerts` (lifecycle and
//! transitions) are applied here inside one transaction, together with the outbox entries
//! they owe; this module never decides which change to make.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{Store, StoreError, parse};
use crate::alerts::backlog::{Conclusion, Listing};
use crate::alerts::detail::Whom;
use crate::alerts::directory::{Audience, Destination, Role};
use crate::alerts::lifecycle::{Firing, Recent, Story};
use crate::alerts::routing::{Known, NewDestination};
use crate::alerts::transitions::{Decision, Digest};

use crate::alerts::{
    Alert, AlertDestination, AlertEvent, AlertState, Change, Detail, Event, EventKind, Notice, On,
    OpenAlert, Resolution,
};
use crate::fleet::Installation;
use crate::plugins::contract::Translations;
use crate::plugins::{Finding, Severity};

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
    /// Alerts with a living message (or a held one) in this chat.
    pub chat_id: Option<i64>,
    /// The alerts of one installation's story (by its first alert's id).
    pub story: Option<i64>,
    /// Only alerts older than this one (the next page of a list, newest first).
    pub before: Option<i64>,
    pub limit: i64,
}

pub(super) const COLUMNS: &str = "id, installation_id, client, manager, plugin, key, severity, audience, \
    summary, details, state, chat_id, first_seen_at, seen_count, fired_at, cleared_at, \
    cleared_count, acknowledged_at, acknowledged_by, ack_expires_at, snoozed_until, \
    escalation_step, escalate_at, escalated_to, escalated_at, announce_at, story_id, \
    cause, incident_id, flapping, late, resolved_at, resolution, updated_at, version, translations";

pub(super) fn alert_from(row: &AnyRow) -> Result<Alert, StoreError> {
    Ok(Alert {
        id: row.try_get("id")?,
        installation_id: row.try_get("installation_id")?,
        client: row.try_get("client")?,
        manager: row.try_get("manager")?,
        plugin: row.try_get("plugin")?,
        key: row.try_get("key")?,
        severity: parse(row, "severity")?,
        audience: parse(row, "audience")?,
        summary: row.try_get("summary")?,
        details: row.try_get("details")?,
        translations: translations_from(row)?,
        state: parse(row, "state")?,
        chat_id: row.try_get("chat_id")?,
        first_seen_at: row.try_get("first_seen_at")?,
        fired_at: row.try_get("fired_at")?,
        acknowledged_at: row.try_get("acknowledged_at")?,
        acknowledged_by: row.try_get("acknowledged_by")?,
        ack_expires_at: row.try_get("ack_expires_at")?,
        snoozed_until: row.try_get("snoozed_until")?,
        escalation_step: row.try_get("escalation_step")?,
        escalate_at: row.try_get("escalate_at")?,
        escalated_to: row.try_get("escalated_to")?,
        escalated_at: row.try_get("escalated_at")?,
        announce_at: row.try_get("announce_at")?,
        story_id: row
            .try_get::<Option<i64>, _>("story_id")?
            .unwrap_or(row.try_get("id")?),
        cause: row.try_get("cause")?,
        incident_id: row.try_get("incident_id")?,
        flapping: row.try_get::<i64, _>("flapping")? != 0,
        late: row.try_get::<i64, _>("late")? != 0,
        resolved_at: row.try_get("resolved_at")?,
        resolution: row.try_get("resolution")?,
        updated_at: row.try_get("updated_at")?,
        version: row.try_get("version")?,
        destinations: Vec::new(),
    })
}

/// The `translations` column of a row.
pub(super) fn translations_from(row: &AnyRow) -> Result<Translations, StoreError> {
    let json: String = row.try_get("translations")?;
    Translations::from_json(&json).map_err(|e| StoreError::Corrupt(format!("translations: {e}")))
}

fn destination_from(row: &AnyRow) -> Result<AlertDestination, StoreError> {
    Ok(AlertDestination {
        chat_id: row.try_get("chat_id")?,
        thread_id: row.try_get("thread_id")?,
        role: parse(row, "role")?,
        contact: row.try_get("contact")?,
        message_id: row.try_get("message_id")?,
        held_until: row.try_get("held_until")?,
        added_at: row.try_get("added_at")?,
    })
}

fn open_from(row: &AnyRow) -> Result<OpenAlert, StoreError> {
    let zone: Option<String> = row.try_get("zone")?;
    Ok(OpenAlert {
        id: row.try_get("id")?,
        installation_id: row.try_get("installation_id")?,
        parent: row.try_get("parent")?,
        plugin: row.try_get("plugin")?,
        key: row.try_get("key")?,
        client: row.try_get("client")?,
        chat_id: row.try_get("chat_id")?,
        zone: zone
            .and_then(|z| jiff::tz::TimeZone::get(&z).ok())
            .unwrap_or(jiff::tz::TimeZone::UTC),
        state: parse(row, "state")?,
        severity: parse(row, "severity")?,
        audience: parse(row, "audience")?,
        summary: row.try_get("summary")?,
        details: row.try_get("details")?,
        first_seen_at: row.try_get("first_seen_at")?,
        seen_count: row.try_get("seen_count")?,
        flapping: row.try_get::<i64, _>("flapping")? != 0,
        cleared_at: row.try_get("cleared_at")?,
        cleared_count: row.try_get("cleared_count")?,
        escalate_at: row.try_get("escalate_at")?,
        cause: row.try_get("cause")?,
        destinations: Vec::new(),
    })
}

/// `ids` as a literal list for `IN (...)` (numbers only, never text).
pub(super) fn id_list(ids: impl Iterator<Item = i64>) -> String {
    ids.map(|id| id.to_string()).collect::<Vec<_>>().join(", ")
}

impl Store {
    /// Whether any alert was ever opened here (a new service's checklist asks).
    pub async fn ever_alerted(&self) -> Result<bool, StoreError> {
        Ok(sqlx::query("SELECT 1 AS one FROM alerts LIMIT 1")
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    /// The installation's alerts that are not resolved.
    pub async fn open_alerts(&self, installation_id: &str) -> Result<Vec<OpenAlert>, StoreError> {
        self.open_alerts_where("installation_id", installation_id)
            .await
    }

    /// What `installation_id`'s alerts did since `since`: how many each plugin opened, and
    /// how often each key resolved.
    pub async fn recent_alerts(
        &self,
        installation_id: &str,
        since: i64,
    ) -> Result<Recent, StoreError> {
        let rows = sqlx::query(
            "SELECT plugin, key, first_seen_at, resolved_at FROM alerts \
             WHERE installation_id = $1 AND (first_seen_at >= $2 OR resolved_at >= $2)",
        )
        .bind(installation_id)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        let mut recent = Recent::default();
        for row in rows {
            let plugin: String = row.try_get("plugin")?;
            let opened: i64 = row.try_get("first_seen_at")?;
            let resolved: Option<i64> = row.try_get("resolved_at")?;
            if opened >= since {
                *recent.opened.entry(plugin.clone()).or_default() += 1;
            }
            if resolved.is_some_and(|at| at >= since) {
                let key: String = row.try_get("key")?;
                *recent.resolved.entry((plugin, key)).or_default() += 1;
            }
        }
        Ok(recent)
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
            "SELECT a.*, i.timezone AS zone, i.parent AS parent FROM alerts a \
             LEFT JOIN installations i ON i.id = a.installation_id \
             WHERE a.{column} = $1 AND a.state <> 'resolved' ORDER BY a.id"
        );
        let rows = sqlx::query(&sql).bind(value).fetch_all(&self.pool).await?;
        let mut open: Vec<OpenAlert> = rows.iter().map(open_from).collect::<Result<_, _>>()?;
        let mut destinations = self.destinations(open.iter().map(|a| a.id)).await?;
        for alert in &mut open {
            alert.destinations = destinations
                .remove(&alert.id)
                .unwrap_or_default()
                .iter()
                .map(AlertDestination::known)
                .collect::<Vec<Known>>();
        }
        Ok(open)
    }

    /// The destinations of the alerts `ids`, by alert.
    async fn destinations(
        &self,
        ids: impl Iterator<Item = i64>,
    ) -> Result<HashMap<i64, Vec<AlertDestination>>, StoreError> {
        let list = id_list(ids);
        let mut out: HashMap<i64, Vec<AlertDestination>> = HashMap::new();
        if list.is_empty() {
            return Ok(out);
        }
        let sql = format!(
            "SELECT alert_id, chat_id, thread_id, role, contact, message_id, held_until, added_at \
             FROM alert_destinations WHERE alert_id IN ({list}) ORDER BY added_at, chat_id"
        );
        for row in sqlx::query(&sql).fetch_all(&self.pool).await? {
            out.entry(row.try_get("alert_id")?)
                .or_default()
                .push(destination_from(&row)?);
        }
        Ok(out)
    }

    pub(super) async fn with_destinations(
        &self,
        mut alerts: Vec<Alert>,
    ) -> Result<Vec<Alert>, StoreError> {
        let mut destinations = self.destinations(alerts.iter().map(|a| a.id)).await?;
        for alert in &mut alerts {
            alert.destinations = destinations.remove(&alert.id).unwrap_or_default();
        }
        Ok(alerts)
    }

    pub async fn alert(&self, id: i64) -> Result<Option<Alert>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM alerts WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let alert = row.as_ref().map(alert_from).transpose()?;
        Ok(self
            .with_destinations(alert.into_iter().collect())
            .await?
            .pop())
    }

    /// The alerts `ids` (those that exist), in id order.
    pub async fn alerts_by_id(&self, ids: &[i64]) -> Result<Vec<Alert>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM alerts WHERE id IN ({}) ORDER BY id",
            id_list(ids.iter().copied())
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        let alerts = rows.iter().map(alert_from).collect::<Result<_, _>>()?;
        self.with_destinations(alerts).await
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
        if let Some(story) = filter.story {
            conditions.push(format!("COALESCE(story_id, id) = {story}"));
        }
        if let Some(before) = filter.before {
            conditions.push(format!("id < {before}"));
        }
        if let Some(chat) = filter.chat_id {
            conditions.push(format!(
                "id IN (SELECT alert_id FROM alert_destinations WHERE chat_id = {chat})"
            ));
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
        let alerts = rows.iter().map(alert_from).collect::<Result<_, _>>()?;
        self.with_destinations(alerts).await
    }

    /// The timeline of an alert or incident, oldest first.
    pub async fn timeline(&self, on: On) -> Result<Vec<AlertEvent>, StoreError> {
        let (table, column, id) = timeline_of(on);
        let sql =
            format!("SELECT at, kind, actor, detail FROM {table} WHERE {column} = $1 ORDER BY id");
        let rows = sqlx::query(&sql).bind(id).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(AlertEvent {
                    at: row.try_get("at")?,
                    kind: parse(row, "kind")?,
                    actor: row.try_get("actor")?,
                    detail: Detail::read(&row.try_get::<String, _>("detail")?),
                })
            })
            .collect()
    }

    /// Adds an entry to a timeline on its own (an action that changed nothing).
    pub async fn record_event(&self, on: On, now: i64, entry: &Event) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        note(&mut tx, on, now, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Applies a decision about one alert if the alert is still the version it was made
    /// on; false (nothing changed) if someone or something got there first.
    pub async fn apply_decision(&self, decision: &Decision, now: i64) -> Result<bool, StoreError> {
        let f = &decision.fields;
        let mut tx = self.writer.begin().await?;
        let changed = sqlx::query(
            "UPDATE alerts SET state = $1, acknowledged_at = $2, acknowledged_by = $3, \
             ack_expires_at = $4, snoozed_until = $5, escalation_step = $6, escalate_at = $7, \
             escalated_to = $8, escalated_at = $9, announce_at = $10, updated_at = $11, \
             version = version + 1 WHERE id = $12 AND version = $13 AND state <> 'resolved'",
        )
        .bind(f.state.as_str())
        .bind(f.acknowledged_at)
        .bind(f.acknowledged_by.as_deref())
        .bind(f.ack_expires_at)
        .bind(f.snoozed_until)
        .bind(f.escalation_step)
        .bind(f.escalate_at)
        .bind(f.escalated_to.as_deref())
        .bind(f.escalated_at)
        .bind(f.announce_at)
        .bind(now)
        .bind(decision.id)
        .bind(decision.version)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        for entry in &decision.events {
            event(&mut tx, decision.id, now, entry).await?;
        }
        for destination in &decision.destinations {
            add_destination(&mut tx, decision.id, destination, now).await?;
        }
        for notice in &decision.notices {
            enqueue(&mut tx, Subject::Alert(decision.id), notice, now, None).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Alerts with a time of theirs passed: a snooze or acknowledgement ran out, an
    /// escalation step or an announcement is due. Which of these time acts on is
    /// `transitions::due`'s to say.
    pub async fn alerts_due(&self, now: i64) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM alerts WHERE (state = 'snoozed' AND snoozed_until <= $1) \
             OR (state = 'acknowledged' AND ack_expires_at <= $1) \
             OR (state = 'firing' AND (escalate_at <= $1 OR announce_at <= $1)) ORDER BY id",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    /// Destinations whose held notices are due for their digest.
    pub async fn digests_due(&self, now: i64) -> Result<Vec<Destination>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT chat_id, thread_id FROM outbox \
             WHERE done_at IS NULL AND held_until IS NOT NULL AND held_until <= $1 \
             ORDER BY chat_id, thread_id",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Destination {
                    chat_id: r.try_get("chat_id")?,
                    thread_id: r.try_get("thread_id")?,
                })
            })
            .collect()
    }

    /// The alerts with notices held for `to` and due by `now`.
    pub async fn held_for(&self, to: Destination, now: i64) -> Result<Vec<Alert>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT alert_id FROM outbox WHERE done_at IS NULL AND held_until <= $1 \
             AND chat_id = $2 AND thread_id = $3",
        )
        .bind(now)
        .bind(to.chat_id)
        .bind(to.thread_id)
        .fetch_all(&self.pool)
        .await?;
        let ids: Vec<i64> = rows
            .iter()
            .map(|r| r.try_get("alert_id"))
            .collect::<Result<_, _>>()?;
        self.alerts_by_id(&ids).await
    }

    /// Sends `digest`: its held notices are done (shown in it), its destination is told
    /// from now on, the digest and the posts that follow it are queued, in one transaction.
    pub async fn apply_digest(&self, digest: &Digest, now: i64) -> Result<(), StoreError> {
        let to = digest.to;
        let list = id_list(digest.alerts.iter().copied());
        if list.is_empty() {
            return Ok(());
        }
        let mut tx = self.writer.begin().await?;
        let sql = format!(
            "UPDATE outbox SET done_at = $1, outcome = 'digested' WHERE done_at IS NULL \
             AND held_until IS NOT NULL AND chat_id = $2 AND thread_id = $3 AND alert_id IN ({list})"
        );
        sqlx::query(&sql)
            .bind(now)
            .bind(to.chat_id)
            .bind(to.thread_id)
            .execute(&mut *tx)
            .await?;
        let sql = format!(
            "UPDATE alert_destinations SET held_until = NULL WHERE chat_id = $1 \
             AND thread_id = $2 AND alert_id IN ({list})"
        );
        sqlx::query(&sql)
            .bind(to.chat_id)
            .bind(to.thread_id)
            .execute(&mut *tx)
            .await?;
        let payload = Listing::Held(digest.alerts.clone()).to_payload();
        let ring = Notice {
            kind: crate::alerts::NoticeKind::Digest,
            to,
            silent: false,
            held_until: None,
        };
        enqueue(&mut tx, Subject::Digest, &ring, now, Some(&payload)).await?;
        for &id in &digest.alerts {
            event(
                &mut tx,
                id,
                now,
                &Event::new(
                    EventKind::Digested,
                    Detail::Digested {
                        to: digest.whom.clone(),
                        backlog: false,
                    },
                ),
            )
            .await?;
        }
        for (id, notice) in &digest.posts {
            enqueue(&mut tx, Subject::Alert(*id), notice, now, None).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// The alerts late reports opened on `installation` that nobody has been told about.
    pub async fn late_alerts(&self, installation_id: &str) -> Result<Vec<Alert>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM alerts WHERE installation_id = $1 AND late = 1 \
             ORDER BY first_seen_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(installation_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(alert_from).collect()
    }

    /// Installations with a backlog not concluded (a restart forgot it), and since when.
    pub async fn backlogs(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT installation_id, MIN(first_seen_at) AS since FROM alerts \
             WHERE late = 1 GROUP BY installation_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("installation_id")?, row.try_get("since")?)))
            .collect()
    }

    /// Applies a backlog's conclusion (its announcements are decisions of their own): the
    /// alerts are told like any other from now on, and the quiet message is queued.
    pub async fn conclude_backlog(
        &self,
        conclusion: &Conclusion,
        now: i64,
    ) -> Result<usize, StoreError> {
        let list = id_list(conclusion.concluded.iter().copied());
        if list.is_empty() {
            return Ok(0);
        }
        let mut tx = self.writer.begin().await?;
        let sql = format!("UPDATE alerts SET late = 0 WHERE id IN ({list})");
        sqlx::query(&sql).execute(&mut *tx).await?;
        let mut queued = 0;
        if let Some((to, listing)) = &conclusion.told {
            let notice = Notice {
                kind: crate::alerts::NoticeKind::Digest,
                to: *to,
                silent: true,
                held_until: None,
            };
            enqueue(
                &mut tx,
                Subject::Digest,
                &notice,
                now,
                Some(&listing.to_payload()),
            )
            .await?;
            queued += 1;
            for &id in listing.alerts() {
                let entry = Event::new(
                    EventKind::Digested,
                    Detail::Digested {
                        to: Whom {
                            chat: to.chat_id,
                            role: Some(Role::Manager),
                            contact: None,
                        },
                        backlog: true,
                    },
                );
                event(&mut tx, id, now, &entry).await?;
            }
        }
        tx.commit().await?;
        Ok(queued)
    }
}

/// Applies lifecycle `changes` inside `tx`, with their timeline entries, destinations and
/// outbox entries. Returns how many notices were queued. `at` is when the changes happened
/// (a late report's own time: alerts and timelines keep it), `now` when they are written
/// (the outbox's clock).
pub(super) async fn apply(
    tx: &mut Transaction<'_, Any>,
    at: i64,
    now: i64,
    changes: &[Change<'_>],
) -> Result<usize, StoreError> {
    let mut queued = 0;
    // Alerts opened so far, for the ones after them that join their story.
    let mut opened = Vec::new();
    for change in changes {
        let (id, firing) = match change {
            Change::Open {
                installation,
                plugin,
                finding,
                audience,
                firing,
                flapping,
                story,
            } => {
                let story = match *story {
                    Story::Of(id) => Some(id),
                    Story::Opened(n) => Some(opened[n]),
                    Story::Own => None,
                };
                let alert = NewAlert {
                    installation,
                    plugin,
                    finding,
                    audience: *audience,
                    firing: firing.is_some(),
                    flapping: *flapping,
                    story,
                };
                let id = open(tx, at, &alert).await?;
                opened.push(id);
                (id, firing.as_ref())
            }
            Change::Seen {
                id,
                finding,
                fires,
                note,
                joins,
                escalate_at,
                ..
            } => {
                for destination in joins {
                    add_destination(tx, *id, destination, at).await?;
                }
                if let Some(escalate_at) = escalate_at {
                    sqlx::query(
                        "UPDATE alerts SET escalation_step = 0, escalate_at = $1 \
                         WHERE id = $2 AND state = 'firing' AND escalate_at IS NULL",
                    )
                    .bind(*escalate_at)
                    .bind(*id)
                    .execute(&mut **tx)
                    .await?;
                }
                seen(tx, at, *id, finding, fires.is_some()).await?;
                if let Some(note) = note {
                    event(tx, *id, at, &Event::new(EventKind::Changed, note.clone())).await?;
                }
                (*id, fires.as_ref())
            }
            Change::Fading { id } => {
                sqlx::query(
                    "UPDATE alerts SET cleared_at = COALESCE(cleared_at, $1), \
                     cleared_count = cleared_count + 1 WHERE id = $2",
                )
                .bind(at)
                .bind(*id)
                .execute(&mut **tx)
                .await?;
                (*id, None)
            }
            Change::Resolve { id, reason, .. } => {
                resolve(tx, at, *id, *reason).await?;
                (*id, None)
            }
            Change::Discard { id } => {
                sqlx::query("DELETE FROM alerts WHERE id = $1 AND state = 'pending'")
                    .bind(*id)
                    .execute(&mut **tx)
                    .await?;
                continue;
            }
        };
        if let Some(firing) = firing {
            fire(tx, at, id, firing).await?;
        }
        for notice in change.notices() {
            enqueue(tx, Subject::Alert(id), notice, now, None).await?;
            queued += 1;
        }
    }
    Ok(queued)
}

/// An alert as a [`Change::Open`] stores it.
struct NewAlert<'a> {
    installation: &'a Installation,
    plugin: &'a str,
    finding: &'a Finding,
    audience: Audience,
    firing: bool,
    flapping: Option<usize>,
    /// The first alert of its story, unless it starts one.
    story: Option<i64>,
}

/// Stores a new alert with its first timeline entries; returns its id.
async fn open(
    tx: &mut Transaction<'_, Any>,
    at: i64,
    alert: &NewAlert<'_>,
) -> Result<i64, StoreError> {
    let NewAlert {
        installation,
        finding,
        ..
    } = alert;
    let state = if alert.firing {
        AlertState::Firing
    } else {
        AlertState::Pending
    };
    let row = sqlx::query(
        "INSERT INTO alerts (installation_id, client, manager, plugin, key, severity, \
         audience, summary, details, state, chat_id, first_seen_at, seen_count, \
         fired_at, cleared_count, escalation_step, updated_at, version, translations, \
         flapping, story_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, 0, 0, $12, 0, \
         $14, $15, $16) RETURNING id",
    )
    .bind(&installation.id)
    .bind(&installation.client)
    .bind(&installation.manager)
    .bind(alert.plugin)
    .bind(&finding.key)
    .bind(finding.severity.as_str())
    .bind(alert.audience.as_str())
    .bind(&finding.summary)
    .bind(&finding.details)
    .bind(state.as_str())
    .bind(installation.telegram_chat_id)
    .bind(at)
    .bind(alert.firing.then_some(at))
    .bind(finding.translations.to_json())
    .bind(i64::from(alert.flapping.is_some()))
    .bind(alert.story)
    .fetch_one(&mut **tx)
    .await?;
    let id: i64 = row.try_get("id")?;
    let detail = Detail::finding(finding);
    let kind = if alert.firing {
        EventKind::Fired
    } else {
        EventKind::Pending
    };
    event(tx, id, at, &Event::new(kind, detail)).await?;
    if let Some(flaps) = alert.flapping {
        event(
            tx,
            id,
            at,
            &Event::new(EventKind::Flapping, Detail::Flapping { flaps }),
        )
        .await?;
    }
    Ok(id)
}

/// Alert `id`'s finding as reported now; a pending alert that `fires` fires.
async fn seen(
    tx: &mut Transaction<'_, Any>,
    at: i64,
    id: i64,
    finding: &Finding,
    fires: bool,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE alerts SET severity = $1, summary = $2, details = $3, \
         seen_count = seen_count + 1, cleared_at = NULL, cleared_count = 0, \
         updated_at = $4, translations = $6 WHERE id = $5",
    )
    .bind(finding.severity.as_str())
    .bind(&finding.summary)
    .bind(&finding.details)
    .bind(at)
    .bind(id)
    .bind(finding.translations.to_json())
    .execute(&mut **tx)
    .await?;
    if fires {
        sqlx::query(
            "UPDATE alerts SET state = 'firing', fired_at = $1, version = version + 1 \
             WHERE id = $2 AND state = 'pending'",
        )
        .bind(at)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        let detail = Detail::finding(finding);
        event(tx, id, at, &Event::new(EventKind::Fired, detail)).await?;
    }
    Ok(())
}

/// Resolves alert `id` for `reason`, never before it was first seen.
async fn resolve(
    tx: &mut Transaction<'_, Any>,
    at: i64,
    id: i64,
    reason: Resolution,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE alerts SET state = 'resolved', \
         resolved_at = CASE WHEN first_seen_at > $1 THEN first_seen_at ELSE $1 END, \
         resolution = $2, \
         snoozed_until = NULL, ack_expires_at = NULL, escalate_at = NULL, \
         announce_at = NULL, \
         updated_at = $1, version = version + 1 WHERE id = $3 AND state <> 'resolved'",
    )
    .bind(at)
    .bind(reason.as_str())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    event(
        tx,
        id,
        at,
        &Event::new(EventKind::Resolved, Detail::Resolved { why: reason }),
    )
    .await
}

/// Alert `id` starts firing: where it goes, when it escalates or is announced, the cause
/// it may share, and whether people hear of it now.
async fn fire(
    tx: &mut Transaction<'_, Any>,
    at: i64,
    id: i64,
    firing: &Firing,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE alerts SET escalation_step = 0, escalate_at = $1, announce_at = $2, \
         cause = COALESCE($3, cause), late = $5 WHERE id = $4",
    )
    .bind(firing.escalate_at)
    .bind(firing.announce_at)
    .bind(firing.cause.as_deref())
    .bind(id)
    .bind(firing.heard.code())
    .execute(&mut **tx)
    .await?;
    for destination in &firing.route.destinations {
        add_destination(tx, id, destination, at).await?;
    }
    for entry in &firing.events {
        event(tx, id, at, entry).await?;
    }
    Ok(())
}

/// Adds a destination to an alert. One it already has, held for a digest, is told from
/// now on instead: its held notices are moot.
async fn add_destination(
    tx: &mut Transaction<'_, Any>,
    alert_id: i64,
    d: &NewDestination,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO alert_destinations (alert_id, chat_id, thread_id, role, contact, \
         message_id, held_until, added_at) VALUES ($1, $2, $3, $4, $5, NULL, $6, $7) \
         ON CONFLICT (alert_id, chat_id, thread_id) DO UPDATE SET held_until = NULL",
    )
    .bind(alert_id)
    .bind(d.to.chat_id)
    .bind(d.to.thread_id)
    .bind(d.role.as_str())
    .bind(d.contact.as_deref())
    .bind(d.held_until)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if d.held_until.is_none() {
        sqlx::query(
            "UPDATE outbox SET done_at = $1, outcome = 'released' WHERE alert_id = $2 \
             AND chat_id = $3 AND thread_id = $4 AND held_until IS NOT NULL AND done_at IS NULL",
        )
        .bind(now)
        .bind(alert_id)
        .bind(d.to.chat_id)
        .bind(d.to.thread_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Where the timeline of `on` is kept: table, key column, id.
fn timeline_of(on: On) -> (&'static str, &'static str, i64) {
    match on {
        On::Alert(id) => ("alert_events", "alert_id", id),
        On::Incident(id) => ("incident_events", "incident_id", id),
    }
}

/// Adds `entry` to the timeline of `on` inside `tx`.
pub(super) async fn note(
    tx: &mut Transaction<'_, Any>,
    on: On,
    at: i64,
    entry: &Event,
) -> Result<(), StoreError> {
    let (table, column, id) = timeline_of(on);
    let sql = format!(
        "INSERT INTO {table} ({column}, at, kind, actor, detail) VALUES ($1, $2, $3, $4, $5)"
    );
    sqlx::query(&sql)
        .bind(id)
        .bind(at)
        .bind(entry.kind.as_str())
        .bind(entry.actor.as_deref())
        .bind(entry.detail.stored())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Adds `entry` to alert `alert_id`'s timeline inside `tx`.
pub(super) async fn event(
    tx: &mut Transaction<'_, Any>,
    alert_id: i64,
    at: i64,
    entry: &Event,
) -> Result<(), StoreError> {
    note(tx, On::Alert(alert_id), at, entry).await
}

/// What an outbox entry is about.
#[derive(Debug, Clone, Copy)]
pub(super) enum Subject {
    Alert(i64),
    Incident(i64),
    /// A morning digest (its alerts are in the payload).
    Digest,
}

pub(super) async fn enqueue(
    tx: &mut Transaction<'_, Any>,
    about: Subject,
    notice: &Notice,
    now: i64,
    payload: Option<&str>,
) -> Result<(), StoreError> {
    let (alert_id, incident_id) = match about {
        Subject::Alert(id) => (Some(id), None),
        Subject::Incident(id) => (None, Some(id)),
        Subject::Digest => (None, None),
    };
    sqlx::query(
        "INSERT INTO outbox (alert_id, incident_id, kind, chat_id, thread_id, silent, \
         held_until, payload, created_at, attempts, retry_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, 0)",
    )
    .bind(alert_id)
    .bind(incident_id)
    .bind(notice.kind.as_str())
    .bind(notice.to.chat_id)
    .bind(notice.to.thread_id)
    .bind(i64::from(notice.silent))
    .bind(notice.held_until)
    .bind(payload)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

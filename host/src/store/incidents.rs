//! Incidents, their members, chats and timelines. Decisions made by `alerts::incidents` are
//! applied here in one transaction with the outbox entries they owe; nothing is decided.

use std::collections::HashMap;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::alerts::{Subject, enqueue, id_list, note};
use super::{Store, StoreError, parse};
use crate::alerts::incidents::{
    Incident, IncidentDecision, IncidentDestination, Member, ParentHealth, Reach, Target, Update,
    Waiting,
};
use crate::alerts::{AlertState, Detail, Event, EventKind, On};

const COLUMNS: &str = "id, cause, parent, plugin, severity, state, opened_at, acknowledged_at, \
    acknowledged_by, snoozed_until, recheck_until, escalation_step, escalate_at, resolved_at, \
    shown, version";

fn incident_from(row: &AnyRow) -> Result<Incident, StoreError> {
    Ok(Incident {
        id: row.try_get("id")?,
        cause: row.try_get("cause")?,
        parent: row.try_get("parent")?,
        plugin: row.try_get("plugin")?,
        severity: parse(row, "severity")?,
        state: parse(row, "state")?,
        opened_at: row.try_get("opened_at")?,
        acknowledged_at: row.try_get("acknowledged_at")?,
        acknowledged_by: row.try_get("acknowledged_by")?,
        snoozed_until: row.try_get("snoozed_until")?,
        recheck_until: row.try_get("recheck_until")?,
        escalation_step: row.try_get("escalation_step")?,
        escalate_at: row.try_get("escalate_at")?,
        resolved_at: row.try_get("resolved_at")?,
        shown: row.try_get("shown")?,
        version: row.try_get("version")?,
        members: Vec::new(),
        destinations: Vec::new(),
        updates: Vec::new(),
    })
}

/// Which incidents to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct IncidentFilter {
    pub open_only: bool,
    /// Only incidents older than this one (the next page of a list, newest first).
    pub before: Option<i64>,
    pub limit: i64,
}

impl Store {
    /// Alerts waiting to learn whether others share their cause, with their installations.
    pub async fn waiting_alerts(&self) -> Result<Vec<Waiting>, StoreError> {
        let ids: Vec<i64> = sqlx::query(
            "SELECT id FROM alerts WHERE cause IS NOT NULL AND incident_id IS NULL \
             AND announce_at IS NOT NULL AND state <> 'resolved' ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
        let mut installations = HashMap::new();
        let mut out = Vec::new();
        for alert in self.alerts_by_id(&ids).await? {
            if !installations.contains_key(&alert.installation_id) {
                let found = self.installation(&alert.installation_id).await?;
                installations.insert(alert.installation_id.clone(), found);
            }
            let installation = installations[&alert.installation_id].clone();
            out.push((alert, installation));
        }
        Ok(out)
    }

    /// How each named parent stands: its children, and whether it is itself an
    /// installation with an open critical alert.
    pub async fn parent_health(&self) -> Result<HashMap<String, ParentHealth>, StoreError> {
        let mut out: HashMap<String, ParentHealth> = HashMap::new();
        let rows = sqlx::query(
            "SELECT parent, COUNT(*) AS n FROM installations WHERE parent IS NOT NULL \
             GROUP BY parent",
        )
        .fetch_all(&self.pool)
        .await?;
        for row in rows {
            let n: i64 = row.try_get("n")?;
            out.entry(row.try_get("parent")?).or_default().children = n as usize;
        }
        let rows = sqlx::query(
            "SELECT DISTINCT a.installation_id AS parent FROM alerts a \
             WHERE a.state <> 'resolved' AND a.severity = 'critical' AND a.installation_id IN \
             (SELECT DISTINCT parent FROM installations WHERE parent IS NOT NULL)",
        )
        .fetch_all(&self.pool)
        .await?;
        for row in rows {
            out.entry(row.try_get("parent")?).or_default().down = true;
        }
        Ok(out)
    }

    pub async fn open_incidents(&self) -> Result<Vec<Incident>, StoreError> {
        self.incidents(IncidentFilter {
            open_only: true,
            before: None,
            limit: i64::MAX,
        })
        .await
    }

    /// Incidents, newest first, with their members, chats and updates.
    pub async fn incidents(&self, filter: IncidentFilter) -> Result<Vec<Incident>, StoreError> {
        let mut conditions = Vec::new();
        if filter.open_only {
            conditions.push("resolved_at IS NULL".to_string());
        }
        if let Some(before) = filter.before {
            conditions.push(format!("id < {before}"));
        }
        let condition = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM incidents {condition} ORDER BY id DESC LIMIT {}",
            filter.limit.max(1)
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        let incidents: Vec<Incident> = rows.iter().map(incident_from).collect::<Result<_, _>>()?;
        self.complete(incidents).await
    }

    /// Incidents that opened within `[from, to)` with a member of `client`'s, oldest first.
    pub async fn client_incidents(
        &self,
        client: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<Incident>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM incidents WHERE opened_at >= $2 AND opened_at < $3 AND id IN \
             (SELECT incident_id FROM alerts WHERE client = $1 AND incident_id IS NOT NULL) \
             ORDER BY opened_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(client)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?;
        let incidents: Vec<Incident> = rows.iter().map(incident_from).collect::<Result<_, _>>()?;
        self.complete(incidents).await
    }

    pub async fn incident(&self, id: i64) -> Result<Option<Incident>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM incidents WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let incident = row.as_ref().map(incident_from).transpose()?;
        Ok(self.complete(incident.into_iter().collect()).await?.pop())
    }

    /// The incident whose living message in `chat_id` is `message_id`.
    pub async fn incident_by_message(
        &self,
        chat_id: i64,
        message_id: i64,
    ) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT incident_id FROM incident_destinations WHERE chat_id = $1 AND message_id = $2",
        )
        .bind(chat_id)
        .bind(message_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.try_get("incident_id")).transpose()?)
    }

    /// Adds members, chats and updates to `incidents`.
    async fn complete(&self, mut incidents: Vec<Incident>) -> Result<Vec<Incident>, StoreError> {
        let list = id_list(incidents.iter().map(|i| i.id));
        if list.is_empty() {
            return Ok(incidents);
        }
        let mut members: HashMap<i64, Vec<Member>> = HashMap::new();
        let sql = format!(
            "SELECT a.id, a.incident_id, a.installation_id, a.client, a.manager, a.summary, \
             a.translations, a.state, a.first_seen_at, a.resolved_at, \
             (SELECT COUNT(*) FROM alert_destinations d WHERE d.alert_id = a.id) AS own \
             FROM alerts a WHERE a.incident_id IN ({list}) ORDER BY a.id"
        );
        for row in sqlx::query(&sql).fetch_all(&self.pool).await? {
            let own: i64 = row.try_get("own")?;
            members
                .entry(row.try_get("incident_id")?)
                .or_default()
                .push(Member {
                    alert_id: row.try_get("id")?,
                    installation_id: row.try_get("installation_id")?,
                    client: row.try_get("client")?,
                    manager: row.try_get("manager")?,
                    summary: row.try_get("summary")?,
                    translations: super::alerts::translations_from(&row)?,
                    state: parse(&row, "state")?,
                    first_seen_at: row.try_get("first_seen_at")?,
                    resolved_at: row.try_get("resolved_at")?,
                    on_its_own: own > 0,
                });
        }
        let mut destinations: HashMap<i64, Vec<IncidentDestination>> = HashMap::new();
        let sql = format!(
            "SELECT incident_id, chat_id, thread_id, role, contact, message_id, silent \
             FROM incident_destinations WHERE incident_id IN ({list}) ORDER BY added_at, chat_id"
        );
        for row in sqlx::query(&sql).fetch_all(&self.pool).await? {
            let silent: i64 = row.try_get("silent")?;
            destinations
                .entry(row.try_get("incident_id")?)
                .or_default()
                .push(IncidentDestination {
                    chat_id: row.try_get("chat_id")?,
                    thread_id: row.try_get("thread_id")?,
                    role: parse(&row, "role")?,
                    contact: row.try_get("contact")?,
                    message_id: row.try_get("message_id")?,
                    silent: silent != 0,
                });
        }
        let mut updates: HashMap<i64, Vec<Update>> = HashMap::new();
        let sql = format!(
            "SELECT incident_id, at, actor, detail FROM incident_events \
             WHERE kind = 'update' AND incident_id IN ({list}) ORDER BY id"
        );
        for row in sqlx::query(&sql).fetch_all(&self.pool).await? {
            updates
                .entry(row.try_get("incident_id")?)
                .or_default()
                .push({
                    let detail = Detail::read(&row.try_get::<String, _>("detail")?);
                    Update {
                        at: row.try_get("at")?,
                        by: row.try_get("actor")?,
                        text: detail.text().unwrap_or_default().to_string(),
                        reach: match detail {
                            Detail::Published { .. } => Reach::Clients,
                            _ => Reach::Staff,
                        },
                    }
                });
        }
        for incident in &mut incidents {
            incident.members = members.remove(&incident.id).unwrap_or_default();
            incident.destinations = destinations.remove(&incident.id).unwrap_or_default();
            incident.updates = updates.remove(&incident.id).unwrap_or_default();
        }
        Ok(incidents)
    }

    /// The post-mortem sections people wrote about an incident or alert, as JSON.
    pub async fn postmortem(&self, on: On) -> Result<Option<String>, StoreError> {
        let (table, id) = postmortem_of(on);
        let sql = format!("SELECT postmortem FROM {table} WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row
            .map(|r| r.try_get::<Option<String>, _>("postmortem"))
            .transpose()?
            .flatten())
    }

    /// Stores the post-mortem's sections and says so in the timeline; false if there is
    /// no such incident or alert.
    pub async fn put_postmortem(
        &self,
        on: On,
        json: &str,
        entry: &Event,
        now: i64,
    ) -> Result<bool, StoreError> {
        let (table, id) = postmortem_of(on);
        let mut tx = self.writer.begin().await?;
        let sql = format!("UPDATE {table} SET postmortem = $1 WHERE id = $2");
        let done = sqlx::query(&sql)
            .bind(json)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        note(&mut tx, on, now, entry).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Applies an incident decision if the incident is still the version it was made on;
    /// returns the incident's id, or `None` if someone got there first.
    pub async fn apply_incident(
        &self,
        d: &IncidentDecision,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let f = &d.fields;
        let mut tx = self.writer.begin().await?;
        let id: i64 = match &d.target {
            Target::New {
                cause,
                parent,
                plugin,
            } => sqlx::query(
                "INSERT INTO incidents (cause, parent, plugin, severity, state, opened_at, \
                 shown, escalation_step, escalate_at, version, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, 0, $6) RETURNING id",
            )
            .bind(cause)
            .bind(parent.as_deref())
            .bind(plugin)
            .bind(f.severity.as_str())
            .bind(f.state.as_str())
            .bind(now)
            .bind(&f.shown)
            .bind(f.escalate_at)
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?,
            Target::Existing { id, version } => {
                let changed = sqlx::query(
                    "UPDATE incidents SET state = $1, severity = $2, acknowledged_at = $3, \
                     acknowledged_by = $4, snoozed_until = $5, recheck_until = $6, \
                     resolved_at = $7, shown = $8, updated_at = $9, version = version + 1, \
                     escalation_step = $12, escalate_at = $13 \
                     WHERE id = $10 AND version = $11",
                )
                .bind(f.state.as_str())
                .bind(f.severity.as_str())
                .bind(f.acknowledged_at)
                .bind(f.acknowledged_by.as_deref())
                .bind(f.snoozed_until)
                .bind(f.recheck_until)
                .bind(f.resolved_at)
                .bind(&f.shown)
                .bind(now)
                .bind(*id)
                .bind(*version)
                .bind(f.escalation_step)
                .bind(f.escalate_at)
                .execute(&mut *tx)
                .await?;
                if changed.rows_affected() == 0 {
                    tx.rollback().await?;
                    return Ok(None);
                }
                *id
            }
        };
        for (destination, silent) in &d.destinations {
            sqlx::query(
                "INSERT INTO incident_destinations (incident_id, chat_id, thread_id, role, \
                 contact, message_id, silent, added_at) VALUES ($1, $2, $3, $4, $5, NULL, $6, $7) \
                 ON CONFLICT (incident_id, chat_id, thread_id) DO NOTHING",
            )
            .bind(id)
            .bind(destination.to.chat_id)
            .bind(destination.to.thread_id)
            .bind(destination.role.as_str())
            .bind(destination.contact.as_deref())
            .bind(i64::from(*silent))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let list = id_list(d.attach.iter().copied());
        if !list.is_empty() {
            let sql = format!(
                "UPDATE alerts SET incident_id = $1, announce_at = NULL, updated_at = $2 \
                 WHERE id IN ({list}) AND incident_id IS NULL AND state <> 'resolved'"
            );
            sqlx::query(&sql)
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            for &alert in &d.attach {
                super::alerts::event(
                    &mut tx,
                    alert,
                    now,
                    &Event::new(EventKind::Joined, Detail::JoinedIncident { id }),
                )
                .await?;
            }
        }
        if let Some(follow) = &d.members_follow {
            let state = follow.state;
            let list = id_list(follow.alerts.iter().copied());
            let sql = format!(
                "UPDATE alerts SET state = $1, acknowledged_at = $2, acknowledged_by = $3, \
                 snoozed_until = NULL, ack_expires_at = NULL, escalate_at = NULL, \
                 updated_at = $4, version = version + 1 \
                 WHERE id IN ({list}) AND state <> 'resolved'"
            );
            sqlx::query(&sql)
                .bind(state.as_str())
                .bind(
                    f.acknowledged_at
                        .filter(|_| state == AlertState::Acknowledged),
                )
                .bind(
                    f.acknowledged_by
                        .as_deref()
                        .filter(|_| state != AlertState::Firing),
                )
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        for entry in &d.events {
            incident_event(&mut tx, id, now, entry).await?;
        }
        for notice in &d.notices {
            enqueue(&mut tx, Subject::Incident(id), notice, now, None).await?;
        }
        tx.commit().await?;
        Ok(Some(id))
    }
}

/// Where the post-mortem of `on` is kept.
fn postmortem_of(on: On) -> (&'static str, i64) {
    match on {
        On::Incident(id) => ("incidents", id),
        On::Alert(id) => ("alerts", id),
    }
}

/// Adds `entry` to incident `incident_id`'s timeline inside `tx`.
pub(super) async fn incident_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    incident_id: i64,
    at: i64,
    entry: &Event,
) -> Result<(), StoreError> {
    note(tx, On::Incident(incident_id), at, entry).await
}

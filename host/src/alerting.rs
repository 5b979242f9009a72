//! The alerts service: the one way anything changes an alert. Each entry point loads what
//! the decision needs, asks `alerts` (pure) what changes, has `store` apply it in one
//! transaction with the notices it owes, and wakes the dispatcher, here and nowhere else.
//! Findings come in through the pipeline (`evaluated`), people through the API and Telegram
//! (`acknowledge`, `snooze`), time through the scheduler (`run_due`), removals through the
//! API and the plugins directory (`retire_plugin`, `remove_installation`).

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Notify, mpsc};

use crate::alerts::backlog;
use crate::alerts::detail::{Detail, Kept, Resolution};
use crate::alerts::directory::{Directory, Kind};
use crate::alerts::incidents::{self, Incident, Reach};
use crate::alerts::lifecycle::{Heard, Recent, as_old_news};
use crate::alerts::test;
use crate::alerts::transitions::{self, Decision};
use crate::alerts::{self, Alert, AlertPolicy, Change, Event, EventKind, On, OpenAlert, Routing};
use crate::clock::SharedClock;
use crate::cluster::{Cluster, Topic};
use crate::fleet::Installation;
use crate::live::Live;
use crate::plugins::{EvalOutput, Trigger};
use crate::store::{Evaluated, Store, StoreError};

/// What became of a request to act on an alert or an incident (`T`), as it is now.
#[derive(Debug, Clone, PartialEq)]
pub enum Acted<T> {
    Done(T),
    /// Not in a state the action applies to.
    Unchanged(T),
    NotFound,
}

impl<T> Acted<T> {
    pub fn done(&self) -> bool {
        matches!(self, Acted::Done(_))
    }
}

/// Why a directory entry was refused.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    /// The entry is wrong; the message names the field.
    #[error("{0}")]
    Invalid(String),
    /// Others refer to it.
    #[error("{0}")]
    InUse(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Alerting {
    store: Store,
    clock: SharedClock,
    pub policy: Arc<AlertPolicy>,
    outbox: Arc<Notify>,
    /// Rung with the dispatcher: open pages look again.
    live: Live,
    /// Where the other nodes hear of both.
    cluster: Arc<Cluster>,
    /// Installations to probe again now (an incident's parent came back).
    reprobe: mpsc::UnboundedSender<Vec<String>>,
    /// Rung when the clockwork has something to look at soon: an alert began waiting for
    /// others with its cause, or one resolved (it may be an incident's member).
    soon: Notify,
    /// One look of the clockwork at a time (the scheduler's tick and the clockwork's own
    /// timer both look): two looks at the same waiting alerts would both open an incident.
    clockwork: tokio::sync::Mutex<()>,
    /// Installations whose agent's backlog is being read, and the own time of its oldest
    /// report (see `alerts::backlog`).
    backlogs: std::sync::Mutex<HashMap<String, i64>>,
}

/// A decision made on a stale read is retried this often before giving up.
const ATTEMPTS: usize = 3;

impl Alerting {
    /// The service, and the receiving end of its requests to probe installations again
    /// (for the prober).
    pub fn new(
        store: Store,
        clock: SharedClock,
        policy: Arc<AlertPolicy>,
        outbox: Arc<Notify>,
        live: Live,
        cluster: Arc<Cluster>,
    ) -> (Arc<Self>, mpsc::UnboundedReceiver<Vec<String>>) {
        let (reprobe, requests) = mpsc::unbounded_channel();
        let service = Arc::new(Alerting {
            store,
            clock,
            policy,
            outbox,
            live,
            cluster,
            reprobe,
            soon: Notify::new(),
            clockwork: tokio::sync::Mutex::new(()),
            backlogs: std::sync::Mutex::default(),
        });
        (service, requests)
    }

    /// Tells the dispatcher there is something in the outbox, and open pages that alerts
    /// changed, on this node and the others: the one place that does.
    pub fn wake(&self) {
        self.outbox.notify_one();
        self.cluster.publish(Topic::Outbox);
        self.fleet_changed();
    }

    /// Tells open pages, and the board's kept rows, on every node, that the fleet changed
    /// where no alert did (an installation added or edited, a client's settings).
    pub fn fleet_changed(&self) {
        self.live.changed();
        self.cluster.publish(Topic::Fleet);
    }

    /// Resolves when the clockwork should look soon (see [`Alerting::committed`]).
    pub async fn due_soon(&self) {
        self.soon.notified().await;
    }

    /// The dispatcher's doorbell.
    pub fn doorbell(&self) -> Arc<Notify> {
        self.outbox.clone()
    }

    /// The directory as routing reads it now.
    pub async fn directory(&self) -> Result<Directory, StoreError> {
        let mut directory = self.store.directory().await?;
        directory.ack_expires_after = self.policy.ack_expires_after.map(|d| d.as_millis() as i64);
        Ok(directory)
    }

    /// The one door for findings: what one evaluation's outputs do to its installation's
    /// open alerts is decided here (`lifecycle::plan`, told as `heard`: old news pages
    /// nobody) and committed with the evaluation, then the dispatcher and the clockwork are
    /// woken for it. False when the report was evaluated already, or a newer one of the
    /// installation was (then only this one's being evaluated is kept).
    /// One installation's evaluations come one at a time (the pipeline's shard), so the
    /// open alerts read here are the ones the commit changes.
    pub async fn evaluated(
        &self,
        evaluated: &Evaluated<'_>,
        heard: Heard,
    ) -> Result<bool, StoreError> {
        let Evaluated {
            installation,
            outputs,
            at,
            ..
        } = *evaluated;
        let open = self.store.open_alerts(&installation.id).await?;
        // Routing needs the directory only when something can change.
        let directory = if open.is_empty() && outputs.iter().all(|(_, o)| o.findings.is_empty()) {
            Directory::default()
        } else {
            self.directory().await?
        };
        let recent = self.recent(&installation.id, &open, outputs, at).await?;
        let routing = Routing {
            directory: &directory,
            now: at,
        };
        let mut changes = alerts::plan(
            &self.policy,
            &routing,
            installation,
            &open,
            &recent,
            outputs,
        );
        as_old_news(&mut changes, heard);
        let queued = self.store.commit_evaluation(evaluated, &changes).await?;
        if let Some(queued) = queued {
            self.committed(&changes, queued);
        }
        Ok(queued.is_some())
    }

    /// An evaluation's `changes` were committed with `queued` notices: the dispatcher is
    /// woken for those, the clockwork for alerts waiting to be grouped and for members
    /// that came back (so an incident forms, and its cards count, within moments).
    fn committed(&self, changes: &[Change], queued: usize) {
        if queued > 0 {
            self.wake();
        } else {
            // A report changes its installation's row even when no alert changed.
            self.fleet_changed();
        }
        let grouping = changes.iter().any(|c| match c {
            Change::Open {
                firing: Some(f), ..
            }
            | Change::Seen { fires: Some(f), .. } => f.cause.is_some(),
            Change::Resolve { .. } => true,
            _ => false,
        });
        if grouping {
            self.soon.notify_one();
        }
    }

    /// What `installation`'s alerts did lately, when `outputs` would open one: restraint
    /// needs it only then.
    async fn recent(
        &self,
        installation: &str,
        open: &[OpenAlert],
        outputs: &[(&str, &crate::plugins::EvalOutput)],
        now: i64,
    ) -> Result<Recent, StoreError> {
        let opens = outputs.iter().any(|(plugin, output)| {
            output
                .findings
                .iter()
                .any(|f| !open.iter().any(|a| a.plugin == *plugin && a.key == f.key))
        });
        if !opens {
            return Ok(Recent::default());
        }
        let since = now - self.policy.restraint.window.as_millis() as i64;
        self.store.recent_alerts(installation, since).await
    }

    /// Picks up the backlogs a restart left unconcluded: they conclude when their
    /// installation's next report on time comes, or at its next tick.
    pub async fn recover_backlogs(&self) -> Result<(), StoreError> {
        let found = self.store.backlogs().await?;
        self.backlogs.lock().expect("backlogs").extend(found);
        Ok(())
    }

    /// A late report made at `at` was evaluated for `installation`.
    pub fn heard_late(&self, installation: &str, at: i64) {
        self.backlogs
            .lock()
            .expect("backlogs")
            .entry(installation.to_string())
            .and_modify(|from| *from = (*from).min(at))
            .or_insert(at);
    }

    /// `installation`'s backlog has been read: what it left open is announced (quiet
    /// hours, maintenance and escalation as for any alert firing now), and what is over is
    /// told in one quiet message. Without a backlog, nothing is read or written.
    pub async fn conclude_backlog(&self, installation: &Installation) -> Result<(), StoreError> {
        let Some(from) = self
            .backlogs
            .lock()
            .expect("backlogs")
            .get(&installation.id)
            .copied()
        else {
            return Ok(());
        };
        let late = self.store.late_alerts(&installation.id).await?;
        let now = self.clock.now_ms();
        let conclusion = backlog::conclude(installation, &late, from, now);
        if !conclusion.announce.is_empty() {
            let directory = self.directory().await?;
            for &id in &conclusion.announce {
                let announce =
                    |alert: &Alert, subject: &alerts::routing::Subject, routing: &Routing| {
                        alert.is_open().then(|| {
                            transitions::announce(alert, subject, routing, Kept::ReportedLate)
                        })
                    };
                self.act_on(&directory, id, announce).await?;
            }
        }
        if self.store.conclude_backlog(&conclusion, now).await? > 0 {
            self.wake();
        }
        self.backlogs
            .lock()
            .expect("backlogs")
            .remove(&installation.id);
        Ok(())
    }

    /// `by` tries the way from an alert to its people on `installation`: with `on`, the
    /// test check's warning opens as any finding would (routing, quiet hours, buttons);
    /// without, it resolves. Returns the test alert opened or resolved. This does not wait
    /// for the installation's turn in the pipeline: it changes only the test check's
    /// alert, which no plugin's evaluation reads or writes.
    pub async fn test_alert(
        &self,
        installation: &Installation,
        by: &str,
        on: bool,
    ) -> Result<Option<i64>, StoreError> {
        let now = self.clock.now_ms();
        let output = EvalOutput {
            findings: if on {
                vec![test::finding(by)]
            } else {
                Vec::new()
            },
            state: Vec::new(),
        };
        let outputs = [(test::CHECK, &output)];
        let evaluated = Evaluated {
            report_id: None,
            installation,
            at: now,
            now,
            outputs: &outputs,
            // Not a plugin's call: the host looking at the installation, as a probe does.
            trigger: Trigger::Probe,
            said: &[],
        };
        let open_test = async || -> Result<Option<i64>, StoreError> {
            Ok(self
                .store
                .open_alerts(&installation.id)
                .await?
                .into_iter()
                .find(|a| a.plugin == test::CHECK)
                .map(|a| a.id))
        };
        let closing = if on { None } else { open_test().await? };
        self.evaluated(&evaluated, Heard::Now).await?;
        if on { open_test().await } else { Ok(closing) }
    }

    /// `by` takes the alert.
    pub async fn acknowledge(&self, id: i64, by: &str) -> Result<Acted<Alert>, StoreError> {
        self.act(id, |alert, subject, routing| {
            transitions::acknowledge(alert, subject, by, routing)
        })
        .await
    }

    /// `by` puts the alert aside until `until`.
    pub async fn snooze(&self, id: i64, by: &str, until: i64) -> Result<Acted<Alert>, StoreError> {
        self.act(id, |alert, subject, routing| {
            transitions::snooze(alert, subject, by, until, routing)
        })
        .await
    }

    /// Records that `actor` tried to act on an alert or incident (`update`: post an
    /// update on it) and was not allowed.
    pub async fn refused(&self, on: On, actor: &str, update: bool) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        let entry = Event::new(EventKind::Refused, Detail::NotAllowed { update }).by(actor);
        self.store.record_event(on, now, &entry).await
    }

    /// Loads the alert, decides, applies; on a stale read, reads again.
    async fn act<F>(&self, id: i64, decide: F) -> Result<Acted<Alert>, StoreError>
    where
        F: Fn(&Alert, &alerts::routing::Subject, &Routing) -> Option<Decision>,
    {
        let directory = self.directory().await?;
        self.act_on(&directory, id, decide).await
    }

    /// [`Alerting::act`] against a directory already read (the clockwork reads it once
    /// for all the alerts due).
    async fn act_on<F>(
        &self,
        directory: &Directory,
        id: i64,
        decide: F,
    ) -> Result<Acted<Alert>, StoreError>
    where
        F: Fn(&Alert, &alerts::routing::Subject, &Routing) -> Option<Decision>,
    {
        for _ in 0..ATTEMPTS {
            let Some(alert) = self.store.alert(id).await? else {
                return Ok(Acted::NotFound);
            };
            let installation = self.store.installation(&alert.installation_id).await?;
            let now = self.clock.now_ms();
            let routing = Routing { directory, now };
            let subject = alert.subject(installation.as_ref());
            let Some(decision) = decide(&alert, &subject, &routing) else {
                return Ok(Acted::Unchanged(alert));
            };
            if self.store.apply_decision(&decision, now).await? {
                self.wake();
                let alert = self.store.alert(id).await?;
                return Ok(alert.map_or(Acted::NotFound, Acted::Done));
            }
        }
        Ok(match self.store.alert(id).await? {
            Some(alert) => Acted::Unchanged(alert),
            None => Acted::NotFound,
        })
    }

    /// Everything time does now: alerts waiting for others with their cause grouped into
    /// incidents (or announced alone), incidents moved on, snoozes and acknowledgements
    /// that ran out, escalation steps that came due, digests whose quiet hours ended.
    /// Returns how many changes.
    pub async fn run_due(&self) -> Result<usize, StoreError> {
        let _one = self.clockwork.lock().await;
        let now = self.clock.now_ms();
        let waiting = self.store.waiting_alerts().await?;
        let open = self.store.open_incidents().await?;
        let due = self.store.alerts_due(now).await?;
        let directory = if due.is_empty() && waiting.is_empty() && open.is_empty() {
            Directory::default()
        } else {
            self.directory().await?
        };
        let mut done = self.run_incidents(&directory, &waiting, &open, now).await?;
        for id in due {
            if let Acted::Done(_) = self.act_on(&directory, id, transitions::due).await? {
                done += 1;
            }
        }
        for to in self.store.digests_due(now).await? {
            let held = self.store.held_for(to, now).await?;
            let digest = transitions::digest(to, &held);
            self.store.apply_digest(&digest, now).await?;
            done += 1;
        }
        if done > 0 {
            self.wake();
        }
        Ok(done)
    }

    /// The incidents' part of the clockwork: one review of everything waiting and open.
    async fn run_incidents(
        &self,
        directory: &Directory,
        waiting: &[incidents::Waiting],
        open: &[Incident],
        now: i64,
    ) -> Result<usize, StoreError> {
        if waiting.is_empty() && open.is_empty() {
            return Ok(0);
        }
        let parents = self.store.parent_health().await?;
        let routing = Routing { directory, now };
        let review = incidents::review(&self.policy.grouping, &routing, waiting, open, &parents);
        let mut done = 0;
        let mut release = Vec::new();
        for decision in &review.decisions {
            // A decision on a stale read is made again at the next look.
            if self.store.apply_incident(decision, now).await?.is_some() {
                done += 1;
                release.extend(decision.release.iter().map(|&id| (id, Kept::IncidentEnded)));
                if !decision.reprobe.is_empty() {
                    // Nobody listening (no prober) only means no early probe.
                    let _ = self.reprobe.send(decision.reprobe.clone());
                }
            }
        }
        release.extend(review.alone.iter().map(|&id| (id, Kept::AloneInItsCause)));
        for due in open
            .iter()
            .filter(|i| i.escalate_at.is_some_and(|at| at <= now))
        {
            // Read again: the review may just have changed it.
            let Some(incident) = self.store.incident(due.id).await? else {
                continue;
            };
            let installation = match incident.members.first() {
                Some(first) => self.store.installation(&first.installation_id).await?,
                None => None,
            };
            let escalation = incidents::subject_of(&incident, installation.as_ref())
                .and_then(|subject| incidents::escalate(&incident, &subject, &routing));
            if let Some(decision) = escalation
                && self.store.apply_incident(&decision, now).await?.is_some()
            {
                done += 1;
            }
        }
        for (id, why) in release {
            let announce =
                |alert: &Alert, subject: &alerts::routing::Subject, routing: &Routing| {
                    alert
                        .is_open()
                        .then(|| transitions::announce(alert, subject, routing, why))
                };
            if let Acted::Done(_) = self.act_on(directory, id, announce).await? {
                done += 1;
            }
        }
        Ok(done)
    }

    /// The zone an incident's times are told in (its first installation's), and whether
    /// it began in that client's quiet hours.
    pub async fn began_at_night(
        &self,
        incident: &Incident,
    ) -> Result<(jiff::tz::TimeZone, bool), StoreError> {
        let installation = match incident.members.first() {
            Some(first) => self.store.installation(&first.installation_id).await?,
            None => None,
        };
        let Some(subject) = incidents::subject_of(incident, installation.as_ref()) else {
            return Ok((jiff::tz::TimeZone::UTC, false));
        };
        let directory = self.directory().await?;
        let routing = Routing {
            directory: &directory,
            now: incident.opened_at,
        };
        Ok((
            subject.zone.clone(),
            routing.quiet_until(&subject).is_some(),
        ))
    }

    /// `by` takes the incident and its members.
    pub async fn acknowledge_incident(
        &self,
        id: i64,
        by: &str,
    ) -> Result<Acted<Incident>, StoreError> {
        self.act_on_incident(id, |incident, now| {
            incidents::acknowledge(incident, by, now)
        })
        .await
    }

    /// `by` puts the incident and its members aside until `until`.
    pub async fn snooze_incident(
        &self,
        id: i64,
        by: &str,
        until: i64,
    ) -> Result<Acted<Incident>, StoreError> {
        self.act_on_incident(id, |incident, now| {
            incidents::snooze(incident, by, until, now)
        })
        .await
    }

    /// `by` tells everyone following the incident `text`, and with [`Reach::Clients`] its
    /// clients too, on their status pages.
    pub async fn update_incident(
        &self,
        id: i64,
        by: &str,
        text: &str,
        reach: Reach,
    ) -> Result<Acted<Incident>, StoreError> {
        self.act_on_incident(id, |incident, _| {
            Some(incidents::update(incident, by, text, reach))
        })
        .await
    }

    async fn act_on_incident<F>(&self, id: i64, decide: F) -> Result<Acted<Incident>, StoreError>
    where
        F: Fn(&Incident, i64) -> Option<incidents::IncidentDecision>,
    {
        for _ in 0..ATTEMPTS {
            let Some(incident) = self.store.incident(id).await? else {
                return Ok(Acted::NotFound);
            };
            let now = self.clock.now_ms();
            let Some(decision) = decide(&incident, now) else {
                return Ok(Acted::Unchanged(incident));
            };
            if self.store.apply_incident(&decision, now).await?.is_some() {
                self.wake();
                let incident = self.store.incident(id).await?;
                return Ok(incident.map_or(Acted::NotFound, Acted::Done));
            }
        }
        Ok(match self.store.incident(id).await? {
            Some(incident) => Acted::Unchanged(incident),
            None => Acted::NotFound,
        })
    }

    /// A plugin is gone (removed, switched off, its file deleted): its findings go and its
    /// open alerts resolve, saying `why`. Returns how many alerts.
    pub async fn retire_plugin(&self, name: &str, why: Resolution) -> Result<usize, StoreError> {
        let open = self.store.open_alerts_of_plugin(name).await?;
        let directory = self.directory().await?;
        let now = self.clock.now_ms();
        let routing = Routing {
            directory: &directory,
            now,
        };
        let changes = alerts::lifecycle::retire(&self.policy, &routing, &open, why);
        self.store.retire_plugin(name, now, &changes).await?;
        self.wake();
        Ok(changes.len())
    }

    /// Removes an installation; its open alerts resolve in the same transaction. `None`
    /// if there was no such installation.
    pub async fn remove_installation(&self, id: &str) -> Result<Option<usize>, StoreError> {
        let mut attempt = 1;
        loop {
            // An evaluation of the installation committing at the same moment can deadlock
            // with the deletion on PostgreSQL; read again and delete again.
            match self.try_remove_installation(id).await {
                Err(error) if error.conflicted() && attempt < ATTEMPTS => attempt += 1,
                outcome => return outcome,
            }
        }
    }

    async fn try_remove_installation(&self, id: &str) -> Result<Option<usize>, StoreError> {
        let open = self.store.open_alerts(id).await?;
        let directory = self.directory().await?;
        let now = self.clock.now_ms();
        let routing = Routing {
            directory: &directory,
            now,
        };
        let changes = alerts::lifecycle::retire(
            &self.policy,
            &routing,
            &open,
            Resolution::InstallationRemoved,
        );
        if !self.store.delete_installation(id, now, &changes).await? {
            return Ok(None);
        }
        self.wake();
        Ok(Some(changes.len()))
    }

    /// Checks and stores a directory entry; true if it is new.
    pub async fn put_entry(
        &self,
        kind: Kind,
        name: &str,
        spec: &serde_json::Value,
    ) -> Result<bool, EntryError> {
        let directory = self.directory().await?;
        directory
            .check_entry(kind, spec)
            .map_err(EntryError::Invalid)?;
        Ok(self
            .store
            .put_directory_entry(kind, name, spec, self.clock.now_ms())
            .await?)
    }

    /// Deletes a directory entry nothing refers to; false if there was none.
    pub async fn delete_entry(&self, kind: Kind, name: &str) -> Result<bool, EntryError> {
        let users = self.directory().await?.users_of(kind, name);
        if !users.is_empty() {
            return Err(EntryError::InUse(format!(
                "`{name}` is still used by {}: change those first",
                users.join(", ")
            )));
        }
        Ok(self.store.delete_directory_entry(kind, name).await?)
    }
}

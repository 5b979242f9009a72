//! Drains the outbox into Telegram. What may go now, and in how many calls, is
//! [`order`]'s decision (each alert's notices to one chat in the order they were queued,
//! each only after the one before it was delivered; a chat's digest before what follows
//! it); different alerts and chats go out concurrently. Deliveries are paced per chat
//! within Telegram's limits ([`Pacer`]), so flood control is rare; when it comes anyway
//! (`retry_after`) every delivery pauses as long as it says.
//!
//! Only the node holding the [`Role::Dispatch`] lease delivers. Right before its Bot API
//! call an entry is marked `sending` (by this node, since now), a compare-and-set, so two
//! nodes never both send one entry; it is marked delivered in the same transaction that
//! records it in the alert's timeline, right after Telegram accepts it. A mark nobody
//! finished (the node died, or lost the database, in between) is *interrupted*: once it is
//! older than a call can take ([`SENDING_DEADLINE`]), or at once when this node left it
//! before it started again, the entry is delivered again. An edit is idempotent (Telegram
//! answers "message is not modified"), a new message is not: it may then arrive twice,
//! and its timeline says so. At-least-once there, because a duplicated alert beats a lost
//! one.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::tz::TimeZone;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::alerts::backlog::Listing;
use crate::alerts::detail::Whom;
use crate::alerts::directory::{ClientPolicy, Destination, Kind};
use crate::alerts::incidents::Incident;
use crate::alerts::{Alert, Detail, NoticeKind};
use crate::clock::{SharedClock, wall_ms};
use crate::cluster::{Cluster, Role};
use crate::i18n::Lang;
use crate::metrics::Metrics;
use crate::notify::order::{self, Interrupted};
use crate::notify::pace::Pacer;
use crate::notify::telegram::render::{self, Reader};
use crate::notify::telegram::{DeliveryError, Telegram};
use crate::store::{OutboxEntry, Store, StoreError};
use crate::tasks::Tasks;

/// The longest a Bot API call may take before it counts as failed.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// A `sending` mark older than this was interrupted: no call outlives [`SEND_TIMEOUT`].
const SENDING_DEADLINE: Duration = Duration::from_secs(15);

/// Entries picked up per round.
const BATCH: usize = 64;
/// Deliveries in flight at once.
const CONCURRENCY: usize = 8;
/// Backoff after the n-th failed attempt: 1 s, 2 s, 4 s, ... up to this.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Even with nothing to do, look at the outbox this often (retries come due).
const IDLE_POLL: Duration = Duration::from_secs(1);

pub struct Dispatcher {
    store: Store,
    clock: SharedClock,
    telegram: Telegram,
    wake: Arc<Notify>,
    metrics: Arc<Metrics>,
    /// Wall-clock ms until which Telegram asked us to wait.
    paused_until: AtomicI64,
    pace: Mutex<Pacer>,
    voice: Voice,
    cluster: Arc<Cluster>,
    /// When this dispatcher started (wall clock, ms): marks this node left before were
    /// interrupted.
    started: i64,
}

/// How messages read, whatever they say.
#[derive(Debug, Clone)]
pub struct Voice {
    /// The service's public address, for links to the board's pages (an alert, an incident,
    /// its post-mortem).
    pub public_url: Option<String>,
    /// What chats that did not choose one read, when the configuration says.
    pub language: Option<Lang>,
}

impl Dispatcher {
    pub fn new(
        store: Store,
        clock: SharedClock,
        telegram: Telegram,
        wake: Arc<Notify>,
        metrics: Arc<Metrics>,
        voice: Voice,
        cluster: Arc<Cluster>,
    ) -> Arc<Self> {
        Arc::new(Dispatcher {
            store,
            clock,
            telegram,
            wake,
            metrics,
            paused_until: AtomicI64::new(0),
            pace: Mutex::new(Pacer::default()),
            voice,
            cluster,
            started: wall_ms(),
        })
    }

    /// Delivers in `tasks` while this node holds the dispatch lease. Told to stop, it
    /// finishes the round in flight (each call records its outcome) and starts no other.
    pub fn spawn(self: &Arc<Self>, tasks: &Tasks) {
        let dispatcher = self.clone();
        let stop = tasks.clone();
        tasks.spawn(async move {
            while !stop.is_stopping() {
                if !dispatcher.cluster.holds(Role::Dispatch) {
                    tokio::select! {
                        _ = dispatcher.cluster.wait_for(Role::Dispatch) => {}
                        _ = tokio::time::sleep(IDLE_POLL) => {}
                        _ = stop.stopping() => {}
                    }
                    continue;
                }
                let pause = match dispatcher.round().await {
                    Ok(0) => dispatcher.idle_wait().await,
                    Ok(_) => Duration::ZERO,
                    Err(error) => {
                        tracing::warn!(%error, "cannot read the outbox; retrying");
                        IDLE_POLL
                    }
                };
                if !pause.is_zero() {
                    tokio::select! {
                        _ = dispatcher.wake.notified() => {}
                        _ = tokio::time::sleep(pause) => {}
                        _ = stop.stopping() => {}
                    }
                }
            }
        });
    }

    /// How long to sleep when nothing was due: until the next retry or the flood-control
    /// pause ends, at most [`IDLE_POLL`].
    async fn idle_wait(&self) -> Duration {
        let now = wall_ms();
        let next = self.store.outbox_next_retry().await.ok().flatten();
        let until = next
            .unwrap_or(i64::MAX)
            .max(self.paused_until.load(Ordering::Relaxed));
        Duration::from_millis(
            until
                .saturating_sub(now)
                .clamp(1, IDLE_POLL.as_millis() as i64) as u64,
        )
    }

    /// Delivers what is due now; returns how many entries it attempted.
    pub async fn round(self: &Arc<Self>) -> Result<usize, StoreError> {
        let now = wall_ms();
        if now < self.paused_until.load(Ordering::Relaxed) {
            return Ok(0);
        }
        let interrupted = Interrupted {
            before: now - SENDING_DEADLINE.as_millis() as i64,
            node: self.cluster.node(),
            node_since: self.started,
        };
        let waiting = self.store.outbox_waiting().await?;
        let heads = order::heads(waiting, now, interrupted, BATCH);
        let mut attempted = 0;
        let mut running = JoinSet::new();
        let calls = {
            let mut pace = self.pace.lock().expect("pacer");
            order::calls(heads, |chat| pace.budget(chat, now))
        };
        for calls in calls {
            let paced = self
                .pace
                .lock()
                .expect("pacer")
                .take(calls[0].to.chat_id, now);
            if let Err(next) = paced {
                // The chat's budget is spent: these wait for the next one.
                for entry in &calls {
                    self.store.outbox_defer(entry, next).await?;
                }
                continue;
            }
            attempted += calls.len();
            if running.len() >= CONCURRENCY {
                running.join_next().await;
            }
            let dispatcher = self.clone();
            let span = tracing::info_span!(
                "notify.deliver",
                entry = calls[0].id,
                alert = calls[0].alert_id.unwrap_or_default(),
                kind = calls[0].kind.as_str(),
                folded = calls.len()
            );
            running.spawn(
                async move {
                    if let Err(error) = dispatcher.deliver(&calls).await {
                        tracing::warn!(%error, "delivery outcome not recorded; it will be retried");
                    }
                }
                .instrument(span),
            );
        }
        while running.join_next().await.is_some() {}
        Ok(attempted)
    }

    /// Makes one Bot API call for `entries` (one entry, or posts folded into one message)
    /// and records how it went for each: what it is about is loaded, the entries
    /// claimed, the call made, its outcome recorded.
    async fn deliver(&self, entries: &[OutboxEntry]) -> Result<(), StoreError> {
        let entry = &entries[0];
        let Some(about) = self.about(entries).await? else {
            return Ok(());
        };
        if let Err(at) = self.edit_paced(entry, &about) {
            // Too soon after the last edit of that message: later, in one edit.
            return self.store.outbox_defer(entry, at).await;
        }
        // Every edit of an incident card queued so far is shown by this one.
        let coalesce = match (&about, entry.kind) {
            (About::Incident(_), NoticeKind::Refresh) => {
                Some(self.store.latest_refresh(entry).await?)
            }
            _ => None,
        };
        let reader = self.reader(entry, &about).await?;
        // Checked as late as possible: another delivery may just have met flood control.
        if wall_ms() < self.paused_until.load(Ordering::Relaxed) {
            return Ok(());
        }
        if !self.claim(entries).await? {
            return Ok(());
        }
        let outcome = self.call(entries, &about, &reader).await;
        self.record(entries, &about, outcome, coalesce).await
    }

    /// What `entries` are about, as it is now; `None` when it is gone.
    async fn about(&self, entries: &[OutboxEntry]) -> Result<Option<About>, StoreError> {
        let entry = &entries[0];
        Ok(Some(
            match (entries.len(), entry.alert_id, entry.incident_id) {
                (1, Some(id), _) => match self.store.alert(id).await? {
                    Some(alert) => {
                        let thread = self.story_message(&alert, entry).await?;
                        About::Alert(Box::new(alert), thread)
                    }
                    None => return Ok(None),
                },
                (1, None, Some(id)) => match self.store.incident(id).await? {
                    Some(incident) => About::Incident(Box::new(incident)),
                    None => return Ok(None),
                },
                (1, None, None) => {
                    let (listing, alerts) = self.listing(entry).await?;
                    About::Digest(listing, alerts)
                }
                _ => {
                    let ids: Vec<i64> = entries.iter().filter_map(|e| e.alert_id).collect();
                    About::Folded(self.store.alerts_by_id(&ids).await?)
                }
            },
        ))
    }

    /// For an edit, whether its message may be edited now (and then counts it), or when
    /// it may.
    fn edit_paced(&self, entry: &OutboxEntry, about: &About) -> Result<(), i64> {
        if entry.kind != NoticeKind::Refresh {
            return Ok(());
        }
        let message = match about {
            About::Alert(alert, _) => alert.message_in(entry.to),
            About::Incident(incident) => incident.message_in(entry.to),
            _ => None,
        };
        match message {
            Some(message) => {
                self.pace
                    .lock()
                    .expect("pacer")
                    .edit(entry.to.chat_id, message, wall_ms())
            }
            None => Ok(()),
        }
    }

    /// Who reads it: the zone of the installation it is about, the chat's language.
    async fn reader(&self, entry: &OutboxEntry, about: &About) -> Result<Reader, StoreError> {
        let zone_of = match about {
            About::Incident(incident) => {
                incident.members.first().map(|m| m.installation_id.as_str())
            }
            About::Alert(alert, _) => Some(alert.installation_id.as_str()),
            About::Digest(_, alerts) | About::Folded(alerts) => {
                alerts.first().map(|a| a.installation_id.as_str())
            }
        };
        let installation = match zone_of {
            Some(id) => self.store.installation(id).await?,
            None => None,
        };
        // The chat's own choice, else its client's policy, else the service's.
        let lang = match self.store.chat_lang(entry.to.chat_id).await? {
            Some(lang) => lang,
            None => {
                let policy = match &installation {
                    Some(i) => self
                        .store
                        .directory_entry(Kind::ClientPolicy, &i.client)
                        .await?
                        .and_then(|spec| serde_json::from_value::<ClientPolicy>(spec).ok())
                        .and_then(|policy| policy.language),
                    None => None,
                };
                match policy {
                    Some(lang) => lang,
                    None => self.store.chats_read(self.voice.language).await?,
                }
            }
        };
        Ok(Reader {
            board: self.voice.public_url.clone(),
            tz: installation.map_or(TimeZone::UTC, |i| i.time_zone()),
            lang,
        })
    }

    /// The Bot API call, bounded by [`SEND_TIMEOUT`]; the id of a message it sent.
    async fn call(
        &self,
        entries: &[OutboxEntry],
        about: &About,
        reader: &Reader,
    ) -> Result<Option<i64>, DeliveryError> {
        let entry = &entries[0];
        let call = async {
            match about {
                About::Folded(alerts) => {
                    let html = render::folded(alerts, reader);
                    let silent = entries.iter().all(|e| e.silent);
                    self.telegram
                        .send(entry.to, &html, &[], None, silent)
                        .await
                        .map(Some)
                }
                _ => self.send(entry, about, reader).await,
            }
        };
        tokio::time::timeout(SEND_TIMEOUT, call)
            .await
            .unwrap_or_else(|_| {
                self.telegram.timed_out();
                Err(DeliveryError::Transient(format!(
                    "no answer from Telegram within {SEND_TIMEOUT:?}"
                )))
            })
    }

    /// Records the call's `outcome` for each of `entries`: delivered (with where, in the
    /// timeline), to be retried, given up on, or every delivery paused for flood control.
    async fn record(
        &self,
        entries: &[OutboxEntry],
        about: &About,
        outcome: Result<Option<i64>, DeliveryError>,
        coalesce: Option<i64>,
    ) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        if let Err(DeliveryError::RetryAfter(wait)) = &outcome {
            let until = wall_ms() + wait.as_millis() as i64;
            self.paused_until.fetch_max(until, Ordering::Relaxed);
            tracing::warn!(?wait, "Telegram flood control: pausing deliveries");
            for entry in entries {
                self.store
                    .outbox_retry(entry, now, &format!("rate limited for {wait:?}"), until)
                    .await?;
            }
            self.store.outbox_hold_all(until).await?;
            self.metrics.notification("rate-limited");
            return Ok(());
        }
        for entry in entries {
            match &outcome {
                Ok(message_id) => {
                    let (living, known) = match about {
                        About::Alert(alert, _) => (*message_id, alert.message_in(entry.to)),
                        About::Incident(incident) => (*message_id, incident.message_in(entry.to)),
                        About::Digest(..) => (*message_id, None),
                        // One message for many: none of them has a living message there.
                        About::Folded(_) => (None, None),
                    };
                    let detail = delivered(entry, entries.len(), about, message_id.or(known));
                    self.store
                        .outbox_delivered(entry, now, living, &detail)
                        .await?;
                    if let Some(upto) = coalesce {
                        self.store.outbox_coalesced(entry, upto, now).await?;
                    }
                    self.metrics.notification("delivered");
                }
                Err(DeliveryError::Transient(error)) => {
                    let backoff =
                        Duration::from_secs(1 << entry.attempts.clamp(0, 6)).min(MAX_BACKOFF);
                    tracing::warn!(%error, attempts = entry.attempts + 1, retry_in = ?backoff, "delivery failed; will retry");
                    self.store
                        .outbox_retry(entry, now, error, wall_ms() + backoff.as_millis() as i64)
                        .await?;
                    self.metrics.notification("retried");
                }
                Err(DeliveryError::Permanent(error)) => {
                    tracing::error!(%error, chat = entry.to.chat_id, "delivery impossible; giving up on this notification");
                    self.store.outbox_failed(entry, now, error).await?;
                    self.metrics.notification("failed");
                }
                Err(DeliveryError::RetryAfter(_)) => unreachable!("handled above"),
            }
        }
        Ok(())
    }

    /// Marks `entries` as being sent by this node; false (and nothing marked) if any is
    /// no longer as it was read: another node got to it. An entry whose earlier attempt
    /// was interrupted is always made again (a lost alert is worse than a repeated one), and
    /// the timeline says what that risks (`Detail::Interrupted`).
    async fn claim(&self, entries: &[OutboxEntry]) -> Result<bool, StoreError> {
        let node = self.cluster.node();
        for (n, entry) in entries.iter().enumerate() {
            let resent = entry.interrupted.map(|at| {
                let detail = Detail::Interrupted {
                    notice: entry.kind,
                    seconds: (wall_ms() - at).max(0) / 1000,
                };
                (self.clock.now_ms(), detail)
            });
            let interrupted = resent.is_some();
            if !self
                .store
                .outbox_claim(entry, node, wall_ms(), resent)
                .await?
            {
                for taken in &entries[..n] {
                    self.store.outbox_release(taken, node).await?;
                }
                return Ok(false);
            }
            if interrupted {
                self.metrics.notification("interrupted");
            }
        }
        Ok(true)
    }

    /// For a post of an alert that joins its installation's story, the story's first
    /// message in the same chat, to reply to.
    async fn story_message(
        &self,
        alert: &Alert,
        entry: &OutboxEntry,
    ) -> Result<Option<i64>, StoreError> {
        if entry.kind != NoticeKind::Post || alert.story_id == alert.id {
            return Ok(None);
        }
        Ok(self
            .store
            .alert(alert.story_id)
            .await?
            .and_then(|head| head.message_in(entry.to)))
    }

    /// What a listing (a digest, a backlog's message) lists, with its alerts as they are
    /// now.
    async fn listing(&self, entry: &OutboxEntry) -> Result<(Listing, Vec<Alert>), StoreError> {
        let listing = entry
            .payload
            .as_deref()
            .and_then(Listing::parse)
            .unwrap_or(Listing::Held(Vec::new()));
        let alerts = self.store.alerts_by_id(listing.alerts()).await?;
        Ok((listing, alerts))
    }

    /// Makes the Bot API call `entry` stands for; returns the id of a message it sent.
    async fn send(
        &self,
        entry: &OutboxEntry,
        about: &About,
        reader: &Reader,
    ) -> Result<Option<i64>, DeliveryError> {
        let to: Destination = entry.to;
        let (alert, story) = match about {
            About::Incident(incident) => return self.send_incident(entry, incident, reader).await,
            About::Digest(listing, alerts) => {
                let html = match listing {
                    Listing::Held(_) => render::digest(alerts, reader),
                    Listing::Unheard {
                        installation,
                        from,
                        until,
                        ..
                    } => render::unheard(installation, *from, *until, alerts, reader),
                };
                return self
                    .telegram
                    .send(to, &html, &[], None, entry.silent)
                    .await
                    .map(Some);
            }
            About::Alert(alert, story) => (alert, *story),
            About::Folded(_) => unreachable!("a fold is one message, sent by `deliver`"),
        };
        let living = alert.message_in(to);
        match entry.kind {
            NoticeKind::Post => {
                let (html, buttons) = render::living(alert, reader);
                self.telegram
                    .send(to, &html, &buttons, story, entry.silent)
                    .await
                    .map(Some)
            }
            NoticeKind::Refresh => {
                // Its post was folded into a summary: there is nothing of its own to edit.
                let Some(message_id) = living else {
                    return Ok(None);
                };
                let (html, buttons) = render::living(alert, reader);
                self.telegram
                    .edit(to.chat_id, message_id, &html, &buttons)
                    .await
                    .map(|()| None)
            }
            NoticeKind::ResolvedReply => {
                self.reply(entry, living, render::resolved_reply(alert, reader))
                    .await
            }
            NoticeKind::Raised => {
                self.reply(entry, living, render::raised_reply(alert, reader))
                    .await
            }
            NoticeKind::Reminder => {
                self.reply(entry, living, render::reminder_reply(alert, reader))
                    .await
            }
            NoticeKind::Digest => Err(DeliveryError::Permanent(
                "a digest entry names an alert".into(),
            )),
        }
    }
}

impl Dispatcher {
    /// A short reply to the living message `living` (or a message of its own, when there
    /// is none to reply to), for `entry`'s chat.
    async fn reply(
        &self,
        entry: &OutboxEntry,
        living: Option<i64>,
        html: String,
    ) -> Result<Option<i64>, DeliveryError> {
        self.telegram
            .send(entry.to, &html, &[], living, entry.silent)
            .await
            .map(Some)
    }

    /// Makes the Bot API call an incident's notice stands for.
    async fn send_incident(
        &self,
        entry: &OutboxEntry,
        incident: &Incident,
        reader: &Reader,
    ) -> Result<Option<i64>, DeliveryError> {
        let to = entry.to;
        let living = incident.message_in(to);
        let link = self
            .voice
            .public_url
            .as_ref()
            .map(|base| format!("{base}/incidents/{}/postmortem", incident.id));
        let card = || render::incident(incident, reader, link.as_deref());
        match entry.kind {
            NoticeKind::Post => {
                let (html, buttons) = card();
                self.telegram
                    .send(to, &html, &buttons, None, entry.silent)
                    .await
                    .map(Some)
            }
            NoticeKind::Refresh => {
                let Some(message_id) = living else {
                    return Ok(None);
                };
                let (html, buttons) = card();
                self.telegram
                    .edit(to.chat_id, message_id, &html, &buttons)
                    .await
                    .map(|()| None)
            }
            NoticeKind::ResolvedReply => {
                self.reply(
                    entry,
                    living,
                    render::incident_resolved_reply(incident, reader),
                )
                .await
            }
            NoticeKind::Reminder | NoticeKind::Raised => {
                self.reply(
                    entry,
                    living,
                    render::incident_reminder_reply(incident, reader),
                )
                .await
            }
            NoticeKind::Digest => Err(DeliveryError::Permanent(
                "a digest entry names an incident".into(),
            )),
        }
    }
}

/// The timeline's words for a delivered entry (one of `of` in its call): what, where,
/// which message, to whom.
fn delivered(entry: &OutboxEntry, of: usize, about: &About, message: Option<i64>) -> Detail {
    let mut to = Whom::chat(entry.to.chat_id);
    let known = match about {
        About::Alert(alert, _) => alert
            .destinations
            .iter()
            .find(|d| d.to() == entry.to)
            .map(|d| (d.role, &d.contact)),
        About::Incident(incident) => incident
            .destinations
            .iter()
            .find(|d| d.to() == entry.to)
            .map(|d| (d.role, &d.contact)),
        About::Digest(..) | About::Folded(_) => None,
    };
    if let Some((role, contact)) = known {
        to.role = Some(role);
        to.contact.clone_from(contact);
    }
    Detail::Notified {
        notice: entry.kind,
        to,
        folded: of > 1,
        message,
        silent: entry.silent,
    }
}

/// What a delivery is about.
enum About {
    Incident(Box<Incident>),
    /// An alert, and for its post the message of its story to reply to.
    Alert(Box<Alert>, Option<i64>),
    Digest(Listing, Vec<Alert>),
    /// New alerts folded into one message.
    Folded(Vec<Alert>),
}

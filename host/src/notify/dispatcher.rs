//! Drains the outbox into Telegram. Each alert's notices leave in the order they were
//! queued, each only after the one before it was delivered (nobody sees "resolved" before
//! "firing"); different alerts go out concurrently. Failures are retried with backoff;
//! Telegram's flood control (`retry_after`) pauses every delivery as long as it says.
//!
//! An entry is marked delivered in the same transaction that records it in the alert's
//! timeline, right after Telegram accepts it. A crash between Telegram's answer and that
//! commit (a few milliseconds) is the one moment an entry can be sent again on restart:
//! at-least-once there, because a duplicated alert beats a lost one.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jiff::tz::TimeZone;
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};
use tracing::Instrument;

use crate::alerts::NoticeKind;
use crate::clock::SharedClock;
use crate::metrics::Metrics;
use crate::notify::telegram::{DeliveryError, Telegram, render};
use crate::store::{Alert, OutboxEntry, Store, StoreError};

/// Entries picked up per round.
const BATCH: i64 = 64;
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
}

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Dispatcher {
    pub fn new(
        store: Store,
        clock: SharedClock,
        telegram: Telegram,
        wake: Arc<Notify>,
        metrics: Arc<Metrics>,
    ) -> Arc<Self> {
        Arc::new(Dispatcher {
            store,
            clock,
            telegram,
            wake,
            metrics,
            paused_until: AtomicI64::new(0),
        })
    }

    pub fn spawn(self: &Arc<Self>) -> JoinHandle<()> {
        let dispatcher = self.clone();
        tokio::spawn(async move {
            loop {
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
                    }
                }
            }
        })
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
        let heads = self.store.outbox_heads(now, BATCH).await?;
        let attempted = heads.len();
        let mut running = JoinSet::new();
        for entry in heads {
            if running.len() >= CONCURRENCY {
                running.join_next().await;
            }
            let dispatcher = self.clone();
            let span = tracing::info_span!(
                "notify.deliver",
                entry = entry.id,
                alert = entry.alert_id,
                kind = entry.kind.as_str()
            );
            running.spawn(
                async move {
                    if let Err(error) = dispatcher.deliver(&entry).await {
                        tracing::warn!(%error, "delivery outcome not recorded; it will be retried");
                    }
                }
                .instrument(span),
            );
        }
        while running.join_next().await.is_some() {}
        Ok(attempted)
    }

    async fn deliver(&self, entry: &OutboxEntry) -> Result<(), StoreError> {
        let Some(alert) = self.store.alert(entry.alert_id).await? else {
            return Ok(());
        };
        let tz = self.store.installation_zone(&alert.installation_id).await?;
        // Checked as late as possible: another delivery may just have met flood control.
        if wall_ms() < self.paused_until.load(Ordering::Relaxed) {
            return Ok(());
        }
        let outcome = self.send(entry, &alert, &tz).await;
        let now = self.clock.now_ms();
        match outcome {
            Ok(message_id) => {
                let detail = format!(
                    "{} in Telegram chat {}{}",
                    entry.kind.as_str(),
                    entry.chat_id,
                    message_id
                        .or(alert.message_id)
                        .map(|m| format!(", message {m}"))
                        .unwrap_or_default()
                );
                self.store
                    .outbox_delivered(entry, now, message_id, &detail)
                    .await?;
                self.metrics.notification("delivered");
            }
            Err(DeliveryError::RetryAfter(wait)) => {
                let until = wall_ms() + wait.as_millis() as i64;
                self.paused_until.fetch_max(until, Ordering::Relaxed);
                tracing::warn!(?wait, "Telegram flood control: pausing deliveries");
                self.store
                    .outbox_retry(entry, now, &format!("rate limited for {wait:?}"), until)
                    .await?;
                self.store.outbox_hold_all(until).await?;
                self.metrics.notification("rate-limited");
            }
            Err(DeliveryError::Transient(error)) => {
                let backoff = Duration::from_secs(1 << entry.attempts.clamp(0, 6)).min(MAX_BACKOFF);
                tracing::warn!(%error, attempts = entry.attempts + 1, retry_in = ?backoff, "delivery failed; will retry");
                self.store
                    .outbox_retry(entry, now, &error, wall_ms() + backoff.as_millis() as i64)
                    .await?;
                self.metrics.notification("retried");
            }
            Err(DeliveryError::Permanent(error)) => {
                tracing::error!(%error, chat = entry.chat_id, "delivery impossible; giving up on this notification");
                self.store.outbox_failed(entry, now, &error).await?;
                self.metrics.notification("failed");
            }
        }
        Ok(())
    }

    /// Makes the Bot API call `entry` stands for; returns the id of a message it sent.
    async fn send(
        &self,
        entry: &OutboxEntry,
        alert: &Alert,
        tz: &TimeZone,
    ) -> Result<Option<i64>, DeliveryError> {
        let reply = |html: String| async move {
            self.telegram
                .send(entry.chat_id, &html, &[], alert.message_id)
                .await
                .map(Some)
        };
        match entry.kind {
            NoticeKind::Post => {
                let (html, buttons) = render::living(alert, tz);
                self.telegram
                    .send(entry.chat_id, &html, &buttons, None)
                    .await
                    .map(Some)
            }
            NoticeKind::Refresh => {
                let Some(message_id) = alert.message_id else {
                    return Err(DeliveryError::Permanent(
                        "no living message to edit: its post was never delivered".into(),
                    ));
                };
                let (html, buttons) = render::living(alert, tz);
                self.telegram
                    .edit(entry.chat_id, message_id, &html, &buttons)
                    .await
                    .map(|()| None)
            }
            NoticeKind::ResolvedReply => reply(render::resolved_reply(alert)).await,
            NoticeKind::Raised => reply(render::raised_reply(alert)).await,
            NoticeKind::Reminder => reply(render::reminder_reply(alert)).await,
        }
    }
}

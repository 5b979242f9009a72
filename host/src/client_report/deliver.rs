//! Reports sent on their own: on the first working morning of a month or quarter
//! (`[client_reports] schedule`), each client's report for the period just ended goes to
//! its managers' chats as a document. Each (client, period, chat) is claimed in the
//! database before it is sent, so it goes out once however many times, or on however many
//! nodes, the clockwork looks; a send that failed for a passing reason gives its claim
//! back and is tried at the next look.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;

use super::{Cadence, Format, Period, ReportError, Reports, pdf};
use crate::alerts::directory::{ClientPolicy, Destination};
use crate::clock::SharedClock;
use crate::i18n::Lang;
use crate::notify::telegram::{DeliveryError, Telegram};
use crate::store::{Store, StoreError};
use crate::tasks::Tasks;

pub struct Delivery {
    pub reports: Arc<Reports>,
    pub store: Store,
    pub telegram: Telegram,
    pub clock: SharedClock,
    /// `[telegram] language`, for chats that chose none, when the configuration says.
    pub language: Option<Lang>,
}

/// One client's due report.
struct Due {
    client: String,
    period: Period,
    chats: Vec<Destination>,
}

impl Delivery {
    /// Looks at once and then every `interval`, in `tasks`.
    pub fn spawn(self: &Arc<Self>, interval: Duration, tasks: &Tasks) {
        let delivery = self.clone();
        let stop = tasks.clone();
        tasks.spawn(async move {
            loop {
                if let Err(error) = delivery.run_due().await {
                    tracing::warn!(%error, "client reports not sent; trying at the next look");
                }
                if !stop.pause(interval).await {
                    return;
                }
            }
        });
    }

    /// Sends what is due now; returns how many documents went out.
    pub async fn run_due(&self) -> Result<usize, StoreError> {
        let Some(cadence) = self.reports.settings().schedule else {
            return Ok(0);
        };
        let now = self.clock.now_ms();
        let mut sent = 0;
        for due in self.due(cadence, now).await? {
            let key = due.period.key();
            for to in &due.chats {
                if !self
                    .store
                    .claim_delivery(&due.client, &key, to.chat_id, now)
                    .await?
                {
                    continue;
                }
                let span = tracing::info_span!("client report", client = %due.client, period = %due.period, chat = to.chat_id);
                let _enter = span.enter();
                match self.send(&due, *to).await {
                    Ok(()) => {
                        sent += 1;
                        tracing::info!("client report sent");
                        self.store
                            .delivery_done(&due.client, &key, to.chat_id, now, None)
                            .await?;
                    }
                    Err(Failure::Again(error)) => {
                        tracing::warn!(%error, "client report not sent; trying again later");
                        self.store
                            .release_delivery(&due.client, &key, to.chat_id)
                            .await?;
                    }
                    Err(Failure::Never(error)) => {
                        tracing::error!(%error, "client report cannot be sent to this chat");
                        self.store
                            .delivery_done(&due.client, &key, to.chat_id, now, Some(&error))
                            .await?;
                    }
                }
            }
        }
        Ok(sent)
    }

    /// Each client whose first working morning of the period has come, with its period
    /// just ended and its managers' chats.
    async fn due(&self, cadence: Cadence, now: i64) -> Result<Vec<Due>, StoreError> {
        let directory = self.store.directory().await?;
        // Per client: its clock, its managers' chats, and when its first installation was
        // registered (a period that ended before has nothing to tell).
        let mut clients: BTreeMap<String, (TimeZone, Vec<Destination>, i64)> = BTreeMap::new();
        for installation in self.store.installations().await? {
            let policy = directory.policies.get(&installation.client);
            let (_, chats, since) =
                clients
                    .entry(installation.client.clone())
                    .or_insert_with(|| {
                        let own = installation.time_zone();
                        let zone = policy.map_or_else(|| own.clone(), |p| p.zone_or(&own));
                        (zone, Vec::new(), installation.created_at)
                    });
            *since = (*since).min(installation.created_at);
            let to = Destination {
                chat_id: installation.telegram_chat_id,
                thread_id: policy.and_then(|p| p.manager_thread_id).unwrap_or(0),
            };
            if !chats.contains(&to) {
                chats.push(to);
            }
        }
        let send_at = self.reports.settings().send_at;
        let mut due = Vec::new();
        for (client, (zone, chats, since)) in clients {
            let Ok(local) =
                jiff::Timestamp::from_millisecond(now).map(|t| t.to_zoned(zone.clone()))
            else {
                continue;
            };
            let period = Period::previous(cadence, local.date());
            if since >= period.instants(&zone).1 {
                continue;
            }
            let policy = directory.policies.get(&client).cloned().unwrap_or_default();
            let morning = first_working_day(period.until, &policy);
            if local.date() > morning || (local.date() == morning && local.time() >= send_at) {
                due.push(Due {
                    client,
                    period,
                    chats,
                });
            }
        }
        Ok(due)
    }

    async fn send(&self, due: &Due, to: Destination) -> Result<(), Failure> {
        let lang = self
            .store
            .chat_lang(to.chat_id)
            .await
            .map_err(|e| Failure::Again(e.to_string()))?;
        let lang = match lang {
            Some(lang) => lang,
            None => self
                .store
                .chats_read(self.language)
                .await
                .map_err(|e| Failure::Again(e.to_string()))?,
        };
        let written = match self
            .reports
            .write(&due.client, &due.period, lang, Format::Pdf)
            .await
        {
            Err(ReportError::Pdf(pdf::PdfError::NoChromium)) => {
                self.reports
                    .write(&due.client, &due.period, lang, Format::Html)
                    .await
            }
            other => other,
        }
        .map_err(|e| match e {
            ReportError::UnknownClient(_) => Failure::Never(e.to_string()),
            e => Failure::Again(e.to_string()),
        })?;
        let caption = lang.t_with(
            "cr-caption",
            &[
                (
                    "client",
                    crate::notify::telegram::render::escape(&due.client).into(),
                ),
                ("period", due.period.to_string().into()),
            ],
        );
        self.telegram
            .send_document(to, &written.file_name, written.bytes, &caption)
            .await
            .map(|_| ())
            .map_err(|e| match e {
                DeliveryError::Permanent(text) => Failure::Never(text),
                other => Failure::Again(other.to_string()),
            })
    }
}

enum Failure {
    /// Passing: the claim is given back.
    Again(String),
    /// Will not change by trying again (no such chat, the client is gone).
    Never(String),
}

/// The first day from `from` on that is neither a weekend nor a holiday of the client's.
fn first_working_day(from: Date, policy: &ClientPolicy) -> Date {
    let mut day = from;
    for _ in 0..31 {
        let weekend = matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday);
        if !weekend && !policy.is_holiday(day) {
            return day;
        }
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    day
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_first_working_morning_skips_weekends_and_holidays() {
        let russian = ClientPolicy {
            holiday_calendars: vec!["ru".into()],
            ..ClientPolicy::default()
        };
        // 1 January 2027 is a Friday; the New Year holidays run to the 8th (a Friday).
        assert_eq!(
            first_working_day(date(2027, 1, 1), &russian),
            date(2027, 1, 11)
        );
        assert_eq!(
            first_working_day(date(2027, 1, 1), &ClientPolicy::default()),
            date(2027, 1, 1)
        );
        // 1 November 2026 is a Sunday.
        assert_eq!(
            first_working_day(date(2026, 11, 1), &ClientPolicy::default()),
            date(2026, 11, 2)
        );
    }
}

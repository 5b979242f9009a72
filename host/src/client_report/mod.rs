//! Client reports: what a distributor shows a client for a quarter, a month or any run of
//! days: its problems and how fast they were acknowledged and resolved, how available
//! its installations were, seats, shell versions, update freshness, and the post-mortems.
//! `figures.rs` computes (pure), `render.rs` writes HTML for print and CSV, `pdf.rs`
//! prints the HTML with headless Chromium, `deliver.rs` sends them to managers' chats on
//! schedule. The API, the board and `reveille report` all come through [`Reports`].

pub mod availability;
pub mod deliver;
pub mod figures;
pub mod pdf;
pub mod period;
mod render;

pub use render::{bar, percent};

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jiff::civil::Time;
use jiff::tz::TimeZone;

use crate::alerts::On;
use crate::clock::SharedClock;
use crate::i18n::Lang;
use crate::plugins::Runtime;
use crate::postmortem::Sections;
use crate::store::{Store, StoreError};
pub use figures::ClientReport;
pub use period::{Cadence, Period};

/// `[client_reports]`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Silence shorter than this after a report does not count against availability.
    pub silence_grace: Duration,
    /// How long the report log is kept (reports themselves go after `report_retention`).
    pub history_retention: Duration,
    /// Reports sent to managers' chats on their own; `None`: only on request.
    pub schedule: Option<Cadence>,
    /// The hour (on the client's clock) they go out on the first working day.
    pub send_at: Time,
    /// The Chromium to print PDFs with; `None`: looked up on `PATH`.
    pub chromium: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            silence_grace: Duration::from_secs(2 * 3600),
            history_retention: Duration::from_secs(800 * 86_400),
            schedule: None,
            send_at: Time::constant(9, 0, 0, 0),
            chromium: None,
        }
    }
}

/// What a report can be written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Pdf,
    Csv,
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "html" => Ok(Format::Html),
            "pdf" => Ok(Format::Pdf),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            other => Err(format!("format `{other}`: expected html, pdf, csv or json")),
        }
    }
}

/// A written report: its bytes, media type and a file name for it.
#[derive(Debug)]
pub struct Written {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub file_name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("no installation of client `{0}` is registered")]
    UnknownClient(String),
    #[error(transparent)]
    Pdf(#[from] pdf::PdfError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The one door to client reports.
pub struct Reports {
    store: Store,
    runtime: Arc<Runtime>,
    clock: SharedClock,
    settings: Settings,
}

impl Reports {
    pub fn new(
        store: Store,
        runtime: Arc<Runtime>,
        clock: SharedClock,
        settings: Settings,
    ) -> Arc<Reports> {
        Arc::new(Reports {
            store,
            runtime,
            clock,
            settings,
        })
    }

    /// Silence shorter than this after a report is not downtime, in ms (`silence_grace`),
    /// for client reports and status pages alike.
    pub fn grace_ms(&self) -> i64 {
        i64::try_from(self.settings.silence_grace.as_millis()).unwrap_or(i64::MAX)
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// `client`'s report for `period`, in `lang`.
    #[tracing::instrument(skip(self, period), fields(period = %period))]
    pub async fn build(
        &self,
        client: &str,
        period: &Period,
        lang: Lang,
    ) -> Result<ClientReport, ReportError> {
        self.compose(client, lang, |_| period.clone()).await
    }

    /// `client`'s figures over the `days` days ending today on the client's own clock
    /// (its page's availability): "today" is the client's, not the reader's, or the
    /// period could end before the report it is about.
    #[tracing::instrument(skip(self))]
    pub async fn last_days(
        &self,
        client: &str,
        days: i64,
        lang: Lang,
    ) -> Result<ClientReport, ReportError> {
        let now = self.clock.now_ms();
        self.compose(client, lang, |zone| {
            let today = jiff::Timestamp::from_millisecond(now)
                .map(|t| t.to_zoned(zone.clone()).date())
                .unwrap_or_default();
            Period::ending(today, days)
        })
        .await
    }

    /// `client`'s report for the period `period` says on the client's clock.
    async fn compose(
        &self,
        client: &str,
        lang: Lang,
        period: impl FnOnce(&TimeZone) -> Period,
    ) -> Result<ClientReport, ReportError> {
        let store = &self.store;
        let installations = store.installations_of(client).await?;
        let Some(first) = installations.first() else {
            return Err(ReportError::UnknownClient(client.to_string()));
        };
        let directory = store.directory().await?;
        let policy = directory.policies.get(client);
        let zone = policy.map_or_else(|| first.time_zone(), |p| p.zone_or(&first.time_zone()));
        let period = &period(&zone);
        let (from, to) = period.instants(&zone);
        let ids: Vec<String> = installations.iter().map(|i| i.id.clone()).collect();
        let log = store.report_log(&ids, from, to).await?;
        let host_down = store.downtime().await?.0;
        let mut alerts = store.alerts_fired(client, from, to).await?;
        // A test alert tried the way to the distributor's people; the client had nothing.
        alerts.retain(|a| !a.is_test());
        let alert_ids: Vec<i64> = alerts.iter().map(|a| a.id).collect();
        let timelines = store.timelines(&alert_ids).await?;
        let incidents = store.client_incidents(client, from, to).await?;
        let mut postmortems = BTreeMap::new();
        let subjects = incidents.iter().map(|i| On::Incident(i.id)).chain(
            alerts
                .iter()
                .filter(|a| a.incident_id.is_none())
                .map(|a| On::Alert(a.id)),
        );
        for on in subjects {
            if let Some(sections) = store
                .postmortem(on)
                .await?
                .and_then(|json| serde_json::from_str::<Sections>(&json).ok())
            {
                postmortems.insert(figures::reference(on), sections);
            }
        }
        let minimum = self
            .runtime
            .minimum_shell(&store.client_settings(client).await?);
        let grace = self.grace_ms();
        Ok(figures::compute(&figures::Facts {
            client,
            period,
            zone: &zone,
            now: self.clock.now_ms(),
            lang,
            installations: &installations,
            log: &log,
            host_down: &host_down,
            maintenance: &directory.maintenance,
            alerts: &alerts,
            timelines: &timelines,
            incidents: &incidents,
            policy,
            minimum: minimum.as_deref(),
            grace,
            postmortems: &postmortems,
        }))
    }

    /// `client`'s report for `period` written as `format`.
    pub async fn write(
        &self,
        client: &str,
        period: &Period,
        lang: Lang,
        format: Format,
    ) -> Result<Written, ReportError> {
        let report = self.build(client, period, lang).await?;
        let name = file_name(client, period);
        Ok(match format {
            Format::Csv => Written {
                bytes: render::csv(&report).into_bytes(),
                content_type: "text/csv; charset=utf-8",
                file_name: format!("{name}.csv"),
            },
            Format::Json => Written {
                bytes: serde_json::to_vec_pretty(&report).unwrap_or_default(),
                content_type: "application/json",
                file_name: format!("{name}.json"),
            },
            Format::Html => Written {
                bytes: render::html(&report, lang).into_bytes(),
                content_type: "text/html; charset=utf-8",
                file_name: format!("{name}.html"),
            },
            Format::Pdf => Written {
                bytes: pdf::print(
                    self.settings.chromium.as_deref(),
                    &render::html(&report, lang),
                )
                .await?,
                content_type: "application/pdf",
                file_name: format!("{name}.pdf"),
            },
        })
    }
}

/// `report-<client>-<period>`, with only letters, digits and dashes from the client's name
/// (Cyrillic kept: file systems and Telegram take it).
fn file_name(client: &str, period: &Period) -> String {
    let mut slug = String::new();
    for c in client.chars() {
        if c.is_alphanumeric() {
            slug.extend(c.to_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    format!("report-{}-{}", slug.trim_end_matches('-'), period.key())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_letters() {
        let q = Period::quarter("2026Q4").unwrap();
        assert_eq!(file_name("ООО «Вектор»", &q), "report-ооо-вектор-2026Q4");
    }

    #[test]
    fn formats() {
        assert_eq!("pdf".parse::<Format>(), Ok(Format::Pdf));
        assert!("docx".parse::<Format>().unwrap_err().contains("docx"));
    }
}

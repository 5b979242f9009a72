//! One installation's history, walked: its stored reports in the order they came, with a
//! tick every `tick_every` between them (on a grid, so every installation ticks at the
//! same moments), each evaluated by every variant (the candidate, and the revision serving
//! now) with a state of its own that starts empty, on the clock of those reports.
//!
//! Pages of reports are read here, on the service's threads; each page is evaluated on the
//! plugin runtime's offline threads, where the stored documents are decoded too, so a
//! replay neither takes the threads live evaluations run on nor weighs on the ones that
//! serve HTTP and talk to the database.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio_util::sync::CancellationToken;

use super::timeline::{Episode, Timeline};
use super::{FailureNote, Failures};
use crate::alerts::AlertPolicy;
use crate::fleet::Installation;
use crate::plugins::contract::{EvalInput, InstallationInfo, Trigger};
use crate::plugins::loader::Revision;
use crate::plugins::{FailureKind, Runtime};
use crate::report::{Document, judged_at};
use crate::store::{Downtime, HistoricReport, PROBE_AGENT, Settings, Store, StoreError};

/// Reports read from the database at a time, per installation.
const PAGE: i64 = 256;

/// Failures quoted per variant and installation (all are counted, by kind).
const EXAMPLES: usize = 3;

/// What every walk of one replay shares.
pub struct Shared {
    pub store: Store,
    pub runtime: Arc<Runtime>,
    pub policy: Arc<AlertPolicy>,
    pub downtime: Arc<Downtime>,
    /// Every client's own plugin settings, read once for the whole replay.
    pub client_settings: HashMap<String, Settings>,
    pub from: i64,
    pub until: i64,
    pub tick_every: i64,
    pub max_reports: u64,
    pub counts: Counts,
    /// Cancelled to stop every walk: the deadline, the cap on reports, an admin, shutdown.
    pub stop: CancellationToken,
}

/// Totals over every walk, read for progress while they run.
#[derive(Default)]
pub struct Counts {
    pub reports: AtomicU64,
    pub ticks: AtomicU64,
    pub evaluations: AtomicU64,
    pub failures: AtomicU64,
    pub installations_done: AtomicU64,
    /// Set when the cap on reports stopped the replay.
    pub capped: std::sync::atomic::AtomicBool,
}

/// A revision to replay, with the settings asked for it (over the host's and each
/// client's, as it runs live).
#[derive(Clone)]
pub struct Variant {
    pub revision: Arc<Revision>,
    pub overrides: BTreeMap<String, String>,
}

/// One installation walked: per variant, the alerts it would have fired and its failures
/// (by kind, and a few quoted).
pub struct Walked {
    pub episodes: Vec<Vec<Episode>>,
    pub failures: Vec<Failures>,
    /// The time the walk reached: the end of the window, unless the replay was stopped.
    pub reached: i64,
}

/// One variant's replay on one installation.
struct Track {
    revision: Arc<Revision>,
    config: BTreeMap<String, String>,
    state: BTreeMap<String, String>,
    timeline: Timeline,
    failures: Failures,
}

/// The installation's latest report from its own agents, which a tick reads.
struct Latest {
    /// When it is judged as of (`report::judged_at`).
    at: i64,
    document: Arc<Document>,
}

/// What moves between the database side and the offline threads with each page.
struct Walk {
    installation: Installation,
    info: InstallationInfo,
    tracks: Vec<Track>,
    latest: Option<Latest>,
    next_tick: i64,
    reached: i64,
}

/// Walks `installation`'s history with every variant.
pub async fn installation(
    shared: Arc<Shared>,
    installation: Installation,
    variants: Vec<Variant>,
) -> Result<Walked, StoreError> {
    let client = shared.client_settings.get(&installation.client);
    let tracks = variants
        .iter()
        .map(|variant| {
            let name = &variant.revision.descriptor.name;
            let mut settings =
                (shared.runtime).settings_for(name, client.and_then(|c| c.get(name)));
            settings.extend(variant.overrides.clone());
            Track {
                config: variant.revision.descriptor.resolve_config(&settings),
                state: BTreeMap::new(),
                timeline: Timeline::new(name),
                revision: variant.revision.clone(),
                failures: Failures::default(),
            }
        })
        .collect();
    let before = shared
        .store
        .report_before(&installation.id, shared.from)
        .await?;
    let mut walk = Walk {
        info: InstallationInfo::from(&installation),
        installation,
        tracks,
        latest: None,
        // The first moment on the grid at or after the window opens.
        next_tick: (shared.from + shared.tick_every - 1).div_euclid(shared.tick_every)
            * shared.tick_every,
        reached: shared.from,
    };
    let mut seed = before;
    let mut after = None;
    loop {
        let budget = reserve(&shared);
        let page = if budget == 0 || shared.stop.is_cancelled() {
            Vec::new()
        } else {
            shared
                .store
                .history_page(&walk.info.id, shared.from, shared.until, after, budget)
                .await?
        };
        give_back(&shared, budget, page.len());
        let last = (page.len() as i64) < budget || budget == 0 || shared.stop.is_cancelled();
        after = page.last().map(|r| (r.generated_at, r.id)).or(after);
        let job = walk.page(shared.clone(), seed.take(), page, last);
        walk = shared
            .runtime
            .spawn_offline(job)
            .await
            .map_err(|e| StoreError::Corrupt(format!("the replay's thread failed: {e}")))?;
        if last {
            break;
        }
    }
    shared
        .counts
        .installations_done
        .fetch_add(1, Ordering::Relaxed);
    Ok(Walked {
        reached: walk.reached,
        failures: walk.tracks.iter().map(|t| t.failures.clone()).collect(),
        episodes: walk
            .tracks
            .into_iter()
            .map(|t| t.timeline.episodes())
            .collect(),
    })
}

/// Takes the reports the next page may read out of the replay's cap (so walks reading at
/// once never read past it together); 0 stops the replay. What the page does not use is
/// given back with [`give_back`].
fn reserve(shared: &Shared) -> i64 {
    let taken = shared
        .counts
        .reports
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |read| {
            let left = shared.max_reports.saturating_sub(read);
            Some(read + left.min(PAGE as u64))
        })
        .unwrap_or_default();
    let page = shared.max_reports.saturating_sub(taken).min(PAGE as u64);
    if page == 0 {
        shared.counts.capped.store(true, Ordering::Relaxed);
        shared.stop.cancel();
    }
    page as i64
}

fn give_back(shared: &Shared, reserved: i64, read: usize) {
    let unused = (reserved as u64).saturating_sub(read as u64);
    shared.counts.reports.fetch_sub(unused, Ordering::Relaxed);
}

impl Walk {
    /// Evaluates `page` (after `seed`, the report before the window, which is only
    /// remembered), with the ticks due before each report and, on the `last` page, those
    /// due before the window closes.
    async fn page(
        mut self,
        shared: Arc<Shared>,
        seed: Option<HistoricReport>,
        page: Vec<HistoricReport>,
        last: bool,
    ) -> Self {
        if let Some(report) = seed
            && let Some(document) = decode(&report)
        {
            self.latest = Some(Latest {
                at: judged_at(report.generated_at, report.received_at),
                document,
            });
        }
        for report in page {
            if shared.stop.is_cancelled() {
                return self;
            }
            // As the service judges it: at its own time.
            let now = judged_at(report.generated_at, report.received_at);
            self.ticks_until(&shared, now).await;
            let Some(document) = decode(&report) else {
                continue;
            };
            if report.agent == PROBE_AGENT {
                let last_report = self.latest.as_ref().map(|l| l.at);
                self.evaluate(&shared, Trigger::Probe, now, last_report, Some(document))
                    .await;
            } else {
                self.latest = Some(Latest {
                    at: now,
                    document: document.clone(),
                });
                self.evaluate(&shared, Trigger::Report, now, Some(now), Some(document))
                    .await;
            }
            self.reached = now;
        }
        if last && !shared.stop.is_cancelled() {
            self.ticks_until(&shared, shared.until).await;
            self.reached = shared.until;
        }
        self
    }

    /// Every tick due before `until`.
    async fn ticks_until(&mut self, shared: &Shared, until: i64) {
        let wanted = (self.tracks.iter()).any(|t| t.revision.descriptor.wants(Trigger::Tick));
        while wanted && self.next_tick < until && !shared.stop.is_cancelled() {
            let now = self.next_tick;
            self.next_tick += shared.tick_every;
            shared.counts.ticks.fetch_add(1, Ordering::Relaxed);
            // As the live tick does: the host's own downtime is not the installation's
            // silence.
            let (last_report, report) = match &self.latest {
                Some(l) => (
                    Some(l.at + shared.downtime.within(l.at, now)),
                    Some(l.document.clone()),
                ),
                None => (None, None),
            };
            self.evaluate(shared, Trigger::Tick, now, last_report, report)
                .await;
            self.reached = now;
        }
    }

    /// One evaluation by every variant that wants `trigger`.
    async fn evaluate(
        &mut self,
        shared: &Shared,
        trigger: Trigger,
        now: i64,
        last_report_at: Option<i64>,
        report: Option<Arc<Document>>,
    ) {
        for track in &mut self.tracks {
            if !track.revision.descriptor.wants(trigger) {
                continue;
            }
            let input = EvalInput {
                installation: self.info.clone(),
                trigger,
                now_ms: now,
                last_report_at_ms: last_report_at,
                config: track.config.clone(),
                state: track.state.clone(),
                report: report.clone(),
            };
            shared.counts.evaluations.fetch_add(1, Ordering::Relaxed);
            let outcome = shared
                .runtime
                .evaluate_offline(&track.revision, &input, &shared.stop)
                .await;
            match outcome {
                Ok(output) => {
                    output.apply_state(&mut track.state);
                    (track.timeline).evaluated(&shared.policy, &self.installation, &output, now);
                }
                // The replay was stopped during the call: not the plugin's failure.
                Err(failure) if failure.kind == FailureKind::Cancelled => return,
                Err(failure) => {
                    shared.counts.failures.fetch_add(1, Ordering::Relaxed);
                    let note = FailureNote {
                        installation: self.info.id.clone(),
                        at: now,
                        kind: failure.kind,
                        message: failure.message,
                    };
                    track.failures.note(note, EXAMPLES);
                }
            }
        }
    }
}

/// The report's document, or `None` (logged) for a stored form that does not load.
fn decode(report: &HistoricReport) -> Option<Arc<Document>> {
    match Document::from_stored(&report.stored) {
        Ok(document) => Some(Arc::new(document)),
        Err(error) => {
            tracing::warn!(report = report.id, %error, "a stored report does not load; the replay skips it");
            None
        }
    }
}

//! History imports: a distributor moving to Reveille brings months of past reports from
//! its old system. An import takes them in batches (a tar of XML files, from `reveille
//! import` or the API), stores each for the installation it names with the import that
//! brought it, and has the pipeline evaluate them as history: judged at their own time,
//! recorded (alerts, timelines, the board's history, client reports, replays), told to
//! nobody and grouped into no incident. When the last batch is in and every report is
//! evaluated, what the history left open resolves at its installation's last imported
//! report: the present is judged by live reports, which page as usual.
//!
//! An import is idempotent (a report stored before is a repeat, by `generated-at` and
//! content, as for agents) and so resumable: the same archive sent again, after a crash of
//! either side, stores what is missing and nothing twice. It is bounded like a replay: a
//! cap on reports, a cancel. Batches wait while the evaluation queue is long, so an import
//! holds a bounded share of memory whatever its size.

use std::collections::HashSet;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::alerts::Resolution;
use crate::clock::SharedClock;
use crate::ingest;
use crate::pipeline::{Fresh, Job, Pipeline};
pub use crate::store::{Import, ImportState};
use crate::store::{Inserted, Store, StoreError};
use crate::tasks::Tasks;

/// The most reports one import may store unless configured otherwise.
pub const DEFAULT_MAX_REPORTS: i64 = 5_000_000;

/// A batch waits while more jobs than this are queued: an import never fills memory.
const QUEUE_ROOM: i64 = 20_000;

/// How often an import whose batches are all in looks whether its reports are evaluated.
const LOOK_EVERY: Duration = Duration::from_millis(250);

/// One file of a batch that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refused {
    pub file: String,
    pub error: String,
}

/// What one batch did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Batch {
    pub stored: i64,
    pub repeated: i64,
    pub refused: Vec<Refused>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("no import {0}")]
    NotFound(i64),
    /// Not in a state that takes this.
    #[error("{0}")]
    Conflict(String),
    /// The batch itself cannot be read.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The one door to imports: the API and the CLI (through the API) use it.
pub struct Imports {
    store: Store,
    pipeline: Arc<Pipeline>,
    clock: SharedClock,
    tasks: Tasks,
    max_reports: i64,
    /// The largest report accepted (`max_report_mb`).
    max_report_bytes: usize,
}

impl Imports {
    pub fn new(
        store: Store,
        pipeline: Arc<Pipeline>,
        clock: SharedClock,
        tasks: Tasks,
        max_report_bytes: usize,
    ) -> Arc<Imports> {
        Arc::new(Imports {
            store,
            pipeline,
            clock,
            tasks,
            max_reports: DEFAULT_MAX_REPORTS,
            max_report_bytes,
        })
    }

    /// Picks up the imports whose batches were all in when the service stopped.
    pub async fn resume(self: &Arc<Self>) -> Result<(), StoreError> {
        for id in self.store.imports_in(ImportState::Reading).await? {
            self.close_when_read(id);
        }
        Ok(())
    }

    pub async fn begin(&self, source: &str) -> Result<Import, ImportError> {
        let now = self.clock.now_ms();
        let id = self
            .store
            .insert_import(source, self.max_reports, now)
            .await?;
        self.get(id).await
    }

    pub async fn get(&self, id: i64) -> Result<Import, ImportError> {
        self.store
            .import(id)
            .await?
            .ok_or(ImportError::NotFound(id))
    }

    pub async fn list(&self) -> Result<Vec<Import>, StoreError> {
        self.store.imports().await
    }

    /// Stores a batch (`tar`: a tar of report files) as history of import `id`, and has
    /// it evaluated in the order the reports were made.
    pub async fn batch(&self, id: i64, tar: Vec<u8>) -> Result<Batch, ImportError> {
        let import = self.get(id).await?;
        if import.state != ImportState::Receiving {
            return Err(ImportError::Conflict(format!(
                "import {id} is {}: it takes no more reports",
                import.state
            )));
        }
        while self.pipeline.queue_depth() > QUEUE_ROOM && !self.tasks.is_stopping() {
            tokio::time::sleep(LOOK_EVERY).await;
        }
        let limit = self.max_report_bytes;
        let files = tokio::task::spawn_blocking(move || read_batch(&tar, limit))
            .await
            .map_err(|e| ImportError::Invalid(format!("reading the batch failed: {e}")))??;
        let mut batch = Batch {
            stored: 0,
            repeated: 0,
            refused: Vec::new(),
        };
        let mut accepted = Vec::new();
        for (file, read) in files {
            match read {
                Ok(report) => accepted.push((file, report)),
                Err(error) => batch.refused.push(Refused { file, error }),
            }
        }
        // In the order they were made, so each installation's history is read in order.
        accepted
            .sort_by_key(|(_, (installation, report))| (installation.clone(), report.generated_at));
        let mut named: Vec<&str> = accepted.iter().map(|(_, (i, _))| i.as_str()).collect();
        named.dedup();
        // Looked up once per installation, not once per report.
        let mut registered = HashSet::new();
        for installation in named {
            if self.store.installation(installation).await?.is_some() {
                registered.insert(installation.to_string());
            }
        }
        let registered_named: Vec<&str> = registered.iter().map(String::as_str).collect();
        self.store.import_named(id, &registered_named).await?;
        let now = self.clock.now_ms();
        // Offered to the store up to the cap (a repeat would not count against it, but
        // repeats come only when an import is resumed, far from its cap).
        let mut room = import.max_reports - import.stored;
        let mut offered = Vec::new();
        for (file, (installation, report)) in accepted {
            if room <= 0 {
                batch.refused.push(Refused {
                    file,
                    error: format!(
                        "the import reached its cap of {} reports",
                        import.max_reports
                    ),
                });
                continue;
            }
            if !registered.contains(&installation) {
                batch.refused.push(Refused {
                    file,
                    error: format!(
                        "installation `{installation}` is not registered: register it, then import again"
                    ),
                });
                continue;
            }
            room -= 1;
            offered.push((installation, report));
        }
        // One transaction for the batch: the single writer's turn is taken once, not
        // once a report.
        let rows: Vec<_> = offered
            .iter()
            .map(|(installation, report)| {
                let mut stored = report.to_store(installation, now);
                stored.import_id = Some(id);
                stored
            })
            .collect();
        let inserted = self.store.insert_reports(&rows).await?;
        drop(rows);
        for (inserted, (installation, report)) in inserted.into_iter().zip(offered) {
            match inserted {
                Inserted::Repeat(_) => batch.repeated += 1,
                Inserted::New(report_id) => {
                    batch.stored += 1;
                    self.pipeline.submit(
                        &installation,
                        Job::Report {
                            id: report_id,
                            fresh: Some(Fresh {
                                document: Arc::new(report.document),
                                received_at: now,
                                generated_at: report.generated_at,
                                imported: true,
                                fingerprint: report.fingerprint,
                            }),
                        },
                    );
                }
            }
        }
        self.store
            .count_import(
                id,
                batch.stored,
                batch.repeated,
                batch.refused.len() as i64,
                self.clock.now_ms(),
            )
            .await?;
        Ok(batch)
    }

    /// Every batch is in: once its reports are evaluated, the import ends.
    pub async fn finish(self: &Arc<Self>, id: i64) -> Result<Import, ImportError> {
        self.move_to(id, ImportState::Receiving, ImportState::Reading)
            .await?;
        self.close_when_read(id);
        self.get(id).await
    }

    /// Takes no more batches; what was stored stays, and is read as history.
    pub async fn cancel(self: &Arc<Self>, id: i64) -> Result<Import, ImportError> {
        let import = self.get(id).await?;
        if import.state == ImportState::Receiving {
            self.move_to(id, ImportState::Receiving, ImportState::Cancelled)
                .await?;
            self.close_when_read(id);
        }
        self.get(id).await
    }

    async fn move_to(
        &self,
        id: i64,
        from: ImportState,
        to: ImportState,
    ) -> Result<(), ImportError> {
        let now = self.clock.now_ms();
        if self.store.move_import(id, from, to, now).await? {
            return Ok(());
        }
        let import = self.get(id).await?;
        Err(ImportError::Conflict(format!(
            "import {id} is {}, not {from}",
            import.state
        )))
    }

    /// Waits, in the background, until every report of import `id` is evaluated, then
    /// resolves what its history left open and ends it (a cancelled import stays
    /// cancelled).
    fn close_when_read(self: &Arc<Self>, id: i64) {
        let imports = self.clone();
        let stop = self.tasks.clone();
        self.tasks.spawn(async move {
            loop {
                match imports.store.import_unevaluated(id).await {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(import = id, %error, "cannot see how far the import got; looking again");
                    }
                }
                tokio::select! {
                    () = tokio::time::sleep(LOOK_EVERY) => {}
                    () = stop.stopping() => return,
                }
            }
            let now = imports.clock.now_ms();
            let closed = async {
                let resolved = imports.store.close_history(id, Resolution::HistoryEnded, now).await?;
                imports
                    .store
                    .move_import(id, ImportState::Reading, ImportState::Done, now)
                    .await?;
                Ok::<_, StoreError>(resolved)
            };
            match closed.await {
                Ok(resolved) => {
                    tracing::info!(import = id, resolved, "import read; what its history left open resolved")
                }
                Err(error) => {
                    tracing::error!(import = id, %error, "cannot end the import; it ends at the next start")
                }
            }
        });
    }
}

type ReadReport = Result<(String, ingest::Accepted), String>;

/// The files of a tar batch, each accepted as a report of history or refused with why.
fn read_batch(tar: &[u8], limit: usize) -> Result<Vec<(String, ReadReport)>, ImportError> {
    let invalid =
        |e: std::io::Error| ImportError::Invalid(format!("the batch is not a tar archive: {e}"));
    let mut archive = tar::Archive::new(tar);
    let mut files = Vec::new();
    for entry in archive.entries().map_err(invalid)? {
        let mut entry = entry.map_err(invalid)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry
            .path()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "(a name that is not text)".into());
        if entry.size() > limit as u64 {
            files.push((
                name,
                Err(format!(
                    "larger than {} MiB (the setting `max_report_mb`)",
                    limit >> 20
                )),
            ));
            continue;
        }
        let mut body = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut body).map_err(invalid)?;
        let gzipped = body.starts_with(&[0x1f, 0x8b]);
        let read = ingest::accept_history(&body, gzipped.then_some("gzip"), limit);
        files.push((name, read.map_err(|refusal| refusal.to_string())));
    }
    Ok(files)
}

//! `reveille import`: past reports into the running service as history, through its API
//! (`api/imports.rs`), in batches, with progress on standard error. The archive is read on
//! a thread of its own while batches go out, so its size costs time, not memory. Files go
//! in the order the archive lists them (a directory's in name order): name them so that
//! this is the order they were made, as agents' archives are. Running it again on the
//! same archive (after a crash of either side) stores only what is missing.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use flate2::read::GzDecoder;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::service::{Answer, Service};

/// A batch stops growing past this many bytes, whatever `--batch` says.
const BATCH_BYTES: usize = 8 << 20;

/// How often a batch is sent again when the service is away or busy.
const ATTEMPTS: u32 = 5;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// A directory of report files (`.xml`, or `.xml.gz`, at any depth), or a tar
    /// (`.tar`, `.tar.gz`, `.tgz`) or zip of them. Each report names its installation,
    /// which must be registered.
    archive: PathBuf,
    /// Reports per request.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// The service's address and admin token come from this configuration (and
    /// REVEILLE_* variables), as `serve` reads them.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The service's address, when not the configuration's `listen`.
    #[arg(long, env = "REVEILLE_URL")]
    url: Option<String>,
}

/// One report file: its name in the archive and its bytes.
type ReportFile = (String, Vec<u8>);

pub async fn run(args: ImportArgs) -> anyhow::Result<i32> {
    let service = Service::connect(args.config.as_deref(), args.url.clone())?;
    let kind = Kind::of(&args.archive)?;
    let total = kind.count(&args.archive)?;
    let source = args.archive.display().to_string();
    let begun = service
        .send(
            Method::POST,
            service.url(&["imports"], &[])?,
            Some((
                "application/json",
                json!({ "source": source }).to_string().into_bytes(),
            )),
        )
        .await?
        .ok_json()?;
    let id = begun["import"]["id"]
        .as_i64()
        .context("the service did not say the import's id")?;
    let started = Instant::now();
    let (files, mut arriving) = mpsc::channel::<anyhow::Result<ReportFile>>(args.batch.max(1) * 2);
    let path = args.archive.clone();
    let reading = tokio::task::spawn_blocking(move || kind.read(&path, &files));
    let mut progress = Progress::new(total);
    let mut refused = Vec::new();
    let mut done = false;
    while !done {
        let mut batch = tar::Builder::new(Vec::new());
        let (mut count, mut bytes) = (0, 0);
        while count < args.batch.max(1) && bytes < BATCH_BYTES {
            let Some(file) = arriving.recv().await else {
                done = true;
                break;
            };
            let (name, body) = file?;
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            batch
                .append_data(&mut header, &name, body.as_slice())
                .with_context(|| format!("{name}: cannot put it in a batch"))?;
            count += 1;
            bytes += body.len();
        }
        if count == 0 {
            break;
        }
        let body = batch.into_inner().context("cannot finish a batch")?;
        let answer = send_batch(&service, id, body).await?;
        let answered = answer.ok_json()?;
        for refusal in answered["batch"]["refused"]
            .as_array()
            .into_iter()
            .flatten()
        {
            refused.push(format!(
                "{}: {}",
                refusal["file"].as_str().unwrap_or("?"),
                refusal["error"].as_str().unwrap_or("?")
            ));
        }
        progress.sent(count, &answered["import"]);
    }
    reading.await.context("reading the archive failed")??;
    let mut import = service
        .call(
            Method::POST,
            service.url(&["imports", &id.to_string(), "finish"], &[])?,
            None,
        )
        .await?
        .ok_json()?["import"]
        .clone();
    while import["state"] == "reading" {
        progress.evaluating(&import);
        tokio::time::sleep(Duration::from_millis(500)).await;
        import = service
            .call(
                Method::GET,
                service.url(&["imports", &id.to_string()], &[])?,
                None,
            )
            .await?
            .ok_json()?["import"]
            .clone();
    }
    progress.finish();
    for line in refused.iter().take(20) {
        eprintln!("refused {line}");
    }
    if refused.len() > 20 {
        eprintln!("… and {} more refused", refused.len() - 20);
    }
    let seconds = started.elapsed().as_secs_f64();
    let stored = import["stored"].as_i64().unwrap_or(0);
    println!(
        "import {id} {}: {stored} reports stored, {} already there, {} refused, in {seconds:.1} s ({:.0} reports/s)",
        import["state"].as_str().unwrap_or("?"),
        import["repeated"],
        import["refused"],
        stored as f64 / seconds.max(0.001),
    );
    Ok(if refused.is_empty() { 0 } else { 1 })
}

/// Sends one batch, again after a pause while the service is out of reach or busy.
async fn send_batch(service: &Service, id: i64, body: Vec<u8>) -> anyhow::Result<Answer> {
    let url = service.url(&["imports", &id.to_string(), "reports"], &[])?;
    let mut attempt = 1;
    loop {
        let answer = service
            .send(
                Method::POST,
                url.clone(),
                Some(("application/x-tar", body.clone())),
            )
            .await;
        let again = match &answer {
            Err(_) => true,
            Ok(a) => a.status == StatusCode::SERVICE_UNAVAILABLE,
        };
        if !again || attempt == ATTEMPTS {
            return answer;
        }
        tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
        attempt += 1;
    }
}

/// What the archive is.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Directory,
    Tar { gzipped: bool },
    Zip,
}

impl Kind {
    fn of(path: &Path) -> anyhow::Result<Kind> {
        let name = path.to_string_lossy().to_ascii_lowercase();
        Ok(if path.is_dir() {
            Kind::Directory
        } else if name.ends_with(".tar") {
            Kind::Tar { gzipped: false }
        } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            Kind::Tar { gzipped: true }
        } else if name.ends_with(".zip") {
            Kind::Zip
        } else if !path.exists() {
            bail!("{}: no such file or directory", path.display())
        } else {
            bail!(
                "{}: expected a directory, a .tar, .tar.gz, .tgz or .zip",
                path.display()
            )
        })
    }

    /// How many files it holds, when that is cheap to know.
    fn count(self, path: &Path) -> anyhow::Result<Option<usize>> {
        Ok(match self {
            Kind::Directory => Some(report_files(path)?.len()),
            Kind::Zip => Some(
                zip::ZipArchive::new(open(path)?)
                    .with_context(|| format!("{}: not a zip archive", path.display()))?
                    .len(),
            ),
            Kind::Tar { .. } => None,
        })
    }

    /// Reads every report file into `files`, in the archive's order. Blocking.
    fn read(
        self,
        path: &Path,
        files: &mpsc::Sender<anyhow::Result<ReportFile>>,
    ) -> anyhow::Result<()> {
        let send = |file: ReportFile| files.blocking_send(Ok(file)).is_ok();
        match self {
            Kind::Directory => {
                for file in report_files(path)? {
                    let body = std::fs::read(&file)
                        .with_context(|| format!("cannot read {}", file.display()))?;
                    let name = file
                        .strip_prefix(path)
                        .unwrap_or(&file)
                        .display()
                        .to_string();
                    if !send((name, body)) {
                        break;
                    }
                }
            }
            Kind::Tar { gzipped } => {
                let file = open(path)?;
                let reader: Box<dyn Read> = if gzipped {
                    Box::new(GzDecoder::new(file))
                } else {
                    Box::new(file)
                };
                let mut archive = tar::Archive::new(reader);
                let bad = |e: std::io::Error| anyhow::anyhow!("{}: {e}", path.display());
                for entry in archive.entries().map_err(bad)? {
                    let mut entry = entry.map_err(bad)?;
                    if !entry.header().entry_type().is_file() {
                        continue;
                    }
                    let name = entry.path().map_err(bad)?.display().to_string();
                    let mut body = Vec::new();
                    entry.read_to_end(&mut body).map_err(bad)?;
                    if !send((name, body)) {
                        break;
                    }
                }
            }
            Kind::Zip => {
                let mut archive = zip::ZipArchive::new(open(path)?)
                    .with_context(|| format!("{}: not a zip archive", path.display()))?;
                for index in 0..archive.len() {
                    let mut entry = archive
                        .by_index(index)
                        .with_context(|| format!("{}: entry {index}", path.display()))?;
                    if !entry.is_file() {
                        continue;
                    }
                    let name = entry
                        .name()
                        .map_or_else(|_| format!("entry {index}"), |n| n.into_owned());
                    let mut body = Vec::new();
                    entry
                        .read_to_end(&mut body)
                        .with_context(|| format!("{}: {name}", path.display()))?;
                    if !send((name, body)) {
                        break;
                    }
                }
            }
        }
        Ok(())
    }
}

fn open(path: &Path) -> anyhow::Result<File> {
    File::open(path).with_context(|| format!("cannot open {}", path.display()))
}

/// The report files under `dir` (`.xml`, `.xml.gz`), at any depth, in name order.
fn report_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(at) = pending.pop() {
        for entry in
            std::fs::read_dir(&at).with_context(|| format!("cannot list {}", at.display()))?
        {
            let path = entry?.path();
            let name = path.to_string_lossy().to_ascii_lowercase();
            if path.is_dir() {
                pending.push(path);
            } else if name.ends_with(".xml") || name.ends_with(".xml.gz") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Progress on standard error: one line rewritten at a terminal, a line per tenth
/// elsewhere.
struct Progress {
    total: Option<usize>,
    sent: usize,
    terminal: bool,
    said: usize,
}

impl Progress {
    fn new(total: Option<usize>) -> Progress {
        Progress {
            total,
            sent: 0,
            terminal: std::io::stderr().is_terminal(),
            said: 0,
        }
    }

    fn sent(&mut self, files: usize, import: &Value) {
        self.sent += files;
        let of = self.total.map(|t| format!(" of {t}")).unwrap_or_default();
        let line = format!(
            "sent {}{of} files: {} stored, {} already there, {} refused, {} evaluated",
            self.sent, import["stored"], import["repeated"], import["refused"], import["evaluated"]
        );
        self.say(&line, self.sent);
    }

    fn evaluating(&mut self, import: &Value) {
        let line = format!(
            "all sent; evaluated {} of {}",
            import["evaluated"], import["stored"]
        );
        let at =
            self.total.unwrap_or(self.sent) + import["evaluated"].as_u64().unwrap_or(0) as usize;
        self.say(&line, at);
    }

    fn say(&mut self, line: &str, at: usize) {
        if self.terminal {
            eprint!("\r{line:<100}");
            let _ = std::io::stderr().flush();
            return;
        }
        let step = self.total.unwrap_or(10_000).div_ceil(10).max(1);
        if at / step > self.said / step || self.said == 0 {
            eprintln!("{line}");
            self.said = at.max(1);
        }
    }

    fn finish(&self) {
        if self.terminal {
            eprintln!();
        }
    }
}

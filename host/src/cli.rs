//! Command line: `reveille serve`, `reveille plugin test` and `reveille report`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::plugins::{Evaluation, InstallationInfo, PluginRun, Runtime, RuntimeSettings, Trigger};
use crate::{report, server};

#[derive(Debug, Parser)]
#[command(
    name = "reveille",
    version,
    about = "Watches a fleet of installations and tells the right person first."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (API, built-in plugins, plugins directory).
    Serve {
        /// TOML configuration file; REVEILLE_* environment variables override it.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Work with plugin components.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Write a client's report (asks the running service, as the board does).
    Report(ReportArgs),
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The client, as its installations name it.
    #[arg(long)]
    client: String,
    /// A quarter, as 2026Q4.
    #[arg(long, group = "period")]
    quarter: Option<String>,
    /// A month, as 2026-11.
    #[arg(long, group = "period")]
    month: Option<String>,
    /// The first day (with --to), as 2026-10-01.
    #[arg(long, requires = "to", conflicts_with_all = ["quarter", "month"])]
    from: Option<String>,
    /// The last day (with --from).
    #[arg(long, requires = "from")]
    to: Option<String>,
    /// html, pdf, csv or json; by default the output file's extension, else html.
    #[arg(long)]
    format: Option<String>,
    /// en, ru or it.
    #[arg(long, default_value = "en")]
    lang: String,
    /// Where to write it; `-` for standard output.
    #[arg(short = 'o', long = "output", default_value = "-")]
    output: PathBuf,
    /// The service's address and admin token come from this configuration (and
    /// REVEILLE_* variables), as `serve` reads them.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The service's address, when not the configuration's `listen` (e.g. behind a proxy).
    #[arg(long)]
    url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Run one plugin on one report, offline, and print its findings and state changes.
    Test {
        /// The plugin component (`.wasm`).
        component: PathBuf,
        /// The report (XML, format v1).
        report: PathBuf,
        /// A setting for the plugin, `key=value`; repeatable.
        #[arg(long = "config", value_name = "KEY=VALUE")]
        config: Vec<String>,
        /// State the plugin kept from earlier evaluations, `key=value`; repeatable.
        #[arg(long = "state", value_name = "KEY=VALUE")]
        state: Vec<String>,
        /// What triggers the evaluation: report, tick or probe.
        #[arg(long, default_value = "report")]
        trigger: Trigger,
        /// The evaluation's `now` (RFC 3339); defaults to the current time.
        #[arg(long)]
        now: Option<String>,
        /// When the installation last reported (RFC 3339).
        #[arg(long)]
        last_report_at: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the command; the exit code is 1 when a tested plugin fails.
/// The `reveille` program: parses the command line, sets up logging, runs the command and
/// exits with its code. A library function so that test harnesses can build the very same
/// program as their own binary and run it as a process (to kill it with SIGKILL).
pub fn main() -> ! {
    let cli = Cli::parse();
    // The service narrates its work; one-shot commands speak only when something is wrong.
    let default_level = match cli.command {
        Command::Serve { .. } => "info",
        Command::Plugin(_) | Command::Report(_) => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("REVEILLE_LOG")
                .unwrap_or_else(|_| EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal; a file or a pipe gets plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            std::process::exit(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => std::process::exit(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::exit(2);
        }
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Serve { config } => {
            let config = Config::load(config.as_deref())?;
            let running = server::start(config, Arc::new(SystemClock)).await?;
            shutdown_signal().await?;
            tracing::info!("shutting down");
            running.stop().await?;
            Ok(0)
        }
        Command::Report(args) => report_command(args).await,
        Command::Plugin(PluginCommand::Test {
            component,
            report,
            config,
            state,
            trigger,
            now,
            last_report_at,
            json,
        }) => {
            let bytes = std::fs::read(&component)
                .with_context(|| format!("cannot read {}", component.display()))?;
            let xml = std::fs::read(&report)
                .with_context(|| format!("cannot read {}", report.display()))?;
            let document =
                report::parse(&xml).map_err(|e| anyhow::anyhow!("{}: {e}", report.display()))?;
            let runtime = Runtime::new(RuntimeSettings::default())?;
            let revision = runtime
                .compile(None, bytes)
                .await
                .map_err(|e| anyhow::anyhow!("{}: {e}", component.display()))?;
            let evaluation = Evaluation {
                installation: InstallationInfo {
                    id: document
                        .value("installation/@id")
                        .unwrap_or("test-installation")
                        .to_string(),
                    client: document
                        .value("installation/client")
                        .unwrap_or_default()
                        .to_string(),
                    tags: Vec::new(),
                    timezone: "UTC".into(),
                },
                trigger,
                now_ms: match now {
                    Some(text) => parse_time(&text, "--now")?,
                    None => SystemClock.now_ms(),
                },
                last_report_at_ms: last_report_at
                    .map(|t| parse_time(&t, "--last-report-at"))
                    .transpose()?,
                report: Some(Arc::new(document)),
                state: BTreeMap::from([(
                    revision.descriptor.name.clone(),
                    pairs(&state, "--state")?,
                )]),
                client_settings: BTreeMap::new(),
            };
            let input = evaluation.input_for(&revision, &pairs(&config, "--config")?);
            let run = runtime.run(revision.clone(), input).await;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&test_json(&revision.descriptor, &run))?
                );
            } else {
                print!("{}", test_text(&revision, &run));
            }
            Ok(if run.outcome.is_ok() { 0 } else { 1 })
        }
    }
}

/// `reveille report`: the report from the running service's API, written to a file. A PDF
/// asked of a service without Chromium falls back to the HTML, next to the file asked
/// for, and exits 1 so that a script notices.
async fn report_command(args: ReportArgs) -> anyhow::Result<i32> {
    let config = Config::load(args.config.as_deref())?;
    let token = Config::admin_secret(args.config.as_deref())?
        .context("the admin API needs a token: set REVEILLE_ADMIN_TOKEN or admin_token")?;
    let base = args
        .url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.listen));
    let format = match args
        .format
        .as_deref()
        .or_else(|| args.output.extension().and_then(|e| e.to_str()))
    {
        Some("pdf") => "pdf",
        Some("csv") => "csv",
        Some("json") => "json",
        Some("html" | "htm") | None => "html",
        Some(other) if args.format.is_some() => {
            bail!("--format `{other}`: expected html, pdf, csv or json")
        }
        Some(_) => "html",
    };
    let client = reqwest::Client::new();
    let get = |format: &'static str| fetch(&client, &base, &token, &args, format);
    let (status, body) = get(format).await?;
    if status == reqwest::StatusCode::SERVICE_UNAVAILABLE && format == "pdf" {
        eprintln!("{}", error_text(&body));
        let (status, html) = get("html").await?;
        if !status.is_success() {
            bail!("{}", error_text(&html));
        }
        let path = if args.output == Path::new("-") {
            PathBuf::from("-")
        } else {
            args.output.with_extension("html")
        };
        write_output(&path, &html)?;
        eprintln!("wrote the HTML report to {} instead", path.display());
        return Ok(1);
    }
    if !status.is_success() {
        bail!("{status}: {}", error_text(&body));
    }
    write_output(&args.output, &body)?;
    Ok(0)
}

/// One request for the report as `format`: its status and body.
async fn fetch(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    args: &ReportArgs,
    format: &str,
) -> anyhow::Result<(reqwest::StatusCode, Vec<u8>)> {
    let mut url = reqwest::Url::parse(base)
        .with_context(|| format!("the service's address `{base}` is not a URL"))?;
    url.path_segments_mut()
        .map_err(|_| anyhow::anyhow!("`{base}` cannot be a base URL"))?
        .pop_if_empty()
        .extend(["api", "v1", "clients", &args.client, "report"]);
    {
        let mut query = url.query_pairs_mut();
        for (key, value) in [
            ("quarter", &args.quarter),
            ("month", &args.month),
            ("from", &args.from),
            ("to", &args.to),
        ] {
            if let Some(value) = value {
                query.append_pair(key, value);
            }
        }
        query
            .append_pair("format", format)
            .append_pair("lang", &args.lang);
    }
    let response = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .with_context(|| format!("cannot reach the service at {base}: is it running?"))?;
    let status = response.status();
    Ok((status, response.bytes().await?.to_vec()))
}

/// The API's error message, or the body as it came.
fn error_text(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned())
}

fn write_output(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    if path == Path::new("-") {
        std::io::stdout().write_all(bytes)?;
        return Ok(());
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await
}

fn parse_time(text: &str, flag: &str) -> anyhow::Result<i64> {
    let ts: jiff::Timestamp = text
        .parse()
        .with_context(|| format!("{flag} `{text}` is not an RFC 3339 date-time"))?;
    Ok(ts.as_millisecond())
}

fn pairs(items: &[String], flag: &str) -> anyhow::Result<BTreeMap<String, String>> {
    items
        .iter()
        .map(|item| match item.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => bail!("{flag} `{item}`: expected key=value"),
        })
        .collect()
}

fn test_json(descriptor: &crate::plugins::Descriptor, run: &PluginRun) -> serde_json::Value {
    serde_json::json!({
        "plugin": descriptor,
        "sha256": run.sha256,
        "elapsed_us": run.elapsed.as_micros(),
        "outcome": match &run.outcome {
            Ok(output) => serde_json::json!({ "ok": output }),
            Err(failure) => serde_json::json!({ "failure": failure }),
        },
    })
}

fn test_text(revision: &crate::plugins::loader::Revision, run: &PluginRun) -> String {
    use std::fmt::Write;
    let d = &revision.descriptor;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "plugin {} {} (API {}, sha256 {}), compiled in {} ms",
        d.name,
        d.version,
        revision.stamp,
        &revision.sha256[..16],
        revision.compile_time.as_millis()
    );
    let _ = writeln!(out, "evaluated in {} µs", run.elapsed.as_micros());
    match &run.outcome {
        Err(failure) => {
            let _ = writeln!(out, "FAILED ({}): {}", failure.kind, failure.message);
        }
        Ok(output) => {
            let _ = writeln!(out, "findings: {}", output.findings.len());
            for f in &output.findings {
                let _ = writeln!(out, "  [{:?}] {}: {}", f.severity, f.key, f.summary);
                if !f.details.is_empty() {
                    let _ = writeln!(out, "      {}", f.details);
                }
                if !f.labels.is_empty() {
                    let labels: Vec<String> =
                        f.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    let _ = writeln!(out, "      labels: {}", labels.join(" "));
                }
            }
            let _ = writeln!(out, "state changes: {}", output.state.len());
            for s in &output.state {
                match &s.value {
                    Some(v) => {
                        let _ = writeln!(out, "  set {} = {v}", s.key);
                    }
                    None => {
                        let _ = writeln!(out, "  remove {}", s.key);
                    }
                }
            }
        }
    }
    out
}

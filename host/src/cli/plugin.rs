//! `reveille plugin`: scaffold a check (`new`, in `scaffold`), run a component on one
//! report offline (`test`), replay it over the running service's history (`replay`) and
//! hot-load it there (`install`).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Subcommand;
use reqwest::Method;
use serde_json::Value;

use super::scaffold::{self, NewArgs};
use super::service::Service;
use crate::clock::{Clock, SystemClock};
use crate::plugins::loader::Revision;
use crate::plugins::{Evaluation, InstallationInfo, PluginRun, Runtime, RuntimeSettings, Trigger};
use crate::report;
use crate::text::escaped;

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Create a check's crate, ready to `cargo test` and build, with the SDK this binary
    /// carries beside it.
    New(NewArgs),
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
        /// The evaluation's `now` (RFC 3339). By default as the service judges: a report
        /// as of its own `generated-at` (never later than the current time), a tick or a
        /// probe as of the current time.
        #[arg(long)]
        now: Option<String>,
        /// When the installation last reported (RFC 3339); by default, for a report, the
        /// report's own time, as in the service.
        #[arg(long)]
        last_report_at: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// What a component is: name, version, API, triggers, settings with their types and
    /// defaults, what it imports, its size and digest.
    Inspect {
        /// The plugin component (`.wasm`).
        component: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Replay a component (or the installed plugin, with other settings) over the running
    /// service's stored history: what it would have fired and resolved, and what that
    /// changes against the plugin installed now. Nothing live is touched.
    Replay(ReplayArgs),
    /// Hot-load a component into the running service (on every node sharing its
    /// database); the previous revision serves until every check passes.
    Install(InstallArgs),
}

/// How to reach the running service.
#[derive(Debug, clap::Args)]
pub struct ServiceArgs {
    /// The service's address and admin token come from this configuration (and
    /// REVEILLE_* variables), as `serve` reads them.
    #[arg(long, value_name = "FILE")]
    service_config: Option<PathBuf>,
    /// The service's address, when not the configuration's `listen`.
    #[arg(long, env = "REVEILLE_URL")]
    url: Option<String>,
}

impl ServiceArgs {
    fn connect(&self) -> anyhow::Result<Service> {
        Service::connect(self.service_config.as_deref(), self.url.clone())
    }
}

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The candidate component (`.wasm`); without it, the installed plugin `--name`.
    component: Option<PathBuf>,
    /// The plugin's name; by default the component's file name (`disk_space.wasm` is
    /// `disk-space`).
    #[arg(long)]
    name: Option<String>,
    /// How far back: a duration (30d) or an RFC 3339 date-time.
    #[arg(long, default_value = "30d")]
    since: String,
    /// Where the window ends (RFC 3339, or a duration back from now); now by default.
    #[arg(long)]
    until: Option<String>,
    /// Only this client's installations.
    #[arg(long)]
    client: Option<String>,
    /// Only this installation.
    #[arg(long)]
    installation: Option<String>,
    /// A setting for the candidate, over the host's and each client's; repeatable.
    #[arg(long = "config", value_name = "KEY=VALUE")]
    config: Vec<String>,
    /// Ticks between reports (1h: a time-driven alert fires at most an hour late).
    #[arg(long)]
    tick_every: Option<String>,
    /// Stop after this long (at most 1h), with what was found by then.
    #[arg(long)]
    deadline: Option<String>,
    /// Stop after this many reports.
    #[arg(long)]
    max_reports: Option<u64>,
    /// Print the replay as JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    service: ServiceArgs,
}

#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// The component (`.wasm`).
    component: PathBuf,
    /// The name to install it under; by default the component's file name.
    #[arg(long)]
    name: Option<String>,
    /// Serve it in place of the built-in check of the same name.
    #[arg(long)]
    override_builtin: bool,
    #[command(flatten)]
    service: ServiceArgs,
}

pub async fn run(command: PluginCommand) -> anyhow::Result<i32> {
    match command {
        PluginCommand::New(args) => scaffold::new(args),
        PluginCommand::Test {
            component,
            report,
            config,
            state,
            trigger,
            now,
            last_report_at,
            json,
        } => {
            let test = Test {
                component,
                report,
                settings: pairs(&config, "--config")?,
                state: pairs(&state, "--state")?,
                trigger,
                now: now.map(|text| parse_time(&text, "--now")).transpose()?,
                last_report_at: last_report_at
                    .map(|t| parse_time(&t, "--last-report-at"))
                    .transpose()?,
            };
            test.run(json).await
        }
        PluginCommand::Inspect { component, json } => inspect(&component, json).await,
        PluginCommand::Replay(args) => replay(args).await,
        PluginCommand::Install(args) => install(args).await,
    }
}

/// Prints what `component` is, from its bytes and its own `describe()`.
async fn inspect(component: &Path, json: bool) -> anyhow::Result<i32> {
    let bytes =
        std::fs::read(component).with_context(|| format!("cannot read {}", component.display()))?;
    let inspection = crate::plugins::world::inspect(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", component.display()))?;
    let runtime = Runtime::new(RuntimeSettings::default())?;
    let size = bytes.len();
    let revision = runtime
        .compile(None, bytes)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", component.display()))?;
    let d = &revision.descriptor;
    if json {
        let described = serde_json::json!({
            "plugin": d,
            "api_version": inspection.stamp.to_string(),
            "imports": inspection.imports,
            "size": size,
            "sha256": revision.sha256,
        });
        println!("{}", serde_json::to_string_pretty(&described)?);
        return Ok(0);
    }
    let mut out = String::new();
    let _ = writeln!(out, "{} {}: {}", d.name, d.version, d.description);
    let _ = writeln!(out, "API {}", inspection.stamp);
    let triggers: Vec<String> = d.triggers.iter().map(|t| t.to_string()).collect();
    let _ = writeln!(out, "triggers: {}", triggers.join(", "));
    let _ = writeln!(out, "settings: {}", d.config.len());
    for key in &d.config {
        let _ = writeln!(
            out,
            "  {} ({}; default {:?}): {}",
            key.name, key.value_type, key.default_value, key.description
        );
    }
    let _ = writeln!(out, "imports: {}", inspection.imports.join(", "));
    let _ = writeln!(out, "size: {size} bytes");
    let _ = writeln!(out, "sha256: {}", revision.sha256);
    print!("{out}");
    Ok(0)
}

/// One component on one report, offline.
struct Test {
    component: PathBuf,
    report: PathBuf,
    settings: BTreeMap<String, String>,
    state: BTreeMap<String, String>,
    trigger: Trigger,
    /// `None`: the rule's (`report::Timing`).
    now: Option<i64>,
    last_report_at: Option<i64>,
}

impl Test {
    async fn run(self, json: bool) -> anyhow::Result<i32> {
        let component = &self.component;
        let bytes = std::fs::read(component)
            .with_context(|| format!("cannot read {}", component.display()))?;
        let xml = std::fs::read(&self.report)
            .with_context(|| format!("cannot read {}", self.report.display()))?;
        let document =
            report::parse(&xml).map_err(|e| anyhow::anyhow!("{}: {e}", self.report.display()))?;
        let wall = SystemClock.now_ms();
        let now = match (self.now, self.trigger) {
            (Some(now), _) => now,
            (None, Trigger::Report) => {
                let made = document
                    .value("@generated-at")
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                    .map_or(wall, |t| t.as_millisecond());
                report::judged_at(made, wall)
            }
            (None, _) => wall,
        };
        let last_report_at = self
            .last_report_at
            .or((self.trigger == Trigger::Report).then_some(now));
        let runtime = Runtime::new(RuntimeSettings::default())?;
        let revision = runtime
            .compile(None, bytes)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", component.display()))?;
        revision.descriptor.check_settings(&self.settings, "")?;
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
            trigger: self.trigger,
            now_ms: now,
            last_report_at_ms: last_report_at,
            report: Some(Arc::new(document)),
            state: BTreeMap::from([(revision.descriptor.name.clone(), self.state)]),
            client_settings: BTreeMap::new(),
        };
        let input = evaluation.input_for(&revision, &self.settings);
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

/// The plugin name `name`, else the one `component`'s file name gives (cargo names the
/// component of `disk-space` `disk_space.wasm`).
fn plugin_name(name: Option<String>, component: Option<&Path>) -> anyhow::Result<String> {
    if let Some(name) = name {
        return Ok(name);
    }
    let stem = component
        .and_then(|c| c.file_stem())
        .and_then(|s| s.to_str())
        .context("name the plugin: --name, or a component to take it from")?;
    Ok(stem.replace('_', "-"))
}

async fn replay(args: ReplayArgs) -> anyhow::Result<i32> {
    let service = args.service.connect()?;
    let name = plugin_name(args.name.clone(), args.component.as_deref())?;
    let body = match &args.component {
        Some(path) => {
            Some(std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?)
        }
        None => None,
    };
    let mut query: Vec<(&str, &str)> = vec![("since", args.since.as_str())];
    let optional = [
        ("until", &args.until),
        ("client", &args.client),
        ("installation", &args.installation),
        ("tick_every", &args.tick_every),
        ("deadline", &args.deadline),
    ];
    query.extend(
        optional
            .iter()
            .filter_map(|(key, value)| Some((*key, value.as_deref()?))),
    );
    let max_reports = args.max_reports.map(|n| n.to_string());
    query.extend(max_reports.as_deref().map(|n| ("max_reports", n)));
    query.extend(args.config.iter().map(|c| ("config", c.as_str())));
    let url = service.url(&["plugins", &name, "replay"], &query)?;
    let started = service.call(Method::POST, url, body).await?.ok_json()?;
    let id = started["replay"]["id"]
        .as_i64()
        .context("the service did not say which replay it started")?;
    let progress = std::io::stderr().is_terminal();
    let replay = loop {
        let url = service.url(&["replays", &id.to_string()], &[])?;
        let answer = service.call(Method::GET, url, None).await?.ok_json()?;
        let replay = answer["replay"].clone();
        let state = replay["state"].as_str().unwrap_or_default();
        if state != "running" && state != "cancelling" {
            break replay;
        }
        if progress {
            let p = &replay["progress"];
            eprint!(
                "\rreplaying {name}: {} of {} installations, {} reports, {} evaluations ",
                p["installations_done"], p["installations"], p["reports"], p["evaluations"]
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    if progress {
        eprintln!();
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&replay)?);
    } else {
        print!("{}", replay_text(&replay));
    }
    Ok(if replay["state"] == "done" { 0 } else { 1 })
}

async fn install(args: InstallArgs) -> anyhow::Result<i32> {
    let service = args.service.connect()?;
    let name = plugin_name(args.name.clone(), Some(&args.component))?;
    let bytes = std::fs::read(&args.component)
        .with_context(|| format!("cannot read {}", args.component.display()))?;
    let query: &[(&str, &str)] = if args.override_builtin {
        &[("override", "builtin")]
    } else {
        &[]
    };
    let url = service.url(&["plugins", &name], query)?;
    let answer = service.call(Method::PUT, url, Some(bytes)).await?;
    let body = answer.ok_json()?;
    let plugin = &body["plugin"];
    println!(
        "{} {} installed ({}, API {}, sha256 {})",
        plugin["name"].as_str().unwrap_or(&name),
        plugin["version"].as_str().unwrap_or("?"),
        plugin["state"].as_str().unwrap_or("?"),
        plugin["api_version"].as_str().unwrap_or("?"),
        short(plugin["sha256"].as_str().unwrap_or("?")),
    );
    if let Some(errors) = plugin["settings_errors"]
        .as_array()
        .filter(|e| !e.is_empty())
    {
        for error in errors {
            println!(
                "  the settings of client {} do not suit it: {}",
                error["client"], error["message"]
            );
        }
    }
    Ok(0)
}

fn short(sha256: &str) -> &str {
    sha256.get(..12).unwrap_or(sha256)
}

/// An epoch-milliseconds value in the JSON as `2026-11-12 10:00 UTC`.
fn when(value: &Value) -> String {
    value
        .as_i64()
        .map(|ms| reveille_sdk::Timestamp::from_millis(ms).to_string())
        .unwrap_or_else(|| "-".into())
}

/// A finished replay as a person reads it: what was replayed, how much, what it would
/// have fired, and what that changes.
fn replay_text(replay: &Value) -> String {
    let mut out = String::new();
    let request = &replay["request"];
    let candidate = &request["candidate"];
    let plugin = replay["plugin"].as_str().unwrap_or_default();
    let what = if candidate["uploaded"] == true {
        "the candidate"
    } else {
        "the installed plugin"
    };
    let settings = request["settings"]
        .as_object()
        .filter(|s| !s.is_empty())
        .map(|s| {
            let pairs: Vec<String> = s
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect();
            format!(" with {}", pairs.join(" "))
        })
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "replay {} of {plugin} {} ({what}{settings}, sha256 {}): {}",
        replay["id"],
        candidate["version"].as_str().unwrap_or("?"),
        short(candidate["sha256"].as_str().unwrap_or("?")),
        replay["state"].as_str().unwrap_or("?"),
    );
    let _ = writeln!(
        out,
        "history {} to {}, ticks every {}",
        when(&request["from"]),
        when(&request["until"]),
        request["tick_every"].as_str().unwrap_or("?"),
    );
    if let Some(error) = replay["error"].as_str() {
        let _ = writeln!(out, "stopped: {error}");
    }
    let result = &replay["result"];
    if result.is_null() {
        return out;
    }
    let _ = writeln!(
        out,
        "{} installations, {} reports, {} ticks, {} evaluations in {:.1} s ({} reports/s)",
        result["installations"],
        result["reports"],
        result["ticks"],
        result["evaluations"],
        result["elapsed_ms"].as_f64().unwrap_or_default() / 1000.0,
        result["reports_per_second"],
    );
    if let Some(message) = result["stopped_early"]["message"].as_str() {
        let _ = writeln!(out, "stopped early: {message}");
    }
    let failures = &result["failures"];
    if failures["count"].as_u64().unwrap_or_default() > 0 {
        let _ = writeln!(
            out,
            "FAILED evaluations: {} ({})",
            failures["count"], failures["by_kind"]
        );
        for example in failures["examples"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "  {} {} {}: {}",
                when(&example["at"]),
                example["installation"].as_str().unwrap_or_default(),
                example["kind"].as_str().unwrap_or_default(),
                example["message"].as_str().unwrap_or_default(),
            );
        }
    }
    let _ = writeln!(
        out,
        "fired {}, resolved {}, still open at the end {}",
        result["fired"], result["resolved"], result["open_at_end"]
    );
    let difference = &result["difference"];
    let rows: Vec<&Value> = if difference.is_null() {
        result["alerts"].as_array().into_iter().flatten().collect()
    } else {
        let compared = &request["compared_with"];
        let _ = writeln!(
            out,
            "against the installed {plugin} {} (sha256 {}): {} added, {} removed, {} earlier, \
             {} later, {} the same",
            compared["version"].as_str().unwrap_or("?"),
            short(compared["sha256"].as_str().unwrap_or("?")),
            difference["added"],
            difference["removed"],
            difference["earlier"],
            difference["later"],
            difference["same"],
        );
        difference["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .collect()
    };
    if rows.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "\n{:<8} {:<20} {:<24} {:<8} {:<20} {:<20} summary",
        "change", "installation", "key", "severity", "fired", "resolved"
    );
    for row in rows {
        let change = row["change"].as_str().unwrap_or("fires");
        let mut fired = when(&row["fired_at"]);
        if let Some(serving) = row["serving_fired_at"].as_i64()
            && change != "removed"
        {
            let shift = (serving - row["fired_at"].as_i64().unwrap_or(serving)).unsigned_abs();
            let shift = reveille_sdk::format_duration(Duration::from_millis(shift));
            let _ = write!(fired, " ({shift} {change})");
        }
        let _ = writeln!(
            out,
            "{:<8} {:<20} {:<24} {:<8} {:<20} {:<20} {}",
            change,
            row["installation"].as_str().unwrap_or_default(),
            row["key"].as_str().unwrap_or_default(),
            row["severity"].as_str().unwrap_or_default(),
            fired,
            when(&row["resolved_at"]),
            row["summary"].as_str().unwrap_or_default(),
        );
    }
    out
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

fn test_json(descriptor: &crate::plugins::Descriptor, run: &PluginRun) -> Value {
    serde_json::json!({
        "plugin": descriptor,
        "sha256": run.sha256,
        "elapsed_us": run.elapsed.as_micros(),
        "outcome": match &run.outcome {
            Ok(output) => serde_json::json!({ "ok": output }),
            Err(failure) => serde_json::json!({ "failure": failure }),
        },
        "log": run.said.lines,
        "log_dropped": run.said.dropped,
    })
}

fn test_text(revision: &Revision, run: &PluginRun) -> String {
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
    if !run.said.lines.is_empty() {
        let _ = writeln!(out, "log: {}", run.said.lines.len());
        for line in &run.said.lines {
            let _ = writeln!(out, "  [{}] {}", line.level, escaped(&line.message));
        }
        if run.said.dropped > 0 {
            let _ = writeln!(
                out,
                "  ({} more lines not kept: the host keeps {} a call)",
                run.said.dropped,
                crate::plugins::log::MAX_LINES
            );
        }
    }
    match &run.outcome {
        Err(failure) => {
            let _ = writeln!(out, "FAILED ({}): {}", failure.kind, failure.message);
        }
        Ok(output) => {
            let _ = writeln!(out, "findings: {}", output.findings.len());
            for f in &output.findings {
                // What the plugin wrote, with what a terminal would hide written out.
                let _ = writeln!(
                    out,
                    "  [{:?}] {}: {}",
                    f.severity,
                    escaped(&f.key),
                    escaped(&f.summary)
                );
                if !f.details.is_empty() {
                    let _ = writeln!(out, "      {}", escaped(&f.details));
                }
                for t in &f.translations.0 {
                    let _ = writeln!(out, "      {}: {}", t.language, escaped(&t.summary));
                }
                if !f.labels.is_empty() {
                    let labels: Vec<String> = (f.labels.iter())
                        .map(|(k, v)| format!("{}={}", escaped(k), escaped(v)))
                        .collect();
                    let _ = writeln!(out, "      labels: {}", labels.join(" "));
                }
            }
            let _ = writeln!(out, "state changes: {}", output.state.len());
            for s in &output.state {
                let key = escaped(&s.key);
                match &s.value {
                    // What `Output::conclude` remembers is a finding, said as one.
                    Some(v) => match reveille_sdk::remembered_finding(&s.key, v) {
                        Some(f) => {
                            let _ = writeln!(
                                out,
                                "  set {key}: remembers [{:?}] {}",
                                f.severity,
                                escaped(&f.summary)
                            );
                        }
                        // Escaped: a value may hold separators and control characters.
                        None => {
                            let _ = writeln!(out, "  set {key} = {}", v.escape_debug());
                        }
                    },
                    None => {
                        let _ = writeln!(out, "  remove {key}");
                    }
                }
            }
        }
    }
    out
}

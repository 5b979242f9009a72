//! Settings: defaults, then the TOML file, then `REVEILLE_*` environment variables (which
//! win). Every setting has a default, so `reveille serve` runs with no file at all. Values
//! are validated here, once, with errors that name the setting.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use reveille_sdk::parse_duration;
use serde::Deserialize;

use crate::alerts::directory::Kind;
use crate::alerts::grouping::{Grouping, Threshold};
use crate::alerts::policy::Restraint;
use crate::alerts::{AlertPolicy, Damping};
use crate::app::admin_token::AdminToken;
use crate::http::HttpSettings;
use crate::i18n::Lang;
use crate::notify::telegram::{DEFAULT_API_URL, TelegramSettings};
use crate::plugins::{HealthPolicy, Limits, RuntimeSettings};
use crate::probe::ProbeSettings;
use crate::report::Timing;
use crate::store::Options as StoreOptions;
use crate::vitals::Bounds;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "reveille-data";

#[derive(Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `None`: the admin API refuses every request and says how to set a token.
    pub admin_token: Option<AdminToken>,
    /// Watched for `.wasm` files: this node's own plugins (uploads are in the database).
    pub plugins_dir: PathBuf,
    /// Load the plugins embedded in the binary.
    pub builtin_plugins: bool,
    /// Largest plugin upload accepted.
    pub max_plugin_bytes: usize,
    /// Largest report accepted from an agent.
    pub max_report_bytes: usize,
    /// `sqlite://...` or `postgres://...`.
    pub database_url: String,
    pub runtime: RuntimeSettings,
    /// How often every installation is ticked.
    pub tick_interval: Duration,
    /// How long stored reports (raw bytes included) are kept.
    pub report_retention: Duration,
    /// When a report is judged: late after, clock skew (`[reports]`).
    pub report_timing: Timing,
    pub probe: ProbeSettings,
    /// `None`: no bot token; notifications are off (they wait in the outbox).
    pub telegram: Option<TelegramSettings>,
    pub alerts: AlertPolicy,
    /// The service's address as people reach it (for links to post-mortems).
    pub public_url: Option<String>,
    /// The zone pages show times in to staff who chose none: the distributor's office.
    pub time_zone: jiff::tz::TimeZone,
    pub http: HttpSettings,
    /// When `/healthz` says degraded.
    pub health: Bounds,
    /// How the database is used: the wait for a connection, SQLite's largest size.
    pub database: StoreOptions,
    pub client_reports: crate::client_report::Settings,
    pub cluster: ClusterSettings,
    /// Directory entries the file declares (`[contacts.NAME]`, `[oncall.NAME]`,
    /// `[escalation.NAME]`, `[clients."NAME"]`), stored at start in an order that lets
    /// each refer to the ones before; the API can change them until the next start.
    pub directory: Vec<(Kind, String, serde_json::Value)>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpFile {
    header_timeout: Option<String>,
    body_timeout: Option<String>,
    max_connections: Option<usize>,
    forwarded_for: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientReportsFile {
    silence_grace: Option<String>,
    history_retention: Option<String>,
    schedule: Option<String>,
    send_at: Option<String>,
    chromium: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterFile {
    node: Option<String>,
    lease_ttl: Option<String>,
    renew_every: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HealthFile {
    stalled_after: Option<String>,
    notices_after: Option<String>,
    telegram_after: Option<String>,
    min_free_mb: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatabaseFile {
    acquire_timeout: Option<String>,
    max_size_mb: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TelegramFile {
    token: Option<String>,
    api_url: Option<String>,
    poll_timeout: Option<String>,
    language: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertsFile {
    resolve_reply: Option<bool>,
    ack_expires_after: Option<String>,
    due_interval: Option<String>,
    new_alerts: Option<usize>,
    new_alerts_within: Option<String>,
    flap_after: Option<usize>,
    flap_quiet: Option<String>,
    #[serde(default)]
    damping: BTreeMap<String, DampingFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentsFile {
    wait: Option<String>,
    parent_checks: Option<Vec<String>>,
    parent_share: Option<f64>,
    recheck: Option<String>,
    checks: Option<BTreeMap<String, ThresholdFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdFile {
    count: usize,
    within: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DampingFile {
    fire_after: Option<String>,
    fire_after_evaluations: Option<u32>,
    resolve_after: Option<String>,
    resolve_after_evaluations: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportsFile {
    late_after: Option<String>,
    clock_skew: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleFile {
    tick_interval: Option<String>,
    probe_interval: Option<String>,
    probe_timeout: Option<String>,
    probe_concurrency: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    admin_token: Option<String>,
    plugins_dir: Option<PathBuf>,
    builtin_plugins: Option<bool>,
    max_plugin_mb: Option<usize>,
    max_report_mb: Option<usize>,
    report_retention: Option<String>,
    database_url: Option<String>,
    #[serde(default)]
    runtime: RuntimeFile,
    #[serde(default)]
    schedule: ScheduleFile,
    #[serde(default)]
    reports: ReportsFile,
    #[serde(default)]
    plugins: BTreeMap<String, BTreeMap<String, toml::Value>>,
    #[serde(default)]
    telegram: TelegramFile,
    #[serde(default)]
    alerts: AlertsFile,
    #[serde(default)]
    incidents: IncidentsFile,
    /// Where people reach this service from outside (links in messages).
    public_url: Option<String>,
    /// An IANA zone name; default: the host's.
    time_zone: Option<String>,
    #[serde(default)]
    http: HttpFile,
    #[serde(default)]
    health: HealthFile,
    #[serde(default)]
    database: DatabaseFile,
    #[serde(default)]
    cluster: ClusterFile,
    #[serde(default)]
    client_reports: ClientReportsFile,
    #[serde(default)]
    contacts: BTreeMap<String, toml::Value>,
    #[serde(default)]
    oncall: BTreeMap<String, toml::Value>,
    #[serde(default)]
    escalation: BTreeMap<String, toml::Value>,
    #[serde(default)]
    clients: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuntimeFile {
    deadline: Option<String>,
    memory_limit_mb: Option<usize>,
    slow_after: Option<String>,
    disable_after_failures: Option<u32>,
    health_window: Option<u32>,
    workers: Option<usize>,
    #[serde(default)]
    limits: BTreeMap<String, LimitsFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    deadline: Option<String>,
    memory_limit_mb: Option<usize>,
    slow_after: Option<String>,
}

impl Config {
    /// Reads `path` (if given) and the process environment.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        Self::load_with(path, |key| std::env::var(key).ok())
    }

    /// The admin token itself, which the service keeps only as a digest: for commands
    /// that call the running service's API.
    pub fn admin_secret(path: Option<&Path>) -> anyhow::Result<Option<String>> {
        if let Ok(secret) = std::env::var("REVEILLE_ADMIN_TOKEN") {
            return Ok(Some(secret));
        }
        let Some(path) = path else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        let file: File = toml::from_str(&text)
            .with_context(|| format!("invalid config file {}", path.display()))?;
        Ok(file.admin_token.filter(|s| !s.is_empty()))
    }

    /// Like [`Config::load`] with an explicit environment, for tests.
    pub fn load_with(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Config> {
        let file: File = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                toml::from_str(&text)
                    .with_context(|| format!("invalid config file {}", path.display()))?
            }
            None => File::default(),
        };
        let listen_text = env("REVEILLE_LISTEN")
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.into());
        let listen = listen_text.parse().with_context(|| {
            format!("listen address `{listen_text}` is not address:port (e.g. {DEFAULT_LISTEN})")
        })?;
        let data_dir = env("REVEILLE_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let plugins_dir = env("REVEILLE_PLUGINS_DIR")
            .map(PathBuf::from)
            .or(file.plugins_dir)
            .unwrap_or_else(|| data_dir.join("plugins"));
        let admin_token = match env("REVEILLE_ADMIN_TOKEN").or(file.admin_token) {
            Some(secret) if !secret.is_empty() => {
                Some(AdminToken::new(&secret).map_err(|e| anyhow::anyhow!("admin token: {e}"))?)
            }
            _ => None,
        };
        let database_url = env("REVEILLE_DATABASE_URL")
            .or(file.database_url)
            .unwrap_or_else(|| {
                format!(
                    "sqlite://{}?mode=rwc",
                    data_dir.join("reveille.db").display()
                )
            });
        let runtime = runtime_settings(file.runtime, file.plugins, &data_dir)?;
        let schedule = file.schedule;
        let tick_interval = duration(
            schedule.tick_interval.as_deref(),
            "1m",
            "schedule.tick_interval",
        )?;
        let report_retention =
            duration(file.report_retention.as_deref(), "90d", "report_retention")?;
        let report_timing = Timing {
            late_after: duration(
                file.reports.late_after.as_deref(),
                "15m",
                "reports.late_after",
            )?,
            clock_skew: duration(
                file.reports.clock_skew.as_deref(),
                "5m",
                "reports.clock_skew",
            )?,
        };
        let probe = ProbeSettings {
            interval: duration(
                schedule.probe_interval.as_deref(),
                "5m",
                "schedule.probe_interval",
            )?,
            timeout: duration(
                schedule.probe_timeout.as_deref(),
                "10s",
                "schedule.probe_timeout",
            )?,
            concurrency: schedule.probe_concurrency.unwrap_or(16).max(1),
        };
        let telegram = match env("REVEILLE_TELEGRAM_TOKEN").or(file.telegram.token) {
            Some(token) if !token.trim().is_empty() => Some(TelegramSettings {
                token: token.trim().to_string(),
                api_url: env("REVEILLE_TELEGRAM_API_URL")
                    .or(file.telegram.api_url)
                    .unwrap_or_else(|| DEFAULT_API_URL.into()),
                poll_timeout: duration(
                    file.telegram.poll_timeout.as_deref(),
                    "10s",
                    "telegram.poll_timeout",
                )?,
                language: file
                    .telegram
                    .language
                    .as_deref()
                    .map(str::parse::<Lang>)
                    .transpose()
                    .map_err(|e: String| anyhow::anyhow!("telegram.language: {e}"))?,
            }),
            _ => None,
        };
        let mut directory = Vec::new();
        for (kind, table, entries) in [
            (Kind::Contact, "contacts", &file.contacts),
            (Kind::Schedule, "oncall", &file.oncall),
            (Kind::Escalation, "escalation", &file.escalation),
            (Kind::ClientPolicy, "clients", &file.clients),
        ] {
            for (name, value) in entries {
                let json =
                    serde_json::to_value(value).with_context(|| format!("{table}.{name}"))?;
                directory.push((kind, name.clone(), json));
            }
        }
        let mut alerts = alert_policy(file.alerts)?;
        alerts.grouping = grouping(file.incidents)?;
        let http = http_settings(file.http)?;
        let client_reports = client_reports(file.client_reports)?;
        let cluster = cluster_settings(file.cluster, env("REVEILLE_NODE"))?;
        let health = health_bounds(file.health)?;
        let database = database_options(file.database)?;
        let time_zone = match &file.time_zone {
            Some(name) => jiff::tz::TimeZone::get(name).map_err(|_| {
                anyhow::anyhow!(
                    "time_zone: `{name}` is not a time zone this build knows \
                     (an IANA name such as Europe/Moscow)"
                )
            })?,
            None => jiff::tz::TimeZone::system(),
        };
        Ok(Config {
            listen,
            data_dir,
            admin_token,
            plugins_dir,
            builtin_plugins: file.builtin_plugins.unwrap_or(true),
            max_plugin_bytes: file.max_plugin_mb.unwrap_or(32) << 20,
            max_report_bytes: file.max_report_mb.unwrap_or(64) << 20,
            database_url,
            runtime,
            tick_interval,
            report_retention,
            report_timing,
            probe,
            telegram,
            alerts,
            public_url: file.public_url.map(|u| u.trim_end_matches('/').to_string()),
            time_zone,
            http,
            health,
            database,
            client_reports,
            cluster,
            directory,
        })
    }
}

fn health_bounds(file: HealthFile) -> anyhow::Result<Bounds> {
    let defaults = Bounds::default();
    let or_default = |value: Option<String>, default: Duration, key: &str| match value {
        Some(text) => duration(Some(&text), "", key),
        None => Ok(default),
    };
    Ok(Bounds {
        stalled_after: or_default(
            file.stalled_after,
            defaults.stalled_after,
            "health.stalled_after",
        )?,
        notices_after: or_default(
            file.notices_after,
            defaults.notices_after,
            "health.notices_after",
        )?,
        telegram_after: or_default(
            file.telegram_after,
            defaults.telegram_after,
            "health.telegram_after",
        )?,
        min_free_bytes: file
            .min_free_mb
            .map_or(defaults.min_free_bytes, |mb| mb << 20),
    })
}

fn database_options(file: DatabaseFile) -> anyhow::Result<StoreOptions> {
    let defaults = StoreOptions::default();
    let acquire_timeout = match file.acquire_timeout {
        Some(text) => duration(Some(&text), "", "database.acquire_timeout")?,
        None => defaults.acquire_timeout,
    };
    if file.max_size_mb == Some(0) {
        bail!("database.max_size_mb must be at least 1");
    }
    Ok(StoreOptions {
        acquire_timeout,
        max_size: file.max_size_mb.map(|mb| mb << 20),
    })
}

/// How this node takes part when several share a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct ClusterSettings {
    /// This node's name; `None`: the one kept in the data directory (made up at the first
    /// start).
    pub node: Option<String>,
    pub lease_ttl: Duration,
    pub renew_every: Duration,
}

fn cluster_settings(file: ClusterFile, node: Option<String>) -> anyhow::Result<ClusterSettings> {
    let node = node.or(file.node).filter(|n| !n.is_empty());
    if let Some(node) = &node
        && (node.len() > 64
            || !node
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
    {
        bail!("cluster.node `{node}`: use up to 64 letters, digits, `-`, `_` or `.`");
    }
    let lease_ttl = duration(file.lease_ttl.as_deref(), "10s", "cluster.lease_ttl")?;
    let renew_every = duration(file.renew_every.as_deref(), "2s", "cluster.renew_every")?;
    if renew_every.is_zero() || renew_every * 2 > lease_ttl {
        bail!(
            "cluster.renew_every ({renew_every:?}) must be more than zero and at most half of cluster.lease_ttl ({lease_ttl:?})"
        );
    }
    Ok(ClusterSettings {
        node,
        lease_ttl,
        renew_every,
    })
}

fn client_reports(file: ClientReportsFile) -> anyhow::Result<crate::client_report::Settings> {
    use crate::client_report::Cadence;
    let defaults = crate::client_report::Settings::default();
    Ok(crate::client_report::Settings {
        silence_grace: duration(
            file.silence_grace.as_deref(),
            "2h",
            "client_reports.silence_grace",
        )?,
        history_retention: duration(
            file.history_retention.as_deref(),
            "800d",
            "client_reports.history_retention",
        )?,
        schedule: match file.schedule.as_deref().unwrap_or("off") {
            "off" => None,
            "monthly" => Some(Cadence::Monthly),
            "quarterly" => Some(Cadence::Quarterly),
            other => bail!("client_reports.schedule `{other}`: expected off, monthly or quarterly"),
        },
        send_at: match file.send_at {
            Some(text) => text.parse().with_context(|| {
                format!("client_reports.send_at `{text}`: expected a time of day, as 09:00")
            })?,
            None => defaults.send_at,
        },
        chromium: file.chromium,
    })
}

fn http_settings(file: HttpFile) -> anyhow::Result<HttpSettings> {
    let defaults = HttpSettings::default();
    let max_connections = file.max_connections.unwrap_or(defaults.max_connections);
    if max_connections == 0 {
        bail!("http.max_connections must be at least 1");
    }
    Ok(HttpSettings {
        header_timeout: duration(
            file.header_timeout.as_deref(),
            &format!("{}s", defaults.header_timeout.as_secs()),
            "http.header_timeout",
        )?,
        body_timeout: duration(
            file.body_timeout.as_deref(),
            &format!("{}s", defaults.body_timeout.as_secs()),
            "http.body_timeout",
        )?,
        max_connections,
        forwarded_for: file.forwarded_for.unwrap_or(defaults.forwarded_for),
    })
}

fn alert_policy(file: AlertsFile) -> anyhow::Result<AlertPolicy> {
    let mut damping = std::collections::HashMap::new();
    let restraint = restraint(&file)?;
    for (plugin, d) in file.damping {
        let section = format!("alerts.damping.{plugin}");
        let zero_or = |value: Option<&str>, key: &str| -> anyhow::Result<Duration> {
            match value {
                Some(text) => parse_duration(text).with_context(|| format!("{section}.{key}")),
                None => Ok(Duration::ZERO),
            }
        };
        let at_least_one = |value: Option<u32>, key: &str| -> anyhow::Result<u32> {
            match value {
                Some(0) => bail!("{section}.{key} must be at least 1"),
                Some(n) => Ok(n),
                None => Ok(1),
            }
        };
        damping.insert(
            plugin.clone(),
            Damping {
                fire_after: zero_or(d.fire_after.as_deref(), "fire_after")?,
                fire_after_evaluations: at_least_one(
                    d.fire_after_evaluations,
                    "fire_after_evaluations",
                )?,
                resolve_after: zero_or(d.resolve_after.as_deref(), "resolve_after")?,
                resolve_after_evaluations: at_least_one(
                    d.resolve_after_evaluations,
                    "resolve_after_evaluations",
                )?,
            },
        );
    }
    let ack = parse_duration(file.ack_expires_after.as_deref().unwrap_or("4h"))
        .context("alerts.ack_expires_after")?;
    Ok(AlertPolicy {
        damping,
        resolve_reply: file.resolve_reply.unwrap_or(true),
        ack_expires_after: (!ack.is_zero()).then_some(ack),
        due_interval: duration(file.due_interval.as_deref(), "15s", "alerts.due_interval")?,
        grouping: Grouping::default(),
        restraint,
    })
}

fn restraint(file: &AlertsFile) -> anyhow::Result<Restraint> {
    let defaults = Restraint::default();
    let at_least_one = |value: Option<usize>, default: usize, key: &str| match value {
        Some(0) => bail!("alerts.{key} must be at least 1"),
        Some(n) => Ok(n),
        None => Ok(default),
    };
    let or_default = |value: &Option<String>, default: Duration, key: &str| match value {
        Some(text) => duration(Some(text), "", &format!("alerts.{key}")),
        None => Ok(default),
    };
    Ok(Restraint {
        new_alerts: at_least_one(file.new_alerts, defaults.new_alerts, "new_alerts")?,
        window: or_default(
            &file.new_alerts_within,
            defaults.window,
            "new_alerts_within",
        )?,
        flap_after: at_least_one(file.flap_after, defaults.flap_after, "flap_after")?,
        quiet: or_default(&file.flap_quiet, defaults.quiet, "flap_quiet")?,
    })
}

fn grouping(file: IncidentsFile) -> anyhow::Result<Grouping> {
    let defaults = Grouping::default();
    let wait = match file.wait.as_deref() {
        Some(text) => parse_duration(text).context("incidents.wait")?,
        None => defaults.wait,
    };
    let share = file.parent_share.unwrap_or(defaults.parent_share);
    if !(0.0..1.0).contains(&share) {
        bail!("incidents.parent_share must be at least 0 and below 1 (a share of children)");
    }
    let checks = match file.checks {
        None => defaults.checks,
        Some(checks) => {
            let mut out = std::collections::HashMap::new();
            for (plugin, t) in checks {
                if t.count < 2 {
                    bail!("incidents.checks.{plugin}.count must be at least 2");
                }
                let within = duration(
                    Some(&t.within),
                    "5m",
                    &format!("incidents.checks.{plugin}.within"),
                )?;
                out.insert(
                    plugin,
                    Threshold {
                        count: t.count,
                        within,
                    },
                );
            }
            out
        }
    };
    Ok(Grouping {
        wait,
        parent_checks: file.parent_checks.unwrap_or(defaults.parent_checks),
        parent_share: share,
        recheck: duration(file.recheck.as_deref(), "2m", "incidents.recheck")?,
        checks,
    })
}

/// A positive duration setting, or its default.
fn duration(value: Option<&str>, default: &str, setting: &str) -> anyhow::Result<Duration> {
    let parsed = parse_duration(value.unwrap_or(default)).with_context(|| setting.to_string())?;
    if parsed.is_zero() {
        bail!("{setting} must be longer than zero");
    }
    Ok(parsed)
}

fn runtime_settings(
    file: RuntimeFile,
    plugins: BTreeMap<String, BTreeMap<String, toml::Value>>,
    data_dir: &Path,
) -> anyhow::Result<RuntimeSettings> {
    let base = RuntimeSettings::default();
    let limits = limits(
        base.limits,
        &LimitsFile {
            deadline: file.deadline,
            memory_limit_mb: file.memory_limit_mb,
            slow_after: file.slow_after,
        },
        "runtime",
    )?;
    let plugin_limits: HashMap<String, Limits> = file
        .limits
        .into_iter()
        .map(|(name, l)| {
            let section = format!("runtime.limits.{name}");
            self::limits(limits, &l, &section).map(|l| (name, l))
        })
        .collect::<anyhow::Result<_>>()?;
    let failures = file.disable_after_failures.unwrap_or(base.health.failures);
    if failures == 0 {
        bail!("runtime.disable_after_failures must be at least 1");
    }
    let window = file.health_window.unwrap_or(base.health.window);
    if window < failures {
        bail!(
            "runtime.health_window ({window}) must be at least runtime.disable_after_failures ({failures})"
        );
    }
    let plugin_config = plugins
        .into_iter()
        .map(|(name, values)| {
            let values = values
                .into_iter()
                .map(|(key, value)| {
                    let text = match value {
                        toml::Value::String(s) => s,
                        toml::Value::Integer(_)
                        | toml::Value::Float(_)
                        | toml::Value::Boolean(_) => value.to_string(),
                        _ => bail!("plugins.{name}.{key}: use a string, number or boolean"),
                    };
                    Ok((key, text))
                })
                .collect::<anyhow::Result<_>>()?;
            Ok((name, values))
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(RuntimeSettings {
        limits,
        plugin_limits,
        health: HealthPolicy { failures, window },
        workers: file.workers.filter(|&w| w > 0).unwrap_or(base.workers),
        cache_dir: Some(data_dir.join("cache")),
        plugin_config,
    })
}

/// `file`'s limits over `base`. A deadline given without `slow_after` makes the bound on
/// the mean half of it, as the defaults are.
fn limits(base: Limits, file: &LimitsFile, section: &str) -> anyhow::Result<Limits> {
    let deadline = match &file.deadline {
        Some(text) => duration(Some(text), "", &format!("{section}.deadline"))?,
        None => base.deadline,
    };
    let memory = match file.memory_limit_mb {
        Some(0) => bail!("{section}.memory_limit_mb must be at least 1"),
        Some(mb) => mb << 20,
        None => base.memory,
    };
    let slow_after = match (&file.slow_after, &file.deadline) {
        (Some(text), _) => duration(Some(text), "", &format!("{section}.slow_after"))?,
        (None, Some(_)) => deadline / 2,
        (None, None) => base.slow_after,
    };
    Ok(Limits {
        deadline,
        memory,
        slow_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml: &str, env: &[(&str, &str)]) -> anyhow::Result<Config> {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), toml).unwrap();
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load_with(Some(file.path()), |k| env.get(k).cloned())
    }

    #[test]
    fn runs_with_no_file_and_no_environment() {
        let config = Config::load_with(None, |_| None).unwrap();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert!(config.admin_token.is_none());
        assert_eq!(
            config.plugins_dir,
            Path::new(DEFAULT_DATA_DIR).join("plugins")
        );
        assert_eq!(config.runtime.limits, Limits::default());
    }

    #[test]
    fn environment_wins_over_the_file() {
        let config = load(
            "listen = \"127.0.0.1:9000\"\ndata_dir = \"/tmp/a\"",
            &[("REVEILLE_LISTEN", "127.0.0.1:9100")],
        )
        .unwrap();
        assert_eq!(config.listen.port(), 9100);
        assert_eq!(config.data_dir, Path::new("/tmp/a"));
    }

    #[test]
    fn reads_limits_and_plugin_settings() {
        let config = load(
            r#"
            [runtime]
            deadline = "250ms"
            [runtime.limits.slow]
            deadline = "2s"
            memory_limit_mb = 16
            [plugins.stale-updates]
            threshold = "3d"
            window = 30
            "#,
            &[],
        )
        .unwrap();
        assert_eq!(config.runtime.limits.deadline, Duration::from_millis(250));
        let slow = config.runtime.limits_for("slow");
        assert_eq!(
            (slow.deadline, slow.memory),
            (Duration::from_secs(2), 16 << 20)
        );
        let stale = &config.runtime.plugin_config["stale-updates"];
        assert_eq!(stale["threshold"], "3d");
        assert_eq!(stale["window"], "30");
    }

    #[test]
    fn incidents_are_configured_per_check() {
        let config = load(
            "[incidents]\nwait = \"0s\"\n[incidents.checks.dongle-lost]\ncount = 5\nwithin = \"2m\"",
            &[],
        )
        .unwrap();
        let grouping = &config.alerts.grouping;
        assert!(grouping.wait.is_zero());
        assert_eq!(grouping.checks["dongle-lost"].count, 5);
        assert!(
            !grouping.checks.contains_key("redirect-down"),
            "the table replaces the default"
        );
        for (text, setting) in [
            ("[incidents]\nparent_share = 1.5", "incidents.parent_share"),
            (
                "[incidents.checks.x]\ncount = 1\nwithin = \"1m\"",
                "incidents.checks.x.count",
            ),
            (
                "[incidents.checks.x]\ncount = 3\nwithin = \"soon\"",
                "incidents.checks.x.within",
            ),
        ] {
            let err = load(text, &[]).unwrap_err();
            assert!(format!("{err:#}").contains(setting), "{err:#}");
        }
    }

    #[test]
    fn errors_name_the_setting() {
        let err = load("[runtime]\ndeadline = \"soon\"", &[]).unwrap_err();
        assert!(format!("{err:#}").contains("runtime.deadline"), "{err:#}");
        let err = load("listen = \"everywhere\"", &[]).unwrap_err();
        assert!(format!("{err:#}").contains("everywhere"), "{err:#}");
        let err = load("time_zone = \"Mars/Olympus\"", &[]).unwrap_err();
        assert!(
            format!("{err:#}").contains("time_zone: `Mars/Olympus`"),
            "{err:#}"
        );
        let err = load("colour = \"blue\"", &[]).unwrap_err();
        assert!(format!("{err:#}").contains("colour"), "{err:#}");
        let err = load("", &[("REVEILLE_ADMIN_TOKEN", "short")]).unwrap_err();
        assert!(format!("{err:#}").contains("admin token"), "{err:#}");
        let err = load("[alerts.damping.dongle-lost]\nfire_after = \"soon\"", &[]).unwrap_err();
        assert!(
            format!("{err:#}").contains("alerts.damping.dongle-lost.fire_after"),
            "{err:#}"
        );
    }

    #[test]
    fn telegram_is_off_without_a_token_and_the_token_never_prints() {
        assert!(load("", &[]).unwrap().telegram.is_none());
        let config = load(
            "[telegram]\napi_url = \"http://127.0.0.1:9/\"\n[alerts.damping.dongle-lost]\nfire_after_evaluations = 2",
            &[("REVEILLE_TELEGRAM_TOKEN", "123:secret-token")],
        )
        .unwrap();
        let telegram = config.telegram.as_ref().unwrap();
        assert_eq!(telegram.api_url, "http://127.0.0.1:9/");
        assert!(!format!("{config:?}").contains("secret-token"));
        assert_eq!(
            config
                .alerts
                .damping_for("dongle-lost")
                .fire_after_evaluations,
            2
        );
    }
}

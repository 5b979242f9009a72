//! Starting and stopping the service: the plugin runtime with its built-in, directory and
//! uploaded plugins, the directory watch, the database, the evaluation pipeline, the
//! scheduler and the prober, the notification dispatcher and the Telegram update loop, and
//! the HTTP API. Background tasks run in [`Stages`], which stop in order.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::alerting::Alerting;
use crate::app::{self, AppState};
use crate::client_report::Reports;
use crate::client_report::deliver::Delivery;
use crate::clock::SharedClock;
use crate::cluster::{self, Cluster, Topic};
use crate::config::Config;
use crate::http;
use crate::live::Live;
use crate::metrics::Metrics;
use crate::notify::telegram::{Telegram, updates::UpdateLoop};
use crate::notify::{Dispatcher, Voice};
use crate::pipeline::{Pipeline, SHARDS_PER_WORKER};
use crate::plugin_set::PluginSet;
use crate::plugins::Runtime;
use crate::plugins::builtin;
use crate::plugins::directory::PluginDir;
use crate::probe::Prober;
use crate::replay::Replays;
use crate::schedule::Scheduler;
use crate::store::{Backend, Store};
use crate::tasks::{Stages, Tasks};
use crate::vitals::Vitals;

/// How often scheduled client reports are looked for.
const DELIVERY_LOOK: Duration = Duration::from_secs(300);

/// A running service.
pub struct Running {
    pub addr: SocketAddr,
    /// The first start's one-time link to create the first admin (also in the log).
    pub setup_link: Option<String>,
    pub runtime: Arc<Runtime>,
    pub plugin_dir: Arc<PluginDir>,
    pub store: Store,
    pub pipeline: Arc<Pipeline>,
    pub scheduler: Arc<Scheduler>,
    pub prober: Arc<Prober>,
    /// Client reports sent on schedule (with a Telegram bot).
    pub delivery: Option<Arc<Delivery>>,
    /// This node among those sharing the database.
    pub cluster: Arc<Cluster>,
    stages: Stages,
}

/// Starts everything; returns once the API is listening with every plugin loaded.
pub async fn start(mut config: Config, clock: SharedClock) -> anyhow::Result<Running> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    config.runtime.cache_dir = Some(config.data_dir.join("cache"));
    let runtime = Runtime::new(config.runtime.clone())?;
    if config.builtin_plugins {
        builtin::load_all(&runtime, &[])
            .await
            .context("a built-in check's configuration is wrong")?;
    }
    let plugin_dir =
        PluginDir::new(config.plugins_dir.clone(), runtime.clone()).with_context(|| {
            format!(
                "cannot create plugins directory {}",
                config.plugins_dir.display()
            )
        })?;
    plugin_dir.reconcile().await;
    let store = Store::open_with(&config.database_url, config.database)
        .await
        .context("cannot open the database")?;
    let node = cluster::Settings::node_name(config.cluster.node.as_deref(), &config.data_dir)
        .with_context(|| {
            format!(
                "cannot keep this node's name in {}",
                config.data_dir.display()
            )
        })?;
    let cluster = Cluster::join(
        store.clone(),
        cluster::Settings {
            node,
            lease_ttl: config.cluster.lease_ttl,
            renew_every: config.cluster.renew_every,
        },
    )
    .await;
    let stages = Stages::default();
    cluster.spawn(&config.database_url, &stages.cluster);
    spawn_checkpoints(store.clone(), &stages.cluster);
    let metrics = Arc::new(Metrics::default());
    let vitals = Arc::new(Vitals::default());
    vitals.watch(
        store.clone(),
        clock.clone(),
        watched_disks(&config),
        if config.telegram.is_some() {
            &["telegram"]
        } else {
            &[]
        },
        &stages.cluster,
    );
    let live = Live::default();
    let doorbell = Arc::new(tokio::sync::Notify::new());
    let (alerting, reprobes) = Alerting::new(
        store.clone(),
        clock.clone(),
        Arc::new(config.alerts.clone()),
        doorbell.clone(),
        live.clone(),
        cluster.clone(),
    );
    alerting.recover_backlogs().await?;
    // What another node changed: its notices for this node's dispatcher, its changes for
    // the pages open here.
    cluster.relay(Topic::Outbox, &stages.cluster, move || {
        doorbell.notify_one()
    });
    cluster.relay(Topic::Fleet, &stages.cluster, {
        let live = live.clone();
        move || live.changed()
    });
    let plugins = PluginSet::new(
        runtime.clone(),
        plugin_dir.clone(),
        store.clone(),
        cluster.clone(),
        alerting.clone(),
        clock.clone(),
    );
    plugins
        .sync()
        .await
        .context("cannot read the installed plugins")?;
    plugins
        .check_client_settings(None)
        .await
        .context("cannot read the clients' plugin settings")?;
    plugins.spawn(&stages.producers);
    watch_plugin_dir(&plugin_dir, &plugins, &stages);
    for (kind, name, spec) in &config.directory {
        alerting
            .put_entry(*kind, name, spec)
            .await
            .with_context(|| format!("{} `{name}` in the configuration file", kind.as_str()))?;
    }
    let pipeline = Pipeline::start(
        store.clone(),
        runtime.clone(),
        clock.clone(),
        metrics.clone(),
        alerting.clone(),
        cluster.clone(),
        vitals.clone(),
        config.report_timing,
        config.runtime.workers * SHARDS_PER_WORKER,
        &stages.pipeline,
    );
    if pipeline.engine() {
        pipeline.resume(&store).await?;
    }
    pipeline.spawn_sweep(store.clone(), &stages.producers);
    let scheduler = Scheduler::start(
        store.clone(),
        pipeline.clone(),
        clock.clone(),
        crate::schedule::Retention {
            reports: config.report_retention,
            history: config.client_reports.history_retention,
        },
        alerting.clone(),
    )
    .await?;
    // Bound before anything that links back to the service needs its address.
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let site = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let reports = Reports::new(
        store.clone(),
        runtime.clone(),
        clock.clone(),
        config.client_reports.clone(),
    );
    let mut delivery = None;
    match &config.telegram {
        Some(settings) => {
            let telegram = Telegram::new(settings, vitals.clone())?;
            if reports.settings().schedule.is_some() {
                let scheduled = Arc::new(Delivery {
                    reports: reports.clone(),
                    store: store.clone(),
                    telegram: telegram.clone(),
                    clock: clock.clone(),
                    language: settings.language,
                });
                scheduled.spawn(DELIVERY_LOOK, &stages.delivery);
                delivery = Some(scheduled);
            }
            let dispatcher = Dispatcher::new(
                store.clone(),
                clock.clone(),
                telegram.clone(),
                alerting.doorbell(),
                metrics.clone(),
                Voice {
                    public_url: config.public_url.clone(),
                    language: settings.language,
                },
                cluster.clone(),
            );
            dispatcher.spawn(&stages.delivery);
            UpdateLoop {
                telegram,
                store: store.clone(),
                runtime: runtime.clone(),
                clock: clock.clone(),
                alerting: alerting.clone(),
                poll_timeout: settings.poll_timeout,
                language: settings.language,
                site: site.clone(),
                cluster: cluster.clone(),
                tasks: stages.intake.clone(),
            }
            .spawn();
            tracing::info!(api = %settings.api_url, "Telegram notifications on (long polling)");
        }
        None => tracing::warn!(
            "no Telegram bot token: notifications are off and wait in the outbox; set REVEILLE_TELEGRAM_TOKEN"
        ),
    }
    let prober = Prober::new(store.clone(), pipeline.clone(), clock.clone(), config.probe);
    if config.admin_token.is_none() {
        tracing::warn!(
            "no admin token configured: the admin API refuses every request; set REVEILLE_ADMIN_TOKEN"
        );
    }
    let web = Arc::new(app::Web::new(live, config.public_url.clone()));
    let imports = crate::import::Imports::new(
        store.clone(),
        pipeline.clone(),
        clock.clone(),
        stages.producers.clone(),
        config.max_report_bytes,
    );
    imports
        .resume()
        .await
        .context("cannot read the imports being read")?;
    let replays = Replays::new(
        store.clone(),
        runtime.clone(),
        Arc::new(config.alerts.clone()),
        clock.clone(),
        cluster.node().to_string(),
        stages.producers.clone(),
    );
    replays
        .recover()
        .await
        .context("cannot read the replays this node ran")?;
    let state = AppState {
        runtime: runtime.clone(),
        plugins,
        admin_token: config.admin_token.clone(),
        clock,
        store: store.clone(),
        pipeline: pipeline.clone(),
        metrics: metrics.clone(),
        alerting,
        limits: app::Limits {
            upload: config.max_plugin_bytes,
            report: config.max_report_bytes,
            report_age: config.report_retention,
            body_timeout: config.http.body_timeout,
        },
        health: config.health.clone(),
        vitals: vitals.clone(),
        web: web.clone(),
        reports,
        replays,
        imports,
        cluster: cluster.clone(),
        intake: stages.intake.clone(),
    };
    let app = crate::routes::router(state);
    let intake = stages.intake.clone();
    stages.intake.spawn(async move {
        http::serve(listener, app, config.http, metrics, intake.stopping()).await;
    });
    tracing::info!(%addr, plugins_dir = %config.plugins_dir.display(), node = cluster.node(), "reveille is listening");
    // As Jupyter prints its token: nobody can log in yet, so the log holds the way in.
    let setup_link = if store.staff_count().await? == 0 {
        let link = format!("{site}/setup/{}", web.open_setup());
        tracing::warn!(
            "no staff account yet: open {link} to create the first administrator (the link works once)"
        );
        Some(link)
    } else {
        None
    };
    scheduler.spawn(config.tick_interval, &stages.producers);
    scheduler.spawn_clockwork(config.alerts.due_interval, &stages.producers);
    prober.spawn(&stages.producers);
    prober.listen(reprobes, &stages.producers);
    Ok(Running {
        addr,
        setup_link,
        runtime,
        plugin_dir,
        store,
        pipeline,
        scheduler,
        prober,
        delivery,
        cluster,
        stages,
    })
}

/// Watches this node's plugins directory; a plugin file deleted by hand retires the
/// plugin's alerts as DELETE does.
fn watch_plugin_dir(plugin_dir: &Arc<PluginDir>, plugins: &Arc<PluginSet>, stages: &Stages) {
    let (removed, mut removals) = tokio::sync::mpsc::unbounded_channel();
    let watch = plugin_dir.clone().watch(removed);
    let stop = stages.producers.clone();
    stages.producers.spawn(async move {
        tokio::select! {
            watched = watch => if let Err(error) = watched {
                tracing::error!(%error, "the plugins directory is no longer watched");
            },
            () = stop.stopping() => {}
        }
    });
    let plugins = plugins.clone();
    let stop = stages.producers.clone();
    stages.producers.spawn(async move {
        loop {
            let name = tokio::select! {
                name = removals.recv() => match name {
                    Some(name) => name,
                    None => return,
                },
                () = stop.stopping() => return,
            };
            if let Err(error) = plugins.file_removed(&name).await {
                tracing::warn!(%error, plugin = %name, "the removed plugin's alerts stay open");
            }
        }
    });
}

impl Running {
    /// Stops in order (requests and updates in, then what makes work, the pipeline, the
    /// dispatcher, the node's leases), each part finishing what it is doing; then records
    /// when the host went down and closes the database.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.stages.stop().await;
        self.cluster.leave().await;
        self.scheduler.heartbeat().await?;
        self.store.close().await;
        Ok(())
    }
}

/// The directories whose filesystems must keep room: the data directory and, for SQLite
/// kept elsewhere, the database's.
fn watched_disks(config: &Config) -> Vec<std::path::PathBuf> {
    let mut paths = vec![config.data_dir.clone()];
    let sqlite_dir = config
        .database_url
        .strip_prefix("sqlite:")
        .map(|rest| rest.trim_start_matches("//"))
        .and_then(|rest| rest.split('?').next())
        .and_then(|file| std::path::Path::new(file).parent())
        .filter(|dir| !dir.as_os_str().is_empty());
    if let Some(dir) = sqlite_dir
        && !paths.iter().any(|p| p == dir)
    {
        paths.push(dir.to_path_buf());
    }
    paths
}

/// How often SQLite's write-ahead log is copied into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// On SQLite, checkpoints the store every [`CHECKPOINT_EVERY`] until `tasks` stop (the
/// last group, so for as long as anything writes).
fn spawn_checkpoints(store: Store, tasks: &Tasks) {
    if store.backend() != Backend::Sqlite {
        return;
    }
    let stop = tasks.clone();
    tasks.spawn(async move {
        while stop.pause(CHECKPOINT_EVERY).await {
            if let Err(error) = store.checkpoint().await {
                tracing::warn!(%error, "cannot checkpoint the database; trying again soon");
            }
        }
    });
}

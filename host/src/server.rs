//! Starting and stopping the service: the plugin runtime with its built-in, directory and
//! uploaded plugins, the directory watch, the database, the evaluation pipeline, the
//! scheduler and the prober, the notification dispatcher and the Telegram update loop, and
//! the HTTP API. Background tasks run in [`Stages`], which stop in order.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::mpsc::UnboundedReceiver;

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
pub async fn start(config: Config, clock: SharedClock) -> anyhow::Result<Running> {
    let base = Base::open(config, clock).await?;
    let engine = Engine::start(&base).await?;
    // Bound before anything that links back to the service needs its address.
    let listener = tokio::net::TcpListener::bind(base.config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", base.config.listen))?;
    let addr = listener.local_addr()?;
    let site = base
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let reports = Reports::new(
        base.store.clone(),
        base.runtime.clone(),
        base.clock.clone(),
        base.config.client_reports.clone(),
    );
    let delivery = base.notifications(&engine, &reports, &site)?;
    let board = Arc::new(crate::board::Kept::new(
        base.store.clone(),
        base.runtime.clone(),
        engine.live.clone(),
    ));
    let web = Arc::new(app::Web::new(
        engine.live.clone(),
        board,
        base.config.public_url.clone(),
        base.config.time_zone.clone(),
        base.config.telegram.is_some(),
    ));
    let state = base.app_state(&engine, reports, web.clone()).await?;
    let Base {
        config,
        runtime,
        plugin_dir,
        store,
        cluster,
        stages,
        metrics,
        ..
    } = base;
    let app = crate::routes::router(state);
    let intake = stages.intake.clone();
    let http = config.http;
    stages.intake.spawn(async move {
        http::serve(listener, app, http, metrics, intake.stopping()).await;
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
    let Engine {
        pipeline,
        scheduler,
        prober,
        reprobes,
        ..
    } = engine;
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

/// What every part of the service stands on: the plugin runtime with the built-in and
/// directory plugins, the database, this node among those sharing it, the stages its tasks
/// run in, and what watches them.
struct Base {
    config: Config,
    clock: SharedClock,
    runtime: Arc<Runtime>,
    plugin_dir: Arc<PluginDir>,
    store: Store,
    cluster: Arc<Cluster>,
    stages: Stages,
    metrics: Arc<Metrics>,
    vitals: Arc<Vitals>,
}

/// What judges reports and acts on alerts, started in the order each needs the others.
struct Engine {
    live: Live,
    alerting: Arc<Alerting>,
    /// Installations the incidents ask to probe again now.
    reprobes: UnboundedReceiver<Vec<String>>,
    plugins: Arc<PluginSet>,
    pipeline: Arc<Pipeline>,
    scheduler: Arc<Scheduler>,
    prober: Arc<Prober>,
}

impl Base {
    async fn open(mut config: Config, clock: SharedClock) -> anyhow::Result<Base> {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("cannot create data directory {}", config.data_dir.display())
        })?;
        let data_dir = config.data_dir.clone();
        config
            .runtime
            .cache_dir
            .get_or_insert_with(|| data_dir.join("cache"));
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
        let settings = cluster::Settings {
            node,
            lease_ttl: config.cluster.lease_ttl,
            renew_every: config.cluster.renew_every,
        };
        let cluster = Cluster::join(store.clone(), settings).await;
        let stages = Stages::default();
        cluster.spawn(&config.database_url, &stages.cluster);
        spawn_checkpoints(store.clone(), &stages.cluster);
        let vitals = Arc::new(Vitals::default());
        let channels: &[&str] = if config.telegram.is_some() {
            &["telegram"]
        } else {
            &[]
        };
        let disks = watched_disks(&config);
        vitals.watch(
            store.clone(),
            clock.clone(),
            disks,
            channels,
            &stages.cluster,
        );
        Ok(Base {
            config,
            clock,
            runtime,
            plugin_dir,
            store,
            cluster,
            stages,
            metrics: Arc::new(Metrics::default()),
            vitals,
        })
    }

    /// Telegram's side, with a bot: the dispatcher, the update loop and the scheduled
    /// client reports (returned, for tests to run at will).
    fn notifications(
        &self,
        engine: &Engine,
        reports: &Arc<Reports>,
        site: &str,
    ) -> anyhow::Result<Option<Arc<Delivery>>> {
        let Some(settings) = &self.config.telegram else {
            tracing::warn!(
                "no Telegram bot token: notifications are off and wait in the outbox; set REVEILLE_TELEGRAM_TOKEN"
            );
            return Ok(None);
        };
        let telegram = Telegram::new(settings, self.vitals.clone())?;
        let mut delivery = None;
        if reports.settings().schedule.is_some() {
            let scheduled = Arc::new(Delivery {
                reports: reports.clone(),
                store: self.store.clone(),
                telegram: telegram.clone(),
                clock: self.clock.clone(),
                language: settings.language,
            });
            scheduled.spawn(DELIVERY_LOOK, &self.stages.delivery);
            delivery = Some(scheduled);
        }
        let voice = Voice {
            public_url: self.config.public_url.clone(),
            language: settings.language,
        };
        Dispatcher::new(
            self.store.clone(),
            self.clock.clone(),
            telegram.clone(),
            engine.alerting.doorbell(),
            self.metrics.clone(),
            voice,
            self.cluster.clone(),
        )
        .spawn(&self.stages.delivery);
        UpdateLoop {
            telegram,
            store: self.store.clone(),
            runtime: self.runtime.clone(),
            clock: self.clock.clone(),
            alerting: engine.alerting.clone(),
            poll_timeout: settings.poll_timeout,
            language: settings.language,
            site: site.to_string(),
            cluster: self.cluster.clone(),
            tasks: self.stages.intake.clone(),
        }
        .spawn();
        tracing::info!(api = %settings.api_url, "Telegram notifications on (long polling)");
        Ok(delivery)
    }

    /// What the API and the pages are served from, with the imports and replays this node
    /// was running picked up again.
    async fn app_state(
        &self,
        engine: &Engine,
        reports: Arc<Reports>,
        web: Arc<app::Web>,
    ) -> anyhow::Result<AppState> {
        let config = &self.config;
        if config.admin_token.is_none() {
            tracing::warn!(
                "no admin token configured: the admin API refuses every request; set REVEILLE_ADMIN_TOKEN"
            );
        }
        let imports = crate::import::Imports::new(
            self.store.clone(),
            engine.pipeline.clone(),
            self.clock.clone(),
            self.stages.producers.clone(),
            config.max_report_bytes,
        );
        imports
            .resume()
            .await
            .context("cannot read the imports being read")?;
        let replays = Replays::new(
            self.store.clone(),
            self.runtime.clone(),
            Arc::new(config.alerts.clone()),
            self.clock.clone(),
            self.cluster.node().to_string(),
            self.stages.producers.clone(),
        );
        replays
            .recover()
            .await
            .context("cannot read the replays this node ran")?;
        Ok(AppState {
            runtime: self.runtime.clone(),
            plugins: engine.plugins.clone(),
            admin_token: config.admin_token.clone(),
            clock: self.clock.clone(),
            store: self.store.clone(),
            pipeline: engine.pipeline.clone(),
            metrics: self.metrics.clone(),
            alerting: engine.alerting.clone(),
            limits: app::Limits {
                upload: config.max_plugin_bytes,
                report: config.max_report_bytes,
                report_age: config.report_retention,
                body_timeout: config.http.body_timeout,
            },
            health: config.health.clone(),
            vitals: self.vitals.clone(),
            web,
            reports,
            replays,
            imports,
            cluster: self.cluster.clone(),
            intake: self.stages.intake.clone(),
        })
    }
}

impl Engine {
    /// The alerts service (its backlogs picked up), the plugin set in sync with the
    /// database, the configured people and schedules, the pipeline (resuming what was
    /// queued, when this node holds the engine), the scheduler and the prober.
    async fn start(base: &Base) -> anyhow::Result<Engine> {
        let Base {
            config,
            clock,
            store,
            cluster,
            stages,
            ..
        } = base;
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
        // What another node changed: its notices for this node's dispatcher, its changes
        // for the pages open here.
        cluster.relay(Topic::Outbox, &stages.cluster, move || {
            doorbell.notify_one()
        });
        cluster.relay(Topic::Fleet, &stages.cluster, {
            let live = live.clone();
            move || live.changed()
        });
        let plugins = PluginSet::new(
            base.runtime.clone(),
            base.plugin_dir.clone(),
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
        watch_plugin_dir(&base.plugin_dir, &plugins, stages);
        for (kind, name, spec) in &config.directory {
            alerting
                .put_entry(*kind, name, spec)
                .await
                .with_context(|| format!("{} `{name}` in the configuration file", kind.as_str()))?;
        }
        let pipeline = Pipeline::start(
            store.clone(),
            base.runtime.clone(),
            clock.clone(),
            base.metrics.clone(),
            alerting.clone(),
            cluster.clone(),
            base.vitals.clone(),
            config.report_timing,
            config.runtime.workers * SHARDS_PER_WORKER,
            &stages.pipeline,
        );
        if pipeline.engine() {
            pipeline.resume(store).await?;
        }
        pipeline.spawn_sweep(store.clone(), &stages.producers);
        let retention = crate::schedule::Retention {
            reports: config.report_retention,
            history: config.client_reports.history_retention,
        };
        let scheduler = Scheduler::start(
            store.clone(),
            pipeline.clone(),
            clock.clone(),
            retention,
            alerting.clone(),
        )
        .await?;
        let prober = Prober::new(store.clone(), pipeline.clone(), clock.clone(), config.probe);
        Ok(Engine {
            live,
            alerting,
            reprobes,
            plugins,
            pipeline,
            scheduler,
            prober,
        })
    }
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

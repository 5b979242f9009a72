//! Command line: `reveille serve`; `reveille plugin new | test | replay | install` and
//! `reveille sdk export`, a plugin author's loop with nothing but this binary and the
//! Rust toolchain; `reveille report`; `reveille import`.

mod import;
mod plugin;
mod report;
mod scaffold;
mod service;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::clock::SystemClock;
use crate::config::Config;
use crate::server;

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
    #[command(after_help = SERVE_ENVIRONMENT)]
    Serve {
        /// TOML configuration file; REVEILLE_* environment variables override it.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Write, try and ship checks: scaffold a crate, test a component on a report, replay
    /// it over the service's history, install it.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// The SDK this binary was built with.
    #[command(subcommand)]
    Sdk(scaffold::SdkCommand),
    /// Write a client's report (asks the running service, as the board does).
    Report(report::ReportArgs),
    /// Import past reports (a directory, tar or zip of XML files) into the running
    /// service as history: recorded, told to nobody.
    Import(import::ImportArgs),
}

/// What `serve --help` says of the environment: every variable the service reads.
const SERVE_ENVIRONMENT: &str = "Environment (each overrides the configuration file):
  REVEILLE_LISTEN             address and port to serve on (listen)
  REVEILLE_DATA_DIR           data directory (data_dir)
  REVEILLE_PLUGINS_DIR        plugins directory, watched for .wasm files (plugins_dir)
  REVEILLE_ADMIN_TOKEN        the admin API's token, 16 characters or more (admin_token)
  REVEILLE_DATABASE_URL       sqlite://... or postgres://... (database_url)
  REVEILLE_TELEGRAM_TOKEN     the bot's token ([telegram] token)
  REVEILLE_TELEGRAM_API_URL   the Bot API's address ([telegram] api_url)
  REVEILLE_NODE               this node's name among several ([cluster] node)
  REVEILLE_LOG                log filter, e.g. info or reveille=debug (default info)
The commands that ask a running service (report, import, plugin replay, plugin install)
also read REVEILLE_URL, its address.";

/// The `reveille` program: parses the command line, sets up logging, runs the command and
/// exits with its code (2 when it could not run; 1 when what it ran failed, such as a
/// tested plugin). A library function so that test harnesses can build the very same
/// program as their own binary and run it as a process (to kill it with SIGKILL).
pub fn main() -> ! {
    let cli = Cli::parse();
    // The service narrates its work; one-shot commands speak only when something is wrong.
    let default_level = match cli.command {
        Command::Serve { .. } => "info",
        Command::Plugin(_) | Command::Sdk(_) | Command::Report(_) | Command::Import(_) => "warn",
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
        Command::Report(args) => report::run(args).await,
        Command::Import(args) => import::run(args).await,
        Command::Plugin(command) => plugin::run(command).await,
        Command::Sdk(command) => scaffold::sdk(command),
    }
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

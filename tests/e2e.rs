//! Every end-to-end test, one module per file, in one test binary: each binary links
//! wasmtime, sqlx and teloxide, and linking them once instead of once per file keeps the
//! suite's build short as it grows.

mod alerts;
mod author_kit;
mod backlog;
mod board;
mod builtin_checks;
mod client_reports;
mod cluster;
mod compile_cache;
mod faults;
mod fuzz;
mod hostile_input;
mod hot_load;
mod import;
mod incidents;
mod ingest;
mod inspect;
mod large_report;
mod nights;
mod operations;
mod outage;
mod plugin_kit;
mod plugin_limits;
mod process_logs;
mod replay;
mod sandbox;
mod schedule;
mod schema;
mod security;
mod stories;
mod telegram_load;

/// The CLI under test, as its user runs it.
fn reveille() -> tokio::process::Command {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_reveille-under-test"))
}

/// Runs `command` to its end; panics with what it printed unless it succeeded.
async fn succeeded(command: &mut tokio::process::Command) -> std::process::Output {
    let run = command.output().await.expect("the CLI runs");
    assert!(
        run.status.success(),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    run
}

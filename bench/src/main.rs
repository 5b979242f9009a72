//! `cargo run --release -p reveille-bench [-- --only latency,ingest --seconds 10]`
//!
//! Starts the real service on loopback with the built-in plugins and a fake Telegram,
//! drives it with generated fleets, prints a table and writes it as JSON
//! (`bench-results.json`, or `--out`) for comparison between commits. Scenarios that
//! depend on the database run on SQLite, then on PostgreSQL when
//! `REVEILLE_TEST_POSTGRES_URL` points at a server (each run makes and drops its own
//! database). BENCHMARKS.md says what each figure means and what dominates it.

mod child;
mod fleet;
mod results;
mod scenarios;

use anyhow::{Context, bail};

use fleet::Backend;
use scenarios::latency::Load;

const SCENARIOS: [&str; 13] = [
    "latency", "ingest", "burst", "slow", "tick", "swap", "storm", "board", "report", "process",
    "soak", "replay", "import",
];

/// Scenarios a plain run leaves out: they take long (`--only soak`, `--only replay`,
/// `--only import`).
const LONG: [&str; 3] = ["soak", "replay", "import"];

struct Args {
    only: Vec<String>,
    seconds: u32,
    rates: Vec<u32>,
    installations: usize,
    fleet: usize,
    swap_rate: u32,
    soak_minutes: u32,
    replay_installations: usize,
    import_installations: usize,
    out: String,
}

impl Args {
    fn parse() -> anyhow::Result<Args> {
        let mut args = Args {
            only: SCENARIOS
                .iter()
                .filter(|s| !LONG.contains(s))
                .map(|s| s.to_string())
                .collect(),
            seconds: 10,
            rates: vec![200, 1_000],
            installations: 200,
            fleet: 100_000,
            swap_rate: 1_000,
            soak_minutes: 60,
            replay_installations: 1_000,
            import_installations: 1_000,
            out: "bench-results.json".into(),
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let value = it.next().with_context(|| format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--only" => {
                    args.only = value.split(',').map(str::to_string).collect();
                    if let Some(unknown) =
                        args.only.iter().find(|s| !SCENARIOS.contains(&s.as_str()))
                    {
                        bail!(
                            "unknown scenario {unknown} (scenarios: {})",
                            SCENARIOS.join(", ")
                        );
                    }
                }
                "--seconds" => args.seconds = value.parse().context("--seconds")?,
                "--rate" => {
                    args.rates = value
                        .split(',')
                        .map(str::parse)
                        .collect::<Result<_, _>>()
                        .context("--rate: reports per second, or several separated by commas")?
                }
                "--installations" => {
                    args.installations = value.parse().context("--installations")?
                }
                "--fleet" => args.fleet = value.parse().context("--fleet")?,
                "--swap-rate" => args.swap_rate = value.parse().context("--swap-rate")?,
                "--soak-minutes" => args.soak_minutes = value.parse().context("--soak-minutes")?,
                "--import-installations" => {
                    args.import_installations = value.parse().context("--import-installations")?
                }
                "--replay-installations" => {
                    args.replay_installations = value.parse().context("--replay-installations")?
                }
                "--out" => args.out = value,
                other => bail!(
                    "unknown flag {other} (use --only, --seconds, --rate, --installations, --fleet, --swap-rate, --soak-minutes, --replay-installations, --import-installations, --out)"
                ),
            }
        }
        Ok(args)
    }

    fn runs(&self, scenario: &str) -> bool {
        self.only.iter().any(|s| s == scenario)
    }
}

fn main() -> anyhow::Result<()> {
    // The process scenarios start the service as a child: this same binary, serving.
    if std::env::args().nth(1).as_deref() == Some("serve") {
        reveille::cli::main();
    }
    let args = Args::parse()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(&args))
}

async fn run(args: &Args) -> anyhow::Result<()> {
    let mut backends = vec![Backend::Sqlite];
    if let Ok(server) = std::env::var("REVEILLE_TEST_POSTGRES_URL") {
        backends.push(Backend::Postgres { server });
    }
    let mut figures = Vec::new();
    for backend in &backends {
        if args.runs("latency") {
            for &rate in &args.rates {
                // One report per installation per second, at least.
                let load = Load {
                    rate,
                    seconds: args.seconds,
                    installations: args.installations.max(rate as usize),
                };
                figures.extend(scenarios::latency::run(backend, &load).await?);
            }
        }
        if args.runs("ingest") {
            figures.extend(scenarios::ingest::run(backend, args.seconds).await?);
        }
        if args.runs("burst") {
            figures.extend(scenarios::burst::run(backend).await?);
        }
        if args.runs("slow") {
            figures.extend(scenarios::burst::slow(backend).await?);
        }
        if args.runs("tick") {
            figures.extend(scenarios::tick::run(backend, args.fleet).await?);
        }
        if args.runs("swap") {
            figures.extend(scenarios::swap::run(backend, args.swap_rate, args.seconds).await?);
        }
        if args.runs("storm") {
            figures.extend(scenarios::storm::run(backend).await?);
        }
        if args.runs("board") {
            figures.extend(scenarios::board::run(backend, args.fleet).await?);
        }
        if args.runs("report") {
            figures.extend(scenarios::report::run(backend).await?);
        }
        if args.runs("replay") {
            figures.extend(scenarios::replay::run(backend, args.replay_installations).await?);
        }
        if args.runs("import") {
            figures.extend(scenarios::import::run(backend, args.import_installations).await?);
        }
        eprintln!("{}: done", backend.name());
    }
    if args.runs("process") {
        figures.extend(scenarios::process::run(args.fleet).await?);
    }
    if args.runs("soak") {
        figures.extend(scenarios::soak::run(args.soak_minutes).await?);
    }
    results::print_table(&figures);
    std::fs::write(
        &args.out,
        serde_json::to_string_pretty(&results::to_json(&figures))?,
    )
    .with_context(|| format!("cannot write {}", args.out))?;
    eprintln!("written to {}", args.out);
    Ok(())
}

//! `reveille report`: a client's report from the running service's API, written to a file.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use reqwest::{Method, StatusCode};

use super::service::{Answer, Service};

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
    #[arg(long, env = "REVEILLE_URL")]
    url: Option<String>,
}

/// Writes the report. A PDF asked of a service without Chromium falls back to the HTML,
/// next to the file asked for, and exits 1 so that a script notices.
pub async fn run(args: ReportArgs) -> anyhow::Result<i32> {
    let service = Service::connect(args.config.as_deref(), args.url.clone())?;
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
    let answer = fetch(&service, &args, format).await?;
    if answer.status == StatusCode::SERVICE_UNAVAILABLE && format == "pdf" {
        eprintln!("{}", answer.error_text());
        let html = fetch(&service, &args, "html").await?;
        if !html.status.is_success() {
            bail!("{}", html.error_text());
        }
        let path = if args.output == Path::new("-") {
            PathBuf::from("-")
        } else {
            args.output.with_extension("html")
        };
        write_output(&path, &html.body)?;
        eprintln!("wrote the HTML report to {} instead", path.display());
        return Ok(1);
    }
    if !answer.status.is_success() {
        bail!("{}: {}", answer.status, answer.error_text());
    }
    write_output(&args.output, &answer.body)?;
    Ok(0)
}

/// One request for the report as `format`.
async fn fetch(service: &Service, args: &ReportArgs, format: &str) -> anyhow::Result<Answer> {
    let mut query: Vec<(&str, &str)> = [
        ("quarter", &args.quarter),
        ("month", &args.month),
        ("from", &args.from),
        ("to", &args.to),
    ]
    .into_iter()
    .filter_map(|(key, value)| Some((key, value.as_deref()?)))
    .collect();
    query.extend([("format", format), ("lang", args.lang.as_str())]);
    let url = service.url(&["clients", &args.client, "report"], &query)?;
    service.call(Method::GET, url, None).await
}

fn write_output(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    if path == Path::new("-") {
        std::io::stdout().write_all(bytes)?;
        return Ok(());
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

//! PDF through headless Chromium's `--print-to-pdf`: the HTML made for print is the
//! source, so the PDF and the page never disagree. Chromium is optional; without it the
//! caller says so and offers the HTML.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The programs tried on `PATH`, in order.
const CANDIDATES: [&str; 4] = ["chromium", "chromium-browser", "google-chrome", "chrome"];
/// Printing a report takes a second or two; a hung browser is stopped after this.
const TIMEOUT: Duration = Duration::from_secs(90);

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "PDF needs Chromium, and none was found (looked for {} on PATH; set \
         [client_reports] chromium, or install the `chromium` package); the HTML report \
         (format=html) prints to PDF from any browser",
        CANDIDATES.join(", ")
    )]
    NoChromium,
    #[error("Chromium could not print the report: {0}")]
    Failed(String),
}

/// The configured Chromium, or the first found on `PATH`.
pub fn chromium(configured: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = configured {
        return path.is_file().then(|| path.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| CANDIDATES.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// `html` printed to PDF (A4, as its `@page` rule says).
pub async fn print(configured: Option<&Path>, html: &str) -> Result<Vec<u8>, PdfError> {
    let program = chromium(configured).ok_or(PdfError::NoChromium)?;
    let failed = |what: &str, e: std::io::Error| PdfError::Failed(format!("{what}: {e}"));
    let dir = tempfile::tempdir().map_err(|e| failed("temporary directory", e))?;
    let page = dir.path().join("report.html");
    let out = dir.path().join("report.pdf");
    tokio::fs::write(&page, html)
        .await
        .map_err(|e| failed("writing the page", e))?;
    let mut command = tokio::process::Command::new(&program);
    command
        .arg("--headless")
        .arg("--no-sandbox")
        .arg("--disable-gpu")
        .arg("--no-pdf-header-footer")
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--print-to-pdf={}", out.display()))
        .arg(format!("file://{}", page.display()))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let run = tokio::time::timeout(TIMEOUT, command.output())
        .await
        .map_err(|_| PdfError::Failed(format!("no PDF after {} s", TIMEOUT.as_secs())))?
        .map_err(|e| failed(&program.display().to_string(), e))?;
    match tokio::fs::read(&out).await {
        Ok(bytes) if bytes.starts_with(b"%PDF") => Ok(bytes),
        _ => {
            let stderr = String::from_utf8_lossy(&run.stderr);
            let last = stderr.lines().last().unwrap_or("no output");
            Err(PdfError::Failed(format!("{}: {last}", run.status)))
        }
    }
}

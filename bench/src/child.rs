//! The service as a process of its own (this binary re-run as `reveille-bench serve`, which
//! is `reveille serve`), for the figures that belong to a whole process: start-up time and
//! resident memory.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::fleet::ADMIN;

pub struct Child {
    process: std::process::Child,
    pub base: String,
    /// From spawning the process to its first healthy `/healthz`.
    pub started_in: Duration,
}

impl Child {
    /// Starts the service on `data_dir` (SQLite there, compile cache there) with the
    /// built-in plugins and no Telegram.
    pub async fn spawn(data_dir: &Path) -> anyhow::Result<Child> {
        Child::spawn_with(data_dir, &[], &[]).await
    }

    /// [`Child::spawn`] with more arguments to `serve` and more environment (a Telegram).
    pub async fn spawn_with(
        data_dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> anyhow::Result<Child> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let process = Command::new(std::env::current_exe()?)
            .arg("serve")
            .env("REVEILLE_LISTEN", format!("127.0.0.1:{port}"))
            .env("REVEILLE_DATA_DIR", data_dir)
            .env("REVEILLE_ADMIN_TOKEN", ADMIN)
            .env("REVEILLE_LOG", "warn")
            .env_remove("REVEILLE_DATABASE_URL")
            .env_remove("REVEILLE_TELEGRAM_TOKEN")
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start the service process")?;
        let mut child = Child {
            process,
            base,
            started_in: Duration::ZERO,
        };
        let client = reqwest::Client::new();
        let deadline = started + Duration::from_secs(120);
        loop {
            if let Some(status) = child.process.try_wait()? {
                bail!("the service exited with {status}");
            }
            let healthy = client
                .get(format!("{}/healthz", child.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if healthy {
                child.started_in = started.elapsed();
                return Ok(child);
            }
            if Instant::now() > deadline {
                bail!("the service did not answer /healthz within 2 minutes");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Registers installation `id` through the admin API; its ingest token.
    pub async fn register(&self, id: &str, client: &str, chat: i64) -> anyhow::Result<String> {
        let created: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/api/v1/installations", self.base))
            .bearer_auth(ADMIN)
            .json(
                &serde_json::json!({"id": id, "client": client, "manager": "bench",
                                      "timezone": "UTC", "telegram_chat_id": chat}),
            )
            .send()
            .await?
            .json()
            .await?;
        let token = created["token"]
            .as_str()
            .with_context(|| format!("no installation token in {created}"))?;
        Ok(token.to_string())
    }

    /// The most resident memory the process has had, in bytes.
    pub fn peak_rss(&self) -> u64 {
        status_bytes(self.pid(), "VmHWM:")
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }
}

/// A service never outlives the bench, whatever went wrong.
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Resident memory of process `pid` now, in bytes (0 once it is gone).
pub fn rss_of(pid: u32) -> u64 {
    status_bytes(pid, "VmRSS:")
}

/// A memory field of `/proc/<pid>/status` (Linux), in bytes; 0 when unreadable.
fn status_bytes(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

//! The service as a real process (the `reveille-under-test` binary of this crate), for tests
//! that must kill it with SIGKILL at an arbitrary point and start it again.

use std::ops::Deref;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{ADMIN_TOKEN, Service, TELEGRAM_TOKEN};

pub struct Process {
    child: Child,
    service: Service,
}

impl Process {
    /// Starts `program serve` (a test's `env!("CARGO_BIN_EXE_reveille-under-test")`, which
    /// only integration tests can see) on `data_dir` with notifications to `telegram_api`;
    /// returns once it answers `/healthz`.
    pub async fn spawn(program: &str, data_dir: &Path, telegram_api: &str) -> Process {
        Process::spawn_with(program, data_dir, telegram_api, &[]).await
    }

    /// [`Process::spawn`] with more environment (`REVEILLE_DATABASE_URL`, `REVEILLE_NODE`).
    pub async fn spawn_with(
        program: &str,
        data_dir: &Path,
        telegram_api: &str,
        env: &[(&str, &str)],
    ) -> Process {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            probe.local_addr().unwrap().port()
        };
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data_dir.join("reveille.log"))
            .expect("log file");
        let child = Command::new(program)
            .arg("serve")
            .env("REVEILLE_LISTEN", format!("127.0.0.1:{port}"))
            .env("REVEILLE_DATA_DIR", data_dir)
            .env("REVEILLE_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("REVEILLE_TELEGRAM_TOKEN", TELEGRAM_TOKEN)
            .env("REVEILLE_TELEGRAM_API_URL", telegram_api)
            .env("REVEILLE_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start reveille-under-test");
        let service = Service::remote(format!("http://127.0.0.1:{port}"), data_dir.to_path_buf());
        let mut process = Process { child, service };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = process.child.try_wait() {
                panic!(
                    "reveille exited with {status}: {}",
                    std::fs::read_to_string(data_dir.join("reveille.log")).unwrap_or_default()
                );
            }
            let up = process
                .service
                .client
                .get(process.service.url("/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if up {
                return process;
            }
            assert!(Instant::now() < deadline, "reveille did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What the process has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.service.data_dir.join("reveille.log")).unwrap_or_default()
    }

    /// SIGTERM, as a service manager stops it, and its log once it has exited.
    pub fn stop(mut self) -> String {
        let terminated = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(terminated.success(), "kill -TERM");
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().expect("wait").is_none() {
            assert!(
                Instant::now() < deadline,
                "still running 30 s after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        self.log()
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }
}

impl Deref for Process {
    type Target = Service;

    fn deref(&self) -> &Service {
        &self.service
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

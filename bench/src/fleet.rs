//! The service under load, in this process, with a fake Telegram beside it, on SQLite in a
//! temporary directory or on a throwaway PostgreSQL database (the tests' own); and the
//! fleets and reports that drive it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use fake_telegram::FakeTelegram;
use reveille::clock::SystemClock;
use reveille::config::Config;
use reveille::fleet::Installation;
use reveille::server::Running;
use reveille::store::Store;
use reveille_tests::TestDatabase;
use serde_json::json;
use tokio::task::JoinSet;

pub const ADMIN: &str = "bench-admin-token-0123456789";
pub const BOT: &str = "1:bench-bot-token";

/// Where the service keeps its data.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// A server on which each run creates and drops its own database.
    Postgres {
        server: String,
    },
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }
}

/// One member of a generated fleet.
pub struct Member {
    pub id: String,
    pub chat: i64,
    pub token: String,
}

/// A running service and its fake Telegram, torn down by [`Bench::stop`].
pub struct Bench {
    pub running: Running,
    pub fake: FakeTelegram,
    pub base: String,
    pub client: reqwest::Client,
    _data: tempfile::TempDir,
    database: Option<TestDatabase>,
}

impl Bench {
    /// Starts the service with the built-in plugins. Ticks are left to the scenario (the
    /// interval is a day), so a sweep never lands in the middle of another measurement.
    pub async fn start(backend: &Backend) -> anyhow::Result<Bench> {
        Bench::start_with(backend, "").await
    }

    /// [`Bench::start`] with more configuration lines (top-level keys and tables that
    /// come after `[schedule]`'s).
    pub async fn start_with(backend: &Backend, config: &str) -> anyhow::Result<Bench> {
        Bench::start_clocked(backend, config, Arc::new(SystemClock)).await
    }

    /// [`Bench::start_with`] on `clock` (a manual one, to lay history in the past).
    pub async fn start_clocked(
        backend: &Backend,
        config: &str,
        clock: reveille::clock::SharedClock,
    ) -> anyhow::Result<Bench> {
        let fake = FakeTelegram::start(BOT).await;
        let data = tempfile::tempdir()?;
        let config_file = data.path().join("reveille.toml");
        std::fs::write(
            &config_file,
            format!("{config}\n[schedule]\ntick_interval = \"24h\"\n"),
        )?;
        let database = match backend {
            Backend::Sqlite => None,
            Backend::Postgres { server } => Some(TestDatabase::postgres(server.clone()).await),
        };
        let database_url = database.as_ref().and_then(|d| d.url.clone());
        let config = Config::load_with(Some(&config_file), |key| match key {
            "REVEILLE_LISTEN" => Some("127.0.0.1:0".into()),
            "REVEILLE_DATA_DIR" => Some(data.path().display().to_string()),
            "REVEILLE_ADMIN_TOKEN" => Some(ADMIN.into()),
            "REVEILLE_TELEGRAM_TOKEN" => Some(BOT.into()),
            "REVEILLE_TELEGRAM_API_URL" => Some(fake.api_url()),
            "REVEILLE_DATABASE_URL" => database_url.clone(),
            _ => None,
        })?;
        let running = reveille::server::start(config, clock).await?;
        Ok(Bench {
            base: format!("http://{}", running.addr),
            running,
            fake,
            client: reqwest::Client::new(),
            _data: data,
            database,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Registers `n` installations through the admin API, each with its own chat.
    pub async fn register(&self, n: usize) -> anyhow::Result<Vec<Member>> {
        let mut members = Vec::with_capacity(n);
        for chunk in (0..n).collect::<Vec<_>>().chunks(32) {
            let mut creating = JoinSet::new();
            for &k in chunk {
                let id = format!("inst-{k:06}");
                let chat = -1_000_000 - k as i64;
                self.fake.add_chat(chat, &id);
                let request = self
                    .client
                    .post(self.url("/api/v1/installations"))
                    .bearer_auth(ADMIN)
                    .json(&json!({
                        "id": id, "client": format!("Client {}", k % 97), "manager": "bench",
                        "timezone": "Europe/Moscow", "telegram_chat_id": chat,
                    }));
                creating.spawn(async move {
                    let body: serde_json::Value = request.send().await?.json().await?;
                    let token = body["token"]
                        .as_str()
                        .with_context(|| format!("no token for {id}: {body}"))?
                        .to_string();
                    anyhow::Ok(Member { id, chat, token })
                });
            }
            while let Some(member) = creating.join_next().await {
                members.push(member??);
            }
        }
        members.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(members)
    }

    /// Posts one report as `member`'s agent; the HTTP status.
    pub fn post(
        &self,
        member: &Member,
        body: String,
    ) -> impl Future<Output = Option<u16>> + Send + use<> {
        self.post_as(&member.token, body)
    }

    /// Posts one report with ingest token `token`; the HTTP status.
    pub fn post_as(
        &self,
        token: &str,
        body: String,
    ) -> impl Future<Output = Option<u16>> + Send + use<> {
        let request = self
            .client
            .post(self.url("/api/v1/reports"))
            .bearer_auth(token)
            .header("content-type", "application/xml")
            .body(body);
        async move { request.send().await.ok().map(|r| r.status().as_u16()) }
    }

    /// Posts `rate × seconds` typical reports at a steady rate: report k comes from
    /// installation k mod N, whose dongle is lost in even rounds over the fleet and present
    /// in odd ones. `before(k, member, lost)` runs just before each post. Returns how many
    /// were accepted.
    pub async fn steady(
        &self,
        fleet: &[Member],
        rate: u32,
        seconds: u32,
        mut before: impl FnMut(usize, &Member, bool),
    ) -> usize {
        let total = (rate * seconds) as usize;
        let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
        let started = Instant::now();
        let mut posts = JoinSet::new();
        for k in 0..total {
            tokio::time::sleep_until((started + interval * k as u32).into()).await;
            let member = &fleet[k % fleet.len()];
            let lost = (k / fleet.len()).is_multiple_of(2);
            before(k, member, lost);
            let dongle = if lost { "lost" } else { "present" };
            posts.spawn(self.post(member, typical_report(&member.id, dongle)));
        }
        let mut accepted = 0;
        while let Some(status) = posts.join_next().await {
            if matches!(status, Ok(Some(202))) {
                accepted += 1;
            }
        }
        accepted
    }

    /// GETs `path` `n` times in a row with `header` (a session cookie, a bearer token): the
    /// median and worst time, and the size of the answer.
    pub async fn timed_gets(
        &self,
        path: &str,
        header: (&str, &str),
        n: usize,
    ) -> anyhow::Result<(Duration, Duration, usize)> {
        let mut times = Vec::with_capacity(n);
        let mut bytes = 0;
        for _ in 0..n {
            let started = Instant::now();
            let response = self
                .client
                .get(self.url(path))
                .header(header.0, header.1)
                .send()
                .await?
                .error_for_status()?;
            bytes = response.bytes().await?.len();
            times.push(started.elapsed());
        }
        times.sort();
        Ok((times[n / 2], times[n - 1], bytes))
    }

    /// Waits until nothing is queued for evaluation; false if `limit` passed first.
    pub async fn drained(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.running.pipeline.queue_depth() > 0 {
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        true
    }

    /// The sum of every `/metrics` sample whose name (labels included) starts with `prefix`.
    pub async fn metric(&self, prefix: &str) -> anyhow::Result<f64> {
        let text = self
            .client
            .get(self.url("/metrics"))
            .send()
            .await?
            .text()
            .await?;
        Ok(sum_metric(&text, prefix))
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        self.running.stop().await?;
        if let Some(database) = self.database {
            database.drop_database().await;
        }
        Ok(())
    }
}

pub fn sum_metric(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|line| line.starts_with(prefix))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A typical full report of about 4 KB: product, service, dongle, 32 content sets updated
/// within the hours before the bench started (so nothing but the dongle is wrong whatever
/// the day the bench runs, and an installation's reports say the same thing run after run,
/// as routine reports do), seats, network, disk. Generated now, to the millisecond: a
/// report sent again is stored once, and an installation may report twice a second here.
pub fn typical_report(id: &str, dongle: &str) -> String {
    static STARTED: std::sync::OnceLock<jiff::Timestamp> = std::sync::OnceLock::new();
    let started = *STARTED.get_or_init(jiff::Timestamp::now);
    let now = jiff::Timestamp::now();
    let mut bases = String::new();
    for n in 0..32 {
        let updated = started - jiff::SignedDuration::from_mins(60 + 2 * n);
        bases.push_str(&format!(
            "    <base code=\"KDS-{n:03}\" name=\"Content set {n}\" update=\"{}\" \
             operup-at=\"{updated:.0}\" state=\"ok\"/>\n",
            4280 + n % 7,
        ));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<report schema="1" agent="report-agent" agent-version="2.3.0" generated-at="{now:.3}">
  <installation id="{id}" regnum="123456"><client>Client of {id}</client></installation>
  <product name="Техэксперт" shell-version="6.4.2.73"/>
  <service state="running" http-status="200" run-as="user"/>
  <protection kind="senselock" state="{dongle}" forwarding="usb-over-network"/>
  <bases>
{bases}  </bases>
  <users limit="25" in-use="12" peak="19" refused="0"/>
  <network domain="{id}.example.ru" reachable-by-domain="true" reachable-by-ip="true"/>
  <disk path="D:\Kodeks" free-mb="81200" total-mb="102400"/>
</report>"#
    )
}

/// What a flood of reports came to.
pub struct Flooded {
    pub accepted: usize,
    pub sent: usize,
    /// When the first agent began.
    pub started: Instant,
    pub took: Duration,
}

/// `agents` agents at once post as fast as they are answered for `seconds`; each post is
/// `post(k)` for the next k (0, 1, 2, ...).
pub async fn flood<F, P>(agents: usize, seconds: f64, post: F) -> Flooded
where
    F: Fn(usize) -> P + Send + Sync + 'static,
    P: Future<Output = Option<u16>> + Send,
{
    let post = Arc::new(post);
    let next = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(seconds);
    let mut posting = JoinSet::new();
    for _ in 0..agents {
        let (post, next, accepted) = (post.clone(), next.clone(), accepted.clone());
        posting.spawn(async move {
            while Instant::now() < until {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if post(k).await == Some(202) {
                    accepted.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while posting.join_next().await.is_some() {}
    Flooded {
        accepted: accepted.load(Ordering::Relaxed),
        sent: next.load(Ordering::Relaxed),
        started,
        took: started.elapsed(),
    }
}

/// The id and ingest token of installation `k` of a fleet made by [`seed`].
pub fn seeded(k: usize) -> (String, String) {
    (format!("fleet-{k:06}"), format!("rvt_bench_fleet_{k:06}"))
}

/// Writes `size` installations straight into `store`, each with one typical report
/// received five minutes ago, except every `silent_every`-th, whose last report is three
/// days old (its chat is `-2_000_000 - k`, given to `silent_chat`). Registering 100,000
/// installations through the API would measure the API.
pub async fn seed(
    store: &Store,
    size: usize,
    silent_every: usize,
    silent_chat: impl Fn(i64),
) -> anyhow::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let xml = typical_report("fleet", "present");
    let report = Arc::new(reveille::ingest::accept(
        "fleet",
        xml.as_bytes(),
        None,
        usize::MAX,
    )?);
    for chunk in (0..size).collect::<Vec<_>>().chunks(256) {
        let mut writing = JoinSet::new();
        for &k in chunk {
            let store = store.clone();
            let report = report.clone();
            let silent = k % silent_every == 0;
            let chat = -2_000_000 - k as i64;
            if silent {
                silent_chat(chat);
            }
            writing.spawn(async move {
                let (id, token) = seeded(k);
                let installation = Installation {
                    id,
                    client: format!("Client {}", k % 997),
                    manager: "bench".into(),
                    timezone: "Europe/Moscow".into(),
                    telegram_chat_id: chat,
                    url: None,
                    ip: None,
                    parent: None,
                    tags: Vec::new(),
                    created_at: now - 30 * 86_400_000,
                    updated_at: now - 30 * 86_400_000,
                };
                store
                    .create_installation(&installation, &reveille::ingest::token::digest(&token))
                    .await?;
                let received_at = now - if silent { 3 * 86_400_000 } else { 300_000 };
                store
                    .insert_report(&report.to_store(&installation.id, received_at))
                    .await?;
                anyhow::Ok(())
            });
        }
        while let Some(done) = writing.join_next().await {
            done??;
        }
    }
    Ok(())
}

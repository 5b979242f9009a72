//! Test support: start the real service on loopback with a throwaway data directory,
//! talk to it over HTTP, and find the fixture components and reports.

mod browser;
mod database;
mod harness;
mod process;
mod proxy;
mod session;

pub use browser::Browser;
pub use database::{TestDatabase, databases};
pub use harness::{Harness, Held, at, report_xml};
pub use process::Process;
pub use proxy::Proxy;
pub use session::{Session, no_redirects};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Client, Response, StatusCode};
use reveille::clock::{ManualClock, SharedClock, SystemClock};
use reveille::config::Config;
use reveille::server::{self, Running};
use serde_json::Value;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";
/// The bot token the fake Telegram server and the service share.
pub const TELEGRAM_TOKEN: &str = "123456:TEST-bot-token";

/// Bytes of a fixture plugin from `tests/plugins`.
pub fn fixture_plugin(name: &str) -> Vec<u8> {
    let path = Path::new(env!("REVEILLE_TEST_PLUGINS_DIR"))
        .join(format!("{}.wasm", name.replace('-', "_")));
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture plugin {}: {e}", path.display()))
}

/// Bytes of a built-in plugin, as embedded in the host.
pub fn builtin_plugin(name: &str) -> Vec<u8> {
    reveille::plugins::builtin::BUILTIN_PLUGINS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no built-in plugin {name}"))
        .1
        .to_vec()
}

/// A report from `tests/fixtures/reports`.
pub fn report(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/reports")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("report {}: {e}", path.display()))
}

/// A report from `tests/fixtures/reports` with its installation id replaced.
pub fn report_for(name: &str, installation: &str) -> Vec<u8> {
    String::from_utf8(report(name))
        .expect("fixture reports are UTF-8")
        .replace("\"vector-main\"", &format!("\"{installation}\""))
        .into_bytes()
}

/// `xml` as if generated `seconds` later: another report, where the same one sent again
/// would be stored once.
pub fn later(xml: &[u8], seconds: i64) -> Vec<u8> {
    let text = String::from_utf8(xml.to_vec()).expect("reports here are UTF-8");
    let (head, rest) = text
        .split_once("generated-at=\"")
        .expect("a report has generated-at");
    let (when, tail) = rest.split_once('"').expect("a closed attribute");
    let when: jiff::Timestamp = when.parse().expect("an RFC 3339 generated-at");
    let moved = when + jiff::SignedDuration::from_secs(seconds);
    format!("{head}generated-at=\"{moved}\"{tail}").into_bytes()
}

/// `xml` with its `generated-at` set to `ms`; as it is when that attribute is not plain
/// ASCII text of an RFC 3339 time (UTF-16, gzip, a broken fixture).
pub fn made_at(xml: &[u8], ms: i64) -> Vec<u8> {
    const ATTRIBUTE: &[u8] = b"generated-at=\"";
    let Some(start) = xml
        .windows(ATTRIBUTE.len())
        .position(|w| w == ATTRIBUTE)
        .map(|at| at + ATTRIBUTE.len())
    else {
        return xml.to_vec();
    };
    let Some(length) = xml[start..].iter().position(|&b| b == b'"') else {
        return xml.to_vec();
    };
    let readable = std::str::from_utf8(&xml[start..start + length])
        .ok()
        .and_then(|when| when.parse::<jiff::Timestamp>().ok());
    let (Some(_), Ok(stamp)) = (readable, jiff::Timestamp::from_millisecond(ms)) else {
        return xml.to_vec();
    };
    let mut out = xml[..start].to_vec();
    out.extend_from_slice(stamp.to_string().as_bytes());
    out.extend_from_slice(&xml[start + length..]);
    out
}

/// The lost-key report (installation `vector-main`) grown to `size` bytes with a `files`
/// inventory, as the product's full system report carries.
pub fn large_report(size: usize) -> Vec<u8> {
    let base = String::from_utf8(report("lost-key-evening.xml")).unwrap();
    let mut files = String::with_capacity(size);
    files.push_str("<files>\n");
    let mut n = 0;
    while files.len() < size {
        files.push_str(&format!(
            "    <file path=\"D:\\Kodeks\\data\\base-{:04}\\block-{n:07}.dat\" size=\"{}\" modified=\"2026-11-19T22:{:02}:00+03:00\"/>\n",
            n % 977,
            n * 37 % 1_048_576,
            n % 60
        ));
        n += 1;
    }
    files.push_str("  </files>\n");
    base.replace("</report>", &format!("{files}</report>"))
        .into_bytes()
}

/// `bytes` with one more custom section: the same plugin, a different sha256.
pub fn with_custom_section(bytes: &[u8], name: &str, data: &[u8]) -> Vec<u8> {
    fn leb128(out: &mut Vec<u8>, mut n: usize) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let mut body = Vec::new();
    leb128(&mut body, name.len());
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(data);
    let mut out = bytes.to_vec();
    out.push(0);
    leb128(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

/// A component holding nothing but custom sections (enough for the pre-compile checks).
pub fn bare_component(sections: &[(&str, &[u8])]) -> Vec<u8> {
    sections
        .iter()
        .fold(b"\0asm\x0d\x00\x01\x00".to_vec(), |bytes, (name, data)| {
            with_custom_section(&bytes, name, data)
        })
}

/// How to start a test service.
#[derive(Clone)]
pub struct Options {
    pub builtin_plugins: bool,
    pub admin_token: Option<&'static str>,
    pub config: String,
    /// `None`: SQLite in the data directory.
    pub database_url: Option<String>,
    /// Every plugin's deadline: generous by default, so a loaded machine cannot turn a
    /// test that is not about time into a timeout. `config` may set tighter ones per
    /// plugin under `[runtime.limits.<name>]`.
    pub deadline: &'static str,
    /// More lines for the `[runtime]` table, which the deadline opens.
    pub runtime: &'static str,
    /// `None`: the system clock.
    pub clock: Option<Arc<ManualClock>>,
    /// The Bot API base URL (a fake Telegram); `None`: notifications off.
    pub telegram_api: Option<String>,
    /// Compiled plugins kept in the data directory, as a node keeps them. Otherwise every
    /// test service of this run shares one compile cache (the same cache code, keyed and
    /// signed the same way), so the built-in checks compile once a run, not once a start.
    pub own_compile_cache: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            builtin_plugins: true,
            admin_token: Some(ADMIN_TOKEN),
            config: String::new(),
            database_url: None,
            deadline: "5s",
            runtime: "",
            clock: None,
            telegram_api: None,
            own_compile_cache: false,
        }
    }
}

/// The compile cache test services share, beside the fixtures the build compiles
/// (`target/`, where `cargo clean` removes it); entries are keyed by each component's
/// hash and the engine's, so a changed plugin or wasmtime never finds a stale one.
fn shared_compile_cache() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-compile-cache")
}

/// The real service on an ephemeral loopback port.
pub struct Service {
    pub running: Option<Running>,
    pub base: String,
    pub client: Client,
    pub data_dir: PathBuf,
    options: Options,
    /// The clock agents stamp their reports with (the service's), and the last stamp.
    clock: SharedClock,
    made: Arc<std::sync::atomic::AtomicI64>,
    _temp: Option<tempfile::TempDir>,
}

impl Service {
    pub async fn start(options: Options) -> Service {
        let temp = tempfile::tempdir().expect("temp dir");
        let data_dir = temp.path().to_path_buf();
        let mut service = Service::start_in(data_dir, options).await;
        service._temp = Some(temp);
        service
    }

    /// Starts a service on an existing data directory (a restart).
    pub async fn start_in(data_dir: PathBuf, options: Options) -> Service {
        let config_path = data_dir.join("test-config.toml");
        std::fs::create_dir_all(&data_dir).unwrap();
        std::fs::write(
            &config_path,
            format!(
                "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\nbuiltin_plugins = {}\n{}\n[runtime]\ndeadline = {:?}\n{}\n",
                data_dir.display().to_string(),
                options.builtin_plugins,
                options.config,
                options.deadline,
                options.runtime,
            ),
        )
        .unwrap();
        let token = options.admin_token;
        let database_url = options.database_url.clone();
        let telegram_api = options.telegram_api.clone();
        let mut config = Config::load_with(Some(&config_path), |key| match key {
            "REVEILLE_ADMIN_TOKEN" => token.map(str::to_string),
            "REVEILLE_DATABASE_URL" => database_url.clone(),
            "REVEILLE_TELEGRAM_TOKEN" => telegram_api.as_ref().map(|_| TELEGRAM_TOKEN.into()),
            "REVEILLE_TELEGRAM_API_URL" => telegram_api.clone(),
            _ => None,
        })
        .expect("test config");
        if !options.own_compile_cache {
            config.runtime.cache_dir = Some(shared_compile_cache());
        }
        let clock: SharedClock = match &options.clock {
            Some(manual) => manual.clone(),
            None => Arc::new(SystemClock),
        };
        let running = server::start(config, clock.clone())
            .await
            .expect("service starts");
        let base = format!("http://{}", running.addr);
        Service {
            running: Some(running),
            base,
            client: Client::new(),
            data_dir,
            options,
            clock,
            made: Arc::default(),
            _temp: None,
        }
    }

    /// A handle on a service running elsewhere (a process): the HTTP helpers work, the
    /// in-process ones (`settle`, `store`, ...) do not.
    pub fn remote(base: String, data_dir: PathBuf) -> Service {
        Service {
            running: None,
            base,
            client: Client::new(),
            data_dir,
            options: Options::default(),
            clock: Arc::new(SystemClock),
            made: Arc::default(),
            _temp: None,
        }
    }

    /// Stops the service and starts it again on the same data directory.
    pub async fn restart(mut self) -> Service {
        self.stop().await;
        let temp = self._temp.take();
        let options = std::mem::take(&mut self.options);
        let mut service = Service::start_in(self.data_dir.clone(), options).await;
        service._temp = temp;
        service.made = self.made.clone();
        service
    }

    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("clean shutdown");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn plugins_dir(&self) -> PathBuf {
        self.data_dir.join("plugins")
    }

    fn admin(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.bearer_auth(ADMIN_TOKEN)
    }

    pub async fn put_plugin(&self, name: &str, bytes: Vec<u8>) -> Response {
        self.admin(
            self.client
                .put(self.url(&format!("/api/v1/plugins/{name}"))),
        )
        .header("content-type", "application/wasm")
        .body(bytes)
        .send()
        .await
        .expect("PUT plugin")
    }

    /// Uploads the fixture plugin `name`, which must load as a new plugin.
    pub async fn install_fixture(&self, name: &str) {
        let response = self.put_plugin(name, fixture_plugin(name)).await;
        let status = response.status();
        assert_eq!(status, 201, "{}", response.text().await.unwrap_or_default());
    }

    pub async fn delete_plugin(&self, name: &str) -> Response {
        self.admin(
            self.client
                .delete(self.url(&format!("/api/v1/plugins/{name}"))),
        )
        .send()
        .await
        .expect("DELETE plugin")
    }

    pub async fn post_admin(&self, path: &str) -> Response {
        self.admin(self.client.post(self.url(path)))
            .send()
            .await
            .expect("POST")
    }

    /// `GET /api/v1/plugins` as a list of plugin objects.
    pub async fn plugins(&self) -> Vec<Value> {
        let body: Value = self
            .admin(self.client.get(self.url("/api/v1/plugins")))
            .send()
            .await
            .expect("GET plugins")
            .json()
            .await
            .expect("plugins JSON");
        body["plugins"].as_array().cloned().unwrap_or_default()
    }

    pub async fn plugin(&self, name: &str) -> Option<Value> {
        self.plugins().await.into_iter().find(|p| p["name"] == name)
    }

    /// Dry-runs every active plugin on `xml`; returns the results by plugin.
    pub async fn evaluate(&self, xml: &[u8]) -> Vec<Value> {
        self.evaluate_with(xml, "").await
    }

    /// Dry-runs every active plugin on `xml` with `query` (`client=...`, `trigger=...`).
    pub async fn evaluate_with(&self, xml: &[u8], query: &str) -> Vec<Value> {
        let response = self
            .admin(
                self.client
                    .post(self.url(&format!("/api/v1/evaluate?{query}"))),
            )
            .header("content-type", "application/xml")
            .body(xml.to_vec())
            .send()
            .await
            .expect("POST evaluate");
        assert_eq!(response.status(), StatusCode::OK, "evaluate failed");
        let body: Value = response.json().await.expect("evaluate JSON");
        body["results"].as_array().cloned().expect("results")
    }

    /// `POST /api/v1/installations`; returns the status and the JSON body.
    pub async fn create_installation(&self, body: Value) -> (u16, Value) {
        let response = self
            .admin(self.client.post(self.url("/api/v1/installations")))
            .json(&body)
            .send()
            .await
            .expect("POST installation");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Registers `id` for the client ООО «Вектор»; returns its ingest token.
    pub async fn installation(&self, id: &str) -> String {
        self.installation_of(id, "ООО «Вектор»").await
    }

    /// Registers `id` for `client` with sensible other fields; returns its ingest token.
    pub async fn installation_of(&self, id: &str, client: &str) -> String {
        self.installation_in_chat(id, client, -1001234567).await
    }

    /// Registers `id` for `client`, alerting in Telegram chat `chat`; returns its token.
    pub async fn installation_in_chat(&self, id: &str, client: &str, chat: i64) -> String {
        let (status, body) = self
            .create_installation(serde_json::json!({
                "id": id,
                "client": client,
                "manager": "Ivanov",
                "timezone": "Europe/Moscow",
                "telegram_chat_id": chat,
            }))
            .await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().expect("a token").to_string()
    }

    /// An agent's `POST /api/v1/reports` of a report it makes now: `xml` (a fixture,
    /// written at some fixed time) goes with its `generated-at` set to the service's clock,
    /// a millisecond after the last report stamped here if the clock has not moved, so two
    /// posts are two reports, judged as they arrive. A test about a report's own time
    /// sends it as it is ([`Service::post_report_as_is`]).
    pub async fn post_report(&self, token: &str, xml: Vec<u8>) -> Response {
        let now = self.clock.now_ms();
        let made = self
            .made
            .fetch_update(
                std::sync::atomic::Ordering::Relaxed,
                std::sync::atomic::Ordering::Relaxed,
                |last| Some(now.max(last + 1)),
            )
            .map_or(now, |last| now.max(last + 1));
        self.post_report_as_is(token, made_at(&xml, made)).await
    }

    /// An agent's `POST /api/v1/reports` of `xml` exactly.
    pub async fn post_report_as_is(&self, token: &str, xml: Vec<u8>) -> Response {
        self.client
            .post(self.url("/api/v1/reports"))
            .bearer_auth(token)
            .header("content-type", "application/xml")
            .body(xml)
            .send()
            .await
            .expect("POST report")
    }

    /// Stores `xml` as `installation`'s report received at `at`, through ingest as the API
    /// stores a report, but not evaluated: history for a replay (the API stamps a report
    /// with the moment it arrives, and a test cannot wait a month).
    pub async fn seed_report(&self, installation: &str, at: i64, xml: &str) {
        let accepted = reveille::ingest::accept(installation, xml.as_bytes(), None, 1 << 20)
            .unwrap_or_else(|e| panic!("{installation}: {e:?}"));
        self.store()
            .insert_report(&accepted.to_store(installation, at))
            .await
            .expect("stored");
    }

    /// The findings that hold for `installation`, once every accepted report is evaluated.
    pub async fn findings(&self, installation: &str) -> Vec<Value> {
        self.settle().await;
        let body: Value = self
            .admin(
                self.client
                    .get(self.url(&format!("/api/v1/installations/{installation}/findings"))),
            )
            .send()
            .await
            .expect("GET findings")
            .json()
            .await
            .expect("findings JSON");
        body["findings"].as_array().cloned().unwrap_or_default()
    }

    /// Waits until the evaluation pipeline is idle.
    pub async fn settle(&self) {
        let pipeline = &self.running.as_ref().expect("running").pipeline;
        let idle = self
            .eventually(Duration::from_secs(30), || async {
                pipeline.queue_depth() == 0
            })
            .await;
        assert!(idle, "the pipeline did not finish evaluating");
    }

    pub fn running(&self) -> &Running {
        self.running.as_ref().expect("running")
    }

    pub fn store(&self) -> &reveille::store::Store {
        &self.running().store
    }

    /// Runs one scheduler tick now and waits for its evaluations.
    pub async fn tick(&self) {
        self.running().scheduler.tick().await.expect("tick");
        self.settle().await;
    }

    /// Runs one probe round now and waits for its evaluations.
    pub async fn probe_round(&self) -> usize {
        let probed = self.running().prober.round().await.expect("probe round");
        self.settle().await;
        probed
    }

    pub async fn admin_request(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.admin(self.client.request(method.parse().unwrap(), self.url(path)));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("admin request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `GET path` as the admin, expecting 200 and text (Markdown, HTML).
    pub async fn get_text(&self, path: &str) -> String {
        let response = self
            .admin(self.client.get(self.url(path)))
            .send()
            .await
            .expect("admin request");
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.expect("a text body")
    }

    /// `PUT /api/v1/clients/{client}/settings/{plugin}` with `settings`.
    pub async fn put_client_settings(
        &self,
        client: &str,
        plugin: &str,
        settings: Value,
    ) -> (u16, Value) {
        self.admin_request(
            "PUT",
            &format!("/api/v1/clients/{client}/settings/{plugin}"),
            Some(settings),
        )
        .await
    }

    /// `GET /healthz` as JSON.
    pub async fn health(&self) -> Value {
        self.client
            .get(self.url("/healthz"))
            .send()
            .await
            .expect("GET /healthz")
            .json()
            .await
            .expect("health JSON")
    }

    /// Allows Telegram user `user_id` to act on alerts in `chat_id`.
    pub async fn authorize(&self, chat_id: i64, user_id: i64, name: &str) {
        let (status, body) = self
            .admin_request(
                "PUT",
                &format!("/api/v1/chats/{chat_id}/members/{user_id}"),
                Some(serde_json::json!({ "name": name })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// `GET /api/v1/alerts?{query}`.
    pub async fn alerts(&self, query: &str) -> Vec<Value> {
        let (status, body) = self
            .admin_request("GET", &format!("/api/v1/alerts?{query}"), None)
            .await;
        assert_eq!(status, 200, "{body}");
        body["alerts"].as_array().cloned().unwrap_or_default()
    }

    /// `GET /api/v1/alerts/{id}`: the alert and its timeline.
    pub async fn alert(&self, id: i64) -> Value {
        let (status, body) = self
            .admin_request("GET", &format!("/api/v1/alerts/{id}"), None)
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Waits (up to 10 s) until plugin `name` is listed in `state`, or for `None`, is not
    /// listed at all.
    pub async fn wait_for_plugin(&self, name: &str, state: Option<&str>) -> bool {
        self.eventually(Duration::from_secs(10), || async {
            let listed = self.plugin(name).await;
            match state {
                Some(state) => listed.is_some_and(|p| p["state"] == state),
                None => listed.is_none(),
            }
        })
        .await
    }

    /// Polls `check` until it holds or `timeout` passes.
    pub async fn eventually<F, Fut>(&self, timeout: Duration, mut check: F) -> bool
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if check().await {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        check().await
    }
}

/// The result for `plugin` among dry-run results.
pub fn result_for<'a>(results: &'a [Value], plugin: &str) -> &'a Value {
    results
        .iter()
        .find(|r| r["plugin"] == plugin)
        .unwrap_or_else(|| panic!("no result for {plugin} in {results:#?}"))
}

/// The failure of `plugin` among dry-run results, which must have failed.
pub fn failure_of<'a>(results: &'a [Value], plugin: &str) -> &'a Value {
    let result = result_for(results, plugin);
    assert_eq!(result["ok"], false, "{result:#}");
    &result["failure"]
}

/// A listed plugin's last error message, empty when it has none.
pub fn last_error(plugin: &Value) -> &str {
    plugin["last_error"]["message"].as_str().unwrap_or_default()
}

/// The label `name` of the first finding in a result.
pub fn label<'a>(result: &'a Value, name: &str) -> &'a str {
    result["findings"][0]["labels"]
        .as_array()
        .and_then(|labels| labels.iter().find(|l| l[0] == name))
        .and_then(|l| l[1].as_str())
        .unwrap_or_else(|| panic!("no label {name} in {result:#}"))
}

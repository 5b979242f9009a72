//! A real headless Chromium, driven through ChromeDriver (WebDriver) with fantoccini: the
//! pages are tested as a person uses them. `.ci/setup` installs Debian's `chromium` and
//! `chromium-driver`; without them these tests fail and say how to get them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// ChromeDriver and the browser session it runs.
pub struct Browser {
    pub client: Client,
    driver: Child,
}

fn program(env: &str, default: &str) -> String {
    let program = std::env::var(env).unwrap_or_else(|_| default.to_string());
    assert!(
        Path::new(&program).exists(),
        "{program} is missing: the browser tests need Debian's chromium and chromium-driver \
         (run .ci/setup, or set {env})"
    );
    program
}

impl Browser {
    pub async fn start() -> Browser {
        let driver_program = program("REVEILLE_CHROMEDRIVER", "/usr/bin/chromedriver");
        let chromium = program("REVEILLE_CHROMIUM", "/usr/bin/chromium");
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            probe.local_addr().unwrap().port()
        };
        let driver = Command::new(driver_program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1400,1000",
                         "--lang=en-US"],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(error) => {
                    assert!(Instant::now() < deadline, "chromedriver: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        Browser { client, driver }
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
    }

    pub async fn find(&self, css: &str) -> Element {
        let found = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(element) => element,
            Err(error) => panic!("no `{css}` on {}: {error}", self.url().await),
        }
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    /// Follows the first start's setup link and creates the first administrator, `admin`,
    /// who lands on the board.
    pub async fn first_admin(&self, setup_link: &str) {
        self.goto(setup_link).await;
        self.fill("#name", "admin").await;
        self.fill("#password", "correct horse battery").await;
        self.click("#create-admin").await;
        // Logged in on the board: a page asked for before would race the redirect.
        self.find("#who").await;
    }

    /// Sets a date, time or date-and-time field to `value` as the browser stores it
    /// (`2026-11-21`, `09:00`, `2026-11-21T09:00`): what a person picks in the control,
    /// without typing in the order the machine's locale would want.
    pub async fn set(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        self.client
            .execute(
                "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true})); return arguments[0].value;",
                vec![serde_json::to_value(&field).expect("an element"), value.into()],
            )
            .await
            .expect("set the field");
    }

    /// Chooses the option with `value` in the select `css`.
    pub async fn choose(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|error| panic!("choose {value:?} in `{css}`: {error}"));
    }

    /// Clicks `css`, finding it again when the page replaced it between finding and
    /// clicking (a live page swaps its parts as the fleet changes).
    pub async fn click(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.find(css).await.click().await {
                Ok(()) => return,
                Err(error) if error.is_stale_element_reference() && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) => panic!("click `{css}`: {error}"),
            }
        }
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("text")
    }

    pub async fn url(&self) -> String {
        self.client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    /// The page's visible text.
    pub async fn body(&self) -> String {
        self.text("body").await
    }

    /// Waits until the visible text of `css` satisfies `check`; returns it.
    pub async fn wait_text(&self, css: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let text = match self.client.find(Locator::Css(css)).await {
                Ok(element) => element.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if check(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "`{css}` never matched; it says {text:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a screenshot as `target/screenshots/<name>.png`; returns its path.
    /// The window at `width` × `height` (a phone is 390 × 844).
    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("resize the window");
    }

    /// What axe-core (vendored in `fixtures/axe/`, MPL-2.0) finds seriously or critically
    /// wrong for people using assistive technology on the page shown: one line per rule,
    /// with up to three of the elements it found.
    pub async fn accessibility_problems(&self) -> Vec<String> {
        const AXE: &str = include_str!("../fixtures/axe/axe.min.js");
        self.client
            .execute(AXE, vec![])
            .await
            .expect("load axe-core");
        let found = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                axe.run(document, { resultTypes: ["violations"] }).then(result => done(
                    result.violations
                        .filter(v => v.impact === "serious" || v.impact === "critical")
                        .map(v => `${v.id} (${v.impact}): ${v.help}: ` +
                            v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "))));"#,
                vec![],
            )
            .await
            .expect("run axe-core");
        serde_json::from_value(found).expect("a list of problems")
    }

    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshots dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

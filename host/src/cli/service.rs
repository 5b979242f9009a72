//! The running service, as the commands that ask it (`report`, `plugin replay`, `plugin
//! install`) reach it: its address and admin token from the configuration `serve` reads
//! (`REVEILLE_*` variables included), or from `--url` / `REVEILLE_URL`. Going through the
//! API, every door gives the same answers, and a PostgreSQL cluster needs no direct
//! access from the machine the command runs on.

use std::path::Path;

use anyhow::Context;
use reqwest::{Method, StatusCode, Url};

use crate::config::Config;

pub struct Service {
    base: String,
    token: String,
    client: reqwest::Client,
}

/// An answer: its status and body.
pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_slice(&self.body).context("the service answered something not JSON")
    }

    /// The API's error message, or the body as it came.
    pub fn error_text(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&self.body).into_owned())
    }

    /// The body as JSON if the status is a success, else the error, with its status.
    pub fn ok_json(&self) -> anyhow::Result<serde_json::Value> {
        if !self.status.is_success() {
            anyhow::bail!("{}: {}", self.status, self.error_text());
        }
        self.json()
    }
}

impl Service {
    /// The service the configuration at `config` (or the environment) names; `url` wins
    /// over its `listen` address.
    pub fn connect(config: Option<&Path>, url: Option<String>) -> anyhow::Result<Service> {
        let token = Config::admin_secret(config)?
            .context("the admin API needs a token: set REVEILLE_ADMIN_TOKEN or admin_token")?;
        let base = match url {
            Some(url) => url,
            None => format!("http://{}", Config::load(config)?.listen),
        };
        Ok(Service {
            base,
            token,
            client: reqwest::Client::new(),
        })
    }

    /// `/api/v1/` and `segments` (each percent-encoded) under the service's address, with
    /// `query`.
    pub fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> anyhow::Result<Url> {
        let base = &self.base;
        let mut url = Url::parse(base)
            .with_context(|| format!("the service's address `{base}` is not a URL"))?;
        url.path_segments_mut()
            .map_err(|_| anyhow::anyhow!("`{base}` cannot be a base URL"))?
            .pop_if_empty()
            .extend(["api", "v1"])
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// One admin API request, with a component as its body if any.
    pub async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<Answer> {
        self.send(method, url, body.map(|b| ("application/wasm", b)))
            .await
    }

    /// One admin API request, with `body` of its content type if any.
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<(&str, Vec<u8>)>,
    ) -> anyhow::Result<Answer> {
        let mut request = self.client.request(method, url).bearer_auth(&self.token);
        if let Some((content_type, body)) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body);
        }
        let response = request.send().await.with_context(|| {
            format!("cannot reach the service at {}: is it running?", self.base)
        })?;
        let status = response.status();
        Ok(Answer {
            status,
            body: response.bytes().await?.to_vec(),
        })
    }
}

//! Probes from the monitoring side: reach each installation's URL by its domain name and,
//! where its IP is known, by IP address. The result goes to the plugins that want `probe`
//! as a report with `agent="probe"` and a `network` section, through the same pipeline as
//! uploaded reports. Unreachable by name but reachable by IP is how a redirect or DNS
//! outage is told apart from a dead server.
//!
//! A probe asks "does a server answer?", not "is it trustworthy?": certificates are not
//! verified (client servers often use self-signed ones, and nothing secret is sent), and
//! any HTTP status counts as an answer. The probe by IP connects to the IP while speaking
//! to the domain (SNI and `Host`), exactly as if DNS had answered with that address.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use quick_xml::escape::escape;
use reqwest::{Client, Url};
use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::clock::SharedClock;
use crate::fleet::Installation;
use crate::pipeline::{Job, Pipeline};
use crate::report;
use crate::store::{PROBE_AGENT, Store, StoreError};
use crate::tasks::Tasks;

#[derive(Debug, Clone, Copy)]
pub struct ProbeSettings {
    pub interval: Duration,
    pub timeout: Duration,
    pub concurrency: usize,
}

pub struct Prober {
    store: Store,
    pipeline: Arc<Pipeline>,
    clock: SharedClock,
    settings: ProbeSettings,
}

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reachability {
    pub domain: String,
    pub by_domain: bool,
    pub by_ip: Option<bool>,
}

impl Prober {
    pub fn new(
        store: Store,
        pipeline: Arc<Pipeline>,
        clock: SharedClock,
        settings: ProbeSettings,
    ) -> Arc<Self> {
        Arc::new(Prober {
            store,
            pipeline,
            clock,
            settings,
        })
    }

    /// Probes every `interval`, in `tasks`. A round cut short by the stop submits nothing
    /// more: a probe is asked again, never owed.
    pub fn spawn(self: &Arc<Self>, tasks: &Tasks) {
        let prober = self.clone();
        let stop = tasks.clone();
        tasks.spawn(async move {
            while stop.pause(prober.settings.interval).await {
                if !prober.pipeline.engine() {
                    continue;
                }
                tokio::select! {
                    round = prober.round() => if let Err(error) = round {
                        tracing::warn!(%error, "probe round failed; retrying at the next interval");
                    },
                    () = stop.stopping() => return,
                }
            }
        });
    }

    /// Probes the installations asked for (by the alerts service, when an incident's
    /// parent came back) as soon as they are asked for, in `tasks`.
    pub fn listen(self: &Arc<Self>, mut requests: UnboundedReceiver<Vec<String>>, tasks: &Tasks) {
        let prober = self.clone();
        let stop = tasks.clone();
        tasks.spawn(async move {
            loop {
                let ids = tokio::select! {
                    ids = requests.recv() => match ids {
                        Some(ids) => ids,
                        None => return,
                    },
                    () = stop.stopping() => return,
                };
                for id in ids {
                    match prober.store.installation(&id).await {
                        Ok(Some(installation)) => {
                            let prober = prober.clone();
                            stop.spawn(async move {
                                prober.probe_and_submit(&installation).await;
                            });
                        }
                        Ok(None) => {}
                        Err(error) => {
                            tracing::warn!(%error, installation = %id, "cannot probe again now; the next round will");
                        }
                    }
                }
            }
        });
    }

    /// Probes every installation that has a URL, `concurrency` at a time, and queues the
    /// results for evaluation. Returns how many were probed.
    pub async fn round(self: &Arc<Self>) -> Result<usize, StoreError> {
        let targets: Vec<Installation> = self
            .store
            .installations()
            .await?
            .into_iter()
            .filter(|i| i.url.is_some())
            .collect();
        let permits = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
        let mut probes = tokio::task::JoinSet::new();
        for installation in targets {
            let prober = self.clone();
            let permits = permits.clone();
            probes.spawn(async move {
                let _permit = permits
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed");
                prober.probe_and_submit(&installation).await
            });
        }
        let mut probed = 0;
        while let Some(done) = probes.join_next().await {
            probed += usize::from(matches!(done, Ok(true)));
        }
        Ok(probed)
    }

    async fn probe_and_submit(&self, installation: &Installation) -> bool {
        let Some(found) = self.probe(installation).await else {
            return false;
        };
        let xml = probe_report(&installation.id, &found, self.clock.now_ms());
        match report::parse(xml.as_bytes()) {
            Ok(document) => {
                self.pipeline
                    .submit(&installation.id, Job::Probe(Arc::new(document)));
                true
            }
            Err(error) => {
                tracing::error!(installation = %installation.id, %error, "probe produced an unreadable report");
                false
            }
        }
    }

    /// Reaches the installation by domain and, if its IP is known, by IP.
    pub async fn probe(&self, installation: &Installation) -> Option<Reachability> {
        let raw = installation.url.as_deref()?;
        let Ok(url) = Url::parse(raw) else {
            tracing::warn!(installation = %installation.id, url = raw, "unparseable URL; not probed");
            return None;
        };
        let domain = url.host_str()?.to_string();
        let port = url.port_or_known_default()?;
        let by_domain = self.reachable(&url, None).await;
        let by_ip = match installation.ip.as_deref().map(str::parse::<IpAddr>) {
            // A URL naming an address rather than a domain: swap the address in.
            Some(Ok(ip)) if url.domain().is_none() => {
                let mut direct = url.clone();
                direct.set_ip_host(ip).ok()?;
                Some(self.reachable(&direct, None).await)
            }
            Some(Ok(ip)) => Some(
                self.reachable(&url, Some((&domain, SocketAddr::new(ip, port))))
                    .await,
            ),
            _ => None,
        };
        Some(Reachability {
            domain,
            by_domain,
            by_ip,
        })
    }

    /// Whether an HTTP server answers at `url`, optionally with its domain resolved to a
    /// given address instead of through DNS.
    async fn reachable(&self, url: &Url, resolve: Option<(&str, SocketAddr)>) -> bool {
        let mut builder = Client::builder()
            .timeout(self.settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(true);
        if let Some((domain, address)) = resolve {
            builder = builder.resolve(domain, address);
        }
        match builder.build() {
            Ok(client) => client.get(url.clone()).send().await.is_ok(),
            Err(error) => {
                tracing::error!(%error, "cannot build the probe's HTTP client");
                false
            }
        }
    }
}

/// The probe's result as a report-v1 document.
pub fn probe_report(installation: &str, found: &Reachability, now_ms: i64) -> String {
    let generated =
        jiff::Timestamp::from_millisecond(now_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let by_ip = found
        .by_ip
        .map(|r| format!(" reachable-by-ip=\"{r}\""))
        .unwrap_or_default();
    format!(
        "<report schema=\"1\" agent=\"{PROBE_AGENT}\" generated-at=\"{generated}\">\
         <installation id=\"{}\"/>\
         <network domain=\"{}\" reachable-by-domain=\"{}\"{by_ip}/></report>",
        escape(installation),
        escape(found.domain.as_str()),
        found.by_domain
    )
}

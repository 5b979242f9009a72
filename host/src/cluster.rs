//! Several nodes on one PostgreSQL database, coordinated by the database alone.
//!
//! Any node accepts reports and serves the API and the board. The background work is split
//! into [`Role`]s, each done by one node at a time: the node holding the role's lease, a
//! row in `leases` it renews every [`Settings::renew_every`] and that lapses after
//! [`Settings::lease_ttl`] (River's and GoAlert's way: no consensus on the network, one
//! conditional upsert). A node stops acting on a role a margin before its lease could
//! lapse, so a node cut off from the database never overlaps the next holder; what it had
//! started is fenced by the database (a report's evaluation commits only if nobody
//! committed it; an outbox entry is sent only by whoever marked it `sending`).
//!
//! Nodes tell each other that there is work (a report stored, notices queued, the fleet
//! changed) with `NOTIFY` on one channel, for speed only: every consumer also looks on a
//! timer, so a lost notification delays, never loses.
//!
//! SQLite is one node by construction: every role is held from the start, forever, and
//! nothing is published.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::clock::wall_ms;
use crate::store::{Backend, Store};
use crate::tasks::Tasks;

/// Background work done by one node at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Evaluating reports, ticks and probes (so an installation's evaluations run in
    /// order on one node), the alerts' clockwork, retention and scheduled client reports.
    Engine,
    /// Draining the outbox into Telegram.
    Dispatch,
    /// Long-polling Telegram for button presses and commands (Telegram answers a second
    /// poller with 409).
    Telegram,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Engine, Role::Dispatch, Role::Telegram];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Engine => "engine",
            Role::Dispatch => "dispatch",
            Role::Telegram => "telegram",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What one node tells the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// A report was stored and waits for the engine.
    Reports,
    /// Notices were queued in the outbox.
    Outbox,
    /// Something the board shows changed.
    Fleet,
    /// The installed set of plugins changed: an upload, a removal, a switch.
    Plugins,
}

impl Topic {
    const ALL: [Topic; 4] = [Topic::Reports, Topic::Outbox, Topic::Fleet, Topic::Plugins];

    fn as_str(self) -> &'static str {
        match self {
            Topic::Reports => "reports",
            Topic::Outbox => "outbox",
            Topic::Fleet => "fleet",
            Topic::Plugins => "plugins",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The `NOTIFY` channel; a payload is `topic node`.
const CHANNEL: &str = "reveille";

/// How long `/healthz` waits for the leases before it answers without them.
const STANDING_WITHIN: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub struct Settings {
    /// This node's name in leases, logs and `/healthz`. Kept across restarts (a restarted
    /// node takes its own leases back at once).
    pub node: String,
    /// How long a lease lasts without renewal: after a node dies, its work waits at most
    /// this long (plus one `renew_every`) for another node.
    pub lease_ttl: Duration,
    /// How often holders renew and the others try.
    pub renew_every: Duration,
}

impl Settings {
    /// This node's name: `configured`, else the one kept in `data_dir/node` (made up at
    /// the first start), so a node that restarts is the same node.
    pub fn node_name(configured: Option<&str>, data_dir: &Path) -> std::io::Result<String> {
        if let Some(node) = configured {
            return Ok(node.to_string());
        }
        let path = data_dir.join("node");
        match std::fs::read_to_string(&path) {
            Ok(node) if !node.trim().is_empty() => Ok(node.trim().to_string()),
            Ok(_) | Err(_) => {
                let node = format!("node-{:08x}", rand::random::<u32>());
                std::fs::write(&path, &node)?;
                Ok(node)
            }
        }
    }

    /// A node stops acting this long before its lease could lapse.
    fn margin(&self) -> Duration {
        self.renew_every.min(self.lease_ttl / 4)
    }
}

/// One role's standing on this node.
struct Standing {
    /// Wall-clock ms until which this node may act on the role.
    until: AtomicI64,
    held: watch::Sender<bool>,
}

pub struct Cluster {
    settings: Settings,
    store: Store,
    shared: bool,
    standing: [Standing; Role::ALL.len()],
    /// Rung to send a topic (coalesced: a burst sends one notification).
    outgoing: [Notify; Topic::ALL.len()],
    /// Rung when another node sent a topic.
    heard: [Arc<Notify>; Topic::ALL.len()],
}

fn ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Cluster {
    /// This node in the cluster of `store`'s database. On PostgreSQL it takes what roles
    /// are free before returning (a lone node starts with all of them).
    pub async fn join(store: Store, settings: Settings) -> Arc<Cluster> {
        let shared = store.backend() == Backend::Postgres;
        let standing = Role::ALL.map(|_| Standing {
            until: AtomicI64::new(if shared { 0 } else { i64::MAX }),
            held: watch::Sender::new(!shared),
        });
        let cluster = Arc::new(Cluster {
            settings,
            store,
            shared,
            standing,
            outgoing: Topic::ALL.map(|_| Notify::new()),
            heard: Topic::ALL.map(|_| Arc::new(Notify::new())),
        });
        if shared {
            cluster.elect().await;
        }
        cluster
    }

    pub fn node(&self) -> &str {
        &self.settings.node
    }

    /// Whether other nodes may share the database (PostgreSQL).
    pub fn shared(&self) -> bool {
        self.shared
    }

    /// Whether this node may do `role`'s work now.
    pub fn holds(&self, role: Role) -> bool {
        let standing = &self.standing[role.index()];
        *standing.held.borrow() && wall_ms() < standing.until.load(Ordering::Relaxed)
    }

    /// Resolves once this node holds `role` (at once if it does).
    pub async fn wait_for(&self, role: Role) {
        let mut held = self.standing[role.index()].held.subscribe();
        let _ = held.wait_for(|held| *held).await;
    }

    /// Resolves when this node's hold on `role` changes.
    pub async fn changed(&self, role: Role) {
        let mut held = self.standing[role.index()].held.subscribe();
        let _ = held.changed().await;
    }

    /// Tells the other nodes about `topic` (nothing on SQLite).
    pub fn publish(&self, topic: Topic) {
        if self.shared {
            self.outgoing[topic.index()].notify_one();
        }
    }

    /// Rung when another node published `topic`.
    pub fn heard(&self, topic: Topic) -> Arc<Notify> {
        self.heard[topic.index()].clone()
    }

    /// Calls `then` whenever another node publishes `topic`, until `tasks` stop (nothing on
    /// SQLite).
    pub fn relay(&self, topic: Topic, tasks: &Tasks, then: impl Fn() + Send + 'static) {
        if !self.shared {
            return;
        }
        let heard = self.heard(topic);
        let stop = tasks.clone();
        tasks.spawn(async move {
            loop {
                tokio::select! {
                    () = heard.notified() => then(),
                    () = stop.stopping() => return,
                }
            }
        });
    }

    /// The background tasks of a shared database, in `tasks`: the election, the publishers
    /// and the listener. None on SQLite.
    pub fn spawn(self: &Arc<Self>, database_url: &str, tasks: &Tasks) {
        if !self.shared {
            return;
        }
        let cluster = self.clone();
        let stop = tasks.clone();
        tasks.spawn(async move {
            while stop.pause(cluster.settings.renew_every).await {
                cluster.elect().await;
            }
        });
        for topic in Topic::ALL {
            let cluster = self.clone();
            let stop = tasks.clone();
            tasks.spawn(async move {
                loop {
                    tokio::select! {
                        () = cluster.outgoing[topic.index()].notified() => {}
                        () = stop.stopping() => return,
                    }
                    let payload = format!("{} {}", topic.as_str(), cluster.node());
                    if let Err(error) = cluster.store.notify(CHANNEL, &payload).await {
                        tracing::debug!(%error, topic = topic.as_str(), "cannot tell the other nodes; they will look on their own");
                    }
                }
            });
        }
        let stop = tasks.clone();
        let listen = self.clone().listen(database_url.to_string());
        tasks.spawn(async move {
            tokio::select! {
                () = listen => {}
                () = stop.stopping() => {}
            }
        });
    }

    /// Takes or renews every role this node can have.
    async fn elect(&self) {
        let now = wall_ms();
        let expires = now + ms(self.settings.lease_ttl);
        for role in Role::ALL {
            let standing = &self.standing[role.index()];
            match self
                .store
                .take_lease(role.as_str(), self.node(), now, expires)
                .await
            {
                Ok(true) => {
                    standing
                        .until
                        .store(expires - ms(self.settings.margin()), Ordering::Relaxed);
                    standing.held.send_if_modified(|held| {
                        let gained = !*held;
                        *held = true;
                        if gained {
                            tracing::info!(role = role.as_str(), node = self.node(), "lease taken");
                        }
                        gained
                    });
                }
                Ok(false) => self.lost(role, "another node holds it"),
                // Unsure: keep acting until the lease could lapse, then stop.
                Err(error) if now < standing.until.load(Ordering::Relaxed) => {
                    tracing::warn!(%error, role = role.as_str(), "cannot renew a lease; holding it until it could lapse");
                }
                Err(error) => {
                    tracing::warn!(%error, role = role.as_str(), "cannot renew a lease");
                    self.lost(role, "it could not be renewed");
                }
            }
        }
    }

    /// Stops acting on `role`'s lease; whether it was held.
    fn lose(&self, role: Role) -> bool {
        let standing = &self.standing[role.index()];
        standing.until.store(0, Ordering::Relaxed);
        standing
            .held
            .send_if_modified(|held| std::mem::replace(held, false))
    }

    /// A lease taken away while the node runs: worth a warning.
    fn lost(&self, role: Role, why: &str) {
        if self.lose(role) {
            tracing::warn!(role = role.as_str(), node = self.node(), why, "lease lost");
        }
    }

    /// Hears the other nodes until dropped; reconnects when the connection drops (what was
    /// said meanwhile is found by the consumers' own timers).
    async fn listen(self: Arc<Self>, url: String) {
        let mut backoff = Duration::from_millis(100);
        loop {
            let listener = async {
                let mut listener = sqlx::postgres::PgListener::connect(&url).await?;
                listener.listen(CHANNEL).await?;
                Ok::<_, sqlx::Error>(listener)
            };
            let mut listener = match listener.await {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::warn!(%error, "cannot listen to the other nodes; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            backoff = Duration::from_millis(100);
            loop {
                match listener.recv().await {
                    Ok(notification) => self.hear(notification.payload()),
                    Err(error) => {
                        tracing::warn!(%error, "lost the other nodes' notifications; listening again");
                        break;
                    }
                }
            }
        }
    }

    fn hear(&self, payload: &str) {
        let Some((topic, node)) = payload.split_once(' ') else {
            return;
        };
        if node == self.node() {
            return;
        }
        if let Some(topic) = Topic::ALL.into_iter().find(|t| t.as_str() == topic) {
            self.heard[topic.index()].notify_one();
        }
    }

    /// Gives up every lease at a clean shutdown, so another node takes over at once.
    pub async fn leave(&self) {
        for role in Role::ALL {
            if self.lose(role) {
                tracing::info!(
                    role = role.as_str(),
                    node = self.node(),
                    "lease given up: the node is stopping"
                );
            }
        }
        if self.shared
            && let Err(error) = self.store.release_leases(self.node()).await
        {
            tracing::warn!(%error, "cannot release this node's leases; they will lapse");
        }
    }

    /// Who holds what, for `/healthz`: this node's name and, per role, the holder and how
    /// long its lease has left (on SQLite, this node, for good). The leases are read within
    /// [`STANDING_WITHIN`]: `/healthz` answers at once when the database does not.
    pub async fn standing(&self) -> serde_json::Value {
        let leases = if self.shared {
            let now = wall_ms();
            let read = tokio::time::timeout(STANDING_WITHIN, self.store.leases())
                .await
                .unwrap_or(Err(sqlx::Error::PoolTimedOut.into()));
            match read {
                Ok(leases) => leases
                    .into_iter()
                    .map(|lease| {
                        serde_json::json!({
                            "role": lease.role,
                            "holder": lease.holder,
                            "held_for_ms": now - lease.acquired_at,
                            "expires_in_ms": lease.expires_at - now,
                        })
                    })
                    .collect(),
                Err(error) => {
                    tracing::warn!(%error, "cannot read the leases");
                    Vec::new()
                }
            }
        } else {
            Role::ALL
                .iter()
                .map(|role| serde_json::json!({"role": role.as_str(), "holder": self.node()}))
                .collect()
        };
        serde_json::json!({
            "node": self.node(),
            "shared": self.shared,
            "holds": Role::ALL.iter().filter(|r| self.holds(**r)).map(|r| r.as_str()).collect::<Vec<_>>(),
            "leases": leases,
        })
    }
}

//! Three `reveille serve` processes on one throwaway PostgreSQL database: any node takes
//! reports, one evaluates and one delivers at a time; a node killed with SIGKILL hands its
//! work over within its lease, and kills under load lose nothing and repeat only what was
//! being sent at the moment of a kill.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_telegram::{FakeTelegram, User};
use rand::{RngExt, SeedableRng};
use reveille_tests::TestDatabase;
use reveille_tests::{Process, Session, TELEGRAM_TOKEN, databases};
use serde_json::Value;
use sqlx::{AnyConnection, Connection, Row};

const PROGRAM: &str = env!("CARGO_BIN_EXE_reveille-under-test");
const ROLES: [&str; 3] = ["dispatch", "engine", "telegram"];

/// A report from installation `id` whose dongle is `state` (`lost` or `present`).
fn dongle(id: &str, state: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<report schema="1" agent="report-agent" agent-version="2.3.0" generated-at="{}">
  <installation id="{id}"><client>Client {id}</client></installation>
  <protection kind="senselock" state="{state}" error-code="4111"/>
</report>"#,
        jiff::Timestamp::now()
    )
    .into_bytes()
}

/// Nodes `node-0`, `node-1`, ... sharing one database, each with its own data directory.
struct Nodes {
    /// `None`: SQLite in the (one) node's data directory.
    url: Option<String>,
    telegram: String,
    dirs: Vec<tempfile::TempDir>,
    running: Vec<Option<Process>>,
}

impl Nodes {
    async fn start(database: &TestDatabase, fake: &FakeTelegram, count: usize) -> Nodes {
        let mut nodes = Nodes {
            url: database.url.clone(),
            telegram: fake.api_url(),
            dirs: (0..count).map(|_| tempfile::tempdir().unwrap()).collect(),
            running: (0..count).map(|_| None).collect(),
        };
        for n in 0..count {
            nodes.spawn(n).await;
        }
        nodes
    }

    async fn spawn(&mut self, n: usize) {
        let node = format!("node-{n}");
        let mut env = vec![("REVEILLE_NODE", node.as_str())];
        if let Some(url) = &self.url {
            env.push(("REVEILLE_DATABASE_URL", url));
        }
        self.running[n] =
            Some(Process::spawn_with(PROGRAM, self.dirs[n].path(), &self.telegram, &env).await);
    }

    fn kill(&mut self, n: usize) {
        self.running[n].take().expect("a running node").kill();
    }

    fn node(&self, n: usize) -> &Process {
        self.running[n].as_ref().expect("a running node")
    }

    fn any(&self) -> &Process {
        self.running.iter().flatten().next().expect("a node up")
    }

    /// Base URLs of the nodes up, by node number.
    fn bases(&self) -> Vec<Option<String>> {
        self.running
            .iter()
            .map(|p| p.as_ref().map(|p| p.url("")))
            .collect()
    }

    /// Who holds each role with time left, as `/healthz` on a node up says.
    async fn holders(&self) -> BTreeMap<String, String> {
        holders(&self.any().health().await)
    }

    /// The database as sqlx's `Any` driver reaches it.
    fn database_url(&self) -> String {
        self.url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.dirs[0].path().join("reveille.db").display()
            )
        })
    }

    fn logs(&self) -> String {
        self.dirs
            .iter()
            .map(|d| std::fs::read_to_string(d.path().join("reveille.log")).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n----\n")
    }
}

fn holders(health: &Value) -> BTreeMap<String, String> {
    health["cluster"]["leases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|l| l["expires_in_ms"].as_i64().unwrap_or(0) > 0)
        .map(|l| {
            (
                l["role"].as_str().unwrap().to_string(),
                l["holder"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn eventually<F: AsyncFnMut() -> bool>(what: &str, within: Duration, mut check: F) {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting until {what}");
}

/// The service's database, read directly.
async fn count(url: &str, sql: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let mut db = AnyConnection::connect(url)
        .await
        .expect("reach the database");
    let row = sqlx::query(sql).fetch_one(&mut db).await.expect(sql);
    row.try_get::<i64, _>(0).expect("a count")
}

/// The backend `name` of the ones the suite tests (PostgreSQL only when configured).
async fn backend(name: &str) -> Option<TestDatabase> {
    databases().await.into_iter().find(|d| d.name == name)
}

/// A living message (an alert's card), as opposed to a short reply.
fn is_living(message: &fake_telegram::ChatMessage) -> bool {
    message.versions[0].contains("<code>")
}

#[tokio::test]
async fn a_killed_node_hands_its_work_over_within_its_lease() {
    let Some(database) = backend("postgres").await else {
        return;
    };
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    let mut nodes = Nodes::start(&database, &fake, 3).await;
    // The first node up took every role; the others take reports and serve the API.
    let first = nodes.holders().await;
    assert_eq!(first.keys().map(String::as_str).collect::<Vec<_>>(), ROLES);
    assert!(first.values().all(|h| h == "node-0"), "{first:?}");
    let health = nodes.node(1).health().await;
    assert_eq!(health["cluster"]["node"], "node-1");
    assert_eq!(health["cluster"]["holds"], serde_json::json!([]));
    let metrics = nodes.node(0).get_text("/metrics").await;
    assert!(
        metrics.contains("reveille_lease_held{node=\"node-0\",role=\"engine\"} 1"),
        "{metrics}"
    );

    // A report taken by node-1 is evaluated by node-0 and told once.
    let chat = -100_500;
    fake.add_chat(chat, "North");
    let token = nodes
        .node(1)
        .installation_in_chat("north", "Client north", chat)
        .await;
    nodes.node(1).authorize(chat, 42, "Petrov").await;
    let accepted = nodes
        .node(1)
        .post_report(&token, dongle("north", "lost"))
        .await;
    assert_eq!(accepted.status(), 202);
    eventually(
        "the lost dongle is told",
        Duration::from_secs(20),
        async || fake.bot_messages(chat).iter().any(is_living),
    )
    .await;
    // And its delivery recorded: a node killed between Telegram's answer and the record
    // sends the post again (at least once), and the card would then be another message.
    let url = nodes.database_url();
    eventually(
        "the post's delivery is recorded",
        Duration::from_secs(20),
        async || count(&url, "SELECT COUNT(*) FROM outbox WHERE done_at IS NULL").await == 0,
    )
    .await;

    // node-0 dies. Within its lease (10 s) and one renewal (2 s), the others hold every role.
    nodes.kill(0);
    let killed = Instant::now();
    let mut after = BTreeMap::new();
    eventually(
        "the other nodes hold every role",
        Duration::from_secs(30),
        async || {
            after = nodes.holders().await;
            after.len() == ROLES.len() && after.values().all(|h| h != "node-0")
        },
    )
    .await;
    let takeover = killed.elapsed();
    println!("takeover after SIGKILL: {} ms", takeover.as_millis());
    assert!(takeover < Duration::from_secs(13), "{takeover:?}");

    // The new poller hears a button press; the new dispatcher edits the card; a report to
    // node-2 resolves the alert with one reply.
    let card = fake.bot_messages(chat).into_iter().find(is_living).unwrap();
    let (_, ack) = card
        .buttons
        .iter()
        .find(|(_, data)| data.starts_with("ack:"))
        .cloned()
        .expect("an acknowledge button");
    fake.press_button(chat, card.id, &User::new(42, "Petr", Some("petrov")), &ack);
    eventually(
        "the card shows who took it",
        Duration::from_secs(30),
        async || {
            fake.bot_messages(chat)
                .iter()
                .find(|m| m.id == card.id)
                .is_some_and(|m| m.text.contains("Acknowledged by Petr"))
        },
    )
    .await;
    let accepted = nodes
        .node(2)
        .post_report(&token, dongle("north", "present"))
        .await;
    assert_eq!(accepted.status(), 202);
    eventually(
        "the resolution is told",
        Duration::from_secs(30),
        async || fake.bot_messages(chat).len() == 2,
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        fake.bot_messages(chat).len(),
        2,
        "{:#?}",
        fake.bot_messages(chat)
    );
    drop(nodes);
    database.drop_database().await;
}

/// Plugin `name`'s state on every node up (`None`: not listed there).
async fn plugin_everywhere(nodes: &Nodes, name: &str) -> Vec<Option<String>> {
    let mut states = Vec::new();
    for node in nodes.running.iter().flatten() {
        let listed = node.plugin(name).await;
        states.push(listed.map(|p| p["state"].as_str().unwrap_or_default().to_string()));
    }
    states
}

#[tokio::test]
async fn a_plugin_uploaded_switched_or_deleted_on_one_node_is_so_on_every_node() {
    let Some(database) = backend("postgres").await else {
        return;
    };
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    let mut nodes = Nodes::start(&database, &fake, 3).await;
    let every = |state: &str| vec![Some(state.to_string()); 3];

    // Uploaded to node-1 (not the engine): every node serves it, from its own cache.
    let uploaded = nodes
        .node(1)
        .put_plugin("echo", reveille_tests::fixture_plugin("echo"))
        .await;
    assert_eq!(uploaded.status(), 201);
    eventually(
        "echo serves on every node",
        Duration::from_secs(15),
        async || plugin_everywhere(&nodes, "echo").await == every("active"),
    )
    .await;
    let sha = nodes.node(0).plugin("echo").await.unwrap()["sha256"].clone();
    for n in 1..3 {
        let listed = nodes.node(n).plugin("echo").await.unwrap();
        assert_eq!(listed["sha256"], sha);
        assert_eq!(listed["source"]["kind"], "uploaded");
    }

    // The engine (node-0) evaluates a report taken by node-2 with it.
    let token = nodes.node(2).installation("north").await;
    let accepted = nodes
        .node(2)
        .post_report(&token, dongle("north", "present"))
        .await;
    assert_eq!(accepted.status(), 202);
    eventually("echo's alert opens", Duration::from_secs(15), async || {
        nodes.node(1).alerts("plugin=echo&state=open").await.len() == 1
    })
    .await;

    // Switched off on node-2: off on every node, its alert resolved; on again from node-0.
    assert_eq!(
        nodes
            .node(2)
            .post_admin("/api/v1/plugins/echo/disable")
            .await
            .status(),
        200
    );
    eventually(
        "echo is off everywhere",
        Duration::from_secs(15),
        async || plugin_everywhere(&nodes, "echo").await == every("disabled"),
    )
    .await;
    let resolved = nodes.node(0).alerts("plugin=echo").await;
    assert!(
        resolved.iter().all(|a| a["state"] == "resolved"),
        "{resolved:#?}"
    );
    assert_eq!(
        nodes
            .node(0)
            .post_admin("/api/v1/plugins/echo/enable")
            .await
            .status(),
        200
    );
    eventually(
        "echo is on everywhere",
        Duration::from_secs(15),
        async || plugin_everywhere(&nodes, "echo").await == every("active"),
    )
    .await;

    // Deleted while node-2 is down: gone on the nodes up, and node-2 does not bring it
    // back when it starts again.
    nodes.kill(2);
    assert_eq!(nodes.node(1).delete_plugin("echo").await.status(), 200);
    eventually("echo is gone", Duration::from_secs(15), async || {
        plugin_everywhere(&nodes, "echo")
            .await
            .iter()
            .all(Option::is_none)
    })
    .await;
    nodes.spawn(2).await;
    assert_eq!(nodes.node(2).plugin("echo").await, None);
    // A built-in overridden on one node is overridden on all; deleting the override
    // brings the built-in back everywhere.
    let build = reveille_tests::with_custom_section(
        &reveille_tests::builtin_plugin("dongle-lost"),
        "revision",
        b"2",
    );
    let overridden = nodes
        .node(2)
        .put_plugin("dongle-lost?override=builtin", build)
        .await;
    assert_eq!(overridden.status(), 200);
    eventually(
        "the override serves everywhere",
        Duration::from_secs(15),
        async || {
            let mut all = true;
            for node in nodes.running.iter().flatten() {
                let listed = node.plugin("dongle-lost").await.unwrap();
                all &= listed["source"]["kind"] == "uploaded"
                    && listed["overrides_builtin"].is_object();
            }
            all
        },
    )
    .await;
    assert_eq!(
        nodes.node(0).delete_plugin("dongle-lost").await.status(),
        200
    );
    eventually(
        "the built-in serves everywhere again",
        Duration::from_secs(15),
        async || {
            let mut all = true;
            for node in nodes.running.iter().flatten() {
                all &= node.plugin("dongle-lost").await.unwrap()["source"]["kind"] == "builtin";
            }
            all
        },
    )
    .await;
    drop(nodes);
    database.drop_database().await;
}

#[tokio::test]
async fn failed_logins_count_on_every_node_together() {
    let Some(database) = backend("postgres").await else {
        return;
    };
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    let nodes = Nodes::start(&database, &fake, 2).await;
    let log = nodes.node(0).log();
    let link = log
        .split_whitespace()
        .find(|w| w.contains("/setup/"))
        .expect("a setup link in the first node's log");
    let created = reveille_tests::no_redirects()
        .post(link)
        .form(&[
            ("name", "root"),
            ("password", "correct horse battery"),
            ("lang", "en"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 303);
    // Three failures from one address, spread over both nodes, make that address wait on
    // both.
    for attempt in 0..3 {
        let refused = Session::login(nodes.node(attempt % 2), "root", "a wrong password").await;
        assert_eq!(refused.err(), Some(reqwest::StatusCode::UNAUTHORIZED));
    }
    for n in 0..2 {
        let locked = Session::login(nodes.node(n), "root", "correct horse battery").await;
        assert_eq!(
            locked.err(),
            Some(reqwest::StatusCode::TOO_MANY_REQUESTS),
            "node-{n}"
        );
    }
    drop(nodes);
    database.drop_database().await;
}

/// Reports accepted (202) per installation, in the order they were posted.
type Accepted = Arc<Mutex<BTreeMap<String, Vec<(i64, &'static str)>>>>;

#[tokio::test]
async fn sigkills_under_load_lose_nothing_on_three_nodes_sharing_postgresql() {
    if let Some(database) = backend("postgres").await {
        sigkills_under_load(database, 3).await;
    }
}

#[tokio::test]
async fn sigkills_under_load_lose_nothing_on_sqlite() {
    let sqlite = backend("sqlite").await.expect("SQLite");
    sigkills_under_load(sqlite, 1).await;
}

/// A steady load of dongles lost and found on 100 installations while nodes are killed
/// (and started again) at random moments, five times (`REVEILLE_CRASH_KILLS` for a longer
/// run outside CI; `REVEILLE_CRASH_SEED` replays one): every report that got a 202 is
/// evaluated, every alert has exactly its messages, and a message repeats only where a
/// delivery was interrupted.
async fn sigkills_under_load(database: TestDatabase, count_nodes: usize) {
    const INSTALLATIONS: usize = 100;
    let kills: usize = std::env::var("REVEILLE_CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(5);
    let seed: u64 = std::env::var("REVEILLE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!(
        "{}: {kills} kills, REVEILLE_CRASH_SEED={seed}",
        database.name
    );
    let mut moments = rand::rngs::StdRng::seed_from_u64(seed);
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    let mut nodes = Nodes::start(&database, &fake, count_nodes).await;
    let mut tokens = Vec::new();
    for i in 0..INSTALLATIONS {
        let id = format!("i{i:03}");
        let chat = -200_000 - i as i64;
        fake.add_chat(chat, &id);
        let token = nodes.node(0).installation_in_chat(&id, &id, chat).await;
        tokens.push((id, chat, token));
    }

    // Dongles lost and found across the fleet, each report to the next node up, while
    // nodes are killed and started again.
    let bases = Arc::new(Mutex::new(nodes.bases()));
    let accepted: Accepted = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = tokio::spawn({
        let (bases, accepted, stop, tokens) = (
            bases.clone(),
            accepted.clone(),
            stop.clone(),
            tokens.clone(),
        );
        async move {
            let client = reqwest::Client::new();
            let mut round = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // A dongle changes every third round: reports flow at full speed, and
                // each chat is told less than Telegram's 20 messages a minute allow (a
                // chat over it has its new alerts folded, which this test does not count).
                let state = if (round / 3).is_multiple_of(2) {
                    "lost"
                } else {
                    "present"
                };
                for (n, (id, _, token)) in tokens.iter().enumerate() {
                    let up: Vec<String> = bases.lock().unwrap().iter().flatten().cloned().collect();
                    let Some(base) = up.get((round + n) % up.len().max(1)) else {
                        continue;
                    };
                    let sent = client
                        .post(format!("{base}/api/v1/reports"))
                        .bearer_auth(token)
                        .header("content-type", "application/xml")
                        .body(dongle(id, state))
                        .timeout(Duration::from_secs(5))
                        .send()
                        .await;
                    if let Ok(response) = sent
                        && response.status() == 202
                    {
                        let body: Value = response.json().await.unwrap_or_default();
                        if let Some(report) = body["report"].as_i64() {
                            accepted
                                .lock()
                                .unwrap()
                                .entry(id.clone())
                                .or_default()
                                .push((report, state));
                        }
                    }
                }
                round += 1;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    });
    for kill in 0..kills {
        // Anywhere from in the middle of a burst of deliveries to well after it.
        tokio::time::sleep(Duration::from_millis(moments.random_range(1_000..4_500))).await;
        // The engine's and dispatcher's node half of the time, another node otherwise.
        let holders = nodes.holders().await;
        let victim = match holders.get("engine") {
            Some(holder) if kill.is_multiple_of(2) => {
                holder.trim_start_matches("node-").parse::<usize>().unwrap()
            }
            _ => (kill + 1) % count_nodes,
        };
        nodes.kill(victim);
        bases.lock().unwrap()[victim] = None;
        tokio::time::sleep(Duration::from_millis(300)).await;
        nodes.spawn(victim).await;
        *bases.lock().unwrap() = nodes.bases();
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    load.await.unwrap();
    let accepted = accepted.lock().unwrap().clone();
    let total: usize = accepted.values().map(Vec::len).sum();

    // Everything accepted is evaluated, and everything owed is delivered: what is left
    // shrinks until nothing is, however long the run was.
    let url = nodes.database_url();
    let left = async || {
        count(
            &url,
            "SELECT COUNT(*) FROM reports WHERE evaluated_at IS NULL",
        )
        .await
            + count(
                &url,
                "SELECT COUNT(*) FROM outbox WHERE done_at IS NULL AND held_until IS NULL",
            )
            .await
    };
    let (mut fewest, mut progressed) = (i64::MAX, Instant::now());
    loop {
        let now_left = left().await;
        if now_left == 0 {
            break;
        }
        if now_left < fewest {
            (fewest, progressed) = (now_left, Instant::now());
        }
        assert!(
            progressed.elapsed() < Duration::from_secs(60),
            "{now_left} reports and notices left, none done for a minute\n{}",
            nodes.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ids: Vec<String> = accepted
        .values()
        .flatten()
        .map(|(id, _)| id.to_string())
        .collect();
    let stored = count(
        &url,
        &format!(
            "SELECT COUNT(*) FROM reports WHERE evaluated_at IS NOT NULL AND id IN ({})",
            ids.join(",")
        ),
    )
    .await;
    assert_eq!(stored as usize, total, "every 202 is stored and evaluated");

    // Each installation ends as its last accepted report says, and each chat has exactly
    // its alerts' messages: a card per alert and a reply per resolution, plus a repeat
    // only where a delivery was interrupted by a kill.
    let node = nodes.any();
    let mut repeats = 0;
    let mut interrupted = 0;
    for (id, chat, _) in &tokens {
        let alerts = node
            .alerts(&format!("installation={id}&plugin=dongle-lost&limit=500"))
            .await;
        let last = accepted.get(id).and_then(|a| a.last()).map(|(_, s)| *s);
        // A dongle lost a third time within the hour opens as flapping and stays open until
        // it has been found a while (`[alerts] flap_quiet`, longer than this run): that is
        // the flapping rule, not a lost report.
        let open = alerts
            .iter()
            .filter(|a| a["state"] != "resolved")
            .filter(|a| last == Some("lost") || a["flapping"] != true)
            .count();
        assert_eq!(
            open,
            usize::from(last == Some("lost")),
            "{id}: ends as its last report ({last:?}) says: {alerts:#?}"
        );
        let resolved = alerts.iter().filter(|a| a["state"] == "resolved").count();
        let messages = fake.bot_messages(*chat);
        let cards = messages.iter().filter(|m| is_living(m)).count();
        let replies = messages.len() - cards;
        assert!(
            cards >= alerts.len() && replies >= resolved,
            "{id}: {messages:#?}"
        );
        repeats += cards - alerts.len() + replies - resolved;
        for alert in &alerts {
            let timeline = node.alert(alert["id"].as_i64().unwrap()).await["timeline"].clone();
            interrupted += timeline
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| {
                    e["kind"] == "delivery-interrupted"
                        && e["detail"]
                            .as_str()
                            .unwrap_or_default()
                            .contains("may arrive twice")
                })
                .count();
        }
    }
    println!(
        "{} on {count_nodes} node(s): {kills} kills, {total} reports accepted, \
         {repeats} messages repeated, {interrupted} deliveries interrupted",
        database.name
    );
    assert!(
        repeats <= interrupted,
        "every repeated message was being sent at a kill: {repeats} repeats, {interrupted} interrupted\n{}",
        nodes.logs()
    );
    drop(nodes);
    database.drop_database().await;
}

//! One incident, not a storm (stories 3 and 6), end to end: thirty installations of ten
//! clients behind one redirect server, probed for real over loopback; the redirect server
//! fails at 06:00 and comes back at 09:40 with two installations still broken. Time moves
//! by the manual clock and the scheduler's tick; the fake Telegram enforces Telegram's
//! limits (20 messages a minute into a group, no rapid edits of one message).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fake_telegram::User;
use pulldown_cmark::{Event, Options as MdOptions, Parser, Tag};
use reveille_tests::{Session, at, databases};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::client_reports::figures;
use crate::nights::{MOSCOW, World, start_at};

const WAIT: Duration = Duration::from_secs(30);
/// Five managers, two clients each.
const MANAGERS: [i64; 5] = [-2001, -2002, -2003, -2004, -2005];

fn duty() -> User {
    User::new(701, "Duty", Some("duty"))
}

fn boss() -> User {
    User::new(703, "Boss", Some("boss"))
}

fn ivanov() -> User {
    User::new(702, "Ivanov", Some("ivanov"))
}

/// The redirect server in front of the installations: at 127.0.0.1 it answers every
/// request while it is up and drops the connection while it is down (or, for the paths
/// still broken, always). Installations answer directly at 127.0.0.2 on the same port, so
/// a probe by IP reaches them whatever the redirect server does.
struct Redirect {
    port: u16,
    up: Arc<Mutex<bool>>,
    broken: Arc<Mutex<HashSet<String>>>,
}

impl Redirect {
    async fn start() -> Redirect {
        let front = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = front.local_addr().unwrap().port();
        let back = TcpListener::bind(SocketAddr::from(([127, 0, 0, 2], port)))
            .await
            .expect("bind 127.0.0.2 on the redirect's port");
        let up = Arc::new(Mutex::new(true));
        let broken = Arc::new(Mutex::new(HashSet::new()));
        for (listener, gate) in [(front, true), (back, false)] {
            let (up, broken) = (up.clone(), broken.clone());
            tokio::spawn(async move {
                loop {
                    let Ok((mut stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let (up, broken) = (up.clone(), broken.clone());
                    tokio::spawn(async move {
                        let mut buffer = vec![0u8; 4096];
                        let n = stream.read(&mut buffer).await.unwrap_or(0);
                        let request = String::from_utf8_lossy(&buffer[..n]);
                        let path = request.split_whitespace().nth(1).unwrap_or("/");
                        let refuse = gate
                            && (!*up.lock().unwrap()
                                || broken
                                    .lock()
                                    .unwrap()
                                    .contains(path.trim_start_matches('/')));
                        if !refuse {
                            let _ = stream
                                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                                .await;
                        }
                    });
                }
            });
        }
        Redirect { port, up, broken }
    }

    fn set_up(&self, up: bool) {
        *self.up.lock().unwrap() = up;
    }
}

/// The fleet: `redirect-1` and thirty installations behind it, three per client, two
/// clients per manager chat; every client's policy keeps 22:00–08:00 quiet with `duty` on
/// call, and brings in `boss` when a critical problem is not taken in 10 minutes. Returns
/// the installations' ids.
async fn fleet(world: &World, redirect: &Redirect) -> Vec<String> {
    world.contact("duty", &duty()).await;
    world.contact("boss", &boss()).await;
    world
        .put(
            "/api/v1/escalation-policies/boss",
            json!({ "steps": [{ "after": "10m", "to": [{ "contact": "boss" }] }] }),
        )
        .await;
    world
        .put(
            "/api/v1/oncall/night",
            json!({ "contacts": ["duty"], "rotation": "daily", "handoff": "09:00",
                    "timezone": MOSCOW, "start": "2026-11-01" }),
        )
        .await;
    for chat in MANAGERS {
        world.fake.add_chat(chat, &format!("Manager {chat}"));
    }
    let (status, body) = world
        .service
        .create_installation(json!({
            "id": "redirect-1", "client": "Distributor", "manager": "Support",
            "timezone": MOSCOW, "telegram_chat_id": MANAGERS[0],
        }))
        .await;
    assert_eq!(status, 201, "{body}");
    let mut ids = Vec::new();
    for c in 0..10 {
        let client = format!("Client {c:02}");
        world
            .put(
                &format!("/api/v1/clients/{client}/policy"),
                json!({ "quiet_hours": [{ "from": "22:00", "to": "08:00" }], "oncall": "night",
                        "escalation": "boss" }),
            )
            .await;
        for n in 0..3 {
            let id = format!("c{c:02}-{n}");
            let (status, body) = world
                .service
                .create_installation(json!({
                    "id": id, "client": client, "manager": format!("Manager {}", c / 2),
                    "timezone": MOSCOW, "telegram_chat_id": MANAGERS[c / 2],
                    "url": format!("http://127.0.0.1:{}/{id}", redirect.port),
                    "ip": "127.0.0.2", "parent": "redirect-1",
                }))
                .await;
            assert_eq!(status, 201, "{body}");
            ids.push(id);
        }
    }
    ids
}

/// The board says what Telegram says: the children are behind the failing parent, in
/// incident `id`, and the parent's own row is failing too.
async fn board_shows_the_incident(world: &World, session: &Session, id: i64) {
    let board = session.text(&world.service, "/?client=c00-").await;
    let member = board
        .split(r#"id="row-c00-1""#)
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .unwrap_or_else(|| panic!("no row of c00-1: {board}"));
    assert!(
        member.contains(&format!(r#"href="/incidents/{id}""#))
            && member.contains(&format!("behind redirect-1 · incident #{id}")),
        "{member}"
    );
    let parent = session.text(&world.service, "/?client=redirect-1").await;
    let row = parent
        .split(r#"id="row-redirect-1""#)
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .unwrap_or_else(|| panic!("no row of redirect-1: {parent}"));
    assert!(
        row.contains(&format!(
            "30 installations behind it are down · incident #{id}"
        )),
        "{row}"
    );
    assert!(parent.contains(r#"data-light="red""#), "{row}");
    let counted = |id: &str| {
        let at = board.find(&format!(r#"id="count-{id}""#)).unwrap();
        board[at..]
            .split("<b>")
            .nth(1)
            .unwrap()
            .split("</b>")
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(counted("red"), "31", "every child and the parent");
    assert_eq!(counted("incidents"), "1");
}

async fn incidents(world: &World) -> Vec<Value> {
    let (status, body) = world
        .service
        .admin_request("GET", "/api/v1/incidents", None)
        .await;
    assert_eq!(status, 200, "{body}");
    body["incidents"].as_array().unwrap().clone()
}

/// Runs a probe round at `time`, then the clockwork.
async fn probe_at(world: &World, time: &str) {
    world.clock.set(at(time));
    world.service.probe_round().await;
    world.quiet_down().await;
}

/// Stories 3 and 6: the storm becomes one incident card per chat, people follow and
/// update it, the recovery says "resolved" once per card, the two installations still
/// down after the redirect server came back become alerts of their own, and the
/// post-mortem tells it all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn story_3_a_redirect_outage_is_one_incident_and_one_resolution() {
    for db in databases().await {
        let world = start_at(
            "2026-11-16T05:50:00+03:00",
            "public_url = \"https://reveille.example/\"\n[schedule]\nprobe_timeout = \"2s\"\n",
            db.url.clone(),
        )
        .await;
        let redirect = Redirect::start().await;
        let ids = fleet(&world, &redirect).await;
        let admin = Session::first_admin(&world.service, "admin", "correct horse battery").await;
        world
            .service
            .authorize(MANAGERS[0], ivanov().id, "Ivanov")
            .await;

        probe_at(&world, "2026-11-16T05:55:00+03:00").await;
        assert!(world.service.alerts("state=open").await.is_empty());

        // 06:00: the redirect server fails; every installation is unreachable by name.
        redirect.set_up(false);
        probe_at(&world, "2026-11-16T06:00:00+03:00").await;
        let open = world.service.alerts("state=open").await;
        assert_eq!(open.len(), 30, "{open:#?}");
        // The clockwork's next look sees the cause: most of redirect-1's children fail.
        world.tick_at("2026-11-16T06:00:15+03:00").await;
        let list = incidents(&world).await;
        assert_eq!(list.len(), 1, "{list:#?}");
        let incident = &list[0];
        let id = incident["id"].as_i64().unwrap();
        assert_eq!(incident["members"].as_array().unwrap().len(), 30);
        for (i, chat) in MANAGERS.iter().enumerate() {
            let messages = world.fake.bot_messages(*chat);
            assert_eq!(messages.len(), 1, "manager {i}: {messages:#?}");
            let card = &messages[0];
            assert!(card.text.contains("redirect-1 is failing"), "{}", card.text);
            assert!(
                card.text.contains("30 installation(s) of 10 client(s)"),
                "{}",
                card.text
            );
            assert!(
                card.text.contains("Not the clients' doing"),
                "{}",
                card.text
            );
            assert!(
                card.silent,
                "a manager is not woken at 06:00 by this policy"
            );
        }
        let woken: Vec<_> = world
            .fake
            .bot_messages(duty().id)
            .into_iter()
            .filter(|m| m.text.contains("INCIDENT"))
            .collect();
        assert_eq!(woken.len(), 1, "on-call gets one card: {woken:#?}");
        assert!(!woken[0].silent, "on-call is woken");
        assert_eq!(world.fake.rate_limited(), 0, "no 429 at all");
        for alert in world.service.alerts("state=open").await {
            assert!(
                alert["destinations"].as_array().unwrap().is_empty(),
                "no installation is sent on its own: {alert:#}"
            );
            assert_eq!(alert["incident_id"], id);
        }
        board_shows_the_incident(&world, &admin, id).await;

        // Nobody took it in 10 minutes: the boss gets the card too, with sound.
        world.tick_at("2026-11-16T06:10:20+03:00").await;
        let escalated: Vec<_> = world
            .fake
            .bot_messages(boss().id)
            .into_iter()
            .filter(|m| m.text.contains("INCIDENT"))
            .collect();
        assert_eq!(escalated.len(), 1, "{escalated:#?}");
        assert!(!escalated[0].silent);
        world.tick_at("2026-11-16T06:12:00+03:00").await;
        assert_eq!(
            world.fake.bot_messages(boss().id).len(),
            2,
            "one step, once: /start's answer and the card"
        );

        // On-call takes it from the card: every card says so.
        let card = &woken[0];
        world
            .fake
            .press_button(duty().id, card.id, &duty(), &format!("ack:i{id}"));
        assert!(
            world
                .fake
                .wait_for(WAIT, |f| MANAGERS.iter().all(|c| f.bot_messages(*c)[0]
                    .text
                    .contains("Acknowledged by Duty")))
                .await,
            "the cards do not show who took it"
        );
        let members = world.service.alerts("state=acknowledged").await;
        assert_eq!(members.len(), 30, "members follow the incident");

        // Story 6: a manager replies to the card in his chat; every chat's card shows it.
        world.clock.set(at("2026-11-16T07:05:00+03:00"));
        let office_card = world.fake.bot_messages(MANAGERS[0])[0].id;
        world.fake.reply(
            MANAGERS[0],
            &ivanov(),
            "redirect server restarted, DNS propagating",
            office_card,
        );
        assert!(
            world
                .fake
                .wait_for(WAIT, |f| MANAGERS.iter().chain([&duty().id]).all(|c| f
                    .bot_messages(*c)
                    .iter()
                    .any(|m| m.text.contains("INCIDENT")
                        && m.text.contains("redirect server restarted"))))
                .await,
            "the update is not on every card: {:#?}",
            world.fake.bot_messages(MANAGERS[3])
        );
        world.quiet_down().await;
        // Or by command, here by on-call in the private chat their card is in.
        world.fake.say(
            duty().id,
            &duty(),
            &format!("/update {id} DNS TTL is 10 minutes, the rest is expected by 08:00"),
        );
        assert!(
            world
                .fake
                .wait_for(WAIT, |f| MANAGERS.iter().all(|c| f.bot_messages(*c)[0]
                    .text
                    .contains("the rest is expected by 08:00")))
                .await,
            "the update by command is not on every card"
        );
        world.quiet_down().await;
        world.fake.say(MANAGERS[1], &ivanov(), "/alerts");
        assert!(
            world
                .fake
                .wait_for(WAIT, |f| f.bot_messages(MANAGERS[1]).iter().any(|m| m
                    .text
                    .contains(&format!(
                        "Incident #{id}: redirect-1 is failing, 30 of 30 still down"
                    ))))
                .await,
            "/alerts does not show the incident: {:#?}",
            world.fake.bot_messages(MANAGERS[1])
        );
        world.quiet_down().await;

        // 09:40: the redirect server is back, except for two installations' names.
        redirect.set_up(true);
        {
            let mut broken = redirect.broken.lock().unwrap();
            broken.insert(ids[4].clone());
            broken.insert(ids[17].clone());
        }
        let before: Vec<usize> = MANAGERS
            .iter()
            .map(|c| world.fake.bot_messages(*c).len())
            .collect();
        probe_at(&world, "2026-11-16T09:40:00+03:00").await;
        assert_eq!(world.service.alerts("state=open").await.len(), 2);
        world.tick_at("2026-11-16T09:40:15+03:00").await;
        assert!(
            world
                .fake
                .wait_for(WAIT, |f| f.bot_messages(MANAGERS[2])[0]
                    .text
                    .contains("28 of 30 back"))
                .await,
            "the card does not count who is back"
        );
        world.tick_at("2026-11-16T09:42:30+03:00").await;
        let done = &incidents(&world).await[0];
        assert_eq!(done["state"], "resolved", "{done:#}");

        // A client's report shows the outage once, as the incident, with its own three
        // installations: at night, escalated (the boss was brought in before Duty took it).
        let csv = world
            .service
            .get_text("/api/v1/clients/Client%2000/report?from=2026-11-16&to=2026-11-16&format=csv")
            .await;
        let f = figures(&csv);
        let get = |section: &str, subject: &str, metric: &str| {
            f.get(&(section.into(), subject.into(), metric.into()))
                .cloned()
                .unwrap_or_else(|| panic!("no {section},{subject},{metric} in\n{csv}"))
        };
        let reference = format!("incident #{id}");
        let ms = |v: &Value| {
            jiff::Timestamp::from_millisecond(v.as_i64().unwrap())
                .unwrap()
                .to_string()
        };
        assert_eq!(get("summary", "Client 00", "problems"), "1");
        for (metric, value) in [
            ("check", "redirect-down".to_string()),
            ("severity", "critical".into()),
            ("installations", "c00-0 c00-1 c00-2".into()),
            ("fired_at", ms(&done["opened_at"])),
            ("acknowledged_at", ms(&done["acknowledged_at"])),
            (
                "acknowledged_by",
                done["acknowledged_by"].as_str().unwrap().into(),
            ),
            ("resolved_at", ms(&done["resolved_at"])),
            ("when", "night".into()),
            ("handling", "escalated".into()),
        ] {
            assert_eq!(get("problem", &reference, metric), value, "{metric}");
        }

        for (i, chat) in MANAGERS.iter().enumerate() {
            let messages = world.fake.bot_messages(*chat);
            let new = &messages[before[i]..];
            let resolved: Vec<_> = new
                .iter()
                .filter(|m| m.text.contains(&format!("Incident #{id} resolved")))
                .collect();
            assert_eq!(resolved.len(), 1, "one resolution per card: {new:#?}");
            let card = &messages[0];
            assert!(card.text.contains("RESOLVED"), "{}", card.text);
            assert!(
                card.text
                    .contains("Post-mortem: https://reveille.example/incidents/"),
                "{}",
                card.text
            );
            // The two still down are alerts of their own, in their managers' chats.
            let own: Vec<_> = new
                .iter()
                .filter(|m| m.text.contains("redirect-down/"))
                .collect();
            let expected = [&ids[4], &ids[17]]
                .iter()
                .filter(|id| {
                    let c: usize = id[1..3].parse().unwrap();
                    MANAGERS[c / 2] == *chat
                })
                .count();
            assert_eq!(own.len(), expected, "manager {i}: {new:#?}");
            assert_eq!(
                new.len(),
                1 + expected,
                "nothing else is sent to manager {i}: {new:#?}"
            );
        }
        assert_eq!(world.fake.rate_limited(), 0, "no 429 at all");
        // From 06:00 on: seven cards (five managers, on-call, the boss), the three answers
        // to people (two updates, /alerts), seven resolutions and the two alerts of their
        // own.
        let calls = world.fake.calls();
        let sends: usize = MANAGERS
            .iter()
            .chain([&duty().id, &boss().id])
            .map(|c| {
                world
                    .fake
                    .bot_messages(*c)
                    .iter()
                    .filter(|m| !m.text.contains("I can write to you here now"))
                    .count()
            })
            .sum();
        let edits = calls
            .iter()
            .filter(|c| c.method == "editMessageText")
            .count();
        eprintln!("story 3: {sends} messages sent, {edits} edits, 0 answered 429");
        assert_eq!(sends, 7 + 3 + 7 + 2, "{calls:#?}");
        let still = world.service.alerts("state=open").await;
        assert_eq!(still.len(), 2);
        for alert in &still {
            assert!(!alert["destinations"].as_array().unwrap().is_empty());
        }

        // The post-mortem: valid Markdown with the timeline and every installation.
        let (status, body) = world
            .service
            .admin_request(
                "PUT",
                &format!("/api/v1/incidents/{id}/postmortem"),
                Some(json!({ "cause": "The redirect server's disk filled up.",
                             "prevention": "Alert on its disk at 80 %." })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let markdown = world
            .service
            .get_text(&format!("/api/v1/incidents/{id}/postmortem"))
            .await;
        for part in [
            "# Post-mortem: incident",
            "## Timeline",
            "## Installations",
            "The redirect server's disk filled up.",
            "Alert on its disk at 80 %.",
            "acknowledged",
            "update",
            "redirect server restarted",
        ] {
            assert!(markdown.contains(part), "{part:?} missing:\n{markdown}");
        }
        let mut tables = 0;
        let mut rows = 0;
        let mut headings = 0;
        for event in Parser::new_ext(&markdown, MdOptions::ENABLE_TABLES) {
            match event {
                Event::Start(Tag::Table(_)) => tables += 1,
                Event::Start(Tag::TableRow) => rows += 1,
                Event::Start(Tag::Heading { .. }) => headings += 1,
                Event::Html(_) | Event::InlineHtml(_) => panic!("raw HTML in:\n{markdown}"),
                _ => {}
            }
        }
        assert_eq!(tables, 3, "impact, timeline, installations:\n{markdown}");
        assert!(headings >= 7, "{markdown}");
        assert!(rows > 30 + 7, "{markdown}");
        for id in &ids {
            assert!(markdown.contains(&format!("| {id} |")), "{id} missing");
        }
        let html = world
            .service
            .get_text(&format!("/api/v1/incidents/{id}/postmortem?format=html"))
            .await;
        assert!(
            html.contains("<table>") && html.contains("<h2>Timeline</h2>"),
            "{html}"
        );
        db.drop_database().await;
    }
}

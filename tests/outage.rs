//! Telegram down, then rate limiting, and the host killed with SIGKILL twice in between:
//! afterwards every alert has exactly its messages, in order, and nothing was lost.

use std::collections::BTreeMap;
use std::time::Duration;

use fake_telegram::FakeTelegram;
use reveille_tests::{Process, TELEGRAM_TOKEN, report_for};
use serde_json::Value;

const PROGRAM: &str = env!("CARGO_BIN_EXE_reveille-under-test");

const INSTALLATIONS: [(&str, i64); 3] =
    [("north", -100_001), ("south", -100_002), ("east", -100_003)];
/// Their dongles come back while Telegram is still unreachable.
const FIXED: [&str; 2] = ["north", "south"];

async fn register(host: &Process) -> BTreeMap<&'static str, String> {
    let mut tokens = BTreeMap::new();
    for (id, chat) in INSTALLATIONS {
        let token = host
            .installation_in_chat(id, &format!("Client {id}"), chat)
            .await;
        tokens.insert(id, token);
    }
    tokens
}

async fn timeline_kinds(host: &Process, id: i64) -> Vec<String> {
    host.alert(id).await["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

/// An alert's or incident's living message (a later alert of the same installation
/// replies in the thread of the first, so being a reply does not tell), as opposed to a
/// short reply.
fn is_living(message: &fake_telegram::ChatMessage) -> bool {
    message.versions[0].contains("<code>") || message.versions[0].contains("INCIDENT #")
}

/// Alerts told on their own (not as members of an incident).
fn alone(alerts: &[Value]) -> Vec<&Value> {
    alerts
        .iter()
        .filter(|a| a["incident_id"].is_null())
        .collect()
}

/// Polls until `check` holds, for up to a minute.
async fn eventually<F: AsyncFnMut() -> bool>(what: &str, mut check: F) {
    for _ in 0..600 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test]
async fn every_alert_gets_exactly_its_messages_in_order_after_outage_and_kills() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    for (id, chat) in INSTALLATIONS {
        fake.add_chat(chat, id);
    }
    let data = tempfile::tempdir().unwrap();
    let host = Process::spawn(PROGRAM, data.path(), &fake.api_url()).await;
    let tokens = register(&host).await;

    // Telegram goes away; dongles are lost everywhere.
    fake.go_down();
    for (id, token) in &tokens {
        let accepted = host
            .post_report(token, report_for("lost-key-evening.xml", id))
            .await;
        assert_eq!(accepted.status(), 202);
    }
    let mut alerts: Vec<Value> = Vec::new();
    eventually("every installation has its dongle alert", async || {
        alerts = host.alerts("state=firing").await;
        INSTALLATIONS.iter().all(|(id, _)| {
            alerts
                .iter()
                .any(|a| a["installation_id"] == *id && a["plugin"] == "dongle-lost")
        })
    })
    .await;
    // The first alert of an installation's story is tried first (the rest reply to it).
    let first = alerts
        .iter()
        .find(|a| a["story_id"] == a["id"])
        .expect("a story's first alert")["id"]
        .as_i64()
        .unwrap();
    eventually("a delivery has failed", async || {
        timeline_kinds(&host, first)
            .await
            .contains(&"delivery-delayed".to_string())
    })
    .await;

    // Killed while deliveries wait for retry.
    host.kill();
    let host = Process::spawn(PROGRAM, data.path(), &fake.api_url()).await;

    // Two dongles come back while Telegram is still down: "resolved" now waits behind the
    // "firing" nobody has seen.
    for id in FIXED {
        let mut restored = String::from_utf8(report_for("key-restored.xml", id)).unwrap();
        restored = restored.replace("vector-main", id);
        assert_eq!(
            host.post_report(&tokens[id], restored.into_bytes())
                .await
                .status(),
            202
        );
    }
    eventually("the fixed dongles resolved", async || {
        let resolved = host.alerts("state=resolved&plugin=dongle-lost").await;
        resolved.len() == FIXED.len()
    })
    .await;

    // Telegram is back but under flood control; the host is killed again meanwhile.
    fake.rate_limit(2);
    fake.come_up().await;
    eventually("the host met flood control", async || {
        fake.rate_limited() > 0
    })
    .await;
    host.kill();
    let host = Process::spawn(PROGRAM, data.path(), &fake.api_url()).await;

    // The three installations' redirect-down alerts share their cause: one incident, with
    // a card in each of their chats instead of an alert each.
    let mut all = Vec::new();
    eventually("the redirect-down alerts are one incident", async || {
        all = host.alerts("").await;
        all.iter().filter(|a| !a["incident_id"].is_null()).count() == INSTALLATIONS.len()
    })
    .await;
    let expected_posts = alone(&all).len() + INSTALLATIONS.len();
    eventually(
        "every alert is posted and every resolution replied",
        async || {
            let posts: usize = INSTALLATIONS
                .iter()
                .map(|(_, chat)| {
                    fake.bot_messages(*chat)
                        .iter()
                        .filter(|m| is_living(m))
                        .count()
                })
                .sum();
            let replies: usize = INSTALLATIONS
                .iter()
                .map(|(_, chat)| {
                    fake.bot_messages(*chat)
                        .iter()
                        .filter(|m| !is_living(m))
                        .count()
                })
                .sum();
            posts >= expected_posts && replies >= FIXED.len()
        },
    )
    .await;
    // Give a duplicate, if any were coming, the time to show.
    tokio::time::sleep(Duration::from_secs(2)).await;

    assert_eq!(fake.flood_violations(), 0, "retry_after was not honoured");
    for (id, chat) in INSTALLATIONS {
        let messages = fake.bot_messages(chat);
        let mine: Vec<&Value> = alone(&all)
            .into_iter()
            .filter(|a| a["installation_id"] == id)
            .collect();
        let posts: Vec<_> = messages.iter().filter(|m| is_living(m)).collect();
        assert_eq!(
            posts.len(),
            mine.len() + 1,
            "{id}: one message per alert and the incident's card: {messages:#?}"
        );
        assert_eq!(
            posts
                .iter()
                .filter(|m| m.versions[0].contains("INCIDENT #"))
                .count(),
            1,
            "{id}: one incident card"
        );
        for alert in &mine {
            let code = format!(
                "<code>{}/{}",
                alert["plugin"].as_str().unwrap(),
                alert["key"].as_str().unwrap()
            );
            let living: Vec<_> = posts
                .iter()
                .filter(|m| m.versions[0].contains(&code))
                .collect();
            assert_eq!(living.len(), 1, "{id}: {code} posted once");
            let living = living[0];
            let replies: Vec<_> = messages
                .iter()
                .filter(|m| m.reply_to == Some(living.id) && !is_living(m))
                .collect();
            let resolved = alert["plugin"] == "dongle-lost" && FIXED.contains(&id);
            if resolved {
                assert!(
                    living.text.starts_with("✅ RESOLVED"),
                    "{id}: {}",
                    living.text
                );
                assert_eq!(replies.len(), 1, "{id}: one resolved reply");
                assert!(replies[0].text.starts_with("✅ Resolved after"));
                assert!(replies[0].id > living.id, "the reply comes after the alert");
                let timeline = timeline_kinds(&host, alert["id"].as_i64().unwrap()).await;
                assert_eq!(
                    timeline.iter().filter(|k| *k == "notified").count(),
                    3,
                    "{timeline:?}"
                );
                assert!(
                    timeline.contains(&"delivery-delayed".to_string()),
                    "{timeline:?}"
                );
            } else {
                assert!(!living.text.contains("RESOLVED"), "{id}: {}", living.text);
                assert!(replies.is_empty(), "{id}: {replies:#?}");
            }
        }
    }
    let (status, metrics) = (
        200,
        host.client
            .get(host.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(status, 200);
    assert!(
        metrics.contains("reveille_notifications_total{outcome=\"delivered\"}"),
        "{metrics}"
    );
}

//! Alerts out, end to end: reports in through the HTTP API, alerts in a (fake) Telegram
//! chat, buttons pressed and commands typed there by users, and the alerts API.

use std::sync::Arc;
use std::time::Duration;

use fake_telegram::{ChatMessage, FakeTelegram, User};
use reveille::clock::ManualClock;
use reveille_tests::{Options, Service, TELEGRAM_TOKEN, at, databases, report, report_for};
use serde_json::{Value, json};

const CHAT: i64 = -1001234567;
const WAIT: Duration = Duration::from_secs(20);

fn petrov() -> User {
    User::new(42, "Petr", Some("petrov"))
}

fn stranger() -> User {
    User::new(666, "Mallory", None)
}

async fn start(fake: &FakeTelegram, options: Options) -> Service {
    Service::start(Options {
        telegram_api: Some(fake.api_url()),
        ..options
    })
    .await
}

/// The bot's living message in `chat` about the alert whose `plugin/key` starts with
/// `prefix` (a bare plugin name matches any of its keys).
fn living(fake: &FakeTelegram, chat: i64, prefix: &str) -> Option<ChatMessage> {
    let prefix = if prefix.contains('/') {
        format!("<code>{prefix}")
    } else {
        format!("<code>{prefix}/")
    };
    fake.bot_messages(chat)
        .into_iter()
        .find(|m| m.versions[0].contains(&prefix))
}

async fn wait_living(fake: &FakeTelegram, chat: i64, plugin: &str) -> ChatMessage {
    assert!(
        fake.wait_for(WAIT, |f| living(f, chat, plugin).is_some())
            .await,
        "no {plugin} message in chat {chat}: {:#?}",
        fake.bot_messages(chat)
    );
    living(fake, chat, plugin).unwrap()
}

/// Waits for the bot's reply to message `to` in `chat` that says `text`.
async fn wait_reply(fake: &FakeTelegram, chat: i64, to: i64, text: &str) {
    assert!(
        fake.wait_for(WAIT, |f| f
            .bot_messages(chat)
            .iter()
            .any(|m| m.reply_to == Some(to) && m.text.contains(text)))
            .await,
        "no reply {text:?}: {:#?}",
        fake.bot_messages(chat)
    );
}

/// Waits until the living message of `prefix` in `chat` says `text`.
async fn wait_shows(fake: &FakeTelegram, chat: i64, prefix: &str, text: &str) {
    assert!(
        fake.wait_for(WAIT, |f| living(f, chat, prefix)
            .is_some_and(|m| m.text.contains(text)))
            .await,
        "{text:?} never shown: {:#?}",
        living(fake, chat, prefix)
    );
}

async fn alert_id(service: &Service, installation: &str, plugin: &str) -> i64 {
    service.settle().await;
    let alerts = service
        .alerts(&format!("installation={installation}&plugin={plugin}"))
        .await;
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    alerts[0]["id"].as_i64().unwrap()
}

/// The alert once its timeline has at least `entries` entries (or as it is after `WAIT`).
async fn timeline_of_length(service: &Service, id: i64, entries: usize) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let alert = service.alert(id).await;
        if alert["timeline"].as_array().map_or(0, Vec::len) >= entries
            || std::time::Instant::now() > deadline
        {
            return alert;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn kinds(timeline: &Value) -> Vec<String> {
    timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

/// 20:00 on 20 November, the start of story 1: the dongle of vector-main (chat `CHAT`,
/// Petrov authorized there) is reported lost and its alert is in the chat.
struct Evening {
    fake: FakeTelegram,
    clock: Arc<ManualClock>,
    service: Service,
    token: String,
    /// The dongle-lost alert's living message.
    message: ChatMessage,
    /// The dongle-lost alert.
    id: i64,
}

/// Sets up [`Evening`] on `database_url` (`None`: SQLite).
async fn lost_key_at_eight(database_url: Option<String>) -> Evening {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    fake.add_chat(CHAT, "Vector support");
    let clock = Arc::new(ManualClock::new(at("2026-11-20T20:00:00+03:00")));
    let service = start(
        &fake,
        Options {
            clock: Some(clock.clone()),
            database_url,
            ..Options::default()
        },
    )
    .await;
    let token = service.installation("vector-main").await;
    service.authorize(CHAT, 42, "Petr Petrov").await;
    let accepted = service
        .post_report(&token, report("lost-key-evening.xml"))
        .await;
    assert_eq!(accepted.status(), 202);
    let message = wait_living(&fake, CHAT, "dongle-lost").await;
    let id = alert_id(&service, "vector-main", "dongle-lost").await;
    Evening {
        fake,
        clock,
        service,
        token,
        message,
        id,
    }
}

/// Story 1 of DOMAIN.md: the dongle is lost at 20:00, the manager's chat hears at once; a
/// stranger's button press is refused, the manager's colleague acknowledges it; the key is
/// back at 21:17, the message turns to resolved and a reply rings the chat; the timeline
/// tells it all.
#[tokio::test]
async fn lost_key_evening_reaches_the_chat_and_resolves() {
    for db in databases().await {
        let Evening {
            fake,
            clock,
            mut service,
            token,
            message,
            id,
        } = lost_key_at_eight(db.url.clone()).await;
        let text = &message.text;
        for expected in [
            "CRITICAL",
            "ООО «Вектор» · vector-main",
            "Since 20.11.2026 20:00 (Europe/Moscow)",
            "error code 4111",
            "nobody has taken it yet",
        ] {
            assert!(text.contains(expected), "{expected:?} not in {text}");
        }
        assert_eq!(
            message.buttons,
            [
                ("✋ Acknowledge".to_string(), format!("ack:{id}")),
                ("💤 1 h".to_string(), format!("snooze:{id}:3600")),
                ("💤 4 h".to_string(), format!("snooze:{id}:14400")),
            ]
        );

        // A stranger in the chat presses Acknowledge: refused, nothing changes. (Pressed
        // once the host has recorded the post: the fake shows a message as soon as Telegram
        // would, the host records its delivery a moment later, at the same minute.)
        timeline_of_length(&service, id, 2).await;
        let refused = fake.press_button(CHAT, message.id, &stranger(), &format!("ack:{id}"));
        assert!(
            fake.wait_for(WAIT, |f| f.answers().iter().any(|a| a.query_id == refused))
                .await
        );
        let answer = fake
            .answers()
            .into_iter()
            .find(|a| a.query_id == refused)
            .unwrap();
        assert!(answer.text.contains("not allowed"), "{answer:?}");
        assert!(answer.show_alert);
        assert_eq!(service.alert(id).await["alert"]["state"], "firing");
        assert_eq!(
            living(&fake, CHAT, "dongle-lost").unwrap().versions.len(),
            1
        );

        // Petrov, authorized for this chat, takes it.
        clock.advance(Duration::from_secs(5 * 60));
        fake.press_button(CHAT, message.id, &petrov(), &format!("ack:{id}"));
        wait_shows(
            &fake,
            CHAT,
            "dongle-lost",
            "Acknowledged by Petr (@petrov, id 42) at 20.11.2026 20:05",
        )
        .await;
        assert!(
            living(&fake, CHAT, "dongle-lost")
                .unwrap()
                .buttons
                .is_empty()
        );
        let alert = service.alert(id).await;
        assert_eq!(alert["alert"]["state"], "acknowledged");
        assert_eq!(alert["alert"]["acknowledged_by"], "Petr (@petrov, id 42)");

        // 21:17: the forwarding software is licensed again.
        clock.set(at("2026-11-20T21:17:00+03:00"));
        let fixed = service
            .post_report(&token, report("key-restored.xml"))
            .await;
        assert_eq!(fixed.status(), 202);
        wait_reply(&fake, CHAT, message.id, "Resolved after 1h 17m").await;
        let now = living(&fake, CHAT, "dongle-lost").unwrap();
        assert!(
            now.text.starts_with("✅ RESOLVED · was CRITICAL"),
            "{}",
            now.text
        );
        assert!(
            now.text
                .contains("Resolved at 20.11.2026 21:17 after 1h 17m (the condition cleared)"),
            "{}",
            now.text
        );
        assert_eq!(now.versions.len(), 3, "posted, acknowledged, resolved");

        // The fake shows the reply as soon as Telegram would; the host records the
        // delivery a moment later.
        let alert = timeline_of_length(&service, id, 8).await;
        assert_eq!(alert["alert"]["state"], "resolved");
        let timeline = kinds(&alert["timeline"]);
        assert_eq!(
            timeline,
            [
                "fired",
                "notified",
                "refused",
                "acknowledged",
                "notified",
                "resolved",
                "notified",
                "notified"
            ],
            "{:#}",
            alert["timeline"]
        );
        assert_eq!(alert["timeline"][2]["actor"], "Mallory (id 666)");
        let told = &alert["timeline"][1];
        assert_eq!(told["said"]["to"]["chat"], CHAT, "{told}");
        assert_eq!(told["said"]["message"], message.id, "{told}");
        assert!(
            told["detail"]
                .as_str()
                .unwrap()
                .starts_with("message to the manager's chat"),
            "{told}"
        );
        let resolved = service.alerts("state=resolved&plugin=dongle-lost").await;
        assert_eq!(resolved.len(), 1);
        assert!(
            service
                .alerts("state=open&plugin=dongle-lost")
                .await
                .is_empty()
        );
        service.stop().await;
        db.drop_database().await;
    }
}

/// `/status` and `/alerts` answer in the chat with what is routed to it, and nothing of
/// another chat's clients.
#[tokio::test]
async fn commands_answer_only_for_the_chat_asking() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    fake.add_chat(CHAT, "Vector support");
    fake.add_chat(-100777, "Horns support");
    let service = start(&fake, Options::default()).await;
    let token = service.installation("vector-main").await;
    service
        .installation_in_chat("horns-main", "Рога и Копыта", -100777)
        .await;
    service
        .post_report(&token, report("lost-key-evening.xml"))
        .await;
    wait_living(&fake, CHAT, "dongle-lost").await;

    fake.say(CHAT, &petrov(), "/status@reveille_bot вектор");
    assert!(
        fake.wait_for(WAIT, |f| f
            .bot_messages(CHAT)
            .iter()
            .any(|m| m.text.contains("Dongle: lost (error 4111)")))
            .await,
        "{:#?}",
        fake.bot_messages(CHAT)
    );
    let card = fake
        .bot_messages(CHAT)
        .into_iter()
        .find(|m| m.text.contains("Dongle:"))
        .unwrap();
    for expected in [
        "ООО «Вектор» · vector-main",
        "Last report:",
        "report-agent",
        "Newest update: №4287",
        "Shell: 6.4.2.73",
        "Seats: 25 of 25 in use, 7 refused",
        "Open alerts:",
        "License dongle",
    ] {
        assert!(
            card.text.contains(expected),
            "{expected:?} not in {}",
            card.text
        );
    }
    assert!(card.reply_to.is_some());

    // The other client's chat sees nothing of Vector.
    fake.say(-100777, &petrov(), "/status vector");
    fake.say(-100777, &petrov(), "/alerts");
    assert!(
        fake.wait_for(WAIT, |f| f.bot_messages(-100777).len() == 2)
            .await,
        "{:#?}",
        fake.bot_messages(-100777)
    );
    let answers = fake.bot_messages(-100777);
    assert!(
        answers[0]
            .text
            .contains("No installation matching “vector”"),
        "{}",
        answers[0].text
    );
    assert!(
        answers[1].text.contains("No open alerts here"),
        "{}",
        answers[1].text
    );

    fake.say(CHAT, &petrov(), "/alerts");
    assert!(
        fake.wait_for(WAIT, |f| f
            .bot_messages(CHAT)
            .iter()
            .any(
                |m| m.text.starts_with("Open alerts:") && m.text.contains("vector-main")
            ))
        .await
    );
}

/// Whatever a report or a client name contains, the message is valid HTML for Telegram
/// (the fake refuses what Telegram refuses) and within its 4096 characters.
#[tokio::test]
async fn hostile_text_is_escaped_and_long_text_is_cut() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    fake.add_chat(CHAT, "Vector support");
    let service = start(&fake, Options::default()).await;
    let token = service
        .installation_in_chat("vector-main", "<b>Рога & Копыта</b> \"Юг\"", CHAT)
        .await;
    let code = format!("<i>&amp;{}", "Ж".repeat(6_000));
    let xml = String::from_utf8(report_for("lost-key-evening.xml", "vector-main"))
        .unwrap()
        .replace(
            "state=\"error\" error-code=\"2020\"",
            &format!(
                "state=\"error\" error-code=\"{}\"",
                code.replace('&', "&amp;").replace('<', "&lt;")
            ),
        );
    assert_eq!(
        service.post_report(&token, xml.into_bytes()).await.status(),
        202
    );
    let message = wait_living(&fake, CHAT, "stale-updates/base-error:").await;
    assert!(
        message
            .text
            .contains("<b>Рога & Копыта</b> \"Юг\" · vector-main"),
        "{}",
        message.text
    );
    assert!(
        message.text.contains("<i>&amp;ЖЖЖ"),
        "{}",
        &message.text[..400]
    );
    assert_eq!(
        fake_telegram::utf16_len(&message.text),
        fake_telegram::MAX_TEXT
    );
    assert!(message.text.ends_with('…'));
}

/// A chat the bot is not in: the notification fails for good, says so in the timeline,
/// and does not hold up other alerts.
#[tokio::test]
async fn an_unknown_chat_fails_cleanly_and_blocks_nothing() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    fake.add_chat(CHAT, "Vector support");
    let service = start(&fake, Options::default()).await;
    let lost = service.installation("vector-main").await;
    let nowhere = service
        .installation_in_chat("nowhere", "Nowhere", -100404)
        .await;
    service
        .post_report(&nowhere, report_for("lost-key-evening.xml", "nowhere"))
        .await;
    service
        .post_report(&lost, report("lost-key-evening.xml"))
        .await;
    wait_living(&fake, CHAT, "dongle-lost").await;
    let id = alert_id(&service, "nowhere", "dongle-lost").await;
    let alert = timeline_of_length(&service, id, 2).await;
    assert_eq!(kinds(&alert["timeline"]), ["fired", "delivery-failed"]);
    let detail = &alert["timeline"][1]["detail"];
    assert!(
        detail.as_str().unwrap().contains("chat not found"),
        "{detail}"
    );
}

/// The alerts API: filters that say what is wrong, acknowledgement by an admin.
#[tokio::test]
async fn the_alerts_api_filters_and_acknowledges() {
    let service = Service::start(Options::default()).await;
    let token = service.installation("vector-main").await;
    service
        .post_report(&token, report("lost-key-evening.xml"))
        .await;
    service.settle().await;
    let critical = service.alerts("severity=critical&state=firing").await;
    assert!(
        critical.iter().any(|a| a["plugin"] == "dongle-lost"),
        "{critical:#?}"
    );
    assert!(critical.iter().all(|a| a["severity"] == "critical"));
    assert!(
        !service
            .alerts("client=ООО «Вектор»&manager=Ivanov")
            .await
            .is_empty()
    );
    assert!(service.alerts("manager=Nobody").await.is_empty());

    let (status, body) = service
        .admin_request("GET", "/api/v1/alerts?state=burning", None)
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("burning"),
        "{body}"
    );
    let (status, body) = service
        .admin_request("GET", "/api/v1/alerts?colour=red", None)
        .await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("colour"), "{body}");

    let id = alert_id(&service, "vector-main", "dongle-lost").await;
    let (status, body) = service
        .admin_request(
            "POST",
            &format!("/api/v1/alerts/{id}/ack"),
            Some(json!({"by": "Sidorov"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["alert"]["acknowledged_by"], "Sidorov (API)");
    let (status, body) = service
        .admin_request("POST", &format!("/api/v1/alerts/{id}/ack"), None)
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, _) = service
        .admin_request("POST", "/api/v1/alerts/999999/ack", None)
        .await;
    assert_eq!(status, 404);

    // Without a bot token the notifications wait in the outbox rather than vanish.
    assert!(service.store().outbox_backlog().await.unwrap().0 > 0);

    // Removing the installation resolves its alerts, saying why.
    let (status, body) = service
        .admin_request("DELETE", "/api/v1/installations/vector-main", None)
        .await;
    assert_eq!(status, 200, "{body}");
    let alert = service.alert(id).await;
    assert_eq!(alert["alert"]["state"], "resolved");
    assert_eq!(alert["alert"]["resolution"], "the installation was removed");
}

/// Snoozing takes an alert away for a while; when the snooze ends and the condition still
/// holds, the message fires again and a reply rings the chat.
#[tokio::test]
async fn a_snooze_ends_with_a_reminder() {
    let Evening {
        fake,
        clock,
        service,
        message,
        id,
        ..
    } = lost_key_at_eight(None).await;
    fake.press_button(CHAT, message.id, &petrov(), &format!("snooze:{id}:3600"));
    wait_shows(
        &fake,
        CHAT,
        "dongle-lost",
        "Snoozed by Petr (@petrov, id 42) until 20.11.2026 21:00",
    )
    .await;
    assert_eq!(service.alert(id).await["alert"]["state"], "snoozed");

    clock.advance(Duration::from_secs(30 * 60));
    service.tick().await;
    assert_eq!(service.alert(id).await["alert"]["state"], "snoozed");
    clock.advance(Duration::from_secs(31 * 60));
    service.tick().await;
    wait_reply(&fake, CHAT, message.id, "Still firing, nobody has it now").await;
    let now = living(&fake, CHAT, "dongle-lost").unwrap();
    assert!(now.text.contains("nobody has taken it yet"), "{}", now.text);
    assert_eq!(now.buttons.len(), 3);
    assert_eq!(service.alert(id).await["alert"]["state"], "firing");
}

/// A chat reads Reveille in Russian once an authorized member says `/lang ru` (a stranger
/// cannot switch it): the alert's message (the check's own words too, which the built-in
/// checks write in Russian as well), the answer to a button and the edit after it.
/// `[telegram] language` sets what every other chat reads.
#[tokio::test]
async fn a_chat_reads_its_own_language() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    fake.add_chat(CHAT, "Vector support");
    let service = start(&fake, Options::default()).await;
    service.authorize(CHAT, 42, "Petr Petrov").await;
    fake.say(CHAT, &stranger(), "/lang ru");
    fake.say(CHAT, &petrov(), "/lang ru");
    wait_reply_text(&fake, CHAT, "Only someone authorized").await;
    wait_reply_text(&fake, CHAT, "Теперь этот чат читает Reveille по-русски").await;
    let token = service.installation("vector-main").await;
    let accepted = service
        .post_report(&token, report("lost-key-evening.xml"))
        .await;
    assert_eq!(accepted.status(), 202);
    let message = wait_living(&fake, CHAT, "dongle-lost").await;
    assert!(message.text.contains("🔴 КРИТИЧНО"), "{}", message.text);
    assert!(
        message.text.contains("Ключ защиты потерян"),
        "{}",
        message.text
    );
    assert!(
        message
            .text
            .contains("Состояние защиты: потерян, код ошибки 4111"),
        "{}",
        message.text
    );
    assert!(
        message.text.contains("Горит: пока никто не взял"),
        "{}",
        message.text
    );
    let id = alert_id(&service, "vector-main", "dongle-lost").await;
    let answer = fake.press_button(CHAT, message.id, &petrov(), &format!("ack:{id}"));
    assert!(
        fake.wait_for(WAIT, |f| f
            .answers()
            .iter()
            .any(|a| a.query_id == answer && a.text == "Взято: теперь это ваше."))
            .await,
        "{:?}",
        fake.answers()
    );
    wait_shows(&fake, CHAT, "dongle-lost", "✋ Взял Petr").await;
    fake.say(CHAT, &petrov(), "/status vector-main");
    wait_reply_text(&fake, CHAT, "Ключ: потерян (ошибка 4111)").await;
    fake.say(CHAT, &petrov(), "/help");
    wait_reply_text(&fake, CHAT, "/lang en|ru|it: язык этого чата").await;
    // In a group the bot says the chat's id, which its installations must carry.
    wait_reply_text(&fake, CHAT, &format!("id этого чата: {CHAT}.")).await;
    fake.say(CHAT, &petrov(), "/lang it");
    wait_reply_text(&fake, CHAT, "Ora questa chat legge Reveille in italiano").await;

    // Everything else reads the configured default.
    drop(service);
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    fake.add_chat(CHAT, "Vector support");
    let service = start(
        &fake,
        Options {
            config: "[telegram]\nlanguage = \"ru\"\n".into(),
            ..Options::default()
        },
    )
    .await;
    fake.say(CHAT, &petrov(), "/lang");
    wait_reply_text(&fake, CHAT, "Этот чат читает Reveille по-русски").await;
    drop(service);
}

/// Waits for a bot message in `chat` that says `text`.
pub(crate) async fn wait_reply_text(fake: &FakeTelegram, chat: i64, text: &str) {
    assert!(
        fake.wait_for(WAIT, |f| f
            .bot_messages(chat)
            .iter()
            .any(|m| m.text.contains(text)))
            .await,
        "no message {text:?}: {:#?}",
        fake.bot_messages(chat)
    );
}

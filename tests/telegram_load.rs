//! The bot under pressure from its chats, through the fake Bot API: a burst of commands
//! meeting Telegram's per-chat flood control, `/status` matching many installations, and
//! buttons with forged data.

use std::time::{Duration, Instant};

use fake_telegram::{ChatMessage, FakeTelegram, User, utf16_len};
use reveille_tests::{Options, Service, TELEGRAM_TOKEN, report_for};
use serde_json::json;

const ALPHA: i64 = -100_1001;
const BETA: i64 = -100_1002;
const WAIT: Duration = Duration::from_secs(20);

/// An authorized user whose name tries to read right-to-left.
fn petrov() -> User {
    User::new(42, "Petr\u{202E}vortep", Some("petrov"))
}

async fn start(fake: &FakeTelegram, options: Options) -> Service {
    Service::start(Options {
        telegram_api: Some(fake.api_url()),
        ..options
    })
    .await
}

/// Registers `id` in `chat`, posts its lost key and returns the alert's living message.
async fn lost_key(service: &Service, fake: &FakeTelegram, id: &str, chat: i64) -> ChatMessage {
    let token = service
        .installation_in_chat(id, &format!("Client {id}"), chat)
        .await;
    let sent = service
        .post_report(&token, report_for("lost-key-evening.xml", id))
        .await;
    assert_eq!(sent.status(), 202);
    assert!(
        fake.wait_for(WAIT, |f| f
            .bot_messages(chat)
            .iter()
            .any(|m| !m.buttons.is_empty()))
            .await,
        "no alert in chat {chat}"
    );
    fake.bot_messages(chat)
        .into_iter()
        .find(|m| !m.buttons.is_empty())
        .unwrap()
}

fn button(message: &ChatMessage, prefix: &str) -> String {
    message
        .buttons
        .iter()
        .find(|(_, data)| data.starts_with(prefix))
        .map(|(_, data)| data.clone())
        .unwrap_or_else(|| panic!("no {prefix} button on {message:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_commands_never_holds_back_a_button_press() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    fake.add_chat(ALPHA, "Alpha support");
    fake.add_chat(BETA, "Beta support");
    let service = start(&fake, Options::default()).await;
    let alpha = lost_key(&service, &fake, "alpha-main", ALPHA).await;
    let beta = lost_key(&service, &fake, "beta-main", BETA).await;
    for chat in [ALPHA, BETA] {
        service.authorize(chat, 42, "Petr Petrov").await;
    }
    fake.limit_chat(ALPHA, 5);

    for _ in 0..200 {
        fake.say(ALPHA, &petrov(), "/status alpha");
    }
    assert!(
        fake.wait_for(WAIT, |f| f.rate_limited() > 0).await,
        "the burst never met flood control"
    );
    let started = Instant::now();
    let pressed = [
        fake.press_button(BETA, beta.id, &petrov(), &button(&beta, "ack:")),
        fake.press_button(ALPHA, alpha.id, &petrov(), &button(&alpha, "ack:")),
    ];
    let answered = fake
        .wait_for(WAIT, |f| {
            pressed
                .iter()
                .all(|q| f.answers().iter().any(|a| a.query_id == *q))
        })
        .await;
    let took = started.elapsed();
    assert!(answered, "{:#?}", fake.answers());
    assert!(
        took < Duration::from_secs(1),
        "button presses waited {took:?} behind a command burst"
    );
    for (chat, message) in [(BETA, &beta), (ALPHA, &alpha)] {
        let id: i64 = button(message, "ack:")[4..].parse().unwrap();
        let alert = service.alert(id).await;
        assert_eq!(
            alert["alert"]["state"], "acknowledged",
            "chat {chat}: {alert:#}"
        );
    }
    assert_eq!(fake.flood_violations(), 0, "a retry_after was not honoured");
    assert!(
        fake.bot_messages(ALPHA).len() < 20,
        "the burst was answered {} times",
        fake.bot_messages(ALPHA).len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_matching_many_installations_fits_one_message() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    fake.add_chat(ALPHA, "Vector support");
    let service = start(&fake, Options::default()).await;
    service.install_fixture("misbehave").await;
    for n in 1..=12 {
        let client = format!("Вектор-{n}");
        if n <= 3 {
            // Forty open alerts each: five full cards would run far past 4096 characters.
            let (status, body) = service
                .put_client_settings(
                    &client,
                    "misbehave",
                    json!({"mode": "flood", "count": "40"}),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
        let id = format!("vector-{n:02}");
        let token = service.installation_in_chat(&id, &client, ALPHA).await;
        let sent = service
            .post_report(&token, report_for("key-restored.xml", &id))
            .await;
        assert_eq!(sent.status(), 202);
    }
    service.settle().await;
    // 120 new alerts in one group, far beyond its budget of about 20 messages a minute:
    // they arrive folded into summaries, not as a storm queued for minutes.
    let store = service.store();
    assert!(
        service
            .eventually(Duration::from_secs(60), || async {
                store.outbox_backlog().await.unwrap().0 == 0
            })
            .await,
        "the storm was not delivered"
    );
    let messages = fake.bot_messages(ALPHA);
    // However the alerts trickle in, the chat gets no more than its budget for the
    // minute (the last calls of it go to summaries), and it was all delivered above
    // within that minute.
    assert!(messages.len() <= 20, "{} messages", messages.len());
    assert!(
        messages
            .iter()
            .any(|m| m.text.contains("new alerts at once")),
        "{messages:#?}"
    );
    assert_eq!(
        fake.rate_limited(),
        0,
        "pacing should have kept clear of flood control"
    );
    let before = fake.bot_messages(ALPHA).len();
    fake.say(ALPHA, &petrov(), "/status вектор");
    // The storm may have spent the group's minute of messages: the answer then waits
    // (Telegram's retry_after) until the window lets it through.
    assert!(
        fake.wait_for(Duration::from_secs(75), |f| f
            .bot_messages(ALPHA)
            .iter()
            .any(|m| m.text.contains("installations match")))
            .await,
        "no answer to /status"
    );
    let answer = fake
        .bot_messages(ALPHA)
        .into_iter()
        .find(|m| m.text.contains("installations match"))
        .unwrap();
    assert!(
        answer.text.starts_with("12 installations match"),
        "{}",
        answer.text
    );
    assert!(answer.text.contains("vector-07"), "{}", answer.text);
    assert!(answer.text.contains("vector-01"), "{}", answer.text);
    assert!(answer.text.contains("alerts open"), "{}", answer.text);
    assert!(
        answer.text.contains("/status <installation id>"),
        "{}",
        answer.text
    );
    assert!(utf16_len(&answer.text) <= 4096);
    assert!(answer.reply_to.is_some());
    service.settle().await;
    assert!(fake.bot_messages(ALPHA).len() <= before + 1 + 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_snooze_lengths_are_refused() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    fake.add_chat(ALPHA, "Alpha support");
    let service = start(&fake, Options::default()).await;
    let message = lost_key(&service, &fake, "alpha-main", ALPHA).await;
    service.authorize(ALPHA, 42, "Petr Petrov").await;
    let id = button(&message, "ack:")
        .trim_start_matches("ack:")
        .to_string();
    for forged in ["0", "60", "3153600000", "18446744073709551615"] {
        let query = fake.press_button(
            ALPHA,
            message.id,
            &petrov(),
            &format!("snooze:{id}:{forged}"),
        );
        assert!(
            fake.wait_for(WAIT, |f| f.answers().iter().any(|a| a.query_id == query))
                .await
        );
        let answer = fake
            .answers()
            .into_iter()
            .find(|a| a.query_id == query)
            .unwrap();
        assert_eq!(answer.text, "This button is not one of mine.", "{forged}");
    }
    let alert = service.alert(id.parse().unwrap()).await;
    assert_eq!(alert["alert"]["state"], "firing", "{alert:#}");

    let query = fake.press_button(ALPHA, message.id, &petrov(), &button(&message, "snooze:"));
    assert!(
        fake.wait_for(WAIT, |f| f
            .answers()
            .iter()
            .any(|a| a.query_id == query && a.text.starts_with("Snoozed")))
            .await,
        "{:#?}",
        fake.answers()
    );
    // The presser's name reaches the chat without its right-to-left override.
    let snoozed = |f: &FakeTelegram| {
        f.bot_messages(ALPHA)
            .into_iter()
            .find(|m| m.id == message.id && m.text.contains("Snoozed by"))
    };
    assert!(fake.wait_for(WAIT, |f| snoozed(f).is_some()).await);
    let text = snoozed(&fake).unwrap().text;
    assert!(text.contains("Snoozed by Petrvortep"), "{text}");
    assert!(!text.contains('\u{202E}'), "{text:?}");
}

//! The right person at the right hour, end to end: contacts, client policies, on-call
//! schedules and escalation set up through the admin API; reports in through the agents'
//! API; alerts out to the fake Telegram's group and private chats; time moved by the
//! manual clock and the scheduler's tick, never by sleeping.

use std::sync::Arc;
use std::time::Duration;

use fake_telegram::{ChatMessage, FakeTelegram, User};
use reveille::clock::ManualClock;
use reveille_tests::{Browser, Options, Process, Service, TELEGRAM_TOKEN, at, databases};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);
/// The manager's group (the installation's chat).
pub(crate) const OFFICE: i64 = -1001234567;
pub(crate) const VECTOR: &str = "ООО «Вектор»";
pub(crate) const MOSCOW: &str = "Europe/Moscow";

fn sidorov() -> User {
    User::new(501, "Sidorov", Some("sidorov"))
}

fn petrov() -> User {
    User::new(502, "Petrov", Some("petrov"))
}

fn kozlov() -> User {
    User::new(503, "Kozlov", None)
}

fn olga() -> User {
    User::new(504, "Olga", Some("olga_sales"))
}

/// A full report from `installation` of `client` generated at `time`, fresh content,
/// with the dongle in `dongle` state and `in_use` of 25 seats taken.
fn report(installation: &str, client: &str, time: &str, dongle: &str, in_use: u32) -> Vec<u8> {
    let refused = if in_use >= 25 { 4 } else { 0 };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<report schema="1" agent="report-agent" agent-version="2.3.0" generated-at="{time}">
  <installation id="{installation}"><client>{client}</client></installation>
  <product name="Техэксперт" shell-version="6.4.2.73"/>
  <service state="running" http-status="200"/>
  <protection kind="senselock" state="{dongle}" forwarding="usb-over-network"/>
  <users limit="25" in-use="{in_use}" peak="{in_use}" refused="{refused}"/>
  <bases>
    <base code="KDS-SNIP" name="Строительство" update="4287" operup-at="{time}" state="ok"/>
  </bases>
</report>"#
    )
    .into_bytes()
}

fn vector(time: &str, dongle: &str) -> Vec<u8> {
    report("vector-main", VECTOR, time, dongle, 12)
}

/// A service on the manual clock at `time`, with the fake Telegram and `config` lines.
pub(crate) async fn start_at(time: &str, config: &str, database_url: Option<String>) -> World {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    fake.add_chat(OFFICE, "Office");
    let clock = Arc::new(ManualClock::new(at(time)));
    let service = Service::start(Options {
        clock: Some(clock.clone()),
        telegram_api: Some(fake.api_url()),
        database_url,
        config: config.to_string(),
        ..Options::default()
    })
    .await;
    World {
        fake,
        clock,
        service,
    }
}

pub(crate) struct World {
    pub fake: FakeTelegram,
    pub clock: Arc<ManualClock>,
    pub service: Service,
}

impl World {
    pub(crate) async fn put(&self, path: &str, body: Value) {
        let (status, answer) = self.service.admin_request("PUT", path, Some(body)).await;
        assert!(
            status == 200 || status == 201,
            "PUT {path}: {status} {answer}"
        );
    }

    /// A contact, who also opens a private chat with the bot (and is answered there).
    pub(crate) async fn contact(&self, name: &str, user: &User) {
        self.put(
            &format!("/api/v1/contacts/{name}"),
            json!({ "telegram_user_id": user.id }),
        )
        .await;
        self.fake.start_private(user);
        assert!(
            self.fake
                .wait_for(WAIT, |f| f
                    .bot_messages(user.id)
                    .iter()
                    .any(|m| m.text.contains("I can write to you here now")))
                .await,
            "/start was not answered in {}'s chat",
            user.first_name
        );
    }

    /// Registers `id` for `client` in `zone`, alerting in `chat`; returns its token.
    pub(crate) async fn installation(
        &self,
        id: &str,
        client: &str,
        zone: &str,
        chat: i64,
    ) -> String {
        let (status, body) = self
            .service
            .create_installation(json!({
                "id": id, "client": client, "manager": "Ivanov",
                "timezone": zone, "telegram_chat_id": chat,
            }))
            .await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().unwrap().to_string()
    }

    pub(crate) async fn post(&self, token: &str, xml: Vec<u8>) {
        let response = self.service.post_report(token, xml).await;
        assert_eq!(response.status(), 202);
        self.quiet_down().await;
    }

    /// Moves the clock to `time` and runs a scheduler tick (the clockwork included).
    pub(crate) async fn tick_at(&self, time: &str) {
        self.clock.set(at(time));
        self.service.tick().await;
        self.quiet_down().await;
    }

    /// Waits until every evaluation is done and everything due is delivered.
    pub(crate) async fn quiet_down(&self) {
        self.service.settle().await;
        let store = self.service.store();
        assert!(
            self.service
                .eventually(WAIT, || async {
                    store.outbox_backlog().await.unwrap().0 == 0
                })
                .await,
            "the outbox did not drain"
        );
    }

    /// The bot's living message in `chat` about `plugin`.
    async fn living(&self, chat: i64, plugin: &str) -> ChatMessage {
        let find = |f: &FakeTelegram| {
            f.bot_messages(chat)
                .into_iter()
                .find(|m| m.versions[0].contains(&format!("<code>{plugin}/")))
        };
        assert!(
            self.fake.wait_for(WAIT, |f| find(f).is_some()).await,
            "no {plugin} message in chat {chat}: {:#?}",
            self.fake.bot_messages(chat)
        );
        find(&self.fake).unwrap()
    }

    async fn shows(&self, chat: i64, plugin: &str, text: &str) {
        let shown = self
            .fake
            .wait_for(WAIT, |f| {
                f.bot_messages(chat).into_iter().any(|m| {
                    m.versions[0].contains(&format!("<code>{plugin}/")) && m.text.contains(text)
                })
            })
            .await;
        assert!(
            shown,
            "{text:?} not shown in chat {chat}: {:#?}",
            self.fake.bot_messages(chat)
        );
    }

    async fn only_alert(&self, plugin: &str) -> Value {
        let alerts = self.service.alerts(&format!("plugin={plugin}")).await;
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        alerts[0].clone()
    }

    /// The digest messages in `chat`.
    fn digests(&self, chat: i64) -> Vec<ChatMessage> {
        self.fake
            .bot_messages(chat)
            .into_iter()
            .filter(|m| m.text.contains("While you were away"))
            .collect()
    }
}

/// Story 2's cast for ООО «Вектор» in Moscow: quiet 22:00–07:30, Sidorov on call through
/// November, Petrov the escalation step after 15 minutes, acknowledgements good for 8 h.
async fn vector_nights(world: &World, extra: Value) -> String {
    world.contact("sidorov", &sidorov()).await;
    world.contact("petrov", &petrov()).await;
    world
        .put(
            "/api/v1/oncall/night-duty",
            json!({
                "contacts": ["sidorov"], "rotation": "daily", "handoff": "09:00",
                "timezone": MOSCOW, "start": "2026-11-01",
            }),
        )
        .await;
    world
        .put(
            "/api/v1/escalation-policies/critical",
            json!({ "steps": [{ "after": "15m", "to": [{ "contact": "petrov" }] }] }),
        )
        .await;
    let mut policy = json!({
        "quiet_hours": [{ "from": "22:00", "to": "07:30" }],
        "oncall": "night-duty",
        "escalation": "critical",
        "ack_expires_after": "8h",
    });
    for (key, value) in extra.as_object().unwrap() {
        policy[key] = value.clone();
    }
    world
        .put(&format!("/api/v1/clients/{VECTOR}/policy"), policy)
        .await;
    vector_main(world).await
}

/// Vector's installation in the manager's chat, reporting all is well at 23:50; its token.
async fn vector_main(world: &World) -> String {
    world.service.authorize(OFFICE, 600, "Ivan Ivanov").await;
    let token = world
        .installation("vector-main", VECTOR, MOSCOW, OFFICE)
        .await;
    world
        .post(&token, vector("2026-11-20T23:50:00+03:00", "present"))
        .await;
    token
}

fn kinds(timeline: &Value) -> Vec<&str> {
    timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect()
}

/// Story 2: the dongle is lost at 01:07. On-call is woken in his private chat, the
/// manager's chat hears nothing; nobody acknowledges, so at 01:22 it escalates to Petrov,
/// who acknowledges at 01:25 (every living message shows it); at 07:30 the manager's chat
/// gets the digest naming who acknowledged, then the alert's own message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn story_2_the_night_goes_to_on_call_and_the_morning_to_the_manager() {
    for db in databases().await {
        let world = start_at("2026-11-20T23:50:00+03:00", "", db.url.clone()).await;
        let token = vector_nights(&world, json!({})).await;

        world.clock.set(at("2026-11-21T01:07:00+03:00"));
        world
            .post(&token, vector("2026-11-21T01:07:00+03:00", "lost"))
            .await;
        let woken = world.living(sidorov().id, "dongle-lost").await;
        assert!(!woken.silent, "on-call must be woken with sound");
        assert!(woken.text.contains("CRITICAL"), "{}", woken.text);
        assert!(
            world.fake.bot_messages(OFFICE).is_empty(),
            "the manager's chat rang at night"
        );
        let alert = world.only_alert("dongle-lost").await;
        let id = alert["id"].as_i64().unwrap();
        let manager = alert["destinations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["role"] == "manager")
            .expect("the manager is a destination");
        assert_eq!(manager["held_until"], at("2026-11-21T07:30:00+03:00"));

        // 01:21: not yet; 01:22: nobody acknowledged for 15 minutes.
        world.tick_at("2026-11-21T01:21:00+03:00").await;
        assert!(
            world.fake.bot_messages(petrov().id).len() == 1,
            "escalated too early"
        );
        world.tick_at("2026-11-21T01:22:00+03:00").await;
        let backup = world.living(petrov().id, "dongle-lost").await;
        assert!(!backup.silent);
        world
            .shows(
                sidorov().id,
                "dongle-lost",
                "Escalated to petrov at 21.11.2026 01:22",
            )
            .await;

        world.clock.set(at("2026-11-21T01:25:00+03:00"));
        world
            .fake
            .press_button(petrov().id, backup.id, &petrov(), &format!("ack:{id}"));
        for chat in [sidorov().id, petrov().id] {
            world
                .shows(
                    chat,
                    "dongle-lost",
                    "Acknowledged by Petrov (@petrov, id 502) at 21.11.2026 01:25",
                )
                .await;
        }
        world.quiet_down().await;
        assert!(world.fake.bot_messages(OFFICE).is_empty());

        world.tick_at("2026-11-21T07:29:00+03:00").await;
        assert!(world.digests(OFFICE).is_empty(), "the digest came early");
        world.tick_at("2026-11-21T07:30:00+03:00").await;
        let digests = world.digests(OFFICE);
        assert_eq!(digests.len(), 1, "{:#?}", world.fake.bot_messages(OFFICE));
        let digest = &digests[0].text;
        for expected in [
            "Acknowledged:",
            "License dongle lost",
            "acknowledged by Petrov",
            "01:25",
        ] {
            assert!(digest.contains(expected), "{expected:?} not in {digest}");
        }
        assert!(!digests[0].silent, "the digest rings once");
        let own = world.living(OFFICE, "dongle-lost").await;
        assert!(
            own.id > digests[0].id,
            "the alert's message follows its digest"
        );
        assert!(own.silent);
        assert!(own.text.contains("Acknowledged by Petrov"), "{}", own.text);

        let body = world.service.alert(id).await;
        let timeline = &body["timeline"];
        eprintln!("story 2 timeline ({}): {timeline:#}", db.name);
        let kinds = kinds(timeline);
        for expected in [
            "fired",
            "held",
            "notified",
            "escalated",
            "acknowledged",
            "digested",
        ] {
            assert!(kinds.contains(&expected), "{expected} not in {kinds:?}");
        }
        let escalated = timeline
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "escalated")
            .unwrap();
        assert_eq!(escalated["at"], at("2026-11-21T01:22:00+03:00"));
    }
}

/// Story 2, second night: the client's sysadmin (who agreed to be contacted, and gets
/// critical alerts silently at night) fixes the key at 02:10 before anyone acknowledged.
/// The on-call and escalation messages resolve with a reply; the morning digest lists the
/// alert once, as fired and resolved overnight, and no living message follows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn story_2_fixed_overnight_is_in_the_digest_as_resolved() {
    let world = start_at("2026-11-20T23:50:00+03:00", "", None).await;
    world.contact("kozlov", &kozlov()).await;
    let token = vector_nights(
        &world,
        json!({
            "sysadmin": "kozlov", "sysadmin_consent": true,
            "night": {
                "critical": { "manager": "hold", "oncall": "wake", "sysadmin": "silent" },
                "warning": { "manager": "hold" },
            },
        }),
    )
    .await;
    world.clock.set(at("2026-11-21T01:07:00+03:00"));
    world
        .post(&token, vector("2026-11-21T01:07:00+03:00", "lost"))
        .await;
    let woken = world.living(sidorov().id, "dongle-lost").await;
    assert!(!woken.silent);
    let told = world.living(kozlov().id, "dongle-lost").await;
    assert!(told.silent, "the sysadmin is told without sound");
    world.tick_at("2026-11-21T01:22:00+03:00").await;
    world.living(petrov().id, "dongle-lost").await;

    world.clock.set(at("2026-11-21T02:10:00+03:00"));
    world
        .post(&token, vector("2026-11-21T02:10:00+03:00", "present"))
        .await;
    for chat in [sidorov().id, petrov().id, kozlov().id] {
        world.shows(chat, "dongle-lost", "RESOLVED").await;
        let living = world.living(chat, "dongle-lost").await;
        assert!(
            world
                .fake
                .bot_messages(chat)
                .iter()
                .any(|m| m.reply_to == Some(living.id) && m.text.contains("Resolved after 1h 3m")),
            "no resolved reply in chat {chat}: {:#?}",
            world.fake.bot_messages(chat)
        );
    }
    assert!(world.fake.bot_messages(OFFICE).is_empty());

    world.tick_at("2026-11-21T07:30:00+03:00").await;
    let digests = world.digests(OFFICE);
    assert_eq!(digests.len(), 1);
    let digest = &digests[0].text;
    assert!(digest.contains("Fired and resolved:"), "{digest}");
    assert!(
        digest.contains("21.11.2026 01:07 – 21.11.2026 02:10"),
        "{digest}"
    );
    assert!(digest.contains("escalated to petrov"), "{digest}");
    assert_eq!(digest.matches("License dongle lost").count(), 1, "{digest}");
    assert_eq!(
        world.fake.bot_messages(OFFICE).len(),
        1,
        "a resolved alert gets no message of its own after the digest"
    );
}

/// An override changes who is woken; the API and `/oncall` say who is on call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_override_changes_who_is_woken() {
    let world = start_at("2026-11-20T23:50:00+03:00", "", None).await;
    let token = vector_nights(&world, json!({})).await;
    let (status, body) = world
        .service
        .admin_request(
            "POST",
            "/api/v1/oncall/night-duty/overrides",
            Some(json!({
                "contact": "petrov",
                "from": "2026-11-21T00:00:00+03:00",
                "to": "2026-11-21T06:00:00+03:00",
            })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    world.clock.set(at("2026-11-21T01:07:00+03:00"));
    let (_, now) = world
        .service
        .admin_request("GET", "/api/v1/oncall/night-duty/now", None)
        .await;
    assert_eq!(now["now"]["contact"], "petrov", "{now}");
    assert_eq!(now["now"]["covering"], true);
    assert_eq!(now["next"]["contact"], "sidorov");
    world
        .fake
        .say(OFFICE, &User::new(600, "Ivan", None), "/oncall");
    assert!(
        world
            .fake
            .wait_for(WAIT, |f| f.bot_messages(OFFICE).iter().any(|m| m
                .text
                .contains("night-duty: petrov (covering) until 21.11.2026 06:00")))
            .await,
        "{:#?}",
        world.fake.bot_messages(OFFICE)
    );

    world
        .post(&token, vector("2026-11-21T01:07:00+03:00", "lost"))
        .await;
    let woken = world.living(petrov().id, "dongle-lost").await;
    assert!(!woken.silent);
    assert!(
        world
            .fake
            .bot_messages(sidorov().id)
            .iter()
            .all(|m| !m.text.contains("dongle")),
        "the rotation's contact was woken despite the override"
    );
}

/// An acknowledgement runs out while the alert still fires: it fires again, the living
/// message says so and a reply rings the chat, and it re-enters escalation. The manager's
/// chat is a forum here, and the policy names its topic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_acknowledgement_notifies_again() {
    let world = start_at("2026-11-20T12:00:00+03:00", "", None).await;
    world.fake.add_forum(OFFICE, "Office", &[7]);
    world.contact("petrov", &petrov()).await;
    world
        .put(
            "/api/v1/escalation-policies/critical",
            json!({ "steps": [{ "after": "30m", "to": [{ "contact": "petrov" }] }] }),
        )
        .await;
    world
        .put(
            &format!("/api/v1/clients/{VECTOR}/policy"),
            json!({ "ack_expires_after": "1h", "escalation": "critical", "manager_thread_id": 7 }),
        )
        .await;
    let token = world
        .installation("vector-main", VECTOR, MOSCOW, OFFICE)
        .await;
    world
        .post(&token, vector("2026-11-20T12:00:00+03:00", "lost"))
        .await;
    let message = world.living(OFFICE, "dongle-lost").await;
    assert!(!message.silent);
    assert_eq!(message.thread_id, Some(7), "not in the policy's topic");
    let id = world.only_alert("dongle-lost").await["id"]
        .as_i64()
        .unwrap();

    world.clock.set(at("2026-11-20T12:05:00+03:00"));
    let (status, body) = world
        .service
        .admin_request(
            "POST",
            &format!("/api/v1/alerts/{id}/ack"),
            Some(json!({ "by": "Ivanov" })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["alert"]["ack_expires_at"],
        at("2026-11-20T13:05:00+03:00")
    );
    world
        .shows(OFFICE, "dongle-lost", "until 20.11.2026 13:05")
        .await;
    // Acknowledged: the escalation due at 12:30 does not happen.
    world.tick_at("2026-11-20T12:40:00+03:00").await;
    assert_eq!(
        world.fake.bot_messages(petrov().id).len(),
        1,
        "escalated though acknowledged"
    );

    world.tick_at("2026-11-20T13:06:00+03:00").await;
    world
        .shows(OFFICE, "dongle-lost", "nobody has taken it yet")
        .await;
    assert!(
        world
            .fake
            .bot_messages(OFFICE)
            .iter()
            .any(|m| m.reply_to == Some(message.id)
                && m.text.contains("Still firing")
                && !m.silent),
        "{:#?}",
        world.fake.bot_messages(OFFICE)
    );
    let alert = world.service.alert(id).await;
    assert_eq!(alert["alert"]["state"], "firing");
    assert!(kinds(&alert["timeline"]).contains(&"ack-expired"));
    // Back in escalation: 30 minutes later Petrov is brought in.
    world.tick_at("2026-11-20T13:36:00+03:00").await;
    world.living(petrov().id, "dongle-lost").await;
}

/// Story 5: an upsell signal found at 23:00 goes to the sales contact the next working
/// morning, never at night, and never to the support chat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn story_5_the_upsell_signal_waits_for_the_morning() {
    let world = start_at("2026-03-02T11:00:00+03:00", "", None).await;
    world.contact("olga", &olga()).await;
    world
        .put(
            &format!("/api/v1/clients/{VECTOR}/policy"),
            json!({ "quiet_hours": [{ "from": "22:00", "to": "07:30" }], "sales": "olga" }),
        )
        .await;
    let token = world
        .installation("vector-main", VECTOR, MOSCOW, OFFICE)
        .await;
    for (time, in_use) in [
        ("2026-03-02T11:00:00+03:00", 25),
        ("2026-03-03T11:00:00+03:00", 12),
        ("2026-03-10T11:00:00+03:00", 25),
        ("2026-03-11T11:00:00+03:00", 12),
    ] {
        world.clock.set(at(time));
        world
            .post(
                &token,
                report("vector-main", VECTOR, time, "present", in_use),
            )
            .await;
    }
    // By day the seat limit reached sales at once.
    world.living(olga().id, "limit-exhaustion").await;
    let before = world.fake.bot_messages(olga().id).len();

    let night = "2026-03-20T23:00:00+03:00";
    world.clock.set(at(night));
    world
        .post(&token, report("vector-main", VECTOR, night, "present", 25))
        .await;
    let upsell = world.only_alert_key("upsell").await;
    assert_eq!(upsell["audience"], "sales");
    assert_eq!(
        world.fake.bot_messages(olga().id).len(),
        before,
        "sales heard at night"
    );
    world.tick_at("2026-03-21T03:00:00+03:00").await;
    assert_eq!(world.fake.bot_messages(olga().id).len(), before);

    world.tick_at("2026-03-21T07:30:00+03:00").await;
    let digests = world.digests(olga().id);
    assert_eq!(digests.len(), 1);
    assert!(
        digests[0].text.contains("offer more seats"),
        "{}",
        digests[0].text
    );
    assert!(
        world.fake.bot_messages(OFFICE).is_empty(),
        "sales signals reached support"
    );
}

impl World {
    async fn only_alert_key(&self, key: &str) -> Value {
        let alerts = self
            .service
            .alerts("plugin=limit-exhaustion&state=open")
            .await;
        alerts
            .into_iter()
            .find(|a| a["key"] == key)
            .unwrap_or_else(|| panic!("no open {key} alert"))
    }
}

/// Story 7: 15 August, a holiday for an Italian client in Rome, a Saturday too. At 06:10
/// the server has been silent long enough to be offline: the on-call technician of the
/// week's rotation is woken; "online" follows as an edit and a reply of that message. The
/// office chat stays quiet until the digest on the next working morning, Monday 08:30.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn story_7_the_holiday_dawn_reaches_the_rotation_not_the_office() {
    const ROME_OFFICE: i64 = -1002000;
    let bianchi = User::new(701, "Bianchi", None);
    let world = start_at(
        "2026-08-15T05:30:00+02:00",
        "[plugins.reports-stopped]\nwarning-after = \"20m\"\ncritical-after = \"35m\"\n",
        None,
    )
    .await;
    world.fake.add_chat(ROME_OFFICE, "Ufficio");
    world
        .put("/api/v1/contacts/rossi", json!({ "telegram_user_id": 703 }))
        .await;
    world.contact("bianchi", &bianchi).await;
    world
        .put("/api/v1/contacts/verdi", json!({ "telegram_user_id": 702 }))
        .await;
    world
        .put(
            "/api/v1/oncall/msp",
            json!({
                "contacts": ["rossi", "bianchi", "verdi"], "rotation": "weekly",
                "handoff": "09:00", "timezone": "Europe/Rome", "start": "2026-08-03",
            }),
        )
        .await;
    world
        .put(
            "/api/v1/clients/Studio Rossi/policy",
            json!({
                "quiet_hours": [
                    { "days": ["sun", "mon", "tue", "wed", "thu", "fri"], "from": "19:00", "to": "08:30" },
                    { "days": ["sat", "sun"], "from": "00:00", "to": "00:00" },
                ],
                "holiday_calendars": ["it"],
                "oncall": "msp",
            }),
        )
        .await;
    let token = world
        .installation("rossi-server", "Studio Rossi", "Europe/Rome", ROME_OFFICE)
        .await;
    let xml = |time: &str| report("rossi-server", "Studio Rossi", time, "present", 5);
    world.post(&token, xml("2026-08-15T05:30:00+02:00")).await;

    world.tick_at("2026-08-15T06:00:00+02:00").await;
    world.tick_at("2026-08-15T06:10:00+02:00").await;
    let offline = world.living(bianchi.id, "reports-stopped").await;
    assert!(!offline.silent, "on-call is woken");
    assert!(offline.text.contains("CRITICAL"), "{}", offline.text);

    world.clock.set(at("2026-08-15T06:40:00+02:00"));
    world.post(&token, xml("2026-08-15T06:40:00+02:00")).await;
    // Silence is judged at ticks: the next one sees the report.
    world.tick_at("2026-08-15T06:41:00+02:00").await;
    world.shows(bianchi.id, "reports-stopped", "RESOLVED").await;
    assert!(
        world
            .fake
            .bot_messages(bianchi.id)
            .iter()
            .any(|m| m.reply_to == Some(offline.id) && m.text.contains("Resolved after")),
        "{:#?}",
        world.fake.bot_messages(bianchi.id)
    );
    assert!(world.fake.bot_messages(ROME_OFFICE).is_empty());

    world.tick_at("2026-08-16T12:00:00+02:00").await;
    world.tick_at("2026-08-17T08:29:00+02:00").await;
    assert!(
        world.fake.bot_messages(ROME_OFFICE).is_empty(),
        "the office heard before Monday 08:30"
    );
    world.tick_at("2026-08-17T08:30:00+02:00").await;
    let digests = world.digests(ROME_OFFICE);
    assert_eq!(digests.len(), 1);
    assert!(
        digests[0].text.contains("Fired and resolved:"),
        "{}",
        digests[0].text
    );
    assert!(
        digests[0]
            .text
            .contains("15.08.2026 06:00 – 15.08.2026 06:41"),
        "{}",
        digests[0].text
    );
}

/// The last Sunday of March in Rome: clocks jump from 02:00 to 03:00. A night alert held
/// for 07:30 is in exactly one digest, at 07:30 on the new clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dst_night_neither_skips_nor_doubles_the_digest() {
    let world = start_at("2026-03-28T21:00:00+01:00", "", None).await;
    world
        .put(
            "/api/v1/clients/Studio Rossi/policy",
            json!({ "quiet_hours": [{ "from": "22:00", "to": "07:30" }] }),
        )
        .await;
    let token = world
        .installation("rossi-server", "Studio Rossi", "Europe/Rome", OFFICE)
        .await;
    let xml = |time: &str, dongle: &str| report("rossi-server", "Studio Rossi", time, dongle, 5);
    world
        .post(&token, xml("2026-03-28T21:00:00+01:00", "present"))
        .await;
    world.clock.set(at("2026-03-29T01:30:00+01:00"));
    world
        .post(&token, xml("2026-03-29T01:30:00+01:00", "lost"))
        .await;
    for time in [
        "2026-03-29T03:30:00+02:00",
        "2026-03-29T06:30:00+02:00",
        "2026-03-29T07:29:00+02:00",
    ] {
        world.tick_at(time).await;
        assert!(
            world.fake.bot_messages(OFFICE).is_empty(),
            "a message at {time}"
        );
    }
    world.tick_at("2026-03-29T07:30:00+02:00").await;
    world.tick_at("2026-03-29T07:45:00+02:00").await;
    world.tick_at("2026-03-29T12:00:00+02:00").await;
    assert_eq!(world.digests(OFFICE).len(), 1);
    world.living(OFFICE, "dongle-lost").await;
}

/// Every invalid entry is a 400 naming the field, and nothing of it is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_directory_entries_are_refused_naming_the_field() {
    let world = start_at("2026-11-20T12:00:00+03:00", "", None).await;
    world
        .put(
            "/api/v1/contacts/petrov",
            json!({ "telegram_user_id": 502 }),
        )
        .await;
    for (path, body, field) in [
        (
            "/api/v1/clients/X/policy",
            json!({ "timezone": "Mars/Olympus" }),
            "timezone: `Mars/Olympus`",
        ),
        (
            "/api/v1/clients/X/policy",
            json!({ "quiet_hours": [
                { "from": "22:00", "to": "07:30" }, { "from": "06:00", "to": "09:00" },
            ] }),
            "quiet_hours[1]: overlaps quiet_hours[0]",
        ),
        (
            "/api/v1/clients/X/policy",
            json!({ "quiet_hours": [{ "from": "08:00", "to": "08:00" }] }),
            "never be awake",
        ),
        (
            "/api/v1/clients/X/policy",
            json!({ "oncall": "nobody" }),
            "oncall: no on-call schedule",
        ),
        (
            "/api/v1/clients/X/policy",
            json!({ "sysadmin": "petrov" }),
            "sysadmin_consent",
        ),
        (
            "/api/v1/escalation-policies/e",
            json!({ "steps": [{ "after": "15m", "to": [] }] }),
            "steps[0].to: a step needs at least one target",
        ),
        (
            "/api/v1/escalation-policies/e",
            json!({ "steps": [{ "after": "soon", "to": [{ "contact": "petrov" }] }] }),
            "steps[0].after",
        ),
        (
            "/api/v1/oncall/o",
            json!({ "contacts": [], "rotation": "daily", "handoff": "09:00", "timezone": MOSCOW, "start": "2026-11-01" }),
            "contacts: a rotation needs at least one contact",
        ),
        (
            "/api/v1/oncall/o",
            json!({ "contacts": ["ghost"], "rotation": "daily", "handoff": "09:00", "timezone": MOSCOW, "start": "2026-11-01" }),
            "contacts[0]: no contact `ghost`",
        ),
        (
            "/api/v1/oncall/o",
            json!({ "contacts": ["petrov"], "rotation": "hourly", "handoff": "09:00", "timezone": MOSCOW, "start": "2026-11-01" }),
            "rotation",
        ),
        (
            "/api/v1/contacts/c",
            json!({ "telegram_user_id": -5 }),
            "telegram_user_id",
        ),
        (
            "/api/v1/contacts/c",
            json!({ "telegram_user_id": 5, "thread_id": 3 }),
            "thread_id",
        ),
        (
            "/api/v1/contacts/c",
            json!({ "telegram_user_id": 5, "name": "Petr\u{202E}" }),
            "U+202E",
        ),
    ] {
        let (status, answer) = world
            .service
            .admin_request("PUT", path, Some(body.clone()))
            .await;
        assert_eq!(status, 400, "{path} {body}: {answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(
            error.contains(field),
            "{path} {body}: {error:?} does not name {field:?}"
        );
        let (status, _) = world.service.admin_request("GET", path, None).await;
        assert_eq!(status, 404, "{path} was half-stored");
    }
    // In use: a contact named by a schedule cannot go.
    world
        .put(
            "/api/v1/oncall/o",
            json!({ "contacts": ["petrov"], "rotation": "daily", "handoff": "09:00", "timezone": MOSCOW, "start": "2026-11-01" }),
        )
        .await;
    let (status, answer) = world
        .service
        .admin_request("DELETE", "/api/v1/contacts/petrov", None)
        .await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("on-call schedule `o`")
    );
    // And nobody without the admin token sees any of it.
    for path in [
        "/api/v1/contacts",
        "/api/v1/oncall/o",
        "/api/v1/oncall/o/now",
        "/api/v1/escalation-policies",
    ] {
        let status = world
            .service
            .client
            .get(world.service.url(path))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401, "{path}");
    }
}

/// A notice held for the morning is in the outbox with its due time: the host killed with
/// SIGKILL and started again still sends the digest when quiet hours end.
#[tokio::test]
async fn a_held_notice_survives_a_kill() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    fake.add_chat(OFFICE, "Office");
    let data = tempfile::tempdir().unwrap();
    let program = env!("CARGO_BIN_EXE_reveille-under-test");
    let host = Process::spawn(program, data.path(), &fake.api_url()).await;
    // Quiet from an hour ago until 25 seconds from now, on UTC.
    let now = jiff::Timestamp::now();
    let clock = |t: jiff::Timestamp| {
        t.to_zoned(jiff::tz::TimeZone::UTC)
            .strftime("%H:%M:%S")
            .to_string()
    };
    let until = now + jiff::SignedDuration::from_secs(25);
    let (status, body) = host
        .admin_request(
            "PUT",
            &format!("/api/v1/clients/{VECTOR}/policy"),
            Some(json!({
                "timezone": "UTC",
                "quiet_hours": [{ "from": clock(now - jiff::SignedDuration::from_secs(3600)), "to": clock(until) }],
            })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let token = host
        .installation_in_chat("vector-main", VECTOR, OFFICE)
        .await;
    let sent = host
        .post_report(&token, vector(&now.to_string(), "lost"))
        .await;
    assert_eq!(sent.status(), 202);
    let mut held = Value::Null;
    for _ in 0..100 {
        if let Some(alert) = host.alerts("plugin=dongle-lost").await.into_iter().next() {
            held = alert["destinations"][0]["held_until"].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(held.is_i64(), "the alert was not held: {held}");
    host.kill();

    let host = Process::spawn(program, data.path(), &fake.api_url()).await;
    assert!(
        fake.bot_messages(OFFICE).is_empty(),
        "sent during quiet hours"
    );
    assert!(
        fake.wait_for(Duration::from_secs(90), |f| !f
            .bot_messages(OFFICE)
            .iter()
            .filter(|m| m.text.contains("While you were away"))
            .collect::<Vec<_>>()
            .is_empty())
            .await,
        "the digest never came after the restart: {:#?}",
        fake.bot_messages(OFFICE)
    );
    let id = host.alerts("plugin=dongle-lost").await[0]["id"]
        .as_i64()
        .unwrap();
    assert!(kinds(&host.alert(id).await["timeline"]).contains(&"digested"));
}

/// Everything the API sets up can live in the configuration file instead, stored at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configuration_file_declares_people_and_policies() {
    let config = r#"
[contacts.sidorov]
telegram_user_id = 501

[oncall.night-duty]
contacts = ["sidorov"]
rotation = "weekly"
handoff = "09:00"
timezone = "Europe/Moscow"
start = "2026-11-02"

[escalation.critical]
steps = [{ after = "15m", to = [{ oncall = "night-duty" }] }]

[clients."ООО «Вектор»"]
quiet_hours = [{ from = "22:00", to = "07:30" }]
holiday_calendars = ["ru"]
oncall = "night-duty"
escalation = "critical"
"#;
    let world = start_at("2026-11-21T01:00:00+03:00", config, None).await;
    let (status, policy) = world
        .service
        .admin_request("GET", &format!("/api/v1/clients/{VECTOR}/policy"), None)
        .await;
    assert_eq!(status, 200, "{policy}");
    assert_eq!(policy["spec"]["oncall"], "night-duty");
    let (_, now) = world
        .service
        .admin_request("GET", "/api/v1/oncall/night-duty/now", None)
        .await;
    assert_eq!(now["now"]["contact"], "sidorov", "{now}");
    let (_, contacts) = world
        .service
        .admin_request("GET", "/api/v1/contacts", None)
        .await;
    assert_eq!(contacts["items"][0]["reachable"], false, "{contacts}");
}

/// A status report from vector-main at `time` with the service in `state`.
fn service(time: &str, state: &str) -> Vec<u8> {
    reveille_tests::report_xml(
        "status-agent",
        time,
        &format!(r#"<service state="{state}"/>"#),
    )
    .into_bytes()
}

/// A maintenance window: a problem that begins inside it sends nothing at all (neither
/// the problem nor its resolution); one announced before it resolves as usual; one still
/// firing when the window ends is announced then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_maintenance_window_keeps_new_problems_quiet() {
    let world = start_at("2026-11-20T10:00:00+03:00", "", None).await;
    let token = world
        .installation("vector-main", VECTOR, MOSCOW, OFFICE)
        .await;
    world
        .post(&token, vector("2026-11-20T10:00:00+03:00", "lost"))
        .await;
    let announced = world.living(OFFICE, "dongle-lost").await;

    let (status, body) = world
        .service
        .admin_request(
            "PUT",
            "/api/v1/maintenance/upgrade",
            Some(
                json!({ "scope": {}, "author": "Ivanov", "reason": "shell upgrade",
                         "from": "2026-11-20T10:30:00+03:00", "to": "2026-11-20T12:00:00+03:00" }),
            ),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().starts_with("scope:"),
        "{body}"
    );
    world
        .put(
            "/api/v1/maintenance/upgrade",
            json!({
                "scope": { "installation": "vector-main" },
                "from": "2026-11-20T10:30:00+03:00", "to": "2026-11-20T12:00:00+03:00",
                "author": "Ivanov", "reason": "shell upgrade",
            }),
        )
        .await;

    // 10:45, inside the window: the key is back (announced before: resolved as usual) and
    // the service is stopped for the upgrade (begins inside: recorded, not sent).
    world.clock.set(at("2026-11-20T10:45:00+03:00"));
    world
        .post(&token, vector("2026-11-20T10:45:00+03:00", "present"))
        .await;
    world.shows(OFFICE, "dongle-lost", "RESOLVED").await;
    world
        .post(&token, service("2026-11-20T10:46:00+03:00", "stopped"))
        .await;
    let down = world.service.alerts("plugin=service-down").await;
    assert_eq!(down.len(), 1, "{down:#?}");
    let first = down[0]["id"].as_i64().unwrap();
    assert!(kinds(&world.service.alert(first).await["timeline"]).contains(&"silenced"));
    world.clock.set(at("2026-11-20T11:00:00+03:00"));
    world
        .post(&token, service("2026-11-20T11:00:00+03:00", "running"))
        .await;
    assert_eq!(
        world.service.alert(first).await["alert"]["state"],
        "resolved"
    );
    // Stopped again at 11:30, and still stopped when the window ends at 12:00.
    world.clock.set(at("2026-11-20T11:30:00+03:00"));
    world
        .post(&token, service("2026-11-20T11:30:00+03:00", "stopped"))
        .await;
    world.tick_at("2026-11-20T11:59:00+03:00").await;
    let before: Vec<String> = world
        .fake
        .bot_messages(OFFICE)
        .iter()
        .map(|m| m.text.clone())
        .collect();
    assert_eq!(
        before.len(),
        2,
        "only the key's message and its resolved reply: {before:#?}"
    );
    assert!(
        before.iter().all(|t| !t.contains("service-down")),
        "{before:#?}"
    );
    assert_eq!(announced.id, world.fake.bot_messages(OFFICE)[0].id);

    world.tick_at("2026-11-20T12:00:00+03:00").await;
    let message = world.living(OFFICE, "service-down").await;
    assert!(message.text.contains("Service stopped"), "{}", message.text);
    assert_eq!(world.fake.bot_messages(OFFICE).len(), 3);
    let second = world.service.alerts("plugin=service-down&state=open").await;
    let timeline = world.service.alert(second[0]["id"].as_i64().unwrap()).await;
    let kinds = kinds(&timeline["timeline"]);
    assert!(
        kinds.contains(&"silenced") && kinds.contains(&"announced"),
        "{kinds:?}"
    );
    let (_, list) = world
        .service
        .admin_request("GET", "/api/v1/maintenance", None)
        .await;
    assert_eq!(list["items"][0]["over"], true, "{list}");

    // From Telegram: an authorized member of the chat plans the next hour; others cannot.
    world.service.authorize(OFFICE, 600, "Ivan Ivanov").await;
    world.fake.say(
        OFFICE,
        &User::new(666, "Mallory", None),
        "/maintenance vector-main 1h x",
    );
    world.fake.say(
        OFFICE,
        &User::new(600, "Ivan", None),
        "/maintenance vector-main 1h restoring backups",
    );
    for expected in [
        "not allowed to plan maintenance",
        "Maintenance on vector-main until 20.11.2026 13:00",
    ] {
        assert!(
            world
                .fake
                .wait_for(WAIT, |f| f
                    .bot_messages(OFFICE)
                    .iter()
                    .any(|m| m.text.contains(expected)))
                .await,
            "{expected:?}: {:#?}",
            world.fake.bot_messages(OFFICE)
        );
    }
    let (_, list) = world
        .service
        .admin_request("GET", "/api/v1/maintenance", None)
        .await;
    let planned = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["spec"]["reason"] == "restoring backups")
        .expect("the Telegram window is listed");
    assert_eq!(planned["on_until"], at("2026-11-20T13:00:00+03:00"));
    assert!(
        planned["spec"]["author"]
            .as_str()
            .unwrap()
            .contains("id 600")
    );
}

/// Story 2 set up as an admin would, in the browser, through the forms only: two contacts
/// (one has not pressed Start yet, and the page says so), a rotation with an override
/// (the page says who is on call now and who is next), an escalation policy, and the
/// client's policy, first with mistakes (every one shown beside its field, nothing typed
/// lost, nothing stored), then right. The night then runs on what the forms stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn story_2_set_up_through_the_forms() {
    let world = start_at("2026-11-20T23:50:00+03:00", "", None).await;
    let base = world.service.base.clone();
    let browser = Browser::start().await;
    let setup = world
        .service
        .running()
        .setup_link
        .clone()
        .expect("a setup link on the first start");
    browser.first_admin(&setup).await;
    browser.wait_text("h1", |t| t.starts_with("Fleet")).await;

    let contacts = format!("{base}/admin/directory/contacts");
    for (name, user) in [("sidorov", sidorov()), ("petrov", petrov())] {
        browser.goto(&contacts).await;
        browser.fill("#entry-name", name).await;
        browser
            .fill("[name=telegram_user_id]", &user.id.to_string())
            .await;
        browser.click("#save-entry").await;
        browser.wait_text("#outcome", |t| t.contains(name)).await;
    }
    assert!(
        browser
            .text("#entries")
            .await
            .contains("has not pressed Start yet"),
        "{}",
        browser.text("#entries").await
    );
    for user in [sidorov(), petrov()] {
        world.fake.start_private(&user);
    }
    assert!(
        world
            .fake
            .wait_for(WAIT, |f| f.bot_messages(petrov().id).len() == 1)
            .await
    );
    browser.goto(&contacts).await;
    assert!(
        !browser.text("#entries").await.contains("not pressed Start"),
        "{}",
        browser.text("#entries").await
    );

    // Sidorov on call every night; Petrov covers Saturday's day shift.
    browser
        .goto(&format!("{base}/admin/directory/oncall"))
        .await;
    browser.fill("#entry-name", "night-duty").await;
    browser
        .choose("[name='members[0].contact']", "sidorov")
        .await;
    browser.choose("[name=rotation]", "daily").await;
    browser.set("[name=handoff]", "09:00").await;
    browser.fill("[name=timezone]", MOSCOW).await;
    browser.set("[name=start]", "2026-11-01").await;
    browser
        .choose("[name='overrides[0].contact']", "petrov")
        .await;
    browser
        .set("[name='overrides[0].from']", "2026-11-21T09:00")
        .await;
    browser
        .set("[name='overrides[0].to']", "2026-11-21T18:00")
        .await;
    browser.click("#save-entry").await;
    browser
        .wait_text("#outcome", |t| t.contains("night-duty"))
        .await;
    let rotation = browser.text("#entries").await;
    for expected in [
        "On call now: sidorov, until 2026-11-21 09:00 MSK",
        "Next: petrov, from 2026-11-21 09:00 MSK",
        "petrov covers 2026-11-21 09:00 MSK – 2026-11-21 18:00 MSK",
    ] {
        assert!(
            rotation.contains(expected),
            "{expected:?} not in {rotation}"
        );
    }
    browser.screenshot("directory-oncall").await;

    browser
        .goto(&format!("{base}/admin/directory/escalation"))
        .await;
    browser.fill("#entry-name", "critical").await;
    browser.fill("[name='steps[0].after']", "15m").await;
    browser
        .click("[name='steps[0].to'][value='contact:petrov']")
        .await;
    browser.click("#save-entry").await;
    browser
        .wait_text("#outcome", |t| t.contains("critical"))
        .await;
    assert!(browser.text("#entries").await.contains("after 15m: petrov"));

    // The client's policy, with three mistakes at once.
    let policies = format!("{base}/admin/directory/client-policies");
    browser.goto(&policies).await;
    browser.fill("#entry-name", VECTOR).await;
    browser.set("[name='quiet[0].from']", "22:00").await;
    browser.set("[name='quiet[0].to']", "07:30").await;
    browser.fill("[name=timezone]", "Moscow").await;
    browser.fill("[name=ack_expires_after]", "8 hours").await;
    browser.choose("[name=oncall]", "night-duty").await;
    browser.choose("[name=escalation]", "critical").await;
    browser.choose("[name=sysadmin]", "petrov").await;
    browser.click("#save-entry").await;
    let error = browser.wait_text("#error", |t| !t.is_empty()).await;
    assert!(error.contains("3 things need fixing"), "{error}");
    for (field, says) in [
        ("timezone", "“Moscow” is not a time zone"),
        ("ack_expires_after", "“8 hours” is not a length of time"),
        ("sysadmin_consent", "Tick this once the client agreed"),
    ] {
        let problem = browser
            .text(&format!("#f-{}-problem", field.replace('_', "-")))
            .await;
        assert!(problem.contains(says), "{field}: {problem}");
    }
    for (field, typed) in [
        ("[name=timezone]", "Moscow"),
        ("[name=ack_expires_after]", "8 hours"),
        ("[name='quiet[0].to']", "07:30"),
        ("[name=oncall]", "night-duty"),
        ("#entry-name", VECTOR),
    ] {
        let kept = browser.find(field).await.prop("value").await.unwrap();
        assert_eq!(kept.as_deref(), Some(typed), "{field} lost what was typed");
    }
    browser.screenshot("directory-policy-mistakes").await;
    let (status, _) = world
        .service
        .admin_request("GET", &format!("/api/v1/clients/{VECTOR}/policy"), None)
        .await;
    assert_eq!(status, 404, "a refused form stored something");
    browser.fill("[name=timezone]", MOSCOW).await;
    browser.fill("[name=ack_expires_after]", "8h").await;
    browser.choose("[name=sysadmin]", "").await;
    browser.choose("[name=language]", "ru").await;
    browser.click("#save-entry").await;
    browser.wait_text("#outcome", |t| t.contains(VECTOR)).await;
    let policy = browser.text("#entries").await;
    assert!(policy.contains("quiet every day 22:00–07:30"), "{policy}");

    // The night, on what the forms stored.
    let token = vector_main(&world).await;
    world.clock.set(at("2026-11-21T01:07:00+03:00"));
    world
        .post(&token, vector("2026-11-21T01:07:00+03:00", "lost"))
        .await;
    let woken = world.living(sidorov().id, "dongle-lost").await;
    assert!(!woken.silent, "on-call must be woken with sound");
    assert!(
        world.fake.bot_messages(OFFICE).is_empty(),
        "the manager's chat rang at night"
    );
    world.tick_at("2026-11-21T01:22:00+03:00").await;
    let backup = world.living(petrov().id, "dongle-lost").await;
    assert!(!backup.silent, "the escalation step wakes Petrov");
    world.tick_at("2026-11-21T07:30:00+03:00").await;
    let digests = world
        .fake
        .bot_messages(OFFICE)
        .into_iter()
        .filter(|m| m.text.contains("Пока вас не было"))
        .count();
    assert_eq!(digests, 1, "the morning digest, in Russian");

    // Every form keeps nobody out, at a desk or on a phone, and reads in Russian.
    let kinds = [
        "contacts",
        "client-policies",
        "oncall",
        "escalation",
        "maintenance",
    ];
    let pages: Vec<String> = kinds
        .iter()
        .map(|k| format!("/admin/directory/{k}"))
        .collect();
    let pages: Vec<&str> = pages.iter().map(String::as_str).collect();
    let found = crate::board::barriers(&browser, &base, &pages).await;
    assert!(found.is_empty(), "{found:#?}");
    crate::board::choose_language(&browser, "ru").await;
    browser
        .goto(&format!("{base}/admin/directory/oncall"))
        .await;
    let rotation = browser
        .wait_text("#entries", |t| t.contains("Дежурит сейчас"))
        .await;
    assert!(rotation.contains("Следующий: petrov"), "{rotation}");
    browser.screenshot("directory-oncall-ru").await;
    browser.resize(390, 844).await;
    browser.screenshot("directory-oncall-ru-phone").await;
    browser.goto(&policies).await;
    browser.screenshot("directory-policy-ru-phone").await;
    browser.close().await;
}

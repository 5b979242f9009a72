//! Fuzz targets, on stable Rust: bolero's random engine under `cargo test`, each target for
//! a bounded time ([`BUDGET`] in CI; `BOLERO_RANDOM_TEST_TIME_MS` sets another, such as ten
//! minutes a target outside CI). Inputs are built to get past the first check: reports are
//! real reports edited (bytes flipped, pieces of markup inserted, the declared encoding
//! changed), JSON bodies use the fields the API reads, updates look like Telegram's. A
//! crash is a failed test with the seed to replay it (`BOLERO_RANDOM_SEED`).
//!
//! - `reports`: any bytes, in any declared encoding, packed or not, through ingest;
//! - `stored_forms`: the codec's loader on stored documents edited and on any bytes;
//! - `admin_bodies`: the admin API's JSON bodies, over HTTP, never a 5xx;
//! - `telegram_updates`: updates of every kind, and the bot keeps answering.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bolero::generator::TypeGenerator;
use fake_telegram::{FakeTelegram, User};
use reveille::report::Document;
use reveille_tests::{Options, Service, TELEGRAM_TOKEN, report};
use serde_json::{Value, json};

/// How long each target runs in CI.
const BUDGET: Duration = Duration::from_secs(12);

/// Pieces of markup and text that reach the parser's corners.
const PIECES: &[&str] = &[
    "<",
    ">",
    "</",
    "/>",
    "&",
    "&amp;",
    "&#0;",
    "&#x110000;",
    "&#65;",
    "&bogus;",
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    "<?",
    "?>",
    "<!DOCTYPE r [<!ENTITY e \"x\">]>",
    "\"",
    "'",
    "=",
    "\u{0}",
    "\u{1}",
    "\u{FEFF}",
    "\u{202E}",
    "\r\n",
    "\t",
    "é",
    "Ж",
    "😀",
    "\u{FFFF}",
    "<a b=\"1\" b=\"2\"/>",
    "<report schema=\"2\">",
    "<installation id=\"other\">",
    "<protection state=\"lost\"/>",
    "xmlns:x=\"u\"",
    "x:y",
    "<a>",
    "</a>",
];

/// What a report's prolog may declare, and byte-order marks.
const ENCODINGS: &[&str] = &[
    "UTF-8",
    "utf-8",
    "UTF-16",
    "UTF-16LE",
    "UTF-16BE",
    "windows-1251",
    "cp1251",
    "KOI8-R",
    "ISO-8859-1",
    "ISO-8859-5",
    "x-user-defined",
    "Shift_JIS",
    "GB18030",
    "no-such-encoding",
    "",
    "\u{0}",
];
const BOMS: &[&[u8]] = &[
    b"",
    b"\xEF\xBB\xBF",
    b"\xFF\xFE",
    b"\xFE\xFF",
    b"\xFF\xFE\x00\x00",
];

/// One edit of an input.
#[derive(Debug, TypeGenerator)]
enum Edit {
    Flip { at: u32, bit: u8 },
    Insert { at: u32, piece: u8 },
    Remove { at: u32, len: u8 },
    Repeat { at: u32, len: u16, times: u8 },
    Truncate { at: u32 },
    Bytes { at: u32, bytes: Vec<u8> },
}

fn apply(bytes: &mut Vec<u8>, edits: &[Edit]) {
    for edit in edits {
        let at = |at: u32| at as usize % (bytes.len() + 1);
        match edit {
            Edit::Flip { at: i, bit } if !bytes.is_empty() => {
                let i = *i as usize % bytes.len();
                bytes[i] ^= 1 << (bit % 8);
            }
            Edit::Flip { .. } => {}
            Edit::Insert { at: i, piece } => {
                let i = at(*i);
                let piece = PIECES[*piece as usize % PIECES.len()].as_bytes();
                bytes.splice(i..i, piece.iter().copied());
            }
            Edit::Remove { at: i, len } => {
                let i = at(*i);
                let end = (i + *len as usize).min(bytes.len());
                bytes.drain(i..end);
            }
            Edit::Repeat { at: i, len, times } => {
                let i = at(*i);
                let end = (i + *len as usize).min(bytes.len());
                let piece = bytes[i..end].to_vec();
                for _ in 0..(*times % 16) {
                    bytes.splice(end..end, piece.iter().copied());
                }
            }
            Edit::Truncate { at: i } => bytes.truncate(at(*i)),
            Edit::Bytes { at: i, bytes: more } => {
                let i = at(*i);
                bytes.splice(i..i, more.iter().copied());
            }
        }
    }
}

/// A report for the `report` target.
#[derive(Debug, TypeGenerator)]
enum ReportInput {
    /// A real report, edited, with its prolog declaring another encoding.
    Edited {
        seed: u8,
        encoding: Option<u8>,
        bom: u8,
        gzip: bool,
        edits: Vec<Edit>,
    },
    /// Any bytes behind a prolog declaring `encoding`.
    Raw {
        encoding: u8,
        bom: u8,
        bytes: Vec<u8>,
    },
}

fn seeds() -> Vec<Vec<u8>> {
    ["lost-key-evening.xml", "key-restored.xml"]
        .into_iter()
        .map(report)
        .collect()
}

fn prolog(encoding: u8) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"{}\"?>",
        ENCODINGS[encoding as usize % ENCODINGS.len()]
    )
}

fn gzipped(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Runs `check` for the budget over inputs of type `T`, and says how many ran.
fn run<T, F>(target: &str, check: F)
where
    T: TypeGenerator + std::fmt::Debug,
    F: Fn(&T),
{
    let executions = AtomicU64::new(0);
    // A failing input fails the test; nothing of the service is used after a panic.
    let check = std::panic::AssertUnwindSafe(check);
    bolero::check!()
        .with_type::<T>()
        .with_test_time(BUDGET)
        .for_each(|input| {
            let check = &check;
            (check.0)(input);
            executions.fetch_add(1, Ordering::Relaxed);
        });
    let executions = executions.into_inner();
    println!("fuzz {target}: {executions} executions, 0 crashes");
    assert!(executions > 0, "{target}: nothing ran");
}

#[test]
fn reports() {
    let seeds = seeds();
    const LIMIT: usize = 4 << 20;
    run::<ReportInput, _>("reports", |input| {
        let (body, packed) = match input {
            ReportInput::Edited {
                seed,
                encoding,
                bom,
                gzip,
                edits,
            } => {
                let mut bytes = seeds[*seed as usize % seeds.len()].clone();
                if let Some(encoding) = encoding {
                    let text = String::from_utf8_lossy(&bytes).to_string();
                    let body = text.split_once("?>").map_or(text.as_str(), |(_, b)| b);
                    bytes = format!("{}{body}", prolog(*encoding)).into_bytes();
                }
                apply(&mut bytes, edits);
                let mut with_bom = BOMS[*bom as usize % BOMS.len()].to_vec();
                with_bom.extend(bytes);
                (with_bom, *gzip)
            }
            ReportInput::Raw {
                encoding,
                bom,
                bytes,
            } => {
                let mut body = BOMS[*bom as usize % BOMS.len()].to_vec();
                body.extend(prolog(*encoding).into_bytes());
                body.extend(bytes);
                (body, false)
            }
        };
        let (sent, encoding) = if packed {
            (gzipped(&body), Some("gzip"))
        } else {
            (body, None)
        };
        match reveille::ingest::accept("vector-main", &sent, encoding, LIMIT) {
            Ok(accepted) => {
                // What is stored is what was parsed.
                let loaded = Document::from_stored(&accepted.encoded).expect("a stored form loads");
                assert_eq!(loaded.to_bytes(), accepted.document.to_bytes());
            }
            Err(refusal) => assert!(!refusal.to_string().trim().is_empty()),
        }
    });
}

/// A stored document for the `stored_form` target.
#[derive(Debug, TypeGenerator)]
enum StoredInput {
    /// A real report's arena, edited.
    Edited { seed: u8, edits: Vec<Edit> },
    /// Any bytes, as the compressed stored form or as the arena itself.
    Raw { compressed: bool, bytes: Vec<u8> },
}

/// Everything a plugin's queries can do to a document.
fn read_all(document: &Document) {
    for path in [
        "*",
        "*/*",
        "*/*/*",
        "protection",
        "bases/base",
        "@agent",
        "installation/@id",
    ] {
        for element in document.select(path) {
            let _ = (element.name(), element.text(), element.attributes().count());
        }
        let _ = document.value(path);
    }
    for id in 0..document.len() as u32 {
        if let Some(element) = document.element(id) {
            let _ = (element.name(), element.text(), element.attr("state"));
        }
    }
}

#[test]
fn stored_forms() {
    let arenas: Vec<Vec<u8>> = seeds()
        .iter()
        .map(|xml| reveille::report::parse(xml).unwrap().to_bytes())
        .collect();
    run::<StoredInput, _>("stored_forms", |input| {
        let loaded = match input {
            StoredInput::Edited { seed, edits } => {
                let mut bytes = arenas[*seed as usize % arenas.len()].clone();
                apply(&mut bytes, edits);
                Document::from_bytes(&bytes)
            }
            StoredInput::Raw {
                compressed: true,
                bytes,
            } => Document::from_stored(bytes),
            StoredInput::Raw { bytes, .. } => Document::from_bytes(bytes),
        };
        if let Ok(document) = loaded {
            read_all(&document);
        }
    });
}

/// A JSON value of bounded depth, from the words the API reads.
#[derive(Debug, TypeGenerator)]
enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Small(u8),
    Float(f64),
    Word(u8),
    Text(String),
}

#[derive(Debug, TypeGenerator)]
enum Json {
    Scalar(Scalar),
    List(Vec<Scalar>),
    Object(Vec<(u8, Scalar)>),
    Nested(Vec<(u8, Vec<(u8, Scalar)>)>),
}

/// Field names and values the admin API's documents use.
const WORDS: &[&str] = &[
    "id",
    "client",
    "manager",
    "timezone",
    "telegram_chat_id",
    "url",
    "ip",
    "parent",
    "tags",
    "name",
    "by",
    "for",
    "text",
    "cause",
    "actions",
    "prevention",
    "telegram_user_id",
    "roles",
    "chat",
    "thread",
    "quiet_hours",
    "holidays",
    "calendar",
    "wake",
    "hold",
    "escalation",
    "steps",
    "after",
    "notify",
    "rotation",
    "members",
    "start",
    "every",
    "overrides",
    "from",
    "until",
    "who",
    "installations",
    "clients",
    "reason",
    "threshold",
    "minimum",
    "count",
    "window",
    "Europe/Moscow",
    "UTC",
    "Mars/Olympus",
    "1h",
    "2d",
    "0s",
    "-1h",
    "22:00",
    "08:00",
    "25:61",
    "mon",
    "ru",
    "it",
    "en",
    "manager",
    "sysadmin",
    "sales",
    "on-call",
    "vector-main",
    "ООО «Вектор»",
    "2026-11-20T01:07:00+03:00",
    "not a time",
    "http://vector.example/",
    "192.0.2.10",
    "::1",
    "6.4.3.59",
    "\u{0}",
    "\u{202E}",
    "",
];

fn word(index: u8) -> &'static str {
    WORDS[index as usize % WORDS.len()]
}

fn scalar(value: &Scalar) -> Value {
    match value {
        Scalar::Null => Value::Null,
        Scalar::Bool(b) => json!(b),
        Scalar::Int(n) => json!(n),
        Scalar::Small(n) => json!(n),
        Scalar::Float(f) => json!(f),
        Scalar::Word(w) => json!(word(*w)),
        Scalar::Text(t) => json!(t),
    }
}

fn object(fields: &[(u8, Scalar)]) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|(k, v)| (word(*k).to_string(), scalar(v)))
            .collect(),
    )
}

fn to_json(value: &Json) -> Value {
    match value {
        Json::Scalar(s) => scalar(s),
        Json::List(items) => Value::Array(items.iter().map(scalar).collect()),
        Json::Object(fields) => object(fields),
        Json::Nested(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, inner)| (word(*k).to_string(), object(inner)))
                .collect(),
        ),
    }
}

/// Every admin route that reads a JSON body.
const BODIES: &[(&str, &str)] = &[
    ("POST", "/api/v1/installations"),
    ("PATCH", "/api/v1/installations/vector-main"),
    ("PUT", "/api/v1/clients/Vector/settings/stale-updates"),
    ("PUT", "/api/v1/clients/Vector/policy"),
    ("PUT", "/api/v1/contacts/petrov"),
    ("PUT", "/api/v1/oncall/night"),
    ("POST", "/api/v1/oncall/night/overrides"),
    ("PUT", "/api/v1/escalation-policies/night"),
    ("PUT", "/api/v1/maintenance/night"),
    ("PUT", "/api/v1/chats/-100/members/42"),
    ("POST", "/api/v1/alerts/1/ack"),
    ("POST", "/api/v1/alerts/1/snooze"),
    ("PUT", "/api/v1/alerts/1/postmortem"),
    ("POST", "/api/v1/incidents/1/updates"),
];

#[derive(Debug, TypeGenerator)]
struct AdminInput {
    route: u8,
    body: Json,
    /// Sometimes not JSON at all.
    mangle: Option<Vec<Edit>>,
}

/// A runtime for the targets that drive the service over the network.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn admin_bodies() {
    let rt = runtime();
    let service = rt.block_on(async {
        let service = Service::start(Options::default()).await;
        let token = service.installation_of("vector-main", "Vector").await;
        let sent = service
            .post_report(&token, report("lost-key-evening.xml"))
            .await;
        assert_eq!(sent.status(), 202);
        service.settle().await;
        service
    });
    let client = reqwest::Client::new();
    run::<AdminInput, _>("admin_bodies", |input| {
        let (method, path) = BODIES[input.route as usize % BODIES.len()];
        let mut body = serde_json::to_vec(&to_json(&input.body)).unwrap();
        if let Some(edits) = &input.mangle {
            apply(&mut body, edits);
        }
        let (status, answer) = rt.block_on(async {
            let response = client
                .request(method.parse().unwrap(), service.url(path))
                .bearer_auth(reveille_tests::ADMIN_TOKEN)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .expect("an answer");
            (response.status(), response.text().await.unwrap_or_default())
        });
        assert!(
            !status.is_server_error(),
            "{method} {path} {}: {status} {answer}",
            String::from_utf8_lossy(&body)
        );
        if status.is_client_error() {
            let answer: Value = serde_json::from_str(&answer)
                .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {answer}"));
            assert!(answer["error"].is_string(), "{method} {path}: {answer}");
        }
    });
    rt.block_on(async {
        assert_eq!(service.health().await["status"], "ok");
    });
}

/// A chat an update comes from.
#[derive(Debug, TypeGenerator)]
enum ChatPick {
    /// The chat the installation alerts in.
    Known,
    /// A group the bot is not in.
    Group(u16),
    /// A user's private chat.
    Private(u16),
}

#[derive(Debug, TypeGenerator)]
enum UpdateInput {
    Press {
        chat: ChatPick,
        user: u16,
        message: u16,
        data: Text,
    },
    Say {
        chat: ChatPick,
        user: u16,
        text: Text,
        reply_to: Option<u16>,
    },
    /// Telegram adds update kinds; one the bot has never heard of.
    Unknown { kind: u8, body: Json },
}

/// Text: a command with arguments, button data, or anything.
#[derive(Debug, TypeGenerator)]
enum Text {
    Command {
        command: u8,
        arguments: Vec<u8>,
    },
    Data {
        action: u8,
        id: i64,
        extra: Option<u64>,
    },
    Any(String),
}

const COMMANDS: &[&str] = &[
    "/status",
    "/alerts",
    "/oncall",
    "/maintenance",
    "/update",
    "/publish",
    "/link",
    "/lang",
    "/login",
    "/start",
    "/help",
    "/status@reveille_bot",
    "/unknown",
    "/",
];
const ACTIONS: &[&str] = &["ack", "snooze", "iack", "isnooze", "x", ""];

fn text(value: &Text) -> String {
    match value {
        Text::Command { command, arguments } => {
            let words: Vec<&str> = arguments.iter().map(|w| word(*w)).collect();
            format!(
                "{} {}",
                COMMANDS[*command as usize % COMMANDS.len()],
                words.join(" ")
            )
        }
        Text::Data { action, id, extra } => {
            let action = ACTIONS[*action as usize % ACTIONS.len()];
            match extra {
                Some(extra) => format!("{action}:{id}:{extra}"),
                None => format!("{action}:{id}"),
            }
        }
        Text::Any(text) => text.clone(),
    }
}

const KNOWN_CHAT: i64 = -1_003_001;
/// Whose private chat with the bot tells that it still answers.
const SENTINEL: i64 = 4_242;

fn chat_json(chat: &ChatPick) -> Value {
    match chat {
        ChatPick::Known => json!({"id": KNOWN_CHAT, "type": "supergroup", "title": "Vector"}),
        ChatPick::Group(n) => {
            json!({"id": -1_009_000_000 - i64::from(*n), "type": "group", "title": format!("g{n}")})
        }
        ChatPick::Private(n) => {
            json!({"id": 5_000 + i64::from(*n), "type": "private", "first_name": format!("u{n}")})
        }
    }
}

fn user_json(user: u16) -> Value {
    match user % 3 {
        0 => json!({"id": 42, "is_bot": false, "first_name": "Petr", "username": "petrov"}),
        _ => json!({
            "id": 5_000 + i64::from(user),
            "is_bot": false,
            "first_name": format!("u{user}"),
        }),
    }
}

fn update_json(input: &UpdateInput, n: u64) -> Value {
    let message = |chat: &ChatPick, id: u16, text: String| {
        json!({
            "message_id": id,
            "date": 1_795_000_000,
            "chat": chat_json(chat),
            "text": text,
        })
    };
    match input {
        UpdateInput::Press {
            chat,
            user,
            message: id,
            data,
        } => json!({"callback_query": {
            "id": format!("fuzz{n}"),
            "from": user_json(*user),
            "message": message(chat, *id, "a card".into()),
            "chat_instance": "fuzz",
            "data": text(data),
        }}),
        UpdateInput::Say {
            chat,
            user,
            text: said,
            reply_to,
        } => {
            let said = text(said);
            let mut out = message(chat, (n % 60_000) as u16, said.clone());
            out["from"] = user_json(*user);
            if said.starts_with('/') {
                let length = said
                    .split_whitespace()
                    .next()
                    .map_or(0, |c| c.encode_utf16().count());
                out["entities"] = json!([{"type": "bot_command", "offset": 0, "length": length}]);
            }
            if let Some(to) = reply_to {
                out["reply_to_message"] = message(chat, *to, "a card".into());
            }
            json!({ "message": out })
        }
        UpdateInput::Unknown { kind, body } => {
            json!({ format!("kind_{kind}"): to_json(body) })
        }
    }
}

#[test]
fn telegram_updates() {
    let rt = runtime();
    let fake = rt.block_on(FakeTelegram::start(TELEGRAM_TOKEN));
    let sentinel = User::new(SENTINEL, "Sentinel", None);
    let service = rt.block_on(async {
        fake.add_chat(KNOWN_CHAT, "Vector");
        let service = Service::start(Options {
            telegram_api: Some(fake.api_url()),
            ..Options::default()
        })
        .await;
        let token = service
            .installation_in_chat("vector-main", "Vector", KNOWN_CHAT)
            .await;
        service.authorize(KNOWN_CHAT, 42, "Petr Petrov").await;
        let sent = service
            .post_report(&token, report("lost-key-evening.xml"))
            .await;
        assert_eq!(sent.status(), 202);
        fake.start_private(&sentinel);
        service
    });
    let updates = Arc::new(AtomicU64::new(0));
    let asked = AtomicU64::new(0);
    run::<Vec<UpdateInput>, _>("telegram_updates", |batch| {
        for input in batch.iter().take(20) {
            let n = updates.fetch_add(1, Ordering::Relaxed);
            fake.deliver(update_json(input, n));
        }
        // Then the bot still answers, and in order: nothing above stalled it.
        let ask = asked.fetch_add(1, Ordering::Relaxed);
        let question = format!("/help {ask}");
        fake.say(SENTINEL, &sentinel, &question);
        let answered = rt.block_on(fake.wait_for(Duration::from_secs(20), |f| {
            f.bot_messages(SENTINEL).len() as u64 > ask + 1
        }));
        assert!(answered, "the bot stopped answering after {batch:?}");
    });
    println!(
        "fuzz telegram_updates: {} updates delivered",
        updates.load(Ordering::Relaxed)
    );
    rt.block_on(async {
        assert_eq!(service.health().await["status"], "ok");
    });
}

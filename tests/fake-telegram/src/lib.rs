//! A fake Telegram Bot API server on loopback that behaves like the real one for the
//! methods Reveille uses: `getMe`, `sendMessage`, `sendDocument` (multipart, up to
//! Telegram's 50 MB for bots), `editMessageText`, `answerCallbackQuery`, `getUpdates`. The token is in the path; answers are `{"ok": ..., "result": ...}`
//! envelopes; errors carry Telegram's own descriptions (bad HTML entities, text over 4096
//! characters, unknown chat, "message is not modified", ...). Private chats exist only once
//! their user pressed Start (before, sending there is 403 as Telegram answers); forum
//! groups accept only their topics' thread ids; `disable_notification` is recorded per
//! message. It enforces Telegram's flood limits as they are documented and observed: at
//! most 20 sends and edits in any minute into one group, and no edit of a message less
//! than a second after its last edit (both answered 429 with `retry_after`). A test can
//! also make it answer 429 for every call, or a chat at another rate, take it down
//! (connections refused, open ones cut) and bring it back, press buttons, type commands
//! and reply to messages as users, and read every chat as it now looks.

mod html;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

pub use html::{utf16_len, visible_text};

/// Telegram's limit on messages into one group a minute.
pub const GROUP_PER_MINUTE: usize = 20;
/// The least time between two edits of one message that Telegram accepts here.
pub const EDIT_EVERY: Duration = Duration::from_secs(1);

/// Telegram's limit on a file a bot sends.
pub const MAX_DOCUMENT: usize = 50 * 1024 * 1024;
/// Telegram's limit on a caption's visible text.
pub const MAX_CAPTION: usize = 1024;

/// Telegram's limit on a message's visible text.
pub const MAX_TEXT: usize = 4096;
const MAX_UPDATES: usize = 100;
/// How long after a 429 other requests may still arrive that were sent before it (a slow
/// client with several requests in flight).
const IN_FLIGHT_GRACE: Duration = Duration::from_millis(500);

/// A Telegram user as the fake presents them in updates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub first_name: String,
    pub username: Option<String>,
    /// The IETF tag of the language the user's Telegram app is set to, as the Bot API
    /// sends it (`ru`, `en`, `pt-br`).
    pub language_code: Option<String>,
}

impl User {
    pub fn new(id: i64, first_name: &str, username: Option<&str>) -> User {
        User {
            id,
            first_name: first_name.into(),
            username: username.map(Into::into),
            language_code: None,
        }
    }

    /// The same user with their app in `code`.
    pub fn speaking(self, code: &str) -> User {
        User {
            language_code: Some(code.into()),
            ..self
        }
    }

    fn json(&self) -> Value {
        let mut user = json!({ "id": self.id, "is_bot": false, "first_name": self.first_name });
        if let Some(username) = &self.username {
            user["username"] = json!(username);
        }
        if let Some(code) = &self.language_code {
            user["language_code"] = json!(code);
        }
        user
    }
}

/// A message in a chat as it looks now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub id: i64,
    pub chat_id: i64,
    pub from_bot: bool,
    /// Every version of its HTML, first as sent, then each edit.
    pub versions: Vec<String>,
    /// Visible text now.
    pub text: String,
    /// Inline buttons now: (label, callback data).
    pub buttons: Vec<(String, String)>,
    pub reply_to: Option<i64>,
    /// Sent with `disable_notification`: it arrived without sound.
    pub silent: bool,
    /// The forum topic it was posted in.
    pub thread_id: Option<i64>,
    /// A file sent with it (`sendDocument`); `text` is then its caption.
    pub document: Option<Document>,
}

/// A file in a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

impl ChatMessage {
    pub fn html(&self) -> &str {
        self.versions.last().map_or("", String::as_str)
    }
}

/// One successful call that changed a chat, in the order they happened.
#[derive(Debug, Clone)]
pub struct Call {
    pub at: Instant,
    pub method: &'static str,
    pub chat_id: i64,
    pub message_id: i64,
}

/// An answer to a button press.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub query_id: String,
    pub text: String,
    pub show_alert: bool,
}

#[derive(Default)]
struct Chat {
    title: String,
    messages: BTreeMap<i64, ChatMessage>,
    next_id: i64,
    /// Telegram's per-chat flood control: at most this many sends and edits a minute
    /// (a group has Telegram's 20 unless a test says otherwise).
    per_minute: Option<usize>,
    /// When the sends and edits of the last minute happened.
    recent: VecDeque<Instant>,
    /// When each message was last edited: Telegram refuses rapid edits of one message.
    edited: BTreeMap<i64, Instant>,
    /// A forum group's topics; `None`: not a forum.
    topics: Option<Vec<i64>>,
}

#[derive(Default)]
struct World {
    /// The bot's user id: as in Telegram, the part of its token before the colon.
    bot: i64,
    chats: BTreeMap<i64, Chat>,
    calls: Vec<Call>,
    answers: Vec<Answer>,
    /// Button presses not answered yet, by query id.
    open_queries: BTreeMap<String, ()>,
    updates: VecDeque<Value>,
    next_update: i64,
    next_query: u64,
    /// Which getUpdates call is the current one; an older one waiting gets 409.
    poller: u64,
    /// Flood control: sending before this instant is answered 429.
    limited_until: Option<Instant>,
    /// Calls made while flood control was on, after a 429 had been answered (a client that
    /// ignores retry_after).
    flood_violations: usize,
    /// Answered 429 so far.
    rate_limited: usize,
    /// When the first 429 of the current flood control was answered.
    first_limited_at: Option<Instant>,
}

struct Shared {
    token: String,
    world: Mutex<World>,
    changed: Notify,
}

/// The running fake.
pub struct FakeTelegram {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: Mutex<Option<JoinHandle<()>>>,
}

type Reply = Result<Value, (StatusCode, Value)>;

fn error(code: u16, description: impl Into<String>) -> (StatusCode, Value) {
    (
        StatusCode::from_u16(code).expect("a valid status"),
        json!({ "ok": false, "error_code": code, "description": description.into() }),
    )
}

fn bad_request(description: &str) -> (StatusCode, Value) {
    error(400, format!("Bad Request: {description}"))
}

impl FakeTelegram {
    /// Starts serving on an ephemeral loopback port for bot `token`.
    pub async fn start(token: &str) -> FakeTelegram {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            token: token.into(),
            world: Mutex::new(World {
                bot: token
                    .split(':')
                    .next()
                    .and_then(|id| id.parse().ok())
                    .expect("a bot token starts with the bot's id and a colon"),
                next_update: 1,
                ..World::default()
            }),
            changed: Notify::new(),
        });
        let fake = FakeTelegram {
            shared,
            addr,
            server: Mutex::new(None),
        };
        fake.serve(listener);
        fake
    }

    /// The base URL to configure as the Bot API URL.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn serve(&self, listener: TcpListener) {
        let app = Router::new()
            .route("/{bot}/{method}", any(handle))
            // Room for a document at Telegram's limit and the request around it; larger
            // ones are answered 413 as Telegram does.
            .layer(axum::extract::DefaultBodyLimit::max(
                MAX_DOCUMENT + 1024 * 1024,
            ))
            .with_state(self.shared.clone());
        let task = tokio::spawn(async move {
            // Connections live in this set, so taking the server down cuts them too.
            let mut connections = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let service = TowerToHyperService::new(app.clone());
                connections.spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
                while connections.try_join_next().is_some() {}
            }
        });
        *self.server.lock().unwrap() = Some(task);
    }

    /// Stops answering: new connections are refused and open ones are cut.
    pub fn go_down(&self) {
        if let Some(task) = self.server.lock().unwrap().take() {
            task.abort();
        }
    }

    /// Answers again, on the same address.
    pub async fn come_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("cannot rebind {}: {e}", self.addr),
            }
        };
        self.serve(listener);
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.shared.world.lock().unwrap()
    }

    /// A group chat the bot is a member of, with Telegram's limit of 20 messages a minute
    /// (a chat id above zero is a person's private chat, without it).
    pub fn add_chat(&self, chat_id: i64, title: &str) {
        self.world().chats.insert(
            chat_id,
            Chat {
                title: title.into(),
                next_id: 1,
                per_minute: (chat_id < 0).then_some(GROUP_PER_MINUTE),
                ..Chat::default()
            },
        );
    }

    /// `user` adds the bot to a new group `chat_id`: Telegram tells the bot with a service
    /// message whose `new_chat_members` is the bot (it reaches a bot in privacy mode too).
    pub fn add_bot_to_group(&self, chat_id: i64, title: &str, user: &User) {
        self.add_chat(chat_id, title);
        let mut world = self.world();
        let bot = world.bot;
        let chat = world.chats.get_mut(&chat_id).expect("just added");
        let id = chat.next_id;
        chat.next_id += 1;
        let message = json!({
            "message_id": id,
            "date": unix_now(),
            "chat": chat_json(chat_id, title),
            "from": user.json(),
            "new_chat_members": [bot_json(bot)],
        });
        push_update(&mut world, json!({ "message": message }));
        drop(world);
        self.shared.changed.notify_waiters();
    }

    /// A forum group with `topics` (message thread ids); posting in another topic fails.
    pub fn add_forum(&self, chat_id: i64, title: &str, topics: &[i64]) {
        self.add_chat(chat_id, title);
        if let Some(chat) = self.world().chats.get_mut(&chat_id) {
            chat.topics = Some(topics.to_vec());
        }
    }

    /// `user` opens a private chat with the bot and presses Start (sends `/start`): from
    /// now on the bot may write to them. Before, Telegram refuses with 403.
    pub fn start_private(&self, user: &User) {
        self.world().chats.entry(user.id).or_insert_with(|| Chat {
            title: user.first_name.clone(),
            next_id: 1,
            ..Chat::default()
        });
        self.say(user.id, user, "/start");
    }

    /// Flood control for `retry_after` seconds from now: every sending call is answered 429.
    pub fn rate_limit(&self, retry_after: u64) {
        self.world().limited_until = Some(Instant::now() + Duration::from_secs(retry_after));
    }

    /// Per-chat flood control, as Telegram applies it to groups: more than `per_minute`
    /// sends and edits in a chat within a minute are answered 429 with the wait until the
    /// oldest of them is a minute old. Other chats and button answers are not affected.
    pub fn limit_chat(&self, chat_id: i64, per_minute: usize) {
        if let Some(chat) = self.world().chats.get_mut(&chat_id) {
            chat.per_minute = Some(per_minute);
        }
    }

    /// How many calls came while flood control was on, after the first 429 said to wait.
    pub fn flood_violations(&self) -> usize {
        self.world().flood_violations
    }

    /// How many calls were answered 429 so far.
    pub fn rate_limited(&self) -> usize {
        self.world().rate_limited
    }

    /// `user` presses the button with `data` under message `message_id`; returns the
    /// callback query id.
    pub fn press_button(&self, chat_id: i64, message_id: i64, user: &User, data: &str) -> String {
        let mut world = self.world();
        world.next_query += 1;
        let query_id = format!("q{}", world.next_query);
        let message = world
            .chats
            .get(&chat_id)
            .and_then(|c| c.messages.get(&message_id))
            .map(|m| message_json(m, &world.chats[&chat_id].title, world.bot))
            .expect("pressing a button under a message that exists");
        world.open_queries.insert(query_id.clone(), ());
        push_update(
            &mut world,
            json!({ "callback_query": {
                "id": query_id,
                "from": user.json(),
                "message": message,
                "chat_instance": format!("ci{chat_id}"),
                "data": data,
            }}),
        );
        drop(world);
        self.shared.changed.notify_waiters();
        query_id
    }

    /// Delivers `update` as Telegram would (its `update_id` is set here): for what the
    /// other helpers do not make, such as any chat, any text or any button's data. A
    /// callback query in it can be answered, as a real one can.
    pub fn deliver(&self, update: Value) {
        let mut world = self.world();
        if let Some(id) = update["callback_query"]["id"].as_str() {
            world.open_queries.insert(id.to_string(), ());
        }
        push_update(&mut world, update);
        drop(world);
        self.shared.changed.notify_waiters();
    }

    /// `user` writes `text` in the chat (a command such as `/status Vector`).
    pub fn say(&self, chat_id: i64, user: &User, text: &str) {
        self.write(chat_id, user, text, None);
    }

    /// `user` replies to message `to` in `chat_id` with `text` (Telegram sends the message
    /// it answers along, as `reply_to_message`).
    pub fn reply(&self, chat_id: i64, user: &User, text: &str, to: i64) {
        self.write(chat_id, user, text, Some(to));
    }

    fn write(&self, chat_id: i64, user: &User, text: &str, reply_to: Option<i64>) {
        let mut world = self.world();
        let bot = world.bot;
        let chat = world.chats.get_mut(&chat_id).expect("a known chat");
        let id = chat.next_id;
        chat.next_id += 1;
        let title = chat.title.clone();
        chat.messages.insert(
            id,
            ChatMessage {
                id,
                chat_id,
                from_bot: false,
                versions: vec![text.into()],
                text: text.into(),
                buttons: Vec::new(),
                reply_to,
                silent: false,
                thread_id: None,
                document: None,
            },
        );
        let answered = reply_to
            .and_then(|to| chat.messages.get(&to))
            .map(|m| message_json(m, &title, bot));
        let command_len = text.split_whitespace().next().unwrap_or_default().len();
        let mut message = json!({
            "message_id": id,
            "date": unix_now(),
            "chat": chat_json(chat_id, &title),
            "from": user.json(),
            "text": text,
        });
        if let Some(answered) = answered {
            message["reply_to_message"] = answered;
        }
        if text.starts_with('/') {
            message["entities"] = json!([{ "type": "bot_command", "offset": 0, "length": utf16_len(&text[..command_len]) }]);
        }
        push_update(&mut world, json!({ "message": message }));
        drop(world);
        self.shared.changed.notify_waiters();
    }

    /// The chat's messages as they look now, oldest first.
    pub fn messages(&self, chat_id: i64) -> Vec<ChatMessage> {
        self.world()
            .chats
            .get(&chat_id)
            .map(|c| c.messages.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The bot's messages in the chat.
    pub fn bot_messages(&self, chat_id: i64) -> Vec<ChatMessage> {
        self.messages(chat_id)
            .into_iter()
            .filter(|m| m.from_bot)
            .collect()
    }

    /// Every call that changed a chat, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.world().calls.clone()
    }

    pub fn answers(&self) -> Vec<Answer> {
        self.world().answers.clone()
    }

    /// Updates not yet confirmed by a getUpdates with a higher offset.
    pub fn pending_updates(&self) -> usize {
        self.world().updates.len()
    }

    /// Polls `check` until it holds or `timeout` passes.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&FakeTelegram) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if check(self) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        check(self)
    }
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        self.go_down();
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn push_update(world: &mut World, mut update: Value) {
    update["update_id"] = json!(world.next_update);
    world.next_update += 1;
    world.updates.push_back(update);
}

fn chat_json(chat_id: i64, title: &str) -> Value {
    if chat_id > 0 {
        json!({ "id": chat_id, "type": "private", "first_name": title })
    } else {
        json!({ "id": chat_id, "type": "supergroup", "title": title })
    }
}

/// The bot as a user, as Telegram shows it in messages and `getMe`.
fn bot_json(bot: i64) -> Value {
    json!({ "id": bot, "is_bot": true, "first_name": "Reveille", "username": "reveille_bot" })
}

fn message_json(message: &ChatMessage, title: &str, bot: i64) -> Value {
    let mut out = json!({
        "message_id": message.id,
        "date": unix_now(),
        "chat": chat_json(message.chat_id, title),
        "text": message.text,
    });
    if message.from_bot {
        out["from"] = bot_json(bot);
    }
    if message.versions.len() > 1 {
        out["edit_date"] = json!(unix_now());
    }
    if !message.buttons.is_empty() {
        out["reply_markup"] = json!({ "inline_keyboard": [message.buttons.iter()
            .map(|(text, data)| json!({ "text": text, "callback_data": data }))
            .collect::<Vec<_>>()] });
    }
    out
}

/// The request's parameters: JSON body, form body or query string, as the real API takes.
fn parameters(query: Option<String>, body: &Bytes) -> Result<Value, (StatusCode, Value)> {
    let mut params = if body.is_empty() {
        json!({})
    } else if body.first() == Some(&b'{') {
        serde_json::from_slice(body).map_err(|_| bad_request("invalid JSON in the request body"))?
    } else {
        form(std::str::from_utf8(body).unwrap_or_default())
    };
    if let Some(query) = query {
        for (k, v) in form(&query).as_object().cloned().unwrap_or_default() {
            params[k] = v;
        }
    }
    Ok(params)
}

fn form(text: &str) -> Value {
    let mut out = json!({});
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = v.replace('+', " ");
        out[k] = serde_json::from_str(&v).unwrap_or(Value::String(v));
    }
    out
}

/// A multipart body's text fields as parameters, and its file (as `_document`, which no
/// real parameter is called) kept aside.
async fn multipart(
    boundary: String,
    body: Bytes,
) -> Result<(Value, Option<Document>), (StatusCode, Value)> {
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut params = json!({});
    let mut document = None;
    let broken = |_| bad_request("can't parse the multipart request");
    while let Some(field) = form.next_field().await.map_err(broken)? {
        let name = field.name().unwrap_or_default().to_string();
        match field.file_name().map(str::to_string) {
            Some(file_name) => {
                let bytes = field.bytes().await.map_err(broken)?.to_vec();
                if bytes.len() > MAX_DOCUMENT {
                    return Err(error(413, "Request Entity Too Large"));
                }
                document = Some(Document { file_name, bytes });
            }
            None => {
                let text = field.text().await.map_err(broken)?;
                params[name] = serde_json::from_str(&text).unwrap_or(Value::String(text));
            }
        }
    }
    Ok((params, document))
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    Path((bot, method)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let boundary = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok());
    let reply = if bot.strip_prefix("bot") != Some(shared.token.as_str()) {
        Err(error(401, "Unauthorized"))
    } else if let Some(boundary) = boundary {
        match multipart(boundary, body).await {
            Ok((params, document)) => call(&shared, &method, params, document).await,
            Err(e) => Err(e),
        }
    } else {
        match parameters(query, &body) {
            Ok(params) => call(&shared, &method, params, None).await,
            Err(e) => Err(e),
        }
    };
    match reply {
        Ok(result) => (
            StatusCode::OK,
            axum::Json(json!({ "ok": true, "result": result })),
        )
            .into_response(),
        Err((status, body)) => (status, axum::Json(body)).into_response(),
    }
}

async fn call(shared: &Shared, method: &str, params: Value, document: Option<Document>) -> Reply {
    // Bot API method names are case-insensitive (teloxide sends `SendMessage`).
    let method = match method.to_ascii_lowercase().as_str() {
        "getme" => {
            return Ok(bot_json(shared.world.lock().unwrap().bot));
        }
        "getupdates" => return get_updates(shared, &params).await,
        "sendmessage" => "sendMessage",
        "senddocument" => "sendDocument",
        "editmessagetext" => "editMessageText",
        "answercallbackquery" => "answerCallbackQuery",
        _ => return Err(error(404, "Not Found")),
    };
    let mut world = shared.world.lock().unwrap();
    if let Some(until) = world.limited_until {
        let now = Instant::now();
        if now < until {
            // Requests already on their way when the first 429 went out are not violations.
            match world.first_limited_at {
                Some(first) if now - first > IN_FLIGHT_GRACE => world.flood_violations += 1,
                Some(_) => {}
                None => world.first_limited_at = Some(now),
            }
            world.rate_limited += 1;
            return Err(too_many_requests(until - now));
        }
        world.limited_until = None;
        world.first_limited_at = None;
    }
    if method == "editMessageText"
        && let Some(wait) = edit_too_soon(&mut world, &params)
    {
        world.rate_limited += 1;
        return Err(too_many_requests(wait));
    }
    if method != "answerCallbackQuery"
        && let Some(wait) = chat_flood_wait(&mut world, &params)
    {
        world.rate_limited += 1;
        return Err(too_many_requests(wait));
    }
    let result = match method {
        "sendMessage" => send_message(&mut world, &params),
        "sendDocument" => send_document(&mut world, &params, document),
        "editMessageText" => edit_message_text(&mut world, &params),
        _ => answer_callback_query(&mut world, &params),
    };
    drop(world);
    shared.changed.notify_waiters();
    result
}

fn too_many_requests(wait: Duration) -> (StatusCode, Value) {
    let retry_after = wait.as_secs_f64().ceil().max(1.0) as u64;
    (
        StatusCode::TOO_MANY_REQUESTS,
        json!({
            "ok": false,
            "error_code": 429,
            "description": format!("Too Many Requests: retry after {retry_after}"),
            "parameters": { "retry_after": retry_after },
        }),
    )
}

/// How long an edit must wait because the same message was edited less than
/// [`EDIT_EVERY`] ago, or `None` (and the edit is counted).
fn edit_too_soon(world: &mut World, params: &Value) -> Option<Duration> {
    let chat = world.chats.get_mut(&chat_id(params).ok()?)?;
    let message = params["message_id"].as_i64()?;
    let now = Instant::now();
    if let Some(last) = chat.edited.get(&message)
        && now - *last < EDIT_EVERY
    {
        return Some(EDIT_EVERY - (now - *last));
    }
    chat.edited.insert(message, now);
    None
}

/// How long a send or edit into the request's chat must wait under its flood control, or
/// `None` when it may go now (and is counted).
fn chat_flood_wait(world: &mut World, params: &Value) -> Option<Duration> {
    let chat = world.chats.get_mut(&chat_id(params).ok()?)?;
    let limit = chat.per_minute?;
    let now = Instant::now();
    while chat
        .recent
        .front()
        .is_some_and(|at| now - *at >= Duration::from_secs(60))
    {
        chat.recent.pop_front();
    }
    if chat.recent.len() >= limit {
        return Some(Duration::from_secs(60) - (now - chat.recent[0]));
    }
    chat.recent.push_back(now);
    None
}

fn chat_id(params: &Value) -> Result<i64, (StatusCode, Value)> {
    params["chat_id"]
        .as_i64()
        .or_else(|| params["chat_id"].as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| bad_request("chat not found"))
}

/// The visible text of the request's `text` under its parse mode, checked like Telegram.
fn checked_text(params: &Value, too_long: &str) -> Result<String, (StatusCode, Value)> {
    let raw = params["text"].as_str().unwrap_or_default();
    let text = match params["parse_mode"].as_str() {
        Some("HTML") => visible_text(raw).map_err(|e| error(400, e))?,
        Some(other) if other != "MarkdownV2" && other != "Markdown" => {
            return Err(bad_request(&format!("unsupported parse_mode \"{other}\"")));
        }
        _ => raw.to_string(),
    };
    if text.trim().is_empty() {
        return Err(bad_request("message text is empty"));
    }
    if utf16_len(&text) > MAX_TEXT {
        return Err(bad_request(too_long));
    }
    Ok(text)
}

fn buttons(params: &Value) -> Result<Vec<(String, String)>, (StatusCode, Value)> {
    let markup = &params["reply_markup"];
    if markup.is_null() {
        return Ok(Vec::new());
    }
    let markup: Value = match markup.as_str() {
        Some(text) => serde_json::from_str(text)
            .map_err(|_| bad_request("can't parse reply keyboard markup JSON object"))?,
        None => markup.clone(),
    };
    let mut out = Vec::new();
    for row in markup["inline_keyboard"].as_array().ok_or_else(|| {
        bad_request("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array")
    })? {
        for button in row.as_array().into_iter().flatten() {
            let data = button["callback_data"].as_str().unwrap_or_default();
            if data.is_empty() || data.len() > 64 {
                return Err(bad_request("BUTTON_DATA_INVALID"));
            }
            out.push((
                button["text"].as_str().unwrap_or_default().to_string(),
                data.to_string(),
            ));
        }
    }
    Ok(out)
}

/// The chat a send goes to, and its forum topic, as Telegram checks them: a private chat
/// only once its user pressed Start, a topic only in a forum that has it.
fn destination<'w>(
    world: &'w mut World,
    chat_id: i64,
    params: &Value,
) -> Result<(&'w mut Chat, Option<i64>), (StatusCode, Value)> {
    let chat = match world.chats.get_mut(&chat_id) {
        Some(chat) => chat,
        None if chat_id > 0 => {
            return Err(error(
                403,
                "Forbidden: bot can't initiate conversation with a user",
            ));
        }
        None => return Err(bad_request("chat not found")),
    };
    let thread_id = params["message_thread_id"].as_i64().or_else(|| {
        params["message_thread_id"]
            .as_str()
            .and_then(|s| s.parse().ok())
    });
    if let Some(thread) = thread_id
        && !chat.topics.as_ref().is_some_and(|t| t.contains(&thread))
    {
        return Err(bad_request("message thread not found"));
    }
    Ok((chat, thread_id))
}

fn send_message(world: &mut World, params: &Value) -> Reply {
    let bot = world.bot;
    let chat_id = chat_id(params)?;
    let text = checked_text(params, "message is too long")?;
    let buttons = buttons(params)?;
    let reply = &params["reply_parameters"];
    let (chat, thread_id) = destination(world, chat_id, params)?;
    let silent = params["disable_notification"].as_bool() == Some(true)
        || params["disable_notification"].as_str() == Some("true");
    let reply_to = match reply["message_id"].as_i64() {
        Some(id) if chat.messages.contains_key(&id) => Some(id),
        Some(_) if reply["allow_sending_without_reply"].as_bool() == Some(true) => None,
        Some(_) => return Err(bad_request("message to be replied not found")),
        None => None,
    };
    let id = chat.next_id;
    chat.next_id += 1;
    let message = ChatMessage {
        id,
        chat_id,
        from_bot: true,
        versions: vec![params["text"].as_str().unwrap_or_default().to_string()],
        text,
        buttons,
        reply_to,
        silent,
        thread_id,
        document: None,
    };
    let json = message_json(&message, &chat.title, bot);
    chat.messages.insert(id, message);
    world.calls.push(Call {
        at: Instant::now(),
        method: "sendMessage",
        chat_id,
        message_id: id,
    });
    Ok(json)
}

/// A file with an optional caption, into a chat the bot may write to, as `sendMessage`
/// checks it.
fn send_document(world: &mut World, params: &Value, document: Option<Document>) -> Reply {
    let bot = world.bot;
    let chat_id = chat_id(params)?;
    let Some(document) = document else {
        return Err(bad_request("there is no document in the request"));
    };
    let caption = params["caption"].as_str().unwrap_or_default();
    let text = match params["parse_mode"].as_str() {
        Some("HTML") => visible_text(caption).map_err(|e| error(400, e))?,
        _ => caption.to_string(),
    };
    if utf16_len(&text) > MAX_CAPTION {
        return Err(bad_request("message caption is too long"));
    }
    let (chat, thread_id) = destination(world, chat_id, params)?;
    let id = chat.next_id;
    chat.next_id += 1;
    let message = ChatMessage {
        id,
        chat_id,
        from_bot: true,
        versions: vec![caption.to_string()],
        text,
        buttons: Vec::new(),
        reply_to: None,
        silent: params["disable_notification"].as_bool() == Some(true),
        thread_id,
        document: Some(document.clone()),
    };
    let mut json = message_json(&message, &chat.title, bot);
    json["document"] = json!({
        "file_name": document.file_name,
        "file_size": document.bytes.len(),
        "file_id": format!("doc-{chat_id}-{id}"),
        "file_unique_id": format!("u{chat_id}{id}"),
    });
    if let Some(fields) = json.as_object_mut() {
        fields.remove("text");
        if !caption.is_empty() {
            fields.insert("caption".into(), json!(message.text));
        }
    }
    chat.messages.insert(id, message);
    world.calls.push(Call {
        at: Instant::now(),
        method: "sendDocument",
        chat_id,
        message_id: id,
    });
    Ok(json)
}

fn edit_message_text(world: &mut World, params: &Value) -> Reply {
    let bot = world.bot;
    let chat_id = chat_id(params)?;
    let message_id = params["message_id"]
        .as_i64()
        .ok_or_else(|| bad_request("message to edit not found"))?;
    let text = checked_text(params, "MESSAGE_TOO_LONG")?;
    let buttons = buttons(params)?;
    let chat = world
        .chats
        .get_mut(&chat_id)
        .ok_or_else(|| bad_request("chat not found"))?;
    let title = chat.title.clone();
    let message = chat
        .messages
        .get_mut(&message_id)
        .filter(|m| m.from_bot)
        .ok_or_else(|| bad_request("message to edit not found"))?;
    let html = params["text"].as_str().unwrap_or_default().to_string();
    if message.html() == html && message.buttons == buttons {
        return Err(bad_request(
            "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
        ));
    }
    message.versions.push(html);
    message.text = text;
    message.buttons = buttons;
    let json = message_json(message, &title, bot);
    world.calls.push(Call {
        at: Instant::now(),
        method: "editMessageText",
        chat_id,
        message_id,
    });
    Ok(json)
}

fn answer_callback_query(world: &mut World, params: &Value) -> Reply {
    let id = params["callback_query_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if world.open_queries.remove(&id).is_none() {
        return Err(bad_request(
            "query is too old and response timeout expired or query ID is invalid",
        ));
    }
    world.answers.push(Answer {
        query_id: id,
        text: params["text"].as_str().unwrap_or_default().to_string(),
        show_alert: params["show_alert"].as_bool().unwrap_or(false),
    });
    Ok(json!(true))
}

async fn get_updates(shared: &Shared, params: &Value) -> Reply {
    let offset = params["offset"].as_i64().unwrap_or(0);
    let limit = params["limit"]
        .as_u64()
        .map_or(MAX_UPDATES, |l| (l as usize).clamp(1, MAX_UPDATES));
    let timeout = Duration::from_secs(params["timeout"].as_u64().unwrap_or(0));
    let deadline = Instant::now() + timeout;
    let me = {
        let mut world = shared.world.lock().unwrap();
        world.poller += 1;
        world.poller
    };
    shared.changed.notify_waiters();
    loop {
        let changed = shared.changed.notified();
        {
            let mut world = shared.world.lock().unwrap();
            if world.poller != me {
                return Err(error(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                ));
            }
            // Updates before the offset are confirmed: Telegram forgets them.
            while world
                .updates
                .front()
                .is_some_and(|u| u["update_id"].as_i64() < Some(offset))
            {
                world.updates.pop_front();
            }
            if !world.updates.is_empty() || Instant::now() >= deadline {
                return Ok(Value::Array(
                    world.updates.iter().take(limit).cloned().collect(),
                ));
            }
        }
        let _ =
            tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), changed).await;
    }
}

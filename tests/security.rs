//! The security walk: every route the router serves (`reveille::routes::routes`, from which
//! the router is built) is called without credentials, with wrong ones and with too little
//! right, and with a body over its limit; buttons in Telegram are forged; and nothing
//! secret may reach the log, at any level.

use std::collections::BTreeMap;
use std::time::Duration;

use fake_telegram::{FakeTelegram, User};
use reqwest::{Method, StatusCode};
use reveille::app::Access;
use reveille::routes::Route;
use reveille_tests::{
    ADMIN_TOKEN, Options, Process, Service, Session, TELEGRAM_TOKEN, no_redirects, report_for,
};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CHAT: i64 = -1_002_001;
const OTHER_CHAT: i64 = -1_002_002;
const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];
/// What the walk's service takes at most (`max_plugin_mb`, `max_report_mb`).
const LIMIT: usize = 1 << 20;

/// `route`'s path with every `{param}` given a value that names something real.
fn filled(route: &Route) -> String {
    route
        .path
        .split('/')
        .map(|segment| match segment {
            "{id}" if route.path.contains("installations") => "vector-main",
            "{id}" => "1",
            "{client}" => "%D0%9E%D0%9E%D0%9E%20%C2%AB%D0%92%D0%B5%D0%BA%D1%82%D0%BE%D1%80%C2%BB",
            "{plugin}" | "{name}" if route.path.contains("plugins") => "dongle-lost",
            "{name}" if route.path.contains("staff") => "vera",
            "{name}" => "night",
            "{chat_id}" => "-1002001",
            "{user_id}" => "42",
            "{kind}" if route.path.starts_with("/admin") => "contacts",
            "{kind}" => "alerts",
            "{action}" => "disable",
            "{file}" => "reveille.css",
            "{secret}" | "{token}" => "0000000000000000000000000000000000000000",
            other => other,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A type the route takes from `who`, so that a body is read rather than refused unread.
fn content_type(who: As<'_>, path: &str) -> &'static str {
    match who {
        As::Bearer(_) if path.ends_with("/reports") => "application/xml",
        As::Bearer(_) => "application/json",
        _ if MULTIPART.contains(&path) => "multipart/form-data; boundary=walk",
        _ => "application/x-www-form-urlencoded",
    }
}

/// How a request is dressed.
#[derive(Clone, Copy)]
enum As<'a> {
    Nobody,
    Bearer(&'a str),
    Cookie(&'a Session),
}

async fn call(
    service: &Service,
    method: &Method,
    path: &str,
    who: As<'_>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut request = no_redirects()
        .request(method.clone(), service.url(path))
        .timeout(Duration::from_secs(30));
    match who {
        As::Nobody => {}
        As::Bearer(token) => request = request.bearer_auth(token),
        As::Cookie(session) => request = request.header("cookie", &session.cookie),
    }
    request
        .header("content-type", content_type(who, path))
        .body(body)
        .send()
        .await
        .expect("an answer")
}

/// A staff page's refusal of someone not logged in: off to the login page, or refused.
fn sent_to_login(response: &reqwest::Response) -> bool {
    let status = response.status();
    let to_login = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .is_some_and(|l| l.starts_with("/login"));
    (status.is_redirection() && to_login)
        || status == StatusCode::UNAUTHORIZED
        || status == StatusCode::FORBIDDEN
}

struct World {
    service: Service,
    fake: FakeTelegram,
    ingest: String,
    admin: Session,
    manager: Session,
    viewer: Session,
}

/// A service with a small body limit, two installations in two chats, an alert in each,
/// and three staff members: an admin, a manager of someone else's clients, a viewer.
async fn world() -> World {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    fake.add_chat(CHAT, "Vector");
    fake.add_chat(OTHER_CHAT, "Polus");
    let service = Service::start(Options {
        telegram_api: Some(fake.api_url()),
        config: "max_plugin_mb = 1\nmax_report_mb = 1\n".into(),
        ..Options::default()
    })
    .await;
    let ingest = service
        .installation_in_chat("vector-main", "ООО «Вектор»", CHAT)
        .await;
    let polus = service
        .installation_in_chat("polus-main", "АО «Полюс»", OTHER_CHAT)
        .await;
    for (token, id) in [(&ingest, "vector-main"), (&polus, "polus-main")] {
        let sent = service
            .post_report(token, report_for("lost-key-evening.xml", id))
            .await;
        assert_eq!(sent.status(), 202);
    }
    service.settle().await;
    let admin = Session::first_admin(&service, "root", "correct horse battery").await;
    admin.add_staff(&service, "boris", "manager", "Boris").await;
    admin.add_staff(&service, "vera", "viewer", "").await;
    let manager = Session::login(&service, "boris", "a long enough password")
        .await
        .unwrap();
    let viewer = Session::login(&service, "vera", "a long enough password")
        .await
        .unwrap();
    World {
        service,
        fake,
        ingest,
        admin,
        manager,
        viewer,
    }
}

/// The methods `route` serves, as its 405 to a `TRACE` with the right credentials says
/// (`Allow`): asking changes nothing.
async fn served(w: &World, route: &Route, path: &str) -> Vec<Method> {
    let response = call(
        &w.service,
        &Method::TRACE,
        path,
        dressed(w, route.access),
        Vec::new(),
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::METHOD_NOT_ALLOWED,
        "TRACE {path}"
    );
    let allow = response.headers()["allow"].to_str().unwrap().to_string();
    METHODS
        .into_iter()
        .filter(|m| allow.split(',').any(|a| a.trim() == m.as_str()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_refuses_whoever_does_not_belong_there() {
    let w = world().await;
    let s = &w.service;
    let mut pairs: BTreeMap<&str, usize> = BTreeMap::new();
    for route in reveille::routes::routes() {
        let path = filled(&route);
        let methods = served(&w, &route, &path).await;
        assert!(
            !methods.is_empty(),
            "{} is listed but serves nothing",
            route.path
        );
        for method in &methods {
            let what = format!("{method} {path} ({:?})", route.access);
            let nobody = call(s, method, &path, As::Nobody, Vec::new()).await;
            let wrong = call(
                s,
                method,
                &path,
                As::Bearer("not-the-admin-token-at-all"),
                Vec::new(),
            )
            .await;
            let ingest = call(s, method, &path, As::Bearer(&w.ingest), Vec::new()).await;
            match route.access {
                Access::Public => {
                    assert!(
                        !nobody.status().is_server_error(),
                        "{what}: {}",
                        nobody.status()
                    );
                }
                Access::Secret => {
                    // A made-up secret opens nothing, whatever else comes with it.
                    for response in [&nobody, &wrong] {
                        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{what}");
                    }
                }
                Access::Agent => {
                    let admin = call(s, method, &path, As::Bearer(ADMIN_TOKEN), Vec::new()).await;
                    for (who, response) in [
                        ("nobody", &nobody),
                        ("a wrong token", &wrong),
                        ("the admin token", &admin),
                    ] {
                        assert_eq!(
                            response.status(),
                            StatusCode::UNAUTHORIZED,
                            "{what} as {who}"
                        );
                    }
                    assert_ne!(
                        ingest.status(),
                        StatusCode::UNAUTHORIZED,
                        "{what} with its token"
                    );
                }
                Access::Admin => {
                    let session = call(s, method, &path, As::Cookie(&w.admin), Vec::new()).await;
                    for (who, response) in [
                        ("nobody", &nobody),
                        ("a wrong token", &wrong),
                        ("an ingest token", &ingest),
                        ("a board session", &session),
                    ] {
                        assert_eq!(
                            response.status(),
                            StatusCode::UNAUTHORIZED,
                            "{what} as {who}"
                        );
                        assert_eq!(response.headers()["www-authenticate"], "Bearer", "{what}");
                    }
                }
                Access::Staff | Access::Acting | Access::StaffAdmin => {
                    let admin = call(s, method, &path, As::Bearer(ADMIN_TOKEN), Vec::new()).await;
                    for (who, response) in [
                        ("nobody", &nobody),
                        ("the admin token", &admin),
                        ("an ingest token", &ingest),
                    ] {
                        assert!(
                            sent_to_login(response),
                            "{what} as {who}: {}",
                            response.status()
                        );
                    }
                    staff_rights(&w, &route, method, &path).await;
                }
            }
            *pairs.entry(access_name(route.access)).or_default() += 1;
        }
    }
    println!("security walk: (route, method) pairs by who may call them: {pairs:?}");
    // Nothing outside the table is served.
    for path in [
        "/api/v1/nothing",
        "/api/v2/installations",
        "/admin/secret",
        "/static/../Cargo.toml",
    ] {
        let response = call(s, &Method::GET, path, As::Bearer(ADMIN_TOKEN), Vec::new()).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

fn access_name(access: Access) -> &'static str {
    match access {
        Access::Public => "public",
        Access::Secret => "secret link",
        Access::Agent => "agent",
        Access::Admin => "admin token",
        Access::Staff => "staff",
        Access::Acting => "staff acting",
        Access::StaffAdmin => "staff admin",
    }
}

/// Every field any of the board's forms reads, so that a form is refused for who sends it
/// and not for what it lacks.
const FORM: &[(&str, &str)] = &[
    ("id", "walk"),
    ("client", "Walk"),
    ("manager", "Walk"),
    ("timezone", "UTC"),
    ("telegram_chat_id", "1"),
    ("name", "walk"),
    ("password", "a long enough password"),
    ("role", "viewer"),
    ("lang", "en"),
    ("plugin", "dongle-lost"),
    ("values", ""),
    ("spec", "{}"),
];

/// The pages whose forms upload a file (a component, a spreadsheet), as multipart.
const MULTIPART: [&str; 3] = [
    "/admin/plugins",
    "/admin/replays",
    "/admin/installations/import",
];

/// A form of every field with `csrf`, as the route reads it (multipart for an upload).
fn form(path: &str, csrf: &str) -> (String, Vec<u8>) {
    if MULTIPART.contains(&path) {
        let boundary = "walk-boundary";
        let mut body = String::new();
        for (name, value) in [("csrf", csrf), ("name", "walk")] {
            body.push_str(&format!(
                "--{boundary}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"component\"; \
             filename=\"walk.wasm\"\r\n\r\nnot a component\r\n--{boundary}--\r\n"
        ));
        return (
            format!("multipart/form-data; boundary={boundary}"),
            body.into_bytes(),
        );
    }
    let mut fields: Vec<(&str, &str)> = FORM.to_vec();
    fields.push(("csrf", csrf));
    let body = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(' ', "+")))
        .collect::<Vec<_>>()
        .join("&");
    (
        "application/x-www-form-urlencoded".to_string(),
        body.into_bytes(),
    )
}

/// A staff route against sessions of too little right, and forms without the session's
/// CSRF token; nothing any of them sends is acted on.
async fn staff_rights(w: &World, route: &Route, method: &Method, path: &str) {
    let s = &w.service;
    let what = format!("{method} {path} ({:?})", route.access);
    let send = async |session: &Session, csrf: &str| {
        let (kind, body) = form(path, csrf);
        no_redirects()
            .request(method.clone(), s.url(path))
            .header("cookie", &session.cookie)
            .header("content-type", kind)
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
    };
    let writes = *method != Method::GET;
    let too_little = match route.access {
        Access::StaffAdmin => vec![("a viewer", &w.viewer), ("a manager", &w.manager)],
        Access::Acting if writes => vec![("a viewer", &w.viewer)],
        _ => Vec::new(),
    };
    for (who, session) in too_little {
        assert_eq!(
            send(session, &session.csrf).await,
            StatusCode::FORBIDDEN,
            "{what} for {who}"
        );
    }
    if writes {
        for csrf in ["", "0123456789abcdef"] {
            assert_eq!(
                send(&w.admin, csrf).await,
                StatusCode::FORBIDDEN,
                "{what} with CSRF `{csrf}`"
            );
        }
    }
}

/// What a request with a body looks like to its route, with the right credentials.
fn dressed<'a>(w: &'a World, access: Access) -> As<'a> {
    match access {
        Access::Agent => As::Bearer(&w.ingest),
        Access::Admin => As::Bearer(ADMIN_TOKEN),
        Access::Staff | Access::Acting | Access::StaffAdmin => As::Cookie(&w.admin),
        Access::Public | Access::Secret => As::Nobody,
    }
}

/// Sends `bytes` of body without declaring its length (chunked); returns the status.
async fn chunked(service: &Service, method: &Method, path: &str, who: As<'_>, bytes: usize) -> u16 {
    let kind = content_type(who, path);
    let address = service.url("").trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let credentials = match who {
        As::Nobody => String::new(),
        As::Bearer(token) => format!("authorization: Bearer {token}\r\n"),
        As::Cookie(session) => format!("cookie: {}\r\n", session.cookie),
    };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {address}\r\n{credentials}\
         content-type: {kind}\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'a'; 64 << 10];
    let mut sent = 0;
    while sent < bytes {
        let frame = format!("{:x}\r\n", chunk.len());
        // The service may answer and close before it is all sent.
        if stream.write_all(frame.as_bytes()).await.is_err()
            || stream.write_all(&chunk).await.is_err()
            || stream.write_all(b"\r\n").await.is_err()
        {
            break;
        }
        sent += chunk.len();
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = vec![0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut answer))
        .await
        .expect("an answer in time")
        .unwrap_or(0);
    let line = String::from_utf8_lossy(&answer[..read]).to_string();
    line.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{method} {path}: no status in {line:?}"))
}

/// Routes that read no body: a declared length over the limit is refused before them, and
/// a chunked body is not read at all (so not sent to them here: they would act).
const READ_NO_BODY: [&str; 6] = [
    "/api/v1/installations/{id}/token",
    "/api/v1/installations/{id}/test-alert",
    "/api/v1/imports/{id}/finish",
    "/api/v1/plugins/{name}/enable",
    "/api/v1/plugins/{name}/disable",
    "/login/telegram/{secret}",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_body_is_bounded() {
    let w = world().await;
    let s = &w.service;
    let mut checked = 0;
    for route in reveille::routes::routes() {
        let path = filled(&route);
        for method in served(&w, &route, &path).await {
            if method == Method::GET || method == Method::DELETE {
                continue;
            }
            let who = dressed(&w, route.access);
            let what = format!("{method} {path}");
            let declared = call(s, &method, &path, who, vec![b'a'; 2 * LIMIT]).await;
            assert_eq!(
                declared.status(),
                StatusCode::PAYLOAD_TOO_LARGE,
                "{what}, length declared"
            );
            if !READ_NO_BODY.contains(&route.path.as_str()) {
                // Behind a made-up secret, the secret is refused first.
                let status = chunked(s, &method, &path, who, 2 * LIMIT).await;
                let refused = status == 413 || (route.access == Access::Secret && status == 404);
                assert!(refused, "{what}, chunked: {status}");
            }
            checked += 1;
        }
    }
    println!("bodies over the limit refused on {checked} (route, method) pairs");
    assert!(checked > 30, "{checked}");
}

/// The card of the lost dongle in `chat`, and its alert's id.
async fn card(w: &World, chat: i64) -> (i64, i64) {
    let found = w
        .fake
        .wait_for(Duration::from_secs(20), |f| {
            f.bot_messages(chat).iter().any(|m| !m.buttons.is_empty())
        })
        .await;
    assert!(found, "{:#?}", w.fake.bot_messages(chat));
    let message = w
        .fake
        .bot_messages(chat)
        .into_iter()
        .find(|m| !m.buttons.is_empty())
        .unwrap();
    let alert = message.buttons[0]
        .1
        .trim_start_matches("ack:")
        .parse()
        .unwrap();
    (message.id, alert)
}

/// Presses `data` on `message` in `chat` as `user`; returns what the bot answered.
async fn press(w: &World, chat: i64, message: i64, user: &User, data: &str) -> String {
    let query = w.fake.press_button(chat, message, user, data);
    assert!(
        w.fake
            .wait_for(Duration::from_secs(20), |f| f
                .answers()
                .iter()
                .any(|a| a.query_id == query))
            .await,
        "no answer to {data:?}"
    );
    w.fake
        .answers()
        .into_iter()
        .find(|a| a.query_id == query)
        .unwrap()
        .text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_button_presses_change_nothing() {
    let w = world().await;
    let s = &w.service;
    let petrov = User::new(42, "Petr", Some("petrov"));
    let sidorov = User::new(43, "Ivan", Some("sidorov"));
    s.authorize(CHAT, 42, "Petr Petrov").await;
    s.authorize(OTHER_CHAT, 43, "Ivan Sidorov").await;
    let (vector_card, vector_alert) = card(&w, CHAT).await;
    let (_, polus_alert) = card(&w, OTHER_CHAT).await;
    let state = async |id: i64| s.alert(id).await["alert"]["state"].clone();

    // A member of the other chat, in this one.
    let answer = press(
        &w,
        CHAT,
        vector_card,
        &sidorov,
        &format!("ack:{vector_alert}"),
    )
    .await;
    assert!(answer.contains("not allowed"), "{answer}");
    // A member of this chat, pressing for the other chat's alert (forged data).
    let answer = press(
        &w,
        CHAT,
        vector_card,
        &petrov,
        &format!("ack:{polus_alert}"),
    )
    .await;
    assert_eq!(answer, "This alert is not known here.");
    // Malformed and unknown data.
    for forged in [
        "",
        "ack",
        "ack:",
        "ack:-1",
        "ack:abc",
        "ack:99999999999999999999",
        "snooze:1",
        "snooze:1:3600:extra",
        "drop table alerts",
        "ack:1\u{0}",
        &"a".repeat(64),
    ] {
        let answer = press(&w, CHAT, vector_card, &petrov, forged).await;
        assert!(
            answer == "This button is not one of mine."
                || answer == "This alert is not known here.",
            "{forged:?}: {answer}"
        );
    }
    assert_eq!(state(vector_alert).await, "firing");
    assert_eq!(state(polus_alert).await, "firing");

    // Stale: a button of an alert that has resolved since.
    let (status, _) = s
        .admin_request(
            "POST",
            &format!("/api/v1/alerts/{vector_alert}/ack"),
            Some(json!({"by": "Ivanov"})),
        )
        .await;
    assert_eq!(status, 200);
    let sent = s
        .post_report(&w.ingest, report_for("key-restored.xml", "vector-main"))
        .await;
    assert_eq!(sent.status(), 202);
    s.settle().await;
    assert_eq!(state(vector_alert).await, "resolved");
    let answer = press(
        &w,
        CHAT,
        vector_card,
        &petrov,
        &format!("snooze:{vector_alert}:3600"),
    )
    .await;
    assert!(answer.contains("resolved"), "{answer}");
    assert_eq!(state(vector_alert).await, "resolved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_log_at_any_level() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    fake.add_chat(CHAT, "Vector");
    let dir = tempfile::tempdir().unwrap();
    let program = env!("CARGO_BIN_EXE_reveille-under-test");
    // Every level of everything, but the compiler's own internals (which see only plugin
    // code, and at trace write more than the test could read).
    let filter = "trace,cranelift_codegen=info,cranelift_frontend=info,regalloc2=info,\
                  wasmtime=info,wasmtime_cranelift=info,wasmtime_environ=info";
    let node = Process::spawn_with(
        program,
        dir.path(),
        &fake.api_url(),
        &[("REVEILLE_LOG", filter)],
    )
    .await;
    // Everything that carries a secret: the admin token, ingest tokens (created and
    // rotated), a staff password (set, right and wrong), the session, the bot's token.
    let ingest = node
        .installation_in_chat("vector-main", "ООО «Вектор»", CHAT)
        .await;
    node.authorize(CHAT, 42, "Petr Petrov").await;
    let sent = node
        .post_report(&ingest, report_for("lost-key-evening.xml", "vector-main"))
        .await;
    assert_eq!(sent.status(), 202);
    let (status, rotated) = node
        .admin_request("POST", "/api/v1/installations/vector-main/token", None)
        .await;
    assert_eq!(status, 200, "{rotated}");
    let rotated = rotated["token"]
        .as_str()
        .expect("the new token")
        .to_string();
    let refused = node
        .post_report(&ingest, report_for("key-restored.xml", "vector-main"))
        .await;
    assert_eq!(refused.status(), 401);
    let sent = node
        .post_report(&rotated, report_for("key-restored.xml", "vector-main"))
        .await;
    assert_eq!(sent.status(), 202);
    let setup = node
        .eventually(Duration::from_secs(10), || async {
            node.log().contains("/setup/")
        })
        .await;
    assert!(setup);
    let log = node.log();
    let link = log
        .split_whitespace()
        .find(|w| w.contains("/setup/"))
        .unwrap()
        .to_string();
    let password = "the admin's long password";
    let created = no_redirects()
        .post(&link)
        .form(&[("name", "root"), ("password", password), ("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let cookie = Session::from_response(&created).unwrap();
    let wrong_password = "a wrong but long password";
    assert!(Session::login(&node, "root", wrong_password).await.is_err());
    let session = Session::login(&node, "root", password).await.unwrap();
    assert_eq!(session.get(&node, "/").await, StatusCode::OK);
    assert!(
        fake.wait_for(Duration::from_secs(20), |f| !f
            .bot_messages(CHAT)
            .is_empty())
            .await
    );
    let log = node.log();
    assert!(
        log.contains("TRACE") || log.contains("trace"),
        "not logged at trace level"
    );
    let bot_secret = TELEGRAM_TOKEN.split_once(':').unwrap().1;
    let session_value = |cookie: &str| cookie.split_once('=').unwrap().1.to_string();
    for (what, secret) in [
        ("the admin token", ADMIN_TOKEN.to_string()),
        ("the bot's token", bot_secret.to_string()),
        ("an ingest token", ingest.clone()),
        ("a rotated ingest token", rotated),
        ("a password", password.to_string()),
        ("a wrong password", wrong_password.to_string()),
        ("a session", session_value(&cookie)),
        ("a session", session_value(&session.cookie)),
        ("a CSRF token", session.csrf.clone()),
    ] {
        assert!(!log.contains(&secret), "{what} is in the log");
    }
    println!(
        "{} log lines at trace level, no secret among them",
        log.lines().count()
    );
}

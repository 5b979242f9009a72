//! What an agent or an admin client can send, tried over real HTTP: elements with endless
//! attributes, clients sending a byte a second, bodies declared too large, NUL bytes and
//! control characters, UTF-16 and gzip, names of megabytes and names that read backwards.
//! Each is refused early with a clear error, or served; none disturbs the service.

use std::io::Write;
use std::time::{Duration, Instant};

use fake_telegram::FakeTelegram;
use flate2::Compression;
use flate2::write::GzEncoder;
use reveille_tests::{Options, Service, TELEGRAM_TOKEN, databases, later, report};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CHAT: i64 = -1001234567;

/// The lost-key report with `replace` applied.
fn lost_key_with(from: &str, to: &str) -> Vec<u8> {
    String::from_utf8(report("lost-key-evening.xml"))
        .unwrap()
        .replace(from, to)
        .into_bytes()
}

async fn refusal(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (
        status,
        body["error"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attributes_are_parsed_in_linear_time_and_bounded() {
    let service = Service::start(Options::default()).await;
    let token = service.installation("vector-main").await;
    let element = |count: usize| {
        let attributes: String = (0..count).map(|n| format!(" a{n}=\"{n}\"")).collect();
        lost_key_with("<bases>", &format!("<wide{attributes}/>\n  <bases>"))
    };
    let started = Instant::now();
    let (status, error) = refusal(service.post_report(&token, element(200_000)).await).await;
    assert_eq!(status, 400, "{error}");
    assert!(error.contains("more than 256 attributes"), "{error}");
    assert!(error.contains("line 11"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "200,000 attributes took {:?}",
        started.elapsed()
    );
    assert_eq!(
        service.post_report(&token, element(256)).await.status(),
        202
    );
    let (status, error) = refusal(
        service
            .post_report(
                &token,
                lost_key_with("<bases>", "<twice a=\"1\" a=\"2\"/><bases>"),
            )
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(error.contains("attribute `a` appears twice"), "{error}");
}

/// Sends `head` and then one byte of `drip` every 200 ms; returns the server's answer (a
/// whole response, or what came before it closed the connection) and when, or `None` if
/// it did neither within `wait`.
async fn trickle(
    service: &Service,
    head: String,
    drip: &'static [u8],
    wait: Duration,
) -> Option<(String, Duration)> {
    let address = service.base.trim_start_matches("http://").to_string();
    let stream = TcpStream::connect(address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let started = Instant::now();
    writer.write_all(head.as_bytes()).await.unwrap();
    let dripping = tokio::spawn(async move {
        for byte in drip.iter().cycle() {
            if writer.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(wait, async {
        let mut buf = [0u8; 4096];
        while !complete(&answer) {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    dripping.abort();
    read.ok().map(|_| {
        (
            String::from_utf8_lossy(&answer).into_owned(),
            started.elapsed(),
        )
    })
}

/// Whether `bytes` hold a whole HTTP response (headers and `Content-Length` bytes of body).
fn complete(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    head.lines()
        .find_map(|line| {
            let line = line.to_ascii_lowercase();
            line.strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>())
        })
        .and_then(Result::ok)
        .is_some_and(|length| body.len() >= length)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_oversized_clients_are_answered_early_and_cut_off() {
    let service = Service::start(Options {
        config: "max_report_mb = 1\n[http]\nheader_timeout = \"1s\"\nbody_timeout = \"1s\"\n"
            .into(),
        ..Options::default()
    })
    .await;
    let token = service.installation("vector-main").await;
    let wait = Duration::from_secs(8);

    // Headers at a byte every 200 ms: the connection is closed at the header timeout.
    let (_, took) = trickle(
        &service,
        "GET /healthz HTTP/1.1\r\n".into(),
        b"X-Slow: yes\r\n",
        wait,
    )
    .await
    .expect("a slow sender of headers is never cut off");
    assert!(took < Duration::from_secs(4), "cut off after {took:?}");

    // A body at a byte every 200 ms: 408 once it falls under the minimum rate.
    let head = format!(
        "POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/xml\r\nContent-Length: 4096\r\n\r\n"
    );
    let (answer, took) = trickle(&service, head, b"<", wait)
        .await
        .expect("a slow sender of a body is never cut off");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("too slowly"), "{answer}");
    assert!(took < Duration::from_secs(5), "cut off after {took:?}");

    // Declared too large, or not ours: answered at once, before any body.
    for (bearer, status) in [(token.as_str(), "413"), ("not-a-token", "401")] {
        let head = format!(
            "POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {bearer}\r\nContent-Length: 52428800\r\n\r\n"
        );
        let (answer, took) = trickle(&service, head, b"<", wait)
            .await
            .expect("no answer to a large body");
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{answer}"
        );
        assert!(took < Duration::from_secs(1), "answered after {took:?}");
        if status == "413" {
            assert!(answer.contains("max_report_mb"), "{answer}");
        }
    }

    // A client that does not wait for an early answer still reads it, not a reset.
    let big = vec![b' '; 3 << 20];
    for (bearer, status) in [(token.as_str(), 413), ("not-a-token", 401)] {
        for _ in 0..3 {
            let sent = service.post_report(bearer, big.clone()).await;
            assert_eq!(sent.status(), status);
        }
    }
}

/// Whether the server closed `stream` (within a few seconds).
async fn closed(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await;
    matches!(read, Ok(Ok(0)) | Ok(Err(_)))
}

/// At the connection cap, connections that never sent a request make room for new ones,
/// oldest first: a flood of a thousand idle connections does not keep an agent out. Only
/// when every connection is busy with a request is a new one closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_idle_connections_does_not_keep_a_good_agent_out() {
    // No silent connection may time out before a newer one displaces it (on a loaded
    // machine the flood below takes longer than 10 s, and those timed out counted as
    // closed for their silence, not to make room).
    let service = Service::start(Options {
        config: "[http]\nheader_timeout = \"120s\"\nmax_connections = 8\n".into(),
        ..Options::default()
    })
    .await;
    let address = service.base.trim_start_matches("http://").to_string();
    let token = service.installation("vector-main").await;

    // Silent connections up to the cap; a ninth that speaks is served, and the oldest
    // silent one is closed for it.
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(TcpStream::connect(&address).await.unwrap());
    }
    let mut ninth = TcpStream::connect(&address).await.unwrap();
    ninth
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    ninth.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        closed(&mut held[0]).await,
        "the oldest silent connection made room"
    );

    // A flood: a thousand connections that say nothing. Agents get through all along.
    let mut flood = Vec::new();
    for n in 0..1_000 {
        flood.push(TcpStream::connect(&address).await.unwrap());
        if n % 250 == 249 {
            let sent = service
                .post_report(&token, later(&report("lost-key-evening.xml"), n))
                .await;
            assert_eq!(sent.status(), 202, "after {n} idle connections");
        }
    }
    let metrics = service.get_text("/metrics").await;
    let refused: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("reveille_connections_refused_total "))
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(
        refused >= 990,
        "{refused} idle connections closed to make room"
    );
    drop(flood);
    drop(held);

    // Every connection busy with a request (a report whose body is still coming): a new
    // one is closed at once; once they end, the service serves again.
    let mut busy = Vec::new();
    for _ in 0..8 {
        let mut stream = TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(
                format!(
                    "POST /api/v1/reports HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\n\
                     content-type: application/xml\r\ncontent-length: 100000\r\n\r\n<report"
                )
                .as_bytes(),
            )
            .await
            .unwrap();
        busy.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut extra = TcpStream::connect(&address).await.unwrap();
    assert!(
        closed(&mut extra).await,
        "a connection over the cap of busy ones was kept"
    );
    drop(busy);
    let served = service
        .eventually(Duration::from_secs(5), || async {
            reqwest::get(service.url("/healthz"))
                .await
                .is_ok_and(|r| r.status() == 200)
        })
        .await;
    assert!(
        served,
        "the service did not serve again once the busy ones left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_and_control_characters_are_refused_where_they_stand_on_every_backend() {
    for db in databases().await {
        let mut service = Service::start(Options {
            database_url: db.url.clone(),
            ..Options::default()
        })
        .await;
        let token = service.installation("vector-main").await;
        for (xml, what, line) in [
            (
                lost_key_with("regnum=\"123456\"", "regnum=\"12\u{0}3456\""),
                "U+0000",
                "line 4",
            ),
            (
                lost_key_with("regnum=\"123456\"", "regnum=\"12&#1;3456\""),
                "U+0001",
                "line 4",
            ),
            (
                lost_key_with("<client>", "<client>\u{1B}[31m"),
                "U+001B",
                "line 5",
            ),
        ] {
            let (status, error) = refusal(service.post_report(&token, xml).await).await;
            assert_eq!(status, 400, "{}: {error}", db.name);
            assert!(error.contains(what), "{}: {error}", db.name);
            assert!(error.contains(line), "{}: {error}", db.name);
        }
        let (status, body) = service
            .create_installation(json!({
                "id": "nul-client", "client": "a\u{0}b", "manager": "Ivanov",
                "timezone": "Europe/Moscow", "telegram_chat_id": CHAT,
            }))
            .await;
        assert_eq!(status, 400, "{}: {body}", db.name);
        assert!(body["error"].as_str().unwrap().contains("NUL"), "{body}");
        for path in [
            "/api/v1/alerts?client=%00",
            "/api/v1/clients/a%00b/settings",
            "/api/v1/installations/a%00b",
            "/api/v1/installations/a%00b/findings",
        ] {
            let (status, body) = service.admin_request("GET", path, None).await;
            assert_eq!(status, 400, "{} {path}: {body}", db.name);
        }
        let (status, body) = service
            .put_client_settings("a\u{0}b", "stale-updates", json!({"threshold": "2d"}))
            .await;
        assert_eq!(status, 400, "{}: {body}", db.name);
        assert!(service.findings("vector-main").await.is_empty());
        service.stop().await;
        db.drop_database().await;
    }
}

/// A failure that is the service's own (here, a table gone from under it) answers 500 with
/// a reference to the log; the storage out of reach answers 503 and when to come back.
/// Neither shows the database's words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_failure_shows_the_client_a_reference_not_its_text() {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let service = Service::start(Options::default()).await;
    let url = format!(
        "sqlite://{}",
        service.data_dir.join("reveille.db").display()
    );
    let mut db = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::query("ALTER TABLE installations RENAME TO gone")
        .execute(&mut db)
        .await
        .unwrap();
    let (status, body) = service
        .admin_request("GET", "/api/v1/installations", None)
        .await;
    assert_eq!(status, 500, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("reference"), "{error}");
    assert!(!error.contains("table"), "{error}");

    service.store().close().await;
    let response = service
        .client
        .get(service.url("/api/v1/installations"))
        .bearer_auth(reveille_tests::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    let error = response.json::<serde_json::Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(error.contains("database unreachable"), "{error}");
    assert!(!error.to_lowercase().contains("pool"), "{error}");
}

fn utf16(xml: &str, big_endian: bool) -> Vec<u8> {
    let xml = xml.replace("encoding=\"UTF-8\"", "encoding=\"UTF-16\"");
    let mut bytes = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in xml.encode_utf16() {
        bytes.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utf16_and_gzip_are_read_and_unknown_encodings_named() {
    let service = Service::start(Options {
        config: "max_report_mb = 1\n".into(),
        ..Options::default()
    })
    .await;
    let token = service.installation("vector-main").await;
    let xml = String::from_utf8(report("lost-key-evening.xml")).unwrap();
    for big_endian in [false, true] {
        let sent = service.post_report(&token, utf16(&xml, big_endian)).await;
        assert_eq!(sent.status(), 202, "{}", sent.text().await.unwrap());
    }
    let (status, error) = refusal(
        service
            .post_report(
                &token,
                xml.replace("UTF-8", "x-unknown-charset").into_bytes(),
            )
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        error.contains("unknown encoding `x-unknown-charset`"),
        "{error}"
    );

    let post = |body: Vec<u8>, encoding: &'static str| {
        service
            .client
            .post(service.url("/api/v1/reports"))
            .bearer_auth(&token)
            .header("content-type", "application/xml")
            .header("content-encoding", encoding)
            .body(body)
            .send()
    };
    let sent = post(gzip(xml.as_bytes()), "gzip").await.unwrap();
    assert_eq!(sent.status(), 202, "{}", sent.text().await.unwrap());
    let (status, error) = refusal(post(xml.clone().into_bytes(), "br").await.unwrap()).await;
    assert_eq!(status, 415);
    assert!(error.contains("`br`"), "{error}");
    let padded = xml.replace(
        "</report>",
        &format!("<!--{}--></report>", " ".repeat(2 << 20)),
    );
    let (status, error) = refusal(post(gzip(padded.as_bytes()), "gzip").await.unwrap()).await;
    assert_eq!(status, 413);
    assert!(error.contains("max_report_mb"), "{error}");

    let findings = service.findings("vector-main").await;
    assert!(
        findings.iter().any(|f| f["plugin"] == "dongle-lost"),
        "{findings:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_bounded_and_nothing_hidden_reaches_a_chat() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    fake.add_chat(CHAT, "Vector support");
    let service = Service::start(Options {
        telegram_api: Some(fake.api_url()),
        ..Options::default()
    })
    .await;
    let (status, body) = service
        .create_installation(json!({
            "id": "huge", "client": "x".repeat(10 << 20), "manager": "Ivanov",
            "timezone": "Europe/Moscow", "telegram_chat_id": CHAT,
        }))
        .await;
    assert_eq!(
        status,
        400,
        "{}",
        &body.to_string()[..200.min(body.to_string().len())]
    );
    assert!(body["error"].as_str().unwrap().contains("characters"));
    for name in [
        "m".repeat(1 << 20),
        "Petr\u{202E}vortep".into(),
        "ring\u{7}".into(),
    ] {
        let (status, body) = service
            .admin_request(
                "PUT",
                &format!("/api/v1/chats/{CHAT}/members/42"),
                Some(json!({ "name": name })),
            )
            .await;
        assert_eq!(status, 400, "{body}");
    }

    // What a report says reaches the chat without its bidirectional controls.
    let token = service.installation("vector-main").await;
    let xml = lost_key_with("error-code=\"4111\"", "error-code=\"41\u{202E}11\u{2066}\"");
    assert_eq!(service.post_report(&token, xml).await.status(), 202);
    let dongle = |f: &FakeTelegram| {
        f.bot_messages(CHAT)
            .into_iter()
            .find(|m| m.text.contains("License dongle"))
    };
    assert!(
        fake.wait_for(Duration::from_secs(20), |f| dongle(f).is_some())
            .await
    );
    let message = dongle(&fake).unwrap();
    assert!(message.text.contains("error code 4111"), "{}", message.text);
    assert!(
        !message.text.contains(['\u{202E}', '\u{2066}']),
        "{:?}",
        message.text
    );
}

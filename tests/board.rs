//! The board as people use it: in a real headless Chromium (first start, login, the fleet,
//! filters, a row changing live, acknowledging from a page, uploading a plugin, a manager
//! in Russian), and over plain HTTP for the refusals a browser would hide (CSRF, roles,
//! throttled logins).

use std::sync::Arc;
use std::time::Duration;

use fake_telegram::{ChatMessage, FakeTelegram, User};
use reqwest::StatusCode;
use reveille::clock::ManualClock;
use reveille_tests::{
    Browser, Options, Service, Session, TELEGRAM_TOKEN, later, no_redirects, report_for,
};
use serde_json::{Value, json};

use crate::alerts::wait_reply_text;

const ANNA_CHAT: i64 = -1_001_001;
const BORIS_CHAT: i64 = -1_001_002;
const WAIT: Duration = Duration::from_secs(20);

/// A report of `installation` with nothing wrong in it.
fn healthy(installation: &str) -> Vec<u8> {
    String::from_utf8(report_for("key-restored.xml", installation))
        .unwrap()
        .replace(r#"state="error" error-code="2020""#, r#"state="ok""#)
        .replace(
            r#"in-use="25" peak="25" refused="7""#,
            r#"in-use="12" peak="14" refused="0""#,
        )
        .into_bytes()
}

fn lost(installation: &str) -> Vec<u8> {
    report_for("lost-key-evening.xml", installation)
}

/// Anna manages two clients, Boris one; every installation has reported once.
async fn fleet(fake: &FakeTelegram, config: &str) -> (Service, Vec<(String, String)>) {
    fake.add_chat(ANNA_CHAT, "Anna's clients");
    fake.add_chat(BORIS_CHAT, "Boris's clients");
    let service = Service::start(Options {
        telegram_api: Some(fake.api_url()),
        config: config.into(),
        ..Options::default()
    })
    .await;
    let mut tokens = Vec::new();
    for (id, client, manager, chat) in [
        ("anna-1", "ООО «Вектор»", "Anna", ANNA_CHAT),
        ("anna-2", "ООО «Ромашка»", "Anna", ANNA_CHAT),
        ("boris-1", "АО «Полюс»", "Boris", BORIS_CHAT),
    ] {
        let (status, body) = service
            .create_installation(json!({
                "id": id, "client": client, "manager": manager,
                "timezone": "Europe/Moscow", "telegram_chat_id": chat,
            }))
            .await;
        assert_eq!(status, 201, "{body}");
        let token = body["token"].as_str().unwrap().to_string();
        assert_eq!(service.post_report(&token, healthy(id)).await.status(), 202);
        tokens.push((id.to_string(), token));
    }
    service.settle().await;
    (service, tokens)
}

fn token<'a>(tokens: &'a [(String, String)], id: &str) -> &'a str {
    &tokens.iter().find(|(i, _)| i == id).unwrap().1
}

/// What `find` finds, once it does (within [`WAIT`]).
async fn soon<T>(what: &str, mut find: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Some(found) = find().await {
            return found;
        }
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The open alert of `plugin` on `installation`, once there is one.
async fn alert_of(service: &Service, installation: &str, plugin: &str) -> Value {
    soon(&format!("a {plugin} alert on {installation}"), async || {
        service
            .alerts(&format!(
                "installation={installation}&plugin={plugin}&state=open"
            ))
            .await
            .into_iter()
            .next()
    })
    .await
}

#[tokio::test]
async fn the_board_as_a_person_uses_it() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    let (service, tokens) = fleet(
        &fake,
        "[incidents]\nwait = \"1s\"\n[incidents.checks.dongle-lost]\ncount = 2\nwithin = \"10m\"\n",
    )
    .await;
    let base = service.base.clone();
    let browser = Browser::start().await;

    // First start: the link from the log creates the first admin, who lands on the board.
    let setup = service
        .running()
        .setup_link
        .clone()
        .expect("a setup link on the first start");
    browser.first_admin(&setup).await;
    browser.wait_text("h1", |t| t.starts_with("Fleet")).await;
    for id in ["anna-1", "anna-2", "boris-1"] {
        browser.find(&format!("#row-{id}")).await;
    }
    assert_eq!(browser.text("#row-anna-1 .dongle").await, "present");
    assert_eq!(browser.text("#row-anna-1 .seats").await, "12 / 25");

    // A filter narrows the board, and stays in the URL to be shared.
    browser
        .find("#filter-manager")
        .await
        .select_by_value("Boris")
        .await
        .expect("choose Boris");
    browser.click("#apply").await;
    browser.wait_text("h1", |t| t.contains("(1 / 3)")).await;
    assert!(browser.url().await.contains("manager=Boris"));
    browser.find("#row-boris-1").await;
    assert!(!browser.body().await.contains("anna-1"));

    // A report changes its row live: no reload (the page's own variable survives).
    browser.goto(&format!("{base}/")).await;
    browser.find("#row-anna-1").await;
    browser
        .client
        .execute("window.stayed = true; return true;", vec![])
        .await
        .unwrap();
    // Let the page's event stream connect before the report it should hear about.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let posted = service
        .post_report(token(&tokens, "anna-1"), lost("anna-1"))
        .await;
    assert_eq!(posted.status(), 202);
    browser
        .wait_text("#row-anna-1 .dongle", |t| t == "lost")
        .await;
    let stayed = browser
        .client
        .execute("return window.stayed === true;", vec![])
        .await
        .unwrap();
    assert_eq!(stayed, json!(true), "the page reloaded instead of updating");
    browser
        .wait_text("#row-anna-1 .alerts", |t| !t.is_empty())
        .await;
    browser.screenshot("board").await;

    // Acknowledged from its page, the alert's Telegram message says who took it.
    let alert = alert_of(&service, "anna-1", "dongle-lost").await;
    let id = alert["id"].as_i64().unwrap();
    assert!(
        fake.wait_for(WAIT, |f| f
            .bot_messages(ANNA_CHAT)
            .iter()
            .any(|m| m.text.contains("dongle")))
            .await,
        "the alert never reached the chat"
    );
    browser.goto(&format!("{base}/alerts/{id}")).await;
    let ahead = browser.text("#ahead").await;
    assert!(ahead.starts_with("Nothing is due"), "{ahead}");
    browser.click("#ack").await;
    browser
        .wait_text("#acknowledged-by", |t| t.contains("admin"))
        .await;
    assert!(
        fake.wait_for(WAIT, |f| f.bot_messages(ANNA_CHAT).iter().any(|m| m
            .versions
            .len()
            > 1
            && m.text.contains("Acknowledged by admin")))
            .await,
        "the Telegram message was not edited: {:?}",
        fake.bot_messages(ANNA_CHAT)
    );

    // Two more lost dongles at once are one incident, with its own page.
    for id in ["anna-2", "boris-1"] {
        assert_eq!(
            service
                .post_report(token(&tokens, id), lost(id))
                .await
                .status(),
            202
        );
    }
    let incident = soon("an incident", async || {
        let (_, body) = service
            .admin_request("GET", "/api/v1/incidents", None)
            .await;
        Some(body["incidents"][0].clone()).filter(Value::is_object)
    })
    .await;
    browser
        .goto(&format!("{base}/incidents/{}", incident["id"]))
        .await;
    browser.find("#members").await;
    assert!(browser.body().await.contains("АО «Полюс»"));
    // An update posted from its page reaches every chat's card, as a reply in Telegram
    // does, and stays on the page.
    let said = "The dongle server lost power; the engineer is on his way";
    browser.fill("#update-text", said).await;
    browser.click("#post-update").await;
    browser.wait_text("#updates", |t| t.contains(said)).await;
    for chat in [ANNA_CHAT, BORIS_CHAT] {
        assert!(
            fake.wait_for(WAIT, |f| f
                .bot_messages(chat)
                .iter()
                .any(|m| m.text.contains(said)))
                .await,
            "the card in {chat} does not show the update: {:?}",
            fake.bot_messages(chat)
        );
    }
    browser.screenshot("incident").await;
    browser.resize(390, 844).await;
    browser.screenshot("incident-phone").await;
    browser.resize(1400, 1000).await;
    // Its post-mortem's sections are written on its page and read in the post-mortem.
    browser
        .fill("#pm-cause", "The dongle server lost power")
        .await;
    browser.click("#save-postmortem").await;
    browser.find("#timeline").await;
    browser.click("#postmortem-link").await;
    browser
        .wait_text("body", |t| t.contains("The dongle server lost power"))
        .await;

    // A client's page: its installation, its open alert, its history.
    browser
        .goto(&format!("{base}/clients/{}", "ООО «Вектор»"))
        .await;
    assert_eq!(browser.text("#client-name").await, "ООО «Вектор»");
    // Its history is a day old: no line yet, and the page says why.
    browser.find("#history .collecting").await;
    // How available it was is drawn already, as its client's report counts it.
    let up = browser.text("#history .up").await;
    assert!(up.ends_with(" %"), "{up}");
    browser.find("#history .up .bar").await;
    assert!(browser.text("#client-alerts").await.contains("dongle"));
    browser.find("#client-report #make-report").await;
    browser.screenshot("client").await;
    // Its quarterly report, as the client reads it, at a desk and on a phone.
    let quarter = browser
        .find("#report-quarter option[selected]")
        .await
        .attr("value")
        .await
        .unwrap()
        .unwrap();
    browser
        .goto(&format!(
            "{base}/clients/{}/report?quarter={quarter}&format=html",
            "ООО «Вектор»"
        ))
        .await;
    browser.find("h1").await;
    browser.screenshot("client-report").await;
    browser.resize(390, 844).await;
    assert!(
        page_width(&browser).await <= 390,
        "the report scrolls sideways"
    );
    browser.screenshot("client-report-phone").await;
    browser.resize(1400, 1000).await;

    // A plugin uploaded from the admin page serves.
    browser.goto(&format!("{base}/admin/plugins")).await;
    browser.fill("#plugin-name", "echo").await;
    let component = std::path::Path::new(env!("REVEILLE_TEST_PLUGINS_DIR")).join("echo.wasm");
    browser
        .find("#plugin-file")
        .await
        .send_keys(&component.display().to_string())
        .await
        .expect("choose the file");
    browser.click("#upload-plugin").await;
    browser.wait_text("#outcome", |t| t.contains("echo")).await;
    let (status, body) = service
        .put_client_settings(
            "АО «Полюс»",
            "echo",
            json!({"say": "info base KDS-LAW is 50 h old | error the seats table is empty"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        service
            .post_report(token(&tokens, "boris-1"), later(&healthy("boris-1"), 60))
            .await
            .status(),
        202
    );
    let findings = service.findings("boris-1").await;
    assert!(
        findings.iter().any(|f| f["plugin"] == "echo"),
        "the uploaded plugin did not evaluate: {findings:?}"
    );

    // The list offers what can be done: an uploaded plugin, switched on, can be switched
    // off or deleted; a built-in one cannot be deleted.
    browser.goto(&format!("{base}/admin/plugins")).await;
    let uploaded = browser.text("#plugin-echo .actions").await;
    assert_eq!(
        uploaded.split_whitespace().collect::<Vec<_>>(),
        ["Disable", "Delete"]
    );
    let builtin = browser.text("#plugin-dongle-lost .actions").await;
    assert_eq!(builtin.split_whitespace().collect::<Vec<_>>(), ["Disable"]);

    // What it said is on its own page, reached from the list.
    browser.click("#plugin-echo a").await;
    let said = browser
        .wait_text("#log", |t| t.contains("base KDS-LAW is 50 h old"))
        .await;
    assert!(said.contains("boris-1"), "{said}");
    assert!(browser.text("#settings").await.contains("say"));
    browser.resize(1366, 900).await;
    browser.screenshot("plugin").await;
    browser.resize(1400, 1000).await;
    browser.goto(&format!("{base}/admin/plugins")).await;

    // A check replayed over the fleet's history with a tighter setting, from the form:
    // the replay's page follows it until it is done and compares it with the installed.
    browser.click("#to-replays").await;
    browser.fill("#replay-plugin", "stale-updates").await;
    browser.fill("#replay-settings", "threshold=1d").await;
    browser.click("#replay-start").await;
    browser.wait_text("#replay-state", |t| t == "done").await;
    assert!(browser.url().await.contains("/admin/replays/"));
    assert!(
        browser
            .text("#replay-request")
            .await
            .contains("threshold=1d")
    );
    assert!(browser.text("#replay-found").await.starts_with("Fired"));
    assert!(
        browser
            .text("#replay-difference")
            .await
            .starts_with("Against the installed")
    );
    browser.screenshot("replay").await;

    // A history import, from the command line, shows on the same page with its progress,
    // at a desk and on a phone, in English and Russian.
    let history = tempfile::tempdir().unwrap();
    std::fs::write(history.path().join("old.xml"), healthy("boris-1")).unwrap();
    crate::succeeded(
        crate::reveille()
            .arg("import")
            .arg(history.path())
            .env("REVEILLE_URL", &service.base)
            .env("REVEILLE_ADMIN_TOKEN", reveille_tests::ADMIN_TOKEN),
    )
    .await;
    browser.goto(&format!("{base}/admin/replays")).await;
    browser.wait_text("#imports .state", |t| t == "done").await;
    assert!(
        browser
            .text("#imports .progress")
            .await
            .starts_with("1 stored, 1 evaluated")
    );
    browser.resize(1366, 900).await;
    browser.screenshot("imports").await;
    choose_language(&browser, "ru").await;
    browser.wait_text("h1", |t| !t.is_ascii()).await;
    browser.goto(&format!("{base}/admin/replays")).await;
    browser
        .wait_text("#imports .state", |t| t == "готово")
        .await;
    browser.screenshot("imports-ru").await;
    browser.resize(390, 844).await;
    browser.screenshot("imports-ru-phone").await;
    browser.goto(&format!("{base}/admin/plugins/echo")).await;
    browser
        .wait_text("h2", |t| t.starts_with("Настройки"))
        .await;
    browser.screenshot("plugin-ru-phone").await;
    browser
        .goto(&format!("{base}/incidents/{}", incident["id"]))
        .await;
    browser
        .wait_text("#post-update", |t| t == "Опубликовать")
        .await;
    browser.screenshot("incident-ru-phone").await;
    browser.resize(1366, 900).await;
    browser.screenshot("incident-ru").await;
    browser.goto(&format!("{base}/admin/plugins/echo")).await;
    browser.screenshot("plugin-ru").await;
    // A reader in Novosibirsk chooses their zone on their own page: times on every page
    // are theirs from then on, and say so.
    browser.click("#who").await;
    browser
        .find("#account-zone")
        .await
        .select_by_value("Asia/Novosibirsk")
        .await
        .unwrap();
    browser.click("#save-account").await;
    browser.find("#saved").await;
    browser.screenshot("account-ru").await;
    // An alert's page in Russian: its timeline, why it resolved and what happens next are
    // Russian too, but for the name of the person who acted; its times are Novosibirsk's.
    browser.goto(&format!("{base}/alerts/{id}")).await;
    let times = browser.text("#timeline").await;
    assert!(times.contains("+07") && !times.contains("UTC"), "{times}");
    for part in ["#timeline", "#ahead", "#state"] {
        let text = browser.text(part).await.replace("admin", "");
        assert!(
            !text.chars().any(|c| c.is_ascii_alphabetic()),
            "{part}: {text}"
        );
    }
    browser.screenshot("alert-ru").await;
    browser.resize(1400, 1000).await;
    choose_language(&browser, "en").await;
    browser
        .wait_text("h1", |t| !t.is_empty() && t.is_ascii())
        .await;
    browser.goto(&format!("{base}/admin/replays")).await;
    browser.wait_text("#imports .state", |t| t == "done").await;

    // History: every alert and incident, filtered, linking to each.
    browser
        .goto(&format!(
            "{base}/alerts?client=ООО «Вектор»&severity=critical"
        ))
        .await;
    browser
        .find(&format!("#alert-{id} a[href='/alerts/{id}']"))
        .await;
    assert!(!browser.body().await.contains("boris-1"));
    browser.goto(&format!("{base}/alerts?severity=loud")).await;
    assert!(browser.text("#error").await.contains("“loud”"));
    // A mistyped board link is told so, not shown the whole fleet.
    browser.goto(&format!("{base}/?page=abc")).await;
    assert!(browser.text("#error").await.contains("page=“abc”"));
    browser.goto(&format!("{base}/incidents?state=open")).await;
    browser
        .find(&format!("#incident-{} a", incident["id"]))
        .await;

    // The admin's pages, history and the incident's keep nobody out either.
    let incident_page = format!("/incidents/{}", incident["id"]);
    let found = barriers(
        &browser,
        &base,
        &[
            "/admin/installations",
            "/admin/plugins",
            "/admin/staff",
            "/admin/directory/contacts",
            "/admin/replays",
            "/alerts",
            "/account",
            "/incidents",
            incident_page.as_str(),
        ],
    )
    .await;
    assert!(found.is_empty(), "{found:#?}");

    // An installation added from its form shows the agent's configuration with the
    // address the admin reached the service at, not a guessed port.
    browser.goto(&format!("{base}/admin/installations")).await;
    for (name, value) in [
        ("id", "web-1"),
        ("client", "Web client"),
        ("manager", "Web"),
        ("telegram_chat_id", "-1009"),
    ] {
        browser.fill(&format!("#entry [name={name}]"), value).await;
    }
    browser.click("#save-installation").await;
    let snippet = browser.text("#snippet").await;
    assert!(
        snippet.contains(&format!("url = \"{base}/api/v1/reports\"")),
        "{snippet}"
    );

    // A manager's account, in Russian: only her clients, and Boris's are refused.
    browser.goto(&format!("{base}/admin/staff")).await;
    browser.fill("#staff-name", "anna").await;
    browser
        .fill("#staff-password", "anna's long password")
        .await;
    browser
        .find("#staff-role")
        .await
        .select_by_value("manager")
        .await
        .unwrap();
    browser.fill("#staff-manager", "Anna").await;
    browser
        .find("#staff-lang")
        .await
        .select_by_value("ru")
        .await
        .unwrap();
    browser.click("#create-staff").await;
    browser.wait_text("#outcome", |t| t.contains("anna")).await;
    browser.click("#logout").await;
    browser.fill("#name", "anna").await;
    browser.fill("#password", "anna's long password").await;
    browser.click("#login").await;
    browser
        .wait_text("h1", |t| t.starts_with("Парк установок"))
        .await;
    browser.find("#row-anna-2").await;
    assert_eq!(browser.text("#row-anna-1 .dongle").await, "потерян");
    let board = browser.body().await;
    assert!(
        !board.contains("boris-1") && !board.contains("АО «Полюс»"),
        "{board}"
    );
    browser.screenshot("board-ru").await;
    browser
        .goto(&format!("{base}/clients/{}", "АО «Полюс»"))
        .await;
    assert!(browser.text("#error").await.contains("нет доступа"));
    browser.close().await;
}

/// Switches the visitor's language from the menu every page has.
pub(crate) async fn choose_language(browser: &Browser, code: &str) {
    browser
        .find("#lang")
        .await
        .select_by_value(code)
        .await
        .unwrap();
}

/// What keeps people out of each page at `paths`: what axe-core finds seriously wrong at
/// a desk, and sideways scrolling on a 390 px phone. The window is left at its first size.
pub(crate) async fn barriers(browser: &Browser, base: &str, paths: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for path in paths {
        browser.resize(1400, 1000).await;
        browser.goto(&format!("{base}{path}")).await;
        browser.find("main").await;
        for problem in browser.accessibility_problems().await {
            found.push(format!("{path}: {problem}"));
        }
        browser.resize(390, 844).await;
        let width = page_width(browser).await;
        if width > 390 {
            found.push(format!("{path} is {width} px wide on a 390 px phone"));
        }
    }
    browser.resize(1400, 1000).await;
    found
}

/// The id of the board's first row.
async fn first_row(browser: &Browser) -> Option<String> {
    browser.find("#rows tr").await.attr("id").await.unwrap()
}

/// The page's width in CSS pixels: more than the window means it scrolls sideways.
async fn page_width(browser: &Browser) -> i64 {
    browser
        .client
        .execute("return document.documentElement.scrollWidth;", vec![])
        .await
        .unwrap()
        .as_i64()
        .unwrap()
}

/// A fleet too long for one page: counted by state, paged, sorted, searched, folded by
/// client, and read on a phone without scrolling sideways, in English and Russian.
#[tokio::test]
async fn a_large_fleet_is_counted_paged_sorted_and_searched() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    fake.add_chat(ANNA_CHAT, "Anna's clients");
    let service = Service::start(Options {
        telegram_api: Some(fake.api_url()),
        ..Options::default()
    })
    .await;
    let base = service.base.clone();
    let mut tokens = Vec::new();
    for c in 0..13 {
        for n in 0..10 {
            let id = format!("c{c:02}-{n}");
            let (status, body) = service
                .create_installation(json!({
                    "id": id, "client": format!("Client {c:02}"), "manager": "Anna",
                    "timezone": "Europe/Moscow", "telegram_chat_id": ANNA_CHAT,
                }))
                .await;
            assert_eq!(status, 201, "{body}");
            tokens.push((id, body["token"].as_str().unwrap().to_string()));
        }
    }
    // The first twenty report: one has lost its dongle, two have every seat taken, the
    // rest are fine.
    let now = jiff::Timestamp::now();
    let updated = (now - jiff::SignedDuration::from_hours(2)).to_string();
    for (id, token) in &tokens[..20] {
        let fine = String::from_utf8(healthy(id))
            .unwrap()
            .replace(
                r#"reachable-by-domain="false""#,
                r#"reachable-by-domain="true""#,
            )
            .replace("2026-11-20T21:17:00+03:00", &now.to_string())
            .replace("2026-11-19T22:40:00+03:00", &updated)
            .replace("2026-11-19T22:41:00+03:00", &updated);
        let report = match id.as_str() {
            "c01-4" => lost(id),
            "c00-3" | "c01-7" => fine
                .replace(r#"in-use="12" peak="14""#, r#"in-use="25" peak="25""#)
                .into_bytes(),
            _ => fine.into_bytes(),
        };
        assert_eq!(service.post_report(token, report).await.status(), 202);
    }
    service.settle().await;
    let alert = alert_of(&service, "c01-4", "dongle-lost").await;

    let browser = Browser::start().await;
    let setup = service.running().setup_link.clone().unwrap();
    browser.first_admin(&setup).await;
    browser.wait_text("h1", |t| t.contains("(130 / 130)")).await;
    let count = |light: &'static str| {
        let browser = &browser;
        async move {
            let text = browser.text(&format!("#count-{light}")).await;
            text.split_whitespace()
                .next()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        }
    };
    assert_eq!(count("grey").await, 110, "never reported is its own state");
    let problems = count("red").await + count("amber").await;
    assert_eq!(problems + count("green").await, 20);
    assert!(problems > 0);
    // Worst first, each row saying what is wrong and linking to it.
    let first = browser.find("#rows tr").await;
    assert_eq!(
        first.attr("data-light").await.unwrap().as_deref(),
        Some("red")
    );
    let what = browser.find("#row-c01-4 .alerts a[href^='/alerts/']").await;
    assert!(!what.text().await.unwrap().is_empty());
    let lost_alert = format!("/alerts/{}", alert["id"]);
    browser.goto(&format!("{base}/installations/c01-4")).await;
    browser
        .find(&format!("#alerts a[href='{lost_alert}']"))
        .await;
    browser.goto(&format!("{base}/")).await;
    assert_eq!(browser.text("#range").await, "1–50 of 130");
    browser.screenshot("board-large").await;

    // Pages, in the URL.
    browser.click("#next").await;
    browser.wait_text("#range", |t| t == "51–100 of 130").await;
    assert!(browser.url().await.contains("page=2"));
    let rows = browser
        .client
        .find_all(fantoccini::Locator::Css("#rows tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 50);

    // Sorted by a header, and the other way round by it again.
    browser.goto(&format!("{base}/")).await;
    browser.click("th a[href*='sort=installation']").await;
    browser
        .wait_text("th[aria-sort=ascending]", |t| t.starts_with("Installation"))
        .await;
    assert_eq!(first_row(&browser).await.as_deref(), Some("row-c00-0"));
    browser.click("th a[href*='sort=installation']").await;
    browser.find("th[aria-sort=descending]").await;
    assert_eq!(first_row(&browser).await.as_deref(), Some("row-c12-9"));

    // Searched, and filtered to one state.
    browser.fill("#filter-client", "client 07").await;
    browser.click("#apply").await;
    browser.wait_text("h1", |t| t.contains("(10 / 130)")).await;
    browser.goto(&format!("{base}/?state=grey")).await;
    browser.wait_text("h1", |t| t.contains("(110 / 130)")).await;
    browser.goto(&format!("{base}/?state=problems")).await;
    let narrowed = format!("({problems} / 130)");
    browser.wait_text("h1", |t| t.contains(&narrowed)).await;

    // Folded by client, worst first.
    browser.goto(&format!("{base}/")).await;
    browser.click("#view-clients").await;
    browser.find("#clients").await;
    let first = browser.find("#client-lines tr").await;
    assert!(first.text().await.unwrap().contains("Client 0"));
    assert_eq!(first.attr("class").await.unwrap().as_deref(), Some("red"));

    browser.goto(&format!("{base}/installations/c01-4")).await;
    browser.screenshot("installation").await;
    // A moment says in which zone it is.
    let reported = browser.text("#last-report").await;
    let zone = reported
        .split_whitespace()
        .skip_while(|word| !word.contains(':'))
        .nth(1)
        .unwrap_or_default();
    assert!(
        !zone.is_empty() && !zone.starts_with('('),
        "no zone after the time: {reported}"
    );

    // Nothing on these pages keeps out a person using assistive technology or a phone.
    let found = barriers(
        &browser,
        &base,
        &[
            "/",
            "/?group=client",
            "/installations/c01-4",
            lost_alert.as_str(),
            "/now",
            "/clients/Client%2001",
        ],
    )
    .await;
    assert!(found.is_empty(), "{found:#?}");
    // Installations that reported today have no line to draw yet, and say so.
    browser.goto(&format!("{base}/clients/Client%2001")).await;
    browser.find("#history .collecting").await;
    browser.resize(390, 844).await;
    browser.goto(&format!("{base}/")).await;
    browser.screenshot("board-large-phone").await;
    browser.goto(&format!("{base}/installations/c01-4")).await;
    browser.screenshot("installation-phone").await;

    // In Russian, the board's own words are Russian.
    browser.resize(1366, 900).await;
    choose_language(&browser, "ru").await;
    browser.goto(&format!("{base}/")).await;
    browser
        .wait_text("h1", |t| t.starts_with("Парк установок"))
        .await;
    for part in ["#summary", "#board thead", "#row-c01-4 .state", "#range"] {
        let text = browser.text(part).await;
        assert!(
            !text.chars().any(|c| c.is_ascii_alphabetic()),
            "{part}: {text}"
        );
    }
    browser.screenshot("board-large-ru").await;
    browser.goto(&format!("{base}/installations/c01-4")).await;
    browser.screenshot("installation-ru").await;
    browser.resize(390, 844).await;
    browser.goto(&format!("{base}/")).await;
    browser.screenshot("board-large-ru-phone").await;
    browser.close().await;
}

#[tokio::test]
async fn pages_refuse_whoever_may_not() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    let (service, tokens) = fleet(&fake, "").await;
    let anonymous = no_redirects();

    // Nobody logged in: every page sends to the login page, the event stream included.
    for path in ["/", "/now", "/events", "/admin/staff", "/alerts/1"] {
        let response = anonymous.get(service.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        let location = response.headers()["location"].to_str().unwrap();
        assert!(location.starts_with("/login?next="), "{path}: {location}");
    }
    let login_page = anonymous
        .get(service.url("/login"))
        .header("accept-language", "ru-RU,ru;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login_page.contains("Вход в Reveille") && login_page.contains("ссылку настройки"));

    // The setup link works once; a wrong one never.
    let setup = service.running().setup_link.clone().unwrap();
    let last = if setup.ends_with('0') { "1" } else { "0" };
    let wrong = format!("{}{last}", &setup[..setup.len() - 1]);
    let refused = anonymous
        .post(&wrong)
        .form(&[
            ("name", "mallory"),
            ("password", "a long password"),
            ("lang", "en"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let short = anonymous
        .post(&setup)
        .form(&[("name", "admin"), ("password", "short"), ("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    assert!(
        short
            .text()
            .await
            .unwrap()
            .contains("at least 10 characters")
    );
    let created = anonymous
        .post(&setup)
        .form(&[
            ("name", "admin"),
            ("password", "correct horse battery"),
            ("lang", "en"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let cookie = Session::from_response(&created).expect("logged in after setup");
    assert!(
        created.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("HttpOnly")
    );
    let again = anonymous
        .post(&setup)
        .form(&[
            ("name", "second"),
            ("password", "another long one"),
            ("lang", "en"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let admin = Session::with_cookie(&service, cookie).await;

    // Accounts: a manager (Anna) and a viewer.
    admin.add_staff(&service, "anna", "manager", "Anna").await;
    admin.add_staff(&service, "vera", "viewer", "").await;

    // The directory's pages are forms, saved through the API's own checks.
    let saved = admin
        .post(
            &service,
            "/admin/directory/contacts",
            &[
                ("csrf", &admin.csrf),
                ("name", "petrov"),
                ("telegram_user_id", "42"),
            ],
        )
        .await;
    assert_eq!(saved, StatusCode::OK);
    let (status, contact) = service
        .admin_request("GET", "/api/v1/contacts/petrov", None)
        .await;
    assert_eq!(status, 200, "{contact}");
    let invalid = admin
        .post(
            &service,
            "/admin/directory/contacts",
            &[
                ("csrf", &admin.csrf),
                ("name", "ghost"),
                ("telegram_user_id", "-42"),
            ],
        )
        .await;
    assert_eq!(invalid, StatusCode::BAD_REQUEST);

    // A client's settings of a check, a field per setting it declares, typed and checked
    // as the API checks them.
    let form = admin
        .text(&service, "/clients/ООО «Вектор»/settings/version-minimum")
        .await;
    assert!(form.contains(r#"name="minimum""#), "{form}");
    let set = admin
        .post(
            &service,
            "/clients/ООО «Вектор»/settings/version-minimum",
            &[("csrf", &admin.csrf), ("minimum", "6.5.0")],
        )
        .await;
    assert_eq!(set, StatusCode::SEE_OTHER);
    let (_, settings) = service
        .admin_request("GET", "/api/v1/clients/ООО «Вектор»/settings", None)
        .await;
    assert_eq!(settings["settings"]["version-minimum"]["minimum"], "6.5.0");
    let (wrong, page) = admin
        .post_page(
            &service,
            "/clients/ООО «Вектор»/settings/version-minimum",
            &[("csrf", &admin.csrf), ("minimum", "six")],
        )
        .await;
    assert_eq!(wrong, StatusCode::BAD_REQUEST);
    assert!(page.contains(r#"id="f-minimum-problem""#), "{page}");
    assert!(page.contains(r#"value="six""#), "the typed value was lost");
    let (_, settings) = service
        .admin_request("GET", "/api/v1/clients/ООО «Вектор»/settings", None)
        .await;
    assert_eq!(settings["settings"]["version-minimum"]["minimum"], "6.5.0");

    // A form without its session's CSRF token is refused, and changes nothing.
    assert_eq!(
        service
            .post_report(&tokens[2].1, lost("boris-1"))
            .await
            .status(),
        202
    );
    let boris_alert = alert_of(&service, "boris-1", "dongle-lost").await;
    let ack = format!("/alerts/{}/ack", boris_alert["id"]);
    assert_eq!(admin.post(&service, &ack, &[]).await, StatusCode::FORBIDDEN);
    assert_eq!(
        admin.post(&service, &ack, &[("csrf", "0123")]).await,
        StatusCode::FORBIDDEN
    );
    let unchanged = service.alert(boris_alert["id"].as_i64().unwrap()).await;
    assert_eq!(unchanged["alert"]["acknowledged_by"], Value::Null);

    // A manager sees her own clients only; the admin pages are not hers.
    let anna = Session::login(&service, "anna", "a long enough password")
        .await
        .expect("anna logs in");
    assert_eq!(
        anna.get(&service, "/clients/ООО «Вектор»").await,
        StatusCode::OK
    );
    assert_eq!(
        anna.get(&service, "/clients/АО «Полюс»").await,
        StatusCode::FORBIDDEN
    );
    // So are her clients' reports, and no one else's.
    assert_eq!(
        anna.get(
            &service,
            "/clients/ООО «Вектор»/report?quarter=2026Q4&format=csv"
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        anna.get(
            &service,
            "/clients/АО «Полюс»/report?quarter=2026Q4&format=csv"
        )
        .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        anna.get(&service, &format!("/alerts/{}", boris_alert["id"]))
            .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        anna.post(&service, &ack, &[("csrf", &anna.csrf)]).await,
        StatusCode::FORBIDDEN
    );
    for path in [
        "/admin/installations",
        "/admin/plugins",
        "/admin/staff",
        "/admin/directory/contacts",
    ] {
        assert_eq!(
            anna.get(&service, path).await,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let rotate = anna
        .post(
            &service,
            "/admin/installations/anna-1/token",
            &[("csrf", &anna.csrf)],
        )
        .await;
    assert_eq!(rotate, StatusCode::FORBIDDEN);

    // A viewer reads everything and changes nothing.
    let vera = Session::login(&service, "vera", "a long enough password")
        .await
        .expect("vera logs in");
    assert_eq!(
        vera.get(&service, "/clients/АО «Полюс»").await,
        StatusCode::OK
    );
    assert_eq!(
        vera.post(&service, &ack, &[("csrf", &vera.csrf)]).await,
        StatusCode::FORBIDDEN
    );
    // The admin may.
    assert_eq!(
        admin.post(&service, &ack, &[("csrf", &admin.csrf)]).await,
        StatusCode::SEE_OTHER
    );
    let taken = service.alert(boris_alert["id"].as_i64().unwrap()).await;
    assert_eq!(taken["alert"]["acknowledged_by"], "admin (web)");

    // Logins are throttled per account and address: after three failures from here, even
    // the right password waits.
    for _ in 0..3 {
        assert_eq!(
            Session::login(&service, "vera", "wrong password")
                .await
                .err(),
            Some(StatusCode::UNAUTHORIZED)
        );
    }
    assert_eq!(
        Session::login(&service, "vera", "a long enough password")
            .await
            .err(),
        Some(StatusCode::TOO_MANY_REQUESTS)
    );
    // Logging out ends the session.
    assert_eq!(
        anna.post(&service, "/logout", &[("csrf", &anna.csrf)])
            .await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(anna.get(&service, "/").await, StatusCode::SEE_OTHER);
    // And the admin token still serves automation.
    let (status, _) = service
        .admin_request("GET", "/api/v1/installations", None)
        .await;
    assert_eq!(status, 200);
}

/// "Log in with Telegram": `/login` in a private chat with the bot sends the account that
/// carries the writer's Telegram id a link that works once, for ten minutes (on the manual
/// clock); opening it only shows a button, so a link preview cannot spend it.
#[tokio::test]
async fn the_bot_sends_a_one_time_login_link() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    let clock = Arc::new(ManualClock::new(reveille_tests::at(
        "2026-11-22T10:00:00+03:00",
    )));
    let service = Service::start(Options {
        telegram_api: Some(fake.api_url()),
        clock: Some(clock.clone()),
        ..Options::default()
    })
    .await;
    add_anna(&service).await;

    let anna = User::new(4242, "Anna", Some("anna"));
    let stranger = User::new(666, "Mallory", None);
    fake.add_chat(-5, "Support");
    fake.say(-5, &anna, "/login");
    wait_reply_text(&fake, -5, "private chat").await;
    // A newcomer learns their Telegram id from the bot, to give the administrator.
    fake.start_private(&stranger);
    wait_reply_text(&fake, 666, "Your Telegram user id is 666:").await;
    fake.say(666, &stranger, "/login");
    wait_reply_text(&fake, 666, "No staff account has your Telegram id, 666.").await;

    fake.start_private(&anna);
    let link = login_link(&fake, &anna, 1).await;
    for _ in 0..2 {
        let page = no_redirects().get(&link).send().await.unwrap();
        assert_eq!(
            page.status(),
            StatusCode::OK,
            "opening the link spends nothing"
        );
    }
    let used = no_redirects().post(&link).send().await.unwrap();
    assert_eq!(used.status(), StatusCode::SEE_OTHER);
    let session = Session::with_cookie(&service, Session::from_response(&used).unwrap()).await;
    assert_eq!(session.get(&service, "/").await, StatusCode::OK);
    let again = no_redirects().post(&link).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);

    // A link not used within ten minutes is dead.
    let late = login_link(&fake, &anna, 2).await;
    clock.advance(Duration::from_secs(11 * 60));
    let expired = no_redirects().post(&late).send().await.unwrap();
    assert_eq!(expired.status(), StatusCode::NOT_FOUND);
}

/// An empty fleet is not called healthy: "Now" says nothing is watched yet and points the
/// admin to adding an installation; once one is there, all is well.
#[tokio::test]
async fn an_empty_fleet_is_not_called_healthy() {
    let service = Service::start(Options::default()).await;
    let admin = Session::first_admin(&service, "admin", "correct horse battery").await;
    let now = admin.text(&service, "/now").await;
    assert!(now.contains(r#"id="none-watched""#), "{now}");
    assert!(now.contains(r#"href="/admin/installations""#), "{now}");
    assert!(!now.contains(r#"id="all-well""#), "{now}");
    service.installation("vector-main").await;
    let now = admin.text(&service, "/now").await;
    assert!(now.contains(r#"id="all-well""#), "{now}");
    assert!(!now.contains(r#"id="none-watched""#), "{now}");
}

/// The first admin (through the setup link) adds manager anna, who reads Russian and
/// whose Telegram user id is 4242.
async fn add_anna(service: &Service) {
    let admin = Session::first_admin(service, "admin", "correct horse battery").await;
    let status = admin
        .post(
            service,
            "/admin/staff",
            &[
                ("csrf", &admin.csrf),
                ("name", "anna"),
                ("password", "a long enough password"),
                ("role", "manager"),
                ("manager", "Anna"),
                ("lang", "ru"),
                ("telegram_user_id", "4242"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

/// A browser at `address` on loopback (127.0.0.0/8), without following redirects.
fn browser_at(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(address.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// A stranger guessing a manager's password slows down only the stranger (and other
/// unknown addresses), never the manager's own address, and never the bot's login link.
#[tokio::test]
async fn a_strangers_guesses_do_not_lock_the_owner_out() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    let clock = Arc::new(ManualClock::new(reveille_tests::at(
        "2026-11-22T10:00:00+03:00",
    )));
    let service = Service::start(Options {
        telegram_api: Some(fake.api_url()),
        clock: Some(clock.clone()),
        ..Options::default()
    })
    .await;
    add_anna(&service).await;
    let login = async |from: &reqwest::Client, password: &str| {
        from.post(service.url("/login"))
            .header("accept-language", "ru")
            .form(&[("name", "anna"), ("password", password), ("next", "/")])
            .send()
            .await
            .unwrap()
    };
    let (owner, stranger, newcomer) = (
        browser_at("127.0.0.1"),
        browser_at("127.0.0.2"),
        browser_at("127.0.0.3"),
    );
    assert_eq!(
        login(&owner, "a long enough password").await.status(),
        StatusCode::SEE_OTHER
    );

    // The stranger's guesses: three free, then a wait that doubles each time.
    let mut waits = Vec::new();
    let mut failures = 0;
    while failures < 12 {
        let answer = login(&stranger, "guess").await;
        match answer.status() {
            StatusCode::UNAUTHORIZED => failures += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                let wait: u64 = answer.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                let page = answer.text().await.unwrap();
                assert!(page.contains("Слишком много неудачных попыток"), "{page}");
                waits.push(wait);
                clock.advance(Duration::from_secs(wait));
            }
            other => panic!("{other}"),
        }
    }
    assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256]);
    assert_eq!(
        login(&stranger, "a long enough password").await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits there"
    );

    // The owner's address is not slowed by them: a typo, then the password.
    assert_eq!(
        login(&owner, "typo").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&owner, "a long enough password").await.status(),
        StatusCode::SEE_OTHER
    );
    // A new address waits behind the strangers' failures...
    assert_eq!(
        login(&newcomer, "a long enough password").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // ...but the bot's link is no password attempt.
    fake.start_private(&User::new(4242, "Anna", Some("anna")));
    let link = login_link(&fake, &User::new(4242, "Anna", Some("anna")), 1).await;
    let used = newcomer.post(&link).send().await.unwrap();
    assert_eq!(used.status(), StatusCode::SEE_OTHER);
    assert!(Session::from_response(&used).is_some());
}

/// The `nth` login link the bot sent `user` after they asked for it.
async fn login_link(fake: &FakeTelegram, user: &User, nth: usize) -> String {
    fake.say(user.id, user, "/login");
    let links = |f: &FakeTelegram| -> Vec<String> {
        f.bot_messages(user.id)
            .iter()
            .filter_map(|m| {
                let at = m.text.find("http://")?;
                Some(m.text[at..].split_whitespace().next()?.to_string())
            })
            .collect()
    };
    assert!(
        fake.wait_for(WAIT, |f| links(f).len() >= nth).await,
        "{:#?}",
        fake.bot_messages(user.id)
    );
    links(fake)[nth - 1].clone()
}

/// A distributor onboards 300 clients from a spreadsheet as an admin would: the file is
/// checked first (nothing stored; the one bad row named with its line and what is wrong),
/// then stored, with a file of the new tokens; the same file again changes nothing. One
/// installation is then edited in its form (a mistake on the way keeps what was typed)
/// without losing its token, and the list is searched and paged.
#[tokio::test]
async fn installations_are_onboarded_from_a_spreadsheet_and_edited() {
    let service = Service::start(Options::default()).await;
    let base = service.base.clone();
    let browser = Browser::start().await;
    browser
        .first_admin(&service.running().setup_link.clone().unwrap())
        .await;

    let mut csv = String::from("id;client;manager;timezone;telegram_chat_id;parent;tags\n");
    for n in 1..=300 {
        let zone = if n == 150 { "Moscow" } else { "Europe/Moscow" };
        let manager = if n % 2 == 0 { "Anna" } else { "Boris" };
        csv.push_str(&format!(
            "client-{n:03};Клиент {n:03};{manager};{zone};-100{n:03};;region-{}\n",
            n % 7
        ));
    }
    let file = std::env::temp_dir().join(format!("reveille-onboard-{}.csv", std::process::id()));
    std::fs::write(&file, &csv).unwrap();
    let preview = async || {
        browser.goto(&format!("{base}/admin/installations")).await;
        browser
            .find("#import-file")
            .await
            .send_keys(file.to_str().unwrap())
            .await
            .expect("choose the file");
        browser.click("#preview-import").await;
        browser
            .wait_text("#onboard-counts", |t| !t.is_empty())
            .await
    };
    let counts = preview().await;
    assert!(
        counts.contains("299 new") && counts.contains("1 refused"),
        "{counts}"
    );
    let refused = browser.text("#onboard-rows tr.refused").await;
    assert!(
        refused.contains("151") && refused.contains("client-150"),
        "{refused}"
    );
    assert!(refused.contains("“Moscow” is not a time zone"), "{refused}");
    assert!(
        installation_count(&service).await == 0,
        "a preview stored something"
    );
    browser.screenshot("onboarding-preview").await;
    browser.click("#apply-import").await;
    let done = browser
        .wait_text("#onboard-counts", |t| t.starts_with("Done"))
        .await;
    assert!(done.contains("299 new"), "{done}");
    assert_eq!(installation_count(&service).await, 299);
    let link = browser
        .find("#tokens-file")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let tokens = percent_encoding::percent_decode_str(
        link.strip_prefix("data:text/csv;charset=utf-8,").unwrap(),
    )
    .decode_utf8()
    .unwrap()
    .into_owned();
    let mut reader = csv::Reader::from_reader(tokens.as_bytes());
    let issued: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(issued.len(), 299);
    let first = &issued[0];
    assert_eq!(&first[0], "client-001");
    assert!(
        first[3].contains("installation = \"client-001\""),
        "{:?}",
        first
    );
    let token = first[2].to_string();
    assert_eq!(
        service
            .post_report(&token, healthy("client-001"))
            .await
            .status(),
        202,
        "the handed-out token works"
    );

    let again = preview().await;
    assert!(
        again.contains("0 new") && again.contains("0 changed") && again.contains("299 unchanged"),
        "{again}"
    );
    assert!(
        browser
            .client
            .find(fantoccini::Locator::Css("#apply-import"))
            .await
            .is_err()
    );

    // Search and pages.
    browser.goto(&format!("{base}/admin/installations")).await;
    assert!(browser.text("#total").await.contains("299"));
    assert!(browser.text("#installations").await.contains("client-050"));
    assert!(!browser.text("#installations").await.contains("client-051"));
    browser.click("#next").await;
    browser
        .wait_text("#installations", |t| t.contains("client-051"))
        .await;
    browser.fill("#q", "region-3").await;
    browser.click("#search").await;
    // Every seventh has the tag; the 150th was refused.
    browser.wait_text("#total", |t| t.contains("42")).await;

    // Edited in its form: a mistake keeps what was typed; then saved, token kept.
    browser
        .goto(&format!("{base}/admin/installations?edit=client-001"))
        .await;
    browser.fill("[name=manager]", "Vera").await;
    browser.fill("[name=url]", "vector.local").await;
    browser.fill("[name=parent]", "nowhere").await;
    browser.click("#save-installation").await;
    let error = browser.wait_text("#error", |t| !t.is_empty()).await;
    assert!(error.contains("2 things need fixing"), "{error}");
    assert!(
        browser
            .text("#f-url-problem")
            .await
            .contains("vector.local")
    );
    assert!(browser.text("#f-parent-problem").await.contains("nowhere"));
    let kept = browser
        .find("[name=manager]")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("Vera"));
    browser.fill("[name=url]", "https://vector.local").await;
    browser.fill("[name=parent]", "").await;
    browser.click("#save-installation").await;
    browser
        .wait_text("#outcome", |t| t.contains("client-001"))
        .await;
    let (_, body) = service
        .admin_request("GET", "/api/v1/installations/client-001", None)
        .await;
    assert_eq!(body["installation"]["manager"], "Vera", "{body}");
    assert_eq!(body["installation"]["url"], "https://vector.local");
    assert_eq!(
        service
            .post_report(&token, healthy("client-001"))
            .await
            .status(),
        202,
        "the token survives an edit"
    );
    browser.screenshot("installations").await;
    browser.resize(390, 844).await;
    browser.screenshot("installations-phone").await;
    let found = barriers(&browser, &base, &["/admin/installations"]).await;
    assert!(found.is_empty(), "{found:#?}");
    // Through the API, a child given before its parent is stored after it.
    let imported: Value = reqwest::Client::new()
        .post(service.url("/api/v1/installations/import?apply=true"))
        .bearer_auth(reveille_tests::ADMIN_TOKEN)
        .body(
            "id,client,manager,timezone,telegram_chat_id,parent\n\
             behind,Клиент 301,Anna,Europe/Moscow,-1001,redirect-9\n\
             redirect-9,Хостинг,Anna,Europe/Moscow,-1001,\n",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(imported["new"], 2, "{imported}");
    assert_eq!(
        imported["tokens"].as_array().map(Vec::len),
        Some(2),
        "{imported}"
    );
    assert_eq!(installation_count(&service).await, 301);

    let _ = std::fs::remove_file(&file);
    browser.close().await;
}

async fn installation_count(service: &Service) -> usize {
    let (_, body) = service
        .admin_request("GET", "/api/v1/installations", None)
        .await;
    body["installations"].as_array().map_or(0, Vec::len)
}

/// Accounts as an administrator keeps them: a new one is a viewer unless said otherwise;
/// a role changes in place; the last administrator can be neither demoted nor removed,
/// and nobody removes themselves; a forgotten password is replaced through a one-time
/// link its owner opens, which works once.
#[tokio::test]
async fn staff_accounts_are_changed_reset_and_always_keep_an_administrator() {
    let service = Service::start(Options::default()).await;
    let admin = Session::first_admin(&service, "admin", "correct horse battery").await;
    let page = admin.text(&service, "/admin/staff").await;
    let role_select = page.split(r#"id="staff-role""#).nth(1).unwrap();
    assert!(
        role_select
            .trim_start()
            .starts_with(r#"><option value="viewer">"#),
        "a new account is not a viewer by default: {}",
        &role_select[..80]
    );
    admin.add_staff(&service, "vera", "viewer", "").await;

    let change = |role: &'static str| {
        [
            ("csrf", admin.csrf.as_str()),
            ("role", role),
            ("manager", ""),
            ("lang", "ru"),
            ("telegram_user_id", "777"),
        ]
    };
    let (status, page) = admin
        .post_page(&service, "/admin/staff/admin", &change("viewer"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("is the last administrator"), "{page}");
    let (status, page) = admin
        .post_page(
            &service,
            "/admin/staff/admin/delete",
            &[("csrf", &admin.csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("cannot delete your own account"), "{page}");
    let (status, page) = admin
        .post_page(&service, "/admin/staff/vera", &change("admin"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let vera = Session::login(&service, "vera", "a long enough password")
        .await
        .unwrap();
    let (status, page) = vera
        .post_page(
            &service,
            "/admin/staff/admin/delete",
            &[("csrf", &vera.csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (status, page) = vera
        .post_page(
            &service,
            "/admin/staff/vera",
            &[
                ("csrf", vera.csrf.as_str()),
                ("role", "manager"),
                ("manager", "Vera"),
                ("lang", "ru"),
                ("telegram_user_id", ""),
            ],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the last admin demoted herself"
    );
    assert!(page.contains("последний администратор"), "{page}");

    // Vera forgets her password; a new administrator hands her a link.
    vera.add_staff(&service, "root", "admin", "").await;
    let root = Session::login(&service, "root", "a long enough password")
        .await
        .unwrap();
    let (_, page) = root
        .post_page(&service, "/admin/staff/vera/reset", &[("csrf", &root.csrf)])
        .await;
    let link = page
        .split(r#"id="reset">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the reset link on the page")
        .to_string();
    let path = &link[link.find("/password/").unwrap()..];
    let client = no_redirects();
    let opened = client.get(service.url(path)).send().await.unwrap();
    assert_eq!(opened.status(), StatusCode::OK);
    let choose = async |again: &str| {
        client
            .post(service.url(path))
            .form(&[("password", "a brand new password"), ("again", again)])
            .send()
            .await
            .unwrap()
    };
    let differ = choose("a brand new passwore").await;
    assert_eq!(differ.status(), StatusCode::BAD_REQUEST);
    let set = choose("a brand new password").await;
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    assert!(
        Session::from_response(&set).is_some(),
        "logged in after the reset"
    );
    let spent = client.get(service.url(path)).send().await.unwrap();
    assert_eq!(
        spent.status(),
        StatusCode::NOT_FOUND,
        "a reset link works once"
    );
    assert!(
        Session::login(&service, "vera", "a brand new password")
            .await
            .is_ok()
    );
    assert!(
        Session::login(&service, "vera", "a long enough password")
            .await
            .is_err(),
        "the old password still works"
    );
}

/// The newcomer's path, as a person walks it, in Russian from the setup page on: the
/// first administrator; the board's checklist; the bot, added to the managers' group,
/// introduces itself there with the chat's id and a one-time code, in the setup's language;
/// an installation added through its form with that code for its chat (a mistake on the
/// way keeps every field and names every problem); the agent's first report; a test alert
/// from the checklist reaches the group in Russian, with Russian buttons and a link to its
/// page, and ends the checklist; then the first real alert.
#[tokio::test]
async fn a_newcomer_goes_from_an_empty_service_to_the_first_alert_in_telegram() {
    const GROUP: i64 = -1_009_001;
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    let service = Service::start(Options {
        telegram_api: Some(fake.api_url()),
        config: "public_url = \"https://reveille.example\"\n".into(),
        ..Options::default()
    })
    .await;
    let base = service.base.clone();
    let browser = Browser::start().await;
    // The link names the public address; this test reaches the service directly.
    let setup = service.running().setup_link.clone().unwrap();
    let setup = format!("{base}{}", &setup[setup.find("/setup/").unwrap()..]);
    browser.goto(&setup).await;
    choose_language(&browser, "ru").await;
    browser.fill("#name", "admin").await;
    browser.fill("#password", "correct horse battery").await;
    browser.click("#create-admin").await;
    browser.wait_text("h1", |t| t.starts_with("Парк")).await;
    let steps = browser.text("#checklist").await;
    assert!(steps.contains("Добавьте установку"), "{steps}");
    assert_eq!(
        step(&browser, "#first-telegram").await.as_deref(),
        Some("done"),
        "the bot's token is set"
    );
    browser.screenshot("newcomer-checklist").await;

    // Anna adds the bot to the managers' group: it introduces itself there, in the
    // language the service was set up in, with the chat's id and a code to pick it by. A
    // person whose Telegram app is in Italian is answered in Italian in their private
    // chat from the first message.
    let anna = User::new(601, "Анна", Some("anna"));
    fake.add_bot_to_group(GROUP, "Менеджеры", &anna);
    wait_reply_text(&fake, GROUP, &GROUP.to_string()).await;
    let hello = fake.bot_messages(GROUP)[0].text.clone();
    assert!(hello.contains("Здравствуйте"), "not in Russian: {hello}");
    let code = chat_code(&hello);
    let bruno = User::new(602, "Bruno", None).speaking("it-IT");
    fake.start_private(&bruno);
    wait_reply_text(&fake, 602, "Il tuo id utente Telegram è 602").await;

    browser.click("#first-installation a").await;
    let chats = browser.find("#chats option").await;
    assert_eq!(
        chats.attr("value").await.unwrap().as_deref(),
        Some("-1009001")
    );
    // In the folded list of chats: read what it holds, shown or not.
    let heard = browser
        .find("#chat--1009001")
        .await
        .prop("textContent")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        heard.contains("Анна") && heard.contains("не нажимал Start"),
        "{heard}"
    );
    browser.fill("#entry [name=id]", "vector main").await;
    browser.fill("#entry [name=manager]", "Иванов").await;
    browser.fill("#entry [name=timezone]", "Москва").await;
    browser.fill("#entry [name=telegram_chat_id]", &code).await;
    browser.click("#save-installation").await;
    let error = browser.wait_text("#error", |t| !t.is_empty()).await;
    assert!(error.contains("Нужно исправить 3"), "{error}");
    for field in ["id", "client", "timezone"] {
        browser.find(&format!("#f-{field}-problem")).await;
    }
    let field = |name: &'static str| {
        let browser = &browser;
        async move {
            browser
                .find(&format!("#entry [name={name}]"))
                .await
                .prop("value")
                .await
                .unwrap()
        }
    };
    assert_eq!(
        field("manager").await.as_deref(),
        Some("Иванов"),
        "a mistake lost what was typed"
    );
    assert_eq!(
        field("telegram_chat_id").await.as_deref(),
        Some("-1009001"),
        "the code names the group"
    );
    browser.fill("#entry [name=id]", "vector-main").await;
    browser.fill("#entry [name=client]", "ООО «Вектор»").await;
    browser
        .fill("#entry [name=timezone]", "Europe/Moscow")
        .await;
    browser.click("#save-installation").await;
    let token = browser.text("#token").await;
    // A code works once.
    browser.goto(&format!("{base}/admin/installations")).await;
    browser.fill("#entry [name=id]", "vector-second").await;
    browser.fill("#entry [name=client]", "ООО «Вектор»").await;
    browser.fill("#entry [name=manager]", "Иванов").await;
    browser.fill("#entry [name=telegram_chat_id]", &code).await;
    browser.click("#save-installation").await;
    let spent = browser.text("#f-telegram-chat-id-problem").await;
    assert!(spent.contains("уже использован"), "{spent}");
    browser.goto(&format!("{base}/")).await;
    assert_eq!(step(&browser, "#first-chat").await.as_deref(), Some("done"));

    // A test alert from the checklist takes the way a real one would.
    browser.screenshot("newcomer-test-alert").await;
    browser.click("#send-test").await;
    browser
        .wait_text("h1", |t| t.contains("Пробная тревога"))
        .await;
    let test = fake_alert(&fake, GROUP, "reveille.test/").await;
    assert!(
        test.text.contains("Пробная тревога от admin (web)"),
        "{}",
        test.text
    );
    let labels: Vec<&str> = test.buttons.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, ["✋ Беру", "💤 1 ч", "💤 4 ч"]);
    let test_id = alert_of(&service, "vector-main", "reveille.test").await["id"].clone();
    assert!(
        test.html().contains(&format!(
            "<a href=\"https://reveille.example/alerts/{test_id}\">открыть на доске</a>"
        )),
        "{}",
        test.html()
    );
    browser.click("#close-test").await;
    browser.wait_text("#state", |t| t == "решена").await;
    // Automation tries the same through the API.
    let path = "/api/v1/installations/vector-main/test-alert";
    let (status, body) = service.admin_request("POST", path, None).await;
    assert_eq!(status, 200, "{body}");
    let again = body["alert"].as_i64().expect("a test alert opened");
    assert_ne!(
        again,
        test_id.as_i64().unwrap(),
        "a closed test is not reopened"
    );
    let (status, body) = service.admin_request("DELETE", path, None).await;
    assert_eq!(
        (status, body["alert"].as_i64()),
        (200, Some(again)),
        "{body}"
    );
    assert!(
        service
            .alerts("installation=vector-main&plugin=reveille.test&state=open")
            .await
            .is_empty(),
        "the test alert stayed open"
    );
    browser.goto(&format!("{base}/")).await;
    assert_eq!(
        step(&browser, "#first-alert").await.as_deref(),
        Some("done")
    );

    // The agent's first report ends the checklist.
    assert_eq!(
        service
            .post_report(&token, healthy("vector-main"))
            .await
            .status(),
        202
    );
    service.settle().await;
    browser.goto(&format!("{base}/")).await;
    browser.find("#row-vector-main").await;
    assert!(
        browser
            .client
            .find(fantoccini::Locator::Css("#checklist"))
            .await
            .is_err(),
        "the checklist stays after every step is done"
    );

    // The first real alert: a lost dongle.
    assert_eq!(
        service
            .post_report(&token, lost("vector-main"))
            .await
            .status(),
        202
    );
    let alert = fake_alert(&fake, GROUP, "dongle-lost/").await;
    assert!(alert.text.contains("КРИТИЧНО"), "{}", alert.text);
    // The admin's account is tied to Anna's Telegram by a code, not by typing her id.
    browser.goto(&format!("{base}/admin/staff")).await;
    browser.click("#staff-admin button.tie").await;
    let code = browser.text("#code").await;
    assert!(code.starts_with("/link "), "{code}");
    fake.say(GROUP, &anna, &code);
    wait_reply_text(&fake, GROUP, "в личном чате").await;
    fake.start_private(&anna);
    fake.say(601, &anna, &code);
    wait_reply_text(&fake, 601, "не работает").await;
    browser.goto(&format!("{base}/admin/staff")).await;
    browser.click("#staff-admin button.tie").await;
    let code = browser.text("#code").await;
    fake.say(601, &anna, &code);
    wait_reply_text(&fake, 601, "привязана к вашему пользователю Telegram 601").await;
    browser.goto(&format!("{base}/admin/staff")).await;
    assert!(browser.text("#staff-admin").await.contains("601"));
    let test_page = format!("/alerts/{test_id}");
    for lang in ["ru", "en"] {
        for (page, name) in [
            ("/admin/staff", "staff"),
            ("/admin/installations", "installations"),
            (
                "/clients/ООО «Вектор»/settings/stale-updates",
                "client-settings",
            ),
            (test_page.as_str(), "test-alert"),
        ] {
            if lang != "ru" && page == "/admin/staff" {
                choose_language(&browser, lang).await;
                browser.wait_text("h1", |t| t.is_ascii()).await;
            }
            browser.goto(&format!("{base}{page}")).await;
            if name == "installations" {
                browser.click("#bot-chats summary").await;
            }
            browser.screenshot(&format!("{name}-{lang}")).await;
            browser.resize(390, 844).await;
            browser.screenshot(&format!("{name}-{lang}-phone")).await;
            browser.resize(1366, 900).await;
        }
    }
    browser.close().await;
}

/// The one-time chat code in the bot's words.
fn chat_code(text: &str) -> String {
    let at = text
        .find("chat-")
        .unwrap_or_else(|| panic!("no code in {text:?}"));
    text[at..at + "chat-".len() + 8].to_string()
}

/// The bot's message in `chat` whose HTML has `marker` (an alert's `plugin/key`), once it
/// arrives.
async fn fake_alert(fake: &FakeTelegram, chat: i64, marker: &str) -> ChatMessage {
    assert!(
        fake.wait_for(WAIT, |f| f
            .bot_messages(chat)
            .iter()
            .any(|m| m.html().contains(marker)))
            .await,
        "no alert {marker} in the chat: {:#?}",
        fake.bot_messages(chat)
    );
    fake.bot_messages(chat)
        .into_iter()
        .find(|m| m.html().contains(marker))
        .unwrap()
}

/// A client's status page: an administrator makes its private link on the client's page;
/// anyone with it reads, without a login and without a script, how each installation is
/// (in plain words, in the client's language, by its address rather than its id), the
/// planned work ahead and 90 days of availability; renewing the link ends the old one.
#[tokio::test]
async fn a_client_reads_its_status_page_by_a_private_link() {
    const CLIENT: &str = "ООО «Вектор»";
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    let (service, tokens) = fleet(&fake, "").await;
    let (status, body) = service
        .create_installation(json!({
            "id": "anna-3", "client": CLIENT, "manager": "Anna",
            "timezone": "Europe/Moscow", "telegram_chat_id": ANNA_CHAT,
            "url": "https://kds.vector.example/login",
        }))
        .await;
    assert_eq!(status, 201, "{body}");
    let third = body["token"].as_str().unwrap().to_string();
    assert_eq!(
        service
            .post_report(&third, healthy("anna-3"))
            .await
            .status(),
        202
    );
    assert_eq!(
        service
            .post_report(token(&tokens, "anna-1"), lost("anna-1"))
            .await
            .status(),
        202
    );
    let (status, body) = service
        .admin_request(
            "PUT",
            "/api/v1/clients/ООО «Вектор»/policy",
            Some(json!({ "language": "ru" })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let start = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(26);
    let end = start + jiff::SignedDuration::from_hours(2);
    let (status, body) = service
        .admin_request(
            "PUT",
            "/api/v1/maintenance/kds-upgrade",
            Some(json!({
                "scope": { "installation": "anna-3" },
                "from": start.to_string(), "to": end.to_string(),
                "author": "Anna", "reason": "обновление КДС",
            })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    service.settle().await;
    alert_of(&service, "anna-1", "dongle-lost").await;

    let base = service.base.clone();
    let browser = Browser::start().await;
    browser
        .first_admin(service.running().setup_link.as_ref().unwrap())
        .await;
    let page = format!("{base}/clients/{}", urlencode(CLIENT));
    browser.goto(&page).await;
    let make_link = async || {
        browser.click("#make-status-link").await;
        browser
            .find("#status-link")
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap()
    };
    let link = make_link().await;
    assert!(link.contains("/status/"), "{link}");
    browser.screenshot("client-status-link").await;
    browser.resize(390, 844).await;
    browser.screenshot("client-status-link-phone").await;
    browser.resize(1366, 900).await;

    // What staff publish about the incident the client reads; what they keep among
    // themselves it does not: by command in Telegram, by the API, and by the incident's
    // page with the box ticked.
    let incident = soon("an incident", async || {
        let (_, body) = service
            .admin_request("GET", "/api/v1/incidents", None)
            .await;
        body["incidents"][0]["id"].as_i64()
    })
    .await;
    let olga = User::new(701, "Olga", None);
    service.authorize(ANNA_CHAT, 701, "Olga").await;
    fake.say(
        ANNA_CHAT,
        &olga,
        &format!("/publish {incident} Сервер перенаправления перезапускается"),
    );
    wait_reply_text(&fake, ANNA_CHAT, "status pages").await;
    // The incident's card in the chat marks what its clients read.
    wait_reply_text(
        &fake,
        ANNA_CHAT,
        "Сервер перенаправления перезапускается · видно клиентам",
    )
    .await;
    let (status, body) = service
        .admin_request(
            "POST",
            &format!("/api/v1/incidents/{incident}/updates"),
            Some(json!({ "text": "внутреннее: у провайдера DNS сбой" })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    browser.goto(&format!("{base}/incidents/{incident}")).await;
    browser.fill("#update-text", "Ожидаем к 10:00").await;
    browser.click("#update-publish").await;
    browser.click("#post-update").await;
    browser
        .wait_text("#updates", |t| t.contains("Ожидаем к 10:00"))
        .await;
    assert!(
        browser.text("#updates").await.contains("shown to clients"),
        "the incident's page does not say which updates clients read"
    );
    browser.screenshot("incident-published").await;

    // Read by someone with no account: a plain request, no cookie.
    let stranger = reqwest::Client::new();
    let read = |url: String| {
        let stranger = stranger.clone();
        async move {
            let response = stranger.get(&url).send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    let (status, html) = read(link.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("<script"), "a script on the status page");
    for words in [
        "Что-то не работает",
        "Не работает",
        "kds.vector.example",
        "обновление КДС",
        "Сервер перенаправления перезапускается",
        "Ожидаем к 10:00",
    ] {
        assert!(html.contains(words), "no {words:?} on the page");
    }
    for hidden in [
        "anna-3",
        "dongle-lost",
        "Anna",
        "Olga",
        "ООО «Ромашка»",
        "у провайдера DNS",
    ] {
        assert!(!html.contains(hidden), "{hidden:?} shown to the client");
    }
    browser.goto(&link).await;
    assert_eq!(
        browser.text("#overall").await,
        "Что-то не работает. Мы знаем и уже занимаемся."
    );
    let bars = browser
        .client
        .find_all(fantoccini::Locator::Css(
            "#status-installations li .days span",
        ))
        .await
        .unwrap();
    assert_eq!(
        bars.len(),
        2 * 90,
        "90 days for each of the two installations"
    );
    for (name, lang) in [("status-ru", "ru"), ("status-en", "en")] {
        browser.goto(&format!("{link}?lang={lang}")).await;
        browser.screenshot(name).await;
        browser.resize(390, 844).await;
        browser.screenshot(&format!("{name}-phone")).await;
        browser.resize(1366, 900).await;
    }
    assert!(
        browser
            .text("#overall")
            .await
            .starts_with("Something does not work")
    );
    let path = &link[link.find("/status/").unwrap()..];
    let client_page = &page[page.find("/clients/").unwrap()..];
    let found = barriers(&browser, &base, &[path, client_page]).await;
    assert!(found.is_empty(), "{found:#?}");

    // The shared services' page is public, and there only once something is tagged
    // `shared`: it lists those alone.
    assert_eq!(
        read(format!("{base}/status")).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, body) = service
        .create_installation(json!({
            "id": "redirect-1", "client": "Дистрибьютор", "manager": "Boris",
            "timezone": "Europe/Moscow", "telegram_chat_id": BORIS_CHAT,
            "url": "https://redirect.example/", "tags": ["shared"],
        }))
        .await;
    assert_eq!(status, 201, "{body}");
    service.settle().await;
    let (status, html) = read(format!("{base}/status?lang=ru")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Общие сервисы") && html.contains("redirect.example"));
    assert!(!html.contains("kds.vector.example") && !html.contains("<script"));
    browser.goto(&format!("{base}/status")).await;
    browser.screenshot("status-shared").await;
    let found = barriers(&browser, &base, &["/status"]).await;
    assert!(found.is_empty(), "{found:#?}");

    // Renewed, the old link is gone and the new one works.
    browser.goto(&page).await;
    assert!(
        browser
            .text("#status-since")
            .await
            .starts_with("A link was made"),
        "the client's page does not say a link exists"
    );
    let renewed = make_link().await;
    assert_ne!(renewed, link);
    assert_eq!(read(link).await.0, StatusCode::NOT_FOUND);
    assert_eq!(read(renewed).await.0, StatusCode::OK);
    browser.close().await;
}

/// `text` percent-encoded for a path segment.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The class of a checklist step: `done` or `todo`.
async fn step(browser: &Browser, id: &str) -> Option<String> {
    browser.find(id).await.attr("class").await.unwrap()
}

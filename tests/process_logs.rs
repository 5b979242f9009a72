//! What the service writes to its log when it runs as a process with its log going to a
//! file: a failed evaluation names the job (kind, installation, report id), never the
//! report's content, and there are no terminal colour codes.

use std::time::Duration;

use fake_telegram::FakeTelegram;
use reveille_tests::{Process, TELEGRAM_TOKEN, report};
use sqlx::{Connection, Executor, SqliteConnection};

const PROGRAM: &str = env!("CARGO_BIN_EXE_reveille-under-test");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_evaluation_logs_the_job_not_the_report_and_no_colour() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    let data = tempfile::tempdir().unwrap();
    let host = Process::spawn(PROGRAM, data.path(), &fake.api_url()).await;
    let token = host.installation("vector-main").await;
    // Take away the table an evaluation writes its findings to, behind the service's back.
    let database = format!("sqlite://{}", data.path().join("reveille.db").display());
    let mut sqlite = SqliteConnection::connect(&database).await.unwrap();
    sqlite
        .execute("ALTER TABLE findings RENAME TO findings_gone")
        .await
        .unwrap();
    let sent = host
        .post_report(&token, report("lost-key-evening.xml"))
        .await;
    assert_eq!(sent.status(), 202);
    let report_id = sent.json::<serde_json::Value>().await.unwrap()["report"]
        .as_i64()
        .unwrap();
    let gave_up = host
        .eventually(Duration::from_secs(30), || async {
            host.log().contains("giving up on this job")
        })
        .await;
    let log = host.log();
    assert!(gave_up, "{log}");
    let line = log
        .lines()
        .find(|l| l.contains("giving up on this job"))
        .unwrap();
    assert!(line.contains(&format!("job=report {report_id}")), "{line}");
    assert!(line.contains("installation=vector-main"), "{line}");
    for leak in [
        "Document",
        "ООО",
        "senselock",
        "usb-over-network",
        "KDS-SNIP",
    ] {
        assert!(
            !log.contains(leak),
            "the log carries report content ({leak}): {line}"
        );
    }
    assert!(!log.contains('\u{1b}'), "colour codes in a log file");
    sqlite
        .execute("ALTER TABLE findings_gone RENAME TO findings")
        .await
        .unwrap();
}

/// As Jupyter prints its token: a new service has nobody who can log in, so its log holds
/// a one-time link that creates the first administrator; the password never reaches it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_start_logs_a_one_time_setup_link() {
    let fake = FakeTelegram::start(TELEGRAM_TOKEN).await;
    let data = tempfile::tempdir().unwrap();
    let host = Process::spawn(PROGRAM, data.path(), &fake.api_url()).await;
    // The link is logged just after the service starts answering: wait for the line.
    host.eventually(Duration::from_secs(10), || async {
        host.log().contains("/setup/")
    })
    .await;
    let log = host.log();
    let line = log
        .lines()
        .find(|l| l.contains("/setup/"))
        .unwrap_or_else(|| panic!("no setup link in the log: {log}"));
    let start = line.find("http://").expect("a link");
    let link: String = line[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    assert!(link.starts_with(&host.base), "{link}");
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = no_redirects.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let form = [
        ("name", "admin"),
        ("password", "a secret nobody logs"),
        ("lang", "ru"),
    ];
    let created = no_redirects.post(&link).form(&form).send().await.unwrap();
    assert_eq!(created.status(), 303);
    assert!(created.headers().contains_key("set-cookie"));
    let again = no_redirects.post(&link).form(&form).send().await.unwrap();
    assert_eq!(again.status(), 404);
    let log = host.log();
    assert!(log.contains("the first admin was created"), "{log}");
    assert!(
        !log.contains("a secret nobody logs"),
        "the password reached the log"
    );
    // A normal stop is not a warning: the leases it gives up say so quietly.
    let log = host.stop();
    assert!(
        log.contains("lease given up: the node is stopping"),
        "{log}"
    );
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("WARN") && !l.contains("/setup/"))
        .collect();
    assert!(warnings.is_empty(), "{warnings:#?}");
}

//! The plugin author's kit, end to end: plugins built for API 1.0 and 1.1 keep loading and
//! running, and a successor brings typed settings that the host checks when they are
//! set or loaded; the SDK's native `Report` answers every query exactly as the host's
//! document does; the SDK's examples run in the service; what a check says reaches its
//! author (`plugin test`, the API, its page) and nobody else.

use std::collections::BTreeMap;
use std::sync::Arc;

use reveille::config::Config;
use reveille::plugins::{Evaluation, InstallationInfo, Runtime, RuntimeSettings, Trigger};
use reveille_sdk::testing::Case;
use reveille_tests::{Options, Service, at, fixture_plugin, result_for};
use serde_json::{Value, json};

const CLIENT: &str = "ООО «Вектор»";

fn disk_report(installation: &str, free_mb: u32) -> Vec<u8> {
    format!(
        r#"<report schema="1" agent="report-agent" generated-at="2026-11-20T20:00:00+03:00">
             <installation id="{installation}"><client>{CLIENT}</client></installation>
             <disk path="D:\Kodeks" free-mb="{free_mb}" total-mb="4000"/>
           </report>"#
    )
    .into_bytes()
}

fn setting<'a>(plugin: &'a Value, key: &str) -> &'a Value {
    plugin["config"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["name"] == key))
        .unwrap_or_else(|| panic!("no setting {key} in {plugin}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1_0_plugin_keeps_working_and_its_successor_brings_typed_settings() {
    let service = Service::start(Options::default()).await;

    // An early disk-space, built for API 1.0.0: loads, lists its settings as text, runs.
    let legacy = service
        .put_plugin("disk-space", fixture_plugin("legacy-v1-0"))
        .await;
    assert_eq!(legacy.status(), 201, "{}", legacy.text().await.unwrap());
    let listed = service.plugin("disk-space").await.unwrap();
    assert_eq!(listed["api_version"], "1.0.0");
    assert_eq!(listed["version"], "0.9.0");
    assert_eq!(setting(&listed, "min-free-mb")["type"]["kind"], "text");
    let results = service.evaluate(&disk_report("vector-main", 812)).await;
    let findings = &result_for(&results, "disk-space")["findings"];
    assert_eq!(findings[0]["key"], "disk-low", "{results:?}");
    assert_eq!(findings[0]["translations"], json!([]));

    // Its settings have no types: only the plugin itself can refuse a value.
    let (status, body) = service
        .put_client_settings(CLIENT, "disk-space", json!({"min-free-mb": "lots"}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("refuses these settings")
    );
    let (status, body) = service
        .put_client_settings(
            CLIENT,
            "disk-space",
            json!({"min-free-mb": "2048", "path": "disk/@free-mb"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Its successor, built with the SDK's example (API 1.2): typed settings, shown as such;
    // it dropped `path`, so the client's stored settings no longer suit it, and the
    // plugin list says so at once.
    let upgrade = service
        .put_plugin("disk-space", fixture_plugin("disk-space"))
        .await;
    assert_eq!(upgrade.status(), 200, "{}", upgrade.text().await.unwrap());
    let listed = service.plugin("disk-space").await.unwrap();
    assert_eq!(listed["api_version"], "1.2.0");
    let min = setting(&listed, "min-free-mb");
    assert_eq!(min["type"]["kind"], "integer");
    assert_eq!(min["type"]["min"], 0);
    assert_eq!(min["type"]["max"], Value::Null);
    assert_eq!(min["type"]["accepts"], "a whole number of at least 0");
    let percent = setting(&listed, "min-free-percent");
    assert_eq!(
        (
            percent["type"]["min"].as_i64(),
            percent["type"]["max"].as_i64()
        ),
        (Some(0), Some(100))
    );
    let errors = listed["settings_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{listed}");
    assert_eq!(errors[0]["client"], CLIENT);
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("plugin `disk-space` has no setting `path`"),
        "{errors:?}"
    );

    // A value of the wrong type is refused before anything is stored, naming the plugin,
    // the key and what is wrong; a right one is taken and clears the listed error.
    let (status, body) = service
        .put_client_settings(CLIENT, "disk-space", json!({"min-free-mb": "lots"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"],
        "plugin `disk-space`, setting `min-free-mb`: `lots` is not a whole number of at least 0"
    );
    let (status, body) = service
        .put_client_settings(CLIENT, "disk-space", json!({"min-free-percent": 101}))
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("101 is not a whole number from 0 to 100")
    );
    let (status, body) = service
        .put_client_settings(CLIENT, "disk-space", json!({"min-free-mb": 500}))
        .await;
    assert_eq!(status, 200, "{body}");
    let listed = service.plugin("disk-space").await.unwrap();
    assert_eq!(listed["settings_errors"], json!([]));

    // The successor speaks two languages; the client's 500 MB minimum applies.
    let results = service
        .evaluate_with(&disk_report("vector-main", 812), "client=ООО%20«Вектор»")
        .await;
    assert_eq!(result_for(&results, "disk-space")["findings"], json!([]));
    let results = service.evaluate(&disk_report("vector-main", 300)).await;
    let finding = &result_for(&results, "disk-space")["findings"][0];
    assert_eq!(finding["summary"], "Only 300 MB free on D:\\Kodeks (7%)");
    assert_eq!(finding["translations"][0]["language"], "ru");
    assert_eq!(
        finding["translations"][0]["summary"],
        "Свободно лишь 300 МБ на D:\\Kodeks (7%)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_setting_of_the_wrong_type_in_the_configuration_is_named_where_it_loads() {
    // A built-in's: the service does not start, and says which plugin, key and value.
    let data = tempfile::tempdir().unwrap();
    let path = data.path().join("reveille.toml");
    std::fs::write(
        &path,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\n[plugins.stale-updates]\nthreshold = \"3 days\"\n",
            data.path().display().to_string()
        ),
    )
    .unwrap();
    let config = Config::load_with(Some(&path), |_| None).unwrap();
    let clock = Arc::new(reveille::clock::SystemClock);
    let refused = reveille::server::start(config, clock).await.err().unwrap();
    let said = format!("{refused:#}");
    assert!(
        said.contains(
            "plugin `stale-updates`, setting `threshold` (the host's configuration): `3 days` \
             is not a duration"
        ),
        "{said}"
    );

    // An upload's: refused with the same words; nothing is installed.
    let service = Service::start(Options {
        config: "[plugins.disk-space]\nmin-free-mb = \"lots\"\n".into(),
        ..Options::default()
    })
    .await;
    let response = service
        .put_plugin("disk-space", fixture_plugin("disk-space"))
        .await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains(
            "plugin `disk-space`, setting `min-free-mb` (the host's configuration): `lots` is \
             not a whole number of at least 0"
        ),
        "{body}"
    );
    assert!(
        service.plugin("disk-space").await.is_none(),
        "a refused upload leaves nothing behind"
    );
}

/// A report whose shape tries every corner of the path syntax.
const CORNERS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<report schema="1" agent="report-agent" generated-at="2026-11-20T20:00:00+03:00">
  <installation id="vector-main"><client>  ООО «Вектор» &amp; Co  </client></installation>
  <bases>
    <base code="KDS-SNIP" name="Строительство"><part id="1"/><part id="2">вторая</part></base>
    <base code="KDS-LAW" state="error"><part id="3"/></base>
    <note><![CDATA[<not-an-element>]]></note>
  </bases>
  <other><base code="STRAY"/></other>
  <mixed>one<inner/>two</mixed>
  <данные ключ="значение">текст</данные>
  <empty/>
  <a><b><c><d deep="yes"/></c></b></a>
</report>"#;

/// Every query kind, over paths a check might write (and some it should not).
const QUERIES: &[&str] = &[
    "select ",
    "select .",
    "select /",
    "select bases",
    "select bases/",
    "select /bases/base",
    "select bases//base",
    "select ./bases/base",
    "select bases/base",
    "select */base",
    "select */*",
    "select *",
    "select bases/base/part",
    "select bases/*/part",
    "select bases/base[1]",
    "select bases/note",
    "select mixed",
    "select данные",
    "select a/b/c/d",
    "select nothing/here",
    "select empty",
    "value @agent",
    "value @generated-at",
    "value @missing",
    "value @",
    "value installation/client",
    "value installation/@id",
    "value bases/base/@code",
    "value bases/base@code",
    "value bases/base/@missing",
    "value bases/base/part",
    "value bases/base/part/@id",
    "value */base/@code",
    "value bases/note",
    "value mixed",
    "value данные/@ключ",
    "value данные",
    "value empty",
    "value a/b/c/d/@deep",
    "value nothing",
    "count bases/base",
    "count */base",
    "count ",
    "count *",
    "count bases/base/part",
    "count nothing",
    "children bases/base > part",
    "children bases/base > *",
    "children bases/base > ",
    "children bases > base/part",
    "children a > b/c/d",
    "children nothing > part",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_reads_a_report_exactly_as_the_host_serves_it() {
    let queries = QUERIES.join("\n");
    // Through the host: the report parsed by ingest's parser, queried across the sandbox.
    let runtime = Runtime::new(RuntimeSettings::default()).unwrap();
    let revision = runtime
        .compile(Some("echo"), fixture_plugin("echo"))
        .await
        .unwrap();
    let document = reveille::report::parse(CORNERS.as_bytes()).unwrap();
    let evaluation = Evaluation {
        installation: InstallationInfo {
            id: "vector-main".into(),
            client: CLIENT.into(),
            tags: Vec::new(),
            timezone: "UTC".into(),
        },
        trigger: Trigger::Report,
        now_ms: 1_763_658_000_000,
        last_report_at_ms: None,
        report: Some(Arc::new(document)),
        state: BTreeMap::new(),
        client_settings: BTreeMap::new(),
    };
    let settings = BTreeMap::from([("queries".to_string(), queries.clone())]);
    let run = runtime
        .run(revision.clone(), evaluation.input_for(&revision, &settings))
        .await;
    let host: BTreeMap<String, String> = run
        .outcome
        .expect("echo answers")
        .state
        .into_iter()
        .filter_map(|change| Some((change.key, change.value?)))
        .filter(|(key, _)| key.starts_with('q'))
        .collect();

    // Natively: the same component's code, in this process, through the SDK's testing.
    let native = Case::report(CORNERS)
        .setting("queries", &queries)
        .run::<echo::Echo>();

    assert_eq!(host.len(), QUERIES.len());
    for (n, query) in QUERIES.iter().enumerate() {
        let key = format!("q{n:03}");
        assert_eq!(
            native.state(&key),
            Some(host[&key].as_str()),
            "`{query}` answers differently natively"
        );
    }
    // And the answers are the ones a check author reads in the guide.
    let answer = |query: &str| {
        let n = QUERIES.iter().position(|q| *q == query).unwrap();
        host[&format!("q{n:03}")]
            .split_once(" => ")
            .unwrap()
            .1
            .to_string()
    };
    assert_eq!(
        answer("value installation/client"),
        "Some(\"ООО «Вектор» & Co\")"
    );
    assert_eq!(answer("count */base"), "3");
    assert_eq!(answer("value bases/base/@code"), "Some(\"KDS-SNIP\")");
    assert_eq!(answer("value данные/@ключ"), "Some(\"значение\")");
    assert_eq!(answer("value bases/note"), "Some(\"<not-an-element>\")");
    assert_eq!(answer("select bases/base[1]"), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_examples_run_in_the_service() {
    let clock = reveille::clock::ManualClock::new(at("2026-11-20T17:00:00Z"));
    let service = Service::start(Options {
        clock: Some(Arc::new(clock)),
        ..Options::default()
    })
    .await;
    for example in ["license-expiry", "maintenance-too-long", "disk-space"] {
        service.install_fixture(example).await;
    }
    let report = format!(
        r#"<report schema="1" agent="report-agent" generated-at="2026-11-20T20:00:00+03:00">
             <installation id="vector-main"><client>{CLIENT}</client></installation>
             <service state="maintenance"/>
             <license expires="2026-11-25"/>
             <disk path="C:" free-mb="100"/>
           </report>"#
    );
    let results = service.evaluate(report.as_bytes()).await;
    let license = &result_for(&results, "license-expiry")["findings"][0];
    assert_eq!(license["severity"], "warning", "{results:?}");
    assert!(
        license["summary"]
            .as_str()
            .unwrap()
            .starts_with("License expires in")
    );
    let disk = &result_for(&results, "disk-space")["findings"][0];
    assert_eq!(disk["severity"], "critical");
    // Maintenance only starts the count on its first report.
    let maintenance = result_for(&results, "maintenance-too-long");
    assert_eq!(maintenance["findings"], json!([]));
    assert_eq!(maintenance["state"][0]["key"], "maintenance-since");
}

/// What the `echo` fixture is asked to say: through the SDK's log, with `println!` and
/// `eprintln!`.
const SAY: &str = "info base KDS-LAW is 50 h old | stdout printed | stderr warned";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_check_says_reaches_its_author_in_plugin_test_the_api_and_its_page() {
    // `reveille plugin test`: the lines under the findings, in order, escapes written out.
    let dir = tempfile::tempdir().unwrap();
    let component = dir.path().join("echo.wasm");
    std::fs::write(&component, fixture_plugin("echo")).unwrap();
    let report = dir.path().join("report.xml");
    std::fs::write(&report, disk_report("vector-main", 812)).unwrap();
    let run = crate::succeeded(
        crate::reveille()
            .args(["plugin", "test", "--config"])
            .arg(format!("say={SAY} | debug \u{1b}[31mred"))
            .arg(&component)
            .arg(&report),
    )
    .await;
    let printed = String::from_utf8_lossy(&run.stdout);
    assert!(
        printed.contains(
            "log: 4\n  [info] base KDS-LAW is 50 h old\n  [info] printed\n  [warn] warned\n  [debug] \\u{1b}[31mred\n"
        ),
        "{printed}"
    );
    // What `conclude` would remember is said as a finding; echo's own state as it is.
    assert!(printed.contains("  set seen = 1\n"), "{printed}");

    // Natively, in the author's `cargo test`: the SDK's lines, and an error `evaluate`
    // returns asserted as such.
    let xml = String::from_utf8(disk_report("vector-main", 812)).unwrap();
    let native = Case::report(&xml)
        .setting("say", &format!("{SAY} | debug \u{1b}[31mred"))
        .run::<echo::Echo>();
    let logged: Vec<(&str, &str)> = native
        .log()
        .iter()
        .map(|l| (l.level.as_str(), l.message.as_str()))
        .collect();
    assert_eq!(
        logged,
        [
            ("info", "base KDS-LAW is 50 h old"),
            ("debug", "\u{1b}[31mred")
        ]
    );
    Case::report(&xml)
        .setting("fail", "no disk section")
        .run::<echo::Echo>()
        .assert_error("no disk");

    for db in reveille_tests::databases().await {
        said_in_the_service(db.url.clone()).await;
    }
}

/// In the service, on one database: what a check said is kept per plugin with the
/// installation, the report and the trigger, and shown through the API and on its page.
async fn said_in_the_service(database_url: Option<String>) {
    let service = Service::start(Options {
        database_url,
        ..Options::default()
    })
    .await;
    service.install_fixture("echo").await;
    let token = service.installation_of("vector-main", CLIENT).await;
    let (status, body) = service
        .put_client_settings(CLIENT, "echo", json!({ "say": SAY }))
        .await;
    assert_eq!(status, 200, "{body}");
    let posted = service
        .post_report(&token, disk_report("vector-main", 812))
        .await;
    assert_eq!(posted.status(), 202);
    let report_id = posted.json::<Value>().await.unwrap()["report"].clone();
    service.settle().await;
    let (status, log) = service
        .admin_request("GET", "/api/v1/plugins/echo/log", None)
        .await;
    assert_eq!(status, 200, "{log}");
    let lines = log["lines"].as_array().unwrap();
    let said: Vec<(&str, &str)> = lines
        .iter()
        .rev()
        .map(|l| (l["level"].as_str().unwrap(), l["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        said,
        [
            ("info", "base KDS-LAW is 50 h old"),
            ("info", "printed"),
            ("warn", "warned"),
        ]
    );
    for line in lines {
        assert_eq!(line["installation"], "vector-main");
        assert_eq!(line["report"], report_id);
        assert_eq!(line["trigger"], "report");
    }
    assert_eq!(log["kept_per_minute"], 120);
    // Paging back: the two older lines, before the newest.
    let before = lines[0]["id"].as_i64().unwrap();
    let (_, older) = service
        .admin_request(
            "GET",
            &format!("/api/v1/plugins/echo/log?limit=5&before={before}"),
            None,
        )
        .await;
    assert_eq!(older["lines"].as_array().unwrap().len(), 2, "{older}");
    assert_eq!(older["next_before"], Value::Null);
    let (_, newest) = service
        .admin_request("GET", "/api/v1/plugins/echo/log?limit=1", None)
        .await;
    assert_eq!(newest["next_before"], lines[0]["id"], "{newest}");
    // Nobody was told: the log is not a finding.
    let keys: Vec<Value> = service
        .findings("vector-main")
        .await
        .iter()
        .filter(|f| f["plugin"] == "echo")
        .map(|f| f["key"].clone())
        .collect();
    assert_eq!(keys, [json!("echo")]);
    for (path, status) in [
        ("/api/v1/plugins/nobody/log", 404),
        ("/api/v1/plugins/echo/log?before=soon", 400),
        ("/api/v1/plugins/echo/log?limit=0", 400),
        ("/api/v1/plugins/echo/log?level=warn", 400),
    ] {
        let (got, body) = service.admin_request("GET", path, None).await;
        assert_eq!(got, status, "{path}: {body}");
    }

    // On the plugin's page, escaped as HTML.
    let session =
        reveille_tests::Session::first_admin(&service, "admin", "a long enough password").await;
    let page = session.text(&service, "/admin/plugins/echo").await;
    assert!(page.contains("base KDS-LAW is 50 h old"), "{page}");
    assert!(page.contains("vector-main"), "{page}");

    // A plugin built for 1.1, before the log existed, keeps running, and what it prints
    // reaches its author all the same.
    let upload = service
        .put_plugin("free-space", fixture_plugin("legacy-v1-1"))
        .await;
    assert_eq!(upload.status(), 201, "{}", upload.text().await.unwrap());
    let listed = service.plugin("free-space").await.unwrap();
    assert_eq!(listed["api_version"], "1.1.0");
    assert_eq!(setting(&listed, "min-free-mb")["type"]["kind"], "integer");
    let later = reveille_tests::later(&disk_report("vector-main", 640), 60);
    assert_eq!(service.post_report(&token, later).await.status(), 202);
    service.settle().await;
    let findings = service.findings("vector-main").await;
    let low = findings
        .iter()
        .find(|f| f["plugin"] == "free-space")
        .unwrap_or_else(|| panic!("{findings:?}"));
    assert_eq!(low["translations"][0]["summary"], "Свободно только 640 МБ");
    let (_, log) = service
        .admin_request("GET", "/api/v1/plugins/free-space/log", None)
        .await;
    assert_eq!(
        log["lines"][0]["message"], "free Some(640) MB, minimum 1024 MB",
        "{log}"
    );
}

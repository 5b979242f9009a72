//! What an admin operates: per-client settings, report retention, metrics, migrations.

use std::sync::Arc;
use std::time::Duration;

use reveille::clock::ManualClock;
use reveille_tests::{Options, Service, at, databases, later, report, report_for};
use serde_json::json;

fn with_version(installation: &str, version: &str) -> Vec<u8> {
    String::from_utf8(report_for("key-restored.xml", installation))
        .unwrap()
        .replace("6.4.2.73", version)
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clients_settings_override_the_configuration_for_that_client_only() {
    for db in databases().await {
        let mut service = Service::start(Options {
            database_url: db.url.clone(),
            config: "[plugins.version-minimum]\nminimum = \"6.4.3.59\"\n".into(),
            ..Options::default()
        })
        .await;
        let vector = service.installation_of("vector-main", "ООО «Вектор»").await;
        let romashka = service.installation_of("romashka", "АО «Ромашка»").await;
        let (status, body) = service
            .admin_request(
                "PUT",
                "/api/v1/clients/АО «Ромашка»/settings/version-minimum",
                Some(json!({"minimum": "6.4.1"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (_, listed) = service
            .admin_request("GET", "/api/v1/clients/АО «Ромашка»/settings", None)
            .await;
        assert_eq!(listed["settings"]["version-minimum"]["minimum"], "6.4.1");

        for (token, id) in [(&vector, "vector-main"), (&romashka, "romashka")] {
            let accepted = service
                .post_report(token, with_version(id, "6.4.2.73"))
                .await;
            assert_eq!(accepted.status(), 202);
        }
        let below = |findings: &[serde_json::Value]| {
            findings.iter().any(|f| f["key"] == "version-below-minimum")
        };
        assert!(below(&service.findings("vector-main").await), "{}", db.name);
        let romashka_findings = service.findings("romashka").await;
        assert!(
            !romashka_findings.is_empty(),
            "romashka's report was evaluated"
        );
        assert!(!below(&romashka_findings), "{}", db.name);
        service.stop().await;
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_old_reports_but_keeps_each_installations_newest() {
    for db in databases().await {
        let clock = Arc::new(ManualClock::new(at("2026-11-01T00:00:00Z")));
        let mut service = Service::start(Options {
            database_url: db.url.clone(),
            config: "report_retention = \"7d\"\n".into(),
            clock: Some(clock.clone()),
            ..Options::default()
        })
        .await;
        let busy = service.installation_of("busy", "A").await;
        let quiet = service.installation_of("quiet", "B").await;
        for n in 0..3 {
            let accepted = service
                .post_report(&busy, later(&report_for("key-restored.xml", "busy"), n))
                .await;
            assert_eq!(accepted.status(), 202);
        }
        let accepted = service
            .post_report(&quiet, report_for("key-restored.xml", "quiet"))
            .await;
        assert_eq!(accepted.status(), 202);
        service.settle().await;
        clock.advance(Duration::from_secs(8 * 86_400));
        let fresh = service
            .post_report(
                &busy,
                later(&report_for("key-restored.xml", "busy"), 8 * 86_400),
            )
            .await;
        assert_eq!(fresh.status(), 202, "{}", fresh.text().await.unwrap());
        assert_eq!(service.store().report_count("busy").await.unwrap(), 4);
        service.settle().await;
        service.tick().await;
        assert_eq!(
            service.store().report_count("busy").await.unwrap(),
            1,
            "{}",
            db.name
        );
        assert_eq!(
            service.store().report_count("quiet").await.unwrap(),
            1,
            "{}",
            db.name
        );
        service.stop().await;
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_reports_and_plugin_calls() {
    let service = Service::start(Options::default()).await;
    let token = service.installation("vector-main").await;
    assert_eq!(
        service
            .post_report(&token, report("lost-key-evening.xml"))
            .await
            .status(),
        202
    );
    assert_eq!(
        service
            .post_report("rvt_wrong", report("lost-key-evening.xml"))
            .await
            .status(),
        401
    );
    assert_eq!(
        service
            .post_report(&token, b"<report".to_vec())
            .await
            .status(),
        400
    );
    service.settle().await;
    let metrics = reqwest::get(service.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "reveille_reports_accepted_total 1",
        "reveille_reports_rejected_total{reason=\"unauthorized\"} 1",
        "reveille_reports_rejected_total{reason=\"invalid\"} 1",
        "reveille_evaluation_queue_depth 0",
        "reveille_plugin_evaluations_total{plugin=\"dongle-lost\"} 1",
        "reveille_plugin_evaluation_seconds_count{plugin=\"dongle-lost\"} 1",
        "reveille_plugin_evaluation_seconds_bucket{plugin=\"dongle-lost\",le=\"+Inf\"} 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "missing `{line}` in:\n{metrics}"
        );
    }
}

#[tokio::test]
async fn a_migration_edited_after_it_was_applied_stops_the_start_on_every_backend() {
    for database in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let url = database.url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("reveille.db").display()
            )
        });
        reveille::store::Store::open(&url)
            .await
            .expect("a fresh database migrates")
            .close()
            .await;
        // What the database remembers of migration 4 no longer matches the file.
        let tamper = match database.name {
            "sqlite" => "UPDATE _sqlx_migrations SET checksum = X'00' WHERE version = 4",
            _ => "UPDATE _sqlx_migrations SET checksum = '\\x00'::bytea WHERE version = 4",
        };
        sqlx::any::install_default_drivers();
        let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::query(tamper).execute(&mut db).await.unwrap();
        drop(db);
        let refused = match reveille::store::Store::open(&url).await {
            Ok(_) => panic!("{}: an edited migration was accepted", database.name),
            Err(error) => error.to_string(),
        };
        assert!(
            refused.contains("migration 4 was previously applied but has been modified"),
            "{}: {refused}",
            database.name
        );
        database.drop_database().await;
    }
}

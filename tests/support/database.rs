//! The storage backends every storage test runs against: SQLite always, PostgreSQL when
//! `REVEILLE_TEST_POSTGRES_URL` names a server (required under CI). Each PostgreSQL test
//! gets a throwaway database of its own, dropped when the test is done.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, Executor, PgConnection};

/// One backend for one test.
pub struct TestDatabase {
    pub name: &'static str,
    /// `None` for SQLite: the service's default file in its data directory.
    pub url: Option<String>,
    admin_url: Option<String>,
    database: Option<String>,
}

/// The backends to run a storage test against.
pub async fn databases() -> Vec<TestDatabase> {
    let mut list = vec![TestDatabase {
        name: "sqlite",
        url: None,
        admin_url: None,
        database: None,
    }];
    match std::env::var("REVEILLE_TEST_POSTGRES_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            list.push(TestDatabase::postgres(admin_url).await)
        }
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("REVEILLE_TEST_POSTGRES_URL is not set: CI must test PostgreSQL too")
        }
        _ => eprintln!("REVEILLE_TEST_POSTGRES_URL is not set: testing SQLite only"),
    }
    list
}

impl TestDatabase {
    /// A throwaway database on the server `admin_url` points at.
    pub async fn postgres(admin_url: String) -> TestDatabase {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let database = format!(
            "reveille_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {admin_url}: {e}"));
        admin
            .execute(format!("CREATE DATABASE {database}").as_str())
            .await
            .expect("create a throwaway database");
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        TestDatabase {
            name: "postgres",
            url: Some(format!("{base}/{database}")),
            admin_url: Some(admin_url),
            database: Some(database),
        }
    }

    /// Drops a PostgreSQL test database (after the service using it has stopped).
    pub async fn drop_database(mut self) {
        if let (Some(admin_url), Some(database)) = (self.admin_url.take(), self.database.take()) {
            drop_on(&admin_url, &database).await;
        }
    }
}

async fn drop_on(admin_url: &str, database: &str) {
    let mut admin = PgConnection::connect(admin_url)
        .await
        .expect("reach PostgreSQL");
    admin
        .execute(format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)").as_str())
        .await
        .expect("drop the throwaway database");
}

/// A test that failed before dropping its database still leaves none behind: the drop
/// runs on a thread of its own, since a panicking test's runtime cannot be used.
impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (Some(admin_url), Some(database)) = (self.admin_url.take(), self.database.take())
        else {
            return;
        };
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database")
                .block_on(drop_on(&admin_url, &database));
        })
        .join();
        if dropped.is_err() {
            eprintln!("a throwaway PostgreSQL database could not be dropped");
        }
    }
}

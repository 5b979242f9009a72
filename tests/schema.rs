//! The two migration sets (`migrations/sqlite`, `migrations/postgres`) are one schema in
//! two dialects: applied by the service to an empty database each, they give the same
//! tables, columns (name, kind of value, whether it may be empty) and indexes (table,
//! columns, unique, partial). A migration added to one folder and forgotten in the
//! other, or written differently, fails here rather than on a distributor's database.

use std::collections::BTreeMap;

use reveille::store::Store;
use reveille_tests::TestDatabase;
use sqlx::{Connection, PgConnection, Row, SqliteConnection};

/// A column as both dialects can say it.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Column {
    kind: &'static str,
    not_null: bool,
}

/// An index as both dialects can say it.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Index {
    table: String,
    columns: Vec<String>,
    unique: bool,
    partial: bool,
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Schema {
    tables: BTreeMap<String, BTreeMap<String, Column>>,
    indexes: BTreeMap<String, Index>,
}

/// The kind of value a declared type holds, in either dialect.
fn kind(declared: &str) -> &'static str {
    match declared.to_ascii_lowercase().as_str() {
        "integer" | "bigint" | "smallint" | "int" => "integer",
        "text" | "character varying" | "varchar" => "text",
        "blob" | "bytea" => "bytes",
        "real" | "double precision" => "real",
        "boolean" => "boolean",
        other => panic!("a column type this test does not know: {other}"),
    }
}

/// Tables that are the migration tool's or the engine's own.
fn ours(table: &str) -> bool {
    !table.starts_with("_sqlx") && !table.starts_with("sqlite_")
}

async fn sqlite_schema(url: &str) -> Schema {
    let mut db = SqliteConnection::connect(url).await.expect("open SQLite");
    let mut schema = Schema::default();
    let tables = sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table'")
        .fetch_all(&mut db)
        .await
        .unwrap();
    for table in tables {
        let table: String = table.get("name");
        if !ours(&table) {
            continue;
        }
        let columns = sqlx::query("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?)")
            .bind(&table)
            .fetch_all(&mut db)
            .await
            .unwrap();
        let columns = columns
            .iter()
            .map(|c| {
                let not_null = c.get::<i64, _>("notnull") != 0 || c.get::<i64, _>("pk") != 0;
                let column = Column {
                    kind: kind(&c.get::<String, _>("type")),
                    not_null,
                };
                (c.get::<String, _>("name"), column)
            })
            .collect();
        schema.tables.insert(table, columns);
    }
    let indexes = sqlx::query(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    for index in indexes {
        let name: String = index.get("name");
        let sql: String = index.get("sql");
        let columns = sqlx::query("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
            .bind(&name)
            .fetch_all(&mut db)
            .await
            .unwrap()
            .iter()
            .map(|c| c.get::<String, _>("name"))
            .collect();
        let upper = sql.to_ascii_uppercase();
        schema.indexes.insert(
            name,
            Index {
                table: index.get("tbl_name"),
                columns,
                unique: upper.starts_with("CREATE UNIQUE"),
                partial: upper.contains(" WHERE "),
            },
        );
    }
    schema
}

async fn postgres_schema(url: &str) -> Schema {
    let mut db = PgConnection::connect(url).await.expect("reach PostgreSQL");
    let mut schema = Schema::default();
    let columns = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c, data_type::text AS kind, \
         is_nullable::text AS nullable FROM information_schema.columns \
         WHERE table_schema = 'public'",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    for c in columns {
        let table: String = c.get("t");
        if !ours(&table) {
            continue;
        }
        schema.tables.entry(table).or_default().insert(
            c.get("c"),
            Column {
                kind: kind(&c.get::<String, _>("kind")),
                not_null: c.get::<String, _>("nullable") == "NO",
            },
        );
    }
    // A primary key's index is implicit in SQLite, and named by PostgreSQL.
    let indexes = sqlx::query(
        "SELECT i.relname::text AS name, t.relname::text AS t, x.indisunique AS is_unique, \
         x.indpred IS NOT NULL AS partial, \
         array_agg(a.attname::text ORDER BY k.n) AS columns \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace ns ON ns.oid = t.relnamespace \
         CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
         WHERE ns.nspname = 'public' AND NOT x.indisprimary \
         GROUP BY i.relname, t.relname, x.indisunique, x.indpred IS NOT NULL",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    for index in indexes {
        let table: String = index.get("t");
        let name: String = index.get("name");
        // A UNIQUE constraint written in a table's columns: SQLite makes it an
        // automatic index with no SQL of its own, so it is not compared by name.
        if !ours(&table) || name.ends_with("_key") {
            continue;
        }
        schema.indexes.insert(
            name,
            Index {
                table,
                columns: index.get("columns"),
                unique: index.get("is_unique"),
                partial: index.get("partial"),
            },
        );
    }
    schema
}

/// Where two schemas differ, one line each.
fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut found = Vec::new();
    let tables = sqlite.tables.keys().chain(postgres.tables.keys());
    for table in tables.collect::<std::collections::BTreeSet<_>>() {
        match (sqlite.tables.get(table), postgres.tables.get(table)) {
            (Some(a), Some(b)) => {
                let columns = a.keys().chain(b.keys());
                for column in columns.collect::<std::collections::BTreeSet<_>>() {
                    let (x, y) = (a.get(column), b.get(column));
                    if x != y {
                        found.push(format!("{table}.{column}: SQLite {x:?}, PostgreSQL {y:?}"));
                    }
                }
            }
            (a, b) => found.push(format!(
                "table {table}: in SQLite {}, in PostgreSQL {}",
                a.is_some(),
                b.is_some()
            )),
        }
    }
    let indexes = sqlite.indexes.keys().chain(postgres.indexes.keys());
    for index in indexes.collect::<std::collections::BTreeSet<_>>() {
        let (x, y) = (sqlite.indexes.get(index), postgres.indexes.get(index));
        if x != y {
            found.push(format!("index {index}: SQLite {x:?}, PostgreSQL {y:?}"));
        }
    }
    found
}

#[tokio::test]
async fn both_migration_sets_make_the_same_schema() {
    let Ok(server) = std::env::var("REVEILLE_TEST_POSTGRES_URL") else {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "REVEILLE_TEST_POSTGRES_URL is not set: CI must compare the schemas"
        );
        eprintln!("REVEILLE_TEST_POSTGRES_URL is not set: the schemas are not compared");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("schema.db").display()
    );
    Store::open(&sqlite_url)
        .await
        .expect("migrate SQLite")
        .close()
        .await;
    let postgres = TestDatabase::postgres(server).await;
    let postgres_url = postgres.url.clone().expect("a PostgreSQL url");
    Store::open(&postgres_url)
        .await
        .expect("migrate PostgreSQL")
        .close()
        .await;
    let (a, b) = (
        sqlite_schema(&sqlite_url).await,
        postgres_schema(&postgres_url).await,
    );
    assert!(
        a.tables.len() > 20,
        "SQLite's tables: {:?}",
        a.tables.keys()
    );
    assert!(
        a.indexes.contains_key("reports_evaluated"),
        "{:?}",
        a.indexes.keys()
    );
    let found = differences(&a, &b);
    postgres.drop_database().await;
    assert!(
        found.is_empty(),
        "the migration sets disagree:\n{}",
        found.join("\n")
    );
}

//! Fresh databases for the SQL store tests: a new SQLite file, or a new Postgres database, per
//! test. Shared by the conformance, migration, crash and durability tests and the booking bench.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// The environment variable naming the Postgres server (an admin URL, e.g.
/// `postgres://postgres@127.0.0.1:5432/postgres`) on which tests create their databases.
pub const POSTGRES_URL_VAR: &str = "TEST_POSTGRES_URL";

/// Leftovers older than this, from earlier runs, are removed.
const STALE_AFTER: Duration = Duration::from_secs(120);

/// A URL for a new SQLite database file. Files that earlier runs left in the same directory are
/// removed once they are a few minutes old.
pub fn fresh_sqlite_url() -> String {
    let path = fresh_sqlite_path();
    format!("sqlite://{}", path.display())
}

/// The path of a new SQLite database file (see [`fresh_sqlite_url`]).
pub fn fresh_sqlite_path() -> PathBuf {
    let dir = std::env::temp_dir().join("appointment-master-sqlite-tests");
    std::fs::create_dir_all(&dir).expect("create the test database directory");
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age > STALE_AFTER * 30);
            if stale {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    dir.join(format!("{}.db", uuid::Uuid::new_v4().simple()))
}

/// The admin URL of the test Postgres server, or `None` (after saying so) when it is not set.
/// With `REQUIRE_POSTGRES=1` a missing URL is a failure instead.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                panic!("REQUIRE_POSTGRES=1 but {POSTGRES_URL_VAR} is not set");
            }
            println!("SKIPPED: set {POSTGRES_URL_VAR} to run the Postgres tests");
            None
        }
    }
}

/// `url` with its database name replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let authority = before_query
        .split_once('/')
        .map_or(before_query, |(a, _)| a);
    let mut out = format!("{scheme}://{authority}/{db}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Creates a new, empty database `am_test_<seconds>_<random>` on the test server and returns its
/// URL; `None` when no server is configured. Test databases of earlier runs that nobody is
/// connected to any more are dropped first.
#[cfg(feature = "postgres")]
pub async fn fresh_postgres_url() -> Option<String> {
    use sqlx::Connection;

    let admin_url = postgres_admin_url()?;
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("connect to the test Postgres server");
    let now = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database d WHERE datname LIKE 'am\\_test\\_%' \
         AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)",
    )
    .fetch_all(&mut admin)
    .await
    .expect("list test databases");
    for name in stale {
        let created = name
            .split('_')
            .nth(2)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        if now.saturating_sub(created) > STALE_AFTER.as_secs() {
            // Another run may be dropping it too; either way it goes.
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\""
            )))
            .execute(&mut admin)
            .await;
        }
    }
    let name = format!("am_test_{now}_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    admin.close().await.ok();
    Some(with_database(&admin_url, &name))
}

#[test]
fn database_names_are_replaced_in_urls() {
    assert_eq!(
        with_database("postgres://u@h:5432/postgres", "x"),
        "postgres://u@h:5432/x"
    );
    assert_eq!(
        with_database("postgresql://u:p@h/postgres?sslmode=disable", "x"),
        "postgresql://u:p@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
}

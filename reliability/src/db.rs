//! Fresh databases and the checks made on them afterwards.

use std::time::SystemTime;

use sqlx::{Connection, Executor};

/// The environment variable naming the Postgres server the tests create databases on.
pub const POSTGRES_URL_VAR: &str = "TEST_POSTGRES_URL";

/// The admin URL of the test Postgres server, or `None` after printing `SKIPPED` (a failure when
/// `REQUIRE_POSTGRES=1`).
pub fn postgres_admin_url(what: &str) -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                !crate::postgres_required(),
                "REQUIRE_POSTGRES=1 but {POSTGRES_URL_VAR} is not set"
            );
            println!("SKIPPED: {what} (set {POSTGRES_URL_VAR} to run it)");
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
    match query {
        Some(q) => format!("{scheme}://{authority}/{db}?{q}"),
        None => format!("{scheme}://{authority}/{db}"),
    }
}

/// Creates a new, empty database `am_rel_<seconds>_<random>` and returns its URL. Databases of
/// earlier runs that nobody uses and that are older than ten minutes are dropped first.
pub async fn fresh_postgres_database(admin_url: &str) -> String {
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect to the test Postgres server");
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database d WHERE datname LIKE 'am\\_rel\\_%' \
         AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)",
    )
    .fetch_all(&mut admin)
    .await
    .expect("list databases");
    for old in stale {
        let created: u64 = old
            .split('_')
            .nth(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if now.saturating_sub(created) > 600 {
            let _ = admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{old}\""
                )))
                .await;
        }
    }
    let name = format!("am_rel_{now}_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .await
        .expect("create a database");
    let _ = admin.close().await;
    with_database(admin_url, &name)
}

/// Seat counters against bookings, and the outbox against bookings, over the whole database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// Counters whose `seats_taken` differs from the seats of their slot's active bookings.
    pub mismatched_counters: i64,
    /// Active bookings whose slot has no counter.
    pub uncounted_bookings: i64,
    /// Active bookings.
    pub active_bookings: i64,
    /// Sum of `seats_taken` over all counters.
    pub seats_taken: i64,
    /// Sum of `attendee_count` over active bookings.
    pub seats_booked: i64,
    /// Bookings without their `booking.created` event in the outbox.
    pub bookings_without_event: i64,
    /// Booking events whose booking does not exist.
    pub events_without_booking: i64,
    /// `booking.created` events less bookings (an event written twice shows here).
    pub extra_created_events: i64,
}

/// The query behind [`Facts`]; the same SQL on Postgres and SQLite.
pub const FACTS_SQL: &str = "SELECT \
    (SELECT COUNT(*) FROM slot_seats s WHERE s.seats_taken <> \
        (SELECT COALESCE(SUM(b.attendee_count), 0) FROM bookings b \
         WHERE b.appointment_id = s.appointment_id AND b.slot_start = s.slot_start \
         AND b.status = 'active')), \
    (SELECT COUNT(*) FROM bookings b WHERE b.status = 'active' AND NOT EXISTS \
        (SELECT 1 FROM slot_seats s WHERE s.appointment_id = b.appointment_id \
         AND s.slot_start = b.slot_start)), \
    (SELECT COUNT(*) FROM bookings WHERE status = 'active'), \
    (SELECT CAST(COALESCE(SUM(seats_taken), 0) AS BIGINT) FROM slot_seats), \
    (SELECT CAST(COALESCE(SUM(attendee_count), 0) AS BIGINT) FROM bookings WHERE status = 'active'), \
    (SELECT COUNT(*) FROM bookings b WHERE NOT EXISTS (SELECT 1 FROM outbox o \
         WHERE o.subject_id = b.id AND o.kind = 'booking.created')), \
    (SELECT COUNT(*) FROM outbox o WHERE o.kind LIKE 'booking.%' AND NOT EXISTS \
        (SELECT 1 FROM bookings b WHERE b.id = o.subject_id)), \
    (SELECT COUNT(*) FROM outbox WHERE kind = 'booking.created') - (SELECT COUNT(*) FROM bookings)";

/// Per appointment: the largest counter and the capacity.
pub const FULLEST_SQL: &str = "SELECT a.code, a.capacity, CAST(COALESCE(MAX(s.seats_taken), 0) AS BIGINT) \
    FROM appointments a LEFT JOIN slot_seats s ON s.appointment_id = a.id GROUP BY a.code, a.capacity";

/// The codes of active bookings.
pub const ACTIVE_CODES_SQL: &str = "SELECT code FROM bookings WHERE status = 'active'";

type FactsRow = (i64, i64, i64, i64, i64, i64, i64, i64);

fn facts_of(row: FactsRow) -> Facts {
    Facts {
        mismatched_counters: row.0,
        uncounted_bookings: row.1,
        active_bookings: row.2,
        seats_taken: row.3,
        seats_booked: row.4,
        bookings_without_event: row.5,
        events_without_booking: row.6,
        extra_created_events: row.7,
    }
}

/// A database to check: Postgres or SQLite.
#[derive(Debug)]
pub enum Db {
    /// Postgres.
    Pg(sqlx::PgPool),
    /// SQLite.
    Sqlite(sqlx::SqlitePool),
}

impl Db {
    /// Opens the database a URL names.
    pub async fn open(url: &str) -> Db {
        if url.starts_with("sqlite:") {
            Db::Sqlite(
                sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect(url)
                    .await
                    .expect("open the SQLite database"),
            )
        } else {
            Db::Pg(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(2)
                    .connect(url)
                    .await
                    .expect("open the Postgres database"),
            )
        }
    }

    /// Counters against bookings.
    pub async fn facts(&self) -> Facts {
        let row = match self {
            Db::Pg(p) => sqlx::query_as(FACTS_SQL).fetch_one(p).await,
            Db::Sqlite(p) => sqlx::query_as(FACTS_SQL).fetch_one(p).await,
        };
        facts_of(row.expect("the facts query"))
    }

    /// `(code, capacity, largest counter)` of every appointment.
    pub async fn fullest(&self) -> Vec<(String, i64, i64)> {
        match self {
            Db::Pg(p) => sqlx::query_as(FULLEST_SQL).fetch_all(p).await,
            Db::Sqlite(p) => sqlx::query_as(FULLEST_SQL).fetch_all(p).await,
        }
        .expect("the capacity query")
    }

    /// Codes of the active bookings.
    pub async fn active_codes(&self) -> std::collections::HashSet<String> {
        match self {
            Db::Pg(p) => sqlx::query_scalar(ACTIVE_CODES_SQL).fetch_all(p).await,
            Db::Sqlite(p) => sqlx::query_scalar(ACTIVE_CODES_SQL).fetch_all(p).await,
        }
        .expect("the codes query")
        .into_iter()
        .collect()
    }

    /// Closes the pool.
    pub async fn close(self) {
        match self {
            Db::Pg(p) => p.close().await,
            Db::Sqlite(p) => p.close().await,
        }
    }
}

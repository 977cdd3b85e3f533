//! The SQLite store: one file, no server; the embedded default.
//!
//! # How it stays correct under concurrency
//!
//! * The database runs in WAL mode, so readers never wait for the writer, with
//!   `synchronous = FULL` (a booking that was acknowledged survives a crash or a power cut), foreign
//!   keys on and a 10 s busy timeout.
//! * Every write that spans several statements is one transaction opened with `BEGIN IMMEDIATE`,
//!   which takes SQLite's write lock up front, so no transaction ever has to upgrade a read lock
//!   (the case where SQLite reports "database is locked" without waiting).
//! * Writes go through a pool of one connection (SQLite has one writer at a time anyway, and
//!   queueing in the pool is cheaper than spinning on the busy handler); reads go through a pool of
//!   several. Other processes on the same file wait on the busy timeout.
//! * Seats are still claimed by one conditional upsert, exactly as in Postgres, so the invariant
//!   does not rest on the lock alone.
//!
//! Instants are stored as INTEGER microseconds since the Unix epoch (UTC), which sort and compare
//! as instants; sub-microsecond parts are dropped.
//!
//! The statements and flows are the ones Postgres runs too (`sql_store`); this file holds only
//! what SQLite does differently: column encodings (text ids and dates, integer instants and
//! flags), `BEGIN IMMEDIATE` instead of row locks, and the insertion-order column.

use std::str::FromStr;
use std::time::Duration;

use appointment_core::{Error, Result};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use uuid::Uuid;

use crate::service::{IdempotencyClaim, PoolStatus, ServiceStore};
use crate::sql_common::{ReadRow, corrupt, db_error, idempotency_state};
use crate::sql_store::{
    Arg, SqlBackend, events_sql, impl_conn, impl_store, insert_appointment_sql, insert_booking_sql,
    migration_methods,
};

/// The embedded migrations of the SQLite schema.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// How long a connection waits for another one's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a write waits for the (single) writer connection.
const WRITE_QUEUE_TIMEOUT: Duration = Duration::from_secs(60);
/// Connections that serve reads.
const READERS: u32 = 4;

/// A [`Store`](appointment_core::Store) (and [`ServiceStore`]) in a SQLite database file.
///
/// ```no_run
/// # async fn demo() -> appointment_core::Result<()> {
/// use appointment_store::SqliteStore;
/// let store = SqliteStore::connect("sqlite://appointments.db").await?;
/// let scheduler = appointment_core::Scheduler::new(store);
/// # let _ = scheduler; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// Whether `reader` is `writer` (an in-memory database has one connection).
    one_pool: bool,
    #[cfg(feature = "test-hooks")]
    hooks: std::sync::Arc<crate::hooks::Hooks>,
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn id_text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

fn get<'r, T>(row: &'r SqliteRow, col: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    row.try_get(col).map_err(db_error)
}

impl ReadRow for SqliteRow {
    fn text(&self, col: &str) -> Result<String> {
        get(self, col)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        get(self, col)
    }
    fn int(&self, col: &str) -> Result<i64> {
        get(self, col)
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        get(self, col)
    }
    /// Stored as 0 or 1.
    fn flag(&self, col: &str) -> Result<bool> {
        Ok(get::<i64>(self, col)? != 0)
    }
    /// Stored as hyphenated text.
    fn uuid(&self, col: &str) -> Result<Uuid> {
        let s: String = get(self, col)?;
        Uuid::parse_str(&s).map_err(|e| corrupt(col, e))
    }
    fn opt_uuid(&self, col: &str) -> Result<Option<Uuid>> {
        let s: Option<String> = get(self, col)?;
        s.map(|s| Uuid::parse_str(&s).map_err(|e| corrupt(col, e)))
            .transpose()
    }
    /// Stored as integer microseconds since the Unix epoch.
    fn instant(&self, col: &str) -> Result<DateTime<Utc>> {
        let v: i64 = get(self, col)?;
        DateTime::from_timestamp_micros(v).ok_or_else(|| corrupt(col, v))
    }
    fn opt_instant(&self, col: &str) -> Result<Option<DateTime<Utc>>> {
        let v: Option<i64> = get(self, col)?;
        v.map(|v| DateTime::from_timestamp_micros(v).ok_or_else(|| corrupt(col, v)))
            .transpose()
    }
    /// Stored as `YYYY-MM-DD` text.
    fn date(&self, col: &str) -> Result<NaiveDate> {
        let s: String = get(self, col)?;
        s.parse().map_err(|e| corrupt(col, e))
    }
    /// Stored as `HH:MM:SS` text.
    fn clock(&self, col: &str) -> Result<NaiveTime> {
        let s: String = get(self, col)?;
        s.parse().map_err(|e| corrupt(col, e))
    }
}

/// Whether a SQLite URL names an in-memory database (one connection must then serve everything,
/// since each connection would open its own empty database).
fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

impl SqliteStore {
    /// Opens (creating it if missing) the database at `url` (e.g. `sqlite://data/app.db` or
    /// `sqlite:app.db`) and applies every pending migration.
    pub async fn connect(url: &str) -> Result<Self> {
        let store = Self::connect_without_migrating(url).await?;
        store.migrate_up().await?;
        Ok(store)
    }

    /// Opens (creating it if missing) the database at `url` without touching its schema.
    pub async fn connect_without_migrating(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::invalid("database_url", e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let in_memory = is_in_memory(url);
        let mut writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(WRITE_QUEUE_TIMEOUT);
        if in_memory {
            // The database lives as long as its one connection: never let the pool close it.
            writer = writer
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        }
        let writer = writer
            .connect_with(options.clone())
            .await
            .map_err(db_error)?;
        let reader = if in_memory {
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(READERS)
                .acquire_timeout(WRITE_QUEUE_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(db_error)?
        };
        Ok(SqliteStore {
            writer,
            reader,
            one_pool: in_memory,
            #[cfg(feature = "test-hooks")]
            hooks: Default::default(),
        })
    }

    migration_methods!(
        writer,
        MIGRATOR,
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
    );

    /// The pools' connections now: `"writer"` (one connection) and `"reader"` (absent for an
    /// in-memory database, whose one connection serves both). Reads counters only; never waits.
    pub fn pool_status(&self) -> Vec<PoolStatus> {
        let mut pools = vec![PoolStatus::of("writer", &self.writer)];
        if !self.one_pool {
            pools.push(PoolStatus::of("reader", &self.reader));
        }
        pools
    }

    /// Closes every connection (waiting for running operations to finish).
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    /// Opens a write transaction holding the write lock from its first statement.
    async fn write(&self) -> Result<Transaction<'static, Sqlite>> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_error)
    }
}

/// Binds one value in SQLite's encoding of it.
fn bind(q: SqliteQuery, arg: Arg) -> SqliteQuery {
    match arg {
        Arg::Id(u) => q.bind(id_text(u)),
        Arg::OptId(u) => q.bind(u.map(id_text)),
        Arg::Text(s) => q.bind(s),
        Arg::OptText(s) => q.bind(s),
        Arg::Int(i) => q.bind(i),
        Arg::OptInt(i) => q.bind(i),
        Arg::Instant(t) | Arg::Bound(t) => q.bind(micros(t)),
        Arg::OptInstant(t) => q.bind(t.map(micros)),
        Arg::Date(d) => q.bind(d.to_string()),
        Arg::Clock(t) => q.bind(t.to_string()),
        Arg::Flag(b) => q.bind(i64::from(b)),
    }
}

type SqliteQuery = sqlx::query::Query<'static, Sqlite, SqliteArguments>;

fn query(sql: &'static str, args: Vec<Arg>) -> SqliteQuery {
    args.into_iter().fold(sqlx::query(sql), bind)
}

impl_conn!(SqlitePool, SqliteRow, query, |c| &*c);
impl_conn!(@lifetime 'c; Transaction<'c, Sqlite>, SqliteRow, query, |c| &mut **c);

#[async_trait]
impl SqlBackend for SqliteStore {
    type Row = SqliteRow;
    type Tx = Transaction<'static, Sqlite>;
    type Pool = SqlitePool;

    /// A write transaction holds SQLite's write lock from its first statement.
    const LOCKS_ROWS: bool = false;
    const INSERT_APPOINTMENT: &'static str = insert_appointment_sql!(
        "seq, ",
        "(SELECT COALESCE(MAX(seq), 0) + 1 FROM appointments), "
    );
    const INSERT_BOOKING: &'static str = insert_booking_sql!(
        "seq, ",
        "(SELECT COALESCE(MAX(seq), 0) + 1 FROM bookings), "
    );
    /// One writer commits at a time: insertion order is commit order, and `tx` is always 0.
    const EVENTS_AFTER: &'static str = events_sql!("0", "$1 = 0 AND seq > $2", "seq");
    const OWNER_EVENTS_AFTER: &'static str = events_sql!("0", "$1 = 0 AND seq > $2", "seq", owner);
    const CLAIM_DELIVERIES: &'static str = crate::webhooks_sql::claim_deliveries_sql!("");
    const PRUNE_EVENTS: &'static str =
        crate::webhooks_sql::prune_events_sql!("outbox.seq <= c.seq");
    const CLAIM_MAIL: &'static str = crate::mail_sql::claim_mail_sql!("");

    fn reads(&self) -> SqlitePool {
        self.reader.clone()
    }

    fn writes(&self) -> SqlitePool {
        self.writer.clone()
    }

    /// Opens a write transaction holding the write lock from its first statement.
    async fn begin(&self) -> Result<Self::Tx> {
        self.write().await
    }

    async fn commit(&self, tx: Self::Tx) -> Result<()> {
        self.before_commit().await?;
        tx.commit().await.map_err(db_error)
    }
}

impl_store!(SqliteStore);
crate::webhooks_sql::impl_webhooks!(SqliteStore);
crate::mail_sql::impl_mail!(SqliteStore);
crate::calendar_sql::impl_calendar_feeds!(SqliteStore);

#[async_trait]
impl ServiceStore for SqliteStore {
    fn pool_status(&self) -> Vec<PoolStatus> {
        SqliteStore::pool_status(self)
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn revoke_token(&self, jti: &str, expires_at: DateTime<Utc>) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM revoked_tokens WHERE expires_at <= $1")
            .bind(micros(Utc::now()))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) \
             ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at",
        )
        .bind(jti)
        .bind(micros(expires_at))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn is_token_revoked(&self, jti: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM revoked_tokens WHERE jti = $1")
            .bind(jti)
            .fetch_one(&self.reader)
            .await
            .map_err(db_error)?;
        Ok(n > 0)
    }

    async fn claim_idempotency_key(
        &self,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
        expire_before: DateTime<Utc>,
        lease_before: DateTime<Utc>,
    ) -> Result<IdempotencyClaim> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(micros(expire_before))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        // A claim whose lease ran out without an answer: its request died.
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE key = $1 AND status IS NULL AND created_at < $2",
        )
        .bind(key)
        .bind(micros(lease_before))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (key, request_hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(request_hash)
        .bind(micros(now))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let claim = if inserted.rows_affected() == 1 {
            IdempotencyClaim::Claimed
        } else {
            let row = sqlx::query(
                "SELECT request_hash, status, body FROM idempotency_keys WHERE key = $1",
            )
            .bind(key)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
            idempotency_state(
                get(&row, "request_hash")?,
                get(&row, "status")?,
                get(&row, "body")?,
            )?
        };
        tx.commit().await.map_err(db_error)?;
        Ok(claim)
    }

    async fn complete_idempotency_key(&self, key: &str, status: u16, body: &str) -> Result<()> {
        sqlx::query("UPDATE idempotency_keys SET status = $2, body = $3 WHERE key = $1")
            .bind(key)
            .bind(i64::from(status))
            .bind(body)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn release_idempotency_key(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM idempotency_keys WHERE key = $1 AND status IS NULL")
            .bind(key)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pool_status_counts_the_connections_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("pools.db").display());
        let store = SqliteStore::connect(&url).await.unwrap();
        let maxima = store.pool_status();
        assert_eq!(
            maxima.iter().map(|p| (p.pool, p.max)).collect::<Vec<_>>(),
            [("writer", 1), ("reader", READERS)]
        );
        // The writer's one connection, held: it is in use and none is idle. (A released
        // connection goes back to its pool in a task of its own, so only held ones are exact.)
        let tx = store.writer.begin().await.unwrap();
        let read = store.reader.acquire().await.unwrap();
        let [writer, reader] = store.pool_status()[..] else {
            panic!("two pools")
        };
        assert_eq!((writer.in_use, writer.idle), (1, 0));
        assert!(
            reader.in_use >= 1 && reader.in_use + reader.idle <= READERS,
            "{reader:?}"
        );
        drop(read);
        drop(tx);

        let memory = SqliteStore::connect("sqlite::memory:").await.unwrap();
        let pools = memory.pool_status();
        assert_eq!(
            pools.len(),
            1,
            "one connection serves reads and writes: {pools:?}"
        );
        assert_eq!(pools[0].pool, "writer");
    }
}

//! The Postgres store: the production backend, shared by any number of service replicas.
//!
//! # How it stays correct under concurrency
//!
//! Transactions run at Postgres' default isolation (READ COMMITTED); every rule that could be
//! broken by a concurrent writer is enforced by the database itself, in the same transaction as
//! the booking row:
//!
//! * seats are claimed by one conditional upsert (`INSERT … ON CONFLICT DO UPDATE … WHERE the sum
//!   stays within the capacity`), which locks the slot's counter row, so two claims on one slot
//!   are serialised and each sees the other's seats;
//! * anti-scalping is a partial unique index over active bookings;
//! * ending a booking is a conditional `UPDATE … WHERE status = 'active'`, and moving one locks its
//!   row (`SELECT … FOR UPDATE`) before touching counters, which are always locked in slot order,
//!   so concurrent moves cannot deadlock.
//!
//! Instants are `timestamptz` (microsecond precision; sub-microsecond parts are dropped).
//!
//! The statements and flows are the ones SQLite runs too (`sql_store`); this file holds only what
//! Postgres does differently: native column types, row locks, `bigserial` insertion order, the
//! mapping of a lost connection during `COMMIT`, and a booking in one statement.

use std::str::FromStr;
use std::time::Duration;

use appointment_core::{Booking, Error, Result, SeatClaim};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row, Transaction};
use uuid::Uuid;

use crate::service::{IdempotencyClaim, PoolStatus, ServiceStore};
use crate::sql_common::{
    ReadRow, booking_write_error, commit_error, corrupt, db_error, idempotency_state, slot_full,
};
use crate::sql_store::{
    Arg, Conn, SqlBackend, ban_of_sql, booking_args, claim_seats_sql, events_sql, impl_conn,
    impl_store, insert_appointment_sql, insert_booking_sql, migration_methods,
    reclaim_and_claim_in, taken_in,
};
#[cfg(doc)]
use crate::sql_store::{CLAIM_SEATS, book_in_steps};

/// The embedded migrations of the Postgres schema.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Connections in the pool.
const MAX_CONNECTIONS: u32 = 16;
/// How long an operation waits for a free connection (or, while the database is down, keeps trying
/// to open one) before it fails with [`Error::Unavailable`].
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A pooled connection idle for this long is checked with a round trip before it is used.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// A [`Store`](appointment_core::Store) (and [`ServiceStore`]) in a Postgres database.
///
/// ```no_run
/// # async fn demo() -> appointment_core::Result<()> {
/// use appointment_store::PostgresStore;
/// let store = PostgresStore::connect("postgres://app@localhost/appointments").await?;
/// let scheduler = appointment_core::Scheduler::new(store);
/// # let _ = scheduler; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    #[cfg(feature = "test-hooks")]
    hooks: std::sync::Arc<crate::hooks::Hooks>,
}

/// A whole booking in one statement (SQLite, which has no data-modifying `WITH`, runs the same
/// steps one by one: [`book_in_steps`]): refuses a banned email, inserts the booking (a unique
/// violation fails the statement), then takes its seats as [`CLAIM_SEATS`] does. Its arguments
/// are [`booking_args`], then the owner, the capacity and the canonical email (what bans are
/// kept as), then the appointment's revision (whose row it key-share locks, so that an edit
/// waits for the booking: see `sql_store`'s `REVISION_LOCKED`). Answers whether the appointment still has that
/// revision, whether the email is banned and whether the seats were taken; when they were not,
/// the caller rolls the transaction (and with it the booking row) back.
const BOOK: &str = concat!(
    "WITH cur AS (SELECT revision FROM appointments WHERE id = $3 AND deleted_at IS NULL \
     FOR KEY SHARE), banned AS (SELECT EXISTS (SELECT 1 FROM ",
    ban_of_sql!("$22", "$24"),
    ") AS yes, EXISTS (SELECT 1 FROM cur WHERE cur.revision = $25) AS current), booked AS (",
    insert_booking_sql!(
        "",
        "",
        select " FROM banned WHERE banned.current AND NOT banned.yes"
    ),
    " RETURNING id), claim AS (",
    claim_seats_sql!("SELECT $3, $9, $11 FROM booked WHERE $11 <= $23", "$23"),
    ") SELECT (SELECT current FROM banned) AS current, (SELECT yes FROM banned) AS banned, \
     EXISTS (SELECT 1 FROM claim) AS booked"
);

/// The earliest instant `timestamptz` holds is in 4714 BC; bounds of a query range are clamped to
/// it (nothing stored can be earlier).
fn clamp(bound: DateTime<Utc>) -> DateTime<Utc> {
    let earliest = NaiveDate::from_ymd_opt(-4712, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(DateTime::<Utc>::MIN_UTC, |t| t.and_utc());
    bound.max(earliest)
}

fn get<'r, T>(row: &'r PgRow, col: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(col).map_err(db_error)
}

impl ReadRow for PgRow {
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
    fn flag(&self, col: &str) -> Result<bool> {
        get(self, col)
    }
    fn uuid(&self, col: &str) -> Result<Uuid> {
        get(self, col)
    }
    fn opt_uuid(&self, col: &str) -> Result<Option<Uuid>> {
        get(self, col)
    }
    fn instant(&self, col: &str) -> Result<DateTime<Utc>> {
        get(self, col)
    }
    fn opt_instant(&self, col: &str) -> Result<Option<DateTime<Utc>>> {
        get(self, col)
    }
    fn date(&self, col: &str) -> Result<NaiveDate> {
        get(self, col)
    }
    fn clock(&self, col: &str) -> Result<NaiveTime> {
        get(self, col)
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (e.g. `postgres://user:password@host/db`) and applies
    /// every pending migration (replicas starting together take turns: the migrator holds an
    /// advisory lock).
    pub async fn connect(url: &str) -> Result<Self> {
        let store = Self::connect_without_migrating(url).await?;
        store.migrate_up().await?;
        Ok(store)
    }

    /// Connects to the database at `url` without touching its schema.
    pub async fn connect_without_migrating(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| Error::invalid("database_url", e.to_string()))?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // A connection in steady use needs no check (a broken one fails its statement, the
            // pool drops it, and the caller gets Unavailable); one that sat idle may have been
            // closed by a database restart or a firewall, so it is checked with a round trip.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for < PING_IF_IDLE_FOR {
                        return Ok(true);
                    }
                    // A failed check closes the connection and the pool opens another.
                    sqlx::Connection::ping(conn).await?;
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .map_err(db_error)?;
        Ok(Self::from_pool(pool))
    }

    /// Wraps an existing pool (its connections must reach a database migrated by this crate).
    pub fn from_pool(pool: PgPool) -> Self {
        PostgresStore {
            pool,
            #[cfg(feature = "test-hooks")]
            hooks: Default::default(),
        }
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The pool's connections now (pool `"main"`): in use, idle and the most it opens. Reads
    /// counters only; never waits.
    pub fn pool_status(&self) -> PoolStatus {
        PoolStatus::of("main", &self.pool)
    }

    migration_methods!(
        pool,
        MIGRATOR,
        "SELECT CAST(CASE WHEN to_regclass('_sqlx_migrations') IS NULL THEN 0 ELSE 1 END AS BIGINT)"
    );

    /// Closes every connection (waiting for running operations to finish).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Binds one value in Postgres' encoding of it.
fn bind(q: PgQuery, arg: Arg) -> PgQuery {
    match arg {
        Arg::Id(u) => q.bind(u),
        Arg::OptId(u) => q.bind(u),
        Arg::Text(s) => q.bind(s),
        Arg::OptText(s) => q.bind(s),
        Arg::Int(i) => q.bind(i),
        Arg::OptInt(i) => q.bind(i),
        Arg::Instant(t) => q.bind(t),
        Arg::OptInstant(t) => q.bind(t),
        Arg::Bound(t) => q.bind(clamp(t)),
        Arg::Date(d) => q.bind(d),
        Arg::Clock(t) => q.bind(t),
        Arg::Flag(b) => q.bind(b),
    }
}

type PgQuery = sqlx::query::Query<'static, Postgres, PgArguments>;

fn query(sql: &'static str, args: Vec<Arg>) -> PgQuery {
    args.into_iter().fold(sqlx::query(sql), bind)
}

impl_conn!(PgPool, PgRow, query, |c| &*c);
impl_conn!(@lifetime 'c; Transaction<'c, Postgres>, PgRow, query, |c| &mut **c);

#[async_trait]
impl SqlBackend for PostgresStore {
    type Row = PgRow;
    type Tx = Transaction<'static, Postgres>;
    type Pool = PgPool;

    /// Transactions run concurrently at READ COMMITTED: a booking is locked before it changes.
    const LOCKS_ROWS: bool = true;
    /// `seq` is a `bigserial`.
    const INSERT_APPOINTMENT: &'static str = insert_appointment_sql!("", "");
    const INSERT_BOOKING: &'static str = insert_booking_sql!("", "");
    /// Events in (transaction, insertion) order, answered only once no transaction that could
    /// still write an earlier one runs (older than the oldest running one: `pg_snapshot_xmin`).
    const EVENTS_AFTER: &'static str = events_sql!(
        "CAST(CAST(tx AS text) AS bigint)",
        "(tx, seq) > (CAST(CAST($1 AS text) AS xid8), $2) \
         AND tx < pg_snapshot_xmin(pg_current_snapshot())",
        "tx, seq"
    );
    const OWNER_EVENTS_AFTER: &'static str = events_sql!(
        "CAST(CAST(tx AS text) AS bigint)",
        "(tx, seq) > (CAST(CAST($1 AS text) AS xid8), $2) \
         AND tx < pg_snapshot_xmin(pg_current_snapshot())",
        "tx, seq",
        owner
    );
    const CLAIM_DELIVERIES: &'static str =
        crate::webhooks_sql::claim_deliveries_sql!("FOR UPDATE SKIP LOCKED");
    const PRUNE_EVENTS: &'static str = crate::webhooks_sql::prune_events_sql!(
        "(outbox.tx, outbox.seq) <= (CAST(CAST(c.tx AS text) AS xid8), c.seq)"
    );
    const CLAIM_MAIL: &'static str = crate::mail_sql::claim_mail_sql!("FOR UPDATE SKIP LOCKED");

    fn reads(&self) -> PgPool {
        self.pool.clone()
    }

    fn writes(&self) -> PgPool {
        self.pool.clone()
    }

    async fn begin(&self) -> Result<Self::Tx> {
        self.pool.begin().await.map_err(db_error)
    }

    /// A lost connection while committing leaves the outcome unknown ([`commit_error`]).
    async fn commit(&self, tx: Self::Tx) -> Result<()> {
        self.before_commit().await?;
        tx.commit().await.map_err(commit_error)
    }

    /// One round trip: [`BOOK`].
    async fn insert_booking(&self, b: &Booking, claim: SeatClaim) -> Result<()> {
        let n = b.attendee_count.get();
        let mut args = booking_args(b, claim);
        args.extend([
            Arg::Id(claim.owner.0),
            Arg::Int(i64::from(claim.capacity)),
            Arg::Text(b.email.canonical().into_owned()),
            Arg::Int(i64::try_from(claim.revision).unwrap_or(i64::MAX)),
        ]);
        let mut tx = self.begin().await?;
        let row = tx
            .optional(BOOK, args)
            .await
            .map_err(|e| booking_write_error(e, n))?
            .ok_or_else(|| corrupt("bookings", "the booking statement answered no row"))?;
        if !row.flag("current")? {
            return Err(Error::Changed(appointment_core::Entity::Appointment));
        }
        if row.flag("banned")? {
            return Err(Error::Banned);
        }
        if !row.flag("booked")? {
            // The booking row is written; the seats did not fit. Holds of the slot that expired
            // may still count: give them back and claim once more, in the same transaction.
            let app = b.appointment_id.0;
            let (start, capacity) = (b.slot_start, claim.capacity);
            if !reclaim_and_claim_in(&mut tx, true, app, start, n, capacity, b.created_at).await? {
                let taken = taken_in(&mut tx, app, b.slot_start).await?;
                return Err(slot_full(n, claim.capacity, taken));
            }
        }
        self.commit(tx).await
    }
}

impl_store!(PostgresStore);
crate::webhooks_sql::impl_webhooks!(PostgresStore);
crate::mail_sql::impl_mail!(PostgresStore);
crate::calendar_sql::impl_calendar_feeds!(PostgresStore);

#[async_trait]
impl ServiceStore for PostgresStore {
    fn pool_status(&self) -> Vec<PoolStatus> {
        vec![PostgresStore::pool_status(self)]
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn revoke_token(&self, jti: &str, expires_at: DateTime<Utc>) -> Result<()> {
        // Expired entries are purged a batch at a time, skipping rows another purge holds.
        sqlx::query(
            "DELETE FROM revoked_tokens WHERE jti IN (SELECT jti FROM revoked_tokens \
             WHERE expires_at <= $1 LIMIT 100 FOR UPDATE SKIP LOCKED)",
        )
        .bind(Utc::now())
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) \
             ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at",
        )
        .bind(jti)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn is_token_revoked(&self, jti: &str) -> Result<bool> {
        let found: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $1)")
                .bind(jti)
                .fetch_one(&self.pool)
                .await
                .map_err(db_error)?;
        Ok(found)
    }

    async fn claim_idempotency_key(
        &self,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
        expire_before: DateTime<Utc>,
        lease_before: DateTime<Utc>,
    ) -> Result<IdempotencyClaim> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys \
             WHERE created_at < $1 AND key <> $2 LIMIT 100 FOR UPDATE SKIP LOCKED)",
        )
        .bind(expire_before)
        .bind(key)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        // An expired record of this very key counts as absent (waiting for whoever holds it).
        sqlx::query("DELETE FROM idempotency_keys WHERE key = $1 AND created_at < $2")
            .bind(key)
            .bind(expire_before)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        // A claim whose lease ran out without an answer: its request died.
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE key = $1 AND status IS NULL AND created_at < $2",
        )
        .bind(key)
        .bind(lease_before)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        // A record can vanish between the insert and the read (released by its holder); then
        // the key is free again and the claim is retried.
        for _ in 0..8 {
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys (key, request_hash, created_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(request_hash)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
            if inserted.rows_affected() == 1 {
                return Ok(IdempotencyClaim::Claimed);
            }
            let row = sqlx::query(
                "SELECT request_hash, status, body FROM idempotency_keys WHERE key = $1",
            )
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
            if let Some(row) = row {
                return idempotency_state(
                    get(&row, "request_hash")?,
                    get::<Option<i32>>(&row, "status")?.map(i64::from),
                    get(&row, "body")?,
                );
            }
        }
        Err(corrupt(
            "idempotency_keys",
            "the key kept being claimed and released",
        ))
    }

    async fn complete_idempotency_key(&self, key: &str, status: u16, body: &str) -> Result<()> {
        sqlx::query("UPDATE idempotency_keys SET status = $2, body = $3 WHERE key = $1")
            .bind(key)
            .bind(i32::from(status))
            .bind(body)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn release_idempotency_key(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM idempotency_keys WHERE key = $1 AND status IS NULL")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }
}

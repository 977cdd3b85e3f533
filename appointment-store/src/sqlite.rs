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

use std::ops::Range;
use std::str::FromStr;
use std::time::Duration;

use appointment_core::store::{BookingStats, SeatClaim, SlotSeats, Store};
use appointment_core::{
    AppCode, Appointment, AppointmentId, AttendeeCount, Ban, Booking, BookingCode, BookingId,
    BookingStatus, Email, Entity, Error, Page, Paged, Result, User, UserId,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use uuid::Uuid;

use crate::service::{IdempotencyClaim, ServiceStore};
use crate::sql_common::{
    ReadRow, appointment_from, ban_from, booking_from, booking_not_found, corrupt, db_error,
    db_error_fk, end_action, guards, idempotency_state, limit_offset, slot_full, stored_status,
    to_count, to_u32, user_from,
};

/// The embedded migrations of the SQLite schema.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// How long a connection waits for another one's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a write waits for the (single) writer connection.
const WRITE_QUEUE_TIMEOUT: Duration = Duration::from_secs(60);
/// Connections that serve reads.
const READERS: u32 = 4;

/// A [`Store`] (and [`ServiceStore`]) in a SQLite database file.
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
    #[cfg(feature = "test-hooks")]
    hooks: std::sync::Arc<crate::hooks::Hooks>,
}

/// Columns of `bookings`, in the order [`booking_from`] reads them.
macro_rules! booking_cols {
    () => {
        "id, code, appointment_id, app_code, user_id, name, email, phone, slot_start, slot_end, \
         attendee_count, status, description, device_id, created_at, updated_at"
    };
}

/// Columns of `appointments`, in the order [`appointment_from`] reads them.
macro_rules! appointment_cols {
    () => {
        "id, code, owner_id, title, description, kind, capacity, anti_scalping, status, \
         start_date, end_date, window_start, window_end, slot_minutes, buffer_minutes, time_zone, \
         weekdays, min_notice_minutes, horizon_days, single_event, created_at"
    };
}

/// Columns of `users`, in the order [`user_from`] reads them.
macro_rules! user_cols {
    () => {
        "id, name, email, phone, password_hash, created_at"
    };
}

/// Takes seats if they fit: creates the counter, or adds to it while the sum stays within the
/// capacity. Returns the new count, or no row when the seats do not fit.
const CLAIM_SEATS: &str = "INSERT INTO slot_seats (appointment_id, slot_start, seats_taken) \
     SELECT $1, $2, $3 WHERE $3 <= $4 \
     ON CONFLICT (appointment_id, slot_start) DO UPDATE \
     SET seats_taken = slot_seats.seats_taken + excluded.seats_taken \
     WHERE slot_seats.seats_taken + excluded.seats_taken <= $4 \
     RETURNING seats_taken";

/// Gives seats back.
const RELEASE_SEATS: &str = "UPDATE slot_seats SET seats_taken = seats_taken - $3 \
     WHERE appointment_id = $1 AND slot_start = $2";

/// Seats taken on one slot.
const TAKEN: &str =
    "SELECT seats_taken FROM slot_seats WHERE appointment_id = $1 AND slot_start = $2";

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
            #[cfg(feature = "test-hooks")]
            hooks: Default::default(),
        })
    }

    /// Applies every pending migration.
    pub async fn migrate_up(&self) -> Result<()> {
        MIGRATOR.run(&self.writer).await.map_err(Error::storage)
    }

    /// Reverts migrations down to `version` (`0` reverts everything).
    pub async fn migrate_down_to(&self, version: i64) -> Result<()> {
        MIGRATOR
            .undo(&self.writer, version)
            .await
            .map_err(Error::storage)
    }

    /// Applies or reverts migrations until `version` is the latest applied one.
    pub async fn migrate_to(&self, version: i64) -> Result<()> {
        if version >= self.applied_version().await? {
            MIGRATOR
                .run_to(version, &self.writer)
                .await
                .map_err(Error::storage)
        } else {
            self.migrate_down_to(version).await
        }
    }

    /// The latest applied migration (`0` for none).
    pub async fn applied_version(&self) -> Result<i64> {
        let exists: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_one(&self.reader)
        .await
        .map_err(db_error)?;
        if exists == 0 {
            return Ok(0);
        }
        let v: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.reader)
                .await
                .map_err(db_error)?;
        Ok(v.unwrap_or(0))
    }

    /// The versions of the migrations built into this store, oldest first.
    pub fn known_migrations() -> Vec<i64> {
        let mut v: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
        v.dedup();
        v
    }

    /// Closes every connection (waiting for running operations to finish).
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    /// Arms a fault that fires in the next seat-changing write (tests only).
    #[cfg(feature = "test-hooks")]
    #[doc(hidden)]
    pub fn arm_fault(&self, fault: crate::hooks::Fault) {
        self.hooks.arm(fault);
    }

    async fn before_commit(&self) -> Result<()> {
        #[cfg(feature = "test-hooks")]
        self.hooks.before_commit().await?;
        Ok(())
    }

    /// Opens a write transaction holding the write lock from its first statement.
    async fn write(&self) -> Result<Transaction<'static, Sqlite>> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_error)
    }

    async fn paged_bookings(
        &self,
        count_sql: &'static str,
        list_sql: &'static str,
        key: String,
        page: Page,
    ) -> Result<Paged<Booking>> {
        let total: i64 = sqlx::query_scalar(count_sql)
            .bind(&key)
            .fetch_one(&self.reader)
            .await
            .map_err(db_error)?;
        let (limit, offset) = limit_offset(page);
        let rows = sqlx::query(list_sql)
            .bind(&key)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?;
        let items = rows.iter().map(booking_from).collect::<Result<_>>()?;
        Ok(Paged::new(items, page, to_count(total)))
    }
}

async fn taken_in(tx: &mut Transaction<'static, Sqlite>, app: &str, start: i64) -> Result<i64> {
    let v: Option<i64> = sqlx::query_scalar(TAKEN)
        .bind(app)
        .bind(start)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_error)?;
    Ok(v.unwrap_or(0))
}

/// Claims `n` seats; `Ok(false)` when they do not fit.
async fn claim_in(
    tx: &mut Transaction<'static, Sqlite>,
    app: &str,
    start: i64,
    n: u32,
    capacity: u32,
) -> Result<bool> {
    let row: Option<i64> = sqlx::query_scalar(CLAIM_SEATS)
        .bind(app)
        .bind(start)
        .bind(i64::from(n))
        .bind(i64::from(capacity))
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_error)?;
    Ok(row.is_some())
}

async fn release_in(
    tx: &mut Transaction<'static, Sqlite>,
    app: &str,
    start: i64,
    n: u32,
) -> Result<()> {
    let done = sqlx::query(RELEASE_SEATS)
        .bind(app)
        .bind(start)
        .bind(i64::from(n))
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    if done.rows_affected() != 1 {
        return Err(corrupt(
            "slot_seats",
            "an active booking has no seat counter",
        ));
    }
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert_user(&self, user: &User) -> Result<()> {
        let at = micros(user.created_at);
        sqlx::query(
            "INSERT INTO users (id, name, email, phone, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(id_text(user.id.0))
        .bind(user.name.as_str())
        .bind(user.email.as_str())
        .bind(user.phone.as_ref().map(|p| p.as_str()))
        .bind(&user.password_hash)
        .bind(at)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE id = $1 AND deleted_at IS NULL"
        ))
        .bind(id_text(id.0))
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?;
        row.as_ref().map(user_from).transpose()
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<User>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE email = $1 AND deleted_at IS NULL"
        ))
        .bind(email.as_str())
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?;
        row.as_ref().map(user_from).transpose()
    }

    async fn insert_appointment(&self, a: &Appointment) -> Result<()> {
        let s = &a.schedule;
        let at = micros(a.created_at);
        sqlx::query(
            "INSERT INTO appointments (id, seq, code, owner_id, title, description, kind, \
             capacity, anti_scalping, status, start_date, end_date, window_start, window_end, \
             slot_minutes, buffer_minutes, time_zone, weekdays, min_notice_minutes, horizon_days, \
             single_event, created_at, updated_at) \
             VALUES ($1, (SELECT IFNULL(MAX(seq), 0) + 1 FROM appointments), $2, $3, $4, $5, $6, \
             $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $21)",
        )
        .bind(id_text(a.id.0))
        .bind(a.code.as_str())
        .bind(id_text(a.owner.0))
        .bind(&a.title)
        .bind(&a.description)
        .bind(a.kind.as_str())
        .bind(i64::from(a.capacity))
        .bind(a.anti_scalping.as_str())
        .bind(a.status.as_str())
        .bind(s.start_date().to_string())
        .bind(s.end_date().to_string())
        .bind(s.window_start().to_string())
        .bind(s.window_end().to_string())
        .bind(i64::from(s.slot_minutes()))
        .bind(i64::from(s.buffer_minutes()))
        .bind(s.time_zone().name())
        .bind(i64::from(s.weekdays().bits()))
        .bind(i64::from(s.min_notice_minutes()))
        .bind(s.horizon_days().map(i64::from))
        .bind(i64::from(s.is_single_event()))
        .bind(at)
        .execute(&self.writer)
        .await
        .map_err(|e| db_error_fk(e, Entity::User))?;
        Ok(())
    }

    async fn appointment_by_code(&self, code: &AppCode) -> Result<Option<Appointment>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            appointment_cols!(),
            " FROM appointments WHERE code = $1 AND deleted_at IS NULL"
        ))
        .bind(code.as_str())
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?;
        row.as_ref().map(appointment_from).transpose()
    }

    async fn appointment_by_id(&self, id: AppointmentId) -> Result<Option<Appointment>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            appointment_cols!(),
            " FROM appointments WHERE id = $1 AND deleted_at IS NULL"
        ))
        .bind(id_text(id.0))
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?;
        row.as_ref().map(appointment_from).transpose()
    }

    async fn appointments_by_owner(&self, owner: UserId, page: Page) -> Result<Paged<Appointment>> {
        let owner = id_text(owner.0);
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM appointments WHERE owner_id = $1 AND deleted_at IS NULL",
        )
        .bind(&owner)
        .fetch_one(&self.reader)
        .await
        .map_err(db_error)?;
        let (limit, offset) = limit_offset(page);
        let rows = sqlx::query(concat!(
            "SELECT ",
            appointment_cols!(),
            " FROM appointments WHERE owner_id = $1 AND deleted_at IS NULL \
             ORDER BY seq DESC LIMIT $2 OFFSET $3"
        ))
        .bind(&owner)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        let items = rows.iter().map(appointment_from).collect::<Result<_>>()?;
        Ok(Paged::new(items, page, to_count(total)))
    }

    async fn appointments_created(
        &self,
        owner: UserId,
        range: Range<DateTime<Utc>>,
    ) -> Result<Vec<Appointment>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            appointment_cols!(),
            " FROM appointments WHERE owner_id = $1 AND created_at >= $2 AND created_at < $3 \
             AND deleted_at IS NULL ORDER BY seq"
        ))
        .bind(id_text(owner.0))
        .bind(micros(range.start))
        .bind(micros(range.end))
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        rows.iter().map(appointment_from).collect()
    }

    async fn seats_taken(
        &self,
        appointment: AppointmentId,
        range: Range<DateTime<Utc>>,
    ) -> Result<Vec<SlotSeats>> {
        let rows = sqlx::query(
            "SELECT slot_start, seats_taken FROM slot_seats WHERE appointment_id = $1 \
             AND slot_start >= $2 AND slot_start < $3 AND seats_taken > 0 ORDER BY slot_start",
        )
        .bind(id_text(appointment.0))
        .bind(micros(range.start))
        .bind(micros(range.end))
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|r| {
                Ok(SlotSeats {
                    slot_start: r.instant("slot_start")?,
                    seats_taken: to_u32("slot_seats.seats_taken", get(r, "seats_taken")?)?,
                })
            })
            .collect()
    }

    async fn insert_booking(&self, b: &Booking, claim: SeatClaim) -> Result<()> {
        let app = id_text(b.appointment_id.0);
        let start = micros(b.slot_start);
        let n = b.attendee_count.get();
        let (guard_email, guard_device) = guards(b, claim);
        let mut tx = self.write().await?;
        let banned: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM bans WHERE owner_id = $1 AND email = $2")
                .bind(id_text(claim.owner.0))
                .bind(b.email.canonical().into_owned())
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
        if banned > 0 {
            tx.rollback().await.map_err(db_error)?;
            return Err(Error::Banned);
        }
        sqlx::query(
            "INSERT INTO bookings (id, seq, code, appointment_id, app_code, user_id, name, email, \
             phone, slot_start, slot_end, attendee_count, status, description, device_id, \
             guard_email, guard_device, created_at, updated_at) \
             VALUES ($1, (SELECT IFNULL(MAX(seq), 0) + 1 FROM bookings), $2, $3, $4, $5, $6, $7, \
             $8, $9, $10, $11, 'active', $12, $13, $14, $15, $16, $17)",
        )
        .bind(id_text(b.id.0))
        .bind(b.code.as_str())
        .bind(&app)
        .bind(b.app_code.as_str())
        .bind(b.user_id.map(|u| id_text(u.0)))
        .bind(b.name.as_str())
        .bind(b.email.as_str())
        .bind(b.phone.as_ref().map(|p| p.as_str()))
        .bind(start)
        .bind(micros(b.slot_end))
        .bind(i64::from(n))
        .bind(&b.description)
        .bind(b.device_id.as_ref().map(|d| d.as_str()))
        .bind(guard_email)
        .bind(guard_device)
        .bind(micros(b.created_at))
        .bind(micros(b.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error_fk(e, Entity::Appointment))?;
        if !claim_in(&mut tx, &app, start, n, claim.capacity).await? {
            let taken = taken_in(&mut tx, &app, start).await?;
            tx.rollback().await.map_err(db_error)?;
            return Err(slot_full(n, claim.capacity, taken));
        }
        self.before_commit().await?;
        tx.commit().await.map_err(db_error)
    }

    async fn move_booking(
        &self,
        id: BookingId,
        new_start: DateTime<Utc>,
        new_end: DateTime<Utc>,
        new_count: u32,
        capacity: u32,
    ) -> Result<Booking> {
        let count = AttendeeCount::new(new_count)?;
        let id = id_text(id.0);
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "SELECT appointment_id, slot_start, attendee_count, status FROM bookings WHERE id = $1",
        )
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?
        .ok_or_else(booking_not_found)?;
        let status = stored_status(&get::<String>(&row, "status")?)?;
        if status != BookingStatus::Active {
            return Err(Error::InvalidTransition {
                from: status,
                action: "reschedule",
            });
        }
        let app: String = get(&row, "appointment_id")?;
        let old_start: i64 = get(&row, "slot_start")?;
        let old = to_u32("bookings.attendee_count", get(&row, "attendee_count")?)?;
        let new_start_us = micros(new_start);
        if old_start == new_start_us {
            let done: Option<i64> = sqlx::query_scalar(
                "UPDATE slot_seats SET seats_taken = seats_taken - $3 + $4 \
                 WHERE appointment_id = $1 AND slot_start = $2 \
                 AND seats_taken - $3 + $4 <= $5 RETURNING seats_taken",
            )
            .bind(&app)
            .bind(old_start)
            .bind(i64::from(old))
            .bind(i64::from(new_count))
            .bind(i64::from(capacity))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
            if done.is_none() {
                let taken = taken_in(&mut tx, &app, old_start).await? - i64::from(old);
                return Err(slot_full(new_count, capacity, taken));
            }
        } else {
            // Counters are touched in slot order (the same order as in Postgres).
            if new_start_us > old_start {
                release_in(&mut tx, &app, old_start, old).await?;
            }
            if !claim_in(&mut tx, &app, new_start_us, new_count, capacity).await? {
                let taken = taken_in(&mut tx, &app, new_start_us).await?;
                return Err(slot_full(new_count, capacity, taken));
            }
            if new_start_us < old_start {
                release_in(&mut tx, &app, old_start, old).await?;
            }
        }
        let row = sqlx::query(concat!(
            "UPDATE bookings SET slot_start = $2, slot_end = $3, attendee_count = $4, \
             updated_at = $5 WHERE id = $1 AND status = 'active' RETURNING ",
            booking_cols!()
        ))
        .bind(&id)
        .bind(new_start_us)
        .bind(micros(new_end))
        .bind(i64::from(count.get()))
        .bind(micros(Utc::now()))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?
        .ok_or_else(booking_not_found)?;
        let booking = booking_from(&row)?;
        self.before_commit().await?;
        tx.commit().await.map_err(db_error)?;
        Ok(booking)
    }

    async fn end_booking(&self, id: BookingId, status: BookingStatus) -> Result<Booking> {
        let id = id_text(id.0);
        let mut tx = self.write().await?;
        let current: Option<String> =
            sqlx::query_scalar("SELECT status FROM bookings WHERE id = $1")
                .bind(&id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
        let current = stored_status(&current.ok_or_else(booking_not_found)?)?;
        if current != BookingStatus::Active {
            return Err(Error::InvalidTransition {
                from: current,
                action: end_action(status),
            });
        }
        if status == BookingStatus::Active {
            return Err(Error::invalid(
                "status",
                "a booking can only end as cancelled or rejected",
            ));
        }
        let row = sqlx::query(concat!(
            "UPDATE bookings SET status = $2, updated_at = $3 WHERE id = $1 AND status = 'active' \
             RETURNING ",
            booking_cols!()
        ))
        .bind(&id)
        .bind(status.as_str())
        .bind(micros(Utc::now()))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?
        .ok_or_else(booking_not_found)?;
        let booking = booking_from(&row)?;
        release_in(
            &mut tx,
            &id_text(booking.appointment_id.0),
            micros(booking.slot_start),
            booking.attendee_count.get(),
        )
        .await?;
        self.before_commit().await?;
        tx.commit().await.map_err(db_error)?;
        Ok(booking)
    }

    async fn booking_by_code(&self, code: &BookingCode) -> Result<Option<Booking>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            booking_cols!(),
            " FROM bookings WHERE code = $1 AND deleted_at IS NULL"
        ))
        .bind(code.as_str())
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?;
        row.as_ref().map(booking_from).transpose()
    }

    async fn bookings_for_appointment(
        &self,
        appointment: AppointmentId,
        page: Page,
    ) -> Result<Paged<Booking>> {
        self.paged_bookings(
            "SELECT COUNT(*) FROM bookings WHERE appointment_id = $1 AND deleted_at IS NULL",
            concat!(
                "SELECT ",
                booking_cols!(),
                " FROM bookings WHERE appointment_id = $1 AND deleted_at IS NULL \
                 ORDER BY seq LIMIT $2 OFFSET $3"
            ),
            id_text(appointment.0),
            page,
        )
        .await
    }

    async fn bookings_for_user(&self, user: UserId, page: Page) -> Result<Paged<Booking>> {
        self.paged_bookings(
            "SELECT COUNT(*) FROM bookings WHERE user_id = $1 AND deleted_at IS NULL",
            concat!(
                "SELECT ",
                booking_cols!(),
                " FROM bookings WHERE user_id = $1 AND deleted_at IS NULL \
                 ORDER BY slot_start DESC, seq LIMIT $2 OFFSET $3"
            ),
            id_text(user.0),
            page,
        )
        .await
    }

    async fn booking_stats(
        &self,
        owner: UserId,
        range: Range<DateTime<Utc>>,
    ) -> Result<BookingStats> {
        let rows = sqlx::query(
            "SELECT b.status AS status, COUNT(*) AS n, IFNULL(SUM(b.attendee_count), 0) AS seats \
             FROM bookings b JOIN appointments a ON a.id = b.appointment_id \
             WHERE a.owner_id = $1 AND b.slot_start >= $2 AND b.slot_start < $3 \
             AND b.deleted_at IS NULL GROUP BY b.status",
        )
        .bind(id_text(owner.0))
        .bind(micros(range.start))
        .bind(micros(range.end))
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        let mut stats = BookingStats::default();
        for r in &rows {
            let n = to_count(get(r, "n")?);
            match stored_status(&get::<String>(r, "status")?)? {
                BookingStatus::Active => {
                    stats.active = n;
                    stats.seats_booked = to_count(get(r, "seats")?);
                }
                BookingStatus::Cancelled => stats.cancelled = n,
                BookingStatus::Rejected => stats.rejected = n,
            }
        }
        Ok(stats)
    }

    async fn insert_ban(&self, ban: &Ban) -> Result<()> {
        sqlx::query("INSERT INTO bans (id, owner_id, email, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id_text(ban.id.0))
            .bind(id_text(ban.owner.0))
            .bind(ban.email.as_str())
            .bind(micros(ban.created_at))
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn delete_ban(&self, owner: UserId, email: &Email) -> Result<bool> {
        let done = sqlx::query("DELETE FROM bans WHERE owner_id = $1 AND email = $2")
            .bind(id_text(owner.0))
            .bind(email.as_str())
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn bans(&self, owner: UserId) -> Result<Vec<Ban>> {
        let rows = sqlx::query(
            "SELECT id, owner_id, email, created_at FROM bans WHERE owner_id = $1 \
             ORDER BY created_at, email",
        )
        .bind(id_text(owner.0))
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        rows.iter().map(ban_from).collect()
    }
}

#[async_trait]
impl ServiceStore for SqliteStore {
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
    ) -> Result<IdempotencyClaim> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(micros(expire_before))
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

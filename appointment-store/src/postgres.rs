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
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row, Transaction};
use uuid::Uuid;

use crate::service::{IdempotencyClaim, ServiceStore};
use crate::sql_common::{
    ReadRow, appointment_from, ban_from, booking_from, booking_not_found, commit_error, corrupt,
    db_error, db_error_fk, end_action, guards, idempotency_state, limit_offset, slot_full,
    stored_status, to_count, to_u32, user_from,
};

/// The embedded migrations of the Postgres schema.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Connections in the pool.
const MAX_CONNECTIONS: u32 = 16;
/// How long an operation waits for a free connection (or, while the database is down, keeps trying
/// to open one) before it fails with [`Error::Unavailable`].
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A pooled connection idle for this long is checked with a round trip before it is used.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// A [`Store`] (and [`ServiceStore`]) in a Postgres database.
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
     SELECT $1::uuid, $2::timestamptz, $3::bigint WHERE $3::bigint <= $4::bigint \
     ON CONFLICT (appointment_id, slot_start) DO UPDATE \
     SET seats_taken = slot_seats.seats_taken + excluded.seats_taken \
     WHERE slot_seats.seats_taken + excluded.seats_taken <= $4::bigint \
     RETURNING seats_taken";

/// A whole booking in one statement: refuses a banned email (`$20`, the canonical form), inserts the booking (a unique
/// violation fails the statement), then takes its seats as [`CLAIM_SEATS`] does. Answers whether
/// the email is banned and whether the seats were taken; when they were not, the caller rolls the
/// transaction (and with it the booking row) back.
const BOOK: &str = "WITH banned AS ( \
         SELECT EXISTS (SELECT 1 FROM bans WHERE owner_id = $18 AND email = $20) AS yes \
     ), booked AS ( \
         INSERT INTO bookings (id, code, appointment_id, app_code, user_id, name, email, phone, \
             slot_start, slot_end, attendee_count, status, description, device_id, guard_email, \
             guard_device, created_at, updated_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'active', $12, $13, $14, $15, $16, \
             $17 FROM banned WHERE NOT banned.yes \
         RETURNING id \
     ), claim AS ( \
         INSERT INTO slot_seats (appointment_id, slot_start, seats_taken) \
         SELECT $3, $9, $11 FROM booked WHERE $11 <= $19 \
         ON CONFLICT (appointment_id, slot_start) DO UPDATE \
         SET seats_taken = slot_seats.seats_taken + excluded.seats_taken \
         WHERE slot_seats.seats_taken + excluded.seats_taken <= $19 \
         RETURNING seats_taken \
     ) \
     SELECT (SELECT yes FROM banned) AS banned, EXISTS (SELECT 1 FROM claim) AS booked";

/// Gives seats back.
const RELEASE_SEATS: &str = "UPDATE slot_seats SET seats_taken = seats_taken - $3 \
     WHERE appointment_id = $1 AND slot_start = $2";

/// Seats taken on one slot.
const TAKEN: &str =
    "SELECT seats_taken FROM slot_seats WHERE appointment_id = $1 AND slot_start = $2";

/// The earliest instant `timestamptz` holds is in 4714 BC; bounds of a query range are clamped to
/// it (nothing stored can be earlier).
fn clamp_range(range: Range<DateTime<Utc>>) -> (DateTime<Utc>, DateTime<Utc>) {
    let earliest = NaiveDate::from_ymd_opt(-4712, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(DateTime::<Utc>::MIN_UTC, |t| t.and_utc());
    (range.start.max(earliest), range.end.max(earliest))
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

    /// Applies every pending migration.
    pub async fn migrate_up(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await.map_err(Error::storage)
    }

    /// Reverts migrations down to `version` (`0` reverts everything).
    pub async fn migrate_down_to(&self, version: i64) -> Result<()> {
        MIGRATOR
            .undo(&self.pool, version)
            .await
            .map_err(Error::storage)
    }

    /// Applies or reverts migrations until `version` is the latest applied one.
    pub async fn migrate_to(&self, version: i64) -> Result<()> {
        if version >= self.applied_version().await? {
            MIGRATOR
                .run_to(version, &self.pool)
                .await
                .map_err(Error::storage)
        } else {
            self.migrate_down_to(version).await
        }
    }

    /// The latest applied migration (`0` for none).
    pub async fn applied_version(&self) -> Result<i64> {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        if !exists {
            return Ok(0);
        }
        let v: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
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
        self.pool.close().await;
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

    async fn write(&self) -> Result<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(db_error)
    }

    async fn paged_bookings(
        &self,
        count_sql: &'static str,
        list_sql: &'static str,
        key: Uuid,
        page: Page,
    ) -> Result<Paged<Booking>> {
        let total: i64 = sqlx::query_scalar(count_sql)
            .bind(key)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        let (limit, offset) = limit_offset(page);
        let rows = sqlx::query(list_sql)
            .bind(key)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        let items = rows.iter().map(booking_from).collect::<Result<_>>()?;
        Ok(Paged::new(items, page, to_count(total)))
    }
}

async fn taken_in(
    tx: &mut Transaction<'static, Postgres>,
    app: Uuid,
    start: DateTime<Utc>,
) -> Result<i64> {
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
    tx: &mut Transaction<'static, Postgres>,
    app: Uuid,
    start: DateTime<Utc>,
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
    tx: &mut Transaction<'static, Postgres>,
    app: Uuid,
    start: DateTime<Utc>,
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

/// Why a booking could not be changed: it does not exist, or it is no longer active.
async fn not_changeable(
    tx: &mut Transaction<'static, Postgres>,
    id: Uuid,
    action: &'static str,
) -> Error {
    let current: std::result::Result<Option<String>, sqlx::Error> =
        sqlx::query_scalar("SELECT status FROM bookings WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await;
    match current {
        Err(e) => db_error(e),
        Ok(None) => booking_not_found(),
        Ok(Some(s)) => match stored_status(&s) {
            Ok(from) => Error::InvalidTransition { from, action },
            Err(e) => e,
        },
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn insert_user(&self, user: &User) -> Result<()> {
        sqlx::query(
            "INSERT INTO users (id, name, email, phone, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(user.id.0)
        .bind(user.name.as_str())
        .bind(user.email.as_str())
        .bind(user.phone.as_ref().map(|p| p.as_str()))
        .bind(&user.password_hash)
        .bind(user.created_at)
        .execute(&self.pool)
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
        .bind(id.0)
        .fetch_optional(&self.pool)
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
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        row.as_ref().map(user_from).transpose()
    }

    async fn insert_appointment(&self, a: &Appointment) -> Result<()> {
        let s = &a.schedule;
        sqlx::query(
            "INSERT INTO appointments (id, code, owner_id, title, description, kind, capacity, \
             anti_scalping, status, start_date, end_date, window_start, window_end, slot_minutes, \
             buffer_minutes, time_zone, weekdays, min_notice_minutes, horizon_days, single_event, \
             created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $19, $20, $21, $21)",
        )
        .bind(a.id.0)
        .bind(a.code.as_str())
        .bind(a.owner.0)
        .bind(&a.title)
        .bind(&a.description)
        .bind(a.kind.as_str())
        .bind(i64::from(a.capacity))
        .bind(a.anti_scalping.as_str())
        .bind(a.status.as_str())
        .bind(s.start_date())
        .bind(s.end_date())
        .bind(s.window_start())
        .bind(s.window_end())
        .bind(i64::from(s.slot_minutes()))
        .bind(i64::from(s.buffer_minutes()))
        .bind(s.time_zone().name())
        .bind(i64::from(s.weekdays().bits()))
        .bind(i64::from(s.min_notice_minutes()))
        .bind(s.horizon_days().map(i64::from))
        .bind(s.is_single_event())
        .bind(a.created_at)
        .execute(&self.pool)
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
        .fetch_optional(&self.pool)
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
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        row.as_ref().map(appointment_from).transpose()
    }

    async fn appointments_by_owner(&self, owner: UserId, page: Page) -> Result<Paged<Appointment>> {
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM appointments WHERE owner_id = $1 AND deleted_at IS NULL",
        )
        .bind(owner.0)
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        let (limit, offset) = limit_offset(page);
        let rows = sqlx::query(concat!(
            "SELECT ",
            appointment_cols!(),
            " FROM appointments WHERE owner_id = $1 AND deleted_at IS NULL \
             ORDER BY seq DESC LIMIT $2 OFFSET $3"
        ))
        .bind(owner.0)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
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
        let (from, to) = clamp_range(range);
        let rows = sqlx::query(concat!(
            "SELECT ",
            appointment_cols!(),
            " FROM appointments WHERE owner_id = $1 AND created_at >= $2 AND created_at < $3 \
             AND deleted_at IS NULL ORDER BY seq"
        ))
        .bind(owner.0)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter().map(appointment_from).collect()
    }

    async fn seats_taken(
        &self,
        appointment: AppointmentId,
        range: Range<DateTime<Utc>>,
    ) -> Result<Vec<SlotSeats>> {
        let (from, to) = clamp_range(range);
        let rows = sqlx::query(
            "SELECT slot_start, seats_taken FROM slot_seats WHERE appointment_id = $1 \
             AND slot_start >= $2 AND slot_start < $3 AND seats_taken > 0 ORDER BY slot_start",
        )
        .bind(appointment.0)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|r| {
                Ok(SlotSeats {
                    slot_start: get(r, "slot_start")?,
                    seats_taken: to_u32("slot_seats.seats_taken", get(r, "seats_taken")?)?,
                })
            })
            .collect()
    }

    async fn insert_booking(&self, b: &Booking, claim: SeatClaim) -> Result<()> {
        let app = b.appointment_id.0;
        let n = b.attendee_count.get();
        let (guard_email, guard_device) = guards(b, claim);
        let mut tx = self.write().await?;
        let row = sqlx::query(BOOK)
            .bind(b.id.0)
            .bind(b.code.as_str())
            .bind(app)
            .bind(b.app_code.as_str())
            .bind(b.user_id.map(|u| u.0))
            .bind(b.name.as_str())
            .bind(b.email.as_str())
            .bind(b.phone.as_ref().map(|p| p.as_str()))
            .bind(b.slot_start)
            .bind(b.slot_end)
            .bind(i64::from(n))
            .bind(&b.description)
            .bind(b.device_id.as_ref().map(|d| d.as_str()))
            .bind(guard_email)
            .bind(guard_device)
            .bind(b.created_at)
            .bind(b.updated_at)
            .bind(claim.owner.0)
            .bind(i64::from(claim.capacity))
            .bind(b.email.canonical().into_owned())
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| db_error_fk(e, Entity::Appointment))?;
        if get::<bool>(&row, "banned")? {
            tx.rollback().await.map_err(db_error)?;
            return Err(Error::Banned);
        }
        if !get::<bool>(&row, "booked")? {
            let taken = taken_in(&mut tx, app, b.slot_start).await?;
            tx.rollback().await.map_err(db_error)?;
            return Err(slot_full(n, claim.capacity, taken));
        }
        self.before_commit().await?;
        tx.commit().await.map_err(commit_error)
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
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "SELECT appointment_id, slot_start, attendee_count, status FROM bookings \
             WHERE id = $1 FOR UPDATE",
        )
        .bind(id.0)
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
        let app: Uuid = get(&row, "appointment_id")?;
        let old_start: DateTime<Utc> = get(&row, "slot_start")?;
        let old = to_u32("bookings.attendee_count", get(&row, "attendee_count")?)?;
        // Compare at the stored precision, as the counters are keyed.
        let same_slot = old_start.timestamp_micros() == new_start.timestamp_micros();
        if same_slot {
            let done: Option<i64> = sqlx::query_scalar(
                "UPDATE slot_seats SET seats_taken = seats_taken - $3 + $4 \
                 WHERE appointment_id = $1 AND slot_start = $2 \
                 AND seats_taken - $3 + $4 <= $5 RETURNING seats_taken",
            )
            .bind(app)
            .bind(old_start)
            .bind(i64::from(old))
            .bind(i64::from(new_count))
            .bind(i64::from(capacity))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
            if done.is_none() {
                let taken = taken_in(&mut tx, app, old_start).await? - i64::from(old);
                return Err(slot_full(new_count, capacity, taken));
            }
        } else {
            // Counter rows are locked in slot order, so that two moves in opposite directions
            // cannot deadlock.
            if new_start > old_start {
                release_in(&mut tx, app, old_start, old).await?;
            }
            if !claim_in(&mut tx, app, new_start, new_count, capacity).await? {
                let taken = taken_in(&mut tx, app, new_start).await?;
                return Err(slot_full(new_count, capacity, taken));
            }
            if new_start < old_start {
                release_in(&mut tx, app, old_start, old).await?;
            }
        }
        let row = sqlx::query(concat!(
            "UPDATE bookings SET slot_start = $2, slot_end = $3, attendee_count = $4, \
             updated_at = $5 WHERE id = $1 AND status = 'active' RETURNING ",
            booking_cols!()
        ))
        .bind(id.0)
        .bind(new_start)
        .bind(new_end)
        .bind(i64::from(count.get()))
        .bind(Utc::now())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?
        .ok_or_else(booking_not_found)?;
        let booking = booking_from(&row)?;
        self.before_commit().await?;
        tx.commit().await.map_err(commit_error)?;
        Ok(booking)
    }

    async fn end_booking(&self, id: BookingId, status: BookingStatus) -> Result<Booking> {
        let mut tx = self.write().await?;
        if status == BookingStatus::Active {
            return Err(
                match not_changeable(&mut tx, id.0, end_action(status)).await {
                    Error::InvalidTransition {
                        from: BookingStatus::Active,
                        ..
                    } => {
                        Error::invalid("status", "a booking can only end as cancelled or rejected")
                    }
                    other => other,
                },
            );
        }
        // The conditional update both checks and locks: of two concurrent ends, one finds the
        // booking no longer active.
        let row = sqlx::query(concat!(
            "UPDATE bookings SET status = $2, updated_at = $3 WHERE id = $1 AND status = 'active' \
             RETURNING ",
            booking_cols!()
        ))
        .bind(id.0)
        .bind(status.as_str())
        .bind(Utc::now())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let Some(row) = row else {
            return Err(not_changeable(&mut tx, id.0, end_action(status)).await);
        };
        let booking = booking_from(&row)?;
        release_in(
            &mut tx,
            booking.appointment_id.0,
            booking.slot_start,
            booking.attendee_count.get(),
        )
        .await?;
        self.before_commit().await?;
        tx.commit().await.map_err(commit_error)?;
        Ok(booking)
    }

    async fn booking_by_code(&self, code: &BookingCode) -> Result<Option<Booking>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            booking_cols!(),
            " FROM bookings WHERE code = $1 AND deleted_at IS NULL"
        ))
        .bind(code.as_str())
        .fetch_optional(&self.pool)
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
            appointment.0,
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
            user.0,
            page,
        )
        .await
    }

    async fn booking_stats(
        &self,
        owner: UserId,
        range: Range<DateTime<Utc>>,
    ) -> Result<BookingStats> {
        let (from, to) = clamp_range(range);
        let rows = sqlx::query(
            "SELECT b.status AS status, COUNT(*) AS n, \
             COALESCE(SUM(b.attendee_count), 0)::bigint AS seats \
             FROM bookings b JOIN appointments a ON a.id = b.appointment_id \
             WHERE a.owner_id = $1 AND b.slot_start >= $2 AND b.slot_start < $3 \
             AND b.deleted_at IS NULL GROUP BY b.status",
        )
        .bind(owner.0)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
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
            .bind(ban.id.0)
            .bind(ban.owner.0)
            .bind(ban.email.as_str())
            .bind(ban.created_at)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn delete_ban(&self, owner: UserId, email: &Email) -> Result<bool> {
        let done = sqlx::query("DELETE FROM bans WHERE owner_id = $1 AND email = $2")
            .bind(owner.0)
            .bind(email.as_str())
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn bans(&self, owner: UserId) -> Result<Vec<Ban>> {
        let rows = sqlx::query(
            "SELECT id, owner_id, email, created_at FROM bans WHERE owner_id = $1 \
             ORDER BY created_at, email",
        )
        .bind(owner.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter().map(ban_from).collect()
    }
}

#[async_trait]
impl ServiceStore for PostgresStore {
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

//! The SQL store, once: every statement and every flow of the [`Store`] contract, over
//! [`SqlBackend`], which says only what differs between SQLite and Postgres (how values are
//! encoded, how a write transaction begins and commits, whether rows are locked, how the next
//! insertion number is taken).
//!
//! Both backends read the same SQL text: `$n` placeholders are understood by both, and every
//! expression used here (`COALESCE`, `CAST(… AS BIGINT)`, `ON CONFLICT … DO UPDATE … WHERE`,
//! `RETURNING`) means the same in both.
//!
//! [`Store`]: appointment_core::Store

use std::ops::Range;

use appointment_core::store::{
    BookingEnd, BookingMove, BookingStats, MAX_RESOURCE_CLAIM, SeatClaim, SlotSeats,
};
use appointment_core::{
    AppCode, Appointment, AppointmentId, AttendeeCount, Ban, Booking, BookingCode, BookingId,
    BookingStatus, Duplicate, Email, Entity, Error, Event, EventCursor, Hold, HoldId, HoldStatus,
    HoldToken, Page, Paged, ResourceKey, Result, User, UserId, WaitlistCode, WaitlistEntry,
    WaitlistId, WaitlistStatus,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use uuid::Uuid;

use crate::sql_common::{
    ReadRow, appointment_from, ban_from, booking_from, booking_not_found, booking_write_error,
    corrupt, db_error, db_error_fk, event_from, guard_values, guards, hold_from, hold_not_found,
    limit_offset, slot_full, stored_status, to_count, to_u32, user_from, valid, waitlist_from,
};

/// A value bound to a placeholder; each backend encodes it in its own column type.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    /// An identifier (Postgres `uuid`, SQLite hyphenated text).
    Id(Uuid),
    /// An optional identifier.
    OptId(Option<Uuid>),
    /// Text.
    Text(String),
    /// Optional text.
    OptText(Option<String>),
    /// An integer.
    Int(i64),
    /// An optional integer.
    OptInt(Option<i64>),
    /// A stored instant (Postgres `timestamptz`, SQLite integer microseconds).
    Instant(DateTime<Utc>),
    /// An optional stored instant.
    OptInstant(Option<DateTime<Utc>>),
    /// The bound of a query range, which may lie beyond what a column can hold (Postgres clamps
    /// it to the earliest instant it stores).
    Bound(DateTime<Utc>),
    /// A date (Postgres `date`, SQLite `YYYY-MM-DD`).
    Date(NaiveDate),
    /// A time of day (Postgres `time`, SQLite `HH:MM:SS`).
    Clock(NaiveTime),
    /// A flag (Postgres `boolean`, SQLite 0 or 1).
    Flag(bool),
}

fn text(s: &str) -> Arg {
    Arg::Text(s.to_owned())
}

/// A connection or pool that runs one statement with its arguments.
#[async_trait]
pub(crate) trait Conn: Send {
    /// The backend's row.
    type Row: ReadRow + Send;
    /// Runs a statement that answers at most one row.
    async fn optional(
        &mut self,
        sql: &'static str,
        args: Vec<Arg>,
    ) -> std::result::Result<Option<Self::Row>, sqlx::Error>;
    /// Runs a statement and collects its rows.
    async fn all(
        &mut self,
        sql: &'static str,
        args: Vec<Arg>,
    ) -> std::result::Result<Vec<Self::Row>, sqlx::Error>;
    /// Runs a statement; answers the number of rows it changed.
    async fn execute(
        &mut self,
        sql: &'static str,
        args: Vec<Arg>,
    ) -> std::result::Result<u64, sqlx::Error>;
}

/// What differs between the SQL backends. Everything else is written once in this module.
#[async_trait]
pub(crate) trait SqlBackend: Send + Sync + 'static {
    /// The backend's row.
    type Row: ReadRow + Send;
    /// A write transaction.
    type Tx: Conn<Row = Self::Row>;
    /// A pool that runs single statements.
    type Pool: Conn<Row = Self::Row>;

    /// Whether a transaction must lock the booking row it is about to change
    /// (`SELECT … FOR UPDATE`): true where writers run concurrently (Postgres), false where a
    /// write transaction already holds the whole database (SQLite's `BEGIN IMMEDIATE`).
    const LOCKS_ROWS: bool;
    /// `INSERT INTO appointments …` (see [`insert_appointment_sql!`]).
    const INSERT_APPOINTMENT: &'static str;
    /// `INSERT INTO bookings …` (see [`insert_booking_sql!`]).
    const INSERT_BOOKING: &'static str;
    /// The events after the cursor (`$1`, `$2`) that are final (no transaction that could
    /// write one before them still runs), in order, at most `$3` (see [`events_sql!`]).
    const EVENTS_AFTER: &'static str;
    /// The same, of the owner `$4` only.
    const OWNER_EVENTS_AFTER: &'static str;
    /// Claims due webhook deliveries (see `webhooks_sql::claim_deliveries_sql!`).
    const CLAIM_DELIVERIES: &'static str;
    /// Removes old events behind the webhook and mail cursors (see
    /// `webhooks_sql::prune_events_sql!`).
    const PRUNE_EVENTS: &'static str;
    /// Claims due email messages (see `mail_sql::claim_mail_sql!`).
    const CLAIM_MAIL: &'static str;

    /// The pool that serves reads.
    fn reads(&self) -> Self::Pool;
    /// The pool that serves single-statement writes.
    fn writes(&self) -> Self::Pool;
    /// Opens a write transaction.
    async fn begin(&self) -> Result<Self::Tx>;
    /// Commits a write transaction (after the test fault hooks, if armed).
    async fn commit(&self, tx: Self::Tx) -> Result<()>;

    /// Inserts a booking and takes its seats, atomically (see `Store::insert_booking`). The
    /// default runs [`book_in_steps`]; a backend may do the same in fewer round trips.
    async fn insert_booking(&self, booking: &Booking, claim: SeatClaim) -> Result<()> {
        book_in_steps(self, booking, claim).await
    }
}

/// `INSERT INTO appointments …` with `$1` … `$29` in [`appointment_args`] order. `$seq_col` and
/// `$seq_val` name the insertion-order column and its value where the backend does not fill it
/// itself (both empty otherwise).
macro_rules! insert_appointment_sql {
    ($seq_col:literal, $seq_val:literal) => {
        concat!(
            "INSERT INTO appointments (id, ",
            $seq_col,
            "code, owner_id, title, description, kind, capacity, anti_scalping, status, \
             start_date, end_date, window_start, window_end, slot_minutes, buffer_minutes, \
             time_zone, weekdays, min_notice_minutes, horizon_days, single_event, created_at, \
             updated_at, weekly_hours, date_overrides, closures, resource, cancel_cutoff_minutes, \
             hold_minutes, revision, confirm_within_minutes) VALUES ($1, ",
            $seq_val,
            "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
             $20, $21, $21, $22, $23, $24, $25, $26, $27, $28, $29)"
        )
    };
}
pub(crate) use insert_appointment_sql;

/// `INSERT INTO bookings …` with `$1` … `$21` in [`booking_args`] order; `$seq_col` and
/// `$seq_val` as for [`insert_appointment_sql!`]. The values come from `VALUES (…)`, or, with a
/// trailing `select … $from`, from `SELECT … $from` (for a booking inside a larger statement).
macro_rules! insert_booking_sql {
    ($seq_col:literal, $seq_val:literal) => {
        $crate::sql_store::insert_booking_sql!(@ $seq_col, $seq_val, "VALUES (", ")")
    };
    ($seq_col:literal, $seq_val:literal, select $from:literal) => {
        $crate::sql_store::insert_booking_sql!(@ $seq_col, $seq_val, "SELECT ", $from)
    };
    (@ $seq_col:literal, $seq_val:literal, $open:literal, $close:literal) => {
        concat!(
            "INSERT INTO bookings (id, ",
            $seq_col,
            "code, appointment_id, app_code, user_id, name, email, phone, slot_start, slot_end, \
             attendee_count, status, description, device_id, guard_email, guard_device, \
             created_at, updated_at, resource_key, claim_end, confirm_by) ",
            $open,
            "$1, ",
            $seq_val,
            "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $20, $12, $13, $14, $15, $16, $17, \
             $18, $19, $21",
            $close
        )
    };
}
pub(crate) use insert_booking_sql;

/// `SELECT … FROM outbox WHERE $after [AND owner_id = $4] ORDER BY $order LIMIT $3`: `$tx` is
/// the expression of the transaction order as a number, `$after` the condition that the event
/// is after the cursor `($1, $2)` and final.
macro_rules! events_sql {
    ($tx:literal, $after:literal, $order:literal) => {
        $crate::sql_store::events_sql!(@ $tx, $after, "", $order)
    };
    ($tx:literal, $after:literal, $order:literal, owner) => {
        $crate::sql_store::events_sql!(@ $tx, $after, " AND owner_id = $4", $order)
    };
    (@ $tx:literal, $after:literal, $owner:literal, $order:literal) => {
        concat!(
            "SELECT ",
            $tx,
            " AS tx, seq, id, kind, occurred_at, owner_id, appointment_id, app_code, \
             subject_id, code, status, slot_start, slot_end, seats, name, email, deadline, \
             ref_id, revision FROM outbox WHERE ",
            $after,
            $owner,
            " ORDER BY ",
            $order,
            " LIMIT $3"
        )
    };
}
pub(crate) use events_sql;

/// Columns of `bookings`, in the order [`booking_from`] reads them.
macro_rules! booking_cols {
    () => {
        "id, code, appointment_id, app_code, user_id, name, email, phone, slot_start, slot_end, \
         attendee_count, status, description, device_id, created_at, updated_at, confirm_by"
    };
}
pub(crate) use booking_cols;

/// Columns of `appointments`, in the order [`appointment_from`] reads them.
macro_rules! appointment_cols {
    () => {
        "id, code, owner_id, title, description, kind, capacity, anti_scalping, status, \
         start_date, end_date, window_start, window_end, slot_minutes, buffer_minutes, time_zone, \
         weekdays, min_notice_minutes, horizon_days, single_event, created_at, updated_at, \
         weekly_hours, date_overrides, closures, resource, cancel_cutoff_minutes, hold_minutes, \
         revision, confirm_within_minutes"
    };
}

/// Columns of `users`, in the order [`user_from`] reads them.
macro_rules! user_cols {
    () => {
        "id, name, email, phone, password_hash, created_at, email_verified_at"
    };
}

/// The booking a move reads first (and, where rows are locked, locks).
macro_rules! booking_to_move {
    () => {
        "SELECT appointment_id, slot_start, attendee_count, status, confirm_by, email, device_id \
         FROM bookings WHERE id = $1 AND (status = 'active' \
         OR (status = 'pending' AND confirm_by > $2))"
    };
}

const INSERT_USER: &str = "INSERT INTO users (id, name, email, phone, password_hash, created_at, \
     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)";
const MARK_EMAIL_VERIFIED: &str = "UPDATE users SET email_verified_at = \
     COALESCE(email_verified_at, $3) WHERE id = $1 AND email = $2 AND deleted_at IS NULL";
const USER_BY_ID: &str = concat!(
    "SELECT ",
    user_cols!(),
    " FROM users WHERE id = $1 AND deleted_at IS NULL"
);
const USER_BY_EMAIL: &str = concat!(
    "SELECT ",
    user_cols!(),
    " FROM users WHERE email = $1 AND deleted_at IS NULL"
);

const APPOINTMENT_BY_CODE: &str = concat!(
    "SELECT ",
    appointment_cols!(),
    " FROM appointments WHERE code = $1 AND deleted_at IS NULL"
);
const APPOINTMENT_BY_ID: &str = concat!(
    "SELECT ",
    appointment_cols!(),
    " FROM appointments WHERE id = $1 AND deleted_at IS NULL"
);
const COUNT_OWNER_APPOINTMENTS: &str =
    "SELECT COUNT(*) AS n FROM appointments WHERE owner_id = $1 AND deleted_at IS NULL";
const OWNER_APPOINTMENTS: &str = concat!(
    "SELECT ",
    appointment_cols!(),
    " FROM appointments WHERE owner_id = $1 AND deleted_at IS NULL \
     ORDER BY seq DESC LIMIT $2 OFFSET $3"
);
const APPOINTMENTS_CREATED: &str = concat!(
    "SELECT ",
    appointment_cols!(),
    " FROM appointments WHERE owner_id = $1 AND created_at >= $2 AND created_at < $3 \
     AND deleted_at IS NULL ORDER BY seq"
);

/// Seat counters in `[$2, $3)` less the seats of their held holds and pending bookings expired
/// at `$4`.
const SEATS_TAKEN: &str = "SELECT s.slot_start, s.seats_taken - CAST(COALESCE((SELECT SUM(h.seats) \
     FROM holds h WHERE h.appointment_id = s.appointment_id AND h.slot_start = s.slot_start \
     AND h.status = 'held' AND h.expires_at <= $4), 0) AS BIGINT) \
     - CAST(COALESCE((SELECT SUM(b.attendee_count) FROM bookings b \
     WHERE b.appointment_id = s.appointment_id AND b.slot_start = s.slot_start \
     AND b.status = 'pending' AND b.confirm_by <= $4), 0) AS BIGINT) AS seats_taken \
     FROM slot_seats s WHERE s.appointment_id = $1 AND s.slot_start >= $2 AND s.slot_start < $3 \
     AND s.seats_taken > 0 ORDER BY s.slot_start";

/// Locks a slot's counter (where rows lock): what every change of a slot's holds takes first,
/// as every claim does, so that the two cannot wait on each other.
const LOCK_COUNTER: &str = "SELECT seats_taken FROM slot_seats \
     WHERE appointment_id = $1 AND slot_start = $2 FOR UPDATE";

/// Marks the slot's held holds expired at `$3`, answering the seats of each.
const EXPIRE_HOLDS: &str = "UPDATE holds SET status = 'expired', updated_at = $3 \
     WHERE appointment_id = $1 AND slot_start = $2 AND status = 'held' AND expires_at <= $3 \
     RETURNING seats";

/// Marks the slot's pending bookings expired at `$3`, answering the seats of each; `$skip` is
/// `FOR UPDATE SKIP LOCKED` where rows lock (a booking a concurrent cancel, decline or confirm
/// holds is left to it: it would otherwise wait for the counter this claim holds), empty
/// elsewhere.
macro_rules! expire_pending_sql {
    ($skip:literal) => {
        concat!(
            "UPDATE bookings SET status = 'expired', updated_at = $3 WHERE id IN (SELECT id \
             FROM bookings WHERE appointment_id = $1 AND slot_start = $2 AND status = 'pending' \
             AND confirm_by <= $3 ",
            $skip,
            ") RETURNING attendee_count AS seats"
        )
    };
}
const EXPIRE_PENDING: &str = expire_pending_sql!("");
const EXPIRE_PENDING_LOCKED: &str = expire_pending_sql!("FOR UPDATE SKIP LOCKED");

/// The slots of an appointment with holds or pending bookings expired at `$2`, in order.
const EXPIRED_SLOTS: &str = "SELECT slot_start FROM holds WHERE appointment_id = $1 \
     AND status = 'held' AND expires_at <= $2 UNION SELECT slot_start FROM bookings \
     WHERE appointment_id = $1 AND status = 'pending' AND confirm_by <= $2 ORDER BY slot_start";

/// The appointments with held holds or pending bookings expired at `$1`, each once, the oldest
/// deadline first, at most `$2`; of each kind only the `$3` oldest expired rows are read (through
/// the deadline indexes `holds_held_expiry_idx` and `bookings_pending_deadline_idx`).
const EXPIRED_APPOINTMENTS: &str = "SELECT e.appointment_id FROM (\
     SELECT h.appointment_id, h.due FROM (SELECT appointment_id, expires_at AS due FROM holds \
     WHERE status = 'held' AND expires_at <= $1 ORDER BY expires_at LIMIT $3) h \
     UNION ALL SELECT b.appointment_id, b.due FROM (SELECT appointment_id, confirm_by AS due \
     FROM bookings WHERE status = 'pending' AND confirm_by <= $1 ORDER BY confirm_by LIMIT $3) b\
     ) e GROUP BY e.appointment_id ORDER BY MIN(e.due), e.appointment_id LIMIT $2";

/// How many expired rows of each kind [`EXPIRED_APPOINTMENTS`] reads per appointment asked for.
const EXPIRED_ROWS_PER_APPOINTMENT: i64 = 8;

/// Confirms a pending booking in time at `$2`; no row otherwise.
const CONFIRM_BOOKING: &str = concat!(
    "UPDATE bookings SET status = 'active', updated_at = $2 \
     WHERE id = $1 AND status = 'pending' AND confirm_by > $2 RETURNING ",
    booking_cols!()
);

/// Columns of `waitlist`, in the order [`waitlist_from`] reads them.
macro_rules! waitlist_cols {
    () => {
        "id, code, appointment_id, app_code, slot_start, slot_end, name, email, seats, status, \
         hold_id, created_at, updated_at"
    };
}

/// Whether anybody waits for the slot (`$1`, `$2`): what every release of seats asks first.
const ANYONE_WAITING: &str = "SELECT 1 AS n FROM waitlist WHERE appointment_id = $1 \
     AND slot_start = $2 AND status = 'waiting' LIMIT 1";
/// The first waiting place of the slot (`$1`, `$2`) in line order whose seats fit in `$3`.
macro_rules! next_fitting_sql {
    () => {
        "SELECT id, seats, slot_end FROM waitlist WHERE appointment_id = $1 AND slot_start = $2 \
         AND status = 'waiting' AND seats <= $3 ORDER BY seq, created_at LIMIT 1"
    };
}
const NEXT_FITTING: &str = next_fitting_sql!();
const NEXT_FITTING_LOCKED: &str = concat!(next_fitting_sql!(), " FOR UPDATE");
/// What an offer needs of its appointment.
const OFFER_TERMS: &str = "SELECT code, capacity, hold_minutes FROM appointments WHERE id = $1";
/// A waiting place offered the hold `$2` at `$3`.
const OFFER_PLACE: &str = "UPDATE waitlist SET status = 'offered', hold_id = $2, updated_at = $3 \
     WHERE id = $1 AND status = 'waiting'";
const INSERT_WAITLIST: &str = "INSERT INTO waitlist (id, seq, code, appointment_id, app_code, \
     slot_start, slot_end, name, email, guard_email, seats, status, hold_id, created_at, \
     updated_at) VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM waitlist), $2, $3, $4, $5, \
     $6, $7, $8, $9, $10, 'waiting', NULL, $11, $11)";
const WAITLIST_BY_CODE: &str = concat!(
    "SELECT ",
    waitlist_cols!(),
    " FROM waitlist WHERE code = $1"
);
const WAITLIST_BY_ID: &str = concat!("SELECT ", waitlist_cols!(), " FROM waitlist WHERE id = $1");
/// How many places of the slot wait ahead of the place `$3` (joined as `$4`).
const WAITING_AHEAD: &str = "SELECT COUNT(*) AS n FROM waitlist WHERE appointment_id = $1 \
     AND slot_start = $2 AND status = 'waiting' \
     AND seq < (SELECT seq FROM waitlist WHERE id = $3)";
/// Whether the canonical email `$2` waits (or holds a live offer) on the appointment `$1` at
/// `$3`.
const EMAIL_WAITING: &str = "SELECT COUNT(*) AS n FROM waitlist w LEFT JOIN holds h \
     ON h.id = w.hold_id WHERE w.appointment_id = $1 AND w.guard_email = $2 \
     AND (w.status = 'waiting' OR (w.status = 'offered' AND h.status = 'held' \
     AND h.expires_at > $3))";
/// Whether the canonical email `$2` has a booking holding seats on the appointment `$1`.
const EMAIL_BOOKED: &str = "SELECT COUNT(*) AS n FROM bookings WHERE appointment_id = $1 \
     AND guard_email = $2 AND status IN ('active', 'pending')";
/// A place leaves the list.
const LEAVE_WAITLIST: &str = "UPDATE waitlist SET status = 'left', updated_at = $2 \
     WHERE id = $1 AND status IN ('waiting', 'offered')";

/// Columns of `holds`, in the order [`hold_from`] reads them.
macro_rules! hold_cols {
    () => {
        "id, token, appointment_id, app_code, slot_start, slot_end, seats, status, expires_at, \
         booking_id, created_at, updated_at"
    };
}

const INSERT_HOLD: &str = "INSERT INTO holds (id, token, appointment_id, app_code, slot_start, \
     slot_end, seats, status, expires_at, booking_id, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'held', $8, NULL, $9, $9)";
const HOLD_BY_TOKEN: &str = concat!("SELECT ", hold_cols!(), " FROM holds WHERE token = $1");
const HELD_HOLDS: &str = concat!(
    "SELECT ",
    hold_cols!(),
    " FROM holds WHERE appointment_id = $1 AND status = 'held' ORDER BY slot_start, created_at"
);
const HOLD_BY_ID: &str = concat!("SELECT ", hold_cols!(), " FROM holds WHERE id = $1");
/// Releases a hold that is held and live at `$2`.
const END_LIVE_HOLD: &str = concat!(
    "UPDATE holds SET status = 'released', updated_at = $2 WHERE id = $1 AND status = 'held' \
     AND expires_at > $2 RETURNING ",
    hold_cols!()
);
/// Books the hold `$1` as the booking `$2` if it is held and live at `$3`, and is for the
/// appointment `$4`, the slot `$5` and `$6` seats.
const BOOK_HOLD: &str = concat!(
    "UPDATE holds SET status = 'booked', booking_id = $2, updated_at = $3 \
     WHERE id = $1 AND status = 'held' AND expires_at > $3 AND appointment_id = $4 \
     AND slot_start = $5 AND seats = $6 RETURNING ",
    hold_cols!()
);
/// Ends a held hold as `$2` at `$3`.
const END_HOLD: &str = concat!(
    "UPDATE holds SET status = $2, updated_at = $3 WHERE id = $1 AND status = 'held' RETURNING ",
    hold_cols!()
);

/// `INSERT INTO slot_seats …` taking the seats of the row `$select` answers (appointment, slot
/// start, seats) if they fit in `$capacity`: creates the counter, or adds to it while the sum
/// stays within the capacity. Returns the new count, or no row when the seats do not fit. The
/// one conditional write that makes overbooking impossible.
macro_rules! claim_seats_sql {
    ($select:literal, $capacity:literal) => {
        concat!(
            "INSERT INTO slot_seats (appointment_id, slot_start, seats_taken) ",
            $select,
            " ON CONFLICT (appointment_id, slot_start) DO UPDATE \
             SET seats_taken = slot_seats.seats_taken + excluded.seats_taken \
             WHERE slot_seats.seats_taken + excluded.seats_taken <= ",
            $capacity,
            " RETURNING seats_taken"
        )
    };
}
// Used as a macro by the Postgres backend's one-statement booking only.
#[cfg(feature = "postgres")]
pub(crate) use claim_seats_sql;

/// `bans WHERE …`: the ban of the email `$email` by the owner `$owner`, if any.
macro_rules! ban_of_sql {
    ($owner:literal, $email:literal) => {
        concat!("bans WHERE owner_id = ", $owner, " AND email = ", $email)
    };
}
#[cfg(feature = "postgres")]
pub(crate) use ban_of_sql;

/// Takes `$3` seats of the slot (`$1`, `$2`) if they fit in `$4` (see [`claim_seats_sql!`]).
pub(crate) const CLAIM_SEATS: &str = claim_seats_sql!(
    "SELECT $1, $2, $3 WHERE CAST($3 AS BIGINT) <= CAST($4 AS BIGINT)",
    "$4"
);

/// Changes the seats of a booking that stays on its slot, if the new count fits.
const RESIZE_SEATS: &str = "UPDATE slot_seats SET seats_taken = seats_taken - $3 + $4 \
     WHERE appointment_id = $1 AND slot_start = $2 AND seats_taken - $3 + $4 <= $5 \
     RETURNING seats_taken";

/// Gives seats back.
const RELEASE_SEATS: &str = "UPDATE slot_seats SET seats_taken = seats_taken - $3 \
     WHERE appointment_id = $1 AND slot_start = $2";

/// Seats taken on one slot.
pub(crate) const TAKEN: &str =
    "SELECT seats_taken FROM slot_seats WHERE appointment_id = $1 AND slot_start = $2";

/// Whether an owner banned an email (its canonical form, as bans are kept): one row with `n` > 0.
const BANNED: &str = concat!("SELECT COUNT(*) AS n FROM ", ban_of_sql!("$1", "$2"));

const BOOKING_TO_MOVE: &str = booking_to_move!();
const BOOKING_TO_MOVE_LOCKED: &str = concat!(booking_to_move!(), " FOR UPDATE");

/// Moves a booking (its seats were moved in the same transaction), re-stamps its anti-scalping
/// guards as a new booking would claim them, and replaces its description when one is given.
const MOVE_BOOKING: &str = concat!(
    "UPDATE bookings SET slot_start = $2, slot_end = $3, attendee_count = $4, updated_at = $5, \
     guard_email = $6, guard_device = $7, description = COALESCE($8, description), \
     resource_key = $9, claim_end = $10, confirm_by = CASE WHEN status = 'pending' \
     AND confirm_by > $2 THEN $2 ELSE confirm_by END \
     WHERE id = $1 AND status IN ('active', 'pending') RETURNING ",
    booking_cols!()
);

/// Ends a booking still on the slot $4 as `$2`, if it is active and `$2` is an end of an active
/// booking, or pending in time at `$3` and `$2` an end of a pending one (see
/// `BookingStatus::can_end_as`); no row otherwise (the update also locks it where rows lock).
const END_BOOKING: &str = concat!(
    "UPDATE bookings SET status = $2, updated_at = $3 \
     WHERE id = $1 AND slot_start = $4 AND ((status = 'active' \
     AND $2 IN ('cancelled', 'rejected', 'completed', 'no_show')) OR (status = 'pending' \
     AND confirm_by > $3 AND $2 IN ('cancelled', 'rejected', 'declined'))) RETURNING ",
    booking_cols!()
);
const BOOKING_STATUS: &str = "SELECT status, confirm_by, slot_start FROM bookings WHERE id = $1";

const BOOKING_BY_CODE: &str = concat!(
    "SELECT ",
    booking_cols!(),
    " FROM bookings WHERE code = $1 AND deleted_at IS NULL"
);
const COUNT_APPOINTMENT_BOOKINGS: &str = "SELECT COUNT(*) AS n FROM bookings \
     WHERE appointment_id = $1 AND deleted_at IS NULL";
const APPOINTMENT_BOOKINGS: &str = concat!(
    "SELECT ",
    booking_cols!(),
    " FROM bookings WHERE appointment_id = $1 AND deleted_at IS NULL \
     ORDER BY seq LIMIT $2 OFFSET $3"
);
const COUNT_USER_BOOKINGS: &str =
    "SELECT COUNT(*) AS n FROM bookings WHERE user_id = $1 AND deleted_at IS NULL";
const USER_BOOKINGS: &str = concat!(
    "SELECT ",
    booking_cols!(),
    " FROM bookings WHERE user_id = $1 AND deleted_at IS NULL \
     ORDER BY slot_start DESC, seq LIMIT $2 OFFSET $3"
);
/// Bookings by status as of `$4` (a pending booking past its `confirm_by` counts as expired).
const BOOKING_STATS: &str = "SELECT CASE WHEN b.status = 'pending' AND b.confirm_by <= $4 \
     THEN 'expired' ELSE b.status END AS status, COUNT(*) AS n, \
     CAST(COALESCE(SUM(b.attendee_count), 0) AS BIGINT) AS seats \
     FROM bookings b JOIN appointments a ON a.id = b.appointment_id \
     WHERE a.owner_id = $1 AND b.slot_start >= $2 AND b.slot_start < $3 \
     AND b.deleted_at IS NULL GROUP BY 1";

/// Seats of live holds (at `$4`) on an owner's slots that start in `[$2, $3)`.
const HELD_SEATS: &str = "SELECT CAST(COALESCE(SUM(h.seats), 0) AS BIGINT) AS seats \
     FROM holds h JOIN appointments a ON a.id = h.appointment_id \
     WHERE a.owner_id = $1 AND h.slot_start >= $2 AND h.slot_start < $3 \
     AND h.status = 'held' AND h.expires_at > $4";

const INSERT_BAN: &str =
    "INSERT INTO bans (id, owner_id, email, created_at) VALUES ($1, $2, $3, $4)";
const DELETE_BAN: &str = "DELETE FROM bans WHERE owner_id = $1 AND email = $2";
const BANS: &str = "SELECT id, owner_id, email, created_at FROM bans WHERE owner_id = $1 \
     ORDER BY created_at, email";

/// The arguments of [`insert_appointment_sql!`].
fn appointment_args(a: &Appointment) -> Vec<Arg> {
    let s = &a.schedule;
    vec![
        Arg::Id(a.id.0),
        text(a.code.as_str()),
        Arg::Id(a.owner.0),
        text(&a.title),
        text(&a.description),
        text(a.kind.as_str()),
        Arg::Int(i64::from(a.capacity)),
        text(a.anti_scalping.as_str()),
        text(a.status.as_str()),
        Arg::Date(s.start_date()),
        Arg::Date(s.end_date()),
        Arg::Clock(crate::sql_common::window_columns(s).0),
        Arg::Clock(crate::sql_common::window_columns(s).1),
        Arg::Int(i64::from(s.slot_minutes())),
        Arg::Int(i64::from(s.buffer_minutes())),
        text(s.time_zone().name()),
        Arg::Int(i64::from(s.weekdays().bits())),
        Arg::Int(i64::from(s.min_notice_minutes())),
        Arg::OptInt(s.horizon_days().map(i64::from)),
        Arg::Flag(s.is_single_event()),
        Arg::Instant(a.created_at),
        text(&crate::hours_codec::weekly_hours_text(s)),
        text(&crate::hours_codec::overrides_text(s)),
        text(&crate::hours_codec::closures_text(s)),
        Arg::OptText(a.resource.as_ref().map(|r| r.as_str().to_owned())),
        Arg::Int(i64::from(s.cancel_cutoff_minutes())),
        Arg::Int(i64::from(s.hold_minutes())),
        Arg::Int(revision_arg(a.revision)),
        Arg::OptInt(s.confirm_within_minutes().map(i64::from)),
    ]
}

/// A revision as stored.
fn revision_arg(revision: u64) -> i64 {
    i64::try_from(revision).unwrap_or(i64::MAX)
}

/// The revision of the appointment `$1` unless it is deleted.
macro_rules! revision_sql {
    () => {
        "SELECT revision FROM appointments WHERE id = $1 AND deleted_at IS NULL"
    };
}
const REVISION: &str = revision_sql!();
/// The same, holding a key-share lock on the row until the transaction ends (where rows lock):
/// the lock a booking's foreign key takes anyway, and the one an edit's `FOR UPDATE` waits for,
/// so that an edit cannot commit between a claim's check and the claim's commit.
const REVISION_LOCKED: &str = concat!(revision_sql!(), " FOR KEY SHARE");
/// Locks an appointment for an edit (where rows lock): waits for the claims checked against its
/// current revision to commit, and makes later ones wait for the edit.
const LOCK_APPOINTMENT: &str = "SELECT id FROM appointments WHERE id = $1 FOR UPDATE";

/// `Changed(Appointment)` unless the appointment has `revision` and is not deleted; where rows
/// lock, the appointment stays locked against edits until the transaction ends.
pub(crate) async fn current_in<C: Conn>(
    c: &mut C,
    locks_rows: bool,
    app: Uuid,
    revision: u64,
) -> Result<()> {
    let sql = if locks_rows {
        REVISION_LOCKED
    } else {
        REVISION
    };
    let row = c
        .optional(sql, vec![Arg::Id(app)])
        .await
        .map_err(db_error)?;
    match row {
        Some(r) if r.int("revision")? == revision_arg(revision) => Ok(()),
        _ => Err(Error::Changed(Entity::Appointment)),
    }
}

/// The arguments of [`insert_booking_sql!`].
pub(crate) fn booking_args(b: &Booking, claim: SeatClaim) -> Vec<Arg> {
    let (guard_email, guard_device) = guards(b, claim);
    vec![
        Arg::Id(b.id.0),
        text(b.code.as_str()),
        Arg::Id(b.appointment_id.0),
        text(b.app_code.as_str()),
        Arg::OptId(b.user_id.map(|u| u.0)),
        text(b.name.as_str()),
        text(b.email.as_str()),
        Arg::OptText(b.phone.as_ref().map(|p| p.as_str().to_owned())),
        Arg::Instant(b.slot_start),
        Arg::Instant(b.slot_end),
        Arg::Int(i64::from(b.attendee_count.get())),
        text(&b.description),
        Arg::OptText(b.device_id.as_ref().map(|d| d.as_str().to_owned())),
        Arg::OptText(guard_email),
        Arg::OptText(guard_device),
        Arg::Instant(b.created_at),
        Arg::Instant(b.updated_at),
        Arg::OptId(claim.resource.map(|r| r.key.0)),
        Arg::OptInstant(claim.resource.map(|r| r.until)),
        text(b.status.as_str()),
        Arg::OptInstant(b.confirm_by),
    ]
}

fn seat_args(app: Uuid, start: DateTime<Utc>) -> Vec<Arg> {
    vec![Arg::Id(app), Arg::Instant(start)]
}

/// Seats taken on one slot (0 without a counter).
pub(crate) async fn taken_in<C: Conn>(c: &mut C, app: Uuid, start: DateTime<Utc>) -> Result<i64> {
    let row = c
        .optional(TAKEN, seat_args(app, start))
        .await
        .map_err(db_error)?;
    row.map_or(Ok(0), |r| r.int("seats_taken"))
}

/// Claims `n` seats; `Ok(false)` when they do not fit.
pub(crate) async fn claim_in<C: Conn>(
    c: &mut C,
    app: Uuid,
    start: DateTime<Utc>,
    n: u32,
    capacity: u32,
) -> Result<bool> {
    let mut args = seat_args(app, start);
    args.extend([Arg::Int(i64::from(n)), Arg::Int(i64::from(capacity))]);
    let row = c.optional(CLAIM_SEATS, args).await.map_err(db_error)?;
    Ok(row.is_some())
}

/// Gives back the seats of the slot's held holds and pending bookings expired at `now` (marking
/// them expired); answers how many. The counter is locked first where rows lock.
pub(crate) async fn reclaim_in<C: Conn>(
    c: &mut C,
    locks_rows: bool,
    app: Uuid,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u32> {
    if locks_rows {
        c.optional(LOCK_COUNTER, seat_args(app, start))
            .await
            .map_err(db_error)?;
    }
    let mut args = seat_args(app, start);
    args.push(Arg::Instant(now));
    let mut rows = c.all(EXPIRE_HOLDS, args.clone()).await.map_err(db_error)?;
    let pending = if locks_rows {
        EXPIRE_PENDING_LOCKED
    } else {
        EXPIRE_PENDING
    };
    rows.extend(c.all(pending, args).await.map_err(db_error)?);
    let mut freed = 0u32;
    for r in &rows {
        freed = freed.saturating_add(to_u32("seats", r.int("seats")?)?);
    }
    if freed > 0 {
        release_in(c, locks_rows, app, start, freed, now).await?;
    }
    Ok(freed)
}

/// Claims `n` seats as [`claim_in`] does; when they do not fit, gives back the seats of the
/// slot's holds expired at `now` and tries once more. `Ok(false)` when they still do not fit.
pub(crate) async fn claim_or_reclaim_in<C: Conn>(
    c: &mut C,
    locks_rows: bool,
    app: Uuid,
    start: DateTime<Utc>,
    n: u32,
    capacity: u32,
    now: DateTime<Utc>,
) -> Result<bool> {
    if claim_in(c, app, start, n, capacity).await? {
        return Ok(true);
    }
    reclaim_and_claim_in(c, locks_rows, app, start, n, capacity, now).await
}

/// After a claim of `n` seats did not fit: gives back the seats of the slot's holds expired at
/// `now` and, if there were any, claims once more. `Ok(false)` when the seats still do not fit.
pub(crate) async fn reclaim_and_claim_in<C: Conn>(
    c: &mut C,
    locks_rows: bool,
    app: Uuid,
    start: DateTime<Utc>,
    n: u32,
    capacity: u32,
    now: DateTime<Utc>,
) -> Result<bool> {
    if reclaim_in(c, locks_rows, app, start, now).await? == 0 {
        return Ok(false);
    }
    claim_in(c, app, start, n, capacity).await
}

/// Gives `n` seats of a slot back, then offers what is free to the slot's waiting list
/// ([`offer_in`]) in the same transaction.
async fn release_in<C: Conn>(
    c: &mut C,
    locks_rows: bool,
    app: Uuid,
    start: DateTime<Utc>,
    n: u32,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut args = seat_args(app, start);
    args.push(Arg::Int(i64::from(n)));
    if c.execute(RELEASE_SEATS, args).await.map_err(db_error)? != 1 {
        return Err(corrupt(
            "slot_seats",
            "an active booking has no seat counter",
        ));
    }
    offer_in(c, locks_rows, app, start, now).await
}

/// Offers the free seats of a slot that has not started to its waiting list, first come first
/// served: each waiting place in join order whose seats fit gets a hold of them in its name
/// (for the appointment's hold length) and becomes offered; places whose seats do not fit keep
/// waiting. Runs inside the transaction that freed the seats, which holds the slot's counter.
async fn offer_in<C: Conn>(
    c: &mut C,
    locks_rows: bool,
    app: Uuid,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    if start <= now {
        return Ok(());
    }
    let anyone = c
        .optional(ANYONE_WAITING, seat_args(app, start))
        .await
        .map_err(db_error)?;
    if anyone.is_none() {
        return Ok(());
    }
    let Some(a) = c
        .optional(OFFER_TERMS, vec![Arg::Id(app)])
        .await
        .map_err(db_error)?
    else {
        return Ok(());
    };
    let capacity = to_u32("appointments.capacity", a.int("capacity")?)?;
    let minutes = to_u32("appointments.hold_minutes", a.int("hold_minutes")?)?;
    let app_code = valid("appointments.code", AppCode::parse(&a.text("code")?))?;
    drop(a);
    let select = if locks_rows {
        NEXT_FITTING_LOCKED
    } else {
        NEXT_FITTING
    };
    // One place at a time, each the first in line whose seats fit in what is still free: the
    // work follows the offers made, not the length of the line.
    let mut free = i64::from(capacity) - taken_in(c, app, start).await?;
    while free > 0 {
        let mut args = seat_args(app, start);
        args.push(Arg::Int(free));
        let Some(w) = c.optional(select, args).await.map_err(db_error)? else {
            break;
        };
        let (place, seats, slot_end) = (
            w.uuid("id")?,
            to_u32("waitlist.seats", w.int("seats")?)?,
            w.instant("slot_end")?,
        );
        drop(w);
        if !claim_in(c, app, start, seats, capacity).await? {
            break;
        }
        free -= i64::from(seats);
        let seats = valid("waitlist.seats", AttendeeCount::new(seats))?;
        let hold = Hold::new(
            AppointmentId(app),
            app_code.clone(),
            (start, slot_end),
            seats,
            minutes,
            now,
        );
        insert_hold_row_in(c, &hold).await?;
        let offered = c
            .execute(
                OFFER_PLACE,
                vec![Arg::Id(place), Arg::Id(hold.id.0), Arg::Instant(now)],
            )
            .await
            .map_err(db_error)?;
        if offered != 1 {
            return Err(corrupt(
                "waitlist",
                "a waiting place changed while it was offered",
            ));
        }
    }
    Ok(())
}

/// Whether `owner` banned `email`.
async fn banned_in<C: Conn>(c: &mut C, owner: UserId, email: &str) -> Result<bool> {
    let row = c
        .optional(BANNED, vec![Arg::Id(owner.0), text(email)])
        .await
        .map_err(db_error)?;
    Ok(row.map_or(Ok(0), |r| r.int("n"))? > 0)
}

/// A booking's status as of `now` and its slot: `NotFound(Booking)` if there is none.
async fn status_at_in<C: Conn>(
    c: &mut C,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(BookingStatus, DateTime<Utc>)> {
    let row = c
        .optional(BOOKING_STATUS, vec![Arg::Id(id)])
        .await
        .map_err(db_error)?
        .ok_or_else(booking_not_found)?;
    let status = stored_status(&row.text("status")?)?;
    Ok((
        effective_status(status, row.opt_instant("confirm_by")?, now),
        row.instant("slot_start")?,
    ))
}

/// A stored status as of `now` (see `Booking::status_at`).
fn effective_status(
    status: BookingStatus,
    confirm_by: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> BookingStatus {
    match (status, confirm_by) {
        (BookingStatus::Pending, Some(by)) if now >= by => BookingStatus::Expired,
        _ => status,
    }
}

/// A booking in separate statements of one transaction: the ban check, the row (a unique
/// violation fails it), then the seats.
pub(crate) async fn book_in_steps<B: SqlBackend + ?Sized>(
    backend: &B,
    b: &Booking,
    claim: SeatClaim,
) -> Result<()> {
    let app = b.appointment_id.0;
    let n = b.attendee_count.get();
    let mut tx = backend.begin().await?;
    current_in(&mut tx, B::LOCKS_ROWS, app, claim.revision).await?;
    if banned_in(&mut tx, claim.owner, &b.email.canonical()).await? {
        return Err(Error::Banned);
    }
    tx.execute(B::INSERT_BOOKING, booking_args(b, claim))
        .await
        .map_err(|e| booking_write_error(e, n))?;
    if !claim_or_reclaim_in(
        &mut tx,
        B::LOCKS_ROWS,
        app,
        b.slot_start,
        n,
        claim.capacity,
        b.created_at,
    )
    .await?
    {
        let taken = taken_in(&mut tx, app, b.slot_start).await?;
        return Err(slot_full(n, claim.capacity, taken));
    }
    backend.commit(tx).await
}

pub(crate) fn rows_to<R, T>(rows: &[R], f: impl Fn(&R) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(f).collect()
}

async fn count<C: Conn>(c: &mut C, sql: &'static str, key: Uuid) -> Result<u64> {
    let row = c
        .optional(sql, vec![Arg::Id(key)])
        .await
        .map_err(db_error)?;
    Ok(to_count(row.map_or(Ok(0), |r| r.int("n"))?))
}

pub(crate) async fn paged<B: SqlBackend + ?Sized, T>(
    backend: &B,
    count_sql: &'static str,
    list_sql: &'static str,
    key: Uuid,
    page: Page,
    from: impl Fn(&B::Row) -> Result<T>,
) -> Result<Paged<T>> {
    let mut pool = backend.reads();
    let total = count(&mut pool, count_sql, key).await?;
    let (limit, offset) = limit_offset(page);
    let rows = pool
        .all(
            list_sql,
            vec![Arg::Id(key), Arg::Int(limit), Arg::Int(offset)],
        )
        .await
        .map_err(db_error)?;
    Ok(Paged::new(rows_to(&rows, from)?, page, total))
}

// ---- the Store methods, once ----

pub(crate) async fn insert_user<B: SqlBackend + ?Sized>(backend: &B, user: &User) -> Result<()> {
    let args = vec![
        Arg::Id(user.id.0),
        text(user.name.as_str()),
        text(user.email.as_str()),
        Arg::OptText(user.phone.as_ref().map(|p| p.as_str().to_owned())),
        text(&user.password_hash),
        Arg::Instant(user.created_at),
    ];
    backend
        .writes()
        .execute(INSERT_USER, args)
        .await
        .map_err(db_error)?;
    Ok(())
}

async fn one<B: SqlBackend + ?Sized, T>(
    backend: &B,
    sql: &'static str,
    arg: Arg,
    from: impl Fn(&B::Row) -> Result<T>,
) -> Result<Option<T>> {
    let row = backend
        .reads()
        .optional(sql, vec![arg])
        .await
        .map_err(db_error)?;
    row.as_ref().map(from).transpose()
}

pub(crate) async fn user_by_id<B: SqlBackend + ?Sized>(
    backend: &B,
    id: UserId,
) -> Result<Option<User>> {
    one(backend, USER_BY_ID, Arg::Id(id.0), user_from).await
}

pub(crate) async fn user_by_email<B: SqlBackend + ?Sized>(
    backend: &B,
    email: &Email,
) -> Result<Option<User>> {
    one(backend, USER_BY_EMAIL, text(email.as_str()), user_from).await
}

pub(crate) async fn mark_email_verified<B: SqlBackend + ?Sized>(
    backend: &B,
    user: UserId,
    email: &Email,
    at: DateTime<Utc>,
) -> Result<bool> {
    let n = backend
        .writes()
        .execute(
            MARK_EMAIL_VERIFIED,
            vec![Arg::Id(user.0), text(email.as_str()), Arg::Instant(at)],
        )
        .await
        .map_err(db_error)?;
    Ok(n == 1)
}

pub(crate) async fn insert_appointment<B: SqlBackend + ?Sized>(
    backend: &B,
    a: &Appointment,
) -> Result<()> {
    backend
        .writes()
        .execute(B::INSERT_APPOINTMENT, appointment_args(a))
        .await
        .map_err(|e| db_error_fk(e, Entity::User))?;
    Ok(())
}

/// The editable columns of `appointments`, `$2` … `$19` in [`appointment_update_args`] order.
const UPDATE_APPOINTMENT: &str = "UPDATE appointments SET title = $2, description = $3, \
     status = $4, window_start = $5, window_end = $6, buffer_minutes = $7, weekdays = $8, \
     min_notice_minutes = $9, horizon_days = $10, weekly_hours = $11, date_overrides = $12, \
     closures = $13, updated_at = $14, resource = $15, cancel_cutoff_minutes = $16, \
     hold_minutes = $17, revision = $18, confirm_within_minutes = $19 \
     WHERE id = $1 AND deleted_at IS NULL AND revision = $18 - 1";

const DELETE_APPOINTMENT: &str =
    "UPDATE appointments SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL";

fn appointment_update_args(a: &Appointment) -> Vec<Arg> {
    let s = &a.schedule;
    let (window_start, window_end) = crate::sql_common::window_columns(s);
    vec![
        Arg::Id(a.id.0),
        text(&a.title),
        text(&a.description),
        text(a.status.as_str()),
        Arg::Clock(window_start),
        Arg::Clock(window_end),
        Arg::Int(i64::from(s.buffer_minutes())),
        Arg::Int(i64::from(s.weekdays().bits())),
        Arg::Int(i64::from(s.min_notice_minutes())),
        Arg::OptInt(s.horizon_days().map(i64::from)),
        text(&crate::hours_codec::weekly_hours_text(s)),
        text(&crate::hours_codec::overrides_text(s)),
        text(&crate::hours_codec::closures_text(s)),
        Arg::Instant(a.updated_at),
        Arg::OptText(a.resource.as_ref().map(|r| r.as_str().to_owned())),
        Arg::Int(i64::from(s.cancel_cutoff_minutes())),
        Arg::Int(i64::from(s.hold_minutes())),
        Arg::Int(revision_arg(a.revision)),
        Arg::OptInt(s.confirm_within_minutes().map(i64::from)),
    ]
}

pub(crate) async fn update_appointment<B: SqlBackend + ?Sized>(
    backend: &B,
    a: &Appointment,
) -> Result<bool> {
    let mut tx = backend.begin().await?;
    if B::LOCKS_ROWS {
        tx.optional(LOCK_APPOINTMENT, vec![Arg::Id(a.id.0)])
            .await
            .map_err(db_error)?;
    }
    let n = tx
        .execute(UPDATE_APPOINTMENT, appointment_update_args(a))
        .await
        .map_err(db_error)?;
    backend.commit(tx).await?;
    if n == 0 {
        // Another revision won, or the appointment is gone.
        return match appointment_by_id(backend, a.id).await? {
            Some(_) => Ok(false),
            None => Err(Error::NotFound(Entity::Appointment)),
        };
    }
    Ok(true)
}

pub(crate) async fn delete_appointment<B: SqlBackend + ?Sized>(
    backend: &B,
    id: AppointmentId,
    at: DateTime<Utc>,
) -> Result<()> {
    let n = backend
        .writes()
        .execute(DELETE_APPOINTMENT, vec![Arg::Id(id.0), Arg::Instant(at)])
        .await
        .map_err(db_error)?;
    if n == 0 {
        return Err(Error::NotFound(Entity::Appointment));
    }
    Ok(())
}

pub(crate) async fn appointment_by_code<B: SqlBackend + ?Sized>(
    backend: &B,
    code: &AppCode,
) -> Result<Option<Appointment>> {
    one(
        backend,
        APPOINTMENT_BY_CODE,
        text(code.as_str()),
        appointment_from,
    )
    .await
}

pub(crate) async fn appointment_by_id<B: SqlBackend + ?Sized>(
    backend: &B,
    id: AppointmentId,
) -> Result<Option<Appointment>> {
    one(backend, APPOINTMENT_BY_ID, Arg::Id(id.0), appointment_from).await
}

pub(crate) async fn appointments_by_owner<B: SqlBackend + ?Sized>(
    backend: &B,
    owner: UserId,
    page: Page,
) -> Result<Paged<Appointment>> {
    paged(
        backend,
        COUNT_OWNER_APPOINTMENTS,
        OWNER_APPOINTMENTS,
        owner.0,
        page,
        appointment_from,
    )
    .await
}

pub(crate) async fn appointments_created<B: SqlBackend + ?Sized>(
    backend: &B,
    owner: UserId,
    range: Range<DateTime<Utc>>,
) -> Result<Vec<Appointment>> {
    let rows = backend
        .reads()
        .all(
            APPOINTMENTS_CREATED,
            vec![
                Arg::Id(owner.0),
                Arg::Bound(range.start),
                Arg::Bound(range.end),
            ],
        )
        .await
        .map_err(db_error)?;
    rows_to(&rows, appointment_from)
}

/// Claims on a resource by active bookings of other appointments that overlap `[$4, $5)`; a
/// claim spans at most `MAX_RESOURCE_CLAIM`, so those that start after `$3` (`$4` less that)
/// are all that can.
const RESOURCE_CLAIMS: &str = "SELECT slot_start, claim_end FROM bookings \
     WHERE resource_key = $1 AND status = 'active' AND appointment_id <> $2 \
     AND slot_start > $3 AND slot_start < $5 AND claim_end > $4 ORDER BY slot_start";

pub(crate) async fn resource_claims<B: SqlBackend + ?Sized>(
    backend: &B,
    key: ResourceKey,
    except: AppointmentId,
    range: Range<DateTime<Utc>>,
) -> Result<Vec<Range<DateTime<Utc>>>> {
    let earliest = range
        .start
        .checked_sub_signed(MAX_RESOURCE_CLAIM)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let rows = backend
        .reads()
        .all(
            RESOURCE_CLAIMS,
            vec![
                Arg::Id(key.0),
                Arg::Id(except.0),
                Arg::Bound(earliest),
                Arg::Bound(range.start),
                Arg::Bound(range.end),
            ],
        )
        .await
        .map_err(db_error)?;
    rows_to(&rows, |r| {
        Ok(r.instant("slot_start")?..r.instant("claim_end")?)
    })
}

pub(crate) async fn seats_taken<B: SqlBackend + ?Sized>(
    backend: &B,
    appointment: AppointmentId,
    range: Range<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Vec<SlotSeats>> {
    let rows = backend
        .reads()
        .all(
            SEATS_TAKEN,
            vec![
                Arg::Id(appointment.0),
                Arg::Bound(range.start),
                Arg::Bound(range.end),
                Arg::Instant(now),
            ],
        )
        .await
        .map_err(db_error)?;
    let seats = rows_to(&rows, |r| {
        Ok(SlotSeats {
            slot_start: r.instant("slot_start")?,
            seats_taken: to_u32("slot_seats.seats_taken", r.int("seats_taken")?)?,
        })
    })?;
    Ok(seats.into_iter().filter(|s| s.seats_taken > 0).collect())
}

/// See `Store::move_booking`. The booking is read (and locked, where rows lock) first; then the
/// checks a new booking gets (ban, anti-scalping guards through the unique indexes, seats), all
/// in one transaction. Counters are touched in slot order, so that two moves in opposite
/// directions cannot deadlock.
pub(crate) async fn move_booking<B: SqlBackend + ?Sized>(
    backend: &B,
    id: BookingId,
    to: &BookingMove,
) -> Result<Option<Booking>> {
    let new_count = to.attendee_count.get();
    let capacity = to.claim.capacity;
    let mut tx = backend.begin().await?;
    let select = if B::LOCKS_ROWS {
        BOOKING_TO_MOVE_LOCKED
    } else {
        BOOKING_TO_MOVE
    };
    // Only a booking that can move is read (and locked): an expired pending one stays free for
    // the claims that reclaim it.
    let row = tx
        .optional(select, vec![Arg::Id(id.0), Arg::Instant(to.now)])
        .await
        .map_err(db_error)?;
    let Some(row) = row else {
        let (from, _) = status_at_in(&mut tx, id.0, to.now).await?;
        return Err(Error::InvalidTransition {
            from,
            action: "reschedule",
        });
    };
    let email = valid("bookings.email", Email::from_stored(&row.text("email")?))?;
    if banned_in(&mut tx, to.claim.owner, &email.canonical()).await? {
        return Err(Error::Banned);
    }
    let (guard_email, guard_device) =
        guard_values(&email, row.opt_text("device_id")?.as_deref(), to.claim);
    let app = row.uuid("appointment_id")?;
    let old_start = row.instant("slot_start")?;
    let old = to_u32("bookings.attendee_count", row.int("attendee_count")?)?;
    if old_start.timestamp_micros() != to.from.timestamp_micros() {
        // Moved meanwhile: the caller decides again (the transaction rolls back unwritten).
        return Ok(None);
    }
    current_in(&mut tx, B::LOCKS_ROWS, app, to.claim.revision).await?;
    // Compare at the stored precision, as the counters are keyed.
    if old_start.timestamp_micros() == to.slot_start.timestamp_micros() {
        let mut args = seat_args(app, old_start);
        args.extend([
            Arg::Int(i64::from(old)),
            Arg::Int(i64::from(new_count)),
            Arg::Int(i64::from(capacity)),
        ]);
        let mut resized = tx
            .optional(RESIZE_SEATS, args.clone())
            .await
            .map_err(db_error)?
            .is_some();
        if !resized && reclaim_in(&mut tx, B::LOCKS_ROWS, app, old_start, to.now).await? > 0 {
            resized = tx
                .optional(RESIZE_SEATS, args)
                .await
                .map_err(db_error)?
                .is_some();
        }
        if !resized {
            let taken = taken_in(&mut tx, app, old_start).await? - i64::from(old);
            return Err(slot_full(new_count, capacity, taken));
        }
    } else {
        if to.slot_start > old_start {
            release_in(&mut tx, B::LOCKS_ROWS, app, old_start, old, to.now).await?;
        }
        if !claim_or_reclaim_in(
            &mut tx,
            B::LOCKS_ROWS,
            app,
            to.slot_start,
            new_count,
            capacity,
            to.now,
        )
        .await?
        {
            let taken = taken_in(&mut tx, app, to.slot_start).await?;
            return Err(slot_full(new_count, capacity, taken));
        }
        if to.slot_start < old_start {
            release_in(&mut tx, B::LOCKS_ROWS, app, old_start, old, to.now).await?;
        }
    }
    let row = tx
        .optional(
            MOVE_BOOKING,
            vec![
                Arg::Id(id.0),
                Arg::Instant(to.slot_start),
                Arg::Instant(to.slot_end),
                Arg::Int(i64::from(new_count)),
                Arg::Instant(to.now),
                Arg::OptText(guard_email),
                Arg::OptText(guard_device),
                Arg::OptText(to.description.clone()),
                Arg::OptId(to.claim.resource.map(|r| r.key.0)),
                Arg::OptInstant(to.claim.resource.map(|r| r.until)),
            ],
        )
        .await
        .map_err(|e| booking_write_error(e, new_count))?
        .ok_or_else(booking_not_found)?;
    let booking = booking_from(&row)?;
    backend.commit(tx).await?;
    Ok(Some(booking))
}

/// See `Store::end_booking`. The conditional update both checks and locks: of two concurrent
/// ends (or an end and a confirmation), one finds the booking no longer as it was.
pub(crate) async fn end_booking<B: SqlBackend + ?Sized>(
    backend: &B,
    id: BookingId,
    end: BookingEnd,
) -> Result<Option<Booking>> {
    let mut tx = backend.begin().await?;
    let action = end.status.end_action();
    if !end.status.is_end() {
        status_at_in(&mut tx, id.0, end.now).await?;
        return Err(crate::not_an_end());
    }
    let row = tx
        .optional(
            END_BOOKING,
            vec![
                Arg::Id(id.0),
                text(end.status.as_str()),
                Arg::Instant(end.now),
                Arg::Instant(end.slot_start),
            ],
        )
        .await
        .map_err(db_error)?;
    let Some(row) = row else {
        let (from, _) = status_at_in(&mut tx, id.0, end.now).await?;
        // Still able to end so, hence on another slot: the caller decides again.
        return if from.can_end_as(end.status) {
            Ok(None)
        } else {
            Err(Error::InvalidTransition { from, action })
        };
    };
    let booking = booking_from(&row)?;
    release_in(
        &mut tx,
        B::LOCKS_ROWS,
        booking.appointment_id.0,
        booking.slot_start,
        booking.attendee_count.get(),
        end.now,
    )
    .await?;
    backend.commit(tx).await?;
    Ok(Some(booking))
}

/// See `Store::confirm_booking`: one conditional update (no seat changes hands).
pub(crate) async fn confirm_booking<B: SqlBackend + ?Sized>(
    backend: &B,
    id: BookingId,
    now: DateTime<Utc>,
) -> Result<Booking> {
    let mut tx = backend.begin().await?;
    let row = tx
        .optional(CONFIRM_BOOKING, vec![Arg::Id(id.0), Arg::Instant(now)])
        .await
        .map_err(db_error)?;
    let Some(row) = row else {
        let (from, _) = status_at_in(&mut tx, id.0, now).await?;
        return Err(Error::InvalidTransition {
            from,
            action: "confirm",
        });
    };
    let booking = booking_from(&row)?;
    backend.commit(tx).await?;
    Ok(booking)
}

/// See `Store::reclaim_expired`: one transaction per slot, each reclaiming as a claim does.
pub(crate) async fn reclaim_expired<B: SqlBackend + ?Sized>(
    backend: &B,
    app: AppointmentId,
    now: DateTime<Utc>,
) -> Result<u64> {
    let mut reads = backend.reads();
    let slots = reads
        .all(EXPIRED_SLOTS, vec![Arg::Id(app.0), Arg::Instant(now)])
        .await
        .map_err(db_error)?;
    let mut freed = 0u64;
    for row in &slots {
        let start = row.instant("slot_start")?;
        let mut tx = backend.begin().await?;
        freed += u64::from(reclaim_in(&mut tx, B::LOCKS_ROWS, app.0, start, now).await?);
        backend.commit(tx).await?;
    }
    Ok(freed)
}

/// See `Store::appointments_with_expired`: one read, of the oldest expired rows only.
pub(crate) async fn appointments_with_expired<B: SqlBackend + ?Sized>(
    backend: &B,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<AppointmentId>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let rows = i64::from(limit).saturating_mul(EXPIRED_ROWS_PER_APPOINTMENT);
    let found = backend
        .reads()
        .all(
            EXPIRED_APPOINTMENTS,
            vec![
                Arg::Instant(now),
                Arg::Int(i64::from(limit)),
                Arg::Int(rows),
            ],
        )
        .await
        .map_err(db_error)?;
    rows_to(&found, |r| Ok(AppointmentId(r.uuid("appointment_id")?)))
}

/// See `Store::insert_waitlist`: the appointment's revision, the ban, anti-scalping, then, with
/// the slot's counter locked and its expired holds and pending bookings reclaimed (offering
/// their seats to the places already waiting), the check that the seats do not fit, then the
/// place; in one transaction.
pub(crate) async fn insert_waitlist<B: SqlBackend + ?Sized>(
    backend: &B,
    w: &WaitlistEntry,
    claim: SeatClaim,
) -> Result<u64> {
    let app = w.appointment_id.0;
    let n = w.seats.get();
    let now = w.created_at;
    let canonical = w.email.canonical().into_owned();
    let mut tx = backend.begin().await?;
    current_in(&mut tx, B::LOCKS_ROWS, app, claim.revision).await?;
    if banned_in(&mut tx, claim.owner, &canonical).await? {
        return Err(Error::Banned);
    }
    if claim.unique_email {
        let args = vec![Arg::Id(app), text(&canonical)];
        if count_in(&mut tx, EMAIL_BOOKED, args.clone()).await? > 0 {
            return Err(Error::Duplicate(Duplicate::BookingEmail));
        }
        let mut args = args;
        args.push(Arg::Instant(now));
        if count_in(&mut tx, EMAIL_WAITING, args).await? > 0 {
            return Err(Error::Duplicate(Duplicate::WaitlistEmail));
        }
    }
    reclaim_in(&mut tx, B::LOCKS_ROWS, app, w.slot_start, now).await?;
    let taken = taken_in(&mut tx, app, w.slot_start).await?;
    if taken + i64::from(n) <= i64::from(claim.capacity) {
        return Err(seats_free(claim.capacity, taken));
    }
    let args = vec![
        Arg::Id(w.id.0),
        text(w.code.as_str()),
        Arg::Id(app),
        text(w.app_code.as_str()),
        Arg::Instant(w.slot_start),
        Arg::Instant(w.slot_end),
        text(w.name.as_str()),
        text(w.email.as_str()),
        Arg::OptText(claim.unique_email.then_some(canonical)),
        Arg::Int(i64::from(n)),
        Arg::Instant(now),
    ];
    tx.execute(INSERT_WAITLIST, args).await.map_err(db_error)?;
    let ahead = count_in(
        &mut tx,
        WAITING_AHEAD,
        vec![Arg::Id(app), Arg::Instant(w.slot_start), Arg::Id(w.id.0)],
    )
    .await?;
    backend.commit(tx).await?;
    Ok(ahead + 1)
}

/// The refusal of a place on a waiting list while the seats are free.
fn seats_free(capacity: u32, taken: i64) -> Error {
    let free = u32::try_from(i64::from(capacity) - taken).unwrap_or(0);
    appointment_core::store::seats_free(free)
}

/// A count (`n`) answered by `sql`.
async fn count_in<C: Conn>(c: &mut C, sql: &'static str, args: Vec<Arg>) -> Result<u64> {
    let row = c.optional(sql, args).await.map_err(db_error)?;
    row.map_or(Ok(0), |r| r.int("n").map(to_count))
}

/// See `Store::leave_waitlist`: with the slot's counter locked (where rows lock), a live
/// offer's hold is released first (a conditional write: if the hold was booked or ended
/// meanwhile, nothing changes), then the place leaves; the released seats go to the next in line.
pub(crate) async fn leave_waitlist<B: SqlBackend + ?Sized>(
    backend: &B,
    id: WaitlistId,
    now: DateTime<Utc>,
) -> Result<WaitlistEntry> {
    let mut tx = backend.begin().await?;
    let row = tx
        .optional(WAITLIST_BY_ID, vec![Arg::Id(id.0)])
        .await
        .map_err(db_error)?
        .ok_or(Error::NotFound(Entity::WaitlistEntry))?;
    let entry = waitlist_from(&row)?;
    let app = entry.appointment_id.0;
    if B::LOCKS_ROWS {
        tx.optional(LOCK_COUNTER, seat_args(app, entry.slot_start))
            .await
            .map_err(db_error)?;
    }
    match (entry.status, entry.hold_id) {
        (WaitlistStatus::Waiting, _) => {}
        (WaitlistStatus::Offered, Some(hold)) => {
            // Only a live offer can be given back; a booked or expired one is done.
            let row = tx
                .optional(END_LIVE_HOLD, vec![Arg::Id(hold.0), Arg::Instant(now)])
                .await
                .map_err(db_error)?;
            let Some(row) = row else {
                return Ok(entry);
            };
            let h = hold_from(&row)?;
            tx.execute(LEAVE_WAITLIST, vec![Arg::Id(id.0), Arg::Instant(now)])
                .await
                .map_err(db_error)?;
            release_in(
                &mut tx,
                B::LOCKS_ROWS,
                app,
                h.slot_start,
                h.seats.get(),
                now,
            )
            .await?;
        }
        _ => return Ok(entry),
    }
    if entry.status == WaitlistStatus::Waiting
        && tx
            .execute(LEAVE_WAITLIST, vec![Arg::Id(id.0), Arg::Instant(now)])
            .await
            .map_err(db_error)?
            == 0
    {
        // Offered meanwhile (before this transaction locked the counter): decide on what it is.
        drop(tx);
        return Box::pin(leave_waitlist(backend, id, now)).await;
    }
    let row = tx
        .optional(WAITLIST_BY_ID, vec![Arg::Id(id.0)])
        .await
        .map_err(db_error)?
        .ok_or(Error::NotFound(Entity::WaitlistEntry))?;
    let entry = waitlist_from(&row)?;
    backend.commit(tx).await?;
    Ok(entry)
}

/// See `Store::waitlist_by_code`.
pub(crate) async fn waitlist_by_code<B: SqlBackend + ?Sized>(
    backend: &B,
    code: &WaitlistCode,
) -> Result<Option<WaitlistEntry>> {
    let row = backend
        .reads()
        .optional(WAITLIST_BY_CODE, vec![text(code.as_str())])
        .await
        .map_err(db_error)?;
    row.map(|r| waitlist_from(&r)).transpose()
}

/// See `Store::waitlist_position`.
pub(crate) async fn waitlist_position<B: SqlBackend + ?Sized>(
    backend: &B,
    entry: &WaitlistEntry,
) -> Result<u64> {
    let mut reads = backend.reads();
    let ahead = count_in(
        &mut reads,
        WAITING_AHEAD,
        vec![
            Arg::Id(entry.appointment_id.0),
            Arg::Instant(entry.slot_start),
            Arg::Id(entry.id.0),
        ],
    )
    .await?;
    Ok(ahead + 1)
}

/// See `Store::hold_by_id`.
pub(crate) async fn hold_by_id<B: SqlBackend + ?Sized>(
    backend: &B,
    id: HoldId,
) -> Result<Option<Hold>> {
    let row = backend
        .reads()
        .optional(HOLD_BY_ID, vec![Arg::Id(id.0)])
        .await
        .map_err(db_error)?;
    row.map(|r| hold_from(&r)).transpose()
}

/// See `Store::insert_hold`: the seats (reclaiming the slot's expired holds if they do not
/// fit), then the hold, in one transaction.
pub(crate) async fn insert_hold<B: SqlBackend + ?Sized>(
    backend: &B,
    h: &Hold,
    capacity: u32,
    revision: u64,
) -> Result<()> {
    let app = h.appointment_id.0;
    let n = h.seats.get();
    let mut tx = backend.begin().await?;
    current_in(&mut tx, B::LOCKS_ROWS, app, revision).await?;
    if !claim_or_reclaim_in(
        &mut tx,
        B::LOCKS_ROWS,
        app,
        h.slot_start,
        n,
        capacity,
        h.created_at,
    )
    .await?
    {
        let taken = taken_in(&mut tx, app, h.slot_start).await?;
        return Err(slot_full(n, capacity, taken));
    }
    insert_hold_row_in(&mut tx, h).await?;
    backend.commit(tx).await
}

/// Inserts a held hold whose seats are already taken.
async fn insert_hold_row_in<C: Conn>(c: &mut C, h: &Hold) -> Result<()> {
    let args = vec![
        Arg::Id(h.id.0),
        text(h.token.as_str()),
        Arg::Id(h.appointment_id.0),
        text(h.app_code.as_str()),
        Arg::Instant(h.slot_start),
        Arg::Instant(h.slot_end),
        Arg::Int(i64::from(h.seats.get())),
        Arg::Instant(h.expires_at),
        Arg::Instant(h.created_at),
    ];
    c.execute(INSERT_HOLD, args).await.map_err(db_error)?;
    Ok(())
}

/// Why a hold could not be booked: none, no longer held (or expired), or another slot.
async fn hold_not_bookable<C: Conn>(c: &mut C, id: HoldId, now: DateTime<Utc>) -> Error {
    match c.optional(HOLD_BY_ID, vec![Arg::Id(id.0)]).await {
        Err(e) => db_error(e),
        Ok(None) => hold_not_found(),
        Ok(Some(row)) => match hold_from(&row) {
            Err(e) => e,
            Ok(h) if h.status_at(now) != HoldStatus::Held => Error::HoldEnded {
                status: h.status_at(now),
            },
            Ok(_) => Error::invalid(
                "hold_token",
                "the hold is for another appointment, slot or number of seats",
            ),
        },
    }
}

/// See `Store::book_hold`: the ban check, the booking row (the unique indexes enforce
/// anti-scalping), then the conditional update that turns the hold into it; no seat counter is
/// touched. Anything refused rolls the whole transaction back.
pub(crate) async fn book_hold<B: SqlBackend + ?Sized>(
    backend: &B,
    id: HoldId,
    b: &Booking,
    claim: SeatClaim,
) -> Result<Hold> {
    let n = b.attendee_count.get();
    let mut tx = backend.begin().await?;
    current_in(&mut tx, B::LOCKS_ROWS, b.appointment_id.0, claim.revision).await?;
    if banned_in(&mut tx, claim.owner, &b.email.canonical()).await? {
        return Err(Error::Banned);
    }
    tx.execute(B::INSERT_BOOKING, booking_args(b, claim))
        .await
        .map_err(|e| booking_write_error(e, n))?;
    let row = tx
        .optional(
            BOOK_HOLD,
            vec![
                Arg::Id(id.0),
                Arg::Id(b.id.0),
                Arg::Instant(b.created_at),
                Arg::Id(b.appointment_id.0),
                Arg::Instant(b.slot_start),
                Arg::Int(i64::from(n)),
            ],
        )
        .await
        .map_err(db_error)?;
    let Some(row) = row else {
        return Err(hold_not_bookable(&mut tx, id, b.created_at).await);
    };
    let hold = hold_from(&row)?;
    backend.commit(tx).await?;
    Ok(hold)
}

/// See `Store::release_hold`: the slot's counter is locked before the hold (the order every
/// claim takes), then a held hold ends as released (or expired) and gives its seats back.
pub(crate) async fn release_hold<B: SqlBackend + ?Sized>(
    backend: &B,
    id: HoldId,
    now: DateTime<Utc>,
) -> Result<Hold> {
    let mut tx = backend.begin().await?;
    let current = tx
        .optional(HOLD_BY_ID, vec![Arg::Id(id.0)])
        .await
        .map_err(db_error)?
        .ok_or_else(hold_not_found)?;
    let current = hold_from(&current)?;
    match current.status {
        HoldStatus::Held => {}
        HoldStatus::Booked => {
            return Err(Error::HoldEnded {
                status: current.status,
            });
        }
        HoldStatus::Released | HoldStatus::Expired => return Ok(current),
    }
    let app = current.appointment_id.0;
    if B::LOCKS_ROWS {
        tx.optional(LOCK_COUNTER, seat_args(app, current.slot_start))
            .await
            .map_err(db_error)?;
    }
    let status = if current.is_live(now) {
        HoldStatus::Released
    } else {
        HoldStatus::Expired
    };
    let row = tx
        .optional(
            END_HOLD,
            vec![Arg::Id(id.0), text(status.as_str()), Arg::Instant(now)],
        )
        .await
        .map_err(db_error)?;
    let Some(row) = row else {
        // Ended meanwhile (booked, released or reclaimed): answer it as it now is.
        let row = tx
            .optional(HOLD_BY_ID, vec![Arg::Id(id.0)])
            .await
            .map_err(db_error)?
            .ok_or_else(hold_not_found)?;
        let hold = hold_from(&row)?;
        return match hold.status {
            HoldStatus::Booked => Err(Error::HoldEnded {
                status: hold.status,
            }),
            _ => Ok(hold),
        };
    };
    let hold = hold_from(&row)?;
    release_in(
        &mut tx,
        B::LOCKS_ROWS,
        app,
        hold.slot_start,
        hold.seats.get(),
        now,
    )
    .await?;
    backend.commit(tx).await?;
    Ok(hold)
}

pub(crate) async fn held_holds<B: SqlBackend + ?Sized>(
    backend: &B,
    appointment: AppointmentId,
) -> Result<Vec<Hold>> {
    let rows = backend
        .reads()
        .all(HELD_HOLDS, vec![Arg::Id(appointment.0)])
        .await
        .map_err(db_error)?;
    rows_to(&rows, hold_from)
}

pub(crate) async fn hold_by_token<B: SqlBackend + ?Sized>(
    backend: &B,
    token: &HoldToken,
) -> Result<Option<Hold>> {
    one(backend, HOLD_BY_TOKEN, text(token.as_str()), hold_from).await
}

pub(crate) async fn booking_by_code<B: SqlBackend + ?Sized>(
    backend: &B,
    code: &BookingCode,
) -> Result<Option<Booking>> {
    one(backend, BOOKING_BY_CODE, text(code.as_str()), booking_from).await
}

pub(crate) async fn bookings_for_appointment<B: SqlBackend + ?Sized>(
    backend: &B,
    appointment: AppointmentId,
    page: Page,
) -> Result<Paged<Booking>> {
    paged(
        backend,
        COUNT_APPOINTMENT_BOOKINGS,
        APPOINTMENT_BOOKINGS,
        appointment.0,
        page,
        booking_from,
    )
    .await
}

pub(crate) async fn bookings_for_user<B: SqlBackend + ?Sized>(
    backend: &B,
    user: UserId,
    page: Page,
) -> Result<Paged<Booking>> {
    paged(
        backend,
        COUNT_USER_BOOKINGS,
        USER_BOOKINGS,
        user.0,
        page,
        booking_from,
    )
    .await
}

pub(crate) async fn booking_stats<B: SqlBackend + ?Sized>(
    backend: &B,
    owner: UserId,
    range: Range<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<BookingStats> {
    let args = vec![
        Arg::Id(owner.0),
        Arg::Bound(range.start),
        Arg::Bound(range.end),
        Arg::Instant(now),
    ];
    let mut reads = backend.reads();
    let rows = reads
        .all(BOOKING_STATS, args.clone())
        .await
        .map_err(db_error)?;
    let held = reads.optional(HELD_SEATS, args).await.map_err(db_error)?;
    let mut stats = BookingStats::default();
    for r in &rows {
        let n = to_count(r.int("n")?);
        stats.add(
            stored_status(&r.text("status")?)?,
            n,
            to_count(r.int("seats")?),
        );
    }
    stats.seats_held = held.map_or(Ok(0), |r| r.int("seats").map(to_count))?;
    Ok(stats)
}

pub(crate) async fn insert_ban<B: SqlBackend + ?Sized>(backend: &B, ban: &Ban) -> Result<()> {
    let args = vec![
        Arg::Id(ban.id.0),
        Arg::Id(ban.owner.0),
        text(ban.email.as_str()),
        Arg::Instant(ban.created_at),
    ];
    backend
        .writes()
        .execute(INSERT_BAN, args)
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(crate) async fn delete_ban<B: SqlBackend + ?Sized>(
    backend: &B,
    owner: UserId,
    email: &Email,
) -> Result<bool> {
    let n = backend
        .writes()
        .execute(DELETE_BAN, vec![Arg::Id(owner.0), text(email.as_str())])
        .await
        .map_err(db_error)?;
    Ok(n > 0)
}

pub(crate) async fn bans<B: SqlBackend + ?Sized>(backend: &B, owner: UserId) -> Result<Vec<Ban>> {
    let rows = backend
        .reads()
        .all(BANS, vec![Arg::Id(owner.0)])
        .await
        .map_err(db_error)?;
    rows_to(&rows, ban_from)
}

pub(crate) async fn events_after<B: SqlBackend + ?Sized>(
    backend: &B,
    owner: Option<UserId>,
    after: EventCursor,
    limit: u32,
) -> Result<Vec<Event>> {
    let mut args = vec![
        Arg::Int(i64::try_from(after.tx).unwrap_or(i64::MAX)),
        Arg::Int(i64::try_from(after.seq).unwrap_or(i64::MAX)),
        Arg::Int(i64::from(limit)),
    ];
    let sql = match owner {
        Some(o) => {
            args.push(Arg::Id(o.0));
            B::OWNER_EVENTS_AFTER
        }
        None => B::EVENTS_AFTER,
    };
    let rows = backend.reads().all(sql, args).await.map_err(db_error)?;
    rows_to(&rows, event_from)
}

/// Implements [`appointment_core::Store`] for a [`SqlBackend`] with the functions of this module.
macro_rules! impl_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl appointment_core::Store for $store {
            async fn insert_user(
                &self,
                user: &appointment_core::User,
            ) -> appointment_core::Result<()> {
                $crate::sql_store::insert_user(self, user).await
            }
            async fn user_by_id(
                &self,
                id: appointment_core::UserId,
            ) -> appointment_core::Result<Option<appointment_core::User>> {
                $crate::sql_store::user_by_id(self, id).await
            }
            async fn mark_email_verified(
                &self,
                user: appointment_core::UserId,
                email: &appointment_core::Email,
                at: chrono::DateTime<chrono::Utc>,
            ) -> appointment_core::Result<bool> {
                $crate::sql_store::mark_email_verified(self, user, email, at).await
            }
            async fn user_by_email(
                &self,
                email: &appointment_core::Email,
            ) -> appointment_core::Result<Option<appointment_core::User>> {
                $crate::sql_store::user_by_email(self, email).await
            }
            async fn insert_appointment(
                &self,
                a: &appointment_core::Appointment,
            ) -> appointment_core::Result<()> {
                $crate::sql_store::insert_appointment(self, a).await
            }
            async fn update_appointment(
                &self,
                a: &appointment_core::Appointment,
            ) -> appointment_core::Result<bool> {
                $crate::sql_store::update_appointment(self, a).await
            }
            async fn delete_appointment(
                &self,
                id: appointment_core::AppointmentId,
                at: chrono::DateTime<chrono::Utc>,
            ) -> appointment_core::Result<()> {
                $crate::sql_store::delete_appointment(self, id, at).await
            }
            async fn appointment_by_code(
                &self,
                code: &appointment_core::AppCode,
            ) -> appointment_core::Result<Option<appointment_core::Appointment>> {
                $crate::sql_store::appointment_by_code(self, code).await
            }
            async fn appointment_by_id(
                &self,
                id: appointment_core::AppointmentId,
            ) -> appointment_core::Result<Option<appointment_core::Appointment>> {
                $crate::sql_store::appointment_by_id(self, id).await
            }
            async fn appointments_by_owner(
                &self,
                owner: appointment_core::UserId,
                page: appointment_core::Page,
            ) -> appointment_core::Result<appointment_core::Paged<appointment_core::Appointment>>
            {
                $crate::sql_store::appointments_by_owner(self, owner, page).await
            }
            async fn appointments_created(
                &self,
                owner: appointment_core::UserId,
                range: std::ops::Range<chrono::DateTime<chrono::Utc>>,
            ) -> appointment_core::Result<Vec<appointment_core::Appointment>> {
                $crate::sql_store::appointments_created(self, owner, range).await
            }
            async fn resource_claims(
                &self,
                key: appointment_core::ResourceKey,
                except: appointment_core::AppointmentId,
                range: std::ops::Range<chrono::DateTime<chrono::Utc>>,
            ) -> appointment_core::Result<Vec<std::ops::Range<chrono::DateTime<chrono::Utc>>>> {
                $crate::sql_store::resource_claims(self, key, except, range).await
            }
            async fn seats_taken(
                &self,
                appointment: appointment_core::AppointmentId,
                range: std::ops::Range<chrono::DateTime<chrono::Utc>>,
                now: chrono::DateTime<chrono::Utc>,
            ) -> appointment_core::Result<Vec<appointment_core::SlotSeats>> {
                $crate::sql_store::seats_taken(self, appointment, range, now).await
            }
            async fn insert_booking(
                &self,
                booking: &appointment_core::Booking,
                claim: appointment_core::SeatClaim,
            ) -> appointment_core::Result<()> {
                $crate::sql_store::SqlBackend::insert_booking(self, booking, claim).await
            }
            async fn move_booking(
                &self,
                id: appointment_core::BookingId,
                to: &appointment_core::BookingMove,
            ) -> appointment_core::Result<Option<appointment_core::Booking>> {
                $crate::sql_store::move_booking(self, id, to).await
            }
            async fn end_booking(
                &self,
                id: appointment_core::BookingId,
                end: appointment_core::BookingEnd,
            ) -> appointment_core::Result<Option<appointment_core::Booking>> {
                $crate::sql_store::end_booking(self, id, end).await
            }
            async fn confirm_booking(
                &self,
                id: appointment_core::BookingId,
                now: chrono::DateTime<chrono::Utc>,
            ) -> appointment_core::Result<appointment_core::Booking> {
                $crate::sql_store::confirm_booking(self, id, now).await
            }
            async fn reclaim_expired(
                &self,
                appointment: appointment_core::AppointmentId,
                now: chrono::DateTime<chrono::Utc>,
            ) -> appointment_core::Result<u64> {
                $crate::sql_store::reclaim_expired(self, appointment, now).await
            }
            async fn appointments_with_expired(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                limit: u32,
            ) -> appointment_core::Result<Vec<appointment_core::AppointmentId>> {
                $crate::sql_store::appointments_with_expired(self, now, limit).await
            }
            async fn insert_hold(
                &self,
                hold: &appointment_core::Hold,
                capacity: u32,
                revision: u64,
            ) -> appointment_core::Result<()> {
                $crate::sql_store::insert_hold(self, hold, capacity, revision).await
            }
            async fn book_hold(
                &self,
                hold: appointment_core::HoldId,
                booking: &appointment_core::Booking,
                claim: appointment_core::SeatClaim,
            ) -> appointment_core::Result<appointment_core::Hold> {
                $crate::sql_store::book_hold(self, hold, booking, claim).await
            }
            async fn release_hold(
                &self,
                hold: appointment_core::HoldId,
                now: chrono::DateTime<chrono::Utc>,
            ) -> appointment_core::Result<appointment_core::Hold> {
                $crate::sql_store::release_hold(self, hold, now).await
            }
            async fn held_holds(
                &self,
                appointment: appointment_core::AppointmentId,
            ) -> appointment_core::Result<Vec<appointment_core::Hold>> {
                $crate::sql_store::held_holds(self, appointment).await
            }
            async fn hold_by_token(
                &self,
                token: &appointment_core::HoldToken,
            ) -> appointment_core::Result<Option<appointment_core::Hold>> {
                $crate::sql_store::hold_by_token(self, token).await
            }
            async fn hold_by_id(
                &self,
                id: appointment_core::HoldId,
            ) -> appointment_core::Result<Option<appointment_core::Hold>> {
                $crate::sql_store::hold_by_id(self, id).await
            }
            async fn insert_waitlist(
                &self,
                entry: &appointment_core::WaitlistEntry,
                claim: appointment_core::SeatClaim,
            ) -> appointment_core::Result<u64> {
                $crate::sql_store::insert_waitlist(self, entry, claim).await
            }
            async fn leave_waitlist(
                &self,
                id: appointment_core::WaitlistId,
                now: chrono::DateTime<chrono::Utc>,
            ) -> appointment_core::Result<appointment_core::WaitlistEntry> {
                $crate::sql_store::leave_waitlist(self, id, now).await
            }
            async fn waitlist_by_code(
                &self,
                code: &appointment_core::WaitlistCode,
            ) -> appointment_core::Result<Option<appointment_core::WaitlistEntry>> {
                $crate::sql_store::waitlist_by_code(self, code).await
            }
            async fn waitlist_position(
                &self,
                entry: &appointment_core::WaitlistEntry,
            ) -> appointment_core::Result<u64> {
                $crate::sql_store::waitlist_position(self, entry).await
            }
            async fn booking_by_code(
                &self,
                code: &appointment_core::BookingCode,
            ) -> appointment_core::Result<Option<appointment_core::Booking>> {
                $crate::sql_store::booking_by_code(self, code).await
            }
            async fn bookings_for_appointment(
                &self,
                appointment: appointment_core::AppointmentId,
                page: appointment_core::Page,
            ) -> appointment_core::Result<appointment_core::Paged<appointment_core::Booking>> {
                $crate::sql_store::bookings_for_appointment(self, appointment, page).await
            }
            async fn bookings_for_user(
                &self,
                user: appointment_core::UserId,
                page: appointment_core::Page,
            ) -> appointment_core::Result<appointment_core::Paged<appointment_core::Booking>> {
                $crate::sql_store::bookings_for_user(self, user, page).await
            }
            async fn booking_stats(
                &self,
                owner: appointment_core::UserId,
                range: std::ops::Range<chrono::DateTime<chrono::Utc>>,
                now: chrono::DateTime<chrono::Utc>,
            ) -> appointment_core::Result<appointment_core::BookingStats> {
                $crate::sql_store::booking_stats(self, owner, range, now).await
            }
            async fn events_after(
                &self,
                owner: Option<appointment_core::UserId>,
                after: appointment_core::EventCursor,
                limit: u32,
            ) -> appointment_core::Result<Vec<appointment_core::Event>> {
                $crate::sql_store::events_after(self, owner, after, limit).await
            }
            async fn insert_ban(
                &self,
                ban: &appointment_core::Ban,
            ) -> appointment_core::Result<()> {
                $crate::sql_store::insert_ban(self, ban).await
            }
            async fn delete_ban(
                &self,
                owner: appointment_core::UserId,
                email: &appointment_core::Email,
            ) -> appointment_core::Result<bool> {
                $crate::sql_store::delete_ban(self, owner, email).await
            }
            async fn bans(
                &self,
                owner: appointment_core::UserId,
            ) -> appointment_core::Result<Vec<appointment_core::Ban>> {
                $crate::sql_store::bans(self, owner).await
            }
        }
    };
}
pub(crate) use impl_store;

/// Implements [`Conn`] for a pool or transaction type `$ty` of rows `$row`, whose statements
/// `$query` builds and which `|$c| $exec` turns into an executor.
macro_rules! impl_conn {
    ($ty:ty, $row:ty, $query:path, |$c:ident| $exec:expr) => {
        $crate::sql_store::impl_conn!(@impl [] $ty, $row, $query, |$c| $exec);
    };
    (@lifetime $lt:lifetime; $ty:ty, $row:ty, $query:path, |$c:ident| $exec:expr) => {
        $crate::sql_store::impl_conn!(@impl [$lt] $ty, $row, $query, |$c| $exec);
    };
    (@impl [$($lt:lifetime)?] $ty:ty, $row:ty, $query:path, |$c:ident| $exec:expr) => {
        #[async_trait::async_trait]
        impl<$($lt)?> $crate::sql_store::Conn for $ty {
            type Row = $row;
            async fn optional(
                &mut self,
                sql: &'static str,
                args: Vec<$crate::sql_store::Arg>,
            ) -> std::result::Result<Option<$row>, sqlx::Error> {
                let $c = self;
                $query(sql, args).fetch_optional($exec).await
            }
            async fn all(
                &mut self,
                sql: &'static str,
                args: Vec<$crate::sql_store::Arg>,
            ) -> std::result::Result<Vec<$row>, sqlx::Error> {
                let $c = self;
                $query(sql, args).fetch_all($exec).await
            }
            async fn execute(
                &mut self,
                sql: &'static str,
                args: Vec<$crate::sql_store::Arg>,
            ) -> std::result::Result<u64, sqlx::Error> {
                let $c = self;
                Ok($query(sql, args).execute($exec).await?.rows_affected())
            }
        }
    };
}
pub(crate) use impl_conn;

/// The inherent methods every SQL store has for its schema, written once: `$pool` is the field
/// holding the pool migrations run on, `$migrator` the backend's embedded migrations, and
/// `$table_exists` a query answering 1 (as a `BIGINT`) if the migrations table exists, else 0.
macro_rules! migration_methods {
    ($pool:ident, $migrator:path, $table_exists:literal) => {
        /// Applies every pending migration.
        pub async fn migrate_up(&self) -> appointment_core::Result<()> {
            $migrator
                .run(&self.$pool)
                .await
                .map_err(appointment_core::Error::storage)
        }

        /// Reverts migrations down to `version` (`0` reverts everything).
        pub async fn migrate_down_to(&self, version: i64) -> appointment_core::Result<()> {
            $migrator
                .undo(&self.$pool, version)
                .await
                .map_err(appointment_core::Error::storage)
        }

        /// Applies or reverts migrations until `version` is the latest applied one.
        pub async fn migrate_to(&self, version: i64) -> appointment_core::Result<()> {
            if version >= self.applied_version().await? {
                $migrator
                    .run_to(version, &self.$pool)
                    .await
                    .map_err(appointment_core::Error::storage)
            } else {
                self.migrate_down_to(version).await
            }
        }

        /// The latest applied migration (`0` for none).
        pub async fn applied_version(&self) -> appointment_core::Result<i64> {
            let exists: i64 = sqlx::query_scalar($table_exists)
                .fetch_one(&self.$pool)
                .await
                .map_err($crate::sql_common::db_error)?;
            if exists == 0 {
                return Ok(0);
            }
            let v: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                    .fetch_one(&self.$pool)
                    .await
                    .map_err($crate::sql_common::db_error)?;
            Ok(v.unwrap_or(0))
        }

        /// The versions of the migrations built into this store, oldest first.
        pub fn known_migrations() -> Vec<i64> {
            let mut v: Vec<i64> = $migrator.iter().map(|m| m.version).collect();
            v.dedup();
            v
        }

        /// Arms a fault that fires in the next seat-changing write (tests only).
        #[cfg(feature = "test-hooks")]
        #[doc(hidden)]
        pub fn arm_fault(&self, fault: $crate::hooks::Fault) {
            self.hooks.arm(fault);
        }

        /// Runs the armed fault, if any (tests only): the last step before every commit of a
        /// seat-changing write.
        async fn before_commit(&self) -> appointment_core::Result<()> {
            #[cfg(feature = "test-hooks")]
            self.hooks.before_commit().await?;
            Ok(())
        }
    };
}
pub(crate) use migration_methods;

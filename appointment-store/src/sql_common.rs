//! What the SQL backends share besides their statements (`sql_store`): turning rows into domain
//! types, and database errors into the engine's typed errors.

use std::fmt;

use appointment_core::{
    AntiScalping, AppCode, Appointment, AppointmentId, AppointmentKind, AppointmentStatus,
    AttendeeCount, Ban, BanId, Booking, BookingCode, BookingId, BookingStatus, DeviceId, Duplicate,
    Email, Entity, Error, Event, EventCursor, EventId, EventKind, EventSubject, Hold, HoldId,
    HoldStatus, HoldToken, Name, Page, Phone, ResourceName, Result, Schedule, TimeZoneName, User,
    UserId, WaitlistCode, WaitlistEntry, WaitlistId, WaitlistStatus, Weekdays,
};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sqlx::error::ErrorKind;
use uuid::Uuid;

use crate::service::IdempotencyClaim;

/// A row that does not hold a valid value (written by something else, or by an older version).
#[derive(Debug)]
pub(crate) struct CorruptRow(pub(crate) String);

impl fmt::Display for CorruptRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stored row is not valid: {}", self.0)
    }
}

impl std::error::Error for CorruptRow {}

/// An [`Error::Storage`] for a row whose column `what` cannot be read back.
pub(crate) fn corrupt(what: &str, detail: impl fmt::Display) -> Error {
    Error::storage(CorruptRow(format!("{what}: {detail}")))
}

/// Re-reads a value through its validating constructor; a failure means the row is corrupt.
pub(crate) fn valid<T>(what: &str, r: Result<T>) -> Result<T> {
    r.map_err(|e| corrupt(what, e))
}

/// A stored integer that must fit in a `u32`.
pub(crate) fn to_u32(what: &str, v: i64) -> Result<u32> {
    u32::try_from(v).map_err(|_| corrupt(what, format!("{v} is out of range")))
}

/// The `LIMIT` and `OFFSET` of a page.
pub(crate) fn limit_offset(page: Page) -> (i64, i64) {
    (
        i64::from(page.per_page()),
        i64::try_from(page.offset()).unwrap_or(i64::MAX),
    )
}

/// A count that SQL returned as a signed integer.
pub(crate) fn to_count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Maps a database error to the engine's error: unique violations become the matching
/// [`Duplicate`], everything else [`Error::Storage`].
pub(crate) fn db_error(err: sqlx::Error) -> Error {
    classify(err, None)
}

/// The error of a write that makes a booking active or moves it: `SlotFull` (no seats
/// available) when the database refused it because the booking's shared resource is taken at
/// that time (the Postgres exclusion constraint `bookings_resource_excl`, the SQLite trigger's
/// `resource_busy`); otherwise as [`db_error_fk`] with a missing appointment.
///
/// Postgres may also resolve two bookings that claim overlapping times of one resource at the
/// same instant as a deadlock (each waits for the other's uncommitted claim) and abort one of
/// them: that one lost the race for the resource, and is answered the same way. Booking writes
/// without a resource take one row lock, so they cannot deadlock.
pub(crate) fn booking_write_error(err: sqlx::Error, requested: u32) -> Error {
    if let sqlx::Error::Database(db) = &err
        && (db.constraint() == Some("bookings_resource_excl")
            || db.code().as_deref() == Some("40P01")
            || db.message().starts_with("resource_busy"))
    {
        return Error::SlotFull {
            requested,
            available: 0,
        };
    }
    db_error_fk(err, Entity::Appointment)
}

/// Like [`db_error`], and a foreign-key violation means that `missing` does not exist.
pub(crate) fn db_error_fk(err: sqlx::Error, missing: Entity) -> Error {
    classify(err, Some(missing))
}

fn classify(err: sqlx::Error, missing: Option<Entity>) -> Error {
    if is_unavailable(&err) {
        return Error::unavailable(err);
    }
    if let sqlx::Error::Database(db) = &err {
        match db.kind() {
            ErrorKind::UniqueViolation => {
                return Error::Duplicate(duplicate_kind(db.constraint(), db.message()));
            }
            ErrorKind::ForeignKeyViolation => {
                if let Some(entity) = missing {
                    return Error::NotFound(entity);
                }
            }
            _ => {}
        }
    }
    Error::storage(err)
}

/// A commit whose answer never came back: the database may or may not have applied it.
#[cfg(feature = "postgres")]
#[derive(Debug)]
pub(crate) struct CommitOutcomeUnknown(sqlx::Error);

#[cfg(feature = "postgres")]
impl fmt::Display for CommitOutcomeUnknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the connection failed while committing, so whether the commit was applied is unknown"
        )
    }
}

#[cfg(feature = "postgres")]
impl std::error::Error for CommitOutcomeUnknown {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Maps the error of a `COMMIT` sent over the network. A lost connection there is not
/// [`Error::Unavailable`] (which promises that nothing was applied) but [`Error::Storage`]: the
/// outcome is unknown.
#[cfg(feature = "postgres")]
pub(crate) fn commit_error(err: sqlx::Error) -> Error {
    if is_unavailable(&err) {
        Error::storage(CommitOutcomeUnknown(err))
    } else {
        db_error(err)
    }
}

/// Whether the database could not be reached, as opposed to refusing or failing an operation:
/// no connection within the pool's wait, the connection refused or broken, the server shutting
/// down or starting up (Postgres SQLSTATE class 08 but for 08P01, a protocol violation, which is
/// a bug; 57P01-57P03; 53300), or SQLite still busy
/// after its busy timeout.
fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => {
            #[cfg(feature = "sqlite")]
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLITE_BUSY and SQLITE_LOCKED, with their extended codes (primary code in the
                // low byte).
                let primary = db
                    .code()
                    .and_then(|c| c.parse::<i32>().ok())
                    .map(|c| c & 0xff);
                return matches!(primary, Some(5 | 6));
            }
            db.code().is_some_and(|c| {
                (c.starts_with("08") && c != "08P01")
                    || matches!(&*c, "57P01" | "57P02" | "57P03" | "53300")
            })
        }
        _ => false,
    }
}

/// Which unique rule a violation broke, from the constraint (index) name that Postgres reports or
/// the `table.column` list in SQLite's message. Any other unique key (codes, generated ids) is a
/// collision of a generated identifier.
pub(crate) fn duplicate_kind(constraint: Option<&str>, message: &str) -> Duplicate {
    const RULES: &[(&str, &str, Duplicate)] = &[
        (
            "bookings_guard_email_key",
            "bookings.guard_email",
            Duplicate::BookingEmail,
        ),
        (
            "bookings_guard_device_key",
            "bookings.guard_device",
            Duplicate::BookingDevice,
        ),
        ("users_email_key", "users.email", Duplicate::UserEmail),
        ("users_phone_key", "users.phone", Duplicate::UserPhone),
        ("bans_owner_email_key", "bans.email", Duplicate::Ban),
    ];
    for (name, columns, kind) in RULES {
        if constraint == Some(*name) || message.contains(columns) || message.contains(name) {
            return *kind;
        }
    }
    Duplicate::Code
}

/// A result row of either SQL backend, read column by column in the types the row structs hold.
/// Each backend decodes its own column encodings (Postgres: `uuid`, `timestamptz`, `date`, `time`,
/// `boolean`; SQLite: text, integer microseconds, 0/1).
pub(crate) trait ReadRow {
    fn text(&self, col: &str) -> Result<String>;
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    fn int(&self, col: &str) -> Result<i64>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>>;
    fn flag(&self, col: &str) -> Result<bool>;
    fn uuid(&self, col: &str) -> Result<Uuid>;
    fn opt_uuid(&self, col: &str) -> Result<Option<Uuid>>;
    fn instant(&self, col: &str) -> Result<DateTime<Utc>>;
    fn opt_instant(&self, col: &str) -> Result<Option<DateTime<Utc>>>;
    fn date(&self, col: &str) -> Result<NaiveDate>;
    fn clock(&self, col: &str) -> Result<NaiveTime>;
}

/// A user from a row of `users` (its columns by name).
pub(crate) fn user_from(row: &impl ReadRow) -> Result<User> {
    UserRow {
        id: row.uuid("id")?,
        name: row.text("name")?,
        email: row.text("email")?,
        phone: row.opt_text("phone")?,
        password_hash: row.text("password_hash")?,
        created_at: row.instant("created_at")?,
        email_verified_at: row.opt_instant("email_verified_at")?,
    }
    .into_domain()
}

/// An appointment from a row of `appointments`.
pub(crate) fn appointment_from(row: &impl ReadRow) -> Result<Appointment> {
    AppointmentRow {
        id: row.uuid("id")?,
        code: row.text("code")?,
        owner: row.uuid("owner_id")?,
        title: row.text("title")?,
        description: row.text("description")?,
        kind: row.text("kind")?,
        capacity: row.int("capacity")?,
        anti_scalping: row.text("anti_scalping")?,
        status: row.text("status")?,
        start_date: row.date("start_date")?,
        end_date: row.date("end_date")?,
        window_start: row.clock("window_start")?,
        window_end: row.clock("window_end")?,
        slot_minutes: row.int("slot_minutes")?,
        buffer_minutes: row.int("buffer_minutes")?,
        time_zone: row.text("time_zone")?,
        weekdays: row.int("weekdays")?,
        min_notice_minutes: row.int("min_notice_minutes")?,
        horizon_days: row.opt_int("horizon_days")?,
        single_event: row.flag("single_event")?,
        created_at: row.instant("created_at")?,
        updated_at: row.instant("updated_at")?,
        weekly_hours: row.opt_text("weekly_hours")?,
        date_overrides: row.opt_text("date_overrides")?,
        closures: row.opt_text("closures")?,
        resource: row.opt_text("resource")?,
        cancel_cutoff_minutes: row.int("cancel_cutoff_minutes")?,
        hold_minutes: row.int("hold_minutes")?,
        revision: row.int("revision")?,
        confirm_within_minutes: row.opt_int("confirm_within_minutes")?,
    }
    .into_domain()
}

/// A booking from a row of `bookings`.
pub(crate) fn booking_from(row: &impl ReadRow) -> Result<Booking> {
    BookingRow {
        id: row.uuid("id")?,
        code: row.text("code")?,
        appointment_id: row.uuid("appointment_id")?,
        app_code: row.text("app_code")?,
        user_id: row.opt_uuid("user_id")?,
        name: row.text("name")?,
        email: row.text("email")?,
        phone: row.opt_text("phone")?,
        slot_start: row.instant("slot_start")?,
        slot_end: row.instant("slot_end")?,
        attendee_count: row.int("attendee_count")?,
        status: row.text("status")?,
        confirm_by: row.opt_instant("confirm_by")?,
        description: row.text("description")?,
        device_id: row.opt_text("device_id")?,
        created_at: row.instant("created_at")?,
        updated_at: row.instant("updated_at")?,
    }
    .into_domain()
}

/// A hold from a row of `holds`.
pub(crate) fn hold_from(row: &impl ReadRow) -> Result<Hold> {
    Ok(Hold {
        id: HoldId(row.uuid("id")?),
        token: valid("holds.token", HoldToken::parse(&row.text("token")?))?,
        appointment_id: AppointmentId(row.uuid("appointment_id")?),
        app_code: valid("holds.app_code", AppCode::parse(&row.text("app_code")?))?,
        slot_start: row.instant("slot_start")?,
        slot_end: row.instant("slot_end")?,
        seats: valid(
            "holds.seats",
            AttendeeCount::new(to_u32("holds.seats", row.int("seats")?)?),
        )?,
        status: valid("holds.status", row.text("status")?.parse::<HoldStatus>())?,
        expires_at: row.instant("expires_at")?,
        booking_id: row.opt_uuid("booking_id")?.map(BookingId),
        created_at: row.instant("created_at")?,
        updated_at: row.instant("updated_at")?,
    })
}

/// `NotFound(Hold)`.
pub(crate) fn hold_not_found() -> Error {
    Error::NotFound(Entity::Hold)
}

/// A place on a waiting list from a row of `waitlist`.
pub(crate) fn waitlist_from(row: &impl ReadRow) -> Result<WaitlistEntry> {
    Ok(WaitlistEntry {
        id: WaitlistId(row.uuid("id")?),
        code: valid("waitlist.code", WaitlistCode::parse(&row.text("code")?))?,
        appointment_id: AppointmentId(row.uuid("appointment_id")?),
        app_code: valid("waitlist.app_code", AppCode::parse(&row.text("app_code")?))?,
        slot_start: row.instant("slot_start")?,
        slot_end: row.instant("slot_end")?,
        name: valid("waitlist.name", Name::parse(&row.text("name")?))?,
        email: valid("waitlist.email", Email::from_stored(&row.text("email")?))?,
        seats: valid(
            "waitlist.seats",
            AttendeeCount::new(to_u32("waitlist.seats", row.int("seats")?)?),
        )?,
        status: valid(
            "waitlist.status",
            row.text("status")?.parse::<WaitlistStatus>(),
        )?,
        hold_id: row.opt_uuid("hold_id")?.map(HoldId),
        created_at: row.instant("created_at")?,
        updated_at: row.instant("updated_at")?,
    })
}

/// An event from a row of `outbox` (with its `tx` as a number).
pub(crate) fn event_from(row: &impl ReadRow) -> Result<Event> {
    let kind = valid("outbox.kind", row.text("kind")?.parse::<EventKind>())?;
    let status = row.text("status")?;
    let seats = || -> Result<AttendeeCount> {
        let n = row.opt_int("seats")?.unwrap_or(0);
        valid(
            "outbox.seats",
            AttendeeCount::new(to_u32("outbox.seats", n)?),
        )
    };
    let required = |col: &str| -> Result<DateTime<Utc>> {
        row.opt_instant(col)?
            .ok_or_else(|| corrupt("outbox", format!("{col} is missing")))
    };
    let text = |col: &str| -> Result<String> {
        row.opt_text(col)?
            .ok_or_else(|| corrupt("outbox", format!("{col} is missing")))
    };
    let subject = match kind
        .as_str()
        .split_once('.')
        .map_or("", |(entity, _)| entity)
    {
        "appointment" => EventSubject::Appointment {
            status: valid("outbox.status", status.parse::<AppointmentStatus>())?,
            revision: u64::try_from(row.opt_int("revision")?.unwrap_or(0))
                .map_err(|_| corrupt("outbox.revision", "negative"))?,
        },
        "booking" => EventSubject::Booking {
            id: BookingId(row.uuid("subject_id")?),
            code: valid("outbox.code", BookingCode::parse(&text("code")?))?,
            status: stored_status(&status)?,
            slot_start: required("slot_start")?,
            slot_end: required("slot_end")?,
            seats: seats()?,
            name: valid("outbox.name", Name::parse(&text("name")?))?,
            email: valid("outbox.email", Email::from_stored(&text("email")?))?,
            confirm_by: row.opt_instant("deadline")?,
        },
        "hold" => EventSubject::Hold {
            id: HoldId(row.uuid("subject_id")?),
            status: valid("outbox.status", status.parse::<HoldStatus>())?,
            slot_start: required("slot_start")?,
            slot_end: required("slot_end")?,
            seats: seats()?,
            expires_at: required("deadline")?,
            booking_id: row.opt_uuid("ref_id")?.map(BookingId),
        },
        _ => EventSubject::Waitlist {
            id: WaitlistId(row.uuid("subject_id")?),
            code: valid("outbox.code", WaitlistCode::parse(&text("code")?))?,
            status: valid("outbox.status", status.parse::<WaitlistStatus>())?,
            slot_start: required("slot_start")?,
            slot_end: required("slot_end")?,
            seats: seats()?,
            name: valid("outbox.name", Name::parse(&text("name")?))?,
            email: valid("outbox.email", Email::from_stored(&text("email")?))?,
            hold_id: row.opt_uuid("ref_id")?.map(HoldId),
        },
    };
    let number = |col: &str| -> Result<u64> {
        u64::try_from(row.int(col)?).map_err(|_| corrupt("outbox", format!("{col} is negative")))
    };
    Ok(Event {
        id: EventId(row.uuid("id")?),
        cursor: EventCursor {
            tx: number("tx")?,
            seq: number("seq")?,
        },
        kind,
        at: row.instant("occurred_at")?,
        owner: UserId(row.uuid("owner_id")?),
        appointment_id: AppointmentId(row.uuid("appointment_id")?),
        app_code: valid("outbox.app_code", AppCode::parse(&row.text("app_code")?))?,
        subject,
    })
}

/// A ban from a row of `bans`.
pub(crate) fn ban_from(row: &impl ReadRow) -> Result<Ban> {
    BanRow {
        id: row.uuid("id")?,
        owner: row.uuid("owner_id")?,
        email: row.text("email")?,
        created_at: row.instant("created_at")?,
    }
    .into_domain()
}

/// A user row, with values already decoded from the backend's column types.
#[derive(Debug)]
pub(crate) struct UserRow {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    pub email_verified_at: Option<DateTime<Utc>>,
}

impl UserRow {
    pub fn into_domain(self) -> Result<User> {
        Ok(User {
            id: UserId(self.id),
            name: valid("users.name", Name::parse(&self.name))?,
            email: valid("users.email", Email::from_stored(&self.email))?,
            phone: self
                .phone
                .as_deref()
                .map(|p| valid("users.phone", Phone::parse(p)))
                .transpose()?,
            password_hash: self.password_hash,
            created_at: self.created_at,
            email_verified_at: self.email_verified_at,
        })
    }
}

/// An appointment row, with values already decoded from the backend's column types.
#[derive(Debug)]
pub(crate) struct AppointmentRow {
    pub id: Uuid,
    pub code: String,
    pub owner: Uuid,
    pub title: String,
    pub description: String,
    pub kind: String,
    pub capacity: i64,
    pub anti_scalping: String,
    pub status: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub window_start: NaiveTime,
    pub window_end: NaiveTime,
    pub slot_minutes: i64,
    pub buffer_minutes: i64,
    pub time_zone: String,
    pub weekdays: i64,
    pub min_notice_minutes: i64,
    pub horizon_days: Option<i64>,
    pub single_event: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub weekly_hours: Option<String>,
    pub date_overrides: Option<String>,
    pub closures: Option<String>,
    pub resource: Option<String>,
    pub cancel_cutoff_minutes: i64,
    pub hold_minutes: i64,
    pub revision: i64,
    pub confirm_within_minutes: Option<i64>,
}

impl AppointmentRow {
    pub fn into_domain(self) -> Result<Appointment> {
        let slot_minutes = to_u32("appointments.slot_minutes", self.slot_minutes)?;
        let builder = match &self.weekly_hours {
            Some(raw) => Schedule::weekly(
                self.start_date,
                self.end_date,
                crate::hours_codec::parse_weekly_hours(raw)?,
                slot_minutes,
            ),
            None => {
                let weekdays = u8::try_from(self.weekdays)
                    .map_err(|_| corrupt("appointments.weekdays", self.weekdays))?;
                Schedule::builder(
                    self.start_date,
                    self.end_date,
                    self.window_start,
                    self.window_end,
                    slot_minutes,
                )
                .weekdays(valid(
                    "appointments.weekdays",
                    Weekdays::from_bits(weekdays),
                )?)
            }
        };
        let overrides = match &self.date_overrides {
            Some(raw) => crate::hours_codec::parse_overrides(raw)?,
            None => Vec::new(),
        };
        let closures = match &self.closures {
            Some(raw) => crate::hours_codec::parse_closures(raw)?,
            None => Vec::new(),
        };
        let schedule = builder
            .overrides(overrides)
            .closures(closures)
            .buffer_minutes(to_u32("appointments.buffer_minutes", self.buffer_minutes)?)
            .time_zone(valid(
                "appointments.time_zone",
                TimeZoneName::parse(&self.time_zone),
            )?)
            .min_notice_minutes(to_u32(
                "appointments.min_notice_minutes",
                self.min_notice_minutes,
            )?)
            .cancel_cutoff_minutes(to_u32(
                "appointments.cancel_cutoff_minutes",
                self.cancel_cutoff_minutes,
            )?)
            .hold_minutes(to_u32("appointments.hold_minutes", self.hold_minutes)?)
            .confirm_within_minutes(
                self.confirm_within_minutes
                    .map(|m| to_u32("appointments.confirm_within_minutes", m))
                    .transpose()?,
            )
            .horizon_days(
                self.horizon_days
                    .map(|h| to_u32("appointments.horizon_days", h))
                    .transpose()?,
            )
            .single_event(self.single_event)
            .build();
        Ok(Appointment {
            id: AppointmentId(self.id),
            code: valid("appointments.code", AppCode::parse(&self.code))?,
            owner: UserId(self.owner),
            title: self.title,
            description: self.description,
            kind: valid("appointments.kind", self.kind.parse::<AppointmentKind>())?,
            capacity: to_u32("appointments.capacity", self.capacity)?,
            anti_scalping: valid(
                "appointments.anti_scalping",
                self.anti_scalping.parse::<AntiScalping>(),
            )?,
            status: valid(
                "appointments.status",
                self.status.parse::<AppointmentStatus>(),
            )?,
            schedule: valid("appointments schedule", schedule)?,
            resource: self
                .resource
                .as_deref()
                .map(|r| valid("appointments.resource", ResourceName::parse(r)))
                .transpose()?,
            created_at: self.created_at,
            updated_at: self.updated_at,
            revision: u64::try_from(self.revision)
                .map_err(|_| corrupt("appointments.revision", self.revision))?,
        })
    }
}

/// A booking row, with values already decoded from the backend's column types.
#[derive(Debug)]
pub(crate) struct BookingRow {
    pub id: Uuid,
    pub code: String,
    pub appointment_id: Uuid,
    pub app_code: String,
    pub user_id: Option<Uuid>,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub slot_start: DateTime<Utc>,
    pub slot_end: DateTime<Utc>,
    pub attendee_count: i64,
    pub status: String,
    pub confirm_by: Option<DateTime<Utc>>,
    pub description: String,
    pub device_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl BookingRow {
    pub fn into_domain(self) -> Result<Booking> {
        Ok(Booking {
            id: BookingId(self.id),
            code: valid("bookings.code", BookingCode::parse(&self.code))?,
            appointment_id: AppointmentId(self.appointment_id),
            app_code: valid("bookings.app_code", AppCode::parse(&self.app_code))?,
            user_id: self.user_id.map(UserId),
            name: valid("bookings.name", Name::parse(&self.name))?,
            email: valid("bookings.email", Email::from_stored(&self.email))?,
            phone: self
                .phone
                .as_deref()
                .map(|p| valid("bookings.phone", Phone::parse(p)))
                .transpose()?,
            slot_start: self.slot_start,
            slot_end: self.slot_end,
            attendee_count: valid(
                "bookings.attendee_count",
                AttendeeCount::new(to_u32("bookings.attendee_count", self.attendee_count)?),
            )?,
            status: valid("bookings.status", self.status.parse::<BookingStatus>())?,
            confirm_by: self.confirm_by,
            description: self.description,
            device_id: self
                .device_id
                .as_deref()
                .map(|d| valid("bookings.device_id", DeviceId::from_stored(d)))
                .transpose()?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A ban row, with values already decoded from the backend's column types.
#[derive(Debug)]
pub(crate) struct BanRow {
    pub id: Uuid,
    pub owner: Uuid,
    pub email: String,
    pub created_at: DateTime<Utc>,
}

impl BanRow {
    pub fn into_domain(self) -> Result<Ban> {
        Ok(Ban {
            id: BanId(self.id),
            owner: UserId(self.owner),
            email: valid("bans.email", Email::from_stored(&self.email))?,
            created_at: self.created_at,
        })
    }
}

/// The stored value of the anti-scalping guard columns for a new booking.
pub(crate) fn guards(
    booking: &Booking,
    claim: appointment_core::SeatClaim,
) -> (Option<String>, Option<String>) {
    guard_values(
        &booking.email,
        booking.device_id.as_ref().map(|d| d.as_str()),
        claim,
    )
}

/// The guard columns of a booking with this email and device under `claim`: each holds its value
/// only when the claim asks for that uniqueness; the email guard holds the canonical address
/// ([`Email::canonical`]), so `+tag` aliases of one mailbox collide.
pub(crate) fn guard_values(
    email: &Email,
    device: Option<&str>,
    claim: appointment_core::SeatClaim,
) -> (Option<String>, Option<String>) {
    let email = claim.unique_email.then(|| email.canonical().into_owned());
    let device = device.filter(|_| claim.unique_device).map(str::to_owned);
    (email, device)
}

/// The error of a seat claim that did not fit: `taken` seats were held when the store looked.
pub(crate) fn slot_full(requested: u32, capacity: u32, taken: i64) -> Error {
    let taken = u32::try_from(taken.max(0)).unwrap_or(u32::MAX);
    Error::SlotFull {
        requested,
        available: capacity.saturating_sub(taken),
    }
}

/// The status of a booking that could not be moved or ended, for [`Error::InvalidTransition`].
pub(crate) fn stored_status(raw: &str) -> Result<BookingStatus> {
    valid("bookings.status", raw.parse::<BookingStatus>())
}

/// `NotFound(Booking)`.
pub(crate) fn booking_not_found() -> Error {
    Error::NotFound(Entity::Booking)
}

/// The claim that a stored idempotency record stands for.
pub(crate) fn idempotency_state(
    request_hash: String,
    status: Option<i64>,
    body: Option<String>,
) -> Result<IdempotencyClaim> {
    Ok(match status {
        None => IdempotencyClaim::InProgress { request_hash },
        Some(s) => IdempotencyClaim::Completed {
            request_hash,
            status: u16::try_from(s).map_err(|_| corrupt("idempotency_keys.status", s))?,
            body: body.unwrap_or_default(),
        },
    })
}

/// The original model's window columns: the span of the weekly hours (a whole day when closed
/// every weekday), with 24:00 kept as the last second of the day.
pub(crate) fn window_columns(s: &Schedule) -> (NaiveTime, NaiveTime) {
    let last_second = NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN);
    s.hours_span().map_or((NaiveTime::MIN, last_second), |w| {
        (w.start_time(), w.end_time().unwrap_or(last_second))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(kind: std::io::ErrorKind) -> sqlx::Error {
        sqlx::Error::Io(std::io::Error::from(kind))
    }

    #[test]
    fn lost_connections_and_pool_timeouts_are_unavailable() {
        for err in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            io(std::io::ErrorKind::ConnectionRefused),
            io(std::io::ErrorKind::ConnectionReset),
        ] {
            let mapped = db_error(err);
            assert!(matches!(mapped, Error::Unavailable(_)), "{mapped:?}");
        }
        let other = db_error(sqlx::Error::RowNotFound);
        assert!(matches!(other, Error::Storage(_)), "{other:?}");
    }

    /// A connection lost while committing may have committed: not "unavailable" (which
    /// promises nothing was applied, so a retry is safe) but a storage failure.
    #[cfg(feature = "postgres")]
    #[test]
    fn a_connection_lost_while_committing_is_not_a_safe_retry() {
        let mapped = commit_error(io(std::io::ErrorKind::ConnectionReset));
        assert!(matches!(mapped, Error::Storage(_)), "{mapped:?}");
        assert!(!mapped.is_transient());
    }

    #[test]
    fn unique_violations_map_to_their_rule() {
        assert_eq!(
            duplicate_kind(
                None,
                "UNIQUE constraint failed: bookings.appointment_id, bookings.guard_email"
            ),
            Duplicate::BookingEmail
        );
        assert_eq!(
            duplicate_kind(Some("bookings_guard_device_key"), "duplicate key value"),
            Duplicate::BookingDevice
        );
        assert_eq!(
            duplicate_kind(None, "UNIQUE constraint failed: users.email"),
            Duplicate::UserEmail
        );
        assert_eq!(
            duplicate_kind(Some("users_phone_key"), ""),
            Duplicate::UserPhone
        );
        assert_eq!(
            duplicate_kind(None, "UNIQUE constraint failed: bans.owner_id, bans.email"),
            Duplicate::Ban
        );
        assert_eq!(
            duplicate_kind(Some("bookings_code_key"), ""),
            Duplicate::Code
        );
        assert_eq!(
            duplicate_kind(None, "UNIQUE constraint failed: appointments.code"),
            Duplicate::Code
        );
    }
}

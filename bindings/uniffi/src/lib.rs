//! Kotlin and Swift bindings of Appointment Master (uniffi proc-macros, library mode).
//!
//! The engine embedded in an app: [`Scheduler`] opens a store from a URL and exposes the booking
//! flow as blocking calls (run them off the UI thread); [`AsyncScheduler`] has the same methods
//! as `suspend` functions in Kotlin and `async` ones in Swift, each run as a task of the engine's
//! tokio runtime (one definition of each method, `scheduler_methods!`, exports both; cancelling
//! a call is explained on [`AsyncScheduler`]). Values cross as records: instants as
//! timestamps (`java.time.Instant`, `Date`), dates as `YYYY-MM-DD` and wall-clock times as `HH:MM`
//! strings, opening hours as windows `HH:MM-HH:MM` and weekly hours in their text form
//! (`mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00`). Every engine error becomes one case of [`AppointmentError`]
//! (`AppointmentException.SlotFull`, … in Kotlin). Tests and simulations pin the engine's time
//! with a [`ManualClock`] ([`Scheduler::open_with_clock`]). The crate only translates; the rules
//! are the engine's.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use appointment_core::chrono::{
    DateTime, NaiveDate, NaiveTime, SubsecRound, TimeDelta, Utc, Weekday,
};
use appointment_core::{
    self as core, AntiScalping, AppCode, AppointmentKind, AppointmentStatus, AttendeeCount, Booker,
    BookingCode, BookingUpdate, DeviceId, Email, EventCursor, HoldToken, Name, NewAppointment,
    NewBooking, NewHold, NewUser, NewWaitlistEntry, Page, Phone, ResourceName, Schedule, SlotQuery,
    TimeWindow, TimeZoneName, UserId, WaitlistCode, Weekdays, WeeklyHours,
};
use appointment_store::ServiceStore;
use tokio::runtime::Runtime;

uniffi::setup_scaffolding!();

/// Every error the engine reports, one case per kind.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum AppointmentError {
    /// The slot (or party) has fewer seats left than were asked for.
    #[error("{detail}")]
    SlotFull {
        /// Seats asked for.
        requested: u32,
        /// Seats left.
        available: u32,
        /// The engine's message.
        detail: String,
    },
    /// The thing named does not exist.
    #[error("{detail}")]
    NotFound {
        /// `appointment`, `booking`, `user`, `ban`, `hold` or `waitlist entry`.
        entity: String,
        /// The engine's message.
        detail: String,
    },
    /// A unique rule was broken (e.g. a second active booking for one email, a second place on
    /// an appointment's waiting list for one email).
    #[error("{detail}")]
    Duplicate {
        /// Which rule (`active booking for this email`, `place on the waiting list for this
        /// email`, …).
        what: String,
        /// The engine's message.
        detail: String,
    },
    /// The appointment's owner has banned this email.
    #[error("{detail}")]
    Banned {
        /// The engine's message.
        detail: String,
    },
    /// The appointment takes bookings of registered users only (strict anti-scalping).
    #[error("{detail}")]
    RegistrationRequired {
        /// The engine's message.
        detail: String,
    },
    /// The appointment takes bookings of users with a verified email address (strict
    /// anti-scalping where the engine requires verified addresses).
    #[error("{detail}")]
    EmailNotVerified {
        /// The engine's message.
        detail: String,
    },
    /// The caller may not do this.
    #[error("{detail}")]
    Forbidden {
        /// The engine's message.
        detail: String,
    },
    /// An input is not acceptable; nothing was changed.
    #[error("{detail}")]
    InvalidInput {
        /// The input's name as the Kotlin (and Swift) API names it: the method's parameter or the
        /// record's field (`timeZone`, `slotMinutes`, `start`, `code`, `seats`, …).
        field: String,
        /// Why it was refused.
        reason: String,
        /// The engine's message.
        detail: String,
    },
    /// The booking's status does not allow this.
    #[error("{detail}")]
    InvalidTransition {
        /// The booking's status.
        status: String,
        /// What was attempted.
        action: String,
        /// The engine's message.
        detail: String,
    },
    /// Too late for this change: a guest past the appointment's cancellation cut-off, or
    /// anyone moving a booking whose slot has started. Nothing was changed.
    #[error("{detail}")]
    TooLate {
        /// What was attempted (`cancel`, `reschedule`).
        action: String,
        /// The last instant at which it was allowed.
        deadline: SystemTime,
        /// The engine's message.
        detail: String,
    },
    /// Too early for this change: a booking is marked completed or no-show only once its slot
    /// has started. Nothing was changed.
    #[error("{detail}")]
    TooEarly {
        /// What was attempted (`complete`, `mark no-show`).
        action: String,
        /// The first instant at which it is allowed (the slot's start).
        from: SystemTime,
        /// The engine's message.
        detail: String,
    },
    /// The hold no longer keeps its seats: it expired, was released or was booked. Nothing was
    /// changed.
    #[error("{detail}")]
    HoldEnded {
        /// What became of the hold: `expired`, `released` or `booked`.
        status: String,
        /// The engine's message.
        detail: String,
    },
    /// The appointment changed since it was read: an edit, close or reopen given `if_revision`
    /// found it at another revision. Nothing was changed; read it again and decide anew.
    #[error("{detail}")]
    Changed {
        /// What changed: `appointment`.
        entity: String,
        /// The engine's message.
        detail: String,
    },
    /// The store failed for a reason of its own.
    #[error("{detail}")]
    Storage {
        /// The engine's message with the store's cause.
        detail: String,
    },
    /// The store cannot be reached right now (database down or restarting); retrying later may
    /// succeed.
    #[error("{detail}")]
    Unavailable {
        /// The engine's message with the store's cause.
        detail: String,
    },
}

impl From<core::Error> for AppointmentError {
    /// The engine's error, an input it names named as Kotlin names it (see `ARGUMENTS`).
    fn from(err: core::Error) -> Self {
        in_kotlin_terms(err, None)
    }
}

impl AppointmentError {
    /// The case of the engine's error, its fields as the engine gives them.
    fn translate(err: core::Error) -> Self {
        let detail = err.to_string();
        match err {
            core::Error::SlotFull {
                requested,
                available,
            } => AppointmentError::SlotFull {
                requested,
                available,
                detail,
            },
            core::Error::NotFound(entity) => AppointmentError::NotFound {
                entity: entity.to_string(),
                detail,
            },
            core::Error::Duplicate(what) => AppointmentError::Duplicate {
                what: what.to_string(),
                detail,
            },
            core::Error::Banned => AppointmentError::Banned { detail },
            core::Error::RegistrationRequired => AppointmentError::RegistrationRequired { detail },
            core::Error::EmailNotVerified => AppointmentError::EmailNotVerified { detail },
            core::Error::Forbidden(_) => AppointmentError::Forbidden { detail },
            core::Error::InvalidInput { field, reason } => AppointmentError::InvalidInput {
                field: field.to_owned(),
                reason,
                detail,
            },
            core::Error::InvalidTransition { from, action } => {
                AppointmentError::InvalidTransition {
                    status: from.as_str().to_owned(),
                    action: action.to_owned(),
                    detail,
                }
            }
            core::Error::TooLate { action, deadline } => AppointmentError::TooLate {
                action: action.to_owned(),
                deadline: deadline.into(),
                detail,
            },
            core::Error::TooEarly { action, from } => AppointmentError::TooEarly {
                action: action.to_owned(),
                from: from.into(),
                detail,
            },
            core::Error::HoldEnded { status } => AppointmentError::HoldEnded {
                status: status.as_str().to_owned(),
                detail,
            },
            core::Error::Changed(entity) => AppointmentError::Changed {
                entity: entity.to_string(),
                detail,
            },
            core::Error::Storage(source) => AppointmentError::Storage {
                detail: format!("{detail}: {source}"),
            },
            core::Error::Unavailable(source) => AppointmentError::Unavailable {
                detail: format!("{detail}: {source}"),
            },
            other => AppointmentError::Storage {
                detail: other.to_string(),
            },
        }
    }
}

type Result<T, E = AppointmentError> = std::result::Result<T, E>;

// `AppointmentInput.hold_minutes` writes the engine's default hold length out as a literal.
const _: () = assert!(core::DEFAULT_HOLD_MINUTES == 10);
// The methods' default page size (`per_page = 20`) is the engine's.
const _: () = assert!(Page::DEFAULT_PER_PAGE == 20);

/// `InvalidInput` for an argument the bindings refuse themselves, `field` being its Kotlin (and
/// Swift) name.
fn invalid(field: &'static str, reason: impl Into<String>) -> AppointmentError {
    let reason = reason.into();
    AppointmentError::InvalidInput {
        detail: format!("invalid {field}: {reason}"),
        field: field.to_owned(),
        reason,
    }
}

/// Kotlin's (and Swift's) name for an input the engine names otherwise: the engine uses the REST
/// API's names (`timezone`, `type`, `booking_duration`, …) in snake case. Where `only_in` lists
/// methods (by their Rust names), the entry holds in those methods only; an empty list means
/// every method.
struct Argument {
    engine: &'static str,
    kotlin: &'static str,
    only_in: &'static [&'static str],
    /// Words of the engine's reason that name its inputs, and Kotlin's words for them.
    reason_words: &'static [(&'static str, &'static str)],
}

const fn everywhere(engine: &'static str, kotlin: &'static str) -> Argument {
    Argument {
        engine,
        kotlin,
        only_in: &[],
        reason_words: &[],
    }
}

/// The one table of input names that differ between the engine and the Kotlin API beyond the
/// case: an engine name not listed is the Kotlin name in camel case (`hold_minutes` is
/// `holdMinutes`, `attendee_count` is `attendeeCount`, `email` is `email`).
const ARGUMENTS: &[Argument] = &[
    everywhere("timezone", "timeZone"),
    everywhere("type", "kind"),
    everywhere("anti_scalping_level", "antiScalping"),
    everywhere("booking_duration", "slotMinutes"),
    everywhere("max_attendees", "capacity"),
    // Every method names the appointment's, the booking's or the place's code `code`.
    everywhere("app_code", "code"),
    everywhere("booking_code", "code"),
    everywhere("waitlist_code", "code"),
    // A slot is named by its start: `book`, `hold`, `slot`, `reschedule`, `joinWaitlist`, ….
    everywhere("start_time", "start"),
    everywhere("device_token", "deviceId"),
    everywhere("database_url", "url"),
    Argument {
        engine: "end_date",
        kotlin: "endDate",
        only_in: &[],
        reason_words: &[("start_date", "startDate")],
    },
    // `hold(code, start, seats)`, `joinWaitlist(code, start, name, email, seats)`: the engine
    // counts those seats as an attendee count.
    Argument {
        engine: "attendee_count",
        kotlin: "seats",
        only_in: &["hold", "join_waitlist"],
        reason_words: &[],
    },
    // `holdByToken(token)`, `releaseHold(token)`; `book(…, holdToken)` keeps its name.
    Argument {
        engine: "hold_token",
        kotlin: "token",
        only_in: &["hold_by_token", "release_hold"],
        reason_words: &[],
    },
];

// The table renames each name once: an engine name is listed at most once for every method and
// once for all of them. Checked when compiling.
const _: () = {
    let mut i = 0;
    while i < ARGUMENTS.len() {
        let mut j = 0;
        while j < ARGUMENTS.len() {
            let (a, b) = (&ARGUMENTS[i], &ARGUMENTS[j]);
            assert!(
                i == j || !same(a.engine, b.engine) || !share_scope(a.only_in, b.only_in),
                "an engine name is listed twice for one method"
            );
            j += 1;
        }
        i += 1;
    }
};

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut k = 0;
    while k < a.len() {
        if a[k] != b[k] {
            return false;
        }
        k += 1;
    }
    true
}

/// Whether two entries' `only_in` lists hold for a common method (both empty: every method).
const fn share_scope(a: &[&str], b: &[&str]) -> bool {
    if a.is_empty() || b.is_empty() {
        return a.is_empty() && b.is_empty();
    }
    let mut i = 0;
    while i < a.len() {
        let mut j = 0;
        while j < b.len() {
            if same(a[i], b[j]) {
                return true;
            }
            j += 1;
        }
        i += 1;
    }
    false
}

/// `snake_case` as `camelCase`.
fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` with every whole-word `word` replaced by `by`.
fn replace_word(text: &str, word: &str, by: &str) -> String {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + word.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(is_word) || after.is_some_and(is_word) {
            out.push_str(word);
        } else {
            out.push_str(by);
        }
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// The engine's error as the Kotlin and Swift APIs name things, as seen from `method` (`None`:
/// the entries that hold in every method): an input it names is named as the argument (or
/// record field) the caller gave, in `field` and in the message (see `ARGUMENTS`).
fn in_kotlin_terms(err: core::Error, method: Option<&str>) -> AppointmentError {
    let core::Error::InvalidInput { field, reason } = err else {
        return AppointmentError::translate(err);
    };
    let applies = |a: &&Argument| {
        a.engine == field
            && match method {
                Some(m) => a.only_in.contains(&m),
                None => a.only_in.is_empty(),
            }
    };
    let entry = ARGUMENTS.iter().find(applies).or_else(|| {
        ARGUMENTS
            .iter()
            .find(|a| a.engine == field && a.only_in.is_empty())
    });
    match entry {
        Some(arg) => {
            let reason = arg.reason_words.iter().fold(reason, |r, (engine, kotlin)| {
                replace_word(&r, engine, kotlin)
            });
            invalid(arg.kotlin, reason)
        }
        None => {
            let field = camel(field);
            AppointmentError::InvalidInput {
                detail: format!("invalid {field}: {reason}"),
                field,
                reason,
            }
        }
    }
}

/// For a method whose arguments the engine names otherwise than in the rest of the API (`hold`,
/// `hold_by_token`, `release_hold`, `join_waitlist`): its engine errors named as its own
/// arguments.
fn in_method(method: &'static str) -> impl Fn(core::Error) -> AppointmentError + Send + Copy {
    move |err| in_kotlin_terms(err, Some(method))
}

/// The process's runtime for the engine.
fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("appointment-master")
            .build()
            .expect("the engine's tokio runtime could not start")
    })
}

/// Opens the store a URL names, applying pending migrations: `memory:`, `sqlite:…` (e.g.
/// `sqlite://path/to/file.db`) or `postgres://…`.
async fn open_store(url: &str) -> core::Result<Arc<dyn ServiceStore>> {
    appointment_store::connect(url).await
}

fn to_utc(t: SystemTime) -> DateTime<Utc> {
    DateTime::<Utc>::from(t)
}

fn date(field: &'static str, raw: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| invalid(field, "must be a date YYYY-MM-DD"))
}

fn time(field: &'static str, raw: &str) -> Result<NaiveTime> {
    let raw = raw.trim();
    NaiveTime::parse_from_str(raw, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(raw, "%H:%M:%S"))
        .map_err(|_| invalid(field, "must be a time HH:MM"))
}

/// An engine error, re-labelled with the input the caller gave.
fn as_field(field: &'static str, err: core::Error) -> AppointmentError {
    match err {
        core::Error::InvalidInput { reason, .. } => invalid(field, reason),
        other => other.into(),
    }
}

fn windows(field: &'static str, raw: &[String]) -> Result<Vec<TimeWindow>> {
    raw.iter()
        .map(|w| w.parse::<TimeWindow>().map_err(|e| as_field(field, e)))
        .collect()
}

const WEEK: [(Weekday, &str); 7] = [
    (Weekday::Mon, "mon"),
    (Weekday::Tue, "tue"),
    (Weekday::Wed, "wed"),
    (Weekday::Thu, "thu"),
    (Weekday::Fri, "fri"),
    (Weekday::Sat, "sat"),
    (Weekday::Sun, "sun"),
];

fn slot_page(paged: core::Paged<core::AvailableSlot>) -> SlotPage {
    SlotPage {
        page: paged.page,
        per_page: paged.per_page,
        total: paged.total,
        total_pages: paged.total_pages,
        items: paged.items.into_iter().map(Slot::from).collect(),
    }
}

/// A page of bookings as of `now` (see [`Booking::at`]).
fn booking_page(paged: core::Paged<core::Booking>, now: DateTime<Utc>) -> BookingPage {
    BookingPage {
        page: paged.page,
        per_page: paged.per_page,
        total: paged.total,
        total_pages: paged.total_pages,
        items: paged
            .items
            .into_iter()
            .map(|b| Booking::at(b, now))
            .collect(),
    }
}

/// Converts engine bookings as of the engine's clock at this moment, so that a pending booking
/// past its deadline reads `expired` (see [`Booking::at`]).
fn as_of_now(s: &Engine) -> impl Fn(core::Booking) -> Booking + use<> {
    let now = s.now();
    move |b| Booking::at(b, now)
}

/// A user id given as the argument `arg` (`ownerId`, `userId`).
fn user_id(arg: &'static str, raw: &str) -> Result<UserId> {
    uuid::Uuid::parse_str(raw.trim())
        .map(UserId)
        .map_err(|_| invalid(arg, "is not a valid user id"))
}

/// A registered user.
#[derive(Debug, Clone, uniffi::Record)]
pub struct User {
    /// Primary key (a UUID string).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Email, lower-cased.
    pub email: String,
    /// Phone, normalised.
    pub phone: Option<String>,
    /// When the account was created.
    pub created_at: SystemTime,
    /// When the user proved they receive mail at `email` (`verifyEmail`), or `null`.
    pub email_verified_at: Option<SystemTime>,
}

impl From<core::User> for User {
    fn from(u: core::User) -> Self {
        User {
            id: u.id.to_string(),
            name: u.name.to_string(),
            email: u.email.to_string(),
            phone: u.phone.map(|p| p.to_string()),
            created_at: u.created_at.into(),
            email_verified_at: u.email_verified_at.map(Into::into),
        }
    }
}

/// What a new appointment is: its schedule, capacity and policies.
#[derive(Debug, Clone, uniffi::Record)]
pub struct AppointmentInput {
    /// Title, 1 to 200 characters.
    pub title: String,
    /// First date, `YYYY-MM-DD`.
    pub start_date: String,
    /// Last date (inclusive), `YYYY-MM-DD`.
    pub end_date: String,
    /// Start of the daily window, `HH:MM` wall-clock time in `time_zone`; required unless
    /// `weekly_hours` is given.
    #[uniffi(default = None)]
    pub start_time: Option<String>,
    /// End of the daily window, `HH:MM`; required unless `weekly_hours` is given.
    #[uniffi(default = None)]
    pub end_time: Option<String>,
    /// Slot length in minutes.
    pub slot_minutes: u32,
    /// `single`, `group` or `party`.
    #[uniffi(default = "single")]
    pub kind: String,
    /// Seats per slot (required for group and party).
    #[uniffi(default = None)]
    pub capacity: Option<u32>,
    /// Free text.
    #[uniffi(default = "")]
    pub description: String,
    /// `none` (the default, as over REST), `standard` or `strict`.
    #[uniffi(default = "none")]
    pub anti_scalping: String,
    /// IANA time zone of the window.
    #[uniffi(default = "UTC")]
    pub time_zone: String,
    /// Weekdays with slots (`mon` … `sun`); empty means every day.
    #[uniffi(default = [])]
    pub weekdays: Vec<String>,
    /// Minutes between slots.
    #[uniffi(default = 0)]
    pub buffer_minutes: u32,
    /// Minimum notice before a slot, in minutes.
    #[uniffi(default = 0)]
    pub min_notice_minutes: u32,
    /// How many days ahead slots can be booked, if limited.
    #[uniffi(default = None)]
    pub horizon_days: Option<u32>,
    /// The cancellation cut-off in minutes (at most a year): guests may cancel or reschedule a
    /// booking only until this long before its slot starts (0: until the start). The owner is
    /// not bound by it.
    #[uniffi(default = 0)]
    pub cancel_cutoff_minutes: u32,
    /// How long a hold of seats (`Scheduler.hold`) lasts, in minutes: 1 to 120.
    #[uniffi(default = 10)]
    pub hold_minutes: u32,
    /// Approval: with a number of minutes (1 to 43200, not with a `resource`), every booking
    /// starts `pending` and holds its seats until the owner confirms (`confirm`) or declines
    /// (`decline`) it, for at most that long and never past the slot's start; then it expires
    /// and its seats are free. `null` (the default): bookings are active at once.
    #[uniffi(default = None)]
    pub confirm_within_minutes: Option<u32>,
    /// The hours of a typical week instead of `start_time` and `end_time`, in wall-clock time in
    /// `time_zone`: `;`-separated entries of days (`mon`, `mon-fri`, `sat,sun`) and their
    /// windows, e.g. `mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00`. Days not named are
    /// closed.
    #[uniffi(default = None)]
    pub weekly_hours: Option<String>,
    /// Dates whose hours differ from their weekday's (at most 1000).
    #[uniffi(default = [])]
    pub overrides: Vec<DateOverride>,
    /// Closed date ranges: holidays, vacations (at most 1000).
    #[uniffi(default = [])]
    pub closures: Vec<Closure>,
    /// A shared resource (a chair, a room, a person: 1 to 100 characters, case does not matter):
    /// the owner's appointments that name it never hold overlapping bookings, buffers included.
    #[uniffi(default = None)]
    pub resource: Option<String>,
}

/// A date whose hours differ from its weekday's.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DateOverride {
    /// The local date, `YYYY-MM-DD`.
    pub date: String,
    /// Its windows, `HH:MM-HH:MM` (`24:00` may end one); empty closes the date.
    pub hours: Vec<String>,
}

/// Local dates with no slots at all: a holiday, a vacation.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Closure {
    /// First closed date, `YYYY-MM-DD`.
    pub first: String,
    /// Last closed date (inclusive), `YYYY-MM-DD`.
    pub last: String,
    /// What it is (e.g. `Summer holidays`), at most 200 characters.
    #[uniffi(default = None)]
    pub label: Option<String>,
}

impl AppointmentInput {
    /// The engine's schedule: one daily window or weekly hours, with overrides and closures.
    fn schedule(&self) -> Result<Schedule> {
        let start_date = date("startDate", &self.start_date)?;
        let end_date = date("endDate", &self.end_date)?;
        let builder = match (&self.weekly_hours, &self.start_time, &self.end_time) {
            (Some(week), None, None) => {
                Schedule::weekly(start_date, end_date, weekly_hours(week)?, self.slot_minutes)
            }
            (Some(_), _, _) => {
                return Err(invalid(
                    "weeklyHours",
                    "give either weeklyHours or startTime and endTime, not both",
                ));
            }
            (None, Some(start), Some(end)) => Schedule::builder(
                start_date,
                end_date,
                time("startTime", start)?,
                time("endTime", end)?,
                self.slot_minutes,
            ),
            (None, start, _) => {
                let missing = if start.is_none() {
                    "startTime"
                } else {
                    "endTime"
                };
                return Err(invalid(
                    missing,
                    "is required (or give weeklyHours instead)",
                ));
            }
        };
        let overrides = overrides(&self.overrides)?;
        let closures = closures(&self.closures)?;
        let weekdays = if self.weekdays.is_empty() {
            Weekdays::ALL
        } else {
            self.weekdays.join(",").parse()?
        };
        Ok(builder
            .overrides(overrides)
            .closures(closures)
            .time_zone(TimeZoneName::parse(&self.time_zone)?)
            .weekdays(weekdays)
            .buffer_minutes(self.buffer_minutes)
            .min_notice_minutes(self.min_notice_minutes)
            .cancel_cutoff_minutes(self.cancel_cutoff_minutes)
            .hold_minutes(self.hold_minutes)
            .confirm_within_minutes(self.confirm_within_minutes)
            .horizon_days(self.horizon_days)
            .build()?)
    }
}

fn weekly_hours(raw: &str) -> Result<WeeklyHours> {
    raw.parse::<WeeklyHours>()
        .map_err(|e| as_field("weeklyHours", e))
}

fn overrides(raw: &[DateOverride]) -> Result<Vec<(NaiveDate, Vec<TimeWindow>)>> {
    raw.iter()
        .map(|o| Ok((date("overrides", &o.date)?, windows("overrides", &o.hours)?)))
        .collect()
}

fn closures(raw: &[Closure]) -> Result<Vec<core::Closure>> {
    raw.iter()
        .map(|c| {
            core::Closure::new(
                date("closures", &c.first)?,
                date("closures", &c.last)?,
                c.label.clone(),
            )
            .map_err(|e| as_field("closures", e))
        })
        .collect()
}

/// An owner's changes to an appointment: every field left `null` stays as it is. Kind, capacity,
/// anti-scalping policy, dates and slot length are fixed (a new one of those is a new
/// appointment).
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct AppointmentChanges {
    /// New title (1 to 200 characters).
    #[uniffi(default = None)]
    pub title: Option<String>,
    /// New description.
    #[uniffi(default = None)]
    pub description: Option<String>,
    /// New weekly hours, in the text form of `AppointmentInput.weekly_hours`.
    #[uniffi(default = None)]
    pub weekly_hours: Option<String>,
    /// New date overrides, replacing all of them (an empty list removes them all).
    #[uniffi(default = None)]
    pub overrides: Option<Vec<DateOverride>>,
    /// New closures, replacing all of them (an empty list removes them all).
    #[uniffi(default = None)]
    pub closures: Option<Vec<Closure>>,
    /// New buffer between slots, in minutes.
    #[uniffi(default = None)]
    pub buffer_minutes: Option<u32>,
    /// New minimum notice, in minutes.
    #[uniffi(default = None)]
    pub min_notice_minutes: Option<u32>,
    /// New cancellation cut-off, in minutes; it applies to the bookings already made too.
    #[uniffi(default = None)]
    pub cancel_cutoff_minutes: Option<u32>,
    /// New hold length, in minutes (1 to 120); holds already taken keep their expiry.
    #[uniffi(default = None)]
    pub hold_minutes: Option<u32>,
    /// Turns approval on, or changes its window, for the bookings made from now on (see
    /// `AppointmentInput.confirm_within_minutes`).
    #[uniffi(default = None)]
    pub confirm_within_minutes: Option<u32>,
    /// Turns approval off (not with `confirm_within_minutes`): bookings made from now on are
    /// active at once; those already pending keep their deadline and still need a decision.
    #[uniffi(default = false)]
    pub remove_approval: bool,
    /// New horizon in days.
    #[uniffi(default = None)]
    pub horizon_days: Option<u32>,
    /// Removes the horizon (not with `horizon_days`).
    #[uniffi(default = false)]
    pub remove_horizon: bool,
    /// `true` closes the appointment (no slots listed, no bookings taken; existing bookings
    /// stay), `false` reopens it.
    #[uniffi(default = None)]
    pub closed: Option<bool>,
    /// Puts the appointment on a shared resource (see `AppointmentInput.resource`).
    #[uniffi(default = None)]
    pub resource: Option<String>,
    /// Takes the appointment off its resource (not with `resource`); bookings already made keep
    /// the time they hold.
    #[uniffi(default = false)]
    pub remove_resource: bool,
    /// Apply the changes only if the appointment is still at this revision (its
    /// `Appointment.revision` when it was read); otherwise throw `Changed` and change nothing.
    /// `null` applies them to whatever is current.
    #[uniffi(default = None)]
    pub if_revision: Option<u64>,
}

impl AppointmentChanges {
    /// The engine's changes.
    fn to_core(&self) -> Result<core::AppointmentChanges> {
        let horizon_days = match (self.horizon_days, self.remove_horizon) {
            (Some(_), true) => {
                return Err(invalid(
                    "horizonDays",
                    "give either horizonDays or removeHorizon, not both",
                ));
            }
            (Some(days), false) => Some(Some(days)),
            (None, true) => Some(None),
            (None, false) => None,
        };
        let resource = match (&self.resource, self.remove_resource) {
            (Some(_), true) => {
                return Err(invalid(
                    "resource",
                    "give either resource or removeResource, not both",
                ));
            }
            (Some(name), false) => Some(Some(ResourceName::parse(name)?)),
            (None, true) => Some(None),
            (None, false) => None,
        };
        let confirm_within_minutes = match (self.confirm_within_minutes, self.remove_approval) {
            (Some(_), true) => {
                return Err(invalid(
                    "confirmWithinMinutes",
                    "give either confirmWithinMinutes or removeApproval, not both",
                ));
            }
            (Some(minutes), false) => Some(Some(minutes)),
            (None, true) => Some(None),
            (None, false) => None,
        };
        Ok(core::AppointmentChanges {
            title: self.title.clone(),
            description: self.description.clone(),
            weekly_hours: self.weekly_hours.as_deref().map(weekly_hours).transpose()?,
            overrides: self.overrides.as_deref().map(overrides).transpose()?,
            closures: self.closures.as_deref().map(closures).transpose()?,
            buffer_minutes: self.buffer_minutes,
            min_notice_minutes: self.min_notice_minutes,
            cancel_cutoff_minutes: self.cancel_cutoff_minutes,
            hold_minutes: self.hold_minutes,
            confirm_within_minutes,
            horizon_days,
            status: self.closed.map(|closed| {
                if closed {
                    AppointmentStatus::Closed
                } else {
                    AppointmentStatus::Active
                }
            }),
            resource,
            if_revision: self.if_revision,
        })
    }
}

/// What an edit, close or reopen did.
#[derive(Debug, Clone, uniffi::Record)]
pub struct AppointmentEdit {
    /// The appointment as it now is.
    pub appointment: Appointment,
    /// Bookings (active or pending) of slots still to come that the new hours no longer offer. An
    /// edit never cancels or moves a booking; these are for the owner to act on.
    pub bookings_outside_hours: u64,
}

impl From<core::AppointmentEdit> for AppointmentEdit {
    fn from(e: core::AppointmentEdit) -> Self {
        AppointmentEdit {
            appointment: Appointment::from(e.appointment),
            bookings_outside_hours: e.bookings_outside_hours,
        }
    }
}

/// An appointment.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Appointment {
    /// Primary key (a UUID string).
    pub id: String,
    /// Public code, `AP-…`.
    pub code: String,
    /// The owner's user id.
    pub owner_id: String,
    /// Title.
    pub title: String,
    /// Free text.
    pub description: String,
    /// `single`, `group` or `party`.
    pub kind: String,
    /// Seats per slot.
    pub capacity: u32,
    /// `none`, `standard` or `strict`.
    pub anti_scalping: String,
    /// `active` or `closed`.
    pub status: String,
    /// First date, `YYYY-MM-DD`.
    pub start_date: String,
    /// Last date, `YYYY-MM-DD`.
    pub end_date: String,
    /// Start of the daily window, `HH:MM`.
    pub start_time: String,
    /// End of the daily window, `HH:MM`.
    pub end_time: String,
    /// Slot length in minutes.
    pub slot_minutes: u32,
    /// Minutes between slots.
    pub buffer_minutes: u32,
    /// IANA time zone.
    pub time_zone: String,
    /// Weekdays with slots.
    pub weekdays: Vec<String>,
    /// Minimum notice in minutes.
    pub min_notice_minutes: u32,
    /// Booking horizon in days, if any.
    pub horizon_days: Option<u32>,
    /// The cancellation cut-off in minutes (see `AppointmentInput.cancel_cutoff_minutes`).
    pub cancel_cutoff_minutes: u32,
    /// How long a hold of seats lasts, in minutes.
    pub hold_minutes: u32,
    /// Approval: how many minutes the owner has to confirm a booking (`null`: bookings are
    /// active at once). See `AppointmentInput.confirm_within_minutes`.
    pub confirm_within_minutes: Option<u32>,
    /// The hours of a typical week in the text form `AppointmentInput.weekly_hours` accepts, e.g.
    /// `mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00` (`closed` if none).
    pub weekly_hours: String,
    /// The same hours by day: all seven days (`mon` … `sun`), each with its windows (empty when
    /// closed).
    pub weekly_hours_by_day: HashMap<String, Vec<String>>,
    /// Dates whose hours differ from their weekday's, in date order.
    pub overrides: Vec<DateOverride>,
    /// Closed date ranges, in date order.
    pub closures: Vec<Closure>,
    /// The shared resource its bookings occupy, if any.
    pub resource: Option<String>,
    /// When it was created.
    pub created_at: SystemTime,
    /// When it was last edited, closed or reopened (`created_at` until then).
    pub updated_at: SystemTime,
    /// 0 when created; every edit, close and reopen moves it on by one. Give it back as
    /// `AppointmentChanges.if_revision` (or `if_revision` of a close or reopen) to apply a
    /// change only to the appointment as it was read.
    pub revision: u64,
}

impl From<core::Appointment> for Appointment {
    fn from(a: core::Appointment) -> Self {
        let s = &a.schedule;
        let span = s.hours_span();
        Appointment {
            id: a.id.to_string(),
            code: a.code.to_string(),
            owner_id: a.owner.to_string(),
            title: a.title.clone(),
            description: a.description.clone(),
            kind: a.kind.as_str().to_owned(),
            capacity: a.capacity,
            anti_scalping: a.anti_scalping.as_str().to_owned(),
            status: a.status.as_str().to_owned(),
            start_date: s.start_date().to_string(),
            end_date: s.end_date().to_string(),
            start_time: span.map_or_else(
                || "00:00".into(),
                |w| w.start_time().format("%H:%M").to_string(),
            ),
            end_time: span
                .and_then(|w| w.end_time())
                .map_or_else(|| "24:00".into(), |t| t.format("%H:%M").to_string()),
            slot_minutes: s.slot_minutes(),
            buffer_minutes: s.buffer_minutes(),
            time_zone: s.time_zone().name().to_owned(),
            weekdays: s
                .weekdays()
                .names()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            min_notice_minutes: s.min_notice_minutes(),
            horizon_days: s.horizon_days(),
            cancel_cutoff_minutes: s.cancel_cutoff_minutes(),
            hold_minutes: s.hold_minutes(),
            confirm_within_minutes: s.confirm_within_minutes(),
            weekly_hours: s.weekly_hours().to_string(),
            weekly_hours_by_day: WEEK
                .iter()
                .map(|(day, name)| {
                    let windows = s.weekly_hours().day(*day);
                    (
                        (*name).to_owned(),
                        windows.iter().map(ToString::to_string).collect(),
                    )
                })
                .collect(),
            overrides: s
                .overrides()
                .map(|(date, windows)| DateOverride {
                    date: date.to_string(),
                    hours: windows.iter().map(ToString::to_string).collect(),
                })
                .collect(),
            closures: s
                .closures()
                .iter()
                .map(|c| Closure {
                    first: c.first().to_string(),
                    last: c.last().to_string(),
                    label: c.label().map(str::to_owned),
                })
                .collect(),
            resource: a.resource.as_ref().map(ToString::to_string),
            created_at: a.created_at.into(),
            updated_at: a.updated_at.into(),
            revision: a.revision,
        }
    }
}

/// A slot with its seats.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Slot {
    /// First instant of the slot.
    pub start: SystemTime,
    /// First instant after the slot.
    pub end: SystemTime,
    /// Local date of the start in the appointment's zone, `YYYY-MM-DD`.
    pub local_date: String,
    /// Seats in all.
    pub capacity: u32,
    /// Seats held by active bookings, pending bookings still in time and live holds.
    pub seats_taken: u32,
    /// Seats still free.
    pub seats_left: u32,
}

impl From<core::AvailableSlot> for Slot {
    fn from(s: core::AvailableSlot) -> Self {
        Slot {
            start: s.slot.start.into(),
            end: s.slot.end.into(),
            local_date: s.local_date.to_string(),
            capacity: s.capacity,
            seats_taken: s.seats_taken,
            seats_left: s.seats_left,
        }
    }
}

/// One page of slots.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SlotPage {
    /// The slots on this page.
    pub items: Vec<Slot>,
    /// The page number (from 1).
    pub page: u32,
    /// The page size.
    pub per_page: u32,
    /// Slots in all.
    pub total: u64,
    /// Pages in all.
    pub total_pages: u64,
}

/// One page of appointments.
#[derive(Debug, Clone, uniffi::Record)]
pub struct AppointmentPage {
    /// The appointments on this page.
    pub items: Vec<Appointment>,
    /// The page number (from 1).
    pub page: u32,
    /// The page size.
    pub per_page: u32,
    /// Appointments in all.
    pub total: u64,
    /// Pages in all.
    pub total_pages: u64,
}

/// One page of bookings.
#[derive(Debug, Clone, uniffi::Record)]
pub struct BookingPage {
    /// The bookings on this page.
    pub items: Vec<Booking>,
    /// The page number (from 1).
    pub page: u32,
    /// The page size.
    pub per_page: u32,
    /// Bookings in all.
    pub total: u64,
    /// Pages in all.
    pub total_pages: u64,
}

/// A booking.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Booking {
    /// Primary key (a UUID string).
    pub id: String,
    /// Public code, `BK-…`.
    pub code: String,
    /// The appointment's code.
    pub app_code: String,
    /// The registered user who booked, if any.
    pub user_id: Option<String>,
    /// Booker's name.
    pub name: String,
    /// Booker's email.
    pub email: String,
    /// Booker's phone.
    pub phone: Option<String>,
    /// Start of the booked slot.
    pub slot_start: SystemTime,
    /// End of the booked slot.
    pub slot_end: SystemTime,
    /// Seats held.
    pub attendee_count: u32,
    /// Its status as of the engine's clock when it was read: `active`, `pending` (waiting for
    /// the owner's confirmation until `confirm_by`), `declined`, `expired` (pending past
    /// `confirm_by`: its seats are free), `cancelled`, `rejected`, `completed` or `no_show`.
    pub status: String,
    /// While pending: when it expires unless the owner confirms it (at the latest the slot's
    /// start). `null` otherwise.
    pub confirm_by: Option<SystemTime>,
    /// Free text from the booker.
    pub description: String,
    /// The verified device, if any.
    pub device_id: Option<String>,
    /// When it was made.
    pub created_at: SystemTime,
    /// When it last changed.
    pub updated_at: SystemTime,
}

impl Booking {
    /// The booking as of `now` (the engine's clock): a pending booking whose `confirm_by` has
    /// passed reads `expired`, and `confirm_by` is kept only while it is pending.
    fn at(b: core::Booking, now: DateTime<Utc>) -> Self {
        let status = b.status_at(now);
        Booking {
            id: b.id.to_string(),
            code: b.code.to_string(),
            app_code: b.app_code.to_string(),
            user_id: b.user_id.map(|u| u.to_string()),
            name: b.name.to_string(),
            email: b.email.to_string(),
            phone: b.phone.map(|p| p.to_string()),
            slot_start: b.slot_start.into(),
            slot_end: b.slot_end.into(),
            attendee_count: b.attendee_count.get(),
            status: status.as_str().to_owned(),
            confirm_by: b
                .confirm_by
                .filter(|_| status == core::BookingStatus::Pending)
                .map(SystemTime::from),
            description: b.description,
            device_id: b.device_id.map(|d| d.to_string()),
            created_at: b.created_at.into(),
            updated_at: b.updated_at.into(),
        }
    }
}

/// Seats of one slot kept for a short time for whoever holds the token (see `Scheduler.hold`).
#[derive(Debug, Clone, uniffi::Record)]
pub struct Hold {
    /// Primary key (a UUID string): how events name the hold (`Event.holdId`), which never carry
    /// its token.
    pub id: String,
    /// The token, `HD-…`, that books (`holdToken` of `book`) or releases the hold; whoever has
    /// it can, so keep it like a booking code.
    pub token: String,
    /// The appointment's code.
    pub app_code: String,
    /// Start of the slot.
    pub slot_start: SystemTime,
    /// End of the slot.
    pub slot_end: SystemTime,
    /// Seats held.
    pub seats: u32,
    /// `held`, `released`, `expired` (its seats went back to the slot) or `booked`.
    pub status: String,
    /// When the seats go back to the slot unless the hold is booked or released first.
    pub expires_at: SystemTime,
    /// The id of the booking it became, once booked.
    pub booking_id: Option<String>,
    /// When it was taken.
    pub created_at: SystemTime,
    /// When its status last changed (as stored: an expiry nobody wrote yet does not move it).
    pub updated_at: SystemTime,
}

impl From<core::Hold> for Hold {
    fn from(h: core::Hold) -> Self {
        Hold {
            id: h.id.to_string(),
            token: h.token.to_string(),
            app_code: h.app_code.to_string(),
            slot_start: h.slot_start.into(),
            slot_end: h.slot_end.into(),
            seats: h.seats.get(),
            status: h.status.as_str().to_owned(),
            expires_at: h.expires_at.into(),
            booking_id: h.booking_id.map(|b| b.to_string()),
            created_at: h.created_at.into(),
            updated_at: h.updated_at.into(),
        }
    }
}

/// A place on a slot's waiting list (see `Scheduler.joinWaitlist`), as of the engine's clock
/// when it was read.
#[derive(Debug, Clone, uniffi::Record)]
pub struct WaitlistPlace {
    /// The code, `WL-…`, that shows the place (`waitlistPlace`) or leaves the list
    /// (`leaveWaitlist`); keep it like a booking code.
    pub code: String,
    /// The appointment's code.
    pub app_code: String,
    /// Start of the slot.
    pub slot_start: SystemTime,
    /// End of the slot.
    pub slot_end: SystemTime,
    /// Seats wanted.
    pub seats: u32,
    /// Who waits.
    pub name: String,
    /// Their email.
    pub email: String,
    /// `waiting`, `offered` (book `offer` with `book(…, holdToken = offer.token)` before
    /// `offer.expiresAt`), `booked`, `expired` (the offer ran out and went to the next in line)
    /// or `left`.
    pub status: String,
    /// 1 for the next in line; 0 once it no longer waits.
    pub position: u64,
    /// The hold of the seats offered to this place, once offered (its own `status` says whether
    /// it still keeps them); `null` while it waits.
    pub offer: Option<Hold>,
    /// When it joined.
    pub created_at: SystemTime,
    /// When its stored status last changed.
    pub updated_at: SystemTime,
}

impl From<core::WaitlistPlace> for WaitlistPlace {
    fn from(p: core::WaitlistPlace) -> Self {
        let e = p.entry;
        WaitlistPlace {
            code: e.code.to_string(),
            app_code: e.app_code.to_string(),
            slot_start: e.slot_start.into(),
            slot_end: e.slot_end.into(),
            seats: e.seats.get(),
            name: e.name.to_string(),
            email: e.email.to_string(),
            status: p.status.as_str().to_owned(),
            position: p.position,
            offer: p.offer.map(Hold::from),
            created_at: e.created_at.into(),
            updated_at: e.updated_at.into(),
        }
    }
}

/// One entry of the outbox (see `Scheduler.events`): what happened to an appointment, a booking,
/// a hold or a place on a waiting list, with that thing as the change left it. The fields of
/// other kinds of thing are `null`; a hold's token never appears.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Event {
    /// The event's id (a UUID string): unique and stable, the same wherever it is delivered.
    pub id: String,
    /// What happened, `entity.verb`: `appointment.created`, `booking.confirmed`,
    /// `hold.released`, `waitlist.offered`, … (the REST API's and webhooks' `type`).
    #[uniffi(name = "type")]
    pub kind: String,
    /// The version of the event's shape (new fields do not raise it).
    pub version: u32,
    /// When it happened, on the engine's clock.
    pub at: SystemTime,
    /// Its place in the outbox, `TX.SEQ`: `events(after = cursor)` goes on after it.
    pub cursor: String,
    /// The owner of the appointment it happened on.
    pub owner_id: String,
    /// The appointment's id.
    pub appointment_id: String,
    /// The appointment's code.
    pub app_code: String,
    /// The thing's status after the change (an appointment's, a booking's, a hold's or a
    /// place's).
    pub status: String,
    /// Appointment events: its revision after the change.
    pub revision: Option<u64>,
    /// Booking events: the booking's id; hold events: the booking the hold became, once booked.
    pub booking_id: Option<String>,
    /// Booking events: the booking's code.
    pub booking_code: Option<String>,
    /// Hold events: the hold's id (`Hold.id`); waiting-list events: the hold of the offer.
    pub hold_id: Option<String>,
    /// Waiting-list events: the place's code.
    pub waitlist_code: Option<String>,
    /// Booking, hold and waiting-list events: the start of the slot.
    pub slot_start: Option<SystemTime>,
    /// Booking, hold and waiting-list events: the end of the slot.
    pub slot_end: Option<SystemTime>,
    /// Booking, hold and waiting-list events: the seats booked, held or wanted.
    pub seats: Option<u32>,
    /// Booking and waiting-list events: the booker's (or the waiting person's) name.
    pub name: Option<String>,
    /// Booking and waiting-list events: their email.
    pub email: Option<String>,
    /// Booking events of an appointment with approval: the booking's deadline for the owner's
    /// confirmation (kept once decided, as the engine keeps it).
    pub confirm_by: Option<SystemTime>,
    /// Hold events: when the hold runs out.
    pub expires_at: Option<SystemTime>,
}

impl From<core::Event> for Event {
    fn from(e: core::Event) -> Self {
        let f = e.subject.fields();
        let instant = |t: Option<DateTime<Utc>>| t.map(SystemTime::from);
        Event {
            id: e.id.to_string(),
            kind: e.kind.as_str().to_owned(),
            version: core::EVENT_VERSION,
            at: e.at.into(),
            cursor: e.cursor.to_string(),
            owner_id: e.owner.to_string(),
            appointment_id: e.appointment_id.to_string(),
            app_code: e.app_code.to_string(),
            status: f.status.to_owned(),
            revision: f.revision,
            booking_id: f.booking_id.map(|b| b.to_string()),
            booking_code: f.booking_code.map(|c| c.to_string()),
            hold_id: f.hold_id.map(|h| h.to_string()),
            waitlist_code: f.waitlist_code.map(|c| c.to_string()),
            slot_start: instant(f.slot_start),
            slot_end: instant(f.slot_end),
            seats: f.seats.map(|n| n.get()),
            name: f.name.map(|n| n.to_string()),
            email: f.email.map(|m| m.to_string()),
            confirm_by: instant(f.confirm_by),
            expires_at: instant(f.expires_at),
        }
    }
}

/// One read of the outbox: the events after a cursor, oldest first, and the cursor to read on
/// from.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EventPage {
    /// The events, oldest first.
    pub events: Vec<Event>,
    /// The cursor to read on from: the last event's, or the one asked from when there was none.
    /// Keep it and give it back as `events(after = …)`.
    pub next: String,
}

impl EventPage {
    /// The page of `events` read after `after`.
    fn new(events: Vec<core::Event>, after: EventCursor) -> Self {
        let next = events.last().map_or(after, |e| e.cursor).to_string();
        EventPage {
            events: events.into_iter().map(Event::from).collect(),
            next,
        }
    }
}

/// Who books and what they give.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum BookerInput {
    /// A guest, with their details.
    Guest {
        /// Name.
        name: String,
        /// Email.
        email: String,
        /// Phone, if given.
        #[uniffi(default = None)]
        phone: Option<String>,
    },
    /// A registered user (details from the profile).
    User {
        /// The user's id.
        user_id: String,
    },
}

/// An entry of an owner's ban list.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Ban {
    /// Primary key.
    pub id: String,
    /// The owner's user id.
    pub owner_id: String,
    /// The banned email.
    pub email: String,
    /// When it was added.
    pub created_at: SystemTime,
}

impl From<core::Ban> for Ban {
    fn from(b: core::Ban) -> Self {
        Ban {
            id: b.id.to_string(),
            owner_id: b.owner.to_string(),
            email: b.email.to_string(),
            created_at: b.created_at.into(),
        }
    }
}

/// An owner's figures over a date range.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Analytics {
    /// First date, `YYYY-MM-DD`.
    pub start_date: String,
    /// Last date, `YYYY-MM-DD`.
    pub end_date: String,
    /// Appointments created in the range.
    pub appointments_created: u64,
    /// Bookings that hold seats: confirmed, or needing no confirmation.
    pub active_bookings: u64,
    /// Bookings waiting for the owner's confirmation (and still in time for it).
    pub pending_bookings: u64,
    /// Pending bookings the owner declined.
    pub declined_bookings: u64,
    /// Pending bookings nobody confirmed in time.
    pub expired_bookings: u64,
    /// Bookings cancelled by their holders (or by the owner).
    pub cancelled_bookings: u64,
    /// Bookings rejected by the owner.
    pub rejected_bookings: u64,
    /// Bookings the owner marked as attended.
    pub completed_bookings: u64,
    /// Bookings the owner marked as not attended.
    pub no_show_bookings: u64,
    /// `no_show_bookings / (completed_bookings + no_show_bookings)`, or `null` when no booking
    /// was marked.
    pub no_show_rate: Option<f64>,
    /// All bookings.
    pub total_bookings: u64,
    /// Seats of the bookings not called off: active, completed and no-show.
    pub seats_booked: u64,
    /// Seats held by pending bookings, waiting for the owner's confirmation.
    pub seats_pending: u64,
    /// Seats kept by holds live when the figures were counted (waiting-list offers included).
    pub seats_held: u64,
    /// Seats offered by the slots in the range.
    pub seats_offered: u64,
}

impl From<core::Analytics> for Analytics {
    fn from(a: core::Analytics) -> Self {
        Analytics {
            start_date: a.start_date.to_string(),
            end_date: a.end_date.to_string(),
            appointments_created: a.appointments_created,
            active_bookings: a.bookings.active,
            pending_bookings: a.bookings.pending,
            declined_bookings: a.bookings.declined,
            expired_bookings: a.bookings.expired,
            cancelled_bookings: a.bookings.cancelled,
            rejected_bookings: a.bookings.rejected,
            completed_bookings: a.bookings.completed,
            no_show_bookings: a.bookings.no_show,
            no_show_rate: a.no_show_rate(),
            total_bookings: a.total_bookings(),
            seats_booked: a.bookings.seats_booked,
            seats_pending: a.bookings.seats_pending,
            seats_held: a.bookings.seats_held,
            seats_offered: a.seats_offered,
        }
    }
}

/// A move to the slot starting at `start`, with optional new seats and text.
fn booking_update(
    start: SystemTime,
    attendee_count: Option<u32>,
    description: Option<String>,
) -> Result<BookingUpdate> {
    Ok(BookingUpdate {
        slot_start: to_utc(start),
        attendee_count: attendee_count.map(AttendeeCount::new).transpose()?,
        description,
    })
}

/// A clock that stands still until moved, **for tests and simulations**: give it to
/// `Scheduler.openWithClock(url, clock)` and the engine reads "now" from it (bookable slots,
/// cancellation cut-offs, the start of a slot, creation and change times). An app opens its
/// scheduler with `Scheduler.open`, on the system's clock.
#[derive(Debug, uniffi::Object)]
pub struct ManualClock {
    clock: Arc<core::ManualClock>,
    /// Serialises `set` and `advance`, so an advance never adds to a stale time.
    moves: Mutex<()>,
}

/// An instant the clock may show, from 1970 to the end of 9999 (UTC), to the microsecond (the
/// precision every store keeps).
fn clock_instant(field: &'static str, at: SystemTime) -> Result<DateTime<Utc>> {
    let out_of_range = || invalid(field, "must be between 1970-01-01 and 9999-12-31 (UTC)");
    let since_epoch = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_err(|_| out_of_range())?;
    let secs = i64::try_from(since_epoch.as_secs()).map_err(|_| out_of_range())?;
    let last = NaiveDate::from_ymd_opt(10000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc());
    match (
        DateTime::from_timestamp(secs, since_epoch.subsec_nanos()),
        last,
    ) {
        (Some(t), Some(last)) if t < last => Ok(t.trunc_subsecs(6)),
        _ => Err(out_of_range()),
    }
}

#[uniffi::export]
impl ManualClock {
    /// A clock showing `now`.
    #[uniffi::constructor]
    pub fn new(now: SystemTime) -> Result<Arc<Self>> {
        Ok(Arc::new(ManualClock {
            clock: Arc::new(core::ManualClock::new(clock_instant("now", now)?)),
            moves: Mutex::new(()),
        }))
    }

    /// The instant the clock shows.
    pub fn now(&self) -> SystemTime {
        core::Clock::now(&*self.clock).into()
    }

    /// Sets the clock to `now` (earlier or later).
    pub fn set(&self, now: SystemTime) -> Result<()> {
        let at = clock_instant("now", now)?;
        let _moving = self.moves.lock().unwrap_or_else(|p| p.into_inner());
        self.clock.set(at);
        Ok(())
    }

    /// Moves the clock forward by `by` (`set` moves it back).
    pub fn advance(&self, by: Duration) -> Result<()> {
        let _moving = self.moves.lock().unwrap_or_else(|p| p.into_inner());
        let at = TimeDelta::from_std(by)
            .ok()
            .and_then(|by| core::Clock::now(&*self.clock).checked_add_signed(by))
            .ok_or_else(|| invalid("by", "moves the clock out of range"))?;
        self.clock.set(clock_instant("by", at.into())?);
        Ok(())
    }
}

/// The engine over one store, shared by [`Scheduler`] and [`AsyncScheduler`].
type Engine = core::Scheduler<dyn ServiceStore>;

/// One call's work for the engine, its arguments already checked and converted: a future the
/// blocking [`Scheduler`] blocks on and the [`AsyncScheduler`] runs as a task of the runtime.
type Call<T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'static>>;

/// The call `f` makes on (a handle of) `engine`, its engine error translated.
fn call<T, F>(engine: &Engine, f: impl FnOnce(Engine) -> F) -> Call<T>
where
    F: Future<Output = core::Result<T>> + Send + 'static,
{
    let fut = f(engine.clone());
    Box::pin(async move { fut.await.map_err(AppointmentError::from) })
}

/// The call `f` makes on `engine`, its engine error named as `method`'s own arguments (see
/// `in_method`).
fn call_in<T, F>(method: &'static str, engine: &Engine, f: impl FnOnce(Engine) -> F) -> Call<T>
where
    F: Future<Output = core::Result<T>> + Send + 'static,
{
    let fut = f(engine.clone());
    Box::pin(async move { fut.await.map_err(in_method(method)) })
}

/// Runs a call on the engine's runtime, blocking the calling thread until it answers.
fn block<T>(call: Call<T>) -> Result<T> {
    runtime().block_on(call)
}

/// Runs a call as a task of the engine's runtime and awaits it. Dropping the returned future (a
/// Kotlin coroutine or Swift task cancelled mid-call) aborts the task: it stops at its next
/// await point, and a transaction it had open is rolled back (see [`AsyncScheduler`]).
fn spawn<T: Send + 'static>(call: Call<T>) -> EngineTask<T> {
    EngineTask(runtime().spawn(call))
}

/// A call running on the engine's runtime; aborted when dropped.
struct EngineTask<T>(tokio::task::JoinHandle<Result<T>>);

impl<T> Future for EngineTask<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        match Pin::new(&mut self.0).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(answer)) => Poll::Ready(answer),
            // The task panicked: the panic goes on to the caller, as a blocking call's would
            // (uniffi turns it into an `InternalException` / a Swift error).
            Poll::Ready(Err(err)) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            // Only `Drop` aborts the task, and then nobody polls it any more.
            Poll::Ready(Err(err)) => Poll::Ready(Err(AppointmentError::Storage {
                detail: format!("the engine's task ended early: {err}"),
            })),
        }
    }
}

impl<T> Drop for EngineTask<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Changes `owner_id`'s appointment: the call behind `update_appointment`,
/// `close_appointment` and `reopen_appointment`.
fn update_call(
    engine: &Engine,
    owner_id: &str,
    code: &str,
    changes: &AppointmentChanges,
) -> Result<Call<AppointmentEdit>> {
    let owner = user_id("ownerId", owner_id)?;
    let code = AppCode::parse(code)?;
    let changes = changes.to_core()?;
    Ok(call(engine, |s| async move {
        s.update_appointment(owner, &code, changes)
            .await
            .map(AppointmentEdit::from)
    }))
}

/// The booking engine over one store. Thread-safe; every call blocks until the engine answers
/// (run them off the UI thread, or use [`AsyncScheduler`]).
#[derive(uniffi::Object)]
pub struct Scheduler {
    inner: Engine,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler").finish_non_exhaustive()
    }
}

/// The booking engine over one store with `suspend` calls in Kotlin and `async` ones in Swift:
/// the same methods as [`Scheduler`], each running as a task of the engine's tokio runtime, so
/// no caller's thread waits on the store.
///
/// Cancelling a call (a Kotlin coroutine cancelled or timed out, a Swift task cancelled) drops
/// its Rust future and aborts the engine's task, which stops at its next await point. Every
/// change the engine makes is one store transaction, so a cancelled write has either committed
/// completely or not at all: never part of a booking, never seats taken without their booking.
/// Which of the two is not known to the cancelled caller (the commit may have happened just
/// before the cancel arrived): read the state again (`booking`, `slot`, `appointmentBookings`)
/// to know. Reads have no effect to undo.
#[derive(uniffi::Object)]
pub struct AsyncScheduler {
    inner: Engine,
}

impl std::fmt::Debug for AsyncScheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncScheduler").finish_non_exhaustive()
    }
}

#[uniffi::export]
impl Scheduler {
    /// Opens a scheduler on the store `url` names: `memory:`, `sqlite://path/to/file.db` or
    /// `postgres://…` (pending migrations are applied).
    #[uniffi::constructor]
    pub fn open(url: String) -> Result<Arc<Self>> {
        let inner = block(open_engine(url, None))?;
        Ok(Arc::new(Scheduler { inner }))
    }

    /// Opens a scheduler as [`Scheduler::open`] does, reading the time from `clock` instead of
    /// the system's clock. **For tests and simulations**: an app uses `open`.
    #[uniffi::constructor]
    pub fn open_with_clock(url: String, clock: Arc<ManualClock>) -> Result<Arc<Self>> {
        let inner = block(open_engine(url, Some(clock.clock.clone())))?;
        Ok(Arc::new(Scheduler { inner }))
    }

    /// The same engine and store, requiring under strict anti-scalping that the booking
    /// user's address is verified (`verifyEmail`; `AppointmentException.EmailNotVerified`
    /// otherwise) when `required`.
    pub fn with_verified_email_required(&self, required: bool) -> Arc<Scheduler> {
        Arc::new(Scheduler {
            inner: self.inner.clone().with_verified_email_required(required),
        })
    }

    /// The same engine and store with `suspend` (Kotlin) / `async` (Swift) calls.
    pub fn as_async(&self) -> Arc<AsyncScheduler> {
        Arc::new(AsyncScheduler {
            inner: self.inner.clone(),
        })
    }
}

#[uniffi::export]
impl AsyncScheduler {
    /// Opens a scheduler on the store `url` names, as `Scheduler.open` does: `memory:`,
    /// `sqlite://path/to/file.db` or `postgres://…` (pending migrations are applied).
    #[uniffi::constructor]
    pub async fn open(url: String) -> Result<Arc<Self>> {
        let inner = spawn(open_engine(url, None)).await?;
        Ok(Arc::new(AsyncScheduler { inner }))
    }

    /// Opens a scheduler as `open` does, reading the time from `clock` instead of the system's
    /// clock. **For tests and simulations**: an app uses `open`.
    #[uniffi::constructor]
    pub async fn open_with_clock(url: String, clock: Arc<ManualClock>) -> Result<Arc<Self>> {
        let inner = spawn(open_engine(url, Some(clock.clock.clone()))).await?;
        Ok(Arc::new(AsyncScheduler { inner }))
    }

    /// The same engine and store, requiring verified addresses under strict anti-scalping
    /// when `required` (as `Scheduler.withVerifiedEmailRequired`).
    pub fn with_verified_email_required(&self, required: bool) -> Arc<AsyncScheduler> {
        Arc::new(AsyncScheduler {
            inner: self.inner.clone().with_verified_email_required(required),
        })
    }

    /// The same engine and store with blocking calls.
    pub fn blocking(&self) -> Arc<Scheduler> {
        Arc::new(Scheduler {
            inner: self.inner.clone(),
        })
    }
}

/// Opens the engine over the store `url` names, on `clock` if given.
fn open_engine(url: String, clock: Option<Arc<core::ManualClock>>) -> Call<Engine> {
    Box::pin(async move {
        let engine = core::Scheduler::from_arc(open_store(&url).await?);
        Ok(match clock {
            Some(clock) => engine.with_clock(clock),
            None => engine,
        })
    })
}

/// Defines every engine method once and exports it twice: blocking on [`Scheduler`], `async`
/// on [`AsyncScheduler`]. A method's body checks and converts its arguments (returning early
/// with `?`) and evaluates to the [`Call`] that does the engine's work.
macro_rules! scheduler_methods {
    ($(
        $(#[$attr:meta])*
        pub fn $name:ident(&$this:ident $(, $arg:ident: $ty:ty)* $(,)?) -> $out:ty $body:block
    )*) => {
        #[uniffi::export]
        impl Scheduler {
            $(
                $(#[$attr])*
                pub fn $name(&$this $(, $arg: $ty)*) -> Result<$out> {
                    let work: Call<$out> = $body;
                    block(work)
                }
            )*
        }

        #[uniffi::export]
        impl AsyncScheduler {
            $(
                $(#[$attr])*
                pub async fn $name(&$this $(, $arg: $ty)*) -> Result<$out> {
                    let work: Call<$out> = $body;
                    spawn(work).await
                }
            )*
        }
    };
}

scheduler_methods! {
    /// Registers a user account.
    #[uniffi::method(default(phone = None, password_hash = ""))]
    pub fn register_user(
        &self,
        name: String,
        email: String,
        phone: Option<String>,
        password_hash: String,
    ) -> User {
        let new = NewUser {
            name: Name::parse(&name)?,
            email: Email::parse(&email)?,
            phone: phone.as_deref().map(Phone::parse).transpose()?,
            password_hash,
        };
        call(&self.inner, |s| async move { s.register_user(new).await.map(User::from) })
    }

    /// The user registered with `email` (case does not matter), or `null`: an app started
    /// again against the same database finds the user it registered the first time.
    pub fn user_by_email(&self, email: String) -> Option<User> {
        let email = Email::parse(&email)?;
        call(&self.inner, |s| async move {
            Ok(s.user_by_email(&email).await?.map(User::from))
        })
    }

    /// Records that the user proved they receive mail at `email` (the app checked the proof,
    /// e.g. a link it mailed) and answers the user with `emailVerifiedAt` (the first time is
    /// kept). `InvalidInput` (`email`) if the account has another address.
    pub fn verify_email(&self, user_id: String, email: String) -> User {
        let id = self::user_id("userId", &user_id)?;
        let email = Email::parse(&email)?;
        call(&self.inner, |s| async move { s.verify_email(id, &email).await.map(User::from) })
    }

    /// A user by id.
    pub fn user(&self, user_id: String) -> User {
        let id = self::user_id("userId", &user_id)?;
        call(&self.inner, |s| async move { s.user(id).await.map(User::from) })
    }

    /// Creates an appointment owned by `owner_id`.
    pub fn create_appointment(&self, owner_id: String, input: AppointmentInput) -> Appointment {
        let owner = user_id("ownerId", &owner_id)?;
        let schedule = input.schedule()?;
        let new = NewAppointment {
            title: input.title,
            description: input.description,
            kind: input.kind.parse::<AppointmentKind>()?,
            capacity: input.capacity,
            anti_scalping: input.anti_scalping.parse::<AntiScalping>()?,
            schedule,
            resource: input
                .resource
                .as_deref()
                .map(ResourceName::parse)
                .transpose()?,
        };
        call(&self.inner, |s| async move {
            s.create_appointment(owner, new).await.map(Appointment::from)
        })
    }

    /// An appointment by code.
    pub fn appointment(&self, code: String) -> Appointment {
        let code = AppCode::parse(&code)?;
        call(&self.inner, |s| async move { s.appointment(&code).await.map(Appointment::from) })
    }

    /// The appointments `owner_id` created, newest first.
    #[uniffi::method(default(page = 1, per_page = 20))]
    pub fn my_appointments(&self, owner_id: String, page: u32, per_page: u32) -> AppointmentPage {
        let owner = user_id("ownerId", &owner_id)?;
        let p = Page::new(page, per_page)?;
        call(&self.inner, |s| async move {
            let paged = s.my_appointments(owner, p).await?;
            Ok(AppointmentPage {
                page: paged.page,
                per_page: paged.per_page,
                total: paged.total,
                total_pages: paged.total_pages,
                items: paged.items.into_iter().map(Appointment::from).collect(),
            })
        })
    }

    /// Seats held by active bookings, pending bookings still in time and live holds across all of
    /// the appointment's slots.
    pub fn attendees_booked(&self, code: String) -> u64 {
        let code = AppCode::parse(&code)?;
        call(&self.inner, |s| async move {
            let app = s.appointment(&code).await?;
            s.attendees_booked(&app).await
        })
    }

    /// Applies `owner_id`'s changes to their appointment (see [`AppointmentChanges`]): checked
    /// like a new appointment, never touching a booking.
    pub fn update_appointment(
        &self,
        owner_id: String,
        code: String,
        changes: AppointmentChanges,
    ) -> AppointmentEdit {
        update_call(&self.inner, &owner_id, &code, &changes)?
    }

    /// Closes `owner_id`'s appointment: no slots listed, no bookings taken; existing bookings
    /// stay as they are. With `if_revision`, only if the appointment is still at that revision
    /// (`Changed` otherwise, and nothing changes).
    #[uniffi::method(default(if_revision = None))]
    pub fn close_appointment(
        &self,
        owner_id: String,
        code: String,
        if_revision: Option<u64>,
    ) -> AppointmentEdit {
        let changes = AppointmentChanges {
            closed: Some(true),
            if_revision,
            ..AppointmentChanges::default()
        };
        update_call(&self.inner, &owner_id, &code, &changes)?
    }

    /// Reopens `owner_id`'s closed appointment. With `if_revision`, only if the appointment is
    /// still at that revision (`Changed` otherwise, and nothing changes).
    #[uniffi::method(default(if_revision = None))]
    pub fn reopen_appointment(
        &self,
        owner_id: String,
        code: String,
        if_revision: Option<u64>,
    ) -> AppointmentEdit {
        let changes = AppointmentChanges {
            closed: Some(false),
            if_revision,
            ..AppointmentChanges::default()
        };
        update_call(&self.inner, &owner_id, &code, &changes)?
    }

    /// Deletes `owner_id`'s appointment: gone from every lookup and listing; its bookings stay
    /// readable by their codes.
    pub fn delete_appointment(&self, owner_id: String, code: String) -> () {
        let owner = user_id("ownerId", &owner_id)?;
        let code = AppCode::parse(&code)?;
        call(&self.inner, |s| async move { s.delete_appointment(owner, &code).await })
    }

    /// One page of the slots that can be booked now and start in `[from, to)`, a window of at
    /// most 92 days.
    #[uniffi::method(default(page = 1, per_page = 20))]
    pub fn slots_between(
        &self,
        code: String,
        from: SystemTime,
        to: SystemTime,
        page: u32,
        per_page: u32,
    ) -> SlotPage {
        let code = AppCode::parse(&code)?;
        let p = Page::new(page, per_page)?;
        let (from, to) = (to_utc(from), to_utc(to));
        call(&self.inner, |s| async move {
            s.slots_between(&code, from, to, p).await.map(slot_page)
        })
    }

    /// One page of the slots that can be booked now, optionally of one local date
    /// (`YYYY-MM-DD`).
    #[uniffi::method(default(day = None, page = 1, per_page = 20))]
    pub fn slots(&self, code: String, day: Option<String>, page: u32, per_page: u32) -> SlotPage {
        let code = AppCode::parse(&code)?;
        let query = SlotQuery {
            day: day.as_deref().map(|d| date("day", d)).transpose()?,
            page: Page::new(page, per_page)?,
        };
        call(&self.inner, |s| async move {
            s.available_slots(&code, query).await.map(slot_page)
        })
    }

    /// Every slot that can be booked now, optionally of one local date (`YYYY-MM-DD`), in time
    /// order.
    #[uniffi::method(default(day = None))]
    pub fn all_slots(&self, code: String, day: Option<String>) -> Vec<Slot> {
        let code = AppCode::parse(&code)?;
        let day = day.as_deref().map(|d| date("day", d)).transpose()?;
        call(&self.inner, |s| async move {
            let slots = s.all_available_slots(&code, day).await?;
            Ok(slots.into_iter().map(Slot::from).collect())
        })
    }

    /// The seats of the slot starting at `start`, bookable or not.
    pub fn slot(&self, code: String, start: SystemTime) -> Slot {
        let code = AppCode::parse(&code)?;
        call(&self.inner, |s| async move {
            s.slot_seats(&code, to_utc(start)).await.map(Slot::from)
        })
    }

    /// Books seats on the slot starting at `start`. With `hold_token` (from `hold`) the booking
    /// takes over the hold's seats and cannot find the slot full; `code`, `start` and
    /// `attendee_count` must then be the hold's (`InvalidInput` on `hold_token` otherwise), and
    /// a hold that expired, was released or was booked throws `HoldEnded`.
    #[uniffi::method(default(
        attendee_count = 1,
        description = "",
        device_id = None,
        hold_token = None
    ))]
    #[allow(clippy::too_many_arguments)]
    pub fn book(
        &self,
        code: String,
        start: SystemTime,
        booker: BookerInput,
        attendee_count: u32,
        description: String,
        device_id: Option<String>,
        hold_token: Option<String>,
    ) -> Booking {
        let token = hold_token.as_deref().map(HoldToken::parse).transpose()?;
        let booker = match booker {
            BookerInput::Guest { name, email, phone } => Booker::Guest {
                name: Name::parse(&name)?,
                email: Email::parse(&email)?,
                phone: phone.as_deref().map(Phone::parse).transpose()?,
            },
            BookerInput::User { user_id } => Booker::User(self::user_id("userId", &user_id)?),
        };
        let req = NewBooking {
            app_code: AppCode::parse(&code)?,
            slot_start: to_utc(start),
            attendee_count: AttendeeCount::new(attendee_count)?,
            booker,
            description,
            device_id: device_id.as_deref().map(DeviceId::parse).transpose()?,
        };
        call(&self.inner, |s| async move {
            match token {
                Some(token) => s.book_hold(&token, req).await,
                None => s.book(req).await,
            }
            .map(as_of_now(&s))
        })
    }

    /// Holds `seats` seats of the slot starting at `start` for the appointment's `holdMinutes`,
    /// for whoever gets the hold's `token` (while a form is filled in or a payment made). The
    /// seats are taken exactly as a booking takes them (`SlotFull` if they do not fit) and are
    /// free again from `expiresAt` on, or once released. Book them with `book(…, holdToken =
    /// hold.token)`. Appointments that share a resource take no holds (`InvalidInput`).
    #[uniffi::method(default(seats = 1))]
    pub fn hold(&self, code: String, start: SystemTime, seats: u32) -> Hold {
        let req = NewHold {
            app_code: AppCode::parse(&code)?,
            slot_start: to_utc(start),
            seats: AttendeeCount::new(seats).map_err(in_method("hold"))?,
        };
        call_in("hold", &self.inner, |s| async move { s.hold(req).await.map(Hold::from) })
    }

    /// A hold by token, with its status as of now (`expired` from its `expiresAt` on).
    pub fn hold_by_token(&self, token: String) -> Hold {
        let token = HoldToken::parse(&token).map_err(in_method("hold_by_token"))?;
        call(&self.inner, |s| async move { s.hold_by_token(&token).await.map(Hold::from) })
    }

    /// Gives a hold's seats back at once. A hold already released or expired is answered as it
    /// is; a booked one throws `HoldEnded` (cancel the booking instead).
    pub fn release_hold(&self, token: String) -> Hold {
        let token = HoldToken::parse(&token).map_err(in_method("release_hold"))?;
        call(&self.inner, |s| async move { s.release_hold(&token).await.map(Hold::from) })
    }

    /// Joins the waiting list of the full slot starting at `start`, for `seats` seats. When
    /// seats of the slot free up (a cancel, a decline, a reject, a move away, a released or
    /// expired hold, an expired pending booking), the change that frees them offers them to the
    /// places in join order: each place whose seats fit gets a hold of them in its name for the
    /// appointment's `holdMinutes` (`status` `offered`, `offer` the hold), booked with
    /// `book(…, holdToken = place.offer.token)`. An offer that runs out passes to the next in
    /// line. A slot with free seats takes no places (`InvalidInput` on `seats`: book them);
    /// bans apply, and under anti-scalping one email holds one booking or one place per
    /// appointment (`Duplicate`). Appointments that share a resource have no waiting lists
    /// (`InvalidInput` on `code`).
    #[uniffi::method(default(seats = 1))]
    pub fn join_waitlist(
        &self,
        code: String,
        start: SystemTime,
        name: String,
        email: String,
        seats: u32,
    ) -> WaitlistPlace {
        let req = NewWaitlistEntry {
            app_code: AppCode::parse(&code)?,
            slot_start: to_utc(start),
            seats: AttendeeCount::new(seats).map_err(in_method("join_waitlist"))?,
            name: Name::parse(&name)?,
            email: Email::parse(&email)?,
        };
        call_in("join_waitlist", &self.inner, |s| async move {
            s.join_waitlist(req).await.map(WaitlistPlace::from)
        })
    }

    /// A place on a waiting list by its code, as of now: its status, its position while it
    /// waits, and the offer once seats were offered to it. While it waits, looking at it first
    /// hands on the seats of offers that ran out, so an expired offer reaches the next in line
    /// without anything else having to run.
    pub fn waitlist_place(&self, code: String) -> WaitlistPlace {
        let code = WaitlistCode::parse(&code)?;
        call(&self.inner, |s| async move {
            s.waitlist_place(&code).await.map(WaitlistPlace::from)
        })
    }

    /// Leaves a waiting list: a waiting place is gone from the line, and the seats of a live
    /// offer go to the next in line. A place already done (booked, expired, left) is answered
    /// as it is.
    pub fn leave_waitlist(&self, code: String) -> WaitlistPlace {
        let code = WaitlistCode::parse(&code)?;
        call(&self.inner, |s| async move {
            s.leave_waitlist(&code).await.map(WaitlistPlace::from)
        })
    }

    /// A booking by code.
    pub fn booking(&self, code: String) -> Booking {
        let code = BookingCode::parse(&code)?;
        call(&self.inner, |s| async move { s.booking(&code).await.map(as_of_now(&s)) })
    }

    /// Moves a booking to the slot starting at `start` (which may be its own slot), optionally
    /// with a new number of seats and a new description (up to 2000 characters), in one step.
    /// This is the guest's move (whoever holds the code): `TooLate` from the appointment's
    /// cancellation cut-off before the booked slot on. A pending booking stays pending, with its
    /// `confirmBy`.
    #[uniffi::method(default(attendee_count = None, description = None))]
    pub fn reschedule(
        &self,
        code: String,
        start: SystemTime,
        attendee_count: Option<u32>,
        description: Option<String>,
    ) -> Booking {
        let code = BookingCode::parse(&code)?;
        let change = booking_update(start, attendee_count, description)?;
        call(&self.inner, |s| async move {
            s.reschedule(&code, change).await.map(as_of_now(&s))
        })
    }

    /// The appointment's owner moves a booking, as `reschedule` does but not bound by the
    /// cancellation cut-off: only a booking whose slot has started can no longer be moved
    /// (`TooLate`).
    #[uniffi::method(default(attendee_count = None, description = None))]
    pub fn owner_reschedule(
        &self,
        owner_id: String,
        code: String,
        start: SystemTime,
        attendee_count: Option<u32>,
        description: Option<String>,
    ) -> Booking {
        let owner = user_id("ownerId", &owner_id)?;
        let code = BookingCode::parse(&code)?;
        let change = booking_update(start, attendee_count, description)?;
        call(&self.inner, |s| async move {
            s.owner_reschedule(owner, &code, change).await.map(as_of_now(&s))
        })
    }

    /// Cancels a booking, freeing its seats. This is the guest's cancel (whoever holds the
    /// code): `TooLate` from the appointment's cancellation cut-off before the slot on.
    pub fn cancel(&self, code: String) -> Booking {
        let code = BookingCode::parse(&code)?;
        call(&self.inner, |s| async move { s.cancel(&code).await.map(as_of_now(&s)) })
    }

    /// The appointment's owner cancels a booking whatever the cancellation policy, freeing its
    /// seats.
    pub fn owner_cancel(&self, owner_id: String, code: String) -> Booking {
        let owner = user_id("ownerId", &owner_id)?;
        let code = BookingCode::parse(&code)?;
        call(&self.inner, |s| async move {
            s.owner_cancel(owner, &code).await.map(as_of_now(&s))
        })
    }

    /// The appointment's owner rejects a booking, freeing its seats.
    pub fn reject(&self, owner_id: String, code: String) -> Booking {
        let owner = user_id("ownerId", &owner_id)?;
        let code = BookingCode::parse(&code)?;
        call(&self.inner, |s| async move { s.reject(owner, &code).await.map(as_of_now(&s)) })
    }

    /// The appointment's owner marks a booking whose slot has started as attended
    /// (`completed`), freeing its seats; `TooEarly` before the slot's start.
    pub fn complete(&self, owner_id: String, code: String) -> Booking {
        let owner = user_id("ownerId", &owner_id)?;
        let code = BookingCode::parse(&code)?;
        call(&self.inner, |s| async move { s.complete(owner, &code).await.map(as_of_now(&s)) })
    }

    /// The appointment's owner marks a booking whose slot has started as not attended
    /// (`no_show`), freeing its seats; `TooEarly` before the slot's start.
    pub fn mark_no_show(&self, owner_id: String, code: String) -> Booking {
        let owner = user_id("ownerId", &owner_id)?;
        let code = BookingCode::parse(&code)?;
        call(&self.inner, |s| async move {
            s.mark_no_show(owner, &code).await.map(as_of_now(&s))
        })
    }

    /// The appointment's owner confirms a pending booking: it becomes `active` and keeps its
    /// seats. `InvalidTransition` once it is no longer pending (`status` `expired` from its
    /// `confirmBy` on, `cancelled` if its guest cancelled first, …).
    pub fn confirm(&self, owner_id: String, code: String) -> Booking {
        let owner = user_id("ownerId", &owner_id)?;
        let code = BookingCode::parse(&code)?;
        call(&self.inner, |s| async move { s.confirm(owner, &code).await.map(as_of_now(&s)) })
    }

    /// The appointment's owner declines a pending booking (`declined`), freeing its seats.
    /// `InvalidTransition` once it is no longer pending.
    pub fn decline(&self, owner_id: String, code: String) -> Booking {
        let owner = user_id("ownerId", &owner_id)?;
        let code = BookingCode::parse(&code)?;
        call(&self.inner, |s| async move { s.decline(owner, &code).await.map(as_of_now(&s)) })
    }

    /// Marks the appointment's expired holds and pending bookings as expired now, and answers
    /// how many seats that gave back. Nothing depends on it (their seats are free from their
    /// deadline on); a sweeper may call it to keep the stored statuses tidy.
    pub fn reclaim_expired(&self, code: String) -> u64 {
        let code = AppCode::parse(&code)?;
        call(&self.inner, |s| async move { s.reclaim_expired(&code).await })
    }

    /// Reclaims, on every appointment, the holds, pending bookings and waiting-list offers that
    /// ran out (at most `limit` appointments, 1 to 1000, per call), so that their `expired`
    /// events are written without waiting for another request; answers the seats given back
    /// (0: nothing left, or another sweeper got there first). Safe from any number of processes
    /// at once: call it every few seconds from a background task. If some appointment could not
    /// be reclaimed, the others were, and its error is thrown.
    #[uniffi::method(default(limit = 100))]
    pub fn reclaim_all_expired(&self, limit: u32) -> u64 {
        call(&self.inner, |s| async move {
            let mut round = s.reclaim_all_expired(limit).await?;
            match round.failures.pop() {
                Some((_, e)) => Err(e),
                None => Ok(round.seats),
            }
        })
    }

    /// The bookings of an appointment, for its owner.
    #[uniffi::method(default(page = 1, per_page = 20))]
    pub fn appointment_bookings(
        &self,
        owner_id: String,
        code: String,
        page: u32,
        per_page: u32,
    ) -> BookingPage {
        let owner = user_id("ownerId", &owner_id)?;
        let code = AppCode::parse(&code)?;
        let p = Page::new(page, per_page)?;
        call(&self.inner, |s| async move {
            let paged = s.appointment_bookings(owner, &code, p).await?;
            Ok(booking_page(paged, s.now()))
        })
    }

    /// The bookings a registered user made.
    #[uniffi::method(default(page = 1, per_page = 20))]
    pub fn user_bookings(&self, user_id: String, page: u32, per_page: u32) -> BookingPage {
        let user = self::user_id("userId", &user_id)?;
        let p = Page::new(page, per_page)?;
        call(&self.inner, |s| async move {
            let paged = s.user_bookings(user, p).await?;
            Ok(booking_page(paged, s.now()))
        })
    }

    /// Bans an email from all of the owner's appointments.
    pub fn ban(&self, owner_id: String, email: String) -> Ban {
        let owner = user_id("ownerId", &owner_id)?;
        let email = Email::parse(&email)?;
        call(&self.inner, |s| async move { s.ban(owner, email).await.map(Ban::from) })
    }

    /// Lifts a ban.
    pub fn unban(&self, owner_id: String, email: String) -> () {
        let owner = user_id("ownerId", &owner_id)?;
        let email = Email::parse(&email)?;
        call(&self.inner, |s| async move { s.unban(owner, &email).await })
    }

    /// The owner's ban list, oldest first.
    pub fn bans(&self, owner_id: String) -> Vec<Ban> {
        let owner = user_id("ownerId", &owner_id)?;
        call(&self.inner, |s| async move {
            let bans = s.bans(owner).await?;
            Ok(bans.into_iter().map(Ban::from).collect())
        })
    }

    /// The outbox: what happened after the cursor `after` (`EventPage.next` of the previous
    /// read; `null`: from the start), oldest first, at most `limit` events (1 to 1000; 100, the
    /// REST API's default, unless given); with `ownerId`, only those of that owner's
    /// appointments. Every change of an appointment, a booking, a hold or a waiting place wrote
    /// its event together with the change. Keep `next` and read on from it: each event comes
    /// once, in order, and none is skipped.
    #[uniffi::method(default(after = None, limit = 100, owner_id = None))]
    pub fn events(&self, after: Option<String>, limit: u32, owner_id: Option<String>) -> EventPage {
        let owner = owner_id.as_deref().map(|o| user_id("ownerId", o)).transpose()?;
        let after = match after {
            Some(cursor) => cursor.parse::<EventCursor>()?,
            None => EventCursor::START,
        };
        call(&self.inner, |s| async move {
            let events = s.events(owner, after, limit).await?;
            Ok(EventPage::new(events, after))
        })
    }

    /// An owner's figures over the UTC dates `[start_date, end_date]` (`YYYY-MM-DD`).
    pub fn analytics(&self, owner_id: String, start_date: String, end_date: String) -> Analytics {
        let owner = user_id("ownerId", &owner_id)?;
        let (start, end) = (
            date("startDate", &start_date)?,
            date("endDate", &end_date)?,
        );
        call(&self.inner, |s| async move {
            s.analytics(owner, start, end).await.map(Analytics::from)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A group appointment on 2031-03-03, 09:00-12:00 UTC: hourly slots of `seats` seats.
    fn workshop(seats: u32) -> AppointmentInput {
        AppointmentInput {
            title: "Workshop".into(),
            start_date: "2031-03-03".into(),
            end_date: "2031-03-03".into(),
            start_time: Some("09:00".into()),
            end_time: Some("12:00".into()),
            slot_minutes: 60,
            kind: "group".into(),
            capacity: Some(seats),
            description: String::new(),
            anti_scalping: "none".into(),
            time_zone: "UTC".into(),
            weekdays: Vec::new(),
            buffer_minutes: 0,
            min_notice_minutes: 0,
            horizon_days: None,
            cancel_cutoff_minutes: 0,
            hold_minutes: 10,
            confirm_within_minutes: None,
            weekly_hours: None,
            overrides: Vec::new(),
            closures: Vec::new(),
            resource: None,
        }
    }

    fn guest_no(i: usize) -> BookerInput {
        BookerInput::Guest {
            name: "Bo".into(),
            email: format!("guest{i}@example.com"),
            phone: None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_async_scheduler_shares_the_store_and_races_fairly() -> Result<()> {
        let s = AsyncScheduler::open("memory:".into()).await?;
        let owner = s
            .register_user("Ada".into(), "ada@example.com".into(), None, String::new())
            .await?;
        let app = s.create_appointment(owner.id.clone(), workshop(5)).await?;
        let start = s.all_slots(app.code.clone(), None).await?[0].start;
        // The blocking view reads the same store.
        let (same, code) = (s.blocking(), app.code.clone());
        assert_eq!(
            tokio::task::spawn_blocking(move || same.appointment(code))
                .await
                .expect("the blocking read ran")?
                .title,
            "Workshop"
        );
        let mut racers = tokio::task::JoinSet::new();
        for i in 0..40 {
            let (s, code) = (s.clone(), app.code.clone());
            racers.spawn(async move {
                s.book(code, start, guest_no(i), 1, String::new(), None, None)
                    .await
            });
        }
        let (mut won, mut full) = (0, 0);
        while let Some(answer) = racers.join_next().await {
            match answer.expect("a racer ran") {
                Ok(_) => won += 1,
                Err(AppointmentError::SlotFull { .. }) => full += 1,
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!((won, full), (5, 35));
        assert_eq!(s.slot(app.code.clone(), start).await?.seats_taken, 5);
        assert!(matches!(
            s.user("nobody".into()).await,
            Err(AppointmentError::InvalidInput { field, .. }) if field == "userId"
        ));
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_call_leaves_no_partial_booking() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("am-uniffi-cancel-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let url = format!("sqlite://{}", dir.join("cancel.db").display());
        let s = AsyncScheduler::open(url).await?;
        let owner = s
            .register_user("Ada".into(), "ada@example.com".into(), None, String::new())
            .await?;
        let app = s.create_appointment(owner.id.clone(), workshop(20)).await?;
        let start = s.all_slots(app.code.clone(), None).await?[0].start;
        let mut calls = tokio::task::JoinSet::new();
        for i in 0..60 {
            let (s, code) = (s.clone(), app.code.clone());
            calls.spawn(async move {
                let booking = s.book(code, start, guest_no(i), 1, String::new(), None, None);
                if i % 2 == 0 {
                    // Dropped after 0 to 29 ms: before, during or after its transaction.
                    let limit = Duration::from_millis(u64::try_from(i / 2).unwrap_or(0));
                    tokio::time::timeout(limit, booking).await.ok()
                } else {
                    Some(booking.await)
                }
            });
        }
        let (mut returned, mut cancelled) = (Vec::new(), 0);
        while let Some(answer) = calls.join_next().await {
            match answer.expect("a call ran") {
                Some(Ok(booking)) => returned.push(booking.code),
                Some(Err(AppointmentError::SlotFull { .. })) => {}
                None => cancelled += 1,
                Some(Err(other)) => panic!("unexpected {other:?}"),
            }
        }
        let listed = s
            .appointment_bookings(owner.id, app.code.clone(), 1, 100)
            .await?;
        let active: Vec<_> = listed
            .items
            .iter()
            .filter(|b| b.status == "active")
            .collect();
        let seats = s.slot(app.code, start).await?.seats_taken;
        assert_eq!(
            seats as usize,
            active.len(),
            "seats taken are the active bookings"
        );
        assert!(active.len() <= 20);
        // The calls dropped after 0 ms at least were cancelled while their task ran.
        assert!(cancelled >= 1, "no call was cancelled");
        for code in &returned {
            assert!(
                active.iter().any(|b| &b.code == code),
                "{code} answered but not kept"
            );
        }
        std::fs::remove_dir_all(&dir).ok();
        Ok(())
    }

    #[test]
    fn books_and_maps_a_full_slot_to_its_error_case() -> Result<()> {
        let s = Scheduler::open("memory:".into())?;
        let owner = s.register_user("Ada".into(), "ada@example.com".into(), None, String::new())?;
        let app = s.create_appointment(
            owner.id,
            AppointmentInput {
                title: "Haircut".into(),
                start_date: "2031-03-03".into(),
                end_date: "2031-03-03".into(),
                start_time: Some("09:00".into()),
                end_time: Some("12:00".into()),
                slot_minutes: 60,
                kind: "single".into(),
                capacity: None,
                description: String::new(),
                anti_scalping: "standard".into(),
                time_zone: "Europe/Berlin".into(),
                weekdays: Vec::new(),
                buffer_minutes: 0,
                min_notice_minutes: 0,
                horizon_days: None,
                cancel_cutoff_minutes: 0,
                hold_minutes: 10,
                confirm_within_minutes: None,
                weekly_hours: None,
                overrides: Vec::new(),
                closures: Vec::new(),
                resource: None,
            },
        )?;
        let slots = s.slots(app.code.clone(), None, 1, 20)?;
        assert_eq!(slots.total, 3);
        let start = slots.items[0].start;
        assert_eq!(to_utc(start).to_rfc3339(), "2031-03-03T08:00:00+00:00");
        let guest = |email: &str| BookerInput::Guest {
            name: "Bo".into(),
            email: email.into(),
            phone: None,
        };
        let booking = s.book(
            app.code.clone(),
            start,
            guest("bo@example.com"),
            1,
            String::new(),
            None,
            None,
        )?;
        assert_eq!(booking.status, "active");
        assert_eq!(app.updated_at, app.created_at);
        assert_eq!(s.attendees_booked(app.code.clone())?, 1);
        let full = s.book(
            app.code,
            start,
            guest("cy@example.com"),
            1,
            String::new(),
            None,
            None,
        );
        assert!(matches!(
            full,
            Err(AppointmentError::SlotFull {
                requested: 1,
                available: 0,
                ..
            })
        ));
        Ok(())
    }

    fn instant(rfc3339: &str) -> SystemTime {
        DateTime::parse_from_rfc3339(rfc3339)
            .expect("a valid instant")
            .with_timezone(&Utc)
            .into()
    }

    #[test]
    fn the_lifecycle_on_a_pinned_clock() -> Result<()> {
        let clock = ManualClock::new(instant("2031-03-01T00:00:00Z"))?;
        let s = Scheduler::open_with_clock("memory:".into(), clock.clone())?;
        let owner = s.register_user("Ada".into(), "ada@example.com".into(), None, String::new())?;
        let app = s.create_appointment(
            owner.id.clone(),
            AppointmentInput {
                title: "Workshop".into(),
                start_date: "2031-03-03".into(),
                end_date: "2031-03-03".into(),
                start_time: Some("09:00".into()),
                end_time: Some("12:00".into()),
                slot_minutes: 60,
                kind: "group".into(),
                capacity: Some(3),
                description: String::new(),
                anti_scalping: "standard".into(),
                time_zone: "UTC".into(),
                weekdays: Vec::new(),
                buffer_minutes: 0,
                min_notice_minutes: 0,
                horizon_days: None,
                cancel_cutoff_minutes: 120,
                hold_minutes: 10,
                confirm_within_minutes: None,
                weekly_hours: None,
                overrides: Vec::new(),
                closures: Vec::new(),
                resource: None,
            },
        )?;
        assert_eq!(app.cancel_cutoff_minutes, 120);
        assert_eq!(app.created_at, instant("2031-03-01T00:00:00Z"));
        let guest = |email: &str| BookerInput::Guest {
            name: "Bo".into(),
            email: email.into(),
            phone: None,
        };
        let late = s.book(
            app.code.clone(),
            instant("2031-03-03T11:00:00Z"),
            guest("a@example.com"),
            1,
            String::new(),
            None,
            None,
        )?;
        let early = s.book(
            app.code.clone(),
            instant("2031-03-03T09:00:00Z"),
            guest("b@example.com"),
            2,
            String::new(),
            None,
            None,
        )?;

        clock.set(instant("2031-03-03T09:00:00Z"))?;
        match s.cancel(late.code.clone()) {
            Err(AppointmentError::TooLate {
                action, deadline, ..
            }) => {
                assert_eq!(action, "cancel");
                assert_eq!(deadline, instant("2031-03-03T09:00:00Z"));
            }
            other => panic!("expected TooLate, got {other:?}"),
        }
        let moved = s.owner_reschedule(
            owner.id.clone(),
            late.code.clone(),
            instant("2031-03-03T10:00:00Z"),
            None,
            None,
        )?;
        assert_eq!(moved.slot_start, instant("2031-03-03T10:00:00Z"));
        match s.mark_no_show(owner.id.clone(), late.code.clone()) {
            Err(AppointmentError::TooEarly { action, from, .. }) => {
                assert_eq!(action, "mark no-show");
                assert_eq!(from, instant("2031-03-03T10:00:00Z"));
            }
            other => panic!("expected TooEarly, got {other:?}"),
        }
        assert_eq!(
            s.complete(owner.id.clone(), early.code)?.status,
            "completed"
        );
        clock.advance(Duration::from_secs(3600))?;
        assert_eq!(
            s.mark_no_show(owner.id.clone(), late.code)?.status,
            "no_show"
        );
        assert_eq!(s.attendees_booked(app.code)?, 0);
        let stats = s.analytics(owner.id, "2031-03-03".into(), "2031-03-03".into())?;
        assert_eq!((stats.completed_bookings, stats.no_show_bookings), (1, 1));
        assert_eq!(stats.no_show_rate, Some(0.5));
        assert_eq!(stats.seats_booked, 3);
        Ok(())
    }

    #[test]
    fn pending_bookings_read_as_of_the_engines_clock() -> Result<()> {
        let clock = ManualClock::new(instant("2031-03-01T00:00:00Z"))?;
        let s = Scheduler::open_with_clock("memory:".into(), clock.clone())?;
        let owner = s.register_user("Ada".into(), "ada@example.com".into(), None, String::new())?;
        let app = s.create_appointment(
            owner.id.clone(),
            AppointmentInput {
                confirm_within_minutes: Some(60),
                ..workshop(2)
            },
        )?;
        assert_eq!(app.confirm_within_minutes, Some(60));
        let nine = instant("2031-03-03T09:00:00Z");
        let pending = s.book(
            app.code.clone(),
            nine,
            guest_no(1),
            2,
            String::new(),
            None,
            None,
        )?;
        let deadline = instant("2031-03-01T01:00:00Z");
        assert_eq!(
            (pending.status.as_str(), pending.confirm_by),
            ("pending", Some(deadline))
        );
        assert_eq!(s.slot(app.code.clone(), nine)?.seats_taken, 2);
        clock.set(deadline)?;
        let expired = s.booking(pending.code.clone())?;
        assert_eq!(
            (expired.status.as_str(), expired.confirm_by),
            ("expired", None)
        );
        let listed = s.appointment_bookings(owner.id.clone(), app.code.clone(), 1, 20)?;
        assert_eq!(listed.items[0].status, "expired");
        assert_eq!(s.slot(app.code.clone(), nine)?.seats_taken, 0);
        assert!(matches!(
            s.confirm(owner.id.clone(), pending.code.clone()),
            Err(AppointmentError::InvalidTransition { status, action, .. })
                if status == "expired" && action == "confirm"
        ));
        assert_eq!(s.reclaim_expired(app.code.clone())?, 2);
        let stats = s.analytics(owner.id.clone(), "2031-03-03".into(), "2031-03-03".into())?;
        assert_eq!((stats.expired_bookings, stats.pending_bookings), (1, 0));
        let off = s.update_appointment(
            owner.id.clone(),
            app.code.clone(),
            AppointmentChanges {
                remove_approval: true,
                ..AppointmentChanges::default()
            },
        )?;
        assert_eq!(off.appointment.confirm_within_minutes, None);
        let active = s.book(app.code, nine, guest_no(2), 1, String::new(), None, None)?;
        assert_eq!(
            (active.status.as_str(), active.confirm_by),
            ("active", None)
        );
        Ok(())
    }

    #[test]
    fn holds_on_a_pinned_clock() -> Result<()> {
        let clock = ManualClock::new(instant("2031-03-01T00:00:00Z"))?;
        let s = Scheduler::open_with_clock("memory:".into(), clock.clone())?;
        let owner = s.register_user("Ada".into(), "ada@example.com".into(), None, String::new())?;
        let input = AppointmentInput {
            title: "Workshop".into(),
            start_date: "2031-03-03".into(),
            end_date: "2031-03-03".into(),
            start_time: Some("09:00".into()),
            end_time: Some("12:00".into()),
            slot_minutes: 60,
            kind: "group".into(),
            capacity: Some(3),
            description: String::new(),
            anti_scalping: "standard".into(),
            time_zone: "UTC".into(),
            weekdays: Vec::new(),
            buffer_minutes: 0,
            min_notice_minutes: 0,
            horizon_days: None,
            cancel_cutoff_minutes: 0,
            hold_minutes: 15,
            confirm_within_minutes: None,
            weekly_hours: None,
            overrides: Vec::new(),
            closures: Vec::new(),
            resource: None,
        };
        for minutes in [0, 121] {
            let bad = AppointmentInput {
                hold_minutes: minutes,
                ..input.clone()
            };
            assert!(matches!(
                s.create_appointment(owner.id.clone(), bad),
                Err(AppointmentError::InvalidInput { field, .. }) if field == "holdMinutes"
            ));
        }
        let app = s.create_appointment(owner.id.clone(), input)?;
        assert_eq!(app.hold_minutes, 15);
        let nine = instant("2031-03-03T09:00:00Z");
        let guest = |email: &str| BookerInput::Guest {
            name: "Bo".into(),
            email: email.into(),
            phone: None,
        };
        let hold = s.hold(app.code.clone(), nine, 2)?;
        assert!(hold.token.starts_with("HD-"));
        assert_eq!((hold.status.as_str(), hold.seats), ("held", 2));
        assert_eq!(hold.expires_at, instant("2031-03-01T00:15:00Z"));
        assert_eq!(s.slot(app.code.clone(), nine)?.seats_taken, 2);
        assert!(matches!(
            s.book(
                app.code.clone(),
                nine,
                guest("a@example.com"),
                2,
                String::new(),
                None,
                None
            ),
            Err(AppointmentError::SlotFull { available: 1, .. })
        ));
        let booking = s.book(
            app.code.clone(),
            nine,
            guest("b@example.com"),
            2,
            String::new(),
            None,
            Some(hold.token.clone()),
        )?;
        assert_eq!(booking.attendee_count, 2);
        let booked = s.hold_by_token(hold.token.clone())?;
        assert_eq!(booked.status, "booked");
        assert_eq!(booked.booking_id.as_deref(), Some(booking.id.as_str()));
        assert!(matches!(
            s.release_hold(hold.token.clone()),
            Err(AppointmentError::HoldEnded { status, .. }) if status == "booked"
        ));

        let ten = instant("2031-03-03T10:00:00Z");
        let late = s.hold(app.code.clone(), ten, 3)?;
        clock.set(late.expires_at)?;
        assert_eq!(s.hold_by_token(late.token.clone())?.status, "expired");
        assert_eq!(s.slot(app.code.clone(), ten)?.seats_taken, 0);
        assert!(matches!(
            s.book(
                app.code.clone(),
                ten,
                guest("c@example.com"),
                3,
                String::new(),
                None,
                Some(late.token.clone()),
            ),
            Err(AppointmentError::HoldEnded { status, .. }) if status == "expired"
        ));
        let released = s.hold(app.code.clone(), ten, 1)?;
        assert_eq!(s.release_hold(released.token.clone())?.status, "released");
        assert_eq!(s.release_hold(released.token)?.status, "released");
        assert_eq!(s.slot(app.code.clone(), ten)?.seats_taken, 0);
        assert!(matches!(
            s.hold_by_token("HD-AAAAAAAAAAAA".into()),
            Err(AppointmentError::NotFound { entity, .. }) if entity == "hold"
        ));
        assert!(matches!(
            s.hold_by_token("BK-AAAAAAAAAAAA".into()),
            Err(AppointmentError::InvalidInput { field, .. }) if field == "token"
        ));
        let edit = s.update_appointment(
            owner.id,
            app.code,
            AppointmentChanges {
                hold_minutes: Some(120),
                ..AppointmentChanges::default()
            },
        )?;
        assert_eq!(edit.appointment.hold_minutes, 120);
        Ok(())
    }

    #[test]
    fn the_clock_stays_in_range() -> Result<()> {
        let field = |r: Result<()>| match r {
            Err(AppointmentError::InvalidInput { field, .. }) => field,
            other => panic!("expected invalid input, got {other:?}"),
        };
        assert!(matches!(
            ManualClock::new(SystemTime::UNIX_EPOCH - Duration::from_secs(1)),
            Err(AppointmentError::InvalidInput { field, .. }) if field == "now"
        ));
        let clock = ManualClock::new(instant("2031-03-03T09:00:00.123456789Z"))?;
        // To the microsecond, as every store keeps it.
        assert_eq!(clock.now(), instant("2031-03-03T09:00:00.123456Z"));
        assert_eq!(field(clock.advance(Duration::MAX)), "by");
        assert_eq!(
            field(clock.advance(Duration::from_secs(8000 * 366 * 86_400))),
            "by"
        );
        assert_eq!(field(clock.set(instant("1969-12-31T23:59:59Z"))), "now");
        assert_eq!(clock.now(), instant("2031-03-03T09:00:00.123456Z"));
        clock.set(instant("9999-12-31T23:59:59Z"))?;
        clock.advance(Duration::from_millis(999))?;
        Ok(())
    }

    #[test]
    fn engine_names_become_kotlin_names() {
        let named = |field: &'static str, reason: &str, method: Option<&str>| match in_kotlin_terms(
            core::Error::invalid(field, reason),
            method,
        ) {
            AppointmentError::InvalidInput {
                field,
                reason,
                detail,
            } => (field, reason, detail),
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(named("timezone", "x", None).0, "timeZone");
        assert_eq!(
            named("booking_duration", "x", Some("hold")).0,
            "slotMinutes"
        );
        assert_eq!(named("hold_minutes", "x", None).0, "holdMinutes");
        assert_eq!(named("attendee_count", "x", None).0, "attendeeCount");
        assert_eq!(
            named("attendee_count", "x", Some("book")).0,
            "attendeeCount"
        );
        assert_eq!(
            named("attendee_count", "x", Some("join_waitlist")).0,
            "seats"
        );
        assert_eq!(named("hold_token", "x", None).0, "holdToken");
        assert_eq!(named("hold_token", "x", Some("release_hold")).0, "token");
        assert_eq!(named("waitlist_code", "x", None).0, "code");
        assert_eq!(
            named("end_date", "must not be before start_date", None),
            (
                "endDate".to_owned(),
                "must not be before startDate".to_owned(),
                "invalid endDate: must not be before startDate".to_owned()
            )
        );
        assert!(matches!(
            AppointmentError::from(core::Error::NotFound(core::Entity::WaitlistEntry)),
            AppointmentError::NotFound { entity, .. } if entity == "waitlist entry"
        ));
    }

    #[test]
    fn bad_input_is_invalid_input() {
        let err = Scheduler::open("ftp://nowhere".into()).err();
        assert!(
            matches!(err, Some(AppointmentError::InvalidInput { field, .. }) if field == "url")
        );
        assert!(matches!(
            date("day", "03/03/2031"),
            Err(AppointmentError::InvalidInput { .. })
        ));
    }

    fn barber(weekly_hours: &str) -> AppointmentInput {
        AppointmentInput {
            title: "Barber".into(),
            start_date: "2031-03-03".into(),
            end_date: "2031-12-31".into(),
            start_time: None,
            end_time: None,
            slot_minutes: 30,
            kind: "single".into(),
            capacity: None,
            description: String::new(),
            anti_scalping: "standard".into(),
            time_zone: "Europe/Paris".into(),
            weekdays: Vec::new(),
            buffer_minutes: 0,
            min_notice_minutes: 0,
            horizon_days: None,
            cancel_cutoff_minutes: 0,
            hold_minutes: 10,
            confirm_within_minutes: None,
            weekly_hours: Some(weekly_hours.into()),
            overrides: vec![DateOverride {
                date: "2031-12-24".into(),
                hours: vec!["09:00-12:00".into()],
            }],
            closures: vec![Closure {
                first: "2031-08-04".into(),
                last: "2031-08-17".into(),
                label: Some("Summer holidays".into()),
            }],
            resource: None,
        }
    }

    #[test]
    fn weekly_hours_overrides_and_closures_cross_both_ways() -> Result<()> {
        let s = Scheduler::open("memory:".into())?;
        let owner = s.register_user("Ada".into(), "ada@example.com".into(), None, String::new())?;
        let app = s.create_appointment(
            owner.id.clone(),
            barber("mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00"),
        )?;
        assert_eq!(
            app.weekly_hours,
            "mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00"
        );
        assert_eq!(
            app.weekly_hours_by_day["tue"],
            ["09:00-12:00", "13:00-17:30"]
        );
        assert!(app.weekly_hours_by_day["sun"].is_empty());
        assert_eq!(app.weekly_hours_by_day.len(), 7);
        assert_eq!(app.overrides, barber("").overrides);
        assert_eq!(app.closures, barber("").closures);
        // A Tuesday: 6 morning slots, 9 afternoon ones, none over lunch.
        let tuesday = s.all_slots(app.code.clone(), Some("2031-03-04".into()))?;
        assert_eq!(tuesday.len(), 6 + 9);
        assert_eq!(
            s.all_slots(app.code.clone(), Some("2031-12-24".into()))?
                .len(),
            6
        );
        assert!(s.all_slots(app.code, Some("2031-08-05".into()))?.is_empty());

        let refused = |input: AppointmentInput| match s.create_appointment(owner.id.clone(), input)
        {
            Err(AppointmentError::InvalidInput { field, .. }) => field,
            other => panic!("expected invalid input, got {other:?}"),
        };
        assert_eq!(refused(barber("mon-fri 09:00-25:00")), "weeklyHours");
        let mut both = barber("mon 09:00-12:00");
        both.start_time = Some("09:00".into());
        assert_eq!(refused(both), "weeklyHours");
        let mut neither = barber("");
        neither.weekly_hours = None;
        assert_eq!(refused(neither), "startTime");
        let mut bad_override = barber("mon 09:00-12:00");
        bad_override.overrides[0].hours = vec!["noon".into()];
        assert_eq!(refused(bad_override), "overrides");
        let mut bad_closure = barber("mon 09:00-12:00");
        bad_closure.closures[0].last = "2031-08-01".into();
        assert_eq!(refused(bad_closure), "closures");
        Ok(())
    }

    #[test]
    fn an_owner_edits_closes_reopens_and_deletes() -> Result<()> {
        let s = Scheduler::open("memory:".into())?;
        let owner = s.register_user("Ada".into(), "ada@example.com".into(), None, String::new())?;
        let app = s.create_appointment(
            owner.id.clone(),
            barber("mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00"),
        )?;
        let tuesday = s.all_slots(app.code.clone(), Some("2031-03-04".into()))?;
        let guest = BookerInput::Guest {
            name: "Bo".into(),
            email: "bo@example.com".into(),
            phone: None,
        };
        // 13:00 in Paris, after lunch.
        let booking = s.book(
            app.code.clone(),
            tuesday[6].start,
            guest,
            1,
            String::new(),
            None,
            None,
        )?;

        let edit = s.update_appointment(
            owner.id.clone(),
            app.code.clone(),
            AppointmentChanges {
                weekly_hours: Some("mon-fri 09:00-12:00".into()),
                closures: Some(Vec::new()),
                horizon_days: Some(3660),
                ..AppointmentChanges::default()
            },
        )?;
        // The afternoon booking is outside the new hours, and untouched.
        assert_eq!(edit.bookings_outside_hours, 1);
        assert_eq!(s.booking(booking.code.clone())?.status, "active");
        let changed = edit.appointment;
        assert_eq!(changed.weekly_hours, "mon-fri 09:00-12:00");
        assert_eq!(changed.horizon_days, Some(3660));
        assert!(changed.closures.is_empty());
        assert_eq!(changed.overrides, app.overrides);
        assert_eq!(changed.title, "Barber");
        assert!(changed.updated_at > app.updated_at);
        assert_eq!(
            s.all_slots(app.code.clone(), Some("2031-03-04".into()))?
                .len(),
            6
        );

        let refused = |changes: AppointmentChanges| match s.update_appointment(
            owner.id.clone(),
            app.code.clone(),
            changes,
        ) {
            Err(AppointmentError::InvalidInput { field, .. }) => field,
            other => panic!("expected invalid input, got {other:?}"),
        };
        let bad_hours = AppointmentChanges {
            weekly_hours: Some("mon 9-5".into()),
            ..AppointmentChanges::default()
        };
        assert_eq!(refused(bad_hours), "weeklyHours");
        let both = AppointmentChanges {
            horizon_days: Some(10),
            remove_horizon: true,
            ..AppointmentChanges::default()
        };
        assert_eq!(refused(both), "horizonDays");
        let removed = s.update_appointment(
            owner.id.clone(),
            app.code.clone(),
            AppointmentChanges {
                remove_horizon: true,
                ..AppointmentChanges::default()
            },
        )?;
        assert_eq!(removed.appointment.horizon_days, None);
        let stranger =
            s.register_user("Eve".into(), "eve@example.com".into(), None, String::new())?;
        assert!(matches!(
            s.close_appointment(stranger.id, app.code.clone(), None),
            Err(AppointmentError::Forbidden { .. })
        ));

        let closed = s.close_appointment(owner.id.clone(), app.code.clone(), None)?;
        assert_eq!(closed.appointment.status, "closed");
        assert_eq!(s.slots(app.code.clone(), None, 1, 20)?.total, 0);
        let reopened = s.reopen_appointment(owner.id.clone(), app.code.clone(), None)?;
        assert_eq!(reopened.appointment.status, "active");

        s.delete_appointment(owner.id.clone(), app.code.clone())?;
        assert!(matches!(
            s.appointment(app.code.clone()),
            Err(AppointmentError::NotFound { .. })
        ));
        assert_eq!(s.my_appointments(owner.id, 1, 20)?.total, 0);
        assert_eq!(s.booking(booking.code)?.slot_start, tuesday[6].start);
        Ok(())
    }

    #[test]
    fn a_stale_revision_is_changed_and_changes_nothing() -> Result<()> {
        let s = Scheduler::open("memory:".into())?;
        let owner = s.register_user("Ada".into(), "ada@example.com".into(), None, String::new())?;
        let app = s.create_appointment(owner.id.clone(), barber("mon-fri 09:00-12:00"))?;
        assert_eq!(app.revision, 0);
        let titled = |title: &str, if_revision: Option<u64>| AppointmentChanges {
            title: Some(title.into()),
            if_revision,
            ..AppointmentChanges::default()
        };
        let edit =
            s.update_appointment(owner.id.clone(), app.code.clone(), titled("Seen", Some(0)))?;
        assert_eq!(
            (edit.appointment.revision, edit.appointment.title.as_str()),
            (1, "Seen")
        );
        let stale =
            s.update_appointment(owner.id.clone(), app.code.clone(), titled("Stale", Some(0)));
        assert!(
            matches!(&stale, Err(AppointmentError::Changed { entity, .. }) if entity == "appointment"),
            "{stale:?}"
        );
        assert!(matches!(
            s.close_appointment(owner.id.clone(), app.code.clone(), Some(0)),
            Err(AppointmentError::Changed { .. })
        ));
        let now = s.appointment(app.code.clone())?;
        assert_eq!(
            (now.revision, now.title.as_str(), now.status.as_str()),
            (1, "Seen", "active")
        );
        assert_eq!(now.updated_at, edit.appointment.updated_at);
        let closed = s.close_appointment(owner.id.clone(), app.code.clone(), Some(1))?;
        assert_eq!(closed.appointment.revision, 2);
        let reopened = s.reopen_appointment(owner.id, app.code, Some(2))?;
        assert_eq!(reopened.appointment.revision, 3);
        Ok(())
    }

    #[test]
    fn slots_between_a_window_of_at_most_92_days() -> Result<()> {
        let s = Scheduler::open("memory:".into())?;
        let owner = s.register_user("Ada".into(), "ada@example.com".into(), None, String::new())?;
        let app = s.create_appointment(
            owner.id,
            barber("mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00"),
        )?;
        let at = |rfc3339: &str| -> SystemTime {
            DateTime::parse_from_rfc3339(rfc3339)
                .expect("a valid instant")
                .with_timezone(&Utc)
                .into()
        };
        let monday = at("2031-03-03T00:00:00Z");
        let week = s.slots_between(app.code.clone(), monday, at("2031-03-10T00:00:00Z"), 1, 100)?;
        // Five weekdays of 15 slots and a Saturday of 8.
        assert_eq!(week.total, 5 * 15 + 8);
        assert_eq!(week.items.len(), 83);
        assert_eq!(
            to_utc(week.items[0].start).to_rfc3339(),
            "2031-03-03T08:00:00+00:00"
        );
        let page_two =
            s.slots_between(app.code.clone(), monday, at("2031-03-10T00:00:00Z"), 2, 10)?;
        assert_eq!(page_two.items[0].start, week.items[10].start);
        // The summer closure has no slots.
        let summer = s.slots_between(
            app.code.clone(),
            at("2031-08-04T00:00:00Z"),
            at("2031-08-18T00:00:00Z"),
            1,
            20,
        )?;
        assert_eq!(summer.total, 0);
        for to in [monday, at("2031-06-03T00:00:01Z")] {
            assert!(matches!(
                s.slots_between(app.code.clone(), monday, to, 1, 20),
                Err(AppointmentError::InvalidInput { field, .. }) if field == "to"
            ));
        }
        Ok(())
    }

    #[test]
    fn appointments_on_one_chair_never_overlap() -> Result<()> {
        let s = Scheduler::open("memory:".into())?;
        let owner = s.register_user("Ada".into(), "ada@example.com".into(), None, String::new())?;
        let on_chair = |title: &str, minutes: u32, resource: Option<&str>| AppointmentInput {
            title: title.into(),
            start_date: "2031-03-03".into(),
            end_date: "2031-03-03".into(),
            start_time: Some("09:00".into()),
            end_time: Some("12:00".into()),
            slot_minutes: minutes,
            kind: "single".into(),
            capacity: None,
            description: String::new(),
            anti_scalping: "none".into(),
            time_zone: "UTC".into(),
            weekdays: Vec::new(),
            buffer_minutes: 0,
            min_notice_minutes: 0,
            horizon_days: None,
            cancel_cutoff_minutes: 0,
            hold_minutes: 10,
            confirm_within_minutes: None,
            weekly_hours: None,
            overrides: Vec::new(),
            closures: Vec::new(),
            resource: resource.map(Into::into),
        };
        let haircut =
            s.create_appointment(owner.id.clone(), on_chair("Haircut", 60, Some("Chair 1")))?;
        let trim = s.create_appointment(owner.id.clone(), on_chair("Trim", 30, Some("chair 1")))?;
        assert_eq!(haircut.resource.as_deref(), Some("Chair 1"));
        assert_eq!(
            s.appointment(trim.code.clone())?.resource.as_deref(),
            Some("chair 1")
        );
        let other = s.register_user("Eve".into(), "eve@example.com".into(), None, String::new())?;
        let theirs = s.create_appointment(other.id, on_chair("Haircut", 60, Some("Chair 1")))?;

        let at = |hm: &str| -> SystemTime {
            DateTime::parse_from_rfc3339(&format!("2031-03-03T{hm}:00Z"))
                .expect("a valid instant")
                .with_timezone(&Utc)
                .into()
        };
        let times = |code: &str| -> Result<Vec<String>> {
            Ok(s.all_slots(code.into(), Some("2031-03-03".into()))?
                .iter()
                .map(|slot| to_utc(slot.start).format("%H:%M").to_string())
                .collect())
        };
        let book = |code: &str, hm: &str, email: &str| {
            let guest = BookerInput::Guest {
                name: "Bo".into(),
                email: email.into(),
                phone: None,
            };
            s.book(code.into(), at(hm), guest, 1, String::new(), None, None)
        };
        book(&haircut.code, "10:00", "a@example.com")?;
        assert_eq!(times(&trim.code)?, ["09:00", "09:30", "11:00", "11:30"]);
        assert!(matches!(
            book(&trim.code, "10:30", "b@example.com"),
            Err(AppointmentError::SlotFull { available: 0, .. })
        ));
        // Another owner's "Chair 1" is another chair.
        book(&theirs.code, "10:00", "c@example.com")?;

        let refused = |input: AppointmentInput| match s.create_appointment(owner.id.clone(), input)
        {
            Err(AppointmentError::InvalidInput { field, .. }) => field,
            other => panic!("expected invalid input, got {other:?}"),
        };
        assert_eq!(refused(on_chair("Blank", 30, Some("  "))), "resource");
        assert_eq!(
            refused(on_chair("Long", 30, Some(&"x".repeat(101)))),
            "resource"
        );
        let both = AppointmentChanges {
            resource: Some("Room".into()),
            remove_resource: true,
            ..AppointmentChanges::default()
        };
        assert!(matches!(
            s.update_appointment(owner.id.clone(), trim.code.clone(), both),
            Err(AppointmentError::InvalidInput { field, .. }) if field == "resource"
        ));

        let off = s.update_appointment(
            owner.id.clone(),
            trim.code.clone(),
            AppointmentChanges {
                remove_resource: true,
                ..AppointmentChanges::default()
            },
        )?;
        assert_eq!(off.appointment.resource, None);
        assert_eq!(times(&trim.code)?.len(), 6);
        book(&trim.code, "10:30", "b@example.com")?;
        let on = s.update_appointment(
            owner.id,
            trim.code.clone(),
            AppointmentChanges {
                resource: Some("Room 2".into()),
                ..AppointmentChanges::default()
            },
        )?;
        assert_eq!(on.appointment.resource.as_deref(), Some("Room 2"));
        Ok(())
    }
}

//! The booking rules, once, over any [`Store`].

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, SubsecRound, TimeDelta, Utc};

use crate::cache::ReadCache;
use crate::clock::{Clock, SystemClock};
use crate::domain::{
    AntiScalping, AppCode, Appointment, AppointmentId, AppointmentKind, AppointmentStatus,
    AttendeeCount, Ban, BanId, Booking, BookingCode, BookingId, BookingStatus, DeviceId, Email,
    Hold, HoldStatus, HoldToken, Name, Page, Paged, Phone, ResourceName, User, UserId,
    WaitlistCode, WaitlistEntry, WaitlistId, WaitlistStatus,
};
use crate::error::{Duplicate, Entity, Error, Result};
use crate::events::{Event, EventCursor, MAX_EVENT_PAGE};
use crate::schedule::{Closure, Schedule, Slot, TimeWindow, WeeklyHours};
use crate::store::{
    BookingEnd, BookingMove, BookingStats, ResourceClaim, SeatClaim, SlotSeats, Store,
};

/// The most seats an appointment may have.
pub const MAX_CAPACITY: u32 = 1_000_000;
const MAX_TITLE: usize = 200;
const MAX_DESCRIPTION: usize = 2000;
/// How often a freshly generated code is retried if it collides (it practically never does).
const CODE_ATTEMPTS: usize = 3;

/// A new user account. The credential is opaque to the engine.
#[derive(Clone)]
pub struct NewUser {
    /// Display name.
    pub name: Name,
    /// Email, unique among users.
    pub email: Email,
    /// Phone, unique among users when given.
    pub phone: Option<Phone>,
    /// An opaque credential such as a password hash.
    pub password_hash: String,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("name", &self.name)
            .field("email", &self.email)
            .field("phone", &self.phone)
            .finish_non_exhaustive()
    }
}

/// A new appointment.
#[derive(Debug, Clone)]
pub struct NewAppointment {
    /// Title, 1 to 200 characters.
    pub title: String,
    /// Free text, up to 2000 characters.
    pub description: String,
    /// Single, group or party.
    pub kind: AppointmentKind,
    /// Seats per slot (party: of the one event). Single appointments have 1; `None` means 1.
    pub capacity: Option<u32>,
    /// Anti-scalping policy.
    pub anti_scalping: AntiScalping,
    /// When the slots are. For a party the schedule is turned into its one event.
    pub schedule: Schedule,
    /// The shared resource (person, room, chair) its bookings occupy, if any: see
    /// [`Appointment::resource`].
    pub resource: Option<ResourceName>,
}

impl NewAppointment {
    /// A single appointment (one attendee per slot) with no description, no anti-scalping and
    /// no shared resource; set the other fields with struct update syntax.
    ///
    /// ```
    /// # use appointment_core::*;
    /// # fn demo(schedule: Schedule) {
    /// let new = NewAppointment { anti_scalping: AntiScalping::Standard, ..NewAppointment::single("Haircut", schedule) };
    /// assert_eq!(new.kind, AppointmentKind::Single);
    /// # }
    /// ```
    pub fn single(title: impl Into<String>, schedule: Schedule) -> Self {
        NewAppointment {
            title: title.into(),
            description: String::new(),
            kind: AppointmentKind::Single,
            capacity: None,
            anti_scalping: AntiScalping::None,
            schedule,
            resource: None,
        }
    }

    /// A group appointment: `seats` per slot, shared by the slot's bookings.
    pub fn group(title: impl Into<String>, seats: u32, schedule: Schedule) -> Self {
        NewAppointment {
            kind: AppointmentKind::Group,
            capacity: Some(seats),
            ..NewAppointment::single(title, schedule)
        }
    }

    /// A party: one event (the schedule's first day, from its first window's start to its last
    /// window's end) with `seats` in all.
    pub fn party(title: impl Into<String>, seats: u32, schedule: Schedule) -> Self {
        NewAppointment {
            kind: AppointmentKind::Party,
            capacity: Some(seats),
            ..NewAppointment::single(title, schedule)
        }
    }
}

impl NewBooking {
    /// A booking of `seats` on the slot starting at `slot_start`, with no description and no
    /// device; set those with struct update syntax.
    pub fn new(
        app_code: AppCode,
        slot_start: DateTime<Utc>,
        seats: AttendeeCount,
        booker: Booker,
    ) -> Self {
        NewBooking {
            app_code,
            slot_start,
            attendee_count: seats,
            booker,
            description: String::new(),
            device_id: None,
        }
    }
}

/// Who books.
#[derive(Debug, Clone)]
pub enum Booker {
    /// A guest, who gives their details.
    Guest {
        /// Name.
        name: Name,
        /// Email; ban lists and anti-scalping compare its [canonical](Email::canonical) form.
        email: Email,
        /// Phone.
        phone: Option<Phone>,
    },
    /// A registered user: name, email and phone come from the profile.
    User(UserId),
}

/// A booking request.
#[derive(Debug, Clone)]
pub struct NewBooking {
    /// The appointment.
    pub app_code: AppCode,
    /// The start of the slot wanted (must be one of the schedule's slots).
    pub slot_start: DateTime<Utc>,
    /// Seats wanted.
    pub attendee_count: AttendeeCount,
    /// Who books.
    pub booker: Booker,
    /// Free text, up to 2000 characters.
    pub description: String,
    /// The verified device the request comes from (required under strict anti-scalping, where
    /// the booker must also be a registered user). The engine only compares ids: the caller
    /// verifies that the device belongs to the booker (the server binds device tokens to a user).
    pub device_id: Option<DeviceId>,
}

/// A request to hold seats of a slot (see [`Scheduler::hold`]).
#[derive(Debug, Clone)]
pub struct NewHold {
    /// The appointment.
    pub app_code: AppCode,
    /// The start of the slot (must be one of the schedule's slots, bookable now).
    pub slot_start: DateTime<Utc>,
    /// Seats to hold.
    pub seats: AttendeeCount,
}

/// A request for a place on a slot's waiting list (see [`Scheduler::join_waitlist`]).
#[derive(Debug, Clone)]
pub struct NewWaitlistEntry {
    /// The appointment.
    pub app_code: AppCode,
    /// The start of the full slot.
    pub slot_start: DateTime<Utc>,
    /// Seats wanted.
    pub seats: AttendeeCount,
    /// Who waits.
    pub name: Name,
    /// Their email (bans and anti-scalping apply as to a booking).
    pub email: Email,
}

/// A place on a waiting list as of now: its status, its position while waiting, and the hold
/// offered to it once seats freed up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitlistPlace {
    /// The place as stored.
    pub entry: WaitlistEntry,
    /// Its status now (see [`WaitlistEntry::status_with`]).
    pub status: WaitlistStatus,
    /// 1 for the first in line; 0 once it no longer waits.
    pub position: u64,
    /// The hold offered to it, if any: book it with [`Scheduler::book_hold`] and the hold's
    /// token before `expires_at`.
    pub offer: Option<Hold>,
}

/// The most appointments one round of [`Scheduler::reclaim_all_expired`] takes on.
pub const MAX_EXPIRY_SWEEP: u32 = 1000;

/// What one round of [`Scheduler::reclaim_all_expired`] did.
#[derive(Debug, Default)]
pub struct ExpirySweep {
    /// The appointments found with something expired and not yet reclaimed (at most the
    /// round's limit).
    pub appointments: usize,
    /// The seats given back over all of them. Each seat is given back by one sweeper only, so
    /// a round that raced another sweeper over the same appointments may count none.
    pub seats: u64,
    /// The appointments whose reclaim failed, with the error (the others were reclaimed all
    /// the same). What they hold is free for every claim meanwhile; a later round finds them
    /// again.
    pub failures: Vec<(AppointmentId, Error)>,
}

/// An owner's changes to an appointment; `None` leaves a field as it is. Kind, capacity and
/// anti-scalping policy are fixed once bookings can exist, and the date range and slot length
/// with them (a new range or length is a new appointment).
#[derive(Debug, Clone, Default)]
pub struct AppointmentChanges {
    /// New title (1 to 200 characters).
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New weekly hours.
    pub weekly_hours: Option<WeeklyHours>,
    /// New date overrides, replacing all of them.
    pub overrides: Option<Vec<(NaiveDate, Vec<TimeWindow>)>>,
    /// New closures, replacing all of them.
    pub closures: Option<Vec<Closure>>,
    /// New buffer between slots, in minutes.
    pub buffer_minutes: Option<u32>,
    /// New minimum notice, in minutes.
    pub min_notice_minutes: Option<u32>,
    /// New cancellation cut-off, in minutes (see [`crate::ScheduleBuilder::cancel_cutoff_minutes`]);
    /// it applies to bookings already made too.
    pub cancel_cutoff_minutes: Option<u32>,
    /// New hold length, in minutes (see [`crate::ScheduleBuilder::hold_minutes`]); holds already
    /// taken keep their expiry.
    pub hold_minutes: Option<u32>,
    /// Approval on or off (see [`crate::ScheduleBuilder::confirm_within_minutes`]; `Some(None)`
    /// turns it off). Bookings already pending keep their deadline and still need a decision.
    pub confirm_within_minutes: Option<Option<u32>>,
    /// New horizon (`Some(None)` removes it).
    pub horizon_days: Option<Option<u32>>,
    /// Close (no slots listed, no bookings taken; existing bookings stay) or reopen.
    pub status: Option<AppointmentStatus>,
    /// A new shared resource (`Some(None)` removes it). Bookings already made keep occupying
    /// the resource they were made on.
    pub resource: Option<Option<ResourceName>>,
    /// Apply the changes only if the appointment is still at this
    /// [revision](Appointment::revision) (what the editor last saw); otherwise fail with
    /// [`Error::Changed`] and change nothing. `None` applies them to whatever is current.
    pub if_revision: Option<u64>,
}

/// What an edit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentEdit {
    /// The appointment as it now is.
    pub appointment: Appointment,
    /// Bookings (active or pending) of slots still to come that the new hours no longer offer. An edit never
    /// cancels or moves a booking; these are for the owner to act on.
    pub bookings_outside_hours: u64,
}

/// A change to a booking: a new slot, and optionally a new number of seats.
#[derive(Debug, Clone, Copy)]
pub struct Reschedule {
    /// The start of the new slot (may be the same slot to change only the seats).
    pub slot_start: DateTime<Utc>,
    /// The new number of seats; `None` keeps the current one.
    pub attendee_count: Option<AttendeeCount>,
}

/// A change to a booking as a whole: a [`Reschedule`], and optionally new free text. Every
/// [`Reschedule`] converts into one that keeps the text.
#[derive(Debug, Clone)]
pub struct BookingUpdate {
    /// The start of the new slot (may be the same slot).
    pub slot_start: DateTime<Utc>,
    /// The new number of seats; `None` keeps the current one.
    pub attendee_count: Option<AttendeeCount>,
    /// The new free text, up to 2000 characters; `None` keeps the current one.
    pub description: Option<String>,
}

impl From<Reschedule> for BookingUpdate {
    fn from(r: Reschedule) -> Self {
        BookingUpdate {
            slot_start: r.slot_start,
            attendee_count: r.attendee_count,
            description: None,
        }
    }
}

/// Which slots to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct SlotQuery {
    /// Only the slots of this local date (in the appointment's zone); `None` for all.
    pub day: Option<NaiveDate>,
    /// The page.
    pub page: Page,
}

/// A slot with its seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvailableSlot {
    /// The slot's instants.
    pub slot: Slot,
    /// The local date of its start, in the appointment's zone.
    pub local_date: NaiveDate,
    /// Seats in all.
    pub capacity: u32,
    /// Seats held by active bookings.
    pub seats_taken: u32,
    /// Seats still free.
    pub seats_left: u32,
}

/// Analytics of one owner over a date range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Analytics {
    /// First date (inclusive, UTC).
    pub start_date: NaiveDate,
    /// Last date (inclusive, UTC).
    pub end_date: NaiveDate,
    /// The owner's appointments created in the range.
    pub appointments_created: u64,
    /// The owner's bookings whose slot starts in the range, by status.
    pub bookings: BookingStats,
    /// Seats of all the owner's appointments' slots that start in the range.
    pub seats_offered: u64,
}

impl Analytics {
    /// All bookings in the range, whatever their status.
    pub fn total_bookings(&self) -> u64 {
        let b = &self.bookings;
        b.active
            + b.pending
            + b.declined
            + b.expired
            + b.cancelled
            + b.rejected
            + b.completed
            + b.no_show
    }

    /// The share of the bookings marked after the fact that were no-shows: `no_show / (completed
    /// + no_show)`, or `None` when none was marked.
    ///
    /// ```
    /// # use appointment_core::{Analytics, BookingStats};
    /// # use chrono::NaiveDate;
    /// let d = NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
    /// let bookings = BookingStats { completed: 3, no_show: 1, ..BookingStats::default() };
    /// let a = Analytics { start_date: d, end_date: d, appointments_created: 0, bookings, seats_offered: 0 };
    /// assert_eq!(a.no_show_rate(), Some(0.25));
    /// ```
    pub fn no_show_rate(&self) -> Option<f64> {
        let marked = self.bookings.completed + self.bookings.no_show;
        (marked > 0).then(|| self.bookings.no_show as f64 / marked as f64)
    }
}

/// The store's part of an owner's [`Analytics`], read by [`Scheduler::analytics_inputs`].
#[derive(Debug, Clone)]
pub struct AnalyticsInputs {
    start: NaiveDate,
    end: NaiveDate,
    range: std::ops::Range<DateTime<Utc>>,
    created: u64,
    bookings: BookingStats,
    /// Each appointment's capacity and schedule.
    offered: Vec<(u32, Schedule)>,
}

/// [`AnalyticsInputs::compute`] was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

impl AnalyticsInputs {
    /// Counts the seats offered (a day at a time, see [`crate::Slots::count_days`]) and returns
    /// the figures, asking `stop` before each appointment and each day; as soon as it answers
    /// `true`, gives up with [`Stopped`].
    pub fn compute(&self, stop: &dyn Fn() -> bool) -> std::result::Result<Analytics, Stopped> {
        let mut seats_offered = 0u64;
        for (capacity, schedule) in &self.offered {
            if stop() {
                return Err(Stopped);
            }
            let slots = schedule
                .slots(self.range.start, self.range.end)
                .count_days(stop)
                .ok_or(Stopped)?;
            seats_offered = seats_offered.saturating_add(u64::from(*capacity) * slots);
        }
        Ok(Analytics {
            start_date: self.start,
            end_date: self.end,
            appointments_created: self.created,
            bookings: self.bookings,
            seats_offered,
        })
    }
}

/// The booking engine: every rule of the product, over a [`Store`].
///
/// Cloning is cheap (two `Arc`s), so one scheduler can be shared by many tasks.
///
/// ```
/// # use appointment_core::*;
/// # use chrono::{NaiveDate, NaiveTime, TimeZone, Utc, TimeDelta};
/// # use std::sync::Arc;
/// # async fn demo<S: Store>(store: S) -> Result<()> {
/// let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()));
/// let scheduler = Scheduler::new(store).with_clock(clock);
/// let owner = scheduler.register_user(NewUser {
///     name: Name::parse("Ada")?, email: Email::parse("ada@example.com")?,
///     phone: None, password_hash: "opaque".into(),
/// }).await?;
/// let day = NaiveDate::from_ymd_opt(2030, 1, 7).unwrap();
/// let schedule = Schedule::builder(day, day, NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
///     NaiveTime::from_hms_opt(12, 0, 0).unwrap(), 60).build()?;
/// let app = scheduler.create_appointment(owner.id, NewAppointment {
///     title: "Haircut".into(), description: String::new(), kind: AppointmentKind::Single,
///     capacity: None, anti_scalping: AntiScalping::Standard, schedule, resource: None,
/// }).await?;
/// let slots = scheduler.available_slots(&app.code, SlotQuery::default()).await?;
/// assert_eq!(slots.total, 3);
/// let booking = scheduler.book(NewBooking {
///     app_code: app.code.clone(), slot_start: slots.items[0].slot.start,
///     attendee_count: AttendeeCount::ONE, description: String::new(), device_id: None,
///     booker: Booker::Guest { name: Name::parse("Bo")?, email: Email::parse("bo@example.com")?, phone: None },
/// }).await?;
/// assert_eq!(booking.status, BookingStatus::Active);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Scheduler<S: ?Sized> {
    store: Arc<S>,
    clock: Arc<dyn Clock>,
    cache: Option<Arc<ReadCache>>,
    verified_email_required: bool,
}

impl<S: ?Sized> Clone for Scheduler<S> {
    fn clone(&self) -> Self {
        Scheduler {
            store: Arc::clone(&self.store),
            clock: Arc::clone(&self.clock),
            cache: self.cache.clone(),
            verified_email_required: self.verified_email_required,
        }
    }
}

impl<S: Store> Scheduler<S> {
    /// A scheduler over `store`, on the system clock.
    pub fn new(store: S) -> Self {
        Self::from_arc(Arc::new(store))
    }
}

/// See [`Scheduler::seats_will_change`].
struct SeatsChanged<'a> {
    cache: Option<&'a ReadCache>,
    app: AppointmentId,
}

impl Drop for SeatsChanged<'_> {
    fn drop(&mut self) {
        if let Some(cache) = self.cache {
            cache.seats_changed(self.app);
        }
    }
}

fn check_description(s: &str) -> Result<()> {
    if s.chars().count() > MAX_DESCRIPTION {
        return Err(Error::invalid(
            "description",
            format!("must be at most {MAX_DESCRIPTION} characters"),
        ));
    }
    Ok(())
}

/// What a booking of `app` claims, for a new booking and a reschedule alike.
/// What a booking of `slot` claims: its seats, anti-scalping, the owner's bans, and the
/// appointment's resource over the slot and the buffer after it.
fn seat_claim(app: &Appointment, slot: &Slot) -> SeatClaim {
    SeatClaim {
        capacity: app.capacity,
        unique_email: app.anti_scalping != AntiScalping::None,
        unique_device: app.anti_scalping == AntiScalping::Strict,
        owner: app.owner,
        resource: app.resource.as_ref().map(|r| ResourceClaim {
            key: r.key(app.owner),
            until: slot.end + buffer_of(&app.schedule),
        }),
        revision: app.revision,
    }
}

fn buffer_of(schedule: &Schedule) -> TimeDelta {
    TimeDelta::minutes(i64::from(schedule.buffer_minutes()))
}

/// UTC instants of `[start 00:00, end + 1 day 00:00)`.
fn date_range(start: NaiveDate, end: NaiveDate) -> Result<std::ops::Range<DateTime<Utc>>> {
    if end < start {
        return Err(Error::invalid("end_date", "must not be before start_date"));
    }
    let from = start.and_time(NaiveTime::MIN).and_utc();
    let to = end
        .succ_opt()
        .ok_or_else(|| Error::invalid("end_date", "is out of range"))?
        .and_time(NaiveTime::MIN)
        .and_utc();
    Ok(from..to)
}

impl<S: Store + ?Sized> Scheduler<S> {
    /// A scheduler over a shared store (e.g. `Arc<dyn Store>`), on the system clock.
    pub fn from_arc(store: Arc<S>) -> Self {
        Scheduler {
            store,
            clock: Arc::new(SystemClock),
            cache: None,
            verified_email_required: false,
        }
    }

    /// The same scheduler requiring, under strict anti-scalping, that the booking user's email
    /// address is verified ([`Error::EmailNotVerified`] otherwise). Off by default: an
    /// application that has no way to verify addresses (no email) leaves it off.
    ///
    /// ```
    /// # fn demo(store: impl appointment_core::Store) {
    /// let scheduler = appointment_core::Scheduler::new(store).with_verified_email_required(true);
    /// assert!(scheduler.verified_email_required());
    /// # }
    /// ```
    pub fn with_verified_email_required(mut self, required: bool) -> Self {
        self.verified_email_required = required;
        self
    }

    /// Whether strict anti-scalping requires verified addresses.
    pub fn verified_email_required(&self) -> bool {
        self.verified_email_required
    }

    /// The same scheduler reading time from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The same scheduler answering reads of appointments and seat counters from memory for up to
    /// `ttl` (on the scheduler's clock); `Duration::ZERO` turns the cache off (the default).
    ///
    /// Writes made through this scheduler or its clones are visible to its next read at once: a
    /// booking, cancellation, rejection or reschedule drops the cached counters of its
    /// appointment. Writes made by another process on the same database (another server replica)
    /// show in slot listings after at most `ttl` (so does the expiry of a hold: a cached page may
    /// show its seats as taken for up to `ttl` after it, while a booking can already take them).
    /// Bookings never rely on the cache for seats: the
    /// store's atomic claim decides, so a stale listing can at worst offer a seat that a booking
    /// then finds taken (`SlotFull`), and that refusal drops the stale counters too.
    ///
    /// ```
    /// use std::time::Duration;
    /// # async fn demo(store: impl appointment_core::Store) {
    /// let scheduler = appointment_core::Scheduler::new(store)
    ///     .with_read_cache(Duration::from_millis(500));
    /// assert_eq!(scheduler.read_cache_ttl(), Duration::from_millis(500));
    /// # }
    /// ```
    pub fn with_read_cache(mut self, ttl: std::time::Duration) -> Self {
        self.cache = TimeDelta::from_std(ttl)
            .ok()
            .filter(|t| *t > TimeDelta::zero())
            .map(|t| Arc::new(ReadCache::new(t)));
        self
    }

    /// How long reads may be answered from memory (`Duration::ZERO`: never).
    pub fn read_cache_ttl(&self) -> std::time::Duration {
        self.cache
            .as_ref()
            .and_then(|c| c.ttl().to_std().ok())
            .unwrap_or_default()
    }

    /// The seat counters of `app` in `range`, from the read cache when it has them.
    async fn seats_taken(
        &self,
        app: AppointmentId,
        range: std::ops::Range<DateTime<Utc>>,
    ) -> Result<Vec<SlotSeats>> {
        let Some(cache) = &self.cache else {
            return self.store.seats_taken(app, range, self.now()).await;
        };
        let now = self.now();
        match cache.seats(app, &range, now) {
            Ok(rows) => Ok(rows),
            Err(ticket) => {
                let load = cache.load_range(&range);
                let rows = self.store.seats_taken(app, load.clone(), now).await?;
                cache.put_seats(ticket, load, &rows, now);
                Ok(rows
                    .into_iter()
                    .filter(|s| range.contains(&s.slot_start))
                    .collect())
            }
        }
    }

    /// A guard that tells the read cache that seats of `app` changed when it is dropped: after
    /// the write it covers returns, or if the caller drops the write's future half-way (it may
    /// have committed).
    fn seats_will_change(&self, app: AppointmentId) -> SeatsChanged<'_> {
        SeatsChanged {
            cache: self.cache.as_deref(),
            app,
        }
    }

    /// The store underneath.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The current instant, as the scheduler sees it.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    // ------------------------------------------------------------------ users

    /// Registers a user. `Duplicate(UserEmail | UserPhone)` if taken.
    pub async fn register_user(&self, new: NewUser) -> Result<User> {
        let user = User {
            id: UserId::new(),
            name: new.name,
            email: new.email,
            phone: new.phone,
            password_hash: new.password_hash,
            created_at: self.now(),
            email_verified_at: None,
        };
        self.store.insert_user(&user).await?;
        Ok(user)
    }

    /// Records that `user` proved they receive mail at `email` (the caller checked the proof,
    /// e.g. a signed link mailed to the address), and answers the user as it now is. Verifying
    /// again keeps the first time. `InvalidInput("email")` if the user's address is no longer
    /// `email` (the proof was for an old address), `NotFound(User)` if there is no such user.
    pub async fn verify_email(&self, user: UserId, email: &Email) -> Result<User> {
        if !self
            .store
            .mark_email_verified(user, email, self.now())
            .await?
        {
            // Tell "no such user" from "another address".
            self.user(user).await?;
            return Err(Error::invalid(
                "email",
                "is no longer the account's address",
            ));
        }
        self.user(user).await
    }

    /// A user by id; `NotFound(User)` if there is none.
    pub async fn user(&self, id: UserId) -> Result<User> {
        self.store
            .user_by_id(id)
            .await?
            .ok_or(Error::NotFound(Entity::User))
    }

    /// A user by email, if any (for logging in).
    pub async fn user_by_email(&self, email: &Email) -> Result<Option<User>> {
        self.store.user_by_email(email).await
    }

    // ----------------------------------------------------------- appointments

    /// Creates an appointment owned by `owner` (who must exist). One row is written, whatever the
    /// schedule's length.
    pub async fn create_appointment(
        &self,
        owner: UserId,
        new: NewAppointment,
    ) -> Result<Appointment> {
        let title = new.title.trim().to_owned();
        if title.is_empty() || title.chars().count() > MAX_TITLE {
            return Err(Error::invalid("title", "must be 1 to 200 characters"));
        }
        check_description(&new.description)?;
        let capacity = match (new.kind, new.capacity) {
            (AppointmentKind::Single, None | Some(1)) => 1,
            (AppointmentKind::Single, Some(_)) => {
                return Err(Error::invalid(
                    "max_attendees",
                    "a single appointment has exactly one seat per slot",
                ));
            }
            (_, None) => {
                return Err(Error::invalid(
                    "max_attendees",
                    "is required for group and party appointments",
                ));
            }
            (_, Some(n)) if n == 0 || n > MAX_CAPACITY => {
                return Err(Error::invalid(
                    "max_attendees",
                    format!("must be from 1 to {MAX_CAPACITY}"),
                ));
            }
            (_, Some(n)) => n,
        };
        let schedule = new
            .schedule
            .to_builder()
            .single_event(new.kind == AppointmentKind::Party)
            .build()?;
        if schedule.end_date() < schedule.local_date(self.now()) {
            return Err(Error::invalid(
                "end_date",
                "the appointment would lie wholly in the past",
            ));
        }
        self.user(owner).await?;
        let now = self.now();
        let mut appointment = Appointment {
            id: AppointmentId::new(),
            code: AppCode::generate(),
            owner,
            title,
            description: new.description,
            kind: new.kind,
            capacity,
            anti_scalping: new.anti_scalping,
            status: AppointmentStatus::Active,
            schedule,
            resource: new.resource,
            created_at: now,
            updated_at: now,
            revision: 0,
        };
        approval_without_resource(&appointment)?;
        let mut attempt = 1;
        loop {
            match self.store.insert_appointment(&appointment).await {
                Err(Error::Duplicate(Duplicate::Code)) if attempt < CODE_ATTEMPTS => {
                    attempt += 1;
                    appointment.code = AppCode::generate();
                }
                other => return other.map(|()| appointment),
            }
        }
    }

    /// An appointment by code; `NotFound(Appointment)` if there is none.
    pub async fn appointment(&self, code: &AppCode) -> Result<Appointment> {
        self.cached_appointment(
            |cache, now| cache.appointment_by_code(code, now),
            || self.store.appointment_by_code(code),
        )
        .await
    }

    async fn appointment_by_id(&self, id: AppointmentId) -> Result<Appointment> {
        self.cached_appointment(
            |cache, now| cache.appointment_by_id(id, now),
            || self.store.appointment_by_id(id),
        )
        .await
    }

    /// An appointment from the read cache if it holds it, else from `load` (and then kept).
    async fn cached_appointment<F>(
        &self,
        cached: impl FnOnce(&ReadCache, DateTime<Utc>) -> Option<Appointment>,
        load: impl FnOnce() -> F,
    ) -> Result<Appointment>
    where
        F: std::future::Future<Output = Result<Option<Appointment>>>,
    {
        let now = self.now();
        if let Some(app) = self.cache.as_deref().and_then(|c| cached(c, now)) {
            return Ok(app);
        }
        let app = load().await?.ok_or(Error::NotFound(Entity::Appointment))?;
        if let Some(cache) = &self.cache {
            cache.put_appointment(&app, now);
        }
        Ok(app)
    }

    /// Seats held by active bookings and live holds across all of an appointment's slots (what
    /// the original service answers as `attendees_booked`). Reads the seat counters of booked slots only, so
    /// the cost follows the bookings, not the schedule.
    pub async fn attendees_booked(&self, app: &Appointment) -> Result<u64> {
        let s = &app.schedule;
        let day = TimeDelta::days(2);
        let span = s.start_date().and_time(NaiveTime::MIN).and_utc() - day
            ..s.end_date().and_time(NaiveTime::MIN).and_utc() + day + day;
        Ok(self
            .store
            .seats_taken(app.id, span, self.now())
            .await?
            .iter()
            .map(|seats| u64::from(seats.seats_taken))
            .sum())
    }

    /// Applies an owner's changes to their appointment (see [`AppointmentChanges`]): checked like
    /// a new appointment, written at once, never touching a booking. `Forbidden` for anyone but
    /// the owner.
    ///
    /// ```
    /// # use appointment_core::*;
    /// # use appointment_core::chrono::{NaiveDate, NaiveTime};
    /// # use std::sync::Arc;
    /// # async fn demo(scheduler: Scheduler<dyn Store>, owner: UserId, code: AppCode) -> Result<()> {
    /// let edit = scheduler
    ///     .update_appointment(owner, &code, AppointmentChanges {
    ///         weekly_hours: Some("mon-fri 09:00-12:00,13:00-17:00".parse()?),
    ///         status: Some(AppointmentStatus::Closed),
    ///         ..AppointmentChanges::default()
    ///     })
    ///     .await?;
    /// println!("{} bookings are now outside the hours", edit.bookings_outside_hours);
    /// # Ok(()) }
    /// ```
    pub async fn update_appointment(
        &self,
        owner: UserId,
        code: &AppCode,
        changes: AppointmentChanges,
    ) -> Result<AppointmentEdit> {
        // An edit applies to the revision it was made from; a concurrent edit that won makes
        // this one apply its changes again to what that one left.
        let mut attempt = 1;
        let app = loop {
            let app = self.edited(owner, code, changes.clone()).await?;
            if self.store.update_appointment(&app).await? {
                break app;
            }
            if attempt >= EDIT_ATTEMPTS {
                return Err(Error::Changed(Entity::Appointment));
            }
            attempt += 1;
        };
        if let Some(cache) = &self.cache {
            cache.put_appointment(&app, app.updated_at);
        }
        let bookings_outside_hours = self.bookings_outside_hours(&app).await?;
        Ok(AppointmentEdit {
            appointment: app,
            bookings_outside_hours,
        })
    }

    /// The appointment as stored now with `changes` applied and its revision moved on, checked
    /// as a new appointment is; not written.
    async fn edited(
        &self,
        owner: UserId,
        code: &AppCode,
        changes: AppointmentChanges,
    ) -> Result<Appointment> {
        let mut app = self
            .store
            .appointment_by_code(code)
            .await?
            .ok_or(Error::NotFound(Entity::Appointment))?;
        if app.owner != owner {
            return Err(Error::Forbidden(
                "only the appointment's owner can change it",
            ));
        }
        if changes.if_revision.is_some_and(|r| r != app.revision) {
            return Err(Error::Changed(Entity::Appointment));
        }
        if let Some(title) = changes.title {
            let title = title.trim().to_owned();
            if title.is_empty() || title.chars().count() > MAX_TITLE {
                return Err(Error::invalid("title", "must be 1 to 200 characters"));
            }
            app.title = title;
        }
        if let Some(description) = changes.description {
            check_description(&description)?;
            app.description = description;
        }
        let mut b = app.schedule.to_builder();
        if let Some(hours) = changes.weekly_hours {
            b = b.weekly_hours(hours);
        }
        if let Some(overrides) = changes.overrides {
            b = b.overrides(overrides);
        }
        if let Some(closures) = changes.closures {
            b = b.closures(closures);
        }
        if let Some(m) = changes.buffer_minutes {
            b = b.buffer_minutes(m);
        }
        if let Some(m) = changes.min_notice_minutes {
            b = b.min_notice_minutes(m);
        }
        if let Some(m) = changes.cancel_cutoff_minutes {
            b = b.cancel_cutoff_minutes(m);
        }
        if let Some(m) = changes.hold_minutes {
            b = b.hold_minutes(m);
        }
        if let Some(m) = changes.confirm_within_minutes {
            b = b.confirm_within_minutes(m);
        }
        if let Some(h) = changes.horizon_days {
            b = b.horizon_days(h);
        }
        app.schedule = b.build()?;
        if let Some(status) = changes.status {
            app.status = status;
        }
        if let Some(resource) = changes.resource {
            app.resource = resource;
        }
        approval_without_resource(&app)?;
        app.updated_at = self.now();
        app.revision += 1;
        Ok(app)
    }

    /// Bookings (active or pending) of slots still to come that `app`'s schedule no longer has.
    async fn bookings_outside_hours(&self, app: &Appointment) -> Result<u64> {
        let now = self.now();
        let mut outside = 0u64;
        let mut page = 1;
        loop {
            let bookings = self
                .store
                .bookings_for_appointment(app.id, Page::new(page, Page::MAX_PER_PAGE)?)
                .await?;
            outside += bookings
                .items
                .iter()
                .filter(|b| {
                    b.status_at(now).holds_seats()
                        && b.slot_start >= now
                        && app
                            .schedule
                            .slot_at(b.slot_start)
                            .is_none_or(|s| s.end != b.slot_end)
                })
                .count() as u64;
            if u64::from(page) >= bookings.total_pages {
                return Ok(outside);
            }
            page += 1;
        }
    }

    /// Deletes an owner's appointment (a soft delete: gone from every lookup and listing; its
    /// bookings stay readable by their codes). `Forbidden` for anyone but the owner.
    pub async fn delete_appointment(&self, owner: UserId, code: &AppCode) -> Result<()> {
        let app = self
            .store
            .appointment_by_code(code)
            .await?
            .ok_or(Error::NotFound(Entity::Appointment))?;
        if app.owner != owner {
            return Err(Error::Forbidden(
                "only the appointment's owner can delete it",
            ));
        }
        self.store.delete_appointment(app.id, self.now()).await?;
        if let Some(cache) = &self.cache {
            cache.forget_appointment(&app);
        }
        Ok(())
    }

    /// The appointments `owner` created, newest first.
    pub async fn my_appointments(&self, owner: UserId, page: Page) -> Result<Paged<Appointment>> {
        self.store.appointments_by_owner(owner, page).await
    }

    /// The window in which slots can be booked now: `[now + minimum notice, now + horizon)`.
    fn bookable_range(&self, schedule: &Schedule) -> std::ops::Range<DateTime<Utc>> {
        let now = self.now();
        let from = now + TimeDelta::minutes(i64::from(schedule.min_notice_minutes()));
        let to = schedule
            .horizon_days()
            .map_or(DateTime::<Utc>::MAX_UTC, |d| {
                now + TimeDelta::days(i64::from(d))
            });
        from..to
    }

    /// The slots of an appointment that can be booked now: in the future, after the minimum
    /// notice, within the horizon, and with at least one seat left. Paginated, in time order.
    pub async fn available_slots(
        &self,
        code: &AppCode,
        query: SlotQuery,
    ) -> Result<Paged<AvailableSlot>> {
        let app = self.appointment(code).await?;
        let bookable = self.bookable_range(&app.schedule);
        let range = match query.day {
            // One local date: the instants from its midnight to the next, whose slots are
            // exactly the date's (see `Schedule::slots_on`).
            Some(day) => {
                let tz = app.schedule.time_zone();
                let (Some(next), start) = (day.succ_opt(), day.and_time(NaiveTime::MIN)) else {
                    return Ok(Paged::new(Vec::new(), query.page, 0));
                };
                let end = next.and_time(NaiveTime::MIN);
                tz.resolve(start).max(bookable.start)..tz.resolve(end).min(bookable.end)
            }
            None => bookable,
        };
        self.page_in_range(&app, range, query.page).await
    }

    /// The longest window [`Scheduler::slots_between`] answers, in days.
    pub const MAX_WINDOW_DAYS: i64 = 92;

    /// The bookable slots with seats left that start in `[from, to)` (at most
    /// [`Scheduler::MAX_WINDOW_DAYS`] long), paginated: only the seat counters of that window are
    /// read, and the engine seeks straight to `from`.
    pub async fn slots_between(
        &self,
        code: &AppCode,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        page: Page,
    ) -> Result<Paged<AvailableSlot>> {
        if to <= from {
            return Err(Error::invalid("to", "must be after from"));
        }
        if to - from > TimeDelta::days(Self::MAX_WINDOW_DAYS) {
            return Err(Error::invalid(
                "to",
                format!("a window spans at most {} days", Self::MAX_WINDOW_DAYS),
            ));
        }
        let app = self.appointment(code).await?;
        let bookable = self.bookable_range(&app.schedule);
        let range = from.max(bookable.start)..to.min(bookable.end);
        self.page_in_range(&app, range, page).await
    }

    /// One page of the bookable slots of `app` in `range`: the total is counted with arithmetic
    /// (slots in the range, less the full ones), and the page is found by counting whole days, so
    /// the cost follows the page and the bookings, not the length of the schedule.
    async fn page_in_range(
        &self,
        app: &Appointment,
        range: std::ops::Range<DateTime<Utc>>,
        page: Page,
    ) -> Result<Paged<AvailableSlot>> {
        let schedule = &app.schedule;
        if app.status != AppointmentStatus::Active || range.start >= range.end {
            return Ok(Paged::new(Vec::new(), page, 0));
        }
        let skip = page.offset();
        let per_page = page.per_page() as usize;
        let taken = self
            .seats_taken(app.id, range.clone())
            .await?
            .into_iter()
            .map(|s| (s.slot_start, s.seats_taken))
            .collect::<std::collections::HashMap<_, _>>();
        let blocked = self.blocked_by_resource(app, range.clone()).await?;
        // The unavailable slots of the range, in time order: full, or their resource is taken.
        let mut full: Vec<DateTime<Utc>> = taken
            .iter()
            .filter(|(start, seats)| {
                **seats >= app.capacity
                    && range.contains(start)
                    && !blocked.contains(start)
                    && schedule.slot_at(**start).is_some()
            })
            .map(|(start, _)| *start)
            .chain(blocked.iter().copied())
            .collect();
        full.sort_unstable();
        let total = schedule
            .count_slots(range.start, range.end)
            .saturating_sub(full.len() as u64);
        // The page's first slot is the `skip`-th that is not full: every full slot at or before
        // that position pushes it one further.
        let mut position = skip;
        let (mut counted_to, mut index_of_prev) = (range.start, 0u64);
        for f in &full {
            let index = index_of_prev + schedule.count_slots(counted_to, *f);
            if index > position {
                break;
            }
            position += 1;
            (counted_to, index_of_prev) = (*f, index);
        }
        let items = schedule
            .slots_from_index(range.start, range.end, position)
            .filter_map(|slot| {
                let seats_taken = taken.get(&slot.start).copied().unwrap_or(0);
                (seats_taken < app.capacity && !blocked.contains(&slot.start)).then(|| {
                    AvailableSlot {
                        slot,
                        local_date: schedule.local_date(slot.start),
                        capacity: app.capacity,
                        seats_taken,
                        seats_left: app.capacity - seats_taken,
                    }
                })
            })
            .take(per_page)
            .collect();
        Ok(Paged::new(items, page, total))
    }

    /// The starts of `app`'s slots in `range` that bookings of the owner's other appointments on
    /// the same resource make unavailable: those whose time, buffer included, overlaps one of
    /// their claims. Empty when the appointment names no resource.
    async fn blocked_by_resource(
        &self,
        app: &Appointment,
        range: std::ops::Range<DateTime<Utc>>,
    ) -> Result<std::collections::BTreeSet<DateTime<Utc>>> {
        let mut blocked = std::collections::BTreeSet::new();
        let Some(resource) = &app.resource else {
            return Ok(blocked);
        };
        if range.start >= range.end {
            return Ok(blocked);
        }
        let schedule = &app.schedule;
        let buffer = buffer_of(schedule);
        let reach = TimeDelta::minutes(i64::from(schedule.slot_minutes())) + buffer;
        // A slot that starts in the range occupies the resource up to `reach` past its start.
        let until = range
            .end
            .checked_add_signed(reach)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let claims = self
            .store
            .resource_claims(resource.key(app.owner), app.id, range.start..until)
            .await?;
        for claim in claims {
            let from = claim
                .start
                .checked_sub_signed(reach)
                .unwrap_or(range.start)
                .max(range.start);
            let to = claim.end.min(range.end);
            if from >= to {
                continue;
            }
            blocked.extend(
                schedule
                    .slots(from, to)
                    .filter(|slot| slot.end + buffer > claim.start)
                    .map(|slot| slot.start),
            );
        }
        Ok(blocked)
    }

    /// Every slot of an appointment that can be booked now (optionally only those of one local
    /// date), in time order, in one pass: what [`Scheduler::available_slots`] pages through.
    pub async fn all_available_slots(
        &self,
        code: &AppCode,
        day: Option<NaiveDate>,
    ) -> Result<Vec<AvailableSlot>> {
        let mut out = Vec::new();
        self.each_available_slot(code, day, |make| out.push(make()))
            .await?;
        Ok(out)
    }

    /// Calls `visit` for each bookable slot with seats left, in time order; `visit` builds the
    /// item only if it keeps it.
    async fn each_available_slot(
        &self,
        code: &AppCode,
        day: Option<NaiveDate>,
        mut visit: impl FnMut(&dyn Fn() -> AvailableSlot),
    ) -> Result<()> {
        let app = self.appointment(code).await?;
        let schedule = &app.schedule;
        let bookable = self.bookable_range(schedule);
        if app.status != AppointmentStatus::Active || bookable.start >= bookable.end {
            return Ok(());
        }
        let taken = self
            .seats_taken(app.id, bookable.clone())
            .await?
            .into_iter()
            .map(|s| (s.slot_start, s.seats_taken))
            .collect::<std::collections::HashMap<_, _>>();
        let blocked = self.blocked_by_resource(&app, bookable.clone()).await?;
        let slots: Box<dyn Iterator<Item = Slot> + '_> = match day {
            Some(day) => Box::new(
                schedule
                    .slots_on(day)
                    .filter(|s| bookable.contains(&s.start)),
            ),
            None => Box::new(schedule.slots(bookable.start, bookable.end)),
        };
        for slot in slots {
            let seats_taken = taken.get(&slot.start).copied().unwrap_or(0);
            if seats_taken >= app.capacity || blocked.contains(&slot.start) {
                continue;
            }
            visit(&|| AvailableSlot {
                slot,
                local_date: schedule.local_date(slot.start),
                capacity: app.capacity,
                seats_taken,
                seats_left: app.capacity - seats_taken,
            });
        }
        Ok(())
    }

    /// The seats of one slot, booked or not, bookable or not: `InvalidInput(start_time)` if the
    /// appointment has no slot starting then.
    pub async fn slot_seats(&self, code: &AppCode, start: DateTime<Utc>) -> Result<AvailableSlot> {
        let app = self.appointment(code).await?;
        let slot = app
            .schedule
            .slot_at(start)
            .ok_or_else(|| Error::invalid("start_time", "is not a slot of this appointment"))?;
        let end = start + TimeDelta::seconds(1);
        let seats_taken = self
            .seats_taken(app.id, start..end)
            .await?
            .first()
            .map_or(0, |s| s.seats_taken);
        Ok(AvailableSlot {
            slot,
            local_date: app.schedule.local_date(start),
            capacity: app.capacity,
            seats_taken,
            seats_left: app.capacity.saturating_sub(seats_taken),
        })
    }

    /// Checks that `start` is a slot of `app` that can be booked now, and `count` fits its kind.
    fn bookable_slot(
        &self,
        app: &Appointment,
        start: DateTime<Utc>,
        count: AttendeeCount,
    ) -> Result<Slot> {
        if app.status != AppointmentStatus::Active {
            return Err(Error::invalid("app_code", "the appointment is closed"));
        }
        let slot = app
            .schedule
            .slot_at(start)
            .ok_or_else(|| Error::invalid("start_time", "is not a slot of this appointment"))?;
        let range = self.bookable_range(&app.schedule);
        if slot.start < range.start {
            return Err(Error::invalid(
                "start_time",
                if slot.start <= self.now() {
                    "the slot has already started".to_owned()
                } else {
                    format!(
                        "the slot must be booked at least {} minutes ahead",
                        app.schedule.min_notice_minutes()
                    )
                },
            ));
        }
        if slot.start >= range.end {
            return Err(Error::invalid(
                "start_time",
                "the slot is beyond the booking horizon",
            ));
        }
        if app.kind == AppointmentKind::Single && count.get() != 1 {
            return Err(Error::invalid(
                "attendee_count",
                "a single appointment takes one attendee per slot",
            ));
        }
        if count.get() > app.capacity {
            return Err(Error::SlotFull {
                requested: count.get(),
                available: app.capacity,
            });
        }
        Ok(slot)
    }

    /// Books seats on a slot, as a guest or as a registered user. Enforces, in this order: the
    /// appointment exists and is open, the slot is one of its slots and bookable now, the count
    /// fits the kind; under strict anti-scalping, the booker is a registered user
    /// (`RegistrationRequired`) with a verified device (`InvalidInput("device_token")`); then the
    /// store, in one atomic step, refuses an email the owner banned (`Banned`), takes the seats
    /// (`SlotFull`) and enforces anti-scalping uniqueness (`Duplicate`).
    ///
    /// Bans and anti-scalping compare the [canonical](Email::canonical) email, so `+tag`
    /// aliases of one mailbox count as one booker. Under strict anti-scalping a registered user's
    /// email is their account's, so each user (and each mailbox) holds at most one active
    /// booking per appointment, and each device at most one.
    pub async fn book(&self, req: NewBooking) -> Result<Booking> {
        check_description(&req.description)?;
        let mut app = self.appointment(&req.app_code).await?;
        let mut attempt = 1;
        loop {
            match self.book_on(&app, req.clone()).await {
                Err(Error::Changed(Entity::Appointment)) if attempt < CHANGE_ATTEMPTS => {
                    attempt += 1;
                    app = self.reread(&app).await?;
                }
                other => return other,
            }
        }
    }

    /// [`Scheduler::book`] on `app` as read.
    async fn book_on(&self, app: &Appointment, req: NewBooking) -> Result<Booking> {
        let slot = self.bookable_slot(app, req.slot_start, req.attendee_count)?;
        let mut booking = self.new_booking(app, &slot, req).await?;
        let claim = seat_claim(app, &slot);
        // Taken seats, or found the slot fuller than a cached listing said: either way the
        // appointment's cached counters are out of date afterwards.
        let _seats = self.seats_will_change(app.id);
        let (mut attempt, mut reclaimed) = (1, false);
        let inserted = loop {
            match self.store.insert_booking(&booking, claim).await {
                Err(Error::Duplicate(Duplicate::Code)) if attempt < CODE_ATTEMPTS => {
                    attempt += 1;
                    booking.code = BookingCode::generate();
                }
                Err(Error::Duplicate(d)) if !reclaimed && self.reclaimed_guard(app, d).await? => {
                    reclaimed = true;
                }
                other => break other,
            }
        };
        inserted.map(|()| booking)
    }

    /// After a claim was refused as a duplicate of another booker's `d`: gives back what the
    /// appointment's expired pending bookings (and holds) still held, and answers whether the
    /// claim is worth one more try: the duplicate may have been a pending booking nobody
    /// confirmed in time (this sweep, or a concurrent claim, expired it). Appointments that
    /// never had approval have no pending bookings: their duplicates are final.
    async fn reclaimed_guard(&self, app: &Appointment, d: Duplicate) -> Result<bool> {
        if !matches!(d, Duplicate::BookingEmail | Duplicate::BookingDevice) {
            return Ok(false);
        }
        let freed = self.store.reclaim_expired(app.id, self.now()).await?;
        Ok(freed > 0 || app.schedule.confirm_within_minutes().is_some())
    }

    /// `app` as the store holds it now, past the read cache (which forgets what it held): after
    /// a claim found it changed ([`Error::Changed`]), so that the claim is decided again on the
    /// rules that now hold.
    async fn reread(&self, app: &Appointment) -> Result<Appointment> {
        let Some(now) = self.store.appointment_by_id(app.id).await? else {
            if let Some(cache) = &self.cache {
                cache.forget_appointment(app);
            }
            return Err(Error::NotFound(Entity::Appointment));
        };
        if let Some(cache) = &self.cache {
            cache.forget_appointment(app);
            cache.put_appointment(&now, self.now());
        }
        Ok(now)
    }

    /// The booking `req` asks for on `slot` of `app`, not yet stored: the booker's details, and
    /// the strict anti-scalping requirements (`RegistrationRequired`, a verified device).
    async fn new_booking(
        &self,
        app: &Appointment,
        slot: &Slot,
        req: NewBooking,
    ) -> Result<Booking> {
        let (user_id, name, email, phone, verified) = match req.booker {
            Booker::Guest { name, email, phone } => (None, name, email, phone, false),
            Booker::User(id) => {
                let u = self.user(id).await?;
                let verified = u.email_verified_at.is_some();
                (Some(u.id), u.name, u.email, u.phone, verified)
            }
        };
        if app.anti_scalping == AntiScalping::Strict && user_id.is_none() {
            return Err(Error::RegistrationRequired);
        }
        if app.anti_scalping == AntiScalping::Strict && self.verified_email_required && !verified {
            return Err(Error::EmailNotVerified);
        }
        if app.anti_scalping == AntiScalping::Strict && req.device_id.is_none() {
            return Err(Error::invalid(
                "device_token",
                "this appointment requires a verified device",
            ));
        }
        let now = self.now();
        // Approval: pending until the owner decides, for at most the appointment's window and
        // never past the slot's start.
        let confirm_by = app.schedule.confirm_within_minutes().map(|m| {
            (now + TimeDelta::minutes(i64::from(m)))
                .min(slot.start)
                .trunc_subsecs(6)
        });
        if confirm_by.is_some_and(|by| by <= now) {
            return Err(Error::invalid(
                "start_time",
                "the slot starts now: too late for a booking the owner must confirm",
            ));
        }
        Ok(Booking {
            id: BookingId::new(),
            code: BookingCode::generate(),
            appointment_id: app.id,
            app_code: app.code.clone(),
            user_id,
            name,
            email,
            phone,
            slot_start: slot.start,
            slot_end: slot.end,
            attendee_count: req.attendee_count,
            status: if confirm_by.is_some() {
                BookingStatus::Pending
            } else {
                BookingStatus::Active
            },
            confirm_by,
            description: req.description,
            device_id: req.device_id,
            created_at: now,
            updated_at: now,
        })
    }

    /// Holds `req.seats` seats of a slot for the appointment's hold length
    /// ([`Schedule::hold_minutes`]), for whoever gets the returned [`Hold::token`]: while a form
    /// is filled in or a payment made. The slot is checked as for a booking (open appointment,
    /// a slot bookable now, a count that fits the kind), and the seats are taken exactly as a
    /// booking takes them, in one atomic step (`SlotFull` if they do not fit). Bans and
    /// anti-scalping are checked when the hold is booked ([`Scheduler::book_hold`]), since a hold
    /// names nobody.
    ///
    /// The seats come back to the slot when the hold is released, or at its expiry without
    /// anything having to run: from `expires_at` on, every listing and every claim counts them
    /// as free. Appointments that share a resource take no holds (`InvalidInput(app_code)`).
    ///
    /// ```
    /// # use appointment_core::*;
    /// # async fn demo(scheduler: Scheduler<dyn Store>, app: AppCode, slot: chrono::DateTime<chrono::Utc>) -> Result<()> {
    /// let hold = scheduler
    ///     .hold(NewHold { app_code: app.clone(), slot_start: slot, seats: AttendeeCount::new(2)? })
    ///     .await?;
    /// // … the guest fills in the form; the seats are theirs until `hold.expires_at` …
    /// let booking = scheduler
    ///     .book_hold(&hold.token, NewBooking {
    ///         app_code: app,
    ///         slot_start: slot,
    ///         attendee_count: hold.seats,
    ///         booker: Booker::Guest { name: Name::parse("Ada")?, email: Email::parse("ada@example.com")?, phone: None },
    ///         description: String::new(),
    ///         device_id: None,
    ///     })
    ///     .await?;
    /// assert_eq!(booking.attendee_count, hold.seats);
    /// # Ok(()) }
    /// ```
    pub async fn hold(&self, req: NewHold) -> Result<Hold> {
        let mut app = self.appointment(&req.app_code).await?;
        let mut attempt = 1;
        loop {
            match self.hold_on(&app, &req).await {
                Err(Error::Changed(Entity::Appointment)) if attempt < CHANGE_ATTEMPTS => {
                    attempt += 1;
                    app = self.reread(&app).await?;
                }
                other => return other,
            }
        }
    }

    /// [`Scheduler::hold`] on `app` as read.
    async fn hold_on(&self, app: &Appointment, req: &NewHold) -> Result<Hold> {
        if app.resource.is_some() {
            return Err(Error::invalid(
                "app_code",
                "appointments that share a resource take no holds",
            ));
        }
        let slot = self.bookable_slot(app, req.slot_start, req.seats)?;
        let now = self.now();
        let mut hold = Hold::new(
            app.id,
            app.code.clone(),
            (slot.start, slot.end),
            req.seats,
            app.schedule.hold_minutes(),
            now,
        );
        let _seats = self.seats_will_change(app.id);
        let mut attempt = 1;
        let inserted = loop {
            match self
                .store
                .insert_hold(&hold, app.capacity, app.revision)
                .await
            {
                Err(Error::Duplicate(Duplicate::Code)) if attempt < CODE_ATTEMPTS => {
                    attempt += 1;
                    hold.token = HoldToken::generate();
                }
                other => break other,
            }
        };
        inserted.map(|()| hold)
    }

    /// A hold by token, with its status as of now ([`Hold::status_at`]: a held hold past its
    /// expiry is `Expired`). `NotFound(Hold)` if there is none.
    pub async fn hold_by_token(&self, token: &HoldToken) -> Result<Hold> {
        let mut hold = self
            .store
            .hold_by_token(token)
            .await?
            .ok_or(Error::NotFound(Entity::Hold))?;
        hold.status = hold.status_at(self.now());
        Ok(hold)
    }

    /// Gives a hold's seats back at once (whoever holds the token may). Releasing a hold that
    /// was already released or has expired answers it as it is; a booked hold fails with
    /// [`Error::HoldEnded`] (cancel the booking instead).
    pub async fn release_hold(&self, token: &HoldToken) -> Result<Hold> {
        let hold = self
            .store
            .hold_by_token(token)
            .await?
            .ok_or(Error::NotFound(Entity::Hold))?;
        let _seats = self.seats_will_change(hold.appointment_id);
        let mut released = self.store.release_hold(hold.id, self.now()).await?;
        released.status = released.status_at(self.now());
        Ok(released)
    }

    /// Puts someone in line for a full slot: when seats of the slot free up (a cancel, a
    /// decline, a reject, a move away, a released or expired hold, an expired pending booking),
    /// the transaction that frees them offers them to the places in join order, each place
    /// whose seats fit getting a [`Hold`] of them for the appointment's hold length (first come,
    /// first served among the requests that fit; a larger request keeps its place while smaller
    /// ones behind it are served). An offer that runs out goes to the next in line when its seats
    /// are reclaimed (by the next claim on the slot, by [`Scheduler::reclaim_expired`], or when a
    /// place on the list is looked at).
    ///
    /// The slot is checked as for a booking (open, bookable now, a count that fits the kind);
    /// bans apply (`Banned`), and under anti-scalping one email holds one booking or one place
    /// per appointment (`Duplicate(BookingEmail | WaitlistEmail)`). Joining a slot whose seats
    /// are free is refused (`InvalidInput(attendee_count)`): book them. Appointments that share
    /// a resource have no waiting lists (`InvalidInput(app_code)`).
    ///
    /// ```
    /// # use appointment_core::*;
    /// # async fn demo(scheduler: Scheduler<dyn Store>, app: AppCode, slot: chrono::DateTime<chrono::Utc>) -> Result<()> {
    /// let place = scheduler
    ///     .join_waitlist(NewWaitlistEntry {
    ///         app_code: app,
    ///         slot_start: slot,
    ///         seats: AttendeeCount::ONE,
    ///         name: Name::parse("Ada")?,
    ///         email: Email::parse("ada@example.com")?,
    ///     })
    ///     .await?;
    /// println!("{} is number {} in line", place.entry.code, place.position);
    /// # Ok(()) }
    /// ```
    pub async fn join_waitlist(&self, req: NewWaitlistEntry) -> Result<WaitlistPlace> {
        let mut app = self.appointment(&req.app_code).await?;
        let mut attempt = 1;
        loop {
            match self.join_on(&app, &req).await {
                Err(Error::Changed(Entity::Appointment)) if attempt < CHANGE_ATTEMPTS => {
                    attempt += 1;
                    app = self.reread(&app).await?;
                }
                other => return other,
            }
        }
    }

    async fn join_on(&self, app: &Appointment, req: &NewWaitlistEntry) -> Result<WaitlistPlace> {
        if app.resource.is_some() {
            return Err(Error::invalid(
                "app_code",
                "appointments that share a resource have no waiting lists",
            ));
        }
        let slot = self.bookable_slot(app, req.slot_start, req.seats)?;
        let now = self.now();
        let mut entry = WaitlistEntry {
            id: WaitlistId::new(),
            code: WaitlistCode::generate(),
            appointment_id: app.id,
            app_code: app.code.clone(),
            slot_start: slot.start,
            slot_end: slot.end,
            name: req.name.clone(),
            email: req.email.clone(),
            seats: req.seats,
            status: WaitlistStatus::Waiting,
            hold_id: None,
            created_at: now,
            updated_at: now,
        };
        let claim = seat_claim(app, &slot);
        let _seats = self.seats_will_change(app.id);
        let mut attempt = 1;
        loop {
            match self.store.insert_waitlist(&entry, claim).await {
                Err(Error::Duplicate(Duplicate::Code)) if attempt < CODE_ATTEMPTS => {
                    attempt += 1;
                    entry.code = WaitlistCode::generate();
                }
                Err(e) => return Err(e),
                Ok(position) => {
                    return Ok(WaitlistPlace {
                        entry,
                        status: WaitlistStatus::Waiting,
                        position,
                        offer: None,
                    });
                }
            }
        }
    }

    /// A place on a waiting list as of now (`NotFound(WaitlistEntry)` if there is none). While
    /// it waits, looking at it first gives back the seats of its appointment's expired holds and
    /// pending bookings, so that an offer that ran out reaches the next in line without anything
    /// else having to run.
    pub async fn waitlist_place(&self, code: &WaitlistCode) -> Result<WaitlistPlace> {
        let mut entry = self.waitlist_entry(code).await?;
        if entry.status == WaitlistStatus::Waiting {
            let _seats = self.seats_will_change(entry.appointment_id);
            self.store
                .reclaim_expired(entry.appointment_id, self.now())
                .await?;
            // Read again whatever this sweep found: a concurrent one may have offered the
            // seats to this place meanwhile.
            entry = self.waitlist_entry(code).await?;
        }
        self.place_of(entry).await
    }

    /// Leaves a waiting list (whoever holds the code may): a waiting place is gone from the
    /// line, and a live offer's seats go to the next in line. A place already done (booked,
    /// expired, left) is answered as it is.
    pub async fn leave_waitlist(&self, code: &WaitlistCode) -> Result<WaitlistPlace> {
        let entry = self.waitlist_entry(code).await?;
        let _seats = self.seats_will_change(entry.appointment_id);
        let left = self.store.leave_waitlist(entry.id, self.now()).await?;
        self.place_of(left).await
    }

    async fn waitlist_entry(&self, code: &WaitlistCode) -> Result<WaitlistEntry> {
        self.store
            .waitlist_by_code(code)
            .await?
            .ok_or(Error::NotFound(Entity::WaitlistEntry))
    }

    async fn place_of(&self, entry: WaitlistEntry) -> Result<WaitlistPlace> {
        let offer = match entry.hold_id {
            Some(id) => self.store.hold_by_id(id).await?,
            None => None,
        };
        let now = self.now();
        let status = entry.status_with(offer.as_ref(), now);
        let position = if status == WaitlistStatus::Waiting {
            self.store.waitlist_position(&entry).await?
        } else {
            0
        };
        Ok(WaitlistPlace {
            entry,
            status,
            position,
            offer: offer.map(|mut h| {
                h.status = h.status_at(now);
                h
            }),
        })
    }

    /// Turns a hold into a booking, which takes over the held seats without a second seat
    /// check: it cannot find the slot full. `req` names the hold's appointment, slot and seats
    /// (`InvalidInput(hold_token)` otherwise) and the booker; bans, anti-scalping and strict
    /// anti-scalping's registration and device are checked as for [`Scheduler::book`], in the
    /// same atomic step. The slot's notice and the appointment's status were checked when the
    /// seats were held and are not checked again: a hold is a promise.
    ///
    /// Fails with [`Error::HoldEnded`] once the hold expired (at `expires_at`, to the
    /// microsecond), was released, or was booked already; its seats are then no longer kept.
    pub async fn book_hold(&self, token: &HoldToken, req: NewBooking) -> Result<Booking> {
        check_description(&req.description)?;
        let hold = self
            .store
            .hold_by_token(token)
            .await?
            .ok_or(Error::NotFound(Entity::Hold))?;
        let status = hold.status_at(self.now());
        if status != HoldStatus::Held {
            return Err(Error::HoldEnded { status });
        }
        if hold.app_code != req.app_code
            || hold.slot_start != req.slot_start
            || hold.seats != req.attendee_count
        {
            return Err(Error::invalid(
                "hold_token",
                "the hold is for another appointment, slot or number of seats",
            ));
        }
        let mut app = self.appointment_by_id(hold.appointment_id).await?;
        let slot = Slot {
            start: hold.slot_start,
            end: hold.slot_end,
        };
        let mut booking = self.new_booking(&app, &slot, req).await?;
        let _seats = self.seats_will_change(app.id);
        let (mut codes, mut changes, mut reclaimed) = (1, 1, false);
        loop {
            match self
                .store
                .book_hold(hold.id, &booking, seat_claim(&app, &slot))
                .await
            {
                Err(Error::Duplicate(Duplicate::Code)) if codes < CODE_ATTEMPTS => {
                    codes += 1;
                    booking.code = BookingCode::generate();
                }
                Err(Error::Duplicate(d)) if !reclaimed && self.reclaimed_guard(&app, d).await? => {
                    reclaimed = true;
                }
                // The booker's rules (bans, anti-scalping) come from the appointment as it now is.
                Err(Error::Changed(Entity::Appointment)) if changes < CHANGE_ATTEMPTS => {
                    changes += 1;
                    app = self.reread(&app).await?;
                }
                Err(e) => return Err(e),
                Ok(_) => return Ok(booking),
            }
        }
    }

    /// A booking by code; `NotFound(Booking)` if there is none.
    pub async fn booking(&self, code: &BookingCode) -> Result<Booking> {
        self.store
            .booking_by_code(code)
            .await?
            .ok_or(Error::NotFound(Entity::Booking))
    }

    /// Moves an active booking to another slot of its appointment and/or changes its seats, as one
    /// atomic step checked as a new booking is: the slot must be bookable now, the booker must
    /// not be banned by the owner (`Banned`), anti-scalping holds, and the seats must fit
    /// (`SlotFull`); whatever fails, the booking keeps its slot and seats.
    ///
    /// This is the guest's reschedule (whoever holds the code): it is refused with
    /// [`Error::TooLate`] once the appointment's cancellation cut-off before the current slot
    /// has passed ([`Schedule::cancel_cutoff_minutes`]; with none, once the slot has started).
    /// The owner uses [`Scheduler::owner_reschedule`].
    ///
    /// The move is decided against the slot the booking is on when the store writes it: a
    /// concurrent reschedule makes the engine decide again from the new slot, never apply a rule
    /// checked on the old one.
    ///
    /// `change` is a [`Reschedule`] or a [`BookingUpdate`], which may also replace the booking's
    /// free text (checked as for a new booking).
    pub async fn reschedule(
        &self,
        code: &BookingCode,
        change: impl Into<BookingUpdate>,
    ) -> Result<Booking> {
        self.move_as(code, change.into(), None).await
    }

    /// The owner of the booking's appointment moves it, as [`Scheduler::reschedule`] does but
    /// not bound by the cancellation cut-off: only a booking whose slot has started can no
    /// longer be moved ([`Error::TooLate`]). `Forbidden` for anyone else.
    pub async fn owner_reschedule(
        &self,
        owner: UserId,
        code: &BookingCode,
        change: impl Into<BookingUpdate>,
    ) -> Result<Booking> {
        self.move_as(code, change.into(), Some(owner)).await
    }

    async fn move_as(
        &self,
        code: &BookingCode,
        change: BookingUpdate,
        owner: Option<UserId>,
    ) -> Result<Booking> {
        if let Some(d) = &change.description {
            check_description(d)?;
        }
        let (mut attempt, mut reclaimed) = (0, false);
        loop {
            let booking = self.booking(code).await?;
            let now = self.now();
            let status = booking.status_at(now);
            if !status.holds_seats() {
                return Err(Error::InvalidTransition {
                    from: status,
                    action: "reschedule",
                });
            }
            let app = self.appointment_by_id(booking.appointment_id).await?;
            match owner {
                Some(owner) => {
                    only_owner(&app, owner, "reschedule")?;
                    before(now, booking.slot_start, "reschedule")?;
                }
                None => before(now, guest_deadline(&app, &booking), "reschedule")?,
            }
            let count = change.attendee_count.unwrap_or(booking.attendee_count);
            let slot = self.bookable_slot(&app, change.slot_start, count)?;
            let _seats = self.seats_will_change(app.id);
            let to = BookingMove {
                from: booking.slot_start,
                slot_start: slot.start,
                slot_end: slot.end,
                attendee_count: count,
                claim: seat_claim(&app, &slot),
                description: change.description.clone(),
                now,
            };
            let changed = match self.store.move_booking(booking.id, &to).await {
                Ok(Some(moved)) => return Ok(moved),
                // The appointment changed: decide again on what it now is.
                Err(Error::Changed(Entity::Appointment)) => {
                    self.reread(&app).await?;
                    true
                }
                // An expired pending booking may hold the booker's anti-scalping place.
                Err(Error::Duplicate(d)) if !reclaimed && self.reclaimed_guard(&app, d).await? => {
                    reclaimed = true;
                    false
                }
                Err(e) => return Err(e),
                // Moved meanwhile: decide again from the slot it is on now.
                Ok(None) => false,
            };
            attempt += 1;
            if attempt >= END_ATTEMPTS {
                return Err(if changed {
                    Error::Changed(Entity::Appointment)
                } else {
                    Error::unavailable(std::io::Error::other(
                        "the booking kept moving while it was being rescheduled",
                    ))
                });
            }
        }
    }

    /// Cancels an active booking (whoever holds its code may) and frees its seats. Refused with
    /// [`Error::TooLate`] once the appointment's cancellation cut-off before the slot has passed
    /// ([`Schedule::cancel_cutoff_minutes`]; with none, once the slot has started). The owner
    /// uses [`Scheduler::owner_cancel`], which the cut-off does not bind.
    ///
    /// Every end of a booking (cancel, reject, complete, no-show) is decided against the slot
    /// the booking is on when the store writes it: a concurrent reschedule makes the engine
    /// decide again on the new slot, never apply a rule checked on the old one.
    pub async fn cancel(&self, code: &BookingCode) -> Result<Booking> {
        self.end_as(code, BookingStatus::Cancelled, None, |app, b, now| {
            // The booking of a deleted appointment has no policy left but its start.
            let deadline = app.map_or(b.slot_start, |app| guest_deadline(app, b));
            before(now, deadline, "cancel")
        })
        .await
    }

    /// The owner of the booking's appointment cancels it, whatever the cancellation policy, and
    /// frees its seats. `Forbidden` for anyone else.
    pub async fn owner_cancel(&self, owner: UserId, code: &BookingCode) -> Result<Booking> {
        self.end_as(
            code,
            BookingStatus::Cancelled,
            Some(owner),
            |_, _, _| Ok(()),
        )
        .await
    }

    /// The owner of the booking's appointment confirms a [pending](BookingStatus::Pending)
    /// booking: it becomes active and keeps its seats. Refused with `InvalidTransition` once it
    /// is no longer pending: from `expired` at its [`Booking::confirm_by`] (to the
    /// microsecond), from `cancelled` if its guest cancelled first. Of a confirmation racing a
    /// cancel, a decline or the deadline, exactly one wins. `Forbidden` for anyone else.
    ///
    /// ```
    /// # use appointment_core::*;
    /// # async fn demo(scheduler: Scheduler<dyn Store>, owner: UserId, code: BookingCode) -> Result<()> {
    /// let booking = scheduler.confirm(owner, &code).await?;
    /// assert_eq!(booking.status, BookingStatus::Active);
    /// # Ok(()) }
    /// ```
    pub async fn confirm(&self, owner: UserId, code: &BookingCode) -> Result<Booking> {
        let booking = self.booking(code).await?;
        let app = self.appointment_by_id(booking.appointment_id).await?;
        only_owner(&app, owner, "confirm")?;
        let now = self.now();
        let from = booking.status_at(now);
        if from != BookingStatus::Pending {
            return Err(Error::InvalidTransition {
                from,
                action: "confirm",
            });
        }
        self.store.confirm_booking(booking.id, now).await
    }

    /// The owner of the booking's appointment declines a [pending](BookingStatus::Pending)
    /// booking, freeing its seats. Refused with `InvalidTransition` once it is no longer
    /// pending (confirmed, cancelled, expired). `Forbidden` for anyone else.
    pub async fn decline(&self, owner: UserId, code: &BookingCode) -> Result<Booking> {
        self.end_as(code, BookingStatus::Declined, Some(owner), |_, _, _| Ok(()))
            .await
    }

    /// Gives back, now, the seats of an appointment's holds and pending bookings that expired
    /// (marking them expired), and answers how many seats that gave back. Nothing depends on it: expired
    /// holds and pending bookings are free for every listing and claim from their deadline on.
    /// A sweeper may call it to keep the stored statuses tidy.
    pub async fn reclaim_expired(&self, code: &AppCode) -> Result<u64> {
        let app = self.appointment(code).await?;
        self.reclaim_expired_of(app.id).await
    }

    /// [`Scheduler::reclaim_expired`] of an appointment by id (a deleted one too).
    async fn reclaim_expired_of(&self, app: AppointmentId) -> Result<u64> {
        let _seats = self.seats_will_change(app);
        self.store.reclaim_expired(app, self.now()).await
    }

    /// One round of a sweeper: finds up to `limit` appointments (1 to [`MAX_EXPIRY_SWEEP`])
    /// that have holds or pending bookings expired and not yet reclaimed, those with the oldest
    /// deadline first (see [`Store::appointments_with_expired`]), and reclaims each as
    /// [`Scheduler::reclaim_expired`] does: the expiries are stored with their events
    /// (`hold.expired`, `booking.expired`), and the seats freed are offered to the slots'
    /// waiting lists (an offer that ran out passes to the next in line, `waitlist.offered`).
    ///
    /// A failure to reclaim one appointment does not stop the others: it is reported in
    /// [`ExpirySweep::failures`]. Only a failure to find them is an error.
    ///
    /// Nothing depends on it for correctness (expired holds and pending bookings are free for
    /// every listing and claim from their deadline on): it is what gets their expiry told
    /// (webhooks, email) when nobody else touches the appointment. Any number of sweepers may
    /// run at once, in this process or in other replicas on the same database: each slot is
    /// reclaimed in one atomic step, so each expiry is written, and its event appended, once.
    ///
    /// ```
    /// # async fn demo(store: impl appointment_core::Store) -> appointment_core::Result<()> {
    /// let scheduler = appointment_core::Scheduler::new(store);
    /// // Rounds of up to 100 appointments, while they give seats back.
    /// for _ in 0..10 {
    ///     let round = scheduler.reclaim_all_expired(100).await?;
    ///     for (appointment, error) in &round.failures {
    ///         eprintln!("could not reclaim what expired on {appointment}: {error}");
    ///     }
    ///     if round.seats == 0 {
    ///         break;
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn reclaim_all_expired(&self, limit: u32) -> Result<ExpirySweep> {
        if limit == 0 || limit > MAX_EXPIRY_SWEEP {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {MAX_EXPIRY_SWEEP}"),
            ));
        }
        let found = self
            .store
            .appointments_with_expired(self.now(), limit)
            .await?;
        let mut sweep = ExpirySweep {
            appointments: found.len(),
            ..ExpirySweep::default()
        };
        for app in found {
            match self.reclaim_expired_of(app).await {
                Ok(seats) => sweep.seats += seats,
                Err(e) => sweep.failures.push((app, e)),
            }
        }
        Ok(sweep)
    }

    /// The owner of the booking's appointment rejects it, freeing its seats. `Forbidden` for
    /// anyone else.
    pub async fn reject(&self, owner: UserId, code: &BookingCode) -> Result<Booking> {
        self.end_as(code, BookingStatus::Rejected, Some(owner), |_, _, _| Ok(()))
            .await
    }

    /// The owner marks an active booking whose slot has started as attended (`completed`).
    /// [`Error::TooEarly`] before the slot's start, `Forbidden` for anyone else. Its seats are
    /// released (the slot is past), and its anti-scalping claim with them: the guest may book
    /// the appointment again.
    pub async fn complete(&self, owner: UserId, code: &BookingCode) -> Result<Booking> {
        self.end_as(code, BookingStatus::Completed, Some(owner), |_, b, now| {
            started(now, b.slot_start, "complete")
        })
        .await
    }

    /// The owner marks an active booking whose slot has started as not attended (`no_show`).
    /// [`Error::TooEarly`] before the slot's start, `Forbidden` for anyone else.
    pub async fn mark_no_show(&self, owner: UserId, code: &BookingCode) -> Result<Booking> {
        self.end_as(code, BookingStatus::NoShow, Some(owner), |_, b, now| {
            started(now, b.slot_start, "mark no-show")
        })
        .await
    }

    /// Ends an active booking with `status`: checks that `owner` (when given) owns its
    /// appointment, that it is active, and that `timing` accepts it, on the slot the booking is
    /// on when the store writes.
    async fn end_as(
        &self,
        code: &BookingCode,
        status: BookingStatus,
        owner: Option<UserId>,
        timing: impl Fn(Option<&Appointment>, &Booking, DateTime<Utc>) -> Result<()>,
    ) -> Result<Booking> {
        let action = status.end_action();
        let mut attempt = 0;
        loop {
            let booking = self.booking(code).await?;
            // A deleted appointment's bookings stay readable and cancellable by their codes.
            let app = match (self.appointment_by_id(booking.appointment_id).await, owner) {
                (Ok(app), _) => Some(app),
                (Err(Error::NotFound(Entity::Appointment)), None) => None,
                (Err(e), _) => return Err(e),
            };
            if let (Some(owner), Some(app)) = (owner, &app) {
                only_owner(app, owner, action)?;
            }
            let now = self.now();
            let from = booking.status_at(now);
            if !from.can_end_as(status) {
                return Err(Error::InvalidTransition { from, action });
            }
            timing(app.as_ref(), &booking, now)?;
            let _seats = self.seats_will_change(booking.appointment_id);
            let end = BookingEnd {
                status,
                slot_start: booking.slot_start,
                now,
            };
            if let Some(ended) = self.store.end_booking(booking.id, end).await? {
                return Ok(ended);
            }
            // Moved meanwhile: decide again on its new slot. A booking moves once per
            // reschedule, so this ends unless it is rescheduled over and over.
            attempt += 1;
            if attempt >= END_ATTEMPTS {
                return Err(Error::unavailable(std::io::Error::other(
                    "the booking kept moving while it was being ended",
                )));
            }
        }
    }

    /// The bookings of an appointment, for its owner only (`Forbidden` for anyone else).
    pub async fn appointment_bookings(
        &self,
        owner: UserId,
        code: &AppCode,
        page: Page,
    ) -> Result<Paged<Booking>> {
        let app = self.appointment(code).await?;
        if app.owner != owner {
            return Err(Error::Forbidden(
                "only the appointment's owner can list its bookings",
            ));
        }
        self.store.bookings_for_appointment(app.id, page).await
    }

    /// The bookings a registered user made.
    pub async fn user_bookings(&self, user: UserId, page: Page) -> Result<Paged<Booking>> {
        self.store.bookings_for_user(user, page).await
    }

    // ------------------------------------------------------------------- bans

    /// Bans a mailbox from all of `owner`'s appointments. The ban is kept on the
    /// [canonical](Email::canonical) address, so it covers every `+tag` alias of it
    /// (banning `ann+1@example.com` bans `ann@example.com` and `ann+2@example.com`).
    /// `Duplicate(Ban)` if the mailbox is already banned.
    pub async fn ban(&self, owner: UserId, email: Email) -> Result<Ban> {
        let ban = Ban {
            id: BanId::new(),
            owner,
            email: email.mailbox(),
            created_at: self.now(),
        };
        self.store.insert_ban(&ban).await?;
        Ok(ban)
    }

    /// Lifts the ban of `email`'s mailbox (any `+tag` alias of it names the same ban).
    /// `NotFound(Ban)` if there was none.
    pub async fn unban(&self, owner: UserId, email: &Email) -> Result<()> {
        if self.store.delete_ban(owner, &email.mailbox()).await? {
            Ok(())
        } else {
            Err(Error::NotFound(Entity::Ban))
        }
    }

    /// The owner's ban list, oldest first.
    pub async fn bans(&self, owner: UserId) -> Result<Vec<Ban>> {
        self.store.bans(owner).await
    }

    // -------------------------------------------------------------- the outbox

    /// The events after `after` (see [`crate::events`]), oldest first, at most `limit` of them
    /// (1 to [`MAX_EVENT_PAGE`]); with `owner`, only those of that owner's appointments. Keep
    /// the cursor of the last event handled and ask again from it: no event is ever missed or
    /// answered twice from one cursor.
    pub async fn events(
        &self,
        owner: Option<UserId>,
        after: EventCursor,
        limit: u32,
    ) -> Result<Vec<Event>> {
        if limit == 0 || limit > MAX_EVENT_PAGE {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {MAX_EVENT_PAGE}"),
            ));
        }
        self.store.events_after(owner, after, limit).await
    }

    // -------------------------------------------------------------- analytics

    /// An owner's figures over the UTC dates `[start, end]`: appointments created in the range;
    /// bookings whose slot starts in the range, by status; seats booked versus seats offered by
    /// the slots (or party events) that start in the range.
    pub async fn analytics(
        &self,
        owner: UserId,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Analytics> {
        match self
            .analytics_inputs(owner, start, end)
            .await?
            .compute(&|| false)
        {
            Ok(a) => Ok(a),
            Err(Stopped) => unreachable!("never asked to stop"),
        }
    }

    /// What [`Scheduler::analytics`] reads from the store. Counting the seats offered from it
    /// ([`AnalyticsInputs::compute`]) is CPU work that grows with the schedules' length, so a
    /// service can run it off its async workers and stop it at a deadline.
    pub async fn analytics_inputs(
        &self,
        owner: UserId,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<AnalyticsInputs> {
        let range = date_range(start, end)?;
        let created = self
            .store
            .appointments_created(owner, range.clone())
            .await?
            .len() as u64;
        let bookings = self
            .store
            .booking_stats(owner, range.clone(), self.now())
            .await?;
        let mut offered = Vec::new();
        let mut page = Page::new(1, Page::MAX_PER_PAGE)?;
        loop {
            let apps = self.store.appointments_by_owner(owner, page).await?;
            offered.extend(
                apps.items
                    .into_iter()
                    .map(|app| (app.capacity, app.schedule)),
            );
            if u64::from(page.page()) >= apps.total_pages {
                break;
            }
            page = Page::new(page.page() + 1, Page::MAX_PER_PAGE)?;
        }
        Ok(AnalyticsInputs {
            start,
            end,
            range,
            created,
            bookings,
            offered,
        })
    }
}

/// How many times an end of a booking is decided again when the booking moved meanwhile.
const END_ATTEMPTS: u32 = 8;

/// How often a claim or an edit is decided again when the appointment changed under it.
const CHANGE_ATTEMPTS: u32 = 8;

/// How often an edit is applied again when another edit of the same appointment won: each
/// round lets one of the racing edits through, so this bounds how many edits of one
/// appointment may race and all succeed.
const EDIT_ATTEMPTS: u32 = 64;

/// Approval and shared resources do not combine: a pending booking would have to occupy a
/// resource until a deadline no other appointment's claim can see.
fn approval_without_resource(app: &Appointment) -> Result<()> {
    if app.resource.is_some() && app.schedule.confirm_within_minutes().is_some() {
        return Err(Error::invalid(
            "confirm_within_minutes",
            "appointments that share a resource cannot require confirmation",
        ));
    }
    Ok(())
}

/// `Forbidden` unless `owner` owns `app`.
fn only_owner(app: &Appointment, owner: UserId, action: &'static str) -> Result<()> {
    if app.owner == owner {
        Ok(())
    } else {
        Err(Error::Forbidden(match action {
            "reject" => "only the appointment's owner can reject its bookings",
            "complete" | "mark no-show" => {
                "only the appointment's owner can mark its bookings completed or no-show"
            }
            "reschedule" => "only the appointment's owner can reschedule as the owner",
            _ => "only the appointment's owner can cancel as the owner",
        }))
    }
}

/// The last instant before which a guest may cancel or reschedule `booking`: its slot's start
/// less the appointment's cancellation cut-off.
fn guest_deadline(app: &Appointment, booking: &Booking) -> DateTime<Utc> {
    booking.slot_start - TimeDelta::minutes(i64::from(app.schedule.cancel_cutoff_minutes()))
}

/// `TooLate` unless `now` is before `deadline`.
fn before(now: DateTime<Utc>, deadline: DateTime<Utc>, action: &'static str) -> Result<()> {
    if now < deadline {
        Ok(())
    } else {
        Err(Error::TooLate { action, deadline })
    }
}

/// `TooEarly` unless the slot starting at `start` has started at `now`.
fn started(now: DateTime<Utc>, start: DateTime<Utc>, action: &'static str) -> Result<()> {
    if now >= start {
        Ok(())
    } else {
        Err(Error::TooEarly {
            action,
            from: start,
        })
    }
}

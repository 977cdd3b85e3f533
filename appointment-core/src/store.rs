//! The storage contract.
//!
//! # Contract
//!
//! A [`Store`] keeps users, appointments, bookings, per-slot seat counters and ban lists. It knows
//! no business rule beyond what each method states; the rules live in [`crate::Scheduler`]. Every
//! method that changes seats is **one atomic operation**: it either does all it says or nothing,
//! whatever runs concurrently on the same store, in this process or another one on the same
//! database. That is what makes overbooking impossible: no implementation may check availability
//! in one step and write in another without a lock or a conditional write that covers both.
//!
//! Seats are counted per slot, keyed by `(appointment, slot start)`. A counter exists only for slots
//! that were ever booked (slots themselves are computed, never stored). A party appointment has
//! exactly one slot, so its shared capacity is that slot's counter. At every commit, a slot's
//! seats taken equal the sum of `attendee_count` over its bookings whose stored status holds
//! seats (active and pending), plus the seats of its held holds.
//!
//! Errors: violations of the rules a method enforces are reported with the matching typed variant
//! ([`Error::SlotFull`], [`Error::Duplicate`], [`Error::InvalidTransition`], [`Error::NotFound`]),
//! never as [`Error::Storage`], which is kept for failures of the backend itself. A backend that
//! cannot be reached (database down, connections refused, no free connection within a bounded
//! wait) answers [`Error::Unavailable`] promptly instead of waiting for it to come back.
//!
//! Holds: a [`Hold`] takes seats exactly as a booking does (the same counter, the same
//! conditional write), so at every commit a slot's counter equals the seats of its active
//! bookings plus those of its holds whose stored status is still held. A held hold whose
//! `expires_at` has passed no longer holds anything, whether or not its status was written yet:
//! [`Store::seats_taken`] leaves it out, and every claim that finds its slot full (a booking, a
//! move, a hold) first gives the seats of that slot's expired holds back (marking them
//! expired) within its own atomic step, then decides. Correctness never waits for a sweeper.
//!
//! Approval: a [pending](BookingStatus::Pending) booking holds its seats like an active one
//! until its [`Booking::confirm_by`], and from that microsecond on holds nothing, exactly as an
//! expired hold: [`Store::seats_taken`] leaves it out, a claim that finds the slot full marks
//! it expired and gives its seats back first, and its anti-scalping claim stops counting once
//! [`Store::reclaim_expired`] has run (which the engine does when a booking finds one in its
//! way, and a sweeper does for what [`Store::appointments_with_expired`] finds). Confirming ([`Store::confirm_booking`]) and ending a pending booking are conditional on
//! its deadline, so a confirmation and an expiry can never both win.
//!
//! Shared resources: a booking whose claim names a [`ResourceClaim`] occupies that resource over
//! `[slot_start, claim.until)`. Two active bookings of *different* appointments never occupy one
//! resource over overlapping times; the store enforces it in the same atomic step as the seats
//! (Postgres: an exclusion constraint; SQLite: a trigger inside the write transaction; memory:
//! under its lock), and reports a clash as [`Error::SlotFull`] with no seats available.
//!
//! Events: every method that changes an appointment, a booking, a hold or a waiting place
//! appends the [`Event`] of each change (see [`crate::EventKind`]'s `of_*` functions for which
//! changes are events) in the same atomic step as the change, including the changes a step
//! makes on its own (an expired hold reclaimed, an offer made). A step that fails appends
//! nothing. [`Store::events_after`] reads them back in order.
//!
//! [`Error::SlotFull`]: crate::Error::SlotFull
//! [`Error::Duplicate`]: crate::Error::Duplicate
//! [`Error::InvalidTransition`]: crate::Error::InvalidTransition
//! [`Error::NotFound`]: crate::Error::NotFound
//! [`Error::Storage`]: crate::Error::Storage
//! [`Error::Unavailable`]: crate::Error::Unavailable

use std::ops::Range;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{
    AppCode, Appointment, AppointmentId, AttendeeCount, Ban, Booking, BookingCode, BookingId,
    BookingStatus, Email, Hold, HoldId, HoldToken, Page, Paged, ResourceKey, User, UserId,
    WaitlistCode, WaitlistEntry, WaitlistId,
};
use crate::error::Result;
use crate::events::{Event, EventCursor};

/// What a new booking claims, besides the booking row itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatClaim {
    /// Seats the slot has in all.
    pub capacity: u32,
    /// Refuse with [`crate::Duplicate::BookingEmail`] if the appointment has an active booking
    /// with the same email, compared by [`Email::canonical`] (`+tag` aliases are one email).
    pub unique_email: bool,
    /// Refuse with [`crate::Duplicate::BookingDevice`] if the appointment has an active booking
    /// from the same device.
    pub unique_device: bool,
    /// The appointment's owner: refuse with [`crate::Error::Banned`] (before any other check) if
    /// this owner banned the booking's email ([`Email::canonical`] form; bans are kept in that
    /// form). Checked within the booking's own atomic step
    /// rather than in a separate read before it.
    pub owner: UserId,
    /// The shared resource the booking occupies, if the appointment names one.
    pub resource: Option<ResourceClaim>,
    /// The appointment's [revision](crate::Appointment::revision) these rules come from: the
    /// claim fails with [`crate::Error::Changed`] (nothing written) unless the appointment
    /// still has it (and is not deleted), checked within the claim's own atomic step.
    pub revision: u64,
}

/// The time a booking occupies its appointment's shared resource: from the slot's start to
/// `until` (the slot's end plus the appointment's buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceClaim {
    /// The resource (see [`crate::ResourceName::key`]).
    pub key: ResourceKey,
    /// The end of the occupied time.
    pub until: DateTime<Utc>,
}

/// The longest time one booking can occupy a resource: a slot of at most a day plus a buffer of
/// at most a day. Stores use it to bound their search for overlapping claims.
pub const MAX_RESOURCE_CLAIM: chrono::TimeDelta = chrono::TimeDelta::days(2);

/// Where [`Store::move_booking`] moves an active booking, and the instant of the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingMove {
    /// The slot start the caller's rules were checked against: the move applies only while the
    /// booking is still on that slot (a concurrent reschedule makes the caller decide again).
    pub from: DateTime<Utc>,
    /// The start of the new slot (may be the booking's current slot).
    pub slot_start: DateTime<Utc>,
    /// The end of the new slot.
    pub slot_end: DateTime<Utc>,
    /// The seats the booking holds afterwards.
    pub attendee_count: AttendeeCount,
    /// What the booking claims on its new slot, checked as for a new booking: the capacity, the
    /// anti-scalping uniqueness, and the owner whose ban list applies.
    pub claim: SeatClaim,
    /// The booking's new free text; `None` keeps it.
    pub description: Option<String>,
    /// The instant of the change, on the engine's clock: the booking's new `updated_at`.
    pub now: DateTime<Utc>,
}

/// How [`Store::end_booking`] ends an active or pending booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingEnd {
    /// The status it ends with: cancelled, rejected, declined, completed or no-show (see
    /// [`BookingStatus::can_end_as`] for which status can end as which).
    pub status: BookingStatus,
    /// The slot start the caller's rules were checked against: the end applies only while the
    /// booking is still on that slot (a concurrent reschedule makes the caller decide again).
    pub slot_start: DateTime<Utc>,
    /// The instant of the change, on the engine's clock: the booking's new `updated_at`.
    pub now: DateTime<Utc>,
}

/// The seats taken on one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlotSeats {
    /// The slot's start.
    pub slot_start: DateTime<Utc>,
    /// Seats held by active and live pending bookings and by live holds.
    pub seats_taken: u32,
}

/// The refusal [`Store::insert_waitlist`] answers while `free` seats of the slot are free: a
/// place in line is for a slot that is full for the seats wanted.
///
/// ```
/// let e = appointment_core::store::seats_free(2);
/// assert!(matches!(e, appointment_core::Error::InvalidInput { .. }));
/// ```
pub fn seats_free(free: u32) -> crate::Error {
    crate::Error::invalid(
        "attendee_count",
        format!("{free} seats of the slot are free: book them instead of joining its waiting list"),
    )
}

/// Counts of an owner's bookings, for analytics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BookingStats {
    /// Bookings that hold seats, confirmed or needing no confirmation.
    pub active: u64,
    /// Bookings waiting for the owner's confirmation (and still in time for it).
    pub pending: u64,
    /// Pending bookings the owner declined.
    pub declined: u64,
    /// Pending bookings nobody confirmed in time.
    pub expired: u64,
    /// Bookings cancelled by their holders (or by the owner).
    pub cancelled: u64,
    /// Bookings rejected by the owner.
    pub rejected: u64,
    /// Bookings the owner marked as attended.
    pub completed: u64,
    /// Bookings the owner marked as not attended.
    pub no_show: u64,
    /// Seats of the bookings that were not called off: active, completed and no-show.
    pub seats_booked: u64,
    /// Seats held by pending bookings, waiting for the owner's confirmation.
    pub seats_pending: u64,
    /// Seats kept by holds live at the time of the count (a form being filled in, a payment
    /// being made).
    pub seats_held: u64,
}

impl BookingStats {
    /// Counts `count` bookings of `status` (as of the time of the count: see
    /// [`Booking::status_at`]) with `seats` seats in all.
    pub fn add(&mut self, status: BookingStatus, count: u64, seats: u64) {
        match status {
            BookingStatus::Active => self.active += count,
            BookingStatus::Pending => {
                self.pending += count;
                self.seats_pending += seats;
            }
            BookingStatus::Declined => self.declined += count,
            BookingStatus::Expired => self.expired += count,
            BookingStatus::Cancelled => self.cancelled += count,
            BookingStatus::Rejected => self.rejected += count,
            BookingStatus::Completed => self.completed += count,
            BookingStatus::NoShow => self.no_show += count,
        }
        if matches!(
            status,
            BookingStatus::Active | BookingStatus::Completed | BookingStatus::NoShow
        ) {
            self.seats_booked += seats;
        }
    }
}

/// Where bookings, appointments, users and bans live. See the [module documentation](self) for the
/// contract every implementation keeps.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // ---- users ----

    /// Inserts a user. Fails with `Duplicate(UserEmail)` or `Duplicate(UserPhone)` if another
    /// user has the same email or phone.
    async fn insert_user(&self, user: &User) -> Result<()>;
    /// A user by id.
    async fn user_by_id(&self, id: UserId) -> Result<Option<User>>;
    /// A user by (normalised) email.
    async fn user_by_email(&self, email: &Email) -> Result<Option<User>>;
    /// Marks `user`'s email address verified at `at`, if it is still `email` (compared in its
    /// canonical form); answers whether the user now has that address verified (`true` also
    /// when it already was: the first time is kept). `false`, writing nothing, for a user with
    /// another address or no such user.
    async fn mark_email_verified(
        &self,
        user: UserId,
        email: &Email,
        at: DateTime<Utc>,
    ) -> Result<bool>;

    // ---- appointments ----

    /// Inserts an appointment (one row: its slots are computed, not stored). Fails with
    /// `Duplicate(Code)` if its code is taken.
    async fn insert_appointment(&self, appointment: &Appointment) -> Result<()>;
    /// Writes an appointment's editable fields (title, description, status, schedule, resource,
    /// `updated_at` and `revision`) as `appointment` holds them, if the stored revision is the
    /// one before (`appointment.revision - 1`); its id, code, owner, kind, capacity, policy and
    /// creation time never change. Answers `false` (nothing written) if the stored revision is
    /// another one (a concurrent edit won). `NotFound(Appointment)` if there is no such
    /// appointment (or it was deleted).
    async fn update_appointment(&self, appointment: &Appointment) -> Result<bool>;
    /// Soft-deletes an appointment at `at`: it is gone from every lookup and listing, while its
    /// bookings stay readable by their codes. `NotFound(Appointment)` if there is none.
    async fn delete_appointment(&self, id: AppointmentId, at: DateTime<Utc>) -> Result<()>;
    /// An appointment by code.
    async fn appointment_by_code(&self, code: &AppCode) -> Result<Option<Appointment>>;
    /// An appointment by id.
    async fn appointment_by_id(&self, id: AppointmentId) -> Result<Option<Appointment>>;
    /// An owner's appointments, newest first.
    async fn appointments_by_owner(&self, owner: UserId, page: Page) -> Result<Paged<Appointment>>;
    /// All of an owner's appointments created in `[range.start, range.end)`.
    async fn appointments_created(
        &self,
        owner: UserId,
        range: Range<DateTime<Utc>>,
    ) -> Result<Vec<Appointment>>;

    // ---- seats and bookings ----

    /// The seat counters of an appointment's slots that start in `[range.start, range.end)` and
    /// hold at least one seat at `now`: seats of active bookings, and of pending bookings and
    /// holds live at `now` (the seats of held holds whose expiry is not after `now`, and of
    /// pending bookings whose `confirm_by` is not after `now`, are left out).
    async fn seats_taken(
        &self,
        appointment: AppointmentId,
        range: Range<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Vec<SlotSeats>>;

    /// The times `[start, until)` over which active bookings of appointments other than
    /// `except` occupy the resource `key` and that overlap `range`, in start order.
    async fn resource_claims(
        &self,
        key: ResourceKey,
        except: AppointmentId,
        range: Range<DateTime<Utc>>,
    ) -> Result<Vec<Range<DateTime<Utc>>>>;

    /// Atomically: takes `booking.attendee_count` seats on the slot
    /// `(booking.appointment_id, booking.slot_start)` if they fit in `claim.capacity` (holds of
    /// the slot expired at `booking.created_at`, and its pending bookings expired then, give
    /// their seats back first), and inserts the booking with its status (active, or pending with
    /// its `confirm_by`). Fails with `Banned` if `claim.owner` banned the booking's
    /// email, with `SlotFull` (nothing written) if the seats do not fit, and with
    /// `Duplicate(BookingEmail | BookingDevice)` when a uniqueness asked for by `claim` is broken,
    /// or `Duplicate(Code)` if the booking code is taken. With `claim.resource`, the booking also
    /// occupies the resource, and fails with `SlotFull` if an active booking of another
    /// appointment occupies it over an overlapping time.
    async fn insert_booking(&self, booking: &Booking, claim: SeatClaim) -> Result<()>;

    /// Atomically moves an active or live pending booking (which stays pending, with its
    /// `confirm_by`) to `to.slot_start`/`to.slot_end` with
    /// `to.attendee_count` seats (and `to.description`, when given): releases its seats on the old slot and takes the new count on
    /// the new one (which may be the same slot) if they fit in `to.claim.capacity` (holds of the
    /// new slot expired at `to.now` give their seats back first), and sets its
    /// `updated_at` to `to.now`. The move is checked as a new booking is, in the same atomic
    /// step: fails with `NotFound(Booking)`, with `InvalidTransition` if the booking is no longer
    /// active, with `Banned` if `to.claim.owner` banned the booking's email, with
    /// `Duplicate(BookingEmail | BookingDevice)` if another active booking holds the uniqueness
    /// `to.claim` asks for, or with `SlotFull`; nothing is written when it fails. Returns the
    /// updated booking, or `None` (nothing written) if the booking is active on another slot than
    /// `to.from`.
    async fn move_booking(&self, id: BookingId, to: &BookingMove) -> Result<Option<Booking>>;

    /// Atomically ends an active booking, or a pending one whose `confirm_by` is after
    /// `end.now`, that is still on the slot `end.slot_start`: sets `status` (one its status
    /// [can end as](BookingStatus::can_end_as)) and `updated_at` (`end.now`), and releases its
    /// seats. Fails with `NotFound(Booking)`, with `InvalidTransition` (from its status as of
    /// `end.now`) if it cannot end so, or with `InvalidInput` if `end.status` is not an end
    /// (nothing written). Returns the updated booking, or `None` (nothing written) if the booking
    /// holds seats on another slot.
    async fn end_booking(&self, id: BookingId, end: BookingEnd) -> Result<Option<Booking>>;

    /// Atomically confirms a pending booking whose `confirm_by` is after `now`: it becomes
    /// active (keeping its seats) with `updated_at` `now`. Fails with `NotFound(Booking)`, or
    /// with `InvalidTransition` from its status as of `now` (expired once `confirm_by` has
    /// passed); of a confirmation and a concurrent end of the same booking, exactly one wins.
    async fn confirm_booking(&self, id: BookingId, now: DateTime<Utc>) -> Result<Booking>;

    /// Gives back the seats of an appointment's holds and pending bookings expired at `now`,
    /// marking them expired, slot by slot (each slot in one atomic step, as a claim reclaims
    /// them); answers how many seats that gave back. Nothing depends on it running
    /// (claims and listings treat expired ones as free), but it frees what a claim would not
    /// reach: the anti-scalping claim of an expired pending booking, and the rows a sweeper tidies.
    async fn reclaim_expired(&self, appointment: AppointmentId, now: DateTime<Utc>) -> Result<u64>;

    /// The appointments that have something expired at `now` and not yet reclaimed: a hold
    /// whose stored status is still held and whose `expires_at` is not after `now` (a waiting
    /// place's offer is such a hold), or a booking whose stored status is still pending and
    /// whose `confirm_by` is not after `now`; exactly what [`Store::reclaim_expired`] at `now`
    /// gives back. Each appointment once, those with the oldest such deadline first, at most
    /// `limit` of them (none for 0); deleted appointments too (their holds and bookings
    /// expire as any others).
    ///
    /// It reads only held holds and pending bookings past their deadline, oldest first, and of
    /// those a bounded number (a small multiple of `limit`): when many of them belong to a few
    /// appointments it may answer fewer than `limit` while more remain, but it never answers
    /// none while one remains. A sweeper reclaims the appointments it answers and asks again
    /// (see [`crate::Scheduler::reclaim_all_expired`]); once they are reclaimed (by anyone)
    /// they are no longer answered.
    async fn appointments_with_expired(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<AppointmentId>>;

    // ---- holds ----

    /// Atomically: takes `hold.seats` seats on the slot `(hold.appointment_id, hold.slot_start)`
    /// if they fit in `capacity` (holds of the slot expired at `hold.created_at` give their seats
    /// back first), and inserts the hold (status held). Fails with `SlotFull` (nothing written),
    /// or `Duplicate(Code)` if the token is taken.
    /// Fails with `Changed(Appointment)` unless the appointment has `revision` (as a booking's
    /// claim does).
    async fn insert_hold(&self, hold: &Hold, capacity: u32, revision: u64) -> Result<()>;

    /// Atomically turns a hold into `booking`, which takes over its seats (no seat check: they
    /// are already counted): the hold must be held and `booking.created_at` before its expiry,
    /// and `booking` is on the hold's appointment and slot with the hold's seats. The booking
    /// is checked as a new booking is for bans and anti-scalping (`claim.owner`,
    /// `claim.unique_email`, `claim.unique_device`; `claim.capacity` is not used). Fails with
    /// `NotFound(Hold)`, `HoldEnded` (expired, released or booked), `Banned`, `Duplicate(BookingEmail | BookingDevice | Code)`, or `InvalidInput`
    /// if the booking does not match the hold; nothing else is written when it fails. Returns
    /// the hold as booked.
    async fn book_hold(&self, hold: HoldId, booking: &Booking, claim: SeatClaim) -> Result<Hold>;

    /// Atomically gives a held hold's seats back: status released at `now`, or expired if its
    /// expiry is not after `now`. A hold already released or expired is answered as it is
    /// (nothing written); a booked one fails with `HoldEnded` (its seats are the booking's).
    /// `NotFound(Hold)` if there is none. Returns the hold as it now is.
    async fn release_hold(&self, hold: HoldId, now: DateTime<Utc>) -> Result<Hold>;

    /// An appointment's holds whose stored status is held (expired ones included until a claim
    /// reclaims them), in slot order.
    async fn held_holds(&self, appointment: AppointmentId) -> Result<Vec<Hold>>;

    /// A hold by token, as stored (see [`Hold::status_at`] for its status at a given time).
    async fn hold_by_token(&self, token: &HoldToken) -> Result<Option<Hold>>;

    /// A hold by id, as stored.
    async fn hold_by_id(&self, id: HoldId) -> Result<Option<Hold>>;

    // ---- waiting lists ----

    /// Atomically: puts `entry` (status waiting) at the end of its slot's waiting list, and
    /// answers its position (1 for the first in line). Checked in the same step: `Changed` unless
    /// the appointment has `claim.revision`; `Banned` if `claim.owner` banned the email; with
    /// `claim.unique_email`, `Duplicate(BookingEmail)` if the email has a booking holding seats
    /// on the appointment and `Duplicate(WaitlistEmail)` if it already waits or holds a live
    /// offer there; and, once the slot's expired holds and pending bookings gave their seats
    /// back (offering them to the places already waiting), `InvalidInput(attendee_count)` if
    /// `entry.seats` fit in `claim.capacity` (seats are free: book them).
    ///
    /// **Offers.** Whenever a store gives seats of a slot that has not started back (a booking
    /// cancelled, rejected, declined or moved away; a hold released; an expired hold or pending
    /// booking reclaimed; an offer left), it offers them in the same atomic step to the slot's
    /// waiting places in join order: each place whose seats fit gets a hold of them (its hold
    /// length the appointment's) and becomes offered; the others keep waiting. A place whose
    /// offer expires is done, and the expiry, once reclaimed, offers its seats to the next.
    async fn insert_waitlist(&self, entry: &WaitlistEntry, claim: SeatClaim) -> Result<u64>;

    /// Atomically: a waiting or offered place leaves the list; a live offer's hold is released
    /// and its seats offered to the next in line. A place already done is answered as it is.
    /// `NotFound(WaitlistEntry)` if there is none.
    async fn leave_waitlist(&self, id: WaitlistId, now: DateTime<Utc>) -> Result<WaitlistEntry>;

    /// A place on a waiting list by code, as stored.
    async fn waitlist_by_code(&self, code: &WaitlistCode) -> Result<Option<WaitlistEntry>>;

    /// A waiting place's position on its slot's list: 1 plus the places waiting ahead of it.
    async fn waitlist_position(&self, entry: &WaitlistEntry) -> Result<u64>;

    /// A booking by code.
    async fn booking_by_code(&self, code: &BookingCode) -> Result<Option<Booking>>;
    /// An appointment's bookings (any status), oldest first.
    async fn bookings_for_appointment(
        &self,
        appointment: AppointmentId,
        page: Page,
    ) -> Result<Paged<Booking>>;
    /// A user's bookings (any status), newest slot first.
    async fn bookings_for_user(&self, user: UserId, page: Page) -> Result<Paged<Booking>>;
    /// Counts of the bookings on an owner's appointments whose slot starts in `[range.start,
    /// range.end)`, by their status as of `now` (a pending booking past its `confirm_by` counts
    /// as expired), and the seats of the holds on those slots live at `now`.
    async fn booking_stats(
        &self,
        owner: UserId,
        range: Range<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<BookingStats>;

    // ---- the outbox ----

    /// The events after `after`, in order, at most `limit` of them; with `owner`, only those of
    /// that owner's appointments. Answers an event only once every change that could come before
    /// it in this order has committed or rolled back, so that a reader who goes on from the
    /// cursor of the last event it read never misses one.
    async fn events_after(
        &self,
        owner: Option<UserId>,
        after: EventCursor,
        limit: u32,
    ) -> Result<Vec<Event>>;

    // ---- ban lists ----

    /// Adds a ban (its email is in [`Email::canonical`] form). Fails with `Duplicate(Ban)` if the
    /// owner already banned that email.
    async fn insert_ban(&self, ban: &Ban) -> Result<()>;
    /// Removes a ban; `false` if there was none.
    async fn delete_ban(&self, owner: UserId, email: &Email) -> Result<bool>;
    /// An owner's bans, oldest first.
    async fn bans(&self, owner: UserId) -> Result<Vec<Ban>>;
}

//! # appointment-core
//!
//! The booking engine of Appointment Master, with no I/O of its own: domain types that cannot be
//! invalid, a lazy slot engine that honours time zones and daylight-saving time, every booking rule
//! once (capacity, anti-scalping, bans, reschedule, cancel, reject, analytics), and the [`Store`]
//! trait that storage backends implement.
//!
//! * [`Schedule`] is the rule an appointment's slots come from; [`Schedule::slots`] generates them.
//! * [`Scheduler`] holds the rules over any [`Store`].
//! * [`Error`] is the one error type; every variant is something a caller can act on.
//! * [`Event`]s are what happened, appended by the store in the same atomic step as each change
//!   and read in order with [`Scheduler::events`] (the [`events`] module says how).
//!
//! Backends live in the `appointment-store` crate (memory, SQLite, Postgres). With the `testing`
//! feature, [`store_conformance_suite!`] expands into the behaviour tests every backend must pass.
#![cfg_attr(docsrs, feature(doc_cfg))]

// The crate's README (its page on crates.io) is checked as documentation is.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}

mod cache;
mod clock;
mod domain;
mod error;
pub mod events;
mod schedule;
mod scheduler;
pub mod store;

#[cfg(feature = "testing")]
pub mod testing;

pub use clock::{Clock, ManualClock, SystemClock};
pub use domain::{
    AntiScalping, AppCode, Appointment, AppointmentId, AppointmentKind, AppointmentStatus,
    AttendeeCount, Ban, BanId, Booking, BookingCode, BookingId, BookingStatus, DeviceId, Email,
    EventId, Hold, HoldId, HoldStatus, HoldToken, Name, Page, Paged, Phone, ResourceKey,
    ResourceName, User, UserId, WaitlistCode, WaitlistEntry, WaitlistId, WaitlistStatus,
};
pub use error::{Duplicate, Entity, Error, Result};
pub use events::{
    EVENT_VERSION, Event, EventCursor, EventKind, EventSubject, MAX_EVENT_PAGE, SubjectFields,
};
pub use schedule::{
    Closure, DEFAULT_HOLD_MINUTES, MAX_CONFIRM_MINUTES, MAX_DATE, MAX_HOLD_MINUTES, MIN_DATE,
    Schedule, ScheduleBuilder, Slot, Slots, TimeWindow, TimeZoneName, Weekdays, WeeklyHours,
};
pub use scheduler::{
    Analytics, AnalyticsInputs, AppointmentChanges, AppointmentEdit, AvailableSlot, Booker,
    BookingUpdate, ExpirySweep, MAX_CAPACITY, MAX_EXPIRY_SWEEP, NewAppointment, NewBooking,
    NewHold, NewUser, NewWaitlistEntry, Reschedule, Scheduler, SlotQuery, Stopped, WaitlistPlace,
};
pub use store::{
    BookingEnd, BookingMove, BookingStats, MAX_RESOURCE_CLAIM, ResourceClaim, SeatClaim, SlotSeats,
    Store,
};

/// Re-exported so that callers name the same `chrono` and `chrono-tz` types as the engine.
pub use chrono;
pub use chrono_tz;

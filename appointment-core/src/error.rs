//! The one error type of the engine.

use std::fmt;

use crate::domain::{BookingStatus, HoldStatus};

/// A `Result` whose error defaults to the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a caller can get wrong or run into. Every variant is something a caller can act on; the
/// server maps each one to one HTTP status, the bindings to one exception class.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The thing named does not exist (or is not visible to the caller).
    #[error("{0} not found")]
    NotFound(Entity),

    /// The slot (or the party) has fewer seats left than were asked for.
    #[error("not enough seats left: {requested} requested, {available} available")]
    SlotFull {
        /// Seats the booking asked for.
        requested: u32,
        /// Seats that were left when the store looked.
        available: u32,
    },

    /// A unique rule was broken: a second active booking under anti-scalping, a second account
    /// with the same email or phone, the same email banned twice.
    #[error("duplicate {0}")]
    Duplicate(Duplicate),

    /// The appointment's owner has banned this email.
    #[error("this email is banned from the owner's appointments")]
    Banned,

    /// The appointment takes bookings of registered users only (strict anti-scalping): a guest
    /// has to register and book as that user.
    #[error("this appointment takes bookings of registered users only; log in to book")]
    RegistrationRequired,

    /// The appointment takes bookings of users whose email address is verified (strict
    /// anti-scalping, where the scheduler requires verified addresses: see
    /// [`Scheduler::with_verified_email_required`](crate::Scheduler::with_verified_email_required)):
    /// the user has to verify their address first.
    #[error(
        "this appointment takes bookings of users with a verified email address; verify yours first"
    )]
    EmailNotVerified,

    /// The caller may not do this (e.g. rejecting a booking of someone else's appointment).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),

    /// An input is not acceptable; nothing was changed.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The input's name, as the caller knows it (e.g. `"email"`, `"start_time"`).
        field: &'static str,
        /// Why it was refused, in words a user can read.
        reason: String,
    },

    /// The booking's status does not allow this (cancelling twice, rejecting a cancelled booking).
    #[error("cannot {action} a booking that is {from}")]
    InvalidTransition {
        /// The status the booking has.
        from: BookingStatus,
        /// What was attempted (`"cancel"`, `"reject"`, `"reschedule"`).
        action: &'static str,
    },

    /// Too late for this change: a guest cancelling or rescheduling after the appointment's
    /// cancellation cut-off ([`crate::Schedule::cancel_cutoff_minutes`]), or anyone moving a
    /// booking whose slot has started. Nothing was changed.
    #[error("too late to {action} this booking: the deadline was {deadline}")]
    TooLate {
        /// What was attempted (`"cancel"`, `"reschedule"`).
        action: &'static str,
        /// The last instant at which it was allowed.
        deadline: chrono::DateTime<chrono::Utc>,
    },

    /// Too early for this change: marking a booking completed or no-show before its slot
    /// starts. Nothing was changed.
    #[error("too early to {action} this booking: possible from {from}")]
    TooEarly {
        /// What was attempted (`"complete"`, `"mark no-show"`).
        action: &'static str,
        /// The first instant at which it is allowed (the slot's start).
        from: chrono::DateTime<chrono::Utc>,
    },

    /// The hold is no longer held: it expired, was released, or was already booked. Its seats
    /// are no longer kept for the token; nothing was changed.
    #[error("the hold is {status}")]
    HoldEnded {
        /// What became of the hold (expired, released or booked).
        status: HoldStatus,
    },

    /// The thing changed while the request was being decided (an appointment edited, closed or
    /// deleted while a booking of it was checked); nothing was written. The engine decides
    /// again on the new state by itself, so callers see this only if it kept changing.
    #[error("the {0} changed while the request was being decided; try again")]
    Changed(Entity),

    /// The store failed for a reason of its own (connection lost, disk full). Not the caller's
    /// fault; its details are for logs, not for clients.
    #[error("storage failure")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),

    /// The store cannot be reached right now: the database is down or restarting, refuses
    /// connections, or no connection became free within the store's wait. Transient: the same
    /// call may succeed later. A booking, reschedule, cancel or reject that fails this way was not
    /// applied; a connection lost while committing one is [`Error::Storage`] instead, since the
    /// commit may have happened.
    #[error("storage temporarily unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl Error {
    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field,
            reason: reason.into(),
        }
    }

    /// Wraps a backend's own error as [`Error::Storage`].
    pub fn storage(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Storage(Box::new(err))
    }

    /// Wraps a backend's own error as [`Error::Unavailable`].
    pub fn unavailable(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Unavailable(Box::new(err))
    }

    /// Whether the error is transient: the same call may succeed if it is retried later.
    ///
    /// ```
    /// use appointment_core::Error;
    /// let down = Error::unavailable(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
    /// assert!(down.is_transient());
    /// assert!(!Error::invalid("email", "is empty").is_transient());
    /// ```
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Unavailable(_))
    }

    /// A stable, machine-readable name of the variant (`"not_found"`, `"slot_full"`, …).
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound(_) => "not_found",
            Error::SlotFull { .. } => "slot_full",
            Error::Duplicate(_) => "duplicate",
            Error::Banned => "banned",
            Error::RegistrationRequired => "registration_required",
            Error::EmailNotVerified => "email_not_verified",
            Error::Forbidden(_) => "forbidden",
            Error::InvalidInput { .. } => "invalid_input",
            Error::InvalidTransition { .. } => "invalid_transition",
            Error::TooLate { .. } => "too_late",
            Error::TooEarly { .. } => "too_early",
            Error::HoldEnded { .. } => "hold_ended",
            Error::Changed(_) => "changed",
            Error::Storage(_) => "storage",
            Error::Unavailable(_) => "unavailable",
        }
    }
}

/// The kinds of things that can be [`Error::NotFound`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Entity {
    /// An appointment (by code or id).
    Appointment,
    /// A booking (by code or id).
    Booking,
    /// A user account.
    User,
    /// A ban-list entry.
    Ban,
    /// A hold of seats (by token or id).
    Hold,
    /// A place on a waiting list (by code).
    WaitlistEntry,
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Entity::Appointment => "appointment",
            Entity::Booking => "booking",
            Entity::User => "user",
            Entity::Ban => "ban",
            Entity::Hold => "hold",
            Entity::WaitlistEntry => "waitlist entry",
        })
    }
}

/// Which unique rule an [`Error::Duplicate`] broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Duplicate {
    /// An active booking with this email already exists on the appointment (anti-scalping).
    BookingEmail,
    /// An active booking from this device already exists on the appointment (strict anti-scalping).
    BookingDevice,
    /// A user with this email exists.
    UserEmail,
    /// A user with this phone number exists.
    UserPhone,
    /// The owner has already banned this email.
    Ban,
    /// This email already waits (or holds an offer) on the appointment's waiting list
    /// (anti-scalping).
    WaitlistEmail,
    /// A generated code collided with an existing one (astronomically unlikely; retried by the rules).
    Code,
}

impl fmt::Display for Duplicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Duplicate::BookingEmail => "active booking for this email",
            Duplicate::BookingDevice => "active booking for this device",
            Duplicate::UserEmail => "user email",
            Duplicate::UserPhone => "user phone number",
            Duplicate::Ban => "ban",
            Duplicate::WaitlistEmail => "place on the waiting list for this email",
            Duplicate::Code => "code",
        })
    }
}

//! The outbox: what happened, in the order it happened.
//!
//! Every change of state a [`Store`](crate::Store) makes (an appointment created, edited, closed,
//! reopened or deleted; a booking created, moved, confirmed or ended; a hold taken and ended; a
//! place on a waiting list joined, offered or left) appends an [`Event`] **in the same atomic
//! step as the change**: no change without its event, no event without its change. Consumers
//! (webhooks, email, an embedding application) read the outbox with
//! [`Scheduler::events`](crate::Scheduler::events) from an [`EventCursor`], which they keep.
//!
//! Order: events come in the order their changes committed as far as anyone can observe. Two
//! changes of one booking (or hold, place, appointment) are always in the order they were made;
//! a reader never sees an event appear behind its cursor (an event becomes readable only once
//! every change that could be ordered before it has committed or rolled back).
//!
//! Events snapshot the entity as the change left it ([`EventSubject`]): a consumer needs no
//! further read to say what happened. Hold tokens are bearer secrets and never appear in events.
//!
//! ```
//! use appointment_core::{EventCursor, EventKind};
//! assert_eq!(EventKind::BookingCreated.as_str(), "booking.created");
//! assert_eq!("booking.no_show".parse::<EventKind>().unwrap(), EventKind::BookingNoShow);
//! let c: EventCursor = "17.42".parse().unwrap();
//! assert!(c > EventCursor::START);
//! assert_eq!(c.to_string(), "17.42");
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::domain::{
    AppCode, Appointment, AppointmentId, AppointmentStatus, AttendeeCount, Booking, BookingCode,
    BookingId, BookingStatus, Email, EventId, Hold, HoldId, HoldStatus, Name, UserId, WaitlistCode,
    WaitlistEntry, WaitlistId, WaitlistStatus, str_enum,
};
use crate::error::{Error, Result};

/// The version of the events' shape; it rises when a field changes meaning or goes away (new
/// fields do not raise it).
pub const EVENT_VERSION: u32 = 1;

/// The most events one read of the outbox answers.
pub const MAX_EVENT_PAGE: u32 = 1000;

str_enum!(
    /// What happened. The name on the wire is `entity.verb`.
    EventKind {
        /// An appointment was created.
        AppointmentCreated = "appointment.created",
        /// An appointment's owner edited it (title, hours, policy, …).
        AppointmentUpdated = "appointment.updated",
        /// An appointment was closed: it takes no bookings (existing ones stay).
        AppointmentClosed = "appointment.closed",
        /// A closed appointment was opened again.
        AppointmentReopened = "appointment.reopened",
        /// An appointment was deleted.
        AppointmentDeleted = "appointment.deleted",
        /// A booking was made: active, or pending when the owner confirms bookings.
        BookingCreated = "booking.created",
        /// A booking moved to another slot or changed its seats.
        BookingRescheduled = "booking.rescheduled",
        /// The owner confirmed a pending booking.
        BookingConfirmed = "booking.confirmed",
        /// The owner declined a pending booking.
        BookingDeclined = "booking.declined",
        /// A booking was cancelled.
        BookingCancelled = "booking.cancelled",
        /// The owner rejected a booking.
        BookingRejected = "booking.rejected",
        /// A pending booking ran out unconfirmed.
        BookingExpired = "booking.expired",
        /// The owner marked a booking as attended.
        BookingCompleted = "booking.completed",
        /// The owner marked a booking as not attended.
        BookingNoShow = "booking.no_show",
        /// Seats were held (a form being filled in, or an offer to a waiting place).
        HoldCreated = "hold.created",
        /// A hold became a booking.
        HoldBooked = "hold.booked",
        /// A hold was given back.
        HoldReleased = "hold.released",
        /// A hold ran out.
        HoldExpired = "hold.expired",
        /// Somebody joined a slot's waiting list.
        WaitlistJoined = "waitlist.joined",
        /// Seats were offered to a waiting place (held for it: see the hold).
        WaitlistOffered = "waitlist.offered",
        /// A place left its waiting list.
        WaitlistLeft = "waitlist.left",
    },
    "type"
);

impl EventKind {
    /// The event of a booking's change from `before` (`None`: a new booking) to `after`, if the
    /// change is one: a new booking, a change of status, or a move (slot or seats).
    ///
    /// ```
    /// use appointment_core::{BookingStatus, EventKind};
    /// use BookingStatus::*;
    /// assert_eq!(EventKind::of_booking(Some(Pending), Active, false), Some(EventKind::BookingConfirmed));
    /// assert_eq!(EventKind::of_booking(Some(Active), Active, true), Some(EventKind::BookingRescheduled));
    /// assert_eq!(EventKind::of_booking(Some(Active), Active, false), None);
    /// ```
    pub fn of_booking(
        before: Option<BookingStatus>,
        after: BookingStatus,
        moved: bool,
    ) -> Option<Self> {
        let Some(before) = before else {
            return Some(Self::BookingCreated);
        };
        if before == after {
            return moved.then_some(Self::BookingRescheduled);
        }
        Some(match after {
            BookingStatus::Active => Self::BookingConfirmed,
            BookingStatus::Pending => return None,
            BookingStatus::Declined => Self::BookingDeclined,
            BookingStatus::Expired => Self::BookingExpired,
            BookingStatus::Cancelled => Self::BookingCancelled,
            BookingStatus::Rejected => Self::BookingRejected,
            BookingStatus::Completed => Self::BookingCompleted,
            BookingStatus::NoShow => Self::BookingNoShow,
        })
    }

    /// The event of a hold's change of status (`None` before: a new hold).
    pub fn of_hold(before: Option<HoldStatus>, after: HoldStatus) -> Option<Self> {
        match (before, after) {
            (None, _) => Some(Self::HoldCreated),
            (Some(b), a) if b == a => None,
            (_, HoldStatus::Held) => None,
            (_, HoldStatus::Booked) => Some(Self::HoldBooked),
            (_, HoldStatus::Released) => Some(Self::HoldReleased),
            (_, HoldStatus::Expired) => Some(Self::HoldExpired),
        }
    }

    /// The event of a waiting place's change of status (`None` before: a new place).
    pub fn of_waitlist(before: Option<WaitlistStatus>, after: WaitlistStatus) -> Option<Self> {
        match (before, after) {
            (None, _) => Some(Self::WaitlistJoined),
            (Some(b), a) if b == a => None,
            (_, WaitlistStatus::Offered) => Some(Self::WaitlistOffered),
            (_, WaitlistStatus::Left) => Some(Self::WaitlistLeft),
            _ => None,
        }
    }

    /// The event of an appointment's change (`None` before: a new appointment): deleted, closed,
    /// reopened, or else edited (a new revision).
    pub fn of_appointment(
        before: Option<(AppointmentStatus, u64)>,
        after: (AppointmentStatus, u64),
        deleted: bool,
    ) -> Option<Self> {
        let Some((status, revision)) = before else {
            return Some(Self::AppointmentCreated);
        };
        if deleted {
            return Some(Self::AppointmentDeleted);
        }
        match (status, after.0) {
            (AppointmentStatus::Active, AppointmentStatus::Closed) => Some(Self::AppointmentClosed),
            (AppointmentStatus::Closed, AppointmentStatus::Active) => {
                Some(Self::AppointmentReopened)
            }
            _ => (revision != after.1).then_some(Self::AppointmentUpdated),
        }
    }
}

/// A place in the outbox: the events after it are the ones not read yet. Cursors order as the
/// events do; [`EventCursor::START`] is before every event. Written as `tx.seq` (two decimal
/// numbers), which is what a consumer stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EventCursor {
    /// The writing transaction's order (0 where the store commits one writer at a time).
    pub tx: u64,
    /// The event's insertion number.
    pub seq: u64,
}

impl EventCursor {
    /// Before every event.
    pub const START: EventCursor = EventCursor { tx: 0, seq: 0 };
}

impl fmt::Display for EventCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.tx, self.seq)
    }
}

impl FromStr for EventCursor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::invalid("after", "must be a cursor of the form TX.SEQ, e.g. 0.42");
        let (tx, seq) = s.trim().split_once('.').ok_or_else(bad)?;
        Ok(EventCursor {
            tx: tx.parse().map_err(|_| bad())?,
            seq: seq.parse().map_err(|_| bad())?,
        })
    }
}

/// What an event is about, as the change left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventSubject {
    /// An appointment.
    Appointment {
        /// Its status after the change.
        status: AppointmentStatus,
        /// Its revision after the change.
        revision: u64,
    },
    /// A booking.
    Booking {
        /// The booking's id.
        id: BookingId,
        /// The booking's code (what its holder manages it with).
        code: BookingCode,
        /// Its status after the change.
        status: BookingStatus,
        /// The slot's start.
        slot_start: DateTime<Utc>,
        /// The slot's end.
        slot_end: DateTime<Utc>,
        /// The seats it holds (or held).
        seats: AttendeeCount,
        /// The booker's name.
        name: Name,
        /// The booker's email.
        email: Email,
        /// A pending booking's deadline for the owner's confirmation.
        confirm_by: Option<DateTime<Utc>>,
    },
    /// A hold (never its token).
    Hold {
        /// The hold's id.
        id: HoldId,
        /// Its status after the change.
        status: HoldStatus,
        /// The slot's start.
        slot_start: DateTime<Utc>,
        /// The slot's end.
        slot_end: DateTime<Utc>,
        /// The seats it holds (or held).
        seats: AttendeeCount,
        /// When it runs out.
        expires_at: DateTime<Utc>,
        /// The booking it became, once booked.
        booking_id: Option<BookingId>,
    },
    /// A place on a waiting list.
    Waitlist {
        /// The place's id.
        id: WaitlistId,
        /// The place's code (what its holder looks it up with).
        code: WaitlistCode,
        /// Its status after the change.
        status: WaitlistStatus,
        /// The slot's start.
        slot_start: DateTime<Utc>,
        /// The slot's end.
        slot_end: DateTime<Utc>,
        /// The seats wanted.
        seats: AttendeeCount,
        /// The name of whoever waits.
        name: Name,
        /// Their email.
        email: Email,
        /// The hold of an offer.
        hold_id: Option<HoldId>,
    },
}

/// An [`EventSubject`]'s fields side by side, each `None` where the subject's kind has none: the
/// one shape in which every kind of event can be shown (a record of the language bindings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectFields {
    /// The subject's status after the change (`active`, `cancelled`, `held`, `offered`, …).
    pub status: &'static str,
    /// An appointment's revision.
    pub revision: Option<u64>,
    /// A booking's id, or the booking a hold became.
    pub booking_id: Option<BookingId>,
    /// A booking's code.
    pub booking_code: Option<BookingCode>,
    /// A hold's id, or the hold of a waiting place's offer.
    pub hold_id: Option<HoldId>,
    /// A waiting place's id.
    pub waitlist_id: Option<WaitlistId>,
    /// A waiting place's code.
    pub waitlist_code: Option<WaitlistCode>,
    /// The slot's start (bookings, holds, waiting places).
    pub slot_start: Option<DateTime<Utc>>,
    /// The slot's end (bookings, holds, waiting places).
    pub slot_end: Option<DateTime<Utc>>,
    /// The seats booked, held or wanted.
    pub seats: Option<AttendeeCount>,
    /// The booker's or the waiting person's name.
    pub name: Option<Name>,
    /// Their email.
    pub email: Option<Email>,
    /// A pending booking's deadline for the owner's confirmation.
    pub confirm_by: Option<DateTime<Utc>>,
    /// When a hold runs out.
    pub expires_at: Option<DateTime<Utc>>,
}

impl EventSubject {
    /// The subject's fields side by side (see [`SubjectFields`]).
    ///
    /// ```
    /// use appointment_core::{AppointmentStatus, EventSubject};
    /// let s = EventSubject::Appointment { status: AppointmentStatus::Closed, revision: 3 };
    /// let f = s.fields();
    /// assert_eq!((f.status, f.revision, f.slot_start), ("closed", Some(3), None));
    /// ```
    pub fn fields(&self) -> SubjectFields {
        use EventSubject as S;
        let mut f = SubjectFields::default();
        match self {
            S::Appointment { status, revision } => {
                f.status = status.as_str();
                f.revision = Some(*revision);
            }
            S::Booking {
                id,
                code,
                status,
                confirm_by,
                ..
            } => {
                f.status = status.as_str();
                (f.booking_id, f.booking_code) = (Some(*id), Some(code.clone()));
                f.confirm_by = *confirm_by;
            }
            S::Hold {
                id,
                status,
                expires_at,
                booking_id,
                ..
            } => {
                f.status = status.as_str();
                (f.hold_id, f.booking_id) = (Some(*id), *booking_id);
                f.expires_at = Some(*expires_at);
            }
            S::Waitlist {
                id,
                code,
                status,
                hold_id,
                ..
            } => {
                f.status = status.as_str();
                (f.waitlist_id, f.waitlist_code) = (Some(*id), Some(code.clone()));
                f.hold_id = *hold_id;
            }
        }
        if let S::Booking {
            slot_start,
            slot_end,
            seats,
            ..
        }
        | S::Hold {
            slot_start,
            slot_end,
            seats,
            ..
        }
        | S::Waitlist {
            slot_start,
            slot_end,
            seats,
            ..
        } = self
        {
            (f.slot_start, f.slot_end, f.seats) =
                (Some(*slot_start), Some(*slot_end), Some(*seats));
        }
        if let S::Booking { name, email, .. } | S::Waitlist { name, email, .. } = self {
            (f.name, f.email) = (Some(name.clone()), Some(email.clone()));
        }
        f
    }
}

/// One entry of the outbox. See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The event's id.
    pub id: EventId,
    /// Its place in the outbox.
    pub cursor: EventCursor,
    /// What happened.
    pub kind: EventKind,
    /// When: the instant of the change, on the engine's clock.
    pub at: DateTime<Utc>,
    /// The owner of the appointment it happened on.
    pub owner: UserId,
    /// The appointment it happened on.
    pub appointment_id: AppointmentId,
    /// That appointment's code.
    pub app_code: AppCode,
    /// What it is about.
    pub subject: EventSubject,
}

impl Event {
    /// The id of the entity the event is about (the appointment's for appointment events).
    pub fn subject_id(&self) -> uuid::Uuid {
        match &self.subject {
            EventSubject::Appointment { .. } => self.appointment_id.0,
            EventSubject::Booking { id, .. } => id.0,
            EventSubject::Hold { id, .. } => id.0,
            EventSubject::Waitlist { id, .. } => id.0,
        }
    }

    /// A new event (fresh id, cursor to be given by the store) about an appointment.
    pub fn appointment(kind: EventKind, a: &Appointment, at: DateTime<Utc>) -> Self {
        Self::new(
            kind,
            at,
            a.owner,
            a.id,
            &a.code,
            EventSubject::Appointment {
                status: a.status,
                revision: a.revision,
            },
        )
    }

    /// A new event about a booking, as it now is, of an appointment of `owner`.
    pub fn booking(kind: EventKind, b: &Booking, owner: UserId) -> Self {
        Self::new(
            kind,
            b.updated_at,
            owner,
            b.appointment_id,
            &b.app_code,
            EventSubject::Booking {
                id: b.id,
                code: b.code.clone(),
                status: b.status,
                slot_start: b.slot_start,
                slot_end: b.slot_end,
                seats: b.attendee_count,
                name: b.name.clone(),
                email: b.email.clone(),
                confirm_by: b.confirm_by,
            },
        )
    }

    /// A new event about a hold, as it now is, of an appointment of `owner`.
    pub fn hold(kind: EventKind, h: &Hold, owner: UserId) -> Self {
        Self::new(
            kind,
            h.updated_at,
            owner,
            h.appointment_id,
            &h.app_code,
            EventSubject::Hold {
                id: h.id,
                status: h.status,
                slot_start: h.slot_start,
                slot_end: h.slot_end,
                seats: h.seats,
                expires_at: h.expires_at,
                booking_id: h.booking_id,
            },
        )
    }

    /// A new event about a waiting place, as it now is, of an appointment of `owner`.
    pub fn waitlist(kind: EventKind, w: &WaitlistEntry, owner: UserId) -> Self {
        Self::new(
            kind,
            w.updated_at,
            owner,
            w.appointment_id,
            &w.app_code,
            EventSubject::Waitlist {
                id: w.id,
                code: w.code.clone(),
                status: w.status,
                slot_start: w.slot_start,
                slot_end: w.slot_end,
                seats: w.seats,
                name: w.name.clone(),
                email: w.email.clone(),
                hold_id: w.hold_id,
            },
        )
    }

    fn new(
        kind: EventKind,
        at: DateTime<Utc>,
        owner: UserId,
        appointment_id: AppointmentId,
        app_code: &AppCode,
        subject: EventSubject,
    ) -> Self {
        Event {
            id: EventId::new(),
            cursor: EventCursor::START,
            kind,
            at,
            owner,
            appointment_id,
            app_code: app_code.clone(),
            subject,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_parse_and_order() {
        let a: EventCursor = "0.9".parse().expect("cursor");
        let b: EventCursor = "1.2".parse().expect("cursor");
        assert!(a < b);
        assert!(EventCursor::START < a);
        for bad in ["", "1", "a.b", "1.-2", "1.2.3", "-1.2"] {
            assert!(bad.parse::<EventCursor>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_kind_round_trips() {
        for k in EventKind::ALL {
            assert_eq!(k.as_str().parse::<EventKind>().expect("kind"), *k);
        }
    }

    #[test]
    fn changes_that_are_not_events() {
        use BookingStatus::*;
        assert_eq!(
            EventKind::of_booking(None, Pending, false),
            Some(EventKind::BookingCreated)
        );
        assert_eq!(EventKind::of_booking(Some(Active), Active, false), None);
        assert_eq!(
            EventKind::of_hold(Some(HoldStatus::Held), HoldStatus::Held),
            None
        );
        assert_eq!(
            EventKind::of_waitlist(Some(WaitlistStatus::Waiting), WaitlistStatus::Offered),
            Some(EventKind::WaitlistOffered)
        );
        let open = (AppointmentStatus::Active, 1);
        assert_eq!(EventKind::of_appointment(Some(open), open, false), None);
        assert_eq!(
            EventKind::of_appointment(Some(open), (AppointmentStatus::Active, 2), false),
            Some(EventKind::AppointmentUpdated)
        );
        assert_eq!(
            EventKind::of_appointment(Some(open), (AppointmentStatus::Closed, 2), false),
            Some(EventKind::AppointmentClosed)
        );
    }
}

//! Bookings as RFC 5545 calendars: one booking's `.ics`, and an owner's subscription feed.
//!
//! Times are written as UTC instants (`…Z`): unambiguous on either side of a DST switch, and
//! every calendar shows them in its user's zone, so no `VTIMEZONE` is needed.

use appointment_core::{Booking, BookingStatus};
use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus, Property};

/// The product identifier written in every calendar.
pub const PRODID: &str = "-//Appointment Master//Bookings//EN";
/// The name a subscription feed shows in calendar applications.
pub const FEED_NAME: &str = "Appointment Master bookings";

/// What the calendar says about its events (`METHOD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A calendar published for reading: a live booking, or a feed.
    Publish,
    /// An invitation sent by mail: the booking takes place (or now takes place at a new time).
    Request,
    /// The booking no longer takes place (cancelled, rejected, declined or expired).
    Cancel,
}

impl Method {
    /// The name written as `METHOD`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Publish => "PUBLISH",
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }

    /// The method of a calendar holding this one booking, as of `now`.
    pub fn of(booking: &Booking, now: DateTime<Utc>) -> Self {
        match booking.status_at(now) {
            BookingStatus::Cancelled
            | BookingStatus::Rejected
            | BookingStatus::Declined
            | BookingStatus::Expired => Method::Cancel,
            BookingStatus::Active
            | BookingStatus::Pending
            | BookingStatus::Completed
            | BookingStatus::NoShow => Method::Publish,
        }
    }
}

/// The `UID` of a booking's event: stable for the booking's whole life.
pub fn uid(booking: &Booking) -> String {
    format!("{}@appointment-master", booking.id.0)
}

/// When the booking last changed as of `now`: its `updated_at`, or, for a pending booking that
/// expired by the clock without a write, its deadline.
fn last_change(booking: &Booking, now: DateTime<Utc>) -> DateTime<Utc> {
    match (booking.status, booking.status_at(now), booking.confirm_by) {
        (BookingStatus::Pending, BookingStatus::Expired, Some(by)) => by.max(booking.updated_at),
        _ => booking.updated_at,
    }
}

/// The event's `SEQUENCE`: the whole seconds, rounded up, from the booking's creation to its
/// last change. 0 for a booking never changed; it rises with every change made at least a
/// second after the one before (and the first change always raises it), without a column of
/// its own; changes within one second share a number, and `LAST-MODIFIED` tells them apart.
pub fn sequence(booking: &Booking, now: DateTime<Utc>) -> u32 {
    let micros = (last_change(booking, now) - booking.created_at)
        .num_microseconds()
        .unwrap_or(i64::MAX)
        .max(0);
    u32::try_from(micros.saturating_add(999_999) / 1_000_000).unwrap_or(u32::MAX)
}

/// What the event's `DESCRIPTION` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Whoever holds the booking code: the code, and how to manage the booking with it.
    Booker,
    /// The appointment's owner, in a feed that calendar services fetch: who booked and how
    /// many seats, never the booking code (a credential of the booker's).
    Owner,
}

fn description(booking: &Booking, audience: Audience) -> String {
    let code = booking.code.as_str();
    match audience {
        Audience::Booker => format!(
            "Booking code: {code}\n\
             View it: GET /bookings/{code}\n\
             Reschedule: PUT /bookings/{code}\n\
             Cancel: DELETE /bookings/{code}\n\
             Keep the code private: whoever holds it can change the booking."
        ),
        Audience::Owner => {
            let seats = booking.attendee_count.get();
            let plural = if seats == 1 { "" } else { "s" };
            format!("Booked by {} ({seats} seat{plural})", booking.name.as_str())
        }
    }
}

/// Text as a property value: control characters other than line feeds (which the writer
/// escapes) become spaces, so that no text can end a line and start a property of its own.
fn plain(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

/// The `VEVENT` of a booking of the appointment titled `title`, as of `now`.
pub fn event(booking: &Booking, title: &str, audience: Audience, now: DateTime<Utc>) -> Event {
    let status = match booking.status_at(now) {
        BookingStatus::Pending => EventStatus::Tentative,
        BookingStatus::Active | BookingStatus::Completed | BookingStatus::NoShow => {
            EventStatus::Confirmed
        }
        BookingStatus::Cancelled
        | BookingStatus::Rejected
        | BookingStatus::Declined
        | BookingStatus::Expired => EventStatus::Cancelled,
    };
    Event::new()
        .uid(&uid(booking))
        .sequence(sequence(booking, now))
        .timestamp(now)
        .created(booking.created_at)
        .last_modified(last_change(booking, now))
        .starts(booking.slot_start)
        .ends(booking.slot_end)
        .summary(&plain(title))
        .description(&plain(&description(booking, audience)))
        .status(status)
        .done()
}

fn calendar(method: Method) -> Calendar {
    let mut cal = Calendar::empty();
    cal.append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", PRODID))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", method.as_str()));
    cal
}

/// The calendar of one booking, for whoever holds its code.
pub fn booking_calendar(booking: &Booking, title: &str, now: DateTime<Utc>) -> String {
    let mut cal = calendar(Method::of(booking, now));
    cal.push(event(booking, title, Audience::Booker, now));
    cal.to_string()
}

/// Someone's name as a parameter value: no quotes or control characters (the writer quotes
/// values with separators).
fn parameter_text(text: &str) -> String {
    text.chars()
        .filter(|c| *c != '"')
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The invitation mailed to a booking's booker as of `now` (the instant of the change it tells
/// of): `METHOD:REQUEST` while the booking takes place, `METHOD:CANCEL` once it does not, with
/// the appointment's owner as `ORGANIZER` and the booker as `ATTENDEE`, and the same `UID` and
/// `SEQUENCE` as the booking's `.ics`, so a calendar updates or removes the event it holds.
pub fn invite(
    booking: &Booking,
    title: &str,
    organizer: (&str, &str),
    now: DateTime<Utc>,
) -> (Method, String) {
    let method = match Method::of(booking, now) {
        Method::Cancel => Method::Cancel,
        Method::Publish | Method::Request => Method::Request,
    };
    let mut event = event(booking, title, Audience::Booker, now);
    let (name, email) = organizer;
    let mut organizer = Property::new("ORGANIZER", format!("mailto:{email}"));
    organizer.add_parameter("CN", &parameter_text(name));
    let mut attendee = Property::new("ATTENDEE", format!("mailto:{}", booking.email.as_str()));
    attendee
        .add_parameter("CN", &parameter_text(booking.name.as_str()))
        .add_parameter("ROLE", "REQ-PARTICIPANT")
        .add_parameter(
            "PARTSTAT",
            if method == Method::Cancel {
                "DECLINED"
            } else {
                "ACCEPTED"
            },
        );
    event.append_property(organizer).append_property(attendee);
    let mut cal = calendar(method);
    cal.push(event);
    (method, cal.to_string())
}

/// An owner's feed: one event per booking, `METHOD:PUBLISH`, named [`FEED_NAME`].
pub fn feed_calendar<'a>(
    bookings: impl IntoIterator<Item = (&'a Booking, &'a str)>,
    now: DateTime<Utc>,
) -> String {
    let mut cal = calendar(Method::Publish);
    cal.name(FEED_NAME);
    for (booking, title) in bookings {
        cal.push(event(booking, title, Audience::Owner, now));
    }
    cal.to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use appointment_core::{
        AppCode, AppointmentId, AttendeeCount, BookingCode, BookingId, Email, Name,
    };
    use chrono::TimeZone;

    use super::*;

    fn booking(status: BookingStatus) -> Booking {
        let created = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        Booking {
            id: BookingId(uuid::Uuid::nil()),
            code: BookingCode::parse("BK-ABCDEFGHJKLM").unwrap(),
            appointment_id: AppointmentId(uuid::Uuid::nil()),
            app_code: AppCode::parse("AP-ABCDEFGHJKLM").unwrap(),
            user_id: None,
            name: Name::parse("Ada").unwrap(),
            email: Email::parse("ada@example.com").unwrap(),
            phone: None,
            slot_start: Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).unwrap(),
            slot_end: Utc.with_ymd_and_hms(2026, 3, 29, 1, 30, 0).unwrap(),
            attendee_count: AttendeeCount::new(1).unwrap(),
            status,
            confirm_by: None,
            description: String::new(),
            device_id: None,
            created_at: created,
            updated_at: created,
        }
    }

    #[test]
    fn the_sequence_starts_at_zero_and_rises_with_the_first_change_however_soon() {
        let mut b = booking(BookingStatus::Active);
        let now = b.created_at;
        assert_eq!(sequence(&b, now), 0);
        b.updated_at = b.created_at + chrono::TimeDelta::milliseconds(1);
        assert_eq!(sequence(&b, now), 1);
        b.updated_at = b.created_at + chrono::TimeDelta::milliseconds(2_500);
        assert_eq!(sequence(&b, now), 3);
    }

    #[test]
    fn a_pending_booking_that_expired_by_the_clock_is_cancelled_with_a_higher_sequence() {
        let mut b = booking(BookingStatus::Pending);
        let by = b.created_at + chrono::TimeDelta::minutes(10);
        b.confirm_by = Some(by);
        let before = b.created_at + chrono::TimeDelta::minutes(1);
        assert_eq!(Method::of(&b, before), Method::Publish);
        assert!(booking_calendar(&b, "Cut", before).contains("STATUS:TENTATIVE\r\n"));
        let after = by + chrono::TimeDelta::minutes(1);
        assert_eq!(Method::of(&b, after), Method::Cancel);
        assert_eq!(sequence(&b, after), 600);
        let ics = booking_calendar(&b, "Cut", after);
        assert!(ics.contains("METHOD:CANCEL\r\n"), "{ics}");
        assert!(ics.contains("STATUS:CANCELLED\r\n"), "{ics}");
    }

    #[test]
    fn titles_cannot_add_properties_and_times_are_utc_instants() {
        let b = booking(BookingStatus::Active);
        let ics = booking_calendar(&b, "Cut\r\nMETHOD:CANCEL;x,y", b.created_at);
        assert!(ics.contains("METHOD:PUBLISH\r\n"), "{ics}");
        assert!(!ics.contains("\r\nMETHOD:CANCEL"), "{ics}");
        assert!(
            ics.contains("SUMMARY:Cut \\nMETHOD:CANCEL\\;x\\,y\r\n"),
            "{ics}"
        );
        assert!(ics.contains("DTSTART:20260329T003000Z\r\n"), "{ics}");
        assert!(ics.contains("DTEND:20260329T013000Z\r\n"), "{ics}");
        assert!(
            ics.contains("UID:00000000-0000-0000-0000-000000000000@appointment-master\r\n"),
            "{ics}"
        );
    }

    #[test]
    fn invites_name_organizer_and_attendee_and_cancel_with_the_same_uid() {
        let mut b = booking(BookingStatus::Active);
        // Long lines are folded (RFC 5545 3.1); the checks read them unfolded.
        let unfold = |ics: String| ics.replace("\r\n ", "");
        let (method, ics) = invite(
            &b,
            "Cut",
            ("Bob \"the\" Barber; Ltd", "bob@example.com"),
            b.created_at,
        );
        let ics = unfold(ics);
        assert_eq!(method, Method::Request);
        assert!(ics.contains("METHOD:REQUEST\r\n"), "{ics}");
        assert!(
            ics.contains("ORGANIZER;CN=\"Bob the Barber; Ltd\":mailto:bob@example.com\r\n"),
            "{ics}"
        );
        assert!(ics.contains("mailto:ada@example.com"), "{ics}");
        assert!(ics.contains("PARTSTAT=ACCEPTED"), "{ics}");
        b.status = BookingStatus::Cancelled;
        b.updated_at = b.created_at + chrono::TimeDelta::seconds(90);
        let (method, cancel) = invite(&b, "Cut", ("Bob", "bob@example.com"), b.updated_at);
        let cancel = unfold(cancel);
        assert_eq!(method, Method::Cancel);
        assert!(cancel.contains("METHOD:CANCEL\r\n"), "{cancel}");
        assert!(cancel.contains("SEQUENCE:90\r\n"), "{cancel}");
        assert!(cancel.contains(&format!("UID:{}\r\n", uid(&b))), "{cancel}");
    }

    #[test]
    fn the_owners_feed_never_carries_booking_codes() {
        let b = booking(BookingStatus::Active);
        let ics = feed_calendar([(&b, "Cut")], b.created_at);
        assert!(!ics.contains("BK-ABCDEFGHJKLM"), "{ics}");
        assert!(ics.contains("X-WR-CALNAME:Appointment Master bookings\r\n"));
        assert!(ics.contains("Booked by Ada (1 seat)"), "{ics}");
    }
}

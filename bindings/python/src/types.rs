//! The engine's values as Python classes: read-only snapshots, times as aware `datetime`s in UTC.

use std::collections::BTreeMap;

use appointment_core::chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use appointment_core::{self as core, WeeklyHours};
use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyDict, PyList, PyTzInfo};

use crate::errors::{OrRaise, invalid_argument};

/// An instant given by Python: a timezone-aware `datetime` (any zone), converted to UTC.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Instant(pub(crate) DateTime<Utc>);

impl<'a, 'py> FromPyObject<'a, 'py> for Instant {
    type Error = PyErr;

    /// For the arguments named `start` (a slot by its start).
    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        aware_utc(&ob, "start").map(Instant)
    }
}

/// An instant given as the argument `end`.
pub(crate) fn end_instant(ob: &Bound<'_, PyAny>) -> PyResult<Instant> {
    aware_utc(ob, "end").map(Instant)
}

/// A timezone-aware `datetime` (any zone) as an instant in UTC; a naive one is refused as an
/// invalid `field`.
pub(crate) fn aware_utc(ob: &Bound<'_, PyAny>, field: &'static str) -> PyResult<DateTime<Utc>> {
    let py = ob.py();
    let dt = ob.cast::<PyDateTime>()?;
    if dt.call_method0("utcoffset")?.is_none() {
        return Err(invalid_argument(field, "must be a timezone-aware datetime"));
    }
    let utc = dt.call_method1("astimezone", (PyTzInfo::utc(py)?,))?;
    utc.extract()
}

/// A registered user.
#[pyclass(frozen, get_all, module = "appointment_master")]
#[derive(Debug, Clone)]
pub struct User {
    /// Primary key (a UUID string).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Email, lower-cased.
    pub email: String,
    /// Phone, normalised, if given.
    pub phone: Option<String>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the user proved they receive mail at `email` (`verify_email`), or `None`.
    pub email_verified_at: Option<DateTime<Utc>>,
}

impl From<core::User> for User {
    fn from(u: core::User) -> Self {
        User {
            id: u.id.to_string(),
            name: u.name.to_string(),
            email: u.email.to_string(),
            phone: u.phone.map(|p| p.to_string()),
            created_at: u.created_at,
            email_verified_at: u.email_verified_at,
        }
    }
}

#[pymethods]
impl User {
    fn __repr__(&self) -> String {
        format!("User(id={:?}, email={:?})", self.id, self.email)
    }
}

/// An appointment: the rule its slots come from, its capacity and its policies.
#[pyclass(frozen, get_all, module = "appointment_master")]
#[derive(Debug, Clone)]
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
    /// `"single"`, `"group"` or `"party"`.
    pub kind: String,
    /// Seats per slot (party: of the one event).
    pub capacity: u32,
    /// `"none"`, `"standard"` or `"strict"`.
    pub anti_scalping: String,
    /// `"active"` or `"closed"`.
    pub status: String,
    /// First date (inclusive).
    pub start_date: NaiveDate,
    /// Last date (inclusive).
    pub end_date: NaiveDate,
    /// Start of the daily window, wall-clock time in `time_zone`.
    pub start_time: NaiveTime,
    /// End of the daily window, wall-clock time in `time_zone`.
    pub end_time: NaiveTime,
    /// Slot length in minutes.
    pub slot_minutes: u32,
    /// Minutes between slots.
    pub buffer_minutes: u32,
    /// IANA time zone of the window.
    pub time_zone: String,
    /// Weekdays with slots (`"mon"` … `"sun"`).
    pub weekdays: Vec<String>,
    /// Minimum notice in minutes.
    pub min_notice_minutes: u32,
    /// Booking horizon in days, if any.
    pub horizon_days: Option<u32>,
    /// The cancellation cut-off in minutes: guests may cancel or reschedule a booking only until
    /// this long before its slot starts (0: until the start). The owner is not bound by it.
    pub cancel_cutoff_minutes: u32,
    /// How long a hold of seats (`Scheduler.hold`) lasts, in minutes.
    pub hold_minutes: u32,
    /// Approval: if set, bookings start `"pending"` and hold their seats until the owner
    /// confirms or declines them, for at most this many minutes (and never past the slot's
    /// start), after which they expire. `None`: bookings are active at once.
    pub confirm_within_minutes: Option<u32>,
    /// The hours of a typical week, in the text form `create_appointment` accepts, e.g.
    /// `"mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00"` (`"closed"` if none).
    pub weekly_hours: String,
    /// Dates whose hours differ from their weekday's, in date order, with their windows (an
    /// empty list: closed that date).
    pub overrides: BTreeMap<NaiveDate, Vec<String>>,
    /// Closed date ranges, in date order.
    pub closures: Vec<Closure>,
    /// The shared resource (a chair, a room, a person) its bookings occupy, if any.
    pub resource: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last edited, closed or reopened (`created_at` until then).
    pub updated_at: DateTime<Utc>,
    /// 0 when created; every edit, close and reopen moves it on by one. Give it back as
    /// `if_revision` to apply a change only to the appointment as it was read.
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
            start_date: s.start_date(),
            end_date: s.end_date(),
            start_time: span.map_or(NaiveTime::MIN, |w| w.start_time()),
            // `datetime.time` has no 24:00: a window that ends at midnight shows 23:59:59.
            end_time: span
                .and_then(|w| w.end_time())
                .unwrap_or(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN)),
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
            overrides: s
                .overrides()
                .map(|(date, windows)| (date, windows.iter().map(ToString::to_string).collect()))
                .collect(),
            closures: s.closures().iter().map(Closure::from).collect(),
            resource: a.resource.as_ref().map(ToString::to_string),
            created_at: a.created_at,
            updated_at: a.updated_at,
            revision: a.revision,
        }
    }
}

/// What an edit, close or reopen did: the appointment as it now is, and how many bookings (active
/// or pending) of slots still to come its hours no longer offer (an edit never cancels or moves a
/// booking).
#[pyclass(frozen, get_all, module = "appointment_master")]
#[derive(Debug, Clone)]
pub struct AppointmentEdit {
    /// The appointment after the change.
    pub appointment: Appointment,
    /// Bookings (active or pending) still to come that fall outside the new hours.
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

#[pymethods]
impl AppointmentEdit {
    fn __repr__(&self) -> String {
        format!(
            "AppointmentEdit(code={:?}, status={:?}, bookings_outside_hours={})",
            self.appointment.code, self.appointment.status, self.bookings_outside_hours
        )
    }
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

#[pymethods]
impl Appointment {
    /// The weekly hours by day: `{"mon": ["09:00-12:00", "13:00-17:30"], …, "sun": []}`, all
    /// seven days from Monday, in the dict form `create_appointment` accepts.
    #[getter]
    fn weekly_hours_by_day<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let week = self.weekly_hours.parse::<WeeklyHours>().or_raise()?;
        let out = PyDict::new(py);
        for (day, name) in WEEK {
            let windows: Vec<String> = week.day(day).iter().map(ToString::to_string).collect();
            out.set_item(name, windows)?;
        }
        Ok(out)
    }

    fn __repr__(&self) -> String {
        format!(
            "Appointment(code={:?}, title={:?}, kind={:?})",
            self.code, self.title, self.kind
        )
    }
}

/// Local dates with no slots at all (a holiday, a vacation): `first` to `last` inclusive, with an
/// optional label.
#[pyclass(frozen, eq, hash, get_all, module = "appointment_master")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Closure {
    /// First closed date.
    pub first: NaiveDate,
    /// Last closed date (inclusive).
    pub last: NaiveDate,
    /// What it is (e.g. `"Summer holidays"`), if given.
    pub label: Option<String>,
}

impl From<&core::Closure> for Closure {
    fn from(c: &core::Closure) -> Self {
        Closure {
            first: c.first(),
            last: c.last(),
            label: c.label().map(str::to_owned),
        }
    }
}

impl Closure {
    /// The engine's closure (checked again: the label's rules are the engine's).
    pub(crate) fn to_core(&self) -> PyResult<core::Closure> {
        core::Closure::new(self.first, self.last, self.label.clone()).or_raise()
    }
}

#[pymethods]
impl Closure {
    /// Closes `first` to `last` (inclusive); the label is trimmed, at most 200 characters.
    #[new]
    #[pyo3(signature = (first, last, label = None))]
    fn new(first: NaiveDate, last: NaiveDate, label: Option<String>) -> PyResult<Self> {
        core::Closure::new(first, last, label)
            .or_raise()
            .map(|c| Closure::from(&c))
    }

    fn __repr__(&self) -> String {
        match &self.label {
            Some(label) => format!("Closure({}, {}, {label:?})", self.first, self.last),
            None => format!("Closure({}, {})", self.first, self.last),
        }
    }
}

/// A slot with its seats.
#[pyclass(frozen, get_all, module = "appointment_master")]
#[derive(Debug, Clone)]
pub struct Slot {
    /// First instant of the slot (UTC).
    pub start: DateTime<Utc>,
    /// First instant after the slot (UTC).
    pub end: DateTime<Utc>,
    /// The local date of its start, in the appointment's zone.
    pub local_date: NaiveDate,
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
            start: s.slot.start,
            end: s.slot.end,
            local_date: s.local_date,
            capacity: s.capacity,
            seats_taken: s.seats_taken,
            seats_left: s.seats_left,
        }
    }
}

#[pymethods]
impl Slot {
    fn __repr__(&self) -> String {
        format!(
            "Slot(start={:?}, seats_left={})",
            self.start.to_rfc3339(),
            self.seats_left
        )
    }
}

/// A booking of some seats on one slot.
#[pyclass(frozen, get_all, module = "appointment_master")]
#[derive(Debug, Clone)]
pub struct Booking {
    /// Primary key (a UUID string).
    pub id: String,
    /// Public code, `BK-…`; whoever holds it can view, reschedule and cancel.
    pub code: String,
    /// The appointment's id.
    pub appointment_id: String,
    /// The appointment's code.
    pub app_code: String,
    /// The registered user who booked, or `None` for a guest.
    pub user_id: Option<String>,
    /// Booker's name.
    pub name: String,
    /// Booker's email.
    pub email: String,
    /// Booker's phone.
    pub phone: Option<String>,
    /// Start of the booked slot (UTC).
    pub slot_start: DateTime<Utc>,
    /// End of the booked slot (UTC).
    pub slot_end: DateTime<Utc>,
    /// Seats held.
    pub attendee_count: u32,
    /// Its status as of the engine's clock when it was read: `"active"`, `"pending"` (waiting
    /// for the owner's confirmation until `confirm_by`), `"declined"`, `"expired"` (pending past
    /// `confirm_by`: its seats are free), `"cancelled"`, `"rejected"`, `"completed"` or
    /// `"no_show"`.
    pub status: String,
    /// While pending: when it expires unless the owner confirms it (at the latest the slot's
    /// start). `None` otherwise.
    pub confirm_by: Option<DateTime<Utc>>,
    /// Free text from the booker.
    pub description: String,
    /// The verified device it came from, if any.
    pub device_id: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Booking {
    /// The booking as of `now` (the engine's clock): a pending booking whose `confirm_by` has
    /// passed reads `"expired"`, and `confirm_by` is kept only while it is pending.
    pub(crate) fn at(b: core::Booking, now: DateTime<Utc>) -> Self {
        let status = b.status_at(now);
        Booking {
            id: b.id.to_string(),
            code: b.code.to_string(),
            appointment_id: b.appointment_id.to_string(),
            app_code: b.app_code.to_string(),
            user_id: b.user_id.map(|u| u.to_string()),
            name: b.name.to_string(),
            email: b.email.to_string(),
            phone: b.phone.map(|p| p.to_string()),
            slot_start: b.slot_start,
            slot_end: b.slot_end,
            attendee_count: b.attendee_count.get(),
            status: status.as_str().to_owned(),
            confirm_by: b
                .confirm_by
                .filter(|_| status == core::BookingStatus::Pending),
            description: b.description,
            device_id: b.device_id.map(|d| d.to_string()),
            created_at: b.created_at,
            updated_at: b.updated_at,
        }
    }
}

#[pymethods]
impl Booking {
    fn __repr__(&self) -> String {
        format!(
            "Booking(code={:?}, status={:?}, slot_start={:?})",
            self.code,
            self.status,
            self.slot_start.to_rfc3339()
        )
    }
}

/// Seats of one slot kept for a short time for whoever holds the token (see `Scheduler.hold`).
#[pyclass(frozen, get_all, module = "appointment_master")]
#[derive(Debug, Clone)]
pub struct Hold {
    /// Primary key (a UUID string): how events name the hold (`Event.hold_id`), which never
    /// carry its token.
    pub id: String,
    /// The token, `HD-…`, that books (`hold_token=` of a booking) or releases the hold;
    /// whoever has it can, so keep it like a booking code.
    pub token: String,
    /// The appointment's code.
    pub app_code: String,
    /// Start of the slot (UTC).
    pub slot_start: DateTime<Utc>,
    /// End of the slot (UTC).
    pub slot_end: DateTime<Utc>,
    /// Seats held.
    pub seats: u32,
    /// `"held"`, `"released"`, `"expired"` (its seats went back to the slot) or `"booked"`.
    pub status: String,
    /// When the seats go back to the slot unless the hold is booked or released first.
    pub expires_at: DateTime<Utc>,
    /// The id of the booking it became, once booked.
    pub booking_id: Option<String>,
    /// When it was taken.
    pub created_at: DateTime<Utc>,
    /// When its status last changed (as stored: an expiry nobody wrote yet does not move it).
    pub updated_at: DateTime<Utc>,
}

impl From<core::Hold> for Hold {
    fn from(h: core::Hold) -> Self {
        Hold {
            id: h.id.to_string(),
            token: h.token.to_string(),
            app_code: h.app_code.to_string(),
            slot_start: h.slot_start,
            slot_end: h.slot_end,
            seats: h.seats.get(),
            status: h.status.as_str().to_owned(),
            expires_at: h.expires_at,
            booking_id: h.booking_id.map(|b| b.to_string()),
            created_at: h.created_at,
            updated_at: h.updated_at,
        }
    }
}

#[pymethods]
impl Hold {
    fn __repr__(&self) -> String {
        format!(
            "Hold(token={:?}, status={:?}, seats={}, expires_at={:?})",
            self.token,
            self.status,
            self.seats,
            self.expires_at.to_rfc3339()
        )
    }
}

/// A place on a slot's waiting list (see `Scheduler.join_waitlist`), as of the engine's clock
/// when it was read.
#[pyclass(frozen, get_all, module = "appointment_master")]
#[derive(Debug, Clone)]
pub struct WaitlistPlace {
    /// The code, `WL-…`, that shows the place (`waitlist_place`) or leaves the list
    /// (`leave_waitlist`); keep it like a booking code.
    pub code: String,
    /// The appointment's code.
    pub app_code: String,
    /// Start of the slot (UTC).
    pub slot_start: DateTime<Utc>,
    /// End of the slot (UTC).
    pub slot_end: DateTime<Utc>,
    /// Seats wanted.
    pub seats: u32,
    /// Who waits.
    pub name: String,
    /// Their email.
    pub email: String,
    /// `"waiting"`, `"offered"` (book `offer` with `book(..., hold_token=offer.token)` before
    /// `offer.expires_at`), `"booked"`, `"expired"` (the offer ran out and went to the next in
    /// line) or `"left"`.
    pub status: String,
    /// 1 for the next in line; 0 once it no longer waits.
    pub position: u64,
    /// The hold of the seats offered to this place, once offered (its own `status` says
    /// whether it still keeps them); `None` while it waits.
    pub offer: Option<Hold>,
    /// When it joined.
    pub created_at: DateTime<Utc>,
    /// When its stored status last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<core::WaitlistPlace> for WaitlistPlace {
    fn from(p: core::WaitlistPlace) -> Self {
        let e = p.entry;
        WaitlistPlace {
            code: e.code.to_string(),
            app_code: e.app_code.to_string(),
            slot_start: e.slot_start,
            slot_end: e.slot_end,
            seats: e.seats.get(),
            name: e.name.to_string(),
            email: e.email.to_string(),
            status: p.status.as_str().to_owned(),
            position: p.position,
            offer: p.offer.map(Hold::from),
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

#[pymethods]
impl WaitlistPlace {
    fn __repr__(&self) -> String {
        format!(
            "WaitlistPlace(code={:?}, status={:?}, position={}, seats={})",
            self.code, self.status, self.position, self.seats
        )
    }
}

/// One entry of the outbox (see `Scheduler.events`): what happened to an appointment, a booking,
/// a hold or a place on a waiting list, with that thing as the change left it. The fields of
/// other kinds of thing are `None`; a hold's token never appears.
#[pyclass(frozen, get_all, module = "appointment_master")]
#[derive(Debug, Clone)]
pub struct Event {
    /// The event's id (a UUID string): unique and stable, the same wherever it is delivered.
    pub id: String,
    /// What happened, `entity.verb`: `"appointment.created"`, `"booking.confirmed"`,
    /// `"hold.released"`, `"waitlist.offered"`, … (the REST API's and webhooks' `type`).
    #[pyo3(name = "type")]
    pub kind: String,
    /// The version of the event's shape (new fields do not raise it).
    pub version: u32,
    /// When it happened, on the engine's clock (UTC).
    pub at: DateTime<Utc>,
    /// Its place in the outbox, `"TX.SEQ"`: `events(after=cursor)` goes on after it.
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
    /// Booking, hold and waiting-list events: the start of the slot (UTC).
    pub slot_start: Option<DateTime<Utc>>,
    /// Booking, hold and waiting-list events: the end of the slot (UTC).
    pub slot_end: Option<DateTime<Utc>>,
    /// Booking, hold and waiting-list events: the seats booked, held or wanted.
    pub seats: Option<u32>,
    /// Booking and waiting-list events: the booker's (or the waiting person's) name.
    pub name: Option<String>,
    /// Booking and waiting-list events: their email.
    pub email: Option<String>,
    /// Booking events of an appointment with approval: the booking's deadline for the owner's
    /// confirmation (kept once decided, as the engine keeps it).
    pub confirm_by: Option<DateTime<Utc>>,
    /// Hold events: when the hold runs out.
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<core::Event> for Event {
    fn from(e: core::Event) -> Self {
        let f = e.subject.fields();
        Event {
            id: e.id.to_string(),
            kind: e.kind.as_str().to_owned(),
            version: core::EVENT_VERSION,
            at: e.at,
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
            slot_start: f.slot_start,
            slot_end: f.slot_end,
            seats: f.seats.map(|n| n.get()),
            name: f.name.map(|n| n.to_string()),
            email: f.email.map(|m| m.to_string()),
            confirm_by: f.confirm_by,
            expires_at: f.expires_at,
        }
    }
}

#[pymethods]
impl Event {
    fn __repr__(&self) -> String {
        format!(
            "Event(type={:?}, cursor={:?}, app_code={:?}, status={:?})",
            self.kind, self.cursor, self.app_code, self.status
        )
    }
}

/// One read of the outbox: the events after a cursor, oldest first, and the cursor to read on
/// from.
#[pyclass(frozen, get_all, module = "appointment_master")]
#[derive(Debug, Clone)]
pub struct EventPage {
    /// The events, oldest first (a new list each time).
    pub events: Vec<Event>,
    /// The cursor to read on from: the last event's, or the one asked from when there was none.
    /// Keep it and give it back as `events(after=...)`.
    pub next: String,
}

impl EventPage {
    /// The page of `events` read after `after`.
    pub(crate) fn new(events: Vec<core::Event>, after: core::EventCursor) -> Self {
        let next = events.last().map_or(after, |e| e.cursor).to_string();
        EventPage {
            events: events.into_iter().map(Event::from).collect(),
            next,
        }
    }
}

#[pymethods]
impl EventPage {
    fn __len__(&self) -> usize {
        self.events.len()
    }

    fn __iter__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let events = PyList::new(py, self.events.iter().cloned())?;
        Ok(events.try_iter()?.into_any().unbind())
    }

    fn __repr__(&self) -> String {
        format!(
            "EventPage(events={}, next={:?})",
            self.events.len(),
            self.next
        )
    }
}

/// An entry of an owner's ban list.
#[pyclass(frozen, get_all, module = "appointment_master")]
#[derive(Debug, Clone)]
pub struct Ban {
    /// Primary key (a UUID string).
    pub id: String,
    /// The owner's user id.
    pub owner_id: String,
    /// The banned email.
    pub email: String,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

impl From<core::Ban> for Ban {
    fn from(b: core::Ban) -> Self {
        Ban {
            id: b.id.to_string(),
            owner_id: b.owner.to_string(),
            email: b.email.to_string(),
            created_at: b.created_at,
        }
    }
}

/// An owner's figures over a date range.
#[pyclass(frozen, get_all, module = "appointment_master")]
#[derive(Debug, Clone)]
pub struct Analytics {
    /// First date (inclusive, UTC).
    pub start_date: NaiveDate,
    /// Last date (inclusive, UTC).
    pub end_date: NaiveDate,
    /// Appointments created in the range.
    pub appointments_created: u64,
    /// Bookings (slot in the range) that hold seats: confirmed, or needing no confirmation.
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
    /// `no_show_bookings / (completed_bookings + no_show_bookings)`, or `None` when no booking
    /// was marked.
    pub no_show_rate: Option<f64>,
    /// All bookings, whatever their status.
    pub total_bookings: u64,
    /// Seats of the bookings not called off: active, completed and no-show.
    pub seats_booked: u64,
    /// Seats held by pending bookings, waiting for the owner's confirmation.
    pub seats_pending: u64,
    /// Seats kept by holds live when the figures were counted (waiting-list offers included).
    pub seats_held: u64,
    /// Seats offered by the slots that start in the range.
    pub seats_offered: u64,
}

impl From<core::Analytics> for Analytics {
    fn from(a: core::Analytics) -> Self {
        Analytics {
            start_date: a.start_date,
            end_date: a.end_date,
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

/// One page of a longer list.
#[pyclass(frozen, module = "appointment_master")]
#[derive(Debug)]
pub struct Page {
    items: Py<PyList>,
    /// The page number (from 1).
    #[pyo3(get)]
    pub page: u32,
    /// The page size asked for.
    #[pyo3(get)]
    pub per_page: u32,
    /// Items in the whole list.
    #[pyo3(get)]
    pub total: u64,
    /// Pages in the whole list.
    #[pyo3(get)]
    pub total_pages: u64,
}

impl Page {
    /// Converts a page of engine values into a page of Python objects.
    pub(crate) fn new<T, P>(py: Python<'_>, paged: core::Paged<T>) -> PyResult<Self>
    where
        P: From<T> + pyo3::PyClass + Into<pyo3::PyClassInitializer<P>>,
    {
        let items = paged
            .items
            .into_iter()
            .map(|t| Py::new(py, P::from(t)))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Page {
            items: PyList::new(py, items)?.unbind(),
            page: paged.page,
            per_page: paged.per_page,
            total: paged.total,
            total_pages: paged.total_pages,
        })
    }
}

#[pymethods]
impl Page {
    /// The items on this page (a new list each time).
    #[getter]
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self.items.bind(py);
        PyList::new(py, items.iter())
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.items.bind(py).len()
    }

    fn __iter__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(self.items.bind(py).try_iter()?.into_any().unbind())
    }

    fn __repr__(&self) -> String {
        format!(
            "Page(page={}, per_page={}, total={}, total_pages={})",
            self.page, self.per_page, self.total, self.total_pages
        )
    }
}

//! Python bindings of Appointment Master: the engine embedded in a Python process.
//!
//! This crate builds the private extension module `appointment_master._native`; the public API is
//! the Python package `appointment_master` around it. It only translates: Python values into the
//! engine's types, the engine's values into read-only Python objects, and every engine error into
//! an exception class. The rules are the engine's.
//!
//! The engine is async; one multi-thread tokio runtime per process runs it. `Scheduler` blocks
//! with the GIL released while the engine works, so Python threads book concurrently;
//! `AsyncScheduler` has the same methods, each answering an asyncio awaitable that the runtime
//! completes, so an event loop is never blocked. Both share the code of every method
//! (`scheduler_methods!`); only how a call is run differs (`run`).

use std::sync::Arc;

use appointment_core::chrono::{NaiveDate, NaiveTime};
use appointment_core::{
    AntiScalping, AppCode, AppointmentChanges, AppointmentKind, AppointmentStatus, AttendeeCount,
    Booker, BookingCode, BookingUpdate, DeviceId, Email, EventCursor, HoldToken, Name,
    NewAppointment, NewBooking, NewHold, NewUser, NewWaitlistEntry, Page as CorePage, Phone,
    ResourceName, Schedule, Scheduler as CoreScheduler, SlotQuery, TimeZoneName, UserId,
    WaitlistCode, Weekdays,
};
use appointment_store::ServiceStore;
use pyo3::prelude::*;

mod clock;
mod errors;
mod hours;
mod run;
mod types;

use clock::ManualClock;
use errors::{OrRaise, in_method, invalid_argument};
use run::{Engine, PageOf, Run, awaitable, block_on, runtime};
use types::{
    Analytics, Appointment, AppointmentEdit, Ban, Booking, Closure, Event, EventPage, Hold,
    Instant, Page, Slot, User, WaitlistPlace,
};

/// Opens the store a URL names, applying pending migrations: `memory:`, `sqlite:…` (e.g.
/// `sqlite://path/to/file.db`) or `postgres://…`.
async fn open_store(url: &str) -> appointment_core::Result<Arc<dyn ServiceStore>> {
    appointment_store::connect(url).await
}

/// A user id given as the argument `arg` (`owner_id`, `user_id`).
fn user_id(arg: &'static str, raw: &str) -> PyResult<UserId> {
    uuid::Uuid::parse_str(raw.trim())
        .map(UserId)
        .map_err(|_| invalid_argument(arg, "is not a valid user id"))
}

fn page(page: u32, per_page: u32) -> PyResult<CorePage> {
    CorePage::new(page, per_page).or_raise()
}

fn weekdays(days: Option<Vec<String>>) -> PyResult<Weekdays> {
    match days {
        None => Ok(Weekdays::ALL),
        Some(days) => days.join(",").parse::<Weekdays>().or_raise(),
    }
}

fn opt_phone(phone: Option<&str>) -> PyResult<Option<Phone>> {
    phone.map(Phone::parse).transpose().or_raise()
}

fn opt_resource(resource: Option<&str>) -> PyResult<Option<ResourceName>> {
    resource.map(ResourceName::parse).transpose().or_raise()
}

fn opt_device(device: Option<&str>) -> PyResult<Option<DeviceId>> {
    device.map(DeviceId::parse).transpose().or_raise()
}

/// Converts engine bookings as of the engine's clock at this moment, so that a pending booking
/// past its deadline reads `"expired"` (see `Booking::at`).
fn as_of_now(s: &Engine) -> impl Fn(appointment_core::Booking) -> Booking + use<> {
    let now = s.now();
    move |b| Booking::at(b, now)
}

// `create_appointment`'s default hold length is written out in its signature.
const _: () = assert!(appointment_core::DEFAULT_HOLD_MINUTES == 10);

/// The booking engine over one store. Safe to share between threads.
#[pyclass(frozen, module = "appointment_master")]
pub struct Scheduler {
    inner: Engine,
    url: String,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Run for Scheduler {
    /// Blocks on the engine with the GIL released.
    fn call<'py, T, F>(
        &self,
        py: Python<'py>,
        f: impl FnOnce(Engine) -> F,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        F: std::future::Future<Output = appointment_core::Result<T>> + Send + 'static,
        T: for<'a> IntoPyObject<'a> + Send + 'static,
    {
        block_on(py, f(self.inner.clone()))
    }
}

/// The booking engine over one store, for asyncio: every method of `Scheduler`, each answering
/// an awaitable that the engine's runtime completes without blocking the event loop.
///
/// A call starts when the method is called (it needs a running event loop). Cancelling the
/// awaiting task does not stop the engine: the call runs to completion on the engine's runtime
/// and its answer is dropped, so a write is either done entirely or not at all, never half.
#[pyclass(frozen, module = "appointment_master")]
pub struct AsyncScheduler {
    inner: Engine,
    url: String,
}

impl std::fmt::Debug for AsyncScheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncScheduler")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Run for AsyncScheduler {
    /// An asyncio future of the running loop, completed by the engine's runtime.
    fn call<'py, T, F>(
        &self,
        py: Python<'py>,
        f: impl FnOnce(Engine) -> F,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        F: std::future::Future<Output = appointment_core::Result<T>> + Send + 'static,
        T: for<'a> IntoPyObject<'a> + Send + 'static,
    {
        awaitable(py, f(self.inner.clone()))
    }
}

/// The engine on a store, on the system's clock or on a `ManualClock`.
fn engine(
    store: Arc<dyn ServiceStore>,
    clock: Option<Arc<dyn appointment_core::Clock>>,
    verified_email_required: bool,
) -> Engine {
    let inner =
        CoreScheduler::from_arc(store).with_verified_email_required(verified_email_required);
    match clock {
        Some(clock) => inner.with_clock(clock),
        None => inner,
    }
}

/// `closed=True` closes, `closed=False` reopens.
fn status(closed: bool) -> AppointmentStatus {
    if closed {
        AppointmentStatus::Closed
    } else {
        AppointmentStatus::Active
    }
}

fn set_status<'py>(
    r: &impl Run,
    py: Python<'py>,
    owner_id: &str,
    code: &str,
    status: AppointmentStatus,
    if_revision: Option<u64>,
) -> PyResult<Bound<'py, PyAny>> {
    let owner = user_id("owner_id", owner_id)?;
    let code = AppCode::parse(code).or_raise()?;
    let changes = AppointmentChanges {
        status: Some(status),
        if_revision,
        ..AppointmentChanges::default()
    };
    r.call(py, |s| async move {
        s.update_appointment(owner, &code, changes)
            .await
            .map(AppointmentEdit::from)
    })
}

#[allow(clippy::too_many_arguments)]
fn book_as<'py>(
    r: &impl Run,
    py: Python<'py>,
    code: &str,
    start: Instant,
    booker: Booker,
    attendee_count: u32,
    description: &str,
    device_id: Option<&str>,
    hold_token: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let token = hold_token.map(HoldToken::parse).transpose().or_raise()?;
    let req = NewBooking {
        app_code: AppCode::parse(code).or_raise()?,
        slot_start: start.0,
        attendee_count: AttendeeCount::new(attendee_count).or_raise()?,
        booker,
        description: description.to_owned(),
        device_id: opt_device(device_id)?,
    };
    r.call(py, |s| async move {
        match token {
            Some(token) => s.book_hold(&token, req).await,
            None => s.book(req).await,
        }
        .map(as_of_now(&s))
    })
}

/// A move to the slot starting at `start`, with optional new seats and text.
fn booking_update(
    start: Instant,
    attendee_count: Option<u32>,
    description: Option<String>,
) -> PyResult<BookingUpdate> {
    Ok(BookingUpdate {
        slot_start: start.0,
        attendee_count: attendee_count
            .map(AttendeeCount::new)
            .transpose()
            .or_raise()?,
        description,
    })
}

/// The methods of `Scheduler` and `AsyncScheduler`, written once: each checks its arguments
/// and hands the engine call to `Run::call`, which blocks (`Scheduler`) or answers an
/// awaitable (`AsyncScheduler`). The class's own methods (opening, `__repr__`) come first.
macro_rules! scheduler_methods {
    ($class:ty { $($own:item)* }) => {
        #[pymethods]
        impl $class {
            $($own)*
            /// Registers a user account.
            #[pyo3(signature = (name, email, *, phone = None, password_hash = ""))]
            fn register_user<'py>(
                &self,
                py: Python<'py>,
                name: &str,
                email: &str,
                phone: Option<&str>,
                password_hash: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let new = NewUser {
                    name: Name::parse(name).or_raise()?,
                    email: Email::parse(email).or_raise()?,
                    phone: opt_phone(phone)?,
                    password_hash: password_hash.to_owned(),
                };
                self.call(
                    py,
                    |s| async move { s.register_user(new).await.map(User::from) },
                )
            }

            /// A user by id.
            fn user<'py>(&self, py: Python<'py>, user_id: &str) -> PyResult<Bound<'py, PyAny>> {
                let id = self::user_id("user_id", user_id)?;
                self.call(py, |s| async move { s.user(id).await.map(User::from) })
            }

            /// Records that the user proved they receive mail at `email` (the application checked
            /// the proof, e.g. a link it mailed) and answers the user, with `email_verified_at`
            /// (the first time is kept). `InvalidInputError` (`email`) if the account has another
            /// address.
            fn verify_email<'py>(
                &self,
                py: Python<'py>,
                user_id: &str,
                email: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let id = self::user_id("user_id", user_id)?;
                let email = Email::parse(email).or_raise()?;
                self.call(py, |s| async move {
                    s.verify_email(id, &email).await.map(User::from)
                })
            }

            /// The user registered with `email` (case does not matter), or `None`: a script run
            /// again against the same database finds the user it registered the first time.
            fn user_by_email<'py>(
                &self,
                py: Python<'py>,
                email: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let email = Email::parse(email).or_raise()?;
                self.call(py, |s| async move {
                    Ok(s.user_by_email(&email).await?.map(User::from))
                })
            }

            /// Creates an appointment owned by `owner_id`. Its hours are either one daily window
            /// (`start_time` and `end_time`, narrowed by `weekdays`) or `weekly_hours`; `overrides`
            /// and `closures` change given dates. Appointments of one owner naming the same
            /// `resource` (a chair, a room, a person; case does not matter) never hold overlapping
            /// bookings. Guests may cancel or reschedule only until `cancel_cutoff_minutes` before
            /// a slot starts. A hold of seats (`hold`) lasts `hold_minutes` (1 to 120). With
            /// `confirm_within_minutes` (1 to 43200, not with a `resource`), every booking starts
            /// `"pending"` and holds its seats until the owner confirms (`confirm`) or declines
            /// (`decline`) it, for at most that long and never past the slot's start; then it
            /// expires and its seats are free.
            #[pyo3(signature = (
                owner_id, *, title, start_date, end_date, start_time = None, end_time = None,
                slot_minutes, kind = "single", capacity = None, description = "",
                anti_scalping = "none", time_zone = "UTC", weekdays = None, buffer_minutes = 0,
                min_notice_minutes = 0, horizon_days = None, weekly_hours = None, overrides = None,
                closures = None, resource = None, cancel_cutoff_minutes = 0, hold_minutes = 10,
                confirm_within_minutes = None
            ))]
            #[allow(clippy::too_many_arguments)]
            fn create_appointment<'py>(
                &self,
                py: Python<'py>,
                owner_id: &str,
                title: String,
                start_date: NaiveDate,
                end_date: NaiveDate,
                start_time: Option<NaiveTime>,
                end_time: Option<NaiveTime>,
                slot_minutes: u32,
                kind: &str,
                capacity: Option<u32>,
                description: &str,
                anti_scalping: &str,
                time_zone: &str,
                weekdays: Option<Vec<String>>,
                buffer_minutes: u32,
                min_notice_minutes: u32,
                horizon_days: Option<u32>,
                weekly_hours: Option<Bound<'_, PyAny>>,
                overrides: Option<Bound<'_, PyAny>>,
                closures: Option<Bound<'_, PyAny>>,
                resource: Option<&str>,
                cancel_cutoff_minutes: u32,
                hold_minutes: u32,
                confirm_within_minutes: Option<u32>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let owner = user_id("owner_id", owner_id)?;
                let builder = match (weekly_hours, start_time, end_time) {
                    (Some(week), None, None) => Schedule::weekly(
                        start_date,
                        end_date,
                        hours::weekly_hours(&week)?,
                        slot_minutes,
                    ),
                    (Some(_), _, _) => {
                        return Err(invalid_argument(
                            "weekly_hours",
                            "give either weekly_hours or start_time and end_time, not both",
                        ));
                    }
                    (None, Some(start), Some(end)) => {
                        Schedule::builder(start_date, end_date, start, end, slot_minutes)
                    }
                    (None, start, _) => {
                        let missing = if start.is_none() {
                            "start_time"
                        } else {
                            "end_time"
                        };
                        return Err(invalid_argument(
                            missing,
                            "is required (or give weekly_hours instead)",
                        ));
                    }
                };
                let overrides = overrides
                    .map(|o| hours::overrides(&o))
                    .transpose()?
                    .unwrap_or_default();
                let closures = closures
                    .map(|c| hours::closures(&c))
                    .transpose()?
                    .unwrap_or_default();
                let schedule = builder
                    .overrides(overrides)
                    .closures(closures)
                    .time_zone(TimeZoneName::parse(time_zone).or_raise()?)
                    .weekdays(self::weekdays(weekdays)?)
                    .buffer_minutes(buffer_minutes)
                    .min_notice_minutes(min_notice_minutes)
                    .cancel_cutoff_minutes(cancel_cutoff_minutes)
                    .hold_minutes(hold_minutes)
                    .confirm_within_minutes(confirm_within_minutes)
                    .horizon_days(horizon_days)
                    .build()
                    .or_raise()?;
                let new = NewAppointment {
                    title,
                    description: description.to_owned(),
                    kind: kind.parse::<AppointmentKind>().or_raise()?,
                    capacity,
                    anti_scalping: anti_scalping.parse::<AntiScalping>().or_raise()?,
                    schedule,
                    resource: opt_resource(resource)?,
                };
                self.call(py, |s| async move {
                    s.create_appointment(owner, new)
                        .await
                        .map(Appointment::from)
                })
            }

            /// An appointment by code.
            fn appointment<'py>(&self, py: Python<'py>, code: &str) -> PyResult<Bound<'py, PyAny>> {
                let code = AppCode::parse(code).or_raise()?;
                self.call(py, |s| async move {
                    s.appointment(&code).await.map(Appointment::from)
                })
            }

            /// Seats held by active bookings, pending bookings still in time and live holds across
            /// all of the appointment's slots.
            fn attendees_booked<'py>(
                &self,
                py: Python<'py>,
                code: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let code = AppCode::parse(code).or_raise()?;
                self.call(py, |s| async move {
                    let app = s.appointment(&code).await?;
                    s.attendees_booked(&app).await
                })
            }

            /// Changes `owner_id`'s appointment: every argument left out (`None`) stays as it is;
            /// `overrides` and `closures` replace the whole list; `remove_horizon` drops the
            /// horizon; `resource` puts it on a shared resource and `remove_resource` takes it off
            /// (bookings already made keep the time they hold); `closed` closes (`True`) or reopens
            /// (`False`) it; `cancel_cutoff_minutes` changes the cancellation policy, for the
            /// bookings already made too; `hold_minutes` changes the length of holds taken from now
            /// on (holds already taken keep their expiry); `confirm_within_minutes` turns approval
            /// on or changes its window for the bookings made from now on, and `remove_approval`
            /// turns it off (bookings already pending keep their deadline and still need the
            /// owner's decision). With `if_revision` (an
            /// `Appointment.revision` read before) the changes apply only if the appointment is
            /// still at that revision; otherwise `ChangedError` and nothing changes. Bookings are
            /// never touched: the answer counts those still to come that the new hours no longer
            /// offer.
            #[pyo3(signature = (
                owner_id, code, *, title = None, description = None, weekly_hours = None,
                overrides = None, closures = None, buffer_minutes = None, min_notice_minutes = None,
                horizon_days = None, remove_horizon = false, closed = None, resource = None,
                remove_resource = false, cancel_cutoff_minutes = None, hold_minutes = None,
                confirm_within_minutes = None, remove_approval = false, if_revision = None
            ))]
            #[allow(clippy::too_many_arguments)]
            fn update_appointment<'py>(
                &self,
                py: Python<'py>,
                owner_id: &str,
                code: &str,
                title: Option<String>,
                description: Option<String>,
                weekly_hours: Option<Bound<'_, PyAny>>,
                overrides: Option<Bound<'_, PyAny>>,
                closures: Option<Bound<'_, PyAny>>,
                buffer_minutes: Option<u32>,
                min_notice_minutes: Option<u32>,
                horizon_days: Option<u32>,
                remove_horizon: bool,
                closed: Option<bool>,
                resource: Option<&str>,
                remove_resource: bool,
                cancel_cutoff_minutes: Option<u32>,
                hold_minutes: Option<u32>,
                confirm_within_minutes: Option<u32>,
                remove_approval: bool,
                if_revision: Option<u64>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let owner = user_id("owner_id", owner_id)?;
                let code = AppCode::parse(code).or_raise()?;
                let horizon_days = match (horizon_days, remove_horizon) {
                    (Some(_), true) => {
                        return Err(invalid_argument(
                            "horizon_days",
                            "give either horizon_days or remove_horizon, not both",
                        ));
                    }
                    (Some(days), false) => Some(Some(days)),
                    (None, true) => Some(None),
                    (None, false) => None,
                };
                let resource = match (resource, remove_resource) {
                    (Some(_), true) => {
                        return Err(invalid_argument(
                            "resource",
                            "give either resource or remove_resource, not both",
                        ));
                    }
                    (Some(name), false) => Some(opt_resource(Some(name))?),
                    (None, true) => Some(None),
                    (None, false) => None,
                };
                let confirm_within_minutes = match (confirm_within_minutes, remove_approval) {
                    (Some(_), true) => {
                        return Err(invalid_argument(
                            "confirm_within_minutes",
                            "give either confirm_within_minutes or remove_approval, not both",
                        ));
                    }
                    (Some(minutes), false) => Some(Some(minutes)),
                    (None, true) => Some(None),
                    (None, false) => None,
                };
                let changes = AppointmentChanges {
                    title,
                    description,
                    weekly_hours: weekly_hours.map(|w| hours::weekly_hours(&w)).transpose()?,
                    overrides: overrides.map(|o| hours::overrides(&o)).transpose()?,
                    closures: closures.map(|c| hours::closures(&c)).transpose()?,
                    buffer_minutes,
                    min_notice_minutes,
                    cancel_cutoff_minutes,
                    hold_minutes,
                    confirm_within_minutes,
                    horizon_days,
                    status: closed.map(status),
                    resource,
                    if_revision,
                };
                self.call(py, |s| async move {
                    s.update_appointment(owner, &code, changes)
                        .await
                        .map(AppointmentEdit::from)
                })
            }

            /// Closes `owner_id`'s appointment: no slots listed, no bookings taken; existing
            /// bookings stay as they are. `if_revision` as in `update_appointment`.
            #[pyo3(signature = (owner_id, code, *, if_revision = None))]
            fn close_appointment<'py>(
                &self,
                py: Python<'py>,
                owner_id: &str,
                code: &str,
                if_revision: Option<u64>,
            ) -> PyResult<Bound<'py, PyAny>> {
                set_status(
                    self,
                    py,
                    owner_id,
                    code,
                    AppointmentStatus::Closed,
                    if_revision,
                )
            }

            /// Reopens `owner_id`'s closed appointment. `if_revision` as in
            /// `update_appointment`.
            #[pyo3(signature = (owner_id, code, *, if_revision = None))]
            fn reopen_appointment<'py>(
                &self,
                py: Python<'py>,
                owner_id: &str,
                code: &str,
                if_revision: Option<u64>,
            ) -> PyResult<Bound<'py, PyAny>> {
                set_status(
                    self,
                    py,
                    owner_id,
                    code,
                    AppointmentStatus::Active,
                    if_revision,
                )
            }

            /// Deletes `owner_id`'s appointment: gone from every lookup and listing; its bookings
            /// stay readable by their codes.
            fn delete_appointment<'py>(
                &self,
                py: Python<'py>,
                owner_id: &str,
                code: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let owner = user_id("owner_id", owner_id)?;
                let code = AppCode::parse(code).or_raise()?;
                self.call(
                    py,
                    |s| async move { s.delete_appointment(owner, &code).await },
                )
            }

            /// The appointments `owner_id` created, newest first.
            #[pyo3(signature = (owner_id, *, page = 1, per_page = 20))]
            fn my_appointments<'py>(
                &self,
                py: Python<'py>,
                owner_id: &str,
                page: u32,
                per_page: u32,
            ) -> PyResult<Bound<'py, PyAny>> {
                let owner = user_id("owner_id", owner_id)?;
                let p = self::page(page, per_page)?;
                self.call(py, |s| async move {
                    s.my_appointments(owner, p)
                        .await
                        .map(PageOf::<_, Appointment>::new)
                })
            }

            /// One page of the slots that can be booked now (optionally of one local date).
            #[pyo3(signature = (code, *, day = None, page = 1, per_page = 20))]
            fn slots<'py>(
                &self,
                py: Python<'py>,
                code: &str,
                day: Option<NaiveDate>,
                page: u32,
                per_page: u32,
            ) -> PyResult<Bound<'py, PyAny>> {
                let code = AppCode::parse(code).or_raise()?;
                let query = SlotQuery {
                    day,
                    page: self::page(page, per_page)?,
                };
                self.call(py, |s| async move {
                    s.available_slots(&code, query)
                        .await
                        .map(PageOf::<_, Slot>::new)
                })
            }

            /// One page of the slots that can be booked now and start from `start` (inclusive) to
            /// `end` (exclusive), a window of at most 92 days.
            #[pyo3(signature = (code, start, end, *, page = 1, per_page = 20))]
            fn slots_between<'py>(
                &self,
                py: Python<'py>,
                code: &str,
                start: Instant,
                #[pyo3(from_py_with = types::end_instant)] end: Instant,
                page: u32,
                per_page: u32,
            ) -> PyResult<Bound<'py, PyAny>> {
                let code = AppCode::parse(code).or_raise()?;
                let p = self::page(page, per_page)?;
                self.call(py, |s| async move {
                    s.slots_between(&code, start.0, end.0, p)
                        .await
                        .map(PageOf::<_, Slot>::new)
                })
            }

            /// Every slot that can be booked now (optionally of one local date), in time order.
            #[pyo3(signature = (code, *, day = None))]
            fn all_slots<'py>(
                &self,
                py: Python<'py>,
                code: &str,
                day: Option<NaiveDate>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let code = AppCode::parse(code).or_raise()?;
                self.call(py, |s| async move {
                    let slots = s.all_available_slots(&code, day).await?;
                    Ok(slots.into_iter().map(Slot::from).collect::<Vec<_>>())
                })
            }

            /// The seats of the slot starting at `start`, bookable or not.
            fn slot<'py>(
                &self,
                py: Python<'py>,
                code: &str,
                start: Instant,
            ) -> PyResult<Bound<'py, PyAny>> {
                let code = AppCode::parse(code).or_raise()?;
                self.call(py, |s| async move {
                    s.slot_seats(&code, start.0).await.map(Slot::from)
                })
            }

            /// Books seats on the slot starting at `start`, as a guest. With `hold_token` (from
            /// `hold`) the booking takes over the hold's seats and cannot find the slot full;
            /// `code`, `start` and `attendee_count` must then be the hold's (`HoldEndedError` once
            /// it expired, was released or was booked).
            #[pyo3(signature = (
                code, start, *, name, email, phone = None, attendee_count = 1,
                description = "", device_id = None, hold_token = None
            ))]
            #[allow(clippy::too_many_arguments)]
            fn book<'py>(
                &self,
                py: Python<'py>,
                code: &str,
                start: Instant,
                name: &str,
                email: &str,
                phone: Option<&str>,
                attendee_count: u32,
                description: &str,
                device_id: Option<&str>,
                hold_token: Option<&str>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let booker = Booker::Guest {
                    name: Name::parse(name).or_raise()?,
                    email: Email::parse(email).or_raise()?,
                    phone: opt_phone(phone)?,
                };
                book_as(
                    self,
                    py,
                    code,
                    start,
                    booker,
                    attendee_count,
                    description,
                    device_id,
                    hold_token,
                )
            }

            /// Books seats on the slot starting at `start`, as the registered user `user_id`; with
            /// `hold_token`, books that hold's seats (as `book` does).
            #[pyo3(signature = (
                code, start, user_id, *, attendee_count = 1, description = "", device_id = None,
                hold_token = None
            ))]
            #[allow(clippy::too_many_arguments)]
            fn book_as_user<'py>(
                &self,
                py: Python<'py>,
                code: &str,
                start: Instant,
                user_id: &str,
                attendee_count: u32,
                description: &str,
                device_id: Option<&str>,
                hold_token: Option<&str>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let booker = Booker::User(self::user_id("user_id", user_id)?);
                book_as(
                    self,
                    py,
                    code,
                    start,
                    booker,
                    attendee_count,
                    description,
                    device_id,
                    hold_token,
                )
            }

            /// Holds `seats` seats of the slot starting at `start` for the appointment's
            /// `hold_minutes`, for whoever gets the hold's `token` (while a form is filled in or a
            /// payment made). The seats are taken exactly as a booking takes them (`SlotFullError`
            /// if they do not fit) and are free again from `expires_at` on, or once released. Book
            /// them with `book(..., hold_token=hold.token)`. Appointments that share a resource
            /// take no holds (`InvalidInputError`).
            #[pyo3(signature = (code, start, *, seats = 1))]
            fn hold<'py>(
                &self,
                py: Python<'py>,
                code: &str,
                start: Instant,
                seats: u32,
            ) -> PyResult<Bound<'py, PyAny>> {
                let req = NewHold {
                    app_code: AppCode::parse(code).or_raise()?,
                    slot_start: start.0,
                    seats: AttendeeCount::new(seats)
                        .map_err(in_method("hold"))
                        .or_raise()?,
                };
                self.call(py, |s| async move {
                    s.hold(req)
                        .await
                        .map_err(in_method("hold"))
                        .map(Hold::from)
                })
            }

            /// A hold by token, with its status as of now (`"expired"` from its `expires_at` on).
            fn hold_by_token<'py>(
                &self,
                py: Python<'py>,
                token: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let token = HoldToken::parse(token)
                    .map_err(in_method("hold_by_token"))
                    .or_raise()?;
                self.call(py, |s| async move {
                    s.hold_by_token(&token).await.map(Hold::from)
                })
            }

            /// Gives a hold's seats back at once. A hold already released or expired is answered as
            /// it is; a booked one raises `HoldEndedError` (cancel the booking instead).
            fn release_hold<'py>(
                &self,
                py: Python<'py>,
                token: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let token = HoldToken::parse(token)
                    .map_err(in_method("release_hold"))
                    .or_raise()?;
                self.call(py, |s| async move {
                    s.release_hold(&token).await.map(Hold::from)
                })
            }

            /// Joins the waiting list of the full slot starting at `start`, for `seats` seats. When
            /// seats of the slot free up (a cancel, a decline, a reject, a move away, a released or
            /// expired hold, an expired pending booking), the change that frees them offers them to
            /// the places in join order: each place whose seats fit gets a hold of them in its name
            /// for the appointment's `hold_minutes` (`status` `"offered"`, `offer` the hold), booked
            /// with `book(..., hold_token=place.offer.token)`. An offer that runs out passes to the
            /// next in line. A slot with free seats takes no places (`InvalidInputError` on
            /// `seats`: book them); bans apply, and under anti-scalping one email holds one booking
            /// or one place per appointment (`DuplicateError`). Appointments that share a resource
            /// have no waiting lists (`InvalidInputError` on `code`).
            #[pyo3(signature = (code, start, *, name, email, seats = 1))]
            fn join_waitlist<'py>(
                &self,
                py: Python<'py>,
                code: &str,
                start: Instant,
                name: &str,
                email: &str,
                seats: u32,
            ) -> PyResult<Bound<'py, PyAny>> {
                let req = NewWaitlistEntry {
                    app_code: AppCode::parse(code).or_raise()?,
                    slot_start: start.0,
                    seats: AttendeeCount::new(seats)
                        .map_err(in_method("join_waitlist"))
                        .or_raise()?,
                    name: Name::parse(name).or_raise()?,
                    email: Email::parse(email).or_raise()?,
                };
                self.call(py, |s| async move {
                    s.join_waitlist(req)
                        .await
                        .map_err(in_method("join_waitlist"))
                        .map(WaitlistPlace::from)
                })
            }

            /// A place on a waiting list by its code, as of now: its status, its position while it
            /// waits, and the offer once seats were offered to it. While it waits, looking at it
            /// first hands on the seats of offers that ran out, so an expired offer reaches the
            /// next in line without anything else having to run.
            fn waitlist_place<'py>(
                &self,
                py: Python<'py>,
                code: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let code = WaitlistCode::parse(code).or_raise()?;
                self.call(py, |s| async move {
                    s.waitlist_place(&code).await.map(WaitlistPlace::from)
                })
            }

            /// Leaves a waiting list: a waiting place is gone from the line, and the seats of a
            /// live offer go to the next in line. A place already done (booked, expired, left) is
            /// answered as it is.
            fn leave_waitlist<'py>(
                &self,
                py: Python<'py>,
                code: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let code = WaitlistCode::parse(code).or_raise()?;
                self.call(py, |s| async move {
                    s.leave_waitlist(&code).await.map(WaitlistPlace::from)
                })
            }

            /// A booking by code.
            fn booking<'py>(&self, py: Python<'py>, code: &str) -> PyResult<Bound<'py, PyAny>> {
                let code = BookingCode::parse(code).or_raise()?;
                self.call(
                    py,
                    |s| async move { s.booking(&code).await.map(as_of_now(&s)) },
                )
            }

            /// Moves a booking to the slot starting at `start` (which may be its own slot),
            /// optionally with a new number of seats and a new description, in one step. This is
            /// the guest's move (whoever holds the code): `TooLateError` from the appointment's
            /// cancellation cut-off before the booked slot on. A pending booking stays pending,
            /// with its `confirm_by`.
            #[pyo3(signature = (code, start, *, attendee_count = None, description = None))]
            fn reschedule<'py>(
                &self,
                py: Python<'py>,
                code: &str,
                start: Instant,
                attendee_count: Option<u32>,
                description: Option<String>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let code = BookingCode::parse(code).or_raise()?;
                let change = booking_update(start, attendee_count, description)?;
                self.call(py, |s| async move {
                    s.reschedule(&code, change).await.map(as_of_now(&s))
                })
            }

            /// The appointment's owner `owner_id` moves a booking, as `reschedule` does but not
            /// bound by the cancellation cut-off: only a booking whose slot has started can no
            /// longer be moved (`TooLateError`).
            #[pyo3(signature = (
                owner_id, code, start, *, attendee_count = None, description = None
            ))]
            fn owner_reschedule<'py>(
                &self,
                py: Python<'py>,
                owner_id: &str,
                code: &str,
                start: Instant,
                attendee_count: Option<u32>,
                description: Option<String>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let owner = user_id("owner_id", owner_id)?;
                let code = BookingCode::parse(code).or_raise()?;
                let change = booking_update(start, attendee_count, description)?;
                self.call(py, |s| async move {
                    s.owner_reschedule(owner, &code, change)
                        .await
                        .map(as_of_now(&s))
                })
            }

            /// Cancels a booking, freeing its seats. This is the guest's cancel (whoever holds the
            /// code): `TooLateError` from the appointment's cancellation cut-off before the slot
            /// on.
            fn cancel<'py>(&self, py: Python<'py>, code: &str) -> PyResult<Bound<'py, PyAny>> {
                let code = BookingCode::parse(code).or_raise()?;
                self.call(
                    py,
                    |s| async move { s.cancel(&code).await.map(as_of_now(&s)) },
                )
            }

            /// The appointment's owner `owner_id` cancels a booking whatever the cancellation
            /// policy, freeing its seats.
            fn owner_cancel<'py>(
                &self,
                py: Python<'py>,
                owner_id: &str,
                code: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let owner = user_id("owner_id", owner_id)?;
                let code = BookingCode::parse(code).or_raise()?;
                self.call(py, |s| async move {
                    s.owner_cancel(owner, &code).await.map(as_of_now(&s))
                })
            }

            /// The appointment's owner `owner_id` rejects a booking, freeing its seats.
            fn reject<'py>(
                &self,
                py: Python<'py>,
                owner_id: &str,
                code: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let owner = user_id("owner_id", owner_id)?;
                let code = BookingCode::parse(code).or_raise()?;
                self.call(py, |s| async move {
                    s.reject(owner, &code).await.map(as_of_now(&s))
                })
            }

            /// The appointment's owner `owner_id` marks a booking whose slot has started as
            /// attended (`"completed"`), freeing its seats; `TooEarlyError` before the slot's
            /// start.
            fn complete<'py>(
                &self,
                py: Python<'py>,
                owner_id: &str,
                code: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let owner = user_id("owner_id", owner_id)?;
                let code = BookingCode::parse(code).or_raise()?;
                self.call(py, |s| async move {
                    s.complete(owner, &code).await.map(as_of_now(&s))
                })
            }

            /// The appointment's owner `owner_id` marks a booking whose slot has started as not
            /// attended (`"no_show"`), freeing its seats; `TooEarlyError` before the slot's start.
            fn mark_no_show<'py>(
                &self,
                py: Python<'py>,
                owner_id: &str,
                code: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let owner = user_id("owner_id", owner_id)?;
                let code = BookingCode::parse(code).or_raise()?;
                self.call(py, |s| async move {
                    s.mark_no_show(owner, &code).await.map(as_of_now(&s))
                })
            }

            /// The appointment's owner `owner_id` confirms a pending booking: it becomes
            /// `"active"` and keeps its seats. `InvalidTransitionError` once it is no longer
            /// pending (`status` `"expired"` from its `confirm_by` on, `"cancelled"` if its guest
            /// cancelled first, …).
            fn confirm<'py>(
                &self,
                py: Python<'py>,
                owner_id: &str,
                code: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let owner = user_id("owner_id", owner_id)?;
                let code = BookingCode::parse(code).or_raise()?;
                self.call(py, |s| async move {
                    s.confirm(owner, &code).await.map(as_of_now(&s))
                })
            }

            /// The appointment's owner `owner_id` declines a pending booking (`"declined"`),
            /// freeing its seats. `InvalidTransitionError` once it is no longer pending.
            fn decline<'py>(
                &self,
                py: Python<'py>,
                owner_id: &str,
                code: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let owner = user_id("owner_id", owner_id)?;
                let code = BookingCode::parse(code).or_raise()?;
                self.call(py, |s| async move {
                    s.decline(owner, &code).await.map(as_of_now(&s))
                })
            }

            /// Marks the appointment's expired holds and pending bookings as expired now, and
            /// answers how many seats that gave back. Nothing depends on it (their seats are free
            /// from their deadline on); a sweeper may call it to keep the stored statuses tidy.
            fn reclaim_expired<'py>(
                &self,
                py: Python<'py>,
                code: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let code = AppCode::parse(code).or_raise()?;
                self.call(py, |s| async move { s.reclaim_expired(&code).await })
            }

            /// Reclaims, on every appointment, the holds, pending bookings and waiting-list offers
            /// that ran out (at most `limit` appointments, 1 to 1000, per call), so that their
            /// `expired` events are written without waiting for another request; answers the
            /// seats given back (0: nothing left, or another sweeper got there first). Safe from
            /// any number of processes at once. Call it every few seconds from a background task;
            /// if some appointment could not be reclaimed, the others were, and its error is
            /// raised.
            #[pyo3(signature = (*, limit = 100))]
            fn reclaim_all_expired<'py>(
                &self,
                py: Python<'py>,
                limit: u32,
            ) -> PyResult<Bound<'py, PyAny>> {
                self.call(py, |s| async move {
                    let mut round = s.reclaim_all_expired(limit).await?;
                    match round.failures.pop() {
                        Some((_, e)) => Err(e),
                        None => Ok(round.seats),
                    }
                })
            }

            /// The bookings of an appointment, for its owner.
            #[pyo3(signature = (owner_id, code, *, page = 1, per_page = 20))]
            fn appointment_bookings<'py>(
                &self,
                py: Python<'py>,
                owner_id: &str,
                code: &str,
                page: u32,
                per_page: u32,
            ) -> PyResult<Bound<'py, PyAny>> {
                let owner = user_id("owner_id", owner_id)?;
                let code = AppCode::parse(code).or_raise()?;
                let p = self::page(page, per_page)?;
                self.call(py, |s| async move {
                    let paged = s.appointment_bookings(owner, &code, p).await?;
                    Ok(PageOf::<_, Booking>::new(paged.map(as_of_now(&s))))
                })
            }

            /// The bookings a registered user made.
            #[pyo3(signature = (user_id, *, page = 1, per_page = 20))]
            fn user_bookings<'py>(
                &self,
                py: Python<'py>,
                user_id: &str,
                page: u32,
                per_page: u32,
            ) -> PyResult<Bound<'py, PyAny>> {
                let user = self::user_id("user_id", user_id)?;
                let p = self::page(page, per_page)?;
                self.call(py, |s| async move {
                    let paged = s.user_bookings(user, p).await?;
                    Ok(PageOf::<_, Booking>::new(paged.map(as_of_now(&s))))
                })
            }

            /// Bans an email from all of `owner_id`'s appointments.
            fn ban<'py>(
                &self,
                py: Python<'py>,
                owner_id: &str,
                email: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let owner = user_id("owner_id", owner_id)?;
                let email = Email::parse(email).or_raise()?;
                self.call(
                    py,
                    |s| async move { s.ban(owner, email).await.map(Ban::from) },
                )
            }

            /// Lifts a ban.
            fn unban<'py>(
                &self,
                py: Python<'py>,
                owner_id: &str,
                email: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let owner = user_id("owner_id", owner_id)?;
                let email = Email::parse(email).or_raise()?;
                self.call(py, |s| async move { s.unban(owner, &email).await })
            }

            /// The owner's ban list, oldest first.
            fn bans<'py>(&self, py: Python<'py>, owner_id: &str) -> PyResult<Bound<'py, PyAny>> {
                let owner = user_id("owner_id", owner_id)?;
                self.call(py, |s| async move {
                    let bans = s.bans(owner).await?;
                    Ok(bans.into_iter().map(Ban::from).collect::<Vec<_>>())
                })
            }

            /// The outbox: what happened after the cursor `after` (`EventPage.next` of the
            /// previous read; `None`: from the start), oldest first, at most `limit` events (1 to
            /// 1000); with `owner_id`, only those of that owner's appointments. Every change of an
            /// appointment, a booking, a hold or a waiting place wrote its event together with the
            /// change. Keep `next` and read on from it: each event comes once, in order, and none
            /// is skipped. The default `limit` is the REST API's.
            #[pyo3(signature = (after = None, *, limit = 100, owner_id = None))]
            fn events<'py>(
                &self,
                py: Python<'py>,
                after: Option<&str>,
                limit: u32,
                owner_id: Option<&str>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let owner = owner_id.map(|o| user_id("owner_id", o)).transpose()?;
                let after = match after {
                    Some(cursor) => cursor.parse::<EventCursor>().or_raise()?,
                    None => EventCursor::START,
                };
                self.call(py, |s| async move {
                    let events = s.events(owner, after, limit).await?;
                    Ok(EventPage::new(events, after))
                })
            }

            /// An owner's figures over the UTC dates `[start_date, end_date]`.
            fn analytics<'py>(
                &self,
                py: Python<'py>,
                owner_id: &str,
                start_date: NaiveDate,
                end_date: NaiveDate,
            ) -> PyResult<Bound<'py, PyAny>> {
                let owner = user_id("owner_id", owner_id)?;
                self.call(py, |s| async move {
                    s.analytics(owner, start_date, end_date)
                        .await
                        .map(Analytics::from)
                })
            }
        }
    };
}

scheduler_methods!(Scheduler {
    /// Opens a scheduler on the store `url` names. It reads the time from the system's clock,
    /// or, for tests and simulations only, from `clock`, a `ManualClock` the caller moves. With
    /// `verified_email_required`, strict anti-scalping takes bookings only from users whose
    /// address is verified (`verify_email`; `EmailNotVerifiedError` otherwise).
    #[new]
    #[pyo3(signature = (url = "memory:", *, clock = None, verified_email_required = false))]
    fn new(
        py: Python<'_>,
        url: &str,
        clock: Option<&ManualClock>,
        verified_email_required: bool,
    ) -> PyResult<Self> {
        let owned = url.to_owned();
        let store = py
            .detach(move || runtime().block_on(open_store(&owned)))
            .or_raise()?;
        Ok(Scheduler {
            inner: engine(
                store,
                clock.map(ManualClock::engine_clock),
                verified_email_required,
            ),
            url: url.to_owned(),
        })
    }

    fn __repr__(&self) -> String {
        format!("Scheduler({:?})", self.url)
    }
});

scheduler_methods!(AsyncScheduler {
    /// Opens a scheduler on the store `url` names (as `Scheduler(url, clock=...)` does), as an
    /// awaitable: `await AsyncScheduler.open("sqlite://bookings.db")`.
    #[staticmethod]
    #[pyo3(signature = (url = "memory:", *, clock = None, verified_email_required = false))]
    fn open<'py>(
        py: Python<'py>,
        url: &str,
        clock: Option<&ManualClock>,
        verified_email_required: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let url = url.to_owned();
        let clock = clock.map(ManualClock::engine_clock);
        awaitable(py, async move {
            let store = open_store(&url).await?;
            Ok(AsyncScheduler {
                inner: engine(store, clock, verified_email_required),
                url,
            })
        })
    }

    fn __repr__(&self) -> String {
        format!("AsyncScheduler({:?})", self.url)
    }
});

/// The compiled module, `appointment_master._native`.
#[pymodule(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Scheduler>()?;
    m.add_class::<AsyncScheduler>()?;
    m.add_class::<ManualClock>()?;
    m.add_class::<User>()?;
    m.add_class::<Appointment>()?;
    m.add_class::<AppointmentEdit>()?;
    m.add_class::<Closure>()?;
    m.add_class::<Slot>()?;
    m.add_class::<Booking>()?;
    m.add_class::<Hold>()?;
    m.add_class::<WaitlistPlace>()?;
    m.add_class::<Event>()?;
    m.add_class::<EventPage>()?;
    m.add_class::<Ban>()?;
    m.add_class::<Analytics>()?;
    m.add_class::<Page>()?;
    errors::register(m)?;
    // Answers still under way finish before the interpreter finalizes (see `run::exiting`).
    m.py()
        .import("atexit")?
        .call_method1("register", (wrap_pyfunction!(run::exiting, m)?,))?;
    Ok(())
}

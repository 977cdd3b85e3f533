"""Appointment Master's booking engine, embedded in Python.

The same engine as the REST server, with the same rules, stores and errors::

    from datetime import date, time, datetime, timezone
    from appointment_master import Scheduler, SlotFullError

    scheduler = Scheduler("memory:")          # or "sqlite:///path/to/file.db", "postgres://…"
    owner = scheduler.register_user("Ada", "ada@example.com")
    app = scheduler.create_appointment(
        owner.id, title="Haircut", start_date=date(2030, 1, 7), end_date=date(2030, 1, 7),
        start_time=time(9), end_time=time(12), slot_minutes=30, time_zone="Europe/Berlin",
    )
    slot = scheduler.slots(app.code).items[0]
    booking = scheduler.book(app.code, slot.start, name="Bo", email="bo@example.com")

Times are timezone-aware ``datetime`` objects (returned in UTC). Every error the engine reports is
an :class:`AppointmentError`, with one subclass per kind. Calls release the GIL while the engine
works, so one :class:`Scheduler` can be shared by many threads.

Seats can be held for a few minutes (``hold``) while a form is filled in or a payment made, then
booked with ``book(..., hold_token=hold.token)`` or released; from ``expires_at`` on they are free
again without anything having to run.

When a slot is full, ``join_waitlist`` puts someone in line for it: seats freed later (a cancel,
a released or expired hold, …) are offered to the places in join order as holds in their names,
booked with ``book(..., hold_token=place.offer.token)``; ``waitlist_place`` shows a place's
status and position, ``leave_waitlist`` leaves the line.

With ``confirm_within_minutes``, bookings start ``"pending"`` and hold their seats until the owner
calls ``confirm`` or ``decline``, or until ``Booking.confirm_by``, from which instant they read
``"expired"`` and their seats are free; ``reclaim_expired`` tidies the stored statuses.

Every appointment has a ``revision`` that each edit, close and reopen moves on by one;
``update_appointment(..., if_revision=app.revision)`` (and ``close_appointment`` /
``reopen_appointment`` with it) applies only to the appointment as it was read, and raises
:class:`ChangedError` without changing anything if someone edited it since.

Every change of an appointment, a booking, a hold or a waiting place writes an :class:`Event`
to the outbox together with the change; ``events(after=cursor)`` reads them in order from a
cursor the caller keeps (``EventPage.next``), each once.

For asyncio, :class:`AsyncScheduler` has every method of :class:`Scheduler`, each returning an
awaitable that the engine's own threads complete, so the event loop is never blocked::

    scheduler = await AsyncScheduler.open("sqlite:///path/to/file.db")
    booking = await scheduler.book(app.code, slot.start, name="Bo", email="bo@example.com")

Cancelling the task that awaits a call does not stop the engine: the call runs to completion and
its answer is dropped, so a write is done entirely or not at all.

For tests and simulations, ``Scheduler(url, clock=ManualClock(now))`` runs the engine on a clock
the caller sets and advances (a cancellation cut-off passing, a slot starting) instead of the
system's.
"""

from appointment_master._native import (
    Analytics,
    Appointment,
    AppointmentEdit,
    AppointmentError,
    AsyncScheduler,
    Ban,
    BannedError,
    Booking,
    ChangedError,
    Closure,
    DuplicateError,
    Event,
    EventPage,
    ForbiddenError,
    Hold,
    HoldEndedError,
    InvalidInputError,
    InvalidTransitionError,
    ManualClock,
    NotFoundError,
    Page,
    RegistrationRequiredError,
    EmailNotVerifiedError,
    Scheduler,
    Slot,
    SlotFullError,
    StorageError,
    TooEarlyError,
    TooLateError,
    UnavailableError,
    User,
    WaitlistPlace,
)

__all__ = [
    "Analytics",
    "Appointment",
    "AppointmentEdit",
    "AppointmentError",
    "AsyncScheduler",
    "Ban",
    "BannedError",
    "Booking",
    "ChangedError",
    "Closure",
    "DuplicateError",
    "Event",
    "EventPage",
    "ForbiddenError",
    "Hold",
    "HoldEndedError",
    "InvalidInputError",
    "InvalidTransitionError",
    "ManualClock",
    "NotFoundError",
    "Page",
    "RegistrationRequiredError",
    "EmailNotVerifiedError",
    "Scheduler",
    "Slot",
    "SlotFullError",
    "StorageError",
    "TooEarlyError",
    "TooLateError",
    "UnavailableError",
    "User",
    "WaitlistPlace",
]

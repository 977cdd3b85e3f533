"""The booking lifecycle through the Python API, on a clock the tests pin: the cancellation
cut-off binds guests and not the owner, nobody moves a started booking, the owner marks started
bookings completed or no-show, and analytics count the marks."""

from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

import pytest

from appointment_master import (
    Appointment,
    AppointmentError,
    ForbiddenError,
    InvalidInputError,
    InvalidTransitionError,
    ManualClock,
    Scheduler,
    TooEarlyError,
    TooLateError,
    User,
)

from conftest import DAY, unique_email

MakeApp = Callable[..., Appointment]

SECOND = timedelta(seconds=1)


def at(hour: int, minute: int = 0) -> datetime:
    """An instant of DAY, in UTC (the appointments here are 09:00-12:00 UTC, hourly slots)."""
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> ManualClock:
    """Two days before DAY: every slot of DAY is still to come."""
    return ManualClock(at(0) - timedelta(days=2))


@pytest.fixture
def scheduler(store_url: str, clock: ManualClock) -> Iterator[Scheduler]:
    """A fresh scheduler on each backend, reading the time from the test's clock."""
    yield Scheduler(store_url, clock=clock)


def book(scheduler: Scheduler, app: Appointment, start: datetime, seats: int = 1) -> str:
    """Books `seats` seats at `start` as a new guest; the booking's code."""
    booking = scheduler.book(
        app.code, start, name="Guest", email=unique_email("guest"), attendee_count=seats
    )
    assert booking.status == "active"
    return booking.code


def seats_taken(scheduler: Scheduler, app: Appointment, start: datetime) -> int:
    return scheduler.slot(app.code, start).seats_taken


def test_the_engine_reads_the_pinned_clock(
    scheduler: Scheduler, clock: ManualClock, make_appointment: MakeApp
) -> None:
    app = make_appointment()
    assert app.created_at == clock.now()
    assert [s.start for s in scheduler.all_slots(app.code)] == [at(9), at(10), at(11)]
    clock.set(at(9, 30))
    # The 09:00 slot has started: no longer offered.
    assert [s.start for s in scheduler.all_slots(app.code)] == [at(10), at(11)]
    clock.advance(timedelta(hours=2))
    assert clock.now() == at(11, 30)
    assert scheduler.all_slots(app.code) == []
    clock.advance(-timedelta(hours=3))
    assert clock.now() == at(8, 30)
    booking = scheduler.book(app.code, at(9), name="Bo", email=unique_email("bo"))
    assert booking.created_at == at(8, 30)


def test_the_clock_takes_aware_instants_in_range() -> None:
    clock = ManualClock(datetime(2031, 3, 3, 10, tzinfo=timezone(timedelta(hours=1))))
    assert clock.now() == at(9)
    assert clock.now().tzinfo is not None
    assert "2031-03-03T09:00:00" in repr(clock)
    with pytest.raises(InvalidInputError) as naive:
        ManualClock(datetime(2031, 3, 3, 9))
    assert naive.value.field == "now"
    with pytest.raises(InvalidInputError):
        clock.set(datetime(2031, 3, 3, 9))
    with pytest.raises(InvalidInputError) as early:
        clock.set(datetime(1969, 12, 31, 23, 59, tzinfo=timezone.utc))
    assert early.value.field == "now"
    with pytest.raises(InvalidInputError) as far:
        clock.advance(timedelta(days=999_999_999))
    assert far.value.field == "by"
    # Refused moves leave the clock where it was.
    assert clock.now() == at(9)


def test_the_cutoff_refuses_guest_cancel_and_reschedule(
    scheduler: Scheduler, clock: ManualClock, make_appointment: MakeApp
) -> None:
    app = make_appointment(kind="group", capacity=3, cancel_cutoff_minutes=120)
    assert app.cancel_cutoff_minutes == 120
    assert scheduler.appointment(app.code).cancel_cutoff_minutes == 120
    code = book(scheduler, app, at(11))

    # One second before the 11:00 slot's deadline (09:00) the guest moves it to 10:00, whose
    # deadline (08:00) has passed.
    clock.set(at(9) - SECOND)
    moved = scheduler.reschedule(code, at(10), attendee_count=2)
    assert (moved.slot_start, moved.attendee_count) == (at(10), 2)

    with pytest.raises(TooLateError) as cancel:
        scheduler.cancel(code)
    assert cancel.value.code == "too_late"
    assert cancel.value.action == "cancel"
    assert cancel.value.deadline == at(8)
    assert isinstance(cancel.value, AppointmentError)
    with pytest.raises(TooLateError) as move:
        scheduler.reschedule(code, at(11))
    assert move.value.action == "reschedule"
    assert move.value.deadline == at(8)

    # Nothing changed.
    kept = scheduler.booking(code)
    assert (kept.status, kept.slot_start, kept.attendee_count) == ("active", at(10), 2)
    assert seats_taken(scheduler, app, at(10)) == 2
    assert seats_taken(scheduler, app, at(11)) == 0

    # The deadline itself is already too late.
    late = book(scheduler, app, at(11))
    clock.set(at(9))
    with pytest.raises(TooLateError) as exact:
        scheduler.cancel(late)
    assert exact.value.deadline == at(9)
    assert scheduler.booking(late).status == "active"


def test_the_owner_cancels_and_moves_inside_the_cutoff(
    scheduler: Scheduler, clock: ManualClock, owner: User, make_appointment: MakeApp
) -> None:
    app = make_appointment(cancel_cutoff_minutes=120)
    moved_code = book(scheduler, app, at(10))
    cancelled_code = book(scheduler, app, at(9))
    clock.set(at(8, 30))
    with pytest.raises(TooLateError):
        scheduler.cancel(cancelled_code)

    stranger = scheduler.register_user("Eve", unique_email("eve"))
    with pytest.raises(ForbiddenError):
        scheduler.owner_cancel(stranger.id, cancelled_code)
    with pytest.raises(ForbiddenError):
        scheduler.owner_reschedule(stranger.id, moved_code, at(11))

    moved = scheduler.owner_reschedule(owner.id, moved_code, at(11), description="moved by us")
    assert (moved.status, moved.slot_start, moved.description) == ("active", at(11), "moved by us")
    assert seats_taken(scheduler, app, at(10)) == 0
    assert seats_taken(scheduler, app, at(11)) == 1

    cancelled = scheduler.owner_cancel(owner.id, cancelled_code)
    assert cancelled.status == "cancelled"
    assert cancelled.updated_at == at(8, 30)
    assert seats_taken(scheduler, app, at(9)) == 0
    with pytest.raises(InvalidTransitionError) as twice:
        scheduler.owner_cancel(owner.id, cancelled_code)
    assert (twice.value.status, twice.value.action) == ("cancelled", "cancel")


def test_a_shorter_cutoff_applies_to_bookings_already_made(
    scheduler: Scheduler, clock: ManualClock, owner: User, make_appointment: MakeApp
) -> None:
    app = make_appointment(cancel_cutoff_minutes=180)
    code = book(scheduler, app, at(11))
    clock.set(at(9))
    with pytest.raises(TooLateError) as before:
        scheduler.cancel(code)
    assert before.value.deadline == at(8)
    edit = scheduler.update_appointment(owner.id, app.code, cancel_cutoff_minutes=30)
    assert edit.appointment.cancel_cutoff_minutes == 30
    assert scheduler.appointment(app.code).cancel_cutoff_minutes == 30
    assert scheduler.cancel(code).status == "cancelled"
    # Other fields are left alone, and an over-long cut-off is refused.
    unchanged = scheduler.update_appointment(owner.id, app.code, title="Renamed")
    assert unchanged.appointment.cancel_cutoff_minutes == 30
    with pytest.raises(InvalidInputError) as too_long:
        scheduler.update_appointment(owner.id, app.code, cancel_cutoff_minutes=367 * 24 * 60)
    assert too_long.value.field == "cancel_cutoff_minutes"
    with pytest.raises(InvalidInputError):
        make_appointment(cancel_cutoff_minutes=367 * 24 * 60)


def test_nobody_moves_a_started_booking(
    scheduler: Scheduler, clock: ManualClock, owner: User, make_appointment: MakeApp
) -> None:
    app = make_appointment()
    assert app.cancel_cutoff_minutes == 0
    early = book(scheduler, app, at(9))
    started = book(scheduler, app, at(10))
    # Without a cut-off a guest may cancel until the slot starts.
    clock.set(at(9) - SECOND)
    assert scheduler.cancel(early).status == "cancelled"

    clock.set(at(10))
    with pytest.raises(TooLateError) as guest:
        scheduler.cancel(started)
    assert guest.value.deadline == at(10)
    with pytest.raises(TooLateError):
        scheduler.reschedule(started, at(11))
    with pytest.raises(TooLateError) as by_owner:
        scheduler.owner_reschedule(owner.id, started, at(11))
    assert (by_owner.value.action, by_owner.value.deadline) == ("reschedule", at(10))
    kept = scheduler.booking(started)
    assert (kept.status, kept.slot_start) == ("active", at(10))
    assert seats_taken(scheduler, app, at(10)) == 1
    # The owner may still call it off.
    assert scheduler.owner_cancel(owner.id, started).status == "cancelled"
    assert seats_taken(scheduler, app, at(10)) == 0


def test_marks_only_from_the_start(
    scheduler: Scheduler, clock: ManualClock, owner: User, make_appointment: MakeApp
) -> None:
    app = make_appointment(kind="group", capacity=3)
    email = unique_email("regular")
    attended = scheduler.book(app.code, at(9), name="Regular", email=email, attendee_count=2).code
    missed = book(scheduler, app, at(9))
    assert seats_taken(scheduler, app, at(9)) == 3

    clock.set(at(9) - SECOND)
    with pytest.raises(TooEarlyError) as complete:
        scheduler.complete(owner.id, attended)
    assert complete.value.code == "too_early"
    assert complete.value.action == "complete"
    assert complete.value.from_ == at(9)
    with pytest.raises(TooEarlyError) as no_show:
        scheduler.mark_no_show(owner.id, missed)
    assert no_show.value.action == "mark no-show"
    assert no_show.value.from_ == at(9)
    assert [scheduler.booking(c).status for c in (attended, missed)] == ["active", "active"]
    assert seats_taken(scheduler, app, at(9)) == 3

    clock.set(at(9))
    stranger = scheduler.register_user("Eve", unique_email("eve"))
    with pytest.raises(ForbiddenError):
        scheduler.complete(stranger.id, attended)
    with pytest.raises(ForbiddenError):
        scheduler.mark_no_show(stranger.id, missed)
    done = scheduler.complete(owner.id, attended)
    assert (done.status, done.updated_at) == ("completed", at(9))
    assert scheduler.mark_no_show(owner.id, missed).status == "no_show"
    assert scheduler.booking(attended).status == "completed"
    assert scheduler.booking(missed).status == "no_show"

    # The seats are freed, and the marks are final.
    assert seats_taken(scheduler, app, at(9)) == 0
    assert scheduler.attendees_booked(app.code) == 0
    with pytest.raises(InvalidTransitionError) as again:
        scheduler.mark_no_show(owner.id, attended)
    assert (again.value.status, again.value.action) == ("completed", "mark no-show")
    with pytest.raises(InvalidTransitionError) as cancel:
        scheduler.cancel(missed)
    assert (cancel.value.status, cancel.value.action) == ("no_show", "cancel")
    # The guest whose booking was completed may book the appointment again (anti-scalping).
    rebooked = scheduler.book(app.code, at(11), name="Regular", email=email)
    assert rebooked.status == "active"


def test_analytics_count_the_marks_and_the_no_show_rate(
    scheduler: Scheduler, clock: ManualClock, owner: User, make_appointment: MakeApp
) -> None:
    app = make_appointment(kind="group", capacity=5)
    attended = book(scheduler, app, at(9), seats=2)
    missed = [book(scheduler, app, at(9)) for _ in range(2)]
    called_off = book(scheduler, app, at(9))
    waiting = book(scheduler, app, at(11))
    scheduler.cancel(called_off)

    before = scheduler.analytics(owner.id, DAY, DAY)
    assert (before.completed_bookings, before.no_show_bookings) == (0, 0)
    assert before.no_show_rate is None

    clock.set(at(10))
    scheduler.complete(owner.id, attended)
    for code in missed:
        scheduler.mark_no_show(owner.id, code)

    stats = scheduler.analytics(owner.id, DAY, DAY)
    assert stats.active_bookings == 1
    assert stats.cancelled_bookings == 1
    assert stats.rejected_bookings == 0
    assert stats.completed_bookings == 1
    assert stats.no_show_bookings == 2
    assert stats.total_bookings == 5
    assert stats.no_show_rate == pytest.approx(2 / 3)
    # Seats of the bookings not called off: 2 completed, 2 no-show, 1 active.
    assert stats.seats_booked == 5
    assert stats.seats_offered == 3 * 5
    assert scheduler.booking(waiting).status == "active"

    # Only completed: a rate of 0.
    other = scheduler.register_user("Olga", unique_email("olga"))
    single = scheduler.create_appointment(
        other.id,
        title="Check-up",
        start_date=DAY,
        end_date=DAY,
        start_time=at(11).time(),
        end_time=at(12).time(),
        slot_minutes=60,
    )
    code = book(scheduler, single, at(11))
    clock.set(at(11))
    scheduler.complete(other.id, code)
    only_completed = scheduler.analytics(other.id, DAY, DAY)
    assert (only_completed.completed_bookings, only_completed.no_show_rate) == (1, 0.0)

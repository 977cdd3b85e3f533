"""Approval through the Python API, on every store and a clock the tests pin: with
`confirm_within_minutes`, bookings start pending and hold their seats until the owner confirms
or declines them, or until `confirm_by`, from which instant they read "expired" and their seats
are free without anything having run; `reclaim_expired` tidies the stored statuses, and
analytics count every outcome."""

from datetime import datetime, timedelta, timezone
from typing import AsyncIterator, Callable, Iterator

import pytest
import pytest_asyncio

from appointment_master import (
    Appointment,
    AsyncScheduler,
    Booking,
    ForbiddenError,
    InvalidInputError,
    InvalidTransitionError,
    ManualClock,
    Scheduler,
    SlotFullError,
    User,
)

from conftest import DAY, unique_email

MakeApp = Callable[..., Appointment]

MICROSECOND = timedelta(microseconds=1)


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


def deadline_of(booking: Booking) -> datetime:
    """A pending booking's `confirm_by` (it has one)."""
    assert booking.confirm_by is not None, booking
    return booking.confirm_by


def seats_taken(scheduler: Scheduler, app: Appointment, start: datetime) -> int:
    return scheduler.slot(app.code, start).seats_taken


def book_guest(
    scheduler: Scheduler,
    app: Appointment,
    start: datetime,
    seats: int = 1,
    email: str = "",
) -> Booking:
    return scheduler.book(
        app.code,
        start,
        name="Guest",
        email=email or unique_email("guest"),
        attendee_count=seats,
    )


def test_a_pending_booking_holds_its_seats_until_the_owner_confirms_it(
    scheduler: Scheduler, clock: ManualClock, owner: User, make_appointment: MakeApp
) -> None:
    app = make_appointment(kind="group", capacity=3, confirm_within_minutes=60)
    assert app.confirm_within_minutes == 60
    assert scheduler.appointment(app.code).confirm_within_minutes == 60
    assert make_appointment().confirm_within_minutes is None

    booked_at = clock.now()
    pending = book_guest(scheduler, app, at(9), seats=2)
    assert (pending.status, pending.confirm_by) == ("pending", booked_at + timedelta(minutes=60))
    assert scheduler.booking(pending.code).confirm_by == pending.confirm_by
    # Its seats are taken, exactly as an active booking's.
    assert seats_taken(scheduler, app, at(9)) == 2
    assert scheduler.attendees_booked(app.code) == 2
    with pytest.raises(SlotFullError) as full:
        book_guest(scheduler, app, at(9), seats=2)
    assert (full.value.requested, full.value.available) == (2, 1)

    # Only the owner decides.
    stranger = scheduler.register_user("Eve", unique_email("eve"))
    with pytest.raises(ForbiddenError):
        scheduler.confirm(stranger.id, pending.code)
    with pytest.raises(ForbiddenError):
        scheduler.decline(stranger.id, pending.code)
    assert scheduler.booking(pending.code).status == "pending"

    clock.advance(timedelta(minutes=59))
    confirmed = scheduler.confirm(owner.id, pending.code)
    assert (confirmed.status, confirmed.confirm_by) == ("active", None)
    assert confirmed.updated_at == clock.now()
    assert seats_taken(scheduler, app, at(9)) == 2

    # Confirmed, it no longer has a deadline: past the old one it stays active.
    clock.advance(timedelta(hours=2))
    assert scheduler.booking(pending.code).status == "active"
    assert seats_taken(scheduler, app, at(9)) == 2
    for decide in (scheduler.confirm, scheduler.decline):
        with pytest.raises(InvalidTransitionError) as twice:
            decide(owner.id, pending.code)
        assert twice.value.status == "active"
    with pytest.raises(InvalidTransitionError) as again:
        scheduler.confirm(owner.id, pending.code)
    assert again.value.action == "confirm"


def test_decline_frees_the_seats(
    scheduler: Scheduler, clock: ManualClock, owner: User, make_appointment: MakeApp
) -> None:
    app = make_appointment(kind="group", capacity=2, confirm_within_minutes=120)
    pending = book_guest(scheduler, app, at(10), seats=2)
    assert seats_taken(scheduler, app, at(10)) == 2

    clock.advance(timedelta(minutes=5))
    declined = scheduler.decline(owner.id, pending.code)
    assert (declined.status, declined.confirm_by) == ("declined", None)
    assert declined.updated_at == clock.now()
    assert scheduler.booking(pending.code).status == "declined"
    assert seats_taken(scheduler, app, at(10)) == 0

    # Declined is final.
    with pytest.raises(InvalidTransitionError) as confirm:
        scheduler.confirm(owner.id, pending.code)
    assert (confirm.value.status, confirm.value.action) == ("declined", "confirm")
    with pytest.raises(InvalidTransitionError) as cancel:
        scheduler.cancel(pending.code)
    assert cancel.value.status == "declined"
    assert book_guest(scheduler, app, at(10), seats=2).status == "pending"


def test_a_pending_booking_expires_at_confirm_by_exactly(
    scheduler: Scheduler, clock: ManualClock, owner: User, make_appointment: MakeApp
) -> None:
    app = make_appointment(
        kind="group", capacity=2, anti_scalping="standard", confirm_within_minutes=30
    )
    email = unique_email("late")
    pending = book_guest(scheduler, app, at(9), seats=2, email=email)
    deadline = deadline_of(pending)
    assert deadline == clock.now() + timedelta(minutes=30)

    # A microsecond before its deadline it still holds its seats.
    clock.set(deadline - MICROSECOND)
    assert scheduler.booking(pending.code).status == "pending"
    assert seats_taken(scheduler, app, at(9)) == 2
    with pytest.raises(SlotFullError):
        book_guest(scheduler, app, at(9))

    # From its deadline on it reads expired everywhere and holds nothing, before any sweep.
    clock.set(deadline)
    expired = scheduler.booking(pending.code)
    assert (expired.status, expired.confirm_by) == ("expired", None)
    listed = scheduler.appointment_bookings(owner.id, app.code)
    assert [(b.code, b.status) for b in listed] == [(pending.code, "expired")]
    assert seats_taken(scheduler, app, at(9)) == 0
    assert scheduler.attendees_booked(app.code) == 0
    for decide, action in ((scheduler.confirm, "confirm"), (scheduler.decline, "decline")):
        with pytest.raises(InvalidTransitionError) as late:
            decide(owner.id, pending.code)
        assert (late.value.status, late.value.action) == ("expired", action)
    with pytest.raises(InvalidTransitionError) as cancel:
        scheduler.cancel(pending.code)
    assert cancel.value.status == "expired"

    # The sweeper gives back the seats once, and the stored status now says expired too.
    assert scheduler.reclaim_expired(app.code) == 2
    assert scheduler.reclaim_expired(app.code) == 0
    assert scheduler.booking(pending.code).status == "expired"
    assert seats_taken(scheduler, app, at(9)) == 0

    # The expired booking no longer counts against its email (standard anti-scalping).
    again = book_guest(scheduler, app, at(9), seats=2, email=email)
    assert (again.status, again.confirm_by) == ("pending", clock.now() + timedelta(minutes=30))
    assert seats_taken(scheduler, app, at(9)) == 2


def test_one_sweep_reclaims_what_ran_out_on_every_appointment(
    scheduler: Scheduler, clock: ManualClock, make_appointment: MakeApp
) -> None:
    apps = [
        make_appointment(kind="group", capacity=2, confirm_within_minutes=30) for _ in range(3)
    ]
    pending = [book_guest(scheduler, app, at(9), seats=2) for app in apps]
    with pytest.raises(InvalidInputError) as bad:
        scheduler.reclaim_all_expired(limit=0)
    assert bad.value.field == "limit"
    # Before the deadline there is nothing of these to reclaim.
    clock.set(deadline_of(pending[0]) - MICROSECOND)
    scheduler.reclaim_all_expired()
    assert scheduler.reclaim_expired(apps[0].code) == 0
    assert scheduler.booking(pending[0].code).status == "pending"
    # From it on, sweeps give every appointment's seats back (a shared database may hold other
    # tests' expired bookings too), each once.
    clock.set(deadline_of(pending[0]))
    given = 0
    while (seats := scheduler.reclaim_all_expired(limit=1)) > 0:
        given += seats
    assert given >= 6
    assert [scheduler.reclaim_expired(app.code) for app in apps] == [0, 0, 0]
    assert [scheduler.booking(p.code).status for p in pending] == ["expired"] * 3


def test_an_expired_booking_is_claimed_again_without_a_sweep(
    scheduler: Scheduler, clock: ManualClock, make_appointment: MakeApp
) -> None:
    app = make_appointment(confirm_within_minutes=10)
    first = book_guest(scheduler, app, at(11))
    with pytest.raises(SlotFullError):
        book_guest(scheduler, app, at(11))
    clock.set(deadline_of(first))
    second = book_guest(scheduler, app, at(11))
    assert second.status == "pending"
    assert scheduler.booking(first.code).status == "expired"
    assert seats_taken(scheduler, app, at(11)) == 1
    # The claim already gave the expired seat back: nothing is left to sweep.
    assert scheduler.reclaim_expired(app.code) == 0


def test_confirm_by_is_never_past_the_slot_start(
    scheduler: Scheduler, clock: ManualClock, owner: User, make_appointment: MakeApp
) -> None:
    app = make_appointment(kind="group", capacity=4, confirm_within_minutes=24 * 60)
    clock.set(at(8, 30))
    soon = book_guest(scheduler, app, at(9))
    later = book_guest(scheduler, app, at(11))
    assert soon.confirm_by == at(9)
    assert later.confirm_by == at(11)
    clock.set(at(9))
    assert scheduler.booking(soon.code).status == "expired"
    assert scheduler.booking(later.code).status == "pending"
    assert scheduler.confirm(owner.id, later.code).status == "active"


def test_guests_move_and_cancel_pending_bookings_and_the_owner_rejects_them(
    scheduler: Scheduler, clock: ManualClock, owner: User, make_appointment: MakeApp
) -> None:
    app = make_appointment(kind="group", capacity=3, confirm_within_minutes=60)
    pending = book_guest(scheduler, app, at(9), seats=2)

    clock.advance(timedelta(minutes=10))
    moved = scheduler.reschedule(pending.code, at(10), attendee_count=3)
    assert (moved.status, moved.confirm_by) == ("pending", pending.confirm_by)
    assert (moved.slot_start, moved.attendee_count) == (at(10), 3)
    assert seats_taken(scheduler, app, at(9)) == 0
    assert seats_taken(scheduler, app, at(10)) == 3
    by_owner = scheduler.owner_reschedule(owner.id, pending.code, at(11))
    assert (by_owner.status, by_owner.confirm_by) == ("pending", pending.confirm_by)

    cancelled = scheduler.cancel(pending.code)
    assert (cancelled.status, cancelled.confirm_by) == ("cancelled", None)
    assert seats_taken(scheduler, app, at(11)) == 0
    with pytest.raises(InvalidTransitionError) as confirm:
        scheduler.confirm(owner.id, pending.code)
    assert confirm.value.status == "cancelled"

    rejected = scheduler.reject(owner.id, book_guest(scheduler, app, at(9)).code)
    assert rejected.status == "rejected"
    assert seats_taken(scheduler, app, at(9)) == 0

    # Only a confirmed booking is marked once its slot starts: by then an undecided one expired.
    clock.set(at(8, 30))
    marked = book_guest(scheduler, app, at(9))
    undecided = book_guest(scheduler, app, at(9))
    clock.set(at(9) - MICROSECOND)
    assert scheduler.confirm(owner.id, marked.code).status == "active"
    clock.set(at(9))
    assert scheduler.complete(owner.id, marked.code).status == "completed"
    with pytest.raises(InvalidTransitionError) as unmarked:
        scheduler.complete(owner.id, undecided.code)
    assert (unmarked.value.status, unmarked.value.action) == ("expired", "complete")


def test_confirm_within_minutes_is_checked_and_edited(
    scheduler: Scheduler, clock: ManualClock, owner: User, make_appointment: MakeApp
) -> None:
    for minutes in (0, 43201):
        with pytest.raises(InvalidInputError) as bad:
            make_appointment(confirm_within_minutes=minutes)
        assert bad.value.field == "confirm_within_minutes"
    assert make_appointment(confirm_within_minutes=43200).confirm_within_minutes == 43200
    with pytest.raises(InvalidInputError) as shared:
        make_appointment(confirm_within_minutes=60, resource="Chair 1")
    assert shared.value.field == "confirm_within_minutes"

    app = make_appointment(kind="group", capacity=5)
    assert book_guest(scheduler, app, at(9)).status == "active"
    on = scheduler.update_appointment(owner.id, app.code, confirm_within_minutes=90)
    assert on.appointment.confirm_within_minutes == 90
    waiting = book_guest(scheduler, app, at(9))
    assert (waiting.status, waiting.confirm_by) == ("pending", clock.now() + timedelta(minutes=90))
    # Other edits leave it alone.
    renamed = scheduler.update_appointment(owner.id, app.code, title="Renamed")
    assert renamed.appointment.confirm_within_minutes == 90

    for minutes in (0, 43201):
        with pytest.raises(InvalidInputError) as bad_edit:
            scheduler.update_appointment(owner.id, app.code, confirm_within_minutes=minutes)
        assert bad_edit.value.field == "confirm_within_minutes"
    with pytest.raises(InvalidInputError) as both:
        scheduler.update_appointment(
            owner.id, app.code, confirm_within_minutes=30, remove_approval=True
        )
    assert both.value.field == "confirm_within_minutes"
    with pytest.raises(InvalidInputError) as on_resource:
        scheduler.update_appointment(owner.id, app.code, resource="Chair 1")
    assert on_resource.value.field == "confirm_within_minutes"
    assert scheduler.appointment(app.code).revision == renamed.appointment.revision

    off = scheduler.update_appointment(owner.id, app.code, remove_approval=True)
    assert off.appointment.confirm_within_minutes is None
    assert book_guest(scheduler, app, at(9)).status == "active"
    # The booking already pending keeps its deadline and still needs a decision.
    still = scheduler.booking(waiting.code)
    assert (still.status, still.confirm_by) == ("pending", waiting.confirm_by)
    assert scheduler.confirm(owner.id, waiting.code).status == "active"
    assert seats_taken(scheduler, app, at(9)) == 3


def test_analytics_count_pending_declined_and_expired_bookings(
    scheduler: Scheduler, clock: ManualClock, owner: User, make_appointment: MakeApp
) -> None:
    app = make_appointment(kind="group", capacity=10, confirm_within_minutes=60)
    expires = book_guest(scheduler, app, at(9), seats=3)
    clock.advance(timedelta(minutes=30))
    waits = book_guest(scheduler, app, at(9), seats=2)
    declined = book_guest(scheduler, app, at(10))
    confirmed = book_guest(scheduler, app, at(11), seats=4)
    scheduler.decline(owner.id, declined.code)
    scheduler.confirm(owner.id, confirmed.code)

    before = scheduler.analytics(owner.id, DAY, DAY)
    assert (before.pending_bookings, before.expired_bookings) == (2, 0)
    assert before.seats_pending == 5

    # At the first booking's deadline it counts as expired, before any sweep.
    clock.set(deadline_of(expires))
    stats = scheduler.analytics(owner.id, DAY, DAY)
    assert (stats.active_bookings, stats.pending_bookings) == (1, 1)
    assert (stats.declined_bookings, stats.expired_bookings) == (1, 1)
    assert (stats.cancelled_bookings, stats.rejected_bookings) == (0, 0)
    assert stats.total_bookings == 4
    assert (stats.seats_booked, stats.seats_pending) == (4, 2)
    assert scheduler.reclaim_expired(app.code) == 3
    assert scheduler.analytics(owner.id, DAY, DAY).expired_bookings == 1
    assert scheduler.booking(waits.code).status == "pending"


@pytest_asyncio.fixture
async def async_scheduler(store_url: str, clock: ManualClock) -> AsyncIterator[AsyncScheduler]:
    """A fresh async scheduler on each backend, on the test's clock."""
    yield await AsyncScheduler.open(store_url, clock=clock)


@pytest.mark.asyncio
async def test_approval_awaited(async_scheduler: AsyncScheduler, clock: ManualClock) -> None:
    s = async_scheduler
    owner = await s.register_user("Owner", unique_email("owner"))
    app = await s.create_appointment(
        owner.id,
        title="Awaited",
        start_date=DAY,
        end_date=DAY,
        start_time=at(9).time(),
        end_time=at(12).time(),
        slot_minutes=60,
        kind="group",
        capacity=3,
        confirm_within_minutes=45,
    )
    assert app.confirm_within_minutes == 45

    async def book(start: datetime, seats: int = 1) -> Booking:
        return await s.book(app.code, start, name="Guest", email=unique_email("guest"),
                            attendee_count=seats)

    confirmed, declined, expired = await book(at(9), 2), await book(at(10)), await book(at(11), 3)
    assert {b.status for b in (confirmed, declined, expired)} == {"pending"}
    assert expired.confirm_by == clock.now() + timedelta(minutes=45)
    assert (await s.slot(app.code, at(11))).seats_taken == 3

    assert (await s.confirm(owner.id, confirmed.code)).status == "active"
    assert (await s.decline(owner.id, declined.code)).status == "declined"
    with pytest.raises(InvalidTransitionError):
        await s.decline(owner.id, declined.code)

    clock.set(deadline_of(expired))
    late = await s.booking(expired.code)
    assert (late.status, late.confirm_by) == ("expired", None)
    assert (await s.slot(app.code, at(11))).seats_taken == 0
    page = await s.appointment_bookings(owner.id, app.code)
    assert {b.code: b.status for b in page} == {
        confirmed.code: "active",
        declined.code: "declined",
        expired.code: "expired",
    }
    assert await s.reclaim_expired(app.code) == 3

    stats = await s.analytics(owner.id, DAY, DAY)
    assert (stats.active_bookings, stats.declined_bookings, stats.expired_bookings) == (1, 1, 1)
    assert (stats.pending_bookings, stats.seats_pending) == (0, 0)

    edit = await s.update_appointment(owner.id, app.code, remove_approval=True)
    assert edit.appointment.confirm_within_minutes is None
    assert (await book(at(11))).status == "active"

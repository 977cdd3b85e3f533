"""Holds through the Python API, on every store and a clock the tests pin: a hold takes seats
like a booking until its expiry exactly, booking it with its token takes over its seats once,
releasing it gives them back, and holds and bookings racing for the last seats never oversell."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator, List, Union

import pytest

from appointment_master import (
    Appointment,
    AppointmentError,
    Booking,
    Hold,
    HoldEndedError,
    InvalidInputError,
    ManualClock,
    NotFoundError,
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


def seats_taken(scheduler: Scheduler, app: Appointment, start: datetime) -> int:
    return scheduler.slot(app.code, start).seats_taken


def book_guest(
    scheduler: Scheduler,
    app: Appointment,
    start: datetime,
    seats: int = 1,
    hold_token: Union[str, None] = None,
) -> Booking:
    return scheduler.book(
        app.code,
        start,
        name="Guest",
        email=unique_email("guest"),
        attendee_count=seats,
        hold_token=hold_token,
    )


def test_a_hold_takes_seats_until_it_expires(
    scheduler: Scheduler, clock: ManualClock, make_appointment: MakeApp
) -> None:
    app = make_appointment(kind="group", capacity=3, hold_minutes=15)
    assert app.hold_minutes == 15
    assert scheduler.appointment(app.code).hold_minutes == 15

    hold = scheduler.hold(app.code, at(9), seats=2)
    assert isinstance(hold, Hold)
    assert hold.token.startswith("HD-")
    assert (hold.app_code, hold.slot_start, hold.slot_end) == (app.code, at(9), at(10))
    assert (hold.seats, hold.status, hold.booking_id) == (2, "held", None)
    assert hold.created_at == clock.now()
    assert hold.expires_at == clock.now() + timedelta(minutes=15)
    assert "HD-" in repr(hold)

    # The listing and the seat counts show the held seats as taken.
    listed = {s.start: s for s in scheduler.all_slots(app.code)}
    assert (listed[at(9)].seats_taken, listed[at(9)].seats_left) == (2, 1)
    assert listed[at(10)].seats_taken == 0
    assert scheduler.attendees_booked(app.code) == 2
    with pytest.raises(SlotFullError) as full:
        book_guest(scheduler, app, at(9), seats=2)
    assert (full.value.requested, full.value.available) == (2, 1)
    assert book_guest(scheduler, app, at(9)).attendee_count == 1
    assert seats_taken(scheduler, app, at(9)) == 3

    # A microsecond before the expiry the seats are still held.
    clock.set(hold.expires_at - MICROSECOND)
    assert scheduler.hold_by_token(hold.token).status == "held"
    assert seats_taken(scheduler, app, at(9)) == 3

    # From the expiry on they are free, without anything having run.
    clock.set(hold.expires_at)
    expired = scheduler.hold_by_token(hold.token)
    assert (expired.status, expired.token, expired.seats) == ("expired", hold.token, 2)
    assert seats_taken(scheduler, app, at(9)) == 1
    with pytest.raises(HoldEndedError) as ended:
        book_guest(scheduler, app, at(9), seats=2, hold_token=hold.token)
    assert ended.value.status == "expired"
    assert ended.value.code == "hold_ended"
    assert isinstance(ended.value, AppointmentError)
    assert seats_taken(scheduler, app, at(9)) == 1

    # A new booking takes the freed seats.
    freed = book_guest(scheduler, app, at(9), seats=2)
    assert freed.attendee_count == 2
    assert seats_taken(scheduler, app, at(9)) == 3
    assert scheduler.hold_by_token(hold.token).status == "expired"


def test_booking_a_hold_takes_its_seats_once(
    scheduler: Scheduler, clock: ManualClock, make_appointment: MakeApp
) -> None:
    app = make_appointment(kind="group", capacity=2)
    assert app.hold_minutes == 10
    hold = scheduler.hold(app.code, at(10), seats=2)
    with pytest.raises(SlotFullError) as full:
        book_guest(scheduler, app, at(10))
    assert full.value.available == 0

    # The token must come with the hold's slot and seats; a refusal changes nothing.
    with pytest.raises(InvalidInputError) as other_slot:
        book_guest(scheduler, app, at(11), seats=2, hold_token=hold.token)
    assert other_slot.value.field == "hold_token"
    with pytest.raises(InvalidInputError) as other_seats:
        book_guest(scheduler, app, at(10), seats=1, hold_token=hold.token)
    assert other_seats.value.field == "hold_token"
    assert scheduler.hold_by_token(hold.token).status == "held"

    clock.advance(timedelta(minutes=9))
    booking = scheduler.book(
        app.code,
        at(10),
        name="Holder",
        email=unique_email("holder"),
        attendee_count=2,
        description="paid",
        hold_token=hold.token.lower(),
    )
    assert (booking.status, booking.attendee_count, booking.slot_start) == ("active", 2, at(10))
    assert (booking.description, booking.created_at) == ("paid", clock.now())
    booked = scheduler.hold_by_token(hold.token)
    assert (booked.status, booked.booking_id) == ("booked", booking.id)
    assert seats_taken(scheduler, app, at(10)) == 2

    # The booking outlives the hold's expiry; the token works once.
    clock.advance(timedelta(minutes=30))
    assert seats_taken(scheduler, app, at(10)) == 2
    assert scheduler.hold_by_token(hold.token).status == "booked"
    with pytest.raises(HoldEndedError) as twice:
        book_guest(scheduler, app, at(10), seats=2, hold_token=hold.token)
    assert twice.value.status == "booked"
    with pytest.raises(HoldEndedError) as release:
        scheduler.release_hold(hold.token)
    assert release.value.status == "booked"
    assert seats_taken(scheduler, app, at(10)) == 2

    # Cancelling the booking frees the seats.
    scheduler.cancel(booking.code)
    assert seats_taken(scheduler, app, at(10)) == 0


def test_a_registered_user_books_a_hold(
    scheduler: Scheduler, make_appointment: MakeApp
) -> None:
    app = make_appointment(kind="group", capacity=3)
    member = scheduler.register_user("Mo", unique_email("mo"))
    hold = scheduler.hold(app.code, at(11), seats=3)
    booking = scheduler.book_as_user(
        app.code, at(11), member.id, attendee_count=3, hold_token=hold.token
    )
    assert (booking.user_id, booking.email, booking.attendee_count) == (
        member.id,
        member.email,
        3,
    )
    assert scheduler.hold_by_token(hold.token).booking_id == booking.id
    assert seats_taken(scheduler, app, at(11)) == 3


def test_release_gives_the_seats_back(
    scheduler: Scheduler, clock: ManualClock, make_appointment: MakeApp
) -> None:
    app = make_appointment(kind="group", capacity=4)
    hold = scheduler.hold(app.code, at(9), seats=3)
    assert seats_taken(scheduler, app, at(9)) == 3
    clock.advance(timedelta(minutes=1))
    released = scheduler.release_hold(hold.token)
    assert (released.status, released.token) == ("released", hold.token)
    assert released.updated_at == clock.now()
    assert seats_taken(scheduler, app, at(9)) == 0
    # Twice is fine, and gives nothing back twice.
    again = scheduler.release_hold(hold.token)
    assert again.status == "released"
    assert scheduler.hold_by_token(hold.token).status == "released"
    assert seats_taken(scheduler, app, at(9)) == 0
    with pytest.raises(HoldEndedError) as ended:
        book_guest(scheduler, app, at(9), seats=3, hold_token=hold.token)
    assert ended.value.status == "released"
    assert book_guest(scheduler, app, at(9), seats=4).attendee_count == 4

    # Releasing an expired hold answers it as it is.
    late = scheduler.hold(app.code, at(10), seats=4)
    clock.set(late.expires_at)
    assert scheduler.release_hold(late.token).status == "expired"
    assert seats_taken(scheduler, app, at(10)) == 0


def test_hold_minutes_are_checked_and_edited(
    scheduler: Scheduler, clock: ManualClock, owner: User, make_appointment: MakeApp
) -> None:
    for minutes in (0, 121):
        with pytest.raises(InvalidInputError) as bad:
            make_appointment(hold_minutes=minutes)
        assert bad.value.field == "hold_minutes"
    assert make_appointment(hold_minutes=1).hold_minutes == 1
    app = make_appointment(kind="group", capacity=5, hold_minutes=120)
    assert app.hold_minutes == 120

    early = scheduler.hold(app.code, at(9))
    assert early.expires_at == clock.now() + timedelta(minutes=120)
    for minutes in (0, 121):
        with pytest.raises(InvalidInputError) as bad_edit:
            scheduler.update_appointment(owner.id, app.code, hold_minutes=minutes)
        assert bad_edit.value.field == "hold_minutes"
    assert scheduler.appointment(app.code).hold_minutes == 120

    edit = scheduler.update_appointment(owner.id, app.code, hold_minutes=30)
    assert edit.appointment.hold_minutes == 30
    assert scheduler.appointment(app.code).hold_minutes == 30
    # Other edits leave it alone.
    renamed = scheduler.update_appointment(owner.id, app.code, title="Renamed")
    assert renamed.appointment.hold_minutes == 30
    # New holds last the new length; the one already taken keeps its expiry.
    later = scheduler.hold(app.code, at(9))
    assert later.expires_at == clock.now() + timedelta(minutes=30)
    assert scheduler.hold_by_token(early.token).expires_at == early.expires_at
    clock.advance(timedelta(minutes=30))
    assert scheduler.hold_by_token(later.token).status == "expired"
    assert scheduler.hold_by_token(early.token).status == "held"
    assert seats_taken(scheduler, app, at(9)) == 1


def test_what_a_hold_refuses(
    scheduler: Scheduler, clock: ManualClock, make_appointment: MakeApp
) -> None:
    with pytest.raises(NotFoundError) as unknown:
        scheduler.hold_by_token("HD-AAAAAAAAAAAA")
    assert unknown.value.entity == "hold"
    with pytest.raises(NotFoundError) as unknown_release:
        scheduler.release_hold("HD-AAAAAAAAAAAA")
    assert unknown_release.value.entity == "hold"
    single = make_appointment()
    with pytest.raises(NotFoundError) as unknown_booking:
        book_guest(scheduler, single, at(9), hold_token="HD-AAAAAAAAAAAA")
    assert unknown_booking.value.entity == "hold"
    for malformed in ("BK-AAAAAAAAAAAA", "", "HD-"):
        with pytest.raises(InvalidInputError) as bad:
            scheduler.hold_by_token(malformed)
        assert bad.value.field == "token"
    with pytest.raises(InvalidInputError) as bad_booking:
        book_guest(scheduler, single, at(9), hold_token="nonsense")
    assert bad_booking.value.field == "hold_token"
    assert seats_taken(scheduler, single, at(9)) == 0

    with pytest.raises(InvalidInputError) as two:
        scheduler.hold(single.code, at(9), seats=2)
    assert two.value.field == "seats"
    with pytest.raises(InvalidInputError) as zero:
        scheduler.hold(single.code, at(9), seats=0)
    assert zero.value.field == "seats"
    with pytest.raises(InvalidInputError) as not_a_slot:
        scheduler.hold(single.code, at(9, 30))
    assert not_a_slot.value.field == "start"
    chair = make_appointment(resource="Chair 1")
    with pytest.raises(InvalidInputError) as shared:
        scheduler.hold(chair.code, at(9))
    assert shared.value.field == "code"
    clock.set(at(9, 1))
    with pytest.raises(InvalidInputError) as started:
        scheduler.hold(single.code, at(9))
    assert started.value.field == "start"
    # A hold of the single slot at 10:00 leaves nothing for a second one.
    scheduler.hold(single.code, at(10))
    with pytest.raises(SlotFullError) as full:
        scheduler.hold(single.code, at(10))
    assert (full.value.requested, full.value.available) == (1, 0)


RACERS = 100


def test_holds_and_bookings_race_for_the_last_seats(
    scheduler: Scheduler, clock: ManualClock, make_appointment: MakeApp
) -> None:
    app = make_appointment(kind="party", capacity=50, anti_scalping="none")
    start = at(9)
    for _ in range(3):
        book_guest(scheduler, app, start, seats=10)
    assert scheduler.slot(app.code, start).seats_left == 20

    barrier = threading.Barrier(RACERS)
    emails = [unique_email("racer") for _ in range(RACERS)]

    def attempt(i: int) -> Union[Hold, Booking, Exception]:
        barrier.wait()
        try:
            if i % 2 == 0:
                return scheduler.hold(app.code, start)
            return scheduler.book(app.code, start, name="Racer", email=emails[i])
        except Exception as err:  # noqa: BLE001 - collected and asserted below
            return err

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        results = list(pool.map(attempt, range(RACERS)))
    holds: List[Hold] = [r for r in results if isinstance(r, Hold)]
    bookings: List[Booking] = [r for r in results if isinstance(r, Booking)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(holds) + len(bookings) == 20, (len(holds), len(bookings))
    assert len(lost) == RACERS - 20
    assert all(isinstance(e, SlotFullError) for e in lost), lost
    assert seats_taken(scheduler, app, start) == 50
    assert scheduler.attendees_booked(app.code) == 50

    # Once the holds expire, exactly their seats come back.
    clock.advance(timedelta(minutes=app.hold_minutes))
    assert seats_taken(scheduler, app, start) == 30 + len(bookings)
    assert scheduler.slot(app.code, start).seats_left == len(holds)
    assert all(scheduler.hold_by_token(h.token).status == "expired" for h in holds)

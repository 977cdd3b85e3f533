"""Waiting lists through the Python API, on every store and a clock the tests pin: a full slot
takes places in line, freed seats are offered to the first place whose seats fit as a hold in
its name, the offer is booked with its token, an offer that runs out passes to the next in line
when that place is looked at, places can be left, and anti-scalping holds for places too."""

from datetime import datetime, timedelta, timezone
from typing import AsyncIterator, Callable, Iterator

import pytest
import pytest_asyncio

from appointment_master import (
    Appointment,
    AsyncScheduler,
    Booking,
    DuplicateError,
    Hold,
    HoldEndedError,
    InvalidInputError,
    ManualClock,
    NotFoundError,
    Scheduler,
    SlotFullError,
    User,
    WaitlistPlace,
)

from conftest import DAY, unique_email

MakeApp = Callable[..., Appointment]

MICROSECOND = timedelta(microseconds=1)


def at(hour: int, minute: int = 0) -> datetime:
    """An instant of DAY, in UTC (the appointments here are 09:00-12:00 UTC, hourly slots)."""
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=timezone.utc)


def seats_taken(scheduler: Scheduler, app: Appointment, start: datetime) -> int:
    return scheduler.slot(app.code, start).seats_taken


@pytest.fixture
def clock() -> ManualClock:
    """Two days before DAY: every slot of DAY is still to come."""
    return ManualClock(at(0) - timedelta(days=2))


@pytest.fixture
def scheduler(store_url: str, clock: ManualClock) -> Iterator[Scheduler]:
    """A fresh scheduler on each backend, reading the time from the test's clock."""
    yield Scheduler(store_url, clock=clock)


def book(scheduler: Scheduler, app: Appointment, start: datetime, seats: int = 1) -> Booking:
    return scheduler.book(
        app.code, start, name="Guest", email=unique_email("guest"), attendee_count=seats
    )


def join(
    scheduler: Scheduler, app: Appointment, start: datetime, name: str, seats: int = 1
) -> WaitlistPlace:
    return scheduler.join_waitlist(
        app.code, start, name=name, email=unique_email(name.lower()), seats=seats
    )


def offer_of(place: WaitlistPlace) -> Hold:
    assert place.offer is not None, place
    return place.offer


def test_a_full_slot_takes_places_in_line(
    scheduler: Scheduler, clock: ManualClock, make_appointment: MakeApp
) -> None:
    app = make_appointment(kind="group", capacity=2)
    # Seats are free: book them instead.
    with pytest.raises(InvalidInputError) as free:
        join(scheduler, app, at(9), "Early")
    assert free.value.field == "seats"
    assert str(free.value).startswith("invalid seats: ")
    book(scheduler, app, at(9), seats=1)
    with pytest.raises(InvalidInputError) as one_free:
        join(scheduler, app, at(9), "Early")
    assert one_free.value.field == "seats"
    book(scheduler, app, at(9), seats=1)

    ada = join(scheduler, app, at(9), "Ada")
    assert isinstance(ada, WaitlistPlace)
    assert ada.code.startswith("WL-")
    assert (ada.app_code, ada.slot_start, ada.slot_end) == (app.code, at(9), at(10))
    assert (ada.seats, ada.name, ada.status, ada.position, ada.offer) == (
        1,
        "Ada",
        "waiting",
        1,
        None,
    )
    assert ada.email.startswith("ada.")
    assert ada.created_at == ada.updated_at == clock.now()
    assert "WL-" in repr(ada)
    bo = join(scheduler, app, at(9), "Bo", seats=2)
    cy = join(scheduler, app, at(9), "Cy")
    assert [p.position for p in (bo, cy)] == [2, 3]
    # A place by its code, in any case; places take no seats.
    again = scheduler.waitlist_place(ada.code.lower())
    assert (again.code, again.status, again.position) == (ada.code, "waiting", 1)
    assert scheduler.waitlist_place(cy.code).position == 3
    assert seats_taken(scheduler, app, at(9)) == 2

    # What a join refuses, naming the Python argument.
    with pytest.raises(InvalidInputError) as no_seats:
        join(scheduler, app, at(9), "Di", seats=0)
    assert no_seats.value.field == "seats"
    # More seats than the slot has could never be offered.
    with pytest.raises(SlotFullError) as too_many:
        join(scheduler, app, at(9), "Di", seats=3)
    assert (too_many.value.requested, too_many.value.available) == (3, 2)
    with pytest.raises(InvalidInputError) as not_a_slot:
        join(scheduler, app, at(9, 30), "Di")
    assert not_a_slot.value.field == "start"
    with pytest.raises(InvalidInputError) as bad_email:
        scheduler.join_waitlist(app.code, at(9), name="Di", email="nope")
    assert bad_email.value.field == "email"
    chair = make_appointment(resource="Chair 1")
    book(scheduler, chair, at(9))
    with pytest.raises(InvalidInputError) as shared:
        join(scheduler, chair, at(9), "Di")
    assert shared.value.field == "code"
    assert scheduler.waitlist_place(cy.code).position == 3


def test_a_cancel_offers_the_seat_to_the_first_in_line(
    scheduler: Scheduler, clock: ManualClock, owner: User, make_appointment: MakeApp
) -> None:
    app = make_appointment(kind="group", capacity=2, hold_minutes=15)
    first, second = book(scheduler, app, at(10)), book(scheduler, app, at(10))
    ada = join(scheduler, app, at(10), "Ada")
    bo = join(scheduler, app, at(10), "Bo")

    clock.advance(timedelta(minutes=1))
    scheduler.cancel(first.code)
    offered = scheduler.waitlist_place(ada.code)
    assert (offered.status, offered.position) == ("offered", 0)
    offer = offer_of(offered)
    assert isinstance(offer, Hold)
    assert (offer.status, offer.seats, offer.app_code) == ("held", 1, app.code)
    assert (offer.slot_start, offer.slot_end) == (at(10), at(11))
    assert offer.expires_at == clock.now() + timedelta(minutes=15)
    assert offered.updated_at == clock.now()
    assert scheduler.hold_by_token(offer.token).status == "held"
    # Bo moves up; the freed seat is the offer's, not anyone's.
    waiting = scheduler.waitlist_place(bo.code)
    assert (waiting.status, waiting.position, waiting.offer) == ("waiting", 1, None)
    assert seats_taken(scheduler, app, at(10)) == 2
    stats = scheduler.analytics(owner.id, DAY, DAY)
    assert (stats.seats_held, stats.seats_booked) == (1, 1)

    # Ada books the offer with its token.
    booking = scheduler.book(
        app.code,
        at(10),
        name=offered.name,
        email=offered.email,
        hold_token=offer.token,
    )
    assert (booking.status, booking.attendee_count, booking.email) == (
        "active",
        1,
        offered.email,
    )
    booked = scheduler.waitlist_place(ada.code)
    assert (booked.status, booked.position) == ("booked", 0)
    assert (offer_of(booked).status, offer_of(booked).booking_id) == ("booked", booking.id)
    assert seats_taken(scheduler, app, at(10)) == 2
    stats = scheduler.analytics(owner.id, DAY, DAY)
    assert (stats.seats_held, stats.seats_booked) == (0, 2)

    # The next freed seat goes to Bo.
    scheduler.cancel(second.code)
    assert scheduler.waitlist_place(bo.code).status == "offered"


def test_a_larger_request_keeps_its_place(
    scheduler: Scheduler, make_appointment: MakeApp
) -> None:
    app = make_appointment(kind="group", capacity=3)
    one, _ = book(scheduler, app, at(11)), book(scheduler, app, at(11), seats=2)
    ada = join(scheduler, app, at(11), "Ada", seats=2)
    bo = join(scheduler, app, at(11), "Bo")
    scheduler.cancel(one.code)
    # One seat freed: Ada's two do not fit, Bo's one does.
    assert (scheduler.waitlist_place(bo.code).status, offer_of(
        scheduler.waitlist_place(bo.code)
    ).seats) == ("offered", 1)
    still = scheduler.waitlist_place(ada.code)
    assert (still.status, still.position, still.offer) == ("waiting", 1, None)


def test_an_offer_that_runs_out_passes_to_the_next(
    scheduler: Scheduler, clock: ManualClock, make_appointment: MakeApp
) -> None:
    app = make_appointment(hold_minutes=10)
    taken = book(scheduler, app, at(9))
    ada = join(scheduler, app, at(9), "Ada")
    bo = join(scheduler, app, at(9), "Bo")
    scheduler.cancel(taken.code)
    offer = offer_of(scheduler.waitlist_place(ada.code))

    # A microsecond before its expiry the offer is still Ada's.
    clock.set(offer.expires_at - MICROSECOND)
    assert scheduler.waitlist_place(ada.code).status == "offered"
    assert (scheduler.waitlist_place(bo.code).status, scheduler.waitlist_place(bo.code).position) == (
        "waiting",
        1,
    )

    # From its expiry on it is gone: Ada's place reads expired, and looking at Bo's place hands
    # the seat on to Bo without anything else having run.
    clock.set(offer.expires_at)
    expired = scheduler.waitlist_place(ada.code)
    assert (expired.status, expired.position) == ("expired", 0)
    assert offer_of(expired).status == "expired"
    with pytest.raises(HoldEndedError) as ended:
        scheduler.book(
            app.code, at(9), name="Ada", email=expired.email, hold_token=offer.token
        )
    assert ended.value.status == "expired"
    passed = scheduler.waitlist_place(bo.code)
    assert (passed.status, passed.position) == ("offered", 0)
    bo_offer = offer_of(passed)
    assert bo_offer.token != offer.token
    assert bo_offer.expires_at == clock.now() + timedelta(minutes=10)
    assert seats_taken(scheduler, app, at(9)) == 1
    assert scheduler.waitlist_place(ada.code).status == "expired"


def test_leaving_the_line(
    scheduler: Scheduler, clock: ManualClock, make_appointment: MakeApp
) -> None:
    app = make_appointment()
    taken = book(scheduler, app, at(11))
    ada, bo, cy = (join(scheduler, app, at(11), n) for n in ("Ada", "Bo", "Cy"))

    clock.advance(timedelta(minutes=2))
    left = scheduler.leave_waitlist(bo.code)
    assert (left.code, left.status, left.position, left.offer) == (bo.code, "left", 0, None)
    assert left.updated_at == clock.now()
    assert scheduler.waitlist_place(cy.code).position == 2
    # Leaving twice answers the place as it is.
    assert scheduler.leave_waitlist(bo.code).status == "left"

    # An offer given back goes to the next in line.
    scheduler.cancel(taken.code)
    offer = offer_of(scheduler.waitlist_place(ada.code))
    gave_back = scheduler.leave_waitlist(ada.code)
    assert gave_back.status == "left"
    assert offer_of(gave_back).status == "released"
    assert scheduler.hold_by_token(offer.token).status == "released"
    assert scheduler.waitlist_place(cy.code).status == "offered"
    assert seats_taken(scheduler, app, at(11)) == 1

    with pytest.raises(NotFoundError) as unknown:
        scheduler.waitlist_place("WL-AAAAAAAAAAAA")
    assert unknown.value.entity == "waitlist entry"
    with pytest.raises(NotFoundError) as unknown_leave:
        scheduler.leave_waitlist("WL-AAAAAAAAAAAA")
    assert unknown_leave.value.entity == "waitlist entry"
    for malformed in ("BK-AAAAAAAAAAAA", "", "WL-"):
        with pytest.raises(InvalidInputError) as bad:
            scheduler.waitlist_place(malformed)
        assert bad.value.field == "code"
        assert str(bad.value).startswith("invalid code: ")
    with pytest.raises(InvalidInputError) as bad_leave:
        scheduler.leave_waitlist("nonsense")
    assert bad_leave.value.field == "code"


def test_one_email_one_place_under_anti_scalping(
    scheduler: Scheduler, make_appointment: MakeApp
) -> None:
    app = make_appointment(anti_scalping="standard")
    booker = unique_email("booker")
    scheduler.book(app.code, at(9), name="Booker", email=booker)
    book(scheduler, app, at(10))

    # An email that books on the appointment does not also wait on it.
    with pytest.raises(DuplicateError) as booked:
        scheduler.join_waitlist(app.code, at(10), name="Booker", email=booker)
    assert booked.value.code == "duplicate"
    assert booked.value.what == "active booking for this email"

    ada = unique_email("ada")
    place = scheduler.join_waitlist(app.code, at(9), name="Ada", email=ada)
    # One place per appointment: not twice on one slot, nor on another slot.
    for start, email in ((at(9), ada), (at(10), ada.upper())):
        with pytest.raises(DuplicateError) as twice:
            scheduler.join_waitlist(app.code, start, name="Ada", email=email)
        assert twice.value.what == "place on the waiting list for this email"
    assert scheduler.waitlist_place(place.code).position == 1

    # Once the place is left, the email may join again.
    scheduler.leave_waitlist(place.code)
    assert scheduler.join_waitlist(app.code, at(10), name="Ada", email=ada).position == 1


@pytest_asyncio.fixture
async def async_scheduler(store_url: str, clock: ManualClock) -> AsyncIterator[AsyncScheduler]:
    """A fresh async scheduler on each backend, on the test's clock."""
    yield await AsyncScheduler.open(store_url, clock=clock)


@pytest.mark.asyncio
async def test_the_waiting_list_awaited(async_scheduler: AsyncScheduler) -> None:
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
    )
    taken = await s.book(app.code, at(9), name="Guest", email=unique_email("guest"))
    with pytest.raises(InvalidInputError) as free:
        await s.join_waitlist(app.code, at(10), name="Ada", email=unique_email("ada"))
    assert free.value.field == "seats"

    ada = await s.join_waitlist(app.code, at(9), name="Ada", email=unique_email("ada"))
    bo = await s.join_waitlist(app.code, at(9), name="Bo", email=unique_email("bo"))
    assert [(p.status, p.position) for p in (ada, bo)] == [("waiting", 1), ("waiting", 2)]
    await s.cancel(taken.code)
    offered = await s.waitlist_place(ada.code)
    assert offered.status == "offered"
    token = offer_of(offered).token
    booking = await s.book(
        app.code, at(9), name="Ada", email=offered.email, hold_token=token
    )
    assert booking.status == "active"
    assert (await s.waitlist_place(ada.code)).status == "booked"
    left = await s.leave_waitlist(bo.code)
    assert (left.status, left.position) == ("left", 0)
    with pytest.raises(NotFoundError):
        await s.waitlist_place("WL-AAAAAAAAAAAA")
    assert (await s.analytics(owner.id, DAY, DAY)).seats_held == 0

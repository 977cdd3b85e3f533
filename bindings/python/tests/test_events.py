"""The outbox through the Python API, on every store and a clock the tests pin: each change of an
appointment, a booking, a hold or a waiting place is an `Event` with the thing as the change left
it (a hold's token never appears); reading on from `EventPage.next` gives each event once, in
order; a bad cursor or limit raises `InvalidInputError` naming the Python argument."""

import asyncio
import time
from datetime import timedelta
from typing import Callable, Iterator, List, Optional, Tuple

import pytest

from appointment_master import (
    Appointment,
    AsyncScheduler,
    Event,
    EventPage,
    InvalidInputError,
    ManualClock,
    Scheduler,
    User,
)

from conftest import DAY, at, unique_email

MakeApp = Callable[..., Appointment]

# Every attribute of an Event: the test that no token leaks reads them all.
EVENT_FIELDS = [
    "id", "type", "version", "at", "cursor", "owner_id", "appointment_id", "app_code", "status",
    "revision", "booking_id", "booking_code", "hold_id", "waitlist_code", "slot_start",
    "slot_end", "seats", "name", "email", "confirm_by", "expires_at",
]


@pytest.fixture
def scheduler(store_url: str, clock: ManualClock) -> Iterator[Scheduler]:
    """A fresh scheduler on each backend, reading the time from the test's clock."""
    yield Scheduler(store_url, clock=clock)


def cursor_key(cursor: str) -> Tuple[int, int]:
    """A cursor `TX.SEQ` as the pair it orders by."""
    tx, seq = cursor.split(".")
    return int(tx), int(seq)


# How long a read waits for events whose changes committed (see `read`).
PATIENCE = 30.0


def read(
    s: Scheduler, n: int, after: Optional[str] = None, limit: int = 100, owner_id: Optional[str] = None
) -> List[Event]:
    """The events after `after` (of `owner_id`, or every owner's), read in pages of `limit` until
    at least `n` have come, then whatever else is already there, checking each page.

    A store may answer an event a moment after its change committed (Postgres answers it once
    every older writing transaction has ended, which other databases of the cluster can delay),
    as the engine's own conformance suite says: the reader asks again until the events it
    expects are there, for at most PATIENCE seconds."""
    deadline = time.monotonic() + PATIENCE
    events: List[Event] = []
    while True:
        page = s.events(after, limit=limit, owner_id=owner_id)
        assert isinstance(page, EventPage)
        assert len(page) == len(page.events) <= limit
        assert page.next == (page.events[-1].cursor if page.events else after or "0.0")
        events.extend(page)
        after = page.next
        if len(page) == limit:
            continue
        if len(events) >= n:
            return events
        assert time.monotonic() < deadline, f"{len(events)} of {n} events came: {events}"
        time.sleep(0.002)


def step(s: Scheduler, owner: User, clock: ManualClock, after: Optional[str]) -> Tuple[List[Event], str]:
    """The owner's one event since `after` (a list of it), and the cursor to go on from; then
    moves the clock on a minute, so that each step's event carries its own instant."""
    events = read(s, 1, after, owner_id=owner.id)
    assert len(events) == 1, events
    for e in events:
        assert e.at == clock.now(), (e, e.at, clock.now())
        assert e.owner_id == owner.id and e.version == 1
    clock.advance(timedelta(minutes=1))
    return events, events[-1].cursor


def expect(e: Event, type_: str, status: str, **fields: object) -> None:
    """`e` is a `type_` event that left its subject `status`, with these fields."""
    assert (e.type, e.status) == (type_, status), e
    for field, value in fields.items():
        assert getattr(e, field) == value, (e, field, getattr(e, field))


def test_a_booking_a_cancel_a_hold_and_an_approval_are_events(
    scheduler: Scheduler, owner: User, clock: ManualClock, make_appointment: MakeApp
) -> None:
    s = scheduler
    app = make_appointment(kind="group", capacity=3, hold_minutes=15)
    [created], cursor = step(s, owner, clock, None)
    expect(created, "appointment.created", "active", revision=0, app_code=app.code,
           appointment_id=app.id, booking_code=None, slot_start=None, seats=None)

    booking = s.book(app.code, at(9), name="Bo", email=unique_email("bo"), attendee_count=2)
    [made], cursor = step(s, owner, clock, cursor)
    expect(made, "booking.created", "active", booking_id=booking.id, booking_code=booking.code,
           app_code=app.code, slot_start=at(9), slot_end=at(10), seats=2, name="Bo",
           email=booking.email, confirm_by=None, revision=None, hold_id=None, waitlist_code=None)

    s.cancel(booking.code)
    [cancelled], cursor = step(s, owner, clock, cursor)
    expect(cancelled, "booking.cancelled", "cancelled", booking_code=booking.code)

    hold = s.hold(app.code, at(10), seats=3)
    [taken], cursor = step(s, owner, clock, cursor)
    expect(taken, "hold.created", "held", hold_id=hold.id, slot_start=at(10), seats=3,
           expires_at=hold.expires_at, booking_id=None, booking_code=None, name=None)
    s.release_hold(hold.token)
    [released], cursor = step(s, owner, clock, cursor)
    expect(released, "hold.released", "released", hold_id=hold.id)

    approved = make_appointment(kind="group", capacity=2, confirm_within_minutes=60)
    [second], cursor = step(s, owner, clock, cursor)
    expect(second, "appointment.created", "active", app_code=approved.code)
    pending = s.book(approved.code, at(11), name="Cy", email=unique_email("cy"))
    assert pending.confirm_by is not None
    [asked], cursor = step(s, owner, clock, cursor)
    expect(asked, "booking.created", "pending", booking_code=pending.code,
           confirm_by=pending.confirm_by)
    s.confirm(owner.id, pending.code)
    [confirmed], cursor = step(s, owner, clock, cursor)
    expect(confirmed, "booking.confirmed", "active", booking_code=pending.code,
           confirm_by=pending.confirm_by)

    # Read again from the start: the same events, in the same order, each once.
    everything = read(s, 8, owner_id=owner.id)
    assert [e.id for e in everything] == [
        e.id for e in [created, made, cancelled, taken, released, second, asked, confirmed]
    ]
    # No event carries the hold's token, in any field.
    for e in everything:
        for field in EVENT_FIELDS:
            assert hold.token not in str(getattr(e, field)), (e, field)
    assert not hasattr(taken, "token")


def test_a_freed_seat_offered_to_the_waiting_list(
    scheduler: Scheduler, owner: User, clock: ManualClock, make_appointment: MakeApp
) -> None:
    s = scheduler
    app = make_appointment(kind="group", capacity=1)
    taken = s.book(app.code, at(9), name="Bo", email=unique_email("bo"))
    place = s.join_waitlist(app.code, at(9), name="Ada", email=unique_email("ada"))
    events = read(s, 3, owner_id=owner.id)
    assert [e.type for e in events] == ["appointment.created", "booking.created", "waitlist.joined"]
    joined = events[-1]
    assert (joined.status, joined.waitlist_code, joined.hold_id) == ("waiting", place.code, None)
    assert (joined.name, joined.email, joined.seats) == ("Ada", place.email, 1)

    s.cancel(taken.code)
    offer = s.waitlist_place(place.code).offer
    assert offer is not None
    # The cancel and the offer it makes are one change: their events come together.
    after_cancel = read(s, 3, events[-1].cursor, owner_id=owner.id)
    assert sorted(e.type for e in after_cancel) == [
        "booking.cancelled",
        "hold.created",
        "waitlist.offered",
    ]
    by_type = {e.type: e for e in after_cancel}
    assert by_type["hold.created"].hold_id == offer.id
    offered = by_type["waitlist.offered"]
    assert (offered.status, offered.waitlist_code, offered.hold_id) == ("offered", place.code, offer.id)


def test_reading_in_pages_gives_each_event_once_in_order(
    scheduler: Scheduler, owner: User, make_appointment: MakeApp
) -> None:
    s = scheduler
    other = s.register_user("Other", unique_email("other"))
    app = make_appointment(kind="group", capacity=20)
    theirs = s.create_appointment(
        other.id, title="Theirs", start_date=DAY, end_date=DAY, start_time=at(9).time(),
        end_time=at(12).time(), slot_minutes=60, kind="group", capacity=20,
    )
    for i in range(9):
        s.book(app.code, at(9 + i % 3), name="Guest", email=unique_email(f"g{i}"))
        s.book(theirs.code, at(9), name="Guest", email=unique_email(f"t{i}"))

    whole = read(s, 10, limit=1000, owner_id=owner.id)
    assert len(whole) == 10
    assert [e.type for e in whole] == ["appointment.created"] + ["booking.created"] * 9
    keys = [cursor_key(e.cursor) for e in whole]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert all(e.owner_id == owner.id and e.app_code == app.code for e in whole)

    for limit in (1, 3, 4, 10):
        paged = read(s, 10, limit=limit, owner_id=owner.id)
        assert [e.id for e in paged] == [e.id for e in whole], limit
    # From any event's cursor on: exactly the events after it.
    for i, e in enumerate(whole):
        after_e = read(s, 9 - i, e.cursor, limit=2, owner_id=owner.id)
        assert [x.id for x in after_e] == [x.id for x in whole[i + 1:]]

    # Without owner_id, every owner's events, in the one order of the outbox.
    mine_and_theirs = {owner.id, other.id}
    first = whole[0].cursor
    everyone: List[Event] = []
    after = first
    while len(everyone) < 19:
        page = read(s, 1, after, limit=7)
        everyone.extend(e for e in page if e.owner_id in mine_and_theirs)
        after = page[-1].cursor
    assert [e.id for e in everyone if e.owner_id == owner.id] == [e.id for e in whole[1:]]
    assert len([e for e in everyone if e.owner_id == other.id]) == 10
    everyone_keys = [cursor_key(e.cursor) for e in everyone]
    assert everyone_keys == sorted(everyone_keys)


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"after": "nonsense"}, "after"),
        ({"after": "1"}, "after"),
        ({"after": "-1.2"}, "after"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"owner_id": "not-a-uuid"}, "owner_id"),
    ],
)
def test_a_bad_cursor_or_limit_names_the_argument(
    scheduler: Scheduler, owner: User, kwargs: dict, argument: str
) -> None:
    with pytest.raises(InvalidInputError) as err:
        scheduler.events(**kwargs)
    assert err.value.code == "invalid_input"
    assert err.value.field == argument
    assert str(err.value) == f"invalid {argument}: {err.value.reason}"


@pytest.mark.asyncio
async def test_awaited_events(store_url: str) -> None:
    s = await AsyncScheduler.open(store_url)
    owner = await s.register_user("Owner", unique_email("owner"))
    app = await s.create_appointment(
        owner.id, title="Workshop", start_date=DAY, end_date=DAY, start_time=at(9).time(),
        end_time=at(12).time(), slot_minutes=60, kind="group", capacity=5,
    )
    booking = await s.book(app.code, at(9), name="Bo", email=unique_email("bo"))
    deadline = time.monotonic() + PATIENCE
    while len(page := await s.events(owner_id=owner.id)) < 2:
        assert time.monotonic() < deadline, page.events
        await asyncio.sleep(0.002)
    assert [(e.type, e.booking_code) for e in page] == [
        ("appointment.created", None),
        ("booking.created", booking.code),
    ]
    assert (await s.events(page.next, owner_id=owner.id)).events == []
    # Refused before the engine starts: raised by the call itself; by the engine: when awaited.
    with pytest.raises(InvalidInputError) as early:
        s.events("0.x")
    assert early.value.field == "after"
    with pytest.raises(InvalidInputError) as late:
        await s.events(limit=0)
    assert late.value.field == "limit"

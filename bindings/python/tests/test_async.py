"""The asyncio API on every store: `AsyncScheduler` answers awaitables that the engine's runtime
completes, raises the same exception classes as `Scheduler`, never oversells under hundreds of
concurrent tasks, keeps the event loop running during calls, and a cancelled call is either done
or not, never half done."""

import asyncio
import subprocess
import sys
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import AsyncIterator, Awaitable, List, Union

import pytest
import pytest_asyncio

from appointment_master import (
    Appointment,
    AsyncScheduler,
    Booking,
    DuplicateError,
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
    SlotFullError,
    User,
)

from conftest import DAY, unique_email

def at(hour: int) -> datetime:
    """An instant of DAY, in UTC."""
    return datetime(DAY.year, DAY.month, DAY.day, hour, tzinfo=timezone.utc)


@pytest_asyncio.fixture
async def scheduler(store_url: str) -> AsyncIterator[AsyncScheduler]:
    """A fresh async scheduler on each backend, opened without blocking the loop."""
    yield await AsyncScheduler.open(store_url)


@pytest_asyncio.fixture
async def owner(scheduler: AsyncScheduler) -> User:
    return await scheduler.register_user("Owner", unique_email("owner"))


async def make_appointment(
    scheduler: AsyncScheduler, owner: User, **kwargs: object
) -> Appointment:
    """An appointment on DAY, 09:00-12:00 UTC, 60-minute slots, unless told otherwise."""
    args: dict = dict(
        title="Consultation",
        start_date=DAY,
        end_date=DAY,
        start_time=time(9),
        end_time=time(12),
        slot_minutes=60,
    )
    args.update(kwargs)
    return await scheduler.create_appointment(owner.id, **args)


async def book_or_error(
    call: Awaitable[Booking],
) -> Union[Booking, Exception]:
    try:
        return await call
    except Exception as err:  # noqa: BLE001 - collected and asserted by the callers
        return err


@pytest.mark.asyncio
async def test_the_booking_flow_awaited(scheduler: AsyncScheduler, owner: User) -> None:
    assert repr(scheduler).startswith("AsyncScheduler(")
    assert (await scheduler.user(owner.id)).email == owner.email
    found = await scheduler.user_by_email(owner.email)
    assert found is not None and found.id == owner.id
    assert await scheduler.user_by_email(unique_email("nobody")) is None
    app = await make_appointment(scheduler, owner, kind="group", capacity=3)
    assert (await scheduler.appointment(app.code)).title == "Consultation"

    page = await scheduler.slots(app.code)
    assert [s.start for s in page.items] == [at(9), at(10), at(11)]
    assert [s.start for s in await scheduler.all_slots(app.code, day=DAY)] == [
        at(9),
        at(10),
        at(11),
    ]

    email = unique_email("guest")
    booking = await scheduler.book(app.code, at(9), name="Guest", email=email, attendee_count=2)
    assert booking.status == "active" and booking.email == email
    assert (await scheduler.booking(booking.code)).code == booking.code
    assert (await scheduler.slot(app.code, at(9))).seats_taken == 2
    assert await scheduler.attendees_booked(app.code) == 2

    moved = await scheduler.reschedule(booking.code, at(10), attendee_count=1)
    assert moved.slot_start == at(10) and moved.attendee_count == 1
    assert (await scheduler.slot(app.code, at(9))).seats_taken == 0
    assert (await scheduler.slot(app.code, at(10))).seats_taken == 1

    listed = await scheduler.appointment_bookings(owner.id, app.code)
    assert [b.code for b in listed.items] == [booking.code]

    cancelled = await scheduler.cancel(booking.code)
    assert cancelled.status == "cancelled"
    assert (await scheduler.slot(app.code, at(10))).seats_taken == 0
    assert await scheduler.attendees_booked(app.code) == 0

    # Owner actions, bans and analytics are awaitables too.
    edit = await scheduler.close_appointment(owner.id, app.code)
    assert edit.appointment.status == "closed"
    await scheduler.reopen_appointment(owner.id, app.code)
    ban = await scheduler.ban(owner.id, "troll@example.com")
    assert [b.email for b in await scheduler.bans(owner.id)] == [ban.email]
    await scheduler.unban(owner.id, "troll@example.com")
    assert await scheduler.bans(owner.id) == []
    figures = await scheduler.analytics(owner.id, date(2031, 1, 1), date(2031, 1, 31))
    assert (figures.start_date, figures.end_date) == (date(2031, 1, 1), date(2031, 1, 31))


@pytest.mark.asyncio
async def test_errors_raise_the_same_classes(scheduler: AsyncScheduler, owner: User) -> None:
    app = await make_appointment(scheduler, owner, anti_scalping="standard")
    email = unique_email("guest")
    booking = await scheduler.book(app.code, at(9), name="Guest", email=email)

    with pytest.raises(SlotFullError) as full:
        await scheduler.book(app.code, at(9), name="Other", email=unique_email("other"))
    assert full.value.code == "slot_full"
    assert (full.value.requested, full.value.available) == (1, 0)

    with pytest.raises(DuplicateError):
        await scheduler.book(app.code, at(10), name="Guest", email=email)

    with pytest.raises(NotFoundError) as missing:
        await scheduler.appointment("AP-" + "Z" * 12)
    assert missing.value.entity == "appointment"

    # Arguments are checked before anything starts: raised by the call itself.
    with pytest.raises(InvalidInputError) as naive:
        scheduler.book(app.code, datetime(2031, 3, 3, 9), name="N", email=unique_email("n"))
    assert naive.value.field == "start"

    await scheduler.cancel(booking.code)
    with pytest.raises(InvalidTransitionError) as twice:
        await scheduler.cancel(booking.code)
    assert twice.value.status == "cancelled"


@pytest.mark.asyncio
async def test_a_call_needs_a_running_loop(scheduler: AsyncScheduler, owner: User) -> None:
    loop = asyncio.get_running_loop()
    email = unique_email("x")
    # Outside the loop's thread no loop runs: the call refuses, and nothing starts.
    with pytest.raises(RuntimeError):
        await loop.run_in_executor(None, lambda: scheduler.register_user("X", email))
    assert (await scheduler.register_user("X", email)).email == email


@pytest.mark.asyncio
async def test_300_tasks_race_for_the_last_25_seats_of_a_party(
    scheduler: AsyncScheduler, owner: User
) -> None:
    app = await make_appointment(scheduler, owner, kind="party", capacity=100, anti_scalping="none")
    start = (await scheduler.slots(app.code)).items[0].start
    for _ in range(3):
        await scheduler.book(
            app.code, start, name="Early", email=unique_email("early"), attendee_count=25
        )
    assert (await scheduler.slot(app.code, start)).seats_left == 25

    results = await asyncio.gather(
        *(
            book_or_error(
                scheduler.book(app.code, start, name="Racer", email=unique_email("racer"))
            )
            for _ in range(300)
        )
    )
    won = [r for r in results if isinstance(r, Booking)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 25
    assert len(lost) == 275
    assert all(isinstance(e, SlotFullError) for e in lost), {type(e) for e in lost}
    slot = await scheduler.slot(app.code, start)
    assert slot.seats_taken == 100 and slot.seats_left == 0
    assert await scheduler.attendees_booked(app.code) == 100
    listed = await scheduler.appointment_bookings(owner.id, app.code, per_page=100)
    assert listed.total == 28


@pytest.mark.asyncio
async def test_the_event_loop_keeps_running_during_calls(
    scheduler: AsyncScheduler, owner: User
) -> None:
    app = await make_appointment(scheduler, owner, kind="party", capacity=1000, anti_scalping="none")
    start = at(9)
    ticks = 0
    ticks_while_pending = 0
    calls: List["asyncio.Future[Booking]"] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks, ticks_while_pending
        while not stop.is_set():
            ticks += 1
            if calls and not all(c.done() for c in calls):
                ticks_while_pending += 1
            await asyncio.sleep(0)

    ticking = asyncio.ensure_future(ticker())
    await asyncio.sleep(0)
    before = ticks
    calls.extend(
        asyncio.ensure_future(
            scheduler.book(app.code, start, name="Guest", email=unique_email("guest"))
        )
        for _ in range(200)
    )
    # Every call returned at once, before the engine answered.
    assert ticks == before
    bookings = await asyncio.gather(*calls)
    after = ticks
    stop.set()
    await ticking

    assert len({b.code for b in bookings}) == 200
    assert (await scheduler.slot(app.code, start)).seats_taken == 200
    assert after > before
    assert ticks_while_pending > 0


@pytest.mark.asyncio
async def test_a_cancelled_call_is_done_entirely_or_not_at_all(
    scheduler: AsyncScheduler, owner: User
) -> None:
    capacity = 20
    app = await make_appointment(
        scheduler, owner, kind="group", capacity=capacity, anti_scalping="none"
    )
    start = at(9)
    emails = [unique_email("racer") for _ in range(60)]

    async def attempt(email: str) -> Union[Booking, Exception]:
        return await book_or_error(scheduler.book(app.code, start, name="Racer", email=email))

    tasks = [asyncio.ensure_future(attempt(e)) for e in emails]
    # One turn of the loop: every task has called `book` and awaits the engine.
    await asyncio.sleep(0)
    cancelled = tasks[::2]
    for task in cancelled:
        task.cancel()
    awaited = await asyncio.gather(*tasks[1::2])
    assert all(task.cancelled() for task in cancelled)
    for result in awaited:
        assert isinstance(result, (Booking, SlotFullError)), result

    # Fill whatever is left, one awaited booking at a time. Once the slot is full no call still
    # running (the cancelled ones included) can write any more: the state is final.
    fillers: List[Booking] = []
    while True:
        try:
            fillers.append(
                await scheduler.book(app.code, start, name="Filler", email=unique_email("fill"))
            )
        except SlotFullError:
            break
    assert len(fillers) <= capacity

    slot = await scheduler.slot(app.code, start)
    listed = await scheduler.appointment_bookings(owner.id, app.code, per_page=100)
    active = [b for b in listed.items if b.status == "active"]
    # Counters equal facts: every seat taken is an active booking, and the other way round.
    assert slot.seats_taken == capacity
    assert sum(b.attendee_count for b in active) == capacity
    assert listed.total == capacity
    # Each racer's call was done once or not at all, whether its task was cancelled or not.
    racer_emails = [b.email for b in active if b.name == "Racer"]
    assert len(racer_emails) == len(set(racer_emails))
    assert set(racer_emails) <= set(emails)
    awaited_won = {r.email for r in awaited if isinstance(r, Booking)}
    assert awaited_won <= set(racer_emails)
    cancelled_won = set(racer_emails) - awaited_won
    assert cancelled_won <= set(emails[::2])
    assert len(awaited_won) + len(cancelled_won) + len(fillers) == capacity


def test_the_asyncio_example_runs() -> None:
    """examples/python_asyncio_booking.py: 8 guests race for 5 seats on a SQLite file."""
    example = Path(__file__).resolve().parents[3] / "examples" / "python_asyncio_booking.py"
    done = subprocess.run(
        [sys.executable, str(example)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("appointment AP-") and "5 seats" in lines[0]
    outcomes = lines[1:-1]
    assert len(outcomes) == 8
    assert sum(": booked BK-" in line for line in outcomes) == 5
    assert sum(line.endswith(": full") for line in outcomes) == 3
    assert lines[-1] == "booked 5, full 3, seats taken 5"

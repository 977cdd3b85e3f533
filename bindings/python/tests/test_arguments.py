"""An `InvalidInputError` names the argument as the Python API names it, in `field` and in its
message, even where the engine (and the REST API) call that input otherwise: `slot_minutes`, not
`booking_duration`; `time_zone`, not `timezone`; `kind`, not `type`; `start`, not `start_time`.
A refused call changes nothing."""

import re
from datetime import datetime, time, timedelta, timezone
from typing import Any, Callable, Dict, Optional, Tuple

import pytest

from appointment_master import (
    Appointment,
    AsyncScheduler,
    InvalidInputError,
    Scheduler,
    User,
)

from conftest import DAY, unique_email


def at(hour: int, minute: int = 0) -> datetime:
    """An instant of DAY, in UTC (the appointment here is 09:00-12:00 UTC, hourly slots)."""
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=timezone.utc)


APPOINTMENT: Dict[str, Any] = dict(
    title="Consultation",
    start_date=DAY,
    end_date=DAY,
    start_time=time(9),
    end_time=time(12),
    slot_minutes=60,
)


def create(s: Scheduler, owner: User, **changes: object) -> object:
    return s.create_appointment(owner.id, **{**APPOINTMENT, **changes})


# Each case: a call that refuses one argument, given a scheduler, the owner and a single
# appointment (one seat per slot) of that owner.
Call = Callable[[Scheduler, User, Appointment], object]

# (Python argument, the engine's name of it or None when they agree, the call).
CASES: Dict[str, Tuple[str, Optional[str], Call]] = {
    "slot_minutes zero": (
        "slot_minutes",
        "booking_duration",
        lambda s, o, a: create(s, o, slot_minutes=0),
    ),
    "slot_minutes longer than the window": (
        "slot_minutes",
        "booking_duration",
        lambda s, o, a: create(s, o, end_time=time(9, 30), slot_minutes=45),
    ),
    "time_zone": (
        "time_zone",
        "timezone",
        lambda s, o, a: create(s, o, time_zone="Mars/Olympus"),
    ),
    "kind": ("kind", "type", lambda s, o, a: create(s, o, kind="banquet")),
    "capacity missing": ("capacity", "max_attendees", lambda s, o, a: create(s, o, kind="group")),
    "capacity of a single": ("capacity", "max_attendees", lambda s, o, a: create(s, o, capacity=2)),
    "anti_scalping": (
        "anti_scalping",
        "anti_scalping_level",
        lambda s, o, a: create(s, o, anti_scalping="maybe"),
    ),
    "start of a booking": (
        "start",
        "start_time",
        lambda s, o, a: s.book(a.code, at(9, 30), name="Bo", email=unique_email()),
    ),
    "start of a hold": ("start", "start_time", lambda s, o, a: s.hold(a.code, at(9, 30))),
    "naive start": (
        "start",
        "start_time",
        lambda s, o, a: s.book(a.code, datetime(2031, 3, 3, 9), name="Bo", email=unique_email()),
    ),
    "seats of a hold, refused by the engine": (
        "seats",
        "attendee_count",
        lambda s, o, a: s.hold(a.code, at(9), seats=2),
    ),
    "seats of a hold, malformed": (
        "seats",
        "attendee_count",
        lambda s, o, a: s.hold(a.code, at(9), seats=0),
    ),
    "attendee_count of a booking": (
        "attendee_count",
        None,
        lambda s, o, a: s.book(a.code, at(9), name="Bo", email=unique_email(), attendee_count=2),
    ),
    "token of hold_by_token": (
        "token",
        "hold_token",
        lambda s, o, a: s.hold_by_token("BK-AAAAAAAAAAAA"),
    ),
    "token of release_hold": ("token", "hold_token", lambda s, o, a: s.release_hold("nonsense")),
    "hold_token of a booking": (
        "hold_token",
        None,
        lambda s, o, a: s.book(a.code, at(9), name="Bo", email=unique_email(), hold_token="x"),
    ),
    "code of an appointment": (
        "code",
        "app_code",
        lambda s, o, a: s.appointment("BK-AAAAAAAAAAAA"),
    ),
    "code of a booking": ("code", "booking_code", lambda s, o, a: s.cancel("AP-AAAAAAAAAAAA")),
    "code of a waiting place": (
        "code",
        "waitlist_code",
        lambda s, o, a: s.waitlist_place("BK-AAAAAAAAAAAA"),
    ),
    "code of a place to leave": ("code", "waitlist_code", lambda s, o, a: s.leave_waitlist("")),
    "seats of a waiting place, free seats": (
        "seats",
        "attendee_count",
        lambda s, o, a: s.join_waitlist(a.code, at(9), name="Bo", email=unique_email()),
    ),
    "seats of a waiting place, malformed": (
        "seats",
        "attendee_count",
        lambda s, o, a: s.join_waitlist(a.code, at(9), name="Bo", email=unique_email(), seats=0),
    ),
    "end before start": ("end", "to", lambda s, o, a: s.slots_between(a.code, at(11), at(9))),
    "naive end": (
        "end",
        "to",
        lambda s, o, a: s.slots_between(a.code, at(9), datetime(2031, 3, 4)),
    ),
    "owner_id": (
        "owner_id",
        "user_id",
        lambda s, o, a: s.close_appointment("not-a-uuid", a.code),
    ),
    "per_page": ("per_page", None, lambda s, o, a: s.my_appointments(o.id, per_page=0)),
}


def names(text: str, name: str) -> bool:
    """Whether `text` has `name` as a word of its own."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


@pytest.mark.parametrize("case", list(CASES))
def test_the_error_names_the_python_argument(scheduler: Scheduler, owner: User, case: str) -> None:
    argument, engine_name, call = CASES[case]
    app = scheduler.create_appointment(owner.id, **APPOINTMENT)
    with pytest.raises(InvalidInputError) as err:
        call(scheduler, owner, app)
    assert err.value.code == "invalid_input"
    assert err.value.field == argument
    message = str(err.value)
    assert message.startswith(f"invalid {argument}: "), message
    assert message == f"invalid {argument}: {err.value.reason}"
    if engine_name is not None:
        assert not names(message, engine_name), message
    # Nothing changed: no other appointment, no seat taken.
    assert [a.code for a in scheduler.my_appointments(owner.id).items] == [app.code]
    assert scheduler.attendees_booked(app.code) == 0


def test_the_reason_names_python_arguments_too(scheduler: Scheduler, owner: User) -> None:
    app = scheduler.create_appointment(owner.id, **APPOINTMENT)
    with pytest.raises(InvalidInputError) as err:
        scheduler.slots_between(app.code, at(11), at(9))
    assert str(err.value) == "invalid end: must be after start"
    assert err.value.reason == "must be after start"


def test_the_store_url_is_named_url() -> None:
    with pytest.raises(InvalidInputError) as err:
        Scheduler("mongodb://nowhere")
    assert err.value.field == "url"
    assert str(err.value).startswith("invalid url: ")
    assert not names(str(err.value), "database_url")


def test_a_user_id_is_named_as_given() -> None:
    s = Scheduler()
    for call, argument in [
        (lambda: s.user("not-a-uuid"), "user_id"),
        (lambda: s.user_bookings("not-a-uuid"), "user_id"),
        (lambda: s.bans("not-a-uuid"), "owner_id"),
    ]:
        with pytest.raises(InvalidInputError) as err:
            call()
        assert err.value.field == argument
        assert str(err.value).startswith(f"invalid {argument}: ")


@pytest.mark.asyncio
async def test_awaited_errors_name_the_python_argument(store_url: str) -> None:
    s = await AsyncScheduler.open(store_url)
    owner = await s.register_user("Owner", unique_email("owner"))
    # Refused before the engine starts: raised by the call itself.
    with pytest.raises(InvalidInputError) as early:
        s.create_appointment(owner.id, **{**APPOINTMENT, "time_zone": "Mars/Olympus"})
    assert (early.value.field, str(early.value).split(":")[0]) == (
        "time_zone",
        "invalid time_zone",
    )
    # Refused by the engine: raised when awaited.
    with pytest.raises(InvalidInputError) as late:
        await s.create_appointment(owner.id, **{**APPOINTMENT, "kind": "group"})
    assert (late.value.field, str(late.value).split(":")[0]) == ("capacity", "invalid capacity")
    app = await s.create_appointment(owner.id, **APPOINTMENT)
    with pytest.raises(InvalidInputError) as slot:
        await s.book(app.code, at(9) + timedelta(minutes=30), name="Bo", email=unique_email())
    assert (slot.value.field, str(slot.value).split(":")[0]) == ("start", "invalid start")

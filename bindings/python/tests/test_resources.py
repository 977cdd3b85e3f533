"""Shared resources through the Python API: appointments of one owner that name the same chair
never hold overlapping bookings."""

from datetime import datetime, time, timezone
from typing import Any, Callable, List

import pytest

from appointment_master import (
    Appointment,
    InvalidInputError,
    Scheduler,
    SlotFullError,
    User,
)

from conftest import DAY, unique_email


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=timezone.utc)


def free_times(scheduler: Scheduler, code: str) -> List[str]:
    """The bookable slot starts of DAY as "HH:MM" (UTC)."""
    return [s.start.strftime("%H:%M") for s in scheduler.all_slots(code, day=DAY)]


def guest(scheduler: Scheduler, code: str, start: datetime) -> Any:
    return scheduler.book(code, start, name="Guest", email=unique_email("guest"))


@pytest.fixture
def chair(
    make_appointment: Callable[..., Appointment],
) -> Callable[..., Appointment]:
    """An appointment on DAY, 09:00-12:00 UTC, on the owner's "Chair 1" unless told otherwise."""

    def make(**kwargs: Any) -> Appointment:
        args: dict = dict(resource="Chair 1")
        args.update(kwargs)
        return make_appointment(**args)

    return make


def test_a_booking_takes_the_overlapping_slots_of_the_other_appointment(
    scheduler: Scheduler, chair: Callable[..., Appointment]
) -> None:
    haircut = chair(title="Haircut", slot_minutes=60)
    trim = chair(title="Beard trim", slot_minutes=30, resource="  chair 1 ")
    assert haircut.resource == "Chair 1"
    assert trim.resource == "chair 1", "the name is trimmed, its case kept"
    assert scheduler.appointment(trim.code).resource == "chair 1"
    assert free_times(scheduler, trim.code) == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]

    guest(scheduler, haircut.code, at(10))

    # The haircut holds the chair 10:00-11:00: the trims at 10:00 and 10:30 are gone.
    assert free_times(scheduler, trim.code) == ["09:00", "09:30", "11:00", "11:30"]
    assert scheduler.slots(trim.code, day=DAY).total == 4
    for start in (at(10), at(10, 30)):
        with pytest.raises(SlotFullError) as full:
            guest(scheduler, trim.code, start)
        assert full.value.available == 0
        assert full.value.code == "slot_full"
    # Back to back is not a clash; the trim at 11:00 then takes the haircut's 11:00.
    eleven = guest(scheduler, trim.code, at(11))
    assert free_times(scheduler, haircut.code) == ["09:00"]
    # A move into the chair's busy time is refused and changes nothing.
    with pytest.raises(SlotFullError):
        scheduler.reschedule(eleven.code, at(10, 30))
    assert scheduler.booking(eleven.code).slot_start == at(11)


def test_other_owners_and_appointments_without_a_resource_are_not_affected(
    scheduler: Scheduler, owner: User, chair: Callable[..., Appointment]
) -> None:
    haircut = chair(title="Haircut")
    no_chair = chair(title="Phone call", resource=None)
    assert no_chair.resource is None
    other = scheduler.register_user("Other", unique_email("other-owner"))
    theirs = scheduler.create_appointment(
        other.id, title="Haircut", start_date=DAY, end_date=DAY, start_time=time(9),
        end_time=time(12), slot_minutes=60, resource="Chair 1",
    )

    guest(scheduler, haircut.code, at(10))

    assert free_times(scheduler, theirs.code) == ["09:00", "10:00", "11:00"]
    assert free_times(scheduler, no_chair.code) == ["09:00", "10:00", "11:00"]
    guest(scheduler, theirs.code, at(10))
    guest(scheduler, no_chair.code, at(10))


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "Chair\n1"])
def test_an_invalid_resource_name_is_refused(
    scheduler: Scheduler, owner: User, chair: Callable[..., Appointment], name: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        chair(resource=name)
    assert refused.value.field == "resource"
    app = chair()
    with pytest.raises(InvalidInputError) as refused:
        scheduler.update_appointment(owner.id, app.code, resource=name)
    assert refused.value.field == "resource"
    assert scheduler.appointment(app.code).resource == "Chair 1", "nothing changed"


def test_resource_and_remove_resource_together_are_refused(
    scheduler: Scheduler, owner: User, chair: Callable[..., Appointment]
) -> None:
    app = chair()
    with pytest.raises(InvalidInputError) as refused:
        scheduler.update_appointment(owner.id, app.code, resource="Room", remove_resource=True)
    assert refused.value.field == "resource"


def test_an_edit_puts_an_appointment_on_the_resource_and_takes_it_off(
    scheduler: Scheduler, owner: User, chair: Callable[..., Appointment]
) -> None:
    haircut = chair(title="Haircut")
    trim = chair(title="Beard trim", slot_minutes=30, resource=None)
    guest(scheduler, haircut.code, at(10))
    assert len(free_times(scheduler, trim.code)) == 6

    edit = scheduler.update_appointment(owner.id, trim.code, resource="CHAIR 1")
    assert edit.appointment.resource == "CHAIR 1"
    assert free_times(scheduler, trim.code) == ["09:00", "09:30", "11:00", "11:30"]
    with pytest.raises(SlotFullError):
        guest(scheduler, trim.code, at(10, 30))

    # An edit that leaves the resource out keeps it.
    kept = scheduler.update_appointment(owner.id, trim.code, title="Trim")
    assert kept.appointment.resource == "CHAIR 1"

    removed = scheduler.update_appointment(owner.id, trim.code, remove_resource=True)
    assert removed.appointment.resource is None
    assert scheduler.appointment(trim.code).resource is None
    assert free_times(scheduler, trim.code) == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    booked = guest(scheduler, trim.code, at(10, 30))
    assert booked.status == "active"

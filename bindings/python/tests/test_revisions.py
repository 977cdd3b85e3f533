"""Appointment revisions on every store: `Appointment.revision` starts at 0 and every edit, close
and reopen moves it on by one; a change given `if_revision` applies only to that revision and
otherwise raises `ChangedError` without changing anything. For `Scheduler` and `AsyncScheduler`."""

from datetime import time
from typing import AsyncIterator, Callable

import pytest
import pytest_asyncio

from appointment_master import (
    Appointment,
    AppointmentError,
    AsyncScheduler,
    ChangedError,
    InvalidInputError,
    Scheduler,
    User,
)

from conftest import DAY, unique_email

MakeApp = Callable[..., Appointment]


def assert_unchanged(now: Appointment, before: Appointment) -> None:
    """`now` is `before` as stored: the same revision, fields and `updated_at`."""
    assert now.revision == before.revision
    assert (now.title, now.status, now.hold_minutes, now.weekly_hours) == (
        before.title,
        before.status,
        before.hold_minutes,
        before.weekly_hours,
    )
    assert now.updated_at == before.updated_at


def test_the_revision_starts_at_0_and_counts_edits_closes_and_reopens(
    scheduler: Scheduler, owner: User, make_appointment: MakeApp
) -> None:
    app = make_appointment()
    assert app.revision == 0
    assert scheduler.appointment(app.code).revision == 0

    # A booking is not an edit of the appointment.
    scheduler.book(app.code, scheduler.all_slots(app.code)[0].start, name="G",
                   email=unique_email("guest"))
    assert scheduler.appointment(app.code).revision == 0

    renamed = scheduler.update_appointment(owner.id, app.code, title="Renamed")
    assert renamed.appointment.revision == 1
    assert scheduler.close_appointment(owner.id, app.code).appointment.revision == 2
    assert scheduler.reopen_appointment(owner.id, app.code).appointment.revision == 3
    both = scheduler.update_appointment(owner.id, app.code, closed=True, hold_minutes=20)
    assert both.appointment.revision == 4

    # A refused edit moves nothing.
    with pytest.raises(InvalidInputError):
        scheduler.update_appointment(owner.id, app.code, weekly_hours="mon 9-5")
    stored = scheduler.appointment(app.code)
    assert (stored.revision, stored.status, stored.hold_minutes) == (4, "closed", 20)
    assert scheduler.my_appointments(owner.id).items[0].revision == 4


def test_a_stale_if_revision_raises_changed_and_changes_nothing(
    scheduler: Scheduler, owner: User, make_appointment: MakeApp
) -> None:
    app = make_appointment()
    scheduler.update_appointment(owner.id, app.code, title="Edited elsewhere")
    before = scheduler.appointment(app.code)
    assert before.revision == 1

    for stale in (0, 2, 99):
        with pytest.raises(ChangedError) as err:
            scheduler.update_appointment(
                owner.id, app.code, if_revision=stale, title="Stale", hold_minutes=30,
                weekly_hours="mon-fri 13:00-17:00",
            )
        assert isinstance(err.value, AppointmentError)
        assert (err.value.code, err.value.entity) == ("changed", "appointment")
        assert_unchanged(scheduler.appointment(app.code), before)

    with pytest.raises(ChangedError):
        scheduler.close_appointment(owner.id, app.code, if_revision=0)
    with pytest.raises(ChangedError):
        scheduler.update_appointment(owner.id, app.code, if_revision=0, closed=True)
    assert_unchanged(scheduler.appointment(app.code), before)
    assert len(scheduler.all_slots(app.code)) == 3


def test_the_current_if_revision_applies(
    scheduler: Scheduler, owner: User, make_appointment: MakeApp
) -> None:
    app = make_appointment()
    edit = scheduler.update_appointment(owner.id, app.code, if_revision=0, title="Seen",
                                        hold_minutes=30)
    assert (edit.appointment.revision, edit.appointment.title) == (1, "Seen")
    assert edit.appointment.hold_minutes == 30
    stored = scheduler.appointment(app.code)
    assert (stored.revision, stored.title, stored.hold_minutes) == (1, "Seen", 30)

    closed = scheduler.close_appointment(owner.id, app.code, if_revision=1)
    assert (closed.appointment.status, closed.appointment.revision) == ("closed", 2)
    with pytest.raises(ChangedError):
        scheduler.reopen_appointment(owner.id, app.code, if_revision=1)
    assert scheduler.appointment(app.code).status == "closed"
    reopened = scheduler.reopen_appointment(owner.id, app.code, if_revision=2)
    assert (reopened.appointment.status, reopened.appointment.revision) == ("active", 3)


def test_two_editors_of_one_revision_lose_nothing(
    scheduler: Scheduler, owner: User, make_appointment: MakeApp
) -> None:
    app = make_appointment()
    seen_by_a = scheduler.appointment(app.code)
    seen_by_b = scheduler.appointment(app.code)
    scheduler.update_appointment(owner.id, app.code, if_revision=seen_by_a.revision,
                                 title="A's title")
    with pytest.raises(ChangedError):
        scheduler.update_appointment(owner.id, app.code, if_revision=seen_by_b.revision,
                                     hold_minutes=45)
    # B reads again, sees A's edit, and applies its own on top of it.
    again = scheduler.appointment(app.code)
    assert (again.title, again.hold_minutes, again.revision) == ("A's title", 10, 1)
    edit = scheduler.update_appointment(owner.id, app.code, if_revision=again.revision,
                                        hold_minutes=45)
    assert (edit.appointment.title, edit.appointment.hold_minutes) == ("A's title", 45)
    assert edit.appointment.revision == 2


@pytest_asyncio.fixture
async def async_scheduler(store_url: str) -> AsyncIterator[AsyncScheduler]:
    yield await AsyncScheduler.open(store_url)


@pytest.mark.asyncio
async def test_revisions_awaited(async_scheduler: AsyncScheduler) -> None:
    s = async_scheduler
    owner = await s.register_user("Owner", unique_email("owner"))
    app = await s.create_appointment(
        owner.id, title="Consultation", start_date=DAY, end_date=DAY, start_time=time(9),
        end_time=time(12), slot_minutes=60,
    )
    assert app.revision == 0
    edit = await s.update_appointment(owner.id, app.code, if_revision=0, title="Seen")
    assert (edit.appointment.revision, edit.appointment.title) == (1, "Seen")
    before = await s.appointment(app.code)
    assert before.revision == 1

    with pytest.raises(ChangedError) as err:
        await s.update_appointment(owner.id, app.code, if_revision=0, title="Stale")
    assert (err.value.code, err.value.entity) == ("changed", "appointment")
    with pytest.raises(ChangedError):
        await s.close_appointment(owner.id, app.code, if_revision=0)
    assert_unchanged(await s.appointment(app.code), before)

    closed = await s.close_appointment(owner.id, app.code, if_revision=1)
    assert (closed.appointment.status, closed.appointment.revision) == ("closed", 2)
    with pytest.raises(ChangedError):
        await s.reopen_appointment(owner.id, app.code, if_revision=1)
    reopened = await s.reopen_appointment(owner.id, app.code, if_revision=2)
    assert (reopened.appointment.status, reopened.appointment.revision) == ("active", 3)
    assert (await s.appointment(app.code)).revision == 3

"""Opening hours through the Python API: weekly hours, date overrides and closures."""

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from appointment_master import (
    AppointmentEdit,
    Closure,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    Scheduler,
    User,
)

from conftest import DAY, unique_email

BARBER = "mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00"
TUESDAY = DAY + timedelta(days=1)
SATURDAY = DAY + timedelta(days=5)
SUNDAY = DAY + timedelta(days=6)
CHRISTMAS_EVE = date(2031, 12, 24)  # a Wednesday
HOLIDAY = date(2031, 8, 5)  # a Tuesday


def barber(scheduler: Scheduler, owner: User, **kwargs: Any) -> Any:
    args: Dict[str, Any] = dict(
        title="Barber",
        start_date=DAY,
        end_date=date(2031, 12, 31),
        slot_minutes=30,
        time_zone="Europe/Paris",
        weekly_hours=BARBER,
        overrides={CHRISTMAS_EVE: ["09:00-12:00"]},
        closures=[Closure(date(2031, 8, 4), date(2031, 8, 17), "Summer holidays")],
    )
    args.update(kwargs)
    return scheduler.create_appointment(owner.id, **args)


def local_times(scheduler: Scheduler, code: str, day: date) -> List[str]:
    """The slots' start times of one day, in Paris wall-clock time (UTC+1 before 30 March)."""
    offset = timezone(timedelta(hours=1))
    return [s.start.astimezone(offset).strftime("%H:%M") for s in scheduler.all_slots(code, day=day)]


def test_a_weekday_skips_the_lunch_break(scheduler: Scheduler, owner: User) -> None:
    app = barber(scheduler, owner)
    times = local_times(scheduler, app.code, TUESDAY)
    assert times == [
        "09:00", "09:30", "10:00", "10:30", "11:00", "11:30",
        "13:00", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00", "16:30", "17:00",
    ]
    assert "12:00" not in times and "12:30" not in times
    assert len(scheduler.all_slots(app.code, day=SATURDAY)) == 8
    assert scheduler.all_slots(app.code, day=SUNDAY) == []
    # The first slot: 09:00 in Paris is 08:00 UTC in March.
    first = scheduler.all_slots(app.code, day=TUESDAY)[0]
    assert first.start == datetime(2031, 3, 4, 8, tzinfo=timezone.utc)


def test_the_appointment_reports_its_hours(scheduler: Scheduler, owner: User) -> None:
    app = barber(scheduler, owner)
    assert app.weekly_hours == BARBER
    by_day = app.weekly_hours_by_day
    assert list(by_day) == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert by_day["tue"] == ["09:00-12:00", "13:00-17:30"]
    assert by_day["sat"] == ["10:00-14:00"] and by_day["sun"] == []
    assert app.overrides == {CHRISTMAS_EVE: ["09:00-12:00"]}
    assert app.closures == [Closure(date(2031, 8, 4), date(2031, 8, 17), "Summer holidays")]
    closure = app.closures[0]
    assert (closure.first, closure.last, closure.label) == (
        date(2031, 8, 4), date(2031, 8, 17), "Summer holidays",
    )
    # The daily window the original model reported: the week's earliest opening, latest closing.
    assert (app.start_time, app.end_time) == (time(9), time(17, 30))
    # Both forms go back in as they came out.
    again = barber(scheduler, owner, weekly_hours=by_day, overrides=app.overrides,
                   closures=app.closures)
    assert again.weekly_hours == BARBER
    assert again.overrides == app.overrides and again.closures == app.closures


def test_the_dict_form_equals_the_text_form(scheduler: Scheduler, owner: User) -> None:
    app = barber(scheduler, owner, weekly_hours={
        "mon-fri": ["09:00-12:00", "13:00-17:30"],
        "saturday": "10:00-14:00",
        "sun": [],
    })
    assert app.weekly_hours == BARBER
    single = barber(scheduler, owner, weekly_hours={"mon": ["09:00-12:00"], "wed": ["09:00-12:00"]})
    assert single.weekly_hours == "mon 09:00-12:00; wed 09:00-12:00"
    assert len(scheduler.all_slots(single.code, day=TUESDAY)) == 0


def test_an_override_changes_one_date(scheduler: Scheduler, owner: User) -> None:
    app = barber(scheduler, owner, overrides={
        CHRISTMAS_EVE: ["09:00-12:00"],
        "2031-03-11": [],  # a Tuesday, closed
        date(2031, 3, 9): ["10:00-11:00"],  # a Sunday, opened
    })
    assert len(scheduler.all_slots(app.code, day=CHRISTMAS_EVE)) == 6
    assert scheduler.all_slots(app.code, day=date(2031, 3, 11)) == []
    assert local_times(scheduler, app.code, date(2031, 3, 9)) == ["10:00", "10:30"]
    assert list(app.overrides) == [date(2031, 3, 9), date(2031, 3, 11), CHRISTMAS_EVE]
    assert app.overrides[date(2031, 3, 11)] == []


def test_a_closure_closes_its_dates(scheduler: Scheduler, owner: User) -> None:
    app = barber(scheduler, owner, closures=[
        (date(2031, 8, 4), date(2031, 8, 17), "Summer holidays"),
        ("2031-03-05", "2031-03-05"),
    ])
    assert scheduler.all_slots(app.code, day=HOLIDAY) == []
    assert scheduler.all_slots(app.code, day=date(2031, 3, 5)) == []
    assert len(scheduler.all_slots(app.code, day=date(2031, 8, 19))) == 15
    assert app.closures == [
        Closure(date(2031, 3, 5), date(2031, 3, 5)),
        Closure(date(2031, 8, 4), date(2031, 8, 17), "Summer holidays"),
    ]
    assert app.closures[0].label is None


def test_sqlite_round_trip_keeps_the_hours(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'hours.db'}"
    first = Scheduler(url)
    owner = first.register_user("Owner", unique_email("owner"))
    made = barber(first, owner)
    start = first.all_slots(made.code, day=TUESDAY)[6].start  # 13:00, after lunch
    booking = first.book(made.code, start, name="Bo", email="bo@example.com")
    del first
    again = Scheduler(url)
    app = again.appointment(made.code)
    assert app.weekly_hours == BARBER
    assert app.overrides == {CHRISTMAS_EVE: ["09:00-12:00"]}
    assert app.closures == made.closures
    assert len(again.all_slots(app.code, day=TUESDAY)) == 14
    assert again.all_slots(app.code, day=HOLIDAY) == []
    assert again.booking(booking.code).slot_start == start
    listed = again.my_appointments(owner.id).items[0]
    assert listed.weekly_hours == BARBER and listed.closures == made.closures


def test_bad_hours_raise_naming_the_argument(scheduler: Scheduler, owner: User) -> None:
    cases: List[Tuple[Dict[str, Any], str]] = [
        ({"weekly_hours": "mon-fri 09:00-25:00"}, "weekly_hours"),
        ({"weekly_hours": "someday 09:00-12:00"}, "weekly_hours"),
        ({"weekly_hours": "mon 09:00-12:00,11:00-13:00"}, "weekly_hours"),
        ({"weekly_hours": {"mon": ["9 to 5"]}}, "weekly_hours"),
        ({"weekly_hours": {"funday": ["09:00-12:00"]}}, "weekly_hours"),
        ({"weekly_hours": {"mon fri": ["09:00-12:00"]}}, "weekly_hours"),
        ({"weekly_hours": {1: ["09:00-12:00"]}}, "weekly_hours"),
        ({"weekly_hours": {"mon": [9]}}, "weekly_hours"),
        ({"weekly_hours": 42}, "weekly_hours"),
        ({"weekly_hours": "mon 09:00-09:10"}, "weekly_hours"),  # shorter than a slot
        # Closed every day with no override opening a date: no slot at all.
        ({"weekly_hours": "closed", "overrides": {}}, "weekly_hours"),
        ({"start_time": time(9), "end_time": time(12)}, "weekly_hours"),
        ({"weekly_hours": None}, "start_time"),
        ({"weekly_hours": None, "start_time": time(9)}, "end_time"),
        ({"overrides": {"24/12/2031": ["09:00-12:00"]}}, "overrides"),
        ({"overrides": {CHRISTMAS_EVE: ["12:00-09:00"]}}, "overrides"),
        ({"overrides": {CHRISTMAS_EVE: "9-12"}}, "overrides"),
        ({"overrides": {date(1999, 12, 24): []}}, "overrides"),
        ({"overrides": [CHRISTMAS_EVE]}, "overrides"),
        ({"closures": [(date(2031, 8, 17), date(2031, 8, 4))]}, "closures"),
        ({"closures": [(date(2031, 8, 4),)]}, "closures"),
        ({"closures": [(date(2031, 8, 4), date(2031, 8, 5), "x" * 201)]}, "closures"),
        ({"closures": [("soon", "later")]}, "closures"),
        ({"closures": "2031-08-04"}, "closures"),
    ]
    for override, field in cases:
        with pytest.raises(InvalidInputError) as err:
            barber(scheduler, owner, **override)
        assert err.value.field == field, override
        assert err.value.code == "invalid_input"
    assert scheduler.my_appointments(owner.id).total == 0
    with pytest.raises(InvalidInputError) as bad_closure:
        Closure(date(2031, 8, 17), date(2031, 8, 4))
    assert bad_closure.value.field == "closures"


def test_the_daily_window_still_works_without_weekly_hours(
    scheduler: Scheduler, owner: User
) -> None:
    app = scheduler.create_appointment(
        owner.id, title="Old style", start_date=DAY, end_date=DAY + timedelta(days=6),
        start_time=time(9), end_time=time(12), slot_minutes=60, weekdays=["mon", "sat"],
        closures=[(SATURDAY, SATURDAY, "Inventory")],
    )
    assert app.weekly_hours == "mon 09:00-12:00; sat 09:00-12:00"
    assert app.overrides == {}
    assert len(scheduler.all_slots(app.code)) == 3
    assert app.closures[0].label == "Inventory"


def test_reschedule_with_a_new_description(scheduler: Scheduler, owner: User) -> None:
    app = barber(scheduler, owner)
    s1, s2 = (s.start for s in scheduler.all_slots(app.code, day=TUESDAY)[:2])
    booking = scheduler.book(app.code, s1, name="Bo", email=unique_email(), description="trim")
    moved = scheduler.reschedule(booking.code, s2, description="beard too")
    assert moved.slot_start == s2 and moved.description == "beard too"
    kept = scheduler.reschedule(booking.code, s2)
    assert kept.description == "beard too"
    with pytest.raises(InvalidInputError) as err:
        scheduler.reschedule(booking.code, s1, description="x" * 2001)
    assert err.value.field == "description"
    assert scheduler.booking(booking.code).slot_start == s2


def test_an_edit_changes_the_hours_and_counts_the_bookings_left_outside(
    scheduler: Scheduler, owner: User
) -> None:
    app = barber(scheduler, owner, horizon_days=3660)
    tuesday = scheduler.all_slots(app.code, day=TUESDAY)
    morning = scheduler.book(app.code, tuesday[0].start, name="Mo", email=unique_email())
    afternoon = scheduler.book(app.code, tuesday[6].start, name="Af", email=unique_email(),
                               attendee_count=1)
    assert scheduler.attendees_booked(app.code) == 2

    edit = scheduler.update_appointment(
        owner.id, app.code, weekly_hours={"mon-fri": ["09:00-12:00"]},
        title="  Barber (mornings)  ", buffer_minutes=0, min_notice_minutes=60,
        remove_horizon=True,
    )
    assert isinstance(edit, AppointmentEdit)
    # The 13:00 booking is outside the new hours; the edit neither cancels nor moves it.
    assert edit.bookings_outside_hours == 1
    assert scheduler.booking(afternoon.code).status == "active"
    assert scheduler.booking(afternoon.code).slot_start == tuesday[6].start
    assert scheduler.booking(morning.code).status == "active"
    changed = edit.appointment
    assert changed.code == app.code and changed.title == "Barber (mornings)"
    assert changed.weekly_hours == "mon-fri 09:00-12:00"
    assert (changed.min_notice_minutes, changed.horizon_days) == (60, None)
    assert changed.updated_at > app.updated_at and changed.created_at == app.created_at
    assert app.updated_at == app.created_at
    # What was left out stays: description, overrides, closures, time zone, slot length.
    assert changed.description == app.description and changed.overrides == app.overrides
    assert changed.closures == app.closures and changed.time_zone == "Europe/Paris"
    # Six morning slots, one of them booked; Saturday is closed now.
    assert len(scheduler.all_slots(app.code, day=TUESDAY)) == 5
    assert scheduler.all_slots(app.code, day=SATURDAY) == []
    assert scheduler.appointment(app.code).weekly_hours == "mon-fri 09:00-12:00"

    # Lists are replaced whole: no closures any more, a new override.
    again = scheduler.update_appointment(
        owner.id, app.code, closures=[], overrides={"2031-03-05": []}, horizon_days=30,
        description="Walk-ins welcome",
    ).appointment
    assert again.closures == [] and again.overrides == {date(2031, 3, 5): []}
    assert again.horizon_days == 30 and again.description == "Walk-ins welcome"
    assert again.title == "Barber (mornings)"
    # Back to the barber's week: nothing is outside the hours any more.
    back = scheduler.update_appointment(owner.id, app.code, weekly_hours=BARBER)
    assert back.bookings_outside_hours == 0
    assert back.appointment.weekly_hours == BARBER


def test_a_refused_edit_changes_nothing(scheduler: Scheduler, owner: User) -> None:
    app = barber(scheduler, owner)
    cases: List[Tuple[Dict[str, Any], str]] = [
        ({"weekly_hours": "mon 09:00-25:00"}, "weekly_hours"),
        ({"weekly_hours": {"mon": [9]}}, "weekly_hours"),
        ({"overrides": {"2031-13-01": []}}, "overrides"),
        ({"overrides": {date(2032, 1, 5): []}}, "overrides"),  # after the end date
        ({"closures": [("2031-08-17", "2031-08-04")]}, "closures"),
        ({"title": "   "}, "title"),
        ({"horizon_days": 0}, "horizon_days"),
        ({"horizon_days": 10, "remove_horizon": True}, "horizon_days"),
        ({"buffer_minutes": 1441}, "buffer_minutes"),
    ]
    for changes, field in cases:
        with pytest.raises(InvalidInputError) as err:
            scheduler.update_appointment(owner.id, app.code, **changes)
        assert err.value.field == field, changes
    stranger = scheduler.register_user("Stranger", unique_email("stranger"))
    with pytest.raises(ForbiddenError):
        scheduler.update_appointment(stranger.id, app.code, title="Mine now")
    with pytest.raises(ForbiddenError):
        scheduler.close_appointment(stranger.id, app.code)
    with pytest.raises(ForbiddenError):
        scheduler.delete_appointment(stranger.id, app.code)
    with pytest.raises(NotFoundError):
        scheduler.update_appointment(owner.id, "AP-AAAAAAAAAAAA", title="x")
    stored = scheduler.appointment(app.code)
    assert stored.title == "Barber" and stored.weekly_hours == BARBER
    assert stored.overrides == app.overrides and stored.closures == app.closures
    assert stored.updated_at == app.updated_at


def test_close_reopen_and_delete(scheduler: Scheduler, owner: User) -> None:
    app = barber(scheduler, owner)
    start = scheduler.all_slots(app.code, day=TUESDAY)[0].start
    booking = scheduler.book(app.code, start, name="Bo", email=unique_email())

    closed = scheduler.close_appointment(owner.id, app.code)
    assert closed.appointment.status == "closed" and closed.bookings_outside_hours == 0
    assert scheduler.appointment(app.code).status == "closed"
    assert scheduler.all_slots(app.code, day=TUESDAY) == []
    assert scheduler.slots(app.code).total == 0
    with pytest.raises(InvalidInputError) as err:
        scheduler.book(app.code, start + timedelta(minutes=30), name="Late", email=unique_email())
    assert err.value.field == "code"
    assert scheduler.booking(booking.code).status == "active"

    reopened = scheduler.reopen_appointment(owner.id, app.code)
    assert reopened.appointment.status == "active"
    assert len(scheduler.all_slots(app.code, day=TUESDAY)) == 14
    # `closed=` closes or reopens along with other changes.
    both = scheduler.update_appointment(owner.id, app.code, closed=True, title="On leave")
    assert (both.appointment.status, both.appointment.title) == ("closed", "On leave")
    assert scheduler.update_appointment(owner.id, app.code, closed=False).appointment.status == (
        "active"
    )

    scheduler.delete_appointment(owner.id, app.code)
    with pytest.raises(NotFoundError):
        scheduler.appointment(app.code)
    with pytest.raises(NotFoundError):
        scheduler.slots(app.code)
    with pytest.raises(NotFoundError):
        scheduler.delete_appointment(owner.id, app.code)
    assert scheduler.my_appointments(owner.id).total == 0
    # Its bookings stay readable by their codes.
    assert scheduler.booking(booking.code).slot_start == start


def test_slots_between_a_window(scheduler: Scheduler, owner: User) -> None:
    app = barber(scheduler, owner)
    utc = timezone.utc
    monday = datetime(2031, 3, 3, tzinfo=utc)
    # Monday to Sunday: five weekdays of 15 slots and a Saturday of 8.
    week = scheduler.slots_between(app.code, monday, monday + timedelta(days=7), per_page=100)
    assert week.total == 5 * 15 + 8 and len(week.items) == 83
    assert week.items[0].start == datetime(2031, 3, 3, 8, tzinfo=utc)
    assert all(monday <= s.start < monday + timedelta(days=7) for s in week.items)
    # Pages split the window in time order.
    first = scheduler.slots_between(app.code, monday, monday + timedelta(days=7), per_page=10)
    third = scheduler.slots_between(app.code, monday, monday + timedelta(days=7), page=3,
                                    per_page=10)
    assert (first.total_pages, [s.start for s in first.items]) == (
        9, [s.start for s in week.items[:10]],
    )
    assert [s.start for s in third.items] == [s.start for s in week.items[20:30]]
    # Any time zone: 13:00 to 15:00 in Paris is one afternoon's four slots.
    paris = timezone(timedelta(hours=1))
    afternoon = scheduler.slots_between(
        app.code, datetime(2031, 3, 4, 13, tzinfo=paris), datetime(2031, 3, 4, 15, tzinfo=paris)
    )
    assert afternoon.total == 4
    # A booked-out slot drops out of the window.
    scheduler.book(app.code, afternoon.items[0].start, name="Bo", email=unique_email())
    assert scheduler.slots_between(
        app.code, datetime(2031, 3, 4, 13, tzinfo=paris), datetime(2031, 3, 4, 15, tzinfo=paris)
    ).total == 3
    # The summer closure has none.
    closed = scheduler.slots_between(
        app.code, datetime(2031, 8, 4, tzinfo=utc), datetime(2031, 8, 18, tzinfo=utc)
    )
    assert closed.total == 0 and closed.items == []
    # The window: after its start, at most 92 days.
    assert scheduler.slots_between(app.code, monday, monday + timedelta(days=92)).total > 0
    for end in (monday, monday - timedelta(hours=1), monday + timedelta(days=92, seconds=1)):
        with pytest.raises(InvalidInputError) as err:
            scheduler.slots_between(app.code, monday, end)
        assert err.value.field == "end"
    with pytest.raises(NotFoundError):
        scheduler.slots_between("AP-AAAAAAAAAAAA", monday, monday + timedelta(days=1))

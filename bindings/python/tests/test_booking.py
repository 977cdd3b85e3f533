"""The booking flow through the Python API: the engine's rules, translated."""

import uuid
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import pytest

from appointment_master import (
    Appointment,
    AppointmentError,
    BannedError,
    DuplicateError,
    EmailNotVerifiedError,
    ForbiddenError,
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
    RegistrationRequiredError,
    Scheduler,
    SlotFullError,
    StorageError,
    UnavailableError,
    User,
)

from conftest import DAY, unique_email

try:
    from zoneinfo import ZoneInfo
except ImportError:  # pragma: no cover - Python 3.8
    ZoneInfo = None  # type: ignore[assignment,misc]

MakeApp = Callable[..., Appointment]


def test_guest_books_and_gets_booking(scheduler: Scheduler, make_appointment: MakeApp) -> None:
    app = make_appointment()
    slot = scheduler.slots(app.code).items[0]
    booking = scheduler.book(
        app.code, slot.start, name="Bo", email="  Bo@Example.com ", phone="+1 234 567 890",
        description="first visit",
    )
    assert booking.code.startswith("BK-")
    assert booking.status == "active"
    assert booking.email == "bo@example.com"
    assert booking.phone == "+1234567890"
    assert booking.user_id is None
    assert booking.app_code == app.code
    assert booking.slot_start == datetime(2031, 3, 3, 9, tzinfo=timezone.utc)
    assert booking.slot_end == datetime(2031, 3, 3, 10, tzinfo=timezone.utc)
    assert booking.slot_start.tzinfo is not None
    fetched = scheduler.booking(booking.code.lower())
    assert fetched.id == booking.id
    assert fetched.description == "first visit"
    assert scheduler.slot(app.code, slot.start).seats_left == 0


def test_time_zone_window_and_aware_datetimes(
    scheduler: Scheduler, make_appointment: MakeApp
) -> None:
    app = make_appointment(time_zone="Europe/Berlin", slot_minutes=50, buffer_minutes=10)
    assert app.time_zone == "Europe/Berlin"
    assert app.buffer_minutes == 10
    slots = scheduler.all_slots(app.code)
    # 09:00, 10:00, 11:00 in Berlin (UTC+1 in March before the change) = 08:00, 09:00, 10:00 UTC.
    assert [s.start for s in slots] == [
        datetime(2031, 3, 3, h, tzinfo=timezone.utc) for h in (8, 9, 10)
    ]
    assert all(s.end - s.start == timedelta(minutes=50) for s in slots)
    assert slots[0].local_date == DAY
    # Any aware datetime names the same instant: 09:00 Berlin is the first slot.
    if ZoneInfo is not None:
        start = datetime(2031, 3, 3, 9, tzinfo=ZoneInfo("Europe/Berlin"))
    else:  # pragma: no cover
        start = datetime(2031, 3, 3, 9, tzinfo=timezone(timedelta(hours=1)))
    booking = scheduler.book(app.code, start, name="Bo", email=unique_email())
    assert booking.slot_start == slots[0].start


def test_naive_datetime_is_invalid_input(scheduler: Scheduler, make_appointment: MakeApp) -> None:
    app = make_appointment()
    with pytest.raises(InvalidInputError) as err:
        scheduler.book(app.code, datetime(2031, 3, 3, 9), name="Bo", email="bo@example.com")
    assert err.value.code == "invalid_input"
    assert err.value.field == "start"
    assert scheduler.slot(app.code, datetime(2031, 3, 3, 9, tzinfo=timezone.utc)).seats_taken == 0


def test_slots_all_by_day_and_paginated(scheduler: Scheduler, make_appointment: MakeApp) -> None:
    app = make_appointment(
        start_date=DAY, end_date=DAY + timedelta(days=6), weekdays=["mon", "wed", "fri"],
        slot_minutes=30,
    )
    assert app.weekdays == ["mon", "wed", "fri"]
    first = scheduler.slots(app.code, per_page=4)
    assert first.total == 3 * 6
    assert first.total_pages == 5
    assert len(first.items) == 4 and len(first) == 4
    last = scheduler.slots(app.code, page=5, per_page=4)
    assert len(last.items) == 2
    everything = scheduler.all_slots(app.code)
    assert len(everything) == 18
    assert [s.start for s in everything] == sorted(s.start for s in everything)
    wednesday = scheduler.slots(app.code, day=DAY + timedelta(days=2), per_page=100)
    assert wednesday.total == 6
    assert {s.local_date for s in wednesday} == {DAY + timedelta(days=2)}
    assert scheduler.slots(app.code, day=DAY + timedelta(days=1)).total == 0
    with pytest.raises(InvalidInputError) as err:
        scheduler.slots(app.code, per_page=0)
    assert err.value.field == "per_page"


def test_group_capacity_and_slot_full(scheduler: Scheduler, make_appointment: MakeApp) -> None:
    app = make_appointment(kind="group", capacity=3, anti_scalping="none")
    assert app.kind == "group" and app.capacity == 3
    start = scheduler.slots(app.code).items[0].start
    scheduler.book(app.code, start, name="A", email="a@example.com", attendee_count=2)
    with pytest.raises(SlotFullError) as err:
        scheduler.book(app.code, start, name="B", email="b@example.com", attendee_count=2)
    assert err.value.code == "slot_full"
    assert err.value.requested == 2
    assert err.value.available == 1
    scheduler.book(app.code, start, name="C", email="c@example.com", attendee_count=1)
    assert scheduler.slot(app.code, start).seats_left == 0
    # A full slot is no longer listed.
    assert start not in [s.start for s in scheduler.all_slots(app.code)]


def test_anti_scalping_duplicate(scheduler: Scheduler, make_appointment: MakeApp) -> None:
    # No limit unless asked for, as over REST.
    open_app = make_appointment(kind="group", capacity=10)
    assert open_app.anti_scalping == "none"
    start = scheduler.slots(open_app.code).items[0].start
    scheduler.book(open_app.code, start, name="A", email="a@example.com")
    scheduler.book(open_app.code, start, name="A", email="a@example.com")
    app = make_appointment(kind="group", capacity=10, anti_scalping="standard")
    scheduler.book(app.code, start, name="A", email="a@example.com")
    with pytest.raises(DuplicateError) as err:
        scheduler.book(app.code, start, name="A", email="A@example.com")
    assert err.value.code == "duplicate"
    assert "email" in err.value.what
    # `+tag` aliases of one mailbox are one booker.
    with pytest.raises(DuplicateError):
        scheduler.book(app.code, start, name="A", email="a+1@example.com")
    strict_app = make_appointment(kind="group", capacity=10, anti_scalping="strict")
    # Strict: registered users only, each with a device.
    with pytest.raises(RegistrationRequiredError) as guest:
        scheduler.book(strict_app.code, start, name="A", email="a@example.com", device_id="d-1")
    assert guest.value.code == "registration_required"
    member = scheduler.register_user("Member", unique_email("strict"))
    with pytest.raises(InvalidInputError) as strict:
        scheduler.book_as_user(strict_app.code, start, member.id)
    assert strict.value.field == "device_id"
    scheduler.book_as_user(strict_app.code, start, member.id, device_id="D-1")
    with pytest.raises(DuplicateError):
        scheduler.book_as_user(strict_app.code, start, member.id, device_id="d-2")


def test_book_as_user(scheduler: Scheduler, make_appointment: MakeApp) -> None:
    app = make_appointment()
    email = unique_email("member")
    phone = "+44 " + str(uuid.uuid4().int)[:10]
    user = scheduler.register_user("Member", email, phone=phone)
    assert user.phone == phone.replace(" ", "")
    assert scheduler.user(user.id).email == email
    start = scheduler.slots(app.code).items[1].start
    booking = scheduler.book_as_user(app.code, start, user.id)
    assert booking.user_id == user.id
    assert booking.email == email
    assert booking.name == "Member"
    mine = scheduler.user_bookings(user.id)
    assert [b.code for b in mine.items] == [booking.code]
    with pytest.raises(DuplicateError):
        scheduler.register_user("Again", email)


def test_user_by_email(scheduler: Scheduler) -> None:
    email = unique_email("member")
    assert scheduler.user_by_email(email) is None
    user = scheduler.register_user("Member", email)
    found = scheduler.user_by_email(email.upper())
    assert found is not None
    assert (found.id, found.name, found.email) == (user.id, "Member", email)
    assert scheduler.user_by_email(unique_email("stranger")) is None
    with pytest.raises(InvalidInputError) as bad:
        scheduler.user_by_email("not an email")
    assert bad.value.field == "email"


def test_a_script_run_twice_finds_its_user(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'script.db'}"
    ids = []
    for _ in range(2):
        s = Scheduler(url)
        owner = s.user_by_email("ada@example.com") or s.register_user("Ada", "ada@example.com")
        ids.append(owner.id)
        del s
    assert ids[0] == ids[1]


def test_reschedule_cancel_reject(
    scheduler: Scheduler, owner: User, make_appointment: MakeApp
) -> None:
    app = make_appointment(kind="group", capacity=2)
    s1, s2, s3 = (s.start for s in scheduler.all_slots(app.code))
    booking = scheduler.book(app.code, s1, name="A", email="a@example.com")
    moved = scheduler.reschedule(booking.code, s2, attendee_count=2)
    assert moved.slot_start == s2 and moved.attendee_count == 2
    assert scheduler.slot(app.code, s1).seats_taken == 0
    assert scheduler.slot(app.code, s2).seats_taken == 2
    other = scheduler.book(app.code, s3, name="B", email="b@example.com", attendee_count=2)
    with pytest.raises(SlotFullError):
        scheduler.reschedule(other.code, s2)
    assert scheduler.booking(other.code).slot_start == s3

    cancelled = scheduler.cancel(booking.code)
    assert cancelled.status == "cancelled"
    assert scheduler.slot(app.code, s2).seats_taken == 0
    with pytest.raises(InvalidTransitionError) as err:
        scheduler.cancel(booking.code)
    assert err.value.code == "invalid_transition"
    assert err.value.status == "cancelled" and err.value.action == "cancel"

    stranger = scheduler.register_user("Stranger", unique_email("stranger"))
    with pytest.raises(ForbiddenError) as forbidden:
        scheduler.reject(stranger.id, other.code)
    assert forbidden.value.code == "forbidden"
    rejected = scheduler.reject(owner.id, other.code)
    assert rejected.status == "rejected"
    listed = scheduler.appointment_bookings(owner.id, app.code)
    assert {b.status for b in listed.items} == {"cancelled", "rejected"}
    with pytest.raises(ForbiddenError):
        scheduler.appointment_bookings(stranger.id, app.code)


def test_not_found(scheduler: Scheduler, owner: User) -> None:
    with pytest.raises(NotFoundError) as err:
        scheduler.booking("BK-AAAAAAAAAAAA")
    assert err.value.entity == "booking"
    assert err.value.code == "not_found"
    with pytest.raises(NotFoundError) as app_err:
        scheduler.appointment("AP-AAAAAAAAAAAA")
    assert app_err.value.entity == "appointment"
    with pytest.raises(NotFoundError) as user_err:
        scheduler.user("00000000-0000-4000-8000-000000000000")
    assert user_err.value.entity == "user"
    assert scheduler.my_appointments(owner.id).total == 0


def test_bans(scheduler: Scheduler, owner: User, make_appointment: MakeApp) -> None:
    app = make_appointment()
    start = scheduler.slots(app.code).items[0].start
    ban = scheduler.ban(owner.id, "Troll@Example.com")
    assert ban.email == "troll@example.com" and ban.owner_id == owner.id
    with pytest.raises(BannedError) as err:
        scheduler.book(app.code, start, name="T", email="troll@example.com")
    assert err.value.code == "banned"
    with pytest.raises(DuplicateError):
        scheduler.ban(owner.id, "troll@example.com")
    assert [b.email for b in scheduler.bans(owner.id)] == ["troll@example.com"]
    scheduler.unban(owner.id, "troll@example.com")
    assert scheduler.bans(owner.id) == []
    with pytest.raises(NotFoundError) as gone:
        scheduler.unban(owner.id, "troll@example.com")
    assert gone.value.entity == "ban"
    assert scheduler.book(app.code, start, name="T", email="troll@example.com").status == "active"


def test_analytics(scheduler: Scheduler, owner: User, make_appointment: MakeApp) -> None:
    app = make_appointment(kind="group", capacity=4, anti_scalping="none")
    starts = [s.start for s in scheduler.all_slots(app.code)]
    kept = scheduler.book(app.code, starts[0], name="A", email="a@example.com", attendee_count=3)
    gone = scheduler.book(app.code, starts[1], name="B", email="b@example.com")
    scheduler.cancel(gone.code)
    stats = scheduler.analytics(owner.id, DAY, DAY)
    assert stats.start_date == DAY and stats.end_date == DAY
    assert stats.active_bookings == 1
    assert stats.cancelled_bookings == 1
    assert stats.rejected_bookings == 0
    assert stats.total_bookings == 2
    assert stats.seats_booked == kept.attendee_count == 3
    assert stats.seats_offered == 3 * 4
    with pytest.raises(InvalidInputError):
        scheduler.analytics(owner.id, DAY, DAY - timedelta(days=1))


def test_party_shares_one_capacity(scheduler: Scheduler, make_appointment: MakeApp) -> None:
    app = make_appointment(
        kind="party", capacity=5, anti_scalping="none", end_date=DAY + timedelta(days=3),
        start_time=time(20), end_time=time(23, 30), min_notice_minutes=60, horizon_days=3650,
    )
    assert app.min_notice_minutes == 60 and app.horizon_days == 3650
    slots = scheduler.all_slots(app.code)
    assert len(slots) == 1
    event = slots[0]
    assert event.end - event.start == timedelta(hours=3, minutes=30)
    scheduler.book(app.code, event.start, name="A", email="a@example.com", attendee_count=5)
    with pytest.raises(SlotFullError):
        scheduler.book(app.code, event.start, name="B", email="b@example.com")


def test_invalid_inputs_change_nothing(scheduler: Scheduler, owner: User) -> None:
    base: Dict[str, Any] = dict(
        title="X", start_date=DAY, end_date=DAY, start_time=time(9), end_time=time(12),
        slot_minutes=60,
    )
    cases: List[Tuple[Dict[str, Any], str]] = [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"kind": "banquet"}, "kind"),
        ({"anti_scalping": "maybe"}, "anti_scalping"),
        ({"weekdays": ["someday"]}, "weekdays"),
        ({"end_time": time(8)}, "end_time"),
        ({"kind": "group"}, "capacity"),
        ({"title": "   "}, "title"),
    ]
    for override, field in cases:
        args = {**base, **override}
        with pytest.raises(InvalidInputError) as err:
            scheduler.create_appointment(owner.id, **args)
        assert err.value.field == field, override
    assert scheduler.my_appointments(owner.id).total == 0
    with pytest.raises(InvalidInputError) as bad_email:
        scheduler.register_user("N", "not an email")
    assert bad_email.value.field == "email"
    with pytest.raises(InvalidInputError) as bad_id:
        scheduler.user("not-a-uuid")
    assert bad_id.value.field == "user_id"
    with pytest.raises(InvalidInputError) as bad_code:
        scheduler.booking("XX-1")
    assert bad_code.value.field == "code"


def test_unknown_store_url() -> None:
    with pytest.raises(InvalidInputError) as err:
        Scheduler("mongodb://nowhere")
    assert err.value.field == "url"


def test_sqlite_file_keeps_bookings_across_reopen(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'kept.db'}"
    first = Scheduler(url)
    owner = first.register_user("Owner", unique_email("owner"))
    app = first.create_appointment(
        owner.id, title="Kept", start_date=DAY, end_date=DAY, start_time=time(9),
        end_time=time(10), slot_minutes=60,
    )
    start = first.slots(app.code).items[0].start
    booking = first.book(app.code, start, name="Bo", email="bo@example.com")
    del first
    again = Scheduler(url)
    assert again.booking(booking.code).slot_start == start
    assert again.slot(app.code, start).seats_left == 0
    with pytest.raises(SlotFullError):
        again.book(app.code, start, name="Cy", email="cy@example.com")


def test_unopenable_database_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as err:
        Scheduler(f"sqlite://{tmp_path / 'no' / 'such' / 'dir' / 'x.db'}")
    assert err.value.code == "storage"


def test_unreachable_database_is_an_unavailable_error() -> None:
    # Nothing listens on port 1: the store gives up within its bounded wait.
    with pytest.raises(UnavailableError) as err:
        Scheduler("postgres://postgres@127.0.0.1:1/appointments")
    assert err.value.code == "unavailable"
    assert isinstance(err.value, StorageError)


def test_exception_hierarchy() -> None:
    import appointment_master as am

    kinds = [
        am.SlotFullError, am.NotFoundError, am.DuplicateError, am.BannedError,
        am.ForbiddenError, am.InvalidInputError, am.InvalidTransitionError, am.StorageError,
        am.UnavailableError, am.ChangedError,
    ]
    for kind in kinds:
        assert issubclass(kind, AppointmentError)
        assert issubclass(kind, Exception)
    assert len(set(kinds)) == 10
    assert issubclass(am.UnavailableError, am.StorageError)
    assert not issubclass(am.ChangedError, am.StorageError)
    assert set(am.__all__) >= {k.__name__ for k in kinds} | {"AppointmentError", "Scheduler"}
    assert AppointmentError.__module__ == "appointment_master"


def test_readme_example_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The usage shown in bindings/python/README.md works as written."""
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    code = readme.split("```python\n", 1)[1].split("```", 1)[0]
    code = code.replace("sqlite:///tmp/appointments.db", f"sqlite://{tmp_path / 'readme.db'}")
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip() == "slot_full 1 0"


def test_strict_anti_scalping_can_require_a_verified_address(store_url: str) -> None:
    strict = Scheduler(store_url, verified_email_required=True)
    owner = strict.register_user("Owner", unique_email("owner"))
    app = strict.create_appointment(
        owner.id, title="Drop", start_date=DAY, end_date=DAY, start_time=time(9),
        end_time=time(12), slot_minutes=60, kind="group", capacity=10, anti_scalping="strict",
    )
    start = strict.slots(app.code).items[0].start
    address = unique_email("member")
    member = strict.register_user("Member", address)
    assert member.email_verified_at is None
    with pytest.raises(EmailNotVerifiedError) as unverified:
        strict.book_as_user(app.code, start, member.id, device_id="d-1")
    assert unverified.value.code == "email_not_verified"
    with pytest.raises(InvalidInputError) as other:
        strict.verify_email(member.id, unique_email("someone-else"))
    assert other.value.field == "email"
    verified = strict.verify_email(member.id, address)
    assert verified.email_verified_at is not None
    assert strict.verify_email(member.id, address).email_verified_at == verified.email_verified_at
    assert strict.user(member.id).email_verified_at == verified.email_verified_at
    booking = strict.book_as_user(app.code, start, member.id, device_id="d-1")
    assert booking.status == "active"

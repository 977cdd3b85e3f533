"""Calendars read by an independent parser (the `icalendar` package): a booking's `.ics` and an
owner's feed parse, carry the right UID, SEQUENCE, STATUS and METHOD, and their events are the
right UTC instants on both sides of a daylight-saving switch in Europe/Berlin."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from conftest import Server

BERLIN = ZoneInfo("Europe/Berlin")


def fetch(server: Server, path: str) -> tuple[int, str, bytes]:
    """GET `path`: (status, content type, body)."""
    try:
        with urllib.request.urlopen(server.base + path, timeout=30) as res:
            return res.status, res.headers.get("content-type", ""), res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()


def calendar(server: Server, path: str) -> icalendar.Calendar:
    status, content_type, body = fetch(server, path)
    assert status == 200, f"GET {path}: {status} {body!r}"
    assert content_type == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(body)


def events(cal: icalendar.Calendar) -> list[icalendar.Event]:
    return [c for c in cal.walk() if c.name == "VEVENT"]


def utc(value: Any) -> datetime:
    """A parsed DTSTART/DTEND: it must be an aware instant; answered in UTC."""
    assert isinstance(value, datetime) and value.tzinfo is not None, value
    return value.astimezone(timezone.utc)


def next_dst_switch(after: date) -> date:
    """The first day after `after` whose UTC offset in Berlin differs from the day before's."""
    day = after + timedelta(days=1)
    while True:
        noon = lambda d: datetime(d.year, d.month, d.day, 12, tzinfo=BERLIN)  # noqa: E731
        if noon(day).utcoffset() != noon(day - timedelta(days=1)).utcoffset():
            return day
        day += timedelta(days=1)


def test_a_booking_parses_and_is_cancelled_by_method(server: Server) -> None:
    _, token = server.owner()
    app = server.appointment(token, title="Haircut; wash, dry")
    code = app["app_code"]
    slots = server.ok("GET", f"/appointments/slots/{code}")["items"]
    booking = server.book(code, slots[0]["start_time"], "guest@example.com")
    bk = booking["booking_code"]

    cal = calendar(server, f"/bookings/{bk}/ics")
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["METHOD"]) == "PUBLISH"
    [event] = events(cal)
    uid = str(event["UID"])
    assert uid.endswith("@appointment-master") and bk not in uid
    assert int(event["SEQUENCE"]) == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Haircut; wash, dry"
    assert bk in str(event["DESCRIPTION"])
    start = datetime.fromisoformat(slots[0]["start_time"].replace("Z", "+00:00"))
    assert utc(event.decoded("DTSTART")) == start
    assert utc(event.decoded("DTEND")) == start + timedelta(hours=1)

    server.ok("PUT", f"/bookings/{bk}", {"start_time": slots[1]["start_time"]})
    [moved] = events(calendar(server, f"/bookings/{bk}/ics"))
    assert str(moved["UID"]) == uid
    assert int(moved["SEQUENCE"]) > 0
    assert utc(moved.decoded("DTSTART")) == start + timedelta(hours=1)

    server.ok("DELETE", f"/bookings/{bk}")
    cancelled = calendar(server, f"/bookings/{bk}/ics")
    assert str(cancelled["METHOD"]) == "CANCEL"
    [event] = events(cancelled)
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == uid
    assert int(event["SEQUENCE"]) >= int(moved["SEQUENCE"])


def test_slots_across_a_dst_switch_are_the_right_instants_in_the_ics_and_the_feed(
    server: Server,
) -> None:
    switch = next_dst_switch(date.today() + timedelta(days=1))
    before, after = switch - timedelta(days=1), switch + timedelta(days=1)
    email, token = server.owner()
    app = server.appointment(
        token,
        title="Berlin",
        timezone="Europe/Berlin",
        start_time="09:00",
        end_time="10:00",
        start_date=f"{before}T00:00:00Z",
        end_date=f"{after}T00:00:00Z",
    )
    code = app["app_code"]
    slots = server.ok("GET", f"/appointments/slots/{code}")["items"]
    starts = [s["start_time"] for s in slots]
    # 09:00 in Berlin on each day, whatever the offset of that day.
    wanted = [datetime(d.year, d.month, d.day, 9, tzinfo=BERLIN).astimezone(timezone.utc)
              for d in (before, switch, after)]
    assert [datetime.fromisoformat(s.replace("Z", "+00:00")) for s in starts] == wanted
    assert wanted[0].hour != wanted[2].hour, "the offsets differ on either side of the switch"

    codes = []
    for i, start in enumerate([starts[0], starts[2]]):
        b = server.book(code, start, f"guest{i}@example.com")
        codes.append(b["booking_code"])
        [event] = events(calendar(server, f"/bookings/{b['booking_code']}/ics"))
        assert utc(event.decoded("DTSTART")) == wanted[2 * i]
        assert utc(event.decoded("DTEND")) == wanted[2 * i] + timedelta(hours=1)

    # The feed: both bookings, no other owner's, parsed by the same independent parser.
    _, other = server.owner("other")
    other_app = server.appointment(other, title="Elsewhere")
    server.book(other_app["app_code"], server.first_slot(other_app["app_code"]),
                "elsewhere@example.com")
    path = server.ok("POST", "/calendar-feed", None, token, status=201)["path"]
    feed = calendar(server, path)
    assert str(feed["X-WR-CALNAME"]) == "Appointment Master bookings"
    assert str(feed["METHOD"]) == "PUBLISH"
    got = sorted((utc(e.decoded("DTSTART")), str(e["SUMMARY"]), str(e["STATUS"]))
                 for e in events(feed))
    assert got == [(wanted[0], "Berlin", "CONFIRMED"), (wanted[2], "Berlin", "CONFIRMED")]
    text = fetch(server, path)[2].decode()
    assert all(c not in text for c in codes), "a feed never carries booking codes"

    # Rotated and revoked: the old paths answer 404.
    rotated = server.ok("POST", "/calendar-feed", None, token, status=201)["path"]
    assert fetch(server, path)[0] == 404
    assert len(events(calendar(server, rotated))) == 2
    server.ok("DELETE", "/calendar-feed", None, token)
    assert fetch(server, rotated)[0] == 404
    # The token never reaches the logs.
    secret = rotated.removeprefix("/calendar-feed/").removesuffix(".ics")
    assert not any(secret in line for line in server.log), "a feed token was logged"
    assert not any(c in line for line in server.log for c in codes), "a booking code was logged"

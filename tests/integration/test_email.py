"""Email: the real server sends through a real SMTP server (aiosmtpd) started by the test; each
message is parsed with the standard library and its invite with the `icalendar` package."""

from __future__ import annotations

import email
import email.policy
import queue
import re
import socket
import uuid
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from typing import Any, Iterator

import icalendar
import pytest
from aiosmtpd.controller import Controller

from conftest import Server, start_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """An SMTP server on loopback that keeps what it accepts. `refuse` maps a recipient to the
    answers it gets, one per attempt (e.g. a temporary 451, then acceptance)."""

    def __init__(self) -> None:
        self.got: "queue.Queue[tuple[list[str], EmailMessage]]" = queue.Queue()
        # Registration mails a link that verifies the address: kept apart, so that the other
        # tests count only the messages they are about.
        self.verifications: "queue.Queue[tuple[list[str], EmailMessage]]" = queue.Queue()
        self.refuse: dict[str, list[str]] = {}
        inbox = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                for rcpt in envelope.rcpt_tos:
                    answers = inbox.refuse.get(rcpt)
                    if answers:
                        return answers.pop(0)
                msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
                assert isinstance(msg, EmailMessage)
                to = (inbox.verifications if msg["Subject"] == "Verify your email address"
                      else inbox.got)
                to.put((list(envelope.rcpt_tos), msg))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def next(self, timeout: float = 30) -> tuple[list[str], EmailMessage]:
        return self.got.get(timeout=timeout)

    def take(self, n: int, timeout: float = 30) -> dict[str, list[EmailMessage]]:
        """The next `n` messages, by recipient."""
        by: dict[str, list[EmailMessage]] = {}
        for _ in range(n):
            rcpts, msg = self.next(timeout)
            for r in rcpts:
                by.setdefault(r, []).append(msg)
        return by

    def close(self) -> None:
        self.controller.stop()


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    i = Inbox()
    yield i
    i.close()


def mail_server(database_url: str, tmp_path: Any, inbox: Inbox, **env: str) -> Server:
    return start_server(database_url, str(tmp_path),
                        SMTP_URL=f"smtp://127.0.0.1:{inbox.port}",
                        MAIL_FROM="Corner Barber <bookings@barber.example>",
                        PUBLIC_URL="https://book.barber.example",
                        MAIL_POLL_MS="50",
                        MAIL_REMINDERS=env.pop("MAIL_REMINDERS", "off"),
                        **env)


def parts(msg: EmailMessage) -> tuple[str, str, EmailMessage | None]:
    """The plain text, the HTML and the invite attachment of a message."""
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and html is not None, msg
    invite = next((p for p in msg.iter_attachments() if p.get_filename() == "invite.ics"), None)
    return text.get_content(), html.get_content(), invite


def calendar_of(invite: EmailMessage) -> icalendar.Calendar:
    assert invite.get_content_type() == "text/calendar"
    raw = invite.get_content()
    return icalendar.Calendar.from_ical(raw if isinstance(raw, str) else raw.decode())


def only_event(cal: icalendar.Calendar) -> Any:
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    assert len(events) == 1, cal
    return events[0]


def test_a_booking_mails_the_booker_a_confirmation_with_an_invite_and_the_owner_a_notice(
        database_url: str, tmp_path: Any, inbox: Inbox) -> None:
    server = mail_server(database_url, tmp_path, inbox)
    try:
        owner_email, token = server.owner("bob")
        app = server.appointment(token)
        start = server.first_slot(app["app_code"])
        guest = f"jane-{uuid.uuid4().hex[:8]}@example.com"
        booking = server.book(app["app_code"], start, guest)
        code = booking["booking_code"]

        got = inbox.take(2)
        assert sorted(got) == sorted([guest, owner_email]), got
        [confirmation] = got[guest]
        assert confirmation["From"] == "Corner Barber <bookings@barber.example>"
        assert confirmation["To"].addresses[0].addr_spec == guest
        assert confirmation["Reply-To"].addresses[0].addr_spec == owner_email
        assert confirmation["Subject"].startswith("Booked: Consultation, ")
        assert confirmation["Message-ID"]
        text, html, invite = parts(confirmation)
        assert code in text and code in html
        assert f"https://book.barber.example/bookings/{code}" in text
        assert "Jane Smith" in html
        assert invite is not None
        assert invite.get_param("method") == "REQUEST"
        cal = calendar_of(invite)
        assert str(cal["METHOD"]) == "REQUEST"
        event = only_event(cal)
        booked_at = datetime.fromisoformat(start.replace("Z", "+00:00"))
        assert event.decoded("DTSTART") == booked_at
        assert event.decoded("DTEND") == booked_at + timedelta(hours=1)
        assert str(event["ORGANIZER"]) == f"mailto:{owner_email}"
        assert str(event["ATTENDEE"]) == f"mailto:{guest}"
        assert str(event["SUMMARY"]) == "Consultation"
        uid, sequence = str(event["UID"]), int(event["SEQUENCE"])

        [notice] = got[owner_email]
        assert notice["Subject"].startswith("New booking: Consultation, ")
        assert notice["Reply-To"].addresses[0].addr_spec == guest
        text, _, invite = parts(notice)
        assert guest in text and invite is None
        # The booker's code is theirs: the owner's notice does not carry it.
        assert code not in text

        # Cancelling mails the booker a withdrawal of the same event.
        server.ok("DELETE", f"/bookings/{code}")
        rcpts, cancelled = inbox.next()
        assert rcpts == [guest]
        assert cancelled["Subject"].startswith("Cancelled: Consultation, ")
        _, _, invite = parts(cancelled)
        assert invite is not None and invite.get_param("method") == "CANCEL"
        event = only_event(calendar_of(invite))
        assert str(event["UID"]) == uid
        assert int(event["SEQUENCE"]) >= sequence
        assert str(event["STATUS"]) == "CANCELLED"
    finally:
        server.process.kill()


def test_a_waiting_place_is_mailed_the_offer_of_freed_seats(
        database_url: str, tmp_path: Any, inbox: Inbox) -> None:
    server = mail_server(database_url, tmp_path, inbox)
    try:
        _, token = server.owner("bob")
        app = server.appointment(token, type="single", max_attendees=1)
        start = server.first_slot(app["app_code"])
        first = f"first-{uuid.uuid4().hex[:8]}@example.com"
        code = server.book(app["app_code"], start, first)["booking_code"]
        waiting = f"waiting-{uuid.uuid4().hex[:8]}@example.com"
        place = server.ok("POST", "/waitlist", {
            "app_code": app["app_code"], "start_time": start, "attendee_count": 1,
            "name": "Wendy Wait", "email": waiting}, status=201)["waitlist_code"]
        inbox.take(2)  # the first booking's confirmation and notice
        server.ok("DELETE", f"/bookings/{code}")
        got = inbox.take(2)  # the cancellation, and the offer
        [offer] = got[waiting]
        assert offer["Subject"].startswith("A place is free: Consultation, ")
        text, html, invite = parts(offer)
        assert place in text and place in html and invite is None
        assert f"https://book.barber.example/waitlist/{place}" in text
        state = server.ok("GET", f"/waitlist/{place}")
        assert state["status"] == "offered"
        assert "Wendy Wait" in text
    finally:
        server.process.kill()


def test_a_reminder_comes_before_the_slot_and_none_for_a_booking_cancelled_meanwhile(
        database_url: str, tmp_path: Any, inbox: Inbox) -> None:
    # The appointment's first slot is tomorrow at 09:00 UTC: a lead time that makes its
    # reminders due a few seconds after the bookings below are made.
    first = datetime.combine(datetime.now(timezone.utc).date() + timedelta(days=1),
                             datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=9)
    lead = int((first - datetime.now(timezone.utc)).total_seconds()) - 12
    server = mail_server(database_url, tmp_path, inbox, MAIL_REMINDERS=f"{lead}s",
                         METRICS_TOKEN="metrics-" + uuid.uuid4().hex)
    try:
        _, token = server.owner("bob")
        app = server.appointment(token)
        start = server.first_slot(app["app_code"])
        assert datetime.fromisoformat(start.replace("Z", "+00:00")) == first
        kept, dropped = (f"{n}-{uuid.uuid4().hex[:8]}@example.com" for n in ("kept", "dropped"))
        server.book(app["app_code"], start, kept)
        code = server.book(app["app_code"], start, dropped)["booking_code"]
        server.ok("DELETE", f"/bookings/{code}")
        # Two confirmations, two owner notices, one cancellation: then the reminder.
        got = inbox.take(5)
        assert len(got[kept]) == 1 and len(got[dropped]) == 2, got
        rcpts, reminder = inbox.next(timeout=60)
        assert rcpts == [kept]
        assert reminder["Subject"].startswith("Reminder: Consultation, ")
        text, _, invite = parts(reminder)
        assert "in about" in text and invite is None
        # The cancelled booking's reminder came due too, and was skipped, not sent.
        server.wait_for_metric('appointment_mail_messages_total{result="skipped"}', 1)
        assert inbox.got.empty()
    finally:
        server.process.kill()


def test_a_deferred_message_is_sent_again_and_a_refused_one_is_not(
        database_url: str, tmp_path: Any, inbox: Inbox) -> None:
    server = mail_server(database_url, tmp_path, inbox, MAIL_RETRY_SCHEDULE="0.2,0.2",
                         METRICS_TOKEN="metrics-" + uuid.uuid4().hex)
    try:
        _, token = server.owner("bob")
        app = server.appointment(token)
        start = server.first_slot(app["app_code"])
        deferred, refused = (f"{n}-{uuid.uuid4().hex[:8]}@example.com"
                             for n in ("deferred", "refused"))
        inbox.refuse[deferred] = ["451 4.3.0 try again later"]
        inbox.refuse[refused] = ["550 5.1.1 no such mailbox"] * 5
        server.book(app["app_code"], start, deferred)
        server.book(app["app_code"], start, refused)
        got = inbox.take(3)  # the deferred confirmation, on its second attempt, and two notices
        assert len(got.get(deferred, [])) == 1, got
        assert refused not in got
        server.wait_for_metric('appointment_mail_messages_total{result="failed"}', 1)
        server.wait_for_metric('appointment_mail_messages_total{result="retry"}', 1)
        assert inbox.refuse[refused] == ["550 5.1.1 no such mailbox"] * 4, "tried once only"
    finally:
        server.process.kill()


def test_an_account_verifies_its_address_by_the_mailed_link_before_booking_strict_appointments(
        database_url: str, tmp_path: Any, inbox: Inbox) -> None:
    server = mail_server(database_url, tmp_path, inbox)
    try:
        owner_email, owner_token = server.owner("bob")
        app = server.appointment(owner_token, anti_scalping_level="strict")
        start = server.first_slot(app["app_code"])
        ann_email, ann_token = server.owner("ann")
        links = {}
        for _ in range(2):
            rcpts, msg = inbox.verifications.get(timeout=30)
            text, html, invite = parts(msg)
            found = re.search(r"https://book\.barber\.example/users/verify-email\?token=(\S+)", text)
            assert found and found.group(0) in html.replace("&#x2f;", "/"), text
            assert invite is None
            links[rcpts[0]] = found.group(1)
        assert sorted(links) == sorted([owner_email, ann_email])

        device = server.ok("POST", "/auth/device-token", {"device_id": "ann-phone"},
                           ann_token)["device_token"]
        booking = {"app_code": app["app_code"], "start_time": start, "attendee_count": 1,
                   "device_token": device}
        status, answer = server.call("POST", "/appointments/book/registered", booking, ann_token)
        assert (status, answer["code"]) == (403, "email_not_verified"), answer

        status, answer = server.call("GET", "/users/verify-email?token=" + links[ann_email][:-2])
        assert (status, answer["code"]) == (400, "invalid_input"), answer
        # Ann's own link verifies her address.
        user = server.ok("GET", "/users/verify-email?token=" + links[ann_email])
        assert (user["email"], user["email_verified"]) == (ann_email, True)
        assert server.ok("POST", "/login", {"email": ann_email, "password": "securepass123"}
                         )["user"]["email_verified"] is True
        server.ok("POST", "/appointments/book/registered", booking, ann_token, status=201)

        # Asking again: nothing for a verified address, nothing twice within the hour.
        assert "already" in server.ok("POST", "/users/me/verify-email", token=ann_token)["message"]
        assert "within the hour" in server.ok("POST", "/users/me/verify-email",
                                              token=owner_token)["message"]
        assert inbox.verifications.empty()
    finally:
        server.process.kill()


def test_without_smtp_email_is_off_and_says_so(database_url: str, tmp_path: Any) -> None:
    server = start_server(database_url, str(tmp_path))
    try:
        assert any("email: off" in line for line in server.log), server.log
        _, token = server.owner("bob")
        app = server.appointment(token)
        server.book(app["app_code"], server.first_slot(app["app_code"]), "x@example.com")
        status, answer = server.call("POST", "/users/me/verify-email", token=token)
        assert (status, answer["code"]) == (409, "email_off"), answer
        # Without email nobody could verify: strict appointments take unverified users.
        user_email, user_token = server.owner("ann")
        strict = server.appointment(token, anti_scalping_level="strict")
        device = server.ok("POST", "/auth/device-token", {"device_id": "ann-phone"},
                           user_token)["device_token"]
        server.ok("POST", "/appointments/book/registered", {
            "app_code": strict["app_code"], "start_time": server.first_slot(strict["app_code"]),
            "attendee_count": 1, "device_token": device}, user_token, status=201)
    finally:
        server.process.kill()

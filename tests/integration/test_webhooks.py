"""Webhooks checked by the Standard Webhooks reference verifier (the `standardwebhooks`
package): every request the server sends verifies with the endpoint's secret, a tampered one
does not, and a booking's events arrive in order."""

from __future__ import annotations

import json

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from conftest import Receiver, Server


def test_deliveries_verify_with_the_reference_verifier(server: Server, receiver: Receiver) -> None:
    _, token = server.owner()
    created = server.ok("POST", "/webhooks", {"url": receiver.url}, token, status=201)
    secret = created["secret"]
    assert secret.startswith("whsec_")
    app = server.appointment(token)
    code = app["app_code"]
    booking = server.book(code, server.first_slot(code), "guest@example.com")
    server.ok("DELETE", f"/bookings/{booking['booking_code']}")

    verifier = Webhook(secret)
    seen = []
    for _ in range(3):
        r = receiver.next()
        payload = verifier.verify(r.body, r.headers)
        assert payload["id"] == r.headers["webhook-id"]
        seen.append(payload)
    types = [p["type"] for p in seen]
    assert sorted(types) == ["appointment.created", "booking.cancelled", "booking.created"]
    # One subject's events arrive in order (different subjects may be sent side by side).
    assert types.index("booking.created") < types.index("booking.cancelled")
    made = seen[types.index("booking.created")]
    assert made["data"]["booking_code"] == booking["booking_code"]
    assert made["data"]["email"] == "guest@example.com"
    assert seen[types.index("booking.cancelled")]["data"]["status"] == "cancelled"

    # The reference verifier refuses what was not signed with the secret.
    last = seen[-1]
    tampered = json.dumps({**last, "type": "booking.created"}).encode()
    with pytest.raises(WebhookVerificationError):
        verifier.verify(tampered, r.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(r.body, r.headers)


def test_a_test_message_verifies(server: Server, receiver: Receiver) -> None:
    _, token = server.owner()
    created = server.ok("POST", "/webhooks", {"url": receiver.url}, token, status=201)
    queued = server.ok("POST", f"/webhooks/{created['id']}/test", None, token, status=202)
    r = receiver.next()
    payload = Webhook(created["secret"]).verify(r.body, r.headers)
    assert payload["type"] == "webhook.test"
    assert r.headers["webhook-id"] == queued["event_id"]

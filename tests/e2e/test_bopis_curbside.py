"""Buy online, pick up in store, and curbside, over real HTTP with real email (a local SMTP
server): the order, the ready-for-pickup email with its QR code and link, the customer's
"I'm here", the store's event stream hearing it, and the handover by the link's code."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import time
from decimal import Decimal

import httpx
import pytest
from aiosmtpd.controller import Controller

from omnitill.services.pickups import CustomerNotifier
from tests.factories import make_location, make_variant, token_for

NYC = {"latitude": Decimal("40.7580"), "longitude": Decimal("-73.9855")}


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


@pytest.fixture
def inbox(app, settings):
    handler = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.state.notifier = CustomerNotifier(
        settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
    )
    yield handler
    controller.stop()


def wait_for(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_curbside_pickup_from_order_to_handover(live_server, inbox, db, settings):
    s01 = make_location(db, "S01", ships=True, offers_pickup=True, offers_curbside=True, **NYC)
    make_variant(db, sku="LAMP", price=4500, stock={s01: 3})
    web = token_for(db, settings, "web", "manager")
    clerk = token_for(db, settings, "clerk", "cashier", ["S01"])
    http = httpx.Client(base_url=live_server, timeout=10)
    placed = http.post(
        "/api/v1/orders",
        headers=web,
        json={
            "channel": "web",
            "customer_name": "Ada Lovelace",
            "email": "ada@example.com",
            "phone": "+12125550123",
            "pickup_location": "S01",
            "lines": [{"sku": "LAMP", "quantity": 1, "method": "curbside"}],
        },
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    fid = order["fulfillments"][0]["id"]
    base = f"/api/v1/orders/{order['id']}/fulfillments/{fid}"
    assert http.post(f"{base}/pick", headers=clerk).status_code == 200
    ready = http.post(f"{base}/ready", headers=clerk)
    assert ready.status_code == 200, ready.text

    message = wait_for(lambda: inbox.messages and inbox.messages[0])
    assert message["To"] == "ada@example.com"
    assert order["number"] in message["Subject"]
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"http://\S+/pickup/([A-Za-z0-9_-]+)", text)
    assert link, text
    code = link.group(1)
    qr = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert qr
    assert qr[0]["Content-ID"].strip("<>") in html
    assert "#arrived" in text  # the curbside "I'm here" link

    page = http.get(f"/pickup/{code}")
    assert page.status_code == 200
    assert "I'm here" in page.text
    assert order["number"] in page.text
    assert http.get("/pickup/not-a-code").status_code == 404

    with http.stream(
        "GET",
        "/api/v1/events/stream",
        headers={**clerk, "Accept": "text/event-stream"},
        params={"location": "S01", "topics": "order.customer_arrived"},
    ) as stream:
        arrived = http.post(f"/api/v1/pickups/{code}/arrival", json={"bay": "4", "car": "red Mini"})
        assert arrived.status_code == 200, arrived.text
        assert arrived.json()["arrival_bay"] == "4"
        data = None
        for line in stream.iter_lines():
            if line.startswith("data:"):
                data = line
                break
    assert data is not None
    assert '"bay": "4"' in data or '"bay":"4"' in data

    got = http.get(f"/api/v1/orders/{order['id']}", headers=clerk).json()
    assert got["fulfillments"][0]["arrival_car"] == "red Mini"
    # pay at the curb: the order was not paid online, so the handover waits for payment
    due = http.post(f"{base}/pick_up", headers=clerk, json={"pickup_code": code})
    assert due.status_code == 409
    assert due.json()["code"] == "order.balance_due"
    wrong = http.post(f"{base}/pick_up", headers=clerk, json={"pickup_code": "nope"})
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "order.pickup_code_mismatch"

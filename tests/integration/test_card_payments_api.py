"""Card payments over the API with the sandbox processor: approvals, declines, lost
answers resolved by idempotency key, capture and void, and never a card number stored."""

from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import MetaData, func, select, text

from omnitill.adapters.db.models import Payment, PaymentEvent
from omnitill.adapters.payments.sandbox import SandboxGateway, SandboxTerminal
from omnitill.domain.payments.cards import find_pans
from omnitill.domain.payments.gateway import GatewayTimeout
from tests.factories import make_location, make_register, token_for

VISA = "4242424242424242"


@pytest.fixture
def shop(client, db, settings):
    s01 = make_location(db, "S01")
    make_register(db, s01, "S01-R1")
    gateway = SandboxGateway(settings.data_dir / "sandbox.db")
    client.app.state.gateway = gateway
    return {
        "headers": token_for(db, settings, "c1", "cashier", ["S01"]),
        "manager": token_for(db, settings, "m1", "manager", ["S01"]),
        "gateway": gateway,
        "terminal": SandboxTerminal(gateway.public_key_pem()),
    }


def pay(client, shop, pan=VISA, *, amount=2599, sale_id="new", pid=None, **extra):
    body = {
        "id": str(pid or uuid.uuid4()),
        "register": "S01-R1",
        "sale_id": str(uuid.uuid4()) if sale_id == "new" else sale_id and str(sale_id),
        "amount": amount,
        "payment_data": shop["terminal"].read_card(pan, 12, 2031),
        "entry_mode": "emv_chip",
        **extra,
    }
    return client.post("/api/v1/payments", headers=shop["headers"], json=body)


def count(db, model, *where):
    with db.uow(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def test_an_approved_chip_payment_keeps_the_last_four_and_replays_once(client, db, shop):
    pid = uuid.uuid4()
    r = pay(client, shop, pid=pid)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "captured"
    assert body["card"] == {
        "brand": "visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2031,
        "entry_mode": "emv_chip",
    }
    assert len(body["auth_code"]) == 6
    again = pay(client, shop, pid=pid, sale_id=body["sale_id"])
    assert again.status_code == 201
    assert again.json()["id"] == body["id"]
    assert shop["gateway"].calls.count("authorize") == 1  # charged once
    with db.uow(write=False) as uow:
        stored = uow.session.get(Payment, pid)
    assert stored.card_fingerprint
    assert stored.card_token.startswith("tok_")


@pytest.mark.parametrize(
    ("pan", "code"),
    [
        ("4000000000009995", "insufficient_funds"),
        ("4000000000000069", "expired_card"),
        ("4000000000000002", "do_not_honour"),
        ("4100000000000019", "suspected_fraud"),
    ],
)
def test_a_decline_is_recorded_and_leaves_the_sale_open(client, db, shop, pan, code):
    sale_id = uuid.uuid4()
    r = pay(client, shop, pan, sale_id=sale_id)
    assert r.status_code == 402
    problem = r.json()
    assert problem["code"] == "payment.declined"
    assert problem["details"]["decline_code"] == code
    attempts = client.get(
        "/api/v1/payments", params={"sale_id": str(sale_id)}, headers=shop["headers"]
    ).json()["items"]
    assert [(a["status"], a["decline_code"]) for a in attempts] == [("declined", code)]
    ok = pay(client, shop, sale_id=sale_id)
    assert ok.status_code == 201
    attempts = client.get(
        "/api/v1/payments", params={"sale_id": str(sale_id)}, headers=shop["headers"]
    ).json()["items"]
    assert [a["status"] for a in attempts] == ["declined", "captured"]


def test_a_lost_answer_is_resolved_by_idempotency_key_and_never_charges_twice(client, db, shop):
    r = pay(client, shop, "4000000000000259")
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "captured"
    assert shop["gateway"].calls == ["authorize", "lookup"]
    pid = uuid.UUID(r.json()["id"])
    with db.uow(write=False) as uow:
        kinds = list(
            uow.session.scalars(
                select(PaymentEvent.kind)
                .where(PaymentEvent.payment_id == pid)
                .order_by(PaymentEvent.id)
            )
        )
    assert kinds == ["timeout", "resolve"]


class Unreachable:
    """A network that loses every request before it reaches the processor."""

    name = "sandbox"

    def __init__(self, real):
        self.real = real
        self.up = False

    def authorize(self, **kw):
        if not self.up:
            raise GatewayTimeout("lost")
        return self.real.authorize(**kw)

    def lookup(self, **kw):
        if not self.up:
            raise GatewayTimeout("lost")
        return self.real.lookup(**kw)


def test_an_unknown_outcome_is_answered_504_and_resolved_later(client, db, shop):
    net = Unreachable(shop["gateway"])
    client.app.state.gateway = net
    r = pay(client, shop)
    assert r.status_code == 504
    assert r.json()["code"] == "payment.outcome_unknown"
    pid = r.json()["details"]["payment_id"]
    assert client.get(f"/api/v1/payments/{pid}", headers=shop["headers"]).json()["status"] == (
        "unknown"
    )
    still = client.post(f"/api/v1/payments/{pid}/resolve", headers=shop["headers"])
    assert still.status_code == 504
    net.up = True
    resolved = client.post(f"/api/v1/payments/{pid}/resolve", headers=shop["headers"])
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "failed"  # never reached the processor: no charge
    assert shop["gateway"].calls == ["lookup"]


def test_authorize_then_capture_or_void_follow_the_life_cycle(client, db, shop):
    held = pay(client, shop, capture=False, order_id=str(uuid.uuid4()), sale_id=None)
    assert held.status_code == 201, held.text
    assert held.json()["status"] == "authorized"
    pid = held.json()["id"]
    captured = client.post(
        f"/api/v1/payments/{pid}/capture", headers=shop["headers"], json={"amount": 2000}
    )
    assert (captured.json()["status"], captured.json()["amount"]) == ("captured", 2000)
    refused = client.post(f"/api/v1/payments/{pid}/void", headers=shop["headers"])
    assert refused.status_code == 409
    assert refused.json()["code"] == "payment.not_voidable"
    oid = pay(client, shop, capture=False).json()["id"]
    voided = client.post(f"/api/v1/payments/{oid}/void", headers=shop["headers"])
    assert voided.json()["status"] == "voided"
    late = client.post(f"/api/v1/payments/{oid}/capture", headers=shop["headers"], json={})
    assert late.status_code == 409
    assert late.json()["code"] == "payment.capture_after_void"


def test_bad_requests_write_nothing_and_unreadable_data_is_a_failed_attempt(client, db, shop):
    r = pay(client, shop, amount=0, entry_mode="telepathy")
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["amount", "entry_mode"]
    assert count(db, Payment) == 0
    pid = uuid.uuid4()
    pay(client, shop, pid=pid, amount=100)
    reused = pay(client, shop, pid=pid, amount=999)
    assert reused.json()["code"] == "payment.id_reused"
    r = client.post(
        "/api/v1/payments",
        headers=shop["headers"],
        json={
            "id": str(uuid.uuid4()),
            "register": "S01-R1",
            "sale_id": str(uuid.uuid4()),
            "amount": 100,
            "payment_data": "garbage",
            "entry_mode": "keyed",
        },
    )
    assert r.status_code == 422
    assert r.json()["code"] == "payment.failed"
    assert count(db, Payment, Payment.status == "failed") == 1


def test_no_card_number_is_stored_or_logged_anywhere(client, db, shop, settings, caplog):
    caplog.set_level(logging.DEBUG)
    cards = [VISA, "5555555555554444", "378282246310005", "4000000000009995", "4000000000000259"]
    for pan in cards * 3:
        pay(client, shop, pan)
    dumps = []
    with db.uow(write=False) as uow:
        meta = MetaData()
        meta.reflect(bind=uow.connection)
        for table in meta.sorted_tables:
            for row in uow.connection.execute(select(table)):
                dumps.append(repr(tuple(row)))
        if uow.connection.dialect.name == "sqlite":
            path = uow.connection.execute(text("PRAGMA database_list")).all()[0][2]
            with open(path, "rb") as raw:
                dumps.append(raw.read().decode("latin-1"))
    dumps.append(caplog.text)
    found = [
        (pan, chunk[max(0, chunk.find(pan) - 80) : chunk.find(pan) + 40])
        for chunk in dumps
        for pan in find_pans(chunk)
    ]
    assert found == []
    assert count(db, Payment) == 15

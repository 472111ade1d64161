"""Refunds to the original tender: never more than the payment took, one refund per id."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import select

from omnitill.adapters.db.models import AuditEntry, GiftCard, Payment
from omnitill.adapters.payments.sandbox import SandboxGateway, SandboxTerminal
from omnitill.domain.errors import ValidationFailed
from omnitill.domain.payments.gateway import GatewayTimeout
from omnitill.services import auth, gift_cards, refunds
from tests.factories import (
    PASSWORD,
    make_location,
    make_register,
    make_user,
    make_variant,
    token_for,
)


@pytest.fixture
def shop(client, db, settings):
    s01 = make_location(db, "S01")
    make_register(db, s01, "S01-R1")
    gateway = SandboxGateway(settings.data_dir / "sandbox.db")
    client.app.state.gateway = gateway
    make_user(db, "boss", "manager", ["S01"])
    return {
        "location": s01,
        "cashier": token_for(db, settings, "c1", "cashier", ["S01"]),
        "manager": token_for(db, settings, "m1", "manager", ["S01"]),
        "gateway": gateway,
        "terminal": SandboxTerminal(gateway.public_key_pem()),
    }


def charge(client, shop, amount=5000):
    r = client.post(
        "/api/v1/payments",
        headers=shop["cashier"],
        json={
            "id": str(uuid.uuid4()),
            "register": "S01-R1",
            "sale_id": str(uuid.uuid4()),
            "amount": amount,
            "payment_data": shop["terminal"].read_card("4242424242424242", 12, 2031),
            "entry_mode": "emv_chip",
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def refund(client, headers, payment_id, amount, refund_id=None, reason="returned"):
    return client.post(
        f"/api/v1/payments/{payment_id}/refunds",
        headers=headers,
        json={"id": str(refund_id or uuid.uuid4()), "amount": amount, "reason": reason},
    )


def test_partial_card_refunds_never_exceed_the_payment_and_replay_once(client, db, shop):
    pid = charge(client, shop)
    assert refund(client, shop["cashier"], pid, 100).status_code == 403
    rid = uuid.uuid4()
    first = refund(client, shop["manager"], pid, 2000, rid)
    assert first.status_code == 201, first.text
    assert (first.json()["refunded_total"], first.json()["refundable"]) == (2000, 3000)
    assert first.json()["gateway_reference"].startswith("re_")
    again = refund(client, shop["manager"], pid, 2000, rid)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert shop["gateway"].calls.count("refund") == 1  # one refund at the gateway
    too_much = refund(client, shop["manager"], pid, 3001)
    assert too_much.status_code == 422
    assert too_much.json()["code"] == "refund.exceeds_payment"
    assert too_much.json()["details"]["refundable"] == 3000
    assert refund(client, shop["manager"], pid, 3000).status_code == 201
    reused = refund(client, shop["manager"], pid, 5, rid)
    assert reused.json()["code"] == "refund.id_reused"
    with db.uow(write=False) as uow:
        assert uow.session.get(Payment, uuid.UUID(pid)).refunded_minor == 5000
        audited = uow.session.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "payment.refund")
        ).all()
    assert len(audited) == 2


def test_a_cashier_refunds_with_a_manager_override(client, db, shop):
    pid = charge(client, shop)
    grant = client.post(
        "/api/v1/overrides",
        headers=shop["cashier"],
        json={
            "manager_username": "boss",
            "manager_password": PASSWORD,
            "permission": "payments.refund",
            "reason": "wrong size",
        },
    ).json()
    r = client.post(
        f"/api/v1/payments/{pid}/refunds",
        headers={**shop["cashier"], "X-Manager-Override": grant["override_token"]},
        json={"id": str(uuid.uuid4()), "amount": 500, "reason": "wrong size"},
    )
    assert r.status_code == 201, r.text


def test_a_refund_whose_answer_was_lost_is_sent_again_with_the_same_key(client, db, shop):
    pid = charge(client, shop)
    real = shop["gateway"]

    class LosesOneAnswer:
        name = "sandbox"

        def __init__(self):
            self.lost = 0

        def refund(self, **kw):
            result = real.refund(**kw)
            if self.lost < 3:  # the processor refunds, the answer never arrives
                self.lost += 1
                raise GatewayTimeout("lost")
            return result

        def lookup(self, **kw):
            raise GatewayTimeout("still lost")

    client.app.state.gateway = LosesOneAnswer()
    rid = uuid.uuid4()
    unknown = refund(client, shop["manager"], pid, 1500, rid)
    assert unknown.status_code == 504
    assert unknown.json()["code"] == "refund.outcome_unknown"
    client.app.state.gateway = real
    settled = refund(client, shop["manager"], pid, 1500, rid)
    assert settled.status_code == 201, settled.text
    assert settled.json()["refunded_total"] == 1500
    # the processor saw the same key each time: one refund of 15.00, not four
    assert refund(client, shop["manager"], pid, 3501).json()["code"] == "refund.exceeds_payment"


def test_a_gift_card_payment_is_refunded_onto_the_card(client, db, shop):
    make_variant(db, sku="MUG", price=600, stock={shop["location"]: 5})
    gift = client.post(
        "/api/v1/gift-cards", headers=shop["manager"], json={"currency": "USD", "amount": 1000}
    ).json()
    sale_id = uuid.uuid4()
    sale = client.post(
        "/api/v1/sales",
        headers=shop["cashier"],
        json={
            "id": str(sale_id),
            "location": "S01",
            "register": "S01-R1",
            "lines": [{"sku": "MUG", "quantity": 1}],
            "payments": [{"method": "gift_card", "amount": 653, "code": gift["code"]}],
        },
    )
    assert sale.status_code == 201, sale.text
    pid = sale.json()["payments"][0]["payment_id"]
    r = refund(client, shop["manager"], pid, 400)
    assert r.status_code == 201, r.text
    assert r.json()["method"] == "gift_card"
    with db.uow(write=False) as uow:
        assert uow.session.scalars(select(GiftCard.balance_minor)).one() == 1000 - 653 + 400
    assert refund(client, shop["manager"], pid, 254).json()["code"] == "refund.exceeds_payment"
    assert gift_cards.verify(db=db) == []


def test_cash_is_refunded_at_a_register_not_here(client, db, shop):
    make_variant(db, sku="MUG", price=600, stock={shop["location"]: 5})
    sale = client.post(
        "/api/v1/sales",
        headers=shop["cashier"],
        json={
            "id": str(uuid.uuid4()),
            "location": "S01",
            "register": "S01-R1",
            "lines": [{"sku": "MUG", "quantity": 1}],
            "payments": [{"method": "cash", "amount": 1000}],
        },
    ).json()
    r = refund(client, shop["manager"], sale["payments"][0]["payment_id"], 100)
    assert r.status_code == 409
    assert r.json()["code"] == "refund.not_supported"


def test_two_refunds_racing_never_exceed_what_the_payment_took(client, db, shop, settings):
    pid = uuid.UUID(charge(client, shop, amount=1000))
    make_user(db, "m9", "manager", [])
    issued = auth.login(db=db, settings=settings, username="m9", password=PASSWORD)
    actor = auth.resolve_token(db=db, token=issued.access_token)
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            refunds.refund(
                db=db,
                actor=actor,
                gateway=shop["gateway"],
                payment_id=pid,
                refund_id=uuid.uuid4(),
                amount=400,
                reason="race",
            )
            outcomes.append("ok")
        except ValidationFailed as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert outcomes.count("ok") == 2
    assert outcomes.count("refund.exceeds_payment") == 4
    with db.uow(write=False) as uow:
        assert uow.session.get(Payment, pid).refunded_minor == 800

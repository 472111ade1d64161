"""A cancelled layaway gives back what it took at registers, each tender where it came from
(services/order_deposit_refunds.py), on SQLite and PostgreSQL: cash and QR from the drawer,
gift card and store credit to their ledgers, card through the gateway; once, even when
called again or after the order's own card settlement."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from omnitill.adapters.db.models import (
    CashMovement,
    GiftCard,
    Order,
    OrderEvent,
    Payment,
    PaymentEvent,
    StoreCreditAccount,
)
from omnitill.adapters.payments.sandbox import SandboxGateway, SandboxTerminal
from omnitill.domain.errors import Conflict
from omnitill.services import auth, gift_cards, order_payments, order_reroute, store_credit
from omnitill.services.order_deposit_refunds import refund_order_payments
from omnitill.services.qr_payments import sign
from tests.factories import (
    PASSWORD,
    make_customer,
    make_location,
    make_register,
    make_variant,
    token_for,
)


@pytest.fixture
def shop(client, db, settings):
    s01 = make_location(db, "S01", tax_rate="0", offers_pickup=True)
    make_register(db, s01, "S01-R1")
    make_variant(db, sku="TEE", price=2000, stock={s01: 10})
    gateway = SandboxGateway(settings.data_dir / "sandbox.db")
    client.app.state.gateway = gateway
    manager = token_for(db, settings, "boss", "manager")
    issued = auth.login(db=db, settings=settings, username="boss", password=PASSWORD)
    return {
        "cashier": token_for(db, settings, "clerk1", "cashier", ["S01"]),
        "manager": manager,
        "actor": auth.resolve_token(db=db, token=issued.access_token),
        "gateway": gateway,
        "terminal": SandboxTerminal(gateway.public_key_pem()),
        "customer": make_customer(db),
    }


def open_shift(client, shop):
    r = client.post(
        "/api/v1/shifts",
        headers=shop["cashier"],
        json={"register": "S01-R1", "denominations": {"1000": 10}},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def layaway(client, shop):
    r = client.post(
        "/api/v1/orders",
        headers=shop["cashier"],
        json={
            "channel": "in_store",
            "kind": "layaway",
            "register": "S01-R1",
            "customer": str(shop["customer"].id),
            "customer_name": "Ada Lovelace",
            "email": "ada@example.com",
            "pickup_location": "S01",
            "lines": [{"sku": "TEE", "quantity": 5, "method": "pickup"}],
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def pay(client, shop, order_id, tender, amount=None):
    body = {"id": str(uuid.uuid4()), "register": "S01-R1", "payments": [tender]}
    if amount is not None:
        body["amount"] = amount
    r = client.post(f"/api/v1/orders/{order_id}/payments", headers=shop["cashier"], json=body)
    assert r.status_code == 201, r.text


def card_for(client, shop, order_id, amount):
    r = client.post(
        "/api/v1/payments",
        headers=shop["cashier"],
        json={
            "id": str(uuid.uuid4()),
            "register": "S01-R1",
            "order_id": order_id,
            "amount": amount,
            "payment_data": shop["terminal"].read_card("4242424242424242", 12, 2031),
            "entry_mode": "nfc_tap",
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def qr_for(client, shop, settings, order_id, amount):
    r = client.post(
        "/api/v1/qr-payments",
        headers=shop["cashier"],
        json={
            "id": str(uuid.uuid4()),
            "register": "S01-R1",
            "order_id": order_id,
            "amount": amount,
        },
    )
    assert r.status_code == 201, r.text
    token = r.json()["url"].rsplit("/", 1)[1]
    raw = json.dumps({"token": token, "status": "paid", "provider_reference": "p1"}).encode()
    paid = client.post(
        "/api/v1/qr-payments/callback",
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-Omnitill-Signature": sign(settings.resolved_qr_callback_secret, raw),
        },
    )
    assert paid.json()["status"] == "captured", paid.text
    return r.json()["payment"]["id"]


def gift_card(client, shop, amount):
    r = client.post(
        "/api/v1/gift-cards", headers=shop["cashier"], json={"currency": "USD", "amount": amount}
    )
    assert r.status_code == 201, r.text
    return r.json()["code"]


def cancel(client, shop, order_id):
    r = client.post(
        f"/api/v1/orders/{order_id}/cancel",
        headers=shop["manager"],
        json={"reason": "changed mind"},
    )
    assert r.status_code == 200, r.text
    return r.json()


def refund(db, shop, order_id):
    return refund_order_payments(
        db=db,
        actor=shop["actor"],
        gateway=shop["gateway"],
        order_id=uuid.UUID(order_id),
        register="S01-R1",
    )


def scalar(db, stmt):
    with db.uow(write=False) as uow:
        return uow.session.scalar(stmt)


def test_a_cancelled_layaway_gives_every_tender_back_where_it_came_from(client, db, shop, settings):
    sid = open_shift(client, shop)
    customer = shop["customer"].id
    client.post(
        f"/api/v1/customers/{customer}/store-credit",
        headers=shop["manager"],
        json={"currency": "USD", "amount": 2000, "reason": "goodwill"},
    ).raise_for_status()
    oid = layaway(client, shop)
    pay(client, shop, oid, {"method": "cash", "amount": 5000}, amount=2000)
    pay(
        client,
        shop,
        oid,
        {"method": "gift_card", "amount": 1500, "code": gift_card(client, shop, 1500)},
    )
    pay(client, shop, oid, {"method": "store_credit", "amount": 1000})
    card = card_for(client, shop, oid, 2500)
    pay(client, shop, oid, {"method": "card", "amount": 2500, "payment_id": card})
    qr = qr_for(client, shop, settings, oid, 1000)
    pay(client, shop, oid, {"method": "qr", "amount": 1000, "payment_id": qr})
    # Cancelling gives every tender back at the register that took the layaway; the card
    # through the gateway, cash and the QR payment as cash from the drawer.
    cancelled = cancel(client, shop, oid)
    assert cancelled["status"] == "cancelled"
    assert (cancelled["paid"], cancelled["refunded"]) == (0, 8000)
    refunds = [e["data"] for e in cancelled["timeline"] if e["kind"] == "refund_issued"]
    assert sorted((d["method"], d["given_as"], d["amount"]) for d in refunds) == [
        ("card", "card", 2500),
        ("cash", "cash", 2000),
        ("gift_card", "gift_card", 1500),
        ("qr", "cash", 1000),
        ("store_credit", "store_credit", 1000),
    ]
    with db.uow(write=False) as uow:
        left = uow.session.execute(
            select(Payment.method, Payment.amount_minor - Payment.refunded_minor).where(
                Payment.order_id == uuid.UUID(oid)
            )
        ).all()
        drawer = uow.session.scalars(
            select(CashMovement.amount_minor).where(CashMovement.kind == "refund")
        ).all()
        card_refunds = uow.session.scalar(
            select(func.count())
            .select_from(PaymentEvent)
            .where(PaymentEvent.payment_id == uuid.UUID(card), PaymentEvent.kind == "refund")
        )
    assert sorted(left) == [
        ("card", 0),
        ("cash", 0),
        ("gift_card", 0),
        ("qr", 0),
        ("store_credit", 0),
    ]
    assert sorted(drawer) == [-2000, -1000]
    assert card_refunds == 1
    assert scalar(db, select(GiftCard.balance_minor)) == 1500
    assert gift_cards.verify(db=db) == []
    assert scalar(db, select(StoreCreditAccount.balance_minor)) == 2000
    assert store_credit.verify(db=db) == []
    x = client.get(f"/api/v1/shifts/{sid}/x-report", headers=shop["manager"]).json()
    assert x["expected"]["cash"] == 10000 + 2000 - 3000
    assert x["cash_movements"]["refund"] == -3000

    again = refund(db, shop, oid)
    assert again.refunds == ()
    assert (again.order.paid, again.order.refunded) == (0, 8000)
    assert scalar(db, select(func.count()).select_from(CashMovement)) == 4  # float, sale, 2 out


def test_the_card_goes_back_through_the_gateway_once(client, db, shop):
    oid = layaway(client, shop)
    card = card_for(client, shop, oid, 3000)
    pay(client, shop, oid, {"method": "card", "amount": 3000, "payment_id": card})
    order_reroute.cancel(db=db, actor=shop["actor"], order_id=uuid.UUID(oid), reason="gone")

    result = refund(db, shop, oid)
    assert [(r.method, r.amount) for r in result.refunds] == [("card", 3000)]
    assert (result.order.paid, result.order.refunded) == (0, 3000)
    after = order_payments.settle(
        db=db, actor=shop["actor"], gateway=shop["gateway"], order_id=uuid.UUID(oid)
    )
    assert (after.paid, after.refunded) == (0, 3000)
    with db.uow(write=False) as uow:
        payment = uow.session.get_one(Payment, uuid.UUID(card))
        events = uow.session.scalars(
            select(PaymentEvent.kind).where(PaymentEvent.payment_id == payment.id)
        ).all()
        booked = uow.session.scalar(
            select(func.count())
            .select_from(OrderEvent)
            .where(OrderEvent.order_id == uuid.UUID(oid), OrderEvent.kind == "refund_issued")
        )
    assert payment.refunded_minor == 3000
    assert events.count("refund") == 1
    assert booked == 1


def test_cash_needs_an_open_shift_and_nothing_is_refunded_without_one(client, db, shop):
    oid = layaway(client, shop)
    code = gift_card(client, shop, 500)
    pay(client, shop, oid, {"method": "cash", "amount": 2000})
    pay(client, shop, oid, {"method": "gift_card", "amount": 500, "code": code})
    refused = client.post(
        f"/api/v1/orders/{oid}/cancel", headers=shop["manager"], json={"reason": "changed mind"}
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "shift.required"
    assert (
        scalar(db, select(Order.status)) == "layaway"
        or scalar(db, select(Order.cancelled_at)) is None
    )
    assert scalar(db, select(GiftCard.balance_minor)) == 0
    assert scalar(db, select(Order.paid_minor)) == 2500
    assert scalar(db, select(func.sum(Payment.refunded_minor))) == 0

    open_shift(client, shop)
    done = cancel(client, shop, oid)
    assert (done["status"], done["paid"], done["refunded"]) == ("cancelled", 0, 2500)
    assert scalar(db, select(GiftCard.balance_minor)) == 500
    assert refund(db, shop, oid).refunds == ()


def test_only_a_cancelled_order_gives_its_payments_back(client, db, shop):
    oid = layaway(client, shop)
    pay(client, shop, oid, {"method": "cash", "amount": 2000})
    with pytest.raises(Conflict) as refused:
        refund(db, shop, oid)
    assert refused.value.code == "order.not_cancelled"
    assert scalar(db, select(Order.paid_minor)) == 2000

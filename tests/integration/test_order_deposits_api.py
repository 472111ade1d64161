"""Paying orders at a register over HTTP, on SQLite and PostgreSQL: a layaway paid off in
cash, gift card and card then picked up; a backordered special order and its deposit;
refusals that write nothing; the shift's X report; an endless-aisle order paid at the till;
replays."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from omnitill.adapters.db.models import (
    AuditEntry,
    CashMovement,
    GiftCard,
    Order,
    OrderEvent,
    OutboxEvent,
    Payment,
    PaymentEvent,
)
from omnitill.adapters.payments.sandbox import SandboxGateway, SandboxTerminal
from omnitill.domain.errors import ValidationFailed
from omnitill.services import auth, gift_cards, order_deposits
from omnitill.services.sale_payments import TenderRequest
from tests.factories import (
    PASSWORD,
    make_location,
    make_register,
    make_user,
    make_variant,
    token_for,
)

NYC = {"latitude": Decimal("40.7580"), "longitude": Decimal("-73.9855")}
BKN = {"latitude": Decimal("40.6782"), "longitude": Decimal("-73.9442")}
CUSTOMER = {"country": "US", "region": "NY", "latitude": 40.7306, "longitude": -73.9866}


@pytest.fixture
def shop(client, db, settings):
    s01 = make_location(db, "S01", tax_rate="0", ships=True, offers_pickup=True, **NYC)
    s02 = make_location(db, "S02", tax_rate="0", ships=True, offers_pickup=True, **BKN)
    make_register(db, s01, "S01-R1")
    make_register(db, s02, "S02-R1")
    make_variant(db, sku="TEE", price=2000, stock={s01: 10, s02: 10})
    make_variant(db, sku="SOFA", price=90000)  # made to order: no stock anywhere
    make_variant(db, sku="LAMP", price=4500, stock={s02: 2})  # only at the other store
    gateway = SandboxGateway(settings.data_dir / "sandbox.db")
    client.app.state.gateway = gateway
    return {
        "cashier": token_for(db, settings, "clerk1", "cashier", ["S01"]),
        "manager": token_for(db, settings, "boss", "manager"),
        "terminal": SandboxTerminal(gateway.public_key_pem()),
    }


def take_order(client, shop, kind, lines, **extra):
    body = {
        "channel": "in_store",
        "kind": kind,
        "register": "S01-R1",
        "customer_name": "Ada Lovelace",
        "email": "ada@example.com",
        "lines": lines,
        **extra,
    }
    r = client.post("/api/v1/orders", headers=shop["cashier"], json=body)
    assert r.status_code == 201, r.text
    return r.json()


def layaway(client, shop, quantity=5):
    return take_order(
        client,
        shop,
        "layaway",
        [{"sku": "TEE", "quantity": quantity, "method": "pickup"}],
        pickup_location="S01",
    )


def pay(client, shop, order_id, payments, *, amount=None, pid=None, register="S01-R1"):
    body = {"id": str(pid or uuid.uuid4()), "register": register, "payments": payments}
    if amount is not None:
        body["amount"] = amount
    return client.post(f"/api/v1/orders/{order_id}/payments", headers=shop["cashier"], json=body)


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
            "entry_mode": "emv_chip",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "captured"
    return r.json()["id"]


def gift_card(client, shop, amount):
    r = client.post(
        "/api/v1/gift-cards", headers=shop["cashier"], json={"currency": "USD", "amount": amount}
    )
    assert r.status_code == 201, r.text
    return r.json()["code"]


def step(client, headers, order_id, fid, action, **json):
    path = f"/api/v1/orders/{order_id}/fulfillments/{fid}/{action}"
    return client.post(path, headers=headers, json=json or None)


def count(db, model, *where):
    with db.uow(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def kinds(body):
    return [e["kind"] for e in body["timeline"]]


def test_a_layaway_is_paid_off_in_cash_gift_card_and_card_then_picked_up(client, db, shop):
    placed = layaway(client, shop)
    oid, fid = placed["id"], placed["fulfillments"][0]["id"]
    assert (placed["total"], placed["deposit_required"], placed["balance_due"]) == (
        10000,
        2000,
        10000,
    )
    assert placed["status"] == "placed"

    # The 20% deposit, handed over as a 50 note: 30.00 change.
    deposit = pay(client, shop, oid, [{"method": "cash", "amount": 5000}], amount=2000)
    assert deposit.status_code == 201, deposit.text
    d = deposit.json()
    assert (d["amount"], d["tendered"], d["change_due"], d["balance_due"]) == (
        2000,
        5000,
        3000,
        8000,
    )
    assert d["paid_in_full"] is False
    assert [(t["method"], t["amount"], t["change"]) for t in d["tenders"]] == [("cash", 2000, 3000)]
    assert (d["order"]["paid"], d["order"]["balance_due"]) == (2000, 8000)
    assert kinds(d["order"])[-1] == "payment_received"

    code = gift_card(client, shop, 3000)
    second = pay(client, shop, oid, [{"method": "gift_card", "amount": 3000, "code": code}])
    assert second.status_code == 201, second.text
    assert second.json()["balance_due"] == 5000

    step(client, shop["cashier"], oid, fid, "ready")
    refused = step(
        client, shop["cashier"], oid, fid, "pick_up", number=placed["number"], name="Ada Lovelace"
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "order.balance_due"
    assert refused.json()["details"]["balance_due"] == 5000

    card = card_for(client, shop, oid, 5000)
    final = pay(client, shop, oid, [{"method": "card", "amount": 5000, "payment_id": card}])
    assert final.status_code == 201, final.text
    f = final.json()
    assert (f["balance_due"], f["paid_in_full"]) == (0, True)
    assert f["tenders"][0]["card_last4"] == "4242"
    assert kinds(f["order"])[-2:] == ["payment_received", "paid_in_full"]

    handed = step(
        client, shop["cashier"], oid, fid, "pick_up", number=placed["number"], name="Ada Lovelace"
    )
    assert handed.status_code == 200, handed.text
    done = handed.json()
    assert done["status"] == "completed"
    assert (done["paid"], done["refunded"], done["balance_due"]) == (10000, 0, 0)
    with db.uow(write=False) as uow:
        rows = uow.session.execute(
            select(Payment.method, Payment.amount_minor, Payment.refunded_minor)
            .where(Payment.order_id == uuid.UUID(oid))
            .order_by(Payment.created_at)
        ).all()
        card_balance = uow.session.scalars(select(GiftCard.balance_minor)).one()
        topics = uow.session.scalars(
            select(OutboxEvent.topic).where(OutboxEvent.topic.like("order.pa%"))
        ).all()
    assert [tuple(r) for r in rows] == [
        ("cash", 2000, 0),
        ("gift_card", 3000, 0),
        ("card", 5000, 0),
    ]
    assert sum(r[1] for r in rows) == done["total"]
    assert card_balance == 0
    assert gift_cards.verify(db=db) == []
    assert sorted(topics) == ["order.paid_in_full"] + ["order.payment_received"] * 3
    listed = client.get(f"/api/v1/orders/{oid}/payments", headers=shop["cashier"]).json()
    assert [p["amount"] for p in listed["items"]] == [2000, 3000, 5000]
    assert (listed["paid"], listed["balance_due"]) == (10000, 0)
    assert listed["items"][0]["change_due"] == 3000


def test_a_backordered_special_order_takes_its_deposit(client, db, shop):
    placed = take_order(
        client,
        shop,
        "special_order",
        [{"sku": "SOFA", "quantity": 1, "method": "pickup"}],
        pickup_location="S01",
    )
    assert placed["status"] == "backordered"
    assert placed["lines"][0]["quantity_backordered"] == 1
    assert placed["deposit_required"] == 45000
    r = pay(client, shop, placed["id"], [{"method": "cash", "amount": 50000}], amount=45000)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["change_due"], body["balance_due"]) == (5000, 45000)
    assert body["order"]["status"] == "backordered"
    assert body["order"]["paid"] == 45000


def test_a_deposit_below_the_minimum_is_refused_with_nothing_written(client, db, shop):
    placed = take_order(
        client,
        shop,
        "special_order",
        [{"sku": "SOFA", "quantity": 1, "method": "pickup"}],
        pickup_location="S01",
    )
    code = gift_card(client, shop, 10000)
    r = pay(
        client,
        shop,
        placed["id"],
        [
            {"method": "gift_card", "amount": 10000, "code": code},
            {"method": "cash", "amount": 5000},
        ],
    )
    assert r.status_code == 422
    problem = r.json()
    assert problem["code"] == "order.deposit_too_small"
    assert problem["details"]["minimum"] == 45000
    assert problem["details"]["amount"] == 15000
    order_id = uuid.UUID(placed["id"])
    assert count(db, Payment, Payment.order_id == order_id) == 0
    assert count(db, CashMovement) == 0
    assert count(db, OrderEvent, OrderEvent.kind == "payment_received") == 0
    with db.uow(write=False) as uow:
        assert uow.session.scalars(select(GiftCard.balance_minor)).one() == 10000
        assert uow.session.get_one(Order, order_id).paid_minor == 0


@pytest.mark.parametrize(
    ("payments", "amount"),
    [
        ([{"method": "gift_card", "amount": 10001}], None),  # non-cash beyond the balance
        ([{"method": "cash", "amount": 20000}], 10001),  # an amount beyond the balance
    ],
)
def test_paying_more_than_the_balance_is_refused(client, db, shop, payments, amount):
    placed = layaway(client, shop)
    if payments[0]["method"] == "gift_card":
        payments[0]["code"] = gift_card(client, shop, 20000)
    r = pay(client, shop, placed["id"], payments, amount=amount)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "order.overpayment"
    assert r.json()["details"]["balance_due"] == 10000
    assert count(db, Payment, Payment.order_id == uuid.UUID(placed["id"])) == 0


@pytest.mark.parametrize(
    ("payments", "amount", "code", "field"),
    [
        ([], None, "order.payment_required", "payments"),
        ([{"method": "cash", "amount": 500}], 0, "order.invalid_amount", "amount"),
    ],
)
def test_a_payment_without_tenders_or_amount_is_refused(
    client, db, shop, payments, amount, code, field
):
    placed = layaway(client, shop)
    r = pay(client, shop, placed["id"], payments, amount=amount)
    assert r.status_code == 422, r.text
    assert (r.json()["code"], r.json()["errors"][0]["field"]) == (code, field)
    assert count(db, Payment) == 0


def test_nothing_more_is_taken_once_paid_and_cash_beyond_the_balance_is_change(client, shop):
    placed = layaway(client, shop, quantity=1)
    paid = pay(client, shop, placed["id"], [{"method": "cash", "amount": 2500}])
    assert paid.status_code == 201, paid.text
    assert (paid.json()["amount"], paid.json()["change_due"]) == (2000, 500)
    again = pay(client, shop, placed["id"], [{"method": "cash", "amount": 100}])
    assert again.status_code == 422
    assert again.json()["code"] == "order.overpayment"
    assert again.json()["details"]["balance_due"] == 0


def test_a_cancelled_order_takes_no_payment(client, db, shop):
    placed = layaway(client, shop)
    cancel = client.post(
        f"/api/v1/orders/{placed['id']}/cancel", headers=shop["manager"], json={"reason": "gone"}
    )
    assert cancel.status_code == 200, cancel.text
    r = pay(client, shop, placed["id"], [{"method": "cash", "amount": 5000}])
    assert r.status_code == 409
    assert r.json()["code"] == "order.not_payable"
    assert count(db, Payment) == 0


def test_claimed_cards_must_be_this_orders_and_count_once(client, db, shop):
    first, other = layaway(client, shop), layaway(client, shop, quantity=2)
    card = card_for(client, shop, first["id"], 3000)
    wrong = pay(client, shop, other["id"], [{"method": "card", "amount": 3000, "payment_id": card}])
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "payment.wrong_order"
    twice = pay(
        client,
        shop,
        first["id"],
        [
            {"method": "card", "amount": 3000, "payment_id": card},
            {"method": "card", "amount": 3000, "payment_id": card},
        ],
    )
    assert twice.status_code == 422
    assert twice.json()["code"] == "payment.duplicate_tender"
    ok = pay(client, shop, first["id"], [{"method": "card", "amount": 3000, "payment_id": card}])
    assert ok.status_code == 201, ok.text
    again = pay(client, shop, first["id"], [{"method": "card", "amount": 3000, "payment_id": card}])
    assert again.status_code == 422
    assert again.json()["code"] == "payment.already_claimed"
    assert again.json()["errors"][0]["field"] == "payments.0.payment_id"
    assert ok.json()["order"]["paid"] == 3000
    assert count(db, PaymentEvent, PaymentEvent.kind == "claim") == 1


def test_the_shift_x_report_counts_the_orders_cash(client, db, shop):
    shift = client.post(
        "/api/v1/shifts",
        headers=shop["cashier"],
        json={"register": "S01-R1", "denominations": {"1000": 10}},
    )
    assert shift.status_code == 201, shift.text
    sid = shift.json()["id"]
    placed = layaway(client, shop)
    r = pay(client, shop, placed["id"], [{"method": "cash", "amount": 5000}], amount=2500)
    assert r.status_code == 201, r.text
    x = client.get(f"/api/v1/shifts/{sid}/x-report", headers=shop["manager"]).json()
    assert x["payments"]["cash"] == 2500
    assert x["cash_movements"]["sale"] == 2500
    assert x["expected"]["cash"] == 10000 + 2500
    with db.uow(write=False) as uow:
        moved = uow.session.scalars(select(CashMovement).where(CashMovement.kind == "sale")).one()
        assert (moved.reference_type, moved.reference_id) == ("order", placed["id"])
        assert uow.session.scalars(select(Payment.shift_id)).one() == uuid.UUID(sid)


def test_an_endless_aisle_order_ships_from_the_other_store_paid_in_full_at_the_till(
    client, db, shop
):
    placed = take_order(
        client, shop, "standard", [{"sku": "LAMP", "quantity": 2}], ship_to=CUSTOMER
    )
    assert [f["location"] for f in placed["fulfillments"]] == ["S02"]
    assert (placed["deposit_required"], placed["balance_due"]) == (0, 9000)
    r = pay(client, shop, placed["id"], [{"method": "cash", "amount": 10000}])
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["amount"], body["change_due"], body["paid_in_full"]) == (9000, 1000, True)
    assert body["location"] == "S01"
    assert body["order"]["balance_due"] == 0
    with db.uow(write=False) as uow:
        received = uow.session.scalars(
            select(OutboxEvent).where(OutboxEvent.topic == "order.payment_received")
        ).one()
        full = uow.session.scalars(
            select(OutboxEvent).where(OutboxEvent.topic == "order.paid_in_full")
        ).one()
        audited = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "order.payment_received")
        ).one()
    assert received.location_codes == ["S01"]
    assert received.payload["amount"] == 9000
    assert full.location_codes == ["S01", "S02"]
    assert audited.chain == "register:S01-R1"


def test_the_same_payment_id_replays_and_another_body_is_refused(client, db, shop):
    placed = layaway(client, shop)
    pid = uuid.uuid4()
    tenders = [{"method": "cash", "amount": 5000}]
    first = pay(client, shop, placed["id"], tenders, amount=2000, pid=pid)
    again = pay(client, shop, placed["id"], tenders, amount=2000, pid=pid)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    strip = ("order", "created_at")
    assert {k: v for k, v in again.json().items() if k not in strip} == {
        k: v for k, v in first.json().items() if k not in strip
    }
    assert again.json()["order"]["paid"] == 2000
    other = pay(client, shop, placed["id"], tenders, amount=3000, pid=pid)
    assert other.status_code == 422
    assert other.json()["code"] == "order.payment_id_reused"
    elsewhere = layaway(client, shop, quantity=2)
    moved = pay(client, shop, elsewhere["id"], tenders, amount=2000, pid=pid)
    assert moved.status_code == 422
    assert moved.json()["code"] == "order.payment_id_reused"
    assert count(db, Payment) == 1
    assert count(db, CashMovement) == 0  # the store does not manage cash and no shift is open
    with db.uow(write=False) as uow:
        assert uow.session.get_one(Order, uuid.UUID(placed["id"])).paid_minor == 2000
        assert uow.session.get_one(Order, uuid.UUID(elsewhere["id"])).paid_minor == 0


def test_two_registers_paying_the_last_balance_at_once_never_overpay(client, db, shop, settings):
    placed = layaway(client, shop, quantity=1)
    first = pay(client, shop, placed["id"], [{"method": "cash", "amount": 400}])
    assert first.status_code == 201, first.text
    make_user(db, "clerk9", "cashier", ["S01"])
    issued = auth.login(db=db, settings=settings, username="clerk9", password=PASSWORD)
    actor = auth.resolve_token(db=db, token=issued.access_token)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def settle_the_rest() -> None:
        barrier.wait()
        try:
            order_deposits.pay_order(
                db=db,
                actor=actor,
                order_id=uuid.UUID(placed["id"]),
                register="S01-R1",
                tenders=[TenderRequest("cash", 1600)],
                payment_id=uuid.uuid4(),
                amount=1600,
            )
            outcomes.append("paid")
        except ValidationFailed as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=settle_the_rest) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["order.overpayment"] * 3 + ["paid"]
    with db.uow(write=False) as uow:
        assert uow.session.get_one(Order, uuid.UUID(placed["id"])).paid_minor == 2000
        total = uow.session.scalar(select(func.sum(Payment.amount_minor)))
    assert total == 2000


def test_a_sale_cannot_count_one_card_payment_twice(client, db, shop):
    sale_id = str(uuid.uuid4())
    r = client.post(
        "/api/v1/payments",
        headers=shop["cashier"],
        json={
            "id": str(uuid.uuid4()),
            "register": "S01-R1",
            "sale_id": sale_id,
            "amount": 2000,
            "payment_data": shop["terminal"].read_card("4242424242424242", 12, 2031),
            "entry_mode": "nfc_tap",
        },
    )
    card = r.json()["id"]
    sale = client.post(
        "/api/v1/sales",
        headers=shop["cashier"],
        json={
            "id": sale_id,
            "location": "S01",
            "register": "S01-R1",
            "lines": [{"sku": "TEE", "quantity": 2}],
            "payments": [
                {"method": "card", "amount": 2000, "payment_id": card},
                {"method": "card", "amount": 2000, "payment_id": card},
            ],
        },
    )
    assert sale.status_code == 422
    assert sale.json()["code"] == "payment.duplicate_tender"
    assert sale.json()["errors"][0]["field"] == "payments.1.payment_id"


def test_a_swiss_layaway_rounds_its_cash_and_still_reaches_a_zero_balance(client, db, settings):
    zrh = make_location(db, "Z01", currency="CHF", tax_rate="0", offers_pickup=True)
    make_register(db, zrh, "Z01-R1")
    make_variant(db, sku="CUP", price=1001, currency="CHF", stock={zrh: 3})
    headers = token_for(db, settings, "z1", "cashier", ["Z01"])
    placed = client.post(
        "/api/v1/orders",
        headers=headers,
        json={
            "channel": "in_store",
            "kind": "layaway",
            "register": "Z01-R1",
            "customer_name": "Heidi",
            "email": "heidi@example.ch",
            "pickup_location": "Z01",
            "lines": [{"sku": "CUP", "quantity": 1, "method": "pickup"}],
        },
    ).json()
    assert (placed["currency"], placed["total"], placed["deposit_required"]) == ("CHF", 1001, 201)

    def pay_chf(payments, amount=None):
        body = {"id": str(uuid.uuid4()), "register": "Z01-R1", "payments": payments}
        if amount is not None:
            body["amount"] = amount
        r = client.post(f"/api/v1/orders/{placed['id']}/payments", headers=headers, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    deposit = pay_chf([{"method": "cash", "amount": 500}], amount=201)
    # 2.01 due: cash pays 2.00 (no 1-centime coins), the rounding (-0.01) counts as paid
    assert (deposit["amount"], deposit["cash_rounding"], deposit["change_due"]) == (201, -1, 300)
    assert deposit["tenders"][0]["amount"] == 200
    rest = pay_chf([{"method": "cash", "amount": 1000}])
    assert (rest["amount"], rest["change_due"], rest["balance_due"]) == (800, 200, 0)
    assert rest["order"]["paid"] == 1001

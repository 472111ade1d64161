"""Exchanges over HTTP (SQLite and PostgreSQL): the returned goods' credit spent on a new sale
or order with the `exchange` tender, never twice; the rest refunded by settling; declined card
refunds given as store credit with a manager's approval."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select

from omnitill.adapters.db.models import (
    AuditEntry,
    CashMovement,
    Payment,
    Return,
    Sale,
    SaleLine,
    StockLevel,
)
from omnitill.adapters.payments.sandbox import SandboxGateway, SandboxTerminal
from omnitill.domain.errors import ValidationFailed
from omnitill.domain.payments.gateway import GatewayResult, GatewayTimeout
from omnitill.services import auth, stock, store_credit
from omnitill.services.sale_payments import TenderRequest
from omnitill.services.sales import SaleLineRequest, SaleRequest, complete_sale
from tests.factories import PASSWORD, make_customer, make_location, make_register, make_variant
from tests.factories import token_for as login
from tests.integration.till_support import VISA, card_payment

NYC = {"latitude": Decimal("40.7580"), "longitude": Decimal("-73.9855")}
CUSTOMER = {"country": "US", "region": "NY", "latitude": 40.7306, "longitude": -73.9866}
REFUND_DECLINED = "4000000000005126"  # the sandbox approves it and declines its refunds


@pytest.fixture
def shop(client, db, settings):
    s01 = make_location(db, "S01", tax_rate="0", ships=True, offers_pickup=True, **NYC)
    make_register(db, s01, "S01-R1")
    make_variant(db, sku="MUG", price=1000, stock={s01: 50})
    gateway = SandboxGateway(settings.data_dir / "sandbox.db")
    client.app.state.gateway = gateway
    terminal = SandboxTerminal(gateway.public_key_pem())
    return {
        "cashier": login(db, settings, "c1", "cashier", ["S01"]),
        "manager": login(db, settings, "m1", "manager", ["S01"]),
        "terminal": terminal,
        "token": lambda: gateway.tokenize(terminal.read_card("4242424242424242", 12, 2031)).token,
        "s01": s01,
        "db": db,
    }


def card(client, shop, sale_id, amount, pan=VISA):
    return card_payment(client, shop["cashier"], shop["terminal"], sale_id, amount, pan=pan)


def sell(client, shop, payments, *, qty=1, sale_id=None, customer=None, status=201):
    body = {
        "id": str(sale_id or uuid.uuid4()),
        "location": "S01",
        "register": "S01-R1",
        "lines": [{"sku": "MUG", "quantity": qty}],
        "payments": payments,
    }
    if customer is not None:
        body["customer"] = str(customer)
    r = client.post("/api/v1/sales", headers=shop["cashier"], json=body)
    assert r.status_code == status, r.text
    return r.json()


def card_sale(client, shop, qty, *, pan="4242424242424242", customer=None):
    sale_id = uuid.uuid4()
    pid = card(client, shop, sale_id, 1000 * qty, pan)
    payments = [{"method": "card", "amount": 1000 * qty, "payment_id": pid}]
    return sell(client, shop, payments, qty=qty, sale_id=sale_id, customer=customer), pid


def give_back(client, shop, *, qty=1, kind="exchange", sale=None, order=None, line=None):
    if line is None:
        with shop["db"].uow(write=False) as uow:
            line = uow.session.scalars(
                select(SaleLine.id).where(SaleLine.sale_id == uuid.UUID(sale["id"]))
            ).one()
    body = {
        "id": str(uuid.uuid4()),
        "kind": kind,
        "location": "S01",
        "register": "S01-R1",
        "lines": [
            {
                "line_id": str(line),
                "quantity": qty,
                "reason": "wrong_size",
                "condition": "unopened",
                "disposition": "resalable",
            }
        ],
    }
    body |= {"sale_id": sale["id"]} if sale is not None else {"order_id": order["id"]}
    r = client.post("/api/v1/returns", headers=shop["cashier"], json=body)
    assert r.status_code == 201, r.text
    return r.json()


def exchange(ret, amount):
    return {"method": "exchange", "code": ret["number"], "amount": amount}


def the_return(client, shop, ret):
    return client.get(f"/api/v1/returns/{ret['id']}", headers=shop["cashier"]).json()


def settle(client, headers, ret, **body):
    return client.post(f"/api/v1/returns/{ret['id']}/settle", headers=headers, json=body)


def on_hand(db, shop):
    with db.uow(write=False) as uow:
        return uow.session.scalars(
            select(StockLevel.on_hand).where(StockLevel.location_id == shop["s01"].id)
        ).one()


def payment(db, payment_id):
    with db.uow(write=False) as uow:
        return uow.session.get_one(Payment, uuid.UUID(str(payment_id)))


def test_an_even_exchange_moves_no_money_and_completes_the_return(client, db, shop):
    first = sell(client, shop, [{"method": "cash", "amount": 1000}])
    shelf = on_hand(db, shop)
    ret = give_back(client, shop, sale=first)
    assert (ret["status"], ret["exchange_credit"], ret["refunds"]) == ("exchange_open", 1000, [])
    second = sell(client, shop, [exchange(ret, 1000)])
    assert [(p["method"], p["amount"]) for p in second["payments"]] == [("exchange", 1000)]
    done = the_return(client, shop, ret)
    assert (done["status"], done["exchange_applied"], done["refunded"]) == ("completed", 1000, 0)
    assert done["completed_at"]
    assert done["refunded_at"]
    taken = payment(db, second["payments"][0]["payment_id"])
    assert (taken.method, taken.status, taken.amount_minor) == ("exchange", "captured", 1000)
    assert (taken.gateway, taken.gateway_reference) == ("return", ret["id"])
    assert payment(db, first["payments"][0]["payment_id"]).refunded_minor == 0  # no cash out
    with db.uow(write=False) as uow:
        assert uow.session.scalars(select(CashMovement)).all() == []
    assert on_hand(db, shop) == shelf  # one mug back on the shelf, one out
    assert stock.verify(db=db) == []


def test_an_uneven_exchange_takes_the_difference_in_cash(client, db, shop):
    first = sell(client, shop, [{"method": "cash", "amount": 1000}])
    ret = give_back(client, shop, sale=first)
    second = sell(client, shop, [exchange(ret, 1000), {"method": "cash", "amount": 1500}], qty=2)
    assert (second["total"], second["change_due"]) == (2000, 500)
    assert sorted((p["method"], p["amount"]) for p in second["payments"]) == [
        ("cash", 1000),
        ("exchange", 1000),
    ]
    assert the_return(client, shop, ret)["status"] == "completed"


def test_settle_refunds_what_the_exchange_did_not_spend_to_the_card(client, db, shop):
    first, pid = card_sale(client, shop, 3)
    ret = give_back(client, shop, sale=first, qty=2)
    assert ret["exchange_credit"] == 2000
    sell(client, shop, [exchange(ret, 1000)])
    half = the_return(client, shop, ret)
    assert (half["status"], half["exchange_applied"]) == ("exchange_open", 1000)
    assert payment(db, pid).refunded_minor == 0
    r = settle(client, shop["cashier"], ret)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "completed"
    assert done["refunded"] == 1000
    assert [(x["given_as"], x["amount"], x["status"]) for x in done["refunds"]] == [
        ("card", 1000, "refunded")
    ]
    assert payment(db, pid).refunded_minor == 1000
    # the credit is closed: neither spent nor settled again
    late = sell(client, shop, [exchange(ret, 1000)], status=422)
    assert late["code"] == "payment.exchange_credit_insufficient"
    again = settle(client, shop["cashier"], ret)
    assert (again.status_code, again.json()["code"]) == (409, "returns.not_settleable")
    with db.uow(write=False) as uow:
        actions = uow.session.scalars(
            select(AuditEntry.action).where(AuditEntry.subject_id == ret["id"])
        ).all()
    assert "return.settled" in actions


def test_exchange_credit_cannot_be_overspent_nor_named_wrongly(client, db, shop):
    first = sell(client, shop, [{"method": "cash", "amount": 1000}])
    ret = give_back(client, shop, sale=first)
    over = sell(
        client, shop, [exchange(ret, 1500), {"method": "cash", "amount": 500}], qty=2, status=422
    )
    assert over["code"] == "payment.exchange_credit_insufficient"
    assert [e["field"] for e in over["errors"]] == ["payments.0.amount"]
    unknown = sell(client, shop, [exchange({"number": "RET-999999"}, 1000)], status=422)
    assert unknown["code"] == "payment.exchange_unknown"
    assert [e["field"] for e in unknown["errors"]] == ["payments.0.code"]
    returned = give_back(
        client, shop, kind="return", sale=sell(client, shop, [{"method": "cash", "amount": 1000}])
    )
    not_an_exchange = sell(client, shop, [exchange(returned, 1000)], status=422)
    assert not_an_exchange["code"] == "payment.exchange_unknown"
    with db.uow(write=False) as uow:
        assert uow.session.get_one(Return, uuid.UUID(ret["id"])).exchange_applied_minor == 0
        assert len(uow.session.scalars(select(Sale)).all()) == 2  # none of the refused ones


def test_two_sales_at_once_cannot_spend_one_exchange_twice(client, db, settings, shop):
    ret = give_back(client, shop, sale=sell(client, shop, [{"method": "cash", "amount": 1000}]))
    issued = auth.login(db=db, settings=settings, username="c1", password=PASSWORD)
    actor = auth.resolve_token(db=db, token=issued.access_token)
    count = 6
    barrier = threading.Barrier(count)
    outcomes: list[str] = []

    def register(_n: int) -> None:
        request = SaleRequest(
            id=uuid.uuid4(),
            location="S01",
            register="S01-R1",
            lines=(SaleLineRequest(sku="MUG", barcode=None, quantity=1),),
            payments=(TenderRequest("exchange", 1000, code=ret["number"]),),
        )
        barrier.wait()
        try:
            complete_sale(db=db, actor=actor, request=request, request_hash=str(request.id))
            outcomes.append("sold")
        except ValidationFailed as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=register, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(outcomes) == ["payment.exchange_credit_insufficient"] * (count - 1) + ["sold"]
    with db.uow(write=False) as uow:
        row = uow.session.get_one(Return, uuid.UUID(ret["id"]))
        spent = uow.session.scalars(select(Payment).where(Payment.method == "exchange")).all()
    assert (row.exchange_applied_minor, row.status) == (1000, "completed")
    assert [p.amount_minor for p in spent] == [1000]
    assert stock.verify(db=db) == []


def aisle_order(client, shop, *, quantity):
    """An endless-aisle order of mugs taken at S01-R1, shipped to the customer."""
    r = client.post(
        "/api/v1/orders",
        headers=shop["cashier"],
        json={
            "channel": "in_store",
            "register": "S01-R1",
            "customer_name": "Grace Hopper",
            "email": "grace@example.com",
            "lines": [{"sku": "MUG", "quantity": quantity}],
            "ship_to": CUSTOMER,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_an_endless_aisle_order_is_paid_with_exchange_credit(client, db, shop):
    ret = give_back(
        client, shop, qty=3, sale=sell(client, shop, [{"method": "cash", "amount": 3000}], qty=3)
    )
    order = aisle_order(client, shop, quantity=2)
    due = order["balance_due"]
    assert 2000 <= due < 3000  # two mugs, and shipping if any
    r = client.post(
        f"/api/v1/orders/{order['id']}/payments",
        headers=shop["cashier"],
        json={"id": str(uuid.uuid4()), "register": "S01-R1", "payments": [exchange(ret, due)]},
    )
    assert r.status_code == 201, r.text
    paid = r.json()
    assert (paid["balance_due"], paid["paid_in_full"]) == (0, True)
    assert [t["method"] for t in paid["tenders"]] == ["exchange"]
    left = the_return(client, shop, ret)
    assert (left["status"], left["exchange_applied"]) == ("exchange_open", due)
    with db.uow(write=False) as uow:
        row = uow.session.scalars(select(Payment).where(Payment.method == "exchange")).one()
    assert (str(row.order_id), row.gateway_reference) == (order["id"], ret["id"])


def test_a_web_order_shipped_then_returned_in_store_is_exchanged(client, db, shop):
    placed = client.post(
        "/api/v1/orders",
        headers=shop["manager"],
        json={
            "channel": "web",
            "customer_name": "Ada Lovelace",
            "email": "ada@example.com",
            "lines": [{"sku": "MUG", "quantity": 2}],
            "ship_to": CUSTOMER,
            "card_token": shop["token"](),
        },
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    fid = order["fulfillments"][0]["id"]
    for action in ("accept", "pick", "pack", "ship"):
        r = client.post(
            f"/api/v1/orders/{order['id']}/fulfillments/{fid}/{action}",
            headers=shop["cashier"],
            json={},
        )
        assert r.status_code == 200, r.text
    ret = give_back(client, shop, order=order, line=order["lines"][0]["id"])
    assert (ret["status"], ret["source_type"], ret["exchange_credit"]) == (
        "exchange_open",
        "order",
        1000,
    )
    sell(client, shop, [exchange(ret, 1000)])
    assert the_return(client, shop, ret)["status"] == "completed"
    with db.uow(write=False) as uow:
        card_paid = uow.session.scalars(
            select(Payment).where(Payment.order_id == uuid.UUID(order["id"]))
        ).one()
    assert card_paid.refunded_minor == 0  # the money stayed: the customer took another mug


def test_goods_bought_with_exchange_credit_come_back_as_store_credit(client, db, shop):
    customer = make_customer(db)
    ret = give_back(client, shop, sale=sell(client, shop, [{"method": "cash", "amount": 1000}]))
    anonymous = give_back(
        client, shop, sale=sell(client, shop, [{"method": "cash", "amount": 1000}])
    )
    bought = sell(client, shop, [exchange(ret, 1000)], customer=customer.id)
    back = give_back(client, shop, kind="return", sale=bought)
    assert back["status"] == "completed"
    assert [(x["method"], x["given_as"], x["amount"]) for x in back["refunds"]] == [
        ("exchange", "store_credit", 1000)
    ]
    assert payment(db, bought["payments"][0]["payment_id"]).refunded_minor == 1000
    assert store_credit.verify(db=db) == []
    nobody = sell(client, shop, [exchange(anonymous, 1000)])
    with pytest.raises(AssertionError, match=r"returns\.customer_required"):
        give_back(client, shop, kind="return", sale=nobody)
    assert payment(db, nobody["payments"][0]["payment_id"]).refunded_minor == 0


def test_a_declined_card_refund_is_settled_as_store_credit_with_a_manager(client, db, shop):
    customer = make_customer(db)
    sale, pid = card_sale(client, shop, 1, pan=REFUND_DECLINED, customer=customer.id)
    ret = give_back(client, shop, kind="return", sale=sale)
    assert ret["status"] == "refund_pending"
    assert [(x["given_as"], x["status"]) for x in ret["refunds"]] == [("card", "failed")]
    assert payment(db, pid).refunded_minor == 0  # the reservation went back
    no_fallback = settle(client, shop["cashier"], ret)
    assert no_fallback.status_code == 422
    assert no_fallback.json()["errors"][0]["field"] == "fallback"
    unapproved = settle(client, shop["cashier"], ret, fallback="store_credit")
    assert unapproved.status_code == 403
    assert unapproved.json()["code"] == "returns.manager_approval_required"
    grant = client.post(
        "/api/v1/overrides",
        headers=shop["cashier"],
        json={
            "manager_username": "m1",
            "manager_password": PASSWORD,
            "permission": "returns.approve",
            "reason": "card issuer refused the refund",
        },
    )
    assert grant.status_code == 201, grant.text
    r = settle(
        client,
        shop["cashier"],
        ret,
        fallback="store_credit",
        override_token=grant.json()["override_token"],
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["status"], done["refunded"]) == ("completed", 1000)
    assert [(x["given_as"], x["status"], x["fallback_reason"]) for x in done["refunds"]] == [
        ("card", "failed", None),
        ("store_credit", "refunded", "returns.card_refund_declined"),
    ]
    assert done["approval"]["settle"]["approved_by"] == "m1"
    assert payment(db, pid).refunded_minor == 1000
    account = client.get(f"/api/v1/customers/{customer.id}/store-credit", headers=shop["manager"])
    assert account.json()["balances"] == [{"currency": "USD", "balance": 1000}]
    assert store_credit.verify(db=db) == []
    with db.uow(write=False) as uow:
        audited = uow.session.scalars(
            select(AuditEntry.details).where(AuditEntry.action == "return.settled")
        ).all()
    assert [d["fallback"] for d in audited] == ["store_credit"]


class SilentOnRefunds(SandboxGateway):
    """The sandbox processor whose refund answers are lost on the way back."""

    def refund(self, *, reference: str, amount: int, idempotency_key: str) -> GatewayResult:
        raise GatewayTimeout("no answer")

    def lookup(self, *, idempotency_key: str) -> GatewayResult | None:
        return None


def test_settle_sends_an_unanswered_card_refund_again_and_completes(client, db, settings, shop):
    sale, pid = card_sale(client, shop, 1)
    gateway = client.app.state.gateway
    client.app.state.gateway = SilentOnRefunds(settings.data_dir / "sandbox.db")
    ret = give_back(client, shop, kind="return", sale=sale)
    assert [(x["given_as"], x["status"]) for x in ret["refunds"]] == [("card", "pending")]
    assert ret["status"] == "refund_pending"
    client.app.state.gateway = gateway
    r = settle(client, shop["cashier"], ret)
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["status"], done["refunded"]) == ("completed", 1000)
    assert [(x["given_as"], x["status"]) for x in done["refunds"]] == [("card", "refunded")]
    assert payment(db, pid).refunded_minor == 1000


def test_cancelling_an_order_paid_with_exchange_credit_gives_the_credit_back(client, db, shop):
    ret = give_back(
        client, shop, qty=2, sale=sell(client, shop, [{"method": "cash", "amount": 2000}], qty=2)
    )
    placed = aisle_order(client, shop, quantity=1)
    due = placed["balance_due"]
    r = client.post(
        f"/api/v1/orders/{placed['id']}/payments",
        headers=shop["cashier"],
        json={"id": str(uuid.uuid4()), "register": "S01-R1", "payments": [exchange(ret, due)]},
    )
    assert r.status_code == 201, r.text
    assert the_return(client, shop, ret)["exchange_applied"] == due
    cancelled = client.post(
        f"/api/v1/orders/{placed['id']}/cancel",
        headers=shop["manager"],
        json={"reason": "changed mind", "register": "S01-R1"},
    )
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert (body["status"], body["paid"], body["refunded"]) == ("cancelled", 0, due)
    refunds = [e["data"] for e in body["timeline"] if e["kind"] == "refund_issued"]
    assert [(d["method"], d["given_as"], d["amount"]) for d in refunds] == [
        ("exchange", "exchange", due)
    ]
    again = the_return(client, shop, ret)
    assert (again["status"], again["exchange_applied"]) == ("exchange_open", 0)
    with db.uow(write=False) as uow:
        row = uow.session.scalars(select(Payment).where(Payment.method == "exchange")).one()
    assert row.refunded_minor == due

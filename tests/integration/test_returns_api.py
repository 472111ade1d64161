"""Returns against cash, card, gift card and split-tender sales: refunds to the original
tenders in the defined order, never more than a tender took, stock back by disposition."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from omnitill.adapters.db.models import (
    AuditEntry,
    CashMovement,
    GiftCard,
    Payment,
    Return,
    SaleLine,
    StockLevel,
    StockMovement,
)
from omnitill.adapters.payments.sandbox import SandboxGateway, SandboxTerminal
from omnitill.services import gift_cards, stock, store_credit
from tests.factories import make_customer, make_location, make_register, make_variant, token_for
from tests.integration.till_support import VISA, card_payment


@pytest.fixture
def shop(client, db, settings):
    s01 = make_location(db, "S01", tax_rate="0")
    s02 = make_location(db, "S02", tax_rate="0")
    make_register(db, s01, "S01-R1")
    make_register(db, s02, "S02-R1")
    make_variant(db, sku="MUG", price=1000, stock={s01: 50, s02: 10})
    gateway = SandboxGateway(settings.data_dir / "sandbox.db")
    client.app.state.gateway = gateway
    return {
        "cashier": token_for(db, settings, "c1", "cashier", ["S01"]),
        "cashier2": token_for(db, settings, "c2", "cashier", ["S02"]),
        "manager": token_for(db, settings, "m1", "manager", ["S01", "S02"]),
        "terminal": SandboxTerminal(gateway.public_key_pem()),
        "s01": s01,
        "s02": s02,
    }


def card(client, shop, sale_id, amount, pan=VISA):
    return card_payment(client, shop["cashier"], shop["terminal"], sale_id, amount, pan=pan)


def sell(client, shop, payments, *, qty=3, sale_id=None, customer=None):
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
    assert r.status_code == 201, r.text
    return r.json()


def line_id(db, sale_id):
    with db.uow(write=False) as uow:
        return str(
            uow.session.scalars(
                select(SaleLine.id).where(SaleLine.sale_id == uuid.UUID(sale_id))
            ).one()
        )


def give_back(client, headers, sale, db, qty=1, *, location="S01", register="S01-R1", **extra):
    body = {
        "id": str(uuid.uuid4()),
        "location": location,
        "register": register,
        "sale_id": sale["id"],
        "lines": [
            {
                "line_id": line_id(db, sale["id"]),
                "quantity": qty,
                "reason": "changed_mind",
                "condition": "unopened",
                "disposition": extra.pop("disposition", "resalable"),
            }
        ],
        **extra,
    }
    return client.post("/api/v1/returns", headers=headers, json=body)


def level(db, location, bucket="on_hand"):
    with db.uow(write=False) as uow:
        return uow.session.scalars(
            select(getattr(StockLevel, bucket)).where(StockLevel.location_id == location.id)
        ).one()


def refunded(db, payment_id):
    with db.uow(write=False) as uow:
        return uow.session.get_one(Payment, uuid.UUID(payment_id)).refunded_minor


def test_a_cash_sale_returned_in_part_gives_cash_back_and_puts_the_unit_on_the_shelf(
    client, db, shop
):
    sale = sell(client, shop, [{"method": "cash", "amount": 3000}])
    before = level(db, shop["s01"])
    r = give_back(client, shop["cashier"], sale, db)
    assert r.status_code == 201, r.text
    ret = r.json()
    assert ret["status"] == "completed"
    assert ret["refund_total"] == ret["refunded"] == 1000
    assert [(x["given_as"], x["amount"], x["status"]) for x in ret["refunds"]] == [
        ("cash", 1000, "refunded")
    ]
    assert ret["source_number"] == sale["receipt_number"]
    assert re.fullmatch(r"RET-\d{6}", ret["number"])
    assert level(db, shop["s01"]) == before + 1
    assert refunded(db, sale["payments"][0]["payment_id"]) == 1000
    with db.uow(write=False) as uow:
        kinds = uow.session.scalars(
            select(StockMovement.kind).where(StockMovement.reference_id == ret["id"])
        ).all()
        assert kinds == ["return"]
        assert (
            uow.session.scalar(select(AuditEntry.action).where(AuditEntry.subject_id == ret["id"]))
            == "return.created"
        )
    assert stock.verify(db=db) == []
    # the same id and body replays; the rest of the line is still returnable
    again = client.get(f"/api/v1/returns/{ret['id']}", headers=shop["cashier"])
    assert again.json()["lines"][0]["quantity"] == 1


def test_more_than_sold_is_refused_and_nothing_is_written(client, db, shop):
    sale = sell(client, shop, [{"method": "cash", "amount": 3000}], qty=2)
    assert give_back(client, shop["cashier"], sale, db, qty=2).status_code == 201
    r = give_back(client, shop["cashier"], sale, db, qty=1)
    assert r.status_code == 422
    problem = r.json()
    assert problem["code"] == "returns.already_returned"
    assert problem["errors"][0]["field"] == "lines.0"
    with db.uow(write=False) as uow:
        assert len(uow.session.scalars(select(Return)).all()) == 1


def test_a_card_sale_is_refunded_to_the_card_through_the_gateway(client, db, shop):
    sale_id = uuid.uuid4()
    pid = card(client, shop, sale_id, 3000)
    sale = sell(
        client, shop, [{"method": "card", "amount": 3000, "payment_id": pid}], sale_id=sale_id
    )
    r = give_back(client, shop["cashier"], sale, db, qty=2)
    assert r.status_code == 201, r.text
    ret = r.json()
    assert ret["status"] == "completed"
    (refund,) = ret["refunds"]
    assert (refund["given_as"], refund["amount"], refund["status"]) == ("card", 2000, "refunded")
    assert refund["card_last4"] == "4242"
    assert refund["payment_id"] == pid
    assert refunded(db, pid) == 2000


def test_a_split_tender_refunds_gift_card_first_then_card_then_cash(client, db, shop):
    gift = client.post(
        "/api/v1/gift-cards", headers=shop["cashier"], json={"currency": "USD", "amount": 700}
    ).json()
    sale_id = uuid.uuid4()
    pid = card(client, shop, sale_id, 1500)
    sale = sell(
        client,
        shop,
        [
            {"method": "card", "amount": 1500, "payment_id": pid},
            {"method": "gift_card", "amount": 700, "code": gift["code"]},
            {"method": "cash", "amount": 800},
        ],
        sale_id=sale_id,
    )
    first = give_back(client, shop["cashier"], sale, db, qty=1).json()
    assert [(x["given_as"], x["amount"]) for x in first["refunds"]] == [
        ("gift_card", 700),
        ("card", 300),
    ]
    rest = give_back(client, shop["cashier"], sale, db, qty=2).json()
    assert [(x["given_as"], x["amount"]) for x in rest["refunds"]] == [
        ("card", 1200),
        ("cash", 800),
    ]
    with db.uow(write=False) as uow:
        assert uow.session.scalars(select(GiftCard.balance_minor)).one() == 700
        pays = uow.session.scalars(select(Payment).where(Payment.sale_id == sale_id)).all()
        assert all(p.refunded_minor == p.amount_minor for p in pays)
    assert gift_cards.verify(db=db) == []


def test_a_sale_is_returned_at_another_store_and_the_stock_lands_there(client, db, shop):
    sale = sell(client, shop, [{"method": "cash", "amount": 3000}])
    with db.uow() as uow:  # the other store's drawer runs shifts: cash needs one open
        from omnitill.adapters.db.models import Location

        uow.session.get_one(Location, shop["s02"].id).cash_management = True
        uow.commit()
    s01, s02 = level(db, shop["s01"]), level(db, shop["s02"])
    r = give_back(
        client, shop["cashier2"], sale, db, location="S02", register="S02-R1", disposition="damaged"
    )
    assert r.status_code == 409
    assert r.json()["code"] == "shift.required"
    opened = client.post(
        "/api/v1/shifts",
        headers=shop["cashier2"],
        json={"register": "S02-R1", "denominations": {"2000": 5}},
    )
    assert opened.status_code == 201, opened.text
    r = give_back(
        client, shop["cashier2"], sale, db, location="S02", register="S02-R1", disposition="damaged"
    )
    assert r.status_code == 201, r.text
    assert (level(db, shop["s01"]), level(db, shop["s02"])) == (s01, s02 + 1)
    assert level(db, shop["s02"], "damaged") == 1
    with db.uow(write=False) as uow:
        refunds = uow.session.scalars(
            select(CashMovement.amount_minor).where(CashMovement.kind == "refund")
        ).all()
        assert refunds == [1000] or refunds == [-1000]
    assert stock.verify(db=db) == []


def test_a_return_without_a_receipt_needs_a_customer_and_a_manager_and_gives_store_credit(
    client, db, shop
):
    customer = make_customer(db)
    body = {
        "id": str(uuid.uuid4()),
        "location": "S01",
        "lines": [
            {
                "sku": "MUG",
                "quantity": 1,
                "reason": "other",
                "condition": "unopened",
                "disposition": "quarantine",
            }
        ],
    }
    r = client.post("/api/v1/returns", headers=shop["cashier"], json=body)
    assert r.status_code == 422
    assert r.json()["code"] == "returns.no_receipt_customer_required"
    body["customer_id"] = str(customer.id)
    r = client.post("/api/v1/returns", headers=shop["cashier"], json=body)
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "returns.manager_approval_required"
    r = client.post("/api/v1/returns", headers=shop["manager"], json=body)
    assert r.status_code == 201, r.text
    ret = r.json()
    assert ret["no_receipt"] is True
    assert [(x["given_as"], x["amount"]) for x in ret["refunds"]] == [("store_credit", 1000)]
    assert ret["approval"]["via"] == "role"
    assert level(db, shop["s01"], "quarantine") == 1
    assert store_credit.verify(db=db) == []


def backdate(db, sale, days):
    from datetime import timedelta

    from omnitill.adapters.db.models import Sale

    with db.uow() as uow:
        row = uow.session.get_one(Sale, uuid.UUID(sale["id"]))
        row.completed_at = row.completed_at - timedelta(days=days)
        for p in uow.session.scalars(select(Payment).where(Payment.sale_id == row.id)):
            p.created_at = p.created_at - timedelta(days=days)
        uow.commit()


def override(client, shop, make_user_db, settings):
    from tests.factories import PASSWORD, make_user

    make_user(make_user_db, "boss", "manager", ["S01"])
    r = client.post(
        "/api/v1/overrides",
        headers=shop["cashier"],
        json={
            "manager_username": "boss",
            "manager_password": PASSWORD,
            "permission": "returns.approve",
            "reason": "regular customer",
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["override_token"]


def test_past_the_window_a_cashier_is_refused_and_a_manager_override_lifts_it(
    client, db, shop, settings
):
    sale = sell(client, shop, [{"method": "cash", "amount": 3000}])
    backdate(db, sale, 45)
    r = give_back(client, shop["cashier"], sale, db)
    assert r.status_code == 422
    problem = r.json()
    assert problem["code"] == "returns.window_expired"
    (reason,) = [x for x in problem["errors"] if x["code"] == "returns.window_expired"]
    assert reason["field"] == "lines.0"
    token = override(client, shop, db, settings)
    headers = {**shop["cashier"], "X-Manager-Override": token}
    r = give_back(client, headers, sale, db)
    assert r.status_code == 201, r.text
    ret = r.json()
    assert ret["approval"]["via"] == "manager_override"
    assert ret["approval"]["approved_by"] == "boss"
    assert "returns.window_expired" in ret["approval"]["reasons"]
    codes = [x["code"] for x in ret["lines"][0]["reasons"]]
    assert "returns.window_expired" in codes
    # the override is spent: another late return needs another one
    again = give_back(client, headers, sale, db)
    assert again.status_code in (403, 422)


def test_a_card_too_old_to_refund_falls_back_to_store_credit_with_approval(client, db, shop):
    customer = make_customer(db)
    sale_id = uuid.uuid4()
    pid = card(client, shop, sale_id, 3000)
    sale = sell(
        client,
        shop,
        [{"method": "card", "amount": 3000, "payment_id": pid}],
        sale_id=sale_id,
        customer=customer.id,
    )
    with db.uow() as uow:  # a 10-day window on cards and a generous return window
        from omnitill.adapters.db.models import ReturnPolicySetting

        uow.session.add(
            ReturnPolicySetting(
                code="default",
                policy={
                    "policy": {"default_window_days": 60},
                    "refunds": {"card_refund_max_days": 10},
                },
            )
        )
        uow.commit()
    backdate(db, sale, 20)
    preview = client.post(
        "/api/v1/returns/preview",
        headers=shop["cashier"],
        json={
            "location": "S01",
            "sale_id": sale["id"],
            "lines": [
                {
                    "line_id": line_id(db, sale["id"]),
                    "quantity": 1,
                    "reason": "defective",
                    "condition": "opened",
                    "disposition": "defective",
                }
            ],
        },
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["needs_manager"] is True
    assert preview.json()["approval_reasons"] == ["returns.card_payment_too_old"]
    assert give_back(client, shop["cashier"], sale, db).status_code == 403
    r = give_back(client, shop["manager"], sale, db)
    assert r.status_code == 201, r.text
    (refund,) = r.json()["refunds"]
    assert (refund["method"], refund["given_as"], refund["amount"]) == (
        "card",
        "store_credit",
        1000,
    )
    assert refund["fallback_reason"] == "returns.card_payment_too_old"
    assert refunded(db, pid) == 1000  # the card's share is spent, though not through the card
    with db.uow(write=False) as uow:
        from omnitill.adapters.db.models import StoreCreditAccount

        assert uow.session.scalars(select(StoreCreditAccount.balance_minor)).one() == 1000


def test_a_refund_split_over_a_tender_that_did_not_pay_is_refused(client, db, shop):
    sale = sell(client, shop, [{"method": "cash", "amount": 3000}])
    other = sell(client, shop, [{"method": "cash", "amount": 3000}])
    foreign = other["payments"][0]["payment_id"]
    r = give_back(
        client, shop["manager"], sale, db, refund_to=[{"payment_id": foreign, "amount": 1000}]
    )
    assert r.status_code == 422
    assert r.json()["errors"][0] == {
        "field": "refund_to.0.payment_id",
        "code": "returns.tender_not_on_purchase",
        "message": "not a payment of this purchase",
    }
    own = sale["payments"][0]["payment_id"]
    r = give_back(client, shop["manager"], sale, db, refund_to=[{"payment_id": own, "amount": 999}])
    assert r.status_code == 422
    assert r.json()["code"] == "returns.refund_split_mismatch"
    assert refunded(db, own) == 0
    with db.uow(write=False) as uow:
        assert uow.session.scalars(select(Return)).all() == []


def test_a_cashier_directed_split_away_from_the_gift_card_needs_a_manager(client, db, shop):
    gift = client.post(
        "/api/v1/gift-cards", headers=shop["cashier"], json={"currency": "USD", "amount": 1000}
    ).json()
    sale = sell(
        client,
        shop,
        [
            {"method": "gift_card", "amount": 1000, "code": gift["code"]},
            {"method": "cash", "amount": 2000},
        ],
    )
    cash = next(p["payment_id"] for p in sale["payments"] if p["method"] == "cash")
    split = [{"payment_id": cash, "amount": 1000}]
    r = give_back(client, shop["cashier"], sale, db, refund_to=split)
    assert r.status_code == 403
    assert r.json()["details"]["reasons"] == ["returns.refund_split_changed"]
    r = give_back(client, shop["manager"], sale, db, refund_to=split)
    assert r.status_code == 201, r.text
    assert [(x["given_as"], x["amount"]) for x in r.json()["refunds"]] == [("cash", 1000)]
    assert refunded(db, cash) == 1000

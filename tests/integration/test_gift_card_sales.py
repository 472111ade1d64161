"""Gift cards sold as a product: loaded at the amount asked, never discounted or taxed, not
stock; a printed card activated, or a new one issued with its number shown once."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from omnitill.adapters.db.models import GiftCard, GiftCardEntry, IdempotencyKey, StockMovement
from omnitill.services import gift_cards, stock
from tests.factories import make_location, make_register, make_variant, token_for


@pytest.fixture
def shop(client, db, settings):
    s01 = make_location(db, "S01")  # 8.875 % tax
    make_register(db, s01, "S01-R1")
    make_variant(db, sku="MUG", price=2000, stock={s01: 10})
    admin = token_for(db, settings, "boss", "admin")
    r = client.post(
        "/api/v1/products",
        headers=admin,
        json={
            "name": "Gift card",
            "gift_card": True,
            "variants": [{"sku": "GIFT", "price": 0, "currency": "USD"}],
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["gift_card"] is True
    return {"admin": admin, "cashier": token_for(db, settings, "c1", "cashier", ["S01"])}


def sale(client, headers, lines, payments, sale_id=None, **extra_headers):
    return client.post(
        "/api/v1/sales",
        headers={**headers, **extra_headers},
        json={
            "id": str(sale_id or uuid.uuid4()),
            "location": "S01",
            "register": "S01-R1",
            "lines": lines,
            "payments": payments,
        },
    )


def test_a_new_gift_card_is_sold_untaxed_beside_taxed_goods_and_shown_once(client, db, shop):
    sale_id = uuid.uuid4()
    r = sale(
        client,
        shop["cashier"],
        [
            {"sku": "MUG", "quantity": 1},
            {"sku": "GIFT", "quantity": 1, "gift_card": {"amount": 5000}},
        ],
        [{"method": "cash", "amount": 10000}],
        sale_id=sale_id,
    )
    assert r.status_code == 201, r.text
    mug, card = r.json()["lines"]
    assert (card["unit_price"], card["discount_total"], card["tax_total"], card["total"]) == (
        5000,
        0,
        0,
        5000,
    )
    assert mug["tax_total"] > 0
    code = card["gift_card"]["code"]
    assert code.startswith("GC-")
    assert card["gift_card"]["display"].endswith(code[-4:])
    balance = client.post(
        "/api/v1/gift-cards/balance", headers=shop["cashier"], json={"code": code}
    ).json()
    assert (balance["status"], balance["balance"]) == ("active", 5000)
    # read back, the number is not there any more: only its digest was kept
    again = client.get(f"/api/v1/sales/{sale_id}", headers=shop["cashier"]).json()
    assert again["lines"][1]["gift_card"]["code"] is None
    assert again["lines"][1]["gift_card"]["display"] == card["gift_card"]["display"]
    # no stock moved for the card
    with db.uow(write=False) as uow:
        moved = uow.session.scalars(
            select(StockMovement.quantity).where(StockMovement.kind == "sale")
        ).all()
    assert moved == [-1]
    assert stock.verify(db=db) == []
    assert gift_cards.verify(db=db) == []


def test_a_printed_card_is_activated_once(client, db, shop):
    printed = client.post(
        "/api/v1/gift-cards/batches", headers=shop["admin"], json={"currency": "USD", "count": 1}
    ).json()["items"][0]
    line = {"sku": "GIFT", "quantity": 1, "gift_card": {"amount": 2500, "code": printed["code"]}}
    r = sale(client, shop["cashier"], [line], [{"method": "cash", "amount": 2500}])
    assert r.status_code == 201, r.text
    assert r.json()["lines"][0]["gift_card"]["code"] is None  # the customer holds the card
    twice = sale(client, shop["cashier"], [line], [{"method": "cash", "amount": 2500}])
    assert twice.status_code == 409
    assert twice.json()["code"] == "gift_card.already_active"
    with db.uow(write=False) as uow:
        entries = uow.session.scalar(select(func.count()).select_from(GiftCardEntry))
    assert entries == 1


def test_gift_card_lines_refuse_what_a_gift_card_cannot_be(client, db, shop):
    cases = [
        ({"sku": "GIFT", "quantity": 1}, "lines.0.gift_card.amount"),
        ({"sku": "MUG", "quantity": 1, "gift_card": {"amount": 500}}, "lines.0.gift_card"),
        (
            {
                "sku": "GIFT",
                "quantity": 1,
                "gift_card": {"amount": 500},
                "unit_price": 400,
                "price_override_reason": "x",
            },
            "lines.0.gift_card",
        ),
        ({"sku": "GIFT", "quantity": 2, "gift_card": {"amount": 500}}, "lines.0.quantity"),
    ]
    for line, field in cases:
        r = sale(client, shop["cashier"], [line], [{"method": "cash", "amount": 5000}])
        assert r.status_code == 422, r.text
        assert field in [e["field"] for e in r.json()["errors"]], r.json()
    with db.uow(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(GiftCard)) == 0


def test_a_replayed_answer_never_keeps_a_gift_card_number(client, db, shop):
    r = client.post(
        "/api/v1/gift-cards",
        headers={**shop["cashier"], "Idempotency-Key": "issue-1"},
        json={"currency": "USD", "amount": 1000},
    )
    assert r.json()["code"].startswith("GC-")
    replay = client.post(
        "/api/v1/gift-cards",
        headers={**shop["cashier"], "Idempotency-Key": "issue-1"},
        json={"currency": "USD", "amount": 1000},
    )
    assert replay.status_code == 201
    assert replay.json()["id"] == r.json()["id"]
    assert replay.json()["code"] is None
    with db.uow(write=False) as uow:
        stored = uow.session.scalars(select(IdempotencyKey.response_body)).all()
    assert all(r.json()["code"] not in body for body in stored)

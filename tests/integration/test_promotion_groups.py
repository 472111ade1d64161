"""Buy-X-get-Y promotions leave their groups in the snapshot: which units each claimed, bought
apart from given, on `sales.promotion_groups` and in `orders.pricing`, so a return can charge
back a reward kept without the units that earned it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from omnitill.adapters.db.models import Order, Sale
from omnitill.domain.ids import uuid7
from omnitill.domain.returns.bundles import Group
from tests.factories import make_location, make_register, make_variant, token_for

CUSTOMER = {"country": "US", "region": "NY", "latitude": 40.7306, "longitude": -73.9866}


@pytest.fixture
def shop(client, db, settings) -> dict[str, Any]:
    """S01 sells tees (20.00, buy one get one free), shoes (50.00) and socks (5.00): a pair
    of shoes gets a pair of socks free."""
    s01 = make_location(db, "S01", ships=True)
    make_register(db, s01, "S01-R1")
    tee = make_variant(db, sku="TEE", price=2000, stock={s01: 20})
    shoe = make_variant(db, sku="SHOE", price=5000, stock={s01: 20})
    sock = make_variant(db, sku="SOCK", price=500, stock={s01: 20})
    admin = token_for(db, settings, "admin1", "admin")
    pair = {"code": "tee-pair", "name": "Tees: buy one get one", "kind": "buy_x_get_y"}
    pair |= {"buy_quantity": 1, "get_quantity": 1, "target": {"variant_ids": [str(tee.id)]}}
    socks = {"code": "shoe-socks", "name": "Free socks with shoes", "kind": "buy_x_get_y"}
    socks |= {"buy_quantity": 1, "get_quantity": 1, "target": {"variant_ids": [str(shoe.id)]}}
    socks |= {"get_target": {"variant_ids": [str(sock.id)]}}
    ids = {}
    for body in (pair, socks):
        r = client.post("/api/v1/promotions", json=body, headers=admin)
        assert r.status_code == 201, r.text
        ids[body["code"]] = r.json()["id"]
    return {
        "cashier": token_for(db, settings, "till1", "cashier", ["S01"]),
        "web": token_for(db, settings, "web", "manager"),
        "ids": ids,
    }


def sell(client, shop, lines: list[dict[str, Any]]) -> dict[str, Any]:
    body = {"id": str(uuid7()), "location": "S01", "register": "S01-R1", "lines": lines}
    body["payments"] = [{"method": "cash", "amount": 100000}]
    r = client.post("/api/v1/sales", json=body, headers=shop["cashier"])
    assert r.status_code == 201, r.text
    return r.json()


def stored_groups(db, sale_id: str) -> list[dict[str, Any]]:
    with db.uow(write=False) as uow:
        return uow.session.get_one(Sale, uuid.UUID(sale_id)).promotion_groups


def by_promotion(groups: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {g["promotion_id"]: g for g in groups}


def test_a_sale_stores_the_units_each_buy_x_get_y_claimed_by_line_number(client, db, shop):
    sale = sell(
        client,
        shop,
        [
            {"sku": "TEE", "quantity": 3},  # line 1: one pair and one tee at full price
            {"sku": "SHOE", "quantity": 1},  # line 2: earns one pair of socks
            {"sku": "SOCK", "quantity": 2},  # line 3: one free, one paid
        ],
    )
    assert sale["discount_total"] == 2000 + 500
    groups = by_promotion(stored_groups(db, sale["id"]))
    assert groups == {
        shop["ids"]["tee-pair"]: {
            "promotion_id": shop["ids"]["tee-pair"],
            "kind": "buy_x_get_y",
            "buy": 1,
            "get": 1,
            "qualifying": {"1": 1},
            "reward": {"1": 1},
            "discount": 2000,
            "discounts": {"1": 2000},
        },
        shop["ids"]["shoe-socks"]: {
            "promotion_id": shop["ids"]["shoe-socks"],
            "kind": "buy_x_get_y",
            "buy": 1,
            "get": 1,
            "qualifying": {"2": 1},
            "reward": {"3": 1},
            "discount": 500,
            "discounts": {"3": 500},
        },
    }
    # what is stored reads back as the returns rule's groups
    read = [Group.from_json(g) for g in stored_groups(db, sale["id"])]
    assert sorted(g.discount for g in read) == [500, 2000]


def test_a_sale_without_a_buy_x_get_y_stores_no_groups(client, db, shop):
    sale = sell(client, shop, [{"sku": "SHOE", "quantity": 1}])
    assert sale["discount_total"] == 0
    assert stored_groups(db, sale["id"]) == []


def test_an_order_keeps_its_groups_in_its_pricing_by_order_line_number(client, db, shop):
    body = {
        "channel": "web",
        "customer_name": "Ada Lovelace",
        "email": "ada@example.com",
        "ship_to": CUSTOMER,
        "lines": [{"sku": "SOCK", "quantity": 1}, {"sku": "TEE", "quantity": 2}],
    }
    r = client.post("/api/v1/orders", json=body, headers=shop["web"])
    assert r.status_code == 201, r.text
    assert r.json()["discount_total"] == 2000
    with db.uow(write=False) as uow:
        pricing = uow.session.get_one(Order, uuid.UUID(r.json()["id"])).pricing
    assert pricing["promotion_groups"] == [
        {
            "promotion_id": shop["ids"]["tee-pair"],
            "kind": "buy_x_get_y",
            "buy": 1,
            "get": 1,
            "qualifying": {"2": 1},
            "reward": {"2": 1},
            "discount": 2000,
            "discounts": {"2": 2000},
        }
    ]
    # the order's lines keep their unit discounts too: the tee pair is 10.00 off each unit
    assert pricing["lines"][1]["unit_discounts"] == [1000, 1000]

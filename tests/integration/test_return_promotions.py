"""Returns of buy-X-get-Y purchases and of sales with an order discount, through the API:
the shoe that earned free socks comes back while the socks stay, and the free socks refund
nothing; an order discount is refunded as it was prorated over the lines."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from omnitill.adapters.db.models import SaleLine
from omnitill.domain.ids import uuid7
from tests.factories import make_location, make_register, make_variant, token_for


@pytest.fixture
def shop(client, db, settings) -> dict[str, Any]:
    s01 = make_location(db, "S01", tax_rate="0")
    make_register(db, s01, "S01-R1")
    shoe = make_variant(db, sku="SHOE", price=5000, stock={s01: 20})
    sock = make_variant(db, sku="SOCK", price=500, stock={s01: 20})
    make_variant(db, sku="CAP", price=1500, stock={s01: 20})
    admin = token_for(db, settings, "admin1", "admin")
    socks = {"code": "shoe-socks", "name": "Free socks with shoes", "kind": "buy_x_get_y"}
    socks |= {"buy_quantity": 1, "get_quantity": 1, "target": {"variant_ids": [str(shoe.id)]}}
    socks |= {"get_target": {"variant_ids": [str(sock.id)]}}
    r = client.post("/api/v1/promotions", json=socks, headers=admin)
    assert r.status_code == 201, r.text
    return {"cashier": token_for(db, settings, "till1", "cashier", ["S01"]), "admin": admin}


def sell(client, shop, lines, coupons=()):
    body = {"id": str(uuid7()), "location": "S01", "register": "S01-R1", "lines": lines}
    body["payments"] = [{"method": "cash", "amount": 100000}]
    if coupons:
        body["coupons"] = list(coupons)
    r = client.post("/api/v1/sales", json=body, headers=shop["cashier"])
    assert r.status_code == 201, r.text
    return r.json()


def line_ids(db, sale):
    with db.uow(write=False) as uow:
        rows = uow.session.scalars(
            select(SaleLine).where(SaleLine.sale_id == uuid.UUID(sale["id"]))
        ).all()
        return {x.sku: str(x.id) for x in rows}


def give_back(client, shop, sale, lines):
    return client.post(
        "/api/v1/returns",
        headers=shop["cashier"],
        json={
            "id": str(uuid.uuid4()),
            "location": "S01",
            "register": "S01-R1",
            "sale_id": sale["id"],
            "lines": [
                {
                    "line_id": line_id,
                    "quantity": 1,
                    "reason": "changed_mind",
                    "condition": "unopened",
                    "disposition": "resalable",
                }
                for line_id in lines
            ],
        },
    )


def test_the_shoe_comes_back_without_the_free_socks_and_their_benefit_is_charged_back(
    client, db, shop
):
    sale = sell(client, shop, [{"sku": "SHOE", "quantity": 1}, {"sku": "SOCK", "quantity": 1}])
    assert sale["total"] == 5000  # the socks were free
    ids = line_ids(db, sale)
    r = give_back(client, shop, sale, [ids["SHOE"]])
    assert r.status_code == 201, r.text
    ret = r.json()
    (line,) = ret["lines"]
    assert (line["refund"], line["chargeback"]) == (5000, 500)
    assert ret["refund_total"] == ret["refunded"] == 4500
    assert "returns.promotion_chargeback" in [x["code"] for x in line["reasons"]]
    # the socks come back later: they paid for themselves through the charge-back
    r = give_back(client, shop, sale, [ids["SOCK"]])
    assert r.status_code == 201, r.text
    later = r.json()
    assert later["refund_total"] == 500
    assert later["lines"][0]["chargeback"] == -500
    assert ret["refund_total"] + later["refund_total"] == sale["total"]


def test_the_free_socks_alone_refund_nothing_and_the_pair_together_refunds_what_was_paid(
    client, db, shop
):
    sale = sell(client, shop, [{"sku": "SHOE", "quantity": 1}, {"sku": "SOCK", "quantity": 1}])
    ids = line_ids(db, sale)
    socks = give_back(client, shop, sale, [ids["SOCK"]])
    assert socks.status_code == 201, socks.text
    assert socks.json()["refund_total"] == 0
    other = sell(client, shop, [{"sku": "SHOE", "quantity": 1}, {"sku": "SOCK", "quantity": 1}])
    both = give_back(client, shop, other, list(line_ids(db, other).values())).json()
    assert both["refund_total"] == other["total"] == 5000
    assert [x["chargeback"] for x in both["lines"]] == [0, 0]


def test_an_order_discount_is_refunded_as_it_was_prorated_over_the_lines(client, db, shop):
    promo = {"code": "ten-off", "name": "10.00 off 60.00", "kind": "order_amount"}
    promo |= {"amount": 1000, "min_spend": 6000, "stacking": "order", "currency": "USD"}
    r = client.post("/api/v1/promotions", json=promo, headers=shop["admin"])
    assert r.status_code == 201, r.text
    sale = sell(client, shop, [{"sku": "SHOE", "quantity": 1}, {"sku": "CAP", "quantity": 1}])
    assert sale["total"] == 5500
    paid = {x["sku"]: x["total"] for x in sale["lines"]}
    assert sum(paid.values()) == 5500
    ids = line_ids(db, sale)
    cap = give_back(client, shop, sale, [ids["CAP"]]).json()
    assert cap["refund_total"] == paid["CAP"] < 1500
    shoe = give_back(client, shop, sale, [ids["SHOE"]]).json()
    assert cap["refund_total"] + shoe["refund_total"] == sale["total"]

"""Endless aisle and backorders over HTTP (SQLite and PostgreSQL): a register sees a SKU's
stock everywhere, nearest first, previews where an order would go, places it for the
customer; a special order waits for stock and is allocated when stock arrives."""

from __future__ import annotations

import uuid
from decimal import Decimal

from omnitill.adapters.carriers.sandbox import SandboxCarrier
from omnitill.adapters.payments.sandbox import SandboxGateway
from omnitill.services import order_maintenance, stock
from tests.factories import make_location, make_register, make_variant, token_for

NYC = {"latitude": Decimal("40.7580"), "longitude": Decimal("-73.9855")}
BKN = {"latitude": Decimal("40.6782"), "longitude": Decimal("-73.9442")}
BOS = {"latitude": Decimal("42.3601"), "longitude": Decimal("-71.0589")}
CUSTOMER = {"country": "US", "region": "NY", "latitude": 40.73, "longitude": -73.99}


def setup(db, settings):
    s01 = make_location(db, "S01", ships=True, offers_pickup=True, **NYC)
    s02 = make_location(db, "S02", ships=True, offers_pickup=True, **BKN)
    w01 = make_location(db, "W01", kind="warehouse", ships=True, **BOS)
    make_register(db, s01)
    make_variant(db, sku="BOOT", price=12000, stock={s02: 2, w01: 7})
    return (
        token_for(db, settings, "clerk", "cashier", ["S01"]),
        token_for(db, settings, "boss", "manager"),
    )


def test_a_register_sees_stock_everywhere_nearest_first(client, db, settings):
    clerk, _ = setup(db, settings)
    r = client.get(
        "/api/v1/orders/availability", params={"sku": "BOOT", "near": "S01"}, headers=clerk
    )
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(x["location"], x["available"]) for x in items] == [
        ("S01", 0),
        ("S02", 2),
        ("W01", 7),
    ]
    assert items[0]["distance_km"] == 0.0
    assert 8 < items[1]["distance_km"] < 12
    unknown = client.get("/api/v1/orders/availability", params={"sku": "NOPE"}, headers=clerk)
    assert unknown.status_code == 422


def test_endless_aisle_previews_then_orders_from_the_best_source(client, db, settings):
    clerk, _ = setup(db, settings)
    preview = client.post(
        "/api/v1/orders/route-preview",
        headers=clerk,
        json={"lines": [{"sku": "BOOT", "quantity": 1}], "ship_to": CUSTOMER},
    ).json()
    assert [a["location"] for a in preview["assignments"]] == ["S02"]
    assert preview["explanation"]["decisions"][0]["rule"] == "closest"
    r = client.post(
        "/api/v1/orders",
        headers=clerk,
        json={
            "channel": "in_store",
            "register": "S01-R1",
            "customer_name": "Grace Hopper",
            "email": "grace@example.com",
            "lines": [{"sku": "BOOT", "quantity": 1}],
            "ship_to": CUSTOMER,
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["fulfillments"][0]["location"] == "S02"
    assert body["balance_due"] == body["total"]
    # the clerk at S01 sees the order the till took, though S02 fulfils it
    mine = client.get("/api/v1/orders", params={"channel": "in_store"}, headers=clerk).json()
    assert [o["number"] for o in mine["items"]] == [body["number"]]
    assert stock.verify(db=db) == []


def test_a_special_order_waits_for_stock_and_is_allocated_when_it_comes(client, db, settings):
    clerk, boss = setup(db, settings)
    r = client.post(
        "/api/v1/orders",
        headers=clerk,
        json={
            "channel": "in_store",
            "kind": "special_order",
            "register": "S01-R1",
            "customer_name": "Grace Hopper",
            "phone": "+12125550100",
            "lines": [{"sku": "BOOT", "quantity": 12}],
            "ship_to": CUSTOMER,
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "backordered"
    assert body["kind"] == "special_order"
    assert body["deposit_required"] == (body["total"] + 1) // 2
    assert body["lines"][0]["quantity_backordered"] == 3
    assert sum(f["lines"][0]["quantity"] for f in body["fulfillments"]) == 9
    nothing = client.post(f"/api/v1/orders/{body['id']}/allocate", headers=boss)
    assert nothing.status_code == 200
    assert nothing.json()["lines"][0]["quantity_backordered"] == 3
    client.post(
        "/api/v1/stock/receipts",
        headers=boss,
        json={"location": "W01", "lines": [{"sku": "BOOT", "quantity": 5}]},
    )
    # the server's order sweep routes backorders against the stock that has arrived
    swept = order_maintenance.sweep(
        db=db,
        gateway=SandboxGateway(),
        carrier=SandboxCarrier(),
        notifier=None,
    )
    assert swept.allocated == 1
    done = client.get(f"/api/v1/orders/{body['id']}", headers=boss).json()
    assert done["lines"][0]["quantity_backordered"] == 0
    assert done["status"] == "placed"
    assert sum(f["lines"][0]["quantity"] for f in done["fulfillments"]) == 12
    again = client.post(f"/api/v1/orders/{body['id']}/allocate", headers=boss)
    assert again.status_code == 409
    assert again.json()["code"] == "order.nothing_backordered"
    assert stock.verify(db=db) == []


def test_a_special_order_needs_a_register(client, db, settings):
    clerk, _ = setup(db, settings)
    r = client.post(
        "/api/v1/orders",
        headers=clerk,
        json={
            "channel": "in_store",
            "kind": "layaway",
            "lines": [{"sku": "BOOT", "quantity": 1, "method": "pickup"}],
            "pickup_location": "S01",
            "email": "x@example.com",
        },
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "register"


def test_pick_up_here_brings_the_item_from_the_best_store_by_transfer(client, db, settings):
    clerk, boss = setup(db, settings)
    s02 = token_for(db, settings, "clerk2", "cashier", ["S02"])
    r = client.post(
        "/api/v1/orders",
        headers=clerk,
        json={
            "channel": "in_store",
            "register": "S01-R1",
            "customer_name": "Grace Hopper",
            "email": "grace@example.com",
            "pickup_location": "S01",
            "pickup_by_transfer": True,
            "lines": [{"sku": "BOOT", "quantity": 1, "method": "pickup"}],
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    [move] = body["fulfillments"]
    assert (move["location"], move["method"], move["status"]) == ("S02", "transfer", "assigned")
    assert body["routing"]["transfer"]["decisions"][0]["location"] == "S02"
    assert level(client, boss, "BOOT", "S02")["reserved"] == 1
    # without the transfer the store cannot take it
    refused = client.post(
        "/api/v1/orders",
        headers=clerk,
        json={
            "channel": "in_store",
            "register": "S01-R1",
            "customer_name": "Grace Hopper",
            "email": "grace@example.com",
            "pickup_location": "S01",
            "lines": [{"sku": "BOOT", "quantity": 1, "method": "pickup"}],
        },
    )
    assert refused.status_code == 409
    base = f"/api/v1/orders/{body['id']}/fulfillments/{move['id']}"
    for action in ("accept", "pick", "pack", "ship"):
        assert client.post(f"{base}/{action}", headers=s02).status_code == 200, action
    s02_boot, s01_boot = level(client, boss, "BOOT", "S02"), level(client, boss, "BOOT", "S01")
    assert (s02_boot["on_hand"], s02_boot["reserved"]) == (1, 0)
    assert s01_boot["in_transit"] == 1
    arrived = client.post(f"{base}/deliver", headers=clerk)
    assert arrived.status_code == 200, arrived.text
    got = arrived.json()
    assert got["status"] == "in_progress"
    pickup = got["fulfillments"][1]
    assert (pickup["location"], pickup["method"], pickup["status"]) == ("S01", "pickup", "assigned")
    s01_boot = level(client, boss, "BOOT", "S01")
    assert (s01_boot["on_hand"], s01_boot["reserved"], s01_boot["in_transit"]) == (1, 1, 0)
    paid = client.post(
        f"/api/v1/orders/{body['id']}/payments",
        headers=clerk,
        json={
            "id": str(uuid.uuid4()),
            "register": "S01-R1",
            "payments": [{"method": "cash", "amount": body["total"]}],
        },
    )
    assert paid.status_code == 201, paid.text
    here = f"/api/v1/orders/{body['id']}/fulfillments/{pickup['id']}"
    assert client.post(f"{here}/ready", headers=clerk).status_code == 200
    done = client.post(
        f"{here}/pick_up", headers=clerk, json={"number": body["number"], "name": "grace hopper"}
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    assert level(client, boss, "BOOT", "S01")["on_hand"] == 0
    assert stock.verify(db=db) == []


def level(client, headers, sku, location):
    return client.get(
        "/api/v1/stock", params={"sku": sku, "location": location}, headers=headers
    ).json()["items"][0]

"""Orders over HTTP on SQLite and PostgreSQL: placing (priced, routed, reserved, authorized),
refusals that leave nothing behind, the fulfillment steps, rejection and re-routing,
cancellation, capture when everything was handed over."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from omnitill.adapters.db.models import (
    Order,
    OrderEvent,
    OutboxEvent,
    Payment,
    Reservation,
)
from omnitill.adapters.payments.sandbox import SandboxGateway, SandboxTerminal
from omnitill.services import stock
from tests.factories import make_location, make_variant, token_for

VISA = "4242424242424242"
DECLINED = "4000000000000002"

# Manhattan, Brooklyn, Boston: a New York customer is closer to S01 than to S02.
NYC = {"latitude": Decimal("40.7580"), "longitude": Decimal("-73.9855")}
BKN = {"latitude": Decimal("40.6782"), "longitude": Decimal("-73.9442")}
BOS = {"latitude": Decimal("42.3601"), "longitude": Decimal("-71.0589")}
CUSTOMER = {"country": "US", "region": "NY", "latitude": 40.7306, "longitude": -73.9866}


@pytest.fixture
def shop(client, db, settings):
    s01 = make_location(db, "S01", ships=True, offers_pickup=True, offers_curbside=True, **NYC)
    s02 = make_location(db, "S02", ships=True, offers_pickup=True, **BKN)
    w01 = make_location(db, "W01", kind="warehouse", ships=True, **BOS)
    make_variant(db, sku="TEE", price=2000, stock={s01: 5, s02: 5, w01: 50})
    make_variant(db, sku="MUG", price=1200, stock={s02: 3})
    gateway = SandboxGateway(settings.data_dir / "sandbox.db")
    client.app.state.gateway = gateway
    terminal = SandboxTerminal(gateway.public_key_pem())
    return {
        "web": token_for(db, settings, "web", "manager"),
        "s01": token_for(db, settings, "clerk1", "cashier", ["S01"]),
        "s02": token_for(db, settings, "clerk2", "cashier", ["S02"]),
        "gateway": gateway,
        "token": lambda pan=VISA: gateway.tokenize(terminal.read_card(pan, 12, 2031)).token,
    }


def order(client, shop, lines, **extra):
    body = {
        "channel": "web",
        "customer_name": "Ada Lovelace",
        "email": "ada@example.com",
        "lines": lines,
        **extra,
    }
    return client.post("/api/v1/orders", headers=shop["web"], json=body)


def level(client, headers, sku, location):
    items = client.get(
        "/api/v1/stock", params={"sku": sku, "location": location}, headers=headers
    ).json()["items"]
    return items[0]


def count(db, model, *where):
    with db.uow(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_shipped_order_goes_to_the_closest_location_and_holds_its_stock(client, db, shop):
    r = order(
        client,
        shop,
        [{"sku": "TEE", "quantity": 2}],
        ship_to=CUSTOMER,
        shipping=500,
        card_token=shop["token"](),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "placed"
    assert body["number"].startswith("#1000")
    assert body["subtotal"] == 4000
    assert body["shipping"] == 500
    assert body["total"] == body["subtotal"] - body["discount_total"] + body["tax_total"] + 500
    assert body["authorized"] == body["total"]
    assert body["paid"] == 0
    [f] = body["fulfillments"]
    assert (f["location"], f["method"], f["status"]) == ("S01", "ship", "assigned")
    assert f["lines"] == [{"line_no": 1, "sku": "TEE", "quantity": 2, "quantity_cancelled": 0}]
    decision = body["routing"]["decisions"][0]
    assert decision["location"] == "S01"
    assert decision["rule"] == "closest"
    assert [p["card_last4"] for p in body["payments"]] == ["4242"]
    assert body["payments"][0]["entry_mode"] == "online"
    assert [e["kind"] for e in body["timeline"]] == [
        "placed",
        "routed",
        "payment_authorized",
        "announced",
    ]
    s01 = level(client, shop["web"], "TEE", "S01")
    assert (s01["on_hand"], s01["reserved"]) == (5, 2)
    with db.uow(write=False) as uow:
        placed = uow.session.scalars(
            select(OutboxEvent).where(OutboxEvent.topic == "order.placed")
        ).one()
    assert placed.location_codes == ["S01"]
    assert placed.channel == "web"
    assert stock.verify(db=db) == []


def test_the_same_order_id_replays_and_a_different_body_is_refused(client, db, shop):
    oid = str(uuid.uuid4())
    first = order(client, shop, [{"sku": "TEE", "quantity": 1}], ship_to=CUSTOMER, id=oid)
    again = order(client, shop, [{"sku": "TEE", "quantity": 1}], ship_to=CUSTOMER, id=oid)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["number"] == first.json()["number"]
    other = order(client, shop, [{"sku": "TEE", "quantity": 3}], ship_to=CUSTOMER, id=oid)
    assert other.status_code == 422
    assert other.json()["code"] == "order.id_reused"
    assert count(db, Order) == 1
    assert level(client, shop["web"], "TEE", "S01")["reserved"] == 1


def test_no_stock_anywhere_lists_every_short_line_and_writes_nothing(client, db, shop):
    r = order(
        client,
        shop,
        [{"sku": "TEE", "quantity": 61}, {"sku": "MUG", "quantity": 4}],
        ship_to=CUSTOMER,
    )
    assert r.status_code == 409
    problem = r.json()
    assert problem["code"] == "order.insufficient_stock"
    assert [e["field"] for e in problem["errors"]] == ["lines.0.quantity", "lines.1.quantity"]
    assert [x["short"] for x in problem["details"]["lines"]] == [1, 1]
    assert count(db, Order) == 0
    assert count(db, Reservation) == 0
    assert level(client, shop["web"], "TEE", "W01")["reserved"] == 0


def test_a_phone_order_backorders_what_no_location_has(client, db, shop):
    r = order(client, shop, [{"sku": "MUG", "quantity": 5}], ship_to=CUSTOMER, channel="phone")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "backordered"
    assert body["lines"][0]["quantity_backordered"] == 2
    assert body["fulfillments"][0]["lines"][0]["quantity"] == 3


@pytest.mark.parametrize(
    ("extra", "code", "field"),
    [
        ({"channel": "tiktok"}, "order.unknown_channel", "channel"),
        (
            {"channel": "marketplace", "pickup_location": "S01"},
            "order.method_not_allowed",
            "lines.0.method",
        ),
        ({"pickup_location": "W01"}, "order.pickup_not_offered", "pickup_location"),
        (
            {"pickup_location": "S02", "curbside": True},
            "order.curbside_not_offered",
            "pickup_location",
        ),
        ({"pickup_location": None}, "order.pickup_location_required", "pickup_location"),
    ],
)
def test_bad_pickup_orders_are_refused_naming_the_field(client, db, shop, extra, code, field):
    extra = {"pickup_location": "S01", **extra}
    method = "curbside" if extra.pop("curbside", False) else "pickup"
    r = order(client, shop, [{"sku": "TEE", "quantity": 1, "method": method}], **extra)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == code
    assert problem["errors"][0]["field"] == field
    assert count(db, Order) == 0


def test_local_delivery_beyond_every_radius_is_an_unroutable_address(client, db, shop):
    r = order(
        client,
        shop,
        [{"sku": "TEE", "quantity": 1, "method": "local_delivery"}],
        ship_to={"country": "US", "latitude": 34.05, "longitude": -118.24},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "order.unroutable_address"
    assert count(db, Order) == 0


def test_a_declined_card_cancels_the_order_and_releases_its_stock(client, db, shop):
    r = order(
        client,
        shop,
        [{"sku": "TEE", "quantity": 2}],
        ship_to=CUSTOMER,
        card_token=shop["token"](DECLINED),
    )
    assert r.status_code == 402
    problem = r.json()
    assert problem["code"] == "payment.declined"
    got = client.get(f"/api/v1/orders/{problem['details']['order_id']}", headers=shop["web"]).json()
    assert got["status"] == "cancelled"
    assert got["payments"][0]["decline_code"] == "do_not_honour"
    assert "order.placed" not in topics(db)
    assert level(client, shop["web"], "TEE", "S01")["reserved"] == 0
    assert stock.verify(db=db) == []


def topics(db):
    with db.uow(write=False) as uow:
        return uow.session.scalars(select(OutboxEvent.topic)).all()


def step(client, headers, body, fid, action, **json):
    return client.post(
        f"/api/v1/orders/{body['id']}/fulfillments/{fid}/{action}", headers=headers, json=json
    )


def test_ship_from_store_captures_the_card_when_everything_left(client, db, shop):
    body = order(
        client,
        shop,
        [{"sku": "TEE", "quantity": 2}],
        ship_to=CUSTOMER,
        card_token=shop["token"](),
    ).json()
    fid = body["fulfillments"][0]["id"]
    for name in ("accept", "pick", "pack"):
        r = step(client, shop["s01"], body, fid, name)
        assert r.status_code == 200, r.text
    assert step(client, shop["s02"], body, fid, "ship").status_code == 403
    shipped = step(client, shop["s01"], body, fid, "ship").json()
    assert shipped["status"] == "in_progress"
    assert shipped["paid"] == body["total"]
    assert shipped["authorized"] == 0
    assert shipped["payments"][0]["status"] == "captured"
    f = shipped["fulfillments"][0]
    assert f["status"] == "shipped"
    assert f["shipped_at"]
    assert f["accepted_at"]
    tee = level(client, shop["web"], "TEE", "S01")
    assert (tee["on_hand"], tee["reserved"]) == (3, 0)
    done = step(client, shop["s01"], body, fid, "deliver").json()
    assert done["status"] == "completed"
    assert done["completed_at"]
    again = step(client, shop["s01"], body, fid, "ship")
    assert again.status_code == 409
    assert again.json()["code"] == "order.already_shipped"
    assert stock.verify(db=db) == []


def test_a_rejection_reroutes_to_the_next_location_and_moves_the_reservation(client, db, shop):
    body = order(client, shop, [{"sku": "TEE", "quantity": 2}], ship_to=CUSTOMER).json()
    fid = body["fulfillments"][0]["id"]
    r = step(client, shop["s01"], body, fid, "reject", reason="not on the shelf")
    assert r.status_code == 200, r.text
    got = r.json()
    first, second = got["fulfillments"]
    assert (first["location"], first["status"]) == ("S01", "rejected")
    assert second["location"] == "S02"
    assert second["status"] == "assigned"
    assert level(client, shop["web"], "TEE", "S01")["reserved"] == 0
    assert level(client, shop["web"], "TEE", "S02")["reserved"] == 2
    kinds = [e["kind"] for e in got["timeline"]]
    assert kinds[-2:] == ["rejected", "rerouted"]
    assert got["routing"]["rejections"] == [{"location": "S01", "line_key": "0"}]
    # S02 rejects too: the warehouse is next, never S01 again
    r = step(client, shop["s02"], got, second["id"], "reject", reason="damaged")
    third = r.json()["fulfillments"][2]
    assert third["location"] == "W01"
    assert stock.verify(db=db) == []


def test_cancelling_a_line_releases_its_units_and_captures_less(client, db, shop):
    body = order(
        client,
        shop,
        [{"sku": "TEE", "quantity": 2}, {"sku": "MUG", "quantity": 1}],
        ship_to=CUSTOMER,
        card_token=shop["token"](),
    ).json()
    r = client.post(
        f"/api/v1/orders/{body['id']}/cancel",
        headers=shop["web"],
        json={"reason": "customer changed their mind", "lines": [{"line_no": 2, "quantity": 1}]},
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["lines"][1]["quantity_cancelled"] == 1
    assert level(client, shop["web"], "MUG", "S02")["reserved"] == 0
    mug_total = body["lines"][1]["total"]
    for f in got["fulfillments"]:
        if f["status"] == "cancelled":
            continue
        headers = shop["s01"] if f["location"] == "S01" else shop["web"]
        step(client, headers, body, f["id"], "ship")
    final = client.get(f"/api/v1/orders/{body['id']}", headers=shop["web"]).json()
    assert final["paid"] == body["total"] - mug_total
    with db.uow(write=False) as uow:
        card = uow.session.scalars(select(Payment)).one()
    assert card.status == "captured"
    assert card.amount_minor == body["total"] - mug_total


def test_cancelling_the_whole_order_voids_the_authorization(client, db, shop):
    body = order(
        client,
        shop,
        [{"sku": "TEE", "quantity": 2}],
        ship_to=CUSTOMER,
        card_token=shop["token"](),
    ).json()
    r = client.post(
        f"/api/v1/orders/{body['id']}/cancel", headers=shop["web"], json={"reason": "fraud check"}
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["status"] == "cancelled"
    assert got["authorized"] == 0
    assert got["payments"][0]["status"] == "voided"
    assert level(client, shop["web"], "TEE", "S01")["reserved"] == 0
    again = client.post(
        f"/api/v1/orders/{body['id']}/cancel", headers=shop["web"], json={"reason": "again"}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "order.not_cancellable"


def test_a_shipped_line_cannot_be_cancelled(client, db, shop):
    body = order(client, shop, [{"sku": "TEE", "quantity": 2}], ship_to=CUSTOMER).json()
    fid = body["fulfillments"][0]["id"]
    step(client, shop["s01"], body, fid, "ship")
    r = client.post(
        f"/api/v1/orders/{body['id']}/cancel",
        headers=shop["web"],
        json={"reason": "too late", "lines": [{"line_no": 1, "quantity": 1}]},
    )
    assert r.status_code == 409
    assert r.json()["code"] == "order.already_shipped"
    assert count(db, OrderEvent, OrderEvent.kind == "lines_cancelled") == 0


def test_bopis_pickup_is_verified_by_number_and_name(client, db, shop):
    body = order(
        client, shop, [{"sku": "TEE", "quantity": 1, "method": "pickup"}], pickup_location="S01"
    ).json()
    assert body["pickup_location"] == "S01"
    fid = body["fulfillments"][0]["id"]
    assert step(client, shop["s01"], body, fid, "ship").status_code == 409
    ready = step(client, shop["s01"], body, fid, "ready").json()
    assert ready["fulfillments"][0]["ready_at"]
    wrong = step(client, shop["s01"], body, fid, "pick_up", number=body["number"], name="Bob")
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "order.pickup_identity_mismatch"
    due = step(
        client, shop["s01"], body, fid, "pick_up", number=body["number"], name="ada  LOVELACE"
    )
    assert due.status_code == 409
    assert due.json()["code"] == "order.balance_due"


def test_a_location_picks_from_one_list_across_its_orders(client, db, shop):
    first = order(client, shop, [{"sku": "TEE", "quantity": 2}], ship_to=CUSTOMER).json()
    second = order(
        client,
        shop,
        [{"sku": "TEE", "quantity": 1, "method": "pickup"}],
        pickup_location="S01",
    ).json()
    got = client.get("/api/v1/orders/pick-list", params={"location": "S01"}, headers=shop["s01"])
    assert got.status_code == 200, got.text
    [tee] = got.json()["items"]
    assert tee["sku"] == "TEE"
    assert tee["quantity"] == 3
    assert [(o["number"], o["quantity"]) for o in tee["orders"]] == [
        (first["number"], 2),
        (second["number"], 1),
    ]
    fid = second["fulfillments"][0]["id"]
    step(client, shop["s01"], second, fid, "ready")
    left = client.get("/api/v1/orders/pick-list", params={"location": "S01"}, headers=shop["s01"])
    assert left.json()["items"][0]["quantity"] == 2
    other = client.get("/api/v1/orders/pick-list", params={"location": "S01"}, headers=shop["s02"])
    assert other.status_code == 403

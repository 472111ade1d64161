"""Channels and location fulfillment settings over HTTP, and how the router uses them
(capacity, opening hours, staleness) when orders are placed; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import update

from omnitill.adapters.db.models import Location
from omnitill.adapters.db.types import utcnow
from tests.factories import make_location, make_variant, token_for

NEAR = {"latitude": Decimal("40.7580"), "longitude": Decimal("-73.9855")}
FAR = {"latitude": Decimal("42.3601"), "longitude": Decimal("-71.0589")}
CUSTOMER = {"country": "US", "latitude": 40.73, "longitude": -73.99}


def setup(db, settings):
    s01 = make_location(db, "S01", ships=True, offers_pickup=True, **NEAR)
    w01 = make_location(db, "W01", kind="warehouse", ships=True, **FAR)
    make_variant(db, sku="TEE", price=2000, stock={s01: 5, w01: 5})
    return token_for(db, settings, "admin", "admin")


def place(client, headers, **extra):
    body = {"channel": "web", "lines": [{"sku": "TEE", "quantity": 1}], "ship_to": CUSTOMER}
    return client.post("/api/v1/orders", headers=headers, json={**body, **extra})


def test_the_standard_channels_are_there_and_can_be_changed(client, db, settings):
    headers = setup(db, settings)
    got = client.get("/api/v1/channels", headers=headers).json()["items"]
    assert [c["code"] for c in got] == ["in_store", "marketplace", "phone", "social", "web"]
    r = client.put(
        "/api/v1/channels/marketplace",
        headers=headers,
        json={"fulfillment_methods": ["ship", "pickup"], "allows_backorder": True},
    )
    assert r.status_code == 200
    assert r.json()["fulfillment_methods"] == ["pickup", "ship"]
    made = client.put("/api/v1/channels/etsy", headers=headers, json={"name": "Etsy"})
    assert made.status_code == 201
    assert made.json()["fulfillment_methods"] == ["ship"]
    bad = client.put(
        "/api/v1/channels/web", headers=headers, json={"fulfillment_methods": ["teleport"]}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "fulfillment_methods.0"
    off = client.put("/api/v1/channels/social", headers=headers, json={"active": False})
    assert off.status_code == 200
    assert place(client, headers, channel="social").json()["code"] == "order.unknown_channel"


def test_fulfillment_settings_round_trip_and_refuse_bad_hours(client, db, settings):
    headers = setup(db, settings)
    body = {
        "routing_rank": 2,
        "daily_order_capacity": 10,
        "opening_hours": {"mon": [["09:00", "18:00"]]},
        "order_cutoff": "17:00",
        "ships": True,
        "offers_pickup": True,
        "offers_curbside": True,
        "pickup_reminder_days": 1,
        "pickup_hold_days": 5,
    }
    r = client.put("/api/v1/locations/S01/fulfillment", headers=headers, json=body)
    assert r.status_code == 200, r.text
    got = client.get("/api/v1/locations/S01/fulfillment", headers=headers).json()
    assert got["opening_hours"] == body["opening_hours"]
    assert got["routing_rank"] == 2
    bad = client.put(
        "/api/v1/locations/S01/fulfillment",
        headers=headers,
        json={**body, "opening_hours": {"mon": [["18:00", "09:00"]], "fun": []}},
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {
        "opening_hours.mon.0",
        "opening_hours.fun",
    }
    unchanged = client.get("/api/v1/locations/S01/fulfillment", headers=headers).json()
    assert unchanged == got
    whs = client.put(
        "/api/v1/locations/W01/fulfillment", headers=headers, json={"offers_pickup": True}
    )
    assert whs.status_code == 422


def test_a_store_not_heard_from_is_not_promised(client, db, settings):
    headers = setup(db, settings)
    with db.uow() as uow:
        uow.session.execute(
            update(Location)
            .where(Location.code == "S01")
            .values(last_heard_at=utcnow() - timedelta(hours=1))
        )
        uow.commit()
    body = place(client, headers).json()
    assert body["fulfillments"][0]["location"] == "W01"
    why = [o for d in body["routing"]["decisions"] for o in d["others"] if o["location"] == "S01"]
    assert why[0]["outcome"] == "excluded"


def test_a_store_at_capacity_is_skipped_until_the_next_day(client, db, settings):
    headers = setup(db, settings)
    client.put(
        "/api/v1/locations/S01/fulfillment",
        headers=headers,
        json={"daily_order_capacity": 1, "ships": True, "offers_pickup": True},
    )
    assert place(client, headers).json()["fulfillments"][0]["location"] == "S01"
    assert place(client, headers).json()["fulfillments"][0]["location"] == "W01"


def test_a_store_past_its_order_cutoff_is_skipped(client, db, settings):
    headers = setup(db, settings)
    client.put(
        "/api/v1/locations/S01/fulfillment",
        headers=headers,
        json={"opening_hours": {}, "ships": True, "offers_pickup": True, "order_cutoff": "00:00"},
    )
    assert place(client, headers).json()["fulfillments"][0]["location"] == "W01"

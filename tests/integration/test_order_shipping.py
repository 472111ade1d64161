"""Ship from store with the sandbox carrier over HTTP (SQLite and PostgreSQL): rates, a
label bought once even across a carrier timeout, the PDF, the tracking link emailed and
texted, tracking events stored once, delivery completing the order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from omnitill.adapters.carriers.sandbox import SandboxCarrier
from omnitill.adapters.db.models import Notification, Shipment, ShipmentEvent
from omnitill.services.pickups import CustomerNotifier
from tests.factories import make_location, make_variant, token_for

STORE = {
    "latitude": Decimal("40.7580"),
    "longitude": Decimal("-73.9855"),
    "address_line1": "1 Broadway",
    "city": "New York",
    "region": "NY",
    "postal_code": "10004",
}
HOME = {
    "name": "Ada Lovelace",
    "line1": "12 Elm St",
    "city": "Albany",
    "region": "NY",
    "postal_code": "12207",
    "country": "US",
    "latitude": 42.65,
    "longitude": -73.75,
}


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def setup(client, db, settings, ship_to=HOME):
    s01 = make_location(db, "S01", ships=True, **STORE)
    make_variant(db, sku="LAMP", price=4500, stock={s01: 3})
    clock = Clock()
    client.app.state.carrier = SandboxCarrier(settings.data_dir / "carrier.db", clock=clock)
    client.app.state.notifier = CustomerNotifier(settings)
    web = token_for(db, settings, "web", "manager")
    order = client.post(
        "/api/v1/orders",
        headers=web,
        json={
            "channel": "web",
            "customer_name": "Ada Lovelace",
            "phone": "+12125550123",
            "lines": [{"sku": "LAMP", "quantity": 1}],
            "ship_to": ship_to,
        },
    ).json()
    fid = order["fulfillments"][0]["id"]
    return order, f"/api/v1/orders/{order['id']}/fulfillments/{fid}", web, clock


def count(db, model):
    with db.uow(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_ship_with_a_label_then_follow_the_parcel_to_delivery(client, db, settings):
    order, base, web, clock = setup(client, db, settings)
    rates = client.get(f"{base}/rates", params={"weight_grams": 900}, headers=web)
    assert rates.status_code == 200, rates.text
    items = rates.json()["items"]
    assert [r["amount"] for r in items] == sorted(r["amount"] for r in items)
    shipped = client.post(
        f"{base}/ship", headers=web, json={"label": {"service": "ground", "weight_grams": 900}}
    )
    assert shipped.status_code == 200, shipped.text
    body = shipped.json()
    [parcel] = body["fulfillments"][0]["shipments"]
    assert parcel["tracking_number"].startswith("OT1Z")
    assert parcel["status"] == "label_created"
    shipped_entry = next(e for e in body["timeline"] if e["kind"] == "shipped")
    assert shipped_entry["data"]["tracking_number"] == parcel["tracking_number"], body["timeline"]
    pdf = client.get(f"/api/v1/shipments/{parcel['tracking_number']}/label", headers=web)
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    with db.uow(write=False) as uow:
        texts = uow.session.scalars(select(Notification.template)).all()
    assert texts == ["shipped"]

    clock.now += timedelta(hours=3)
    moving = client.post(f"/api/v1/shipments/{parcel['tracking_number']}/refresh", headers=web)
    assert moving.json()["status"] == "in_transit"
    again = client.post(f"/api/v1/shipments/{parcel['tracking_number']}/refresh", headers=web)
    assert len(again.json()["events"]) == len(moving.json()["events"])
    clock.now += timedelta(days=3)
    client.post(f"/api/v1/shipments/{parcel['tracking_number']}/refresh", headers=web)
    done = client.get(f"/api/v1/orders/{order['id']}", headers=web).json()
    assert done["status"] == "completed"
    assert done["fulfillments"][0]["status"] == "delivered"
    public = client.get(f"/track/{parcel['tracking_number']}").json()
    assert public["status"] == "delivered"
    assert count(db, ShipmentEvent) == len(public["events"])


def test_a_carrier_timeout_never_buys_two_labels(client, db, settings):
    order, base, web, _ = setup(client, db, settings, ship_to={**HOME, "postal_code": "99999"})
    label = {"label": {"service": "ground", "weight_grams": 500}}
    lost = client.post(f"{base}/ship", headers=web, json=label)
    assert lost.status_code == 504
    assert lost.json()["code"] == "carrier.timeout"
    assert count(db, Shipment) == 0
    got = client.get(f"/api/v1/orders/{order['id']}", headers=web).json()
    assert got["fulfillments"][0]["status"] == "assigned"


def test_an_undeliverable_address_is_refused_and_nothing_ships(client, db, settings):
    order, base, web, _ = setup(client, db, settings, ship_to={**HOME, "postal_code": "00000"})
    r = client.post(
        f"{base}/ship", headers=web, json={"label": {"service": "ground", "weight_grams": 500}}
    )
    assert r.status_code == 422
    assert r.json()["code"] == "carrier.address_undeliverable"
    got = client.get(f"/api/v1/orders/{order['id']}", headers=web).json()
    assert got["fulfillments"][0]["status"] == "assigned"
    level = client.get(
        "/api/v1/stock", params={"sku": "LAMP", "location": "S01"}, headers=web
    ).json()["items"][0]
    assert (level["on_hand"], level["reserved"]) == (3, 1)

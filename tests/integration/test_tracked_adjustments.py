"""Stock adjustments of lot- and serial-tracked variants move their lots and serials too."""

from __future__ import annotations

from datetime import timedelta

from omnitill.adapters.db.types import utcnow
from omnitill.services import stock
from tests.factories import make_location, make_variant, token_for


def adjust(client, headers, lines, reason="damaged"):
    return client.post(
        "/api/v1/stock/adjustments",
        headers=headers,
        json={"location": "S01", "reason": reason, "lines": lines},
    )


def lot_units(client, headers, sku):
    r = client.get("/api/v1/lots", params={"sku": sku}, headers=headers)
    return {x["lot"]: x["on_hand"] for x in r.json()["items"]}


def test_a_lot_tracked_adjustment_names_its_lot(client, db, settings):
    make_location(db, "S01")
    make_variant(db, sku="MILK", tracking="lot")
    admin = token_for(db, settings, "boss", "admin")
    expiry = (utcnow() + timedelta(days=10)).date().isoformat()
    found = adjust(
        client,
        admin,
        [{"sku": "MILK", "quantity": 6, "lot": {"code": "L1", "expires_on": expiry}}],
        reason="found in the back",
    )
    assert found.status_code == 201, found.text
    assert lot_units(client, admin, "MILK") == {"L1": 6}
    unnamed = adjust(client, admin, [{"sku": "MILK", "quantity": -2}])
    assert unnamed.status_code == 422
    assert unnamed.json()["errors"][0] == {
        "field": "lines.0.lot",
        "code": "inventory.lot_required",
        "message": "required",
    }
    r = adjust(client, admin, [{"sku": "MILK", "quantity": -2, "lot": {"code": "L1"}}])
    assert r.status_code == 201, r.text
    assert lot_units(client, admin, "MILK") == {"L1": 4}
    too_many = adjust(client, admin, [{"sku": "MILK", "quantity": -5, "lot": {"code": "L1"}}])
    assert too_many.status_code == 422
    assert lot_units(client, admin, "MILK") == {"L1": 4}
    assert stock.verify(db=db) == []


def test_a_serial_tracked_adjustment_names_its_serials(client, db, settings):
    make_location(db, "S01")
    make_variant(db, sku="CAM", tracking="serial")
    admin = token_for(db, settings, "boss", "admin")
    r = adjust(client, admin, [{"sku": "CAM", "quantity": 2, "serials": ["C1", "C2"]}])
    assert r.status_code == 201, r.text
    r = adjust(client, admin, [{"sku": "CAM", "quantity": -1}])
    assert r.status_code == 422
    assert r.json()["code"] == "inventory.serials_count_mismatch"
    r = adjust(client, admin, [{"sku": "CAM", "quantity": -1, "serials": ["C2"]}])
    assert r.status_code == 201, r.text
    history = client.get("/api/v1/serials/C2", headers=admin).json()
    assert history["items"][0]["status"] == "written_off"
    assert client.get("/api/v1/serials/C1", headers=admin).json()["items"][0]["status"] == (
        "in_stock"
    )
    assert stock.verify(db=db) == []

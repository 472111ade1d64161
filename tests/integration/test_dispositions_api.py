"""Dispositions (write-offs, returns to vendor) over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from sqlalchemy import func, select

from omnitill.adapters.db.models import (
    AuditEntry,
    LotBalance,
    SerialEvent,
    SerialUnit,
    StockLevel,
    StockMovement,
    Supplier,
)
from omnitill.adapters.db.types import utcnow
from omnitill.domain.errors import ValidationFailed
from omnitill.services import dispositions, lot_expiry, stock
from omnitill.services.stock_csv import actor_named
from tests.factories import PASSWORD, make_location, make_user, make_variant, token_for

DISPOSE = "/api/v1/stock/dispositions"


def row(client, headers, sku, location="S01"):
    return client.get(
        "/api/v1/stock", params={"sku": sku, "location": location}, headers=headers
    ).json()["items"][0]


def counts(db):
    with db.uow(write=False) as uow:
        return tuple(
            uow.session.scalar(select(func.count()).select_from(model))
            for model in (StockMovement, AuditEntry, SerialEvent)
        )


def movements(db, kind):
    with db.uow(write=False) as uow:
        return [
            (m.bucket, m.quantity, m.reference_type, m.reference_id)
            for m in uow.session.scalars(
                select(StockMovement).where(StockMovement.kind == kind).order_by(StockMovement.id)
            )
        ]


def make_supplier(db, code="ACME"):
    with db.uow() as uow:
        uow.session.add(Supplier(code=code, name="Acme Ltd", currency="USD"))
        uow.commit()


def move(client, headers, sku, source, target, quantity, location="S01"):
    r = client.post(
        "/api/v1/stock/moves",
        headers=headers,
        json={
            "sku": sku,
            "location": location,
            "from": source,
            "to": target,
            "quantity": quantity,
            "reason": "inspection",
        },
    )
    assert r.status_code == 201, r.text


def dispose(client, headers, **body):
    body = {"sku": "TEE", "location": "S01", "reason": "beyond repair", **body}
    return client.post(DISPOSE, headers=headers, json=body)


def setup(db, settings, on_hand=10, role="inventory"):
    s01 = make_location(db, "S01")
    variant = make_variant(db, sku="TEE", stock={s01: on_hand})
    return s01, variant, token_for(db, settings, "u1", role, ["S01"])


def test_damaged_units_are_written_off_from_on_hand_and_the_damaged_bucket(client, db, settings):
    _, _, headers = setup(db, settings)
    move(client, headers, "TEE", "sellable", "damaged", 3)
    r = dispose(client, headers, **{"from": "damaged", "action": "write_off", "quantity": 2})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["from"], body["action"], body["quantity"], body["on_hand"]) == (
        "damaged",
        "write_off",
        2,
        8,
    )
    assert body["lots"] == [{"lot": None, "quantity": 2, "serials": []}]
    assert len(body["movements"]) == 2
    level = row(client, headers, "TEE")
    assert (level["on_hand"], level["damaged"], level["available"]) == (8, 1, 7)
    assert sorted(movements(db, "write_off")) == [
        ("damaged", -2, None, None),
        ("on_hand", -2, None, None),
    ]
    with db.uow(write=False) as uow:
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "stock.disposed")
        ).one()
    assert entry.details["from"] == "damaged"
    assert entry.details["reason"] == "beyond repair"
    assert stock.verify(db=db) == []


def test_a_return_to_vendor_references_the_supplier(client, db, settings):
    _, _, headers = setup(db, settings)
    make_supplier(db, "ACME")
    move(client, headers, "TEE", "sellable", "quarantine", 4)
    r = dispose(
        client,
        headers,
        **{"from": "quarantine", "action": "return_to_vendor", "quantity": 4, "supplier": "ACME"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["supplier"] == "ACME"
    assert sorted(movements(db, "return_to_vendor")) == [
        ("on_hand", -4, "supplier", "ACME"),
        ("quarantine", -4, "supplier", "ACME"),
    ]
    level = row(client, headers, "TEE")
    assert (level["on_hand"], level["quarantine"]) == (6, 0)
    assert stock.verify(db=db) == []


def test_a_return_to_vendor_needs_a_known_supplier_and_a_write_off_names_none(client, db, settings):
    _, _, headers = setup(db, settings)
    make_supplier(db, "ACME")
    before = counts(db)
    r = dispose(
        client, headers, **{"from": "sellable", "action": "return_to_vendor", "quantity": 1}
    )
    assert r.status_code == 422
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("supplier", "inventory.supplier_required")
    ]
    r = dispose(
        client,
        headers,
        **{"from": "sellable", "action": "return_to_vendor", "quantity": 1, "supplier": "NOPE"},
    )
    assert r.json()["code"] == "supplier.not_found"
    assert [e["field"] for e in r.json()["errors"]] == ["supplier"]
    r = dispose(
        client,
        headers,
        **{"from": "sellable", "action": "write_off", "quantity": 1, "supplier": "ACME"},
    )
    assert r.json()["code"] == "inventory.supplier_not_expected"
    assert counts(db) == before
    assert row(client, headers, "TEE")["on_hand"] == 10


def test_only_free_sellable_units_can_be_disposed_of(client, db, settings):
    _, _, headers = setup(db, settings, on_hand=5)
    reserved = client.post(
        "/api/v1/reservations",
        headers=headers,
        json={
            "reference": {"type": "order", "id": "W-9"},
            "location": "S01",
            "lines": [{"sku": "TEE", "quantity": 3}],
        },
    )
    assert reserved.status_code == 201, reserved.text
    before = counts(db)
    r = dispose(client, headers, **{"from": "sellable", "action": "write_off", "quantity": 3})
    assert r.status_code == 422
    assert r.json()["code"] == "inventory.bucket_insufficient"
    assert [e["field"] for e in r.json()["errors"]] == ["quantity"]
    assert counts(db) == before
    r = dispose(client, headers, **{"from": "sellable", "action": "write_off", "quantity": 2})
    assert r.status_code == 201, r.text
    assert movements(db, "write_off") == [("on_hand", -2, None, None)]  # sellable has no column
    level = row(client, headers, "TEE")
    assert (level["on_hand"], level["reserved"], level["available"]) == (3, 3, 0)
    assert stock.verify(db=db) == []


def test_an_empty_bucket_cannot_be_disposed_of(client, db, settings):
    _, _, headers = setup(db, settings)
    before = counts(db)
    for source in ("damaged", "expired", "qc"):
        r = dispose(client, headers, **{"from": source, "action": "write_off", "quantity": 1})
        assert r.status_code == 422
        assert r.json()["code"] == "inventory.bucket_insufficient"
    assert counts(db) == before
    assert row(client, headers, "TEE")["on_hand"] == 10


def test_bad_requests_name_each_field_and_write_nothing(client, db, settings):
    _, _, headers = setup(db, settings)
    before = counts(db)
    r = dispose(
        client, headers, **{"from": "reserved", "action": "burn", "quantity": 0, "reason": " "}
    )
    assert r.status_code == 422
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("from", "inventory.unknown_bucket"),
        ("action", "inventory.unknown_action"),
        ("quantity", "inventory.invalid_quantity"),
        ("reason", "stock.reason_required"),
    ]
    r = dispose(
        client, headers, sku="NOPE", **{"from": "sellable", "action": "write_off", "quantity": 1}
    )
    assert (r.json()["code"], r.json()["errors"][0]["field"]) == ("catalog.unknown_sku", "sku")
    r = dispose(
        client, headers, lot="L1", **{"from": "sellable", "action": "write_off", "quantity": 1}
    )
    assert r.json()["code"] == "inventory.not_tracked"
    assert [e["field"] for e in r.json()["errors"]] == ["lot"]
    assert counts(db) == before
    assert row(client, headers, "TEE")["on_hand"] == 10


def test_a_cashier_disposes_only_with_a_manager_override(client, db, settings):
    _, _, _ = setup(db, settings)
    make_user(db, "boss", "manager", ["S01"])
    cashier = token_for(db, settings, "c1", "cashier", ["S01"])
    body = {"from": "sellable", "action": "write_off", "quantity": 1}
    r = dispose(client, cashier, **body)
    assert r.status_code == 403
    assert r.json()["code"] == "auth.permission_denied"
    grant = client.post(
        "/api/v1/overrides",
        headers=cashier,
        json={
            "manager_username": "boss",
            "manager_password": PASSWORD,
            "permission": "stock.adjust",
            "reason": "dropped a jar",
        },
    ).json()
    r = dispose(client, {**cashier, "X-Manager-Override": grant["override_token"]}, **body)
    assert r.status_code == 201, r.text
    with db.uow(write=False) as uow:
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "stock.disposed")
        ).one()
    assert (entry.actor, entry.details["via"], entry.details["approved_by"]) == (
        "c1",
        "manager_override",
        "boss",
    )
    assert stock.verify(db=db) == []


def test_staff_dispose_only_at_their_own_stores(client, db, settings):
    make_location(db, "S02")
    _, _, _ = setup(db, settings)
    headers = token_for(db, settings, "m2", "manager", ["S02"])
    r = dispose(client, headers, **{"from": "sellable", "action": "write_off", "quantity": 1})
    assert r.status_code == 403
    assert r.json()["code"] == "auth.location_forbidden"


# --- lot- and serial-tracked variants ---------------------------------------------------------


def receive(client, headers, line, location="S01"):
    r = client.post(
        "/api/v1/stock/receipts", headers=headers, json={"location": location, "lines": [line]}
    )
    assert r.status_code == 201, r.text


def test_a_lot_tracked_write_off_takes_the_first_expiring_lot_and_names_it(client, db, settings):
    s01 = make_location(db, "S01")
    make_variant(db, sku="MILK", tracking="lot", unit="ml")
    headers = token_for(db, settings, "inv", "inventory", ["S01"])
    soon, later = date.today() + timedelta(days=5), date.today() + timedelta(days=30)
    receive(
        client,
        headers,
        {"sku": "MILK", "quantity": 4, "lot": {"code": "L2", "expires_on": str(later)}},
    )
    receive(
        client,
        headers,
        {"sku": "MILK", "quantity": 3, "lot": {"code": "L1", "expires_on": str(soon)}},
    )
    r = dispose(
        client, headers, sku="MILK", **{"from": "sellable", "action": "write_off", "quantity": 5}
    )
    assert r.status_code == 201, r.text
    assert sorted((p["lot"], p["quantity"]) for p in r.json()["lots"]) == [("L1", 3), ("L2", 2)]
    with db.uow(write=False) as uow:
        lots = uow.session.scalars(
            select(StockMovement.lot_id).where(StockMovement.kind == "write_off")
        ).all()
        balances = sorted(
            b.on_hand
            for b in uow.session.scalars(select(LotBalance).where(LotBalance.location_id == s01.id))
        )
    assert len(lots) == 2
    assert None not in lots
    assert balances == [0, 2]
    r = dispose(
        client,
        headers,
        sku="MILK",
        lot="L1",  # used up: the level still holds 2 units, all of lot L2
        **{"from": "sellable", "action": "write_off", "quantity": 1},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "inventory.lot_insufficient"
    assert [e["field"] for e in r.json()["errors"]] == ["lot"]
    assert row(client, headers, "MILK")["on_hand"] == 2
    assert stock.verify(db=db) == []


def test_a_serial_returned_to_the_vendor_leaves_stock_with_its_history(client, db, settings):
    make_location(db, "S01")
    make_variant(db, sku="PHONE", tracking="serial")
    make_supplier(db, "ACME")
    headers = token_for(db, settings, "inv", "inventory", ["S01"])
    receive(client, headers, {"sku": "PHONE", "quantity": 2, "serials": ["SN-1", "SN-2"]})
    before = counts(db)
    r = dispose(
        client,
        headers,
        sku="PHONE",
        serials=["SN-9"],
        supplier="ACME",
        **{"from": "sellable", "action": "return_to_vendor", "quantity": 1},
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["serials.0"]
    assert counts(db) == before
    r = dispose(
        client,
        headers,
        sku="PHONE",
        serials=["SN-2"],
        supplier="ACME",
        **{"from": "sellable", "action": "return_to_vendor", "quantity": 1},
    )
    assert r.status_code == 201, r.text
    assert r.json()["lots"] == [{"lot": None, "quantity": 1, "serials": ["SN-2"]}]
    with db.uow(write=False) as uow:
        status = dict(uow.session.execute(select(SerialUnit.serial, SerialUnit.status)).all())
        level = uow.session.scalars(select(StockLevel)).one()
    assert status == {"SN-1": "in_stock", "SN-2": "returned_to_vendor"}
    assert level.on_hand == 1
    assert stock.verify(db=db) == []


def test_expired_lot_units_are_written_off_from_the_expired_bucket(client, db, settings):
    make_location(db, "S01")
    make_variant(db, sku="MILK", tracking="lot", unit="ml")
    headers = token_for(db, settings, "inv", "inventory", ["S01"])
    soon, later = date.today() + timedelta(days=2), date.today() + timedelta(days=60)
    receive(
        client,
        headers,
        {"sku": "MILK", "quantity": 3, "lot": {"code": "OLD", "expires_on": str(soon)}},
    )
    receive(
        client,
        headers,
        {"sku": "MILK", "quantity": 5, "lot": {"code": "NEW", "expires_on": str(later)}},
    )
    assert lot_expiry.sweep(db=db, now=utcnow() + timedelta(days=5)) == 3
    assert row(client, headers, "MILK")["expired"] == 3
    r = dispose(
        client, headers, sku="MILK", **{"from": "expired", "action": "write_off", "quantity": 4}
    )
    assert r.json()["code"] == "inventory.bucket_insufficient"
    r = dispose(
        client, headers, sku="MILK", **{"from": "expired", "action": "write_off", "quantity": 3}
    )
    assert r.status_code == 201, r.text
    assert r.json()["lots"] == [{"lot": "OLD", "quantity": 3, "serials": []}]
    assert sorted(m[:2] for m in movements(db, "write_off")) == [("expired", -3), ("on_hand", -3)]
    level = row(client, headers, "MILK")
    assert (level["on_hand"], level["expired"], level["available"]) == (5, 0, 5)
    assert stock.verify(db=db) == []


def test_concurrent_write_offs_never_take_more_than_the_bucket_holds(client, db, settings):
    _, _, headers = setup(db, settings)
    move(client, headers, "TEE", "sellable", "damaged", 5)
    actor = actor_named(db=db, username="u1")
    outcomes: list[str] = []

    def write_off() -> None:
        try:
            dispositions.dispose(
                db=db,
                actor=actor,
                data=dispositions.DispositionInput(
                    sku="TEE",
                    location="S01",
                    source="damaged",
                    action="write_off",
                    quantity=1,
                    reason="crushed",
                ),
            )
            outcomes.append("ok")
        except ValidationFailed as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=write_off) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(outcomes) == ["inventory.bucket_insufficient"] * 7 + ["ok"] * 5
    level = row(client, headers, "TEE")
    assert (level["on_hand"], level["damaged"]) == (5, 0)
    assert stock.verify(db=db) == []

"""Suppliers, purchase orders, receiving, landed cost and incoming over HTTP, on SQLite and
PostgreSQL. Every scenario ends with the stock ledger verifying."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update

from omnitill.adapters.db.models import (
    AuditEntry,
    ExchangeRate,
    GoodsReceipt,
    PurchaseOrder,
    PurchaseOrderLine,
    StockLevel,
    StockMovement,
    Supplier,
    SupplierItem,
    Transfer,
    TransferLine,
    User,
    Variant,
)
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Role
from omnitill.domain.errors import ValidationFailed
from omnitill.services import purchase_receipts, stock
from tests.factories import PASSWORD, make_location, make_user, make_variant, token_for

# --- helpers --------------------------------------------------------------------------------


def setup(db, settings, *, role="inventory", locations=None, username="buyer"):
    w01 = make_location(db, "W01", kind="warehouse")
    make_variant(db, sku="TEE", price=1500)
    make_variant(db, sku="CAP", price=2000)
    make_variant(db, sku="RICE", price=300, unit="g")
    return w01, token_for(db, settings, username, role, locations)


def new_supplier(client, headers, code="ACME", currency="USD", **extra):
    body = {"code": code, "name": f"{code} Ltd", "currency": currency, **extra}
    r = client.post("/api/v1/suppliers", headers=headers, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def new_order(client, headers, lines, *, supplier="ACME", location="W01", **extra):
    body = {"supplier": supplier, "location": location, "lines": lines, **extra}
    return client.post("/api/v1/purchase-orders", headers=headers, json=body)


def sent_order(client, headers, lines, **extra):
    r = new_order(client, headers, lines, **extra)
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    sent = client.post(f"/api/v1/purchase-orders/{number}/send", headers=headers)
    assert sent.status_code == 200, sent.text
    return number


def receive(client, headers, number, lines, **extra):
    return client.post(
        f"/api/v1/purchase-orders/{number}/receipts",
        headers=headers,
        json={"lines": lines, **extra},
    )


def level(client, headers, sku, location="W01"):
    items = client.get(
        "/api/v1/stock", params={"sku": sku, "location": location}, headers=headers
    ).json()["items"]
    return (items[0]["on_hand"], items[0]["incoming"]) if items else (0, 0)


def order(client, headers, number):
    r = client.get(f"/api/v1/purchase-orders/{number}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def movements(db, number):
    with db.uow(write=False) as uow:
        rows = uow.session.execute(
            select(StockMovement.kind, StockMovement.bucket, StockMovement.quantity, Variant.sku)
            .join(Variant, Variant.id == StockMovement.variant_id)
            .where(StockMovement.reference_id == number)
            .order_by(StockMovement.id)
        ).all()
    return [tuple(r) for r in rows]


def audit_actions(db):
    with db.uow(write=False) as uow:
        return list(uow.session.scalars(select(AuditEntry.action).order_by(AuditEntry.at)))


def snapshot(db):
    """Everything a purchasing request could write."""
    with db.uow(write=False) as uow:
        s = uow.session

        def count(model):
            return s.scalar(select(func.count()).select_from(model))

        return {
            "movements": count(StockMovement),
            "receipts": count(GoodsReceipt),
            "audit": count(AuditEntry),
            "suppliers": sorted(
                (x.code, x.name, x.currency, x.active) for x in s.scalars(select(Supplier))
            ),
            "items": sorted(
                (str(i.variant_id), i.pack_size, i.pack_cost_minor, i.preferred)
                for i in s.scalars(select(SupplierItem))
            ),
            "orders": sorted((p.number, p.status) for p in s.scalars(select(PurchaseOrder))),
            "lines": sorted(
                (str(x.id), x.quantity_ordered, x.quantity_received)
                for x in s.scalars(select(PurchaseOrderLine))
            ),
            "levels": sorted(
                (str(x.variant_id), str(x.location_id), x.on_hand, x.incoming)
                for x in s.scalars(select(StockLevel))
            ),
            "costs": sorted((v.sku, v.cost_minor) for v in s.scalars(select(Variant))),
        }


def set_cost(db, sku, cost):
    with db.uow() as uow:
        uow.session.execute(update(Variant).where(Variant.sku == sku).values(cost_minor=cost))
        uow.commit()


def add_rate(db, base, quote, rate, valid_from):
    with db.uow() as uow:
        uow.session.add(
            ExchangeRate(base=base, quote=quote, rate=Decimal(rate), valid_from=valid_from)
        )
        uow.commit()


def cost_of(db, sku):
    with db.uow(write=False) as uow:
        return uow.session.scalar(select(Variant.cost_minor).where(Variant.sku == sku))


# --- suppliers ------------------------------------------------------------------------------


def test_suppliers_are_created_read_listed_and_updated_with_audit(client, db, settings):
    _, headers = setup(db, settings)
    made = new_supplier(client, headers, email="Orders@Acme.Example", lead_time_days=10)
    assert made["email"] == "orders@acme.example"
    assert made["lead_time_days"] == 10
    new_supplier(client, headers, code="BOLT", currency="EUR")
    got = client.get("/api/v1/suppliers/ACME", headers=headers).json()
    assert (got["name"], got["currency"], got["active"]) == ("ACME Ltd", "USD", True)
    page = client.get("/api/v1/suppliers", params={"limit": 1}, headers=headers).json()
    assert [s["code"] for s in page["items"]] == ["ACME"]
    rest = client.get(
        "/api/v1/suppliers", params={"cursor": page["next_cursor"]}, headers=headers
    ).json()
    assert [s["code"] for s in rest["items"]] == ["BOLT"]
    r = client.patch(
        "/api/v1/suppliers/ACME", headers=headers, json={"active": False, "email": None}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["active"], r.json()["email"]) == (False, None)
    inactive = client.get("/api/v1/suppliers", params={"active": False}, headers=headers).json()
    assert [s["code"] for s in inactive["items"]] == ["ACME"]
    assert audit_actions(db).count("supplier.created") == 2
    assert "supplier.updated" in audit_actions(db)
    assert stock.verify(db=db) == []


def test_bad_supplier_input_names_every_field_and_writes_nothing(client, db, settings):
    _, headers = setup(db, settings)
    new_supplier(client, headers)
    before = snapshot(db)
    r = client.post(
        "/api/v1/suppliers",
        headers=headers,
        json={
            "code": "no spaces",
            "name": "X",
            "currency": "XXX",
            "email": "nope",
            "lead_time_days": -1,
        },
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == [
        "code",
        "currency",
        "email",
        "lead_time_days",
    ]
    taken = client.post(
        "/api/v1/suppliers", headers=headers, json={"code": "ACME", "name": "A", "currency": "USD"}
    )
    assert (taken.status_code, taken.json()["code"]) == (409, "supplier.code_taken")
    bad_patch = client.patch("/api/v1/suppliers/ACME", headers=headers, json={"name": None})
    assert bad_patch.json()["code"] == "supplier.not_nullable"
    missing = client.get("/api/v1/suppliers/NOPE", headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "supplier.not_found")
    assert snapshot(db) == before
    assert stock.verify(db=db) == []


def test_supplier_writes_need_purchasing_and_reads_need_stock_read(client, db, settings):
    make_location(db, "S01")
    cashier = token_for(db, settings, "c1", "cashier", ["S01"])
    analyst = token_for(db, settings, "an", "analyst")
    body = {"code": "ACME", "name": "Acme", "currency": "USD"}
    for headers in (cashier, analyst):
        r = client.post("/api/v1/suppliers", headers=headers, json=body)
        assert (r.status_code, r.json()["code"]) == (403, "auth.permission_denied")
    assert client.get("/api/v1/suppliers", headers=analyst).status_code == 200
    assert client.get("/api/v1/suppliers", headers=cashier).status_code == 200


def test_supplier_items_upsert_by_sku_and_one_supplier_is_preferred(client, db, settings):
    _, headers = setup(db, settings)
    new_supplier(client, headers)
    new_supplier(client, headers, code="BOLT")
    r = client.put(
        "/api/v1/suppliers/ACME/items",
        headers=headers,
        json={
            "items": [
                {"sku": "TEE", "supplier_sku": "A-1", "pack_size": 12, "pack_cost": 1000},
                {"sku": "CAP", "pack_cost": 700, "preferred": True},
            ]
        },
    )
    assert r.status_code == 200, r.text
    tee, cap = r.json()["items"]
    assert (tee["sku"], tee["unit_cost"], tee["unit"], tee["currency"]) == (
        "TEE",
        83,
        "each",
        "USD",
    )
    assert (cap["pack_size"], cap["unit_cost"], cap["preferred"]) == (1, 700, True)
    # BOLT becomes the preferred supplier of CAP: ACME's flag is cleared.
    client.put(
        "/api/v1/suppliers/BOLT/items",
        headers=headers,
        json={"items": [{"sku": "CAP", "pack_cost": 650, "preferred": True}]},
    )
    # Upsert: TEE changes, CAP stays.
    client.put(
        "/api/v1/suppliers/ACME/items",
        headers=headers,
        json={"items": [{"sku": "TEE", "pack_size": 6, "pack_cost": 540}]},
    )
    items = client.get("/api/v1/suppliers/ACME/items", headers=headers).json()["items"]
    assert [(i["sku"], i["pack_size"], i["unit_cost"], i["preferred"]) for i in items] == [
        ("CAP", 1, 700, False),
        ("TEE", 6, 90, False),
    ]
    assert audit_actions(db).count("supplier.items_updated") == 3
    assert stock.verify(db=db) == []


def test_bad_supplier_items_write_nothing(client, db, settings):
    _, headers = setup(db, settings)
    new_supplier(client, headers)
    before = snapshot(db)
    r = client.put(
        "/api/v1/suppliers/ACME/items",
        headers=headers,
        json={"items": [{"sku": "TEE", "pack_size": 0}, {"sku": "TEE", "pack_cost": -5}]},
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == [
        "items.0.pack_size",
        "items.1.sku",
        "items.1.pack_cost",
    ]
    unknown = client.put(
        "/api/v1/suppliers/ACME/items",
        headers=headers,
        json={"items": [{"sku": "TEE"}, {"sku": "NOPE"}]},
    )
    assert unknown.json()["code"] == "catalog.unknown_sku"
    assert [e["field"] for e in unknown.json()["errors"]] == ["items.1.sku"]
    assert snapshot(db) == before

    # --- drafts ---------------------------------------------------------------------------------
    assert stock.verify(db=db) == []


def test_a_draft_takes_quantities_or_packs_and_the_supplier_costs(client, db, settings):
    _, headers = setup(db, settings)
    new_supplier(client, headers, lead_time_days=10)
    client.put(
        "/api/v1/suppliers/ACME/items",
        headers=headers,
        json={"items": [{"sku": "TEE", "pack_size": 12, "pack_cost": 1000}]},
    )
    r = new_order(
        client,
        headers,
        [
            {"sku": "TEE", "packs": 3},
            {"sku": "CAP", "packs": 2, "pack_size": 6, "unit_cost": 900},
            {"sku": "RICE", "quantity": 5000, "unit_cost": 1},
        ],
        currency="USD",
        notes="spring",
    )
    assert r.status_code == 201, r.text
    po = r.json()
    assert (po["number"], po["status"], po["currency"], po["supplier"]) == (
        "PO-000001",
        "draft",
        "USD",
        "ACME",
    )
    assert po["expected_on"] == str(date.today() + timedelta(days=10))
    lines = [
        (x["sku"], x["quantity_ordered"], x["pack_size"], x["packs"], x["unit_cost"], x["unit"])
        for x in po["lines"]
    ]
    assert lines == [
        ("TEE", 36, 12, 3, 83, "each"),
        ("CAP", 12, 6, 2, 900, "each"),
        ("RICE", 5000, 1, 5000, 1, "g"),
    ]
    assert po["total"] == 36 * 83 + 12 * 900 + 5000
    # A draft is not incoming yet.
    assert level(client, headers, "TEE") == (0, 0)
    assert "purchase_order.created" in audit_actions(db)
    second = new_order(client, headers, [], expected_on="2030-01-31")
    assert (second.json()["number"], second.json()["expected_on"]) == ("PO-000002", "2030-01-31")
    assert stock.verify(db=db) == []


def test_bad_orders_are_refused_and_write_nothing(client, db, settings):
    _, headers = setup(db, settings)
    new_supplier(client, headers)
    new_supplier(client, headers, code="OLD")
    client.patch("/api/v1/suppliers/OLD", headers=headers, json={"active": False})
    before = snapshot(db)
    unknown = new_order(client, headers, [], supplier="NOPE")
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0] == {
        "field": "supplier",
        "code": "supplier.not_found",
        "message": "no supplier with code 'NOPE'",
    }
    inactive = new_order(client, headers, [], supplier="OLD")
    assert inactive.json()["code"] == "purchasing.supplier_inactive"
    mismatch = new_order(client, headers, [], currency="EUR")
    assert mismatch.json()["code"] == "purchasing.currency_mismatch"
    assert mismatch.json()["details"] == {"supplier_currency": "USD", "currency": "EUR"}
    bad_location = new_order(client, headers, [], location="X99")
    assert bad_location.json()["code"] == "location.not_found"
    r = new_order(
        client,
        headers,
        [
            {"sku": "TEE", "quantity": 0, "unit_cost": 1},
            {"sku": "CAP", "packs": 2, "unit_cost": 1},
            {"sku": "TEE", "quantity": -3, "unit_cost": 1},
            {"sku": "RICE", "quantity": 1},
        ],
    )
    assert r.status_code == 422
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("lines.0.quantity", "purchasing.invalid_quantity"),
        ("lines.1.pack_size", "purchasing.pack_size_required"),
        ("lines.2.sku", "purchasing.duplicate_sku"),
        ("lines.2.quantity", "purchasing.invalid_quantity"),
        ("lines.3.unit_cost", "purchasing.unit_cost_required"),
    ]
    unknown_sku = new_order(client, headers, [{"sku": "NOPE", "quantity": 1, "unit_cost": 1}])
    assert unknown_sku.json()["errors"][0]["field"] == "lines.0.sku"
    assert snapshot(db) == before
    # No number was used up by the refusals.
    assert new_order(client, headers, []).json()["number"] == "PO-000001"
    assert stock.verify(db=db) == []


def test_draft_lines_are_replaced_only_while_draft(client, db, settings):
    _, headers = setup(db, settings)
    new_supplier(client, headers)
    number = new_order(client, headers, [{"sku": "TEE", "quantity": 5, "unit_cost": 100}]).json()[
        "number"
    ]
    r = client.put(
        f"/api/v1/purchase-orders/{number}/lines",
        headers=headers,
        json={"lines": [{"sku": "CAP", "quantity": 2, "unit_cost": 300}]},
    )
    assert r.status_code == 200, r.text
    assert [(x["line_no"], x["sku"]) for x in r.json()["lines"]] == [(1, "CAP")]
    client.post(f"/api/v1/purchase-orders/{number}/send", headers=headers)
    before = snapshot(db)
    late = client.put(
        f"/api/v1/purchase-orders/{number}/lines",
        headers=headers,
        json={"lines": [{"sku": "TEE", "quantity": 1, "unit_cost": 1}]},
    )
    assert (late.status_code, late.json()["code"]) == (409, "purchasing.not_draft")
    assert late.json()["details"]["status"] == "sent"
    assert snapshot(db) == before
    moved = client.patch(
        f"/api/v1/purchase-orders/{number}", headers=headers, json={"expected_on": "2031-02-03"}
    )
    assert moved.json()["expected_on"] == "2031-02-03"
    assert "purchase_order.lines_replaced" in audit_actions(db)
    assert "purchase_order.updated" in audit_actions(db)
    assert stock.verify(db=db) == []


# --- send, receive, close, cancel -----------------------------------------------------------


def test_sending_makes_the_ordered_units_incoming(client, db, settings):
    _, headers = setup(db, settings)
    new_supplier(client, headers)
    number = sent_order(
        client,
        headers,
        [
            {"sku": "TEE", "quantity": 40, "unit_cost": 400},
            {"sku": "CAP", "quantity": 10, "unit_cost": 900},
        ],
    )
    assert order(client, headers, number)["status"] == "sent"
    assert level(client, headers, "TEE") == (0, 40)
    assert level(client, headers, "CAP") == (0, 10)
    row = client.get("/api/v1/stock", params={"sku": "TEE"}, headers=headers).json()["items"][0]
    assert row["available"] == 0
    assert sorted(movements(db, number)) == [
        ("po_ordered", "incoming", 10, "CAP"),
        ("po_ordered", "incoming", 40, "TEE"),
    ]
    before = snapshot(db)
    again = client.post(f"/api/v1/purchase-orders/{number}/send", headers=headers)
    assert (again.status_code, again.json()["code"]) == (409, "purchasing.invalid_transition")
    assert again.json()["details"]["status"] == "sent"
    assert snapshot(db) == before
    assert "purchase_order.sent" in audit_actions(db)
    assert stock.verify(db=db) == []


def test_an_empty_draft_cannot_be_sent(client, db, settings):
    _, headers = setup(db, settings)
    new_supplier(client, headers)
    number = new_order(client, headers, []).json()["number"]
    before = snapshot(db)
    r = client.post(f"/api/v1/purchase-orders/{number}/send", headers=headers)
    assert (r.status_code, r.json()["code"]) == (422, "purchasing.no_lines")
    assert snapshot(db) == before
    assert stock.verify(db=db) == []


def test_deliveries_in_parts_complete_the_order(client, db, settings):
    _, headers = setup(db, settings)
    new_supplier(client, headers)
    number = sent_order(
        client,
        headers,
        [
            {"sku": "TEE", "quantity": 40, "unit_cost": 400},
            {"sku": "CAP", "quantity": 10, "unit_cost": 900},
        ],
    )
    first = receive(client, headers, number, [{"sku": "TEE", "quantity": 25}], reference="DN-1")
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "partially_received"
    assert first.json()["lines"][0]["incoming_released"] == 25
    assert level(client, headers, "TEE") == (25, 15)
    assert level(client, headers, "CAP") == (0, 10)
    second = receive(
        client,
        headers,
        number,
        [{"line_no": 1, "quantity": 15}, {"sku": "CAP", "quantity": 10}],
        reference="DN-2",
    )
    assert second.status_code == 201, second.text
    assert second.json()["status"] == "received"
    assert level(client, headers, "TEE") == (40, 0)
    assert level(client, headers, "CAP") == (10, 0)
    po = order(client, headers, number)
    assert [(x["quantity_received"], x["remaining"]) for x in po["lines"]] == [(40, 0), (10, 0)]
    assert [r["reference"] for r in po["receipts"]] == ["DN-1", "DN-2"]
    assert po["receipts"][0]["received_by"] == "buyer"
    assert [(x["line_no"], x["quantity"]) for x in po["receipts"][1]["lines"]] == [
        (1, 15),
        (2, 10),
    ]
    closed = client.post(f"/api/v1/purchase-orders/{number}/close", headers=headers)
    assert closed.json()["status"] == "closed"
    kinds = [m[0] for m in movements(db, number)]
    assert "po_closed" not in kinds  # nothing was left to release
    assert kinds.count("receive") == 3
    assert kinds.count("po_received") == 3
    assert audit_actions(db).count("purchase_order.received") == 2
    assert stock.verify(db=db) == []


def test_a_receipt_sent_twice_with_one_idempotency_key_books_once(client, db, settings):
    _, headers = setup(db, settings)
    new_supplier(client, headers)
    number = sent_order(client, headers, [{"sku": "TEE", "quantity": 10, "unit_cost": 400}])
    keyed = {**headers, "Idempotency-Key": "delivery-7"}
    body = {"lines": [{"sku": "TEE", "quantity": 4}]}
    url = f"/api/v1/purchase-orders/{number}/receipts"
    first = client.post(url, headers=keyed, json=body)
    second = client.post(url, headers=keyed, json=body)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["id"] == first.json()["id"]
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert level(client, headers, "TEE") == (4, 6)
    assert len(order(client, headers, number)["receipts"]) == 1
    assert stock.verify(db=db) == []


def test_closing_a_short_delivery_releases_what_never_came(client, db, settings):
    _, headers = setup(db, settings)
    new_supplier(client, headers)
    number = sent_order(client, headers, [{"sku": "TEE", "quantity": 40, "unit_cost": 400}])
    receive(client, headers, number, [{"sku": "TEE", "quantity": 30}])
    r = client.post(
        f"/api/v1/purchase-orders/{number}/close",
        headers=headers,
        json={"reason": "supplier out of stock"},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["closed_at"] is not None) == ("closed", True)
    assert level(client, headers, "TEE") == (30, 0)
    assert movements(db, number)[-1] == ("po_closed", "incoming", -10, "TEE")
    before = snapshot(db)
    late = receive(client, headers, number, [{"sku": "TEE", "quantity": 10}])
    assert (late.status_code, late.json()["code"]) == (409, "purchasing.not_receivable")
    assert late.json()["details"]["status"] == "closed"
    assert snapshot(db) == before
    assert "purchase_order.closed" in audit_actions(db)
    assert stock.verify(db=db) == []


def test_cancelling_releases_incoming_only_while_nothing_came(client, db, settings):
    _, headers = setup(db, settings)
    new_supplier(client, headers)
    draft = new_order(client, headers, [{"sku": "CAP", "quantity": 3, "unit_cost": 9}]).json()
    r = client.post(f"/api/v1/purchase-orders/{draft['number']}/cancel", headers=headers)
    assert r.json()["status"] == "cancelled"
    assert movements(db, draft["number"]) == []
    number = sent_order(client, headers, [{"sku": "TEE", "quantity": 40, "unit_cost": 400}])
    r = client.post(
        f"/api/v1/purchase-orders/{number}/cancel", headers=headers, json={"reason": "dup"}
    )
    assert r.status_code == 200, r.text
    assert level(client, headers, "TEE") == (0, 0)
    assert movements(db, number)[-1] == ("po_cancelled", "incoming", -40, "TEE")
    partly = sent_order(client, headers, [{"sku": "TEE", "quantity": 10, "unit_cost": 400}])
    receive(client, headers, partly, [{"sku": "TEE", "quantity": 4}])
    before = snapshot(db)
    refused = client.post(f"/api/v1/purchase-orders/{partly}/cancel", headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "purchasing.invalid_transition")
    assert refused.json()["details"]["status"] == "partially_received"
    early_close = client.post(f"/api/v1/purchase-orders/{number}/close", headers=headers)
    assert early_close.json()["details"]["status"] == "cancelled"
    assert snapshot(db) == before
    assert audit_actions(db).count("purchase_order.cancelled") == 2
    assert stock.verify(db=db) == []


# --- over-receipt ---------------------------------------------------------------------------


def test_over_receipt_is_refused_without_permission_and_writes_nothing(client, db, settings):
    _, headers = setup(db, settings)
    new_supplier(client, headers)
    number = sent_order(
        client,
        headers,
        [
            {"sku": "TEE", "quantity": 10, "unit_cost": 400},
            {"sku": "CAP", "quantity": 5, "unit_cost": 900},
        ],
    )
    before = snapshot(db)
    r = receive(
        client,
        headers,
        number,
        [{"sku": "CAP", "quantity": 5}, {"sku": "TEE", "quantity": 12}],
        landed_costs=[{"kind": "freight", "amount": 500}],
    )
    assert (r.status_code, r.json()["code"]) == (422, "purchasing.over_receipt")
    assert [e["field"] for e in r.json()["errors"]] == ["lines.1.quantity"]
    assert r.json()["details"]["lines"] == [
        {"line_no": 1, "sku": "TEE", "quantity": 12, "expected": 10, "over": 2}
    ]
    # Two receipt lines naming one PO line add up.
    split = receive(
        client, headers, number, [{"sku": "TEE", "quantity": 6}, {"line_no": 1, "quantity": 6}]
    )
    assert [e["field"] for e in split.json()["errors"]] == ["lines.1.quantity"]
    assert snapshot(db) == before
    assert stock.verify(db=db) == []


def test_a_manager_may_receive_more_than_ordered(client, db, settings):
    _, headers = setup(db, settings, role="manager", username="boss")
    new_supplier(client, headers)
    number = sent_order(client, headers, [{"sku": "TEE", "quantity": 10, "unit_cost": 400}])
    r = receive(client, headers, number, [{"sku": "TEE", "quantity": 12}])
    assert r.status_code == 201, r.text
    line = r.json()["lines"][0]
    assert (line["incoming_released"], line["over_received"]) == (10, 2)
    assert r.json()["authorisation"] == {"permission": "stock.over_receive", "via": "role"}
    assert r.json()["status"] == "received"
    assert level(client, headers, "TEE") == (12, 0)
    # A late extra carton on a received order is over-receipt too.
    more = receive(client, headers, number, [{"sku": "TEE", "quantity": 1}])
    assert more.json()["lines"][0]["incoming_released"] == 0
    assert level(client, headers, "TEE") == (13, 0)
    assert order(client, headers, number)["lines"][0]["remaining"] == 0
    assert stock.verify(db=db) == []


def test_inventory_staff_over_receive_with_a_manager_override(client, db, settings):
    _, headers = setup(db, settings)
    make_user(db, "boss", "manager")
    new_supplier(client, headers)
    number = sent_order(client, headers, [{"sku": "TEE", "quantity": 10, "unit_cost": 400}])
    bogus = client.post(
        f"/api/v1/purchase-orders/{number}/receipts",
        headers={**headers, "X-Manager-Override": "not-a-token"},
        json={"lines": [{"sku": "TEE", "quantity": 11}]},
    )
    assert (bogus.status_code, bogus.json()["code"]) == (403, "override.invalid")
    grant = client.post(
        "/api/v1/overrides",
        headers=headers,
        json={
            "manager_username": "boss",
            "manager_password": PASSWORD,
            "permission": "stock.over_receive",
            "reason": "supplier sent a bonus case",
        },
    )
    assert grant.status_code == 201, grant.text
    token = grant.json()["override_token"]
    r = client.post(
        f"/api/v1/purchase-orders/{number}/receipts",
        headers={**headers, "X-Manager-Override": token},
        json={"lines": [{"sku": "TEE", "quantity": 11}]},
    )
    assert r.status_code == 201, r.text
    assert r.json()["authorisation"]["approved_by"] == "boss"
    assert level(client, headers, "TEE") == (11, 0)
    with db.uow(write=False) as uow:
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "purchase_order.received")
        ).one()
    assert (entry.actor, entry.details["via"], entry.details["approved_by"]) == (
        "buyer",
        "manager_override",
        "boss",
    )
    # The override was spent.
    again = client.post(
        f"/api/v1/purchase-orders/{number}/receipts",
        headers={**headers, "X-Manager-Override": token},
        json={"lines": [{"sku": "TEE", "quantity": 1}]},
    )
    assert again.json()["code"] == "override.invalid"
    assert stock.verify(db=db) == []


# --- landed cost and moving-average cost ----------------------------------------------------


def test_landed_cost_is_spread_by_value_and_moves_the_average_cost(client, db, settings):
    w01, headers = setup(db, settings)
    s01 = make_location(db, "S01")
    make_variant(db, sku="MUG", price=1200, stock={w01: 10, s01: 5})
    set_cost(db, "MUG", 500)
    new_supplier(client, headers)
    number = sent_order(
        client,
        headers,
        [
            {"sku": "MUG", "quantity": 30, "unit_cost": 400},
            {"sku": "CAP", "quantity": 10, "unit_cost": 1000},
        ],
    )
    r = receive(
        client,
        headers,
        number,
        [{"sku": "MUG", "quantity": 30}, {"sku": "CAP", "quantity": 10}],
        landed_costs=[{"kind": "freight", "amount": 700}, {"kind": "duty", "amount": 300}],
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["landed_cost"] == 1000
    # Values 12000 and 10000: shares 545.45 -> 545 and 454.55 -> 455 (largest remainder).
    assert [(x["landed_cost_share"], x["landed_unit_cost"]) for x in body["lines"]] == [
        (545, 418),  # (12000 + 545) / 30 = 418.17
        (455, 1046),  # (10000 + 455) / 10 = 1045.5, half up
    ]
    # MUG: 15 units on hand across locations at 500, plus 30 at 418: 20040 / 45 = 445.33.
    assert body["costs"] == [
        {
            "sku": "CAP",
            "currency": "USD",
            "previous_cost": None,
            "cost": 1046,
            "updated": True,
            "reason": None,
        },
        {
            "sku": "MUG",
            "currency": "USD",
            "previous_cost": 500,
            "cost": 445,
            "updated": True,
            "reason": None,
        },
    ]
    assert body["cost_updated"] is True
    assert (cost_of(db, "MUG"), cost_of(db, "CAP")) == (445, 1046)
    with db.uow(write=False) as uow:
        costs = dict(
            uow.session.execute(
                select(Variant.sku, StockMovement.unit_cost_minor)
                .join(Variant, Variant.id == StockMovement.variant_id)
                .where(StockMovement.kind == "receive", StockMovement.reference_id == number)
            ).all()
        )
    assert costs == {"MUG": 418, "CAP": 1046}
    receipt = order(client, headers, number)["receipts"][0]
    assert receipt["landed_cost"] == 1000
    assert [x["landed_unit_cost"] for x in receipt["lines"]] == [418, 1046]
    assert stock.verify(db=db) == []


def test_a_foreign_currency_receipt_converts_the_cost_or_says_why_not(client, db, settings):
    _, headers = setup(db, settings)
    set_cost(db, "TEE", 1000)
    new_supplier(client, headers, code="EURO", currency="EUR")
    number = sent_order(
        client, headers, [{"sku": "TEE", "quantity": 20, "unit_cost": 800}], supplier="EURO"
    )
    r = receive(client, headers, number, [{"sku": "TEE", "quantity": 10}])
    assert r.status_code == 201, r.text
    assert r.json()["cost_updated"] is False
    assert r.json()["costs"][0]["reason"] == "no exchange rate from EUR to USD"
    assert r.json()["costs"][0]["cost"] == 1000
    assert cost_of(db, "TEE") == 1000
    add_rate(db, "USD", "EUR", "0.5", date.today() - timedelta(days=30))
    r = receive(client, headers, number, [{"sku": "TEE", "quantity": 10}])
    # 800 EUR cents at 1 / 0.5: 1600 USD cents; (10 x 1000 + 10 x 1600) / 20 = 1300.
    assert r.json()["cost_updated"] is True
    assert r.json()["costs"][0]["cost"] == 1300
    add_rate(db, "EUR", "USD", "1.25", date.today())
    add_rate(db, "EUR", "USD", "9", date.today() + timedelta(days=1))  # not in force yet
    other = sent_order(
        client, headers, [{"sku": "TEE", "quantity": 20, "unit_cost": 1600}], supplier="EURO"
    )
    r = receive(client, headers, other, [{"sku": "TEE", "quantity": 20}])
    # The latest rate in force, 1.25: 2000 USD cents; (20 x 1300 + 20 x 2000) / 40 = 1650.
    assert r.json()["costs"][0] == {
        "sku": "TEE",
        "currency": "USD",
        "previous_cost": 1300,
        "cost": 1650,
        "updated": True,
        "reason": None,
    }
    assert cost_of(db, "TEE") == 1650
    with db.uow(write=False) as uow:
        landed = uow.session.scalars(
            select(StockMovement.unit_cost_minor).where(
                StockMovement.kind == "receive", StockMovement.reference_id == other
            )
        ).all()
    assert landed == [1600]  # movements keep the order's currency
    assert stock.verify(db=db) == []


# --- receiving failures ---------------------------------------------------------------------


def test_receiving_failures_are_named_and_write_nothing(client, db, settings):
    _, headers = setup(db, settings)
    new_supplier(client, headers)
    draft = new_order(client, headers, [{"sku": "CAP", "quantity": 3, "unit_cost": 9}]).json()
    number = sent_order(client, headers, [{"sku": "TEE", "quantity": 10, "unit_cost": 400}])
    receive(client, headers, number, [{"sku": "TEE", "quantity": 2}], reference="DN-1")
    before = snapshot(db)

    not_sent = receive(client, headers, draft["number"], [{"sku": "CAP", "quantity": 1}])
    assert (not_sent.status_code, not_sent.json()["code"]) == (409, "purchasing.not_receivable")
    assert not_sent.json()["details"]["status"] == "draft"
    missing = receive(client, headers, "PO-999999", [{"sku": "TEE", "quantity": 1}])
    assert (missing.status_code, missing.json()["code"]) == (404, "purchasing.order_not_found")
    r = receive(
        client,
        headers,
        number,
        [
            {"sku": "NOPE", "quantity": 1},
            {"sku": "CAP", "quantity": 1},
            {"line_no": 7, "quantity": 1},
            {"quantity": 1},
            {"sku": "CAP", "line_no": 1, "quantity": 1},
        ],
    )
    assert r.status_code == 422
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("lines.0.sku", "catalog.unknown_sku"),
        ("lines.1.sku", "purchasing.sku_not_on_order"),
        ("lines.2.line_no", "purchasing.unknown_line"),
        ("lines.3", "purchasing.line_needs_sku_or_line_no"),
        ("lines.4.sku", "purchasing.sku_not_on_order"),
    ]
    zero = receive(
        client,
        headers,
        number,
        [{"sku": "TEE", "quantity": 0}],
        landed_costs=[{"kind": "bribe", "amount": -1}],
    )
    assert [e["field"] for e in zero.json()["errors"]] == [
        "lines.0.quantity",
        "landed_costs.0.kind",
        "landed_costs.0.amount",
    ]
    empty = receive(client, headers, number, [])
    assert empty.json()["code"] == "purchasing.no_lines"
    twice = receive(client, headers, number, [{"sku": "TEE", "quantity": 2}], reference="DN-1")
    assert (twice.status_code, twice.json()["code"]) == (409, "purchasing.receipt_reference_used")
    assert snapshot(db) == before
    assert stock.verify(db=db) == []


def test_receiving_at_a_location_outside_yours_is_forbidden(client, db, settings):
    _, buyer = setup(db, settings)
    make_location(db, "S01")
    new_supplier(client, buyer)
    number = sent_order(client, buyer, [{"sku": "TEE", "quantity": 10, "unit_cost": 400}])
    store_staff = token_for(db, settings, "s1", "inventory", ["S01"])
    cashier = token_for(db, settings, "c1", "cashier", ["S01"])
    before = snapshot(db)
    r = receive(client, store_staff, number, [{"sku": "TEE", "quantity": 1}])
    assert (r.status_code, r.json()["code"]) == (403, "auth.location_forbidden")
    assert client.get(f"/api/v1/purchase-orders/{number}", headers=store_staff).status_code == 403
    r = receive(client, cashier, number, [{"sku": "TEE", "quantity": 1}])
    assert (r.status_code, r.json()["code"]) == (403, "auth.permission_denied")
    r = new_order(client, store_staff, [], location="W01")
    assert (r.status_code, r.json()["code"]) == (403, "auth.location_forbidden")
    assert snapshot(db) == before
    listed = client.get("/api/v1/purchase-orders", headers=store_staff).json()["items"]
    assert listed == []
    assert stock.verify(db=db) == []


def test_two_receipts_racing_for_the_last_units_cannot_both_pass(client, db, settings):
    _, headers = setup(db, settings)
    new_supplier(client, headers)
    number = sent_order(client, headers, [{"sku": "TEE", "quantity": 10, "unit_cost": 400}])
    receive(client, headers, number, [{"sku": "TEE", "quantity": 4}])
    with db.uow(write=False) as uow:
        user_id = uow.session.scalar(select(User.id).where(User.username == "buyer"))
    actor = Actor(user_id, "buyer", Role.INVENTORY, None)
    results: list[object] = []
    barrier = threading.Barrier(4)

    def take_six() -> None:
        barrier.wait()
        try:
            purchase_receipts.receive(
                db=db,
                actor=actor,
                number=number,
                request=purchase_receipts.ReceiptInput(
                    lines=(purchase_receipts.ReceiptLineInput(quantity=6, sku="TEE"),)
                ),
            )
            results.append("ok")
        except ValidationFailed as exc:
            results.append(exc.code)

    threads = [threading.Thread(target=take_six) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok"] + ["purchasing.over_receipt"] * 3
    assert level(client, headers, "TEE") == (10, 0)
    assert order(client, headers, number)["status"] == "received"
    assert stock.verify(db=db) == []


# --- listing and incoming -------------------------------------------------------------------


def test_orders_list_newest_first_with_filters_and_pages(client, db, settings):
    _, headers = setup(db, settings)
    make_location(db, "S01")
    new_supplier(client, headers)
    new_supplier(client, headers, code="BOLT")
    first = sent_order(client, headers, [{"sku": "TEE", "quantity": 4, "unit_cost": 100}])
    new_order(client, headers, [{"sku": "CAP", "quantity": 1, "unit_cost": 50}], supplier="BOLT")
    new_order(client, headers, [], location="S01")
    page = client.get("/api/v1/purchase-orders", params={"limit": 2}, headers=headers).json()
    assert [p["number"] for p in page["items"]] == ["PO-000003", "PO-000002"]
    rest = client.get(
        "/api/v1/purchase-orders", params={"cursor": page["next_cursor"]}, headers=headers
    ).json()
    assert [(p["number"], p["units_ordered"], p["total"]) for p in rest["items"]] == [
        (first, 4, 400)
    ]
    assert rest["next_cursor"] is None

    def numbers(**params):
        r = client.get("/api/v1/purchase-orders", params=params, headers=headers)
        assert r.status_code == 200, r.text
        return [p["number"] for p in r.json()["items"]]

    assert numbers(status="sent") == [first]
    assert numbers(supplier="BOLT") == ["PO-000002"]
    assert numbers(location="S01") == ["PO-000003"]
    bad = client.get("/api/v1/purchase-orders", params={"status": "lost"}, headers=headers)
    assert (bad.status_code, bad.json()["code"]) == (422, "purchasing.invalid_status")
    assert stock.verify(db=db) == []


def test_incoming_lists_open_orders_and_transfers_by_expected_date(client, db, settings):
    w01, headers = setup(db, settings)
    s01 = make_location(db, "S01")
    new_supplier(client, headers)
    today = date.today()
    late = sent_order(
        client,
        headers,
        [
            {"sku": "TEE", "quantity": 10, "unit_cost": 1},
            {"sku": "CAP", "quantity": 2, "unit_cost": 1},
        ],
        expected_on=str(today + timedelta(days=20)),
    )
    soon = sent_order(
        client,
        headers,
        [{"sku": "TEE", "quantity": 6, "unit_cost": 1}],
        expected_on=str(today + timedelta(days=3)),
    )
    receive(client, headers, soon, [{"sku": "TEE", "quantity": 2}])
    done = sent_order(client, headers, [{"sku": "TEE", "quantity": 1, "unit_cost": 1}])
    receive(client, headers, done, [{"sku": "TEE", "quantity": 1}])
    new_order(client, headers, [{"sku": "TEE", "quantity": 9, "unit_cost": 1}])  # a draft
    with db.uow() as uow:
        tee = uow.session.scalar(select(Variant.id).where(Variant.sku == "TEE"))
        for number, status, expected in (
            ("TR-000001", "shipped", today + timedelta(days=1)),
            ("TR-000002", "requested", today),
        ):
            transfer = Transfer(
                number=number,
                source_location_id=w01.id,
                destination_location_id=s01.id,
                status=status,
                expected_on=expected,
                shipped_at=utcnow(),
            )
            uow.session.add(transfer)
            uow.session.flush()
            uow.session.add(
                TransferLine(
                    transfer_id=transfer.id,
                    line_no=1,
                    variant_id=tee,
                    quantity_requested=5,
                    quantity_shipped=5 if status == "shipped" else 0,
                )
            )
        uow.commit()
    r = client.get("/api/v1/stock/incoming", params={"sku": "TEE"}, headers=headers)
    assert r.status_code == 200, r.text
    rows = [
        (x["source"], x["document"], x["location"], x["quantity"], x["expected_on"])
        for x in r.json()["items"]
    ]
    assert rows == [
        ("transfer", "TR-000001", "S01", 5, str(today + timedelta(days=1))),
        ("purchase_order", soon, "W01", 4, str(today + timedelta(days=3))),
        ("purchase_order", late, "W01", 10, str(today + timedelta(days=20))),
    ]
    first = r.json()["items"][0]
    assert (first["from_location"], first["supplier"], first["unit"]) == ("W01", None, "each")
    assert r.json()["items"][1]["supplier"] == "ACME"
    everything = client.get("/api/v1/stock/incoming", headers=headers).json()["items"]
    assert [x["sku"] for x in everything].count("CAP") == 1
    at_w01 = client.get(
        "/api/v1/stock/incoming", params={"location": "W01"}, headers=headers
    ).json()["items"]
    assert {x["location"] for x in at_w01} == {"W01"}
    store = token_for(db, settings, "c1", "cashier", ["S01"])
    mine = client.get("/api/v1/stock/incoming", headers=store).json()["items"]
    assert [x["document"] for x in mine] == ["TR-000001"]
    forbidden = client.get("/api/v1/stock/incoming", params={"location": "W01"}, headers=store)
    assert forbidden.status_code == 403
    assert stock.verify(db=db) == []


# --- lots and serials -----------------------------------------------------------------------


def test_lot_tracked_goods_are_received_into_their_lot(client, db, settings):
    _, headers = setup(db, settings)
    make_variant(db, sku="MILK", price=250, tracking="lot", unit="ml")
    new_supplier(client, headers)
    number = sent_order(client, headers, [{"sku": "MILK", "quantity": 24, "unit_cost": 90}])
    expires = date.today() + timedelta(days=20)
    before = snapshot(db)
    no_lot = receive(client, headers, number, [{"sku": "MILK", "quantity": 12}])
    assert (no_lot.status_code, no_lot.json()["errors"][0]["field"]) == (422, "lines.0.lot")
    stale = receive(
        client,
        headers,
        number,
        [
            {
                "sku": "MILK",
                "quantity": 12,
                "lot": {"code": "L0", "expires_on": str(date.today() - timedelta(days=1))},
            }
        ],
    )
    assert stale.status_code == 422
    assert stale.json()["errors"][0]["field"].startswith("lines.0.lot")
    assert snapshot(db) == before
    r = receive(
        client,
        headers,
        number,
        [
            {"sku": "MILK", "quantity": 10, "lot": {"code": "L1", "expires_on": str(expires)}},
            {"line_no": 1, "quantity": 14, "lot": {"code": "L2", "expires_on": str(expires)}},
        ],
    )
    assert r.status_code == 201, r.text
    assert [(x["lot"], x["quantity"]) for x in r.json()["lines"]] == [("L1", 10), ("L2", 14)]
    assert r.json()["status"] == "received"
    receipt = order(client, headers, number)["receipts"][0]
    assert [x["lot"] for x in receipt["lines"]] == ["L1", "L2"]
    assert order(client, headers, number)["lines"][0]["unit"] == "ml"
    with db.uow(write=False) as uow:
        lots = uow.session.scalars(
            select(StockMovement.lot_id).where(
                StockMovement.kind == "receive", StockMovement.reference_id == number
            )
        ).all()
    assert len(lots) == 2
    assert all(lot is not None for lot in lots)
    lots_page = client.get("/api/v1/lots", params={"sku": "MILK"}, headers=headers)
    assert lots_page.status_code == 200, lots_page.text
    assert sorted((x["lot"], x["on_hand"]) for x in lots_page.json()["items"]) == [
        ("L1", 10),
        ("L2", 14),
    ]
    assert level(client, headers, "MILK") == (24, 0)
    assert stock.verify(db=db) == []


def test_serial_tracked_goods_are_received_one_serial_per_unit(client, db, settings):
    _, headers = setup(db, settings)
    make_variant(db, sku="PHONE", price=59900, tracking="serial")
    new_supplier(client, headers)
    number = sent_order(client, headers, [{"sku": "PHONE", "quantity": 2, "unit_cost": 40000}])
    before = snapshot(db)
    short = receive(client, headers, number, [{"sku": "PHONE", "quantity": 2, "serials": ["SN-1"]}])
    assert short.status_code == 422
    assert short.json()["errors"][0]["field"].startswith("lines.0.serials")
    untracked = receive(
        client,
        headers,
        number,
        [{"sku": "PHONE", "quantity": 2, "serials": ["SN-1", "SN-2"], "lot": {"code": "X"}}],
    )
    assert untracked.status_code == 422
    assert snapshot(db) == before
    r = receive(
        client, headers, number, [{"sku": "PHONE", "quantity": 2, "serials": ["SN-1", "SN-2"]}]
    )
    assert r.status_code == 201, r.text
    assert r.json()["lines"][0]["serials"] == ["SN-1", "SN-2"]
    assert order(client, headers, number)["receipts"][0]["lines"][0]["serials"] == [
        "SN-1",
        "SN-2",
    ]
    unit = client.get("/api/v1/serials/SN-1", headers=headers).json()["items"][0]
    assert (unit["status"], unit["location"]) == ("in_stock", "W01")
    assert unit["history"][0]["reference_id"] == number
    assert stock.verify(db=db) == []


def test_an_untracked_variant_takes_no_lot(client, db, settings):
    _, headers = setup(db, settings)
    new_supplier(client, headers)
    number = sent_order(client, headers, [{"sku": "TEE", "quantity": 2, "unit_cost": 1}])
    before = snapshot(db)
    r = receive(client, headers, number, [{"sku": "TEE", "quantity": 2, "lot": {"code": "L1"}}])
    assert (r.status_code, r.json()["code"]) == (422, "inventory.not_tracked")
    assert r.json()["errors"][0]["field"] == "lines.0.lot"
    assert snapshot(db) == before
    assert stock.verify(db=db) == []

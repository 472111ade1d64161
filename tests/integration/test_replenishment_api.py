"""Reorder settings and replenishment suggestions over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from omnitill.adapters.db.models import (
    AuditEntry,
    StockLevel,
    StockMovement,
    Supplier,
    SupplierItem,
    Variant,
)
from omnitill.adapters.db.types import utcnow
from omnitill.domain.ids import uuid7
from omnitill.services import stock
from tests.factories import (
    PASSWORD,
    make_location,
    make_register,
    make_user,
    make_variant,
    token_for,
)

SETTINGS = "/api/v1/stock/reorder-settings"
SUGGESTIONS = "/api/v1/replenishment/suggestions"


def stock_row(client, headers, sku, location):
    items = client.get(
        "/api/v1/stock", params={"sku": sku, "location": location}, headers=headers
    ).json()["items"]
    return items[0] if items else None


def audit_actions(db):
    with db.uow(write=False) as uow:
        return list(uow.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def counts(db):
    with db.uow(write=False) as uow:
        return tuple(
            uow.session.scalar(select(func.count()).select_from(model))
            for model in (StockMovement, AuditEntry, StockLevel)
        )


def make_supplier(db, code="ACME", *, lead_time_days=7, active=True, items=()):
    """A supplier selling `items`: (variant, pack_size, pack_cost_minor, min_packs, preferred)."""
    with db.uow() as uow:
        supplier = Supplier(
            code=code,
            name=f"{code.title()} Ltd",
            currency="USD",
            lead_time_days=lead_time_days,
            active=active,
        )
        uow.session.add(supplier)
        uow.session.flush()
        for variant, pack, cost, min_packs, preferred in items:
            uow.session.add(
                SupplierItem(
                    supplier_id=supplier.id,
                    variant_id=variant.id,
                    pack_size=pack,
                    pack_cost_minor=cost,
                    min_order_packs=min_packs,
                    preferred=preferred,
                )
            )
        uow.commit()
        return supplier


def sold_earlier(db, variant, location, quantity, *, days_ago):
    """A past register sale (setup: the ledger and level move together)."""
    with db.uow() as uow:
        uow.session.add(
            StockMovement(
                id=uuid7(),
                variant_id=variant.id,
                location_id=location.id,
                quantity=-quantity,
                kind="sale",
                reason="register sale",
                created_at=utcnow() - timedelta(days=days_ago),
            )
        )
        level = uow.session.get_one(StockLevel, (variant.id, location.id))
        level.on_hand -= quantity
        uow.commit()


# --- reorder settings ------------------------------------------------------------------------


def test_setting_reorder_levels_creates_the_level_and_is_audited(client, db, settings):
    make_location(db, "W01", kind="warehouse")
    make_variant(db, sku="TEE")
    headers = token_for(db, settings, "inv", "inventory")
    r = client.put(
        SETTINGS,
        headers=headers,
        json={"sku": "TEE", "location": "W01", "reorder_point": 10, "max_level": 40},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "sku": "TEE",
        "location": "W01",
        "reorder_point": 10,
        "max_level": 40,
        "safety_stock": 0,
        "previous": {"reorder_point": None, "max_level": None, "safety_stock": 0},
    }
    row = stock_row(client, headers, "TEE", "W01")
    assert (row["on_hand"], row["reorder_point"], row["max_level"]) == (0, 10, 40)
    assert audit_actions(db)[-1] == "stock.reorder_settings_set"
    assert stock.verify(db=db) == []


def test_a_setting_left_out_keeps_its_value_and_null_clears_it(client, db, settings):
    s01 = make_location(db, "S01")
    make_variant(db, sku="TEE", stock={s01: 8})
    headers = token_for(db, settings, "m1", "manager", ["S01"])
    client.put(
        SETTINGS,
        headers=headers,
        json={"sku": "TEE", "location": "S01", "reorder_point": 4, "max_level": 12},
    )
    r = client.put(
        SETTINGS, headers=headers, json={"sku": "TEE", "location": "S01", "safety_stock": 2}
    )
    assert (r.json()["reorder_point"], r.json()["max_level"], r.json()["safety_stock"]) == (
        4,
        12,
        2,
    )
    r = client.put(
        SETTINGS, headers=headers, json={"sku": "TEE", "location": "S01", "max_level": None}
    )
    assert r.json()["max_level"] is None
    assert r.json()["previous"]["max_level"] == 12
    row = stock_row(client, headers, "TEE", "S01")
    assert (row["reorder_point"], row["max_level"], row["available"]) == (4, None, 6)


def test_max_level_below_the_reorder_point_is_refused_naming_the_field(client, db, settings):
    s01 = make_location(db, "S01")
    make_variant(db, sku="TEE", stock={s01: 8})
    headers = token_for(db, settings, "inv", "inventory")
    client.put(
        SETTINGS,
        headers=headers,
        json={"sku": "TEE", "location": "S01", "reorder_point": 4, "max_level": 12},
    )
    before = counts(db)
    r = client.put(
        SETTINGS, headers=headers, json={"sku": "TEE", "location": "S01", "reorder_point": 20}
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "inventory.max_below_reorder_point"
    assert [e["field"] for e in r.json()["errors"]] == ["reorder_point"]
    r = client.put(
        SETTINGS,
        headers=headers,
        json={"sku": "TEE", "location": "S01", "reorder_point": -1, "max_level": 3},
    )
    assert r.json()["code"] == "inventory.invalid_quantity"
    assert [e["field"] for e in r.json()["errors"]] == ["reorder_point"]
    row = stock_row(client, headers, "TEE", "S01")
    assert (row["reorder_point"], row["max_level"]) == (4, 12)
    assert counts(db) == before


def test_a_bulk_setup_applies_all_or_nothing_and_names_each_bad_item(client, db, settings):
    s01, w01 = make_location(db, "S01"), make_location(db, "W01", kind="warehouse")
    make_variant(db, sku="TEE", stock={s01: 3})
    make_variant(db, sku="CAP", stock={w01: 30})
    headers = token_for(db, settings, "inv", "inventory")
    before = counts(db)
    r = client.put(
        SETTINGS,
        headers=headers,
        json={
            "items": [
                {"sku": "TEE", "location": "S01", "reorder_point": 2},
                {"sku": "NOPE", "location": "S01", "reorder_point": 2},
                {"sku": "CAP", "location": "W01", "reorder_point": 9, "max_level": 5},
                {"sku": "TEE", "location": "S01", "max_level": 9},
                {"sku": "CAP", "location": "X99"},
            ]
        },
    )
    assert r.status_code == 422
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("items.3.sku", "inventory.duplicate_setting"),
    ]
    r = client.put(
        SETTINGS,
        headers=headers,
        json={
            "items": [
                {"sku": "TEE", "location": "S01", "reorder_point": 2},
                {"sku": "NOPE", "location": "S01", "reorder_point": 2},
                {"sku": "CAP", "location": "X99"},
            ]
        },
    )
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("items.1.sku", "catalog.unknown_sku"),
        ("items.2.location", "location.not_found"),
    ]
    r = client.put(
        SETTINGS,
        headers=headers,
        json={
            "items": [
                {"sku": "TEE", "location": "S01", "reorder_point": 2},
                {"sku": "CAP", "location": "W01", "reorder_point": 9, "max_level": 5},
            ]
        },
    )
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("items.1.max_level", "inventory.max_below_reorder_point"),
    ]
    assert stock_row(client, headers, "TEE", "S01")["reorder_point"] is None
    assert counts(db) == before

    r = client.put(
        SETTINGS,
        headers=headers,
        json={
            "items": [
                {"sku": "TEE", "location": "S01", "reorder_point": 2, "max_level": 6},
                {"sku": "CAP", "location": "W01", "reorder_point": 9, "max_level": 50},
                {"sku": "CAP", "location": "S01", "reorder_point": 1},
            ]
        },
    )
    assert r.status_code == 200, r.text
    assert [(i["sku"], i["location"], i["reorder_point"]) for i in r.json()["items"]] == [
        ("TEE", "S01", 2),
        ("CAP", "W01", 9),
        ("CAP", "S01", 1),
    ]
    assert audit_actions(db).count("stock.reorder_settings_set") == 1
    assert stock_row(client, headers, "CAP", "S01")["on_hand"] == 0  # a new, empty level
    assert stock.verify(db=db) == []


def test_a_list_and_a_single_level_cannot_be_mixed(client, db, settings):
    make_location(db, "S01")
    make_variant(db, sku="TEE")
    headers = token_for(db, settings, "inv", "inventory")
    r = client.put(
        SETTINGS,
        headers=headers,
        json={"sku": "TEE", "items": [{"sku": "TEE", "location": "S01", "reorder_point": 1}]},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "request.validation_failed"
    r = client.put(SETTINGS, headers=headers, json={"reorder_point": 1})
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("sku", "inventory.value_required"),
        ("location", "inventory.value_required"),
    ]


def test_reorder_settings_need_stock_adjust_or_a_manager_override(client, db, settings):
    make_location(db, "S01"), make_location(db, "S02")
    make_variant(db, sku="TEE")
    make_user(db, "boss", "manager", ["S01"])
    cashier = token_for(db, settings, "c1", "cashier", ["S01"])
    body = {"sku": "TEE", "location": "S01", "reorder_point": 3}
    r = client.put(SETTINGS, headers=cashier, json=body)
    assert r.status_code == 403
    assert r.json()["code"] == "auth.permission_denied"
    grant = client.post(
        "/api/v1/overrides",
        headers=cashier,
        json={
            "manager_username": "boss",
            "manager_password": PASSWORD,
            "permission": "stock.adjust",
            "reason": "set up the new line",
        },
    ).json()
    r = client.put(
        SETTINGS, headers={**cashier, "X-Manager-Override": grant["override_token"]}, json=body
    )
    assert r.status_code == 200, r.text
    store_manager = token_for(db, settings, "m2", "manager", ["S01"])
    r = client.put(SETTINGS, headers=store_manager, json={**body, "location": "S02"})
    assert r.status_code == 403
    assert r.json()["code"] == "auth.location_forbidden"


# --- suggestions -----------------------------------------------------------------------------


def setup_estate(db, settings):
    s01 = make_location(db, "S01")
    s02 = make_location(db, "S02")
    w01 = make_location(db, "W01", kind="warehouse")
    make_register(db, s01, "S01-R1")
    tee = make_variant(db, sku="TEE", price=1500, stock={s01: 12, s02: 20, w01: 30})
    headers = token_for(db, settings, "boss", "manager")
    client_settings = {
        "items": [
            {"sku": "TEE", "location": "S01", "reorder_point": 5, "max_level": 20},
            {"sku": "TEE", "location": "S02", "reorder_point": 5, "max_level": 20},
            {"sku": "TEE", "location": "W01", "reorder_point": 22},
        ]
    }
    return s01, s02, w01, tee, headers, client_settings


def test_a_store_at_its_reorder_point_gets_a_warehouse_transfer_then_a_purchase_in_packs(
    client, db, settings
):
    _, _, _, tee, headers, body = setup_estate(db, settings)
    assert client.put(SETTINGS, headers=headers, json=body).status_code == 200
    make_supplier(db, "ACME", lead_time_days=5, items=[(tee, 6, 4800, 1, True)])
    # A real register sale of 8 takes S01 from 12 to 4, under its reorder point of 5.
    cashier = token_for(db, settings, "c1", "cashier", ["S01"])
    sale = client.post(
        "/api/v1/sales",
        headers=cashier,
        json={
            "id": str(uuid7()),
            "location": "S01",
            "register": "S01-R1",
            "lines": [{"sku": "TEE", "quantity": 8}],
            "payments": [{"method": "cash", "amount": 20000}],
        },
    )
    assert sale.status_code == 201, sale.text
    before = counts(db)
    r = client.get(SUGGESTIONS, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["days"] == 28
    transfer, purchase = body["items"]
    # need = max 20 - projected 4 = 16; W01 spares 30 - 22 = 8; 8 more bought in packs of 6.
    assert transfer["kind"] == "transfer"
    assert (transfer["location"], transfer["from_location"], transfer["quantity"]) == (
        "S01",
        "W01",
        8,
    )
    assert transfer["supplier"] is None
    assert purchase["kind"] == "purchase"
    assert purchase["supplier"] == {"code": "ACME", "name": "Acme Ltd", "preferred": True}
    assert (purchase["packs"], purchase["pack_size"], purchase["quantity"]) == (2, 6, 12)
    assert (purchase["estimated_cost"], purchase["currency"]) == (9600, "USD")
    assert (purchase["projected"], purchase["target"], purchase["need"]) == (4, 20, 16)
    assert purchase["sold"] == 8
    assert purchase["velocity_per_day"] == 0.29
    assert purchase["days_of_cover"] == 14.0
    assert purchase["lead_time_days"] == 5
    assert purchase["reasoning"][0].startswith("projected 4 = available 4")
    assert any("W01 can spare 8" in fact for fact in transfer["reasoning"])
    assert counts(db) == before  # read-only
    assert stock.verify(db=db) == []


def test_sales_before_the_window_do_not_count_towards_velocity(client, db, settings):
    s01 = make_location(db, "S01")
    tee = make_variant(db, sku="TEE", stock={s01: 30})
    headers = token_for(db, settings, "inv", "inventory")
    client.put(
        SETTINGS, headers=headers, json={"sku": "TEE", "location": "S01", "reorder_point": 3}
    )
    sold_earlier(db, tee, s01, 7, days_ago=3)
    sold_earlier(db, tee, s01, 20, days_ago=40)  # on_hand now 3
    (item,) = client.get(SUGGESTIONS, headers=headers).json()["items"]
    # 7 sold in 28 days = 0.25/day; 7 days default lead time -> ceil(1.75) = 2 above the ROP.
    assert (item["sold"], item["velocity_per_day"], item["target"]) == (7, 0.25, 5)
    assert item["supplier"] is None
    assert "no supplier sells TEE" in item["reasoning"][-1]
    (item,) = client.get(SUGGESTIONS, headers=headers, params={"days": 60}).json()["items"]
    assert item["sold"] == 27
    assert stock.verify(db=db) == []


def test_fulfilled_reservations_count_as_sales(client, db, settings):
    s01 = make_location(db, "S01")
    make_variant(db, sku="TEE", stock={s01: 10})
    headers = token_for(db, settings, "boss", "manager")
    client.put(
        SETTINGS, headers=headers, json={"sku": "TEE", "location": "S01", "reorder_point": 6}
    )
    held = client.post(
        "/api/v1/reservations",
        headers=headers,
        json={
            "reference": {"type": "order", "id": "W-1"},
            "location": "S01",
            "lines": [{"sku": "TEE", "quantity": 5}],
        },
    ).json()
    assert (
        client.post(f"/api/v1/reservations/{held['id']}/fulfil", headers=headers).status_code == 200
    )
    (item,) = client.get(SUGGESTIONS, headers=headers).json()["items"]
    assert (item["projected"], item["sold"]) == (5, 5)
    assert stock.verify(db=db) == []


def test_levels_above_their_reorder_point_or_without_one_get_nothing(client, db, settings):
    s01 = make_location(db, "S01")
    make_variant(db, sku="TEE", stock={s01: 10})
    make_variant(db, sku="CAP", stock={s01: 0})
    headers = token_for(db, settings, "inv", "inventory")
    client.put(
        SETTINGS,
        headers=headers,
        json={"sku": "TEE", "location": "S01", "reorder_point": 9, "max_level": 30},
    )
    assert client.get(SUGGESTIONS, headers=headers).json()["items"] == []
    # Safety stock is kept back from available: projected falls to 7.
    client.put(SETTINGS, headers=headers, json={"sku": "TEE", "location": "S01", "safety_stock": 3})
    (item,) = client.get(SUGGESTIONS, headers=headers).json()["items"]
    assert (item["available"], item["quantity"]) == (7, 23)


def test_inactive_suppliers_are_not_offered(client, db, settings):
    s01 = make_location(db, "S01")
    tee = make_variant(db, sku="TEE", stock={s01: 0})
    make_supplier(db, "OLD", active=False, items=[(tee, 1, 100, 1, True)])
    make_supplier(db, "NEW", items=[(tee, 1, 150, 1, False)])
    headers = token_for(db, settings, "inv", "inventory")
    client.put(
        SETTINGS,
        headers=headers,
        json={"sku": "TEE", "location": "S01", "reorder_point": 1, "max_level": 4},
    )
    (item,) = client.get(SUGGESTIONS, headers=headers).json()["items"]
    assert item["supplier"]["code"] == "NEW"
    assert item["estimated_cost"] == 600


def test_suggestions_are_scoped_to_the_actors_locations(client, db, settings):
    _, _, _, _, headers, body = setup_estate(db, settings)
    assert client.put(SETTINGS, headers=headers, json=body).status_code == 200
    with db.uow() as uow:  # both stores fall to their reorder point
        for level in uow.session.scalars(select(StockLevel).where(StockLevel.reorder_point == 5)):
            level.reserved = level.on_hand
        uow.commit()
    everyone = client.get(SUGGESTIONS, headers=headers).json()["items"]
    assert sorted({i["location"] for i in everyone}) == ["S01", "S02"]
    s02_manager = token_for(db, settings, "m2", "manager", ["S02"])
    mine = client.get(SUGGESTIONS, headers=s02_manager).json()["items"]
    assert {i["location"] for i in mine} == {"S02"}
    only = client.get(SUGGESTIONS, headers=headers, params={"location": "S01", "sku": "TEE"})
    assert {i["location"] for i in only.json()["items"]} == {"S01"}
    r = client.get(SUGGESTIONS, headers=s02_manager, params={"location": "S01"})
    assert r.status_code == 403
    assert r.json()["code"] == "auth.location_forbidden"


def test_the_velocity_window_is_checked(client, db, settings):
    headers = token_for(db, settings, "inv", "inventory")
    r = client.get(SUGGESTIONS, headers=headers, params={"days": 0})
    assert r.status_code == 422
    assert r.json()["code"] == "replenishment.invalid_days"
    assert [e["field"] for e in r.json()["errors"]] == ["days"]
    r = client.get(SUGGESTIONS, headers=headers, params={"location": "X9"})
    assert r.json()["code"] == "location.not_found"


def test_discontinued_variants_are_not_replenished(client, db, settings):
    s01 = make_location(db, "S01")
    make_variant(db, sku="OLD", stock={s01: 0})
    headers = token_for(db, settings, "inv", "inventory")
    client.put(
        SETTINGS,
        headers=headers,
        json={"sku": "OLD", "location": "S01", "reorder_point": 2, "max_level": 5},
    )
    assert len(client.get(SUGGESTIONS, headers=headers).json()["items"]) == 1
    with db.uow() as uow:
        uow.session.scalars(select(Variant).where(Variant.sku == "OLD")).one().status = "archived"
        uow.commit()
    assert client.get(SUGGESTIONS, headers=headers).json()["items"] == []

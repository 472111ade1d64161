from __future__ import annotations

from sqlalchemy import select

from omnitill.adapters.db.models import AuditEntry
from omnitill.services import stock
from tests.factories import PASSWORD, make_location, make_user, make_variant, token_for


def stock_of(client, headers, sku, location):
    items = client.get(
        "/api/v1/stock", params={"sku": sku, "location": location}, headers=headers
    ).json()["items"]
    return items[0]["on_hand"] if items else None


def test_receiving_goods_raises_on_hand_and_writes_the_ledger(client, db, settings):
    make_location(db, "W01", kind="warehouse")
    make_variant(db, sku="BELT", price=3900)
    headers = token_for(db, settings, "inv", "inventory")
    r = client.post(
        "/api/v1/stock/receipts",
        headers=headers,
        json={"location": "W01", "reference": "PO-7", "lines": [{"sku": "BELT", "quantity": 12}]},
    )
    assert r.status_code == 201, r.text
    assert r.json()["items"][0]["on_hand"] == 12
    row = client.get("/api/v1/stock", params={"sku": "BELT"}, headers=headers).json()["items"]
    assert row[0]["location"] == "W01"
    assert row[0]["available"] == 12
    assert row[0]["reserved"] == 0
    assert stock.verify(db=db) == []


def test_a_cashier_cannot_receive_goods(client, db, settings):
    make_location(db, "S01")
    make_variant(db, sku="BELT", price=3900)
    headers = token_for(db, settings, "c1", "cashier", ["S01"])
    r = client.post(
        "/api/v1/stock/receipts",
        headers=headers,
        json={"location": "S01", "lines": [{"sku": "BELT", "quantity": 1}]},
    )
    assert r.status_code == 403
    assert r.json()["code"] == "auth.permission_denied"


def test_receipts_list_every_bad_line_and_write_nothing(client, db, settings):
    w01 = make_location(db, "W01", kind="warehouse")
    make_variant(db, sku="BELT", price=3900, stock={w01: 1})
    headers = token_for(db, settings, "inv", "inventory")
    r = client.post(
        "/api/v1/stock/receipts",
        headers=headers,
        json={
            "location": "W01",
            "lines": [{"sku": "BELT", "quantity": 0}, {"sku": "BELT", "quantity": -2}],
        },
    )
    assert r.status_code == 422
    fields = [e["field"] for e in r.json()["errors"]]
    assert fields == ["lines.0.quantity", "lines.1.quantity"]
    r = client.post(
        "/api/v1/stock/receipts",
        headers=headers,
        json={
            "location": "W01",
            "lines": [{"sku": "BELT", "quantity": 2}, {"sku": "X", "quantity": 1}],
        },
    )
    assert r.json()["code"] == "catalog.unknown_sku"
    assert stock_of(client, headers, "BELT", "W01") == 1


def test_adjustments_need_a_reason_and_never_go_below_zero(client, db, settings):
    s01 = make_location(db, "S01")
    make_variant(db, sku="BELT", price=3900, stock={s01: 2})
    headers = token_for(db, settings, "m1", "manager", ["S01"])
    r = client.post(
        "/api/v1/stock/adjustments",
        headers=headers,
        json={"location": "S01", "reason": " ", "lines": [{"sku": "BELT", "quantity": -1}]},
    )
    assert r.json()["code"] == "stock.reason_required"
    r = client.post(
        "/api/v1/stock/adjustments",
        headers=headers,
        json={"location": "S01", "reason": "damaged", "lines": [{"sku": "BELT", "quantity": -3}]},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "stock.would_go_negative"
    assert stock_of(client, headers, "BELT", "S01") == 2
    r = client.post(
        "/api/v1/stock/adjustments",
        headers=headers,
        json={"location": "S01", "reason": "damaged", "lines": [{"sku": "BELT", "quantity": -2}]},
    )
    assert r.status_code == 201
    assert stock_of(client, headers, "BELT", "S01") == 0


def test_a_cashier_adjusts_stock_only_with_a_manager_override(client, db, settings):
    s01 = make_location(db, "S01")
    make_variant(db, sku="BELT", price=3900, stock={s01: 5})
    make_user(db, "boss", "manager", ["S01"])
    headers = token_for(db, settings, "c1", "cashier", ["S01"])
    body = {
        "location": "S01",
        "reason": "found behind till",
        "lines": [{"sku": "BELT", "quantity": 1}],
    }
    assert (
        client.post("/api/v1/stock/adjustments", headers=headers, json=body).json()["code"]
        == "auth.permission_denied"
    )
    wrong = client.post(
        "/api/v1/overrides",
        headers=headers,
        json={
            "manager_username": "boss",
            "manager_password": "wrong-password!",
            "permission": "stock.adjust",
            "reason": "recount",
        },
    )
    assert wrong.json()["code"] == "override.invalid_manager"
    grant = client.post(
        "/api/v1/overrides",
        headers=headers,
        json={
            "manager_username": "boss",
            "manager_password": PASSWORD,
            "permission": "stock.adjust",
            "reason": "recount",
        },
    ).json()
    ok = client.post(
        "/api/v1/stock/adjustments",
        json=body,
        headers={**headers, "X-Manager-Override": grant["override_token"]},
    )
    assert ok.status_code == 201
    with db.uow(write=False) as uow:
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "stock.adjusted")
        ).one()
    assert entry.actor == "c1"
    assert entry.details["approved_by"] == "boss"
    assert entry.details["via"] == "manager_override"


def test_a_cashier_cannot_get_an_override_from_another_cashier(client, db, settings):
    make_location(db, "S01")
    make_user(db, "peer", "cashier", ["S01"])
    headers = token_for(db, settings, "c1", "cashier", ["S01"])
    r = client.post(
        "/api/v1/overrides",
        headers=headers,
        json={
            "manager_username": "peer",
            "manager_password": PASSWORD,
            "permission": "stock.adjust",
            "reason": "recount",
        },
    )
    assert r.status_code == 403
    assert r.json()["code"] == "override.not_a_manager"


def test_stock_pages_follow_on_with_a_cursor(client, db, settings):
    s01 = make_location(db, "S01")
    for n in range(5):
        make_variant(db, sku=f"P{n}", price=100, stock={s01: n + 1})
    headers = token_for(db, settings, "a", "analyst")
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/stock", params=params, headers=headers).json()
        seen += [item["sku"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["P0", "P1", "P2", "P3", "P4"]
    bad = client.get("/api/v1/stock", params={"cursor": "!!"}, headers=headers)
    assert bad.json()["code"] == "pagination.invalid_cursor"


def test_the_ledger_shows_every_movement_with_its_actor_and_document(client, db, settings):
    from tests.factories import make_register

    s01 = make_location(db, "S01")
    make_register(db, s01, "S01-R1")
    make_variant(db, sku="BELT", price=3900, stock={s01: 1})
    inv = token_for(db, settings, "inv", "inventory")
    client.post(
        "/api/v1/stock/receipts",
        headers=inv,
        json={"location": "S01", "reference": "PO-9", "lines": [{"sku": "BELT", "quantity": 2}]},
    )
    cashier = token_for(db, settings, "c1", "cashier", ["S01"])
    sale = client.post(
        "/api/v1/sales",
        headers=cashier,
        json={
            "location": "S01",
            "register": "S01-R1",
            "lines": [{"sku": "BELT", "quantity": 5}],
            "payments": [{"method": "cash", "amount": 30000}],
        },
    ).json()
    ledger = client.get("/api/v1/stock/movements", params={"sku": "BELT"}, headers=inv).json()[
        "items"
    ]
    assert [(m["kind"], m["quantity"], m["actor"]) for m in ledger] == [
        ("sale", -5, "c1"),
        ("receive", 2, "inv"),
        ("receive", 1, None),
    ]
    assert ledger[0]["reference_id"] == sale["id"]
    assert ledger[1]["reference_id"] == "PO-9"
    exceptions = client.get("/api/v1/stock/exceptions", headers=inv).json()["items"]
    assert [(e["sku"], e["on_hand_after"], e["reference_id"]) for e in exceptions] == [
        ("BELT", -2, sale["id"])
    ]


# --- buckets: moves and safety stock -------------------------------------------------------


def buckets_of(client, headers, sku, location):
    (row,) = client.get(
        "/api/v1/stock", params={"sku": sku, "location": location}, headers=headers
    ).json()["items"]
    keys = ("on_hand", "reserved", "safety_stock", "quarantine", "damaged", "qc", "available")
    return {k: row[k] for k in keys}


def move(client, headers, source, target, quantity, sku="BELT"):
    return client.post(
        "/api/v1/stock/moves",
        headers=headers,
        json={
            "sku": sku,
            "location": "S01",
            "from": source,
            "to": target,
            "quantity": quantity,
            "reason": "inspection",
        },
    )


def test_moving_units_out_of_sellable_keeps_on_hand_and_lowers_available(client, db, settings):
    s01 = make_location(db, "S01")
    make_variant(db, sku="BELT", price=3900, stock={s01: 10})
    headers = token_for(db, settings, "inv", "inventory")
    r = move(client, headers, "sellable", "quarantine", 4)
    assert r.status_code == 201, r.text
    assert r.json()["from"] == "sellable"
    assert len(r.json()["movements"]) == 1
    r = move(client, headers, "quarantine", "damaged", 3)
    assert len(r.json()["movements"]) == 2
    assert move(client, headers, "quarantine", "sellable", 1).status_code == 201
    assert buckets_of(client, headers, "BELT", "S01") == {
        "on_hand": 10,
        "reserved": 0,
        "safety_stock": 0,
        "quarantine": 0,
        "damaged": 3,
        "qc": 0,
        "available": 7,
    }
    assert stock.verify(db=db) == []
    with db.uow(write=False) as uow:
        actions = uow.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("stock.moved") == 3


def test_a_move_from_a_bucket_holding_too_few_units_is_refused(client, db, settings):
    s01 = make_location(db, "S01")
    make_variant(db, sku="BELT", price=3900, stock={s01: 3})
    headers = token_for(db, settings, "inv", "inventory")
    r = move(client, headers, "damaged", "sellable", 1)
    assert r.status_code == 422
    assert r.json()["code"] == "inventory.bucket_insufficient"
    client.post(
        "/api/v1/reservations",
        headers=headers,
        json={
            "reference": {"type": "order", "id": "W-1"},
            "location": "S01",
            "lines": [{"sku": "BELT", "quantity": 2}],
        },
    )
    # Reserved units are promised: they cannot be moved out of sellable.
    assert move(client, headers, "sellable", "qc", 2).json()["code"] == (
        "inventory.bucket_insufficient"
    )
    assert move(client, headers, "sellable", "sellable", 1).json()["code"] == (
        "inventory.same_bucket"
    )
    assert move(client, headers, "sellable", "qc", 1).status_code == 201
    assert buckets_of(client, headers, "BELT", "S01")["available"] == 0
    assert stock.verify(db=db) == []


def test_a_cashier_cannot_move_stock_or_set_safety_stock(client, db, settings):
    s01 = make_location(db, "S01")
    make_variant(db, sku="BELT", price=3900, stock={s01: 3})
    headers = token_for(db, settings, "c1", "cashier", ["S01"])
    assert move(client, headers, "sellable", "damaged", 1).status_code == 403
    r = client.put(
        "/api/v1/stock/safety-stock",
        headers=headers,
        json={"sku": "BELT", "location": "S01", "quantity": 1},
    )
    assert r.status_code == 403


def test_safety_stock_reduces_what_can_be_reserved_but_has_no_movements(client, db, settings):
    s01 = make_location(db, "S01")
    make_location(db, "S02")
    make_variant(db, sku="BELT", price=3900, stock={s01: 5})
    headers = token_for(db, settings, "m1", "manager")
    r = client.put(
        "/api/v1/stock/safety-stock",
        headers=headers,
        json={"sku": "BELT", "location": "S01", "quantity": 2},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"sku": "BELT", "location": "S01", "quantity": 2, "previous": 0}
    assert buckets_of(client, headers, "BELT", "S01")["available"] == 3
    short = client.post(
        "/api/v1/reservations",
        headers=headers,
        json={
            "reference": {"type": "order", "id": "W-9"},
            "location": "S01",
            "lines": [{"sku": "BELT", "quantity": 4}],
        },
    )
    assert short.status_code == 409
    assert short.json()["details"]["lines"] == [{"sku": "BELT", "requested": 4, "available": 3}]
    # A level is created for a location that has none yet.
    r = client.put(
        "/api/v1/stock/safety-stock",
        headers=headers,
        json={"sku": "BELT", "location": "S02", "quantity": 1},
    )
    assert buckets_of(client, headers, "BELT", "S02")["available"] == -1
    bad = client.put(
        "/api/v1/stock/safety-stock",
        headers=headers,
        json={"sku": "BELT", "location": "S01", "quantity": -1},
    )
    assert bad.status_code == 422
    with db.uow(write=False) as uow:
        assert (
            uow.session.scalars(select(AuditEntry.action)).all().count("stock.safety_stock_set")
            == 2
        )
    assert stock.verify(db=db) == []


def test_verify_names_the_bucket_whose_level_differs(client, db, settings):
    from sqlalchemy import update

    from omnitill.adapters.db.models import StockLevel

    s01 = make_location(db, "S01")
    make_variant(db, sku="BELT", price=3900, stock={s01: 3})
    with db.uow() as uow:
        uow.session.execute(update(StockLevel).values(reserved=1))
        uow.commit()
    (found,) = stock.verify(db=db)
    assert (found.sku, found.bucket, found.on_hand, found.ledger_sum) == ("BELT", "reserved", 1, 0)

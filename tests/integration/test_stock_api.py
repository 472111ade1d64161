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

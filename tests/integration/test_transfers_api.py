"""Transfers between locations over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from omnitill.adapters.db.models import (
    AuditEntry,
    StockException,
    StockMovement,
    Transfer,
)
from omnitill.services import stock
from tests.factories import make_location, make_variant, token_for


@pytest.fixture
def estate(db, settings):
    """W01 (warehouse) holds TEE 20, CAP 5, SOCK 3; stores S01 and S02 hold nothing."""
    w01 = make_location(db, "W01", kind="warehouse")
    s01 = make_location(db, "S01")
    make_location(db, "S02")
    make_variant(db, sku="TEE", stock={w01: 20})
    make_variant(db, sku="CAP", stock={w01: 5})
    make_variant(db, sku="SOCK", stock={w01: 3})
    return {
        "w01": w01,
        "s01": s01,
        "boss": token_for(db, settings, "boss", "manager"),
    }


def level(client, headers, sku, location):
    items = client.get(
        "/api/v1/stock", params={"sku": sku, "location": location}, headers=headers
    ).json()["items"]
    return items[0] if items else None


def request_transfer(client, headers, lines=None, source="W01", destination="S01", **extra):
    body = {
        "source": source,
        "destination": destination,
        "lines": lines or [{"sku": "TEE", "quantity": 5}],
        **extra,
    }
    return client.post("/api/v1/transfers", json=body, headers=headers)


def transfer_movements(db, number):
    with db.uow(write=False) as uow:
        rows = uow.session.scalars(
            select(StockMovement).where(
                StockMovement.reference_type == "transfer", StockMovement.reference_id == number
            )
        ).all()
        codes = {loc.id: loc.code for loc in _locations(uow)}
        return sorted((codes[m.location_id], m.bucket, m.kind, m.quantity) for m in rows)


def _locations(uow):
    from omnitill.adapters.db.models import Location

    return uow.session.scalars(select(Location)).all()


def audit_actions(db):
    with db.uow(write=False) as uow:
        return list(uow.session.scalars(select(AuditEntry.action).order_by(AuditEntry.at)))


def count_rows(db, model):
    with db.uow(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def ship(client, headers, number, lines=None):
    body = None if lines is None else {"lines": lines}
    return client.post(f"/api/v1/transfers/{number}/ship", json=body, headers=headers)


def receive(client, headers, number, lines=None):
    body = None if lines is None else {"lines": lines}
    return client.post(f"/api/v1/transfers/{number}/receive", json=body, headers=headers)


def test_a_transfer_is_requested_shipped_in_transit_and_received(client, db, estate):
    boss = estate["boss"]
    r = request_transfer(client, boss, expected_on="2026-12-04", notes="restock")
    assert r.status_code == 201, r.text
    created = r.json()
    number = created["number"]
    assert number == "TR-000001"
    assert created["status"] == "requested"
    assert created["requested_by"] == "boss"
    assert created["expected_on"] == "2026-12-04"
    assert created["lines"][0]["requested"] == 5
    assert created["lines"][0]["not_shipped"] is None
    assert level(client, boss, "TEE", "W01")["on_hand"] == 20  # nothing moves yet
    assert level(client, boss, "TEE", "S01") is None

    shipped = ship(client, boss, number)
    assert shipped.status_code == 200, shipped.text
    body = shipped.json()
    assert body["status"] == "shipped"
    assert body["shipped_by"] == "boss"
    assert body["shipped_at"] is not None
    assert body["lines"][0]["shipped"] == 5
    assert body["lines"][0]["not_shipped"] == 0
    assert level(client, boss, "TEE", "W01")["on_hand"] == 15
    arriving = level(client, boss, "TEE", "S01")
    assert (arriving["on_hand"], arriving["in_transit"], arriving["available"]) == (0, 5, 0)
    assert stock.verify(db=db) == []

    received = receive(client, boss, number, [{"sku": "TEE", "quantity": 5}])
    assert received.status_code == 200, received.text
    body = received.json()
    assert body["status"] == "received"
    assert body["received_by"] == "boss"
    assert body["received_at"] is not None
    assert body["lines"][0]["received"] == 5
    assert body["lines"][0]["difference"] == 0
    assert body["discrepancies"] == []
    here = level(client, boss, "TEE", "S01")
    assert (here["on_hand"], here["in_transit"], here["available"]) == (5, 0, 5)
    assert transfer_movements(db, number) == [
        ("S01", "in_transit", "transfer_received", -5),
        ("S01", "in_transit", "transfer_shipped", 5),
        ("S01", "on_hand", "transfer_in", 5),
        ("W01", "on_hand", "transfer_out", -5),
    ]
    assert count_rows(db, StockException) == 0
    actions = audit_actions(db)
    assert "stock.transfer_shipped" in actions
    assert "stock.transfer_received" in actions
    got = client.get(f"/api/v1/transfers/{number}", headers=boss).json()
    assert got == body
    assert stock.verify(db=db) == []


def test_a_short_receipt_is_booked_clears_in_transit_and_opens_an_exception(client, db, estate):
    boss = estate["boss"]
    number = request_transfer(client, boss).json()["number"]
    ship(client, boss, number)
    r = receive(client, boss, number, [{"sku": "TEE", "quantity": 3}])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["lines"][0]["difference"] == -2
    (discrepancy,) = body["discrepancies"]
    assert {k: discrepancy[k] for k in ("sku", "shipped", "received", "difference", "kind")} == {
        "sku": "TEE",
        "shipped": 5,
        "received": 3,
        "difference": -2,
        "kind": "short",
    }
    here = level(client, boss, "TEE", "S01")
    assert (here["on_hand"], here["in_transit"]) == (3, 0)
    (exc,) = client.get("/api/v1/stock/exceptions", headers=boss).json()["items"]
    assert exc["id"] == discrepancy["exception_id"]
    assert (exc["kind"], exc["sku"], exc["location"]) == ("transfer_discrepancy", "TEE", "S01")
    assert (exc["on_hand_after"], exc["reference_type"], exc["reference_id"]) == (
        3,
        "transfer",
        number,
    )
    assert ("S01", "in_transit", "transfer_short", -2) in transfer_movements(db, number)
    shown = client.get(f"/api/v1/transfers/{number}", headers=boss).json()
    assert shown["discrepancies"] == body["discrepancies"]
    assert stock.verify(db=db) == []


def test_an_over_receipt_books_the_surplus_and_opens_an_exception(client, db, estate):
    boss = estate["boss"]
    number = request_transfer(client, boss).json()["number"]
    ship(client, boss, number)
    body = receive(client, boss, number, [{"sku": "TEE", "quantity": 6}]).json()
    assert [(d["kind"], d["difference"]) for d in body["discrepancies"]] == [("over", 1)]
    here = level(client, boss, "TEE", "S01")
    assert (here["on_hand"], here["in_transit"]) == (6, 0)
    moves = transfer_movements(db, number)
    assert ("S01", "on_hand", "transfer_in", 5) in moves
    assert ("S01", "on_hand", "transfer_over", 1) in moves
    assert count_rows(db, StockException) == 1
    assert stock.verify(db=db) == []


def test_nothing_received_of_a_line_loses_it_all_in_transit(client, db, estate):
    boss = estate["boss"]
    lines = [{"sku": "TEE", "quantity": 2}, {"sku": "CAP", "quantity": 1}]
    number = request_transfer(client, boss, lines).json()["number"]
    ship(client, boss, number)
    body = receive(
        client, boss, number, [{"sku": "TEE", "quantity": 2}, {"sku": "CAP", "quantity": 0}]
    ).json()
    assert [(d["sku"], d["difference"]) for d in body["discrepancies"]] == [("CAP", -1)]
    cap = level(client, boss, "CAP", "S01")
    assert (cap["on_hand"], cap["in_transit"]) == (0, 0)
    assert stock.verify(db=db) == []


def test_shipping_more_than_is_free_lists_every_short_line_and_writes_nothing(client, db, estate):
    boss = estate["boss"]
    r = client.post(
        "/api/v1/reservations",
        headers=boss,
        json={
            "reference": {"type": "order", "id": "W-1"},
            "location": "W01",
            "lines": [{"sku": "TEE", "quantity": 18}],
        },
    )
    assert r.status_code == 201, r.text
    lines = [
        {"sku": "TEE", "quantity": 5},
        {"sku": "CAP", "quantity": 5},
        {"sku": "SOCK", "quantity": 4},
    ]
    number = request_transfer(client, boss, lines).json()["number"]
    movements_before = count_rows(db, StockMovement)
    r = ship(client, boss, number)
    assert r.status_code == 409
    problem = r.json()
    assert problem["code"] == "inventory.insufficient_stock"
    assert sorted(problem["details"]["lines"], key=lambda x: x["sku"]) == [
        {"sku": "SOCK", "requested": 4, "free": 3},
        {"sku": "TEE", "requested": 5, "free": 2},
    ]
    assert sorted(e["field"] for e in problem["errors"]) == ["lines.0.quantity", "lines.2.quantity"]
    assert count_rows(db, StockMovement) == movements_before
    assert level(client, boss, "TEE", "W01")["on_hand"] == 20
    assert level(client, boss, "CAP", "W01")["on_hand"] == 5
    assert level(client, boss, "CAP", "S01") is None
    assert client.get(f"/api/v1/transfers/{number}", headers=boss).json()["status"] == "requested"
    # Within what is free, it ships; the reserved units stay.
    r = ship(
        client,
        boss,
        number,
        [
            {"sku": "TEE", "quantity": 2},
            {"sku": "CAP", "quantity": 5},
            {"sku": "SOCK", "quantity": 3},
        ],
    )
    assert r.status_code == 200, r.text
    tee = level(client, boss, "TEE", "W01")
    assert (tee["on_hand"], tee["reserved"], tee["available"]) == (18, 18, 0)
    assert stock.verify(db=db) == []


def test_a_partial_shipment_records_what_was_not_shipped(client, db, estate):
    boss = estate["boss"]
    lines = [{"sku": "TEE", "quantity": 5}, {"sku": "CAP", "quantity": 1}]
    number = request_transfer(client, boss, lines).json()["number"]
    over = ship(client, boss, number, [{"sku": "TEE", "quantity": 6}])
    assert over.status_code == 422
    assert over.json()["code"] == "inventory.transfer_over_ship"
    assert over.json()["errors"][0]["field"] == "lines.0.quantity"
    stranger = ship(client, boss, number, [{"sku": "SOCK", "quantity": 1}])
    assert stranger.json()["code"] == "inventory.transfer_sku_not_on_transfer"
    assert stranger.json()["errors"][0]["field"] == "lines.0.sku"
    r = ship(client, boss, number, [{"sku": "TEE", "quantity": 3}])
    assert r.status_code == 200, r.text
    by_sku = {line["sku"]: line for line in r.json()["lines"]}
    assert (by_sku["TEE"]["shipped"], by_sku["TEE"]["not_shipped"]) == (3, 2)
    assert (by_sku["CAP"]["shipped"], by_sku["CAP"]["not_shipped"]) == (0, 1)
    assert level(client, boss, "CAP", "S01") is None
    # Only lines that shipped need naming on receipt.
    r = receive(client, boss, number, [{"sku": "TEE", "quantity": 3}])
    assert r.status_code == 200, r.text
    assert r.json()["discrepancies"] == []
    assert stock.verify(db=db) == []


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"destination": "W01"}, "inventory.transfer_same_location", "destination"),
        (
            {"lines": [{"sku": "TEE", "quantity": 0}]},
            "inventory.invalid_quantity",
            "lines.0.quantity",
        ),
        (
            {"lines": [{"sku": "TEE", "quantity": 1}, {"sku": "CAP", "quantity": -2}]},
            "inventory.invalid_quantity",
            "lines.1.quantity",
        ),
        (
            {"lines": [{"sku": "TEE", "quantity": 1}, {"sku": "TEE", "quantity": 2}]},
            "inventory.transfer_duplicate_sku",
            "lines.1.sku",
        ),
        (
            {"lines": [{"sku": "TEE", "quantity": 1}, {"sku": "NOPE", "quantity": 2}]},
            "catalog.unknown_sku",
            "lines.1.sku",
        ),
        ({"lines": []}, "inventory.transfer_no_lines", "lines"),
        ({"destination": "X99"}, "location.not_found", "destination"),
    ],
)
def test_bad_transfer_requests_are_refused_naming_the_field_and_write_nothing(
    client, db, estate, body, code, field
):
    payload = {"source": "W01", "destination": "S01", "lines": [{"sku": "TEE", "quantity": 1}]}
    payload.update(body)
    r = client.post("/api/v1/transfers", json=payload, headers=estate["boss"])
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == code
    assert field in [e["field"] for e in problem["errors"]]
    assert count_rows(db, Transfer) == 0
    # The number was not spent either: the next transfer is the first.
    assert request_transfer(client, estate["boss"]).json()["number"] == "TR-000001"


def test_cancel_only_before_shipping(client, db, estate):
    boss = estate["boss"]
    number = request_transfer(client, boss).json()["number"]
    r = client.post(f"/api/v1/transfers/{number}/cancel", headers=boss)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert r.json()["cancelled_at"] is not None
    again = client.post(f"/api/v1/transfers/{number}/cancel", headers=boss)
    assert again.status_code == 409
    assert again.json()["code"] == "inventory.transfer_not_cancellable"
    refused = ship(client, boss, number)
    assert refused.status_code == 409
    assert refused.json()["code"] == "inventory.transfer_not_shippable"
    assert refused.json()["details"]["status"] == "cancelled"
    assert level(client, boss, "TEE", "W01")["on_hand"] == 20

    second = request_transfer(client, boss).json()["number"]
    ship(client, boss, second)
    late = client.post(f"/api/v1/transfers/{second}/cancel", headers=boss)
    assert late.status_code == 409
    assert late.json()["details"]["status"] == "shipped"
    assert audit_actions(db).count("stock.transfer_cancelled") == 1
    assert stock.verify(db=db) == []


def test_a_transfer_is_received_once(client, db, estate):
    boss = estate["boss"]
    number = request_transfer(client, boss).json()["number"]
    early = receive(client, boss, number)
    assert early.status_code == 409
    assert early.json()["code"] == "inventory.transfer_not_receivable"
    assert early.json()["details"]["status"] == "requested"
    ship(client, boss, number)
    assert receive(client, boss, number).status_code == 200  # default: as shipped
    movements = count_rows(db, StockMovement)
    twice = receive(client, boss, number, [{"sku": "TEE", "quantity": 5}])
    assert twice.status_code == 409
    assert twice.json()["code"] == "inventory.transfer_not_receivable"
    assert twice.json()["details"]["status"] == "received"
    assert count_rows(db, StockMovement) == movements
    assert level(client, boss, "TEE", "S01")["on_hand"] == 5
    assert audit_actions(db).count("stock.transfer_received") == 1
    assert stock.verify(db=db) == []


@pytest.mark.parametrize(
    ("lines", "code", "field"),
    [
        ([{"sku": "TEE", "quantity": -1}], "inventory.invalid_quantity", "lines.0.quantity"),
        ([{"sku": "CAP", "quantity": 1}], "inventory.transfer_sku_not_on_transfer", "lines.0.sku"),
        ([], "inventory.transfer_lines_missing", "lines"),
    ],
)
def test_bad_receipts_are_refused_and_write_nothing(client, db, estate, lines, code, field):
    boss = estate["boss"]
    number = request_transfer(client, boss).json()["number"]
    ship(client, boss, number)
    movements = count_rows(db, StockMovement)
    r = receive(client, boss, number, lines)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code
    assert field in [e["field"] for e in r.json()["errors"]]
    assert count_rows(db, StockMovement) == movements
    assert client.get(f"/api/v1/transfers/{number}", headers=boss).json()["status"] == "shipped"
    assert level(client, boss, "TEE", "S01")["in_transit"] == 5
    assert stock.verify(db=db) == []


def test_store_staff_act_only_on_their_side_of_a_transfer(client, db, settings, estate):
    boss = estate["boss"]
    store_manager = token_for(db, settings, "sm1", "manager", ["S01"])
    other_store = token_for(db, settings, "inv2", "inventory", ["S02"])
    cashier = token_for(db, settings, "c1", "cashier", ["S01"])
    refused = request_transfer(client, cashier)
    assert refused.status_code == 403
    assert refused.json()["code"] == "auth.permission_denied"
    outsider = request_transfer(client, other_store)
    assert outsider.status_code == 403
    assert outsider.json()["code"] == "auth.location_forbidden"

    r = request_transfer(client, store_manager)
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    not_source = ship(client, store_manager, number)
    assert not_source.status_code == 403
    assert not_source.json()["code"] == "auth.location_forbidden"
    hidden = client.get(f"/api/v1/transfers/{number}", headers=other_store)
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "inventory.transfer_not_found"
    assert client.get("/api/v1/transfers", headers=other_store).json()["items"] == []
    assert ship(client, boss, number).status_code == 200
    assert receive(client, store_manager, number).status_code == 200
    # A cashier at the destination may read it (stock.read) but not act on it.
    assert client.get(f"/api/v1/transfers/{number}", headers=cashier).status_code == 200
    assert stock.verify(db=db) == []


def test_transfers_are_listed_newest_first_with_filters_and_pages(client, db, estate):
    boss = estate["boss"]
    first = request_transfer(client, boss).json()["number"]
    second = request_transfer(client, boss, destination="S02").json()["number"]
    third = request_transfer(client, boss).json()["number"]
    ship(client, boss, third)
    listed = client.get("/api/v1/transfers", headers=boss, params={"limit": 2}).json()
    assert [t["number"] for t in listed["items"]] == [third, second]
    more = client.get(
        "/api/v1/transfers", headers=boss, params={"limit": 2, "cursor": listed["next_cursor"]}
    ).json()
    assert [t["number"] for t in more["items"]] == [first]
    assert more["next_cursor"] is None

    def numbers(**params):
        r = client.get("/api/v1/transfers", headers=boss, params=params)
        assert r.status_code == 200, r.text
        return [t["number"] for t in r.json()["items"]]

    assert numbers(status="shipped") == [third]
    assert numbers(destination="S02") == [second]
    assert numbers(source="W01", status="requested") == [second, first]
    bad = client.get("/api/v1/transfers", headers=boss, params={"status": "lost"})
    assert bad.status_code == 422
    assert bad.json()["code"] == "inventory.transfer_invalid_status"


def test_concurrent_ships_of_one_transfer_ship_it_once(client, db, estate):
    boss = estate["boss"]
    number = request_transfer(client, boss).json()["number"]
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def go() -> None:
        barrier.wait()
        statuses.append(ship(client, boss, number).status_code)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [200, 409, 409, 409]
    assert level(client, boss, "TEE", "W01")["on_hand"] == 15
    assert level(client, boss, "TEE", "S01")["in_transit"] == 5
    assert stock.verify(db=db) == []


def test_concurrent_transfers_never_ship_more_than_is_free(client, db, estate):
    boss = estate["boss"]
    numbers = [
        request_transfer(client, boss, [{"sku": "SOCK", "quantity": 1}]).json()["number"]
        for _ in range(6)
    ]
    barrier = threading.Barrier(len(numbers))
    statuses: list[int] = []

    def go(number: str) -> None:
        barrier.wait()
        statuses.append(ship(client, boss, number).status_code)

    threads = [threading.Thread(target=go, args=(n,)) for n in numbers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [200, 200, 200, 409, 409, 409]
    assert level(client, boss, "SOCK", "W01")["on_hand"] == 0
    assert level(client, boss, "SOCK", "S01")["in_transit"] == 3
    assert stock.verify(db=db) == []


# --- lot- and serial-tracked goods ---------------------------------------------------------


def receive_goods(client, headers, location, lines):
    r = client.post(
        "/api/v1/stock/receipts", json={"location": location, "lines": lines}, headers=headers
    )
    assert r.status_code == 201, r.text


def lots_at(client, headers, sku, location):
    r = client.get("/api/v1/lots", params={"sku": sku, "location": location}, headers=headers)
    assert r.status_code == 200, r.text
    return {lot["lot"]: lot["on_hand"] for lot in r.json()["items"] if lot["on_hand"]}


def serial_unit(client, headers, serial):
    r = client.get(f"/api/v1/serials/{serial}", headers=headers)
    assert r.status_code == 200, r.text
    (unit,) = r.json()["items"]
    return unit


def test_lot_tracked_goods_travel_in_their_lots_first_expired_first(client, db, estate):
    boss = estate["boss"]
    make_variant(db, sku="MILK", tracking="lot")
    soon, later = (date.today() + timedelta(days=n) for n in (10, 40))
    receive_goods(
        client,
        boss,
        "W01",
        [
            {"sku": "MILK", "quantity": 4, "lot": {"code": "L-LATE", "expires_on": str(later)}},
            {"sku": "MILK", "quantity": 3, "lot": {"code": "L-SOON", "expires_on": str(soon)}},
        ],
    )
    number = request_transfer(client, boss, [{"sku": "MILK", "quantity": 5}]).json()["number"]
    r = ship(client, boss, number)
    assert r.status_code == 200, r.text
    assert [(p["lot"], p["quantity"]) for p in r.json()["lines"][0]["lots"]] == [
        ("L-SOON", 3),
        ("L-LATE", 2),
    ]
    assert r.json()["lines"][0]["lots"][0]["expires_on"] == str(soon)
    assert lots_at(client, boss, "MILK", "W01") == {"L-LATE": 2}
    assert stock.verify(db=db) == []
    assert receive(client, boss, number).status_code == 200
    assert lots_at(client, boss, "MILK", "S01") == {"L-SOON": 3, "L-LATE": 2}
    assert level(client, boss, "MILK", "S01")["on_hand"] == 5
    assert stock.verify(db=db) == []

    # A short lot receipt names the lots that arrived; the rest is lost in transit.
    second = request_transfer(client, boss, [{"sku": "MILK", "quantity": 2}]).json()["number"]
    ship(client, boss, second)
    missing = receive(client, boss, second, [{"sku": "MILK", "quantity": 1}])
    assert missing.status_code == 422
    assert missing.json()["code"] == "inventory.transfer_lots_required"
    assert missing.json()["errors"][0]["field"] == "lines.0.lots"
    r = receive(
        client,
        boss,
        second,
        [{"sku": "MILK", "quantity": 1, "lots": [{"lot": "L-LATE", "quantity": 1}]}],
    )
    assert r.status_code == 200, r.text
    assert [d["difference"] for d in r.json()["discrepancies"]] == [-1]
    assert lots_at(client, boss, "MILK", "S01") == {"L-SOON": 3, "L-LATE": 3}
    assert level(client, boss, "MILK", "S01")["in_transit"] == 0
    assert stock.verify(db=db) == []


def test_serial_tracked_units_go_in_transit_and_arrive_by_serial(client, db, estate):
    boss = estate["boss"]
    make_variant(db, sku="PHONE", tracking="serial")
    receive_goods(
        client, boss, "W01", [{"sku": "PHONE", "quantity": 3, "serials": ["SN1", "SN2", "SN3"]}]
    )
    number = request_transfer(client, boss, [{"sku": "PHONE", "quantity": 2}]).json()["number"]
    movements = count_rows(db, StockMovement)
    unnamed = ship(client, boss, number)
    assert unnamed.status_code == 422
    assert unnamed.json()["errors"][0]["field"].startswith("lines.0.serials")
    assert count_rows(db, StockMovement) == movements
    r = ship(client, boss, number, [{"sku": "PHONE", "quantity": 2, "serials": ["SN1", "SN2"]}])
    assert r.status_code == 200, r.text
    assert r.json()["lines"][0]["serials"] == ["SN1", "SN2"]
    unit = serial_unit(client, boss, "SN1")
    assert unit["status"] == "in_transit"
    assert unit["history"][-1]["reference_id"] == number

    r = receive(client, boss, number, [{"sku": "PHONE", "quantity": 1, "serials": ["SN1"]}])
    assert r.status_code == 200, r.text
    assert [(d["kind"], d["difference"]) for d in r.json()["discrepancies"]] == [("short", -1)]
    arrived_unit = serial_unit(client, boss, "SN1")
    assert (arrived_unit["status"], arrived_unit["location"]) == ("in_stock", "S01")
    assert serial_unit(client, boss, "SN2")["status"] == "in_transit"  # lost on the way
    here = level(client, boss, "PHONE", "S01")
    assert (here["on_hand"], here["in_transit"]) == (1, 0)
    with db.uow(write=False) as uow:
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "stock.transfer_received")
        ).one()
    assert entry.details["lines"][0]["serials_missing"] == ["SN2"]
    assert stock.verify(db=db) == []

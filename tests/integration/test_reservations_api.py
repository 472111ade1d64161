"""Stock reservations over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from omnitill.adapters.db.models import AuditEntry, Reservation, StockMovement
from omnitill.adapters.db.types import utcnow
from omnitill.services import reservations, stock
from tests.factories import make_location, make_register, make_variant, token_for


def stock_row(client, headers, sku, location="S01"):
    items = client.get(
        "/api/v1/stock", params={"sku": sku, "location": location}, headers=headers
    ).json()["items"]
    return items[0]


def reserve(client, headers, ref="W-1001", lines=None, **extra):
    body = {
        "reference": {"type": "order", "id": ref},
        "location": "S01",
        "lines": lines or [{"sku": "TEE", "quantity": 2}],
        **extra,
    }
    return client.post("/api/v1/reservations", headers=headers, json=body)


def setup(db, settings, *, on_hand=10, role="manager"):
    s01 = make_location(db, "S01")
    make_variant(db, sku="TEE", price=1500, stock={s01: on_hand})
    return s01, token_for(db, settings, "u1", role, ["S01"])


def test_reserving_holds_units_and_lowers_available(client, db, settings):
    _, headers = setup(db, settings)
    r = reserve(client, headers, ttl_seconds=900)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "active"
    assert body["reference"] == {"type": "order", "id": "W-1001"}
    assert body["lines"] == [{"sku": "TEE", "quantity": 2}]
    assert body["expires_at"] is not None
    row = stock_row(client, headers, "TEE")
    assert (row["on_hand"], row["reserved"], row["available"]) == (10, 2, 8)
    assert stock.verify(db=db) == []
    got = client.get(f"/api/v1/reservations/{body['id']}", headers=headers).json()
    assert got["lines"] == body["lines"]
    with db.uow(write=False) as uow:
        kinds = uow.session.scalars(
            select(StockMovement.kind).where(StockMovement.bucket == "reserved")
        ).all()
        actions = uow.session.scalars(select(AuditEntry.action)).all()
    assert kinds == ["reserve"]
    assert "stock.reserved" in actions


def test_the_same_reference_and_lines_replay_the_reservation(client, db, settings):
    _, headers = setup(db, settings)
    first = reserve(client, headers)
    again = reserve(client, headers)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert stock_row(client, headers, "TEE")["reserved"] == 2


def test_a_reference_reused_with_other_lines_is_refused(client, db, settings):
    _, headers = setup(db, settings)
    reserve(client, headers)
    r = reserve(client, headers, lines=[{"sku": "TEE", "quantity": 3}])
    assert r.status_code == 422
    assert r.json()["code"] == "reservation.reference_reused"
    assert stock_row(client, headers, "TEE")["reserved"] == 2


def test_a_short_reservation_lists_every_short_line_and_writes_nothing(client, db, settings):
    s01, headers = setup(db, settings, on_hand=5)
    make_variant(db, sku="CAP", stock={s01: 1})
    make_variant(db, sku="SOCK", stock={s01: 9})
    r = reserve(
        client,
        headers,
        lines=[
            {"sku": "TEE", "quantity": 6},
            {"sku": "SOCK", "quantity": 2},
            {"sku": "CAP", "quantity": 3},
        ],
    )
    assert r.status_code == 409
    problem = r.json()
    assert problem["code"] == "inventory.insufficient_stock"
    short = sorted(problem["details"]["lines"], key=lambda x: x["sku"])
    assert short == [
        {"sku": "CAP", "requested": 3, "available": 1},
        {"sku": "TEE", "requested": 6, "available": 5},
    ]
    assert sorted(e["field"] for e in problem["errors"]) == ["lines.0.quantity", "lines.2.quantity"]
    assert stock_row(client, headers, "SOCK")["reserved"] == 0
    assert client.get("/api/v1/reservations", headers=headers).json()["items"] == []


def test_release_gives_units_back_and_is_idempotent(client, db, settings):
    _, headers = setup(db, settings)
    rid = reserve(client, headers).json()["id"]
    for _ in range(2):
        r = client.post(f"/api/v1/reservations/{rid}/release", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "released"
    row = stock_row(client, headers, "TEE")
    assert (row["on_hand"], row["reserved"], row["available"]) == (10, 0, 10)
    r = client.post(f"/api/v1/reservations/{rid}/fulfil", headers=headers)
    assert r.status_code == 409
    assert r.json()["code"] == "reservation.invalid_transition"
    assert stock.verify(db=db) == []


def test_fulfil_ships_the_units_and_cannot_then_be_released(client, db, settings):
    _, headers = setup(db, settings)
    rid = reserve(client, headers).json()["id"]
    for _ in range(2):
        r = client.post(f"/api/v1/reservations/{rid}/fulfil", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "fulfilled"
    row = stock_row(client, headers, "TEE")
    assert (row["on_hand"], row["reserved"], row["available"]) == (8, 0, 8)
    r = client.post(f"/api/v1/reservations/{rid}/release", headers=headers)
    assert r.status_code == 409
    assert r.json()["code"] == "reservation.invalid_transition"
    assert stock.verify(db=db) == []
    with db.uow(write=False) as uow:
        kinds = sorted(
            (m.bucket, m.kind, m.quantity)
            for m in uow.session.scalars(
                select(StockMovement).where(StockMovement.reference_id == rid)
            )
        )
    assert kinds == [
        ("on_hand", "sale", -2),
        ("reserved", "fulfil", -2),
        ("reserved", "reserve", 2),
    ]


def test_the_sweeper_expires_only_reservations_past_their_time(client, db, settings):
    _, headers = setup(db, settings)
    due = reserve(client, headers, ref="W-1", ttl_seconds=60).json()["id"]
    later = reserve(client, headers, ref="W-2", ttl_seconds=3600).json()["id"]
    forever = reserve(client, headers, ref="W-3").json()["id"]
    assert reservations.sweep(db=db) == 0
    assert reservations.sweep(db=db, now=utcnow() + timedelta(seconds=120)) == 1
    assert reservations.sweep(db=db, now=utcnow() + timedelta(seconds=120)) == 0
    statuses = {
        rid: client.get(f"/api/v1/reservations/{rid}", headers=headers).json()["status"]
        for rid in (due, later, forever)
    }
    assert statuses == {due: "expired", later: "active", forever: "active"}
    assert stock_row(client, headers, "TEE")["reserved"] == 4
    released = client.post(f"/api/v1/reservations/{due}/release", headers=headers)
    assert released.json()["status"] == "expired"
    refused = client.post(f"/api/v1/reservations/{due}/fulfil", headers=headers)
    assert refused.json()["code"] == "reservation.invalid_transition"
    assert stock.verify(db=db) == []


def test_the_sweeper_works_through_many_batches(db, settings, client):
    _, headers = setup(db, settings, on_hand=50)
    for n in range(7):
        assert reserve(client, headers, ref=f"B-{n}", ttl_seconds=5).status_code == 201
    with db.uow() as uow:
        uow.session.execute(update(Reservation).values(expires_at=utcnow() - timedelta(days=1)))
        uow.commit()
    assert reservations.sweep(db=db, batch_size=3) == 7
    assert stock_row(client, headers, "TEE")["reserved"] == 0
    listed = client.get(
        "/api/v1/reservations", params={"status": "expired", "limit": 5}, headers=headers
    ).json()
    assert len(listed["items"]) == 5
    assert listed["next_cursor"]
    assert stock.verify(db=db) == []


def test_reservations_can_be_found_by_reference(client, db, settings):
    _, headers = setup(db, settings)
    reserve(client, headers, ref="W-1")
    reserve(client, headers, ref="W-2")
    found = client.get(
        "/api/v1/reservations",
        params={"reference_type": "order", "reference_id": "W-2", "location": "S01"},
        headers=headers,
    ).json()["items"]
    assert [r["reference"]["id"] for r in found] == ["W-2"]


def test_cashiers_reserve_only_at_their_stores_and_analysts_not_at_all(client, db, settings):
    s01, cashier = setup(db, settings, role="cashier")
    s02 = make_location(db, "S02")
    make_variant(db, sku="HAT", stock={s01: 3, s02: 3})
    assert reserve(client, cashier).status_code == 201
    body = {
        "reference": {"type": "order", "id": "X"},
        "location": "S02",
        "lines": [{"sku": "HAT", "quantity": 1}],
    }
    r = client.post("/api/v1/reservations", headers=cashier, json=body)
    assert r.status_code == 403
    assert r.json()["code"] == "auth.location_forbidden"
    analyst = token_for(db, settings, "a1", "analyst")
    assert reserve(client, analyst, ref="Y").status_code == 403


def test_an_in_store_sale_goes_through_when_everything_is_reserved(client, db, settings):
    s01, headers = setup(db, settings, on_hand=2)
    make_register(db, s01, "S01-R1")
    assert reserve(client, headers).status_code == 201
    sale = client.post(
        "/api/v1/sales",
        headers=headers,
        json={
            "location": "S01",
            "register": "S01-R1",
            "lines": [{"sku": "TEE", "quantity": 3}],
            "payments": [{"method": "cash", "amount": 10000}],
        },
    )
    assert sale.status_code == 201, sale.text
    row = stock_row(client, headers, "TEE")
    assert (row["on_hand"], row["reserved"], row["available"]) == (-1, 2, -3)
    exceptions = client.get("/api/v1/stock/exceptions", headers=headers).json()["items"]
    assert [e["on_hand_after"] for e in exceptions] == [-1]
    assert stock.verify(db=db) == []

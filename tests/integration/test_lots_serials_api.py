"""Lots with expiry (FEFO), serial numbers, and their place in receipts, sales and
reservations, over HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from omnitill.adapters.db.models import (
    Lot,
    LotBalance,
    Reservation,
    Sale,
    SerialEvent,
    SerialUnit,
    StockLevel,
    StockMovement,
    Variant,
)
from omnitill.adapters.db.repositories import catalog as catalog_repo
from omnitill.adapters.db.types import utcnow
from omnitill.domain.errors import ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.lots import business_date
from omnitill.services import auth, lot_expiry, reservations, stock, tracking
from omnitill.services.reservations import (
    FulfilSerials,
    ReservationLineInput,
    ReservationRequest,
)
from tests.factories import (
    PASSWORD,
    make_location,
    make_register,
    make_variant,
    token_for,
)

TZ = "America/New_York"  # make_location's default


def today() -> date:
    return business_date(utcnow(), TZ)


def days(n: int) -> str:
    return (today() + timedelta(days=n)).isoformat()


def setup(db, settings):
    """Stores S01 and S02 with a register each; an admin and a cashier of S01."""
    s01, s02 = make_location(db, "S01"), make_location(db, "S02")
    make_register(db, s01, "S01-R1")
    make_register(db, s02, "S02-R1")
    admin = token_for(db, settings, "boss", "admin")
    cashier = token_for(db, settings, "c1", "cashier", ["S01"])
    return s01, s02, admin, cashier


def receive(client, headers, lines, location="S01"):
    return client.post(
        "/api/v1/stock/receipts", headers=headers, json={"location": location, "lines": lines}
    )


def sell(client, headers, lines, location="S01", register=None):
    return client.post(
        "/api/v1/sales",
        headers=headers,
        json={
            "id": str(uuid7()),
            "location": location,
            "register": register or f"{location}-R1",
            "lines": lines,
            "payments": [{"method": "cash", "amount": 10_000_000}],
        },
    )


def stock_row(client, headers, sku, location="S01"):
    items = client.get(
        "/api/v1/stock", params={"sku": sku, "location": location}, headers=headers
    ).json()["items"]
    return items[0] if items else None


def lots(client, headers, sku, **params):
    r = client.get("/api/v1/lots", params={"sku": sku, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return {(x["lot"], x["location"]): x for x in r.json()["items"]}


def count(db, model) -> int:
    with db.uow(write=False) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def seed_expired_lot(db, variant, location, code, expires_on, quantity):
    """A lot received before it expired (receiving it now would be refused): lot, balance,
    level and the movement naming the lot, so the ledger stays whole."""
    with db.uow() as uow:
        lot = Lot(id=uuid7(), variant_id=variant.id, code=code, expires_on=expires_on)
        uow.session.add(lot)
        uow.session.flush()
        uow.session.add(LotBalance(lot_id=lot.id, location_id=location.id, on_hand=quantity))
        level = uow.session.get(StockLevel, (variant.id, location.id))
        if level is None:
            uow.session.add(
                StockLevel(variant_id=variant.id, location_id=location.id, on_hand=quantity)
            )
        else:
            level.on_hand += quantity
        uow.session.add(
            StockMovement(
                variant_id=variant.id,
                location_id=location.id,
                quantity=quantity,
                kind="receive",
                reason="test setup",
                lot_id=lot.id,
            )
        )
        uow.commit()


def three_lots(client, admin):
    """MILK: A expires in 30 days (5), B in 10 days (3), C in 60 days (4)."""
    r = receive(
        client,
        admin,
        [
            {"sku": "MILK", "quantity": 5, "lot": {"code": "A", "expires_on": days(30)}},
            {"sku": "MILK", "quantity": 3, "lot": {"code": "B", "expires_on": days(10)}},
            {"sku": "MILK", "quantity": 4, "lot": {"code": "C", "expires_on": days(60)}},
        ],
    )
    assert r.status_code == 201, r.text


# --- lots ---------------------------------------------------------------------------------


def test_fefo_picks_the_earliest_expiry_and_spans_lots_when_one_is_short(client, db, settings):
    _, _, admin, cashier = setup(db, settings)
    make_variant(db, sku="MILK", tracking="lot")
    three_lots(client, admin)

    first = sell(client, cashier, [{"sku": "MILK", "quantity": 2}])
    assert first.status_code == 201, first.text
    assert first.json()["lines"][0]["lots"] == [{"lot": "B", "expires_on": days(10), "quantity": 2}]
    second = sell(client, cashier, [{"sku": "MILK", "quantity": 4}])
    assert second.status_code == 201, second.text
    assert second.json()["lines"][0]["lots"] == [
        {"lot": "B", "expires_on": days(10), "quantity": 1},
        {"lot": "A", "expires_on": days(30), "quantity": 3},
    ]
    # the sale reads back with its lots
    again = client.get(f"/api/v1/sales/{second.json()['id']}", headers=cashier).json()
    assert again["lines"][0]["lots"] == second.json()["lines"][0]["lots"]

    balances = lots(client, admin, "MILK")
    assert {k: v["on_hand"] for k, v in balances.items()} == {("A", "S01"): 2, ("C", "S01"): 4}
    assert lots(client, admin, "MILK", include_empty="true")[("B", "S01")]["on_hand"] == 0
    assert stock_row(client, admin, "MILK")["on_hand"] == 6
    # one on_hand movement per lot the sale drew from, each naming its lot
    ledger = client.get("/api/v1/stock/movements", params={"sku": "MILK"}, headers=admin)
    sale_moves = [m for m in ledger.json()["items"] if m["kind"] == "sale"]
    assert sorted((m["lot"], m["quantity"]) for m in sale_moves) == [
        ("A", -3),
        ("B", -2),
        ("B", -1),
    ]
    assert stock.verify(db=db) == []


def test_a_named_lot_is_sold_from_and_a_short_or_unknown_one_is_refused(client, db, settings):
    _, _, admin, cashier = setup(db, settings)
    make_variant(db, sku="MILK", tracking="lot")
    three_lots(client, admin)

    named = sell(client, cashier, [{"sku": "MILK", "quantity": 2, "lot": "C"}])
    assert named.status_code == 201, named.text
    assert named.json()["lines"][0]["lots"] == [{"lot": "C", "expires_on": days(60), "quantity": 2}]

    short = sell(client, cashier, [{"sku": "MILK", "quantity": 3, "lot": "C"}])
    assert short.status_code == 422
    assert short.json()["code"] == "inventory.lot_insufficient"
    assert [e["field"] for e in short.json()["errors"]] == ["lines.0.lot"]
    assert short.json()["details"]["available"] == 2

    unknown = sell(client, cashier, [{"sku": "MILK", "quantity": 1, "lot": "ZZ"}])
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "inventory.lot_unknown"
    # nothing written by the refused sales
    assert count(db, Sale) == 1
    assert lots(client, admin, "MILK")[("C", "S01")]["on_hand"] == 2
    assert stock_row(client, admin, "MILK")["on_hand"] == 10
    assert stock.verify(db=db) == []


def test_expired_lots_are_skipped_then_swept_out_of_available(client, db, settings):
    s01, _, admin, cashier = setup(db, settings)
    milk = make_variant(db, sku="MILK", tracking="lot")
    seed_expired_lot(db, milk, s01, "OLD", today() - timedelta(days=1), 5)
    assert (
        receive(
            client,
            admin,
            [{"sku": "MILK", "quantity": 3, "lot": {"code": "NEW", "expires_on": days(5)}}],
        ).status_code
        == 201
    )

    # expired but not yet swept: FEFO already skips it
    r = sell(client, cashier, [{"sku": "MILK", "quantity": 2}])
    assert r.status_code == 201, r.text
    assert [x["lot"] for x in r.json()["lines"][0]["lots"]] == ["NEW"]
    listed = lots(client, admin, "MILK")
    assert listed[("OLD", "S01")]["expired"] is True
    assert listed[("OLD", "S01")]["sellable"] == 0
    assert listed[("NEW", "S01")]["expired"] is False

    assert lot_expiry.sweep(db=db) == 5
    row = stock_row(client, admin, "MILK")
    assert (row["on_hand"], row["expired"], row["available"]) == (6, 5, 1)
    listed = lots(client, admin, "MILK")
    assert listed[("OLD", "S01")]["expired_units"] == 5
    assert lot_expiry.sweep(db=db) == 0  # idempotent
    assert stock_row(client, admin, "MILK")["expired"] == 5
    ledger = client.get("/api/v1/stock/movements", params={"sku": "MILK"}, headers=admin).json()
    swept = [m for m in ledger["items"] if m["kind"] == "lot_expired"]
    assert [(m["bucket"], m["quantity"], m["lot"]) for m in swept] == [("expired", 5, "OLD")]

    # goods in hand beyond the unexpired lots still sell; the rest is recorded without a lot
    r = sell(client, cashier, [{"sku": "MILK", "quantity": 3}])
    assert r.status_code == 201, r.text
    assert r.json()["lines"][0]["lots"] == [
        {"lot": "NEW", "expires_on": days(5), "quantity": 1},
        {"lot": None, "expires_on": None, "quantity": 2},
    ]
    assert stock.verify(db=db) == []


def test_the_sweep_waits_for_the_stores_own_midnight(client, db, settings):
    _, _, admin, _ = setup(db, settings)
    make_variant(db, sku="MILK", tracking="lot")
    assert (
        receive(
            client,
            admin,
            [{"sku": "MILK", "quantity": 4, "lot": {"code": "T", "expires_on": days(0)}}],
        ).status_code
        == 201
    )
    assert lot_expiry.sweep(db=db) == 0  # expires at the end of today, store time
    assert lot_expiry.sweep(db=db, now=utcnow() + timedelta(days=2)) == 4
    assert stock_row(client, admin, "MILK")["available"] == 0
    assert stock.verify(db=db) == []


def test_selling_a_named_expired_lot_is_refused_and_writes_nothing(client, db, settings):
    s01, _, admin, cashier = setup(db, settings)
    milk = make_variant(db, sku="MILK", tracking="lot")
    seed_expired_lot(db, milk, s01, "OLD", today() - timedelta(days=3), 4)
    r = sell(client, cashier, [{"sku": "MILK", "quantity": 1, "lot": "OLD"}])
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "inventory.lot_expired"
    assert body["errors"][0]["field"] == "lines.0.lot"
    assert count(db, Sale) == 0
    assert count(db, StockMovement) == 1  # the seeded receipt only
    assert lots(client, admin, "MILK")[("OLD", "S01")]["on_hand"] == 4
    assert stock.verify(db=db) == []


def test_receipts_of_lots_check_expiry_and_codes_and_write_nothing_when_refused(
    client, db, settings
):
    _, _, admin, _ = setup(db, settings)
    make_variant(db, sku="MILK", tracking="lot")
    make_variant(db, sku="TEE")

    expired = receive(
        client,
        admin,
        [{"sku": "MILK", "quantity": 2, "lot": {"code": "X", "expires_on": days(-1)}}],
    )
    assert expired.status_code == 422
    assert expired.json()["code"] == "inventory.lot_expired"
    assert expired.json()["errors"][0]["field"] == "lines.0.lot"
    assert count(db, Lot) == 0

    bad = receive(
        client,
        admin,
        [
            {"sku": "MILK", "quantity": 1},
            {"sku": "MILK", "quantity": 1, "lot": {"code": "NEW"}},
            {"sku": "TEE", "quantity": 1, "lot": {"code": "L1", "expires_on": days(9)}},
            {"sku": "TEE", "quantity": 1, "serials": ["S1"]},
        ],
    )
    assert bad.status_code == 422
    assert [(e["field"], e["code"]) for e in bad.json()["errors"]] == [
        ("lines.0.lot", "inventory.lot_required"),
        ("lines.1.lot.expires_on", "inventory.lot_expiry_required"),
        ("lines.2.lot", "inventory.not_tracked"),
        ("lines.3.serials", "inventory.not_tracked"),
    ]
    assert count(db, StockMovement) == 0

    ok = receive(
        client,
        admin,
        [{"sku": "MILK", "quantity": 2, "lot": {"code": "L1", "expires_on": days(9)}}],
    )
    assert ok.status_code == 201, ok.text
    mismatch = receive(
        client,
        admin,
        [{"sku": "MILK", "quantity": 2, "lot": {"code": "L1", "expires_on": days(10)}}],
    )
    assert mismatch.status_code == 422
    assert mismatch.json()["code"] == "inventory.lot_expiry_mismatch"
    assert mismatch.json()["errors"][0]["field"] == "lines.0.lot.expires_on"
    again = receive(client, admin, [{"sku": "MILK", "quantity": 3, "lot": {"code": "L1"}}])
    assert again.status_code == 201, again.text
    assert lots(client, admin, "MILK")[("L1", "S01")]["on_hand"] == 5
    assert stock_row(client, admin, "MILK")["on_hand"] == 5
    assert stock.verify(db=db) == []


def test_lot_listing_is_scoped_to_the_staff_members_stores(client, db, settings):
    _, _, admin, cashier = setup(db, settings)
    make_variant(db, sku="MILK", tracking="lot")
    for loc in ("S01", "S02"):
        line = {"sku": "MILK", "quantity": 2, "lot": {"code": "A", "expires_on": days(9)}}
        assert receive(client, admin, [line], location=loc).status_code == 201
    assert set(lots(client, admin, "MILK")) == {("A", "S01"), ("A", "S02")}
    assert set(lots(client, cashier, "MILK")) == {("A", "S01")}
    r = client.get("/api/v1/lots", params={"location": "S02"}, headers=cashier)
    assert r.status_code == 403
    assert r.json()["code"] == "auth.location_forbidden"


def test_verify_reports_a_tampered_lot_balance_with_its_lot_code(client, db, settings):
    _, _, admin, _ = setup(db, settings)
    make_variant(db, sku="MILK", tracking="lot")
    line = {"sku": "MILK", "quantity": 4, "lot": {"code": "L7", "expires_on": days(9)}}
    assert receive(client, admin, [line]).status_code == 201
    assert stock.verify(db=db) == []
    with db.uow() as uow:
        uow.session.execute(update(LotBalance).values(on_hand=LotBalance.on_hand + 1, expired=2))
        uow.commit()
    found = stock.verify(db=db)
    assert {(d.sku, d.location, d.lot, d.bucket, d.on_hand, d.ledger_sum) for d in found} == {
        ("MILK", "S01", "L7", "lot_on_hand", 5, 4),
        ("MILK", "S01", "L7", "lot_expired", 2, 0),
    }


# --- serials ------------------------------------------------------------------------------


def three_phones(client, admin, location="S01", serials=("SN1", "SN2", "SN3")):
    r = receive(
        client,
        admin,
        [{"sku": "PHONE", "quantity": len(serials), "serials": list(serials)}],
        location=location,
    )
    assert r.status_code == 201, r.text


def test_a_sold_serial_records_its_warranty_and_its_history(client, db, settings):
    _, _, admin, cashier = setup(db, settings)
    make_variant(db, sku="PHONE", tracking="serial", price=50000)
    three_phones(client, admin)

    r = sell(client, cashier, [{"sku": "PHONE", "quantity": 1, "serials": ["SN2"]}])
    assert r.status_code == 201, r.text
    sale = r.json()
    line = sale["lines"][0]
    assert line["serials"] == ["SN2"]
    assert line["warranty_starts_on"] == sale["business_date"]
    assert line["lots"] == []
    read_back = client.get(f"/api/v1/sales/{sale['id']}", headers=cashier).json()["lines"][0]
    assert read_back["serials"] == ["SN2"]
    assert read_back["warranty_starts_on"] == sale["business_date"]

    found = client.get("/api/v1/serials/SN2", headers=cashier)
    assert found.status_code == 200, found.text
    (unit,) = found.json()["items"]
    assert unit["sku"] == "PHONE"
    assert unit["status"] == "sold"
    assert unit["location"] == "S01"
    assert unit["warranty_starts_on"] == sale["business_date"]
    assert unit["sale_id"] == sale["id"]
    assert unit["receipt_number"] == sale["receipt_number"]
    history = [
        (e["event"], e["from_status"], e["to_status"], e["location"], e["actor"])
        for e in unit["history"]
    ]
    assert history == [
        ("received", None, "in_stock", "S01", "boss"),
        ("sold", "in_stock", "sold", "S01", "c1"),
    ]
    assert unit["history"][1]["reference_type"] == "sale"
    assert unit["history"][1]["reference_id"] == sale["id"]
    other = client.get("/api/v1/serials/SN1", headers=cashier).json()["items"][0]
    assert (other["status"], other["sale_id"], other["warranty_starts_on"]) == (
        "in_stock",
        None,
        None,
    )
    assert stock_row(client, admin, "PHONE")["on_hand"] == 2
    assert stock.verify(db=db) == []


def test_a_sold_serial_cannot_be_sold_again(client, db, settings):
    _, _, admin, cashier = setup(db, settings)
    make_variant(db, sku="PHONE", tracking="serial")
    three_phones(client, admin)
    assert sell(client, cashier, [{"sku": "PHONE", "quantity": 1, "serials": ["SN2"]}]).status_code
    events = count(db, SerialEvent)
    r = sell(client, cashier, [{"sku": "PHONE", "quantity": 1, "serials": ["SN2"]}])
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "inventory.serial_not_in_stock"
    assert body["errors"][0]["field"] == "lines.0.serials.0"
    assert body["details"]["serials"][0]["status"] == "sold"
    assert count(db, Sale) == 1
    assert count(db, SerialEvent) == events
    assert stock_row(client, admin, "PHONE")["on_hand"] == 2
    assert stock.verify(db=db) == []


def test_a_serial_at_another_location_or_unknown_is_refused_and_nothing_written(
    client, db, settings
):
    _, _, admin, cashier = setup(db, settings)
    make_variant(db, sku="PHONE", tracking="serial")
    three_phones(client, admin, location="S02", serials=("SN9",))
    three_phones(client, admin, location="S01", serials=("SN1",))

    elsewhere = sell(client, cashier, [{"sku": "PHONE", "quantity": 1, "serials": ["SN9"]}])
    assert elsewhere.status_code == 422
    assert elsewhere.json()["code"] == "inventory.serial_wrong_location"
    assert elsewhere.json()["details"]["serials"] == [
        {
            "serial": "SN9",
            "code": "inventory.serial_wrong_location",
            "status": "in_stock",
            "location": "S02",
        }
    ]
    unknown = sell(client, cashier, [{"sku": "PHONE", "quantity": 2, "serials": ["SN1", "NOPE"]}])
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "inventory.serial_unknown"
    assert [e["field"] for e in unknown.json()["errors"]] == ["lines.0.serials.1"]
    # the good serial of the refused sale is still in stock
    assert client.get("/api/v1/serials/SN1", headers=admin).json()["items"][0]["status"] == (
        "in_stock"
    )
    assert count(db, Sale) == 0
    assert stock.verify(db=db) == []


def test_serial_lines_need_one_distinct_serial_per_unit(client, db, settings):
    _, _, admin, cashier = setup(db, settings)
    make_variant(db, sku="PHONE", tracking="serial")
    make_variant(db, sku="TEE")
    three_phones(client, admin)
    r = sell(
        client,
        cashier,
        [
            {"sku": "PHONE", "quantity": 2, "serials": ["SN1"]},
            {"sku": "PHONE", "quantity": 1},
            {"sku": "PHONE", "quantity": 2, "serials": ["SN3", "SN3"]},
            {"sku": "TEE", "quantity": 1, "serials": ["X"]},
        ],
    )
    assert r.status_code == 422
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("lines.0.serials", "inventory.serials_count_mismatch"),
        ("lines.1.serials", "inventory.serials_count_mismatch"),
        ("lines.2.serials.1", "inventory.serial_duplicate"),
        ("lines.3.serials", "inventory.not_tracked"),
    ]
    assert count(db, Sale) == 0


def test_receiving_serials_refuses_units_in_stock_and_takes_back_units_that_left(
    client, db, settings
):
    _, _, admin, cashier = setup(db, settings)
    make_variant(db, sku="PHONE", tracking="serial")
    three_phones(client, admin)

    r = receive(
        client,
        admin,
        [
            {"sku": "PHONE", "quantity": 2, "serials": ["SN4"]},
            {"sku": "PHONE", "quantity": 2, "serials": ["SN5", "SN5"]},
            {"sku": "PHONE", "quantity": 1, "serials": ["SN1"]},
        ],
    )
    assert r.status_code == 422
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("lines.0.serials", "inventory.serials_count_mismatch"),
        ("lines.1.serials.1", "inventory.serial_duplicate"),
        ("lines.2.serials.0", "inventory.serial_exists"),
    ]
    assert count(db, SerialUnit) == 3

    assert sell(client, cashier, [{"sku": "PHONE", "quantity": 1, "serials": ["SN1"]}]).status_code
    # the customer's unit comes back refurbished through the vendor: received again
    back = receive(client, admin, [{"sku": "PHONE", "quantity": 1, "serials": ["SN1"]}])
    assert back.status_code == 201, back.text
    (unit,) = client.get("/api/v1/serials/SN1", headers=admin).json()["items"]
    assert unit["status"] == "in_stock"
    assert unit["sale_id"] is None
    assert [(e["event"], e["from_status"]) for e in unit["history"]] == [
        ("received", None),
        ("sold", "in_stock"),
        ("received", "sold"),
    ]
    assert stock_row(client, admin, "PHONE")["on_hand"] == 3
    assert stock.verify(db=db) == []


def test_serial_lookup_is_scoped_like_stock(client, db, settings):
    _, _, admin, cashier = setup(db, settings)
    other = token_for(db, settings, "c2", "cashier", ["S02"])
    make_variant(db, sku="PHONE", tracking="serial")
    three_phones(client, admin)
    assert client.get("/api/v1/serials/SN1", headers=cashier).status_code == 200
    hidden = client.get("/api/v1/serials/SN1", headers=other)
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "serial.not_found"
    missing = client.get("/api/v1/serials/NOPE", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["code"] == "serial.not_found"


# --- reservations -------------------------------------------------------------------------


def _actor(db, settings, username):
    issued = auth.login(db=db, settings=settings, username=username, password=PASSWORD)
    return auth.resolve_token(db=db, token=issued.access_token)


def _reserve(db, actor, sku, quantity, ref="W-1"):
    return reservations.reserve(
        db=db,
        actor=actor,
        request=ReservationRequest(
            reference_type="order",
            reference_id=ref,
            location="S01",
            lines=(ReservationLineInput(sku, None, quantity),),
        ),
    )


def test_a_fulfilled_reservation_of_a_lot_tracked_variant_takes_lots_fefo(client, db, settings):
    _, _, admin, _ = setup(db, settings)
    make_variant(db, sku="MILK", tracking="lot")
    three_lots(client, admin)
    actor = _actor(db, settings, "boss")
    held = _reserve(db, actor, "MILK", 4)
    done = reservations.fulfil(db=db, actor=actor, reservation_id=held.id)
    assert done.status == "fulfilled"
    balances = lots(client, admin, "MILK", include_empty="true")
    assert {k[0]: v["on_hand"] for k, v in balances.items()} == {"A": 4, "B": 0, "C": 4}
    row = stock_row(client, admin, "MILK")
    assert (row["on_hand"], row["reserved"]) == (8, 0)
    assert stock.verify(db=db) == []


def test_a_serial_tracked_reservation_is_fulfilled_with_its_serials(client, db, settings):
    _, _, admin, _ = setup(db, settings)
    make_variant(db, sku="PHONE", tracking="serial")
    three_phones(client, admin)
    actor = _actor(db, settings, "boss")
    held = _reserve(db, actor, "PHONE", 2)

    for serials in ((), (FulfilSerials("PHONE", ("SN1",)),)):
        with pytest.raises(ValidationFailed, match="serial") as refused:
            reservations.fulfil(db=db, actor=actor, reservation_id=held.id, serials=serials)
        assert refused.value.code == "inventory.serials_count_mismatch"
    with db.uow(write=False) as uow:
        assert uow.session.get_one(Reservation, held.id).status == "active"
        statuses = uow.session.scalars(select(SerialUnit.status)).all()
    assert set(statuses) == {"in_stock"}

    done = reservations.fulfil(
        db=db,
        actor=actor,
        reservation_id=held.id,
        serials=[FulfilSerials("PHONE", ("SN1", "SN3"))],
    )
    assert done.status == "fulfilled"
    sold = client.get("/api/v1/serials/SN3", headers=admin).json()["items"][0]
    assert sold["status"] == "sold"
    assert sold["warranty_starts_on"] == today().isoformat()
    assert sold["history"][-1]["reference_type"] == "reservation"
    assert stock_row(client, admin, "PHONE")["on_hand"] == 1
    assert stock.verify(db=db) == []


# --- catalog: unit and tracking of variants --------------------------------------------------


def test_variants_carry_unit_and_tracking_locked_once_stock_moved(client, db, settings):
    _, _, admin, _ = setup(db, settings)
    r = client.post(
        "/api/v1/products",
        headers=admin,
        json={
            "name": "Cheese",
            "tracking": "lot",
            "sold_by_weight": True,
            "variants": [
                {"sku": "CHEESE", "price": 2400, "currency": "USD"},
                {"sku": "CHEESE-ML", "price": 900, "currency": "USD", "unit": "ml"},
                {
                    "sku": "KNIFE",
                    "price": 900,
                    "currency": "USD",
                    "unit": "each",
                    "tracking": "serial",
                },
            ],
        },
    )
    assert r.status_code == 201, r.text
    got = {v["sku"]: (v["unit"], v["tracking"]) for v in r.json()["variants"]}
    assert got == {"CHEESE": ("g", "lot"), "CHEESE-ML": ("ml", "lot"), "KNIFE": ("each", "serial")}
    ids = {v["sku"]: v["id"] for v in r.json()["variants"]}

    changed = client.patch(
        f"/api/v1/variants/{ids['CHEESE-ML']}",
        headers=admin,
        json={"tracking": "none", "unit": "g"},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["unit"], changed.json()["tracking"]) == ("g", "none")
    invalid = client.patch(f"/api/v1/variants/{ids['CHEESE']}", headers=admin, json={"unit": "kg"})
    assert invalid.status_code == 422

    line = {"sku": "CHEESE", "quantity": 500, "lot": {"code": "W1", "expires_on": days(20)}}
    assert receive(client, admin, [line]).status_code == 201
    locked = client.patch(
        f"/api/v1/variants/{ids['CHEESE']}", headers=admin, json={"tracking": "none"}
    )
    assert locked.status_code == 409
    assert locked.json()["code"] == "catalog.tracking_locked"
    unit_locked = client.patch(
        f"/api/v1/variants/{ids['CHEESE']}", headers=admin, json={"unit": "each"}
    )
    assert unit_locked.status_code == 409
    assert unit_locked.json()["code"] == "catalog.unit_locked"
    product = client.patch(
        f"/api/v1/products/{r.json()['id']}", headers=admin, json={"tracking": "none"}
    )
    assert product.status_code == 409
    assert product.json()["code"] == "catalog.tracking_locked"
    assert product.json()["details"]["skus"] == ["CHEESE"]
    with db.uow(write=False) as uow:
        tracking = dict(uow.session.execute(select(Variant.sku, Variant.tracking)).all())
    assert tracking == {"CHEESE": "lot", "CHEESE-ML": "none", "KNIFE": "serial"}
    assert client.get(f"/api/v1/variants/{ids['KNIFE']}", headers=admin).json()["tracking"] == (
        "serial"
    )


# --- the tracking contract other stock documents use (transfers, write-offs) ----------------


def _book(uow, variant_id, location_id, portions, sign, kind, bucket="on_hand"):
    """What a caller of take/put writes: the level and one movement per portion."""
    for p in portions:
        level = uow.session.get(StockLevel, (variant_id, location_id))
        if level is None:
            level = StockLevel(variant_id=variant_id, location_id=location_id, on_hand=0)
            uow.session.add(level)
        setattr(level, bucket, getattr(level, bucket) + sign * p.quantity)
        uow.session.add(
            StockMovement(
                variant_id=variant_id,
                location_id=location_id,
                bucket=bucket,
                quantity=sign * p.quantity,
                kind=kind,
                lot_id=p.lot_id,
            )
        )


def test_units_shipped_between_stores_keep_their_lots_and_serials(client, db, settings):
    s01, s02, admin, _ = setup(db, settings)
    make_variant(db, sku="MILK", tracking="lot")
    make_variant(db, sku="PHONE", tracking="serial")
    three_lots(client, admin)
    three_phones(client, admin)
    actor = _actor(db, settings, "boss")
    now = utcnow()

    def context(event):
        return tracking.Context(actor, event, "transfer", "TR-000001", now, today())

    with db.uow() as uow:
        refs = catalog_repo.variant_refs(uow.connection, skus=["MILK", "PHONE"], barcodes=[])[0]
        milk = tracking.take(
            uow,
            variant=refs["MILK"],
            location_id=s01.id,
            quantity=4,
            tracked=tracking.Tracked(),
            serial_status="in_transit",
            context=context("transferred_out"),
        )
        phones = tracking.take(
            uow,
            variant=refs["PHONE"],
            location_id=s01.id,
            quantity=1,
            tracked=tracking.Tracked(serials=("SN3",)),
            serial_status="in_transit",
            context=context("transferred_out"),
        )
        _book(uow, refs["MILK"].id, s01.id, milk, -1, "transfer_out")
        _book(uow, refs["PHONE"].id, s01.id, phones, -1, "transfer_out")
        uow.commit()
    assert [(p.lot_code, p.quantity) for p in milk] == [("B", 3), ("A", 1)]
    moving = client.get("/api/v1/serials/SN3", headers=admin).json()["items"][0]
    assert moving["status"] == "in_transit"

    with db.uow() as uow:
        arrived = tracking.put(
            uow,
            variant=refs["MILK"],
            location_id=s02.id,
            quantity=4,
            portions=milk,
            context=context("transferred_in"),
        )
        landed = tracking.put(
            uow,
            variant=refs["PHONE"],
            location_id=s02.id,
            quantity=1,
            portions=phones,
            context=context("transferred_in"),
        )
        _book(uow, refs["MILK"].id, s02.id, arrived, 1, "transfer_in")
        _book(uow, refs["PHONE"].id, s02.id, landed, 1, "transfer_in")
        uow.commit()
    at_s02 = lots(client, admin, "MILK", location="S02")
    assert {k[0]: v["on_hand"] for k, v in at_s02.items()} == {"A": 1, "B": 3}
    unit = client.get("/api/v1/serials/SN3", headers=admin).json()["items"][0]
    assert (unit["status"], unit["location"]) == ("in_stock", "S02")
    assert [e["event"] for e in unit["history"]] == [
        "received",
        "transferred_out",
        "transferred_in",
    ]
    # a unit that is not in transit cannot arrive
    with db.uow() as uow, pytest.raises(ValidationFailed) as refused:
        tracking.put(
            uow,
            variant=refs["PHONE"],
            location_id=s02.id,
            quantity=1,
            portions=[tracking.Portion(1, serials=("SN1",))],
            context=context("transferred_in"),
        )
    assert refused.value.code == "inventory.serial_wrong_status"
    assert stock.verify(db=db) == []


def test_expired_units_leave_only_as_expired_stock(client, db, settings):
    s01, _, admin, _ = setup(db, settings)
    milk = make_variant(db, sku="MILK", tracking="lot")
    seed_expired_lot(db, milk, s01, "OLD", today() - timedelta(days=2), 5)
    assert lot_expiry.sweep(db=db) == 5
    actor = _actor(db, settings, "boss")
    now = utcnow()
    context = tracking.Context(actor, "written_off", "write_off", "WO-1", now, today())
    with db.uow() as uow:
        ref = catalog_repo.variant_refs(uow.connection, skus=["MILK"], barcodes=[])[0]["MILK"]
        with pytest.raises(ValidationFailed) as refused:
            tracking.take(
                uow,
                variant=ref,
                location_id=s01.id,
                quantity=1,
                tracked=tracking.Tracked(),
                serial_status="written_off",
                context=context,
            )
        assert refused.value.code == "inventory.lot_insufficient"
        gone = tracking.take(
            uow,
            variant=ref,
            location_id=s01.id,
            quantity=2,
            tracked=tracking.Tracked(),
            serial_status="written_off",
            context=context,
            source="expired",
        )
        _book(uow, ref.id, s01.id, gone, -1, "write_off")
        _book(uow, ref.id, s01.id, gone, -1, "write_off", bucket="expired")
        uow.commit()
    assert [(p.lot_code, p.quantity) for p in gone] == [("OLD", 2)]
    row = lots(client, admin, "MILK")[("OLD", "S01")]
    assert (row["on_hand"], row["expired_units"]) == (3, 3)
    level = stock_row(client, admin, "MILK")
    assert (level["on_hand"], level["expired"], level["available"]) == (3, 3, 0)
    assert stock.verify(db=db) == []

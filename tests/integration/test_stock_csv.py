"""Stock levels in bulk: CSV export and import (API and service) and the catalog-sync feed,
on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from omnitill.adapters.db.models import AuditEntry, Location, StockLevel, StockMovement, Variant
from omnitill.adapters.db.types import utcnow
from omnitill.domain.errors import ValidationFailed
from omnitill.domain.inventory.stock_csv import EXPORT_COLUMNS
from omnitill.services import stock, stock_csv, stock_feed
from omnitill.services.stock_csv import actor_named
from tests.factories import make_location, make_variant, token_for

IMPORTS = "/api/v1/stock/imports"
EXPORT = "/api/v1/stock/export"
FEED = "/api/v1/stock/feed"


def on_hand(db):
    """{(sku, location): on_hand} of every level."""
    with db.uow(write=False) as uow:
        rows = uow.session.execute(
            select(Variant.sku, Location.code, StockLevel.on_hand)
            .join(Variant, Variant.id == StockLevel.variant_id)
            .join(Location, Location.id == StockLevel.location_id)
        ).all()
    return {(sku, code): qty for sku, code, qty in rows}


def movement_count(db, kind=None):
    with db.uow(write=False) as uow:
        stmt = select(func.count()).select_from(StockMovement)
        if kind is not None:
            stmt = stmt.where(StockMovement.kind == kind)
        return uow.session.scalar(stmt)


def post_csv(client, headers, text, mode="set", reason="shelf count"):
    return client.post(
        IMPORTS,
        params={"mode": mode, "reason": reason},
        content=text.encode(),
        headers={**headers, "Content-Type": "text/csv"},
    )


@pytest.fixture
def estate(db, settings):
    s01, s02 = make_location(db, "S01"), make_location(db, "S02")
    w01 = make_location(db, "W01", kind="warehouse")
    make_variant(db, sku="TEE", stock={s01: 10, w01: 40})
    make_variant(db, sku="CAP", stock={s01: 3, s02: 6})
    make_variant(db, sku="BELT", stock={})
    make_variant(db, sku="LOTTED", tracking="lot", stock={})
    return {"headers": token_for(db, settings, "inv", "inventory")}


# --- import -------------------------------------------------------------------------------


def test_a_file_with_good_and_bad_rows_applies_the_good_ones_and_reports_each_bad_one(
    client, db, estate
):
    text = (
        "sku,location,quantity\n"
        "TEE,S01,7\n"  # 10 -> 7
        "NOPE,S01,1\n"
        "CAP,S01,abc\n"
        "CAP,X99,1\n"
        "BELT,W01,12\n"  # new level
        "CAP,S02,-1\n"
        "TEE,W01,40\n"  # unchanged
        "LOTTED,S01,2\n"
        "CAP,S01,1\n"
        "CAP,S01,2\n"
    )
    r = post_csv(client, estate["headers"], text)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["rows"], report["applied"], report["changed"], report["failed"]) == (
        10,
        3,
        2,
        7,
    )
    assert [(e["line"], e["code"]) for e in report["errors"]] == [
        (3, "catalog.unknown_sku"),
        (4, "stock_csv.invalid_quantity"),
        (5, "location.not_found"),
        (7, "stock.count_negative"),
        (9, "stock_csv.tracked_variant"),
        (10, "stock_csv.duplicate_row"),
        (11, "stock_csv.duplicate_row"),
    ]
    assert report["errors"][0]["row"] == "NOPE,S01,1"
    levels = on_hand(db)
    assert levels[("TEE", "S01")] == 7
    assert levels[("BELT", "W01")] == 12
    assert (levels[("CAP", "S01")], levels[("CAP", "S02")], levels[("TEE", "W01")]) == (3, 6, 40)
    with db.uow(write=False) as uow:
        moves = uow.session.scalars(
            select(StockMovement).where(StockMovement.kind == "import")
        ).all()
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "stock.imported")
        ).one()
    assert sorted(m.quantity for m in moves) == [-3, 12]
    assert {(m.reference_type, m.reference_id) for m in moves} == {
        ("stock_import", report["import_id"])
    }
    assert entry.details["applied"] == 3
    assert entry.details["failed"] == 7
    assert entry.details["reason"] == "shelf count"
    assert stock.verify(db=db) == []


def test_an_adjust_import_adds_signed_changes_and_never_goes_below_zero(client, db, estate):
    text = "sku,location,quantity\nTEE,S01,-4\nCAP,S01,-5\nCAP,S02,+2\nBELT,S01,0\n"
    report = post_csv(client, estate["headers"], text, mode="adjust").json()
    assert [(e["line"], e["code"]) for e in report["errors"]] == [(3, "stock.would_go_negative")]
    assert (report["applied"], report["changed"]) == (3, 2)
    levels = on_hand(db)
    assert (levels[("TEE", "S01")], levels[("CAP", "S01")], levels[("CAP", "S02")]) == (6, 3, 8)
    assert ("BELT", "S01") not in levels
    assert stock.verify(db=db) == []


def test_export_then_import_in_set_mode_changes_nothing(client, db, estate):
    exported = client.get(EXPORT, headers=estate["headers"])
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    before_levels, before_moves = on_hand(db), movement_count(db)
    report = post_csv(client, estate["headers"], exported.text).json()
    assert report["failed"] == 0
    assert report["applied"] == report["rows"] == len(before_levels)
    assert report["changed"] == 0
    assert movement_count(db) == before_moves
    assert on_hand(db) == before_levels
    assert stock.verify(db=db) == []


def test_a_file_refused_as_a_whole_writes_nothing(client, db, estate):
    before = (on_hand(db), movement_count(db))
    r = post_csv(client, estate["headers"], "sku,qty\nTEE,3\n")
    assert r.status_code == 422
    assert r.json()["code"] == "stock_csv.missing_columns"
    r = post_csv(client, estate["headers"], "sku,location,quantity\nTEE,S01,1\n", mode="replace")
    assert [e["field"] for e in r.json()["errors"]] == ["mode"]
    r = post_csv(client, estate["headers"], "sku,location,quantity\nTEE,S01,1\n", reason=" ")
    assert r.json()["code"] == "stock.reason_required"
    r = client.post(
        IMPORTS,
        params={"mode": "set", "reason": "x"},
        content=b"sku,location,quantity\n\xff,S01,1\n",
        headers={**estate["headers"], "Content-Type": "text/csv"},
    )
    assert r.json()["code"] == "stock_csv.not_utf8"
    assert (on_hand(db), movement_count(db)) == before


def test_imports_need_stock_adjust_and_rows_elsewhere_are_refused(client, db, settings, estate):
    cashier = token_for(db, settings, "c1", "cashier", ["S01"])
    r = post_csv(client, cashier, "sku,location,quantity\nTEE,S01,1\n")
    assert r.status_code == 403
    assert r.json()["code"] == "auth.permission_denied"
    store_manager = token_for(db, settings, "m1", "manager", ["S01"])
    report = post_csv(client, store_manager, "sku,location,quantity\nTEE,S01,9\nCAP,S02,1\n").json()
    assert [(e["line"], e["code"]) for e in report["errors"]] == [(3, "auth.location_forbidden")]
    assert on_hand(db)[("TEE", "S01")] == 9
    assert on_hand(db)[("CAP", "S02")] == 6


def test_the_api_takes_at_most_ten_thousand_rows(client, db, estate):
    text = "sku,location,quantity\n" + "TEE,S01,1\n" * 10_001
    r = post_csv(client, estate["headers"], text)
    assert r.status_code == 422
    assert r.json()["code"] == "stock_csv.too_many_rows"
    assert movement_count(db, "import") == 0


def test_small_batches_keep_good_rows_around_bad_ones(db, estate):
    actor = actor_named(db=db, username="inv")
    lines = ["sku,location,quantity\n"] + [
        f"{sku},{loc},{qty}\n"
        for sku, loc, qty in [
            ("TEE", "S01", -11),
            ("CAP", "S01", 1),
            ("TEE", "W01", -40),
            ("CAP", "S02", -7),
            ("BELT", "S02", 5),
        ]
    ]
    done: list[int] = []
    report = stock_csv.import_levels(
        db=db,
        actor=actor,
        lines=lines,
        mode="adjust",
        reason="recount",
        batch_size=2,
        progress=done.append,
    )
    assert sorted(e.line for e in report.errors) == [2, 5]
    assert {e.code for e in report.errors} == {"stock.would_go_negative"}
    assert (report.applied, report.changed, report.failed) == (3, 3, 2)
    assert sum(done) == 5
    levels = on_hand(db)
    assert (levels[("CAP", "S01")], levels[("TEE", "W01")], levels[("BELT", "S02")]) == (4, 0, 5)
    assert stock.verify(db=db) == []


def test_the_command_line_imports_as_the_system_and_audits_it(db, estate):
    report = stock_csv.import_levels(
        db=db, actor=None, lines=["sku,location,quantity\n", "CAP,S02,2\n"], mode="set", reason="x"
    )
    assert (report.changed, report.failed) == (1, 0)
    with db.uow(write=False) as uow:
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "stock.imported")
        ).one()
        actor_ids = uow.session.scalars(
            select(StockMovement.actor_id).where(StockMovement.kind == "import")
        ).all()
    assert (entry.actor, entry.details["via"]) == ("system:cli", "command_line")
    assert actor_ids == [None]
    with pytest.raises(ValidationFailed) as refused:
        stock_csv.import_levels(
            db=db,
            actor=None,
            lines=["sku,location,quantity\n", "CAP,S02,2\n", "TEE,S01,1\n"],
            mode="set",
            reason="x",
            max_rows=1,
        )
    assert refused.value.code == "stock_csv.too_many_rows"


# --- export -------------------------------------------------------------------------------


def test_the_export_lists_every_level_with_its_buckets_in_order(client, db, estate):
    r = client.get(EXPORT, headers=estate["headers"])
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert [(x["sku"], x["location"]) for x in rows] == [
        ("CAP", "S01"),
        ("CAP", "S02"),
        ("TEE", "S01"),
        ("TEE", "W01"),
    ]
    assert rows[2]["on_hand"] == "10"
    assert rows[2]["available"] == "10"
    assert rows[2]["reorder_point"] == ""
    assert 'filename="stock-levels.csv"' in r.headers["content-disposition"]


def test_the_export_is_scoped_to_the_actors_locations(client, db, settings, estate):
    store_manager = token_for(db, settings, "m1", "manager", ["S02"])
    rows = list(csv.DictReader(io.StringIO(client.get(EXPORT, headers=store_manager).text)))
    assert [(x["sku"], x["location"]) for x in rows] == [("CAP", "S02")]
    r = client.get(EXPORT, headers=store_manager, params={"location": "S01"})
    assert r.status_code == 403
    assert r.json()["code"] == "auth.location_forbidden"
    r = client.get(EXPORT, headers=estate["headers"], params={"location": "W01"})
    assert [x["sku"] for x in csv.DictReader(io.StringIO(r.text))] == ["TEE"]


def test_the_export_streams_page_after_page_without_losing_a_row(db, estate):
    pages = list(stock_csv.export_pages(db=db, actor=None, page_size=3))
    assert [len(p) for p in pages] == [3, 1]
    keys = [(row.sku, row.location) for page in pages for row in page]
    assert keys == sorted(keys)
    assert len(set(keys)) == 4
    assert stock_csv.count_levels(db=db, actor=None) == 4


# --- bulk feed for catalog sync --------------------------------------------------------------


def adjust(client, headers, sku, location, quantity):
    r = client.post(
        "/api/v1/stock/adjustments",
        headers=headers,
        json={
            "location": location,
            "reason": "found",
            "lines": [{"sku": sku, "quantity": quantity}],
        },
    )
    assert r.status_code == 201, r.text


def test_a_change_appears_in_the_feed_after_since_and_not_before(client, db, estate):
    headers = estate["headers"]
    everything = client.get(FEED, headers=headers).json()
    assert len(everything["items"]) == 4
    mark = utcnow()
    adjust(client, headers, "CAP", "S02", 2)
    after = utcnow()
    page = client.get(FEED, headers=headers, params={"since": mark.isoformat()}).json()
    assert [(i["sku"], i["location"], i["on_hand"]) for i in page["items"]] == [("CAP", "S02", 8)]
    assert page["items"][0]["available"] == 8
    assert page["next_cursor"] is None
    later = client.get(
        FEED, headers=headers, params={"since": (after + timedelta(seconds=1)).isoformat()}
    ).json()
    assert later["items"] == []


def test_next_since_is_the_scan_start_less_the_overlap(db, estate):
    actor = actor_named(db=db, username="inv")
    now = utcnow()
    page = stock_feed.feed(db=db, actor=actor, now=now)
    assert page.next_since == now - timedelta(seconds=60)


def test_the_feed_pages_in_order_without_repeats_or_gaps(client, db, estate):
    headers = estate["headers"]
    seen, cursor, since_values = [], None, set()
    for _ in range(10):
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get(FEED, headers=headers, params=params).json()
        seen += page["items"]
        since_values.add(page["next_since"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 4
    assert len({(i["sku"], i["location"]) for i in seen}) == 4
    stamps = [i["updated_at"] for i in seen]
    assert stamps == sorted(stamps)
    assert len(since_values) == 1  # every page of a scan hands back the same next_since


def test_the_feed_is_scoped_and_checks_its_parameters(client, db, settings, estate):
    store_manager = token_for(db, settings, "m1", "manager", ["S01"])
    items = client.get(FEED, headers=store_manager).json()["items"]
    assert sorted((i["sku"], i["location"]) for i in items) == [("CAP", "S01"), ("TEE", "S01")]
    for params, code in (
        ({"limit": 0}, "pagination.invalid_limit"),
        ({"limit": 1001}, "pagination.invalid_limit"),
        ({"cursor": "bm90LWpzb24"}, "pagination.invalid_cursor"),
        ({"cursor": "eyJhIjoxfQ"}, "pagination.invalid_cursor"),
    ):
        r = client.get(FEED, headers=store_manager, params=params)
        assert r.status_code == 422, params
        assert r.json()["code"] == code
    r = client.get(FEED, headers=store_manager, params={"location": "S02"})
    assert r.json()["code"] == "auth.location_forbidden"


def test_concurrent_counts_of_a_new_level_set_it_once(db, estate):
    actor = actor_named(db=db, username="inv")
    reports = []

    def count(_: int) -> None:
        reports.append(
            stock_csv.import_levels(
                db=db,
                actor=actor,
                lines=["sku,location,quantity\n", "BELT,S02,5\n"],
                mode="set",
                reason="two counters, one shelf",
            )
        )

    threads = [threading.Thread(target=count, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(reports) == 6
    assert sum(r.changed for r in reports) == 1
    assert on_hand(db)[("BELT", "S02")] == 5
    assert stock.verify(db=db) == []

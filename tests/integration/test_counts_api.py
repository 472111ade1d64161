"""Cycle counts over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from omnitill.adapters.db.models import (
    AuditEntry,
    Category,
    CountLine,
    Product,
    StockMovement,
    Variant,
)
from omnitill.services import stock
from tests.factories import make_location, make_register, make_variant, token_for


@pytest.fixture
def shop(db, settings):
    """S01 with a register: TEE 10, CAP 4 on hand; a manager and a cashier there."""
    s01 = make_location(db, "S01")
    make_location(db, "S02")
    make_register(db, s01, "S01-R1")
    make_variant(db, sku="TEE", price=1500, stock={s01: 10})
    make_variant(db, sku="CAP", price=900, stock={s01: 4})
    return {
        "s01": s01,
        "boss": token_for(db, settings, "boss", "manager", ["S01"]),
        "cashier": token_for(db, settings, "c1", "cashier", ["S01"]),
    }


def start(client, headers, **body):
    return client.post("/api/v1/counts", json={"location": "S01", **body}, headers=headers)


def count(client, headers, number, lines):
    return client.put(f"/api/v1/counts/{number}/lines", json={"lines": lines}, headers=headers)


def sell(client, headers, sku, quantity):
    r = client.post(
        "/api/v1/sales",
        headers=headers,
        json={
            "location": "S01",
            "register": "S01-R1",
            "lines": [{"sku": sku, "quantity": quantity}],
            "payments": [{"method": "cash", "amount": 100000}],
        },
    )
    assert r.status_code == 201, r.text


def on_hand(client, headers, sku):
    return client.get(
        "/api/v1/stock", params={"sku": sku, "location": "S01"}, headers=headers
    ).json()["items"][0]["on_hand"]


def lines_by_sku(body):
    return {line["sku"]: line for line in body["lines"]}


def count_movements(db, number):
    with db.uow(write=False) as uow:
        return sorted(
            (sku, m.quantity)
            for m, sku in uow.session.execute(
                select(StockMovement, Variant.sku)
                .join(Variant, Variant.id == StockMovement.variant_id)
                .where(StockMovement.kind == "count", StockMovement.reference_id == number)
            )
        )


def set_cost(db, sku, cost):
    with db.uow() as uow:
        uow.session.scalars(select(Variant).where(Variant.sku == sku)).one().cost_minor = cost
        uow.commit()


def test_a_count_snapshots_every_stocked_variant_at_the_location(client, db, shop):
    r = start(client, shop["boss"], blind=False)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["number"] == "CC-000001"
    assert (body["status"], body["blind"], body["started_by"]) == ("open", False, "boss")
    lines = lines_by_sku(body)
    assert sorted(lines) == ["CAP", "TEE"]
    assert lines["TEE"]["expected_at_start"] == 10
    assert lines["TEE"]["status"] == "uncounted"
    assert lines["CAP"]["expected_at_count"] == 4


def test_a_blind_count_hides_expected_figures_from_counters_until_submitted(client, db, shop):
    number = start(client, shop["cashier"]).json()["number"]
    r = count(client, shop["cashier"], number, [{"sku": "TEE", "counted": 9}])
    assert r.status_code == 200, r.text
    seen = r.json()
    assert seen["expected_visible"] is False
    assert seen["totals"] is None
    tee = lines_by_sku(seen)["TEE"]
    assert (tee["sku"], tee["counted"], tee["counted_by"]) == ("TEE", 9, "c1")
    hidden = (
        "expected_at_start",
        "movements_during",
        "expected_at_count",
        "variance",
        "variance_value",
        "unit_cost",
    )
    for line in seen["lines"]:
        assert all(line[key] is None for key in hidden), line
    got = client.get(f"/api/v1/counts/{number}", headers=shop["cashier"]).json()
    assert all(line["expected_at_start"] is None for line in got["lines"])
    blind = client.get(f"/api/v1/counts/{number}/variances", headers=shop["cashier"])
    assert blind.status_code == 403
    assert blind.json()["code"] == "count.blind"
    # A manager (stock.adjust) sees the figures while it is open.
    managed = client.get(f"/api/v1/counts/{number}", headers=shop["boss"]).json()
    assert managed["expected_visible"] is True
    assert lines_by_sku(managed)["TEE"]["variance"] == -1
    # Once submitted the report is open to the counter too.
    assert (
        client.post(f"/api/v1/counts/{number}/submit", headers=shop["cashier"]).status_code == 200
    )
    report = client.get(f"/api/v1/counts/{number}/variances", headers=shop["cashier"])
    assert report.status_code == 200, report.text
    assert lines_by_sku(report.json())["TEE"]["expected_at_count"] == 10
    assert lines_by_sku(report.json())["CAP"]["status"] == "uncounted"


def test_a_sale_made_while_counting_is_accounted_for(client, db, shop):
    number = start(client, shop["boss"]).json()["number"]
    sell(client, shop["cashier"], "TEE", 2)  # after the start, before the shelf is counted
    count(client, shop["cashier"], number, [{"sku": "TEE", "counted": 8}])
    sell(client, shop["cashier"], "TEE", 1)  # after the count: not part of its variance
    client.post(f"/api/v1/counts/{number}/submit", headers=shop["cashier"])
    report = client.get(f"/api/v1/counts/{number}/variances", headers=shop["boss"]).json()
    tee = lines_by_sku(report)["TEE"]
    assert (tee["expected_at_start"], tee["movements_during"]) == (10, -2)
    assert (tee["expected_at_count"], tee["counted"], tee["variance"]) == (8, 8, 0)
    r = client.post(f"/api/v1/counts/{number}/approve", json={}, headers=shop["boss"])
    assert r.status_code == 200, r.text
    assert count_movements(db, number) == []  # nothing to correct
    assert on_hand(client, shop["boss"], "TEE") == 7
    assert stock.verify(db=db) == []


def test_approval_books_the_variances_and_keeps_sales_made_after_the_count(client, db, shop):
    set_cost(db, "TEE", 600)
    number = start(client, shop["boss"]).json()["number"]
    count(
        client, shop["boss"], number, [{"sku": "TEE", "counted": 7}, {"sku": "CAP", "counted": 5}]
    )
    sell(client, shop["cashier"], "TEE", 1)  # sold after the count, before approval
    client.post(f"/api/v1/counts/{number}/submit", headers=shop["boss"])
    r = client.post(
        f"/api/v1/counts/{number}/approve", json={"reason": "monthly count"}, headers=shop["boss"]
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "approved"
    assert body["approved_by"] == "boss"
    lines = lines_by_sku(body)
    assert (lines["TEE"]["variance"], lines["TEE"]["variance_value"]) == (-3, -1800)
    assert (lines["CAP"]["variance"], lines["CAP"]["variance_value"]) == (1, None)
    assert body["totals"] == {
        "lines": 2,
        "counted": 2,
        "uncounted": 0,
        "units_over": 1,
        "units_short": 3,
        "net_units": -2,
        "value_over": 0,
        "value_short": 1800,
        "net_value": -1800,
        "lines_without_cost": 1,
    }
    assert count_movements(db, number) == [("CAP", 1), ("TEE", -3)]
    assert on_hand(client, shop["boss"], "TEE") == 6  # 7 counted, 1 sold since
    assert on_hand(client, shop["boss"], "CAP") == 5
    with db.uow(write=False) as uow:
        stored = sorted(uow.session.scalars(select(CountLine.variance)).all())
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "stock.count_approved")
        ).one()
    assert stored == [-3, 1]
    assert entry.subject_id == number
    assert (entry.details["units_short"], entry.details["value_short"]) == (3, 1800)
    assert entry.details["via"] == "role"
    twice = client.post(f"/api/v1/counts/{number}/approve", json={}, headers=shop["boss"])
    assert twice.status_code == 409
    assert twice.json()["code"] == "count.not_approvable"
    assert twice.json()["details"]["status"] == "approved"
    assert count_movements(db, number) == [("CAP", 1), ("TEE", -3)]
    assert stock.verify(db=db) == []


def test_uncounted_lines_are_skipped_or_counted_as_zero(client, db, shop):
    number = start(client, shop["boss"]).json()["number"]
    count(client, shop["boss"], number, [{"sku": "TEE", "counted": 10}])
    client.post(f"/api/v1/counts/{number}/submit", headers=shop["boss"])
    r = client.post(
        f"/api/v1/counts/{number}/approve", json={"uncounted": "zero"}, headers=shop["boss"]
    )
    assert r.status_code == 200, r.text
    assert lines_by_sku(r.json())["CAP"]["variance"] == -4
    assert on_hand(client, shop["boss"], "CAP") == 0
    assert count_movements(db, number) == [("CAP", -4)]

    second = start(client, shop["boss"]).json()["number"]
    count(client, shop["boss"], second, [{"sku": "TEE", "counted": 9}])
    client.post(f"/api/v1/counts/{second}/submit", headers=shop["boss"])
    r = client.post(f"/api/v1/counts/{second}/approve", json={}, headers=shop["boss"])
    assert lines_by_sku(r.json())["CAP"]["status"] == "uncounted"
    assert count_movements(db, second) == [("TEE", -1)]
    assert on_hand(client, shop["boss"], "CAP") == 0
    assert stock.verify(db=db) == []


def test_a_later_count_replaces_the_earlier_one_and_new_skus_are_added(client, db, shop):
    make_variant(db, sku="SOCK")  # no stock at S01 when the count starts
    number = start(client, shop["boss"]).json()["number"]
    count(client, shop["cashier"], number, [{"sku": "TEE", "counted": 3}])
    client.post(
        "/api/v1/stock/receipts",
        headers=shop["boss"],
        json={"location": "S01", "lines": [{"sku": "SOCK", "quantity": 4}]},
    )
    r = count(
        client, shop["boss"], number, [{"sku": "TEE", "counted": 10}, {"sku": "SOCK", "counted": 4}]
    )
    assert r.status_code == 200, r.text
    lines = lines_by_sku(r.json())
    assert (lines["TEE"]["counted"], lines["TEE"]["counted_by"]) == (10, "boss")
    sock = lines["SOCK"]
    assert (sock["expected_at_start"], sock["movements_during"], sock["variance"]) == (0, 4, 0)


def test_a_negative_count_is_refused_and_nothing_is_recorded(client, db, shop):
    number = start(client, shop["boss"]).json()["number"]
    r = count(
        client, shop["boss"], number, [{"sku": "TEE", "counted": 3}, {"sku": "CAP", "counted": -1}]
    )
    assert r.status_code == 422
    assert r.json()["code"] == "stock.count_negative"
    assert [e["field"] for e in r.json()["errors"]] == ["lines.1.counted"]
    unknown = count(client, shop["boss"], number, [{"sku": "NOPE", "counted": 1}])
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "catalog.unknown_sku"
    assert unknown.json()["errors"][0]["field"] == "lines.0.sku"
    twice = count(
        client, shop["boss"], number, [{"sku": "TEE", "counted": 1}, {"sku": "TEE", "counted": 2}]
    )
    assert twice.json()["code"] == "count.duplicate_sku"
    got = client.get(f"/api/v1/counts/{number}", headers=shop["boss"]).json()
    assert all(line["counted"] is None for line in got["lines"])


def test_only_one_count_of_a_scope_is_in_progress_at_a_location(client, db, shop):
    first = start(client, shop["boss"]).json()["number"]
    again = start(client, shop["boss"])
    assert again.status_code == 409
    assert again.json()["code"] == "count.already_open"
    assert again.json()["details"]["number"] == first
    elsewhere = client.post("/api/v1/counts", json={"location": "S02"}, headers=shop["boss"])
    assert elsewhere.status_code == 403  # the manager is bound to S01
    client.post(f"/api/v1/counts/{first}/submit", headers=shop["boss"])
    assert start(client, shop["boss"]).status_code == 409  # submitted still holds the scope
    cancelled = client.post(f"/api/v1/counts/{first}/cancel", headers=shop["boss"])
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert start(client, shop["boss"]).status_code == 201
    listed = client.get("/api/v1/counts", params={"status": "cancelled"}, headers=shop["boss"])
    assert [c["number"] for c in listed.json()["items"]] == [first]


def test_a_closed_count_takes_no_counts_and_cancels_only_once(client, db, shop):
    number = start(client, shop["boss"]).json()["number"]
    client.post(f"/api/v1/counts/{number}/submit", headers=shop["boss"])
    late = count(client, shop["cashier"], number, [{"sku": "TEE", "counted": 1}])
    assert late.status_code == 409
    assert late.json()["code"] == "count.not_open"
    assert late.json()["details"]["status"] == "submitted"
    resubmit = client.post(f"/api/v1/counts/{number}/submit", headers=shop["boss"])
    assert resubmit.json()["code"] == "count.not_open"
    client.post(f"/api/v1/counts/{number}/cancel", headers=shop["boss"])
    refused = client.post(f"/api/v1/counts/{number}/cancel", headers=shop["boss"])
    assert refused.status_code == 409
    assert refused.json()["code"] == "count.not_cancellable"
    approve = client.post(f"/api/v1/counts/{number}/approve", json={}, headers=shop["boss"])
    assert approve.json()["code"] == "count.not_approvable"
    assert count_movements(db, number) == []


def test_approval_needs_stock_adjust_or_a_manager_override(client, db, shop):
    number = start(client, shop["cashier"]).json()["number"]
    count(client, shop["cashier"], number, [{"sku": "TEE", "counted": 9}])
    client.post(f"/api/v1/counts/{number}/submit", headers=shop["cashier"])
    refused = client.post(f"/api/v1/counts/{number}/approve", json={}, headers=shop["cashier"])
    assert refused.status_code == 403
    assert refused.json()["code"] == "auth.permission_denied"
    assert count_movements(db, number) == []
    grant = client.post(
        "/api/v1/overrides",
        headers=shop["cashier"],
        json={
            "manager_username": "boss",
            "manager_password": "correct-horse-battery",
            "permission": "stock.adjust",
            "reason": "count sign-off",
        },
    )
    assert grant.status_code in (200, 201), grant.text
    r = client.post(
        f"/api/v1/counts/{number}/approve",
        json={},
        headers={**shop["cashier"], "X-Manager-Override": grant.json()["override_token"]},
    )
    assert r.status_code == 200, r.text
    assert count_movements(db, number) == [("TEE", -1)]
    with db.uow(write=False) as uow:
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "stock.count_approved")
        ).one()
    assert (entry.details["via"], entry.details["approved_by"]) == ("manager_override", "boss")
    assert stock.verify(db=db) == []


def test_a_category_count_covers_its_subcategories_only(client, db, shop):
    with db.uow() as uow:
        apparel = Category(name="Apparel", slug="apparel")
        uow.session.add(apparel)
        uow.session.flush()
        tees = Category(name="Tees", slug="tees", parent_id=apparel.id)
        uow.session.add(tees)
        uow.session.flush()
        for sku, category in (("TEE", tees), ("CAP", apparel)):
            variant = uow.session.scalars(select(Variant).where(Variant.sku == sku)).one()
            uow.session.get_one(Product, variant.product_id).category_id = category.id
        uow.commit()
    make_variant(db, sku="MUG", stock={shop["s01"]: 2})
    r = start(client, shop["boss"], category="apparel")
    assert r.status_code == 201, r.text
    assert r.json()["category"] == "apparel"
    assert sorted(lines_by_sku(r.json())) == ["CAP", "TEE"]
    by_id = start(client, shop["boss"], category=str(tees.id))
    assert by_id.status_code == 201, by_id.text
    assert sorted(lines_by_sku(by_id.json())) == ["TEE"]
    whole = start(client, shop["boss"])  # another scope: the whole store
    assert sorted(lines_by_sku(whole.json())) == ["CAP", "MUG", "TEE"]
    outside = count(client, shop["boss"], r.json()["number"], [{"sku": "MUG", "counted": 2}])
    assert outside.status_code == 422
    assert outside.json()["code"] == "count.sku_out_of_scope"
    unknown = start(client, shop["boss"], category="toys")
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "count.category_not_found"
    assert unknown.json()["errors"][0]["field"] == "category"


def test_a_refused_start_writes_nothing(client, db, shop, settings):
    analyst = token_for(db, settings, "a1", "analyst")
    r = start(client, analyst)
    assert r.status_code == 403
    assert r.json()["code"] == "auth.permission_denied"
    with db.uow(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(CountLine)) == 0
    assert start(client, shop["boss"]).json()["number"] == "CC-000001"


def test_a_lot_tracked_variance_is_booked_on_hand_without_a_lot(client, db, shop):
    make_variant(db, sku="MILK", tracking="lot")
    client.post(
        "/api/v1/stock/receipts",
        headers=shop["boss"],
        json={
            "location": "S01",
            "lines": [
                {
                    "sku": "MILK",
                    "quantity": 6,
                    "lot": {"code": "L1", "expires_on": str(date.today() + timedelta(days=30))},
                }
            ],
        },
    )
    number = start(client, shop["boss"]).json()["number"]
    count(client, shop["boss"], number, [{"sku": "MILK", "counted": 5}])
    client.post(f"/api/v1/counts/{number}/submit", headers=shop["boss"])
    r = client.post(f"/api/v1/counts/{number}/approve", json={}, headers=shop["boss"])
    assert r.status_code == 200, r.text
    milk = lines_by_sku(r.json())["MILK"]
    assert (milk["tracking"], milk["variance"]) == ("lot", -1)
    assert on_hand(client, shop["boss"], "MILK") == 5
    with db.uow(write=False) as uow:
        lots = uow.session.scalars(
            select(StockMovement.lot_id).where(StockMovement.kind == "count")
        ).all()
    assert lots == [None]
    # The lot balance is left as it was: a count does not say which lot is short.
    lot_units = client.get(
        "/api/v1/lots", params={"sku": "MILK", "location": "S01"}, headers=shop["boss"]
    ).json()["items"]
    assert [lot["on_hand"] for lot in lot_units] == [6]
    assert stock.verify(db=db) == []


def test_concurrent_starts_of_one_scope_open_one_count(client, db, shop):
    barrier = threading.Barrier(4)
    answers: list[tuple[int, str]] = []

    def go() -> None:
        barrier.wait()
        r = start(client, shop["boss"])
        answers.append((r.status_code, r.json().get("code", r.json().get("number"))))

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(answers) == [
        (201, "CC-000001"),
        (409, "count.already_open"),
        (409, "count.already_open"),
        (409, "count.already_open"),
    ]
    listed = client.get("/api/v1/counts", headers=shop["boss"]).json()["items"]
    assert [c["number"] for c in listed] == ["CC-000001"]

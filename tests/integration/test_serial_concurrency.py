"""Serials, lots and the expiry sweep under concurrent requests, over real HTTP on SQLite and
PostgreSQL: a serial is sold once, a lot's units are drawn once, an expired unit counted once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from omnitill.adapters.db.models import LotBalance, Sale, SerialEvent, SerialUnit, User
from omnitill.adapters.db.repositories import catalog as catalog_repo
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Role
from omnitill.domain.errors import ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.lots import business_date
from omnitill.services import lot_expiry, stock, tracking, tracking_serials
from tests.factories import PASSWORD, make_location, make_register, make_user, make_variant

THREADS = 8


def run_in_threads(count, work):
    barrier = threading.Barrier(count)
    failures: list[BaseException] = []

    def runner(n: int) -> None:
        barrier.wait()
        try:
            work(n)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not failures, failures[:3]


def store(db):
    """S01 with a register per thread, so the receipt counter does not queue the sales."""
    s01 = make_location(db, "S01")
    for n in range(THREADS):
        make_register(db, s01, f"S01-R{n + 1}")
    make_user(db, "boss", "admin")
    make_user(db, "c1", "cashier", ["S01"])
    return s01


def login(http, username):
    token = http.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def sale(n, lines):
    return {
        "id": str(uuid7()),
        "location": "S01",
        "register": f"S01-R{n + 1}",
        "lines": lines,
        "payments": [{"method": "cash", "amount": 10_000_000}],
    }


def test_a_serial_posted_by_many_tills_at_once_is_sold_exactly_once(live_server, db):
    store(db)
    make_variant(db, sku="PHONE", tracking="serial", price=50000)
    answers: list[tuple[int, str | None]] = []
    with httpx.Client(base_url=live_server, timeout=60) as http:
        boss, cashier = login(http, "boss"), login(http, "c1")
        r = http.post(
            "/api/v1/stock/receipts",
            headers=boss,
            json={
                "location": "S01",
                "lines": [{"sku": "PHONE", "quantity": 3, "serials": ["A", "B", "C"]}],
            },
        )
        assert r.status_code == 201, r.text

        def till(n: int) -> None:
            line = {"sku": "PHONE", "quantity": 1, "serials": ["B"]}
            with httpx.Client(base_url=live_server, timeout=60) as own:
                got = own.post("/api/v1/sales", json=sale(n, [line]), headers=cashier)
            answers.append((got.status_code, got.json().get("code")))

        run_in_threads(THREADS, till)
        statuses = Counter(status for status, _ in answers)
        assert statuses == {201: 1, 422: THREADS - 1}, answers
        assert {code for status, code in answers if status != 201} == {
            "inventory.serial_not_in_stock"
        }
        unit = http.get("/api/v1/serials/B", headers=boss).json()["items"][0]
        assert unit["status"] == "sold"
        assert [e["event"] for e in unit["history"]] == ["received", "sold"]
        level = http.get(
            "/api/v1/stock", params={"sku": "PHONE", "location": "S01"}, headers=boss
        ).json()["items"][0]
        assert level["on_hand"] == 2
    with db.uow(write=False) as uow:
        assert len(uow.session.scalars(select(Sale.id)).all()) == 1
        sold = uow.session.scalars(select(SerialUnit).where(SerialUnit.serial == "B")).one()
        assert sold.sale_id is not None
        assert len(uow.session.scalars(select(SerialEvent.id)).all()) == 4  # 3 received, 1 sold
    assert stock.verify(db=db) == []


def test_tills_racing_for_overlapping_serials_in_any_order_never_deadlock(live_server, db):
    store(db)
    make_variant(db, sku="PHONE", tracking="serial")
    answers: list[tuple[int, str | None]] = []
    with httpx.Client(base_url=live_server, timeout=60) as http:
        boss, cashier = login(http, "boss"), login(http, "c1")
        receipt = {
            "location": "S01",
            "lines": [{"sku": "PHONE", "quantity": 2, "serials": ["X", "Y"]}],
        }
        assert http.post("/api/v1/stock/receipts", headers=boss, json=receipt).status_code == 201

        def till(n: int) -> None:
            serials = ["X", "Y"] if n % 2 else ["Y", "X"]
            line = {"sku": "PHONE", "quantity": 2, "serials": serials}
            with httpx.Client(base_url=live_server, timeout=60) as own:
                got = own.post("/api/v1/sales", json=sale(n, [line]), headers=cashier)
            answers.append((got.status_code, got.json().get("code")))

        run_in_threads(THREADS, till)
    assert Counter(status for status, _ in answers) == {201: 1, 422: THREADS - 1}, answers
    assert {code for status, code in answers if status != 201} == {"inventory.serial_not_in_stock"}
    assert stock.verify(db=db) == []


def test_concurrent_sales_draw_each_lot_unit_once_and_sell_the_rest_without_a_lot(live_server, db):
    s01 = store(db)
    make_variant(db, sku="MILK", tracking="lot")
    in_a_week = (business_date(utcnow(), s01.timezone) + timedelta(days=7)).isoformat()
    in_a_month = (business_date(utcnow(), s01.timezone) + timedelta(days=30)).isoformat()
    drawn: list[list[dict]] = []
    with httpx.Client(base_url=live_server, timeout=60) as http:
        boss, cashier = login(http, "boss"), login(http, "c1")
        receipt = {
            "location": "S01",
            "lines": [
                {"sku": "MILK", "quantity": 3, "lot": {"code": "EARLY", "expires_on": in_a_week}},
                {"sku": "MILK", "quantity": 2, "lot": {"code": "LATE", "expires_on": in_a_month}},
            ],
        }
        assert http.post("/api/v1/stock/receipts", headers=boss, json=receipt).status_code == 201

        def till(n: int) -> None:
            with httpx.Client(base_url=live_server, timeout=60) as own:
                got = own.post(
                    "/api/v1/sales",
                    json=sale(n, [{"sku": "MILK", "quantity": 1}]),
                    headers=cashier,
                )
            assert got.status_code == 201, got.text
            drawn.append(got.json()["lines"][0]["lots"])

        run_in_threads(THREADS, till)
    by_lot = Counter()
    for lots in drawn:
        for part in lots:
            by_lot[part["lot"]] += part["quantity"]
    assert by_lot == {"EARLY": 3, "LATE": 2, None: THREADS - 5}
    with db.uow(write=False) as uow:
        assert set(uow.session.scalars(select(LotBalance.on_hand))) == {0}
    assert stock.verify(db=db) == []


def test_sweepers_running_together_count_each_expired_unit_once(live_server, db):
    s01 = store(db)
    make_variant(db, sku="MILK", tracking="lot")
    today = business_date(utcnow(), s01.timezone)
    with httpx.Client(base_url=live_server, timeout=60) as http:
        boss = login(http, "boss")
        lines = [
            {"sku": "MILK", "quantity": 4 + i, "lot": {"code": f"L{i}", "expires_on": str(today)}}
            for i in range(3)
        ]
        r = http.post(
            "/api/v1/stock/receipts", headers=boss, json={"location": "S01", "lines": lines}
        )
        assert r.status_code == 201, r.text
    later = utcnow() + timedelta(days=2)
    moved: list[int] = []
    run_in_threads(4, lambda _n: moved.append(lot_expiry.sweep(db=db, now=later)))
    assert sum(moved) == 4 + 5 + 6
    with db.uow(write=False) as uow:
        balances = uow.session.scalars(select(LotBalance)).all()
    assert {(b.on_hand, b.expired) for b in balances} == {(4, 4), (5, 5), (6, 6)}
    assert stock.verify(db=db) == []


def test_the_conditional_claim_decides_even_when_the_check_read_a_stale_status(db, monkeypatch):
    """Between a till's check and its claim another till sold the unit: the claim, a
    conditional UPDATE on status and location, refuses it and nothing is written."""
    s01 = store(db)
    make_variant(db, sku="PHONE", tracking="serial")
    with db.uow(write=False) as uow:
        user_id = uow.session.scalars(select(User.id).where(User.username == "boss")).one()
    actor = Actor(user_id, "boss", Role.ADMIN, None)
    now = utcnow()
    context = tracking.Context(actor, "received", None, None, now, business_date(now, "UTC"))
    with db.uow() as uow:
        ref = catalog_repo.variant_refs(uow.connection, skus=["PHONE"], barcodes=[])[0]["PHONE"]
        tracking.put(
            uow,
            variant=ref,
            location_id=s01.id,
            quantity=1,
            tracked=tracking.Tracked(serials=("Z",)),
            context=context,
        )
        uow.commit()
    sold = tracking.Context(actor, "sold", "sale", str(uuid7()), now, context.today)
    with db.uow() as uow:
        tracking.take(
            uow,
            variant=ref,
            location_id=s01.id,
            quantity=1,
            tracked=tracking.Tracked(serials=("Z",)),
            serial_status="sold",
            context=sold,
        )
        uow.commit()

    stale = tracking_serials._units_of

    def as_before_the_other_sale(conn, variant_id, serials):
        return {
            s: tracking_serials._Unit(u.id, u.serial, "in_stock", u.location_id)
            for s, u in stale(conn, variant_id, serials).items()
        }

    monkeypatch.setattr(tracking_serials, "_units_of", as_before_the_other_sale)
    with db.uow() as uow, pytest.raises(ValidationFailed, match="another request") as refused:
        tracking.take(
            uow,
            variant=ref,
            location_id=s01.id,
            quantity=1,
            tracked=tracking.Tracked(serials=("Z",)),
            serial_status="sold",
            context=sold,
        )
    assert refused.value.code == "inventory.serial_not_in_stock"
    assert refused.value.errors[0].field == "lines.0.serials.0"
    with db.uow(write=False) as uow:
        assert len(uow.session.scalars(select(SerialEvent.id)).all()) == 2

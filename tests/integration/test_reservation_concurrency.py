"""Concurrent reservations on real SQLite and PostgreSQL connections (DESIGN invariant 1)."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

from sqlalchemy import select

from omnitill.adapters.db.models import Reservation, ReservationLine, StockLevel
from omnitill.adapters.db.types import utcnow
from omnitill.domain.errors import Conflict
from omnitill.services import auth, reservations, stock
from omnitill.services.reservations import ReservationLineInput, ReservationRequest
from tests.factories import PASSWORD, make_location, make_user, make_variant


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


def manager(db, settings):
    make_user(db, "boss", "manager", ["S01"])
    issued = auth.login(db=db, settings=settings, username="boss", password=PASSWORD)
    return auth.resolve_token(db=db, token=issued.access_token)


def request(ref: str, quantity: int, ttl: int | None = None) -> ReservationRequest:
    return ReservationRequest(
        reference_type="order",
        reference_id=ref,
        location="S01",
        lines=(ReservationLineInput("TEE", None, quantity),),
        ttl_seconds=ttl,
    )


def level(db):
    with db.uow(write=False) as uow:
        return uow.session.scalars(select(StockLevel)).one()


def test_fifty_threads_reserving_the_last_hundred_units_reserve_exactly_a_hundred(db, settings):
    s01 = make_location(db, "S01")
    make_variant(db, sku="TEE", stock={s01: 100})
    actor = manager(db, settings)
    reserved = [0] * 50
    refusals: list[str] = []

    def shop(n: int) -> None:
        quantity, attempt = 2 + n % 2, 0
        while True:
            attempt += 1
            try:
                reservations.reserve(
                    db=db, actor=actor, request=request(f"T{n}-{attempt}", quantity)
                )
                reserved[n] += quantity
            except Conflict as exc:
                refusals.append(exc.code)
                if quantity == 1:
                    return
                quantity = 1

    run_in_threads(50, shop)
    assert set(refusals) == {"inventory.insufficient_stock"}
    assert sum(reserved) == 100
    row = level(db)
    assert (row.on_hand, row.reserved) == (100, 100)
    with db.uow(write=False) as uow:
        held = uow.session.scalars(select(ReservationLine.quantity)).all()
    assert sum(held) == 100
    assert stock.verify(db=db) == []


def test_a_storm_of_reserve_release_fulfil_and_sweeps_keeps_the_ledger_whole(db, settings):
    s01 = make_location(db, "S01")
    make_variant(db, sku="TEE", stock={s01: 60})
    actor = manager(db, settings)
    refusals: set[str] = set()

    def churn(n: int) -> None:
        rng = random.Random(n)
        for i in range(8):
            ttl = 1 if rng.random() < 0.3 else None
            try:
                view = reservations.reserve(
                    db=db, actor=actor, request=request(f"S{n}-{i}", rng.randint(1, 4), ttl)
                )
            except Conflict as exc:
                refusals.add(exc.code)
                continue
            roll = rng.random()
            try:
                if roll < 0.4:
                    reservations.release(db=db, actor=actor, reservation_id=view.id)
                elif roll < 0.7:
                    reservations.fulfil(db=db, actor=actor, reservation_id=view.id)
            except Conflict as exc:  # the sweeper expired it first
                refusals.add(exc.code)
            if n % 4 == 0:
                reservations.sweep(db=db, now=utcnow() + timedelta(seconds=5))

    run_in_threads(12, churn)
    assert refusals <= {"inventory.insufficient_stock", "reservation.invalid_transition"}
    reservations.sweep(db=db, now=utcnow() + timedelta(seconds=5))
    with db.uow(write=False) as uow:
        rows = uow.session.execute(
            select(Reservation.status, ReservationLine.quantity).join(
                ReservationLine, ReservationLine.reservation_id == Reservation.id
            )
        ).all()
    active = sum(q for s, q in rows if s == "active")
    fulfilled = sum(q for s, q in rows if s == "fulfilled")
    row = level(db)
    assert row.reserved == active
    assert row.on_hand == 60 - fulfilled
    assert 0 <= row.reserved <= row.on_hand
    assert stock.verify(db=db) == []


def test_two_sweepers_at_once_expire_each_reservation_once(db, settings):
    s01 = make_location(db, "S01")
    make_variant(db, sku="TEE", stock={s01: 40})
    actor = manager(db, settings)
    for n in range(20):
        reservations.reserve(db=db, actor=actor, request=request(f"E{n}", 2, ttl=1))
    later = utcnow() + timedelta(seconds=10)
    counts = [0, 0, 0, 0]

    def sweeper(n: int) -> None:
        counts[n] = reservations.sweep(db=db, now=later, batch_size=5)

    run_in_threads(4, sweeper)
    assert sum(counts) == 20
    assert level(db).reserved == 0
    assert stock.verify(db=db) == []

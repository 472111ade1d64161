"""Concurrent register sales on real SQLite and PostgreSQL connections."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from omnitill.adapters.db.models import Sale, StockLevel, StockMovement
from omnitill.domain.sales.receipts import parse_receipt_number
from omnitill.services import auth, stock
from omnitill.services.sale_payments import TenderRequest as Tender
from omnitill.services.sales import SaleLineRequest, SaleRequest, complete_sale
from tests.factories import PASSWORD, make_location, make_register, make_user, make_variant

THREADS = 16
SALES_PER_THREAD = 4


def run_in_threads(work):
    barrier = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def runner(n: int) -> None:
        barrier.wait()
        try:
            work(n)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not failures, failures


def cashier(db, settings):
    make_user(db, "till", "cashier", ["S01"])
    issued = auth.login(db=db, settings=settings, username="till", password=PASSWORD)
    return auth.resolve_token(db=db, token=issued.access_token)


def test_sixteen_threads_on_one_register_get_unique_gapless_receipt_numbers(db, settings):
    s01 = make_location(db, "S01")
    make_register(db, s01, "S01-R1")
    make_variant(db, sku="TEE", price=1500, stock={s01: 1000})
    actor = cashier(db, settings)

    def sell(_n: int) -> None:
        for _ in range(SALES_PER_THREAD):
            complete_sale(
                db=db,
                actor=actor,
                request_hash="h",
                request=SaleRequest(
                    location="S01",
                    register="S01-R1",
                    lines=(SaleLineRequest(sku="TEE", barcode=None, quantity=1),),
                    payments=(Tender("cash", 2000),),
                ),
            )

    run_in_threads(sell)
    with db.uow(write=False) as uow:
        numbers = uow.session.scalars(select(Sale.receipt_number)).all()
    seqs = sorted(parsed[1] for parsed in map(parse_receipt_number, numbers) if parsed)
    total = THREADS * SALES_PER_THREAD
    assert len(numbers) == total
    assert seqs == list(range(1, total + 1))


def test_sixteen_threads_selling_one_sku_keep_on_hand_equal_to_its_movements(db, settings):
    s01 = make_location(db, "S01")
    for n in range(1, 5):
        make_register(db, s01, f"S01-R{n}")
    variant = make_variant(db, sku="CAP", price=2500, stock={s01: 40})
    actor = cashier(db, settings)

    def sell(n: int) -> None:
        for _ in range(SALES_PER_THREAD):
            complete_sale(
                db=db,
                actor=actor,
                request_hash="h",
                request=SaleRequest(
                    location="S01",
                    register=f"S01-R{n % 4 + 1}",
                    lines=(SaleLineRequest(sku="CAP", barcode=None, quantity=1),),
                    payments=(Tender("cash", 3000),),
                ),
            )

    run_in_threads(sell)
    sold = THREADS * SALES_PER_THREAD
    with db.uow(write=False) as uow:
        level = uow.session.get(StockLevel, (variant.id, s01.id)).on_hand
        ledger = uow.session.scalar(
            select(func.sum(StockMovement.quantity)).where(StockMovement.variant_id == variant.id)
        )
    assert level == 40 - sold  # sales of goods in hand are recorded even past zero
    assert ledger == level
    assert stock.verify(db=db) == []


def test_concurrent_adjustments_never_take_stock_below_zero(db, settings):
    s01 = make_location(db, "S01")
    variant = make_variant(db, sku="BAG", price=5000, stock={s01: 10})
    make_user(db, "stocker", "inventory")
    issued = auth.login(db=db, settings=settings, username="stocker", password=PASSWORD)
    actor = auth.resolve_token(db=db, token=issued.access_token)
    outcomes: list[str] = []

    def take(_n: int) -> None:
        try:
            stock.adjust(
                db=db,
                actor=actor,
                location="S01",
                reason="damaged",
                lines=[stock.StockLineInput("BAG", None, -1)],
            )
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(getattr(exc, "code", repr(exc)))

    run_in_threads(take)
    assert outcomes.count("ok") == 10, outcomes
    assert outcomes.count("stock.would_go_negative") == THREADS - 10
    with db.uow(write=False) as uow:
        assert uow.session.get(StockLevel, (variant.id, s01.id)).on_hand == 0
    assert stock.verify(db=db) == []


def test_the_same_sale_sent_by_sixteen_threads_at_once_is_recorded_once(db, settings):
    from omnitill.domain.ids import uuid7

    s01 = make_location(db, "S01")
    make_register(db, s01, "S01-R1")
    variant = make_variant(db, sku="SCARF", price=4500, stock={s01: 10})
    actor = cashier(db, settings)
    request = SaleRequest(
        id=uuid7(),
        location="S01",
        register="S01-R1",
        lines=(SaleLineRequest(sku="SCARF", barcode=None, quantity=1),),
        payments=(Tender("cash", 5000),),
    )
    answers = []

    def send(_n: int) -> None:
        answers.append(complete_sale(db=db, actor=actor, request=request, request_hash="same"))

    run_in_threads(send)
    assert {a.receipt_number for a in answers} == {"S01-R1-000001"}
    assert sum(not a.replayed for a in answers) == 1
    with db.uow(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Sale)) == 1
        assert uow.session.get(StockLevel, (variant.id, s01.id)).on_hand == 9

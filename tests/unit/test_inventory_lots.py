"""Lot expiry and first-expired-first-out picks (domain/inventory/lots.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from omnitill.domain.inventory.lots import (
    LotStock,
    business_date,
    expired_order,
    fefo_order,
    is_expired,
    plan_expired,
    plan_fefo,
    units_to_expire,
)

TODAY = date(2025, 3, 10)


def lot(code: str, expires_on: date | None, on_hand: int, expired: int = 0) -> LotStock:
    return LotStock(uuid.uuid4(), code, expires_on, on_hand, expired)


def test_a_lot_sells_all_day_on_its_expiry_date_and_expires_the_day_after():
    assert not is_expired(date(2025, 3, 10), TODAY)
    assert is_expired(date(2025, 3, 9), TODAY)
    assert not is_expired(None, TODAY)


def test_the_business_date_is_the_locations_local_date():
    late_evening_in_new_york = datetime(2025, 3, 11, 2, 30, tzinfo=UTC)
    assert business_date(late_evening_in_new_york, "America/New_York") == date(2025, 3, 10)
    assert business_date(late_evening_in_new_york, "UTC") == date(2025, 3, 11)
    assert business_date(late_evening_in_new_york, "Pacific/Kiritimati") == date(2025, 3, 11)


def test_fefo_orders_by_expiry_then_code_with_lots_that_never_expire_last():
    a = lot("A", date(2025, 5, 1), 5)
    b = lot("B", date(2025, 4, 1), 5)
    c = lot("C", None, 5)
    d = lot("AA", date(2025, 4, 1), 5)
    assert [x.code for x in fefo_order([a, b, c, d], today=TODAY)] == ["AA", "B", "A", "C"]


def test_fefo_skips_expired_empty_and_swept_out_lots():
    gone = lot("OLD", date(2025, 3, 9), 4)
    empty = lot("EMPTY", date(2025, 3, 12), 0)
    swept = lot("SWEPT", date(2025, 3, 20), 3, expired=3)
    good = lot("GOOD", date(2025, 6, 1), 2)
    assert [x.code for x in fefo_order([gone, empty, swept, good], today=TODAY)] == ["GOOD"]


def test_plan_takes_the_earliest_expiry_first_and_spans_lots_when_one_is_short():
    a = lot("A", date(2025, 5, 1), 5)
    b = lot("B", date(2025, 4, 1), 3)
    c = lot("C", date(2025, 6, 1), 4)
    plan = plan_fefo([a, b, c], quantity=6, today=TODAY)
    assert [(p.lot.code, p.quantity) for p in plan.picks] == [("B", 3), ("A", 3)]
    assert plan.short == 0


def test_plan_reports_what_no_lot_covers_as_short():
    plan = plan_fefo([lot("A", date(2025, 5, 1), 2, expired=0)], quantity=5, today=TODAY)
    assert [(p.lot.code, p.quantity) for p in plan.picks] == [("A", 2)]
    assert plan.short == 3
    assert plan_fefo([], quantity=1, today=TODAY).short == 1


def test_a_plan_needs_a_positive_quantity():
    with pytest.raises(ValueError, match="positive"):
        plan_fefo([], quantity=0, today=TODAY)
    with pytest.raises(ValueError, match="positive"):
        plan_expired([], quantity=-1)


def test_expired_units_are_taken_oldest_expiry_first():
    old = lot("OLD", date(2025, 1, 1), 4, expired=4)
    older = lot("OLDER", date(2024, 12, 1), 2, expired=2)
    fresh = lot("FRESH", date(2025, 9, 1), 9)
    assert [x.code for x in expired_order([old, older, fresh])] == ["OLDER", "OLD"]
    plan = plan_expired([old, older, fresh], quantity=5)
    assert [(p.lot.code, p.quantity) for p in plan.picks] == [("OLDER", 2), ("OLD", 3)]
    assert plan_expired([old], quantity=6).short == 2


def test_the_sweep_moves_only_unexpired_units_of_expired_lots():
    assert units_to_expire(lot("X", date(2025, 3, 9), 5, expired=2), today=TODAY) == 3
    assert units_to_expire(lot("X", date(2025, 3, 10), 5), today=TODAY) == 0
    assert units_to_expire(lot("X", None, 5), today=TODAY) == 0
    assert units_to_expire(lot("X", date(2025, 3, 1), 5, expired=5), today=TODAY) == 0
    assert units_to_expire(lot("X", date(2025, 3, 1), -1), today=TODAY) == 0

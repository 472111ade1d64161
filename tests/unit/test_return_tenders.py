"""The refund plan over a purchase's tenders (domain/returns/tenders.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omnitill.domain.returns.tenders import (
    CARD_TOO_OLD,
    ORDER,
    Fallback,
    PaidTender,
    RefundRules,
    plan_refund,
)

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def paid(pid: str, method: str, refundable: int, days_ago: int = 1) -> PaidTender:
    return PaidTender(pid, method, refundable, NOW - timedelta(days=days_ago))


def shares(amount: int, tenders: list[PaidTender]) -> list[tuple[str, str, int]]:
    plan = plan_refund(amount, tenders, rules=RefundRules(), now=NOW, card_present=True)
    return [(p.payment_id, p.given_as, p.amount) for p in plan.refunds]


def test_exchange_credit_goes_back_first_and_as_store_credit_never_cash() -> None:
    assert ORDER[0] == "exchange"
    tenders = [paid("cash", "cash", 500), paid("ex", "exchange", 1000), paid("card", "card", 500)]
    assert shares(1200, tenders) == [("ex", "store_credit", 1000), ("card", "card", 200)]


def test_value_that_was_never_money_goes_back_before_card_then_qr_as_cash_then_cash() -> None:
    tenders = [
        paid("cash", "cash", 100),
        paid("qr", "qr", 100),
        paid("card", "card", 100),
        paid("gift", "gift_card", 100),
        paid("credit", "store_credit", 100),
    ]
    assert shares(500, tenders) == [
        ("credit", "store_credit", 100),
        ("gift", "gift_card", 100),
        ("card", "card", 100),
        ("qr", "cash", 100),
        ("cash", "cash", 100),
    ]


def test_the_newest_payment_of_a_method_gives_back_first() -> None:
    tenders = [paid("old", "card", 500, days_ago=10), paid("new", "card", 500, days_ago=1)]
    assert shares(700, tenders) == [("new", "card", 500), ("old", "card", 200)]


def test_a_card_too_old_gives_its_share_as_the_fallback_with_the_reason() -> None:
    tenders = [paid("card", "card", 1000, days_ago=100)]
    plan = plan_refund(
        400,
        tenders,
        rules=RefundRules(card_max_days=90, fallback=Fallback.CASH),
        now=NOW,
        card_present=True,
    )
    (only,) = plan.refunds
    assert (only.given_as, only.amount, only.fallback_reason) == ("cash", 400, CARD_TOO_OLD)
    assert plan.needs_manager


def test_what_no_tender_can_take_is_unplaced() -> None:
    plan = plan_refund(
        900, [paid("ex", "exchange", 600)], rules=RefundRules(), now=NOW, card_present=True
    )
    assert (plan.total, plan.unplaced) == (600, 300)
    assert not plan.needs_manager


def test_an_unknown_tender_has_no_refund_route() -> None:
    with pytest.raises(ValueError, match="no refund route"):
        plan_refund(1, [paid("x", "cheque", 1)], rules=RefundRules(), now=NOW, card_present=True)

"""The refund plan over tenders: the order, the caps, the card fallbacks, and the property
that over any sequence of returns no tender gives back more than it took."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnitill.domain.returns.tenders import (
    CARD_ABSENT,
    CARD_TOO_OLD,
    Fallback,
    PaidTender,
    RefundRules,
    plan_refund,
)

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def tender(pid, method, refundable, days_ago=1):
    return PaidTender(pid, method, refundable, NOW - timedelta(days=days_ago))


def test_value_that_was_never_money_goes_back_first_and_cash_last():
    tenders = [
        tender("cash", "cash", 800),
        tender("card", "card", 1500),
        tender("gift", "gift_card", 700),
        tender("credit", "store_credit", 200),
    ]
    plan = plan_refund(1000, tenders, rules=RefundRules(), now=NOW, card_present=False)
    assert [(p.payment_id, p.given_as, p.amount) for p in plan.refunds] == [
        ("credit", "store_credit", 200),
        ("gift", "gift_card", 700),
        ("card", "card", 100),
    ]
    assert plan.unplaced == 0
    assert not plan.needs_manager


def test_a_qr_payment_is_given_back_as_cash_and_the_newest_card_first():
    tenders = [
        tender("old", "card", 500, days_ago=10),
        tender("new", "card", 500, days_ago=2),
        tender("qr", "qr", 400),
    ]
    plan = plan_refund(1200, tenders, rules=RefundRules(), now=NOW, card_present=True)
    assert [(p.payment_id, p.given_as, p.amount) for p in plan.refunds] == [
        ("new", "card", 500),
        ("old", "card", 500),
        ("qr", "cash", 200),
    ]


def test_an_old_card_payment_falls_back_with_its_reason_and_needs_a_manager():
    rules = RefundRules(card_max_days=180, fallback=Fallback.CASH)
    plan = plan_refund(
        900, [tender("card", "card", 1000, days_ago=200)], rules=rules, now=NOW, card_present=True
    )
    (only,) = plan.refunds
    assert (only.payment_id, only.given_as, only.amount) == ("card", "cash", 900)
    assert only.fallback_reason == CARD_TOO_OLD
    assert plan.needs_manager


def test_a_card_that_must_be_presented_and_is_not_falls_back_to_store_credit():
    rules = RefundRules(card_present_required=True)
    plan = plan_refund(
        300, [tender("card", "card", 1000)], rules=rules, now=NOW, card_present=False
    )
    assert [(p.given_as, p.fallback_reason) for p in plan.refunds] == [
        ("store_credit", CARD_ABSENT)
    ]


def test_what_no_tender_can_take_is_unplaced():
    plan = plan_refund(
        1000, [tender("cash", "cash", 600)], rules=RefundRules(), now=NOW, card_present=False
    )
    assert plan.total == 600
    assert plan.unplaced == 400
    with pytest.raises(ValueError, match="negative"):
        plan_refund(-1, [], rules=RefundRules(), now=NOW, card_present=False)


METHODS = st.sampled_from(["card", "cash", "gift_card", "store_credit", "qr"])


@settings(max_examples=200, deadline=None)
@given(
    paid=st.lists(
        st.tuples(METHODS, st.integers(1, 5000), st.integers(0, 800)), min_size=1, max_size=5
    ),
    returns=st.lists(st.integers(0, 6000), min_size=1, max_size=6),
    present=st.booleans(),
)
def test_over_any_returns_no_tender_gives_back_more_than_it_took(paid, returns, present):
    left = {f"p{i}": amount for i, (_, amount, _) in enumerate(paid)}
    rules = RefundRules(card_max_days=400, card_present_required=True)
    for amount in returns:
        tenders = [
            tender(f"p{i}", method, left[f"p{i}"], days_ago=age)
            for i, (method, _, age) in enumerate(paid)
        ]
        available = sum(left.values())
        plan = plan_refund(amount, tenders, rules=rules, now=NOW, card_present=present)
        assert plan.total == min(amount, available)
        assert plan.total + plan.unplaced == amount
        for p in plan.refunds:
            assert p.amount > 0
            left[p.payment_id] -= p.amount
            assert left[p.payment_id] >= 0
    given_back = {f"p{i}": amount - left[f"p{i}"] for i, (_, amount, _) in enumerate(paid)}
    assert all(given_back[k] <= amount for k, (_, amount, _) in zip(given_back, paid, strict=True))

"""Buy X get Y on returns (domain/returns/bundles.py): a reward kept without the units that
earned it is charged back, a reward that comes back refunds what was paid for it, and over
returns that end with everything back the refunds add up to exactly what was paid.

Refunds before charge-backs are the returns policy's (`decide_return`): a line's paid total
split evenly over its units, returns taking the first units."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from omnitill.domain.promotions.model import RuleKind
from omnitill.domain.returns.bundles import (
    CHARGEBACK,
    CHARGEBACK_REFUNDED,
    BundleLine,
    Chargebacks,
    Group,
    chargebacks,
)
from omnitill.domain.returns.model import (
    Condition,
    ReturnLine,
    ReturnPolicy,
    ReturnRequest,
    SoldLine,
)
from omnitill.domain.returns.policy import decide_return
from tests.unit.test_promotions_builders import line, on, promo, run

NOW = datetime(2026, 5, 4, 16, 0, tzinfo=UTC)
POLICY = ReturnPolicy(currency="USD")


def group(
    qualifying: Mapping[int, int],
    reward: Mapping[int, int],
    discounts: Mapping[int, int],
    *,
    buy: int = 1,
    get: int = 1,
    pid: str = "bogo",
) -> Group:
    return Group(
        promotion_id=pid,
        kind="buy_x_get_y",
        buy=buy,
        get=get,
        qualifying=dict(qualifying),
        reward=dict(reward),
        discount=sum(discounts.values()),
        discounts=dict(discounts),
    )


def policy_refunds(
    paid: Mapping[int, int], sold: Mapping[int, BundleLine], returning: Mapping[int, int]
) -> dict[int, int]:
    """What the returns policy refunds each returned line, before any charge-back."""
    order = [n for n in sorted(returning) if returning[n]]
    decision = decide_return(
        ReturnRequest(
            currency="USD",
            timezone="UTC",
            lines=tuple(
                ReturnLine(
                    quantity=returning[n],
                    condition=Condition.UNOPENED,
                    sold=SoldLine(
                        line_id=str(n),
                        category_id=None,
                        channel="in_store",
                        sold_at=NOW,
                        timezone="UTC",
                        quantity=sold[n].quantity,
                        paid_total=paid[n],
                        returned_quantity=sold[n].returned,
                    ),
                )
                for n in order
            ),
        ),
        policy=POLICY,
        now=NOW,
    )
    assert decision.allowed
    return {n: d.refund for n, d in zip(order, decision.lines, strict=True)}


@dataclass
class Purchase:
    """A sale's lines (paid total and quantity by line number) and its groups, returned
    over time: each return is decided by the policy, then by the buy-X-get-Y rule."""

    paid: dict[int, int]
    quantity: dict[int, int]
    groups: list[Group]
    returned: dict[int, int] = field(default_factory=dict)
    charged_net: int = 0
    refunded_total: int = 0
    last_refunds: dict[int, int] = field(default_factory=dict)

    def give_back(self, returning: Mapping[int, int]) -> Chargebacks:
        sold = {n: BundleLine(q, self.returned.get(n, 0)) for n, q in self.quantity.items()}
        refunds = policy_refunds(self.paid, sold, returning)
        result = chargebacks(
            self.groups,
            sold,
            returning,
            refunds=refunds,
            currency="USD",
            charged_before=self.charged_net,
        )
        for n, units in returning.items():
            self.returned[n] = self.returned.get(n, 0) + units
        self.charged_net = result.charged_after
        self.refunded_total += sum(refunds.values()) - result.charged + result.refunded
        self.last_refunds = refunds
        return result


def pair() -> Purchase:
    """Line 1 (10.00) bought, line 2 (10.00) given free: buy 1 get 1."""
    return Purchase({1: 1000, 2: 0}, {1: 1, 2: 1}, [group({1: 1}, {2: 1}, {2: 1000})])


# --- the pricing result says which units a promotion claimed ------------------------------


def test_a_same_pool_deal_names_its_bought_and_given_units_per_line():
    p = promo("p", RuleKind.BUY_X_GET_Y, target=on("A", "B", "C"), buy_quantity=1, get_quantity=1)
    result = run([line("A", 3000), line("B", 1000, 3), line("C", 2000)], [p])
    (found,) = result.groups
    assert (found.promotion_id, found.kind, found.buy, found.get) == ("p", "buy_x_get_y", 1, 1)
    # the dearest first, in pairs: (A 30.00, C 20.00 free), (B 10.00, B 10.00 free); B's
    # third unit is in no pair
    assert found.qualifying == (("0", 1), ("1", 1))
    assert found.reward == (("1", 1), ("2", 1))
    assert found.discounts == (("1", 1000), ("2", 2000))
    assert found.discount == 3000 == sum(a.amount for a in result.applied)


def test_a_deal_with_a_get_target_names_the_bought_units_apart_from_the_given_ones():
    p = promo(
        "p",
        RuleKind.BUY_X_GET_Y,
        target=on("A"),
        get_target=on("S"),
        buy_quantity=1,
        get_quantity=1,
    )
    result = run([line("S", 500, 2), line("A", 3000, 3)], [p])
    (found,) = result.groups
    assert found.qualifying == (("1", 2),)
    assert found.reward == (("0", 2),)
    assert found.discounts == (("0", 1000),)


def test_only_buy_x_get_y_promotions_make_groups():
    p = promo("p", RuleKind.ITEM_PERCENT, target=on("A"), percent=10)
    assert run([line("A", 1000, 2)], [p]).groups == ()


def test_a_group_reads_back_what_it_stores():
    g = group({1: 2, 3: 1}, {2: 1, 3: 1}, {2: 700, 3: 300}, buy=3, get=2)
    stored = g.as_json()
    assert stored["qualifying"] == {"1": 2, "3": 1}
    assert stored["reward"] == {"2": 1, "3": 1}
    assert Group.from_json(stored) == g


def test_a_group_whose_line_discounts_do_not_add_up_is_refused():
    with pytest.raises(ValueError, match="sum to its discount"):
        Group("p", "buy_x_get_y", 1, 1, {1: 1}, {2: 1}, 999, {2: 1000})


# --- one pair ------------------------------------------------------------------------------


def test_the_free_unit_coming_back_alone_refunds_nothing_and_charges_nothing():
    sale = pair()
    result = sale.give_back({2: 1})
    assert sale.last_refunds == {2: 0}
    assert (result.lines, result.charged, result.due) == ({}, 0, 0)


def test_the_paid_unit_coming_back_alone_charges_back_the_free_ones_benefit():
    sale = pair()
    result = sale.give_back({1: 1})
    assert sale.last_refunds == {1: 1000}
    assert result.charged == 1000
    assert result.lines[1].charged == 1000
    assert [r.code for r in result.lines[1].reasons] == [CHARGEBACK]
    assert "earn it 0 of 1 time(s)" in result.lines[1].reasons[0].message
    assert sale.refunded_total == 0  # the free unit kept now costs what was paid for the pair


def test_the_free_unit_coming_back_after_its_benefit_was_charged_back_refunds_that_charge():
    sale = pair()
    sale.give_back({1: 1})
    result = sale.give_back({2: 1})
    assert result.lines[2].refunded == 1000
    assert [r.code for r in result.lines[2].reasons] == [CHARGEBACK_REFUNDED]
    assert sale.refunded_total == 1000  # what was paid for both


def test_the_whole_pair_coming_back_refunds_exactly_what_was_paid_for_both():
    sale = pair()
    result = sale.give_back({1: 1, 2: 1})
    assert result.lines == {}
    assert sale.refunded_total == 1000


def test_a_half_price_reward_kept_loses_only_the_half_it_had_off():
    sale = Purchase({1: 1000, 2: 500}, {1: 1, 2: 1}, [group({1: 1}, {2: 1}, {2: 500})])
    result = sale.give_back({1: 1})
    assert result.charged == 500
    assert sale.refunded_total == 500


# --- one line holding both halves ------------------------------------------------------------


def test_one_unit_of_a_same_line_pair_coming_back_charges_back_what_the_other_had_off():
    # two units at 10.00 on one line, buy 1 get 1: 10.00 paid, 5.00 a unit
    sale = Purchase({1: 1000}, {1: 2}, [group({1: 1}, {1: 1}, {1: 1000})])
    first = sale.give_back({1: 1})
    assert sale.last_refunds == {1: 500}
    assert first.lines[1].charged == 500
    assert sale.refunded_total == 0  # the unit kept costs its full 10.00
    second = sale.give_back({1: 1})
    assert second.lines[1].refunded == 500
    assert sale.refunded_total == 1000


def test_a_unit_no_group_claimed_comes_back_before_the_pair():
    # three at 10.00, two of them a pair: 20.00 paid
    sale = Purchase({1: 2000}, {1: 3}, [group({1: 1}, {1: 1}, {1: 1000})])
    assert sale.give_back({1: 1}).lines == {}


# --- several groups, several returns ---------------------------------------------------------


def test_losing_one_of_two_applications_keeps_the_dearer_reward_free():
    # two bought on line 1 (50.00 each); rewards: line 2 (30.00) and line 3 (10.00), free
    sale = Purchase(
        {1: 10000, 2: 0, 3: 0},
        {1: 2, 2: 1, 3: 1},
        [group({1: 2}, {2: 1, 3: 1}, {2: 3000, 3: 1000})],
    )
    first = sale.give_back({1: 1})
    assert first.charged == 1000  # line 3 loses its 10.00; line 2 stays free
    assert "earn it 1 of 2 time(s)" in first.lines[1].reasons[0].message
    second = sale.give_back({1: 1})
    assert second.charged == 3000
    assert sale.refunded_total == 10000 - 4000


def test_a_later_return_of_something_else_does_not_charge_twice():
    sale = Purchase(
        {1: 1000, 2: 0, 3: 2500},
        {1: 1, 2: 1, 3: 1},
        [group({1: 1}, {2: 1}, {2: 1000})],
    )
    assert sale.give_back({1: 1}).charged == 1000
    again = sale.give_back({3: 1})
    assert (again.lines, again.charged, again.refunded) == ({}, 0, 0)
    assert sale.refunded_total == 2500


def test_two_promotions_are_judged_apart():
    sale = Purchase(
        {1: 1000, 2: 0, 3: 4000, 4: 0},
        {1: 1, 2: 1, 3: 1, 4: 1},
        [
            group({1: 1}, {2: 1}, {2: 1000}, pid="p1"),
            group({3: 1}, {4: 1}, {4: 2000}, pid="p2"),
        ],
    )
    result = sale.give_back({3: 1})
    assert result.charged == 2000
    assert "promotion p2" in result.lines[3].reasons[0].message
    assert sale.refunded_total == 2000


def test_a_charge_back_larger_than_the_refund_is_capped_and_the_rest_taken_later():
    # a 2.00 pair of socks earns a 30.00 shirt free; a 50.00 jacket beside them
    sale = Purchase(
        {1: 200, 2: 0, 3: 5000},
        {1: 1, 2: 1, 3: 1},
        [group({1: 1}, {2: 1}, {2: 3000})],
    )
    socks = sale.give_back({1: 1})
    assert (socks.charged, socks.outstanding, socks.due) == (200, 2800, 3000)
    assert "28.00 USD stays due" in socks.lines[1].reasons[-1].message
    assert sale.refunded_total == 0  # never below nothing: the customer is not asked to pay
    jacket = sale.give_back({3: 1})
    assert (jacket.lines[3].charged, jacket.outstanding) == (2800, 0)
    assert "could not take" in jacket.lines[3].reasons[-1].message
    shirt = sale.give_back({2: 1})
    assert shirt.refunded == 3000
    assert sale.refunded_total == 5200


def test_a_return_bigger_than_what_is_left_is_refused():
    with pytest.raises(ValueError, match="more than is left"):
        chargebacks(
            pair().groups,
            {1: BundleLine(1, 1), 2: BundleLine(1)},
            {1: 1},
            refunds={1: 0},
            currency="USD",
        )


# --- properties ------------------------------------------------------------------------------


@st.composite
def purchases(draw: st.DrawFn) -> Purchase:
    """Up to four lines and up to two groups whose units land on any of them."""
    count = draw(st.integers(1, 4))
    line_nos = st.integers(1, count)
    claimed = dict.fromkeys(range(1, count + 1), 0)
    groups: list[Group] = []
    for index in range(draw(st.integers(1, 2))):
        buy, get, times = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
        qualifying: dict[int, int] = {}
        reward: dict[int, int] = {}
        for into, units in ((qualifying, buy * times), (reward, get * times)):
            for _ in range(units):
                n = draw(line_nos)
                into[n] = into.get(n, 0) + 1
                claimed[n] += 1
        discounts = {n: draw(st.integers(0, 3000)) for n in sorted(reward)}
        groups.append(group(qualifying, reward, discounts, buy=buy, get=get, pid=f"p{index}"))
    quantity = {n: max(1, c + draw(st.integers(0, 2))) for n, c in claimed.items()}
    paid = {n: draw(st.integers(0, 10000)) for n in quantity}
    return Purchase(paid, quantity, groups)


def _returns_until_everything_is_back(data: st.DataObject, sale: Purchase) -> list[dict[int, int]]:
    left = dict(sale.quantity)
    found: list[dict[int, int]] = []
    while any(left.values()):
        step = {n: data.draw(st.integers(0, k)) for n, k in left.items() if k}
        if not any(step.values()):
            first = min(n for n, k in left.items() if k)
            step[first] = 1
        step = {n: k for n, k in step.items() if k}
        for n, k in step.items():
            left[n] -= k
        found.append(step)
    return found


@settings(max_examples=300, deadline=None)
@given(sale=purchases(), data=st.data())
def test_over_returns_that_end_with_everything_back_the_refunds_add_up_to_what_was_paid(
    sale: Purchase, data: st.DataObject
) -> None:
    for step in _returns_until_everything_is_back(data, sale):
        result = sale.give_back(step)
        assert result.charged >= 0
        assert result.refunded >= 0
        for n, line_result in result.lines.items():
            assert 0 <= line_result.charged <= sale.last_refunds[n]
            assert line_result.refunded >= 0
            assert line_result.reasons
        assert sum(sale.last_refunds.values()) - result.charged + result.refunded >= 0
        assert 0 <= sale.charged_net <= result.due
    assert sale.charged_net == 0
    assert sale.refunded_total == sum(sale.paid.values())


@settings(max_examples=200, deadline=None)
@given(sale=purchases())
def test_everything_coming_back_at_once_charges_nothing(sale: Purchase) -> None:
    result = sale.give_back(dict(sale.quantity))
    assert (result.lines, result.charged, result.due) == ({}, 0, 0)
    assert sale.refunded_total == sum(sale.paid.values())


@settings(max_examples=200, deadline=None)
@given(sale=purchases(), data=st.data())
def test_nothing_is_charged_while_every_group_is_kept_whole(
    sale: Purchase, data: st.DataObject
) -> None:
    # units beyond what the groups claimed may come back freely
    spare = {n: q - sum(g.claimed(n) for g in sale.groups) for n, q in sale.quantity.items()}
    step = {n: data.draw(st.integers(0, k)) for n, k in spare.items() if k > 0}
    step = {n: k for n, k in step.items() if k}
    assume(step)
    result = sale.give_back(step)
    assert (result.charged, result.due) == (0, 0)

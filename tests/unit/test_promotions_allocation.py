"""Discounts split over lines and units so that parts always sum to the whole."""

from __future__ import annotations

import random
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from omnitill.domain.promotions.model import RuleKind, StackingClass, Target, Tier
from tests.unit.test_promotions_builders import (
    check_invariants,
    line,
    line_discounts,
    on,
    promo,
    run,
    total,
)

K = RuleKind
ORDER = StackingClass.ORDER
EVERYTHING = Target(all_items=True)


def test_unit_discounts_have_one_entry_per_unit_and_sum_to_the_line():
    lines = [line("A", 333, 3), line("B", 1000)]
    result = run(lines, [promo("p", K.ORDER_AMOUNT, stacking=ORDER, amount=1000)])
    # 10.00 over 9.99 and 10.00: 4.9975 and 5.0025, so 5.00 each; 5.00 over three 3.33 units
    assert line_discounts(result) == [500, 500]
    assert result.lines[0].unit_discounts == (167, 167, 166)
    check_invariants(lines, result)


def test_an_order_discount_is_spread_by_what_lines_cost_after_product_discounts():
    item = promo("item", K.ITEM_AMOUNT, target=on("A"), amount=500)
    order = promo("order", K.ORDER_AMOUNT, stacking=ORDER, amount=1000)
    result = run([line("A", 1000), line("B", 1500)], [item, order])
    # remaining 5.00 and 15.00: the 10.00 splits 2.50 / 7.50
    assert [[(a.source, a.amount) for a in x.adjustments] for x in result.lines] == [
        [("item", 500), ("order", 250)],
        [("order", 750)],
    ]


def test_a_bundle_saving_is_spread_over_its_units_by_value():
    p = promo("p", K.BUNDLE, target=on("A", "B"), bundle_quantity=2, price=1000)
    result = run([line("A", 900), line("B", 300)], [p])
    assert line_discounts(result) == [150, 50]  # 2.00 saved on 9.00 + 3.00


def test_a_weighed_line_is_one_unit():
    lines = [line("HAM", 2599, 437, weighed=True)]  # 437 g at 25.99/kg = 11.35
    result = run(lines, [promo("p", K.ITEM_PERCENT, target=on("HAM"), percent=10)])
    assert result.lines[0].unit_discounts == (114,)  # 10 % of 11.35 = 1.135
    check_invariants(lines, result)


def test_lines_are_answered_in_the_order_given():
    lines = [line("Z", 100), line("A", 200), line("M", 300)]
    result = run(lines, [promo("p", K.ITEM_AMOUNT, target=EVERYTHING, amount=50)])
    assert [x.key for x in result.lines] == ["0", "1", "2"]


def test_line_order_does_not_change_any_discount():
    promotions = [
        promo("bogo", K.BUY_X_GET_Y, target=on("A", "B"), buy_quantity=1, get_quantity=1),
        promo("pct", K.ITEM_PERCENT, target=EVERYTHING, percent=15),
        promo("order", K.ORDER_PERCENT, stacking=ORDER, percent=5),
    ]
    lines = [line("A", 1000, 3), line("B", 999), line("C", 450, 2), line("A", 1000)]
    first = run(lines, promotions)
    for seed in range(5):
        shuffled = list(enumerate(lines))
        random.Random(seed).shuffle(shuffled)
        again = run([x for _, x in shuffled], promotions)
        by_content = {
            (x.variant_id, x.amount, x.quantity): d
            for x, d in zip(lines, line_discounts(first), strict=True)
        }
        assert total(again) == total(first)
        for (_, x), d in zip(shuffled, line_discounts(again), strict=True):
            assert by_content[(x.variant_id, x.amount, x.quantity)] == d


VARIANTS = ["A", "B", "C", "D"]
cart_lines = st.lists(
    st.one_of(
        st.builds(
            line,
            st.sampled_from(VARIANTS),
            st.integers(0, 5000),
            st.integers(0, 6),
            categories=st.sets(st.sampled_from(["x", "y"]), max_size=2),
        ),
        st.builds(
            line,
            st.sampled_from(VARIANTS),
            st.integers(1, 5000),
            st.integers(1, 3000),
            weighed=st.just(True),
        ),
    ),
    min_size=1,
    max_size=6,
)


def _target(draw: st.DrawFn) -> Target:
    if draw(st.booleans()):
        return Target(all_items=True)
    if draw(st.booleans()):
        return Target(category_ids=frozenset({draw(st.sampled_from(["x", "y"]))}))
    return on(*draw(st.sets(st.sampled_from(VARIANTS), min_size=1)))


@st.composite
def promotions(draw: st.DrawFn) -> list:
    found = []
    for i in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(list(K)))
        pid, target = f"p{i}", _target(draw)
        percent = Decimal(draw(st.integers(1, 100)))
        amount = draw(st.integers(1, 3000))
        cap = draw(st.one_of(st.none(), st.integers(1, 3)))
        stacking = draw(st.sampled_from(list(StackingClass)))
        if kind in {K.ORDER_PERCENT, K.ORDER_AMOUNT, K.SPEND_TIERS}:
            stacking = draw(st.sampled_from([ORDER, StackingClass.EXCLUSIVE]))
        fields: dict = {
            K.ITEM_PERCENT: {"percent": percent, "max_applications": cap},
            K.ITEM_AMOUNT: {"amount": amount, "max_applications": cap},
            K.FIXED_PRICE: {"price": amount, "max_applications": cap},
            K.QUANTITY_TIERS: {"tiers": (Tier(2, percent=percent),)},
            K.BUY_X_GET_Y: {
                "buy_quantity": draw(st.integers(1, 3)),
                "get_quantity": draw(st.integers(1, 2)),
                "get_percent": percent,
                "max_applications": cap,
                "get_target": draw(st.one_of(st.none(), st.just(on("C", "D")))),
            },
            K.BUNDLE: {"bundle_quantity": draw(st.integers(2, 3)), "price": amount},
            K.ORDER_PERCENT: {"percent": percent},
            K.ORDER_AMOUNT: {"amount": amount, "min_spend": draw(st.sampled_from([None, 2000]))},
            K.SPEND_TIERS: {"tiers": (Tier(1000, amount=amount), Tier(4000, percent=percent))},
            K.FREE_GIFT: {"gift_variant_id": "D", "min_spend": draw(st.integers(0, 3000))},
        }[kind]
        found.append(promo(pid, kind, target=target, stacking=stacking, priority=i % 2, **fields))
    return found


@settings(max_examples=150, deadline=None)
@given(lines=cart_lines, chosen=promotions(), seed=st.integers(0, 1000))
def test_any_cart_keeps_every_allocation_invariant(lines, chosen, seed):
    result = run(lines, chosen)
    check_invariants(lines, result)
    assert run(lines, chosen) == result  # deterministic
    shuffled = list(lines)
    random.Random(seed).shuffle(shuffled)
    assert total(run(shuffled, chosen)) == total(result)

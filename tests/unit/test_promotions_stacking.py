"""How promotions combine: one product promotion per unit, order promotions on what remains,
exclusive promotions alone, and the combination best for the customer."""

from __future__ import annotations

from decimal import Decimal

import pytest

from omnitill.domain.promotions import search
from omnitill.domain.promotions.model import RuleKind, StackingClass, Target, Tier
from tests.unit.test_promotions_builders import (
    applied,
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
EXCLUSIVE = StackingClass.EXCLUSIVE
EVERYTHING = Target(all_items=True)


@pytest.fixture(params=["exact", "heuristic"])
def solver(request, monkeypatch):
    """Run a test with the exact search, and again with the heuristic alone."""
    if request.param == "heuristic":
        monkeypatch.setattr(search, "EXACT_LIMIT", 0)
    return request.param


def test_a_unit_takes_only_the_better_of_two_product_promotions():
    ten = promo("ten", K.ITEM_PERCENT, target=on("A"), percent=10)
    twenty = promo("twenty", K.ITEM_PERCENT, target=on("A"), percent=20)
    assert applied(run([line("A", 1000)], [ten, twenty])) == {"twenty": 200}


def test_each_line_takes_the_simple_promotion_best_for_it():
    # 20 % is better on the 100.00 item, 5.00 off better on the 10.00 one; applying either
    # promotion to both items (10.00 + ... or 22.00) would leave money on the table.
    pct = promo("pct", K.ITEM_PERCENT, target=on("A", "B"), percent=20)
    off = promo("off", K.ITEM_AMOUNT, target=on("A", "B"), amount=500)
    result = run([line("A", 10000), line("B", 1000)], [pct, off])
    assert applied(result) == {"pct": 2000, "off": 500}


def test_best_combination_beats_greedy(solver):
    # Greedy by size takes the 50 % bundle (10.00); 8.00 off each item is 16.00.
    half = promo("half", K.BUNDLE, target=on("A", "B"), bundle_quantity=2, price=1000)
    off_a = promo("off-a", K.ITEM_AMOUNT, target=on("A"), amount=800)
    off_b = promo("off-b", K.ITEM_AMOUNT, target=on("B"), amount=800)
    result = run([line("A", 1000), line("B", 1000)], [half, off_a, off_b])
    assert applied(result) == {"off-a": 800, "off-b": 800}


def test_best_combination_beats_greedy_among_deals(solver):
    # All three compete for units as deals (capped at one unit each).
    half = promo("half", K.ITEM_PERCENT, target=on("A", "B"), percent=50, max_applications=2)
    off_a = promo("off-a", K.ITEM_AMOUNT, target=on("A"), amount=800, max_applications=1)
    off_b = promo("off-b", K.ITEM_AMOUNT, target=on("B"), amount=800, max_applications=1)
    result = run([line("A", 1000), line("B", 1000)], [half, off_a, off_b])
    assert total(result) == 1600


def test_local_improvement_undoes_a_greedy_first_pick(solver):
    # Per unit, 9.00 off A looks best, but it breaks the pair that saves 16.00.
    pair = promo("pair", K.BUNDLE, target=on("A", "B"), bundle_quantity=2, price=400)
    off_a = promo("off-a", K.ITEM_AMOUNT, target=on("A"), amount=900, max_applications=1)
    result = run([line("A", 1000), line("B", 1000)], [pair, off_a])
    assert applied(result) == {"pair": 1600}


def test_buy_one_get_one_beats_a_percent_when_it_saves_more(solver):
    bogo = promo("bogo", K.BUY_X_GET_Y, target=on("A"), buy_quantity=1, get_quantity=1)
    pct = promo("pct", K.ITEM_PERCENT, target=EVERYTHING, percent=20)
    result = run([line("A", 1000, 2), line("B", 1000)], [bogo, pct])
    assert applied(result) == {"bogo": 1000, "pct": 200}
    assert line_discounts(result) == [1000, 200]


def test_a_percent_beats_buy_two_get_one_when_it_saves_more(solver):
    b2g1 = promo("b2g1", K.BUY_X_GET_Y, target=on("A"), buy_quantity=2, get_quantity=1)
    pct = promo("pct", K.ITEM_PERCENT, target=on("A"), percent=40)
    assert applied(run([line("A", 1000, 3)], [b2g1, pct])) == {"pct": 1200}


def test_order_promotions_combine_in_priority_order_each_on_the_remainder():
    pct = promo("pct", K.ORDER_PERCENT, stacking=ORDER, percent=10, priority=2)
    off = promo("off", K.ORDER_AMOUNT, stacking=ORDER, amount=500, priority=1)
    assert applied(run([line("A", 10000)], [pct, off])) == {"pct": 1000, "off": 500}
    off_first = promo("off", K.ORDER_AMOUNT, stacking=ORDER, amount=500, priority=3)
    assert applied(run([line("A", 10000)], [pct, off_first])) == {"off": 500, "pct": 950}


def test_an_exclusive_promotion_wins_when_it_beats_the_combination():
    item = promo("item", K.ITEM_PERCENT, target=on("A"), percent=10)
    order = promo("order", K.ORDER_PERCENT, stacking=ORDER, percent=10)
    vip = promo("vip", K.ORDER_PERCENT, stacking=EXCLUSIVE, percent=25)
    assert applied(run([line("A", 10000)], [item, order, vip])) == {"vip": 2500}


def test_an_exclusive_promotion_loses_to_a_better_combination():
    item = promo("item", K.ITEM_PERCENT, target=on("A"), percent=20)
    order = promo("order", K.ORDER_PERCENT, stacking=ORDER, percent=10)
    vip = promo("vip", K.ORDER_PERCENT, stacking=EXCLUSIVE, percent=25)
    # 20.00 + 10 % of 80.00 = 28.00 beats 25.00
    assert applied(run([line("A", 10000)], [item, order, vip])) == {"item": 2000, "order": 800}


def test_an_exclusive_tie_keeps_the_combination():
    item = promo("item", K.ITEM_PERCENT, target=on("A"), percent=25)
    vip = promo("vip", K.ORDER_PERCENT, stacking=EXCLUSIVE, percent=25)
    assert applied(run([line("A", 10000)], [item, vip])) == {"item": 2500}


def test_equal_discounts_go_to_the_higher_priority_then_the_lower_id():
    a = promo("a", K.ITEM_AMOUNT, target=on("A"), amount=100)
    b = promo("b", K.ITEM_AMOUNT, target=on("A"), amount=100)
    assert applied(run([line("A", 1000)], [b, a])) == {"a": 100}
    b_first = promo("b", K.ITEM_AMOUNT, target=on("A"), amount=100, priority=5)
    assert applied(run([line("A", 1000)], [a, b_first])) == {"b": 100}


def test_equal_deals_go_to_the_higher_priority(solver):
    x = promo("x", K.BUNDLE, target=on("A"), bundle_quantity=2, price=1000)
    y = promo("y", K.BUNDLE, target=on("A"), bundle_quantity=2, price=1000, priority=1)
    assert applied(run([line("A", 1000, 2)], [x, y])) == {"y": 1000}


def test_a_deal_is_dropped_when_it_would_lose_a_spend_threshold():
    # 10.00 off A takes the order to 95.00, under the 100.00 needed for 20.00 off.
    deal = promo("deal", K.ITEM_AMOUNT, target=on("A"), amount=1000, max_applications=1)
    spend = promo("spend", K.ORDER_AMOUNT, stacking=ORDER, amount=2000, min_spend=10000)
    assert applied(run([line("A", 6000), line("B", 4500)], [deal, spend])) == {"spend": 2000}


def test_spend_tiers_on_some_items_only_see_those_items():
    tiers = (Tier(5000, percent=Decimal(10)),)
    shoes = Target(category_ids=frozenset({"shoes"}))
    p = promo("p", K.SPEND_TIERS, stacking=ORDER, tiers=tiers, target=shoes)
    lines = [line("A", 6000, categories={"shoes"}), line("B", 6000)]
    assert line_discounts(run(lines, [p])) == [600, 0]


def test_many_deals_on_separate_items_are_each_solved_exactly():
    promotions = [
        promo(f"b{i}", K.BUNDLE, target=on(f"V{i}"), bundle_quantity=2, price=1000)
        for i in range(12)
    ]
    lines = [line(f"V{i}", 700, 2) for i in range(12)]
    result = run(lines, promotions)
    assert total(result) == 12 * 400
    check_invariants(lines, result)


def test_many_overlapping_deals_fall_back_to_the_heuristic():
    promotions = [
        promo(f"d{i:02}", K.ITEM_AMOUNT, target=EVERYTHING, amount=100 + i, max_applications=1)
        for i in range(12)
    ]
    lines = [line("A", 1000, 3)]
    result = run(lines, promotions)
    assert applied(result) == {"d11": 111, "d10": 110, "d09": 109}
    check_invariants(lines, result)


def test_an_order_promotion_on_some_items_can_favour_a_smaller_product_discount():
    # 10.00 off A leaves 10.00 for half off category x (5.00): 15.00. The pair saves 9.00
    # (4.50 on each line), leaving 15.50 on A for half off: 7.75; 16.75 in all.
    off_a = promo("off-a", K.ITEM_AMOUNT, target=on("A"), amount=1000, max_applications=1)
    pair = promo("pair", K.BUNDLE, target=on("A", "B"), bundle_quantity=2, price=3100)
    half = promo(
        "half",
        K.ORDER_PERCENT,
        stacking=ORDER,
        percent=50,
        target=Target(category_ids=frozenset({"x"})),
    )
    result = run([line("A", 2000, categories={"x"}), line("B", 2000)], [off_a, pair, half])
    assert applied(result) == {"pair": 900, "half": 775}

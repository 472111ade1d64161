"""Every rule kind, one promotion at a time (amounts in cents)."""

from __future__ import annotations

from decimal import Decimal

from omnitill.domain.pricing.cart import GiftOffer
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


def test_item_percent_rounds_once_per_promotion():
    lines = [line("A", 999, 2)]
    result = run(lines, [promo("p", K.ITEM_PERCENT, target=on("A"), percent=15)])
    assert total(result) == 300  # 15 % of 19.98 = 2.997
    assert result.lines[0].unit_discounts == (150, 150)
    check_invariants(lines, result)


def test_item_percent_on_three_lines_is_spread_by_value():
    lines = [line("A", 333), line("B", 333), line("C", 334)]
    result = run(lines, [promo("p", K.ITEM_PERCENT, target=Target(all_items=True), percent=50)])
    assert total(result) == 500
    assert line_discounts(result) == [167, 166, 167]  # 166.5, 166.5, 167: the tie goes first
    check_invariants(lines, result)


def test_item_amount_comes_off_every_unit():
    result = run([line("A", 1000, 3)], [promo("p", K.ITEM_AMOUNT, target=on("A"), amount=200)])
    assert result.lines[0].unit_discounts == (200, 200, 200)


def test_item_amount_never_takes_a_unit_below_zero():
    result = run([line("A", 300, 2)], [promo("p", K.ITEM_AMOUNT, target=on("A"), amount=500)])
    assert result.lines[0].unit_discounts == (300, 300)


def test_item_amount_takes_its_amount_once_off_a_weighed_line():
    lines = [line("APPLES", 400, 750, weighed=True)]  # 750 g at 4.00/kg = 3.00
    result = run(lines, [promo("p", K.ITEM_AMOUNT, target=on("APPLES"), amount=50)])
    assert result.lines[0].unit_discounts == (50,)


def test_fixed_price_sells_each_unit_at_the_price():
    result = run([line("A", 1000, 2)], [promo("p", K.FIXED_PRICE, target=on("A"), price=700)])
    assert result.lines[0].unit_discounts == (300, 300)


def test_fixed_price_above_the_unit_price_does_nothing():
    result = run([line("A", 500)], [promo("p", K.FIXED_PRICE, target=on("A"), price=700)])
    assert total(result) == 0
    assert result.applied == ()


def test_fixed_price_on_a_weighed_line_is_a_price_per_kg():
    lines = [line("BANANAS", 400, 750, weighed=True)]  # 3.00 at 4.00/kg
    result = run(lines, [promo("p", K.FIXED_PRICE, target=on("BANANAS"), price=200)])
    assert total(result) == 150  # 750 g at 2.00/kg = 1.50


def test_quantity_tiers_take_the_deepest_tier_reached_off_every_unit():
    tiers = (Tier(3, percent=Decimal(10)), Tier(5, percent=Decimal(20)))
    p = promo("p", K.QUANTITY_TIERS, target=on("A"), tiers=tiers)
    assert total(run([line("A", 1000, 2)], [p])) == 0
    assert total(run([line("A", 1000, 4)], [p])) == 400
    assert total(run([line("A", 1000, 5)], [p])) == 1000


def test_quantity_tiers_count_a_weighed_line_as_one_unit():
    tiers = (Tier(2, percent=Decimal(10)),)
    p = promo("p", K.QUANTITY_TIERS, target=on("CHEESE"), tiers=tiers)
    assert total(run([line("CHEESE", 2000, 1500, weighed=True)], [p])) == 0
    two = [line("CHEESE", 2000, 1500, weighed=True), line("CHEESE", 2000, 500, weighed=True)]
    assert total(run(two, [p])) == 400  # 10 % of 30.00 + 10.00


def test_buy_one_get_one_groups_from_the_dearest_down():
    p = promo("p", K.BUY_X_GET_Y, target=on("A", "B", "C"), buy_quantity=1, get_quantity=1)
    # 10.00 and 8.00 pair up, 2.00 is left over: the 8.00 is free
    result = run([line("A", 1000), line("B", 800), line("C", 200)], [p])
    assert line_discounts(result) == [0, 800, 0]


def test_buy_two_get_one_discounts_the_cheapest_of_each_group():
    p = promo("p", K.BUY_X_GET_Y, target=on("A"), buy_quantity=2, get_quantity=1)
    lines = [line("A", 1000, 2), line("A", 600, 2), line("A", 100, 2)]
    result = run(lines, [p])
    assert total(result) == 600 + 100  # groups (10, 10, 6) and (6, 1, 1)
    check_invariants(lines, result)


def test_buy_x_get_y_at_a_percent_off():
    p = promo("p", K.BUY_X_GET_Y, target=on("A"), buy_quantity=1, get_quantity=1, get_percent=50)
    assert total(run([line("A", 1000, 2)], [p])) == 500


def test_buy_x_get_y_needs_the_whole_group():
    p = promo("p", K.BUY_X_GET_Y, target=on("A"), buy_quantity=2, get_quantity=1)
    assert total(run([line("A", 1000, 2)], [p])) == 0
    assert total(run([line("A", 1000, 5)], [p])) == 1000


def test_buy_x_get_y_repeats_up_to_max_applications():
    p = promo(
        "p",
        K.BUY_X_GET_Y,
        target=on("A"),
        buy_quantity=1,
        get_quantity=1,
        max_applications=2,
    )
    assert total(run([line("A", 1000, 6)], [p])) == 2000


def test_buy_shirts_get_the_cheapest_tie_free():
    p = promo(
        "p",
        K.BUY_X_GET_Y,
        target=Target(category_ids=frozenset({"shirts"})),
        get_target=Target(category_ids=frozenset({"ties"})),
        buy_quantity=2,
        get_quantity=1,
    )
    lines = [
        line("SHIRT", 3000, 2, categories={"shirts"}),
        line("TIE-SILK", 1500, categories={"ties"}),
        line("TIE-WOOL", 1000, categories={"ties"}),
    ]
    result = run(lines, [p])
    assert line_discounts(result) == [0, 0, 1000]
    assert run(lines[1:], [p]).applied == ()  # no shirts bought, no tie free


def test_bundle_prices_any_three_targeted_units_together():
    p = promo("p", K.BUNDLE, target=on("A", "B"), bundle_quantity=3, price=1000)
    lines = [line("A", 400, 2), line("B", 400, 2)]
    result = run(lines, [p])
    assert total(result) == 200  # one bundle of 12.00 for 10.00; one unit left at full price
    check_invariants(lines, result)


def test_bundle_applies_only_when_it_is_cheaper():
    p = promo("p", K.BUNDLE, target=on("A"), bundle_quantity=3, price=1000)
    assert total(run([line("A", 300, 3)], [p])) == 0


def test_bundle_groups_the_dearest_units_first():
    p = promo("p", K.BUNDLE, target=on("A", "B"), bundle_quantity=3, price=1200)
    result = run([line("A", 500, 3), line("B", 100, 3)], [p])
    assert line_discounts(result) == [300, 0]  # (5, 5, 5) for 12; (1, 1, 1) costs less


def test_bundle_repeats_up_to_max_applications():
    p = promo("p", K.BUNDLE, target=on("A"), bundle_quantity=2, price=1000, max_applications=2)
    assert total(run([line("A", 1000, 6)], [p])) == 2000


def test_order_percent_applies_to_what_product_discounts_leave():
    item = promo("item", K.ITEM_AMOUNT, target=on("A"), amount=1000)
    order = promo("order", K.ORDER_PERCENT, stacking=ORDER, percent=10)
    result = run([line("A", 5000), line("B", 5000)], [item, order])
    assert applied(result) == {"item": 1000, "order": 900}


def test_order_amount_is_capped_at_the_order():
    p = promo("p", K.ORDER_AMOUNT, stacking=ORDER, amount=5000)
    lines = [line("A", 1000), line("B", 2000)]
    result = run(lines, [p])
    assert line_discounts(result) == [1000, 2000]


def test_order_amount_is_spread_over_lines_by_amount():
    p = promo("p", K.ORDER_AMOUNT, stacking=ORDER, amount=1000)
    result = run([line("A", 1000), line("B", 2000)], [p])
    assert line_discounts(result) == [333, 667]


def test_spend_tiers_take_the_highest_threshold_reached():
    tiers = (Tier(5000, amount=500), Tier(10000, amount=1500))
    p = promo("p", K.SPEND_TIERS, stacking=ORDER, tiers=tiers)
    assert total(run([line("A", 4999)], [p])) == 0
    assert total(run([line("A", 6000)], [p])) == 500
    assert total(run([line("A", 12000)], [p])) == 1500


def test_spend_tiers_measure_the_subtotal_after_product_discounts():
    tiers = (Tier(5000, percent=Decimal(5)), Tier(10000, percent=Decimal(10)))
    spend = promo("spend", K.SPEND_TIERS, stacking=ORDER, tiers=tiers)
    item = promo("item", K.ITEM_PERCENT, target=on("A"), percent=20)
    result = run([line("A", 11000)], [spend, item])
    # 110.00 less 20 % is 88.00: the 5 % tier, 4.40
    assert applied(result) == {"item": 2200, "spend": 440}


def test_free_gift_in_the_cart_becomes_free_once_the_spend_is_reached():
    gift = promo("gift", K.FREE_GIFT, gift_variant_id="TOTE", min_spend=5000)
    lines = [line("A", 5000), line("TOTE", 500, 2)]
    result = run(lines, [gift])
    assert line_discounts(result) == [0, 500]
    assert result.lines[1].unit_discounts == (500, 0)


def test_free_gift_does_not_count_towards_its_own_spend():
    gift = promo("gift", K.FREE_GIFT, gift_variant_id="TOTE", min_spend=5000)
    assert total(run([line("A", 4900), line("TOTE", 500)], [gift])) == 0


def test_free_gift_not_in_the_cart_is_offered():
    gift = promo("gift", K.FREE_GIFT, gift_variant_id="TOTE", min_spend=5000)
    result = run([line("A", 6000)], [gift])
    assert result.gift_offers == (GiftOffer("gift", "TOTE"),)
    assert total(result) == 0
    assert run([line("A", 4000)], [gift]).gift_offers == ()


def test_targets_match_by_category_collection_and_brand():
    lines = [
        line("A", 1000, categories={"shoes", "apparel"}),
        line("B", 1000, collections={"summer"}),
        line("C", 1000, brand="acme"),
        line("D", 1000),
    ]
    promotions = [
        promo(
            "cat", K.ITEM_PERCENT, target=Target(category_ids=frozenset({"apparel"})), percent=10
        ),
        promo(
            "col", K.ITEM_PERCENT, target=Target(collection_ids=frozenset({"summer"})), percent=20
        ),
        promo("brand", K.ITEM_PERCENT, target=Target(brand_ids=frozenset({"acme"})), percent=30),
    ]
    assert line_discounts(run(lines, promotions)) == [100, 200, 300, 0]


def test_item_rule_stacked_as_order_discounts_what_remains():
    first = promo("first", K.ITEM_PERCENT, target=on("A"), percent=50)
    then = promo("then", K.ITEM_PERCENT, target=on("A"), percent=10, stacking=ORDER)
    assert applied(run([line("A", 1000)], [first, then])) == {"first": 500, "then": 50}


def test_max_applications_caps_the_units_an_item_rule_discounts():
    p = promo("p", K.ITEM_AMOUNT, target=on("A", "B"), amount=300, max_applications=2)
    result = run([line("A", 1000, 2), line("B", 200, 2)], [p])
    assert line_discounts(result) == [600, 0]

"""Entered coupon codes: every answer the register can get, with its reason and sentence."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from omnitill.domain.promotions.model import (
    Coupon,
    CouponRefusal,
    RuleKind,
    StackingClass,
    TimeWindow,
    Usage,
)
from tests.unit.test_promotions_builders import applied, line, on, promo, run, total

R = CouponRefusal
K = RuleKind
CART = [line("A", 3000)]
LATER = datetime(2026, 6, 1, tzinfo=UTC)
EARLIER = datetime(2026, 1, 1, tzinfo=UTC)


def coupon_promo(**fields: object):
    values = {"kind": K.ITEM_PERCENT, "target": on("A"), "percent": 10, "requires_coupon": True}
    values.update(fields)
    return promo("save10", **values)


def answer(promotions=None, code="SAVE10", coupon=None, lines=CART, **kwargs):
    promotions = [coupon_promo()] if promotions is None else promotions
    coupon = coupon or Coupon("SAVE10", "save10")
    result = run(lines, promotions, codes=[code], coupons=[coupon], **kwargs)
    return result, result.coupons[0]


def test_a_valid_code_applies_and_is_named_on_the_lines():
    result, got = answer()
    assert got.accepted
    assert got.refusal is None
    assert got.error_code is None
    assert got.message == "Coupon SAVE10 applied: SAVE10."
    assert result.lines[0].adjustments[0].coupon == "SAVE10"
    assert result.applied[0].coupon == "SAVE10"


def test_codes_match_without_case_spaces_or_hyphens():
    result, got = answer(code=" save-10 ")
    assert got.accepted
    assert total(result) == 300
    assert got.code == " save-10 "  # answered as entered


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ({"code": "NOPE"}, R.UNKNOWN),
        ({"coupon": Coupon("SAVE10", "gone")}, R.UNKNOWN),
        ({"coupon": Coupon("SAVE10", "save10", ends_at=EARLIER)}, R.EXPIRED),
        ({"promotions": [coupon_promo(ends_at=EARLIER)]}, R.EXPIRED),
        ({"coupon": Coupon("SAVE10", "save10", starts_at=LATER)}, R.NOT_YET_VALID),
        ({"promotions": [coupon_promo(starts_at=LATER)]}, R.NOT_YET_VALID),
        ({"coupon": Coupon("SAVE10", "save10", active=False)}, R.INACTIVE),
        ({"promotions": [coupon_promo(active=False)]}, R.INACTIVE),
        ({"promotions": [coupon_promo(min_spend=5000)]}, R.MINIMUM_SPEND),
        (
            {"promotions": [coupon_promo(usage_limit=10)], "usage": {"save10": Usage(total=10)}},
            R.USAGE_LIMIT,
        ),
        (
            {"coupon": Coupon("SAVE10", "save10", single_use=False, uses=50, usage_limit=50)},
            R.USAGE_LIMIT,
        ),
        ({"coupon": Coupon("SAVE10", "save10", uses=1)}, R.ALREADY_USED),
        (
            {
                "promotions": [coupon_promo(per_customer_limit=2)],
                "usage": {"save10": Usage(by_customer=2)},
                "customer_id": "c1",
            },
            R.CUSTOMER_LIMIT,
        ),
        ({"promotions": [coupon_promo(channels=frozenset({"web"}))]}, R.CHANNEL),
        ({"promotions": [coupon_promo(locations=frozenset({"S09"}))]}, R.LOCATION),
        ({"promotions": [coupon_promo(customer_groups=frozenset({"vip"}))]}, R.CUSTOMER),
        (
            {"promotions": [coupon_promo(kind=K.ITEM_AMOUNT, percent=None, amount=500)]},
            None,
        ),
        (
            {
                "promotions": [
                    coupon_promo(kind=K.ITEM_AMOUNT, percent=None, amount=500, currency="EUR")
                ]
            },
            R.CURRENCY,
        ),
        ({"lines": [line("B", 3000)]}, R.NOT_APPLICABLE),
        (
            {"promotions": [coupon_promo(hours=(TimeWindow(frozenset({0}), time(8), time(9)),))]},
            R.OUTSIDE_HOURS,
        ),
    ],
)
def test_each_refusal_names_its_reason(case, expected):
    _, got = answer(**case)
    assert got.refusal is expected
    assert got.accepted is (expected is None)
    if expected is not None:
        assert got.error_code == f"promotion.coupon_{expected.value}"
        assert got.message.startswith("Coupon SAVE10") or got.message.startswith("Coupon NOPE")
        assert got.message.endswith(".")


def test_minimum_spend_sentence_names_the_amount():
    _, got = answer(promotions=[coupon_promo(min_spend=5000)])
    assert got.message == "Coupon SAVE10 needs a spend of at least 50.00 USD on eligible items."


def test_a_per_customer_code_without_a_customer_asks_for_one():
    _, got = answer(promotions=[coupon_promo(per_customer_limit=1)])
    assert got.refusal is R.CUSTOMER
    assert "add the customer" in got.message


def test_a_buy_x_get_y_code_without_enough_units_has_no_eligible_items():
    bogo = coupon_promo(kind=K.BUY_X_GET_Y, percent=None, buy_quantity=1, get_quantity=1)
    _, got = answer(promotions=[bogo])
    assert got.refusal is R.NOT_APPLICABLE


def test_a_valid_code_that_loses_to_a_better_promotion_says_so():
    better = promo("half", K.ITEM_PERCENT, target=on("A"), percent=50)
    result, got = answer(promotions=[coupon_promo(), better])
    assert got.refusal is R.NOT_BEST
    assert got.message == (
        "Coupon SAVE10 was not applied: a better promotion gives the customer more."
    )
    assert applied(result) == {"half": 1500}


def test_a_code_that_loses_to_an_exclusive_promotion_says_so():
    order_code = coupon_promo(
        kind=K.ORDER_AMOUNT, percent=None, amount=100, stacking=StackingClass.ORDER
    )
    exclusive = promo(
        "clearance",
        K.ITEM_PERCENT,
        target=on("A"),
        percent=70,
        stacking=StackingClass.EXCLUSIVE,
    )
    result, got = answer(promotions=[order_code, exclusive])
    assert got.refusal is R.NOT_BEST
    assert applied(result) == {"clearance": 2100}


def test_an_order_code_below_its_spend_after_product_discounts_is_refused_for_spend():
    order_code = coupon_promo(
        kind=K.ORDER_AMOUNT,
        percent=None,
        amount=500,
        stacking=StackingClass.ORDER,
        min_spend=2900,
    )
    item = promo("item", K.ITEM_AMOUNT, target=on("A"), amount=200)
    _, got = answer(promotions=[order_code, item])
    assert got.refusal is R.MINIMUM_SPEND


def test_the_same_code_entered_twice_counts_once():
    result = run(
        CART,
        [coupon_promo()],
        codes=["SAVE10", "save10"],
        coupons=[Coupon("SAVE10", "save10", single_use=False)],
    )
    first, second = result.coupons
    assert first.accepted
    assert second.refusal is R.ALREADY_USED
    assert second.message == "Coupon save10 was already entered on this sale."
    assert total(result) == 300


def test_two_codes_for_one_promotion_apply_it_once():
    result = run(
        CART,
        [coupon_promo()],
        codes=["AAA", "BBB"],
        coupons=[Coupon("AAA", "save10"), Coupon("BBB", "save10")],
    )
    assert [c.accepted for c in result.coupons] == [True, False]
    assert result.coupons[1].refusal is R.ALREADY_USED
    assert total(result) == 300


def test_a_code_for_a_free_gift_not_in_the_cart_offers_the_gift():
    gift = coupon_promo(
        kind=K.FREE_GIFT, percent=None, target=on("A"), gift_variant_id="TOTE", min_spend=1000
    )
    result, got = answer(promotions=[gift])
    assert got.accepted
    assert "add TOTE" in got.message
    assert [g.variant_id for g in result.gift_offers] == ["TOTE"]

"""The pricing engine: weighed goods, manual discounts, promotions wiring, tax and totals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from omnitill.domain.errors import ValidationFailed
from omnitill.domain.pricing import engine
from omnitill.domain.pricing.cart import (
    Adjustment,
    AppliedPromotion,
    CartLine,
    CouponResult,
    DiscountKind,
    ManualDiscount,
    PricedCart,
    PricingContext,
    PricingInput,
)
from omnitill.domain.pricing.engine import price
from omnitill.domain.pricing.model import PriceBook
from omnitill.domain.promotions.engine import LineAdjustments, PromotionInput, PromotionResult
from omnitill.domain.promotions.index import PromotionCatalog
from omnitill.domain.promotions.model import (
    CouponRefusal,
    Promotion,
    RuleKind,
    StackingClass,
    Target,
)
from omnitill.domain.tax.model import Jurisdiction, TaxComponent

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
NYC = Jurisdiction(
    "US-NY-NYC",
    "New York City",
    (
        TaxComponent("US-NY", "New York State", {"standard": Decimal("0.04")}),
        TaxComponent("US-NY-NYC", "New York City", {"standard": Decimal("0.045")}),
        TaxComponent("US-NY-MCTD", "MCTD", {"standard": Decimal("0.00375")}),
    ),
    exempt_channels=frozenset({"b2b_export"}),
)
DE = Jurisdiction(
    "DE",
    "Germany",
    (TaxComponent("DE-VAT", "MwSt", {"standard": Decimal("0.19"), "reduced": Decimal("0.07")}),),
    inclusive=True,
)


def line(key: str = "0", quantity: int = 1, base_price: int = 1000, **kw) -> CartLine:
    return CartLine(
        key=key,
        variant_id=kw.pop("variant_id", f"v{key}"),
        sku=f"SKU-{key}",
        name=f"Item {key}",
        quantity=quantity,
        base_price=base_price,
        **kw,
    )


def percent(value: str, reason: str = "why") -> ManualDiscount:
    return ManualDiscount(DiscountKind.PERCENT, Decimal(value), reason)


def amount(value: int, reason: str = "why") -> ManualDiscount:
    return ManualDiscount(DiscountKind.AMOUNT, Decimal(value), reason)


def run(*lines: CartLine, currency: str = "USD", **kw) -> PricedCart:
    context = PricingContext(
        currency=currency,
        channel=kw.pop("channel", "in_store"),
        at=kw.pop("at", NOW),
        timezone=kw.pop("timezone", "America/New_York"),
    )
    return price(
        PricingInput(
            context=context,
            lines=lines,
            book=kw.pop("book", PriceBook(currency)),
            **kw,
        )
    )


def test_a_weighed_item_costs_price_per_kg_times_grams_rounded_half_up():
    cart = run(
        line("0", 1250, 199, sold_by_weight=True),  # 2.4875
        line("1", 500, 1299, sold_by_weight=True),  # 6.495
        line("2", 2, 199, sold_by_weight=True),  # 0.398 cent
    )
    assert [x.subtotal for x in cart.lines] == [249, 650, 0]
    assert [x.unit_discounts for x in cart.lines] == [(0,), (0,), (0,)]
    assert [x.unit_price for x in cart.lines] == [199, 1299, 199]


def test_a_manual_line_percent_rounds_half_up_and_is_recorded_with_its_reason():
    (priced,) = run(line(quantity=3, base_price=333, manual_discount=percent("15", "dented"))).lines
    # 999 x 15 % = 149.85 -> 150
    assert (priced.subtotal, priced.discount_total, priced.net) == (999, 150, 849)
    assert priced.adjustments == (Adjustment("manual", "Line discount", 150, reason="dented"),)
    assert priced.unit_discounts == (50, 50, 50)


def test_a_manual_line_amount_is_capped_at_the_line():
    (priced,) = run(line(quantity=2, base_price=300, manual_discount=amount(1000))).lines
    assert (priced.discount_total, priced.net, priced.total) == (600, 0, 0)
    assert priced.unit_discounts == (300, 300)


def test_a_weighed_line_discount_is_one_unit_discount():
    (priced,) = run(
        line(quantity=500, base_price=1299, sold_by_weight=True, manual_discount=percent("50"))
    ).lines
    assert (priced.subtotal, priced.discount_total, priced.unit_discounts) == (650, 325, (325,))


def test_the_order_discount_is_split_by_largest_remainder_on_what_lines_still_cost():
    cart = run(
        line("0", 1, 1000),
        line("1", 1, 1000, manual_discount=amount(500)),
        line("2", 1, 500),
        order_discount=amount(100, "loyal customer"),
    )
    # remaining 1000, 500, 500 -> 50, 25, 25
    assert [x.discount_total for x in cart.lines] == [50, 525, 25]
    assert cart.lines[0].adjustments == (
        Adjustment("manual", "Order discount", 50, reason="loyal customer"),
    )
    assert [a.name for a in cart.lines[1].adjustments] == ["Line discount", "Order discount"]
    assert cart.discount_total == 600


def test_an_order_percent_is_taken_off_the_sum_and_its_cents_go_by_largest_remainder():
    cart = run(
        line("0", 1, 333), line("1", 1, 333), line("2", 1, 334), order_discount=percent("10")
    )
    assert [x.discount_total for x in cart.lines] == [33, 33, 34]
    assert cart.discount_total == 100


def test_the_order_discount_is_capped_at_what_the_order_costs():
    cart = run(
        line("0", 1, 300, manual_discount=percent("100")),
        line("1", 2, 250),
        order_discount=amount(10_000),
    )
    assert [x.net for x in cart.lines] == [0, 0]
    assert [x.discount_total for x in cart.lines] == [300, 500]
    assert [len(x.adjustments) for x in cart.lines] == [1, 1]  # no zero adjustment on line 0
    assert cart.total == 0


def test_unit_discounts_keep_every_unit_at_or_above_zero_and_sum_to_the_discount():
    (priced,) = run(
        line(quantity=3, base_price=101, manual_discount=amount(200)),
        line("1", 1, 1),
        order_discount=amount(102),
    ).lines[:1]
    assert len(priced.unit_discounts) == 3
    assert sum(priced.unit_discounts) == priced.discount_total
    assert all(0 <= d <= 101 for d in priced.unit_discounts)


def test_exclusive_tax_is_added_to_the_net_at_the_combined_rate():
    cart = run(line("0", 1, 1013), line("1", 2, 500), jurisdiction=NYC)
    assert [(x.tax_total, x.total) for x in cart.lines] == [(90, 1103), (89, 1089)]
    assert (cart.subtotal, cart.tax_total, cart.total) == (2013, 179, 2192)
    assert sum(c.tax for c in cart.lines[0].taxes) == 90
    assert {c.code for c in cart.taxes} == {"US-NY", "US-NY-NYC", "US-NY-MCTD"}


def test_inclusive_tax_is_carved_out_and_the_customer_pays_the_net():
    (priced,) = run(line(base_price=1190), currency="EUR", jurisdiction=DE).lines
    assert (priced.net, priced.tax_total, priced.total) == (1190, 190, 1190)
    assert priced.taxes[0].taxable == 1000


def test_shipping_and_its_tax_are_in_the_total_but_not_the_subtotal():
    cart = run(line(base_price=1000), jurisdiction=NYC, shipping=500)
    # 5.00 x 8.875 % = 0.44375 -> 0.44
    assert (cart.subtotal, cart.shipping, cart.shipping_tax) == (1000, 500, 44)
    assert cart.tax_total == 89 + 44
    assert cart.total == 1089 + 544


def test_shipping_in_an_inclusive_jurisdiction_is_reported_net_of_its_tax():
    cart = run(line(base_price=1190), currency="EUR", jurisdiction=DE, shipping=490)
    # VAT in 4.90 = 0.7824 -> 0.78
    assert (cart.shipping, cart.shipping_tax) == (412, 78)
    assert cart.total == 1190 + 490


def test_untaxed_shipping_is_added_as_is():
    cart = run(line(base_price=1000), shipping=499)
    assert (cart.shipping, cart.shipping_tax, cart.tax_total, cart.total) == (499, 0, 0, 1499)


def test_an_untaxed_cart_carries_no_tax():
    cart = run(line(base_price=1000))
    assert (cart.tax_total, cart.taxes, cart.tax_exempt_reason) == (0, (), None)
    assert cart.lines[0].total == cart.lines[0].net == 1000


def test_an_exemption_certificate_removes_the_tax_and_says_why():
    cart = run(line(base_price=1000), jurisdiction=NYC, exemption_certificate="ST-119 42")
    assert (cart.tax_total, cart.total) == (0, 1000)
    assert cart.tax_exempt_reason == "exemption certificate ST-119 42"


def test_an_exempt_buyer_of_an_inclusive_price_pays_the_price_less_its_tax():
    cart = run(line(base_price=1190), currency="EUR", jurisdiction=DE, exemption_certificate="EX-1")
    (priced,) = cart.lines
    assert (priced.net, priced.tax_total, priced.total) == (1190, 0, 1000)
    assert cart.total == 1000


def test_an_exempt_channel_pays_no_tax():
    cart = run(line(base_price=1000), jurisdiction=NYC, channel="b2b_export")
    assert cart.tax_total == 0
    assert cart.tax_exempt_reason == "channel b2b_export is exempt"


def test_the_tax_date_is_the_calendar_date_in_the_locations_timezone():
    j = Jurisdiction(
        "X",
        "X",
        (
            TaxComponent("OLD", "Old", {"standard": Decimal("0.05")}, valid_to=date(2026, 12, 31)),
            TaxComponent("NEW", "New", {"standard": Decimal("0.06")}, valid_from=date(2027, 1, 1)),
        ),
    )
    new_years_eve_in_new_york = datetime(2027, 1, 1, 4, 30, tzinfo=UTC)
    ny = run(line(base_price=1000), jurisdiction=j, at=new_years_eve_in_new_york)
    london = run(
        line(base_price=1000),
        jurisdiction=j,
        at=new_years_eve_in_new_york,
        timezone="Europe/London",
    )
    assert (ny.tax_total, london.tax_total) == (50, 60)


def test_without_a_catalog_or_coupon_codes_no_promotion_runs(monkeypatch):
    def refuse(data: PromotionInput) -> PromotionResult:
        raise AssertionError("promotions should be skipped")

    monkeypatch.setattr(engine, "apply_promotions", refuse)
    cart = run(line())
    assert (cart.promotions, cart.coupons, cart.gift_offers) == ((), (), ())


def test_a_coupon_code_without_a_catalog_is_still_answered(monkeypatch):
    seen: list[PromotionInput] = []

    def unknown(data: PromotionInput) -> PromotionResult:
        seen.append(data)
        return PromotionResult(
            lines=tuple(LineAdjustments(x.key, (), (0,) * x.quantity) for x in data.lines),
            applied=(),
            coupons=(CouponResult("SAVE10", False, CouponRefusal.UNKNOWN),),
            gift_offers=(),
        )

    monkeypatch.setattr(engine, "apply_promotions", unknown)
    cart = run(line(), coupon_codes=["SAVE10"])
    assert seen[0].catalog.promotions == ()
    assert cart.coupons[0].error_code == "promotion.coupon_unknown"


def fake_promotions(per_line: dict[str, tuple[int, ...]]):
    """A stand-in promotion engine: takes `per_line[key]` off each unit of that line."""
    calls: list[PromotionInput] = []

    def apply(data: PromotionInput) -> PromotionResult:
        calls.append(data)
        lines = []
        for x in data.lines:
            units = per_line.get(x.key, ())
            adjustments = (Adjustment("promo-1", "Autumn sale", sum(units)),) if units else ()
            lines.append(LineAdjustments(x.key, adjustments, units or (0,) * x.quantity))
        total = sum(sum(u) for u in per_line.values())
        return PromotionResult(
            tuple(lines), (AppliedPromotion("promo-1", "Autumn sale", total),), (), ()
        )

    return apply, calls


def test_promotions_see_lines_after_the_manual_discount_and_the_order_discount_comes_after(
    monkeypatch,
):
    apply, calls = fake_promotions({"0": (100, 0)})
    monkeypatch.setattr(engine, "apply_promotions", apply)
    cart = run(
        line("0", 2, 500, manual_discount=amount(100), category_ids=frozenset({"mugs"})),
        line("1", 1, 400),
        order_discount=amount(120),
        promotions=PromotionCatalog.of(()),
    )
    sent = calls[0].lines[0]
    assert (sent.unit_price, sent.amount, sent.quantity, sent.category_ids) == (
        500,
        900,
        2,
        {"mugs"},
    )
    # remaining after promotions: 800 and 400 -> order discount 80 and 40
    first, second = cart.lines
    assert [a.source for a in first.adjustments] == ["manual", "promo-1", "manual"]
    assert (first.discount_total, second.discount_total) == (280, 40)
    # promotion 100 on unit 0; manual 100 on room 400/500 -> 44/56; order 80 on 356/444 -> 36/44
    assert first.unit_discounts == (180, 100)
    assert sum(first.unit_discounts) == first.discount_total
    assert cart.promotions == (AppliedPromotion("promo-1", "Autumn sale", 100),)


def test_the_same_cart_priced_twice_gives_the_same_answer():
    def once() -> PricedCart:
        return run(
            line("0", 3, 333, manual_discount=percent("12.5")),
            line("1", 750, 1299, sold_by_weight=True),
            order_discount=percent("5"),
            jurisdiction=NYC,
            shipping=799,
        )

    assert once() == once()


@pytest.mark.parametrize("timezone", ["UTC", "Asia/Kolkata", "Pacific/Chatham"])
def test_any_iana_timezone_is_accepted(timezone):
    assert run(line(), jurisdiction=NYC, timezone=timezone).total == 1089


def test_reordering_lines_never_moves_an_order_discount_cent_to_another_tax_rate():
    """Two lines at 10.09, one taxed and one not; a 0.01 order discount splits 0.005 / 0.005.
    Whichever line the register numbers first, the cent goes to the same one, because taxed
    10.08 pays 0.89 and taxed 10.09 pays 0.90."""
    taxed = line("0", 1, 1009, variant_id="mug")
    untaxed = line("1", 1, 1009, variant_id="book", tax_class="zero")
    one_way = run(taxed, untaxed, jurisdiction=NYC, order_discount=amount(1))
    flipped = run(
        line("0", 1, 1009, variant_id="book", tax_class="zero"),
        line("1", 1, 1009, variant_id="mug"),
        jurisdiction=NYC,
        order_discount=amount(1),
    )
    assert one_way.total == flipped.total
    assert one_way.tax_total == flipped.tax_total


def test_an_unknown_coupon_without_a_catalog_is_refused_by_the_promotion_engine():
    cart = run(line(), coupon_codes=["NOPE"])
    assert [(c.code, c.accepted, c.error_code) for c in cart.coupons] == [
        ("NOPE", False, "promotion.coupon_unknown")
    ]
    assert cart.discount_total == 0


def test_real_promotions_combine_with_manual_discounts_and_tax():
    catalog = PromotionCatalog.of(
        [
            Promotion(
                "mugs",
                "Buy 2 mugs, get 1 free",
                RuleKind.BUY_X_GET_Y,
                Target(variant_ids=frozenset({"mug"})),
                buy_quantity=2,
                get_quantity=1,
            ),
            Promotion(
                "order-5",
                "5 % off the order",
                RuleKind.ORDER_PERCENT,
                stacking=StackingClass.ORDER,
                percent=Decimal(5),
            ),
        ]
    )
    cart = run(
        line("0", 3, 1000, variant_id="mug"),
        line("1", 500, 1299, variant_id="cheese", sold_by_weight=True),
        line("2", 1, 2000, variant_id="lamp", manual_discount=amount(500, "scratched")),
        promotions=catalog,
        order_discount=amount(100, "goodwill"),
        jurisdiction=NYC,
    )
    mugs, cheese, lamp = cart.lines
    # mugs: one of three free (10.00), then 5 % of 20.00 = 1.00
    assert [a.source for a in mugs.adjustments][:2] == ["mugs", "order-5"]
    assert mugs.adjustments[0].amount == 1000
    assert lamp.adjustments[0] == Adjustment("manual", "Line discount", 500, reason="scratched")
    assert {p.promotion_id for p in cart.promotions} == {"mugs", "order-5"}
    for x in cart.lines:
        assert sum(x.unit_discounts) == x.discount_total == sum(a.amount for a in x.adjustments)
        assert x.total == x.net + x.tax_total
    assert len(cheese.unit_discounts) == 1
    assert cart.total == sum(x.total for x in cart.lines)


def test_a_gift_card_sold_is_never_discounted_or_taxed_and_counts_in_no_spend():
    catalog = PromotionCatalog.of(
        [
            Promotion(
                "order-10",
                "10 % off the order",
                RuleKind.ORDER_PERCENT,
                stacking=StackingClass.ORDER,
                percent=Decimal(10),
            ),
        ]
    )
    gift = line("1", 1, 0, tax_class="gift_card", stored_value=True, unit_price_override=5000)
    cart = run(
        line("0", 1, 2000),
        gift,
        promotions=catalog,
        order_discount=amount(300, "goodwill"),
        jurisdiction=NYC,
    )
    goods, card = cart.lines
    assert (card.subtotal, card.discount_total, card.tax_total, card.total) == (5000, 0, 0, 5000)
    assert card.adjustments == ()
    # the 10 % and the 3.00 land on the goods only
    assert goods.discount_total == 200 + 300
    assert cart.total == goods.total + 5000


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"quantity": 2, "unit_price_override": 5000}, "pricing.stored_value_quantity"),
        ({"unit_price_override": None}, "pricing.stored_value_amount"),
        ({"unit_price_override": 0}, "pricing.stored_value_amount"),
        (
            {"unit_price_override": 5000, "manual_discount": amount(100)},
            "pricing.stored_value_discount",
        ),
    ],
)
def test_a_gift_card_line_is_one_card_at_a_positive_undiscounted_amount(kw, code):
    quantity = kw.pop("quantity", 1)
    with pytest.raises(ValidationFailed) as err:
        run(line("0", quantity, 0, stored_value=True, **kw))
    assert code in {e.code for e in err.value.errors}

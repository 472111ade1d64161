"""Invariants of `price()` on generated carts (hypothesis): money in = money out, nothing below
zero, line order and repetition change nothing, and every split sums to what it splits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from omnitill.domain.pricing.cart import (
    CartLine,
    DiscountKind,
    ManualDiscount,
    PricingContext,
    PricingInput,
)
from omnitill.domain.pricing.engine import price
from omnitill.domain.pricing.model import PriceBook, PriceList, PriceListEntry, PriceTier
from omnitill.domain.promotions.index import PromotionCatalog
from omnitill.domain.promotions.model import (
    Coupon,
    Promotion,
    RuleKind,
    StackingClass,
    Target,
    Tier,
)
from omnitill.domain.tax.model import (
    ExemptBelow,
    Jurisdiction,
    RoundingLevel,
    TaxComponent,
)

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
CLASSES = ("standard", "reduced", "clothing", "zero")
SETTINGS = settings(max_examples=100, deadline=None)


def _jurisdictions() -> list[Jurisdiction | None]:
    rates = {"standard": Decimal("0.19"), "reduced": Decimal("0.07")}
    clothing = (ExemptBelow("clothing", 11000),)
    ny = tuple(
        TaxComponent(
            code, code, {"standard": Decimal(r), "clothing": Decimal(r)}, exempt_below=clothing
        )
        for code, r in (("NYS", "0.04"), ("NYC", "0.045"), ("MCTD", "0.00375"))
    )
    quebec = (
        TaxComponent("GST", "GST", {"standard": Decimal("0.05")}, rounding_group="GST"),
        TaxComponent(
            "QST", "QST", {"standard": Decimal("0.075")}, compound=True, rounding_group="QST"
        ),
    )
    vat = (TaxComponent("VAT", "VAT", rates),)
    return [
        None,
        Jurisdiction("NYC", "NYC", ny, exempt_channels=frozenset({"b2b_export"})),
        Jurisdiction("QC", "QC", quebec, rounding=RoundingLevel.DOCUMENT),
        Jurisdiction("DE", "DE", vat, inclusive=True),
        Jurisdiction("DE-DOC", "DE", vat, inclusive=True, rounding=RoundingLevel.DOCUMENT),
        Jurisdiction("UK-DOC", "UK", vat, rounding=RoundingLevel.DOCUMENT),
    ]


JURISDICTIONS = _jurisdictions()


def _promotions() -> PromotionCatalog:
    """One promotion of every kind, on the variants and categories the carts draw from."""
    v = lambda *ids: Target(variant_ids=frozenset(f"v{i}" for i in ids))  # noqa: E731
    order = {"stacking": StackingClass.ORDER}
    return PromotionCatalog.of(
        [
            Promotion("p-pct", "20 % off v0", RuleKind.ITEM_PERCENT, v(0), percent=Decimal(20)),
            Promotion(
                "p-amt", "1.00 off v1", RuleKind.ITEM_AMOUNT, v(1), amount=100, currency="USD"
            ),
            Promotion("p-fix", "v2 at 4.99", RuleKind.FIXED_PRICE, v(2), price=499, currency="USD"),
            Promotion(
                "p-tiers",
                "3+ of category even",
                RuleKind.QUANTITY_TIERS,
                Target(category_ids=frozenset({"even"})),
                tiers=(Tier(3, percent=Decimal(10)), Tier(5, percent=Decimal(25))),
            ),
            Promotion(
                "p-bxgy",
                "buy 2 get 1 v3",
                RuleKind.BUY_X_GET_Y,
                v(3),
                buy_quantity=2,
                get_quantity=1,
            ),
            Promotion(
                "p-bundle",
                "3 of v1/v4 for 20",
                RuleKind.BUNDLE,
                v(1, 4),
                bundle_quantity=3,
                price=2000,
                currency="USD",
            ),
            Promotion(
                "p-excl",
                "half off brand b1",
                RuleKind.ITEM_PERCENT,
                Target(brand_ids=frozenset({"b1"})),
                stacking=StackingClass.EXCLUSIVE,
                percent=Decimal(50),
                min_spend=30_000,
                currency="USD",
            ),
            Promotion("p-order", "5 % off", RuleKind.ORDER_PERCENT, percent=Decimal(5), **order),
            Promotion(
                "p-spend",
                "spend 100, save 10",
                RuleKind.SPEND_TIERS,
                currency="USD",
                tiers=(Tier(10_000, amount=1_000), Tier(50_000, percent=Decimal(10))),
                **order,
            ),
            Promotion(
                "p-gift",
                "gift over 50",
                RuleKind.FREE_GIFT,
                Target(all_items=True),
                gift_variant_id="v4",
                min_spend=5_000,
                currency="USD",
            ),
            Promotion(
                "p-code",
                "SAVE5",
                RuleKind.ORDER_AMOUNT,
                amount=500,
                currency="USD",
                requires_coupon=True,
                **order,
            ),
        ]
    )


PROMOTIONS = _promotions()
COUPONS = {"SAVE5": Coupon("SAVE5", "p-code", single_use=False)}

discounts = st.one_of(
    st.none(),
    st.builds(
        ManualDiscount,
        st.just(DiscountKind.PERCENT),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2),
        st.just("reason"),
    ),
    st.builds(
        ManualDiscount,
        st.just(DiscountKind.AMOUNT),
        st.integers(1, 60_000).map(Decimal),
        st.just("reason"),
    ),
)


@st.composite
def cart_lines(draw: st.DrawFn) -> list[CartLine]:
    lines = []
    for i in range(draw(st.integers(1, 6))):
        weighed = draw(st.booleans())
        variant = draw(st.integers(0, 4))
        lines.append(
            CartLine(
                key=str(i),
                variant_id=f"v{variant}",
                category_ids=frozenset({"even" if variant % 2 == 0 else "odd"}),
                brand_id=f"b{variant % 3}",
                sku=f"SKU-{i}",
                name="Item",
                quantity=draw(st.integers(1, 5000) if weighed else st.integers(1, 6)),
                base_price=draw(st.integers(0, 50_000)),
                tax_class=draw(st.sampled_from(CLASSES)),
                sold_by_weight=weighed,
                unit_price_override=draw(st.none() | st.integers(0, 50_000)),
                manual_discount=draw(discounts),
            )
        )
    return lines


@st.composite
def carts(draw: st.DrawFn) -> PricingInput:
    lines = draw(cart_lines())
    gross_list = PriceList(
        "gross",
        "Gross list",
        "USD",
        {
            "v1": PriceListEntry("v1", draw(st.integers(0, 30_000))),
            "v2": PriceListEntry("v2", 1999, tiers=(PriceTier(3, 1799), PriceTier(1000, 1500))),
        },
        tax_inclusive=draw(st.booleans()),
    )
    return PricingInput(
        context=PricingContext(
            currency="USD",
            channel=draw(st.sampled_from(["in_store", "web", "b2b_export"])),
            at=NOW,
            timezone="America/New_York",
        ),
        lines=lines,
        book=PriceBook("USD", price_lists=(gross_list,)),
        order_discount=draw(discounts),
        jurisdiction=draw(st.sampled_from(JURISDICTIONS)),
        exemption_certificate=draw(st.sampled_from([None, None, None, "EX-1"])),
        shipping=draw(st.sampled_from([0, 0, 499, 1000])),
        promotions=draw(st.sampled_from([None, PROMOTIONS, PROMOTIONS])),
        coupons=COUPONS,
        coupon_codes=draw(st.sampled_from([(), ("SAVE5",), ("NOPE", "SAVE5")])),
    )


def room(line: CartLine, subtotal: int, unit_price: int) -> list[int]:
    return [subtotal] if line.sold_by_weight else [unit_price] * line.quantity


@SETTINGS
@given(carts())
def test_totals_always_add_up(data: PricingInput):
    cart = price(data)
    assert cart.total == sum(x.total for x in cart.lines) + cart.shipping + cart.shipping_tax
    assert cart.subtotal == sum(x.subtotal for x in cart.lines)
    assert cart.discount_total == sum(x.discount_total for x in cart.lines)
    assert cart.subtotal - cart.discount_total == sum(x.net for x in cart.lines)
    assert cart.tax_total == sum(x.tax_total for x in cart.lines) + cart.shipping_tax
    assert cart.tax_total == sum(t.tax for t in cart.taxes)
    exempt = cart.tax_exempt_reason is not None
    for x in cart.lines:
        assert x.net == x.subtotal - x.discount_total
        assert x.tax_total == sum(t.tax for t in x.taxes)
        if not x.tax_inclusive:
            assert x.total == x.net + x.tax_total
        elif exempt:
            assert x.total <= x.net
            assert x.tax_total == 0
        else:
            assert x.total == x.net
    j = data.jurisdiction
    if j is None:
        assert (cart.shipping, cart.shipping_tax) == (data.shipping, 0)
    elif exempt:
        assert cart.shipping_tax == 0
        assert cart.shipping <= data.shipping
    elif j.inclusive:
        assert cart.shipping + cart.shipping_tax == data.shipping
    else:
        assert cart.shipping == data.shipping


@SETTINGS
@given(carts())
def test_no_line_and_no_unit_goes_below_zero(data: PricingInput):
    cart = price(data)
    assert cart.total >= 0
    for line, x in zip(data.lines, cart.lines, strict=True):
        assert min(x.subtotal, x.net, x.tax_total, x.total) >= 0
        assert all(a.amount > 0 for a in x.adjustments)
        for d, most in zip(x.unit_discounts, room(line, x.subtotal, x.unit_price), strict=True):
            assert 0 <= d <= most


@SETTINGS
@given(carts(), st.randoms(use_true_random=False))
def test_line_order_does_not_change_the_total(data: PricingInput, rng):
    """Lines are re-keyed by position after the shuffle, as a register numbers them."""
    cart = price(data)
    shuffled = list(data.lines)
    rng.shuffle(shuffled)
    rekeyed = [replace(x, key=str(i)) for i, x in enumerate(shuffled)]
    again = price(replace(data, lines=rekeyed))
    assert (again.total, again.tax_total, again.discount_total, again.subtotal) == (
        cart.total,
        cart.tax_total,
        cart.discount_total,
        cart.subtotal,
    )
    assert sorted(x.subtotal for x in again.lines) == sorted(x.subtotal for x in cart.lines)


@SETTINGS
@given(carts())
def test_pricing_twice_gives_the_same_result(data: PricingInput):
    assert price(data) == price(data)


@SETTINGS
@given(carts())
def test_allocated_discounts_sum_to_the_discount(data: PricingInput):
    cart = price(data)
    for line, x in zip(data.lines, cart.lines, strict=True):
        assert len(x.unit_discounts) == (1 if line.sold_by_weight else line.quantity)
        assert sum(x.unit_discounts) == x.discount_total
        assert sum(a.amount for a in x.adjustments) == x.discount_total
    if data.order_discount is not None:
        order = sum(
            a.amount for x in cart.lines for a in x.adjustments if a.name == "Order discount"
        )
        remaining = sum(
            x.subtotal - sum(a.amount for a in x.adjustments if a.name != "Order discount")
            for x in cart.lines
        )
        if data.order_discount.kind is DiscountKind.AMOUNT:
            assert order == min(int(data.order_discount.value), remaining)
        else:
            assert order == min(
                remaining,
                int(
                    (remaining * data.order_discount.value / 100).quantize(
                        Decimal(1), "ROUND_HALF_UP"
                    )
                ),
            )


def test_a_few_fixed_carts_hold_the_invariants_without_hypothesis():
    data = PricingInput(
        context=PricingContext("USD", "in_store", NOW),
        lines=[
            CartLine("0", "v1", "A", "A", 3, 999, tax_class="clothing"),
            CartLine("1", "v2", "B", "B", 750, 1299, sold_by_weight=True),
        ],
        book=PriceBook("USD"),
        jurisdiction=JURISDICTIONS[1],
        shipping=499,
    )
    cart = price(data)
    assert cart.total == sum(x.total for x in cart.lines) + cart.shipping + cart.shipping_tax
    assert [x.subtotal for x in cart.lines] == [2997, 974]  # 12.99/kg x 750 g = 9.7425
    assert cart.lines[0].tax_total == 0  # clothing under $110 an item

"""The pricing engine: a pure function from a cart snapshot to what the customer pays.

`price(PricingInput) -> PricedCart` is the one place a price is made; the register, the web
shop and the store node all call it, so a price is the same everywhere. It reads nothing but
its input (no clock, no database, no randomness): the same input always gives the same cart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from omnitill.domain.money import round_minor
from omnitill.domain.pricing.cart import (
    Adjustment,
    CartLine,
    PricedCart,
    PricedLine,
    PricingInput,
)
from omnitill.domain.pricing.discounts import (
    allocate_order_discount,
    discount_amount,
    split_over_units,
)
from omnitill.domain.pricing.prices import ResolvedPrice, resolve_prices
from omnitill.domain.pricing.validation import location_zone, validate_cart
from omnitill.domain.promotions.engine import (
    LineAdjustments,
    PromoLine,
    PromotionInput,
    PromotionResult,
    apply_promotions,
)
from omnitill.domain.promotions.index import PromotionCatalog
from omnitill.domain.tax.engine import LineTax, TaxableLine, TaxInput, TaxResult
from omnitill.domain.tax.provider import BUILTIN

MANUAL = "manual"
LINE_DISCOUNT = "Line discount"
ORDER_DISCOUNT = "Order discount"
_GRAMS_PER_KG = Decimal(1000)
_NO_PROMOTIONS = PromotionCatalog.of(())


@dataclass(frozen=True, slots=True)
class _Discounts:
    """One line's discounts, in the order they are taken."""

    manual: int
    promotion: LineAdjustments | None
    promotion_total: int
    order: int = 0

    @classmethod
    def of(cls, manual: int, promotion: LineAdjustments | None) -> _Discounts:
        taken = 0 if promotion is None else sum(a.amount for a in promotion.adjustments)
        return cls(manual, promotion, taken)

    @property
    def total(self) -> int:
        return self.manual + self.promotion_total + self.order


def price(data: PricingInput) -> PricedCart:
    """Price a cart: unit prices, discounts, promotions, tax and totals, cent by cent.

    Steps, per line unless said otherwise:

    1. Unit price (`prices.resolve_prices`): the best applicable price list (with quantity
       tiers), else the base price, else the base price converted at the dated exchange rate
       and price-rounded; a permitted `unit_price_override` replaces it (`list_price` keeps
       the resolved one). The line's price basis (tax included or not) comes with it.
    2. `subtotal` = quantity x unit price; for goods sold by weight the price is per kg and
       the quantity in grams, so subtotal = unit price x grams / 1000, rounded half-up.
    3. The manual line discount: a percent of the subtotal, or an amount; capped at it.
    4. Promotions (`promotions.engine.apply_promotions`) on each line's amount after the
       manual line discount. Stored value (a gift card sold, `stored_value`) takes no part
       in promotions or the order discount. Skipped when the input has no promotion catalog
       and no coupon codes; a code entered without a catalog is still answered (as unknown).
    5. The manual order discount, on what the lines still cost, split over them by largest
       remainder and capped at that sum.
    6. Tax (asked of `data.tax_provider`, by default the built-in `compute_tax`) when
       `data.jurisdiction` is set: on each line's `net` with the line's price basis, plus
       `data.shipping` on the jurisdiction's basis. The tax date is `context.at` as a
       calendar date in the location's timezone (`context.timezone`): a sale at 23:30 on
       31 December in New York is taxed at the rates of 31 December, although it is
       1 January in UTC. A weighed line counts as one item for per-item thresholds.

    Amounts, all in minor units of `context.currency`:

    - line `subtotal`: quantity x unit price as shelf-priced (tax included when the basis is
      inclusive), before any discount.
    - line `discount_total`: manual line discount + promotions + share of the order discount.
      `adjustments` names each (source "manual" or the promotion id); `unit_discounts` splits
      the total over the units (one entry for a weighed line), no unit discounted below zero,
      summing to `discount_total`.
    - line `net` = subtotal - discount_total, never negative: what tax is computed on
      (exclusive basis) or carved out of (inclusive basis).
    - line `tax_total`: the line's tax; already inside `net` when the basis is inclusive.
    - line `total`: what the customer pays for the line: net + tax when exclusive, net when
      inclusive. An exempt buyer (certificate or exempt channel) of an inclusive price pays
      the price less the tax it contained, so there `total` is below `net`.
    - cart `subtotal`, `discount_total`: sums over the lines. Shipping is not in them.
    - cart `shipping`: the shipping charge net of tax (in an inclusive jurisdiction, the
      shipping charged less the tax it contains); `shipping_tax`: the tax on shipping.
    - cart `tax_total`: every line's tax plus `shipping_tax`; `taxes` breaks it down per
      component and rate.
    - cart `total` = sum of line totals + shipping + shipping_tax: money in = money out.
    - cart `exchange_rate`: the rate used when any line's price was converted, else None.

    Raises `ValidationFailed` naming every invalid field (`validation.validate_cart`), then
    `pricing.no_price` naming every line without a price in the cart's currency.
    """
    validate_cart(data)
    resolved = resolve_prices(
        data.lines, book=data.book, context=data.context, base_inclusive=_basis(data)
    )
    prices = resolved.lines
    subtotals = [_subtotal(x, p.unit_price) for x, p in zip(data.lines, prices, strict=True)]
    manual = [
        0 if x.manual_discount is None else discount_amount(x.manual_discount, subtotal)
        for x, subtotal in zip(data.lines, subtotals, strict=True)
    ]
    after_manual = [s - m for s, m in zip(subtotals, manual, strict=True)]
    promo, by_promotion = _promotions(data, prices, after_manual)
    partial = [_Discounts.of(m, p) for m, p in zip(manual, by_promotion, strict=True)]
    remaining = [s - d.total for s, d in zip(subtotals, partial, strict=True)]
    order = allocate_order_discount(
        data.order_discount,
        [0 if x.stored_value else r for x, r in zip(data.lines, remaining, strict=True)],
        tie_keys=[_tie_key(x, p, r) for x, p, r in zip(data.lines, prices, remaining, strict=True)],
    )
    discounts = [
        _Discounts(d.manual, d.promotion, d.promotion_total, o)
        for d, o in zip(partial, order, strict=True)
    ]
    taxed = _taxes(data, prices, [s - d.total for s, d in zip(subtotals, discounts, strict=True)])
    lines = tuple(
        _priced_line(
            data,
            line=x,
            resolved=prices[i],
            subtotal=subtotals[i],
            discounts=discounts[i],
            tax=None if taxed is None else taxed.lines[i],
        )
        for i, x in enumerate(data.lines)
    )
    shipping, shipping_tax = data.shipping, 0
    if taxed is not None and taxed.shipping is not None:
        shipping, shipping_tax = taxed.shipping.net, taxed.shipping.tax
    return PricedCart(
        currency=data.context.currency,
        lines=lines,
        subtotal=sum(x.subtotal for x in lines),
        discount_total=sum(x.discount_total for x in lines),
        shipping=shipping,
        shipping_tax=shipping_tax,
        tax_total=sum(x.tax_total for x in lines) + shipping_tax,
        total=sum(x.total for x in lines) + shipping + shipping_tax,
        taxes=() if taxed is None else taxed.breakdown,
        promotions=() if promo is None else promo.applied,
        coupons=() if promo is None else promo.coupons,
        gift_offers=() if promo is None else promo.gift_offers,
        promotion_groups=() if promo is None else promo.groups,
        exchange_rate=resolved.exchange_rate,
        tax_exempt_reason=None if taxed is None else taxed.exempt_reason,
    )


def _basis(data: PricingInput) -> bool:
    """Base and converted prices include tax when the jurisdiction's shelf prices do."""
    return data.jurisdiction is not None and data.jurisdiction.inclusive


def _tie_key(line: CartLine, resolved: ResolvedPrice, remaining: int) -> tuple[object, ...]:
    """What a line is, for settling equal remainders: lines equal in all of it tax alike."""
    return (
        line.tax_class,
        resolved.tax_inclusive,
        line.sold_by_weight,
        line.quantity,
        remaining,
        line.variant_id,
        line.key,
    )


def _units(line: CartLine) -> int:
    return 1 if line.sold_by_weight else line.quantity


def _subtotal(line: CartLine, unit_price: int) -> int:
    if line.sold_by_weight:
        return round_minor(Decimal(unit_price * line.quantity) / _GRAMS_PER_KG)
    return unit_price * line.quantity


def _promotions(
    data: PricingInput, prices: Sequence[ResolvedPrice], amounts: Sequence[int]
) -> tuple[PromotionResult | None, list[LineAdjustments | None]]:
    """The promotions result and each line's adjustments (None: the line took no part)."""
    per_line: list[LineAdjustments | None] = [None] * len(data.lines)
    if data.promotions is None and not data.coupon_codes:
        return None, per_line
    # Stored value (a gift card sold) takes no part: not discounted, not counted in a spend.
    goods = [i for i, x in enumerate(data.lines) if not x.stored_value]
    result = apply_promotions(
        PromotionInput(
            context=data.context,
            lines=[
                PromoLine(
                    key=x.key,
                    variant_id=x.variant_id,
                    quantity=x.quantity,
                    unit_price=prices[i].unit_price,
                    amount=amounts[i],
                    category_ids=x.category_ids,
                    collection_ids=x.collection_ids,
                    brand_id=x.brand_id,
                    sold_by_weight=x.sold_by_weight,
                )
                for i, x in ((i, data.lines[i]) for i in goods)
            ],
            catalog=_NO_PROMOTIONS if data.promotions is None else data.promotions,
            usage=data.usage,
            coupons=data.coupons,
            coupon_codes=data.coupon_codes,
        )
    )
    for i, adjusted in zip(goods, result.lines, strict=True):
        per_line[i] = adjusted
    return result, per_line


def _taxes(
    data: PricingInput, prices: Sequence[ResolvedPrice], nets: Sequence[int]
) -> TaxResult | None:
    j = data.jurisdiction
    if j is None:
        return None
    context = data.context
    provider = data.tax_provider or BUILTIN
    return provider.calculate(
        TaxInput(
            jurisdiction=j,
            lines=[
                TaxableLine(
                    key=x.key,
                    tax_class=x.tax_class,
                    quantity=_units(x),
                    amount=net,
                    inclusive=p.tax_inclusive,
                )
                for x, p, net in zip(data.lines, prices, nets, strict=True)
            ],
            on=context.at.astimezone(location_zone(context)).date(),
            shipping=data.shipping,
            channel=context.channel,
            exemption_certificate=data.exemption_certificate,
        )
    )


def _priced_line(
    data: PricingInput,
    *,
    line: CartLine,
    resolved: ResolvedPrice,
    subtotal: int,
    discounts: _Discounts,
    tax: LineTax | None,
) -> PricedLine:
    net = subtotal - discounts.total
    return PricedLine(
        key=line.key,
        variant_id=line.variant_id,
        sku=line.sku,
        name=line.name,
        quantity=line.quantity,
        unit_price=resolved.unit_price,
        list_price=resolved.list_price,
        compare_at=resolved.compare_at,
        price_source=resolved.source,
        price_list_id=resolved.price_list_id,
        tax_inclusive=resolved.tax_inclusive,
        subtotal=subtotal,
        adjustments=_adjustments(data, line, discounts),
        discount_total=discounts.total,
        unit_discounts=_unit_discounts(line, resolved.unit_price, subtotal, discounts),
        net=net,
        tax_total=0 if tax is None else tax.tax,
        taxes=() if tax is None else tax.components,
        total=net if tax is None else tax.gross,
    )


def _adjustments(data: PricingInput, line: CartLine, d: _Discounts) -> tuple[Adjustment, ...]:
    found: list[Adjustment] = []
    if d.manual and line.manual_discount is not None:
        found.append(
            Adjustment(MANUAL, LINE_DISCOUNT, d.manual, reason=line.manual_discount.reason)
        )
    if d.promotion is not None:
        found.extend(a for a in d.promotion.adjustments if a.amount)
    if d.order and data.order_discount is not None:
        found.append(Adjustment(MANUAL, ORDER_DISCOUNT, d.order, reason=data.order_discount.reason))
    return tuple(found)


def _unit_discounts(
    line: CartLine, unit_price: int, subtotal: int, d: _Discounts
) -> tuple[int, ...]:
    """The line's discount per unit: promotions as the promotion engine split them, then the
    manual line and order discounts by largest remainder on what each unit still costs, so
    no unit goes below zero."""
    units = _units(line)
    if units == 1:
        return (d.total,)
    if d.total == 0:
        return (0,) * units
    room = [subtotal] if line.sold_by_weight else [unit_price] * line.quantity
    promo = _promotion_units(d, room)
    room = [r - p for r, p in zip(room, promo, strict=True)]
    manual = split_over_units(d.manual, room)
    room = [r - m for r, m in zip(room, manual, strict=True)]
    order = split_over_units(d.order, room)
    return tuple(p + m + o for p, m, o in zip(promo, manual, order, strict=True))


def _promotion_units(d: _Discounts, room: list[int]) -> list[int]:
    total = d.promotion_total
    given = d.promotion.unit_discounts if d.promotion is not None else ()
    if len(given) == len(room) and sum(given) == total:
        return list(given)
    return split_over_units(total, room)

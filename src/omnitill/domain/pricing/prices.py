"""Price resolution: which unit price a cart line starts from, and where it came from.

For each line, in this order:

1. *Price list.* Among the book's lists that apply to the cart (currency, channel, location,
   customer groups, date window; see `PriceList.applies`), the one with the highest `priority`
   that holds an entry for the variant wins (ties: the lowest list id, so the answer never
   depends on load order). The unit price is the entry's, at the deepest quantity tier the
   line reaches (grams for weighed goods). Compare-at: the entry's, else the line's when the
   cart is in the base currency. The list's `tax_inclusive` is the line's price basis.
2. *Base price.* A cart in the book's base currency pays the variant's base price. Its basis
   is the jurisdiction's (`Jurisdiction.inclusive`), or exclusive when the cart is untaxed.
3. *Converted.* A cart in another currency pays the base price converted at the latest
   `ExchangeRate(base=book.base_currency, quote=cart currency)` whose `valid_from` is on or
   before the cart's UTC date (two rates from the same day: the later one in the book),
   scaled between the currencies' minor units (JPY 0, USD 2, BHD 3), then rounded by the
   currency's `PriceRounding` (to a multiple of `increment`, then up to the `charm_ending`),
   or half-up to the minor unit when the book has none. The compare-at is converted the same
   way. Only rates quoted from the base currency are used: an inverse rate (cart currency to
   base) is ignored, so the book must hold each rate in the base -> quote direction.

A line no list prices, in a foreign currency with no rate, cannot be sold: `pricing.no_price`
names every such line. A permitted manual price (`unit_price_override`) replaces the resolved
price; the resolved one is kept as the list price, with its basis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date
from decimal import Decimal

from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.money import minor_units, round_minor
from omnitill.domain.pricing.cart import CartLine, PriceSource, PricingContext
from omnitill.domain.pricing.model import ExchangeRate, PriceBook, PriceList, PriceRounding


@dataclass(frozen=True, slots=True)
class ResolvedPrice:
    """A line's starting price in the cart's currency (per kg when weighed)."""

    unit_price: int  # what the line is charged per unit, after any override
    list_price: int  # the resolved price before any override
    compare_at: int | None
    source: PriceSource
    price_list_id: str | None
    tax_inclusive: bool


@dataclass(frozen=True, slots=True)
class ResolvedPrices:
    lines: tuple[ResolvedPrice, ...]
    exchange_rate: Decimal | None  # the rate used when any line was converted


def applicable_lists(book: PriceBook, context: PricingContext) -> tuple[PriceList, ...]:
    """The book's lists that apply to the cart, best first: highest priority, then lowest id."""
    found = [
        pl
        for pl in book.price_lists
        if pl.applies(
            currency=context.currency,
            channel=context.channel,
            location=context.location,
            customer_groups=context.customer_groups,
            at=context.at,
        )
    ]
    return tuple(sorted(found, key=lambda pl: (-pl.priority, pl.id)))


def exchange_rate_on(book: PriceBook, quote: str, on: date) -> ExchangeRate | None:
    """The latest base -> `quote` rate in force on `on`; of two from one day, the later entry."""
    best: ExchangeRate | None = None
    for rate in book.exchange_rates:
        if rate.base != book.base_currency or rate.quote != quote or rate.valid_from > on:
            continue
        if best is None or rate.valid_from >= best.valid_from:
            best = rate
    return best


def round_price(amount: Decimal, rounding: PriceRounding | None) -> int:
    """A fractional converted price landed on the currency's price points.

    To a multiple of `increment` minor units (CHF 0.05: 5) in the rounding's mode; then, with a
    `charm_ending`, up to the next price whose last two minor digits are that ending (12.30 ->
    12.99). A price of zero stays zero: a free item does not become 0.99.
    """
    if rounding is None:
        return round_minor(amount)
    price = round_minor(amount / rounding.increment, rounding.mode) * rounding.increment
    ending = rounding.charm_ending
    if ending is None or price <= 0:
        return price
    below = price % 100
    return price - below + ending + (0 if below <= ending else 100)


def convert(amount: int, *, rate: ExchangeRate, rounding: PriceRounding | None) -> int:
    """`amount` minor units of `rate.base` in minor units of `rate.quote`, price-rounded."""
    shift = minor_units(rate.quote) - minor_units(rate.base)
    return round_price((Decimal(amount) * rate.rate).scaleb(shift), rounding)


def resolve_prices(
    lines: Sequence[CartLine],
    *,
    book: PriceBook,
    context: PricingContext,
    base_inclusive: bool,
) -> ResolvedPrices:
    """Each line's starting price (see the module docstring); `base_inclusive` is the basis of
    base and converted prices. Raises `pricing.no_price` naming every line it cannot price."""
    currency = context.currency
    rate: ExchangeRate | None = None
    if currency != book.base_currency:
        rate = exchange_rate_on(book, currency, context.at.astimezone(UTC).date())
    source = _Source(
        lists=applicable_lists(book, context),
        base_currency=book.base_currency,
        currency=currency,
        rate=rate,
        rounding=book.roundings.get(currency),
        base_inclusive=base_inclusive,
    )
    resolved: list[ResolvedPrice] = []
    missing: list[FieldError] = []
    converted = False
    for i, line in enumerate(lines):
        found = source.price(line)
        if found is None:
            missing.append(
                FieldError(
                    f"lines.{i}",
                    "pricing.no_price",
                    f"no price list prices {line.sku} in {currency} and there is no "
                    f"{book.base_currency} -> {currency} exchange rate",
                )
            )
        else:
            converted = converted or found.source is PriceSource.CONVERTED
            resolved.append(_overridden(found, line.unit_price_override))
    if missing:
        raise ValidationFailed(
            "pricing.no_price",
            f"{len(missing)} line(s) have no price in {currency}",
            {"currency": currency, "base_currency": book.base_currency},
            errors=missing,
        )
    return ResolvedPrices(tuple(resolved), rate.rate if converted and rate is not None else None)


@dataclass(frozen=True, slots=True)
class _Source:
    """Where one cart's prices come from: its lists, else the base price, else a conversion."""

    lists: tuple[PriceList, ...]
    base_currency: str
    currency: str
    rate: ExchangeRate | None
    rounding: PriceRounding | None
    base_inclusive: bool

    def price(self, line: CartLine) -> ResolvedPrice | None:
        found = _from_lists(line, self.lists, base_currency=self.base_currency)
        if found is not None:
            return found
        if self.currency == self.base_currency:
            return ResolvedPrice(
                line.base_price,
                line.base_price,
                line.compare_at,
                PriceSource.BASE,
                None,
                self.base_inclusive,
            )
        if self.rate is None:
            return None
        price = convert(line.base_price, rate=self.rate, rounding=self.rounding)
        compare_at = line.compare_at
        if compare_at is not None:
            compare_at = convert(compare_at, rate=self.rate, rounding=self.rounding)
        return ResolvedPrice(
            price, price, compare_at, PriceSource.CONVERTED, None, self.base_inclusive
        )


def _from_lists(
    line: CartLine, lists: tuple[PriceList, ...], *, base_currency: str
) -> ResolvedPrice | None:
    for pl in lists:
        entry = pl.entries.get(line.variant_id)
        if entry is None:
            continue
        price = entry.unit_price_for(line.quantity)
        compare_at = entry.compare_at
        if compare_at is None and pl.currency == base_currency:
            compare_at = line.compare_at
        return ResolvedPrice(
            price, price, compare_at, PriceSource.PRICE_LIST, pl.id, pl.tax_inclusive
        )
    return None


def _overridden(found: ResolvedPrice, override: int | None) -> ResolvedPrice:
    if override is None:
        return found
    return ResolvedPrice(
        override,
        found.list_price,
        found.compare_at,
        PriceSource.OVERRIDE,
        found.price_list_id,
        found.tax_inclusive,
    )

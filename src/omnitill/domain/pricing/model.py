"""What a price is made of: price lists, quantity tiers, exchange rates and price rounding.

A *price list* holds prices in one currency for a scope (channels, locations, customer groups,
a date window); an empty scope set means "any". Among the lists that apply to a cart, the one
with the highest `priority` that prices a variant wins for that variant (ties: the lower id,
so the choice never depends on load order); a variant no list prices falls back to its base
price, converted at the dated exchange rate when the cart is in another currency. Each list
says whether its prices include tax.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.money import Rounding, check_currency


def raise_if_any(errors: list[FieldError], message: str) -> None:
    """Raise one `ValidationFailed` naming every field error, coded by the first."""
    if errors:
        raise ValidationFailed(errors[0].code, message, errors=errors)


@dataclass(frozen=True, slots=True)
class PriceTier:
    """From `min_quantity` base units (each, or grams for weighed goods) on, each unit costs
    `unit_price`."""

    min_quantity: int
    unit_price: int


@dataclass(frozen=True, slots=True)
class PriceListEntry:
    variant_id: str
    unit_price: int
    compare_at: int | None = None
    tiers: tuple[PriceTier, ...] = ()

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if self.unit_price < 0:
            errors.append(FieldError("unit_price", "pricing.price_negative", "must be >= 0"))
        if self.compare_at is not None and self.compare_at < 0:
            errors.append(FieldError("compare_at", "pricing.price_negative", "must be >= 0"))
        seen: set[int] = set()
        for i, tier in enumerate(self.tiers):
            if tier.min_quantity < 2 or tier.min_quantity in seen:
                errors.append(
                    FieldError(
                        f"tiers.{i}.min_quantity",
                        "pricing.invalid_tier",
                        "tiers start at 2 units and each minimum appears once",
                    )
                )
            if tier.unit_price < 0:
                errors.append(
                    FieldError(f"tiers.{i}.unit_price", "pricing.price_negative", "must be >= 0")
                )
            seen.add(tier.min_quantity)
        raise_if_any(errors, f"price of {self.variant_id} is invalid")

    def unit_price_for(self, quantity: int) -> int:
        """The unit price at `quantity`: the deepest tier reached, else the entry's price."""
        price, reached = self.unit_price, 0
        for tier in self.tiers:
            if reached < tier.min_quantity <= quantity:
                reached, price = tier.min_quantity, tier.unit_price
        return price


@dataclass(frozen=True, slots=True)
class PriceList:
    id: str
    name: str
    currency: str
    entries: Mapping[str, PriceListEntry]  # by variant id
    priority: int = 0
    tax_inclusive: bool = False
    channels: frozenset[str] = frozenset()
    locations: frozenset[str] = frozenset()  # location codes
    customer_groups: frozenset[str] = frozenset()
    starts_at: datetime | None = None
    ends_at: datetime | None = None  # exclusive
    active: bool = True

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        try:
            check_currency(self.currency)
        except ValidationFailed:
            errors.append(FieldError("currency", "money.unknown_currency", self.currency))
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors.append(FieldError("ends_at", "pricing.invalid_window", "ends before it starts"))
        raise_if_any(errors, f"price list {self.name!r} is invalid")

    def applies(
        self,
        *,
        currency: str,
        channel: str,
        location: str | None,
        customer_groups: frozenset[str],
        at: datetime,
    ) -> bool:
        """Whether this list prices a cart with this context."""
        return (
            self.active
            and self.currency == currency
            and (not self.channels or channel in self.channels)
            and (not self.locations or location in self.locations)
            and (not self.customer_groups or bool(self.customer_groups & customer_groups))
            and (self.starts_at is None or self.starts_at <= at)
            and (self.ends_at is None or at < self.ends_at)
        )


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    """From `valid_from` on (until a later rate), one unit of `base` buys `rate` of `quote`."""

    base: str
    quote: str
    rate: Decimal
    valid_from: date

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        for name in ("base", "quote"):
            try:
                check_currency(getattr(self, name))
            except ValidationFailed:
                errors.append(FieldError(name, "money.unknown_currency", getattr(self, name)))
        if self.base == self.quote:
            errors.append(FieldError("quote", "pricing.same_currency", "differs from base"))
        if not self.rate > 0:
            errors.append(FieldError("rate", "pricing.invalid_rate", "must be positive"))
        raise_if_any(errors, "exchange rate is invalid")


@dataclass(frozen=True, slots=True)
class PriceRounding:
    """How converted prices land in one currency: to a multiple of `increment` minor units
    (5 for CHF 0.05), then, with `charm_ending`, up to the next price ending in it (99 makes
    12.30 into 12.99; with an ending of 0 and increment 100, whole units)."""

    currency: str
    increment: int = 1
    charm_ending: int | None = None
    mode: Rounding = Rounding.HALF_UP

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if self.increment < 1:
            errors.append(FieldError("increment", "pricing.invalid_rounding", "must be >= 1"))
        if self.charm_ending is not None and not 0 <= self.charm_ending < 100:
            errors.append(
                FieldError("charm_ending", "pricing.invalid_rounding", "between 0 and 99")
            )
        raise_if_any(errors, f"price rounding for {self.currency} is invalid")


@dataclass(frozen=True, slots=True)
class PriceBook:
    """Everything the engine needs to find a variant's price in a cart's currency."""

    base_currency: str
    price_lists: tuple[PriceList, ...] = ()
    exchange_rates: tuple[ExchangeRate, ...] = ()
    roundings: Mapping[str, PriceRounding] = field(default_factory=dict)

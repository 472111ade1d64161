"""The pricing engine's input and output: `price(PricingInput) -> PricedCart`.

Amounts are minor units of the cart's currency. A line's `subtotal` is quantity x unit price
as shelf-priced (tax included when its price list includes tax); `discount_total` is every
promotion and manual discount on it; `net` = subtotal - discount_total is what tax is computed
on (or split from); `total` is what the customer pays for the line: `net` plus tax when its
price excludes tax, `net` when the price includes it. The cart's `total` is the sum of line
totals plus shipping and its tax: money in = money out (DESIGN.md invariant 5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from omnitill.domain.pricing.model import PriceBook
from omnitill.domain.promotions.index import PromotionCatalog
from omnitill.domain.promotions.model import Coupon, CouponRefusal, Usage
from omnitill.domain.tax.engine import ComponentTax
from omnitill.domain.tax.model import Jurisdiction
from omnitill.domain.tax.provider import TaxProvider


class DiscountKind(StrEnum):
    PERCENT = "percent"
    AMOUNT = "amount"


@dataclass(frozen=True, slots=True)
class ManualDiscount:
    """A cashier's discount on a line or the order; needs a permission and a reason, which
    the service checks before the engine sees it. `value` is percent (Decimal) or minor units."""

    kind: DiscountKind
    value: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class CartLine:
    key: str  # stable within the cart ("0", "1", ...): adjustments and taxes refer to it
    variant_id: str
    sku: str
    name: str
    quantity: int  # base units: each, or grams when `sold_by_weight`
    base_price: int  # the variant's price in the book's base currency (per kg when weighed)
    compare_at: int | None = None
    tax_class: str = "standard"
    category_ids: frozenset[str] = frozenset()  # the product's category and its ancestors
    collection_ids: frozenset[str] = frozenset()
    brand_id: str | None = None
    sold_by_weight: bool = False
    unit_price_override: int | None = None  # permitted manual price, in the cart's currency
    manual_discount: ManualDiscount | None = None
    # Stored value (a gift card sold): priced at `unit_price_override`, the amount loaded;
    # no promotion, manual or order discount touches it, and its tax class should be one no
    # jurisdiction taxes (tax is due when the value is spent).
    stored_value: bool = False


@dataclass(frozen=True, slots=True)
class PricingContext:
    currency: str
    channel: str  # in_store | web | marketplace | social | phone
    at: datetime  # UTC, aware
    timezone: str = "UTC"  # the selling location's, for happy hours
    location: str | None = None  # location code
    customer_id: str | None = None
    customer_groups: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PricingInput:
    context: PricingContext
    lines: Sequence[CartLine]
    book: PriceBook
    promotions: PromotionCatalog | None = None  # built once per catalog version
    usage: Mapping[str, Usage] = field(default_factory=dict)  # by promotion id
    coupons: Mapping[str, Coupon] = field(default_factory=dict)  # entered codes found, by code
    coupon_codes: Sequence[str] = ()  # as entered, in order
    order_discount: ManualDiscount | None = None
    jurisdiction: Jurisdiction | None = None  # None: not taxed here
    exemption_certificate: str | None = None
    shipping: int = 0
    tax_provider: TaxProvider | None = None  # None: the built-in tables (compute_tax)


class PriceSource(StrEnum):
    PRICE_LIST = "price_list"
    BASE = "base"
    CONVERTED = "converted"
    OVERRIDE = "override"


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One discount on one line: which promotion (or manual) gave it, and how much."""

    source: str  # promotion id, or "manual"
    name: str
    amount: int
    coupon: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class PricedLine:
    key: str
    variant_id: str
    sku: str
    name: str
    quantity: int
    unit_price: int  # per unit (per kg when weighed) in the cart's currency
    list_price: int  # the price before override, same basis
    compare_at: int | None
    price_source: PriceSource
    price_list_id: str | None
    tax_inclusive: bool
    subtotal: int
    adjustments: tuple[Adjustment, ...]
    discount_total: int
    unit_discounts: tuple[int, ...]  # discount_total split over the units (one for weighed)
    net: int
    tax_total: int
    taxes: tuple[ComponentTax, ...]
    total: int


@dataclass(frozen=True, slots=True)
class AppliedPromotion:
    promotion_id: str
    name: str
    amount: int
    coupon: str | None = None


@dataclass(frozen=True, slots=True)
class PromotionGroup:
    """The units a buy-X-get-Y promotion claimed, by cart line key: `qualifying` units were
    bought to earn it, `reward` units were given free or discounted (a line of a same-pool
    deal may hold both). `discount` is the promotion's discount and `discounts` its part on
    each line (it sits on the reward units' lines), so a return can tell which benefit the
    units kept still earn. Lines are listed in cart order; lines with no units are left out."""

    promotion_id: str
    kind: str
    buy: int
    get: int
    qualifying: tuple[tuple[str, int], ...]
    reward: tuple[tuple[str, int], ...]
    discount: int
    discounts: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class CouponResult:
    code: str
    accepted: bool
    refusal: CouponRefusal | None = None
    message: str = ""

    @property
    def error_code(self) -> str | None:
        return None if self.refusal is None else f"promotion.coupon_{self.refusal.value}"


@dataclass(frozen=True, slots=True)
class GiftOffer:
    """A free gift the cart qualifies for but does not hold yet: add it and it costs 0."""

    promotion_id: str
    variant_id: str


@dataclass(frozen=True, slots=True)
class PricedCart:
    currency: str
    lines: tuple[PricedLine, ...]
    subtotal: int
    discount_total: int
    shipping: int
    shipping_tax: int
    tax_total: int
    total: int
    taxes: tuple[ComponentTax, ...]  # per jurisdiction component and rate
    promotions: tuple[AppliedPromotion, ...]
    coupons: tuple[CouponResult, ...]
    gift_offers: tuple[GiftOffer, ...]
    exchange_rate: Decimal | None  # when any line was converted from the base currency
    tax_exempt_reason: str | None
    promotion_groups: tuple[PromotionGroup, ...] = ()  # buy X get Y: which units each claimed

"""What a promotion is: a rule, what it targets, when and where it runs, and how it stacks.

Percentages are `Decimal` percent (15 is 15 %). Fixed amounts are minor units of the
promotion's `currency`, which a promotion with any fixed amount must name, so a 5.00 USD
coupon can never take 5.00 off a EUR cart.

Stacking: every promotion is in one class. `product` promotions discount items, and a unit
takes at most one product promotion; `order` promotions discount the order after product
discounts and combine with each other; an `exclusive` promotion applies alone, and the engine
compares it with the best combination of the others. `priority` orders promotions that
compete on equal value (higher first), so the outcome never depends on load order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from enum import StrEnum

from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.money import check_currency
from omnitill.domain.pricing.model import raise_if_any


class RuleKind(StrEnum):
    ITEM_PERCENT = "item_percent"  # percent off each targeted unit
    ITEM_AMOUNT = "item_amount"  # amount off each targeted unit
    FIXED_PRICE = "fixed_price"  # each targeted unit at `price`
    QUANTITY_TIERS = "quantity_tiers"  # buy 3+ targeted units, get tiers[i].percent off them
    BUY_X_GET_Y = "buy_x_get_y"  # buy `buy_quantity`, get `get_quantity` at `get_percent` off
    BUNDLE = "bundle"  # any `bundle_quantity` targeted units for `price`
    ORDER_PERCENT = "order_percent"
    ORDER_AMOUNT = "order_amount"
    SPEND_TIERS = "spend_tiers"  # spend tiers[i].threshold, get its percent or amount off
    FREE_GIFT = "free_gift"  # spend `min_spend`: one `gift_variant_id` free


ORDER_KINDS = frozenset({RuleKind.ORDER_PERCENT, RuleKind.ORDER_AMOUNT, RuleKind.SPEND_TIERS})


class StackingClass(StrEnum):
    PRODUCT = "product"
    ORDER = "order"
    EXCLUSIVE = "exclusive"


@dataclass(frozen=True, slots=True)
class Target:
    """The items a rule looks at: any listed variant, category, collection or brand; or all
    items when `all_items`. Ids are strings (UUIDs as text)."""

    variant_ids: frozenset[str] = frozenset()
    category_ids: frozenset[str] = frozenset()
    collection_ids: frozenset[str] = frozenset()
    brand_ids: frozenset[str] = frozenset()
    all_items: bool = False

    @property
    def empty(self) -> bool:
        return not (
            self.all_items
            or self.variant_ids
            or self.category_ids
            or self.collection_ids
            or self.brand_ids
        )


@dataclass(frozen=True, slots=True)
class Tier:
    """From `threshold` (minor units for spend tiers, units for quantity tiers) on: `percent`
    off, or `amount` off (spend tiers only)."""

    threshold: int
    percent: Decimal | None = None
    amount: int | None = None


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Happy hour: on `weekdays` (0 Monday .. 6 Sunday) from `start` until `end`, in the
    selling location's local time."""

    weekdays: frozenset[int]
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class Promotion:
    id: str
    name: str
    kind: RuleKind
    target: Target = Target(all_items=True)
    stacking: StackingClass = StackingClass.PRODUCT
    priority: int = 0
    percent: Decimal | None = None
    amount: int | None = None
    price: int | None = None
    currency: str | None = None
    tiers: tuple[Tier, ...] = ()
    buy_quantity: int = 0
    get_quantity: int = 0
    get_percent: Decimal = Decimal(100)  # 100: the Y units are free
    get_target: Target | None = None  # None: Y comes from `target` (cheapest first)
    max_applications: int | None = None
    bundle_quantity: int = 0
    gift_variant_id: str | None = None
    min_spend: int | None = None  # minor units of `currency`, on the eligible subtotal
    requires_coupon: bool = False
    channels: frozenset[str] = frozenset()
    locations: frozenset[str] = frozenset()
    customer_groups: frozenset[str] = frozenset()
    starts_at: datetime | None = None
    ends_at: datetime | None = None  # exclusive
    hours: tuple[TimeWindow, ...] = ()
    usage_limit: int | None = None  # redemptions in total
    per_customer_limit: int | None = None
    active: bool = True

    def __post_init__(self) -> None:
        raise_if_any(validate_promotion(self), f"promotion {self.name!r} is invalid")


def _percent_ok(value: Decimal | None) -> bool:
    return value is not None and Decimal(0) < value <= Decimal(100)


def validate_promotion(p: Promotion) -> list[FieldError]:
    """Every contradiction in a promotion's definition, each naming its field."""
    errors: list[FieldError] = []

    def bad(name: str, code: str, message: str) -> None:
        errors.append(FieldError(name, code, message))

    k = p.kind
    if k in ORDER_KINDS and p.stacking is StackingClass.PRODUCT:
        bad("stacking", "promotion.invalid_stacking", "order rules stack as order or exclusive")
    if k not in ORDER_KINDS and k is not RuleKind.FREE_GIFT and p.target.empty:
        bad("target", "promotion.target_required", "name the items this rule discounts")
    if k in {RuleKind.ITEM_PERCENT, RuleKind.ORDER_PERCENT} and not _percent_ok(p.percent):
        bad("percent", "promotion.invalid_percent", "a percent above 0 and at most 100")
    if k in {RuleKind.ITEM_AMOUNT, RuleKind.ORDER_AMOUNT} and not (p.amount and p.amount > 0):
        bad("amount", "promotion.invalid_amount", "a positive amount in minor units")
    if k in {RuleKind.FIXED_PRICE, RuleKind.BUNDLE} and (p.price is None or p.price < 0):
        bad("price", "promotion.invalid_price", "a price of 0 or more in minor units")
    if k in {RuleKind.QUANTITY_TIERS, RuleKind.SPEND_TIERS}:
        errors.extend(_tier_errors(p))
    if k is RuleKind.BUY_X_GET_Y:
        if p.buy_quantity < 1:
            bad("buy_quantity", "promotion.invalid_quantity", "at least 1")
        if p.get_quantity < 1:
            bad("get_quantity", "promotion.invalid_quantity", "at least 1")
        if not _percent_ok(p.get_percent):
            bad("get_percent", "promotion.invalid_percent", "above 0 and at most 100")
    if k is RuleKind.BUNDLE and p.bundle_quantity < 2:
        bad("bundle_quantity", "promotion.invalid_quantity", "a bundle has at least 2 items")
    if k is RuleKind.FREE_GIFT:
        if not p.gift_variant_id:
            bad("gift_variant_id", "promotion.gift_required", "name the gift")
        if p.min_spend is None:
            bad("min_spend", "promotion.invalid_amount", "a free gift needs a minimum spend")
    if p.max_applications is not None and p.max_applications < 1:
        bad("max_applications", "promotion.invalid_quantity", "at least 1")
    if p.min_spend is not None and p.min_spend < 0:
        bad("min_spend", "promotion.invalid_amount", "must be >= 0")
    needs_currency = (
        p.amount is not None
        or p.price is not None
        or p.min_spend is not None
        or k is RuleKind.SPEND_TIERS
    )
    if p.currency is not None:
        try:
            check_currency(p.currency)
        except ValidationFailed:
            bad("currency", "money.unknown_currency", p.currency)
    elif needs_currency:
        bad("currency", "promotion.currency_required", "fixed amounts need a currency")
    if p.starts_at and p.ends_at and p.ends_at <= p.starts_at:
        bad("ends_at", "promotion.invalid_window", "ends before it starts")
    for i, w in enumerate(p.hours):
        if not w.weekdays or not w.weekdays <= set(range(7)) or w.end <= w.start:
            bad(f"hours.{i}", "promotion.invalid_hours", "weekdays 0-6 and start before end")
    for name in ("usage_limit", "per_customer_limit"):
        limit = getattr(p, name)
        if limit is not None and limit < 1:
            bad(name, "promotion.invalid_limit", "at least 1")
    return errors


def _tier_errors(p: Promotion) -> list[FieldError]:
    errors: list[FieldError] = []
    if not p.tiers:
        return [FieldError("tiers", "promotion.tiers_required", "at least one tier")]
    previous = 0
    for i, tier in enumerate(p.tiers):
        if tier.threshold <= previous:
            errors.append(
                FieldError(
                    f"tiers.{i}.threshold",
                    "promotion.tiers_not_ascending",
                    "thresholds are positive and strictly ascending",
                )
            )
        previous = max(previous, tier.threshold)
        has_percent, has_amount = tier.percent is not None, tier.amount is not None
        if has_percent == has_amount or (p.kind is RuleKind.QUANTITY_TIERS and not has_percent):
            errors.append(
                FieldError(f"tiers.{i}", "promotion.invalid_tier", "exactly one of percent, amount")
            )
        elif has_percent and not _percent_ok(tier.percent):
            errors.append(
                FieldError(f"tiers.{i}.percent", "promotion.invalid_percent", "0 < percent <= 100")
            )
        elif has_amount and not (tier.amount and tier.amount > 0):
            errors.append(
                FieldError(f"tiers.{i}.amount", "promotion.invalid_amount", "a positive amount")
            )
    return errors


class CouponRefusal(StrEnum):
    """Why a coupon did not apply; the value is the stable error code's last part."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    INACTIVE = "inactive"
    MINIMUM_SPEND = "minimum_spend_not_met"
    USAGE_LIMIT = "usage_limit_reached"
    CUSTOMER_LIMIT = "customer_limit_reached"
    ALREADY_USED = "already_used"
    CHANNEL = "not_for_channel"
    LOCATION = "not_for_location"
    CUSTOMER = "not_for_customer"
    CURRENCY = "wrong_currency"
    NOT_APPLICABLE = "no_eligible_items"
    OUTSIDE_HOURS = "outside_hours"
    NOT_BEST = "better_promotion_applied"


@dataclass(frozen=True, slots=True)
class Coupon:
    """A code entered at checkout. `uses` counts redemptions so far (as loaded); a single-use
    code is spent once `uses` reaches 1."""

    code: str
    promotion_id: str
    single_use: bool = True
    uses: int = 0
    usage_limit: int | None = None  # for a shared code; single-use codes have 1
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class Usage:
    """Redemptions of a promotion so far, in total and by the cart's customer (as loaded)."""

    total: int = 0
    by_customer: int = 0

"""The promotion engine: which promotions a cart earns, and what each takes off which unit.

CONTRACT (filled in by the promotions work; keep these names and fields):

    apply_promotions(data: PromotionInput) -> PromotionResult

Lines arrive priced (unit price in the cart's currency, after any permitted override and
manual line discount). The result names, per line, each adjustment with the promotion that
gave it, split over the line's units by largest remainder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from omnitill.domain.pricing.cart import (
    Adjustment,
    AppliedPromotion,
    CouponResult,
    GiftOffer,
    PricingContext,
)
from omnitill.domain.promotions.index import PromotionCatalog
from omnitill.domain.promotions.model import Coupon, Usage


@dataclass(frozen=True, slots=True)
class PromoLine:
    key: str
    variant_id: str
    quantity: int  # base units; weighed lines count as one unit for rules that count units
    unit_price: int
    amount: int  # what the line costs before promotions (after manual line discount)
    category_ids: frozenset[str] = frozenset()
    collection_ids: frozenset[str] = frozenset()
    brand_id: str | None = None
    sold_by_weight: bool = False


@dataclass(frozen=True, slots=True)
class PromotionInput:
    context: PricingContext
    lines: Sequence[PromoLine]
    catalog: PromotionCatalog
    usage: Mapping[str, Usage] = field(default_factory=dict)
    coupons: Mapping[str, Coupon] = field(default_factory=dict)
    coupon_codes: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class LineAdjustments:
    key: str
    adjustments: tuple[Adjustment, ...]
    unit_discounts: tuple[int, ...]  # sum of adjustments, split over units (len = units)


@dataclass(frozen=True, slots=True)
class PromotionResult:
    lines: tuple[LineAdjustments, ...]  # one per input line, same order
    applied: tuple[AppliedPromotion, ...]
    coupons: tuple[CouponResult, ...]
    gift_offers: tuple[GiftOffer, ...]


def apply_promotions(data: PromotionInput) -> PromotionResult:
    raise NotImplementedError

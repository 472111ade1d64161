"""Builders shared by the promotion engine tests (this module holds no tests of its own).

Amounts are minor units; the default sale is in USD, in store S01, on Monday 2026-05-04 at
16:00 UTC, with no customer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from omnitill.domain.pricing.cart import PricingContext
from omnitill.domain.promotions.engine import (
    PromoLine,
    PromotionInput,
    PromotionResult,
    apply_promotions,
)
from omnitill.domain.promotions.index import PromotionCatalog
from omnitill.domain.promotions.model import Coupon, Promotion, RuleKind, Target, Usage

MONDAY_4PM_UTC = datetime(2026, 5, 4, 16, 0, tzinfo=UTC)
_FIXED_AMOUNTS = ("amount", "price", "min_spend")


def context(**overrides: Any) -> PricingContext:
    values: dict[str, Any] = {
        "currency": "USD",
        "channel": "in_store",
        "at": MONDAY_4PM_UTC,
        "location": "S01",
    }
    values.update(overrides)
    return PricingContext(**values)


def line(
    variant: str,
    price: int,
    quantity: int = 1,
    *,
    categories: Iterable[str] = (),
    collections: Iterable[str] = (),
    brand: str | None = None,
    weighed: bool = False,
    amount: int | None = None,
) -> PromoLine:
    """A line of `quantity` units at `price` (per kg and grams when weighed)."""
    if amount is None:
        amount = price * quantity // 1000 if weighed else price * quantity
    return PromoLine(
        key="",
        variant_id=variant,
        quantity=quantity,
        unit_price=price,
        amount=amount,
        category_ids=frozenset(categories),
        collection_ids=frozenset(collections),
        brand_id=brand,
        sold_by_weight=weighed,
    )


def on(*variants: str) -> Target:
    return Target(variant_ids=frozenset(variants))


def promo(pid: str, kind: RuleKind, **fields: Any) -> Promotion:
    """A promotion named after its id; percents may be given as int or str."""
    for name in ("percent", "get_percent"):
        if fields.get(name) is not None and not isinstance(fields[name], Decimal):
            fields[name] = Decimal(str(fields[name]))
    needs_currency = any(fields.get(name) is not None for name in _FIXED_AMOUNTS)
    if (needs_currency or kind is RuleKind.SPEND_TIERS) and "currency" not in fields:
        fields["currency"] = "USD"
    return Promotion(id=pid, name=fields.pop("name", pid.upper()), kind=kind, **fields)


def run(
    lines: Sequence[PromoLine],
    promotions: Iterable[Promotion] = (),
    *,
    codes: Sequence[str] = (),
    coupons: Iterable[Coupon] = (),
    usage: Mapping[str, Usage] | None = None,
    **context_overrides: Any,
) -> PromotionResult:
    keyed = [x if x.key else replace(x, key=str(i)) for i, x in enumerate(lines)]
    return apply_promotions(
        PromotionInput(
            context=context(**context_overrides),
            lines=keyed,
            catalog=PromotionCatalog.of(promotions),
            usage=usage or {},
            coupons={c.code: c for c in coupons},
            coupon_codes=codes,
        )
    )


def line_discounts(result: PromotionResult) -> list[int]:
    return [sum(a.amount for a in x.adjustments) for x in result.lines]


def total(result: PromotionResult) -> int:
    return sum(line_discounts(result))


def applied(result: PromotionResult) -> dict[str, int]:
    return {a.promotion_id: a.amount for a in result.applied}


def check_invariants(lines: Sequence[PromoLine], result: PromotionResult) -> None:
    """Allocation invariants every result must keep."""
    assert len(result.lines) == len(lines)
    for given, got in zip(lines, result.lines, strict=True):
        units = 1 if given.sold_by_weight else given.quantity
        assert len(got.unit_discounts) == units
        assert sum(got.unit_discounts) == sum(a.amount for a in got.adjustments)
        assert sum(got.unit_discounts) <= max(given.amount, 0)
        assert all(d >= 0 for d in got.unit_discounts)
        if units and given.amount > 0:
            base, high = divmod(given.amount, units)
            values = [base + 1] * high + [base] * (units - high)
            assert all(d <= v for d, v in zip(got.unit_discounts, values, strict=True))
    assert sum(a.amount for a in result.applied) == total(result)
    assert len({a.promotion_id for a in result.applied}) == len(result.applied)

"""Entered coupon codes: which promotion each unlocks, and the sentence the register shows.

Codes are matched against `PromotionInput.coupons` without case, spaces or hyphens
(`normalize_code`). Every entered code gets one `CouponResult`, in the order entered. A code
entered a second time is refused as `already_used` ("already entered on this sale"), as is a
second code for a promotion another entered code already unlocked: a promotion applies once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from omnitill.domain.money import format_major
from omnitill.domain.pricing.cart import CouponResult, PricingContext
from omnitill.domain.promotions.eligibility import (
    coupon_refusal,
    normalize_code,
    promotion_refusal,
)
from omnitill.domain.promotions.index import PromotionCatalog
from omnitill.domain.promotions.model import Coupon, CouponRefusal, Promotion, Usage

R = CouponRefusal
_SENTENCES: dict[CouponRefusal, str] = {
    R.UNKNOWN: "Coupon {code} is not recognised.",
    R.EXPIRED: "Coupon {code} has expired.",
    R.NOT_YET_VALID: "Coupon {code} is not valid yet.",
    R.INACTIVE: "Coupon {code} is not active.",
    R.MINIMUM_SPEND: "Coupon {code} needs a spend of at least {spend} on eligible items.",
    R.USAGE_LIMIT: "Coupon {code} has reached its usage limit.",
    R.CUSTOMER_LIMIT: "Coupon {code} has been used as many times as this customer may.",
    R.ALREADY_USED: "Coupon {code} has already been used.",
    R.CHANNEL: "Coupon {code} cannot be used on this sales channel.",
    R.LOCATION: "Coupon {code} cannot be used at this location.",
    R.CUSTOMER: "Coupon {code} is not available to this customer.",
    R.CURRENCY: "Coupon {code} is only valid in {currency}.",
    R.NOT_APPLICABLE: "Coupon {code} does not apply to any item in the cart.",
    R.OUTSIDE_HOURS: "Coupon {code} is not valid at this time of day.",
    R.NOT_BEST: "Coupon {code} was not applied: a better promotion gives the customer more.",
}


@dataclass(frozen=True, slots=True)
class EnteredCode:
    """One entered code: the promotion it unlocks, or why it was refused before pricing."""

    code: str
    promotion: Promotion | None = None
    refusal: CouponRefusal | None = None
    message: str = ""


def refused(
    code: str, refusal: CouponRefusal, promotion: Promotion | None, context: PricingContext
) -> CouponResult:
    currency = (promotion.currency if promotion else None) or context.currency
    spend = promotion.min_spend if promotion and promotion.min_spend is not None else 0
    message = _SENTENCES[refusal].format(
        code=code, spend=f"{format_major(spend, currency)} {currency}", currency=currency
    )
    return CouponResult(code, accepted=False, refusal=refusal, message=message)


def _first_refusal(
    coupon: Coupon,
    p: Promotion,
    *,
    context: PricingContext,
    usage: Mapping[str, Usage],
    local: datetime,
) -> CouponRefusal | None:
    return coupon_refusal(coupon, at=local) or promotion_refusal(
        p, context=context, usage=usage, local=local
    )


def read_codes(
    *,
    codes: Sequence[str],
    coupons: Mapping[str, Coupon],
    catalog: PromotionCatalog,
    context: PricingContext,
    usage: Mapping[str, Usage],
    local: datetime,
) -> list[EnteredCode]:
    """Each entered code, with its promotion when nothing about the code or the sale's
    context (dates, limits, scope, currency, hours) rules it out."""
    found: dict[str, Coupon] = {}
    for key, stored in coupons.items():
        found.setdefault(normalize_code(key), stored)
        found.setdefault(normalize_code(stored.code), stored)
    seen: set[str] = set()
    unlocked: dict[str, str] = {}  # promotion id -> the code that unlocked it
    entered: list[EnteredCode] = []
    for code in codes:
        key = normalize_code(code)
        coupon = found.get(key)
        p = catalog.by_id(coupon.promotion_id) if coupon is not None else None
        if key in seen:
            message = f"Coupon {code} was already entered on this sale."
            entered.append(EnteredCode(code, p, CouponRefusal.ALREADY_USED, message))
            continue
        seen.add(key)
        if coupon is None or p is None:
            entered.append(EnteredCode(code, None, CouponRefusal.UNKNOWN))
            continue
        refusal = _first_refusal(coupon, p, context=context, usage=usage, local=local)
        if refusal is None and p.id in unlocked:
            message = f"Coupon {code} unlocks the same promotion as {unlocked[p.id]}."
            entered.append(EnteredCode(code, p, CouponRefusal.ALREADY_USED, message))
            continue
        if (
            refusal is CouponRefusal.CUSTOMER
            and p.per_customer_limit is not None
            and context.customer_id is None
        ):
            message = f"Coupon {code} is limited per customer: add the customer to the sale."
            entered.append(EnteredCode(code, p, refusal, message))
            continue
        if refusal is None:
            unlocked[p.id] = code
        entered.append(EnteredCode(code, p, refusal))
    return entered


def result(
    entry: EnteredCode, refusal: CouponRefusal | None, context: PricingContext, message: str = ""
) -> CouponResult:
    """The register's answer for an entered code once pricing has decided (`refusal` None:
    the promotion applied, or its gift is on offer)."""
    if refusal is None:
        name = entry.promotion.name if entry.promotion else ""
        text = message or f"Coupon {entry.code} applied: {name}."
        return CouponResult(entry.code, accepted=True, message=text)
    if entry.message:
        return CouponResult(entry.code, False, refusal, entry.message)
    return refused(entry.code, refusal, entry.promotion, context)

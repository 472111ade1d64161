"""Whether a promotion, or a coupon, may run for this sale at all, before any item is looked at.

Checked in this order, and the first failure is the reason given: active; date window
(`starts_at <= at < ends_at`); usage limits (`usage.total < usage_limit`, and
`usage.by_customer < per_customer_limit`, which needs a known customer: without one the
promotion is refused as not for this customer); channel; location (by code); customer groups;
currency (a promotion with a `currency` only runs on carts in it); time-of-day windows, read in
the selling location's local time (`context.timezone`), so a 17:00-19:00 happy hour in
New York is 17:00-19:00 on New York clocks whatever the server's zone. An empty scope set
means "any".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from omnitill.domain.pricing.cart import PricingContext
from omnitill.domain.promotions.model import Coupon, CouponRefusal, Promotion, Usage

_NO_USAGE = Usage()


def local_time(context: PricingContext) -> datetime:
    """`context.at` on the selling location's clocks (a naive `at` is read as UTC)."""
    at = context.at if context.at.tzinfo is not None else context.at.replace(tzinfo=UTC)
    return at.astimezone(ZoneInfo(context.timezone))


def in_hours(p: Promotion, local: datetime) -> bool:
    if not p.hours:
        return True
    moment, weekday = local.time().replace(tzinfo=None), local.weekday()
    return any(weekday in w.weekdays and w.start <= moment < w.end for w in p.hours)


def promotion_refusal(
    p: Promotion,
    *,
    context: PricingContext,
    usage: Mapping[str, Usage],
    local: datetime,
) -> CouponRefusal | None:
    """Why `p` cannot run for this sale, or None when it may."""
    at = local
    if not p.active:
        return CouponRefusal.INACTIVE
    if p.starts_at is not None and at < p.starts_at:
        return CouponRefusal.NOT_YET_VALID
    if p.ends_at is not None and at >= p.ends_at:
        return CouponRefusal.EXPIRED
    used = usage.get(p.id, _NO_USAGE)
    if p.usage_limit is not None and used.total >= p.usage_limit:
        return CouponRefusal.USAGE_LIMIT
    if p.per_customer_limit is not None:
        if context.customer_id is None:
            return CouponRefusal.CUSTOMER
        if used.by_customer >= p.per_customer_limit:
            return CouponRefusal.CUSTOMER_LIMIT
    if p.channels and context.channel not in p.channels:
        return CouponRefusal.CHANNEL
    if p.locations and context.location not in p.locations:
        return CouponRefusal.LOCATION
    if p.customer_groups and p.customer_groups.isdisjoint(context.customer_groups):
        return CouponRefusal.CUSTOMER
    if p.currency is not None and p.currency != context.currency:
        return CouponRefusal.CURRENCY
    if not in_hours(p, local):
        return CouponRefusal.OUTSIDE_HOURS
    return None


def coupon_refusal(c: Coupon, *, at: datetime) -> CouponRefusal | None:
    """Why the code itself cannot be used: inactive, outside its dates, or spent. A single-use
    code is spent after one use (`already_used`); a shared code after `usage_limit` uses."""
    if not c.active:
        return CouponRefusal.INACTIVE
    if c.starts_at is not None and at < c.starts_at:
        return CouponRefusal.NOT_YET_VALID
    if c.ends_at is not None and at >= c.ends_at:
        return CouponRefusal.EXPIRED
    if c.single_use and c.uses >= 1:
        return CouponRefusal.ALREADY_USED
    if c.usage_limit is not None and c.uses >= c.usage_limit:
        return CouponRefusal.USAGE_LIMIT
    return None


def normalize_code(code: str) -> str:
    """Codes compare without case, spaces or hyphens: "summer-10 " is "SUMMER10"."""
    return "".join(ch for ch in code if not ch.isspace() and ch != "-").upper()

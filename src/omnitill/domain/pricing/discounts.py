"""Manual discounts and how every discount is split, so the parts always sum to the whole.

A manual discount (a cashier's, permitted and reasoned by the service) is a percent (`Decimal`,
above 0 and at most 100) or an amount (whole minor units, above 0). On a line it is taken off
the line's subtotal; on the order, off what the lines still cost after promotions, split over
the lines by largest remainder on those amounts. Either is capped at what it applies to, so no
line goes below zero. Percentages round half-up to the minor unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from omnitill.domain.errors import FieldError
from omnitill.domain.money import allocate, round_minor
from omnitill.domain.pricing.cart import DiscountKind, ManualDiscount

_HUNDRED = Decimal(100)


def discount_errors(discount: ManualDiscount, field: str) -> list[FieldError]:
    """What is wrong with a manual discount's value, naming `field`.value."""
    value = Decimal(discount.value)
    if discount.kind is DiscountKind.PERCENT:
        if not (value.is_finite() and Decimal(0) < value <= _HUNDRED):
            return [FieldError(f"{field}.value", "pricing.invalid_percent", "above 0, at most 100")]
        return []
    if not (value.is_finite() and value > 0 and value == value.to_integral_value()):
        return [
            FieldError(
                f"{field}.value", "pricing.invalid_amount", "a positive whole number of minor units"
            )
        ]
    return []


def discount_amount(discount: ManualDiscount, base: int) -> int:
    """What `discount` takes off `base` minor units, capped at `base`."""
    if base <= 0:
        return 0
    value = Decimal(discount.value)
    if discount.kind is DiscountKind.PERCENT:
        wanted = round_minor(Decimal(base) * value / _HUNDRED)
    else:
        wanted = int(value)
    return min(wanted, base)


def allocate_order_discount(
    discount: ManualDiscount | None,
    remaining: Sequence[int],
    *,
    tie_keys: Sequence[tuple[object, ...]],
) -> list[int]:
    """The order discount's share of each line, by largest remainder on `remaining`.

    The discount is computed on the sum of `remaining` and capped there; as each share is at
    most the line's remaining amount (largest remainder never rounds a part above its exact
    share's ceiling), no line goes below zero. Equal remainders are settled in the order of
    `tie_keys` (what the line is, not where it sits), so reordering a cart never moves a cent
    to a line taxed at another rate.
    """
    if discount is None or not remaining:
        return [0] * len(remaining)
    total = discount_amount(discount, sum(remaining))
    order = sorted(range(len(remaining)), key=lambda i: tie_keys[i])
    parts = allocate(total, [max(0, remaining[i]) for i in order])
    shares = [0] * len(remaining)
    for i, part in zip(order, parts, strict=True):
        shares[i] = part
    return shares


def split_over_units(total: int, room: Sequence[int]) -> list[int]:
    """Split `total` over units by largest remainder on each unit's `room` (what it still costs).

    With `total` at most the sum of `room`, no unit receives more than its room.
    """
    if total == 0:
        return [0] * len(room)
    first = room[0]
    if first > 0 and all(r == first for r in room):
        # equal rooms: what `allocate` gives, without its sort (most lines are like this)
        share, extra = divmod(total, len(room))
        return [share + 1] * extra + [share] * (len(room) - extra)
    return allocate(total, [max(0, r) for r in room])

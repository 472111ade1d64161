"""Each promotion's discount on each line, split over the line's units.

A promotion's discount has already been spread over the lines it touched (see `rules` and
`order_stage`). Here each line's share goes to units by largest remainder (`money.allocate`):
a product promotion's share over the units it claimed, weighted by their values; the order
promotions' shares together over all of the line's units, weighted by what each still costs. Shares
never exceed what they are spread over, so parts always sum to the whole and no unit goes
below zero. A weighed line is one unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from omnitill.domain.money import allocate
from omnitill.domain.promotions.model import Promotion
from omnitill.domain.promotions.units import Application, Cart, Take, UnitLine


@dataclass(frozen=True, slots=True)
class LineSplit:
    adjustments: tuple[tuple[Promotion, int], ...]  # in the order they were applied
    unit_discounts: tuple[int, ...]


def _values(line: UnitLine, count: int) -> list[int]:
    if line.units == 0:
        return [0] * count
    return [line.base + 1] * line.high + [line.base] * (line.units - line.high)


def _add(target: list[int], indexes: Sequence[int], total: int, weights: Sequence[int]) -> None:
    """Add `total` to `target` at `indexes`, split by `weights` (largest remainder)."""
    if len(weights) == 1:
        parts = [total]
    elif min(weights) == max(weights) > 0:  # equal units: allocate's even split, made quick
        each, extra = divmod(total, len(weights))
        parts = [each + 1] * extra + [each] * (len(weights) - extra)
    else:
        parts = allocate(total, weights)
    for j, part in zip(indexes, parts, strict=True):
        target[j] += part


def _split_line(
    line: UnitLine,
    count: int,
    product: Sequence[tuple[Application, Take | None, int]],
    order: Sequence[tuple[Application, int]],
) -> LineSplit:
    if not product and not order:
        return LineSplit((), (0,) * count)
    if count == 1 and line.units == 1:
        found = [(app.promotion, share) for app, _, share in product if share]
        found += [(app.promotion, share) for app, share in order]
        return LineSplit(tuple(found), (sum(share for _, share in found),))
    values = _values(line, count)
    unit = [0] * len(values)
    adjustments: list[tuple[Promotion, int]] = []
    next_high, next_low = 0, line.high
    for app, take, share in product:
        indexes: list[int] = []
        if take is not None:
            indexes = [*range(next_high, next_high + take.high)]
            indexes += range(next_low, next_low + take.low)
            next_high, next_low = next_high + take.high, next_low + take.low
        if share:
            if not indexes:  # not expected: shares sit on claimed units
                indexes = [j for j in range(len(values)) if values[j] > unit[j]]
            _add(unit, indexes, share, [values[j] - unit[j] for j in indexes])
            adjustments.append((app.promotion, share))
    # Order promotions each take a share of what the line still costs; together they are
    # split once over its units, by what each unit still costs.
    if order:
        room = [v - u for v, u in zip(values, unit, strict=True)]
        _add(unit, range(len(unit)), sum(share for _, share in order), room)
        adjustments.extend((app.promotion, share) for app, share in order)
    return LineSplit(tuple(adjustments), tuple(unit))


def split_over_units(
    cart: Cart,
    *,
    counts: Sequence[int],
    product: Sequence[Application],
    order: Sequence[Application],
) -> list[LineSplit]:
    """Per line (in cart order): each promotion's amount and the discount per unit.
    `counts` is how many units each line reports (its quantity; 1 when weighed)."""
    product_by_line: list[list[tuple[Application, Take | None, int]]] = [[] for _ in counts]
    order_by_line: list[list[tuple[Application, int]]] = [[] for _ in counts]
    for app in product:
        shares = dict(app.shares)
        takes = {t.line: t for t in app.takes}
        for i in sorted(shares.keys() | takes.keys()):
            product_by_line[i].append((app, takes.get(i), shares.get(i, 0)))
    for app in order:
        for i, share in app.shares:
            order_by_line[i].append((app, share))
    return [
        _split_line(line, count, p, o)
        for line, count, p, o in zip(
            cart.lines, counts, product_by_line, order_by_line, strict=True
        )
    ]

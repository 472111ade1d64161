"""The cart as units a promotion can claim, and what a promotion did to them.

A line of `quantity` units costing `amount` is split into units by largest remainder: the
first `amount % quantity` units are worth one minor unit more than the rest ("high" and "low"
units), so unit values always sum to the line's amount. A weighed line (sold by weight) is a
single unit worth its whole amount. A line with no units or nothing to pay (quantity or amount
of 0 or less) cannot be discounted.

Availability is a flat tuple with, per line, the high units then the low units not yet claimed
by a product promotion; it is hashable, so the combination search can memoise on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from omnitill.domain.money import allocate
from omnitill.domain.promotions.model import Promotion

Avail = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class UnitLine:
    """One cart line as units (lines are kept in a canonical order, see `engine`)."""

    variant_id: str
    units: int
    base: int  # value of a low unit
    high: int  # how many units are worth base + 1; they come first
    amount: int
    weighed: bool
    grams: int  # the quantity of a weighed line, in grams

    def value(self, high: bool) -> int:
        return self.base + 1 if high else self.base


def unit_line(*, variant_id: str, quantity: int, amount: int, weighed: bool) -> UnitLine:
    units = 1 if weighed else quantity
    if units <= 0 or amount <= 0:
        return UnitLine(variant_id, 0, 0, 0, max(amount, 0), weighed, max(quantity, 0))
    base, high = divmod(amount, units)
    return UnitLine(variant_id, units, base, high, amount, weighed, quantity)


@dataclass(frozen=True, slots=True)
class Cart:
    lines: tuple[UnitLine, ...]

    def full(self) -> Avail:
        return tuple(n for line in self.lines for n in (line.high, line.units - line.high))

    def with_amounts(self, amounts: Sequence[int]) -> Cart:
        """The same lines costing `amounts` (what remains after earlier discounts)."""
        return Cart(
            tuple(
                unit_line(
                    variant_id=line.variant_id,
                    quantity=line.grams if line.weighed else line.units,
                    amount=amount,
                    weighed=line.weighed,
                )
                for line, amount in zip(self.lines, amounts, strict=True)
            )
        )

    def available_units(self, lines: Iterable[int], avail: Avail) -> int:
        return sum(avail[2 * i] + avail[2 * i + 1] for i in lines)


class Run(NamedTuple):
    """`size` available units of one line, all worth `value`."""

    line: int
    high: bool
    value: int
    size: int


def runs(cart: Cart, lines: Iterable[int], avail: Avail, *, descending: bool) -> list[Run]:
    """The available units of `lines` as runs, most valuable first (or cheapest first).
    Equal values are ordered by line position: lines are in a canonical order (by variant id
    first), so the choice between equal units never depends on how the cart was entered."""
    sign = -1 if descending else 1
    found: list[tuple[int, int, bool, int]] = []
    for i in lines:
        base, high, low = cart.lines[i].base, avail[2 * i], avail[2 * i + 1]
        if high > 0:
            found.append((sign * (base + 1), i, True, high))
        if low > 0:
            found.append((sign * base, i, False, low))
    found.sort()
    return [Run(i, high, sign * value, count) for value, i, high, count in found]


class Cursor:
    """Walks runs unit by unit without expanding them."""

    def __init__(self, items: Sequence[Run]) -> None:
        self._runs = items
        self._index = 0
        self._used = 0
        self.remaining = sum(r.size for r in items)

    def current(self) -> Run:
        return self._runs[self._index]

    def left_in_run(self) -> int:
        return self._runs[self._index].size - self._used

    def mark(self) -> tuple[int, int, int]:
        return (self._index, self._used, self.remaining)

    def reset(self, mark: tuple[int, int, int]) -> None:
        self._index, self._used, self.remaining = mark

    def take(self, n: int) -> list[Run]:
        """The next `n` units (fewer if the runs end), as runs."""
        taken: list[Run] = []
        while n > 0 and self._index < len(self._runs):
            run = self._runs[self._index]
            k = min(n, run.size - self._used)
            taken.append(Run(run.line, run.high, run.value, k))
            n -= k
            self._used += k
            self.remaining -= k
            if self._used == run.size:
                self._index += 1
                self._used = 0
        return taken


def split_units(parts: Sequence[Run], n: int) -> tuple[list[Run], list[Run]]:
    """The first `n` units of `parts`, and the rest."""
    head: list[Run] = []
    tail: list[Run] = []
    for run in parts:
        k = min(n, run.size)
        if k:
            head.append(Run(run.line, run.high, run.value, k))
        if run.size - k:
            tail.append(Run(run.line, run.high, run.value, run.size - k))
        n -= k
    return head, tail


def value_of(parts: Iterable[Run]) -> int:
    return sum(r.value * r.size for r in parts)


def value_by_line(parts: Iterable[Run]) -> dict[int, int]:
    totals: dict[int, int] = {}
    for r in parts:
        totals[r.line] = totals.get(r.line, 0) + r.value * r.size
    return totals


class Take(NamedTuple):
    """Units of one line a promotion claimed."""

    line: int
    high: int
    low: int


def takes_of(parts: Iterable[Run]) -> tuple[Take, ...]:
    counts: dict[int, list[int]] = {}
    for r in parts:
        pair = counts.setdefault(r.line, [0, 0])
        pair[0 if r.high else 1] += r.size
    return tuple(Take(line, h, lo) for line, (h, lo) in sorted(counts.items()))


def claim(avail: Avail, takes: Iterable[Take]) -> Avail:
    after = list(avail)
    for t in takes:
        after[2 * t.line] -= t.high
        after[2 * t.line + 1] -= t.low
    return tuple(after)


def spread(total: int, weights: Mapping[int, int]) -> tuple[tuple[int, int], ...]:
    """`total` over lines in proportion to `weights` by largest remainder, in line order;
    lines whose share is 0 are left out."""
    if total <= 0 or not weights:
        return ()
    if len(weights) == 1:
        return tuple((i, total) for i in weights)
    lines = sorted(weights)
    parts = allocate(total, [weights[i] for i in lines])
    return tuple((i, part) for i, part in zip(lines, parts, strict=True) if part)


@dataclass(frozen=True, slots=True)
class Application:
    """What one promotion did: its discount, the units it claimed (product promotions only)
    and its discount per line, which sums to `discount`. A buy-X-get-Y also names its reward
    units (`rewards`, the units given free or discounted; they are among `takes`, the other
    claimed units being the ones bought to earn them)."""

    promotion: Promotion
    discount: int
    takes: tuple[Take, ...]
    shares: tuple[tuple[int, int], ...]
    rewards: tuple[Take, ...] = ()

    @property
    def units(self) -> int:
        return sum(t.high + t.low for t in self.takes)


def line_discounts(size: int, apps: Sequence[Application], start: Sequence[int] = ()) -> list[int]:
    found = list(start) if start else [0] * size
    for app in apps:
        for line, share in app.shares:
            found[line] += share
    return found

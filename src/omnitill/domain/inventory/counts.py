"""Cycle counts: counting part of a location's stock while it keeps selling.

A count session covers a location, or one category at it (with its subcategories). It is born
`open` with one line per variant stocked there and `expected_at_start` = its on_hand at that
moment. Counters enter what they find on the shelf (a later count of a SKU replaces the
earlier one) and `submit`; a manager `approve`s, which books each variance as a `count`
movement, or the session is `cancelled`.

The store does not stop selling while it counts, so what a shelf should hold is measured at
the moment it was counted, not when the session started:

    expected_at_count = expected_at_start + on_hand movements between the start and the count
    variance          = counted - expected_at_count

Movements of kind `count` are left out of that sum (they are corrections, not trade). The
variance is booked as an increment of on_hand, so sales made after the count stay booked.

Blind counting: while a blind session is open, only holders of `stock.adjust` see expected
quantities and variances; counters see what they counted, so they count instead of
confirming a number.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from omnitill.domain.errors import Conflict, FieldError, ValidationFailed


class CountStatus(StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    CANCELLED = "cancelled"


class CountStep(StrEnum):
    RECORD = "record"
    SUBMIT = "submit"
    APPROVE = "approve"
    CANCEL = "cancel"


class Uncounted(StrEnum):
    """What approval does with lines nobody counted: leave their stock alone, or count
    them as none found."""

    SKIP = "skip"
    ZERO = "zero"


# A session in one of these holds its scope: a second count of the same scope would book
# the same variances twice.
IN_PROGRESS: frozenset[CountStatus] = frozenset({CountStatus.OPEN, CountStatus.SUBMITTED})
MOVEMENT_KIND = "count"

_ALLOWED: dict[CountStep, tuple[frozenset[CountStatus], str]] = {
    CountStep.RECORD: (frozenset({CountStatus.OPEN}), "count.not_open"),
    CountStep.SUBMIT: (frozenset({CountStatus.OPEN}), "count.not_open"),
    CountStep.APPROVE: (frozenset({CountStatus.SUBMITTED}), "count.not_approvable"),
    CountStep.CANCEL: (IN_PROGRESS, "count.not_cancellable"),
}


def allowed_from(step: CountStep) -> frozenset[CountStatus]:
    """The statuses `step` may start from."""
    return _ALLOWED[step][0]


def check_step(current: str, step: CountStep, *, number: str) -> None:
    """Refuse (409) a step the session's status does not allow, saying what it is."""
    statuses, code = _ALLOWED[step]
    if current not in statuses:
        raise Conflict(
            code,
            f"count {number} is {current}; {step} needs it "
            f"{' or '.join(sorted(str(s) for s in statuses))}",
            {"number": number, "status": current},
        )


def check_counts(lines: Sequence[tuple[str, int]]) -> None:
    """Each line names a SKU once with a count of 0 or more; every problem is listed."""
    errors: list[FieldError] = []
    if not lines:
        errors.append(FieldError("lines", "count.no_lines", "at least one line"))
    seen: set[str] = set()
    for i, (sku, counted) in enumerate(lines):
        if counted < 0:
            errors.append(
                FieldError(f"lines.{i}.counted", "stock.count_negative", "a count is 0 or more")
            )
        if sku in seen:
            errors.append(FieldError(f"lines.{i}.sku", "count.duplicate_sku", f"{sku} is repeated"))
        seen.add(sku)
    if errors:
        raise ValidationFailed(errors[0].code, "some counts are invalid", errors=errors)


def shows_expected(*, blind: bool, status: str, may_adjust: bool) -> bool:
    """Whether a viewer sees expected quantities and variances: always for a session that
    is not blind or no longer open, else only with `stock.adjust`."""
    return may_adjust or not blind or status != CountStatus.OPEN


K = TypeVar("K", bound=Hashable)


def category_scope(root: K, parents: Mapping[K, K | None]) -> frozenset[K]:
    """`root` and every category below it, given each category's parent."""
    children: dict[K, list[K]] = {}
    for child, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    scope = {root}
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in scope:  # a cycle in bad data must not loop forever
                scope.add(child)
                todo.append(child)
    return frozenset(scope)


@dataclass(frozen=True, slots=True)
class LineVariance:
    """One variant of a count, measured at the moment it was counted.

    `movements_during`: the sum of its on_hand movements (other than counts) between the
    session start and `counted` being taken (up to now while uncounted).
    """

    expected_at_start: int
    movements_during: int
    counted: int | None
    unit_cost: int | None = None

    @property
    def expected_at_count(self) -> int:
        return self.expected_at_start + self.movements_during

    @property
    def variance(self) -> int | None:
        """counted - expected_at_count; None while uncounted."""
        return None if self.counted is None else self.counted - self.expected_at_count

    @property
    def value(self) -> int | None:
        """The variance at the variant's cost (minor units); None without a cost or count."""
        variance = self.variance
        return None if variance is None or self.unit_cost is None else variance * self.unit_cost

    def booking(self, uncounted: Uncounted) -> int | None:
        """The on_hand change approval books: the variance of a counted line; for an
        uncounted one, nothing (skip) or everything expected (zero). None: not booked."""
        if self.counted is not None:
            return self.variance
        if uncounted is Uncounted.ZERO:
            return -self.expected_at_count
        return None


@dataclass(frozen=True, slots=True)
class Totals:
    lines: int
    counted: int
    uncounted: int
    units_over: int
    units_short: int
    value_over: int
    value_short: int
    lines_without_cost: int

    @property
    def net_units(self) -> int:
        return self.units_over - self.units_short

    @property
    def net_value(self) -> int:
        return self.value_over - self.value_short


def totals(lines: Sequence[tuple[bool, int | None, int | None]]) -> Totals:
    """Sum (counted?, variance, unit cost) over the lines. A variance None is not booked
    (an uncounted line); a nonzero variance without a cost adds to `lines_without_cost`."""
    over = short = value_over = value_short = no_cost = 0
    for _, units, cost in lines:
        if not units:
            continue
        if cost is None:
            no_cost += 1
        value = units * (cost or 0)
        if units > 0:
            over += units
            value_over += value
        else:
            short -= units
            value_short -= value
    counted = sum(1 for was_counted, _, _ in lines if was_counted)
    return Totals(
        lines=len(lines),
        counted=counted,
        uncounted=len(lines) - counted,
        units_over=over,
        units_short=short,
        value_over=value_over,
        value_short=value_short,
        lines_without_cost=no_cost,
    )

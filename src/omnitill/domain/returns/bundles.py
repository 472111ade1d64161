"""Buy X get Y on returns: a reward the customer keeps without what earned it is charged back.

A sale or order stores, for each buy-X-get-Y promotion that applied, the units it claimed per
line (`Group`): bought to earn it (`qualifying`), given free or discounted (`reward`), and its
discount on each line (on the reward units' lines). One rule covers both halves of a pair:

- A reward unit that comes back refunds what was paid for it, like any unit (nothing when it
  was free): the returns policy refunds that, nothing here adds to it.
- When units come back, the units kept are looked at afresh: the promotion is earned as many
  times as they still form complete groups (`buy` + `get` units, each kept unit in one role,
  a line in at most the roles it had). Per group, `held` is the part of its discount the kept
  units hold (a line's discount split evenly over its units, the kept ones being the last, as
  the policy splits what was paid), `earned` the discount of the groups still formed (the
  reward units keeping it are those with the most off, the customer's best). What is kept
  unearned, max(0, held - earned), is charged back; below zero the policy's proration stands.

Kept units of a line fill the groups in their listed order, then go unclaimed: units of one
line are alike, so a customer who bought three, two in a pair, and brings one back keeps the
pair. With everything kept or everything back nothing is unearned: returning a whole pair
refunds exactly what was paid for both.

Over several returns, `due` is what the kept units hold unearned after this return and
`charged_before` what earlier returns took net (charges less give-backs). A return charges
`due - charged_before` when positive, and gives the difference back when `due` fell below it
(a reward whose benefit was charged back comes back: the customer paid for it through the
charge-back). Nothing is charged twice, and once everything is back the charges and
give-backs cancel: the refunds add up to exactly what was paid.

A charge-back never makes a return refund less than nothing: it is capped at what the return
refunds (`refunds`, after any fee); the rest stays due (`outstanding`) and later refunds of the
purchase take it, else it is never collected: the customer is never asked to pay in. Amounts
are in the purchase's price basis; tax on a lost discount is not recomputed. A weighed line
counts as one unit while any of it is kept. Free gifts are earned by a spend, not by units:
they are not groups, and a return does not reconsider them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

from omnitill.domain.money import allocate, format_major
from omnitill.domain.pricing.cart import PricedCart
from omnitill.domain.returns.model import Reason

CHARGEBACK = "returns.promotion_chargeback"
CHARGEBACK_REFUNDED = "returns.promotion_chargeback_refunded"


@dataclass(frozen=True, slots=True)
class Group:
    """The units one buy-X-get-Y promotion claimed, by line number: bought to earn it
    (`qualifying`) and given (`reward`), with its discount on each line (`discounts`)."""

    promotion_id: str
    kind: str
    buy: int
    get: int
    qualifying: Mapping[int, int]
    reward: Mapping[int, int]
    discount: int
    discounts: Mapping[int, int]

    def __post_init__(self) -> None:
        if self.buy < 1 or self.get < 1:
            raise ValueError("a group buys and gets at least one unit")
        counts = (*self.qualifying.values(), *self.reward.values(), *self.discounts.values())
        if any(n < 0 for n in counts) or sum(self.discounts.values()) != self.discount:
            raise ValueError("group counts are >= 0 and its line discounts sum to its discount")

    @property
    def times(self) -> int:
        """How many times the promotion applied."""
        return min(sum(self.qualifying.values()) // self.buy, sum(self.reward.values()) // self.get)

    @property
    def line_nos(self) -> frozenset[int]:
        return frozenset(self.qualifying) | frozenset(self.reward) | frozenset(self.discounts)

    def claimed(self, line_no: int) -> int:
        return self.qualifying.get(line_no, 0) + self.reward.get(line_no, 0)

    def as_json(self) -> dict[str, Any]:
        """As stored in `sales.promotion_groups` and `orders.pricing["promotion_groups"]`."""
        return {
            "promotion_id": self.promotion_id,
            "kind": self.kind,
            "buy": self.buy,
            "get": self.get,
            "qualifying": _json_counts(self.qualifying),
            "reward": _json_counts(self.reward),
            "discount": self.discount,
            "discounts": _json_counts(self.discounts),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Group:
        return cls(
            promotion_id=str(data["promotion_id"]),
            kind=str(data["kind"]),
            buy=int(data["buy"]),
            get=int(data["get"]),
            qualifying=_counts(data.get("qualifying") or {}),
            reward=_counts(data.get("reward") or {}),
            discount=int(data["discount"]),
            discounts=_counts(data.get("discounts") or {}),
        )

    def describe(self) -> str:
        return f"Buy {self.buy} get {self.get} (promotion {self.promotion_id})"


def _json_counts(counts: Mapping[int, int]) -> dict[str, int]:
    return {str(line_no): n for line_no, n in sorted(counts.items()) if n}


def _counts(data: Mapping[str, Any]) -> dict[int, int]:
    return {int(line_no): int(n) for line_no, n in data.items()}


def snapshot(cart: PricedCart) -> list[dict[str, Any]]:
    """The cart's promotion groups as stored with a sale or an order: lines are numbered by
    their position in the cart from 1, as sale and order lines are."""
    line_no = {line.key: i + 1 for i, line in enumerate(cart.lines)}
    return [
        Group(
            promotion_id=g.promotion_id,
            kind=g.kind,
            buy=g.buy,
            get=g.get,
            qualifying={line_no[key]: n for key, n in g.qualifying},
            reward={line_no[key]: n for key, n in g.reward},
            discount=g.discount,
            discounts={line_no[key]: n for key, n in g.discounts},
        ).as_json()
        for g in cart.promotion_groups
    ]


@dataclass(frozen=True, slots=True)
class BundleLine:
    """A sold line as a return sees it: units sold, and units no longer with the customer
    before this return (taken by earlier returns; for an order, also units never fulfilled)."""

    quantity: int
    returned: int = 0


@dataclass(frozen=True, slots=True)
class LineChargeback:
    """What the buy-X-get-Y rule does to one returned line's refund: `charged` is taken off it
    (never more than it), `refunded` gives back an earlier return's charge-back."""

    line_no: int
    charged: int
    refunded: int
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class Chargebacks:
    """One return's charge-backs: per returned line (only lines with one), the totals, `due`
    (what the units kept hold unearned after the return) and `outstanding` (the part of
    `due` not charged back yet, the return's refund being too small)."""

    lines: Mapping[int, LineChargeback]
    charged: int
    refunded: int
    due: int
    outstanding: int

    @property
    def charged_after(self) -> int:
        """What the purchase's returns have charged back net, this one included: the
        `charged_before` of its next return."""
        return self.due - self.outstanding


def chargebacks(
    groups: Sequence[Group],
    lines: Mapping[int, BundleLine],
    returning: Mapping[int, int],
    *,
    refunds: Mapping[int, int],
    currency: str,
    charged_before: int = 0,
) -> Chargebacks:
    """The charge-back (or the give-back of an earlier one) for each line of a return that
    gives back `returning[line_no]` units, see the module docstring. `refunds` is what each
    returned line refunds before charge-backs (after any restocking fee); `charged_before`
    is what earlier returns of the purchase charged back, less what they gave back."""
    _check(groups, lines, returning, refunds, charged_before)
    kept = {n: line.quantity - line.returned for n, line in lines.items()}
    after = {n: k - returning.get(n, 0) for n, k in kept.items()}
    before = _standing(groups, lines, kept)
    now = _standing(groups, lines, after)
    due = sum(lost for lost, _ in now)
    wanted = due - charged_before
    touched = {n: units for n, units in returning.items() if units > 0}
    found: dict[int, LineChargeback] = {}
    outstanding = 0
    if wanted > 0:
        rising = [
            (g, times) for g, b, (a, times) in zip(groups, before, now, strict=True) if a > b[0]
        ]
        left_due = sum(lost for lost, _ in before) > charged_before
        outstanding = wanted - min(wanted, sum(refunds[n] for n in touched))
        found = _charge(wanted - outstanding, touched, refunds, rising, left_due=left_due)
        if outstanding:
            short = _short_reason(outstanding, currency)
            found = {n: replace(x, reasons=(*x.reasons, short)) for n, x in found.items()}
    elif wanted < 0:
        falling = [g for g, b, a in zip(groups, before, now, strict=True) if a[0] < b[0]]
        found = _give_back(-wanted, touched, falling)
    return Chargebacks(
        lines=found,
        charged=sum(x.charged for x in found.values()),
        refunded=sum(x.refunded for x in found.values()),
        due=due,
        outstanding=outstanding,
    )


def _charge(
    total: int,
    returning: Mapping[int, int],
    refunds: Mapping[int, int],
    rising: Sequence[tuple[Group, int]],
    *,
    left_due: bool,
) -> dict[int, LineChargeback]:
    """`total` (no more than the return refunds) taken off the returned lines: first off the
    lines of the groups whose benefit is lost, in proportion to their refunds, then off the
    others; `left_due` says part of it was left by an earlier return."""
    charged: dict[int, int] = {}
    own = sorted(set(returning) & {n for g, _ in rising for n in g.line_nos})
    rest = sorted(set(returning) - set(own))
    left = _fill(charged, total, own, refunds)
    _fill(charged, left, rest, refunds)
    found: dict[int, LineChargeback] = {}
    for n in sorted(charged):
        named = [(g, t) for g, t in rising if n in g.line_nos] or ([] if left_due else rising)
        reasons = [_charge_reason(g, times) for g, times in named]
        if left_due:
            reasons.append(_left_due_reason())
        found[n] = LineChargeback(n, charged[n], 0, tuple(reasons))
    return found


def _give_back(
    total: int, returning: Mapping[int, int], falling: Sequence[Group]
) -> dict[int, LineChargeback]:
    """`total` of earlier charge-backs given back on the returned lines of the groups whose
    unearned benefit fell, in proportion to the units they return."""
    order = sorted(returning)
    weights = [sum(returning[n] for g in falling if n in g.line_nos) for n in order]
    if not any(weights):  # not expected: only a group's own lines lower what it holds
        weights = [returning[n] for n in order]
    found: dict[int, LineChargeback] = {}
    for n, part in zip(order, allocate(total, weights), strict=True):
        if part:
            named = [g for g in falling if n in g.line_nos] or falling
            found[n] = LineChargeback(n, 0, part, tuple(_refund_reason(g) for g in named))
    return found


def _check(
    groups: Sequence[Group],
    lines: Mapping[int, BundleLine],
    returning: Mapping[int, int],
    refunds: Mapping[int, int],
    charged_before: int,
) -> None:
    """Refuse inputs a caller could only send by mistake (the policy has vetted the return)."""
    for n, line in lines.items():
        if not 0 <= line.returned <= line.quantity:
            raise ValueError(f"line {n}: 0 <= returned <= quantity")
    for n, units in returning.items():
        sold = lines.get(n)
        if sold is None or not 0 <= units <= sold.quantity - sold.returned:
            raise ValueError(f"line {n}: returns more than is left, or is not a sold line")
        if units and refunds.get(n, -1) < 0:
            raise ValueError(f"line {n}: give what it refunds (>= 0)")
    for g in groups:
        for n in g.line_nos:
            if n not in lines or g.claimed(n) > lines[n].quantity:
                raise ValueError(f"promotion {g.promotion_id}: line {n} is not a sold line")
    if charged_before < 0:
        raise ValueError("charged_before is >= 0")


def _fill(into: dict[int, int], total: int, order: Sequence[int], room: Mapping[int, int]) -> int:
    """Put up to `total` on the lines of `order` in proportion to their `room`, never past it;
    answer what did not fit."""
    space = sum(room[n] for n in order)
    if total <= 0 or space <= 0:
        return max(total, 0)
    fits = min(total, space)
    for n, part in zip(order, allocate(fits, [room[n] for n in order]), strict=True):
        if part:
            into[n] = into.get(n, 0) + part
    return total - fits


def _standing(
    groups: Sequence[Group], lines: Mapping[int, BundleLine], kept: Mapping[int, int]
) -> list[tuple[int, int]]:
    """Per group, the part of its discount the kept units hold and no longer earn, and how
    many times they still earn it."""
    free = dict(kept)
    found: list[tuple[int, int]] = []
    for g in groups:
        holding: dict[int, int] = {}
        for n in sorted(g.line_nos):
            holding[n] = min(g.claimed(n), free[n])
            free[n] -= holding[n]
        held = sum(_last(g.discounts.get(n, 0), lines[n].quantity, kept[n]) for n in holding)
        times, earned = _earned(g, holding)
        found.append((max(0, held - earned), times))
    return found


def _last(total: int, units: int, kept: int) -> int:
    """What the last `kept` of `units` carry of `total` split evenly (largest remainder, the
    first units taking the extra minor units, as `money.allocate` gives them)."""
    if units <= 0 or kept <= 0:
        return 0
    base, extra = divmod(total, units)
    return kept * base + max(0, extra - (units - kept))


def _earned(g: Group, holding: Mapping[int, int]) -> tuple[int, int]:
    """How many times the held units still earn the promotion (the complete groups they form,
    each unit in one role, a line in at most the roles it had) and the discount that keeps:
    the reward units carrying the most, while enough units stay to be the ones bought."""
    can_buy = sum(min(c, g.qualifying.get(n, 0)) for n, c in holding.items())
    can_get = sum(min(c, g.reward.get(n, 0)) for n, c in holding.items())
    whole = sum(holding.values()) // (g.buy + g.get)
    times = min(g.times, can_buy // g.buy, can_get // g.get, whole)
    if times <= 0:
        return 0, 0
    need, spare = times * g.get, can_buy - times * g.buy
    earned = 0
    for value, costly, _, count in sorted(_reward_runs(g, holding)):
        take = min(count, need, spare if costly else count)
        earned += -value * take
        need -= take
        spare -= take if costly else 0
        if need == 0:
            break
    return times, earned


def _reward_runs(g: Group, holding: Mapping[int, int]) -> Iterable[tuple[int, bool, int, int]]:
    """A line's held units that may be rewards, as runs (-discount per unit, costly, line,
    count), dearest first. A reward unit is costly when taking it leaves the line fewer units
    than it had bought ones; the line's discount is split over its reward units evenly."""
    for n, held in holding.items():
        rewards = g.reward.get(n, 0)
        usable = min(held, rewards)
        if usable <= 0:
            continue
        base, extra = divmod(g.discounts.get(n, 0), rewards)
        free = max(0, held - g.qualifying.get(n, 0))
        cuts = sorted({0, usable, min(extra, usable), min(free, usable)})
        for start, end in pairwise(cuts):
            yield (-(base + 1 if start < extra else base), start >= free, n, end - start)


def _charge_reason(g: Group, times: int) -> Reason:
    return Reason(
        CHARGEBACK,
        f"{g.describe()}: the units kept earn it {times} of {g.times} time(s); the discount "
        "of the reward units kept beyond that is charged back",
    )


def _short_reason(outstanding: int, currency: str) -> Reason:
    return Reason(
        CHARGEBACK,
        f"Charge-back limited to this return's refund; {format_major(outstanding, currency)} "
        f"{currency} stays due against later refunds of this purchase",
    )


def _left_due_reason() -> Reason:
    return Reason(
        CHARGEBACK,
        "A charge-back an earlier return of this purchase could not take (its refund was too "
        "small) is taken from this refund",
    )


def _refund_reason(g: Group) -> Reason:
    return Reason(
        CHARGEBACK_REFUNDED,
        f"{g.describe()}: reward units whose discount an earlier return charged back came "
        "back; that charge-back is refunded",
    )

"""Which product promotions take which units: the combination best for the customer.

A unit takes at most one product promotion. Product promotions come in two sorts:

- *Simple* ones (`item_percent`, `item_amount`, `fixed_price` without `max_applications`)
  discount each unit on its own, whatever else is in the cart. For those the best choice is
  made unit by unit: every line's still-available units go to the simple promotion that takes
  the most off them (ties: higher priority, then lower id). Percentages are then rounded once
  per promotion, so the choice is exact up to that rounding.
- *Deals* (`buy_x_get_y`, `bundle`, `quantity_tiers`, `free_gift`, and item rules capped by
  `max_applications`) need several units, or a limited number of them, so they compete for
  units. Which deals apply, and the order in which they claim units, is searched; each deal
  picks its own units by its rule (see `rules`), and simple promotions fill whatever is left.

Search. Deals that share no line cannot affect each other, so they are split into groups
connected by shared lines and each group is solved on its own. A group of at most
`EXACT_LIMIT` (8) deals is solved exactly: a depth-first search over every order in which
deals claim units (any deal may also be left out), memoised on (deals used, units still
available), scoring each stop as the deals' discounts plus the simple fill of what is left
(its gains unrounded, so the choice is exact up to the rounding of percentages: under one
minor unit per promotion).
Children are tried in precedence order (priority, then id) and replace the best only when
strictly better, so equal totals go to the higher-priority promotions and to fewer deals.
Should a search need more than `SEARCH_BUDGET` rule evaluations, it stops where it is and
the better of what it found and the heuristic below is used.

A larger group uses a heuristic: greedy by net discount per claimed unit (the deal's discount
less what the simple fill loses on the units it claims; ties: larger net, then precedence),
then a local-improvement pass that, for each deal, re-runs the greedy without it if it was
taken or starting with it if it was not, keeping any better result; at most
`IMPROVEMENT_PASSES` passes, and no new pass or trial once the cart's product search has
spent `HEURISTIC_BUDGET` rule evaluations (the greedy itself always completes).

Order promotions normally do not change the choice: they take a share of what remains, so
more product discount always leaves the customer better off. They can when a minimum spend
or a spend tier, measured after product discounts, lies between what the chosen plan leaves
and the undiscounted subtotal (less product discount might reach it), or when an order
promotion covers some items only, or an item rule is stacked as an order promotion. Then,
with at most `EXACT_LIMIT` deals in the cart, the whole cart is searched again as one group
with every stop scored with the order stage included; beyond that limit the product-only
choice stands. Simple promotions are never dropped to reach a threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from omnitill.domain.promotions.rules import Offer
from omnitill.domain.promotions.simple_fill import SimpleFill
from omnitill.domain.promotions.targets import precedence
from omnitill.domain.promotions.units import Application, Avail, Cart, claim, line_discounts

EXACT_LIMIT = 8
SEARCH_BUDGET = 4_000
HEURISTIC_BUDGET = 2_000
IMPROVEMENT_PASSES = 2

_ZERO = Decimal(0)


class OrderScore(Protocol):
    """What the order promotions take, given the product discounts: per line when they need
    it (`needs_lines`), else from the total alone."""

    @property
    def needs_lines(self) -> bool: ...

    def by_lines(self, product: Sequence[int]) -> int: ...

    def by_total(self, product: int) -> int: ...

    def could_gain_from_less(self, product: int) -> bool: ...


@dataclass
class _Group:
    cart: Cart
    lines: tuple[int, ...]
    deals: tuple[Offer, ...]  # in precedence order
    simples: SimpleFill
    order_score: OrderScore | None
    full: Avail
    spent: list[int]  # rule evaluations by the whole cart's search, shared by its groups
    evaluations: int = 0
    _stops: dict[object, Decimal] = field(default_factory=dict)
    _base: Decimal | None = None
    _base_sums: dict[str, Decimal] | None = None

    def apply(self, i: int, avail: Avail) -> Application | None:
        self.evaluations += 1
        self.spent[0] += 1
        return self.deals[i].apply(self.cart, avail)

    def stop_value(self, avail: Avail, before: tuple[int, ...] | None) -> Decimal:
        """What the simple fill adds at this point, and, when scored, the order promotions.
        `before` is the product discount so far (per line, or its total as a 1-tuple).
        Without the order stage, the fill is counted unrounded, and only on the lines deals
        have claimed from, against the fill of the untouched cart."""
        score = self.order_score
        if score is None or before is None:
            if self._base is None:
                self._base = self.simples.gain(self.lines, self.full)
            full = self.full
            changed = [i for i in self.lines if avail[2 * i : 2 * i + 2] != full[2 * i : 2 * i + 2]]
            fill = self.simples
            return self._base + fill.gain(changed, avail) - fill.gain(changed, full)
        key = (avail, before)
        value = self._stops.get(key)
        if value is None:
            if score.needs_lines:
                filled = self.simples.fill(self.lines, avail)
                product = line_discounts(len(before), filled, before)
                taken = sum(a.discount for a in filled)
                value = Decimal(taken + score.by_lines(product))
            else:
                if self._base_sums is None:
                    self._base_sums = self.simples.sums(self.lines, self.full)
                taken = self.simples.total(self.lines, avail, self.full, self._base_sums)
                value = Decimal(taken + score.by_total(before[0] + taken))
            self._stops[key] = value
        return value

    def start(self) -> tuple[int, ...] | None:
        if self.order_score is None:
            return None
        return (0,) * len(self.cart.lines) if self.order_score.needs_lines else (0,)

    def after(self, before: tuple[int, ...] | None, app: Application) -> tuple[int, ...] | None:
        if before is None or self.order_score is None:
            return None
        if self.order_score.needs_lines:
            return tuple(line_discounts(len(before), [app], before))
        return (before[0] + app.discount,)


@dataclass(frozen=True, slots=True)
class _Plan:
    value: Decimal
    steps: tuple[tuple[int, Application], ...]  # (deal index, what it did), in claim order


def _exact(group: _Group, avail: Avail) -> tuple[_Plan, bool]:
    """The best plan, and whether the search finished within its budget."""
    memo: dict[object, _Plan] = {}
    finished = True

    def visit(used: int, avail: Avail, before: tuple[int, ...] | None) -> _Plan:
        nonlocal finished
        key = (used, avail, before)
        found = memo.get(key)
        if found is not None:
            return found
        best = _Plan(group.stop_value(avail, before), ())
        for i in range(len(group.deals)):
            if used >> i & 1:
                continue
            if group.evaluations >= SEARCH_BUDGET:
                finished = False
                break
            app = group.apply(i, avail)
            if app is None:
                continue
            rest = visit(used | 1 << i, claim(avail, app.takes), group.after(before, app))
            if rest.value + app.discount > best.value:
                best = _Plan(rest.value + app.discount, ((i, app), *rest.steps))
        memo[key] = best
        return best

    return visit(0, avail, group.start()), finished


def _value(group: _Group, steps: Sequence[tuple[int, Application]], avail: Avail) -> Decimal:
    before = group.start()
    for _, app in steps:
        before = group.after(before, app)
    return sum(app.discount for _, app in steps) + group.stop_value(avail, before)


def _greedy(group: _Group, avail: Avail, *, banned: int = -1, first: int = -1) -> _Plan:
    steps: list[tuple[int, Application]] = []
    used = {banned}
    if first >= 0:
        used.add(first)
        app = group.apply(first, avail)
        if app is not None:
            steps.append((first, app))
            avail = claim(avail, app.takes)
    # A deal's score only changes when units of its own lines are claimed.
    cache: dict[int, tuple[tuple[Decimal, Decimal], Application] | None] = {}
    while True:
        pick: tuple[int, tuple[Decimal, Decimal], Application] | None = None
        for i in range(len(group.deals)):
            if i in used:
                continue
            if i not in cache:
                cache[i] = _greedy_score(group, i, avail)
            scored = cache[i]
            if scored is not None and (pick is None or scored[0] > pick[1]):
                pick = (i, *scored)
        if pick is None:
            break
        i, _, app = pick
        steps.append((i, app))
        used.add(i)
        avail = claim(avail, app.takes)
        claimed = {t.line for t in app.takes}
        for j in list(cache):
            if not claimed.isdisjoint(group.deals[j].footprint):
                del cache[j]
    return _Plan(_value(group, steps, avail), tuple(steps))


def _greedy_score(
    group: _Group, i: int, avail: Avail
) -> tuple[tuple[Decimal, Decimal], Application] | None:
    """(net discount per claimed unit, net discount): the deal's discount less what the
    simple fill would lose on the units it claims."""
    app = group.apply(i, avail)
    if app is None:
        return None
    after = claim(avail, app.takes)
    lines = [t.line for t in app.takes]
    net = app.discount - (group.simples.gain(lines, avail) - group.simples.gain(lines, after))
    if net <= 0:
        return None
    return ((net / max(app.units, 1), net), app)


def _heuristic(group: _Group, avail: Avail) -> _Plan:
    best = _greedy(group, avail)
    for _ in range(IMPROVEMENT_PASSES):
        improved = False
        for i in range(len(group.deals)):
            if group.spent[0] >= HEURISTIC_BUDGET:
                return best
            taken = any(j == i for j, _ in best.steps)
            trial = _greedy(group, avail, banned=i) if taken else _greedy(group, avail, first=i)
            if trial.value > best.value:
                best, improved = trial, True
        if not improved:
            break
    return best


def _solve(group: _Group, avail: Avail) -> _Plan:
    if not group.deals:
        return _Plan(_ZERO, ())
    if len(group.deals) <= EXACT_LIMIT:
        plan, finished = _exact(group, avail)
        if finished:
            return plan
        fallback = _heuristic(group, avail)
        return fallback if fallback.value > plan.value else plan
    return _heuristic(group, avail)


def _connected(deals: Sequence[Offer], size: int) -> list[list[Offer]]:
    parent = list(range(size))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for deal in deals:
        lines = sorted(deal.footprint)
        for line in lines[1:]:
            parent[root(line)] = root(lines[0])
    groups: dict[int, list[Offer]] = {}
    for deal in deals:
        groups.setdefault(root(min(deal.footprint)), []).append(deal)
    return [groups[key] for key in sorted(groups)]


def _lines_of(deals: Sequence[Offer]) -> tuple[int, ...]:
    return tuple(sorted(frozenset[int]().union(*(d.footprint for d in deals))))


def best_product_plan(
    cart: Cart,
    *,
    deals: Sequence[Offer],
    simples: Mapping[int, Sequence[Offer]],
    order_score: OrderScore | None = None,
) -> tuple[Application, ...]:
    """The product promotions to apply: the chosen deals, in claim order, then the simple
    fill of every unit they left."""
    fill = SimpleFill(cart, simples)
    avail = cart.full()
    deals = sorted((d for d in deals if d.footprint), key=lambda d: precedence(d.promotion))
    chosen: list[Application] = []
    spent = [0]
    for group_deals in _connected(deals, len(cart.lines)):
        group = _Group(cart, _lines_of(group_deals), tuple(group_deals), fill, None, avail, spent)
        chosen.extend(app for _, app in _solve(group, avail).steps)
    found = _with_fill(cart, fill, chosen)
    if (
        order_score is not None
        and deals
        and len(deals) <= EXACT_LIMIT
        and order_score.could_gain_from_less(sum(a.discount for a in found))
    ):
        every_line = tuple(range(len(cart.lines)))
        group = _Group(cart, every_line, tuple(deals), fill, order_score, avail, spent)
        found = _with_fill(cart, fill, [app for _, app in _solve(group, avail).steps])
    return found


def _with_fill(
    cart: Cart, fill: SimpleFill, deals: Sequence[Application]
) -> tuple[Application, ...]:
    left = cart.full()
    for app in deals:
        left = claim(left, app.takes)
    return (*deals, *fill.fill(range(len(cart.lines)), left))

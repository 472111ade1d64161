"""What each rule kind takes off the units still available to it.

Every function here is pure: given a promotion, the cart as units, the lines its target names
and what is still available, it returns an `Application` (discount, claimed units, discount
per line) or None when the rule gives nothing. Percentages are rounded half-up once per
promotion (on the sum of what they discount), never per unit, so nothing drifts; the result is
then spread over lines by largest remainder.

Choices that are the engine's, not the model's:

- Item rules (`item_percent`, `item_amount`, `fixed_price`) claim only units they discount;
  `max_applications` caps the number of units, the ones discounted most.
- `fixed_price` on a weighed line reads `price` per kg (as shelf prices of weighed goods are),
  so the line costs price x grams / 1000; `item_amount` takes its amount off a weighed line
  once, as for any single unit.
- `quantity_tiers` counts the targeted units still available (a unit another promotion took
  does not count) and takes its deepest reached tier's percent off all of them.
- `buy_x_get_y` without a `get_target` sorts the targeted units from the most expensive down
  and cuts them into groups of X + Y; in each group the Y cheapest are discounted. This is the
  grouping that discounts the most (the leftover units are the cheapest, and stay available).
  With a `get_target`, the discounted units are the cheapest get-target units and the bought
  units the cheapest remaining targeted units, one application per X + Y, as many times as
  both sets allow. The discount sits on the discounted units' lines; the bought units are
  claimed (they cannot take another product promotion) but carry none of it.
- `bundle` groups the targeted units from the most expensive down, `bundle_quantity` at a
  time, and applies while a group costs more than the bundle price. Grouping the dearest
  together saves the customer the most, since a bundle's saving is its group's value less a
  fixed price. Each group's saving is spread over its units by value.
- `free_gift` makes the dearest available unit of the gift variant free.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from omnitill.domain.money import round_minor
from omnitill.domain.promotions.model import ORDER_KINDS, Promotion, RuleKind
from omnitill.domain.promotions.units import (
    Application,
    Avail,
    Cart,
    Cursor,
    Run,
    UnitLine,
    claim,
    runs,
    split_units,
    spread,
    takes_of,
    value_by_line,
    value_of,
)

_HUNDRED = Decimal(100)
_GRAMS_PER_KG = Decimal(1000)
_T = TypeVar("_T")

SIMPLE_KINDS = frozenset({RuleKind.ITEM_PERCENT, RuleKind.ITEM_AMOUNT, RuleKind.FIXED_PRICE})


def is_simple(p: Promotion) -> bool:
    """A rule whose discount on a unit does not depend on any other unit."""
    return p.kind in SIMPLE_KINDS and p.max_applications is None


def _given(value: _T | None, name: str) -> _T:
    if value is None:  # validate_promotion refuses this; kept for the type checker
        raise ValueError(f"promotion is missing {name}")
    return value


def percent_of(amount: int, percent: Decimal) -> int:
    return round_minor(Decimal(amount) * percent / _HUNDRED)


def _unit_discount(p: Promotion, line: UnitLine, value: int) -> int:
    if p.kind is RuleKind.ITEM_AMOUNT:
        return min(_given(p.amount, "amount"), value)
    price = _given(p.price, "price")
    if line.weighed:
        return max(0, value - round_minor(Decimal(price) * line.grams / _GRAMS_PER_KG))
    return max(0, value - price)


def unit_gains(p: Promotion, line: UnitLine) -> tuple[Decimal, Decimal]:
    """What a simple rule takes off one high and one low unit of `line`, unrounded (exact:
    a Decimal percent of an integer is a finite decimal)."""
    if p.kind is RuleKind.ITEM_PERCENT:
        rate = _given(p.percent, "percent").scaleb(-2)
        return (Decimal(line.base + 1) * rate, Decimal(line.base) * rate)
    return (
        Decimal(_unit_discount(p, line, line.base + 1)),
        Decimal(_unit_discount(p, line, line.base)),
    )


def _item_percent(p: Promotion, cart: Cart, lines: Sequence[int], avail: Avail) -> Application:
    chosen = [r for r in runs(cart, lines, avail, descending=True) if r.value > 0]
    if p.max_applications is not None:
        chosen = Cursor(chosen).take(p.max_applications)
    discount = percent_of(value_of(chosen), _given(p.percent, "percent"))
    return Application(p, discount, takes_of(chosen), spread(discount, value_by_line(chosen)))


def _per_unit(p: Promotion, cart: Cart, lines: Sequence[int], avail: Avail) -> Application:
    priced = [
        (run, d)
        for run in runs(cart, lines, avail, descending=True)
        if (d := _unit_discount(p, cart.lines[run.line], run.value)) > 0
    ]
    if p.max_applications is not None:
        priced.sort(key=lambda item: -item[1])  # stable: equal discounts keep run order
        left, capped = p.max_applications, []
        for run, d in priced:
            k = min(left, run.size)
            if k:
                capped.append((Run(run.line, run.high, run.value, k), d))
            left -= k
        priced = capped
    per_line: dict[int, int] = {}
    for run, d in priced:
        per_line[run.line] = per_line.get(run.line, 0) + d * run.size
    discount = sum(per_line.values())
    return Application(p, discount, takes_of(r for r, _ in priced), spread(discount, per_line))


def _quantity_tiers(p: Promotion, cart: Cart, lines: Sequence[int], avail: Avail) -> Application:
    chosen = runs(cart, lines, avail, descending=True)
    count = sum(r.size for r in chosen)
    reached = [t for t in p.tiers if t.threshold <= count]
    if not reached:
        return Application(p, 0, (), ())
    discount = percent_of(value_of(chosen), _given(reached[-1].percent, "tier percent"))
    return Application(p, discount, takes_of(chosen), spread(discount, value_by_line(chosen)))


def _same_pool_bogo(p: Promotion, cart: Cart, lines: Sequence[int], avail: Avail) -> Application:
    x, y = p.buy_quantity, p.get_quantity
    group = x + y
    cursor = Cursor(runs(cart, lines, avail, descending=True))
    cap = p.max_applications if p.max_applications is not None else cursor.remaining
    claimed: list[Run] = []
    free: list[Run] = []
    done = 0
    while done < cap and cursor.remaining >= group:
        whole = min(cursor.left_in_run() // group, cap - done)
        if whole:  # `whole` groups inside one run: same value throughout
            run = cursor.current()
            claimed.extend(cursor.take(whole * group))
            free.append(Run(run.line, run.high, run.value, whole * y))
            done += whole
        else:
            units = cursor.take(group)
            claimed.extend(units)
            free.extend(split_units(units, x)[1])
            done += 1
    discount = percent_of(value_of(free), p.get_percent)
    shares = spread(discount, value_by_line(free))
    return Application(p, discount, takes_of(claimed), shares, takes_of(free))


def _get_target_bogo(
    p: Promotion, cart: Cart, lines: Sequence[int], avail: Avail, get_lines: Sequence[int]
) -> Application:
    x, y = p.buy_quantity, p.get_quantity
    cheapest_gets = runs(cart, get_lines, avail, descending=False)

    def gets(n: int) -> list[Run]:
        return Cursor(cheapest_gets).take(n * y)

    def feasible(n: int) -> bool:
        after = claim(avail, takes_of(gets(n)))
        return cart.available_units(lines, after) >= n * x

    high = sum(r.size for r in cheapest_gets) // y
    high = min(high, cart.available_units(lines, avail) // x)
    if p.max_applications is not None:
        high = min(high, p.max_applications)
    low = 0
    while low < high:  # the largest feasible count; feasibility falls as the count grows
        mid = (low + high + 1) // 2
        if feasible(mid):
            low = mid
        else:
            high = mid - 1
    if low == 0:
        return Application(p, 0, (), ())
    free = gets(low)
    after = claim(avail, takes_of(free))
    bought = Cursor(runs(cart, lines, after, descending=False)).take(low * x)
    discount = percent_of(value_of(free), p.get_percent)
    shares = spread(discount, value_by_line(free))
    return Application(p, discount, takes_of(free + bought), shares, takes_of(free))


def _bundle(p: Promotion, cart: Cart, lines: Sequence[int], avail: Avail) -> Application:
    size, price = p.bundle_quantity, _given(p.price, "price")
    cursor = Cursor(runs(cart, lines, avail, descending=True))
    cap = p.max_applications if p.max_applications is not None else cursor.remaining
    claimed: list[Run] = []
    per_line: dict[int, int] = {}
    done = 0
    while done < cap and cursor.remaining >= size:
        whole = min(cursor.left_in_run() // size, cap - done)
        if whole:
            run = cursor.current()
            saving = size * run.value - price
            if saving <= 0:
                break
            claimed.extend(cursor.take(whole * size))
            per_line[run.line] = per_line.get(run.line, 0) + whole * saving
            done += whole
            continue
        mark = cursor.mark()
        units = cursor.take(size)
        saving = value_of(units) - price
        if saving <= 0:
            cursor.reset(mark)
            break
        claimed.extend(units)
        for line, share in spread(saving, value_by_line(units)):
            per_line[line] = per_line.get(line, 0) + share
        done += 1
    discount = sum(per_line.values())
    return Application(p, discount, takes_of(claimed), spread(discount, per_line))


def _free_gift(p: Promotion, cart: Cart, gift_lines: Sequence[int], avail: Avail) -> Application:
    unit = Cursor(runs(cart, gift_lines, avail, descending=True)).take(1)
    value = value_of(unit)
    return Application(p, value, takes_of(unit), spread(value, value_by_line(unit)))


_Rule = Callable[[Promotion, Cart, Sequence[int], Avail], Application]
_RULES: dict[RuleKind, _Rule] = {
    RuleKind.ITEM_PERCENT: _item_percent,
    RuleKind.ITEM_AMOUNT: _per_unit,
    RuleKind.FIXED_PRICE: _per_unit,
    RuleKind.QUANTITY_TIERS: _quantity_tiers,
    RuleKind.BUNDLE: _bundle,
}


def apply_rule(
    p: Promotion, cart: Cart, lines: Sequence[int], avail: Avail, extra: Sequence[int] = ()
) -> Application | None:
    """The rule's discount on the available units of `lines`; `extra` holds the get-target
    lines of a buy-X-get-Y rule, or the gift's lines for a free gift. None: nothing off."""
    if p.kind in ORDER_KINDS:
        raise ValueError(f"{p.kind} is an order rule; use order_kind_discount")
    if p.kind is RuleKind.BUY_X_GET_Y:
        if p.get_target is None:
            found = _same_pool_bogo(p, cart, lines, avail)
        else:
            found = _get_target_bogo(p, cart, lines, avail, extra)
    elif p.kind is RuleKind.FREE_GIFT:
        found = _free_gift(p, cart, extra, avail)
    else:
        found = _RULES[p.kind](p, cart, lines, avail)
    return found if found.discount > 0 else None


def order_kind_discount(p: Promotion, *, remaining: int, eligible: int) -> int:
    """An order rule's discount on `remaining` (what its lines still cost), with spend tiers
    reached on `eligible` (its lines' subtotal after product discounts)."""
    if p.kind is RuleKind.ORDER_PERCENT:
        return percent_of(remaining, _given(p.percent, "percent"))
    if p.kind is RuleKind.ORDER_AMOUNT:
        return min(_given(p.amount, "amount"), remaining)
    reached = [t for t in p.tiers if t.threshold <= eligible]
    if not reached:
        return 0
    tier = reached[-1]
    if tier.percent is not None:
        return percent_of(remaining, tier.percent)
    return min(_given(tier.amount, "tier amount"), remaining)


@dataclass(frozen=True, slots=True)
class Offer:
    """An eligible promotion with the lines its target names (`lines`) and, for a
    buy-X-get-Y with a get target or a free gift, the lines of what is given (`extra`)."""

    promotion: Promotion
    lines: tuple[int, ...]
    extra: tuple[int, ...] = ()

    def apply(self, cart: Cart, avail: Avail) -> Application | None:
        return apply_rule(self.promotion, cart, self.lines, avail, self.extra)

    @property
    def footprint(self) -> frozenset[int]:
        """The lines whose units this promotion may claim."""
        if self.promotion.kind is RuleKind.FREE_GIFT:
            return frozenset(self.extra)
        return frozenset(self.lines) | frozenset(self.extra)

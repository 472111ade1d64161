"""Simple promotions fill the units deals leave: per line, the one that takes the most.

A simple promotion (`item_percent`, `item_amount`, `fixed_price` without `max_applications`)
discounts each unit on its own, so the best choice is made line by line: a line's available
units go to the simple promotion with the largest gain on them (ties: higher priority, then
lower id; candidates arrive in that order). Gains are exact Decimals (a Decimal percent of an
integer is a finite decimal); each chosen promotion is then rounded once over all its lines,
exactly as `rules` rounds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from omnitill.domain.money import round_minor
from omnitill.domain.promotions.model import RuleKind
from omnitill.domain.promotions.rules import Offer, unit_gains
from omnitill.domain.promotions.targets import precedence
from omnitill.domain.promotions.units import Application, Avail, Cart, Take, spread

_ZERO = Decimal(0)


class SimpleFill:
    """The best simple promotion for each line's still-available units (memoised)."""

    def __init__(self, cart: Cart, by_line: Mapping[int, Sequence[Offer]]) -> None:
        self._cart = cart
        self._by_line = by_line
        self._gains: dict[int, list[tuple[Offer, Decimal, Decimal]]] = {}
        self._best: dict[tuple[int, int, int], tuple[Offer | None, Decimal]] = {}
        self._rates: dict[str, Decimal] = {}

    def _options(self, line: int) -> list[tuple[Offer, Decimal, Decimal]]:
        """Each simple promotion's gain on one high and one low unit of the line."""
        found = self._gains.get(line)
        if found is None:
            unit = self._cart.lines[line]
            high, low = Decimal(unit.base + 1), Decimal(unit.base)
            found = []
            for o in self._by_line.get(line, ()):
                p = o.promotion
                if p.kind is RuleKind.ITEM_PERCENT and p.percent is not None:
                    rate = self._rates.get(p.id)
                    if rate is None:
                        rate = self._rates[p.id] = p.percent.scaleb(-2)
                    found.append((o, high * rate, low * rate))
                else:
                    found.append((o, *unit_gains(p, unit)))
            self._gains[line] = found
        return found

    def best(self, line: int, avail: Avail) -> tuple[Offer | None, Decimal]:
        high, low = avail[2 * line], avail[2 * line + 1]
        key = (line, high, low)
        found = self._best.get(key)
        if found is None:
            found = (None, _ZERO)
            for offer, per_high, per_low in self._options(line):  # in precedence order
                gain = high * per_high + low * per_low
                if gain > found[1]:
                    found = (offer, gain)
            self._best[key] = found
        return found

    def gain(self, lines: Iterable[int], avail: Avail) -> Decimal:
        return sum((self.best(line, avail)[1] for line in lines), _ZERO)

    def sums(self, lines: Iterable[int], avail: Avail) -> dict[str, Decimal]:
        """Each chosen promotion's gains over `lines`, unrounded."""
        found: dict[str, Decimal] = {}
        for line in lines:
            offer, gain = self.best(line, avail)
            if offer is not None:
                found[offer.promotion.id] = found.get(offer.promotion.id, _ZERO) + gain
        return found

    def total(
        self, lines: Sequence[int], avail: Avail, full: Avail, base: dict[str, Decimal]
    ) -> int:
        """What `fill` would take off, without building it: each chosen promotion's gains
        summed and rounded once, exactly as its rule rounds. `base` holds the sums at `full`
        availability; only lines whose availability differs are looked at again."""
        found = dict(base)
        for line in lines:
            if avail[2 * line : 2 * line + 2] == full[2 * line : 2 * line + 2]:
                continue
            was, lost = self.best(line, full)
            now, gain = self.best(line, avail)
            if was is not None:
                found[was.promotion.id] -= lost
            if now is not None:
                found[now.promotion.id] = found.get(now.promotion.id, _ZERO) + gain
        return sum(round_minor(value) for value in found.values())

    def fill(self, lines: Iterable[int], avail: Avail) -> list[Application]:
        """The simple promotions' applications on what is available: per line the best,
        each promotion rounded once over all its lines (as `rules` would compute it)."""
        chosen: dict[str, tuple[Offer, list[int]]] = {}
        for line in lines:
            offer = self.best(line, avail)[0]
            if offer is not None:
                chosen.setdefault(offer.promotion.id, (offer, []))[1].append(line)
        found = sorted(chosen.values(), key=lambda c: precedence(c[0].promotion))
        apps = [self._application(offer, its_lines, avail) for offer, its_lines in found]
        return [app for app in apps if app.discount > 0]

    def _application(self, offer: Offer, lines: Sequence[int], avail: Avail) -> Application:
        p = offer.promotion
        takes: list[Take] = []
        weights: dict[int, int] = {}
        exact = _ZERO
        for line in lines:
            unit = self._cart.lines[line]
            per_high, per_low = next((h, lo) for o, h, lo in self._options(line) if o is offer)
            high = avail[2 * line] if per_high > 0 else 0
            low = avail[2 * line + 1] if per_low > 0 else 0
            if high or low:
                takes.append(Take(line, high, low))
            exact += high * per_high + low * per_low
            if p.kind is RuleKind.ITEM_PERCENT:
                weights[line] = high * (unit.base + 1) + low * unit.base
            else:
                weights[line] = int(high * per_high + low * per_low)
        discount = round_minor(exact)
        return Application(p, discount, tuple(takes), spread(discount, weights))

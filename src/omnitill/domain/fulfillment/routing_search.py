"""How many shipments each candidate location leads to: the split-minimisation search.

The router chooses locations one at a time. Before each choice it asks, for every candidate:
if this location is chosen now (and takes all it can of what is still needed), what is the
fewest locations that cover the rest? Covering means reaching the most that the candidates
together can supply of every variant, so fewer shipments never cost a unit.

Exact search. The subsets of candidates are tried by increasing size k, from a lower bound
(no fewer locations than the largest givers need to reach the units of any one variant, or of
all variants together) upwards; the first size at which some subset covers is the optimum K,
and every candidate that belongs to some covering subset of size K leads to K shipments. Any
other candidate leads to exactly K + 1 (itself plus an optimal subset; not K, else it would
belong to one). The search is exact while the subsets it must try, the sum of C(n, k) over
the sizes it tries, stay within `SUBSET_BUDGET` (4,096): always for up to 12 candidates,
for any number up to 4,096 when one location covers, for up to 90 when two do. Once a
location from an optimal subset is chosen, the optimal subsets for what remains are those
subsets less that location (`after_choice`), so the following choices need no new search.

Greedy beyond. When the exact search would pass the budget, each candidate is scored by the
units it would take of what is still needed, and the router picks the one taking most: greedy
set cover. It can use more locations than optimal (typically one more; its worst case is a
factor of about ln of the units needed), never fewer units. Later choices, with fewer
candidates and less to cover, search exactly again when they fit the budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import comb

SUBSET_BUDGET = 4_096


@dataclass(frozen=True, slots=True)
class SplitScores:
    """`exact`: `shipments[c]` is the number of locations, counted from this choice on, of the
    best plan that starts with candidate c, and `covers` lists every optimal subset (as
    candidate indices). Greedy: `shipments` is None and the router uses `units` (what c would
    take of what is still needed, more is better)."""

    exact: bool
    shipments: tuple[int, ...] | None
    units: tuple[int, ...]
    covers: tuple[frozenset[int], ...] = ()


def score_candidates(need: Sequence[int], offers: Sequence[Sequence[int]]) -> SplitScores:
    """Score every candidate; `need[v]` units of variant v are still to place and
    `offers[c][v]` is what candidate c could give of it."""
    units = tuple(sum(min(n, o) for n, o in zip(need, offer, strict=True)) for offer in offers)
    size = len(offers)
    target = [min(n, sum(offer[v] for offer in offers)) for v, n in enumerate(need)]
    gives = [[min(o, t) for o, t in zip(offer, target, strict=True)] for offer in offers]
    tried = 0
    for k in range(_lower_bound(target, gives), size + 1):
        tried += comb(size, k)
        if tried > SUBSET_BUDGET:
            break
        covers = _covers(target, gives, k)
        if covers:
            members = frozenset().union(*covers)
            shipments = tuple(k if c in members else k + 1 for c in range(size))
            return SplitScores(True, shipments, units, tuple(covers))
    return SplitScores(False, None, units)


def after_choice(covers: Sequence[frozenset[str]], chosen: str) -> list[frozenset[str]]:
    """The optimal subsets for what remains once `chosen` has taken all it can: every optimal
    subset that holds it, without it (none when `chosen` was in no optimal subset)."""
    return [cover - {chosen} for cover in covers if chosen in cover]


def _fewest(amounts: Sequence[int], target: int) -> int:
    """How many of `amounts`, largest first, reach `target`."""
    total = 0
    for count, amount in enumerate(sorted(amounts, reverse=True), start=1):
        total += amount
        if total >= target:
            return count
    return len(amounts) + 1


def _lower_bound(target: list[int], gives: list[list[int]]) -> int:
    """No subset smaller than this covers: each variant alone, and all units together, need
    at least this many of the largest givers."""
    bound = _fewest([sum(give) for give in gives], sum(target))
    for v, t in enumerate(target):
        if t:
            bound = max(bound, _fewest([give[v] for give in gives], t))
    return max(1, bound)


def _covers(target: list[int], gives: list[list[int]], k: int) -> list[frozenset[int]]:
    """Every covering subset of exactly k candidates."""
    gap = list(target)
    size = len(gives)
    sparse = [[(v, a) for v, a in enumerate(give) if a] for give in gives]
    chosen: list[int] = []
    found: list[frozenset[int]] = []

    def visit(start: int) -> None:
        if len(chosen) == k - 1:
            # The last pick: it must close every gap still open on its own.
            opens = [v for v, g in enumerate(gap) if g > 0]
            for c in range(start, size):
                give = gives[c]
                if all(give[v] >= gap[v] for v in opens):
                    found.append(frozenset((*chosen, c)))
            return
        for c in range(start, size - (k - len(chosen)) + 1):
            for v, amount in sparse[c]:
                gap[v] -= amount
            chosen.append(c)
            visit(c + 1)
            chosen.pop()
            for v, amount in sparse[c]:
                gap[v] += amount

    visit(0)
    return found

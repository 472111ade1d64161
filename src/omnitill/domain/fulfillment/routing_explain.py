"""Why the router chose each location: the words and figures stored on the order.

For one decision, the chosen location is compared with the runner-up: the first ranking rule
on which they differ is the rule that chose it. Every other location either was out before
the ranking (a filter, the fulfillment method, no usable stock of what is still needed, or it
rejected those lines) or lost on the first rule on which its figure differs from the chosen
one's; when every figure ties, the location code decided.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from math import inf

from omnitill.domain.fulfillment.routing_model import (
    Competitor,
    Decision,
    FulfillmentMethod,
    OrderLine,
    Rule,
    ShortLine,
    Take,
)
from omnitill.domain.fulfillment.routing_sites import Reason, Site

EXCLUDED = "excluded"
LOST = "lost"
VERB = {
    FulfillmentMethod.PICKUP: "hands over for pickup",
    FulfillmentMethod.CURBSIDE: "hands over at the curb",
    FulfillmentMethod.LOCAL_DELIVERY: "delivers locally",
    FulfillmentMethod.SHIP: "ships",
}


@dataclass(frozen=True, slots=True)
class Ranked:
    """A candidate of one decision with its figure on each ranking rule, lower better."""

    keys: tuple[float, ...]
    code: str
    site: Site


@dataclass(frozen=True, slots=True)
class Contest:
    """What one decision was about: the ranking rules in order, how shipments were counted
    (exact, greedy, off), the units still needed, the destination's market, the rejected
    (location, line) pairs and the lines still open."""

    ranking: tuple[str, ...]
    search: str
    needed: int
    market: str | None
    rejected: frozenset[tuple[str, str]]
    open_lines: tuple[OrderLine, ...]


def why_chosen(ranked: Sequence[Ranked], contest: Contest) -> tuple[str, str]:
    """(rule, phrase): what set the chosen location (ranked[0]) above the runner-up."""
    if len(ranked) == 1:
        return "only_candidate", "no other location could give the units still needed"
    winner, runner = ranked[0], ranked[1]
    at = _first_difference(winner.keys, runner.keys)
    if at is None:
        detail = f"tied with {runner.code} on every rule; {winner.code} comes first by code"
        return "location_code", detail
    rule = contest.ranking[at]
    if rule == Rule.DESTINATION_MARKET:
        theirs = runner.site.location.market_code or "none"
        return rule, f"in the destination market ({contest.market}); {runner.code} is in {theirs}"
    phrase = _compare(rule, contest, winner.keys[at], runner.keys[at])
    return rule, f"{phrase} for {runner.code}"


def competitors(
    sites: Sequence[Site],
    ranked: Sequence[Ranked],
    contest: Contest,
    *,
    excluded: Mapping[str, Sequence[Reason]],
    chosen: Collection[str],
) -> tuple[Competitor, ...]:
    """Why every location other than the chosen ones lost this decision, by code."""
    winner = ranked[0]
    competing = {r.code: r for r in ranked[1:]}
    out = []
    for site in sorted(sites, key=lambda s: s.code):
        if site.code == winner.code or site.code in chosen:
            continue
        if site.code in excluded:
            out.append(_excluded(site.code, excluded[site.code]))
        elif site.code in competing:
            out.append(_lost(competing[site.code], winner, contest))
        else:
            out.append(_no_stock(site, contest))
    return tuple(out)


def _excluded(code: str, reasons: Sequence[Reason]) -> Competitor:
    first = reasons[0]
    detail = "; ".join(r.detail for r in reasons)
    return Competitor(code, EXCLUDED, first.rule, first.reason, detail, first.value)


def _lost(loser: Ranked, winner: Ranked, contest: Contest) -> Competitor:
    at = _first_difference(loser.keys, winner.keys)
    if at is None:
        detail = f"tied on every rule; {winner.code} comes first by code"
        return Competitor(
            loser.code, LOST, "location_code", "code_order", detail, loser.code, winner.code
        )
    rule = contest.ranking[at]
    if rule == Rule.DESTINATION_MARKET:
        reason = "other_market"
        detail = f"other market ({loser.site.location.market_code or 'none'}) vs {contest.market}"
    else:
        reason = _split_loss(contest) if rule == Rule.MINIMISE_SPLITS else _LOSS[rule]
        detail = _compare(rule, contest, loser.keys[at], winner.keys[at])
    refused = [ln.key for ln in contest.open_lines if (loser.code, ln.key) in contest.rejected]
    if refused:
        detail += f"; rejected line {', '.join(refused)}"
    return Competitor(
        loser.code,
        LOST,
        rule,
        reason,
        detail,
        _figure(rule, loser, at),
        _figure(rule, winner, at),
    )


_LOSS: dict[str, str] = {Rule.CLOSEST: "farther", Rule.MERCHANT_RANK: "lower_rank"}


def _split_loss(contest: Contest) -> str:
    return "more_shipments" if contest.search == "exact" else "takes_fewer_units"


def _no_stock(site: Site, contest: Contest) -> Competitor:
    """An eligible location that could give none of the units still needed."""
    lines = contest.open_lines
    refused = [
        line.key
        for line in lines
        if (site.code, line.key) in contest.rejected and site.left.get(line.variant_id, 0) > 0
    ]
    if refused:
        detail = f"rejected line {', '.join(refused)} (not found on the shelf)"
        return Competitor(site.code, EXCLUDED, "rejected", "rejected", detail)
    kept = sum(site.withheld.get(v, 0) for v in {line.variant_id for line in lines})
    if kept:
        detail = f"would dip into safety stock ({kept} units kept back)"
        rule = Rule.PROTECT_SAFETY_STOCK.value
        return Competitor(site.code, EXCLUDED, rule, "safety_stock", detail, kept)
    return Competitor(site.code, EXCLUDED, "stock", "no_stock", "no usable stock of the lines")


def _compare(rule: str, contest: Contest, mine: float, theirs: float) -> str:
    """'mine vs theirs' on one rule, in the rule's unit."""
    if rule == Rule.MINIMISE_SPLITS:
        if contest.search == "exact":
            return f"{plural(int(mine), 'shipment')} vs {int(theirs)}"
        return f"takes {int(-mine)} of {contest.needed} units needed vs {int(-theirs)}"
    if rule == Rule.CLOSEST:
        digits = 1 if round(mine, 1) != round(theirs, 1) else 3
        return f"{_km(mine, digits)} vs {_km(theirs, digits)}"
    return f"rank {int(mine)} vs {int(theirs)}"


def _km(value: float, digits: int) -> str:
    return "distance unknown" if value == inf else f"{value:.{digits}f} km"


def _figure(rule: str, ranked: Ranked, at: int) -> float | int | str | None:
    """The figure a reader expects on this rule: shipments or units, the market code, km to
    one decimal, the rank."""
    site = ranked.site
    if rule == Rule.MINIMISE_SPLITS:
        return int(abs(ranked.keys[at]))
    if rule == Rule.DESTINATION_MARKET:
        return site.location.market_code
    if rule == Rule.CLOSEST:
        return None if site.distance is None else round(site.distance, 1)
    return site.location.rank


def _first_difference(a: tuple[float, ...], b: tuple[float, ...]) -> int | None:
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x != y:
            return i
    return None


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def takes_text(takes: Sequence[Take]) -> str:
    return ", ".join(f"{t.quantity} of line {t.line_key}" for t in takes)


def sentence(code: str, method: str, takes: Sequence[Take], why: str) -> str:
    return f"{code} {VERB[FulfillmentMethod(method)]} {takes_text(takes)}: {why}."


def summary(line_count: int, decisions: Sequence[Decision], short: Sequence[ShortLine]) -> str:
    """One paragraph for people: who sends what, by which rule, and what is short."""
    if not decisions:
        text = "Nothing could be routed."
    else:
        parts = [
            f"{d.location} {VERB[FulfillmentMethod(d.method)]} {takes_text(d.takes)} ({d.rule})"
            for d in decisions
        ]
        text = (
            f"{plural(line_count, 'line')} in {plural(len(decisions), 'shipment')}: "
            + "; ".join(parts)
            + "."
        )
    if short:
        listed = "; ".join(f"{s.line_key} by {s.short} ({s.reason})" for s in short)
        text += f" Short: {listed}."
    return text

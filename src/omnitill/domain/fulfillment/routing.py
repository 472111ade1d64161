"""Order routing: which locations fulfil which units of an order, and why.

`route(request) -> RoutingResult` is a pure, deterministic function over a snapshot: the
order lines, the destination, the candidate locations with their stock, `now` and the ordered
rule list (see `routing_model.Rule`; the default order is `DEFAULT_RULES`).

Filters (on when named in the rule list, wherever they stand):

- `exclude_stale`: a location whose store node has not been heard from for longer than
  `staleness_limit` is not promised (DESIGN.md 5); a location run from the hub
  (`last_heard_at` None) is never stale.
- `respect_capacity_and_hours`: a location closed now, past its order cut-off for today, or
  with no capacity left today is excluded. Pickup and curbside lines skip the hours (the
  customer collects when the store is open) but not the capacity.
- `protect_safety_stock`: a location gives at most `available` units of a variant (which
  already leaves its safety stock alone); off, it may give `available + safety_stock`.

Each line's method narrows the candidates further: ship lines go to locations that ship;
local delivery lines to stores whose delivery radius reaches the destination; pickup and
curbside lines to the destination's pickup location only (it must offer pickup, or the
request is refused as invalid).

Lines are placed method by method, the most constrained first: pickup, curbside, local
delivery, ship. Within a method, locations are chosen one at a time; each choice takes all it
can of what is still needed (so units of one line split across locations only when no single
location is chosen for all of them). The candidate chosen is the best by the ranking rules in
list order, the first rule that tells two candidates apart deciding:

- `minimise_splits`: fewer shipments for the lines of this method (`routing_search`: exact
  over subsets of candidates within a budget, greedy set cover beyond it);
- `destination_market`: a location in the destination's market before one outside it
  (neutral when the destination names no country or market);
- `closest`: shorter great-circle distance to the destination (haversine, km; a location
  without coordinates comes after every one with them);
- `merchant_rank`: lower rank first;
- and, when every rule ties, the location code, so the answer never depends on input order.

Fewer shipments never cost units: whatever the rule order, choices continue while any
eligible location can give a unit still needed, so every line gets as many units as the
eligible stock allows; the rest is reported short. The explanation records, for every
decision, the rule that chose the location over the runner-up and why each other location
lost: excluded (stale, closed, no capacity, no stock, would dip into safety stock, does not
ship, rejected the line) or lost on a named rule with both figures.

Re-routing: when a location rejects an assignment (the item is not on the shelf), route the
same request again with `rejected={(location, line_key)}`: that location is not offered that
line again, and the explanation says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from math import inf

from omnitill.domain.fulfillment.routing_checks import check_request
from omnitill.domain.fulfillment.routing_explain import (
    Contest,
    Ranked,
    competitors,
    sentence,
    summary,
    why_chosen,
)
from omnitill.domain.fulfillment.routing_model import (
    DEFAULT_RULES,
    DEFAULT_STALENESS_LIMIT,
    FILTER_RULES,
    PICKUP_METHODS,
    Assignment,
    CandidateLocation,
    Competitor,
    Decision,
    Destination,
    Explanation,
    FulfillmentMethod,
    LocationKind,
    LocationStock,
    OrderLine,
    Rejection,
    RoutingRequest,
    RoutingResult,
    Rule,
    ShortLine,
    Take,
)
from omnitill.domain.fulfillment.routing_search import (
    SUBSET_BUDGET,
    after_choice,
    score_candidates,
)
from omnitill.domain.fulfillment.routing_sites import Reason, Site, method_reasons, site_view

__all__ = [
    "DEFAULT_RULES",
    "DEFAULT_STALENESS_LIMIT",
    "SUBSET_BUDGET",
    "Assignment",
    "CandidateLocation",
    "Competitor",
    "Decision",
    "Destination",
    "Explanation",
    "FulfillmentMethod",
    "LocationKind",
    "LocationStock",
    "OrderLine",
    "Rejection",
    "RoutingRequest",
    "RoutingResult",
    "Rule",
    "ShortLine",
    "Take",
    "route",
]

# The most constrained first: their units are spoken for before ship lines compete for them.
METHOD_ORDER = (
    FulfillmentMethod.PICKUP,
    FulfillmentMethod.CURBSIDE,
    FulfillmentMethod.LOCAL_DELIVERY,
    FulfillmentMethod.SHIP,
)


@dataclass(slots=True)
class _Context:
    request: RoutingRequest
    rejected: frozenset[tuple[str, str]]
    ranking: tuple[str, ...]
    sites: list[Site]
    decisions: list[Decision] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    short: list[ShortLine] = field(default_factory=list)


def route(request: RoutingRequest, *, rejected: Iterable[tuple[str, str]] = ()) -> RoutingResult:
    """Assign every line's units to locations by the request's rules, with the reasons.

    `rejected` adds (location code, line key) pairs to `request.rejected`. Raises
    `ValidationFailed` naming every bad field; short stock is not an error but short lines.
    """
    refusals = request.rejected | frozenset(rejected)
    check_request(request, refusals)
    variants = {line.variant_id for line in request.lines}
    ctx = _Context(
        request=request,
        rejected=refusals,
        ranking=tuple(str(r) for r in request.rules if r not in FILTER_RULES),
        sites=[site_view(request, location, variants) for location in request.locations],
    )
    for method in METHOD_ORDER:
        lines = [line for line in request.lines if line.method == method]
        if not lines:
            continue
        if method in PICKUP_METHODS:
            _route_pickup(ctx, method.value, lines)
        else:
            _route_group(ctx, method.value, lines)
    order = {line.key: i for i, line in enumerate(request.lines)}
    short = sorted(ctx.short, key=lambda s: order[s.line_key])
    explanation = Explanation(
        rules=tuple(str(r) for r in request.rules),
        decisions=tuple(ctx.decisions),
        rejections=tuple(Rejection(code, key) for code, key in sorted(refusals)),
        summary=summary(len(request.lines), ctx.decisions, short),
    )
    return RoutingResult(tuple(ctx.assignments), tuple(short), explanation)


# --- pickup and curbside: the customer's location, nothing to choose -----------------------


def _route_pickup(ctx: _Context, method: str, lines: Sequence[OrderLine]) -> None:
    code = ctx.request.destination.pickup_location
    site = next(s for s in ctx.sites if s.code == code)
    if site.filters_no_hours:
        first = site.filters_no_hours[0]
        detail = f"{site.code}: " + "; ".join(r.detail for r in site.filters_no_hours)
        for line in lines:
            _short(ctx, line, line.quantity, first.reason, detail)
        return
    takes = []
    for line in lines:
        if (site.code, line.key) in ctx.rejected:
            _short(ctx, line, line.quantity, "rejected", f"{site.code} rejected this line")
            continue
        quantity = min(line.quantity, site.left.get(line.variant_id, 0))
        if quantity:
            site.left[line.variant_id] -= quantity
            takes.append(Take(line.key, quantity))
            ctx.assignments.append(
                Assignment(site.code, line.key, line.variant_id, quantity, method)
            )
        if quantity < line.quantity:
            detail = f"{site.code} has {quantity} usable of {line.quantity}"
            kept = site.withheld.get(line.variant_id, 0)
            if kept:
                detail += f" ({kept} more kept back as safety stock)"
            _short(ctx, line, line.quantity - quantity, "insufficient_stock", detail)
    if takes:
        ctx.decisions.append(
            Decision(
                location=site.code,
                method=method,
                takes=tuple(takes),
                rule="pickup_location",
                detail="the customer chose this location",
                split_search="fixed",
                others=(),
                sentence=sentence(site.code, method, takes, "the customer's pickup location"),
            )
        )


def _short(ctx: _Context, line: OrderLine, short: int, reason: str, detail: str) -> None:
    ctx.short.append(
        ShortLine(line.key, line.variant_id, str(line.method), line.quantity, short, reason, detail)
    )


# --- ship and local delivery: choose locations one at a time -------------------------------


@dataclass(slots=True)
class _Group:
    method: str
    lines: list[OrderLine]
    remaining: dict[str, int]  # line key -> units still to place
    eligible: list[Site]
    excluded: dict[str, tuple[Reason, ...]]  # location code -> why it cannot serve
    chosen: list[str] = field(default_factory=list)
    # The optimal subsets of the last exact split search, less the locations chosen since.
    covers: list[frozenset[str]] = field(default_factory=list)

    def open_lines(self) -> list[OrderLine]:
        return [line for line in self.lines if self.remaining[line.key] > 0]


def _route_group(ctx: _Context, method: str, lines: Sequence[OrderLine]) -> None:
    eligible: list[Site] = []
    excluded: dict[str, tuple[Reason, ...]] = {}
    for site in ctx.sites:
        reasons = (*site.filters, *method_reasons(site, method))
        if reasons:
            excluded[site.code] = reasons
        else:
            eligible.append(site)
    group = _Group(method, list(lines), {ln.key: ln.quantity for ln in lines}, eligible, excluded)
    while True:
        open_lines = group.open_lines()
        variants = list(dict.fromkeys(line.variant_id for line in open_lines))
        offers = {
            s.code: _offer(ctx, s, open_lines, variants)
            for s in eligible
            if s.code not in group.chosen
        }
        candidates = sorted(
            (s for s in eligible if s.code in offers and any(offers[s.code])),
            key=lambda s: s.code,
        )
        if not open_lines or not candidates:
            break
        _choose(ctx, group, candidates, variants, offers)
    for line in group.open_lines():
        _short_in_group(ctx, group, line)


def _offer(
    ctx: _Context, site: Site, open_lines: Sequence[OrderLine], variants: Sequence[str]
) -> list[int]:
    """Units of each variant still needed this site could give (0 where it rejected every
    open line of that variant). Two lines of one variant with different rejections are
    counted as one pool here; the units actually taken still honour each rejection."""
    if not ctx.rejected:
        return [site.left.get(variant, 0) for variant in variants]
    out = []
    for variant in variants:
        left = site.left.get(variant, 0)
        if left and all(
            (site.code, line.key) in ctx.rejected
            for line in open_lines
            if line.variant_id == variant
        ):
            left = 0
        out.append(left)
    return out


def _choose(
    ctx: _Context,
    group: _Group,
    candidates: list[Site],
    variants: list[str],
    offers: dict[str, list[int]],
) -> None:
    need = [0] * len(variants)
    index = {v: i for i, v in enumerate(variants)}
    open_lines = group.open_lines()
    for line in open_lines:
        need[index[line.variant_id]] += group.remaining[line.key]
    search = "off"
    splits: dict[str, int] = {}
    if Rule.MINIMISE_SPLITS in ctx.ranking:
        search, splits = _split_figures(
            group, candidates, need, [offers[s.code] for s in candidates]
        )
    dest = ctx.request.destination
    ranked = sorted(
        (Ranked(_keys(ctx.ranking, s, dest, splits, search), s.code, s) for s in candidates),
        key=lambda r: (r.keys, r.code),
    )
    winner = ranked[0].site
    contest = Contest(
        ranking=ctx.ranking,
        search=search,
        needed=sum(need),
        market=dest.market_code,
        rejected=ctx.rejected,
        open_lines=tuple(open_lines),
    )
    rule, detail = why_chosen(ranked, contest)
    others = competitors(ctx.sites, ranked, contest, excluded=group.excluded, chosen=group.chosen)
    takes = _take(ctx, group, winner)
    group.chosen.append(winner.code)
    group.covers = after_choice(group.covers, winner.code) if search == "exact" else []
    ctx.decisions.append(
        Decision(
            location=winner.code,
            method=group.method,
            takes=tuple(takes),
            rule=rule,
            detail=detail,
            split_search=search,
            others=others,
            sentence=sentence(winner.code, group.method, takes, f"chosen by {rule} ({detail})"),
        )
    )


def _split_figures(
    group: _Group, candidates: Sequence[Site], need: list[int], offers: list[list[int]]
) -> tuple[str, dict[str, int]]:
    """("exact", shipments of the group's best plan through each candidate) or ("greedy",
    units each candidate would take). After an exact choice the next one reuses its optimal
    subsets (they are exactly the optimal subsets of what remains), so only the first
    choice searches."""
    base = len(group.chosen)
    codes = [s.code for s in candidates]
    covers = group.covers
    if not covers or not all(cover and cover <= set(codes) for cover in covers):
        scores = score_candidates(need, offers)
        if scores.shipments is None:
            return "greedy", dict(zip(codes, scores.units, strict=True))
        covers = [frozenset(codes[i] for i in cover) for cover in scores.covers]
    group.covers = covers
    size = len(covers[0])
    members = frozenset[str]().union(*covers)
    return "exact", {code: base + (size if code in members else size + 1) for code in codes}


def _keys(
    ranking: Sequence[str], site: Site, dest: Destination, splits: dict[str, int], search: str
) -> tuple[float, ...]:
    """The site's figure on each ranking rule, lower better: shipments (exact) or units
    taken, negated (greedy); 0 in the destination market, 1 outside; km (a location without
    coordinates after every one with them); rank."""
    out: list[float] = []
    for rule in ranking:
        if rule == Rule.MINIMISE_SPLITS:
            figure = splits[site.code]
            out.append(figure if search == "exact" else -figure)
        elif rule == Rule.DESTINATION_MARKET:
            market = dest.market_code
            out.append(0 if market is None or site.location.market_code == market else 1)
        elif rule == Rule.CLOSEST:
            out.append(inf if site.distance is None else round(site.distance, 3))
        else:
            out.append(site.location.rank)
    return tuple(out)


def _take(ctx: _Context, group: _Group, site: Site) -> list[Take]:
    """The chosen site takes all it can of every open line, in line order."""
    takes = []
    for line in group.open_lines():
        if (site.code, line.key) in ctx.rejected:
            continue
        quantity = min(group.remaining[line.key], site.left.get(line.variant_id, 0))
        if quantity <= 0:
            continue
        site.left[line.variant_id] -= quantity
        group.remaining[line.key] -= quantity
        takes.append(Take(line.key, quantity))
        ctx.assignments.append(
            Assignment(site.code, line.key, line.variant_id, quantity, group.method)
        )
    return takes


def _short_in_group(ctx: _Context, group: _Group, line: OrderLine) -> None:
    short = group.remaining[line.key]
    if not group.eligible:
        can = "ship" if group.method == FulfillmentMethod.SHIP else "deliver locally"
        detail = f"no location can {can} this line ({len(group.excluded)} excluded)"
        _short(ctx, line, short, "no_eligible_location", detail)
        return
    holders = sorted(
        (s for s in group.eligible if s.left.get(line.variant_id, 0) > 0), key=lambda s: s.code
    )
    if holders and all((s.code, line.key) in ctx.rejected for s in holders):
        codes = ", ".join(s.code for s in holders)
        _short(ctx, line, short, "rejected", f"rejected by {codes}, no other location has it")
        return
    detail = f"{short} of {line.quantity} units short: no eligible location has more"
    kept = sum(s.withheld.get(line.variant_id, 0) for s in group.eligible)
    if kept:
        detail += f" ({kept} more kept back as safety stock)"
    _short(ctx, line, short, "insufficient_stock", detail)

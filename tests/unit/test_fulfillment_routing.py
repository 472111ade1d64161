"""The order router (`domain.fulfillment.routing`): each rule alone and in order, the
explanation, re-routing, pickup and local delivery, bad input, golden vectors
(tests/vectors/routing.json) and generated orders (hypothesis)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnitill.domain.errors import ValidationFailed
from omnitill.domain.fulfillment.geo import haversine_km
from omnitill.domain.fulfillment.routing import (
    DEFAULT_RULES,
    CandidateLocation,
    Destination,
    LocationStock,
    OrderLine,
    RoutingRequest,
    RoutingResult,
    Rule,
    route,
)
from omnitill.domain.fulfillment.routing_search import score_candidates
from omnitill.domain.inventory.buckets import StockBuckets

NOW = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)
BOSTON = Destination(country="US", region="MA", latitude=42.3601, longitude=-71.0589)
# Great-circle km from BOSTON: S01 2.1, S04 62.1, S02 66.4, W01 346.4 (see routing.json).
PLACES = {
    "S01": {"kind": "store", "country": "US", "latitude": 42.3503, "longitude": -71.0810},
    "S02": {"kind": "store", "country": "US", "latitude": 41.8240, "longitude": -71.4128},
    "S04": {"kind": "store", "country": "US", "latitude": 42.2626, "longitude": -71.8023},
    "W01": {"kind": "warehouse", "country": "US", "latitude": 40.5187, "longitude": -74.4121},
    "W02": {"kind": "warehouse", "country": "CA", "latitude": 45.5017, "longitude": -73.5673},
}
VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "routing.json").read_text())


def loc(code: str, stock: dict[str, int | tuple[int, int]], **fields: Any) -> CandidateLocation:
    """A candidate at one of PLACES (or anywhere, with fields), stock {variant: available}
    or {variant: (available, safety_stock)}."""
    levels = {
        v: LocationStock(*s) if isinstance(s, tuple) else LocationStock(s) for v, s in stock.items()
    }
    return CandidateLocation(code=code, stock=levels, **{**PLACES.get(code, {}), **fields})


def line(key: str, variant: str, quantity: int = 1, method: str = "ship") -> OrderLine:
    return OrderLine(key=key, variant_id=variant, quantity=quantity, method=method)


def request(
    lines: list[OrderLine], locations: list[CandidateLocation], **fields: Any
) -> RoutingRequest:
    fields.setdefault("destination", BOSTON)
    return RoutingRequest(lines=tuple(lines), locations=tuple(locations), now=NOW, **fields)


def placed(result: RoutingResult) -> list[tuple[str, str, int]]:
    return [(a.location, a.line_key, a.quantity) for a in result.assignments]


def other(result: RoutingResult, code: str, decision: int = 0) -> Any:
    return next(c for c in result.explanation.decisions[decision].others if c.location == code)


def plain(value: Any) -> bool:
    """Only JSON's own types all the way down (no enums, no dataclasses)."""
    if isinstance(value, dict):
        return all(type(k) is str and plain(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(plain(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


def without(*rules: Rule) -> tuple[str, ...]:
    return tuple(r for r in DEFAULT_RULES if r not in rules)


# --- ranking rules, alone and in order -----------------------------------------------------


def test_split_minimisation_beats_distance():
    result = route(
        request(
            [line("A", "tee"), line("B", "cap")],
            [loc("S01", {"tee": 5}), loc("W01", {"tee": 90, "cap": 50})],
        )
    )
    assert placed(result) == [("W01", "A", 1), ("W01", "B", 1)]
    decision = result.explanation.decisions[0]
    assert (decision.rule, decision.split_search) == ("minimise_splits", "exact")
    s01 = other(result, "S01")
    assert (s01.outcome, s01.rule, s01.reason) == ("lost", "minimise_splits", "more_shipments")
    assert (s01.value, s01.versus, s01.detail) == (2, 1, "2 shipments vs 1")


def test_distance_decides_when_splits_are_off():
    result = route(
        request(
            [line("A", "tee"), line("B", "cap")],
            [loc("S01", {"tee": 5}), loc("W01", {"tee": 90, "cap": 50})],
            rules=without(Rule.MINIMISE_SPLITS),
        )
    )
    assert placed(result) == [("S01", "A", 1), ("W01", "B", 1)]
    assert [d.split_search for d in result.explanation.decisions] == ["off", "off"]
    assert result.shipments == 2


def test_rule_order_is_the_merchants_closest_before_splits():
    rules = (Rule.CLOSEST, Rule.MINIMISE_SPLITS)  # enum members work as well as names
    result = route(
        request(
            [OrderLine("A", "tee", 1), OrderLine("B", "cap", 1)],  # method defaults to ship
            [loc("S01", {"tee": 5}), loc("W01", {"tee": 90, "cap": 50})],
            rules=rules,
        )
    )
    assert placed(result) == [("S01", "A", 1), ("W01", "B", 1)]
    assert result.explanation.decisions[0].rule == "closest"
    assert result.explanation.rules == ("closest", "minimise_splits")
    assert plain(result.as_dict())


def test_market_beats_distance():
    burlington = Destination(country="US", latitude=44.4759, longitude=-73.2121)
    result = route(
        request(
            [line("A", "tee", 3)],
            [loc("W01", {"tee": 90}), loc("W02", {"tee": 90})],
            destination=burlington,
        )
    )
    assert placed(result) == [("W01", "A", 3)]
    assert result.explanation.decisions[0].rule == "destination_market"
    w02 = other(result, "W02")
    assert (w02.rule, w02.reason, w02.value, w02.versus) == (
        "destination_market",
        "other_market",
        "CA",
        "US",
    )


def test_market_is_neutral_when_the_destination_names_none():
    nowhere = Destination(latitude=44.4759, longitude=-73.2121)
    result = route(
        request(
            [line("A", "tee")],
            [loc("W01", {"tee": 9}), loc("W02", {"tee": 9})],
            destination=nowhere,
        )
    )
    assert placed(result) == [("W02", "A", 1)]
    assert result.explanation.decisions[0].rule == "closest"


def test_destination_market_field_overrides_country():
    eu = Destination(country="FR", market="EU", latitude=48.85, longitude=2.35)
    result = route(
        request(
            [line("A", "tee")],
            [
                loc("DE1", {"tee": 9}, country="DE", market="EU", latitude=52.52, longitude=13.4),
                loc("GB1", {"tee": 9}, country="GB", latitude=51.5, longitude=-0.12),
            ],
            destination=eu,
        )
    )
    assert placed(result) == [("DE1", "A", 1)]
    assert result.explanation.decisions[0].rule == "destination_market"


def test_distance_beats_rank():
    result = route(
        request(
            [line("A", "tee")], [loc("S01", {"tee": 3}, rank=5), loc("S02", {"tee": 3}, rank=1)]
        )
    )
    assert placed(result) == [("S01", "A", 1)]
    decision = result.explanation.decisions[0]
    assert decision.rule == "closest"
    assert decision.detail == "2.1 km vs 66.4 km for S02"
    s02 = other(result, "S02")
    assert (s02.reason, s02.value, s02.versus) == ("farther", 66.4, 2.1)


def test_rank_decides_at_equal_distance():
    same = {"latitude": 42.0, "longitude": -71.0, "country": "US"}
    result = route(
        request(
            [line("A", "tee")],
            [loc("X1", {"tee": 3}, rank=2, **same), loc("X2", {"tee": 3}, rank=1, **same)],
        )
    )
    assert placed(result) == [("X2", "A", 1)]
    assert result.explanation.decisions[0].rule == "merchant_rank"
    assert other(result, "X1").detail == "rank 2 vs 1"


def test_full_tie_falls_to_the_location_code_whatever_the_input_order():
    same = {"latitude": 42.0, "longitude": -71.0, "country": "US"}
    locations = [loc("B2", {"tee": 3}, **same), loc("A9", {"tee": 3}, **same)]
    first = route(request([line("A", "tee")], locations))
    second = route(request([line("A", "tee")], locations[::-1]))
    assert placed(first) == placed(second) == [("A9", "A", 1)]
    assert first.explanation == second.explanation
    assert first.explanation.decisions[0].rule == "location_code"
    assert other(first, "B2").reason == "code_order"


def test_location_without_coordinates_comes_after_every_located_one():
    result = route(
        request(
            [line("A", "tee")],
            [loc("W01", {"tee": 3}), loc("X1", {"tee": 3}, country="US")],
        )
    )
    assert placed(result) == [("W01", "A", 1)]
    assert other(result, "X1").detail == "distance unknown vs 346.4 km"


# --- filters --------------------------------------------------------------------------------


def test_stale_store_excluded_and_used_when_the_rule_is_off():
    locations = [
        loc("S01", {"tee": 3}, last_heard_at=NOW - timedelta(minutes=45)),
        loc("S04", {"tee": 3}, last_heard_at=NOW - timedelta(minutes=2)),
    ]
    result = route(request([line("A", "tee")], locations))
    assert placed(result) == [("S04", "A", 1)]
    s01 = other(result, "S01")
    assert (s01.outcome, s01.rule, s01.reason, s01.value) == (
        "excluded",
        "exclude_stale",
        "stale",
        45,
    )
    assert "45 minutes (limit 15)" in s01.detail
    relaxed = route(request([line("A", "tee")], locations, rules=without(Rule.EXCLUDE_STALE)))
    assert placed(relaxed) == [("S01", "A", 1)]
    longer = route(request([line("A", "tee")], locations, staleness_limit=timedelta(hours=1)))
    assert placed(longer) == [("S01", "A", 1)]


def test_a_hub_location_is_never_stale():
    result = route(request([line("A", "tee")], [loc("S01", {"tee": 3}, last_heard_at=None)]))
    assert placed(result) == [("S01", "A", 1)]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"open_now": False}, "closed"),
        ({"accepts_orders_today": False}, "past_cutoff"),
        ({"capacity_left": 0}, "no_capacity"),
    ],
)
def test_closed_or_capacity_exhausted_location_excluded(fields, reason):
    locations = [loc("S01", {"tee": 3}, **fields), loc("W01", {"tee": 3})]
    result = route(request([line("A", "tee")], locations))
    assert placed(result) == [("W01", "A", 1)]
    s01 = other(result, "S01")
    assert (s01.outcome, s01.rule, s01.reason) == ("excluded", "respect_capacity_and_hours", reason)
    relaxed = route(
        request([line("A", "tee")], locations, rules=without(Rule.RESPECT_CAPACITY_AND_HOURS))
    )
    assert placed(relaxed) == [("S01", "A", 1)]


def test_capacity_left_counts_orders_not_units():
    result = route(
        request(
            [line("A", "tee", 5), line("B", "cap", 4)],
            [loc("S01", {"tee": 9, "cap": 9}, capacity_left=1)],
        )
    )
    assert placed(result) == [("S01", "A", 5), ("S01", "B", 4)]


def test_safety_stock_protected_when_on_and_used_when_off():
    locations = [loc("S01", {"tee": (1, 3)})]
    protected = route(request([line("A", "tee", 2)], locations))
    assert placed(protected) == [("S01", "A", 1)]
    (short,) = protected.short_lines
    assert (short.line_key, short.short, short.reason) == ("A", 1, "insufficient_stock")
    assert "3 more kept back as safety stock" in short.detail
    relaxed = route(
        request([line("A", "tee", 2)], locations, rules=without(Rule.PROTECT_SAFETY_STOCK))
    )
    assert placed(relaxed) == [("S01", "A", 2)]
    assert relaxed.fully_routed


def test_location_whose_only_units_are_safety_stock_is_explained():
    result = route(
        request([line("A", "tee")], [loc("S01", {"tee": (0, 2)}), loc("W01", {"tee": 5})])
    )
    assert placed(result) == [("W01", "A", 1)]
    s01 = other(result, "S01")
    assert (s01.rule, s01.reason, s01.value) == ("protect_safety_stock", "safety_stock", 2)


def test_negative_available_counts_as_nothing():
    result = route(
        request([line("A", "tee")], [loc("S01", {"tee": (-4, 2)}), loc("W01", {"tee": 1})])
    )
    assert placed(result) == [("W01", "A", 1)]
    off = route(
        request(
            [line("A", "tee")],
            [loc("S01", {"tee": (-4, 2)})],
            rules=without(Rule.PROTECT_SAFETY_STOCK),
        )
    )
    assert placed(off) == []
    assert off.short_lines[0].short == 1


def test_stock_from_buckets_keeps_safety_stock_apart():
    buckets = StockBuckets(on_hand=10, reserved=2, safety_stock=3, damaged=1)
    stock = LocationStock.from_buckets(buckets)
    assert (stock.available, stock.safety_stock) == (4, 3)
    assert stock.usable(protect_safety_stock=True) == 4
    assert stock.usable(protect_safety_stock=False) == buckets.free == 7


def test_does_not_ship_excluded_for_ship_lines():
    result = route(
        request([line("A", "tee")], [loc("S01", {"tee": 3}, ships=False), loc("W01", {"tee": 3})])
    )
    assert placed(result) == [("W01", "A", 1)]
    assert other(result, "S01").reason == "does_not_ship"


# --- splitting ------------------------------------------------------------------------------


def test_units_of_one_line_split_across_locations():
    result = route(
        request(
            [line("A", "tee", 5)],
            [loc("S01", {"tee": 3}), loc("S02", {"tee": 2}), loc("W01", {"tee": 1})],
        )
    )
    assert placed(result) == [("S01", "A", 3), ("S02", "A", 2)]
    assert result.shipments == 2
    first, second = result.explanation.decisions
    assert (first.rule, second.rule) == ("closest", "minimise_splits")
    assert other(result, "W01", 1).detail == "3 shipments vs 2"


def test_lines_of_one_variant_share_its_stock():
    result = route(
        request(
            [line("A", "tee", 2), line("B", "tee", 2)],
            [loc("S01", {"tee": 3}), loc("W01", {"tee": 9})],
        )
    )
    assert placed(result) == [("W01", "A", 2), ("W01", "B", 2)]
    assert result.explanation.decisions[0].rule == "minimise_splits"


def test_short_lines_list_every_shortfall_and_what_could_go_ships():
    result = route(
        request(
            [line("A", "tee", 4), line("B", "scarf", 2)],
            [loc("S01", {"tee": 1}), loc("W01", {"tee": 2})],
        )
    )
    assert sorted(placed(result)) == [("S01", "A", 1), ("W01", "A", 2)]
    assert [(s.line_key, s.short, s.reason) for s in result.short_lines] == [
        ("A", 1, "insufficient_stock"),
        ("B", 2, "insufficient_stock"),
    ]
    assert not result.fully_routed


def test_no_eligible_location_is_its_own_reason():
    result = route(request([line("A", "tee")], [loc("S01", {"tee": 3}, ships=False)]))
    assert placed(result) == []
    assert result.short_lines[0].reason == "no_eligible_location"
    assert result.explanation.summary.startswith("Nothing could be routed.")


def test_greedy_beyond_the_budget_then_exact_again():
    # 300 locations each holding one unit of one of three variants: no fewer than 3
    # locations cover, and C(300, 3) subsets pass the budget; once one variant is placed,
    # 200 candidates and 2 variants (C(200, 2) = 19,900) still do, and then 100 and 1 fit.
    locations = [
        loc(
            f"L{i:03d}",
            {("a", "b", "c")[i % 3]: 1},
            latitude=40.0 + i / 100,
            longitude=-71.0,
            country="US",
        )
        for i in range(300)
    ]
    result = route(request([line("A", "a"), line("B", "b"), line("C", "c")], locations))
    assert result.fully_routed
    assert result.shipments == 3
    searches = [d.split_search for d in result.explanation.decisions]
    assert searches == ["greedy", "greedy", "exact"]
    assert result.explanation.decisions[0].rule == "closest"  # every candidate takes 1 unit


def test_greedy_prefers_the_location_taking_most():
    big = [
        loc(f"L{i:03d}", {"a": 1, "b": 1}, latitude=45.0, longitude=-71.0, country="US")
        for i in range(40)
    ]
    small = [
        loc(f"M{i:03d}", {"c": 1}, latitude=42.36, longitude=-71.05, country="US")
        for i in range(60)
    ]
    lines = [line("A", "a", 3), line("B", "b", 3), line("C", "c", 2)]
    result = route(request(lines, big + small))
    first = result.explanation.decisions[0]
    assert first.split_search == "greedy"
    assert first.location.startswith("L")
    assert first.rule == "location_code"  # all L* tie on 2 units, distance and rank
    m000 = other(result, "M000")
    assert (m000.rule, m000.reason, m000.value, m000.versus) == (
        "minimise_splits",
        "takes_fewer_units",
        1,
        2,
    )


# --- re-routing -----------------------------------------------------------------------------


def test_rejection_reroutes_to_the_next_best_location():
    lines = [line("A", "tee", 2), line("B", "cap")]
    locations = [
        loc("S01", {"tee": 4, "cap": 2}),
        loc("S02", {"tee": 4, "cap": 2}),
        loc("W01", {"tee": 90, "cap": 50}),
    ]
    first = route(request(lines, locations))
    assert placed(first) == [("S01", "A", 2), ("S01", "B", 1)]
    again = route(request(lines, locations), rejected={("S01", "A")})
    assert placed(again) == [("S02", "A", 2), ("S02", "B", 1)]
    assert [(r.location, r.line_key) for r in again.explanation.rejections] == [("S01", "A")]
    s01 = other(again, "S01")
    assert (s01.outcome, s01.rule) == ("lost", "minimise_splits")
    assert s01.detail == "2 shipments vs 1; rejected line A"
    twice = route(
        request(lines, locations, rejected=frozenset({("S01", "A")})), rejected={("S02", "A")}
    )
    assert placed(twice) == [("W01", "A", 2), ("W01", "B", 1)]


def test_a_location_that_rejected_every_open_line_is_excluded_as_rejecting():
    locations = [loc("S01", {"tee": 4}), loc("W01", {"tee": 9})]
    result = route(request([line("A", "tee")], locations), rejected={("S01", "A")})
    assert placed(result) == [("W01", "A", 1)]
    s01 = other(result, "S01")
    assert (s01.outcome, s01.rule, s01.reason) == ("excluded", "rejected", "rejected")


def test_rejected_everywhere_leaves_the_line_short_as_rejected():
    result = route(request([line("A", "tee")], [loc("S01", {"tee": 4})]), rejected={("S01", "A")})
    assert placed(result) == []
    assert (result.short_lines[0].reason, result.short_lines[0].short) == ("rejected", 1)


# --- pickup, curbside, local delivery --------------------------------------------------------


def test_pickup_lines_go_to_the_pickup_location_only():
    dest = replace(BOSTON, pickup_location="S02")
    locations = [
        loc("S01", {"tee": 9}, offers_pickup=True),
        loc("S02", {"tee": 1}, offers_pickup=True),
    ]
    result = route(
        request(
            [line("A", "tee", 1, "pickup"), line("B", "tee", 1, "curbside")],
            locations,
            destination=dest,
        )
    )
    assert placed(result) == [("S02", "A", 1)]
    (short,) = result.short_lines
    assert (short.line_key, short.method, short.short, short.reason) == (
        "B",
        "curbside",
        1,
        "insufficient_stock",
    )
    assert short.detail == "S02 has 0 usable of 1"
    decision = result.explanation.decisions[0]
    assert (decision.rule, decision.split_search, decision.others) == (
        "pickup_location",
        "fixed",
        (),
    )


def test_pickup_skips_hours_but_not_staleness_or_capacity():
    dest = replace(BOSTON, pickup_location="S01")
    closed = route(
        request(
            [line("A", "tee", 1, "pickup")],
            [loc("S01", {"tee": 2}, offers_pickup=True, open_now=False)],
            destination=dest,
        )
    )
    assert placed(closed) == [("S01", "A", 1)]
    stale = route(
        request(
            [line("A", "tee", 1, "pickup")],
            [loc("S01", {"tee": 2}, offers_pickup=True, last_heard_at=NOW - timedelta(hours=2))],
            destination=dest,
        )
    )
    assert placed(stale) == []
    assert stale.short_lines[0].reason == "stale"
    full = route(
        request(
            [line("A", "tee", 1, "pickup")],
            [loc("S01", {"tee": 2}, offers_pickup=True, capacity_left=0)],
            destination=dest,
        )
    )
    assert full.short_lines[0].reason == "no_capacity"


def test_pickup_line_rejected_by_its_store_is_short_not_moved():
    dest = replace(BOSTON, pickup_location="S01")
    locations = [
        loc("S01", {"tee": 2}, offers_pickup=True),
        loc("S02", {"tee": 9}, offers_pickup=True),
    ]
    result = route(
        request([line("A", "tee", 1, "pickup")], locations, destination=dest),
        rejected={("S01", "A")},
    )
    assert placed(result) == []
    assert result.short_lines[0].reason == "rejected"


def test_pickup_units_are_taken_before_ship_lines_at_the_same_store():
    dest = replace(BOSTON, pickup_location="S01")
    locations = [loc("S01", {"tee": 2}, offers_pickup=True), loc("W01", {"tee": 9})]
    result = route(
        request([line("A", "tee", 2), line("B", "tee", 2, "pickup")], locations, destination=dest)
    )
    assert placed(result) == [("S01", "B", 2), ("W01", "A", 2)]


def test_local_delivery_only_from_stores_within_their_radius():
    locations = [
        loc("S01", {"tee": 1}, local_delivery_radius_km=10),
        loc("S04", {"tee": 9}, local_delivery_radius_km=25),
        loc("W01", {"tee": 90}, local_delivery_radius_km=500),
        loc("S02", {"tee": 9}),
    ]
    result = route(request([line("A", "tee", 2, "local_delivery")], locations))
    assert placed(result) == [("S01", "A", 1)]
    assert result.short_lines[0].short == 1
    s04, w01, s02 = (other(result, c) for c in ("S04", "W01", "S02"))
    assert (s04.reason, s04.value) == ("outside_radius", 62.1)
    assert s04.detail == "62.1 km away, delivers within 25 km"
    assert w01.reason == s02.reason == "no_local_delivery"


# --- explanation ------------------------------------------------------------------------------


def test_explanation_is_plain_json_with_a_sentence_per_decision():
    locations = [
        loc("S01", {"tee": 5}),
        loc("S02", {"tee": 5}, last_heard_at=NOW - timedelta(minutes=30)),
        loc("W01", {"tee": 90, "cap": 50}),
        loc("W02", {"tee": 90, "cap": 50}),
    ]
    result = route(request([line("A", "tee"), line("B", "cap")], locations))
    assert plain(result.as_dict())
    stored = json.loads(json.dumps(result.explanation.as_dict()))
    assert stored["rules"] == list(DEFAULT_RULES)
    (decision,) = stored["decisions"]
    assert decision["location"] == "W01"
    assert decision["takes"] == [{"line_key": "A", "quantity": 1}, {"line_key": "B", "quantity": 1}]
    reasons = {o["location"]: (o["outcome"], o["reason"]) for o in decision["others"]}
    assert reasons == {
        "S01": ("lost", "more_shipments"),
        "S02": ("excluded", "stale"),
        "W02": ("lost", "other_market"),
    }
    assert decision["sentence"] == (
        "W01 ships 1 of line A, 1 of line B: chosen by destination_market "
        "(in the destination market (US); W02 is in CA)."
    )
    assert (
        stored["summary"]
        == "2 lines in 1 shipment: W01 ships 1 of line A, 1 of line B (destination_market)."
    )
    assert json.loads(json.dumps(result.as_dict()))["assignments"][0]["location"] == "W01"


def test_only_candidate_is_said_so():
    result = route(request([line("A", "tee")], [loc("S01", {"tee": 1}), loc("W01", {})]))
    decision = result.explanation.decisions[0]
    assert decision.rule == "only_candidate"
    assert other(result, "W01").reason == "no_stock"


# --- bad input ----------------------------------------------------------------------------------


def test_bad_request_names_every_bad_field():
    bad = RoutingRequest(
        lines=(
            line("A", "tee", -1),
            line("A", "cap", 1, "teleport"),
            line("C", "cap", 1, "pickup"),
        ),
        destination=Destination(country="US"),
        locations=(),
        now=NOW,
        rules=("closest", "fastest", "closest"),
    )
    with pytest.raises(ValidationFailed) as caught:
        route(bad)
    fields = {(e.field, e.code) for e in caught.value.errors}
    assert fields == {
        ("lines.0.quantity", "routing.invalid_quantity"),
        ("lines.1.key", "routing.duplicate_line"),
        ("lines.1.method", "routing.unknown_method"),
        ("rules.1", "routing.unknown_rule"),
        ("rules.2", "routing.duplicate_rule"),
        ("locations", "routing.no_candidates"),
        ("destination.pickup_location", "routing.pickup_location_required"),
        ("destination.latitude", "routing.destination_unroutable"),
        ("destination.longitude", "routing.destination_unroutable"),
    }
    assert caught.value.code == "routing.invalid_quantity"


def test_destination_without_coordinates_is_unroutable_only_when_distance_is_needed():
    nowhere = Destination(country="US")
    locations = [loc("S01", {"tee": 1})]
    with pytest.raises(ValidationFailed) as caught:
        route(request([line("A", "tee")], locations, destination=nowhere))
    assert caught.value.code == "routing.destination_unroutable"
    assert route(
        request([line("A", "tee")], locations, destination=nowhere, rules=without(Rule.CLOSEST))
    ).fully_routed
    with pytest.raises(ValidationFailed) as local:
        route(
            request(
                [line("A", "tee", 1, "local_delivery")],
                locations,
                destination=nowhere,
                rules=without(Rule.CLOSEST),
            )
        )
    assert local.value.code == "routing.destination_unroutable"


def test_pickup_at_a_location_without_pickup_is_refused():
    dest = replace(BOSTON, pickup_location="W01")
    with pytest.raises(ValidationFailed) as caught:
        route(request([line("A", "tee", 1, "pickup")], [loc("W01", {"tee": 9})], destination=dest))
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("destination.pickup_location", "routing.pickup_not_offered")
    ]
    unknown = replace(BOSTON, pickup_location="S99")
    with pytest.raises(ValidationFailed) as missing:
        route(
            request(
                [line("A", "tee", 1, "curbside")], [loc("W01", {"tee": 9})], destination=unknown
            )
        )
    assert missing.value.code == "routing.unknown_location"


def test_bad_locations_times_and_rejections_are_named():
    bad = RoutingRequest(
        lines=(line("A", "tee"),),
        destination=replace(BOSTON, latitude=95.0),
        locations=(
            loc("S01", {"tee": (1, -2)}, kind="kiosk", latitude=None),
            loc("S01", {}, local_delivery_radius_km=-1, last_heard_at=datetime(2026, 5, 4, 14)),
        ),
        now=datetime(2026, 5, 4, 15),  # naive: the point of the test
        staleness_limit=timedelta(0),
        rejected=frozenset({("S09", "A")}),
    )
    with pytest.raises(ValidationFailed) as caught:
        route(bad)
    fields = {(e.field, e.code) for e in caught.value.errors}
    assert fields == {
        ("destination.latitude", "routing.invalid_coordinates"),
        ("locations.0.kind", "routing.unknown_location_kind"),
        ("locations.0.latitude", "routing.invalid_coordinates"),
        ("locations.0.stock.tee.safety_stock", "routing.invalid_quantity"),
        ("locations.1.code", "routing.duplicate_location"),
        ("locations.1.local_delivery_radius_km", "routing.invalid_radius"),
        ("locations.1.last_heard_at", "routing.naive_time"),
        ("now", "routing.naive_time"),
        ("staleness_limit", "routing.invalid_staleness_limit"),
        ("rejected", "routing.unknown_rejection"),
    }


def test_no_lines_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        route(request([], [loc("S01", {})]))
    assert caught.value.code == "routing.no_lines"


# --- great-circle distance --------------------------------------------------------------------


def test_haversine_matches_the_rosetta_code_reference():
    # Rosetta Code, "Haversine formula": BNA (36.12, -86.67) to LAX (33.94, -118.40) is
    # 2887.2599506071106 km on a sphere of radius 6372.8 km.
    assert haversine_km(36.12, -86.67, 33.94, -118.40, radius_km=6372.8) == pytest.approx(
        2887.2599506071106, rel=1e-12
    )
    assert haversine_km(42.0, -71.0, 42.0, -71.0) == 0.0
    assert haversine_km(0.0, 0.0, 0.0, 180.0) == pytest.approx(6371.0088 * 3.141592653589793)


# --- golden vectors ---------------------------------------------------------------------------


def vector_request(case: dict[str, Any]) -> RoutingRequest:
    now = datetime.fromisoformat(VECTORS["now"])
    locations = []
    for spec in case["locations"]:
        fields = {**VECTORS["places"].get(spec["code"], {}), **spec}
        stock = {v: LocationStock(a, s) for v, (a, s) in fields.pop("stock").items()}
        minutes = fields.pop("last_heard_minutes", None)
        heard = None if minutes is None else now - timedelta(minutes=minutes)
        locations.append(CandidateLocation(stock=stock, last_heard_at=heard, **fields))
    destination = Destination(
        **VECTORS["destinations"][case["destination"]],
        pickup_location=case.get("pickup_location"),
    )
    return RoutingRequest(
        lines=tuple(
            OrderLine(x["key"], x["variant"], x["quantity"], x.get("method", "ship"))
            for x in case["lines"]
        ),
        destination=destination,
        locations=tuple(locations),
        now=now,
        rules=tuple(case.get("rules", DEFAULT_RULES)),
        rejected=frozenset(tuple(pair) for pair in case.get("rejected", [])),
    )


def test_every_vector_names_its_source_and_there_are_enough():
    assert len(VECTORS["cases"]) >= 8
    assert all(case["source"] for case in VECTORS["cases"])
    assert len({case["name"] for case in VECTORS["cases"]}) == len(VECTORS["cases"])


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
def test_golden_vector(case):
    result = route(vector_request(case))
    expect = case["expect"]
    why = case["source"]
    assert [list(p) for p in placed(result)] == expect["assignments"], why
    assert {s.line_key: s.short for s in result.short_lines} == expect["short"], why
    assert [d.rule for d in result.explanation.decisions] == expect["decided_by"], why


# --- generated orders ---------------------------------------------------------------------------

VARIANTS = ("v1", "v2", "v3")


@st.composite
def routing_requests(draw: st.DrawFn) -> RoutingRequest:
    count = draw(st.integers(1, 7))
    locations = []
    for i in range(count):
        stock = {
            v: LocationStock(draw(st.integers(-2, 5)), draw(st.integers(0, 3)))
            for v in VARIANTS
            if draw(st.booleans())
        }
        locations.append(
            CandidateLocation(
                code=f"L{i}",
                kind=draw(st.sampled_from(["store", "warehouse"])),
                country=draw(st.sampled_from(["US", "CA"])),
                latitude=draw(st.floats(40, 45)),
                longitude=draw(st.floats(-75, -70)),
                rank=draw(st.integers(0, 3)),
                ships=draw(st.booleans()) or i == 0,
                offers_pickup=i == 0,
                local_delivery_radius_km=draw(st.sampled_from([None, 50.0, 400.0])),
                capacity_left=draw(st.sampled_from([None, 0, 3])),
                open_now=draw(st.booleans()) or i < 2,
                last_heard_at=NOW - timedelta(minutes=draw(st.integers(0, 40))),
                stock=stock,
            )
        )
    keys = draw(st.lists(st.sampled_from("ABCDE"), min_size=1, max_size=5, unique=True))
    lines = tuple(
        OrderLine(
            key,
            draw(st.sampled_from(VARIANTS)),
            draw(st.integers(1, 6)),
            draw(st.sampled_from(["ship", "ship", "local_delivery", "pickup"])),
        )
        for key in keys
    )
    rules = draw(st.permutations(list(DEFAULT_RULES)))
    kept = tuple(r for r in rules if draw(st.booleans()) or r == Rule.CLOSEST)
    rejected = frozenset(
        (f"L{draw(st.integers(0, count - 1))}", draw(st.sampled_from(keys)))
        for _ in range(draw(st.integers(0, 2)))
    )
    return RoutingRequest(
        lines=lines,
        destination=Destination(
            country="US", latitude=42.36, longitude=-71.06, pickup_location="L0"
        ),
        locations=tuple(locations),
        now=NOW,
        rules=kept,
        rejected=rejected,
    )


@settings(max_examples=200, deadline=None)
@given(routing_requests())
def test_assignments_stay_within_usable_stock_and_cover_each_line_or_report_it(req):
    result = route(req)
    protect = Rule.PROTECT_SAFETY_STOCK in req.rules
    usable = {
        (loc.code, v): s.usable(protect_safety_stock=protect)
        for loc in req.locations
        for v, s in loc.stock.items()
    }
    taken: dict[tuple[str, str], int] = {}
    for a in result.assignments:
        assert a.quantity > 0
        assert (a.location, a.line_key) not in req.rejected
        taken[(a.location, a.variant_id)] = taken.get((a.location, a.variant_id), 0) + a.quantity
    for key, quantity in taken.items():
        assert quantity <= usable.get(key, 0)
    short = {s.line_key: s.short for s in result.short_lines}
    for order_line in req.lines:
        got = sum(a.quantity for a in result.assignments if a.line_key == order_line.key)
        assert got + short.get(order_line.key, 0) == order_line.quantity
        assert short.get(order_line.key, 1) > 0
        if order_line.method in ("pickup", "curbside"):
            assert {a.location for a in result.assignments if a.line_key == order_line.key} <= {
                "L0"
            }
    assert len(result.explanation.decisions) == result.shipments
    assert plain(result.as_dict())


@settings(max_examples=100, deadline=None)
@given(routing_requests(), st.randoms(use_true_random=False))
def test_the_answer_does_not_depend_on_the_order_of_locations(req, rnd):
    shuffled = list(req.locations)
    rnd.shuffle(shuffled)
    assert route(req) == route(replace(req, locations=tuple(shuffled)))


def brute_force_fewest(need: list[int], offers: list[list[int]]) -> int:
    target = [min(n, sum(o[v] for o in offers)) for v, n in enumerate(need)]
    for k in range(1, len(offers) + 1):
        for subset in combinations(offers, k):
            if all(sum(o[v] for o in subset) >= t for v, t in enumerate(target)):
                return k
    raise AssertionError("the whole set always covers")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=4).flatmap(
        lambda need: st.tuples(
            st.just(need),
            st.lists(
                st.lists(st.integers(0, 4), min_size=len(need), max_size=len(need)).filter(any),
                min_size=1,
                max_size=9,
            ),
        )
    )
)
def test_exact_split_search_matches_brute_force(case):
    need, offers = case
    scores = score_candidates(need, offers)
    assert scores.exact
    assert scores.shipments is not None
    best = brute_force_fewest(need, offers)
    assert min(scores.shipments) == best
    target = [min(n, sum(o[v] for o in offers)) for v, n in enumerate(need)]
    for c, shipments in enumerate(scores.shipments):
        # c first, taking all it can, then the fewest others that reach what it leaves
        left = [max(0, t - o) for t, o in zip(target, offers[c], strict=True)]
        rest = offers[:c] + offers[c + 1 :]
        assert shipments == (1 + brute_force_fewest(left, rest) if any(left) else 1)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000))
def test_routed_plans_use_the_fewest_shipments_when_the_search_is_exact(seed):
    rnd = random.Random(seed)
    locations = [
        loc(
            f"L{i}",
            {v: rnd.randint(0, 3) for v in VARIANTS if rnd.random() < 0.5},
            latitude=rnd.uniform(40, 45),
            longitude=rnd.uniform(-75, -70),
            country="US",
        )
        for i in range(rnd.randint(1, 8))
    ]
    lines = [line(k, v, rnd.randint(1, 4)) for k, v in zip("ABC", VARIANTS, strict=True)]
    result = route(request(lines, locations))
    offers = [
        [loc.stock[v].available if v in loc.stock else 0 for v in VARIANTS] for loc in locations
    ]
    useful = [o for o in offers if any(o)]
    if not useful:
        assert result.shipments == 0
        return
    assert all(d.split_search == "exact" for d in result.explanation.decisions)
    assert result.shipments == brute_force_fewest([ln.quantity for ln in lines], useful)
    # and never at the cost of a unit: each line gets all the stock there is, up to its need
    for v, order_line in enumerate(lines):
        got = sum(a.quantity for a in result.assignments if a.line_key == order_line.key)
        assert got == min(order_line.quantity, sum(o[v] for o in offers))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_large_estates_still_take_every_unit_there_is(seed):
    rnd = random.Random(seed)
    variants = [f"v{i}" for i in range(6)]
    locations = [
        loc(
            f"L{i:02d}",
            {v: rnd.randint(0, 2) for v in variants if rnd.random() < 0.3},
            latitude=rnd.uniform(40, 45),
            longitude=rnd.uniform(-75, -70),
            country=rnd.choice(["US", "CA"]),
            rank=rnd.randint(0, 3),
        )
        for i in range(60)
    ]
    lines = [line(f"K{i}", v, rnd.randint(1, 6)) for i, v in enumerate(variants)]
    result = route(request(lines, locations))
    for order_line in lines:
        supply = sum(
            loc.stock[order_line.variant_id].available
            for loc in locations
            if order_line.variant_id in loc.stock
        )
        got = sum(a.quantity for a in result.assignments if a.line_key == order_line.key)
        assert got == min(order_line.quantity, supply)
    assert len({a.location for a in result.assignments}) == result.shipments

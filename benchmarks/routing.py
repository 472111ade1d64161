"""Order routing latency: one `route()` call for a 10-line order over 200 locations, in process.

Builds a seeded estate: 200 locations (190 stores, 10 warehouses) scattered over the
north-east of the United States, each stocking a random 60 % of 500 variants (0 to 12 units,
some with safety stock), some stale, closed or out of capacity, in two markets. Each order has
10 shipped lines of 1 to 3 units to a random destination in the same area. Each timed call is a
full `domain.fulfillment.routing.route`: filters, the split search, the ranking rules and the
explanation.

Reference measured in the same run: the great-circle distance from the destination to every
location (the least any distance-ranking router must do), so the ratio travels between
machines.

    .venv/bin/python benchmarks/routing.py [--locations 200] [--lines 10] [--orders 300] [--seed 7]

The orders issue asks for the routing time of a 10-line order over 200 locations; it sets no
aim, and the figure goes to docs/performance.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from omnitill.domain.fulfillment.geo import haversine_km
from omnitill.domain.fulfillment.routing import (
    CandidateLocation,
    Destination,
    LocationStock,
    OrderLine,
    RoutingRequest,
    route,
)

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
VARIANTS = 500


def estate(rng: random.Random, count: int) -> tuple[CandidateLocation, ...]:
    locations = []
    for n in range(count):
        stock = {
            f"v{v}": LocationStock(rng.randint(0, 12), rng.choice((0, 0, 0, 1, 2)))
            for v in range(VARIANTS)
            if rng.random() < 0.6
        }
        locations.append(
            CandidateLocation(
                code=f"L{n:03d}",
                kind="warehouse" if n % 20 == 0 else "store",
                country="US",
                market="east" if rng.random() < 0.8 else "central",
                latitude=rng.uniform(38.5, 45.0),
                longitude=rng.uniform(-80.0, -69.0),
                rank=rng.randint(0, 5),
                capacity_left=None if rng.random() < 0.9 else 0,
                open_now=rng.random() < 0.95,
                last_heard_at=NOW - timedelta(minutes=rng.choice((1, 2, 3, 120))),
                stock=stock,
            )
        )
    return tuple(locations)


def order(rng: random.Random, lines: int) -> tuple[tuple[OrderLine, ...], Destination]:
    variants = rng.sample(range(VARIANTS), lines)
    return (
        tuple(OrderLine(str(i), f"v{v}", rng.randint(1, 3)) for i, v in enumerate(variants)),
        Destination(
            country="US",
            market="east",
            latitude=rng.uniform(39.0, 44.5),
            longitude=rng.uniform(-79.5, -70.0),
        ),
    )


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--locations", type=int, default=200)
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    rng = random.Random(args.seed)
    locations = estate(rng, args.locations)
    orders = [order(rng, args.lines) for _ in range(args.orders)]
    requests = [RoutingRequest(lines, dest, locations, NOW) for lines, dest in orders]
    coords = [(float(loc.latitude or 0), float(loc.longitude or 0)) for loc in locations]
    for r in requests[:20]:  # warm-up
        route(r)
    gc.collect()
    timed, baseline, shipments, short = [], [], [], 0
    for r in requests:
        started = time.perf_counter()
        result = route(r)
        timed.append(time.perf_counter() - started)
        shipments.append(result.shipments)
        short += len(result.short_lines)
        lat, lon = float(r.destination.latitude or 0), float(r.destination.longitude or 0)
        started = time.perf_counter()
        for loc_lat, loc_lon in coords:
            haversine_km(lat, lon, loc_lat, loc_lon)
        baseline.append(time.perf_counter() - started)
    median, base = statistics.median(timed), statistics.median(baseline)
    print(
        f"routing, {args.lines}-line orders over {args.locations} locations: {len(timed)} "
        f"orders; median {median * 1000:.2f} ms, p90 {pct(timed, 0.9) * 1000:.2f} ms, "
        f"p99 {pct(timed, 0.99) * 1000:.2f} ms; shipments per order: median "
        f"{statistics.median(shipments):.0f}, max {max(shipments)}; short lines {short}"
    )
    print(
        f"reference, distances to all {args.locations} locations: median "
        f"{base * 1000:.3f} ms; ratio {median / base:.1f}x"
    )


if __name__ == "__main__":
    main()

"""Stock reservations and availability over real HTTP on PostgreSQL.

Starts `omnitill serve --workers 2` on a scratch PostgreSQL database with 10,000 SKUs at one
store and one SKU stocked at 100 locations, then measures:

1. reservations/s with p50/p99 for 32 clients all reserving 1 unit of ONE hot SKU at one
   location (`POST /api/v1/reservations`, each with its own reference);
2. the same with every request on a random one of the 10,000 SKUs;
3. availability of the hot SKU across its 100 locations (`GET /api/v1/stock?sku=`, one page
   of 100 items), sequential requests, p50/p99 against the 5 ms p99 aim.

Then pgbench (TPC-B-like, scale 10, same clients) on the same server for the ratio
reservations/s : pgbench tps, and checks that `stock verify` is clean and the reserved units
equal the reservations that succeeded.

    .venv/bin/python benchmarks/stock.py [--seconds 10] [--clients 32] [--workers 2]
                                         [--skus 10000] [--locations 100] [--reads 500]
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import threading
import time
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import func, insert, select

from _common import (
    drop_database,
    free_port,
    fresh_database,
    percentile,
    pgbench_tps,
    start_server,
    summary_ms,
)
from omnitill.adapters.db.models import Location, Product, StockLevel, StockMovement, Variant
from omnitill.domain.ids import uuid7
from omnitill.services import auth, stock
from omnitill.services.database import Database, upgrade_schema

DATABASE = "omnitill_bench_stock"
PGBENCH_DATABASE = "omnitill_pgbench_stock"
PASSWORD = "bench-password-1"
HOT = "HOT-0001"
STORE = "L001"
AIM_P99 = 0.005


def seed(url: str, skus: int, locations: int) -> list[str]:
    """`skus` SKUs with 10^6 units each at the store; the hot SKU with 10^7 at every location."""
    upgrade_schema(url)
    db = Database(url)
    with db.uow() as uow:
        loc_ids = [uuid7() for _ in range(locations)]
        uow.session.execute(
            insert(Location),
            [
                {"id": lid, "code": f"L{n + 1:03d}", "name": f"Bench location {n + 1}",
                 "kind": "store", "currency": "USD", "tax_rate": Decimal("0.08875")}
                for n, lid in enumerate(loc_ids)
            ],
        )  # fmt: skip
        names = [HOT] + [f"B-{n:05d}" for n in range(skus)]
        products = [uuid7() for _ in names]
        variants = [uuid7() for _ in names]
        uow.session.execute(
            insert(Product),
            [{"id": p, "name": f"Bench {s}"} for p, s in zip(products, names, strict=True)],
        )
        uow.session.execute(
            insert(Variant),
            [
                {"id": v, "product_id": p, "sku": s, "name": f"Bench {s}", "price_minor": 500,
                 "currency": "USD", "search_text": s.lower()}
                for v, p, s in zip(variants, products, names, strict=True)
            ],
        )  # fmt: skip
        held = [(variants[0], lid, 10**7) for lid in loc_ids]
        held += [(v, loc_ids[0], 10**6) for v in variants[1:]]
        uow.session.execute(
            insert(StockLevel),
            [{"variant_id": v, "location_id": loc, "on_hand": q} for v, loc, q in held],
        )
        uow.session.execute(
            insert(StockMovement),
            [
                {"id": uuid7(), "variant_id": v, "location_id": loc, "quantity": q,
                 "kind": "receive", "reason": "bench"}
                for v, loc, q in held
            ],
        )  # fmt: skip
        uow.commit()
    # A manager bound to no store acts at every location.
    auth.create_user(db=db, username="bench", password=PASSWORD, role="manager")
    db.dispose()
    return names[1:]


def sign_in(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request(
        "POST",
        "/api/v1/auth/token",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"username": "bench", "password": PASSWORD}),
    )
    return str(json.loads(conn.getresponse().read())["access_token"])


def reserve_loop(
    port: int, token: str, pick: Callable[[random.Random], str], clients: int, seconds: float,
    tag: str,
) -> tuple[list[float], list[str], float]:  # fmt: skip
    """`clients` threads reserving 1 unit of `pick(rng)` each for `seconds`."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)
    stop_at = 0.0

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        rng = random.Random(n)
        mine: list[float] = []
        bad: list[str] = []
        i = 0
        barrier.wait()
        while time.monotonic() < stop_at:
            i += 1
            body = json.dumps(
                {
                    "reference": {"type": "order", "id": f"{tag}-{n}-{i}"},
                    "location": STORE,
                    "lines": [{"sku": pick(rng), "quantity": 1}],
                }
            )
            started = time.perf_counter()
            conn.request("POST", "/api/v1/reservations", body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            elapsed = time.perf_counter() - started
            if response.status == 201:
                mine.append(elapsed)
            else:
                bad.append(f"{response.status} {payload[:200]!r}")
        conn.close()
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    started = time.monotonic()
    stop_at = started + seconds
    barrier.wait()
    for t in threads:
        t.join()
    return latencies, errors, time.monotonic() - started


def availability(port: int, token: str, reads: int, locations: int) -> list[float]:
    """Sequential GET /api/v1/stock?sku=HOT; every answer must hold all `locations` rows."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/stock?sku={HOT}&limit=200"
    latencies = []
    for n in range(20 + reads):
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - started
        page = json.loads(payload)
        if response.status != 200 or len(page["items"]) != locations or page["next_cursor"]:
            raise RuntimeError(f"bad availability answer: {response.status} {payload[:300]!r}")
        if n >= 20:  # the first 20 warm the connection and the worker caches
            latencies.append(elapsed)
    conn.close()
    return latencies


def report(name: str, run: tuple[list[float], list[str], float], clients: int) -> float:
    latencies, errors, elapsed = run
    rate = len(latencies) / elapsed
    print(
        f"{name}: {len(latencies)} reservations in {elapsed:.1f} s = {rate:.1f}/s "
        f"({clients} clients); {summary_ms(latencies)}; errors {len(errors)}"
    )
    for line in errors[:5]:
        print("  error:", line)
    return rate


def check(url: str, successes: int) -> None:
    db = Database(url)
    with db.uow(write=False) as uow:
        reserved = int(uow.session.scalar(select(func.sum(StockLevel.reserved))) or 0)
    broken = stock.verify(db=db)
    db.dispose()
    ok = not broken and reserved == successes
    print(
        f"consistency: {'ok' if ok else 'BROKEN'} (stock verify: "
        f"{'clean' if not broken else f'{len(broken)} discrepancies'}; "
        f"reserved {reserved}, successful reservations {successes})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--locations", type=int, default=100)
    parser.add_argument("--reads", type=int, default=500)
    args = parser.parse_args()

    try:
        url = fresh_database(DATABASE)
        skus = seed(url, args.skus, args.locations)
        port = free_port()
        server = start_server(url, workers=args.workers, port=port)
        successes = 0
        try:
            token = sign_in(port)
            rates = {}
            for name, pick in (
                ("hot SKU", lambda rng: HOT),
                (f"{args.skus} SKUs", lambda rng: rng.choice(skus)),
            ):
                tag = name.split()[0]
                warm = reserve_loop(port, token, pick, args.clients, 2, f"warm{tag}")
                run = reserve_loop(port, token, pick, args.clients, args.seconds, tag)
                successes += len(warm[0]) + len(run[0])
                rates[name] = report(f"reserve, {name}", run, args.clients)
            reads = availability(port, token, args.reads, args.locations)
        finally:
            server.terminate()
            server.wait(timeout=30)
        p99 = percentile(reads, 99)
        print(
            f"availability, 1 SKU x {args.locations} locations: {len(reads)} sequential reads; "
            f"{summary_ms(reads)}; aim p99 < {AIM_P99 * 1000:.0f} ms: "
            f"{'met' if p99 < AIM_P99 else 'not met'}"
        )
        check(url, successes)
        tps = pgbench_tps(args.clients, int(args.seconds), PGBENCH_DATABASE)
        print(f"pgbench (TPC-B-like, scale 10, {args.clients} clients): {tps:.1f} tps")
        for name, rate in rates.items():
            print(f"ratio reservations/s : pgbench tps, {name} = {rate / tps:.3f}")
    finally:
        drop_database(DATABASE)
        drop_database(PGBENCH_DATABASE)


if __name__ == "__main__":
    main()

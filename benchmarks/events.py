"""Event latency across hub processes: API commit on hub A to receipt on a stream of hub B.

Starts two `omnitill serve` processes (one worker each) on a scratch PostgreSQL database,
opens `GET /api/v1/events/stream` on hub B, then makes N reservations one after the other
through hub A's API (`POST /api/v1/reservations`; A commits before it answers, so the
answer marks the commit) and times each `reservation.created` from A's answer to its
arrival on B's stream. B's relay and hub poll every 30 s, so only the fan-out brings an
event within the run: PostgreSQL LISTEN/NOTIFY, then NATS JetStream (``--fanout``).

Reference measured in the same run on the same database: a bare LISTEN/NOTIFY round trip
(psycopg, autocommit `NOTIFY` on one connection, received on another), so the ratio
travels between machines. Then the routing figure of `benchmarks/routing.py` (a 10-line
order over 200 locations), which the orders issue asks for beside these latencies.

    .venv/bin/python benchmarks/events.py [--events 300] [--fanout postgres,nats]

The database server is OMNITILL_BENCH_DATABASE_URL (default: local PostgreSQL as postgres);
the script makes and drops its own database on it. NATS: OMNITILL_NATS_URL (default
nats://127.0.0.1:4222, with JetStream).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import sys
import threading
import time
from contextlib import contextmanager
from decimal import Decimal

import httpx
import psycopg

import routing
from _common import drop_database, free_port, fresh_database, percentile, start_server
from omnitill.adapters.db.models import Location, Product, StockLevel, StockMovement, Variant
from omnitill.adapters.events.postgres import conninfo
from omnitill.services import auth
from omnitill.services.database import Database, upgrade_schema

DATABASE = "omnitill_bench_events"
PASSWORD = "bench-password-1"
WAIT_SECONDS = 5.0  # an event later than this counts as lost


def seed(url: str) -> None:
    upgrade_schema(url)
    db = Database(url)
    with db.uow() as uow:
        store = Location(
            code="S01",
            name="Bench Store",
            kind="store",
            currency="USD",
            tax_rate=Decimal("0.08875"),
        )
        product = Product(name="Bench tee")
        uow.session.add_all([store, product])
        uow.session.flush()
        variant = Variant(
            product_id=product.id,
            sku="TEE",
            name="Bench tee",
            price_minor=1500,
            currency="USD",
            search_text="tee",
        )
        uow.session.add(variant)
        uow.session.flush()
        uow.session.add(StockLevel(variant_id=variant.id, location_id=store.id, on_hand=10**6))
        uow.session.add(
            StockMovement(
                variant_id=variant.id,
                location_id=store.id,
                quantity=10**6,
                kind="receive",
                reason="bench",
            )
        )
        uow.commit()
    auth.create_user(db=db, username="bench", password=PASSWORD, role="manager")
    db.dispose()


@contextmanager
def environment(**values: str):
    """Environment variables for the servers started inside the block."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class StreamReader(threading.Thread):
    """Reads hub B's stream; puts (aggregate id, arrival time) on a queue."""

    def __init__(self, base_url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.base_url = base_url
        self.token = token
        self.arrivals: queue.Queue[tuple[str, float]] = queue.Queue()
        self.live = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        params = {"location": "S01", "topics": "reservation.created"}
        with (
            httpx.Client(base_url=self.base_url, headers=headers, timeout=None) as http,
            http.stream("GET", "/api/v1/events/stream", params=params) as response,
        ):
            for line in response.iter_lines():
                if self.stop.is_set():
                    return
                if line == ": live":
                    self.live.set()
                elif line.startswith("data: "):
                    received = time.perf_counter()
                    self.arrivals.put((json.loads(line[6:])["aggregate_id"], received))


def measure_hubs(
    url: str, fanout: str, events: int, paces: list[float]
) -> dict[float, tuple[list[float], int]]:
    """For each pace (seconds between events): latencies (seconds) from A's answer to B's
    receipt, and the events lost."""
    settings = {
        "OMNITILL_EVENT_FANOUT": fanout,
        "OMNITILL_EVENT_RELAY_SECONDS": "30",
        "OMNITILL_SSE_HEARTBEAT_SECONDS": "60",
    }
    with environment(**settings):
        port_a, port_b = free_port(), free_port()
        hub_a = start_server(url, workers=1, port=port_a)
        hub_b = start_server(url, workers=1, port=port_b)
    try:
        a = httpx.Client(base_url=f"http://127.0.0.1:{port_a}", timeout=30)
        token = a.post(
            "/api/v1/auth/token", json={"username": "bench", "password": PASSWORD}
        ).json()["access_token"]
        a.headers["Authorization"] = f"Bearer {token}"
        reader = StreamReader(f"http://127.0.0.1:{port_b}", token)
        reader.start()
        if not reader.live.wait(10):
            raise RuntimeError("hub B's stream did not go live")
        results = {}
        for pace in paces:
            latencies: list[float] = []
            lost = 0
            for n in range(events + 10):  # the first 10 warm up pools and caches
                time.sleep(pace)
                answer = a.post(
                    "/api/v1/reservations",
                    json={
                        "reference": {"type": "bench", "id": f"{fanout}-{pace}-{n}"},
                        "location": "S01",
                        "lines": [{"sku": "TEE", "quantity": 1}],
                    },
                )
                answered = time.perf_counter()
                if answer.status_code != 201:
                    raise RuntimeError(f"refused: {answer.status_code} {answer.text}")
                made = answer.json()["id"]
                try:
                    while True:
                        got, arrived = reader.arrivals.get(timeout=WAIT_SECONDS)
                        if got == made:
                            break
                except queue.Empty:
                    lost += 1
                    continue
                if n >= 10:
                    latencies.append(arrived - answered)
            results[pace] = (latencies, lost)
        reader.stop.set()
        a.close()
        return results
    finally:
        for hub in (hub_a, hub_b):
            hub.terminate()
            hub.wait(30)


def notify_round_trips(url: str, samples: int) -> list[float]:
    """A bare LISTEN/NOTIFY round trip: from sending NOTIFY on one connection (autocommit)
    to its arrival on another: the least any fan-out through PostgreSQL can take."""
    info = conninfo(url)
    with (
        psycopg.connect(info, autocommit=True) as listener,
        psycopg.connect(info, autocommit=True) as notifier,
    ):
        listener.execute("LISTEN omnitill_bench")
        times: list[float] = []
        for n in range(samples + 10):
            sent = time.perf_counter()
            notifier.execute(f"NOTIFY omnitill_bench, '{n}'")
            for _ in listener.notifies(timeout=WAIT_SECONDS, stop_after=1):
                if n >= 10:
                    times.append(time.perf_counter() - sent)
    return times


def ms(samples: list[float], pct: float) -> float:
    return percentile(samples, pct) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=300, help="events per fan-out (>= 200)")
    parser.add_argument("--fanout", default="postgres,nats", help="postgres, nats or both")
    parser.add_argument(
        "--pace",
        default="0.1,0",
        help="seconds between events, one run each: 0.1 is a quiet store (each event is "
        "numbered at once), 0 back to back (the relay batches every 50 ms)",
    )
    args = parser.parse_args()
    url = fresh_database(DATABASE)
    try:
        seed(url)
        reference = notify_round_trips(url, args.events)
        ref_p50, ref_p99 = ms(reference, 50), ms(reference, 99)
        print(
            f"reference, bare LISTEN/NOTIFY round trip on the same database: "
            f"{len(reference)} samples; p50 {ref_p50:.2f} ms, p99 {ref_p99:.2f} ms"
        )
        paces = [float(p) for p in args.pace.split(",")]
        for fanout in args.fanout.split(","):
            runs = measure_hubs(url, fanout.strip(), args.events, paces)
            for pace, (latencies, lost) in runs.items():
                p50, p99 = ms(latencies, 50), ms(latencies, 99)
                print(
                    f"events, hub A's API answer to hub B's stream, fan-out {fanout}, "
                    f"{pace:g} s apart: {len(latencies)} events, {lost} lost; p50 {p50:.2f} ms, "
                    f"p99 {p99:.2f} ms, max {max(latencies) * 1000:.2f} ms; ratio to the "
                    f"reference p50 {p50 / ref_p50:.1f}x, p99 {p99 / ref_p99:.1f}x"
                )
    finally:
        drop_database(DATABASE)
    print("routing (benchmarks/routing.py):", flush=True)
    sys.argv = [sys.argv[0]]
    routing.main()


if __name__ == "__main__":
    main()

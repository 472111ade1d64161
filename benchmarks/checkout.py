"""Checkout throughput: register sales per second over real HTTP on PostgreSQL.

Starts `omnitill serve --workers 2` on a scratch PostgreSQL database priced like the demo's
New York store (stacked NYC sales tax, 100 live promotions; `--promotions 0` for one flat
location rate), lets 16 concurrent clients (one per register, as in a store) post 3-line
cash sales for 15 s, and prints sales/s with p50/p99 latency; then the same with half the
sales paid by card (`--card-share`): the register quotes the cart, takes the card through the
sandbox gateway in the server (the card encrypted by a simulated P2PE terminal) and posts the
sale with it, so a card sale is three requests. Then runs pgbench (TPC-B-like, scale 10, 16
clients) on the same server and prints the ratio sales/s : pgbench tps for each run, so the
figures travel between machines.
Afterwards it checks the run left stock and audit consistent and counts the sales stored.

    .venv/bin/python benchmarks/checkout.py [--seconds 15] [--clients 16] [--workers 2]
                                            [--promotions 100] [--card-share 0.5]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import tempfile
import threading
import time
from decimal import Decimal

from sqlalchemy import select

from _common import drop_database, free_port, fresh_database, pgbench_tps, start_server, summary_ms
from omnitill.adapters.db.models import (
    Location,
    Product,
    Promotion,
    Register,
    Sale,
    StockLevel,
    StockMovement,
    TaxComponent,
    TaxJurisdiction,
    Variant,
)
from omnitill.adapters.payments.sandbox import SandboxTerminal
from omnitill.domain.catalog.gtin import gtin_check_digit
from omnitill.domain.ids import uuid7
from omnitill.services import audit, auth, stock, versions
from omnitill.services.database import Database, upgrade_schema

PASSWORD = "bench-password-1"
TEST_CARD = "4242424242424242"  # the sandbox approves it
VARIANTS = 200


def seed(url: str, registers: int) -> list[str]:
    upgrade_schema(url)
    db = Database(url)
    with db.uow() as uow:
        s01 = Location(
            code="S01",
            name="Bench Store",
            kind="store",
            currency="USD",
            tax_rate=Decimal("0.08875"),
            timezone="America/New_York",
        )
        uow.session.add(s01)
        uow.session.flush()
        for n in range(1, registers + 1):
            uow.session.add(Register(code=f"S01-R{n}", location_id=s01.id, name=f"Till {n}"))
        skus = []
        for n in range(VARIANTS):
            product = Product(name=f"Bench product {n}")
            uow.session.add(product)
            uow.session.flush()
            data = f"200{n:09d}"
            variant = Variant(
                product_id=product.id,
                sku=f"B-{n:04d}",
                barcode=data + str(gtin_check_digit(data)),
                name=f"Bench product {n}",
                price_minor=500 + n * 7,
                currency="USD",
                search_text=f"bench product {n}",
            )
            uow.session.add(variant)
            uow.session.flush()
            uow.session.add(StockLevel(variant_id=variant.id, location_id=s01.id, on_hand=10**6))
            uow.session.add(
                StockMovement(
                    variant_id=variant.id,
                    location_id=s01.id,
                    quantity=10**6,
                    kind="receive",
                    reason="bench",
                )
            )
            skus.append(variant.sku)
        uow.commit()
    auth.create_user(
        db=db, username="bench", password=PASSWORD, role="cashier", location_codes=["S01"]
    )
    db.dispose()
    return skus


def seed_pricing(url: str, skus: list[str], promotions: int) -> None:
    """A store priced like the demo's New York one: three stacked levies in one rounding group,
    `promotions` live promotions (percent off single variants, every tenth a buy 2 get 1 on
    a few, one spend-tier order promotion) and a loyalty price list for a customer group."""
    if not promotions:
        return
    db = Database(url)
    with db.uow() as uow:
        nyc = TaxJurisdiction(code="US-NY-NYC", name="New York City", country="US", region="NY")
        uow.session.add(nyc)
        uow.session.flush()
        for n, (code, rate) in enumerate((("NYS", "0.04"), ("NYC", "0.045"), ("MCTD", "0.00375"))):
            uow.session.add(
                TaxComponent(
                    jurisdiction_id=nyc.id,
                    code=code,
                    name=code,
                    rates={"standard": rate},
                    rounding_group="NYC",
                    position=n,
                )
            )
        uow.session.scalars(
            select(Location).where(Location.code == "S01")
        ).one().tax_jurisdiction_id = nyc.id
        ids = dict(uow.session.execute(select(Variant.sku, Variant.id)).all())
        for n in range(promotions - 1):
            target = {"variant_ids": [str(ids[skus[(n * 7 + k) % len(skus)]]) for k in range(3)]}
            rule = (
                {"buy_quantity": 2, "get_quantity": 1, "get_percent": "100"}
                if n % 10 == 0
                else {"percent": str(5 + n % 20)}
            )
            uow.session.add(
                Promotion(
                    code=f"bench-{n}",
                    name=f"Bench promotion {n}",
                    kind="buy_x_get_y" if n % 10 == 0 else "item_percent",
                    definition={"target": target, **rule},
                )
            )
        uow.session.add(
            Promotion(
                code="bench-spend",
                name="Spend 100 save 10",
                kind="spend_tiers",
                stacking="order",
                currency="USD",
                definition={"tiers": [{"threshold": 10000, "amount": 1000}]},
            )
        )
        versions.touch(uow, versions.PRICING)
        versions.touch(uow, versions.PROMOTIONS)
        uow.commit()
    db.dispose()


def run_clients(
    port: int,
    token: str,
    skus: list[str],
    clients: int,
    seconds: float,
    *,
    card_share: float = 0.0,
    terminal: SandboxTerminal | None = None,
):
    """Each client posts sales until `seconds` pass; a `card_share` of them (every n-th)
    first takes a card payment for the total from the sandbox gateway (`POST /payments`,
    the card encrypted by a simulated terminal), then posts the sale with it. A sale's
    latency covers both requests."""
    every = round(1 / card_share) if card_share > 0 else 0
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    barrier = threading.Barrier(clients)

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        mine: list[float] = []
        i = n
        barrier.wait()
        while time.monotonic() < stop_at:
            lines = [
                {"sku": skus[(i * 3 + k) % len(skus)], "quantity": 1 + k % 2} for k in range(3)
            ]
            sale_id = str(uuid7())
            by_card = every > 0 and i % every == 0
            started = time.perf_counter()
            if by_card:
                assert terminal is not None
                conn.request(
                    "POST",
                    "/api/v1/quotes",
                    body=json.dumps({"location": "S01", "lines": lines}),
                    headers=headers,
                )
                quote = conn.getresponse()
                total = json.loads(quote.read())["total"]
                paid = {
                    "id": str(uuid7()),
                    "register": f"S01-R{n + 1}",
                    "sale_id": sale_id,
                    "amount": total,
                    "payment_data": terminal.read_card(TEST_CARD, 12, 2031),
                    "entry_mode": "nfc_tap",
                }
                conn.request("POST", "/api/v1/payments", body=json.dumps(paid), headers=headers)
                card = conn.getresponse()
                card_body = card.read()
                if card.status != 201:
                    with lock:
                        errors.append(f"card {card.status} {card_body[:200]!r}")
                    i += clients
                    continue
                payments = [{"method": "card", "amount": total, "payment_id": paid["id"]}]
            else:
                payments = [{"method": "cash", "amount": 100000}]
            body = json.dumps(
                {
                    "id": sale_id,
                    "location": "S01",
                    "register": f"S01-R{n + 1}",
                    "lines": lines,
                    "payments": payments,
                }
            )
            conn.request("POST", "/api/v1/sales", body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            elapsed = time.perf_counter() - started
            if response.status != 201:
                with lock:
                    errors.append(f"{response.status} {payload[:200]!r}")
            else:
                mine.append(elapsed)
            i += clients
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--promotions",
        type=int,
        default=100,
        help="live promotions (and a stacked NYC tax set-up); 0: one flat location rate",
    )
    parser.add_argument(
        "--card-share",
        type=float,
        default=0.5,
        help="share of sales paid by card in the second run (0 skips it)",
    )
    args = parser.parse_args()

    url = fresh_database("omnitill_bench")
    skus = seed(url, args.clients)
    seed_pricing(url, skus, args.promotions)
    port = free_port()
    sandbox = tempfile.mkdtemp(prefix="omnitill-bench-")
    os.environ["OMNITILL_SANDBOX_GATEWAY_PATH"] = os.path.join(sandbox, "sandbox_gateway.db")
    server = start_server(url, workers=args.workers, port=port)
    runs: list[tuple[str, float]] = []
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request(
            "POST",
            "/api/v1/auth/token",
            headers={"Content-Type": "application/json"},
            body=json.dumps({"username": "bench", "password": PASSWORD}),
        )
        token = json.loads(conn.getresponse().read())["access_token"]
        conn.request(
            "GET",
            "/api/v1/payments/sandbox/public-key",
            headers={"Authorization": f"Bearer {token}"},
        )
        terminal = SandboxTerminal(json.loads(conn.getresponse().read())["public_key_pem"])
        mixes = [("cash only", 0.0)]
        if args.card_share > 0:
            mixes.append((f"{args.card_share:.0%} by card", args.card_share))
        for name, share in mixes:
            warm = dict(card_share=share, terminal=terminal)
            run_clients(port, token, skus, args.clients, 2, **warm)  # warm-up: pools, caches
            latencies, errors, elapsed = run_clients(
                port, token, skus, args.clients, args.seconds, **warm
            )
            rate = len(latencies) / elapsed
            runs.append((name, rate))
            print(
                f"checkout, {name}: {len(latencies)} sales in {elapsed:.1f} s = {rate:.1f} "
                f"sales/s ({args.clients} clients, {args.workers} workers, "
                f"{args.promotions} promotions); {summary_ms(latencies)}; errors {len(errors)}"
            )
            for line in errors[:5]:
                print("  error:", line)
    finally:
        server.terminate()
        server.wait(timeout=30)

    db = Database(url)
    with db.uow(write=False) as uow:
        from sqlalchemy import func

        stored = uow.session.scalar(select(func.count()).select_from(Sale))
    consistent = not stock.verify(db=db) and not audit.verify(db=db)
    db.dispose()
    print(
        f"consistency: {stored} sales stored, stock and audit verify: "
        f"{'ok' if consistent else 'BROKEN'}"
    )

    try:
        tps = pgbench_tps(args.clients, int(args.seconds))
    finally:
        drop_database("omnitill_bench")
        drop_database("omnitill_pgbench")
    print(f"pgbench (TPC-B-like, scale 10, {args.clients} clients): {tps:.1f} tps")
    for name, rate in runs:
        print(f"ratio sales/s : pgbench tps, {name} = {rate / tps:.3f} (aim >= 0.05)")


if __name__ == "__main__":
    main()

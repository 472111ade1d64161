"""Scanner lookup latency on a 100,000-variant catalog (SQLite, in process).

Builds a migrated temporary SQLite database, bulk-loads products and variants with SQLAlchemy
Core, then times lookups through `services.catalog.lookup_variant`, the function behind
``GET /api/v1/variants/lookup/{code}``: a seeded mix of typed SKUs and scanned barcodes, a
third of the scans in a zero-padded GTIN form the catalog did not store. The reference is a
raw ``sqlite3`` indexed SELECT of the same variants (by stored SKU or barcode, joined to the
product) on the same file in the same run, so the ratio shows what the service layer costs
over the bare index probe.

    .venv/bin/python benchmarks/lookup.py [--variants 100000] [--lookups 20000] [--seed 7]

Target: p99 under 2 ms.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from omnitill.adapters.db.models import Product, Variant
from omnitill.domain.catalog.gtin import gtin_check_digit
from omnitill.domain.ids import uuid7
from omnitill.services.catalog import lookup_variant
from omnitill.services.database import Database, upgrade_schema

VARIANTS_PER_PRODUCT = 4
BATCH = 5_000
SIZES = ["S", "M", "L", "XL"]


def gtin(n: int, length: int) -> str:
    data = f"{n:0{length - 1}d}"
    if length == 13:
        data = "2" + data[1:]  # in-store number range, so no clash with the UPC-A codes
    return data + str(gtin_check_digit(data))


def barcode_for(n: int) -> str:
    """Every fourth variant carries a UPC-A, the rest an EAN-13."""
    return gtin(n, 12) if n % 4 == 0 else gtin(n, 13)


def load_catalog(db: Database, variants: int) -> None:
    now = datetime.now(UTC)
    products = (variants + VARIANTS_PER_PRODUCT - 1) // VARIANTS_PER_PRODUCT
    product_ids = [uuid7() for _ in range(products)]
    with db.engine.begin() as conn:
        for start in range(0, products, BATCH):
            conn.execute(
                insert(Product.__table__),
                [
                    {
                        "id": product_ids[p],
                        "name": f"Product {p}",
                        "description": "",
                        "category_id": None,
                        "brand_id": None,
                        "tax_class": "standard",
                        "tracking": "none",
                        "status": "active",
                        "options": ["size"],
                        "created_at": now,
                        "updated_at": now,
                    }
                    for p in range(start, min(start + BATCH, products))
                ],
            )
        for start in range(0, variants, BATCH):
            rows = []
            for n in range(start, min(start + BATCH, variants)):
                product = n // VARIANTS_PER_PRODUCT
                size = SIZES[n % VARIANTS_PER_PRODUCT]
                sku = f"SKU-{n:06d}"
                code = barcode_for(n)
                rows.append(
                    {
                        "id": uuid7(),
                        "product_id": product_ids[product],
                        "sku": sku,
                        "barcode": code,
                        "name": f"Product {product} - {size}",
                        "option_values": {"size": size},
                        "price_minor": 100 + n % 10_000,
                        "compare_at_minor": None,
                        "cost_minor": None,
                        "currency": "USD",
                        "status": "active",
                        "search_text": f"product {product} - {size} {sku.lower()} {code}",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            conn.execute(insert(Variant.__table__), rows)


def scans(variants: int, lookups: int, seed: int) -> list[tuple[str, str]]:
    """(what the till sends, the stored key it must find), half SKUs, half barcodes."""
    rng = random.Random(seed)
    codes = []
    for _ in range(lookups):
        n = rng.randrange(variants)
        if rng.random() < 0.5:
            codes.append((f"SKU-{n:06d}", f"SKU-{n:06d}"))
            continue
        stored = barcode_for(n)
        sent = stored
        if rng.random() < 1 / 3:
            sent = stored.zfill(13) if len(stored) == 12 else stored.zfill(14)
        codes.append((sent, stored))
    return codes


def percentile(sorted_ms: Sequence[float], pct: float) -> float:
    index = min(len(sorted_ms) - 1, max(0, round(pct / 100 * len(sorted_ms)) - 1))
    return sorted_ms[index]


def timed(calls: Sequence[Callable[[], object]]) -> list[float]:
    out = []
    clock = time.perf_counter_ns
    for call in calls:
        started = clock()
        call()
        out.append((clock() - started) / 1e6)
    out.sort()
    return out


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50": percentile(samples, 50),
        "p99": percentile(samples, 99),
        "max": samples[-1],
        "mean": statistics.fmean(samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="omnitill-bench-") as tmp:
        path = Path(tmp) / "bench.db"
        url = f"sqlite:///{path}"
        started = time.perf_counter()
        upgrade_schema(url)
        db = Database(url)
        load_catalog(db, args.variants)
        load_s = time.perf_counter() - started
        codes = scans(args.variants, args.lookups, args.seed)

        def service_call(sent: str, stored: str) -> Callable[[], object]:
            def call() -> object:
                record = lookup_variant(db=db, code=sent)
                if record.variant.sku != stored and record.variant.barcode != stored:
                    raise AssertionError(f"{sent} found {record.variant.sku}")
                return record

            return call

        raw = sqlite3.connect(path, check_same_thread=False)
        select_by = {
            column: (
                "SELECT v.id, v.sku, v.barcode, v.name, v.price_minor, v.currency, v.status,"
                " p.status FROM variants v JOIN products p ON p.id = v.product_id"
                f" WHERE v.{column} = ?"
            )
            for column in ("sku", "barcode")
        }

        def raw_call(stored: str) -> Callable[[], object]:
            sql = select_by["sku" if stored.startswith("SKU-") else "barcode"]

            def call() -> object:
                row = raw.execute(sql, (stored,)).fetchone()
                if row is None:
                    raise AssertionError(stored)
                return row

            return call

        plan = raw.execute("EXPLAIN QUERY PLAN " + select_by["barcode"], ("x",)).fetchall()
        warm = codes[:500]
        timed([service_call(s, k) for s, k in warm])
        timed([raw_call(k) for _, k in warm])
        service = summary(timed([service_call(s, k) for s, k in codes]))
        reference = summary(timed([raw_call(k) for _, k in codes]))
        raw.close()
        db.dispose()

    print(
        f"omnitill lookup benchmark  python {platform.python_version()}  "
        f"sqlite {sqlite3.sqlite_version}  {platform.machine()}"
    )
    print(
        f"catalog: {args.variants:,} variants loaded and migrated in {load_s:.1f} s; "
        f"{args.lookups:,} lookups (seed {args.seed}), half SKU, half barcode"
    )
    print(
        f"machine: {os.cpu_count()} CPUs, 1-min load average {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after (tail latencies grow when other work shares the CPUs)"
    )
    print(f"reference plan: {' / '.join(str(r[-1]) for r in plan)}")
    print(f"{'':28}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'mean ms':>10}")
    for label, figures in (
        ("services.catalog.lookup", service),
        ("raw sqlite3 indexed SELECT", reference),
    ):
        print(
            f"{label:28}{figures['p50']:>10.3f}{figures['p99']:>10.3f}"
            f"{figures['max']:>10.3f}{figures['mean']:>10.3f}"
        )
    print(
        f"ratio service/reference: p50 {service['p50'] / reference['p50']:.1f}x, "
        f"p99 {service['p99'] / reference['p99']:.1f}x"
    )
    verdict = "met" if service["p99"] < 2.0 else "MISSED"
    print(f"target p99 < 2 ms: {verdict} ({service['p99']:.3f} ms)")


if __name__ == "__main__":
    main()

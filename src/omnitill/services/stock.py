"""Stock levels and the append-only movement ledger."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import Location, StockLevel, StockMovement, Variant


@dataclass(frozen=True, slots=True)
class StockDiscrepancy:
    """A level that does not equal the sum of its movements."""

    sku: str
    location: str
    on_hand: int
    ledger_sum: int


def verify(*, db: Database) -> list[StockDiscrepancy]:
    """Every (variant, location) whose on-hand differs from the sum of its movements.

    Covers levels with no movements and movements with no level (both sides of a full join).
    """
    with db.uow(write=False) as uow:
        sums = dict(
            ((row.variant_id, row.location_id), int(row.total))
            for row in uow.session.execute(
                select(
                    StockMovement.variant_id,
                    StockMovement.location_id,
                    func.sum(StockMovement.quantity).label("total"),
                )
                .where(StockMovement.bucket == "on_hand")
                .group_by(StockMovement.variant_id, StockMovement.location_id)
            )
        )
        levels = {
            (row.variant_id, row.location_id): int(row.on_hand)
            for row in uow.session.execute(
                select(StockLevel.variant_id, StockLevel.location_id, StockLevel.on_hand)
            )
        }
        bad = [
            key for key in sorted(set(sums) | set(levels), key=str)
            if sums.get(key, 0) != levels.get(key, 0)
        ]
        if not bad:
            return []
        skus = dict(uow.session.execute(select(Variant.id, Variant.sku)).tuples().all())
        codes = dict(uow.session.execute(select(Location.id, Location.code)).tuples().all())
        return [
            StockDiscrepancy(
                sku=skus.get(v, str(v)),
                location=codes.get(loc, str(loc)),
                on_hand=levels.get((v, loc), 0),
                ledger_sum=sums.get((v, loc), 0),
            )
            for v, loc in bad
        ]

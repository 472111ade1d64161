"""The lot expiry sweep: units of lots past their expiry date leave sellable stock.

A lot is expired at a location once that location's business date is after its
`expires_on` (domain/inventory/lots.py). First expired first out already skips such a lot
the moment it expires; the sweep then moves its units into the level's `expired` bucket
(so `available` falls, and reports see them) with one `lot_expired` movement per lot and
location, and counts them in `lot_balances.expired`.

Each lot balance is swept in its own short transaction, claimed by a conditional UPDATE on
the units it found unexpired (`on_hand - expired = n`): if a sale or another sweeper moved
the balance in between, the claim matches no row and the balance is read again, so several
processes may sweep at once and no unit is counted twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from sqlalchemy import Connection, select, update

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import Location, Lot, LotBalance, StockLevel, StockMovement
from omnitill.adapters.db.types import utcnow
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.buckets import Bucket
from omnitill.domain.inventory.lots import (
    LotStock,
    business_date,
    is_expired,
    units_to_expire,
)
from omnitill.services.retries import run_retrying

SWEEP_BATCH = 500
_ATTEMPTS = 5  # re-reads of one balance that keeps moving under the sweep


@dataclass(frozen=True, slots=True)
class _Due:
    lot_id: uuid.UUID
    location_id: uuid.UUID
    variant_id: uuid.UUID
    code: str
    expires_on: date
    timezone: str


def sweep(*, db: Database, now: datetime | None = None, batch_size: int = SWEEP_BATCH) -> int:
    """Move the unexpired units of every expired lot into `expired`; how many units moved.

    Idempotent: a second run right after finds nothing to do.
    """
    at = now or utcnow()
    moved = 0
    after: tuple[uuid.UUID, uuid.UUID] | None = None
    while True:
        with db.uow(write=False) as uow:
            due = _candidates(uow.connection, now=at, after=after, limit=batch_size)
        for item in due:
            if not is_expired(item.expires_on, business_date(at, item.timezone)):
                continue  # not yet expired in this location's own timezone
            moved += run_retrying(partial(_expire_one, db, item, at))
        if len(due) < batch_size:
            return moved
        after = (due[-1].lot_id, due[-1].location_id)


def _stock(item: _Due, on_hand: int, expired: int) -> LotStock:
    return LotStock(item.lot_id, item.code, item.expires_on, on_hand, expired)


def _candidates(
    conn: Connection,
    *,
    now: datetime,
    after: tuple[uuid.UUID, uuid.UUID] | None,
    limit: int,
) -> list[_Due]:
    """Balances holding unexpired units of lots that may have expired somewhere by now.

    No timezone is more than a day ahead of UTC, so a lot whose date is before UTC's
    tomorrow is a candidate; the caller decides by each location's own business date."""
    horizon = (now + timedelta(days=1)).date()
    b = LotBalance
    stmt = (
        select(b.lot_id, b.location_id, Lot.variant_id, Lot.code, Lot.expires_on, Location.timezone)
        .join(Lot, Lot.id == b.lot_id)
        .join(Location, Location.id == b.location_id)
        .where(
            Lot.expires_on.is_not(None),
            Lot.expires_on < horizon,
            b.on_hand - b.expired > 0,
        )
        .order_by(b.lot_id, b.location_id)
        .limit(limit)
    )
    if after is not None:
        lot_id, location_id = after
        stmt = stmt.where(
            (b.lot_id > lot_id) | ((b.lot_id == lot_id) & (b.location_id > location_id))
        )
    return [
        _Due(lot_id, location_id, variant_id, code, expires_on, timezone)
        for lot_id, location_id, variant_id, code, expires_on, timezone in conn.execute(stmt)
        if expires_on is not None
    ]


def _expire_one(db: Database, item: _Due, now: datetime) -> int:
    """Claim and move one balance's unexpired units; how many (0 if none are left)."""
    with db.uow() as uow:
        conn = uow.connection
        for _ in range(_ATTEMPTS):
            row = conn.execute(
                select(LotBalance.on_hand, LotBalance.expired).where(
                    LotBalance.lot_id == item.lot_id, LotBalance.location_id == item.location_id
                )
            ).first()
            if row is None:
                return 0
            n = units_to_expire(
                _stock(item, int(row[0]), int(row[1])),
                today=business_date(now, item.timezone),
            )
            if n == 0:
                return 0
            if _claim(conn, item, n, now):
                break
        else:
            return 0  # the balance keeps moving: the next sweep takes it
        conn.execute(
            update(StockLevel)
            .where(
                StockLevel.variant_id == item.variant_id,
                StockLevel.location_id == item.location_id,
            )
            .values(expired=StockLevel.expired + n, updated_at=now)
        )
        uow.session.add(
            StockMovement(
                id=uuid7(),
                variant_id=item.variant_id,
                location_id=item.location_id,
                bucket=Bucket.EXPIRED.value,
                quantity=n,
                kind="lot_expired",
                reason=f"lot {item.code} expired on {item.expires_on.isoformat()}",
                reference_type="lot",
                reference_id=str(item.lot_id),
                actor_id=None,
                created_at=now,
                lot_id=item.lot_id,
            )
        )
        uow.commit()
        return n


def _claim(conn: Connection, item: _Due, n: int, now: datetime) -> bool:
    """Count `n` more units expired only if exactly `n` are still unexpired (the claim)."""
    b = LotBalance
    stmt = (
        update(b)
        .where(
            b.lot_id == item.lot_id,
            b.location_id == item.location_id,
            b.on_hand - b.expired == n,
        )
        .values(expired=b.expired + n, updated_at=now)
        .returning(b.lot_id)
    )
    return conn.execute(stmt).first() is not None

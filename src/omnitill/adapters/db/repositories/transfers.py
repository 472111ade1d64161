"""Atomic level changes for transfers and counts, and the claims on their documents.

Every change is one statement in the database (a conditional UPDATE or an upsert), never a
read-modify-write in Python; see repositories/stock.py for the shared expressions.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from omnitill.adapters.db.models import (
    CountLine,
    CountSession,
    StockLevel,
    StockMovement,
    Transfer,
    table,
)
from omnitill.adapters.db.repositories.stock import FREE
from omnitill.adapters.db.types import utcnow

_L = StockLevel
_levels = table(StockLevel)


def _at(variant_id: uuid.UUID, location_id: uuid.UUID) -> tuple[ColumnElement[bool], ...]:
    return (_L.variant_id == variant_id, _L.location_id == location_id)


def take_free(
    conn: Connection, *, variant_id: uuid.UUID, location_id: uuid.UUID, quantity: int
) -> int | None:
    """Take `quantity` units out of on_hand only if that many are free (on_hand less
    reserved and unavailable: never units promised to orders); the new on_hand, or None
    (nothing written) if they are not."""
    stmt = (
        update(_L)
        .where(*_at(variant_id, location_id), quantity <= FREE)
        .values(on_hand=_L.on_hand - quantity, updated_at=utcnow())
        .returning(_L.on_hand)
    )
    value = conn.execute(stmt).scalar_one_or_none()
    return None if value is None else int(value)


def free_now(conn: Connection, *, variant_id: uuid.UUID, location_id: uuid.UUID) -> int:
    """Free units at this instant; for reporting a shortfall, never for deciding one."""
    value = conn.execute(select(FREE).where(*_at(variant_id, location_id))).scalar()
    return 0 if value is None else int(value)


def add_to_buckets(
    conn: Connection,
    *,
    variant_id: uuid.UUID,
    location_id: uuid.UUID,
    changes: Mapping[str, int],
) -> int:
    """Add signed quantities to ledger buckets of one level (created at 0 if missing) in
    one upsert; the new on_hand."""
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    now = utcnow()
    row = {name: int(changes.get(name, 0)) for name in changes}
    stmt = dialect.insert(_levels).values(
        variant_id=variant_id,
        location_id=location_id,
        updated_at=now,
        **{"on_hand": 0, **row},
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["variant_id", "location_id"],
        set_={
            **{name: _levels.c[name] + stmt.excluded[name] for name in row},
            "updated_at": stmt.excluded.updated_at,
        },
    ).returning(_levels.c.on_hand)
    return int(conn.execute(stmt).scalar_one())


def claim_transfer(
    conn: Connection,
    *,
    transfer_id: uuid.UUID,
    from_status: str,
    to_status: str,
    values: Mapping[str, Any],
) -> bool:
    """Move a transfer from `from_status` to `to_status` (with `values`); False if it is no
    longer in `from_status`. The conditional UPDATE is the claim: of two requests shipping
    one transfer, exactly one sees a row, and its row lock holds until commit."""
    stmt = (
        update(Transfer)
        .where(Transfer.id == transfer_id, Transfer.status == from_status)
        .values(status=to_status, updated_at=utcnow(), **values)
        .returning(Transfer.id)
    )
    return conn.execute(stmt).first() is not None


def claim_count(
    conn: Connection,
    *,
    session_id: uuid.UUID,
    from_statuses: frozenset[str],
    to_status: str,
    values: Mapping[str, Any],
) -> bool:
    """Move a count session to `to_status` if it is in one of `from_statuses`; False if not."""
    stmt = (
        update(CountSession)
        .where(CountSession.id == session_id, CountSession.status.in_(sorted(from_statuses)))
        .values(status=to_status, **values)
        .returning(CountSession.id)
    )
    return conn.execute(stmt).first() is not None


def movements_since(
    conn: Connection,
    *,
    location_id: uuid.UUID,
    variant_ids: list[uuid.UUID],
    since: datetime,
) -> dict[uuid.UUID, int]:
    """The sum of on_hand movements of each variant at the location after `since` (every
    kind): what on_hand moved since then."""
    if not variant_ids:
        return {}
    stmt = (
        select(StockMovement.variant_id, func.sum(StockMovement.quantity))
        .where(
            StockMovement.location_id == location_id,
            StockMovement.variant_id.in_(variant_ids),
            StockMovement.bucket == "on_hand",
            StockMovement.created_at > since,
        )
        .group_by(StockMovement.variant_id)
    )
    return {vid: int(total) for vid, total in conn.execute(stmt)}


def movements_while_counting(
    conn: Connection, *, session: CountSession, until: datetime, exclude_kind: str
) -> dict[uuid.UUID, int]:
    """For each line of a count: the sum of its on_hand movements (other than
    `exclude_kind`) after the session started and up to the line's count, or `until` for
    lines not counted. One query over the ledger, joined to the lines."""
    window_end = func.coalesce(CountLine.counted_at, literal(until, CountLine.counted_at.type))
    stmt = (
        select(CountLine.variant_id, func.sum(StockMovement.quantity))
        .join(
            StockMovement,
            (StockMovement.variant_id == CountLine.variant_id)
            & (StockMovement.location_id == session.location_id)
            & (StockMovement.bucket == "on_hand")
            & (StockMovement.kind != exclude_kind)
            & (StockMovement.created_at > session.started_at)
            & (StockMovement.created_at <= window_end),
        )
        .where(CountLine.count_session_id == session.id)
        .group_by(CountLine.variant_id)
    )
    return {vid: int(total) for vid, total in conn.execute(stmt)}

"""Atomic stock level changes. Every change is one statement; never read-modify-write."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from omnitill.adapters.db.models import StockLevel, table
from omnitill.adapters.db.types import utcnow


def _upsert(dialect: Any) -> Any:
    stmt = dialect.insert(_levels)
    return stmt.on_conflict_do_update(
        index_elements=["variant_id", "location_id"],
        set_={
            "on_hand": _levels.c.on_hand + stmt.excluded.on_hand,
            "updated_at": stmt.excluded.updated_at,
        },
    ).returning(_levels.c.variant_id, _levels.c.on_hand, sort_by_parameter_order=True)


_levels = table(StockLevel)
_ADD = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}


def add_on_hand_many(
    conn: Connection, *, location_id: uuid.UUID, deltas: Mapping[uuid.UUID, int]
) -> dict[uuid.UUID, int]:
    """Add signed quantities to on-hand of several variants at one location; new levels.

    One multi-row INSERT ... ON CONFLICT DO UPDATE: rows are written in variant id order, so
    concurrent transactions lock them in the same order and cannot deadlock, and no update
    is lost (the increment happens in the database, not in Python).
    """
    if not deltas:
        return {}
    now = utcnow()
    rows = [
        {"variant_id": vid, "location_id": location_id, "on_hand": deltas[vid], "updated_at": now}
        for vid in sorted(deltas)
    ]
    result = conn.execute(_ADD[conn.dialect.name], rows)
    return {row[0]: int(row[1]) for row in result}


def take_on_hand_if_available(
    session: Session, *, variant_id: uuid.UUID, location_id: uuid.UUID, quantity: int
) -> int | None:
    """Remove `quantity` only if on-hand stays >= 0; the new level, or None if it would not."""
    stmt = (
        update(StockLevel)
        .where(
            StockLevel.variant_id == variant_id,
            StockLevel.location_id == location_id,
            StockLevel.on_hand >= quantity,
        )
        .values(on_hand=StockLevel.on_hand - quantity, updated_at=utcnow())
        .returning(StockLevel.on_hand)
    )
    value = session.execute(stmt).scalar_one_or_none()
    return None if value is None else int(value)

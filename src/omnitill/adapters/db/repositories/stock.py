"""Atomic stock level changes. Every change is one statement; never read-modify-write."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from omnitill.adapters.db.models import StockLevel
from omnitill.adapters.db.types import utcnow


def add_on_hand(
    session: Session, *, variant_id: uuid.UUID, location_id: uuid.UUID, quantity: int
) -> int:
    """Add `quantity` (signed) to on-hand, creating the level if needed; returns the new level.

    A single INSERT ... ON CONFLICT DO UPDATE, so concurrent writers never lose an update and
    the row lock it takes serialises them (PostgreSQL) within the write lock (SQLite).
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    stmt = insert(StockLevel).values(
        variant_id=variant_id, location_id=location_id, on_hand=quantity, updated_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[StockLevel.variant_id, StockLevel.location_id],
        set_={"on_hand": StockLevel.on_hand + quantity, "updated_at": now},
    ).returning(StockLevel.on_hand)
    return int(session.execute(stmt).scalar_one())


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

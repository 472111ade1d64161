"""Atomic stock level changes. Every change is one statement; never read-modify-write."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from omnitill.adapters.db.models import Reservation, StockLevel, table
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


# --- buckets and reservations ------------------------------------------------------------

_L = StockLevel
# DESIGN invariant 1: what may still be promised, computed by the database in the WHERE of the
# UPDATE that promises it, so two writers can never both see the same units.
UNAVAILABLE: ColumnElement[int] = _L.quarantine + _L.damaged + _L.qc + _L.expired
AVAILABLE: ColumnElement[int] = _L.on_hand - _L.reserved - _L.safety_stock - UNAVAILABLE
FREE: ColumnElement[int] = _L.on_hand - _L.reserved - UNAVAILABLE
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock


def is_transient(exc: BaseException) -> bool:
    """A PostgreSQL serialization failure or deadlock: the transaction may simply be rerun."""
    if not isinstance(exc, DBAPIError):
        return False
    return getattr(exc.orig, "sqlstate", None) in TRANSIENT_SQLSTATES


def _at(variant_id: uuid.UUID, location_id: uuid.UUID) -> tuple[ColumnElement[bool], ...]:
    return (_L.variant_id == variant_id, _L.location_id == location_id)


def reserve_if_available(
    conn: Connection, *, variant_id: uuid.UUID, location_id: uuid.UUID, quantity: int
) -> bool:
    """Promise `quantity` units only if that many are available; False (nothing written) if not."""
    stmt = (
        update(_L)
        .where(*_at(variant_id, location_id), quantity <= AVAILABLE)
        .values(reserved=_L.reserved + quantity, updated_at=utcnow())
        .returning(_L.reserved)
    )
    return conn.execute(stmt).first() is not None


def available_now(conn: Connection, *, variant_id: uuid.UUID, location_id: uuid.UUID) -> int:
    """What is available at this instant; for reporting a shortfall, never for deciding one."""
    value = conn.execute(select(AVAILABLE).where(*_at(variant_id, location_id))).scalar()
    return 0 if value is None else int(value)


def unreserve(
    conn: Connection,
    *,
    variant_id: uuid.UUID,
    location_id: uuid.UUID,
    quantity: int,
    ship: bool = False,
) -> int:
    """Give back `quantity` reserved units; with `ship`, they also leave on_hand. New on_hand."""
    values: dict[str, Any] = {"reserved": _L.reserved - quantity, "updated_at": utcnow()}
    if ship:
        values["on_hand"] = _L.on_hand - quantity
    stmt = update(_L).where(*_at(variant_id, location_id)).values(**values).returning(_L.on_hand)
    return int(conn.execute(stmt).scalar_one())


def move_units(
    conn: Connection,
    *,
    variant_id: uuid.UUID,
    location_id: uuid.UUID,
    changes: Mapping[str, int],
    source: str,
    quantity: int,
) -> bool:
    """Apply signed bucket `changes` in one conditional UPDATE, only if `source` holds
    `quantity` (for "sellable": free units, on_hand less reserved and unavailable)."""
    held = FREE if source == "sellable" else getattr(_L, source)
    values: dict[str, Any] = {name: getattr(_L, name) + n for name, n in changes.items()}
    stmt = (
        update(_L)
        .where(*_at(variant_id, location_id), held >= quantity)
        .values(**values, updated_at=utcnow())
        .returning(_L.on_hand)
    )
    return conn.execute(stmt).first() is not None


def set_safety_stock(
    conn: Connection, *, variant_id: uuid.UUID, location_id: uuid.UUID, quantity: int
) -> int:
    """Set the safety stock (creating the level if none); the previous value."""
    previous = conn.execute(
        select(_L.safety_stock).where(*_at(variant_id, location_id)).with_for_update()
    ).scalar()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(_levels).values(
        variant_id=variant_id,
        location_id=location_id,
        on_hand=0,
        safety_stock=quantity,
        updated_at=utcnow(),
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["variant_id", "location_id"],
            set_={"safety_stock": stmt.excluded.safety_stock, "updated_at": utcnow()},
        )
    )
    return 0 if previous is None else int(previous)


def claim_reservation(
    conn: Connection,
    *,
    reservation_id: uuid.UUID,
    to_status: str,
    now: datetime,
    expired_by: datetime | None = None,
) -> bool:
    """Move an active reservation to `to_status`; False if it is no longer active (another
    request or sweeper got there first). The conditional UPDATE is the claim: of several
    processes racing for one reservation exactly one sees a row."""
    conditions = [Reservation.id == reservation_id, Reservation.status == "active"]
    if expired_by is not None:
        conditions.append(Reservation.expires_at <= expired_by)
    stmt = (
        update(Reservation)
        .where(*conditions)
        .values(status=to_status, updated_at=now)
        .returning(Reservation.id)
    )
    return conn.execute(stmt).first() is not None


def due_reservations(conn: Connection, *, now: datetime, limit: int) -> list[uuid.UUID]:
    """Active reservations whose time ran out, soonest first (candidates; each is claimed)."""
    stmt = (
        select(Reservation.id)
        .where(Reservation.status == "active", Reservation.expires_at <= now)
        .order_by(Reservation.expires_at, Reservation.id)
        .limit(limit)
    )
    return list(conn.execute(stmt).scalars())


def lock_on_hand(conn: Connection, *, variant_id: uuid.UUID, location_id: uuid.UUID) -> int:
    """On-hand of one level, its row locked until commit (0 when there is no level yet):
    a count sets the level, so it must read it under the lock it writes under."""
    value = conn.execute(
        select(_L.on_hand).where(*_at(variant_id, location_id)).with_for_update()
    ).scalar()
    return 0 if value is None else int(value)


def ensure_levels(conn: Connection, keys: Iterable[tuple[uuid.UUID, uuid.UUID]]) -> None:
    """Create the empty levels that do not exist yet, in (variant, location) order, 500 a
    statement (a level is created with no stock and no movements, so the ledger still adds
    up; an existing level is left alone)."""
    now = utcnow()
    rows = [
        {"variant_id": v, "location_id": loc, "on_hand": 0, "updated_at": now}
        for v, loc in sorted(set(keys))
    ]
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    for start in range(0, len(rows), 500):
        conn.execute(dialect.insert(_levels).on_conflict_do_nothing(), rows[start : start + 500])

"""Core statements for the register sale, the hottest write path in the system."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select, update

from omnitill.adapters.db.models import (
    Location,
    Register,
    Sale,
    SaleLine,
    SalePayment,
    StockException,
    StockMovement,
)


@dataclass(frozen=True, slots=True)
class Till:
    """A register with the store facts a sale needs."""

    register_id: uuid.UUID
    register_code: str
    register_active: bool
    location_id: uuid.UUID
    location_code: str
    location_active: bool
    sells_in_store: bool
    currency: str
    tax_rate: Decimal
    prices_include_tax: bool
    timezone: str


_TILL = select(
    Register.id,
    Register.code,
    Register.active,
    Location.id,
    Location.code,
    Location.active,
    Location.sells_in_store,
    Location.currency,
    Location.tax_rate,
    Location.prices_include_tax,
    Location.timezone,
).join(Location, Location.id == Register.location_id)


def till_for_sale(
    conn: Connection, *, register_code: str, sale_id: uuid.UUID
) -> tuple[Till | None, str | None]:
    """The register's till facts and, in the same round trip, the request hash of a sale
    already recorded under `sale_id` (None when new). Till is None for an unknown register."""
    recorded = select(Sale.request_hash).where(Sale.id == sale_id).scalar_subquery()
    row = conn.execute(_TILL.add_columns(recorded).where(Register.code == register_code)).first()
    if row is None:
        return None, recorded_hash(conn, sale_id)
    return Till(*row[:-1]), row[-1]


def recorded_hash(conn: Connection, sale_id: uuid.UUID) -> str | None:
    """The request hash of an already recorded sale, or None."""
    return conn.execute(select(Sale.request_hash).where(Sale.id == sale_id)).scalar_one_or_none()


def next_receipt_seq(conn: Connection, register_id: uuid.UUID) -> int:
    """Increment the register's counter, locking its row until commit (gapless numbering)."""
    stmt = (
        update(Register)
        .where(Register.id == register_id)
        .values(receipt_seq=Register.receipt_seq + 1)
        .returning(Register.receipt_seq)
    )
    return int(conn.execute(stmt).scalar_one())


def insert_sale(
    conn: Connection,
    *,
    sale: dict[str, Any],
    lines: Sequence[dict[str, Any]],
    payments: Sequence[dict[str, Any]],
    movements: Sequence[dict[str, Any]],
    exceptions: Sequence[dict[str, Any]],
) -> None:
    """Write the sale and its children; each list goes in one multi-row statement."""
    conn.execute(insert(Sale), [sale])
    conn.execute(insert(SaleLine), list(lines))
    conn.execute(insert(SalePayment), list(payments))
    conn.execute(insert(StockMovement), list(movements))
    if exceptions:
        conn.execute(insert(StockException), list(exceptions))

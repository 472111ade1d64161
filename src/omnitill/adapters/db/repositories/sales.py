"""Prebuilt Core statements for the register sale, the hottest write path in the system.

Statements are built once at import against the tables (not the ORM entities), so a sale
pays only for binding parameters and the round trips, never for building SQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from omnitill.adapters.db.models import (
    Location,
    Register,
    Sale,
    SaleLine,
    SalePayment,
    StockException,
    StockMovement,
    table,
)
from omnitill.adapters.db.models.sales import SaleAdjustment, SaleTax


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
    tax_jurisdiction_id: uuid.UUID | None
    cash_management: bool = False
    cash_rounding_minor: int | None = None


_registers, _locations, _sales = table(Register), table(Location), table(Sale)
_RECORDED = select(_sales.c.request_hash).where(_sales.c.id == bindparam("sale_id"))
_TILL = (
    select(
        _registers.c.id,
        _registers.c.code,
        _registers.c.active,
        _locations.c.id,
        _locations.c.code,
        _locations.c.active,
        _locations.c.sells_in_store,
        _locations.c.currency,
        _locations.c.tax_rate,
        _locations.c.prices_include_tax,
        _locations.c.timezone,
        _locations.c.tax_jurisdiction_id,
        _locations.c.cash_management,
        _locations.c.cash_rounding_minor,
        _RECORDED.scalar_subquery(),
    )
    .join(_locations, _locations.c.id == _registers.c.location_id)
    .where(_registers.c.code == bindparam("code"))
)
_NEXT_SEQ = (
    update(_registers)
    .where(_registers.c.id == bindparam("register_id"))
    .values(receipt_seq=_registers.c.receipt_seq + 1)
    .returning(_registers.c.receipt_seq)
)
_INSERT_SALE = insert(_sales)
_INSERT_LINES = insert(table(SaleLine))
_INSERT_PAYMENTS = insert(table(SalePayment))
_INSERT_MOVEMENTS = insert(table(StockMovement))
_INSERT_EXCEPTIONS = insert(table(StockException))
_INSERT_ADJUSTMENTS = insert(table(SaleAdjustment))
_INSERT_TAXES = insert(table(SaleTax))


def till_for_sale(
    conn: Connection, *, register_code: str, sale_id: uuid.UUID
) -> tuple[Till | None, str | None]:
    """The register's till facts and, in the same round trip, the request hash of a sale
    already recorded under `sale_id` (None when new). Till is None for an unknown register."""
    row = conn.execute(_TILL, {"code": register_code, "sale_id": sale_id}).first()
    if row is None:
        return None, recorded_hash(conn, sale_id)
    return Till(*row[:-1]), row[-1]


def recorded_hash(conn: Connection, sale_id: uuid.UUID) -> str | None:
    """The request hash of an already recorded sale, or None."""
    return conn.execute(_RECORDED, {"sale_id": sale_id}).scalar_one_or_none()


def next_receipt_seq(conn: Connection, register_id: uuid.UUID) -> int:
    """Increment the register's counter, locking its row until commit (gapless numbering)."""
    return int(conn.execute(_NEXT_SEQ, {"register_id": register_id}).scalar_one())


def insert_sale(
    conn: Connection,
    *,
    sale: dict[str, Any],
    lines: Sequence[dict[str, Any]],
    payments: Sequence[dict[str, Any]],
    movements: Sequence[dict[str, Any]],
    exceptions: Sequence[dict[str, Any]],
    adjustments: Sequence[dict[str, Any]] = (),
    taxes: Sequence[dict[str, Any]] = (),
) -> None:
    """Write the sale and its children; each list goes in one multi-row statement."""
    conn.execute(_INSERT_SALE, sale)
    conn.execute(_INSERT_LINES, list(lines))
    if adjustments:
        conn.execute(_INSERT_ADJUSTMENTS, list(adjustments))
    if taxes:
        conn.execute(_INSERT_TAXES, list(taxes))
    if payments:  # none when nothing was due (a sale fully discounted)
        conn.execute(_INSERT_PAYMENTS, list(payments))
    if movements:  # none when every line is stored value (gift cards)
        conn.execute(_INSERT_MOVEMENTS, list(movements))
    if exceptions:
        conn.execute(_INSERT_EXCEPTIONS, list(exceptions))

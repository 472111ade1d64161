"""Purchasing writes that must be single statements, and the row locks receiving takes.

Stock levels change only here by one multi-row upsert, rows in variant id order (as
`stock.add_on_hand_many`), so concurrent receipts, sales and orders lock rows alike and no
increment is lost. Variant rows are locked in id order before their cost is read.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from omnitill.adapters.db.models import (
    ExchangeRate,
    GoodsReceiptLine,
    Location,
    Lot,
    PurchaseOrder,
    PurchaseOrderLine,
    StockLevel,
    Supplier,
    Transfer,
    TransferLine,
    Variant,
    table,
)
from omnitill.adapters.db.types import utcnow

_levels = table(StockLevel)


def _upsert(dialect: Any) -> Any:
    stmt = dialect.insert(_levels)
    return stmt.on_conflict_do_update(
        index_elements=["variant_id", "location_id"],
        set_={
            "on_hand": _levels.c.on_hand + stmt.excluded.on_hand,
            "incoming": _levels.c.incoming + stmt.excluded.incoming,
            "updated_at": stmt.excluded.updated_at,
        },
    ).returning(
        _levels.c.variant_id,
        _levels.c.on_hand,
        _levels.c.incoming,
        sort_by_parameter_order=True,
    )


_ADD = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}


@dataclass(frozen=True, slots=True)
class LevelChange:
    """Signed changes of the on_hand and incoming buckets of one variant at one location."""

    on_hand: int = 0
    incoming: int = 0


def add_to_levels(
    conn: Connection, *, location_id: uuid.UUID, changes: Mapping[uuid.UUID, LevelChange]
) -> dict[uuid.UUID, tuple[int, int]]:
    """Add signed on_hand and incoming changes for several variants at one location, creating
    the levels that do not exist yet; the new (on_hand, incoming) of each.

    One INSERT ... ON CONFLICT DO UPDATE with rows in variant id order: the increments happen
    in the database, and concurrent writers take the row locks in the same order.
    """
    if not changes:
        return {}
    now = utcnow()
    rows = [
        {
            "variant_id": vid,
            "location_id": location_id,
            "on_hand": changes[vid].on_hand,
            "incoming": changes[vid].incoming,
            "updated_at": now,
        }
        for vid in sorted(changes)
    ]
    result = conn.execute(_ADD[conn.dialect.name], rows)
    return {row[0]: (int(row[1]), int(row[2])) for row in result}


@dataclass(frozen=True, slots=True)
class VariantCost:
    id: uuid.UUID
    cost_minor: int | None
    currency: str


def lock_variant_costs(conn: Connection, variant_ids: Iterable[uuid.UUID]) -> list[VariantCost]:
    """The cost of each variant, its row locked until commit (`FOR UPDATE`, id order), so two
    receipts of one variant update its moving average one after the other."""
    ids = sorted(set(variant_ids))
    if not ids:
        return []
    stmt = (
        select(Variant.id, Variant.cost_minor, Variant.currency)
        .where(Variant.id.in_(ids))
        .order_by(Variant.id)
        .with_for_update()
    )
    return [VariantCost(*row) for row in conn.execute(stmt)]


def on_hand_totals(conn: Connection, variant_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Each variant's on_hand summed over every location (0 when it has no level)."""
    ids = sorted(set(variant_ids))
    stmt = (
        select(StockLevel.variant_id, func.sum(StockLevel.on_hand))
        .where(StockLevel.variant_id.in_(ids))
        .group_by(StockLevel.variant_id)
    )
    found = {vid: int(total or 0) for vid, total in conn.execute(stmt)}
    return {vid: found.get(vid, 0) for vid in ids}


def set_variant_cost(conn: Connection, *, variant_id: uuid.UUID, cost_minor: int) -> None:
    """Store a variant's new moving-average cost (its row is already locked)."""
    conn.execute(
        update(Variant)
        .where(Variant.id == variant_id)
        .values(cost_minor=cost_minor, updated_at=utcnow())
    )


def latest_rate(conn: Connection, *, base: str, quote: str, on: date) -> Decimal | None:
    """How many `quote` one `base` buys at the latest rate in force on `on`: the most recent
    row of either direction (a `quote` -> `base` row counts inverted; of two from one day,
    the later entry); None when there is none."""
    best: tuple[date, Any, Decimal] | None = None
    for frm, to, invert in ((base, quote, False), (quote, base, True)):
        row = conn.execute(
            select(ExchangeRate.valid_from, ExchangeRate.created_at, ExchangeRate.rate)
            .where(
                ExchangeRate.base == frm,
                ExchangeRate.quote == to,
                ExchangeRate.valid_from <= on,
                ExchangeRate.rate > 0,
            )
            .order_by(ExchangeRate.valid_from.desc(), ExchangeRate.created_at.desc())
            .limit(1)
        ).first()
        if row is None:
            continue
        rate = 1 / Decimal(row[2]) if invert else Decimal(row[2])
        if best is None or (row[0], row[1]) > (best[0], best[1]):
            best = (row[0], row[1], rate)
    return None if best is None else best[2]


# --- reads ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IncomingLine:
    """Units on their way to a location: an open PO line or a transfer line in transit."""

    source: str  # purchase_order | transfer
    document: str
    line_no: int
    sku: str
    unit: str
    location: str
    quantity: int
    expected_on: date | None
    status: str
    supplier: str | None = None
    from_location: str | None = None


def incoming_lines(
    conn: Connection,
    *,
    order_statuses: Collection[str],
    sku: str | None,
    location_ids: Collection[uuid.UUID] | None,
) -> list[IncomingLine]:
    """Lines of orders in `order_statuses` with units still expected, and lines of shipped
    transfers not yet received; `location_ids` None means every location."""
    po, line = PurchaseOrder, PurchaseOrderLine
    po_stmt = (
        select(
            line.line_no,
            line.quantity_ordered - line.quantity_received,
            po.number,
            po.status,
            po.expected_on,
            Supplier.code,
            Location.code,
            Variant.sku,
            Variant.unit,
        )
        .join(po, po.id == line.purchase_order_id)
        .join(Supplier, Supplier.id == po.supplier_id)
        .join(Location, Location.id == po.location_id)
        .join(Variant, Variant.id == line.variant_id)
        .where(po.status.in_(list(order_statuses)), line.quantity_ordered > line.quantity_received)
    )
    tr, tl, origin = Transfer, TransferLine, aliased(Location)
    tr_stmt = (
        select(
            tl.line_no,
            tl.quantity_shipped - tl.quantity_received,
            tr.number,
            tr.status,
            tr.expected_on,
            origin.code,
            Location.code,
            Variant.sku,
            Variant.unit,
        )
        .join(tr, tr.id == tl.transfer_id)
        .join(origin, origin.id == tr.source_location_id)
        .join(Location, Location.id == tr.destination_location_id)
        .join(Variant, Variant.id == tl.variant_id)
        .where(tr.status == "shipped", tl.quantity_shipped > tl.quantity_received)
    )
    if sku is not None:
        po_stmt = po_stmt.where(Variant.sku == sku)
        tr_stmt = tr_stmt.where(Variant.sku == sku)
    if location_ids is not None:
        po_stmt = po_stmt.where(po.location_id.in_(list(location_ids)))
        tr_stmt = tr_stmt.where(tr.destination_location_id.in_(list(location_ids)))
    out = [
        IncomingLine("purchase_order", num, n, s, u, loc, int(q), exp, st, supplier=sup)
        for n, q, num, st, exp, sup, loc, s, u in conn.execute(po_stmt)
    ]
    out += [
        IncomingLine("transfer", num, n, s, u, loc, int(q), exp, st, from_location=frm)
        for n, q, num, st, exp, frm, loc, s, u in conn.execute(tr_stmt)
    ]
    return out


def order_line_sums(
    conn: Connection, order_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, int, int, int]]:
    """(line count, units ordered, units received, total cost) of each order."""
    if not order_ids:
        return {}
    line = PurchaseOrderLine
    rows = conn.execute(
        select(
            line.purchase_order_id,
            func.count(),
            func.sum(line.quantity_ordered),
            func.sum(line.quantity_received),
            func.sum(line.quantity_ordered * line.unit_cost_minor),
        )
        .where(line.purchase_order_id.in_(list(order_ids)))
        .group_by(line.purchase_order_id)
    ).all()
    return {r[0]: (int(r[1]), int(r[2] or 0), int(r[3] or 0), int(r[4] or 0)) for r in rows}


@dataclass(frozen=True, slots=True)
class ReceiptLineRow:
    goods_receipt_id: uuid.UUID
    line_no: int | None
    sku: str
    quantity: int
    unit_cost: int | None
    landed_unit_cost: int | None
    lot: str | None
    serials: tuple[str, ...]


def receipt_lines(conn: Connection, receipt_ids: Collection[uuid.UUID]) -> list[ReceiptLineRow]:
    """The lines of goods receipts, with their PO line number, SKU and lot code."""
    if not receipt_ids:
        return []
    gl = GoodsReceiptLine
    rows = conn.execute(
        select(
            gl.goods_receipt_id,
            PurchaseOrderLine.line_no,
            Variant.sku,
            gl.quantity,
            gl.unit_cost_minor,
            gl.landed_unit_cost_minor,
            Lot.code,
            gl.serials,
        )
        .join(Variant, Variant.id == gl.variant_id)
        .outerjoin(PurchaseOrderLine, PurchaseOrderLine.id == gl.purchase_order_line_id)
        .outerjoin(Lot, Lot.id == gl.lot_id)
        .where(gl.goods_receipt_id.in_(list(receipt_ids)))
        .order_by(gl.id)
    )
    return [
        ReceiptLineRow(rid, no, sku, int(q), c, lc, lot, tuple(serials or ()))
        for rid, no, sku, q, c, lc, lot, serials in rows
    ]

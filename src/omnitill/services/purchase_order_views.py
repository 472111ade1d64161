"""Reading purchase orders back, and loading one for a change: the views the API answers
with (an order with its lines and receipts, a summary per order, the incoming lines),
`get_order`, `list_orders` and `incoming`; the order the actor may act on (`lock_order` takes
its row lock until commit), its lines, and the business date at its location.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    GoodsReceipt,
    Location,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
    User,
    Variant,
)
from omnitill.adapters.db.repositories import purchasing as purchasing_repo
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import NotFound
from omnitill.domain.inventory.purchasing import OPEN, POStatus, remaining
from omnitill.services.pagination import (
    check_status_filter,
    clamp_limit,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
)
from omnitill.services.references import accessible_location, scope_to_locations
from omnitill.services.suppliers import supplier_by_code


@dataclass(frozen=True, slots=True)
class OrderLineView:
    line_no: int
    sku: str
    name: str
    unit: str
    pack_size: int
    packs: int | None  # ordered / pack_size when whole packs were ordered
    quantity_ordered: int
    quantity_received: int
    remaining: int
    unit_cost: int
    total: int


@dataclass(frozen=True, slots=True)
class ReceiptLineView:
    line_no: int | None
    sku: str
    quantity: int
    unit_cost: int | None
    landed_unit_cost: int | None
    lot: str | None
    serials: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReceiptView:
    id: uuid.UUID
    reference: str | None
    currency: str
    landed_cost: int
    actor: str | None
    created_at: datetime
    lines: tuple[ReceiptLineView, ...]


@dataclass(frozen=True, slots=True)
class OrderView:
    number: str
    supplier: str
    supplier_name: str
    location: str
    status: str
    currency: str
    expected_on: date | None
    notes: str
    total: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    lines: tuple[OrderLineView, ...]
    receipts: tuple[ReceiptView, ...] = ()


@dataclass(frozen=True, slots=True)
class OrderSummary:
    number: str
    supplier: str
    location: str
    status: str
    currency: str
    expected_on: date | None
    line_count: int
    units_ordered: int
    units_received: int
    total: int
    created_at: datetime


IncomingRow = purchasing_repo.IncomingLine


# --- reading --------------------------------------------------------------------------------


def get_order(*, db: Database, actor: Actor, number: str) -> OrderView:
    """One order with its lines and receipts; 404 `purchasing.order_not_found`, 403 for an
    order shipping to a location the actor may not see."""
    actor.require(Permission.STOCK_READ)
    with db.uow(write=False) as uow:
        po = _find_order(uow, actor, number, lock=False)
        return order_view(uow, po)


def list_orders(
    *,
    db: Database,
    actor: Actor,
    status: str | None = None,
    supplier: str | None = None,
    location: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[OrderSummary], str | None]:
    """Orders newest first, one page, filtered by status, supplier code and location code;
    staff bound to stores see only orders shipping to theirs."""
    actor.require(Permission.STOCK_READ)
    check_status_filter(status, POStatus, "purchasing.invalid_status")
    size = clamp_limit(limit)
    after = decode_cursor(cursor)
    with db.uow(write=False) as uow:
        stmt = (
            select(PurchaseOrder, Supplier.code, Location.code)
            .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
            .join(Location, Location.id == PurchaseOrder.location_id)
            .order_by(PurchaseOrder.id.desc())
            .limit(size + 1)
        )
        if status is not None:
            stmt = stmt.where(PurchaseOrder.status == status)
        if supplier is not None:
            stmt = stmt.where(
                PurchaseOrder.supplier_id == supplier_by_code(uow, supplier, field="supplier").id
            )
        stmt = scope_to_locations(uow, actor, stmt, PurchaseOrder.location_id, location)
        if after is not None:
            stmt = stmt.where(PurchaseOrder.id < cursor_uuid(after))
        rows = uow.session.execute(stmt).all()
        page = rows[:size]
        sums = purchasing_repo.order_line_sums(uow.connection, [po.id for po, _, _ in page])
    items = [
        OrderSummary(
            po.number,
            supplier_code,
            location_code,
            po.status,
            po.currency,
            po.expected_on,
            *sums.get(po.id, (0, 0, 0, 0)),
            po.created_at,
        )
        for po, supplier_code, location_code in page
    ]
    more = len(rows) > size
    return items, encode_cursor({"id": str(page[-1][0].id)}) if more else None


def incoming(
    *, db: Database, actor: Actor, sku: str | None = None, location: str | None = None
) -> list[IncomingRow]:
    """Units on their way, soonest expected first (undated last): open PO lines with units
    still expected, and transfer lines shipped and not yet received."""
    actor.require(Permission.STOCK_READ)
    with db.uow(write=False) as uow:
        location_ids = actor.location_ids
        if location is not None:
            location_ids = frozenset({accessible_location(uow, actor, location).id})
        rows = purchasing_repo.incoming_lines(
            uow.connection,
            order_statuses=[str(s) for s in OPEN],
            sku=sku,
            location_ids=location_ids,
        )
    return sorted(
        rows,
        key=lambda r: (r.expected_on is None, r.expected_on or date.min, r.document, r.line_no),
    )


# --- loading --------------------------------------------------------------------------------


def lock_order(uow: UnitOfWork, actor: Actor, number: str) -> PurchaseOrder:
    return _find_order(uow, actor, number, lock=True)


def _find_order(uow: UnitOfWork, actor: Actor, number: str, *, lock: bool) -> PurchaseOrder:
    """The order `number` (its row locked until commit with `lock`); 404, or 403 when it ships
    to a location the actor may not act at."""
    stmt = select(PurchaseOrder).where(PurchaseOrder.number == number)
    if lock:
        stmt = stmt.with_for_update()
    po = uow.session.scalars(stmt).one_or_none()
    if po is None:
        raise NotFound(
            "purchasing.order_not_found", f"no purchase order {number!r}", {"number": number}
        )
    if not actor.may_access(po.location_id):
        code = uow.session.get_one(Location, po.location_id).code
        actor.require_location(po.location_id, code)
    return po


def order_lines(uow: UnitOfWork, po: PurchaseOrder) -> list[PurchaseOrderLine]:
    return list(
        uow.session.scalars(
            select(PurchaseOrderLine)
            .where(PurchaseOrderLine.purchase_order_id == po.id)
            .order_by(PurchaseOrderLine.line_no)
        )
    )


def business_date(now: datetime, loc: Location) -> date:
    """The business date at the location (its own time zone)."""
    return now.astimezone(ZoneInfo(loc.timezone)).date()


def order_view(uow: UnitOfWork, po: PurchaseOrder) -> OrderView:
    supplier = uow.session.get_one(Supplier, po.supplier_id)
    loc = uow.session.get_one(Location, po.location_id)
    creator = uow.session.get(User, po.created_by_id) if po.created_by_id else None
    rows = uow.session.execute(
        select(PurchaseOrderLine, Variant.sku, Variant.name, Variant.unit)
        .join(Variant, Variant.id == PurchaseOrderLine.variant_id)
        .where(PurchaseOrderLine.purchase_order_id == po.id)
        .order_by(PurchaseOrderLine.line_no)
    ).all()
    lines = tuple(
        OrderLineView(
            line_no=line.line_no,
            sku=sku,
            name=name,
            unit=unit,
            pack_size=line.pack_size,
            packs=(
                line.quantity_ordered // line.pack_size
                if line.quantity_ordered % line.pack_size == 0
                else None
            ),
            quantity_ordered=line.quantity_ordered,
            quantity_received=line.quantity_received,
            remaining=remaining(ordered=line.quantity_ordered, received=line.quantity_received),
            unit_cost=line.unit_cost_minor,
            total=line.quantity_ordered * line.unit_cost_minor,
        )
        for line, sku, name, unit in rows
    )
    return OrderView(
        number=po.number,
        supplier=supplier.code,
        supplier_name=supplier.name,
        location=loc.code,
        status=po.status,
        currency=po.currency,
        expected_on=po.expected_on,
        notes=po.notes,
        total=sum(line.total for line in lines),
        created_by=creator.username if creator else None,
        created_at=po.created_at,
        updated_at=po.updated_at,
        sent_at=po.sent_at,
        closed_at=po.closed_at,
        cancelled_at=po.cancelled_at,
        lines=lines,
        receipts=_receipts(uow, po),
    )


def _receipts(uow: UnitOfWork, po: PurchaseOrder) -> tuple[ReceiptView, ...]:
    receipts = uow.session.execute(
        select(GoodsReceipt, User.username)
        .outerjoin(User, User.id == GoodsReceipt.actor_id)
        .where(GoodsReceipt.purchase_order_id == po.id)
        .order_by(GoodsReceipt.id)
    ).all()
    by_receipt: dict[uuid.UUID, list[ReceiptLineView]] = {}
    for row in purchasing_repo.receipt_lines(uow.connection, [r.id for r, _ in receipts]):
        by_receipt.setdefault(row.goods_receipt_id, []).append(
            ReceiptLineView(
                row.line_no,
                row.sku,
                row.quantity,
                row.unit_cost,
                row.landed_unit_cost,
                row.lot,
                row.serials,
            )
        )
    return tuple(
        ReceiptView(
            r.id,
            r.reference,
            r.currency,
            r.landed_cost_minor,
            username,
            r.created_at,
            tuple(by_receipt.get(r.id, ())),
        )
        for r, username in receipts
    )

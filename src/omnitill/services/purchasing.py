"""Purchase orders: draft, send (units become incoming), receive, close or cancel.

Every stock effect is a movement referencing the order (`reference_type` "purchase_order",
`reference_id` its number) written with its level change in one transaction:

- send: `po_ordered` on the incoming bucket, + each line's ordered quantity;
- receive: `receive` on on_hand (+ quantity, with the lot and the landed unit cost) and
  `po_received` on incoming (- what was still expected on the line);
- cancel (sent, nothing received): `po_cancelled` on incoming; close: `po_closed` on incoming
  for what never came.

Each use case locks the order row first (`FOR UPDATE`), so no two status changes or
receipts of one order interleave; level rows are then touched in variant id order. Receiving
lives in services/purchase_receipts.py, suppliers in services/suppliers.py; the rules
(status machine, over-receipt, landed cost, moving average) in domain/inventory/purchasing.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    GoodsReceipt,
    Location,
    PurchaseOrder,
    PurchaseOrderLine,
    StockMovement,
    Supplier,
    SupplierItem,
    User,
    Variant,
)
from omnitill.adapters.db.repositories import purchasing as purchasing_repo
from omnitill.adapters.db.repositories.purchasing import LevelChange
from omnitill.adapters.db.repositories.sequences import next_number
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.buckets import Bucket
from omnitill.domain.inventory.purchasing import (
    OPEN,
    TARGET,
    OrderLineRequest,
    POAction,
    POStatus,
    SupplierTerms,
    check_action,
    plan_order_lines,
    remaining,
)
from omnitill.services import audit, events
from omnitill.services.pagination import (
    check_status_filter,
    clamp_limit,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
)
from omnitill.services.references import (
    LineRef,
    accessible_location,
    resolve_lines,
    scope_to_locations,
)
from omnitill.services.retries import run_retrying
from omnitill.services.suppliers import supplier_by_code

REFERENCE_TYPE = "purchase_order"


# --- requests and views -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PurchaseOrderInput:
    """A new draft order. `currency` may be given only to check it against the supplier's;
    `expected_on` defaults to today plus the supplier's lead time."""

    supplier: str
    location: str
    lines: tuple[OrderLineRequest, ...] = ()
    currency: str | None = None
    expected_on: date | None = None
    notes: str = ""


@dataclass(frozen=True, slots=True)
class PurchaseOrderChanges:
    """Header changes allowed until the order is closed or cancelled (the supplier moved the
    delivery date). None leaves a field alone; `clear` may name expected_on."""

    expected_on: date | None = None
    notes: str | None = None
    clear: frozenset[str] = frozenset()


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


# --- creating and editing drafts -----------------------------------------------------------


def create_order(*, db: Database, actor: Actor, data: PurchaseOrderInput) -> OrderView:
    """Create a draft order numbered PO-nnnnnn, in the supplier's currency.

    422: `supplier.not_found`, `purchasing.supplier_inactive`, `purchasing.currency_mismatch`,
    `location.not_found`, and line errors (see `plan_order_lines`); 403 for a ship-to location
    the actor may not act at.
    """
    actor.require(Permission.PURCHASING_WRITE)

    def once() -> OrderView:
        with db.uow() as uow:
            loc = accessible_location(uow, actor, data.location)
            supplier = supplier_by_code(uow, data.supplier, field="supplier")
            _check_supplier_usable(supplier, currency=data.currency)
            planned = _plan_lines(uow, supplier, data.lines)
            now = utcnow()
            po = PurchaseOrder(
                id=uuid7(),
                number=next_number(uow.connection, "purchase_order", "PO"),
                supplier_id=supplier.id,
                location_id=loc.id,
                status=POStatus.DRAFT.value,
                currency=supplier.currency,
                expected_on=data.expected_on
                or business_date(now, loc) + timedelta(days=supplier.lead_time_days),
                notes=data.notes.strip(),
                created_by_id=actor.user_id,
                created_at=now,
                updated_at=now,
            )
            uow.session.add(po)
            _add_lines(uow, po, planned)
            audit.record(
                uow,
                action="purchase_order.created",
                actor=actor,
                subject_type="purchase_order",
                subject_id=po.number,
                details=_lines_details(po, planned, supplier.code, loc.code),
            )
            view = _order_view(uow, po)
            uow.commit()
            return view

    return run_retrying(once)


def replace_lines(
    *, db: Database, actor: Actor, number: str, lines: Sequence[OrderLineRequest]
) -> OrderView:
    """Replace every line of a draft order; 409 `purchasing.not_draft` once it was sent."""
    actor.require(Permission.PURCHASING_WRITE)

    def once() -> OrderView:
        with db.uow() as uow:
            po = lock_order(uow, actor, number)
            check_action(po.status, POAction.EDIT)
            supplier = uow.session.get_one(Supplier, po.supplier_id)
            planned = _plan_lines(uow, supplier, lines)
            uow.session.execute(
                delete(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == po.id)
            )
            _add_lines(uow, po, planned)
            po.updated_at = utcnow()
            audit.record(
                uow,
                action="purchase_order.lines_replaced",
                actor=actor,
                subject_type="purchase_order",
                subject_id=po.number,
                details=_lines_details(po, planned, supplier.code, None),
            )
            view = _order_view(uow, po)
            uow.commit()
            return view

    return run_retrying(once)


def update_order(
    *, db: Database, actor: Actor, number: str, changes: PurchaseOrderChanges
) -> OrderView:
    """Change the expected date or notes of an order not yet closed or cancelled."""
    actor.require(Permission.PURCHASING_WRITE)
    bad = sorted(changes.clear - {"expected_on"})
    if bad:
        raise ValidationFailed(
            "purchasing.not_nullable",
            "only expected_on may be cleared",
            errors=[FieldError(name, "purchasing.not_nullable", "cannot be null") for name in bad],
        )

    def once() -> OrderView:
        with db.uow() as uow:
            po = lock_order(uow, actor, number)
            if po.status in (POStatus.CLOSED, POStatus.CANCELLED):
                raise Conflict(
                    "purchasing.invalid_transition",
                    f"a {po.status} purchase order cannot change",
                    {"status": po.status, "action": "update"},
                )
            changed: dict[str, Any] = {}
            if "expected_on" in changes.clear or changes.expected_on is not None:
                po.expected_on = changes.expected_on
                changed["expected_on"] = str(changes.expected_on)
            if changes.notes is not None:
                po.notes = changes.notes.strip()
                changed["notes"] = po.notes
            po.updated_at = utcnow()
            audit.record(
                uow,
                action="purchase_order.updated",
                actor=actor,
                subject_type="purchase_order",
                subject_id=po.number,
                details=changed,
            )
            view = _order_view(uow, po)
            uow.commit()
            return view

    return run_retrying(once)


def _check_supplier_usable(supplier: Supplier, *, currency: str | None) -> None:
    if not supplier.active:
        raise ValidationFailed(
            "purchasing.supplier_inactive",
            f"supplier {supplier.code} is inactive",
            {"supplier": supplier.code},
            errors=[FieldError("supplier", "purchasing.supplier_inactive", "inactive")],
        )
    if currency is not None and currency.strip().upper() != supplier.currency:
        raise ValidationFailed(
            "purchasing.currency_mismatch",
            f"supplier {supplier.code} invoices in {supplier.currency}, not {currency}",
            {"supplier_currency": supplier.currency, "currency": currency},
            errors=[
                FieldError(
                    "currency", "purchasing.currency_mismatch", f"must be {supplier.currency}"
                )
            ],
        )


def _plan_lines(
    uow: UnitOfWork, supplier: Supplier, lines: Sequence[OrderLineRequest]
) -> list[tuple[VariantRef, int, int, int]]:
    """(variant, quantity, pack size, unit cost) of each line; 422 listing every bad one."""
    if not lines:
        return []
    refs = resolve_lines(uow, [LineRef(line.sku, None) for line in lines])
    items = {
        item.variant_id: item
        for item in uow.session.scalars(
            select(SupplierItem).where(
                SupplierItem.supplier_id == supplier.id,
                SupplierItem.variant_id.in_([r.id for r in refs]),
            )
        )
    }
    terms = [
        SupplierTerms(items[r.id].pack_size, items[r.id].pack_cost_minor) if r.id in items else None
        for r in refs
    ]
    planned = plan_order_lines(lines, terms)
    return [(r, p.quantity, p.pack_size, p.unit_cost) for r, p in zip(refs, planned, strict=True)]


def _add_lines(
    uow: UnitOfWork, po: PurchaseOrder, planned: list[tuple[VariantRef, int, int, int]]
) -> None:
    for n, (ref, quantity, pack_size, unit_cost) in enumerate(planned, start=1):
        uow.session.add(
            PurchaseOrderLine(
                id=uuid7(),
                purchase_order_id=po.id,
                line_no=n,
                variant_id=ref.id,
                pack_size=pack_size,
                quantity_ordered=quantity,
                quantity_received=0,
                unit_cost_minor=unit_cost,
            )
        )
    uow.session.flush()


def _lines_details(
    po: PurchaseOrder,
    planned: list[tuple[VariantRef, int, int, int]],
    supplier: str,
    location: str | None,
) -> dict[str, Any]:
    details: dict[str, Any] = {
        "supplier": supplier,
        "currency": po.currency,
        "lines": [
            {"sku": r.sku, "quantity": q, "pack_size": p, "unit_cost": c} for r, q, p, c in planned
        ],
    }
    if location is not None:
        details["location"] = location
    return details


# --- status changes -------------------------------------------------------------------------


def send_order(*, db: Database, actor: Actor, number: str) -> OrderView:
    """draft -> sent: each line's ordered quantity becomes incoming at the ship-to location.

    409 `purchasing.invalid_transition` (details: status) unless draft; 422
    `purchasing.no_lines` for an order without lines, `purchasing.supplier_inactive`.
    """
    actor.require(Permission.PURCHASING_WRITE)

    def once() -> OrderView:
        with db.uow() as uow:
            po = lock_order(uow, actor, number)
            check_action(po.status, POAction.SEND)
            lines = order_lines(uow, po)
            if not lines:
                raise ValidationFailed(
                    "purchasing.no_lines",
                    f"{po.number} has no lines to send",
                    errors=[FieldError("lines", "purchasing.no_lines", "at least one line")],
                )
            _check_supplier_usable(uow.session.get_one(Supplier, po.supplier_id), currency=None)
            _move_incoming(
                uow,
                po,
                actor,
                {line.variant_id: line.quantity_ordered for line in lines},
                kind="po_ordered",
            )
            _transition(uow, po, actor, POAction.SEND)
            view = _order_view(uow, po)
            uow.commit()
            return view

    return run_retrying(once)


def cancel_order(*, db: Database, actor: Actor, number: str, reason: str = "") -> OrderView:
    """draft or sent (nothing received) -> cancelled; a sent order's incoming is released.

    409 `purchasing.invalid_transition` (details: status) from any other state.
    """
    actor.require(Permission.PURCHASING_WRITE)

    def once() -> OrderView:
        with db.uow() as uow:
            po = lock_order(uow, actor, number)
            check_action(po.status, POAction.CANCEL)
            if po.status == POStatus.SENT:
                release = _unreceived(order_lines(uow, po))
                _move_incoming(uow, po, actor, release, kind="po_cancelled", sign=-1)
            _transition(uow, po, actor, POAction.CANCEL, reason=reason)
            view = _order_view(uow, po)
            uow.commit()
            return view

    return run_retrying(once)


def close_order(*, db: Database, actor: Actor, number: str, reason: str = "") -> OrderView:
    """partially_received or received -> closed: what never came leaves incoming.

    409 `purchasing.invalid_transition` (details: status) from any other state.
    """
    actor.require(Permission.PURCHASING_WRITE)

    def once() -> OrderView:
        with db.uow() as uow:
            po = lock_order(uow, actor, number)
            check_action(po.status, POAction.CLOSE)
            release = _unreceived(order_lines(uow, po))
            _move_incoming(uow, po, actor, release, kind="po_closed", sign=-1)
            _transition(uow, po, actor, POAction.CLOSE, reason=reason)
            view = _order_view(uow, po)
            uow.commit()
            return view

    return run_retrying(once)


def _unreceived(lines: Sequence[PurchaseOrderLine]) -> dict[uuid.UUID, int]:
    out: dict[uuid.UUID, int] = {}
    for line in lines:
        left = remaining(ordered=line.quantity_ordered, received=line.quantity_received)
        if left > 0:
            out[line.variant_id] = out.get(line.variant_id, 0) + left
    return out


def _move_incoming(
    uow: UnitOfWork,
    po: PurchaseOrder,
    actor: Actor,
    quantities: dict[uuid.UUID, int],
    *,
    kind: str,
    sign: int = 1,
) -> None:
    """Raise (sign 1) or lower (-1) incoming by `quantities`, one movement per variant."""
    if not quantities:
        return
    purchasing_repo.add_to_levels(
        uow.connection,
        location_id=po.location_id,
        changes={vid: LevelChange(incoming=sign * qty) for vid, qty in quantities.items()},
    )
    now = utcnow()
    for vid in sorted(quantities):
        uow.session.add(
            po_movement(po, actor, vid, Bucket.INCOMING, sign * quantities[vid], kind, now)
        )


def po_movement(
    po: PurchaseOrder,
    actor: Actor,
    variant_id: uuid.UUID,
    bucket: Bucket,
    quantity: int,
    kind: str,
    now: datetime,
    *,
    lot_id: uuid.UUID | None = None,
    unit_cost: int | None = None,
    reason: str = "",
) -> StockMovement:
    return StockMovement(
        id=uuid7(),
        variant_id=variant_id,
        location_id=po.location_id,
        bucket=str(bucket),
        quantity=quantity,
        kind=kind,
        reason=reason[:200],
        reference_type=REFERENCE_TYPE,
        reference_id=po.number,
        actor_id=actor.user_id,
        created_at=now,
        lot_id=lot_id,
        unit_cost_minor=unit_cost,
    )


_STAMP = {
    POAction.SEND: "sent_at",
    POAction.CANCEL: "cancelled_at",
    POAction.CLOSE: "closed_at",
}


def _transition(
    uow: UnitOfWork, po: PurchaseOrder, actor: Actor, action: POAction, *, reason: str = ""
) -> None:
    """Move the order to the action's target state, with its audit entry and event."""
    previous = po.status
    now = utcnow()
    po.status = TARGET[action].value
    setattr(po, _STAMP[action], now)
    po.updated_at = now
    details: dict[str, Any] = {"from": previous, "to": po.status}
    if reason.strip():
        details["reason"] = reason.strip()
    audit.record(
        uow,
        action=f"purchase_order.{po.status}",
        actor=actor,
        subject_type="purchase_order",
        subject_id=po.number,
        details=details,
    )
    events.emit(
        uow,
        topic=f"purchase_order.{po.status}",
        aggregate_type="purchase_order",
        aggregate_id=po.number,
        payload={"number": po.number, "status": po.status, "previous_status": previous},
    )


# --- reading --------------------------------------------------------------------------------


def get_order(*, db: Database, actor: Actor, number: str) -> OrderView:
    """One order with its lines and receipts; 404 `purchasing.order_not_found`, 403 for an
    order shipping to a location the actor may not see."""
    actor.require(Permission.STOCK_READ)
    with db.uow(write=False) as uow:
        po = _find_order(uow, actor, number, lock=False)
        return _order_view(uow, po)


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


def _order_view(uow: UnitOfWork, po: PurchaseOrder) -> OrderView:
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

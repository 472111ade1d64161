"""Creating and editing draft purchase orders: a new draft in the supplier's currency with its
lines planned from the supplier's packs and costs, its lines replaced while it is a draft, and
its expected date or notes changed until it is closed or cancelled. Nothing here moves stock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
    SupplierItem,
)
from omnitill.adapters.db.repositories.sequences import next_number
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import Conflict, FieldError, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.purchasing import (
    OrderLineRequest,
    POAction,
    POStatus,
    SupplierTerms,
    check_action,
    plan_order_lines,
)
from omnitill.services import audit
from omnitill.services.purchase_order_views import (
    OrderView,
    business_date,
    lock_order,
    order_view,
)
from omnitill.services.references import LineRef, accessible_location, resolve_lines
from omnitill.services.retries import run_retrying
from omnitill.services.suppliers import supplier_by_code


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
            check_supplier_usable(supplier, currency=data.currency)
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
            view = order_view(uow, po)
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
            view = order_view(uow, po)
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
            view = order_view(uow, po)
            uow.commit()
            return view

    return run_retrying(once)


def check_supplier_usable(supplier: Supplier, *, currency: str | None) -> None:
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

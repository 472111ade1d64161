"""Receiving a delivery against a purchase order, with landed cost and moving-average cost.

Per receipt line: on_hand rises by the quantity (a `receive` movement per lot portion, with
the landed unit cost in the order's currency), incoming falls by what the line still
expected (a `po_received` movement), and the PO line's received quantity grows; the order
becomes partially_received or received. Units past what a line still expects are an
over-receipt: they need `stock.over_receive` or a manager override.

Landed costs (freight, duty, other) are spread over the receipt's lines by value (largest
remainder, so they sum exactly) and raise each line's unit cost; the variant's
moving-average cost (`variants.cost_minor`, for margin reports) then takes the landed cost
in, converted to the variant's currency at the latest exchange rate when the order is in
another (and left alone, saying so, when there is no rate).

The order row is locked first, then the variant rows (id order), then the stock levels
(variant id order): two receipts against one line cannot both pass the remaining check, and
two receipts of one variant cannot lose a cost update.

Matching and booking the lines lives in services/purchase_receipt_lines.py, the landed cost
and the moving-average cost in services/landed_cost.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    GoodsReceipt,
    GoodsReceiptLine,
    Location,
    PurchaseOrder,
)
from omnitill.adapters.db.repositories import purchasing as purchasing_repo
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import Conflict, FieldError
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.purchasing import (
    POAction,
    check_action,
    check_receipt_request,
    receive_lines,
    status_after_receipt,
)
from omnitill.services import audit, events
from omnitill.services.landed_cost import CostUpdate, spread_landed_cost, update_costs
from omnitill.services.purchase_order_views import business_date, lock_order, order_lines
from omnitill.services.purchase_receipt_lines import (
    Booking,
    ReceiptLineInput,
    authorise_over_receipt,
    book_levels,
    match_lines,
    put_tracked,
)
from omnitill.services.retries import run_retrying

__all__ = [
    "CostUpdate",
    "ReceiptInput",
    "ReceiptLineInput",
    "ReceiptResult",
    "ReceivedLine",
    "receive",
]


@dataclass(frozen=True, slots=True)
class ReceiptInput:
    lines: tuple[ReceiptLineInput, ...]
    landed_costs: tuple[tuple[str, int], ...] = ()  # (kind, amount in the PO currency)
    reference: str | None = None  # the supplier's delivery note


@dataclass(frozen=True, slots=True)
class ReceivedLine:
    """One receipt line as booked: its share of the landed costs, the landed unit cost, how
    much left incoming and how much came over what was expected."""

    line_no: int
    sku: str
    quantity: int
    unit_cost: int
    landed_cost_share: int
    landed_unit_cost: int
    incoming_released: int
    over_received: int
    lot: str | None
    serials: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReceiptResult:
    id: uuid.UUID
    purchase_order: str
    status: str
    location: str
    currency: str
    reference: str | None
    landed_cost: int
    lines: tuple[ReceivedLine, ...]
    costs: tuple[CostUpdate, ...]
    created_at: datetime
    authorisation: dict[str, str] | None = None

    @property
    def cost_updated(self) -> bool:
        return all(c.updated for c in self.costs)


def receive(
    *,
    db: Database,
    actor: Actor,
    number: str,
    request: ReceiptInput,
    override_token: str | None = None,
) -> ReceiptResult:
    """Book a delivery in against a purchase order (see the module docstring).

    403 for a location the actor may not act at; 409 `purchasing.not_receivable` on a draft,
    cancelled or closed order, `purchasing.receipt_reference_used` for a delivery note
    already booked on this order; 422 `purchasing.over_receipt` naming each
    `lines.N.quantity` past what is still expected, unless the actor holds
    `stock.over_receive` or sends a manager override; `catalog.unknown_sku`,
    `purchasing.sku_not_on_order`, `purchasing.unknown_line` naming the line.
    """
    actor.require(Permission.STOCK_RECEIVE)
    check_receipt_request(
        quantities=[line.quantity for line in request.lines], landed_costs=request.landed_costs
    )
    reference = (request.reference or "").strip() or None
    return run_retrying(
        lambda: _receive_once(
            db=db,
            actor=actor,
            number=number,
            request=request,
            reference=reference,
            override_token=override_token,
        )
    )


def _receive_once(
    *,
    db: Database,
    actor: Actor,
    number: str,
    request: ReceiptInput,
    reference: str | None,
    override_token: str | None,
) -> ReceiptResult:
    with db.uow() as uow:
        po = lock_order(uow, actor, number)
        check_action(po.status, POAction.RECEIVE)
        loc = uow.session.get_one(Location, po.location_id)
        if reference is not None:
            _refuse_reused_reference(uow, po, reference)
        lines = order_lines(uow, po)
        bookings = match_lines(uow, lines, request.lines)
        splits = receive_lines(
            {line.id: (line.quantity_ordered, line.quantity_received) for line in lines},
            [(b.line.id, b.request.quantity) for b in bookings],
        )
        for b, split in zip(bookings, splits, strict=True):
            b.released, b.over = split.released, split.over
        authorisation = authorise_over_receipt(uow, actor, po, bookings, override_token)
        landed_total = sum(amount for _, amount in request.landed_costs)
        spread_landed_cost(bookings, landed_total)
        now = utcnow()
        today = business_date(now, loc)
        # Variant rows first (id order), then what they hold: the cost is read under the lock
        # it is written under, and the on_hand total before this receipt changes it.
        variant_costs = purchasing_repo.lock_variant_costs(
            uow.connection, [b.ref.id for b in bookings]
        )
        totals_before = purchasing_repo.on_hand_totals(uow.connection, [b.ref.id for b in bookings])
        put_tracked(uow, po, actor, bookings, now=now, today=today)
        book_levels(uow, po, actor, bookings, now, reference)
        receipt = _store_receipt(uow, po, actor, bookings, landed_total, reference, now)
        po.status = status_after_receipt(
            [(line.quantity_ordered, line.quantity_received) for line in lines]
        ).value
        po.updated_at = now
        costs = update_costs(uow, po, bookings, variant_costs, totals_before, today)
        result = ReceiptResult(
            id=receipt.id,
            purchase_order=po.number,
            status=po.status,
            location=loc.code,
            currency=po.currency,
            reference=reference,
            landed_cost=landed_total,
            lines=tuple(_received_line(b) for b in bookings),
            costs=tuple(costs),
            created_at=now,
            authorisation=authorisation.as_details() if authorisation else None,
        )
        _record_receipt(uow, actor, result, request)
        uow.commit()
        return result


def _refuse_reused_reference(uow: UnitOfWork, po: PurchaseOrder, reference: str) -> None:
    """A delivery note booked twice on one order is a double count, not a second delivery."""
    existing = uow.session.scalar(
        select(GoodsReceipt.id).where(
            GoodsReceipt.purchase_order_id == po.id, GoodsReceipt.reference == reference
        )
    )
    if existing is not None:
        raise Conflict(
            "purchasing.receipt_reference_used",
            f"delivery {reference!r} is already booked on {po.number}",
            {"reference": reference, "receipt": str(existing)},
            errors=[FieldError("reference", "purchasing.receipt_reference_used", "booked")],
        )


def _store_receipt(
    uow: UnitOfWork,
    po: PurchaseOrder,
    actor: Actor,
    bookings: Sequence[Booking],
    landed_total: int,
    reference: str | None,
    now: datetime,
) -> GoodsReceipt:
    receipt = GoodsReceipt(
        id=uuid7(),
        purchase_order_id=po.id,
        location_id=po.location_id,
        currency=po.currency,
        landed_cost_minor=landed_total,
        reference=reference,
        actor_id=actor.user_id,
        created_at=now,
    )
    uow.session.add(receipt)
    uow.session.flush()
    for b in bookings:
        lot_id = next((p.lot_id for p in b.portions if p.lot_id is not None), None)
        serials = [s for p in b.portions for s in p.serials] or list(b.request.serials)
        uow.session.add(
            GoodsReceiptLine(
                id=uuid7(),
                goods_receipt_id=receipt.id,
                purchase_order_line_id=b.line.id,
                variant_id=b.ref.id,
                quantity=b.request.quantity,
                unit_cost_minor=b.line.unit_cost_minor,
                landed_unit_cost_minor=b.landed_unit,
                lot_id=lot_id,
                serials=serials,
            )
        )
    return receipt


def _received_line(b: Booking) -> ReceivedLine:
    lot = next((p.lot_code for p in b.portions if p.lot_code is not None), None)
    serials = tuple(s for p in b.portions for s in p.serials) or b.request.serials
    return ReceivedLine(
        line_no=b.line.line_no,
        sku=b.ref.sku,
        quantity=b.request.quantity,
        unit_cost=b.line.unit_cost_minor,
        landed_cost_share=b.share,
        landed_unit_cost=b.landed_unit,
        incoming_released=b.released,
        over_received=b.over,
        lot=lot if lot is not None else (b.request.lot.code if b.request.lot else None),
        serials=serials,
    )


def _record_receipt(
    uow: UnitOfWork, actor: Actor, result: ReceiptResult, request: ReceiptInput
) -> None:
    details: dict[str, Any] = {
        "receipt": str(result.id),
        "location": result.location,
        "reference": result.reference,
        "status": result.status,
        "landed_costs": [{"kind": k, "amount": a} for k, a in request.landed_costs],
        "lines": [
            {
                "line_no": line.line_no,
                "sku": line.sku,
                "quantity": line.quantity,
                "landed_unit_cost": line.landed_unit_cost,
                "over_received": line.over_received,
            }
            for line in result.lines
        ],
        "costs": [
            {"sku": c.sku, "from": c.previous_cost, "to": c.cost, "updated": c.updated}
            for c in result.costs
        ],
    }
    if result.authorisation is not None:
        details.update(result.authorisation)
    audit.record(
        uow,
        action="purchase_order.received",
        actor=actor,
        subject_type="purchase_order",
        subject_id=result.purchase_order,
        details=details,
    )
    events.emit(
        uow,
        topic="goods_receipt.created",
        aggregate_type="purchase_order",
        aggregate_id=result.purchase_order,
        payload={
            "receipt": str(result.id),
            "purchase_order": result.purchase_order,
            "status": result.status,
            "location": result.location,
            "lines": [{"sku": line.sku, "quantity": line.quantity} for line in result.lines],
        },
        locations=[result.location],
    )

"""Purchase orders: draft, send (units become incoming), receive, close or cancel.

Every stock effect is a movement referencing the order (`reference_type` "purchase_order",
`reference_id` its number) written with its level change in one transaction:

- send: `po_ordered` on the incoming bucket, + each line's ordered quantity;
- receive: `receive` on on_hand (+ quantity, with the lot and the landed unit cost) and
  `po_received` on incoming (- what was still expected on the line);
- cancel (sent, nothing received): `po_cancelled` on incoming; close: `po_closed` on incoming
  for what never came.

Each use case locks the order row first (`FOR UPDATE`), so no two status changes or
receipts of one order interleave; level rows are then touched in variant id order. This
module holds the status changes that move stock; drafts live in
services/purchase_order_drafts.py, reading and loading orders in
services/purchase_order_views.py, receiving in services/purchase_receipts.py, suppliers in
services/suppliers.py; the rules (status machine, over-receipt, landed cost, moving average)
in domain/inventory/purchasing.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Location,
    PurchaseOrder,
    PurchaseOrderLine,
    StockMovement,
    Supplier,
)
from omnitill.adapters.db.repositories import purchasing as purchasing_repo
from omnitill.adapters.db.repositories.purchasing import LevelChange
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.buckets import Bucket
from omnitill.domain.inventory.purchasing import (
    TARGET,
    POAction,
    POStatus,
    check_action,
    remaining,
)
from omnitill.services import audit, events
from omnitill.services.purchase_order_drafts import (
    PurchaseOrderChanges,
    PurchaseOrderInput,
    check_supplier_usable,
    create_order,
    replace_lines,
    update_order,
)
from omnitill.services.purchase_order_views import (
    OrderSummary,
    OrderView,
    get_order,
    incoming,
    list_orders,
    lock_order,
    order_lines,
    order_view,
)
from omnitill.services.retries import run_retrying

__all__ = [
    "REFERENCE_TYPE",
    "OrderSummary",
    "OrderView",
    "PurchaseOrderChanges",
    "PurchaseOrderInput",
    "cancel_order",
    "close_order",
    "create_order",
    "get_order",
    "incoming",
    "list_orders",
    "po_movement",
    "replace_lines",
    "send_order",
    "update_order",
]

REFERENCE_TYPE = "purchase_order"


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
            check_supplier_usable(uow.session.get_one(Supplier, po.supplier_id), currency=None)
            _move_incoming(
                uow,
                po,
                actor,
                {line.variant_id: line.quantity_ordered for line in lines},
                kind="po_ordered",
            )
            _transition(uow, po, actor, POAction.SEND)
            view = order_view(uow, po)
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
            view = order_view(uow, po)
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
            view = order_view(uow, po)
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
        locations=[uow.session.get_one(Location, po.location_id).code],
    )

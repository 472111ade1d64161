"""The order steps the API and the register call: each does its database work, then
brings the payment in line (capture when everything was handed over, void or refund what
a cancellation took back). See services/order_steps.py, order_reroute.py, order_payments.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from omnitill.adapters.db.database import Database
from omnitill.domain.auth.actor import Actor
from omnitill.domain.orders.lifecycle import Step
from omnitill.domain.payments.gateway import PaymentGateway
from omnitill.services import order_payments, order_reroute, order_steps
from omnitill.services.order_reroute import CancelLine
from omnitill.services.order_steps import Handover
from omnitill.services.order_views import OrderView

__all__ = ["CancelLine", "Handover", "advance", "cancel", "reject"]


def advance(
    *,
    db: Database,
    actor: Actor,
    gateway: PaymentGateway,
    order_id: uuid.UUID,
    fulfillment_id: uuid.UUID,
    step: Step,
    handover: Handover | None = None,
    note: str = "",
) -> OrderView:
    result = order_steps.advance(
        db=db,
        actor=actor,
        order_id=order_id,
        fulfillment_id=fulfillment_id,
        step=step,
        handover=handover,
        note=note,
    )
    if result.completed:
        return order_payments.settle(db=db, actor=actor, gateway=gateway, order_id=order_id)
    return result.view


def reject(
    *,
    db: Database,
    actor: Actor,
    gateway: PaymentGateway,
    order_id: uuid.UUID,
    fulfillment_id: uuid.UUID,
    reason: str,
    line_numbers: Sequence[int] = (),
) -> OrderView:
    view, cancelled = order_reroute.reject(
        db=db,
        actor=actor,
        order_id=order_id,
        fulfillment_id=fulfillment_id,
        reason=reason,
        line_numbers=line_numbers,
    )
    if cancelled:
        return order_payments.settle(db=db, actor=actor, gateway=gateway, order_id=order_id)
    return view


def cancel(
    *,
    db: Database,
    actor: Actor,
    gateway: PaymentGateway,
    order_id: uuid.UUID,
    reason: str,
    lines: Sequence[CancelLine] = (),
) -> OrderView:
    order_reroute.cancel(db=db, actor=actor, order_id=order_id, reason=reason, lines=lines)
    return order_payments.settle(db=db, actor=actor, gateway=gateway, order_id=order_id)

"""The order steps the API and the register call: each does its database work, then
brings the payment in line (capture when everything was handed over, void or refund what
a cancellation took back). See services/order_steps.py, order_reroute.py, order_payments.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import Order, Register
from omnitill.domain.auth.actor import Actor
from omnitill.domain.fulfillment.carrier import Carrier
from omnitill.domain.orders.lifecycle import Step
from omnitill.domain.payments.gateway import PaymentGateway
from omnitill.services import (
    order_deposit_refunds,
    order_payments,
    order_reroute,
    order_steps,
    pickups,
    shipments,
)
from omnitill.services.order_reroute import CancelLine
from omnitill.services.order_steps import Handover
from omnitill.services.order_views import OrderView
from omnitill.services.pickups import CustomerNotifier

__all__ = [
    "CancelLine",
    "CustomerNotifier",
    "Handover",
    "advance",
    "cancel",
    "reject",
    "ship_with_label",
    "sweep_pickups",
]


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
    notifier: CustomerNotifier | None = None,
) -> OrderView:
    """Take one step; a pickup made ready tells the customer (after the commit)."""
    result = order_steps.advance(
        db=db,
        actor=actor,
        order_id=order_id,
        fulfillment_id=fulfillment_id,
        step=step,
        handover=handover,
        note=note,
    )
    if result.pickup_code is not None and notifier is not None:
        pickups.notify_ready(
            db, notifier, order_id=order_id, fulfillment_id=fulfillment_id, code=result.pickup_code
        )
    if result.completed:
        return order_payments.settle(db=db, actor=actor, gateway=gateway, order_id=order_id)
    return result.view


def ship_with_label(
    *,
    db: Database,
    actor: Actor,
    gateway: PaymentGateway,
    carrier: Carrier,
    order_id: uuid.UUID,
    fulfillment_id: uuid.UUID,
    parcel: shipments.ParcelInput,
    labels_dir: Path,
    notifier: CustomerNotifier | None = None,
) -> OrderView:
    """Ship with a label bought from the carrier (services/shipments.py)."""
    result = shipments.ship(
        db=db,
        actor=actor,
        carrier=carrier,
        order_id=order_id,
        fulfillment_id=fulfillment_id,
        parcel=parcel,
        labels_dir=labels_dir,
        notifier=notifier,
    )
    if result.completed:
        return order_payments.settle(db=db, actor=actor, gateway=gateway, order_id=order_id)
    return result.view


def sweep_pickups(
    *,
    db: Database,
    actor: Actor,
    gateway: PaymentGateway,
    notifier: CustomerNotifier | None,
    now: datetime | None = None,
) -> tuple[int, int]:
    """Remind and expire uncollected pickups, then bring each expired order's payment in
    line (void, or capture less). Returns (reminded, expired)."""
    reminded, expired = pickups.sweep(db=db, notifier=notifier, now=now)
    for order_id in expired:
        order_payments.settle(db=db, actor=actor, gateway=gateway, order_id=order_id)
    return reminded, len(expired)


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
    register: str | None = None,
    override_token: str | None = None,
) -> OrderView:
    """Cancel, then bring the online card in line (void, or capture less later); a
    cancelled order paid at registers gives those payments back at `register` (default:
    the register that took the order), each to the tender it came from."""
    till = register or _origin_register(db, order_id)
    give_back = (
        not lines
        and till is not None
        and order_deposit_refunds.check_can_refund(
            db=db, actor=actor, order_id=order_id, register=till, override_token=override_token
        )
    )
    order_reroute.cancel(db=db, actor=actor, order_id=order_id, reason=reason, lines=lines)
    view = order_payments.settle(db=db, actor=actor, gateway=gateway, order_id=order_id)
    if give_back and till is not None and view.status == "cancelled":
        return order_deposit_refunds.refund_order_payments(
            db=db,
            actor=actor,
            gateway=gateway,
            order_id=order_id,
            register=till,
            override_token=override_token,
        ).order
    return view


def _origin_register(db: Database, order_id: uuid.UUID) -> str | None:
    with db.uow(write=False) as uow:
        return uow.session.scalar(
            select(Register.code)
            .join(Order, Order.origin_register_id == Register.id)
            .where(Order.id == order_id)
        )

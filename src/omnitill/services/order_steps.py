"""What a location does with its part of an order: accept, reject, pick, pack, ship, ready,
hand over, deliver. Each step is checked by domain/orders/lifecycle.py, stamped (the SLA
timestamps), written to the timeline and announced, in one transaction.

Shipping or handing over fulfils the fulfillment's reservation (the units leave on_hand).
A rejection releases it and routes the rejected units again without that location
(services/order_reroute.py). When nothing is left to hand over, the card authorization is
captured for what was handed over (services/order_payments.py).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Order, OrderFulfillment, OrderLine
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from omnitill.domain.inventory.reservations import Transition
from omnitill.domain.orders.lifecycle import (
    TRANSFER,
    FulfillmentStatus,
    OrderStatus,
    Step,
    check_step,
    format_number,
    parse_number,
)
from omnitill.services import order_timeline, order_transfers
from omnitill.services.order_cancel import (
    allocations_of,
    location_code,
    refresh_status,
)
from omnitill.services.order_views import OrderView, balance_due, load_view
from omnitill.services.reservation_transitions import apply_transition

Recorder = Callable[[UnitOfWork, Order, OrderFulfillment], dict[str, str]]

STAMPS = {
    FulfillmentStatus.ACCEPTED: "accepted_at",
    FulfillmentStatus.PACKED: "packed_at",
    FulfillmentStatus.READY: "ready_at",
    FulfillmentStatus.SHIPPED: "shipped_at",
    FulfillmentStatus.PICKED_UP: "picked_up_at",
    FulfillmentStatus.DELIVERED: "delivered_at",
    FulfillmentStatus.CANCELLED: "cancelled_at",
}
TOPICS = {
    Step.ACCEPT: "order.accepted",
    Step.PICK: "order.picking",
    Step.PACK: "order.packed",
    Step.READY: "order.ready_for_pickup",
    Step.SHIP: "order.shipped",
    Step.PICK_UP: "order.picked_up",
    Step.DELIVER: "order.delivered",
}


@dataclass(frozen=True, slots=True)
class Handover:
    """How a pickup is verified: the pickup code from the notification's QR code, or the
    order number with the customer's name."""

    pickup_code: str | None = None
    number: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class StepResult:
    view: OrderView
    completed: bool  # nothing left to hand over: the caller captures the payment
    pickup_code: str | None = None  # READY only: the secret for the customer's QR code


def advance(
    *,
    db: Database,
    actor: Actor,
    order_id: uuid.UUID,
    fulfillment_id: uuid.UUID,
    step: Step,
    handover: Handover | None = None,
    note: str = "",
    now: datetime | None = None,
    shipment: Recorder | None = None,
) -> StepResult:
    """Move a fulfillment one step (not reject or cancel: see order_reroute/order_service).
    `shipment` records the parcel of a `ship` step in the same transaction (its answer
    joins the timeline entry)."""
    actor.require(Permission.ORDERS_FULFIL)
    at = now or utcnow()
    with db.uow() as uow:
        order, fulfillment = locked(
            uow, actor, order_id, fulfillment_id, receiving=step is Step.DELIVER
        )
        if order.status == OrderStatus.PENDING_PAYMENT:
            raise Conflict(
                "order.awaiting_payment",
                "the order's payment is not yet authorized",
                {"order_id": str(order.id)},
            )
        rule = check_step(step, status=fulfillment.status, method=fulfillment.method)
        code = None
        if step is Step.PICK_UP:
            _verify(uow, order, fulfillment, handover or Handover())
        # Handing over needs the order paid; so does shipping one taken at a register
        # (endless aisle, special order): online orders are paid by their authorization.
        moving_in = fulfillment.method == TRANSFER  # into the pickup store: not handed over
        if step is Step.PICK_UP or (
            step is Step.SHIP and order.origin_register_id and not moving_in
        ):
            due = balance_due(order)
            if due > 0:
                raise Conflict(
                    "order.balance_due",
                    f"{due} is still to pay before the order is handed over",
                    {"balance_due": due, "currency": order.currency},
                )
        if moving_in and step is Step.SHIP:
            order_transfers.ship(uow, actor, fulfillment, order, at)
        elif moving_in and step is Step.DELIVER:
            order_transfers.arrive(uow, actor, fulfillment, order, at)
        elif step in {Step.SHIP, Step.PICK_UP}:
            _hand_over(uow, actor, fulfillment, at)
        if step is Step.READY:
            code = secrets.token_urlsafe(16)
            fulfillment.pickup_token_hash = token_hash(code)
        fulfillment.status = rule.target
        stamp = STAMPS.get(rule.target)
        if stamp:
            setattr(fulfillment, stamp, at)
        if rule.target is FulfillmentStatus.PACKED and fulfillment.accepted_at is None:
            fulfillment.accepted_at = at
        fulfillment.updated_at = at
        status = refresh_status(uow, order, at)
        loc = location_code(uow, fulfillment.location_id)
        data = {"location": loc, "method": fulfillment.method}
        if note:
            data["note"] = note
        if shipment is not None:
            data.update(shipment(uow, order, fulfillment))
        order_timeline.record(
            uow,
            order,
            rule.event,
            actor=actor,
            now=at,
            fulfillment_id=fulfillment.id,
            location_id=fulfillment.location_id,
            data=data,
            publish=TOPICS.get(step),
            locations=[loc],
        )
        if status == OrderStatus.COMPLETED:
            order_timeline.record(
                uow,
                order,
                "completed",
                actor=actor,
                now=at,
                publish="order.completed",
                locations=[loc],
            )
        uow.commit()
        done = not _anything_left(uow, order)
        return StepResult(load_view(uow, order), done, code)


def locked(
    uow: UnitOfWork,
    actor: Actor,
    order_id: uuid.UUID,
    fulfillment_id: uuid.UUID,
    *,
    receiving: bool = False,
) -> tuple[Order, OrderFulfillment]:
    """The order and one of its fulfillments, row-locked, at a location the actor works at
    (`receiving`: a transfer's arrival is confirmed by the store it comes to)."""
    order = uow.session.get(Order, order_id, with_for_update=True)
    fulfillment = uow.session.get(OrderFulfillment, fulfillment_id, with_for_update=True)
    if order is None or fulfillment is None or fulfillment.order_id != order.id:
        raise NotFound(
            "order.fulfillment_not_found",
            "no such fulfillment on this order",
            {"order_id": str(order_id), "fulfillment_id": str(fulfillment_id)},
        )
    if (
        receiving
        and fulfillment.method == TRANSFER
        and actor.may_access(order_transfers.pickup_store(uow, fulfillment))
    ):
        return order, fulfillment
    actor.require_location(fulfillment.location_id, location_code(uow, fulfillment.location_id))
    return order, fulfillment


def _hand_over(uow: UnitOfWork, actor: Actor, fulfillment: OrderFulfillment, at: datetime) -> None:
    """The units leave the location: the reservation is fulfilled (on_hand goes down) and
    the lines count them as fulfilled."""
    if fulfillment.reservation_id is not None:
        apply_transition(
            uow,
            reservation_id=fulfillment.reservation_id,
            how=Transition.FULFIL,
            actor=actor,
            now=at,
        )
    for a in allocations_of(uow, fulfillment):
        line = uow.session.get_one(OrderLine, a.order_line_id, with_for_update=True)
        line.quantity_fulfilled += a.quantity - a.quantity_cancelled


def token_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _verify(uow: UnitOfWork, order: Order, fulfillment: OrderFulfillment, h: Handover) -> None:
    """The customer proves the order is theirs: the pickup code from their notification,
    or the order number with the name on it (case and spacing ignored)."""
    if h.pickup_code:
        expected = fulfillment.pickup_token_hash or ""
        if hmac.compare_digest(token_hash(h.pickup_code), expected):
            return
        raise ValidationFailed(
            "order.pickup_code_mismatch",
            "the pickup code is not this order's",
            errors=[FieldError("pickup_code", "order.pickup_code_mismatch", "does not match")],
        )
    if h.number and h.name:
        same_number = parse_number(h.number) == order.number
        same_name = _plain(h.name) == _plain(order.customer_name) and bool(order.customer_name)
        if same_number and same_name:
            return
        raise ValidationFailed(
            "order.pickup_identity_mismatch",
            f"the number and name do not match order {format_number(order.number)}",
            errors=[FieldError("name", "order.pickup_identity_mismatch", "does not match")],
        )
    raise ValidationFailed(
        "order.pickup_verification_required",
        "give the pickup code, or the order number and the customer's name",
        errors=[
            FieldError("pickup_code", "order.pickup_verification_required", "or number + name")
        ],
    )


def _plain(text: str) -> str:
    return " ".join(text.casefold().split())


def _anything_left(uow: UnitOfWork, order: Order) -> bool:
    """Units neither handed over nor cancelled, including backorders."""
    lines = uow.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))
    return any(x.quantity - x.quantity_cancelled - x.quantity_fulfilled > 0 for x in lines)

"""Cancelling orders, their lines, and the stock and order state that follows, inside the
caller's transaction. Money (voiding the authorization, refunding a capture) is the
gateway's and happens after commit (services/order_payments.py).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import (
    Location,
    Order,
    OrderAllocation,
    OrderFulfillment,
    OrderLine,
    Reservation,
    ReservationLine,
    Variant,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.reservations import Transition
from omnitill.domain.orders.lifecycle import (
    HANDED_OVER,
    OPEN,
    FulfillmentStatus,
    OrderStatus,
    order_status,
)
from omnitill.services import order_timeline, reservations
from omnitill.services.references import LineRef, resolve_lines
from omnitill.services.reservation_transitions import apply_transition


def release(
    uow: UnitOfWork, fulfillment: OrderFulfillment, *, actor: Actor | None, now: datetime
) -> None:
    """Give a fulfillment's held units back to its location."""
    if fulfillment.reservation_id is not None:
        apply_transition(
            uow,
            reservation_id=fulfillment.reservation_id,
            how=Transition.RELEASE,
            actor=actor,
            now=now,
        )


def shrink(
    uow: UnitOfWork,
    fulfillment: OrderFulfillment,
    keep: dict[uuid.UUID, int],
    *,
    actor: Actor | None,
    now: datetime,
) -> None:
    """Hold only `keep` (variant id -> units) for a fulfillment that lost some lines: its
    reservation is released and the rest reserved again at the same location."""
    release(uow, fulfillment, actor=actor, now=now)
    fulfillment.reservation_id = None
    wanted = {v: n for v, n in keep.items() if n > 0}
    if not wanted or actor is None:
        return
    location = uow.session.get_one(Location, fulfillment.location_id)
    reservation = reservations.hold(
        uow,
        actor=actor,
        reference_type="order_fulfillment",
        reference_id=f"{fulfillment.id}~{uuid7().hex[-12:]}",  # a fresh hold of what is left
        location=location,
        refs=refs_for(uow, sorted(wanted)),
        wanted=wanted,
        now=now,
    )
    fulfillment.reservation_id = reservation.id


def held_units(uow: UnitOfWork, fulfillment: OrderFulfillment) -> dict[uuid.UUID, int]:
    if fulfillment.reservation_id is None:
        return {}
    status = uow.session.scalar(
        select(Reservation.status).where(Reservation.id == fulfillment.reservation_id)
    )
    if status != "active":
        return {}
    return dict(
        uow.session.execute(
            select(ReservationLine.variant_id, ReservationLine.quantity).where(
                ReservationLine.reservation_id == fulfillment.reservation_id
            )
        ).all()
    )


def release_and_cancel(
    uow: UnitOfWork, order: Order, *, actor: Actor | None, now: datetime, reason: str
) -> list[str]:
    """Cancel every unit not yet handed over: open fulfillments cancelled, their stock
    released, backorders dropped, the order cancelled (or completed, when what is left was
    handed over). Returns the codes of the locations told."""
    fulfillments = uow.session.scalars(
        select(OrderFulfillment).where(OrderFulfillment.order_id == order.id)
    ).all()
    told: list[str] = []
    for f in fulfillments:
        if f.status in HANDED_OVER or f.status in {
            FulfillmentStatus.REJECTED,
            FulfillmentStatus.CANCELLED,
        }:
            continue
        release(uow, f, actor=actor, now=now)
        f.status = FulfillmentStatus.CANCELLED
        f.cancelled_at = now
        told.append(location_code(uow, f.location_id))
        for a in allocations_of(uow, f):
            a.quantity_cancelled = a.quantity
    for line in lines_of(uow, order):
        line.quantity_cancelled = line.quantity - line.quantity_fulfilled
        line.quantity_backordered = 0
    refresh_status(uow, order, now)
    order.cancelled_at = now
    order_timeline.record(
        uow,
        order,
        "cancelled",
        actor=actor,
        now=now,
        data={"reason": reason},
        publish="order.cancelled",
        locations=told,
    )
    return told


def lines_of(uow: UnitOfWork, order: Order) -> list[OrderLine]:
    return list(
        uow.session.scalars(
            select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.line_no)
        )
    )


def allocations_of(uow: UnitOfWork, fulfillment: OrderFulfillment) -> list[OrderAllocation]:
    return list(
        uow.session.scalars(
            select(OrderAllocation).where(OrderAllocation.fulfillment_id == fulfillment.id)
        )
    )


def location_code(uow: UnitOfWork, location_id: uuid.UUID) -> str:
    code = uow.session.scalar(select(Location.code).where(Location.id == location_id))
    assert code is not None
    return code


def refresh_status(uow: UnitOfWork, order: Order, now: datetime) -> OrderStatus:
    """Derive the order's status from its fulfillments and lines (lifecycle.order_status)."""
    if order.status == OrderStatus.PENDING_PAYMENT:
        return OrderStatus.PENDING_PAYMENT
    uow.session.flush()
    statuses = uow.session.scalars(
        select(OrderFulfillment.status).where(OrderFulfillment.order_id == order.id)
    ).all()
    lines = lines_of(uow, order)
    status = order_status(
        fulfillments=statuses,
        backordered_units=sum(x.quantity_backordered for x in lines),
        open_units=sum(x.quantity - x.quantity_cancelled - x.quantity_fulfilled for x in lines),
    )
    if status != order.status:
        order.status = status
        if status == OrderStatus.COMPLETED:
            order.completed_at = now
    order.updated_at = now
    return status


def open_fulfillments(uow: UnitOfWork, order: Order) -> list[OrderFulfillment]:
    return [
        f
        for f in uow.session.scalars(
            select(OrderFulfillment).where(OrderFulfillment.order_id == order.id)
        )
        if f.status in OPEN
    ]


def units_by_variant(
    uow: UnitOfWork, allocations: Iterable[OrderAllocation]
) -> dict[uuid.UUID, int]:
    """Variant id -> units still wanted (allocated less cancelled)."""
    wanted: dict[uuid.UUID, int] = defaultdict(int)
    for a in allocations:
        line = uow.session.get_one(OrderLine, a.order_line_id)
        wanted[line.variant_id] += a.quantity - a.quantity_cancelled
    return dict(wanted)


def refs_for(uow: UnitOfWork, variant_ids: list[uuid.UUID]) -> list[VariantRef]:
    """The variants of `variant_ids`, in that order (they exist: order lines name them)."""
    skus = dict(
        uow.session.execute(
            select(Variant.id, Variant.sku).where(Variant.id.in_(variant_ids))
        ).all()
    )
    return resolve_lines(uow, [LineRef(skus[v], None) for v in variant_ids])

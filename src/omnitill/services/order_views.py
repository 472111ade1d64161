"""Reading orders: one order with its lines, fulfillments, shipments, payments and timeline;
pages of orders by status, channel and location.

Who sees what: estate-wide staff see every order; staff bound to stores see an order when one
of its fulfillments (or its pickup store, or the register that took it) is theirs.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_, select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Location,
    Order,
    OrderAllocation,
    OrderEvent,
    OrderFulfillment,
    OrderLine,
    Payment,
    Shipment,
    ShipmentEvent,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import NotFound
from omnitill.domain.orders.lifecycle import OrderStatus, format_number, parse_number
from omnitill.services.pagination import (
    check_status_filter,
    clamp_limit,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
)
from omnitill.services.references import location_by_code


@dataclass(frozen=True, slots=True)
class OrderLineView:
    id: uuid.UUID
    line_no: int
    sku: str
    name: str
    quantity: int
    method: str
    unit_price: int
    discount_total: int
    tax_total: int
    total: int
    quantity_backordered: int
    quantity_cancelled: int
    quantity_fulfilled: int


@dataclass(frozen=True, slots=True)
class TrackingView:
    status: str
    description: str
    location: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class ShipmentView:
    id: uuid.UUID
    carrier: str
    service: str
    tracking_number: str
    status: str
    rate: int
    currency: str
    weight_grams: int
    events: tuple[TrackingView, ...]


@dataclass(frozen=True, slots=True)
class AllocationView:
    line_no: int
    sku: str
    quantity: int
    quantity_cancelled: int


@dataclass(frozen=True, slots=True)
class FulfillmentView:
    id: uuid.UUID
    location: str
    method: str
    status: str
    lines: tuple[AllocationView, ...]
    reject_reason: str | None
    arrived_at: datetime | None
    arrival_bay: str | None
    arrival_car: str | None
    created_at: datetime
    accepted_at: datetime | None
    packed_at: datetime | None
    ready_at: datetime | None
    picked_up_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    shipments: tuple[ShipmentView, ...]


@dataclass(frozen=True, slots=True)
class OrderPaymentView:
    id: uuid.UUID
    method: str
    status: str
    amount: int
    refunded: int
    card_brand: str | None
    card_last4: str | None
    entry_mode: str | None
    decline_code: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    kind: str
    at: datetime
    location: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OrderView:
    id: uuid.UUID
    number: str
    channel: str
    kind: str
    status: str
    external_reference: str | None
    customer_id: uuid.UUID | None
    customer_name: str
    email: str | None
    phone: str | None
    ship_to: dict[str, Any] | None
    pickup_location: str | None
    currency: str
    subtotal: int
    discount_total: int
    tax_total: int
    shipping: int
    total: int
    paid: int
    authorized: int
    refunded: int
    balance_due: int
    deposit_required: int
    lines: tuple[OrderLineView, ...]
    fulfillments: tuple[FulfillmentView, ...]
    payments: tuple[OrderPaymentView, ...]
    timeline: tuple[TimelineEntry, ...]
    routing: dict[str, Any] | None
    placed_at: datetime
    completed_at: datetime | None
    cancelled_at: datetime | None
    replayed: bool = False


def get(*, db: Database, actor: Actor, order_id: uuid.UUID) -> OrderView:
    actor.require(Permission.ORDERS_READ)
    with db.uow(write=False) as uow:
        order = uow.session.get(Order, order_id)
        if order is None or not visible(uow, actor, order):
            raise NotFound("order.not_found", "no such order", {"id": str(order_id)})
        return load_view(uow, order)


def find(
    *,
    db: Database,
    actor: Actor,
    number: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    location: str | None = None,
    email: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[OrderView], str | None]:
    """Orders, newest first, filtered; one page. `location` keeps orders with a
    fulfillment there."""
    actor.require(Permission.ORDERS_READ)
    page = clamp_limit(limit)
    after = decode_cursor(cursor)
    check_status_filter(status, OrderStatus, "order.invalid_status")
    with db.uow(write=False) as uow:
        stmt = select(Order).order_by(Order.id.desc()).limit(page + 1)
        if number is not None:
            stmt = stmt.where(Order.number == (parse_number(number) or -1))
        if status is not None:
            stmt = stmt.where(Order.status == status)
        if channel is not None:
            stmt = stmt.where(Order.channel == channel)
        if email is not None:
            stmt = stmt.where(Order.email == email.strip().lower())
        if location is not None:
            loc = location_by_code(uow, location)
            actor.require_location(loc.id, loc.code)
            stmt = stmt.where(_at_locations([loc.id]))
        elif actor.location_ids is not None:
            stmt = stmt.where(_at_locations(sorted(actor.location_ids)))
        if after is not None:
            stmt = stmt.where(Order.id < cursor_uuid(after))
        rows = list(uow.session.scalars(stmt))
        items = [load_view(uow, o) for o in rows[:page]]
    more = len(rows) > page
    return items, encode_cursor({"id": str(items[-1].id)}) if more else None


def _at_locations(location_ids: list[uuid.UUID]) -> Any:
    return or_(
        exists().where(
            OrderFulfillment.order_id == Order.id,
            OrderFulfillment.location_id.in_(location_ids),
        ),
        Order.origin_location_id.in_(location_ids),
    )


def visible(uow: UnitOfWork, actor: Actor, order: Order) -> bool:
    if actor.location_ids is None:
        return True
    if order.origin_location_id in actor.location_ids:
        return True
    locations = uow.session.scalars(
        select(OrderFulfillment.location_id).where(OrderFulfillment.order_id == order.id)
    ).all()
    return any(loc in actor.location_ids for loc in locations)


def load_view(uow: UnitOfWork, order: Order, *, replayed: bool = False) -> OrderView:
    s = uow.session
    codes = {k: v for k, v in s.execute(select(Location.id, Location.code)).all()}
    lines = s.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.line_no)
    ).all()
    by_line = {line.id: line for line in lines}
    fulfillments = s.scalars(
        select(OrderFulfillment)
        .where(OrderFulfillment.order_id == order.id)
        .order_by(OrderFulfillment.created_at, OrderFulfillment.id)
    ).all()
    allocations: dict[uuid.UUID, list[OrderAllocation]] = defaultdict(list)
    for a in s.scalars(
        select(OrderAllocation).where(
            OrderAllocation.fulfillment_id.in_([f.id for f in fulfillments])
        )
    ):
        allocations[a.fulfillment_id].append(a)
    shipments: dict[uuid.UUID, list[ShipmentView]] = defaultdict(list)
    for shipment in s.scalars(select(Shipment).where(Shipment.order_id == order.id)):
        tracked = s.scalars(
            select(ShipmentEvent)
            .where(ShipmentEvent.shipment_id == shipment.id)
            .order_by(ShipmentEvent.occurred_at)
        ).all()
        shipments[shipment.fulfillment_id].append(_shipment(shipment, tracked))
    payments = s.scalars(
        select(Payment).where(Payment.order_id == order.id).order_by(Payment.created_at)
    ).all()
    timeline = s.scalars(
        select(OrderEvent)
        .where(OrderEvent.order_id == order.id)
        .order_by(OrderEvent.created_at, OrderEvent.id)
    ).all()
    pickup = next((line.pickup_location_id for line in lines if line.pickup_location_id), None)
    return OrderView(
        id=order.id,
        number=format_number(order.number),
        channel=order.channel,
        kind=order.kind,
        status=order.status,
        external_reference=order.external_reference,
        customer_id=order.customer_id,
        customer_name=order.customer_name,
        email=order.email,
        phone=order.phone,
        ship_to=order.ship_to,
        pickup_location=codes.get(pickup) if pickup else None,
        currency=order.currency,
        subtotal=order.subtotal_minor,
        discount_total=order.discount_total_minor,
        tax_total=order.tax_total_minor,
        shipping=order.shipping_minor,
        total=order.total_minor,
        paid=order.paid_minor,
        authorized=order.authorized_minor,
        refunded=order.refunded_minor,
        balance_due=balance_due(order),
        deposit_required=order.deposit_required_minor,
        lines=tuple(_line(line) for line in lines),
        fulfillments=tuple(
            _fulfillment(f, codes, allocations[f.id], by_line, shipments[f.id])
            for f in fulfillments
        ),
        payments=tuple(_payment(p) for p in payments),
        timeline=tuple(
            TimelineEntry(
                e.kind, e.created_at, codes.get(e.location_id) if e.location_id else None, e.data
            )
            for e in timeline
        ),
        routing=order.routing,
        placed_at=order.placed_at,
        completed_at=order.completed_at,
        cancelled_at=order.cancelled_at,
        replayed=replayed,
    )


def balance_due(order: Order) -> int:
    """What is still to pay: the total less what was paid or is held by an authorization,
    plus what was refunded (a refund gives back what was paid)."""
    return max(0, order.total_minor - order.paid_minor - order.authorized_minor)


def _line(line: OrderLine) -> OrderLineView:
    return OrderLineView(
        id=line.id,
        line_no=line.line_no,
        sku=line.sku,
        name=line.name,
        quantity=line.quantity,
        method=line.method,
        unit_price=line.unit_price_minor,
        discount_total=line.discount_total_minor,
        tax_total=line.tax_total_minor,
        total=line.total_minor,
        quantity_backordered=line.quantity_backordered,
        quantity_cancelled=line.quantity_cancelled,
        quantity_fulfilled=line.quantity_fulfilled,
    )


def _fulfillment(
    f: OrderFulfillment,
    codes: dict[uuid.UUID, str],
    allocations: list[OrderAllocation],
    lines: dict[uuid.UUID, OrderLine],
    shipments: list[ShipmentView],
) -> FulfillmentView:
    return FulfillmentView(
        id=f.id,
        location=codes[f.location_id],
        method=f.method,
        status=f.status,
        lines=tuple(
            AllocationView(
                lines[a.order_line_id].line_no,
                lines[a.order_line_id].sku,
                a.quantity,
                a.quantity_cancelled,
            )
            for a in sorted(allocations, key=lambda a: lines[a.order_line_id].line_no)
        ),
        reject_reason=f.reject_reason,
        arrived_at=f.arrived_at,
        arrival_bay=f.arrival_bay,
        arrival_car=f.arrival_car,
        created_at=f.created_at,
        accepted_at=f.accepted_at,
        packed_at=f.packed_at,
        ready_at=f.ready_at,
        picked_up_at=f.picked_up_at,
        shipped_at=f.shipped_at,
        delivered_at=f.delivered_at,
        cancelled_at=f.cancelled_at,
        shipments=tuple(shipments),
    )


def _shipment(shipment: Shipment, tracked: Any) -> ShipmentView:
    return ShipmentView(
        id=shipment.id,
        carrier=shipment.carrier,
        service=shipment.service,
        tracking_number=shipment.tracking_number,
        status=shipment.status,
        rate=shipment.rate_minor,
        currency=shipment.currency,
        weight_grams=shipment.weight_grams,
        events=tuple(
            TrackingView(e.status, e.description, e.location, e.occurred_at) for e in tracked
        ),
    )


def _payment(p: Payment) -> OrderPaymentView:
    return OrderPaymentView(
        id=p.id,
        method=p.method,
        status=p.status,
        amount=p.amount_minor,
        refunded=p.refunded_minor,
        card_brand=p.card_brand,
        card_last4=p.card_last4,
        entry_mode=p.entry_mode,
        decline_code=p.decline_code,
        created_at=p.created_at,
    )

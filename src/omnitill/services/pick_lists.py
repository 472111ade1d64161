"""Pick lists: what each location has to take off its shelves for its open orders."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import Order, OrderAllocation, OrderFulfillment, OrderLine
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.orders.lifecycle import OrderStatus, format_number
from omnitill.services.references import location_by_code


@dataclass(frozen=True, slots=True)
class PickItem:
    """One SKU to pick at a location: units across every open order, and which orders."""

    sku: str
    name: str
    quantity: int
    orders: tuple[tuple[str, str, int], ...]  # (order number, fulfillment id, units)


def pick_list(*, db: Database, actor: Actor, location: str) -> list[PickItem]:
    """What a location has to pick now: the units of its fulfillments still to pick
    (assigned, accepted or picking), by SKU, oldest order first within each."""
    actor.require(Permission.ORDERS_READ)
    with db.uow(write=False) as uow:
        loc = location_by_code(uow, location)
        actor.require_location(loc.id, loc.code)
        rows = uow.session.execute(
            select(
                OrderLine.sku,
                OrderLine.name,
                Order.number,
                OrderFulfillment.id,
                OrderAllocation.quantity - OrderAllocation.quantity_cancelled,
            )
            .join(OrderAllocation, OrderAllocation.order_line_id == OrderLine.id)
            .join(OrderFulfillment, OrderFulfillment.id == OrderAllocation.fulfillment_id)
            .join(Order, Order.id == OrderFulfillment.order_id)
            .where(
                OrderFulfillment.location_id == loc.id,
                OrderFulfillment.status.in_(("assigned", "accepted", "picking")),
                Order.status != OrderStatus.PENDING_PAYMENT,
            )
            .order_by(OrderLine.sku, Order.placed_at, Order.number)
        ).all()
    items: dict[str, tuple[str, list[tuple[str, str, int]]]] = {}
    for sku, name, number, fid, units in rows:
        if units > 0:
            items.setdefault(sku, (name, []))[1].append((format_number(number), str(fid), units))
    return [
        PickItem(sku, name, sum(u for _, _, u in orders), tuple(orders))
        for sku, (name, orders) in items.items()
    ]

"""Backorders: units no location could supply when the order was placed (a special order,
a channel that takes backorders) or after a rejection, routed again once stock arrives
(`POST /api/v1/orders/{id}/allocate`, and the order maintenance sweep)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import Order, OrderLine
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import Conflict, NotFound
from omnitill.domain.orders.lifecycle import OrderStatus
from omnitill.services.order_cancel import lines_of, refresh_status
from omnitill.services.order_reroute import reroute_units
from omnitill.services.order_views import OrderView, load_view


def allocate_backorders(
    *, db: Database, actor: Actor, order_id: uuid.UUID, now: datetime | None = None
) -> OrderView:
    """Route the order's backordered units against the stock as it is now (after a
    delivery, a transfer); what still finds no location stays backordered."""
    actor.require(Permission.ORDERS_FULFIL)
    at = now or utcnow()
    with db.uow() as uow:
        order = uow.session.get(Order, order_id, with_for_update=True)
        if order is None:
            raise NotFound("order.not_found", "no such order", {"id": str(order_id)})
        lines = {x.id: x for x in lines_of(uow, order)}
        waiting = {i: x.quantity_backordered for i, x in lines.items() if x.quantity_backordered}
        if not waiting:
            raise Conflict("order.nothing_backordered", "no units of this order wait for stock")
        for i in waiting:
            lines[i].quantity_backordered = 0
        reroute_units(uow, actor, order, waiting, lines, at, backorders=True)
        refresh_status(uow, order, at)
        uow.commit()
        return load_view(uow, order)


def backordered(*, db: Database) -> list[uuid.UUID]:
    """Orders with units waiting for stock, oldest first."""
    with db.uow(write=False) as uow:
        return list(
            uow.session.scalars(
                select(Order.id)
                .where(Order.status == OrderStatus.BACKORDERED)
                .order_by(Order.placed_at)
            )
        )


def waiting_units(*, db: Database, order_id: uuid.UUID) -> int:
    with db.uow(write=False) as uow:
        return sum(
            uow.session.scalars(
                select(OrderLine.quantity_backordered).where(OrderLine.order_id == order_id)
            )
        )

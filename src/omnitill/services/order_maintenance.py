"""The background work of orders, run by every hub process (safe in several at once: each
item is claimed under a row lock) and by `omnitill orders sweep`: remind and expire
uncollected pickups, follow parcels until they are delivered, and route backordered units
once stock has arrived for them."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from omnitill.adapters.db.database import Database
from omnitill.domain.auth.actor import Actor
from omnitill.domain.fulfillment.carrier import Carrier
from omnitill.domain.payments.gateway import PaymentGateway
from omnitill.services import order_backorders, order_service, shipments
from omnitill.services.auth import system_actor
from omnitill.services.pickups import CustomerNotifier

log = logging.getLogger("omnitill.orders")


@dataclass(frozen=True, slots=True)
class SweepResult:
    reminded: int
    expired: int
    tracked: int
    delivered: int
    allocated: int = 0  # backordered orders that got some of their units


def sweep(
    *,
    db: Database,
    gateway: PaymentGateway,
    carrier: Carrier,
    notifier: CustomerNotifier | None,
) -> SweepResult:
    actor = system_actor(db=db)
    reminded, expired = order_service.sweep_pickups(
        db=db, actor=actor, gateway=gateway, notifier=notifier
    )
    tracked = delivered = 0
    for number in shipments.in_transit(db=db):
        try:
            status = shipments.refresh(db=db, actor=actor, carrier=carrier, tracking_number=number)
        except Exception:  # one parcel's trouble never stops the others
            log.exception("tracking refresh failed", extra={"fields": {"tracking": number}})
            continue
        tracked += 1
        delivered += status == "delivered"
    return SweepResult(reminded, expired, tracked, delivered, _allocate(db, actor))


def _allocate(db: Database, actor: Actor) -> int:
    """Route the units of backordered orders against today's stock; count the orders that
    now hold more of their units."""
    allocated = 0
    for order_id in order_backorders.backordered(db=db):
        try:
            before = order_backorders.waiting_units(db=db, order_id=order_id)
            view = order_backorders.allocate_backorders(db=db, actor=actor, order_id=order_id)
        except Exception:  # one order's trouble never stops the others
            log.exception("backorder allocation failed", extra={"fields": {"order": str(order_id)}})
            continue
        allocated += sum(x.quantity_backordered for x in view.lines) < before
    return allocated

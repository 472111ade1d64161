"""The background work of orders, run by every hub process (safe in several at once: each
item is claimed under a row lock) and by `omnitill orders sweep`: remind and expire
uncollected pickups, and follow parcels until they are delivered."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from omnitill.adapters.db.database import Database
from omnitill.domain.fulfillment.carrier import Carrier
from omnitill.domain.payments.gateway import PaymentGateway
from omnitill.services import order_service, shipments
from omnitill.services.auth import system_actor
from omnitill.services.pickups import CustomerNotifier

log = logging.getLogger("omnitill.orders")


@dataclass(frozen=True, slots=True)
class SweepResult:
    reminded: int
    expired: int
    tracked: int
    delivered: int


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
    return SweepResult(reminded, expired, tracked, delivered)

"""One call writes an order's timeline entry and, when others must hear of it, its event.

The timeline (`order_events`) is the order's own append-only history; the outbox event
(DESIGN invariant 7) is what registers, the back office and webhooks receive, filtered by
the locations it names and the order's channel. Both are written in the caller's
transaction, so neither exists without the change it reports.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import Order, OrderEvent
from omnitill.domain.auth.actor import Actor
from omnitill.domain.ids import uuid7
from omnitill.domain.orders.lifecycle import format_number
from omnitill.services import events


def record(
    uow: UnitOfWork,
    order: Order,
    kind: str,
    *,
    actor: Actor | None,
    now: datetime,
    data: dict[str, Any] | None = None,
    fulfillment_id: uuid.UUID | None = None,
    location_id: uuid.UUID | None = None,
    publish: str | None = None,
    locations: Iterable[str] = (),
) -> None:
    """Append `kind` to the order's timeline; with `publish` (a topic such as
    ``order.ready_for_pickup``) also emit it to the outbox for `locations`."""
    body = dict(data or {})
    uow.session.add(
        OrderEvent(
            id=uuid7(),
            order_id=order.id,
            kind=kind,
            fulfillment_id=fulfillment_id,
            location_id=location_id,
            data=body,
            actor_id=actor.user_id if actor else None,
            created_at=now,
        )
    )
    if publish is None:
        return
    events.emit(
        uow,
        topic=publish,
        aggregate_type="order",
        aggregate_id=str(order.id),
        payload={
            "order_id": str(order.id),
            "number": format_number(order.number),
            "channel": order.channel,
            "status": order.status,
            **({"fulfillment_id": str(fulfillment_id)} if fulfillment_id else {}),
            **body,
        },
        locations=locations,
        channel=order.channel,
    )

"""The transactional outbox: an event is written in the same transaction as its change.

The relay (services/event_relay.py) later gives each committed event its publish-time
sequence number; streams, webhooks and other consumers read events in that order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.repositories import outbox as outbox_repo
from omnitill.adapters.db.types import utcnow
from omnitill.domain.ids import uuid7


def emit(
    uow: UnitOfWork,
    *,
    topic: str,
    aggregate_type: str,
    aggregate_id: str,
    payload: dict[str, Any],
    locations: Iterable[str] = (),
    channel: str | None = None,
) -> None:
    """Queue an event (``sale.completed``) to publish once the transaction commits.

    `locations` (location codes) and `channel` are what a live stream filters on: a
    register listening for S01 receives events that name S01.
    """
    outbox_repo.add(
        uow.connection,
        {
            "id": uuid7(),
            "topic": topic,
            "aggregate_type": aggregate_type,
            "aggregate_id": aggregate_id,
            "payload": payload,
            "location_codes": sorted(set(locations)),
            "channel": channel,
            "created_at": utcnow(),
        },
    )

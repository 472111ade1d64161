"""The transactional outbox: an event is written in the same transaction as its change."""

from __future__ import annotations

from typing import Any

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import OutboxEvent


def emit(
    uow: UnitOfWork,
    *,
    topic: str,
    aggregate_type: str,
    aggregate_id: str,
    payload: dict[str, Any],
) -> None:
    """Queue an event (``sale.completed``) to publish once the transaction commits."""
    uow.session.add(
        OutboxEvent(
            topic=topic,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            payload=payload,
        )
    )

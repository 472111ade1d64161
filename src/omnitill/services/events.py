"""The transactional outbox: an event is written in the same transaction as its change."""

from __future__ import annotations

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
) -> None:
    """Queue an event (``sale.completed``) to publish once the transaction commits."""
    outbox_repo.add(
        uow.connection,
        {
            "id": uuid7(),
            "topic": topic,
            "aggregate_type": aggregate_type,
            "aggregate_id": aggregate_id,
            "payload": payload,
            "created_at": utcnow(),
        },
    )

"""The outbox relay: gives committed events their publish-time sequence, then reads them.

Sequence numbers are assigned at publish time, not when the event is written: two
transactions may commit in the opposite order of their inserts, so a number taken at insert
could become visible after a higher one and a reader resuming "after 10" would skip 9 for
ever. The relay numbers events in one transaction while holding a lock (a transaction-scoped
advisory lock on PostgreSQL, the write lock on SQLite), so the numbers become visible in
order, with no gaps: a stream that resumes after N misses nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import OutboxEvent, table
from omnitill.adapters.db.types import utcnow

RELAY_LOCK = 0x6F6D6E69  # "omni": the advisory lock key of the relay on PostgreSQL
BATCH = 500

_OUTBOX = table(OutboxEvent)


@dataclass(frozen=True, slots=True)
class PublishedEvent:
    seq: int
    id: uuid.UUID
    topic: str
    aggregate_type: str
    aggregate_id: str
    payload: dict[str, Any]
    locations: tuple[str, ...]
    channel: str | None
    created_at: datetime
    published_at: datetime

    def envelope(self) -> dict[str, Any]:
        """The JSON body streams and webhooks send."""
        return {
            "id": str(self.id),
            "seq": self.seq,
            "type": self.topic,
            "aggregate_type": self.aggregate_type,
            "aggregate_id": self.aggregate_id,
            "occurred_at": self.created_at.isoformat(),
            "locations": list(self.locations),
            "channel": self.channel,
            "data": self.payload,
        }


def publish_pending(db: Database, *, limit: int = BATCH, now: datetime | None = None) -> int:
    """Number the committed, unpublished events (oldest first, at most `limit`); returns the
    last sequence number given, 0 when there was nothing to publish."""
    at = now or utcnow()
    with db.uow() as uow:
        conn = uow.connection
        if uow.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": RELAY_LOCK})
        ids = conn.scalars(
            select(_OUTBOX.c.id)
            .where(_OUTBOX.c.seq.is_(None))
            .order_by(_OUTBOX.c.created_at, _OUTBOX.c.id)
            .limit(limit)
        ).all()
        if not ids:
            return 0
        last = conn.scalar(select(func.coalesce(func.max(_OUTBOX.c.seq), 0))) or 0
        for i, event_id in enumerate(ids, start=1):
            conn.execute(
                update(_OUTBOX)
                .where(_OUTBOX.c.id == event_id)
                .values(seq=last + i, published_at=at)
            )
        uow.commit()
        return int(last + len(ids))


def last_seq(db: Database) -> int:
    """The highest published sequence number (0 before the first)."""
    with db.uow(write=False) as uow:
        return int(uow.connection.scalar(select(func.coalesce(func.max(_OUTBOX.c.seq), 0))) or 0)


def read_after(
    db: Database,
    *,
    after: int,
    limit: int = BATCH,
    topics: Collection[str] | None = None,
) -> list[PublishedEvent]:
    """Published events with a sequence number above `after`, in order."""
    query = select(_OUTBOX).where(_OUTBOX.c.seq > after).order_by(_OUTBOX.c.seq).limit(limit)
    if topics:
        query = query.where(_OUTBOX.c.topic.in_(sorted(topics)))
    with db.uow(write=False) as uow:
        rows = uow.connection.execute(query).mappings().all()
    return [_event(row) for row in rows]


def _event(row: Any) -> PublishedEvent:
    return PublishedEvent(
        seq=int(row["seq"]),
        id=row["id"],
        topic=row["topic"],
        aggregate_type=row["aggregate_type"],
        aggregate_id=row["aggregate_id"],
        payload=dict(row["payload"] or {}),
        locations=tuple(row["location_codes"] or ()),
        channel=row["channel"],
        created_at=row["created_at"],
        published_at=row["published_at"],
    )

"""The outbox relay: gives committed events their publish-time sequence, then reads them.

Sequence numbers are assigned at publish time, not when the event is written: two
transactions may commit in the opposite order of their inserts, so a number taken at insert
could become visible after a higher one and a reader resuming "after 10" would skip 9 for
ever. The relay numbers events in one transaction while holding a lock (a transaction-scoped
advisory lock on PostgreSQL, the write lock on SQLite), so the numbers become visible in
order, with no gaps: a stream that resumes after N misses nothing. Every hub process runs a
relay (services/event_hub.py); the lock makes them take turns.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, or_, select, text, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import EventCursor, OutboxEvent, table
from omnitill.adapters.db.types import utcnow
from omnitill.adapters.events.postgres import notify_events
from omnitill.domain.errors import FieldError, ValidationFailed

RELAY_LOCK = 0x6F6D6E69  # "omni": the advisory lock key of the relay on PostgreSQL
BATCH = 500
PREFIX_WILDCARD = ".*"

_OUTBOX = table(OutboxEvent)
_CURSORS = table(EventCursor)
_LAST_SEQ = select(func.coalesce(func.max(_OUTBOX.c.seq), 0))
_OLDEST_FIRST = (_OUTBOX.c.created_at, _OUTBOX.c.id)
# One statement numbers a batch: the oldest unpublished events get the numbers after the
# highest given, in order (UPDATE ... FROM ... RETURNING, on PostgreSQL and SQLite 3.35+).
_PENDING = (
    select(
        _OUTBOX.c.id,
        (_LAST_SEQ.scalar_subquery() + func.row_number().over(order_by=_OLDEST_FIRST)).label("seq"),
    )
    .where(_OUTBOX.c.seq.is_(None))
    .order_by(*_OLDEST_FIRST)
    .limit(bindparam("batch"))
    .subquery("pending")
)
_NUMBER = (
    update(_OUTBOX)
    .values(seq=_PENDING.c.seq, published_at=bindparam("at"))
    .where(_OUTBOX.c.id == _PENDING.c.id)
    .returning(_OUTBOX.c.seq)
)


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


@dataclass(frozen=True, slots=True)
class TopicFilter:
    """Topics a reader wants: exact names (``sale.completed``) and prefixes, written with a
    trailing ``.*`` (``order.*`` matches ``order.placed`` and ``order.line.cancelled``).
    Empty: every topic."""

    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, patterns: Collection[str], *, field: str = "topics") -> TopicFilter:
        """Read patterns; 422 `events.invalid_topic` naming every bad one."""
        exact: set[str] = set()
        prefixes: set[str] = set()
        problems = []
        for pattern in patterns:
            name = pattern.removesuffix(PREFIX_WILDCARD)
            if not _is_topic(name):
                problems.append(
                    FieldError(
                        field,
                        "events.invalid_topic",
                        f"{pattern!r} is not a topic (order.placed) or a prefix (order.*)",
                    )
                )
            elif name != pattern:
                prefixes.add(name + ".")
            else:
                exact.add(name)
        if problems:
            raise ValidationFailed(
                "events.invalid_topic", "some topics are not valid", errors=problems
            )
        return cls(frozenset(exact), tuple(sorted(prefixes)))

    @property
    def everything(self) -> bool:
        return not self.exact and not self.prefixes

    def matches(self, topic: str) -> bool:
        return self.everything or topic in self.exact or topic.startswith(self.prefixes)

    def clause(self) -> ColumnElement[bool]:
        """The same test as SQL on `outbox_events.topic`."""
        if self.everything:
            return true()
        tests: list[ColumnElement[bool]] = []
        if self.exact:
            tests.append(_OUTBOX.c.topic.in_(sorted(self.exact)))
        for prefix in self.prefixes:
            tests.append(_OUTBOX.c.topic.startswith(prefix, autoescape=True))
        return or_(*tests)


def _is_topic(name: str) -> bool:
    parts = name.split(".")
    return 0 < len(name) <= 80 and all(
        part and all(c.isascii() and (c.isalnum() or c in "_-") for c in part) for part in parts
    )


def publish_pending(db: Database, *, limit: int = BATCH, now: datetime | None = None) -> int:
    """Number the committed, unpublished events (oldest first, at most `limit`); returns the
    last sequence number given, 0 when there was nothing to publish. On PostgreSQL the same
    transaction notifies ``omnitill_events`` with that number, so every hub reads them."""
    return publish_batch(db, limit=limit, now=now).last


@dataclass(frozen=True, slots=True)
class Published:
    last: int  # the last sequence number given (0: none)
    count: int  # events numbered; below the limit means none were left


def publish_batch(db: Database, *, limit: int = BATCH, now: datetime | None = None) -> Published:
    """`publish_pending`, also telling how many events it numbered."""
    at = now or utcnow()
    with db.uow() as uow:
        conn = uow.connection
        postgres = uow.dialect == "postgresql"
        if postgres:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": RELAY_LOCK})
        numbers = conn.scalars(_NUMBER, {"batch": limit, "at": at}).all()
        if not numbers:
            return Published(0, 0)
        last = max(numbers)
        if postgres:
            conn.execute(select(notify_events(last)))
        uow.commit()
        return Published(last, len(numbers))


def last_seq(db: Database) -> int:
    """The highest published sequence number (0 before the first)."""
    with db.uow(write=False) as uow:
        return int(uow.connection.scalar(_LAST_SEQ) or 0)


def read_after(
    db: Database,
    *,
    after: int,
    limit: int = BATCH,
    topics: Collection[str] | TopicFilter | None = None,
) -> list[PublishedEvent]:
    """Published events with a sequence number above `after`, in order. `topics` are exact
    names, or a TopicFilter (which also takes prefixes)."""
    query = select(_OUTBOX).where(_OUTBOX.c.seq > after).order_by(_OUTBOX.c.seq).limit(limit)
    if isinstance(topics, TopicFilter):
        if not topics.everything:
            query = query.where(topics.clause())
    elif topics:
        query = query.where(_OUTBOX.c.topic.in_(sorted(topics)))
    with db.uow(write=False) as uow:
        rows = uow.connection.execute(query).mappings().all()
    return [_event(row) for row in rows]


def cursor_position(db: Database, *, name: str) -> int | None:
    """How far the consumer `name` has read; None if it never has."""
    with db.uow(write=False) as uow:
        found = uow.connection.scalar(select(_CURSORS.c.last_seq).where(_CURSORS.c.name == name))
    return None if found is None else int(found)


def advance_cursor(db: Database, *, name: str, seq: int) -> None:
    """Move the consumer `name` forward to `seq`; never backwards, so two processes
    forwarding the same events cannot undo each other."""
    with db.uow() as uow:
        upsert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
        stmt = upsert(_CURSORS).values(name=name, last_seq=seq, updated_at=utcnow())
        uow.connection.execute(
            stmt.on_conflict_do_update(
                index_elements=["name"],
                set_={"last_seq": stmt.excluded.last_seq, "updated_at": stmt.excluded.updated_at},
                where=_CURSORS.c.last_seq < stmt.excluded.last_seq,
            )
        )
        uow.commit()


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


__all__: Sequence[str] = (
    "BATCH",
    "PublishedEvent",
    "TopicFilter",
    "advance_cursor",
    "cursor_position",
    "last_seq",
    "publish_batch",
    "publish_pending",
    "read_after",
)

"""Fixed-window rate limits kept in the database, so every API process shares them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, case
from sqlalchemy.dialects import postgresql, sqlite

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import RateLimit, table
from omnitill.domain.errors import TooManyRequests

_limits = table(RateLimit)


def hit(db: Database, *, key: str, limit: int, window: timedelta, now: datetime, what: str) -> None:
    """Count one attempt for `key`; 429 `rate_limited` past `limit` attempts in `window`.

    One upsert in its own committed transaction (the attempt counts even when the request
    fails afterwards): a new window starts at 1, a running one counts up, and concurrent
    attempts from several processes are counted exactly.
    """
    with db.uow() as uow:
        count, started = _count(uow.connection, key, window, now)
        uow.commit()
    if count > limit:
        retry_after = max(1, int((started + window - now).total_seconds()) + 1)
        raise TooManyRequests(
            "rate_limited",
            f"too many {what}; try again in {retry_after} s",
            {"retry_after": retry_after, "limit": limit},
        )


def _count(conn: Connection, key: str, window: timedelta, now: datetime) -> tuple[int, datetime]:
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(_limits).values(key=key, window_started_at=now, count=1)
    expired = _limits.c.window_started_at <= now - window
    stmt = stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={
            "count": case((expired, 1), else_=_limits.c.count + 1),
            "window_started_at": case((expired, now), else_=_limits.c.window_started_at),
        },
    ).returning(_limits.c.count, _limits.c.window_started_at)
    count, started = conn.execute(stmt).one()
    return int(count), started

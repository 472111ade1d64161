"""The transactional outbox table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert

from omnitill.adapters.db.models import OutboxEvent, table

_INSERT = insert(table(OutboxEvent))


def add(conn: Connection, event: dict[str, Any]) -> None:
    conn.execute(_INSERT, event)

"""Gapless human numbers for documents (PO-000123, TR-000045, CC-000007)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from omnitill.adapters.db.models import DocumentSequence, table

_sequences = table(DocumentSequence)


def _next(dialect: Any) -> Any:
    stmt = dialect.insert(_sequences).values(value=1)
    return stmt.on_conflict_do_update(
        index_elements=["name"], set_={"value": _sequences.c.value + 1}
    ).returning(_sequences.c.value)


_NEXT = {"postgresql": _next(postgresql), "sqlite": _next(sqlite)}


def next_value(conn: Connection, name: str) -> int:
    """Increment the counter `name` (created at 1), its row locked until commit: a rolled
    back document gives its number back, so numbers have no gaps."""
    return int(conn.execute(_NEXT[conn.dialect.name], {"name": name}).scalar_one())


def next_number(conn: Connection, name: str, prefix: str) -> str:
    """The next document number, such as `PO-000123`."""
    return f"{prefix}-{next_value(conn, name):06d}"

"""What an attacker with direct database access does: bypass the append-only triggers.

Tests use it to prove `audit verify` and `stock verify` catch tampering that the database's
own guards were switched off for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, create_engine, text

LEDGERS = ("audit_entries", "stock_movements", "sale_payments")


def sqlite_drop_guards_sql() -> str:
    return ";".join(
        f"DROP TRIGGER IF EXISTS {name}_no_{action}"
        for name in LEDGERS
        for action in ("update", "delete")
    )


@contextmanager
def attacker(url: str) -> Iterator[Connection]:
    """A connection in a transaction with the ledgers' append-only triggers out of the way."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                # Superuser-only: row triggers do not fire for a replication-role session.
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            else:
                for statement in sqlite_drop_guards_sql().split(";"):
                    conn.execute(text(statement))
            yield conn
    finally:
        engine.dispose()

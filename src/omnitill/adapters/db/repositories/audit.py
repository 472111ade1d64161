"""Prebuilt statements for appending to the hash-chained audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, insert, update
from sqlalchemy.dialects import postgresql, sqlite

from omnitill.adapters.db.models import AuditChain, AuditEntry, table
from omnitill.domain.audit.chain import GENESIS_HASH

_chains = table(AuditChain)
_BUMP = (
    update(_chains)
    .where(_chains.c.chain == bindparam("c"))
    .values(last_seq=_chains.c.last_seq + 1)
    .returning(_chains.c.last_seq, _chains.c.last_hash)
)
_SET_HASH = (
    update(_chains).where(_chains.c.chain == bindparam("c")).values(last_hash=bindparam("h"))
)
_INSERT_ENTRY = insert(table(AuditEntry))
_OPEN_CHAIN = {
    name: dialect.insert(_chains)
    .values(chain=bindparam("c"), last_seq=0, last_hash=GENESIS_HASH)
    .on_conflict_do_nothing(index_elements=["chain"])
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def advance_head(conn: Connection, chain: str) -> tuple[int, str]:
    """Take the chain's next seq and the previous hash, locking its head until commit."""
    row = conn.execute(_BUMP, {"c": chain}).one_or_none()
    if row is None:
        conn.execute(_OPEN_CHAIN[conn.dialect.name], {"c": chain})
        row = conn.execute(_BUMP, {"c": chain}).one()
    return int(row[0]), str(row[1])


def append(conn: Connection, entry: dict[str, Any]) -> None:
    """Write the entry and move the chain's head hash to it."""
    conn.execute(_INSERT_ENTRY, entry)
    conn.execute(_SET_HASH, {"c": entry["chain"], "h": entry["hash"]})

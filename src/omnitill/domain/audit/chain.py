"""The hash chain behind the tamper-evident audit trail.

Each entry's hash covers its own content and the previous entry's hash in the same chain, so
altering, reordering or deleting an entry breaks every later link. Entries are numbered per
chain without gaps; a missing number is reported as a missing entry. The hash is SHA-256 over a
canonical JSON form (sorted keys, no whitespace), so it does not depend on the database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """The hashed content of one audit entry, as stored."""

    chain: str
    seq: int
    id: str
    at: str  # ISO 8601 UTC with microseconds
    actor: str | None
    action: str
    subject_type: str
    subject_id: str | None
    details: dict[str, Any]
    prev_hash: str


def entry_hash(record: AuditRecord) -> str:
    """SHA-256 hex of the record's canonical JSON form."""
    body = {
        "chain": record.chain,
        "seq": record.seq,
        "id": record.id,
        "at": record.at,
        "actor": record.actor,
        "action": record.action,
        "subject_type": record.subject_type,
        "subject_id": record.subject_id,
        "details": record.details,
        "prev_hash": record.prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first entry at which a chain stops verifying, and why."""

    chain: str
    seq: int
    entry_id: str | None
    reason: str  # "altered", "missing", "relinked", "head_mismatch"


def verify_chain(
    chain: str,
    records: Iterable[tuple[AuditRecord, str]],
    *,
    head_seq: int,
    head_hash: str,
) -> ChainBreak | None:
    """Check `(record, stored_hash)` pairs in seq order against the chain's recorded head.

    Returns the first break, or None when every entry from 1 to `head_seq` is present, links to
    its predecessor and hashes to what was stored.
    """
    expected_seq = 1
    prev = GENESIS_HASH
    for record, stored in records:
        if record.seq != expected_seq:
            return ChainBreak(chain, expected_seq, None, "missing")
        if record.prev_hash != prev:
            return ChainBreak(chain, record.seq, record.id, "relinked")
        if entry_hash(record) != stored:
            return ChainBreak(chain, record.seq, record.id, "altered")
        prev = stored
        expected_seq += 1
    if expected_seq - 1 != head_seq:
        return ChainBreak(chain, expected_seq, None, "missing")
    if prev != head_hash:
        return ChainBreak(chain, head_seq, None, "head_mismatch")
    return None

"""Append to and verify the hash-chained audit trail.

`record` runs inside the caller's unit of work, so an audited change and its entry commit
together or not at all. Each chain is appended under a row lock on its head, so concurrent
writers cannot fork it. Sales use one chain per register (already serialised by the receipt
counter), everything else the ``main`` chain, so audited checkout does not contend estate-wide.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import AuditChain, AuditEntry
from omnitill.adapters.db.repositories import audit as audit_repo
from omnitill.adapters.db.types import utcnow
from omnitill.domain.audit.chain import (
    AuditRecord,
    ChainBreak,
    entry_hash,
    verify_chain,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.ids import uuid7

MAIN_CHAIN = "main"


def record(
    uow: UnitOfWork,
    *,
    action: str,
    actor: Actor | str | None,
    subject_type: str,
    subject_id: str | None,
    details: dict[str, Any] | None = None,
    chain: str = MAIN_CHAIN,
) -> AuditRecord:
    """Append one entry to `chain` in the caller's transaction; returns what was hashed."""
    seq, prev_hash = audit_repo.advance_head(uow.connection, chain)
    entry_id = uuid7()
    at = utcnow()
    rec = AuditRecord(
        chain=chain,
        seq=seq,
        id=str(entry_id),
        at=at.isoformat(timespec="microseconds"),
        actor=actor.username if isinstance(actor, Actor) else actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        details=dict(details or {}),
        prev_hash=prev_hash,
    )
    audit_repo.append(
        uow.connection,
        {
            "id": entry_id,
            "chain": chain,
            "seq": seq,
            "at": at,
            "actor": rec.actor,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "details": rec.details,
            "prev_hash": prev_hash,
            "hash": entry_hash(rec),
        },
    )
    return rec


def as_record(entry: AuditEntry) -> AuditRecord:
    """The hashed content of a stored entry."""
    return AuditRecord(
        chain=entry.chain,
        seq=entry.seq,
        id=str(entry.id),
        at=entry.at.isoformat(timespec="microseconds"),
        actor=entry.actor,
        action=entry.action,
        subject_type=entry.subject_type,
        subject_id=entry.subject_id,
        details=entry.details,
        prev_hash=entry.prev_hash,
    )


def verify(*, db: Database) -> list[ChainBreak]:
    """The first break of every chain that does not verify; empty when the trail is intact."""
    breaks: list[ChainBreak] = []
    with db.uow(write=False) as uow:
        heads = uow.session.scalars(select(AuditChain).order_by(AuditChain.chain)).all()
        known = {h.chain for h in heads}
        orphan_chains = uow.session.scalars(
            select(AuditEntry.chain).distinct().where(AuditEntry.chain.not_in(known))
        ).all()
        for chain in orphan_chains:
            breaks.append(ChainBreak(chain, 0, None, "head_missing"))
        for head in heads:
            entries = uow.session.scalars(
                select(AuditEntry).where(AuditEntry.chain == head.chain).order_by(AuditEntry.seq)
            )
            found = verify_chain(
                head.chain,
                ((as_record(e), e.hash) for e in entries),
                head_seq=head.last_seq,
                head_hash=head.last_hash,
            )
            if found is not None:
                breaks.append(found)
    return breaks

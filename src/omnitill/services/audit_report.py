"""Figures about the audit trail for operators (`omnitill audit verify`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import AuditChain, AuditEntry


@dataclass(frozen=True, slots=True)
class AuditSummary:
    """How much of the trail there is: stored entries and chain heads."""

    entries: int
    chains: int


def summary(*, db: Database) -> AuditSummary:
    """Count the stored audit entries and the chains they belong to."""
    with db.uow(write=False) as uow:
        entries = uow.session.scalar(select(func.count()).select_from(AuditEntry)) or 0
        chains = uow.session.scalar(select(func.count()).select_from(AuditChain)) or 0
    return AuditSummary(entries=int(entries), chains=int(chains))

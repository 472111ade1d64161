"""The back office's audit trail viewer: entries newest first, filtered by action, actor
and subject, with page numbers. Reading the trail needs `audit.read`; checking it is
services/audit.verify, the same as `omnitill audit verify`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import AuditEntry
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission

PER_PAGE = 50


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: uuid.UUID
    chain: str
    seq: int
    at: datetime
    actor: str | None
    action: str
    subject_type: str
    subject_id: str | None
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AuditList:
    items: tuple[AuditRow, ...]
    page: int
    has_next: bool


def find_entries(
    *,
    db: Database,
    actor: Actor,
    action: str = "",
    by: str = "",
    subject: str = "",
    page: int = 1,
) -> AuditList:
    """Entries newest first. `action` matches an exact action or a prefix ending in a dot
    (`catalog.` for every catalog action); `by` the acting username; `subject` the subject
    id, or the subject type."""
    actor.require(Permission.AUDIT_READ)
    page = max(page, 1)
    stmt = select(AuditEntry)
    if action:
        if action.endswith("."):
            stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True))
        else:
            stmt = stmt.where(AuditEntry.action == action)
    if by:
        stmt = stmt.where(AuditEntry.actor == by.strip().lower())
    if subject:
        stmt = stmt.where(or_(AuditEntry.subject_id == subject, AuditEntry.subject_type == subject))
    stmt = (
        stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE + 1)
    )
    with db.uow(write=False) as uow:
        rows = [
            AuditRow(
                e.id,
                e.chain,
                e.seq,
                e.at,
                e.actor,
                e.action,
                e.subject_type,
                e.subject_id,
                dict(e.details or {}),
            )
            for e in uow.session.scalars(stmt)
        ]
    return AuditList(tuple(rows[:PER_PAGE]), page, len(rows) > PER_PAGE)

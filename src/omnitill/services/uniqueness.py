"""Unique values (codes, SKUs, e-mails) lost to a concurrent writer answer like any clash.

Services check uniqueness up front for a clear 409; two writers can still pass the check
together, and then the database's unique index refuses the second at flush. This turns that
refusal into the same 409 the check gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError

from omnitill.adapters.db.database import UnitOfWork
from omnitill.domain.errors import Conflict, FieldError


def taken(code: str, field: str, message: str, details: dict[str, Any] | None = None) -> Conflict:
    """The 409 for a value already in use, naming the field."""
    return Conflict(code, message, details, errors=[FieldError(field, code, message)])


def flush_unique(uow: UnitOfWork, clashes: Mapping[str, Conflict]) -> None:
    """Flush; a unique index on `table.column` (a key of `clashes`) raises its Conflict.

    SQLite names the column (``table.column``) in its message, PostgreSQL the constraint
    (``uq_table_column``, our naming convention).
    """
    try:
        uow.session.flush()
    except IntegrityError as exc:
        message = str(exc.orig)
        for column, conflict in clashes.items():
            if column in message or f"uq_{column.replace('.', '_')}" in message:
                raise conflict from exc
        raise

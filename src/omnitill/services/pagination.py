"""Opaque cursors for keyset pagination: base64url of the last row's sort key."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, select

from omnitill.domain.errors import FieldError, ValidationFailed

if TYPE_CHECKING:
    from omnitill.adapters.db.database import UnitOfWork

M = TypeVar("M")

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


def encode_cursor(key: dict[str, Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """The sort key a cursor carries, or `pagination.invalid_cursor`."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise _invalid() from exc
    if not isinstance(value, dict):
        raise _invalid()
    return value


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if limit < 1 or limit > MAX_LIMIT:
        raise ValidationFailed(
            "pagination.invalid_limit",
            f"limit must be between 1 and {MAX_LIMIT}",
            errors=[FieldError("limit", "pagination.invalid_limit", f"1..{MAX_LIMIT}")],
        )
    return limit


def _invalid() -> ValidationFailed:
    return ValidationFailed(
        "pagination.invalid_cursor",
        "the cursor is not one this API issued",
        errors=[FieldError("cursor", "pagination.invalid_cursor", "unreadable cursor")],
    )


def cursor_uuid(after: dict[str, Any], key: str = "id") -> uuid.UUID:
    """The UUID a keyset cursor carries under `key`, or `pagination.invalid_cursor`."""
    try:
        return uuid.UUID(str(after[key]))
    except (KeyError, ValueError) as exc:
        raise _invalid() from exc


def cursor_value(cursor: str | None, key: str) -> str | None:
    """The text sort key a cursor carries under `key` (None for the first page)."""
    after = decode_cursor(cursor)
    if after is None:
        return None
    value = after.get(key)
    if not isinstance(value, str):
        raise _invalid()
    return value


def cursor_id(cursor: str | None) -> uuid.UUID | None:
    """The UUID sort key a cursor carries under ``id`` (None for the first page)."""
    after = decode_cursor(cursor)
    return None if after is None else cursor_uuid(after)


def page_by_key(
    uow: UnitOfWork,
    model: type[M],
    key: str,
    *,
    cursor: str | None,
    limit: int | None,
    where: Sequence[ColumnElement[bool]] = (),
) -> tuple[list[M], str | None]:
    """One page of `model` rows matching `where`, in order of their unique column `key`
    (keyset paging: the cursor holds the last key seen), and the next page's cursor."""
    size = clamp_limit(limit)
    after = cursor_value(cursor, key)
    column = getattr(model, key)
    stmt = select(model).where(*where).order_by(column).limit(size + 1)
    if after is not None:
        stmt = stmt.where(column > after)
    rows = list(uow.session.scalars(stmt))
    more = len(rows) > size
    rows = rows[:size]
    return rows, encode_cursor({key: getattr(rows[-1], key)}) if more and rows else None


def check_status_filter(status: str | None, allowed: Iterable[str], code: str) -> None:
    """A list's `status=` filter must name one of `allowed` (422 `code` naming `status`)."""
    choices = sorted(str(s) for s in allowed)
    if status is not None and status not in choices:
        raise ValidationFailed(
            code,
            f"{status!r} is not one of {', '.join(choices)}",
            {"statuses": choices},
            errors=[FieldError("status", code, "unknown status")],
        )

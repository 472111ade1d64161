"""Idempotency keys: the first response to a mutating request is stored and replayed.

Follows the IETF httpapi Idempotency-Key draft: the same key with the same request replays the
stored response; with a different request it is refused (422); while the first request is still
running a second one gets 409. Keys live `idempotency_ttl_hours` (at least 24). A key whose
first attempt died mid-flight (process killed) may be taken over after a timeout.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import IdempotencyKey
from omnitill.adapters.db.types import utcnow
from omnitill.config import Settings
from omnitill.domain.errors import Conflict, FieldError, ValidationFailed
from omnitill.domain.payments import gift_cards as gift_card_rules


@dataclass(frozen=True, slots=True)
class Proceed:
    record_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Replay:
    status: int
    content_type: str
    body: str


def validate_key(key: str) -> str:
    if not 1 <= len(key) <= 255 or not key.isprintable():
        raise ValidationFailed(
            "idempotency.invalid_key",
            "Idempotency-Key must be 1 to 255 printable characters",
            errors=[FieldError("Idempotency-Key", "idempotency.invalid_key", "1..255 chars")],
        )
    return key


def begin(
    *,
    db: Database,
    settings: Settings,
    scope: str,
    key: str,
    method: str,
    path: str,
    request_hash: str,
) -> Proceed | Replay:
    """Claim `key` for this request, or answer with what the first request got."""
    validate_key(key)
    now = utcnow()
    ttl = timedelta(hours=max(settings.idempotency_ttl_hours, 24))
    for _attempt in range(3):
        with db.uow() as uow:
            existing = uow.session.scalars(
                select(IdempotencyKey)
                .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
                .with_for_update()
            ).one_or_none()
            if existing is None:
                record = IdempotencyKey(
                    scope=scope,
                    key=key,
                    method=method,
                    path=path,
                    request_hash=request_hash,
                    state="in_flight",
                    expires_at=now + ttl,
                )
                uow.session.add(record)
                try:
                    uow.commit()
                except IntegrityError:
                    continue  # a concurrent request claimed it first; look again
                return Proceed(record.id)
            if existing.expires_at <= now:
                uow.session.delete(existing)
                uow.commit()
                continue
            if existing.request_hash != request_hash:
                raise ValidationFailed(
                    "idempotency.key_reused",
                    "this Idempotency-Key was used with a different request",
                    {"key": key},
                )
            if existing.state == "done":
                return Replay(
                    existing.response_status or 200,
                    existing.response_content_type or "application/json",
                    existing.response_body or "",
                )
            stale = now - existing.created_at > timedelta(
                seconds=settings.idempotency_in_flight_timeout_seconds
            )
            if not stale:
                raise Conflict(
                    "idempotency.request_in_flight",
                    "a request with this Idempotency-Key is still being processed",
                    {"key": key, "retry_after": 1},
                )
            existing.created_at = now
            uow.commit()
            return Proceed(existing.id)
    raise Conflict("idempotency.request_in_flight", "could not claim the Idempotency-Key")


def finish(
    *, db: Database, record_id: uuid.UUID, status: int, content_type: str, body: str
) -> None:
    """Store the response so later requests with the key replay it, its secrets left out
    (`without_secrets`)."""
    with db.uow() as uow:
        record = uow.session.get(IdempotencyKey, record_id)
        if record is not None:
            record.state = "done"
            record.response_status = status
            record.response_content_type = content_type
            record.response_body = without_secrets(body, content_type)
        uow.commit()


SECRET_KEYS = frozenset({"access_token", "override_token"})


def without_secrets(body: str, content_type: str) -> str:
    """A JSON answer with its bearer secrets nulled: sign-in and override tokens, and gift
    card numbers. They are shown once, in the first answer, and never kept (only their
    digests are), so a replay shows them as null."""
    if "json" not in content_type:
        return body
    try:
        data = json.loads(body)
    except ValueError:
        return body
    cleaned, changed = _clean(data)
    return json.dumps(cleaned) if changed else body


def _clean(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        changed = False
        for key, item in value.items():
            if key in SECRET_KEYS or (key == "code" and _is_gift_card_number(item)):
                out[key], changed = None, changed or item is not None
            else:
                out[key], sub = _clean(item)
                changed = changed or sub
        return out, changed
    if isinstance(value, list):
        cleaned = [_clean(item) for item in value]
        return [c for c, _ in cleaned], any(ch for _, ch in cleaned)
    return value, False


def _is_gift_card_number(value: Any) -> bool:
    return (
        isinstance(value, str)
        and value.startswith(gift_card_rules.PREFIX + "-")
        and gift_card_rules.canonical(value) is not None
    )


def release(*, db: Database, record_id: uuid.UUID) -> None:
    """Forget a key whose request failed on our side (5xx), so the client may retry it."""
    with db.uow() as uow:
        uow.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == record_id))
        uow.commit()


def purge_expired(*, db: Database) -> int:
    """Delete expired keys; returns how many."""
    with db.uow() as uow:
        result = uow.session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.expires_at <= utcnow())
        )
        uow.commit()
        return int(getattr(result, "rowcount", 0) or 0)

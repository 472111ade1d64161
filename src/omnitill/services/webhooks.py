"""Webhook subscriptions: an endpoint URL, the event types it receives and its signing secret.

The secret (``whsec_...``) is shown in full only when the subscription is created and when
it is rotated; reads never return it. Every change is audited (never with the secret).

- A URL must be absolute http(s) (422 `webhook.invalid_url` naming `url`); with
  `webhook_allow_private_urls` off, it must also resolve to public addresses only.
- Disabling (by hand, or automatically after failing too long: services/webhook_attempts.py)
  cancels the pending deliveries; `recover` queues them again once the endpoint is enabled.
  Enabling clears the failure state (`failing_since`, `consecutive_failures`).
- Deleting keeps the row as `deleted` (its delivery log is append-only and references it):
  the secret is erased, pending deliveries are cancelled, and the API answers 404 for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from omnitill.adapters.db.types import utcnow
from omnitill.adapters.webhooks.http import private_addresses
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import FieldError, NotFound, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.integrations.webhook_rules import (
    TOPICS,
    DeliveryStatus,
    SubscriptionStatus,
    check_known,
    clean_event_types,
    family,
    is_pattern,
)
from omnitill.domain.integrations.webhooks import check_url, new_secret
from omnitill.services import audit
from omnitill.services.pagination import (
    check_status_filter,
    clamp_limit,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
)

MAX_URL = 2000
MAX_DESCRIPTION = 200


@dataclass(frozen=True, slots=True)
class WebhookView:
    id: uuid.UUID
    url: str
    description: str
    event_types: tuple[str, ...]
    status: str
    disabled_reason: str | None
    failing_since: datetime | None
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime
    secret: str | None = None  # only on create and rotate


@dataclass(frozen=True, slots=True)
class WebhookChanges:
    """What a PATCH sends; None leaves a field as it is."""

    url: str | None = None
    description: str | None = None
    event_types: Sequence[str] | None = None
    status: str | None = None  # enabled | disabled


def create(
    *,
    db: Database,
    actor: Actor,
    url: str,
    description: str = "",
    event_types: Sequence[str] = (),
    allow_private_urls: bool = True,
) -> WebhookView:
    """Subscribe an endpoint to event types ([] = every event); answers with its secret."""
    actor.require(Permission.WEBHOOKS_MANAGE)
    endpoint = check_endpoint(url, allow_private=allow_private_urls)
    text = _check_description(description)
    types = clean_event_types(event_types)
    with db.uow() as uow:
        check_known(types, seen=_seen_topics(uow, types))
        now = utcnow()
        sub = WebhookSubscription(
            id=uuid7(),
            url=endpoint,
            description=text,
            event_types=list(types),
            secret=new_secret(),
            status=SubscriptionStatus.ENABLED.value,
            consecutive_failures=0,
            actor_id=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(sub)
        uow.session.flush()
        audit.record(
            uow,
            action="webhook.created",
            actor=actor,
            subject_type="webhook",
            subject_id=str(sub.id),
            details={"url": endpoint, "event_types": list(types), "description": text},
        )
        uow.commit()
        return _view(sub, with_secret=True)


def find(
    *,
    db: Database,
    actor: Actor,
    status: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[WebhookView], str | None]:
    """Subscriptions, newest first, optionally by status; one page."""
    actor.require(Permission.WEBHOOKS_MANAGE)
    page = clamp_limit(limit)
    after = decode_cursor(cursor)
    check_status_filter(
        status,
        [SubscriptionStatus.ENABLED, SubscriptionStatus.DISABLED],
        "webhook.invalid_status",
    )
    stmt = (
        select(WebhookSubscription)
        .where(WebhookSubscription.status != SubscriptionStatus.DELETED.value)
        .order_by(WebhookSubscription.id.desc())
        .limit(page + 1)
    )
    if status is not None:
        stmt = stmt.where(WebhookSubscription.status == status)
    if after is not None:
        stmt = stmt.where(WebhookSubscription.id < cursor_uuid(after))
    with db.uow(write=False) as uow:
        rows = list(uow.session.scalars(stmt))
    items = [_view(s) for s in rows[:page]]
    more = len(rows) > page
    return items, encode_cursor({"id": str(items[-1].id)}) if more else None


def get(*, db: Database, actor: Actor, webhook_id: uuid.UUID) -> WebhookView:
    """One subscription, without its secret (404 `webhook.not_found`)."""
    actor.require(Permission.WEBHOOKS_MANAGE)
    with db.uow(write=False) as uow:
        return _view(subscription(uow, webhook_id))


def update_subscription(
    *,
    db: Database,
    actor: Actor,
    webhook_id: uuid.UUID,
    changes: WebhookChanges,
    allow_private_urls: bool = True,
) -> WebhookView:
    """Change the URL, description, event types or status; only what is sent changes."""
    actor.require(Permission.WEBHOOKS_MANAGE)
    endpoint = (
        check_endpoint(changes.url, allow_private=allow_private_urls)
        if changes.url is not None
        else None
    )
    text = _check_description(changes.description) if changes.description is not None else None
    types = clean_event_types(changes.event_types) if changes.event_types is not None else None
    if changes.status is not None and changes.status not in (
        SubscriptionStatus.ENABLED,
        SubscriptionStatus.DISABLED,
    ):
        raise ValidationFailed(
            "webhook.invalid_status",
            "status is enabled or disabled",
            errors=[FieldError("status", "webhook.invalid_status", "enabled or disabled")],
        )
    with db.uow() as uow:
        if types is not None:
            check_known(types, seen=_seen_topics(uow, types))
        sub = subscription(uow, webhook_id, lock=True)
        now = utcnow()
        details: dict[str, Any] = {}
        for name, value in (("url", endpoint), ("description", text)):
            if value is not None and value != getattr(sub, name):
                details[name] = {"from": getattr(sub, name), "to": value}
                setattr(sub, name, value)
        if types is not None and list(types) != list(sub.event_types):
            details["event_types"] = {"from": list(sub.event_types), "to": list(types)}
            sub.event_types = list(types)
        if changes.status is not None and changes.status != sub.status:
            details["status"] = {"from": sub.status, "to": changes.status}
            if changes.status == SubscriptionStatus.ENABLED:
                enable(sub)
            else:
                details["cancelled_deliveries"] = disable(
                    uow, sub, reason=f"disabled by {actor.username}", now=now
                )
        if details:
            sub.updated_at = now
            audit.record(
                uow,
                action="webhook.changed",
                actor=actor,
                subject_type="webhook",
                subject_id=str(sub.id),
                details=details,
            )
        uow.commit()
        return _view(sub)


def rotate_secret(*, db: Database, actor: Actor, webhook_id: uuid.UUID) -> WebhookView:
    """A new signing secret, in effect from the next attempt; answers with it."""
    actor.require(Permission.WEBHOOKS_MANAGE)
    with db.uow() as uow:
        sub = subscription(uow, webhook_id, lock=True)
        sub.secret = new_secret()
        sub.updated_at = utcnow()
        audit.record(
            uow,
            action="webhook.secret_rotated",
            actor=actor,
            subject_type="webhook",
            subject_id=str(sub.id),
            details={"url": sub.url},
        )
        uow.commit()
        return _view(sub, with_secret=True)


def delete(*, db: Database, actor: Actor, webhook_id: uuid.UUID) -> None:
    """Stop the subscription for good: its pending deliveries are cancelled, its secret
    erased; the delivery log stays in the database (see the module docstring)."""
    actor.require(Permission.WEBHOOKS_MANAGE)
    with db.uow() as uow:
        sub = subscription(uow, webhook_id, lock=True)
        now = utcnow()
        cancelled = stop_deliveries(uow, sub.id, now=now)
        sub.status = SubscriptionStatus.DELETED.value
        sub.secret = ""
        sub.updated_at = now
        audit.record(
            uow,
            action="webhook.deleted",
            actor=actor,
            subject_type="webhook",
            subject_id=str(sub.id),
            details={"url": sub.url, "cancelled_deliveries": cancelled},
        )
        uow.commit()


# --- shared with the dispatcher and the delivery log -------------------------------------


def subscription(
    uow: UnitOfWork, webhook_id: uuid.UUID, *, lock: bool = False
) -> WebhookSubscription:
    """The subscription (not deleted), locked for update when asked; 404 otherwise."""
    stmt = select(WebhookSubscription).where(
        WebhookSubscription.id == webhook_id,
        WebhookSubscription.status != SubscriptionStatus.DELETED.value,
    )
    sub = uow.session.scalars(stmt.with_for_update() if lock else stmt).one_or_none()
    if sub is None:
        raise NotFound(
            "webhook.not_found", f"no webhook subscription {webhook_id}", {"id": str(webhook_id)}
        )
    return sub


def enable(sub: WebhookSubscription) -> None:
    """Enabled again with a clean slate: failures before this no longer count."""
    sub.status = SubscriptionStatus.ENABLED.value
    sub.disabled_reason = None
    sub.failing_since = None
    sub.consecutive_failures = 0


def disable(uow: UnitOfWork, sub: WebhookSubscription, *, reason: str, now: datetime) -> int:
    """Disable the subscription with `reason`; returns how many deliveries were cancelled."""
    sub.status = SubscriptionStatus.DISABLED.value
    sub.disabled_reason = reason[:MAX_DESCRIPTION]
    sub.updated_at = now
    return stop_deliveries(uow, sub.id, now=now)


def stop_deliveries(uow: UnitOfWork, subscription_id: uuid.UUID, *, now: datetime) -> int:
    """Cancel the subscription's pending deliveries and drop its queued replays; returns
    how many were cancelled."""
    cancelled = uow.connection.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
        )
        .values(status=DeliveryStatus.CANCELLED.value, next_attempt_at=None, updated_at=now)
    ).rowcount
    uow.connection.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.next_attempt_at.is_not(None),
        )
        .values(next_attempt_at=None, updated_at=now)
    )
    return int(cancelled)


def check_endpoint(url: str, *, allow_private: bool) -> str:
    """An absolute http(s) URL; with private addresses refused, one whose host resolves to
    public addresses only (422 `webhook.private_url`, `webhook.unresolvable_url`)."""
    endpoint = check_url(url)
    if len(endpoint) > MAX_URL:
        raise _bad_url("webhook.invalid_url", f"at most {MAX_URL} characters", url)
    if allow_private:
        return endpoint
    try:
        private = private_addresses(endpoint)
    except OSError as exc:
        raise _bad_url("webhook.unresolvable_url", "the host does not resolve", url) from exc
    if private:
        raise _bad_url(
            "webhook.private_url", "the host has private addresses: " + ", ".join(private), url
        )
    return endpoint


def _bad_url(code: str, message: str, url: str) -> ValidationFailed:
    return ValidationFailed(code, message, {"url": url}, errors=[FieldError("url", code, message)])


def _check_description(text: str) -> str:
    if len(text.strip()) > MAX_DESCRIPTION:
        raise ValidationFailed(
            "webhook.description_too_long",
            f"a description is at most {MAX_DESCRIPTION} characters",
            errors=[FieldError("description", "webhook.description_too_long", "too long")],
        )
    return text.strip()


def _seen_topics(uow: UnitOfWork, event_types: Sequence[str]) -> set[str]:
    """Topics the outbox has seen among those `event_types` name that `TOPICS` lacks."""
    listed = set(TOPICS)
    families = {family(t) for t in listed}
    seen: set[str] = set()
    for wanted in event_types:
        if (family(wanted) in families) if is_pattern(wanted) else (wanted in listed):
            continue
        column = OutboxEvent.topic
        condition = (
            column.startswith(wanted[:-1], autoescape=True)
            if is_pattern(wanted)
            else (column == wanted)
        )
        found = uow.session.scalars(select(column).where(condition).limit(1)).first()
        if found is not None:
            seen.add(found)
    return seen


def _view(sub: WebhookSubscription, *, with_secret: bool = False) -> WebhookView:
    return WebhookView(
        id=sub.id,
        url=sub.url,
        description=sub.description,
        event_types=tuple(sub.event_types or ()),
        status=sub.status,
        disabled_reason=sub.disabled_reason,
        failing_since=sub.failing_since,
        consecutive_failures=sub.consecutive_failures,
        created_at=sub.created_at,
        updated_at=sub.updated_at,
        secret=sub.secret if with_secret else None,
    )

"""A subscription's delivery log (deliveries and every attempt), and replaying from it.

- `replay` sends one delivery again now, whatever its status, inside the request: one
  attempt (logged `replay`) outside the retry schedule. A success marks the delivery
  succeeded; a failure leaves its status as it was (a pending delivery keeps its schedule).
- `recover` queues a replay of every failed or cancelled delivery of the endpoint created
  since a time; the dispatcher sends them (logged `replay`), one attempt each.

Both need the endpoint enabled (409 `webhook.disabled`): enable it first, which clears its
failure state. Both are audited. The `webhook-id` of a replay is the event id, as on every
attempt, so a receiver that already has the event drops it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from omnitill.adapters.db.types import utcnow
from omnitill.config import Settings
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from omnitill.domain.integrations.webhook_rules import (
    DeliveryStatus,
    SubscriptionStatus,
    Trigger,
)
from omnitill.services import audit
from omnitill.services.pagination import (
    check_status_filter,
    clamp_limit,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
)
from omnitill.services.webhook_attempts import (
    Job,
    claim,
    claim_query,
    client_for,
    event_envelope,
    perform,
)
from omnitill.services.webhooks import subscription

CLAIM_TRIES = 3
_D = WebhookDelivery


@dataclass(frozen=True, slots=True)
class AttemptView:
    attempt: int
    trigger: str
    status_code: int | None
    response_excerpt: str
    error: str | None
    duration_ms: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryView:
    id: uuid.UUID
    webhook_id: uuid.UUID
    event_id: uuid.UUID
    topic: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime
    attempt_log: tuple[AttemptView, ...] = ()
    payload: dict[str, Any] | None = None  # the body sent (one delivery's view only)


def find_deliveries(
    *,
    db: Database,
    actor: Actor,
    webhook_id: uuid.UUID,
    status: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[DeliveryView], str | None]:
    """The subscription's deliveries, newest first, optionally by status; one page."""
    actor.require(Permission.WEBHOOKS_MANAGE)
    page = clamp_limit(limit)
    after = decode_cursor(cursor)
    check_status_filter(status, DeliveryStatus, "webhook.invalid_delivery_status")
    stmt = select(_D).where(_D.subscription_id == webhook_id).order_by(_D.id.desc()).limit(page + 1)
    if status is not None:
        stmt = stmt.where(_D.status == status)
    if after is not None:
        stmt = stmt.where(_D.id < cursor_uuid(after))
    with db.uow(write=False) as uow:
        subscription(uow, webhook_id)
        rows = list(uow.session.scalars(stmt))
    items = [_view(d) for d in rows[:page]]
    more = len(rows) > page
    return items, encode_cursor({"id": str(items[-1].id)}) if more else None


def get_delivery(
    *, db: Database, actor: Actor, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryView:
    """One delivery with every attempt and the body it sends (404 `webhook.delivery_not_found`)."""
    actor.require(Permission.WEBHOOKS_MANAGE)
    with db.uow(write=False) as uow:
        subscription(uow, webhook_id)
        delivery = _delivery(uow, webhook_id, delivery_id)
        seq = uow.session.scalar(select(OutboxEvent.seq).where(OutboxEvent.id == delivery.event_id))
        attempts = uow.session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.attempt, WebhookAttempt.created_at)
        ).all()
    payload = event_envelope(db, event_id=delivery.event_id, seq=int(seq)) if seq else None
    return _view(delivery, attempts=attempts, payload=payload)


def replay(
    *,
    db: Database,
    actor: Actor,
    settings: Settings,
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
    now: datetime | None = None,
) -> DeliveryView:
    """Send the delivery again now (one attempt, logged `replay`); answers with its log."""
    actor.require(Permission.WEBHOOKS_MANAGE)
    at = now or utcnow()
    job = _claim_replay(db, actor, webhook_id, delivery_id, at)
    perform(
        db,
        job,
        client=client_for(settings),
        disable_after=timedelta(hours=settings.webhook_disable_after_hours),
        now=at,
    )
    return get_delivery(db=db, actor=actor, webhook_id=webhook_id, delivery_id=delivery_id)


def recover(
    *,
    db: Database,
    actor: Actor,
    webhook_id: uuid.UUID,
    since: datetime,
    now: datetime | None = None,
) -> int:
    """Queue a replay of every failed or cancelled delivery created since `since`; how
    many were queued (those already queued are not counted again)."""
    actor.require(Permission.WEBHOOKS_MANAGE)
    at = now or utcnow()
    if since.tzinfo is None or since > at:
        raise ValidationFailed(
            "webhook.invalid_since",
            "since is a past time with a UTC offset",
            {"since": since.isoformat()},
            errors=[FieldError("since", "webhook.invalid_since", "a past, offset-aware time")],
        )
    with db.uow() as uow:
        sub = _enabled(uow, webhook_id)
        queued = uow.connection.execute(
            update(_D)
            .where(
                _D.subscription_id == sub.id,
                _D.status.in_([DeliveryStatus.FAILED, DeliveryStatus.CANCELLED]),
                _D.created_at >= since,
                _D.next_attempt_at.is_(None),
            )
            .values(next_attempt_at=at, updated_at=at)
        ).rowcount
        audit.record(
            uow,
            action="webhook.recovered",
            actor=actor,
            subject_type="webhook",
            subject_id=str(sub.id),
            details={"since": since.isoformat(), "queued": int(queued)},
        )
        uow.commit()
    return int(queued)


def _claim_replay(
    db: Database, actor: Actor, webhook_id: uuid.UUID, delivery_id: uuid.UUID, now: datetime
) -> Job:
    for _ in range(CLAIM_TRIES):  # another attempt may be claimed between read and claim
        with db.uow() as uow:
            _enabled(uow, webhook_id)
            _delivery(uow, webhook_id, delivery_id)
            row = uow.connection.execute(claim_query().where(_D.id == delivery_id)).one()
            job = claim(uow, row, trigger=Trigger.REPLAY, now=now, lease_until=None)
            if job is None:
                continue
            audit.record(
                uow,
                action="webhook.delivery_replayed",
                actor=actor,
                subject_type="webhook",
                subject_id=str(webhook_id),
                details={"delivery": str(delivery_id), "attempt": job.attempt},
            )
            uow.commit()
            return job
    raise Conflict(
        "webhook.delivery_busy",
        "the delivery is being attempted right now; try again",
        {"delivery": str(delivery_id)},
    )


def _enabled(uow: UnitOfWork, webhook_id: uuid.UUID) -> WebhookSubscription:
    sub = subscription(uow, webhook_id, lock=True)
    if sub.status != SubscriptionStatus.ENABLED:
        raise Conflict(
            "webhook.disabled",
            "the endpoint is disabled; enable it first",
            {"id": str(webhook_id), "reason": sub.disabled_reason},
        )
    return sub


def _delivery(uow: UnitOfWork, webhook_id: uuid.UUID, delivery_id: uuid.UUID) -> WebhookDelivery:
    delivery = uow.session.get(_D, delivery_id)
    if delivery is None or delivery.subscription_id != webhook_id:
        raise NotFound(
            "webhook.delivery_not_found",
            f"no delivery {delivery_id} for this webhook",
            {"id": str(delivery_id)},
        )
    return delivery


def _view(
    d: WebhookDelivery,
    *,
    attempts: Sequence[WebhookAttempt] = (),
    payload: dict[str, Any] | None = None,
) -> DeliveryView:
    return DeliveryView(
        id=d.id,
        webhook_id=d.subscription_id,
        event_id=d.event_id,
        topic=d.topic,
        status=d.status,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        delivered_at=d.delivered_at,
        created_at=d.created_at,
        updated_at=d.updated_at,
        attempt_log=tuple(
            AttemptView(
                attempt=a.attempt,
                trigger=a.trigger,
                status_code=a.status_code,
                response_excerpt=a.response_excerpt,
                error=a.error,
                duration_ms=a.duration_ms,
                created_at=a.created_at,
            )
            for a in attempts
        ),
        payload=payload,
    )

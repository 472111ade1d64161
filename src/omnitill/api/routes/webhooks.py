"""Webhook subscriptions, the delivery log, replays and recovery."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from omnitill.api.deps import Cursor, DbDep, Limit, SettingsDep, require
from omnitill.api.schemas.webhooks import (
    AttemptRead,
    DeliveryDetail,
    DeliveryPage,
    DeliveryRead,
    RecoverRead,
    RecoverRequest,
    WebhookCreate,
    WebhookPage,
    WebhookRead,
    WebhookUpdate,
    WebhookWithSecret,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.services import webhook_log, webhooks

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
Manager = Annotated[Actor, Depends(require(Permission.WEBHOOKS_MANAGE))]
StatusFilter = Annotated[str | None, Query(alias="status", description="Only this status.")]


def _read(view: webhooks.WebhookView) -> WebhookRead:
    return WebhookRead(
        id=str(view.id),
        url=view.url,
        description=view.description,
        event_types=list(view.event_types),
        status=view.status,
        disabled_reason=view.disabled_reason,
        failing_since=view.failing_since,
        consecutive_failures=view.consecutive_failures,
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


def _with_secret(view: webhooks.WebhookView) -> WebhookWithSecret:
    assert view.secret is not None
    return WebhookWithSecret(**_read(view).model_dump(), secret=view.secret)


def _delivery(view: webhook_log.DeliveryView) -> DeliveryRead:
    return DeliveryRead(
        id=str(view.id),
        webhook_id=str(view.webhook_id),
        event_id=str(view.event_id),
        topic=view.topic,
        status=view.status,
        attempts=view.attempts,
        next_attempt_at=view.next_attempt_at,
        last_status_code=view.last_status_code,
        last_error=view.last_error,
        delivered_at=view.delivered_at,
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


def _detail(view: webhook_log.DeliveryView) -> DeliveryDetail:
    return DeliveryDetail(
        **_delivery(view).model_dump(),
        payload=view.payload,
        attempt_log=[
            AttemptRead(
                attempt=a.attempt,
                trigger=a.trigger,
                status_code=a.status_code,
                response_excerpt=a.response_excerpt,
                error=a.error,
                duration_ms=a.duration_ms,
                created_at=a.created_at,
            )
            for a in view.attempt_log
        ],
    )


@router.post(
    "",
    response_model=WebhookWithSecret,
    status_code=status.HTTP_201_CREATED,
    summary="Subscribe an endpoint to events",
    responses={
        422: {
            "description": "`webhook.invalid_url` (not http(s)), `webhook.private_url`, "
            "`webhook.invalid_event_type`, `webhook.unknown_event_type`."
        }
    },
)
def create_webhook(
    body: WebhookCreate, actor: Manager, db: DbDep, settings: SettingsDep
) -> WebhookWithSecret:
    """The answer holds the signing secret; it is not shown again (rotate to get a new one)."""
    view = webhooks.create(
        db=db,
        actor=actor,
        url=body.url,
        description=body.description,
        event_types=body.event_types,
        allow_private_urls=settings.webhook_allow_private_urls,
    )
    return _with_secret(view)


@router.get("", response_model=WebhookPage, summary="List webhook subscriptions")
def list_webhooks(
    actor: Manager,
    db: DbDep,
    status_: StatusFilter = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> WebhookPage:
    """Newest first; `status` is enabled or disabled. Secrets are never listed."""
    views, next_cursor = webhooks.find(
        db=db, actor=actor, status=status_, cursor=cursor, limit=limit
    )
    return WebhookPage(items=[_read(v) for v in views], next_cursor=next_cursor)


@router.get("/{webhook_id}", response_model=WebhookRead, summary="One webhook subscription")
def get_webhook(webhook_id: uuid.UUID, actor: Manager, db: DbDep) -> WebhookRead:
    """Its status, failure state and event types (without the secret)."""
    return _read(webhooks.get(db=db, actor=actor, webhook_id=webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookRead, summary="Change a subscription")
def update_webhook(
    webhook_id: uuid.UUID,
    body: WebhookUpdate,
    actor: Manager,
    db: DbDep,
    settings: SettingsDep,
) -> WebhookRead:
    """Only the fields sent change. Disabling cancels the pending deliveries; enabling
    clears the failure state."""
    view = webhooks.update_subscription(
        db=db,
        actor=actor,
        webhook_id=webhook_id,
        changes=webhooks.WebhookChanges(
            url=body.url,
            description=body.description,
            event_types=body.event_types,
            status=body.status,
        ),
        allow_private_urls=settings.webhook_allow_private_urls,
    )
    return _read(view)


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a subscription",
)
def delete_webhook(webhook_id: uuid.UUID, actor: Manager, db: DbDep) -> Response:
    """Nothing more is sent; pending deliveries are cancelled and the secret erased. The
    delivery log is kept (append-only) but no longer reachable through the API."""
    webhooks.delete(db=db, actor=actor, webhook_id=webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id}/rotate-secret",
    response_model=WebhookWithSecret,
    summary="Replace the signing secret",
)
def rotate_secret(webhook_id: uuid.UUID, actor: Manager, db: DbDep) -> WebhookWithSecret:
    """Every attempt from now on is signed with the new secret, shown only in this answer."""
    return _with_secret(webhooks.rotate_secret(db=db, actor=actor, webhook_id=webhook_id))


@router.get(
    "/{webhook_id}/deliveries",
    response_model=DeliveryPage,
    summary="The delivery log of a subscription",
)
def list_deliveries(
    webhook_id: uuid.UUID,
    actor: Manager,
    db: DbDep,
    status_: StatusFilter = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> DeliveryPage:
    """Newest first; `status` is pending, succeeded, failed or cancelled."""
    views, next_cursor = webhook_log.find_deliveries(
        db=db, actor=actor, webhook_id=webhook_id, status=status_, cursor=cursor, limit=limit
    )
    return DeliveryPage(items=[_delivery(v) for v in views], next_cursor=next_cursor)


@router.get(
    "/{webhook_id}/deliveries/{delivery_id}",
    response_model=DeliveryDetail,
    summary="One delivery with its attempts",
)
def get_delivery(
    webhook_id: uuid.UUID, delivery_id: uuid.UUID, actor: Manager, db: DbDep
) -> DeliveryDetail:
    """The body sent and every attempt: status code, start of the answer, error, duration."""
    return _detail(
        webhook_log.get_delivery(db=db, actor=actor, webhook_id=webhook_id, delivery_id=delivery_id)
    )


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/replay",
    response_model=DeliveryDetail,
    summary="Send one delivery again now",
    responses={
        409: {"description": "`webhook.disabled` (enable it first), `webhook.delivery_busy`."}
    },
)
def replay_delivery(
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
    actor: Manager,
    db: DbDep,
    settings: SettingsDep,
) -> DeliveryDetail:
    """One attempt (logged `replay`) made during this request, whatever the delivery's
    status; a success marks it succeeded, a failure leaves its status as it was."""
    view = webhook_log.replay(
        db=db, actor=actor, settings=settings, webhook_id=webhook_id, delivery_id=delivery_id
    )
    return _detail(view)


@router.post(
    "/{webhook_id}/recover",
    response_model=RecoverRead,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Replay every failed delivery since a time",
    responses={409: {"description": "`webhook.disabled` (enable it first)."}},
)
def recover(webhook_id: uuid.UUID, body: RecoverRequest, actor: Manager, db: DbDep) -> RecoverRead:
    """Failed and cancelled deliveries created since `since` are queued; the dispatcher
    sends each once more (logged `replay`)."""
    queued = webhook_log.recover(db=db, actor=actor, webhook_id=webhook_id, since=body.since)
    return RecoverRead(queued=queued)

"""Back-office webhooks: subscriptions (list, create, disable or enable) and one
subscription's delivery log with replay, through services/webhooks.py and
services/webhook_log.py with `webhooks.manage`, as /api/v1/webhooks and its deliveries.

The signing secret is shown once, on the page the creation redirects to (as the API answers
it once); it travels in the redirect's notice, never stored in the page or a cookie.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from omnitill.api.deps import DbDep, SettingsDep
from omnitill.api.routes.admin_common import AdminActor, AdminRoute, PostedForm, page, redirect
from omnitill.api.routes.admin_forms import choice
from omnitill.domain.auth.permissions import Permission
from omnitill.services import webhook_log, webhooks

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AdminRoute)

DELIVERY_STATUSES = ("pending", "succeeded", "failed", "cancelled")


@router.get("/webhooks", response_class=HTMLResponse)
def subscriptions(
    request: Request, actor: AdminActor, db: DbDep, cursor: str | None = None
) -> Response:
    """Subscriptions with their status and failures, and the form for a new one."""
    found, next_cursor = webhooks.find(db=db, actor=actor, cursor=cursor)
    return page(
        request,
        actor,
        "webhooks.html",
        title="Webhooks",
        found=found,
        next_link=f"/admin/webhooks?cursor={next_cursor}" if next_cursor else "",
    )


@router.post("/webhooks")
def create_subscription(
    actor: AdminActor, form: PostedForm, db: DbDep, settings: SettingsDep
) -> Response:
    """A subscription to the listed event types (none: every event)."""
    topics = [t.strip() for t in form.get("event_types").replace(",", " ").split() if t.strip()]
    view = webhooks.create(
        db=db,
        actor=actor,
        url=form.get("url"),
        description=form.get("description"),
        event_types=topics,
        allow_private_urls=settings.webhook_allow_private_urls,
    )
    return redirect(
        f"/admin/webhooks/{view.id}",
        notice=f"Subscription created. Signing secret (shown once): {view.secret}",
    )


@router.get("/webhooks/{webhook_id}", response_class=HTMLResponse)
def subscription_page(
    request: Request,
    webhook_id: uuid.UUID,
    actor: AdminActor,
    db: DbDep,
    status: str = "",
    cursor: str | None = None,
) -> Response:
    """A subscription and its deliveries, newest first, each replayable."""
    view = webhooks.get(db=db, actor=actor, webhook_id=webhook_id)
    deliveries, next_cursor = webhook_log.find_deliveries(
        db=db,
        actor=actor,
        webhook_id=webhook_id,
        status=status if status in DELIVERY_STATUSES else None,
        cursor=cursor,
    )
    base = f"/admin/webhooks/{webhook_id}?status={status}"
    return page(
        request,
        actor,
        "webhook.html",
        title=view.url,
        hook=view,
        deliveries=deliveries,
        status=status,
        statuses=DELIVERY_STATUSES,
        next_link=f"{base}&cursor={next_cursor}" if next_cursor else "",
    )


@router.post("/webhooks/{webhook_id}/status")
def set_status(
    webhook_id: uuid.UUID, actor: AdminActor, form: PostedForm, db: DbDep, settings: SettingsDep
) -> Response:
    """Disable (pending deliveries cancelled) or enable (failure state cleared)."""
    actor.require(Permission.WEBHOOKS_MANAGE)
    wanted = choice(form.get("status"), ("enabled", "disabled"), field="status")
    webhooks.update_subscription(
        db=db,
        actor=actor,
        webhook_id=webhook_id,
        changes=webhooks.WebhookChanges(status=wanted),
        allow_private_urls=settings.webhook_allow_private_urls,
    )
    return redirect(f"/admin/webhooks/{webhook_id}", notice=f"Subscription {wanted}.")


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/replay")
def replay(
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
    actor: AdminActor,
    _form: PostedForm,
    db: DbDep,
    settings: SettingsDep,
) -> Response:
    """Send a delivery again, as POST .../deliveries/{id}/replay."""
    webhook_log.replay(
        db=db, actor=actor, settings=settings, webhook_id=webhook_id, delivery_id=delivery_id
    )
    return redirect(f"/admin/webhooks/{webhook_id}", notice="Delivery queued again.")

"""Back-office order pages: the list (filtered by status, channel and location), one order
with its timeline and routing explanation, and the fulfillment actions as buttons.

A button posts to a page route that calls the same service as the API route
(POST /api/v1/orders/{id}/fulfillments/{fid}/{step}, .../ship, /orders/{id}/cancel) with
the same permission (`orders.fulfil`, `orders.cancel`); a refused step (409) comes back to
the order page with its reason.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from omnitill.api.deps import DbDep, GatewayDep, NotifierDep
from omnitill.api.routes.admin_common import AdminActor, AdminRoute, PostedForm, page, redirect
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.orders.lifecycle import RULES, OrderStatus, Step
from omnitill.services import locations as location_service
from omnitill.services import order_service
from omnitill.services import order_views as views

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AdminRoute)

# The steps the order page offers as buttons, in the order a location does them.
BUTTON_STEPS = (Step.ACCEPT, Step.PICK, Step.PACK, Step.READY, Step.SHIP)
STATUSES = tuple(s.value for s in OrderStatus)
CHANNELS = ("in_store", "web", "marketplace", "social", "phone")


def offered_steps(status: str, method: str) -> list[str]:
    """The buttons a fulfillment in `status` by `method` can take now (domain rules)."""
    return [
        step.value
        for step in BUTTON_STEPS
        if status in RULES[step].sources
        and (RULES[step].methods is None or method in (RULES[step].methods or ()))
    ]


@router.get("/orders", response_class=HTMLResponse)
def orders(
    request: Request,
    actor: AdminActor,
    db: DbDep,
    status: str = "",
    channel: str = "",
    location: str = "",
    number: str = "",
    cursor: str | None = None,
) -> Response:
    """Newest first, one page, as GET /api/v1/orders (`orders.read`)."""
    actor.require(Permission.ORDERS_READ)
    items, next_cursor = views.find(
        db=db,
        actor=actor,
        number=number or None,
        status=status or None,
        channel=channel or None,
        location=location or None,
        cursor=cursor,
        limit=50,
    )
    stores = location_service.list_locations(db=db, actor=actor, cursor=None, limit=200).items
    filters = {"status": status, "channel": channel, "location": location, "number": number}
    return page(
        request,
        actor,
        "orders.html",
        title="Orders",
        orders=items,
        next_cursor=next_cursor,
        filters=filters,
        statuses=STATUSES,
        channels=CHANNELS,
        stores=[s.code for s in stores],
    )


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(request: Request, order_id: uuid.UUID, actor: AdminActor, db: DbDep) -> Response:
    """Lines, fulfillments with their buttons, payments, timeline, routing explanation."""
    actor.require(Permission.ORDERS_READ)
    order = views.get(db=db, actor=actor, order_id=order_id)
    steps = {f.id: offered_steps(f.status, f.method) for f in order.fulfillments}
    return page(
        request,
        actor,
        "order.html",
        title=f"Order {order.number}",
        order=order,
        steps=steps,
        cancellable=order.status not in {"completed", "cancelled"},
    )


@router.post("/orders/{order_id}/fulfillments/{fulfillment_id}/{step}")
def fulfillment_step(
    order_id: uuid.UUID,
    fulfillment_id: uuid.UUID,
    step: str,
    actor: AdminActor,
    form: PostedForm,
    db: DbDep,
    gateway: GatewayDep,
    notifier: NotifierDep,
) -> Response:
    """Accept, pick, pack, ready or ship one location's part (`orders.fulfil`)."""
    actor.require(Permission.ORDERS_FULFIL)
    chosen = next((s for s in BUTTON_STEPS if s.value == step), None)
    if chosen is None:
        raise ValidationFailed(
            "admin.unknown_step",
            f"{step} is not a fulfillment step",
            errors=[FieldError("step", "admin.unknown_step", "not a step")],
        )
    order_service.advance(
        db=db,
        actor=actor,
        gateway=gateway,
        order_id=order_id,
        fulfillment_id=fulfillment_id,
        step=chosen,
        note=form.get("note"),
        notifier=notifier,
    )
    return redirect(f"/admin/orders/{order_id}", notice=f"Step done: {chosen.value}.")


@router.post("/orders/{order_id}/cancel")
def cancel_order(
    order_id: uuid.UUID, actor: AdminActor, form: PostedForm, db: DbDep, gateway: GatewayDep
) -> Response:
    """Cancel everything not yet shipped (`orders.cancel`); a reason is required."""
    actor.require(Permission.ORDERS_CANCEL)
    reason = form.get("reason")
    if not reason:
        raise ValidationFailed(
            "admin.reason_required",
            "say why the order is cancelled",
            errors=[FieldError("reason", "admin.reason_required", "required")],
        )
    order_service.cancel(db=db, actor=actor, gateway=gateway, order_id=order_id, reason=reason)
    return redirect(f"/admin/orders/{order_id}", notice="Order cancelled.")

"""A location rejects its part of an order, and the order finds another; cancellations.

Rejection (the item is not on the shelf): the rejected units' reservation is released and
they are routed again with every (location, line) pair the order's locations have refused,
so the router never offers a line back to a location that refused it. What no other
location can take is backordered when the channel allows it, else cancelled (and the card
is charged that much less). Pickup lines stay at the customer's store: a rejection there
cannot move them.

Cancellation, of the whole order or some units of some lines, is allowed until the units
are shipped or handed over (409 `order.already_shipped`): backordered units go first, then
units held at locations, whose reservations shrink to what is left.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Channel,
    Location,
    Order,
    OrderAllocation,
    OrderEvent,
    OrderFulfillment,
    OrderLine,
)
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from omnitill.domain.fulfillment.routing_model import OrderLine as RoutingLine
from omnitill.domain.orders.lifecycle import (
    HANDED_OVER,
    FulfillmentStatus,
    OrderStatus,
    Step,
    check_step,
)
from omnitill.services import order_routing, order_timeline
from omnitill.services.order_cancel import (
    allocations_of,
    held_units,
    lines_of,
    location_code,
    refresh_status,
    refs_for,
    release,
    release_and_cancel,
    shrink,
    units_by_variant,
)
from omnitill.services.order_steps import locked
from omnitill.services.order_views import OrderView, load_view


def reject(
    *,
    db: Database,
    actor: Actor,
    order_id: uuid.UUID,
    fulfillment_id: uuid.UUID,
    reason: str,
    line_numbers: Sequence[int] = (),
    now: datetime | None = None,
) -> tuple[OrderView, bool]:
    """Reject the fulfillment (or only `line_numbers` of it) and route those units again.
    Returns the order and whether units were cancelled (the caller settles the payment)."""
    actor.require(Permission.ORDERS_FULFIL)
    if not reason.strip():
        raise ValidationFailed(
            "order.reason_required",
            "say why the location rejects it",
            errors=[FieldError("reason", "order.reason_required", "required")],
        )
    at = now or utcnow()
    with db.uow() as uow:
        order, fulfillment = locked(uow, actor, order_id, fulfillment_id)
        check_step(Step.REJECT, status=fulfillment.status, method=fulfillment.method)
        allocations = allocations_of(uow, fulfillment)
        lines = {x.id: x for x in lines_of(uow, order)}
        chosen = _chosen(allocations, lines, line_numbers)
        code = location_code(uow, fulfillment.location_id)
        moving = {a.order_line_id: a.quantity - a.quantity_cancelled for a in chosen}
        for a in chosen:
            a.quantity_cancelled = a.quantity
        remaining = units_by_variant(uow, allocations)
        if any(remaining.values()):
            shrink(uow, fulfillment, remaining, actor=actor, now=at)
        else:
            release(uow, fulfillment, actor=actor, now=at)
            fulfillment.status = FulfillmentStatus.REJECTED
            fulfillment.reject_reason = reason.strip()[:200]
        fulfillment.updated_at = at
        rejected_lines = sorted(lines[i].line_no for i in moving)
        order_timeline.record(
            uow,
            order,
            "rejected",
            actor=actor,
            now=at,
            fulfillment_id=fulfillment.id,
            location_id=fulfillment.location_id,
            data={"location": code, "reason": reason.strip(), "lines": rejected_lines},
            publish="order.rejected",
            locations=[code],
        )
        cancelled = reroute_units(uow, actor, order, moving, lines, at)
        refresh_status(uow, order, at)
        uow.commit()
        return load_view(uow, order), cancelled


def _chosen(
    allocations: list[OrderAllocation], lines: dict[uuid.UUID, OrderLine], numbers: Sequence[int]
) -> list[OrderAllocation]:
    live = [a for a in allocations if a.quantity > a.quantity_cancelled]
    if not numbers:
        return live
    chosen = [a for a in live if lines[a.order_line_id].line_no in set(numbers)]
    missing = sorted(set(numbers) - {lines[a.order_line_id].line_no for a in chosen})
    if missing:
        raise ValidationFailed(
            "order.line_not_in_fulfillment",
            "some lines are not part of this fulfillment",
            {"lines": missing},
            errors=[FieldError("lines", "order.line_not_in_fulfillment", str(missing))],
        )
    return chosen


def _refusals(uow: UnitOfWork, order: Order) -> set[tuple[str, str]]:
    """(location code, line key) pairs this order's locations have rejected."""
    pairs: set[tuple[str, str]] = set()
    for data in uow.session.scalars(
        select(OrderEvent.data).where(
            OrderEvent.order_id == order.id, OrderEvent.kind == "rejected"
        )
    ):
        for line_no in data.get("lines", []):
            pairs.add((data["location"], str(int(line_no) - 1)))
    return pairs


def reroute_units(
    uow: UnitOfWork,
    actor: Actor,
    order: Order,
    moving: dict[uuid.UUID, int],
    lines: dict[uuid.UUID, OrderLine],
    at: datetime,
    *,
    backorders: bool | None = None,
) -> bool:
    """Route `moving` (order line id -> units) again; True when some had to be cancelled.
    Units no location takes are backordered when `backorders` (None: when the channel or
    the order's kind allows it), else cancelled."""
    ship = order.ship_to or {}
    pickup_id = next((x.pickup_location_id for x in lines.values() if x.pickup_location_id), None)
    pickup = uow.session.get(Location, pickup_id) if pickup_id else None
    routing_lines = [
        RoutingLine(str(lines[i].line_no - 1), str(lines[i].variant_id), n, lines[i].method)
        for i, n in moving.items()
        if n > 0
    ]
    if not routing_lines:
        return False
    result = order_routing.plan(
        uow,
        lines=routing_lines,
        target=order_routing.Target(
            country=ship.get("country"),
            region=ship.get("region") or None,
            latitude=ship.get("latitude"),
            longitude=ship.get("longitude"),
            pickup_location=pickup.code if pickup else None,
        ),
        now=at,
        rejected=_refusals(uow, order),
    )
    by_key = {str(x.line_no - 1): x for x in lines.values()}
    made = order_routing.book(
        uow,
        actor=actor,
        order_id=order.id,
        result=result,
        lines=by_key,
        refs={r.id: r for r in refs_for(uow, sorted({x.variant_id for x in lines.values()}))},
        now=at,
    )
    order.routing = result.explanation.as_dict()
    if backorders is None:
        backorders = order.kind == "special_order" or bool(
            uow.session.scalar(
                select(Channel.allows_backorder).where(Channel.code == order.channel)
            )
        )
    short = [
        {"line_no": int(s.line_key) + 1, "quantity": s.short, "reason": s.reason}
        for s in result.short_lines
    ]
    for s in result.short_lines:
        line = by_key[s.line_key]
        if backorders:
            line.quantity_backordered += s.short
        else:
            line.quantity_cancelled += s.short
    codes = [location_code(uow, f.location_id) for f in made]
    order_timeline.record(
        uow,
        order,
        "rerouted",
        actor=actor,
        now=at,
        data={
            "summary": result.explanation.summary,
            "assignments": [
                {"location": c, "method": f.method} for c, f in zip(codes, made, strict=True)
            ],
            "backordered" if backorders else "cancelled": short,
        },
        publish="order.assigned" if made else None,
        locations=codes,
    )
    return bool(short) and not backorders


@dataclass(frozen=True, slots=True)
class CancelLine:
    line_no: int
    quantity: int


def cancel(
    *,
    db: Database,
    actor: Actor,
    order_id: uuid.UUID,
    reason: str,
    lines: Sequence[CancelLine] = (),
    now: datetime | None = None,
) -> OrderView:
    """Cancel the order, or `lines` of it (see the module doc); the caller settles payment."""
    actor.require(Permission.ORDERS_CANCEL)
    if not reason.strip():
        raise ValidationFailed(
            "order.reason_required",
            "say why it is cancelled",
            errors=[FieldError("reason", "order.reason_required", "required")],
        )
    at = now or utcnow()
    with db.uow() as uow:
        order = uow.session.get(Order, order_id, with_for_update=True)
        if order is None:
            raise NotFound("order.not_found", "no such order", {"id": str(order_id)})
        if order.status in {OrderStatus.CANCELLED, OrderStatus.COMPLETED}:
            raise Conflict(
                "order.not_cancellable", f"the order is {order.status}", {"status": order.status}
            )
        by_no = {x.line_no: x for x in lines_of(uow, order)}
        if not lines:
            if any(x.quantity_fulfilled for x in by_no.values()):
                lines = [
                    CancelLine(n, x.quantity - x.quantity_cancelled - x.quantity_fulfilled)
                    for n, x in by_no.items()
                    if x.quantity - x.quantity_cancelled - x.quantity_fulfilled > 0
                ]
            else:
                release_and_cancel(uow, order, actor=actor, now=at, reason=reason.strip())
                uow.commit()
                return load_view(uow, order)
        _check_cancellable(lines, by_no)
        told = _cancel_units(uow, actor, order, lines, by_no, at)
        refresh_status(uow, order, at)
        if order.status == OrderStatus.CANCELLED:
            order.cancelled_at = at
        order_timeline.record(
            uow,
            order,
            "lines_cancelled",
            actor=actor,
            now=at,
            data={
                "reason": reason.strip(),
                "lines": [{"line_no": x.line_no, "quantity": x.quantity} for x in lines],
            },
            publish="order.cancelled" if order.status == OrderStatus.CANCELLED else "order.updated",
            locations=told,
        )
        uow.commit()
        return load_view(uow, order)


def _check_cancellable(lines: Sequence[CancelLine], by_no: dict[int, OrderLine]) -> None:
    errors: list[FieldError] = []
    shipped = False
    for i, c in enumerate(lines):
        line = by_no.get(c.line_no)
        if line is None:
            errors.append(FieldError(f"lines.{i}.line_no", "order.unknown_line", str(c.line_no)))
            continue
        left = line.quantity - line.quantity_cancelled - line.quantity_fulfilled
        if c.quantity <= 0:
            errors.append(FieldError(f"lines.{i}.quantity", "order.invalid_quantity", "> 0"))
        elif c.quantity > left:
            shipped = shipped or line.quantity_fulfilled > 0
            errors.append(
                FieldError(
                    f"lines.{i}.quantity",
                    "order.already_shipped" if line.quantity_fulfilled else "order.cancel_exceeds",
                    f"{left} of line {c.line_no} can still be cancelled",
                )
            )
    if errors:
        if shipped:
            raise Conflict(
                "order.already_shipped",
                "shipped or handed over units cannot be cancelled (return them instead)",
                errors=errors,
            )
        raise ValidationFailed(errors[0].code, "the cancellation is invalid", errors=errors)


def _cancel_units(
    uow: UnitOfWork,
    actor: Actor,
    order: Order,
    lines: Sequence[CancelLine],
    by_no: dict[int, OrderLine],
    at: datetime,
) -> list[str]:
    """Take the units off backorder first, then off the fulfillments still open."""
    fulfillments = [
        f
        for f in uow.session.scalars(
            select(OrderFulfillment).where(OrderFulfillment.order_id == order.id)
        )
        if f.status not in HANDED_OVER
        and f.status not in {FulfillmentStatus.REJECTED, FulfillmentStatus.CANCELLED}
    ]
    touched: dict[uuid.UUID, OrderFulfillment] = {}
    allocations = {f.id: allocations_of(uow, f) for f in fulfillments}
    for c in lines:
        line = by_no[c.line_no]
        n = c.quantity
        from_backorder = min(n, line.quantity_backordered)
        line.quantity_backordered -= from_backorder
        n -= from_backorder
        for f in fulfillments:
            for a in allocations[f.id]:
                if n == 0 or a.order_line_id != line.id:
                    continue
                take = min(n, a.quantity - a.quantity_cancelled)
                a.quantity_cancelled += take
                n -= take
                if take:
                    touched[f.id] = f
        line.quantity_cancelled += c.quantity
    told = []
    for f in touched.values():
        keep = units_by_variant(uow, allocations[f.id])
        if any(keep.values()):
            if keep != held_units(uow, f):
                shrink(uow, f, keep, actor=actor, now=at)
        else:
            release(uow, f, actor=actor, now=at)
            f.status = FulfillmentStatus.CANCELLED
            f.cancelled_at = at
        f.updated_at = at
        told.append(location_code(uow, f.location_id))
    return sorted(set(told))

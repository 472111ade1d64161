"""Endless aisle "pick up here": units the pickup store does not have come from the best
other location by a transfer, and wait at the store for the customer.

When an order asks for it (`pickup_by_transfer`), pickup units the store is short of are
routed like a parcel *to the store* (the routing rules, the store itself excluded) and held
at the source in a `transfer` fulfillment. The source accepts, picks, packs and ships it:
the units leave its on_hand and go into the store's `in_transit` bucket. When they arrive
(`deliver` on the transfer), they join the store's on_hand and a pickup fulfillment at the
store holds them for the customer, who is told when the store marks it ready. Every move is
a movement in the stock ledger, referencing the fulfillment. Lot- and serial-tracked items
are not moved this way (their units must be named); they stay short.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import (
    Location,
    Order,
    OrderAllocation,
    OrderFulfillment,
    OrderLine,
    StockMovement,
)
from omnitill.adapters.db.repositories import transfers as transfer_repo
from omnitill.domain.auth.actor import Actor
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import Conflict
from omnitill.domain.fulfillment.routing_model import Assignment, RoutingResult
from omnitill.domain.fulfillment.routing_model import OrderLine as RoutingLine
from omnitill.domain.ids import uuid7
from omnitill.domain.orders.lifecycle import PICKUP_METHODS, TRANSFER, FulfillmentStatus
from omnitill.services import order_routing, order_timeline, reservations
from omnitill.services.order_cancel import allocations_of, location_code, refs_for, release

REFERENCE_TYPE = "order_fulfillment"


def cover_pickups(
    uow: UnitOfWork,
    *,
    result: RoutingResult,
    refs: list[VariantRef],
    pickup: Location,
    now: datetime,
) -> tuple[RoutingResult, dict[str, object] | None]:
    """Route what the pickup store is short of to it from other locations: the answer has
    `transfer` assignments for those units and only what nothing covers left short, and
    the explanation of that second routing (None when nothing was short)."""
    short = [
        s
        for s in result.short_lines
        if s.method in PICKUP_METHODS and refs[int(s.line_key)].tracking == "none"
    ]
    if not short:
        return result, None
    plan = order_routing.plan(
        uow,
        lines=[RoutingLine(s.line_key, s.variant_id, s.short, "ship") for s in short],
        target=order_routing.Target(
            country=pickup.country or None,
            latitude=float(pickup.latitude) if pickup.latitude is not None else None,
            longitude=float(pickup.longitude) if pickup.longitude is not None else None,
        ),
        now=now,
        rejected={(pickup.code, s.line_key) for s in short},
    )
    moved = tuple(
        Assignment(a.location, a.line_key, a.variant_id, a.quantity, TRANSFER)
        for a in plan.assignments
    )
    covered: dict[str, int] = defaultdict(int)
    for a in moved:
        covered[a.line_key] += a.quantity
    left = tuple(
        s for s in result.short_lines if not (s in short and covered[s.line_key] >= s.short)
    )
    return RoutingResult(result.assignments + moved, left, result.explanation), (
        plan.explanation.as_dict()
    )


def ship(uow: UnitOfWork, actor: Actor, f: OrderFulfillment, order: Order, at: datetime) -> None:
    """The transfer leaves: its hold is released, its units leave the source's on_hand
    (free units only) and go into the pickup store's in_transit."""
    store = pickup_store(uow, f)
    release(uow, f, actor=actor, now=at)
    conn = uow.connection
    for variant_id, quantity in sorted(_units(uow, f).items()):
        if (
            transfer_repo.take_free(
                conn, variant_id=variant_id, location_id=f.location_id, quantity=quantity
            )
            is None
        ):
            raise Conflict(
                "inventory.insufficient_stock",
                "the units held for this transfer are no longer free here",
                {"variant_id": str(variant_id)},
            )
        transfer_repo.add_to_buckets(
            conn, variant_id=variant_id, location_id=store, changes={"in_transit": quantity}
        )
        _movement(
            uow, f, actor, variant_id, f.location_id, "on_hand", -quantity, "transfer_out", at
        )
        _movement(uow, f, actor, variant_id, store, "in_transit", quantity, "transfer_out", at)


def arrive(uow: UnitOfWork, actor: Actor, f: OrderFulfillment, order: Order, at: datetime) -> None:
    """The transfer reached the pickup store: its units join the store's on_hand and a pickup
    fulfillment there holds them for the customer."""
    store = pickup_store(uow, f)
    conn = uow.connection
    units = _units(uow, f)
    for variant_id, quantity in sorted(units.items()):
        transfer_repo.add_to_buckets(
            conn,
            variant_id=variant_id,
            location_id=store,
            changes={"in_transit": -quantity, "on_hand": quantity},
        )
        _movement(uow, f, actor, variant_id, store, "in_transit", -quantity, "transfer_in", at)
        _movement(uow, f, actor, variant_id, store, "on_hand", quantity, "transfer_in", at)
    allocations = [a for a in allocations_of(uow, f) if a.quantity > a.quantity_cancelled]
    lines = {a.order_line_id: uow.session.get_one(OrderLine, a.order_line_id) for a in allocations}
    method = next(iter(lines.values())).method if lines else "pickup"
    pickup = OrderFulfillment(
        id=uuid7(),
        order_id=order.id,
        location_id=store,
        method=method,
        status=FulfillmentStatus.ASSIGNED,
        created_at=at,
        updated_at=at,
    )
    uow.session.add(pickup)
    uow.session.flush()
    for a in allocations:
        uow.session.add(
            OrderAllocation(
                id=uuid7(),
                fulfillment_id=pickup.id,
                order_line_id=a.order_line_id,
                quantity=a.quantity - a.quantity_cancelled,
                quantity_cancelled=0,
            )
        )
    reservation = reservations.hold(
        uow,
        actor=actor,
        reference_type=REFERENCE_TYPE,
        reference_id=str(pickup.id),
        location=uow.session.get_one(Location, store),
        refs=refs_for(uow, sorted(units)),
        wanted=units,
        now=at,
    )
    pickup.reservation_id = reservation.id
    code = location_code(uow, store)
    order_timeline.record(
        uow,
        order,
        "arrived_for_pickup",
        actor=actor,
        now=at,
        fulfillment_id=pickup.id,
        location_id=store,
        data={"location": code, "from": location_code(uow, f.location_id)},
        publish="order.assigned",
        locations=[code],
    )


def pickup_store(uow: UnitOfWork, f: OrderFulfillment) -> uuid.UUID:
    for a in allocations_of(uow, f):
        line = uow.session.get_one(OrderLine, a.order_line_id)
        if line.pickup_location_id is not None:
            return line.pickup_location_id
    raise Conflict("order.no_pickup_store", "this transfer has no pickup store")


def _units(uow: UnitOfWork, f: OrderFulfillment) -> dict[uuid.UUID, int]:
    units: dict[uuid.UUID, int] = defaultdict(int)
    for a in allocations_of(uow, f):
        line = uow.session.get_one(OrderLine, a.order_line_id)
        units[line.variant_id] += a.quantity - a.quantity_cancelled
    return {v: n for v, n in units.items() if n > 0}


def _movement(
    uow: UnitOfWork,
    f: OrderFulfillment,
    actor: Actor,
    variant_id: uuid.UUID,
    location_id: uuid.UUID,
    bucket: str,
    quantity: int,
    kind: str,
    at: datetime,
) -> None:
    uow.session.add(
        StockMovement(
            id=uuid7(),
            variant_id=variant_id,
            location_id=location_id,
            bucket=bucket,
            quantity=quantity,
            kind=kind,
            reason="order pickup transfer",
            reference_type=REFERENCE_TYPE,
            reference_id=str(f.id),
            actor_id=actor.user_id,
            created_at=at,
        )
    )

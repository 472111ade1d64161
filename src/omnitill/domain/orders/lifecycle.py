"""The order life cycle, as pure rules the order services apply.

A location's part of an order (a *fulfillment*) moves through these states:

    assigned -> accepted -> picking -> packed -> shipped -> delivered     (ship, local delivery)
    assigned -> accepted -> picking -> ready  -> picked_up                 (pickup, curbside)

A step may skip the ones before it (a store that packs at once also accepts and picks), never
go back. A location may reject what it was assigned (item not found on the shelf) until it has
packed or readied it; the order is then routed again without it. Anything not yet shipped or
handed over may be cancelled. The order's own status follows from its fulfillments and lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from omnitill.domain.errors import Conflict


class FulfillmentStatus(StrEnum):
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    PICKING = "picking"
    PACKED = "packed"
    READY = "ready"
    SHIPPED = "shipped"
    PICKED_UP = "picked_up"
    DELIVERED = "delivered"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"  # placed, its card authorization not yet answered
    PLACED = "placed"
    BACKORDERED = "backordered"  # some units wait for stock
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Step(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    PICK = "pick"
    PACK = "pack"
    READY = "ready"
    SHIP = "ship"
    PICK_UP = "pick_up"
    DELIVER = "deliver"
    CANCEL = "cancel"


SHIPPING_METHODS = frozenset({"ship", "local_delivery"})
PICKUP_METHODS = frozenset({"pickup", "curbside"})
# Units moving from another location into the pickup store (endless aisle "pick up here"):
# shipped like a parcel, "delivered" when they arrive at the store.
TRANSFER = "transfer"
MOVING_METHODS = SHIPPING_METHODS | {TRANSFER}

S = FulfillmentStatus
OPEN = frozenset({S.ASSIGNED, S.ACCEPTED, S.PICKING})
# Fulfillments whose units have left the location (the reservation was fulfilled).
HANDED_OVER = frozenset({S.SHIPPED, S.PICKED_UP, S.DELIVERED})
CLOSED = frozenset({S.DELIVERED, S.PICKED_UP, S.REJECTED, S.CANCELLED})


@dataclass(frozen=True, slots=True)
class StepRule:
    sources: frozenset[FulfillmentStatus]
    target: FulfillmentStatus
    methods: frozenset[str] | None = None  # None: every method
    event: str = ""  # the order timeline event it writes


RULES: dict[Step, StepRule] = {
    Step.ACCEPT: StepRule(frozenset({S.ASSIGNED}), S.ACCEPTED, event="accepted"),
    Step.REJECT: StepRule(OPEN, S.REJECTED, event="rejected"),
    Step.PICK: StepRule(frozenset({S.ASSIGNED, S.ACCEPTED}), S.PICKING, event="picking"),
    Step.PACK: StepRule(OPEN, S.PACKED, MOVING_METHODS, event="packed"),
    Step.READY: StepRule(OPEN, S.READY, PICKUP_METHODS, event="ready_for_pickup"),
    Step.SHIP: StepRule(OPEN | {S.PACKED}, S.SHIPPED, MOVING_METHODS, event="shipped"),
    Step.PICK_UP: StepRule(frozenset({S.READY}), S.PICKED_UP, PICKUP_METHODS, event="picked_up"),
    Step.DELIVER: StepRule(frozenset({S.SHIPPED}), S.DELIVERED, MOVING_METHODS, "delivered"),
    Step.CANCEL: StepRule(OPEN | {S.PACKED, S.READY}, S.CANCELLED, event="cancelled"),
}


def check_step(step: Step, *, status: str, method: str) -> StepRule:
    """The rule of `step` for a fulfillment in `status` by `method`, or 409 naming why not."""
    rule = RULES[step]
    if rule.methods is not None and method not in rule.methods:
        raise Conflict(
            "order.step_not_for_method",
            f"a {method} fulfillment cannot be {rule.target.value}",
            {"step": step.value, "method": method},
        )
    if status not in rule.sources:
        code = "order.already_shipped" if status in HANDED_OVER else "order.invalid_transition"
        raise Conflict(
            code,
            f"a fulfillment that is {status} cannot be {rule.target.value}",
            {"step": step.value, "status": status},
        )
    return rule


def order_status(
    *, fulfillments: Iterable[str], backordered_units: int, open_units: int
) -> OrderStatus:
    """The order's status from its fulfillments' statuses, the units still waiting for stock
    and the units neither cancelled nor handed over (`open_units`)."""
    statuses = [FulfillmentStatus(s) for s in fulfillments]
    live = [s for s in statuses if s not in {S.REJECTED, S.CANCELLED}]
    if not live and backordered_units == 0:
        return OrderStatus.CANCELLED if open_units == 0 else OrderStatus.PLACED
    if backordered_units:
        return OrderStatus.BACKORDERED
    if all(s in {S.DELIVERED, S.PICKED_UP} for s in live) and open_units == 0:
        return OrderStatus.COMPLETED
    if all(s == S.ASSIGNED for s in live):
        return OrderStatus.PLACED
    return OrderStatus.IN_PROGRESS


def format_number(number: int) -> str:
    """An order's human number, `#100123`."""
    return f"#{number}"


def parse_number(text: str) -> int | None:
    """`#100123`, `100123` -> 100123; anything else None."""
    digits = text.strip().removeprefix("#")
    return int(digits) if digits.isdigit() else None

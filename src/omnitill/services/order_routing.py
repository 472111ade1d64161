"""Routing an order against the database: the snapshot the router reads, and its answer
turned into fulfillments, allocations and reservations.

The pure engine is domain/fulfillment/routing.py; this module loads what it needs (every
active location with its settings, the stock of the ordered variants, how many orders each
location took today) at one moment, and books the result in the caller's transaction:
one fulfillment per (location, method), its allocations (units of order lines) and one
reservation holding its units. The reservation is a conditional UPDATE per line, so two
orders routed at once never promise the same unit: the second one's reservation fails and
the order service routes it again.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Location,
    OrderAllocation,
    OrderFulfillment,
    OrderLine,
    StockLevel,
)
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.fulfillment import hours
from omnitill.domain.fulfillment.geo import haversine_km
from omnitill.domain.fulfillment.routing import route
from omnitill.domain.fulfillment.routing_model import (
    DEFAULT_RULES,
    DEFAULT_STALENESS_LIMIT,
    CandidateLocation,
    Destination,
    LocationStock,
    RoutingRequest,
    RoutingResult,
    Rule,
)
from omnitill.domain.fulfillment.routing_model import (
    OrderLine as RoutingLine,
)
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.buckets import available
from omnitill.domain.orders.lifecycle import FulfillmentStatus
from omnitill.services import reservations
from omnitill.services.references import LineRef, location_by_code, resolve_lines

RESERVATION_TYPE = "order_fulfillment"


@dataclass(frozen=True, slots=True)
class Target:
    """Where an order goes: a shipping address (country, coordinates when known) and the
    store its pickup and curbside lines go to."""

    country: str | None = None
    region: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    pickup_location: str | None = None


def candidates(
    uow: UnitOfWork, *, variant_ids: Iterable[uuid.UUID], now: datetime
) -> tuple[CandidateLocation, ...]:
    """Every active location as the router sees it at `now`, with the stock of `variant_ids`."""
    locations = uow.session.scalars(
        select(Location).where(Location.active.is_(True)).order_by(Location.code)
    ).all()
    wanted = sorted(set(variant_ids))
    stock: dict[uuid.UUID, dict[str, LocationStock]] = defaultdict(dict)
    if wanted:
        rows = uow.session.execute(
            select(
                StockLevel.location_id,
                StockLevel.variant_id,
                StockLevel.on_hand,
                StockLevel.reserved,
                StockLevel.safety_stock,
                StockLevel.quarantine + StockLevel.damaged + StockLevel.qc + StockLevel.expired,
            ).where(StockLevel.variant_id.in_(wanted))
        ).all()
        for location_id, variant_id, on_hand, reserved, safety, unavailable in rows:
            stock[location_id][str(variant_id)] = LocationStock(
                available=available(
                    on_hand=on_hand,
                    reserved=reserved,
                    safety_stock=safety or 0,
                    unavailable=unavailable,
                ),
                safety_stock=safety or 0,
            )
    taken = _orders_today(uow, locations, now)
    return tuple(
        CandidateLocation(
            code=loc.code,
            kind=loc.kind,
            country=loc.country or None,
            latitude=float(loc.latitude) if loc.latitude is not None else None,
            longitude=float(loc.longitude) if loc.longitude is not None else None,
            rank=loc.routing_rank,
            ships=loc.ships,
            offers_pickup=loc.offers_pickup,
            local_delivery_radius_km=float(loc.local_delivery_radius_km)
            if loc.local_delivery_radius_km is not None
            else None,
            capacity_left=None
            if loc.daily_order_capacity is None
            else max(0, loc.daily_order_capacity - taken.get(loc.id, 0)),
            open_now=hours.is_open(loc.opening_hours, timezone=loc.timezone, now=now),
            accepts_orders_today=hours.before_cutoff(
                loc.order_cutoff, timezone=loc.timezone, now=now
            ),
            last_heard_at=loc.last_heard_at,
            stock=stock.get(loc.id, {}),
            market=loc.market,
        )
        for loc in locations
    )


def _orders_today(
    uow: UnitOfWork, locations: Sequence[Location], now: datetime
) -> dict[uuid.UUID, int]:
    """Fulfillments each capacity-limited location was given since its local midnight."""
    limited = [loc for loc in locations if loc.daily_order_capacity is not None]
    counts: dict[uuid.UUID, int] = {}
    for loc in limited:
        local = hours.local(now, loc.timezone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        counts[loc.id] = int(
            uow.session.scalar(
                select(func.count())
                .select_from(OrderFulfillment)
                .where(
                    OrderFulfillment.location_id == loc.id,
                    OrderFulfillment.created_at >= midnight,
                    OrderFulfillment.status != FulfillmentStatus.REJECTED,
                )
            )
            or 0
        )
    return counts


def plan(
    uow: UnitOfWork,
    *,
    lines: Sequence[RoutingLine],
    target: Target,
    now: datetime,
    rejected: Iterable[tuple[str, str]] = (),
) -> RoutingResult:
    """Route `lines` to `target` over the locations as they are now.

    Without coordinates for a shipping address the closest rule cannot decide: it is left
    out (the explanation's rule list shows it) and the next rules decide."""
    rules = DEFAULT_RULES
    if target.latitude is None or target.longitude is None:
        rules = tuple(r for r in rules if r != Rule.CLOSEST)
    request = RoutingRequest(
        lines=tuple(lines),
        destination=Destination(
            country=target.country,
            region=target.region,
            latitude=target.latitude,
            longitude=target.longitude,
            pickup_location=target.pickup_location,
        ),
        locations=candidates(uow, variant_ids=[uuid.UUID(x.variant_id) for x in lines], now=now),
        now=now,
        rules=rules,
        rejected=frozenset(rejected),
    )
    return route(request)


def book(
    uow: UnitOfWork,
    *,
    actor: Actor,
    order_id: uuid.UUID,
    result: RoutingResult,
    lines: dict[str, OrderLine],
    refs: dict[uuid.UUID, VariantRef],
    now: datetime,
) -> list[OrderFulfillment]:
    """Create the fulfillments and allocations of `result` and reserve their units.

    `lines` maps the routing line key to its order line. Raises 409
    `inventory.insufficient_stock` when a reservation loses a race (the caller routes again).
    """
    groups: dict[tuple[str, str], list[tuple[OrderLine, int]]] = defaultdict(list)
    for a in result.assignments:
        groups[(a.location, a.method)].append((lines[a.line_key], a.quantity))
    codes = sorted({code for code, _ in groups})
    by_code = {
        loc.code: loc
        for loc in uow.session.scalars(select(Location).where(Location.code.in_(codes)))
    }
    made: list[OrderFulfillment] = []
    for (code, method), takes in sorted(groups.items()):
        loc = by_code[code]
        fulfillment = OrderFulfillment(
            id=uuid7(),
            order_id=order_id,
            location_id=loc.id,
            method=method,
            status=FulfillmentStatus.ASSIGNED,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(fulfillment)
        uow.session.flush()
        wanted: dict[uuid.UUID, int] = defaultdict(int)
        for line, quantity in takes:
            uow.session.add(
                OrderAllocation(
                    id=uuid7(),
                    fulfillment_id=fulfillment.id,
                    order_line_id=line.id,
                    quantity=quantity,
                    quantity_cancelled=0,
                )
            )
            wanted[line.variant_id] += quantity
        reservation = reservations.hold(
            uow,
            actor=actor,
            reference_type=RESERVATION_TYPE,
            reference_id=str(fulfillment.id),
            location=loc,
            refs=[refs[v] for v in sorted(wanted)],
            wanted=dict(wanted),
            now=now,
        )
        fulfillment.reservation_id = reservation.id
        made.append(fulfillment)
    uow.session.flush()
    return made


@dataclass(frozen=True, slots=True)
class Availability:
    """One location's stock of a SKU as endless aisle shows it."""

    location: str
    kind: str
    available: int
    distance_km: float | None
    ships: bool
    offers_pickup: bool
    stale: bool


def availability(
    *, db: Database, actor: Actor, sku: str, near: str | None = None, now: datetime | None = None
) -> list[Availability]:
    """Every location's sellable units of `sku` (safety stock kept back, as online orders
    see it), nearest to the `near` location first: what a register offers when its own
    shelf is empty."""
    actor.require(Permission.STOCK_READ)
    at = now or utcnow()
    with db.uow(write=False) as uow:
        [ref] = resolve_lines(uow, [LineRef(sku, None)], prefix="sku")
        sites = candidates(uow, variant_ids=[ref.id], now=at)
        origin = next((s for s in sites if s.code == near), None) if near else None
        if near and origin is None:
            location_by_code(uow, near, field="near")
    rows = []
    for site in sites:
        distance = None
        if origin is not None and origin.located and site.located:
            distance = round(
                haversine_km(
                    origin.latitude or 0.0,
                    origin.longitude or 0.0,
                    site.latitude or 0.0,
                    site.longitude or 0.0,
                ),
                1,
            )
        stock = site.stock.get(str(ref.id))
        stale = site.last_heard_at is not None and at - site.last_heard_at > DEFAULT_STALENESS_LIMIT
        rows.append(
            Availability(
                location=site.code,
                kind=site.kind,
                available=stock.usable(protect_safety_stock=True) if stock else 0,
                distance_km=distance,
                ships=site.ships,
                offers_pickup=site.offers_pickup,
                stale=stale,
            )
        )
    return sorted(rows, key=lambda r: (r.distance_km is None, r.distance_km or 0, r.location))


def preview(
    *,
    db: Database,
    actor: Actor,
    lines: Sequence[tuple[str, int, str]],
    target: Target,
    now: datetime | None = None,
) -> RoutingResult:
    """Where an order of `lines` (sku, quantity, method) would go now, with the reasons,
    without booking anything: endless aisle shows it before the customer pays."""
    actor.require(Permission.ORDERS_READ)
    with db.uow(write=False) as uow:
        refs = resolve_lines(uow, [LineRef(sku, None) for sku, _, _ in lines])
        return plan(
            uow,
            lines=[
                RoutingLine(str(i), str(ref.id), quantity, method)
                for i, (ref, (_, quantity, method)) in enumerate(zip(refs, lines, strict=True))
            ],
            target=target,
            now=now or utcnow(),
        )

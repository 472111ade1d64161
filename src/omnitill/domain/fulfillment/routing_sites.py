"""How one routing request sees each candidate location: its distance to the destination, the
filters it fails, the fulfillment methods it cannot serve and the usable stock it has left.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from omnitill.domain.fulfillment.geo import haversine_km
from omnitill.domain.fulfillment.routing_model import (
    CandidateLocation,
    FulfillmentMethod,
    LocationKind,
    RoutingRequest,
    Rule,
)

METHOD_RULE = "fulfillment_method"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a location is out: the rule, a stable code, a phrase and its figure."""

    rule: str
    reason: str
    detail: str
    value: float | int | str | None = None


@dataclass(slots=True)
class Site:
    """A candidate location as this request sees it. `left` is the usable stock not taken
    yet, per variant of the order; `withheld` what the safety stock rule keeps back;
    `filters` every filter it fails, `filters_no_hours` the same without opening hours (for
    pickup and curbside lines)."""

    location: CandidateLocation
    code: str
    distance: float | None
    filters: tuple[Reason, ...]
    filters_no_hours: tuple[Reason, ...]
    left: dict[str, int]
    withheld: dict[str, int]


def site_view(
    request: RoutingRequest, location: CandidateLocation, variants: Collection[str]
) -> Site:
    """The request's view of one location, for the order's `variants` only."""
    dest = request.destination
    distance = None
    if (
        dest.latitude is not None
        and dest.longitude is not None
        and location.latitude is not None
        and location.longitude is not None
    ):
        distance = haversine_km(
            location.latitude, location.longitude, dest.latitude, dest.longitude
        )
    protect = Rule.PROTECT_SAFETY_STOCK in request.rules
    left: dict[str, int] = {}
    withheld: dict[str, int] = {}
    for variant in variants:
        level = location.stock.get(variant)
        if level is None:
            continue
        # As LocationStock.usable, unrolled: this runs for every location and variant.
        everything = max(0, level.available + level.safety_stock)
        left[variant] = max(0, level.available) if protect else everything
        withheld[variant] = everything - left[variant]
    stale = _stale(request, location)
    capacity = _capacity(request, location)
    return Site(
        location=location,
        code=location.code,
        distance=distance,
        filters=(*stale, *_hours(request, location), *capacity),
        filters_no_hours=(*stale, *capacity),
        left=left,
        withheld=withheld,
    )


def _stale(request: RoutingRequest, location: CandidateLocation) -> tuple[Reason, ...]:
    heard = location.last_heard_at
    if Rule.EXCLUDE_STALE not in request.rules or heard is None:
        return ()
    age = request.now - heard
    if age <= request.staleness_limit:
        return ()
    minutes = int(age.total_seconds() // 60)
    limit = int(request.staleness_limit.total_seconds() // 60)
    detail = f"stale: not heard from for {minutes} minutes (limit {limit})"
    return (Reason(Rule.EXCLUDE_STALE.value, "stale", detail, minutes),)


def _hours(request: RoutingRequest, location: CandidateLocation) -> tuple[Reason, ...]:
    if Rule.RESPECT_CAPACITY_AND_HOURS not in request.rules:
        return ()
    rule = Rule.RESPECT_CAPACITY_AND_HOURS.value
    found = []
    if not location.open_now:
        found.append(Reason(rule, "closed", "closed now"))
    if not location.accepts_orders_today:
        found.append(Reason(rule, "past_cutoff", "no longer taking orders today"))
    return tuple(found)


def _capacity(request: RoutingRequest, location: CandidateLocation) -> tuple[Reason, ...]:
    left = location.capacity_left
    if Rule.RESPECT_CAPACITY_AND_HOURS not in request.rules or left is None or left > 0:
        return ()
    rule = Rule.RESPECT_CAPACITY_AND_HOURS.value
    return (Reason(rule, "no_capacity", "no capacity left today", left),)


def method_reasons(site: Site, method: str) -> tuple[Reason, ...]:
    """Why the location cannot serve ship or local delivery lines at all (empty when it
    can): it does not ship; or it is not a store with a delivery radius reaching the
    destination."""
    location = site.location
    if method == FulfillmentMethod.SHIP:
        if not location.ships:
            return (Reason(METHOD_RULE, "does_not_ship", "does not ship orders"),)
        return ()
    radius = location.local_delivery_radius_km
    if location.kind != LocationKind.STORE or radius is None:
        return (Reason(METHOD_RULE, "no_local_delivery", "does not deliver locally"),)
    if site.distance is None:
        detail = "has no coordinates to measure its radius"
        return (Reason(METHOD_RULE, "no_coordinates", detail),)
    if site.distance > radius:
        detail = f"{site.distance:.1f} km away, delivers within {radius:g} km"
        return (Reason(METHOD_RULE, "outside_radius", detail, round(site.distance, 1)),)
    return ()

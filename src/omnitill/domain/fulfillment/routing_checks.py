"""Input checks of the order router: every problem of a request, each naming its field.

A request that fails them can never route as sent (HTTP 422, `ValidationFailed`). Stock that
is short is not bad input: it comes back as short lines.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.fulfillment.geo import valid_coordinates
from omnitill.domain.fulfillment.routing_model import (
    PICKUP_METHODS,
    CandidateLocation,
    FulfillmentMethod,
    LocationKind,
    RoutingRequest,
    Rule,
)

_METHODS = frozenset(m.value for m in FulfillmentMethod)
_KINDS = frozenset(k.value for k in LocationKind)
_RULES = frozenset(r.value for r in Rule)


def check_request(request: RoutingRequest, rejected: frozenset[tuple[str, str]]) -> None:
    """Raise `ValidationFailed` listing every bad field of the request."""
    errors = [
        *_check_lines(request),
        *_check_rules(request.rules),
        *_check_locations(request),
        *_check_destination(request),
        *_check_rejected(request, rejected),
    ]
    if request.now.tzinfo is None:
        errors.append(FieldError("now", "routing.naive_time", "must carry a time zone (UTC)"))
    if request.staleness_limit.total_seconds() <= 0:
        errors.append(
            FieldError("staleness_limit", "routing.invalid_staleness_limit", "must be positive")
        )
    if errors:
        raise ValidationFailed(errors[0].code, "the routing request is invalid", errors=errors)


def _check_lines(request: RoutingRequest) -> Iterable[FieldError]:
    if not request.lines:
        yield FieldError("lines", "routing.no_lines", "at least one line")
    seen: set[str] = set()
    for i, line in enumerate(request.lines):
        if not line.key:
            yield FieldError(f"lines.{i}.key", "routing.value_required", "a line needs a key")
        elif line.key in seen:
            yield FieldError(f"lines.{i}.key", "routing.duplicate_line", f"{line.key} is repeated")
        seen.add(line.key)
        if not line.variant_id:
            yield FieldError(f"lines.{i}.variant_id", "routing.value_required", "required")
        if line.quantity < 1:
            yield FieldError(f"lines.{i}.quantity", "routing.invalid_quantity", "at least 1")
        if line.method not in _METHODS:
            yield FieldError(
                f"lines.{i}.method",
                "routing.unknown_method",
                f"{line.method!r} is not one of {', '.join(sorted(_METHODS))}",
            )


def _check_rules(rules: tuple[str, ...]) -> Iterable[FieldError]:
    seen: set[str] = set()
    for i, name in enumerate(rules):
        if name not in _RULES:
            yield FieldError(f"rules.{i}", "routing.unknown_rule", f"{name!r} is not a rule")
        elif name in seen:
            yield FieldError(f"rules.{i}", "routing.duplicate_rule", f"{name} is repeated")
        seen.add(name)


def _coordinates(
    prefix: str, latitude: float | None, longitude: float | None
) -> Iterable[FieldError]:
    if (latitude is None) != (longitude is None):
        missing = "latitude" if latitude is None else "longitude"
        yield FieldError(
            f"{prefix}.{missing}", "routing.invalid_coordinates", "give both or neither"
        )
    elif (
        latitude is not None
        and longitude is not None
        and not valid_coordinates(latitude, longitude)
    ):
        field = "latitude" if not -90.0 <= latitude <= 90.0 else "longitude"
        yield FieldError(
            f"{prefix}.{field}",
            "routing.invalid_coordinates",
            "latitude within -90..90, longitude within -180..180",
        )


def _check_location(
    i: int, location: CandidateLocation, variants: frozenset[str]
) -> Iterable[FieldError]:
    prefix = f"locations.{i}"
    if location.kind not in _KINDS:
        yield FieldError(
            f"{prefix}.kind", "routing.unknown_location_kind", f"{location.kind!r}: store|warehouse"
        )
    yield from _coordinates(prefix, location.latitude, location.longitude)
    radius = location.local_delivery_radius_km
    if radius is not None and (math.isnan(radius) or radius < 0):
        yield FieldError(
            f"{prefix}.local_delivery_radius_km", "routing.invalid_radius", "must be 0 or more"
        )
    if location.last_heard_at is not None and location.last_heard_at.tzinfo is None:
        yield FieldError(
            f"{prefix}.last_heard_at", "routing.naive_time", "must carry a time zone (UTC)"
        )
    # Only the stock of the variants ordered is read, so only it is checked: a location may
    # carry thousands of others.
    for variant_id in sorted(variants):
        stock = location.stock.get(variant_id)
        if stock is not None and stock.safety_stock < 0:
            yield FieldError(
                f"{prefix}.stock.{variant_id}.safety_stock",
                "routing.invalid_quantity",
                "must be 0 or more",
            )


def _check_locations(request: RoutingRequest) -> Iterable[FieldError]:
    if not request.locations:
        yield FieldError("locations", "routing.no_candidates", "at least one location")
    seen: set[str] = set()
    variants = frozenset(line.variant_id for line in request.lines)
    for i, location in enumerate(request.locations):
        if not location.code:
            yield FieldError(f"locations.{i}.code", "routing.value_required", "required")
        elif location.code in seen:
            yield FieldError(
                f"locations.{i}.code",
                "routing.duplicate_location",
                f"{location.code} is repeated",
            )
        seen.add(location.code)
        yield from _check_location(i, location, variants)


def _check_destination(request: RoutingRequest) -> Iterable[FieldError]:
    dest = request.destination
    yield from _coordinates("destination", dest.latitude, dest.longitude)
    methods = {line.method for line in request.lines}
    if methods & PICKUP_METHODS:
        codes = {location.code: location for location in request.locations}
        if not dest.pickup_location:
            yield FieldError(
                "destination.pickup_location",
                "routing.pickup_location_required",
                "pickup and curbside lines need a pickup location",
            )
        elif dest.pickup_location not in codes:
            yield FieldError(
                "destination.pickup_location",
                "routing.unknown_location",
                f"{dest.pickup_location} is not among the candidate locations",
            )
        elif not codes[dest.pickup_location].offers_pickup:
            yield FieldError(
                "destination.pickup_location",
                "routing.pickup_not_offered",
                f"{dest.pickup_location} does not offer pickup",
            )
    needs_distance = FulfillmentMethod.LOCAL_DELIVERY in methods or (
        FulfillmentMethod.SHIP in methods and Rule.CLOSEST in request.rules
    )
    if needs_distance:
        for name, value in (("latitude", dest.latitude), ("longitude", dest.longitude)):
            if value is None:
                yield FieldError(
                    f"destination.{name}",
                    "routing.destination_unroutable",
                    "a distance is needed (closest rule or local delivery): give coordinates",
                )


def _check_rejected(
    request: RoutingRequest, rejected: frozenset[tuple[str, str]]
) -> Iterable[FieldError]:
    codes = {location.code for location in request.locations}
    keys = {line.key for line in request.lines}
    unknown = sorted(pair for pair in rejected if pair[0] not in codes or pair[1] not in keys)
    if unknown:
        listed = ", ".join(f"{code}/{key}" for code, key in unknown)
        yield FieldError(
            "rejected",
            "routing.unknown_rejection",
            f"no such location or line: {listed}",
        )

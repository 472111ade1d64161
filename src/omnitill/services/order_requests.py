"""What an order request carries, and the checks it must pass before anything is booked.

`check_shape` needs no database; the others read it (the channel and its fulfillment methods,
the pickup store, the customer) inside the booking transaction; `refuse_unroutable` turns the
router's short lines into the answer: 422 when no location can serve the address, 409 listing
every short line when there is no stock (unless the order may wait for it).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, replace

from sqlalchemy import select

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import Channel, Customer, Location
from omnitill.domain.errors import Conflict, FieldError, ValidationFailed
from omnitill.domain.fulfillment.routing_model import RoutingResult
from omnitill.domain.orders.lifecycle import PICKUP_METHODS, SHIPPING_METHODS
from omnitill.services.references import location_by_code

ORDER_KINDS = ("standard", "special_order", "layaway")
# The least deposit a special order or a layaway takes, in percent of its total.
ORDER_DEPOSIT_PERCENT = {"standard": 0, "special_order": 50, "layaway": 20}


@dataclass(frozen=True, slots=True)
class OrderLineRequest:
    sku: str | None
    barcode: str | None
    quantity: int
    method: str = "ship"


@dataclass(frozen=True, slots=True)
class AddressInput:
    country: str
    name: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    phone: str = ""
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class OrderRequest:
    channel: str
    lines: tuple[OrderLineRequest, ...]
    id: uuid.UUID | None = None
    customer: uuid.UUID | None = None
    customer_name: str = ""
    email: str | None = None
    phone: str | None = None
    ship_to: AddressInput | None = None
    pickup_location: str | None = None
    coupons: tuple[str, ...] = ()
    shipping: int = 0
    currency: str | None = None
    card_token: str | None = None  # the gateway's token from the shop's payment form
    external_reference: str | None = None
    note: str = ""
    # standard | special_order (units may wait for stock) | layaway (held at the store
    # until paid off); the last two need a deposit (ORDER_DEPOSIT_PERCENT of the total).
    kind: str = "standard"
    register: str | None = None  # the register that took it (endless aisle, layaway)
    # Pickup units the store lacks come from another location by transfer (endless aisle).
    pickup_by_transfer: bool = False


def request_hash(request: OrderRequest) -> str:
    body = json.dumps(asdict(replace(request, id=None)), sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


# --- checks that need no database ---------------------------------------------------------


def check_shape(request: OrderRequest) -> None:
    errors: list[FieldError] = []
    if not request.lines:
        errors.append(FieldError("lines", "order.no_lines", "at least one line"))
    methods = {line.method for line in request.lines}
    for i, line in enumerate(request.lines):
        if line.method not in SHIPPING_METHODS | PICKUP_METHODS:
            errors.append(
                FieldError(
                    f"lines.{i}.method",
                    "order.unknown_method",
                    "ship, pickup, curbside or local_delivery",
                )
            )
        if line.quantity <= 0:
            errors.append(FieldError(f"lines.{i}.quantity", "order.invalid_quantity", "> 0"))
    if methods & SHIPPING_METHODS:
        if request.ship_to is None:
            errors.append(
                FieldError("ship_to", "order.address_required", "shipped lines need an address")
            )
        elif len(request.ship_to.country) != 2 or not request.ship_to.country.isalpha():
            errors.append(
                FieldError("ship_to.country", "order.invalid_country", "ISO 3166 alpha-2")
            )
    if methods & PICKUP_METHODS and not request.pickup_location:
        errors.append(
            FieldError(
                "pickup_location", "order.pickup_location_required", "pickup lines need a store"
            )
        )
    if methods & PICKUP_METHODS and not (request.email or request.phone):
        errors.append(
            FieldError("email", "order.contact_required", "an email or phone to tell them")
        )
    if request.shipping < 0:
        errors.append(FieldError("shipping", "order.invalid_shipping", ">= 0"))
    if request.kind not in ORDER_KINDS:
        errors.append(FieldError("kind", "order.unknown_kind", ", ".join(ORDER_KINDS)))
    elif request.kind != "standard" and request.register is None:
        errors.append(
            FieldError(
                "register", "order.register_required", f"a {request.kind} is taken at a till"
            )
        )
    if request.card_token is not None and not request.card_token.strip():
        errors.append(FieldError("card_token", "payment.data_required", "the gateway token"))
    if errors:
        raise ValidationFailed(errors[0].code, "the order is invalid", errors=errors)


def channel_of(uow: UnitOfWork, request: OrderRequest) -> Channel:
    channel = uow.session.scalars(
        select(Channel).where(Channel.code == request.channel, Channel.active.is_(True))
    ).one_or_none()
    if channel is None:
        raise ValidationFailed(
            "order.unknown_channel",
            f"no active channel {request.channel!r}",
            errors=[FieldError("channel", "order.unknown_channel", request.channel)],
        )
    refused = [
        FieldError(
            f"lines.{i}.method",
            "order.method_not_allowed",
            f"{channel.code} takes {', '.join(channel.fulfillment_methods) or 'no orders'}",
        )
        for i, line in enumerate(request.lines)
        if line.method not in channel.fulfillment_methods
    ]
    if refused:
        raise ValidationFailed(
            "order.method_not_allowed",
            f"the {channel.code} channel does not offer every fulfillment method asked",
            errors=refused,
        )
    return channel


def pickup_location_of(uow: UnitOfWork, request: OrderRequest) -> Location | None:
    methods = {line.method for line in request.lines}
    if not methods & PICKUP_METHODS or not request.pickup_location:
        return None
    loc = location_by_code(uow, request.pickup_location, field="pickup_location")
    errors = []
    if not loc.active or not loc.offers_pickup:
        errors.append(
            FieldError("pickup_location", "order.pickup_not_offered", f"{loc.code}: no pickup")
        )
    elif "curbside" in methods and not loc.offers_curbside:
        errors.append(
            FieldError("pickup_location", "order.curbside_not_offered", f"{loc.code}: no curbside")
        )
    if errors:
        raise ValidationFailed(errors[0].code, errors[0].message, errors=errors)
    return loc


def check_customer(uow: UnitOfWork, request: OrderRequest) -> None:
    if request.customer is not None and uow.session.get(Customer, request.customer) is None:
        raise ValidationFailed(
            "customer.not_found",
            "no such customer",
            errors=[FieldError("customer", "customer.not_found", str(request.customer))],
        )


UNROUTABLE = frozenset({"no_eligible_location"})


def refuse_unroutable(
    result: RoutingResult, request: OrderRequest, channel: Channel, *, backorders: bool
) -> None:
    """No location can serve the address: 422. No stock anywhere: 409 listing every short
    line, unless the channel takes backorders."""
    if not result.short_lines:
        return
    errors = [
        FieldError(
            f"lines.{int(s.line_key)}.quantity",
            "order.unroutable_address" if s.reason in UNROUTABLE else "order.insufficient_stock",
            s.detail,
        )
        for s in result.short_lines
    ]
    details = {
        "lines": [
            {
                "line": int(s.line_key),
                "sku": request.lines[int(s.line_key)].sku,
                "method": s.method,
                "requested": s.quantity,
                "short": s.short,
                "reason": s.reason,
                "detail": s.detail,
            }
            for s in result.short_lines
        ]
    }
    unroutable = [e for e in errors if e.code == "order.unroutable_address"]
    if unroutable:
        raise ValidationFailed(
            "order.unroutable_address",
            "no location can deliver to this address",
            details,
            errors=unroutable,
        )
    if not (channel.allows_backorder or backorders):
        raise Conflict(
            "order.insufficient_stock",
            "not every line can be supplied; nothing was ordered",
            details,
            errors=errors,
        )

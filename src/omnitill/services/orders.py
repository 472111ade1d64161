"""Placing orders from any channel: priced by the register's engine, routed, reserved, paid.

`place()` checks the request, prices it (services/pricing.py, the channel's price lists and
promotions), routes every line (services/order_routing.py) and books the order, its lines,
fulfillments, allocations and reservations in one transaction: a refused order leaves
nothing behind. A line no location can supply refuses the order with every short line listed
(409 `order.insufficient_stock`) unless the channel takes backorders, when the units wait
as backordered.

An order paid by card is authorized through the gateway with the token the shop's payment
form got (never a card number): the order is committed first as `pending_payment`, so a lost
gateway answer is never money taken without a record; an approval places it (`order.placed`
goes out to the stores), a decline cancels it and releases its stock (402
`payment.declined`, the attempt kept on the order). The order id is the idempotency key:
sending the same order again answers the first result.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, replace
from functools import partial
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Channel,
    Customer,
    Location,
    Order,
    OrderFulfillment,
    OrderLine,
    Payment,
)
from omnitill.adapters.db.repositories import sequences
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import (
    Conflict,
    FieldError,
    OutcomeUnknown,
    PaymentDeclined,
    ValidationFailed,
)
from omnitill.domain.fulfillment.routing_model import OrderLine as RoutingLine
from omnitill.domain.fulfillment.routing_model import RoutingResult
from omnitill.domain.ids import uuid7
from omnitill.domain.orders.lifecycle import (
    PICKUP_METHODS,
    SHIPPING_METHODS,
    OrderStatus,
)
from omnitill.domain.payments.gateway import PaymentGateway
from omnitill.domain.payments.tenders import EntryMode
from omnitill.domain.pricing.cart import PricedCart
from omnitill.domain.tax.provider import TaxProvider
from omnitill.services import order_routing, order_timeline, payments
from omnitill.services.order_cancel import release_and_cancel
from omnitill.services.order_views import OrderView, load_view
from omnitill.services.pricing import (
    Address,
    CartLineRequest,
    CartRequest,
    Fulfillment,
    Place,
    PricedRequest,
    price_cart,
)
from omnitill.services.references import location_by_code
from omnitill.services.retries import run_retrying

ORDER_NUMBER_BASE = 100_000
ORDER_SEQUENCE = "order"
REROUTE_ATTEMPTS = 3


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


def place(
    *,
    db: Database,
    actor: Actor,
    gateway: PaymentGateway,
    request: OrderRequest,
    tax_provider: TaxProvider | None = None,
) -> OrderView:
    """Place `request` (see the module doc); the same id again replays the first answer."""
    actor.require(Permission.ORDERS_CREATE)
    order_id = request.id or uuid7()
    digest = request_hash(request)
    _check_shape(request)
    view = _book_retrying(db, actor, request, order_id, digest, tax_provider)
    if view.status != OrderStatus.PENDING_PAYMENT:
        return view
    # A new order, or a retry of one whose gateway answer was lost: the same payment id
    # makes the gateway answer the first request, never charge twice.
    return _authorize(db, actor, gateway, order_id, request)


def request_hash(request: OrderRequest) -> str:
    body = json.dumps(asdict(replace(request, id=None)), sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


# --- checks that need no database ---------------------------------------------------------


def _check_shape(request: OrderRequest) -> None:
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
    if request.card_token is not None and not request.card_token.strip():
        errors.append(FieldError("card_token", "payment.data_required", "the gateway token"))
    if errors:
        raise ValidationFailed(errors[0].code, "the order is invalid", errors=errors)


# --- booking ------------------------------------------------------------------------------


def _book_retrying(
    db: Database,
    actor: Actor,
    request: OrderRequest,
    order_id: uuid.UUID,
    digest: str,
    tax_provider: TaxProvider | None,
) -> OrderView:
    """Book the order; when a reservation loses a race with another order, route again
    against the stock as it now is (a few times), then give up with the shortage."""
    for attempt in range(1, REROUTE_ATTEMPTS + 1):
        try:
            return run_retrying(lambda: _book(db, actor, request, order_id, digest, tax_provider))
        except IntegrityError:
            # The same order id booked concurrently: the other one won; replay it.
            return run_retrying(lambda: _book(db, actor, request, order_id, digest, tax_provider))
        except Conflict as exc:
            if exc.code != "inventory.insufficient_stock" or attempt == REROUTE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _book(
    db: Database,
    actor: Actor,
    request: OrderRequest,
    order_id: uuid.UUID,
    digest: str,
    tax_provider: TaxProvider | None,
) -> OrderView:
    with db.uow() as uow:
        existing = uow.session.get(Order, order_id)
        if existing is not None:
            return _replay(uow, existing, digest)
        now = utcnow()
        channel = _channel(uow, request)
        pickup = _pickup_location(uow, request)
        _check_customer(uow, request)
        priced = _price(uow, request, channel, pickup, now, tax_provider)
        cart = priced.cart
        routing_lines = [
            RoutingLine(str(i), str(ref.id), line.quantity, line.method)
            for i, (ref, line) in enumerate(zip(priced.refs, request.lines, strict=True))
        ]
        ship = request.ship_to
        result = order_routing.plan(
            uow,
            lines=routing_lines,
            target=order_routing.Target(
                country=ship.country.upper() if ship else None,
                region=ship.region or None if ship else None,
                latitude=ship.latitude if ship else None,
                longitude=ship.longitude if ship else None,
                pickup_location=request.pickup_location,
            ),
            now=now,
        )
        _refuse_unroutable(result, request, channel)
        number = ORDER_NUMBER_BASE + sequences.next_value(uow.connection, ORDER_SEQUENCE)
        backordered = {s.line_key: s.short for s in result.short_lines}
        order = Order(
            id=order_id,
            number=number,
            channel=channel.code,
            kind="standard",
            status=OrderStatus.PENDING_PAYMENT if request.card_token else OrderStatus.PLACED,
            external_reference=request.external_reference,
            customer_id=request.customer,
            customer_name=request.customer_name.strip(),
            email=request.email.strip().lower() if request.email else None,
            phone=request.phone,
            ship_to=asdict(ship) if ship else None,
            currency=cart.currency,
            subtotal_minor=cart.subtotal,
            discount_total_minor=cart.discount_total,
            tax_total_minor=cart.tax_total,
            shipping_minor=cart.shipping,
            total_minor=cart.total,
            paid_minor=0,
            authorized_minor=0,
            refunded_minor=0,
            deposit_required_minor=0,
            pricing=cart_snapshot(cart),
            routing=result.explanation.as_dict(),
            request_hash=digest,
            note=request.note,
            actor_id=actor.user_id,
            placed_at=now,
            created_at=now,
            updated_at=now,
        )
        if backordered and order.status == OrderStatus.PLACED:
            order.status = OrderStatus.BACKORDERED
        uow.session.add(order)
        uow.session.flush()
        lines: dict[str, OrderLine] = {}
        for i, (ref, priced_line, line) in enumerate(
            zip(priced.refs, cart.lines, request.lines, strict=True)
        ):
            row = OrderLine(
                id=uuid7(),
                order_id=order.id,
                line_no=i + 1,
                variant_id=ref.id,
                sku=ref.sku,
                name=priced_line.name,
                quantity=line.quantity,
                method=line.method,
                pickup_location_id=pickup.id if pickup and line.method in PICKUP_METHODS else None,
                unit_price_minor=priced_line.unit_price,
                discount_total_minor=priced_line.discount_total,
                tax_total_minor=priced_line.tax_total,
                total_minor=priced_line.total,
                quantity_backordered=backordered.get(str(i), 0),
                quantity_cancelled=0,
                quantity_fulfilled=0,
            )
            uow.session.add(row)
            lines[str(i)] = row
        uow.session.flush()
        fulfillments = order_routing.book(
            uow,
            actor=actor,
            order_id=order.id,
            result=result,
            lines=lines,
            refs={ref.id: ref for ref in priced.refs},
            now=now,
        )
        order_timeline.record(
            uow,
            order,
            "placed",
            actor=actor,
            now=now,
            data={"total": order.total_minor, "currency": order.currency},
        )
        codes = _codes(uow, [f.location_id for f in fulfillments])
        order_timeline.record(
            uow,
            order,
            "routed",
            actor=actor,
            now=now,
            data={
                "summary": result.explanation.summary,
                "assignments": [
                    {"location": codes[f.location_id], "method": f.method} for f in fulfillments
                ],
                "backordered": [
                    {"line_no": int(k) + 1, "quantity": v} for k, v in sorted(backordered.items())
                ],
            },
        )
        if order.status != OrderStatus.PENDING_PAYMENT:
            announce_placed(uow, order, codes.values(), actor, now)
        uow.commit()
        return load_view(uow, order)


def announce_placed(
    uow: UnitOfWork, order: Order, locations: Any, actor: Actor | None, now: datetime
) -> None:
    """Tell the stores: `order.placed` to every location with a part of the order."""
    order_timeline.record(
        uow,
        order,
        "announced",
        actor=actor,
        now=now,
        publish="order.placed",
        locations=sorted(set(locations)),
        data={"total": order.total_minor, "currency": order.currency},
    )


def _replay(uow: UnitOfWork, existing: Order, digest: str) -> OrderView:
    if existing.request_hash != digest:
        raise ValidationFailed(
            "order.id_reused",
            "this order id was used for a different order",
            {"id": str(existing.id)},
            errors=[FieldError("id", "order.id_reused", "use a new id")],
        )
    return load_view(uow, existing, replayed=True)


def _channel(uow: UnitOfWork, request: OrderRequest) -> Channel:
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


def _pickup_location(uow: UnitOfWork, request: OrderRequest) -> Location | None:
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


def _check_customer(uow: UnitOfWork, request: OrderRequest) -> None:
    if request.customer is not None and uow.session.get(Customer, request.customer) is None:
        raise ValidationFailed(
            "customer.not_found",
            "no such customer",
            errors=[FieldError("customer", "customer.not_found", str(request.customer))],
        )


def _price(
    uow: UnitOfWork,
    request: OrderRequest,
    channel: Channel,
    pickup: Location | None,
    now: datetime,
    tax_provider: TaxProvider | None,
) -> PricedRequest:
    """Price like the register: the channel's lists and promotions; tax where the goods are
    handed over (the pickup store) or where they go (the shipping address)."""
    ship = request.ship_to
    all_pickup = all(line.method in PICKUP_METHODS for line in request.lines)
    return price_cart(
        uow,
        request=CartRequest(
            lines=tuple(CartLineRequest(x.sku, x.barcode, x.quantity) for x in request.lines),
            channel=channel.code,
            currency=request.currency,
            customer=request.customer,
            coupons=request.coupons,
            shipping=request.shipping,
            fulfillment=Fulfillment.PICKUP if all_pickup else Fulfillment.SHIP,
            ship_to=Address(ship.country.upper(), ship.region, ship.postal_code)
            if ship and not all_pickup
            else None,
        ),
        place=_place(pickup) if pickup and all_pickup else None,
        at=now,
        tax_provider=tax_provider,
    )


def _place(loc: Location) -> Place:
    return Place(
        id=loc.id,
        code=loc.code,
        currency=loc.currency,
        timezone=loc.timezone,
        tax_rate=loc.tax_rate,
        prices_include_tax=loc.prices_include_tax,
        tax_jurisdiction_id=loc.tax_jurisdiction_id,
    )


UNROUTABLE = frozenset({"no_eligible_location"})


def _refuse_unroutable(result: RoutingResult, request: OrderRequest, channel: Channel) -> None:
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
    if not channel.allows_backorder:
        raise Conflict(
            "order.insufficient_stock",
            "not every line can be supplied; nothing was ordered",
            details,
            errors=errors,
        )


def _codes(uow: UnitOfWork, location_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not location_ids:
        return {}
    return dict(
        uow.session.execute(
            select(Location.id, Location.code).where(Location.id.in_(location_ids))
        ).all()
    )


def cart_snapshot(cart: PricedCart) -> dict[str, Any]:
    """The priced cart as JSON: prices, discounts with their rules, taxes, as charged."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, Enum):
            return value.value
        return value

    result: dict[str, Any] = plain(asdict(cart))
    return result


# --- paying -------------------------------------------------------------------------------


def _authorize(
    db: Database,
    actor: Actor,
    gateway: PaymentGateway,
    order_id: uuid.UUID,
    request: OrderRequest,
) -> OrderView:
    """Authorize the order's total on the card token; place or cancel the order by the
    answer. An answer still unknown leaves it pending_payment (see resolve_payment)."""
    assert request.card_token is not None
    with db.uow(write=False) as uow:
        order = uow.session.get_one(Order, order_id)
        total, currency = order.total_minor, order.currency
        location = _booking_location(uow, order)
    pay = partial(
        payments.pay_by_card,
        db=db,
        actor=actor,
        gateway=gateway,
        request=payments.CardPaymentRequest(
            payment_id=uuid.uuid5(order_id, "authorization"),
            register=None,
            location=location,
            amount=total,
            payment_data=request.card_token,
            entry_mode=EntryMode.ONLINE,
            order_id=order_id,
            currency=currency,
            capture=False,
        ),
        permission=Permission.ORDERS_CREATE,
    )
    try:
        payment = pay()
    except (PaymentDeclined, ValidationFailed) as refused:
        if "payment_id" not in refused.details:
            raise
        with db.uow(write=False) as uow:
            paid = uow.session.get_one(Payment, uuid.UUID(str(refused.details["payment_id"])))
            payment = payments.view(paid)
    except OutcomeUnknown as lost:
        raise OutcomeUnknown(
            lost.code,
            "the gateway did not answer: send the same order again to learn the outcome",
            {**lost.details, "order_id": str(order_id)},
        ) from lost
    return settle_authorization(db, actor, order_id, payment)


def _booking_location(uow: UnitOfWork, order: Order) -> str:
    """The location an online payment is booked to: the first one fulfilling the order,
    else the pickup store, else the first store."""
    code = uow.session.scalar(
        select(Location.code)
        .join(OrderFulfillment, OrderFulfillment.location_id == Location.id)
        .where(OrderFulfillment.order_id == order.id)
        .order_by(OrderFulfillment.created_at, OrderFulfillment.id)
        .limit(1)
    ) or uow.session.scalar(select(Location.code).order_by(Location.code).limit(1))
    assert code is not None
    return code


def settle_authorization(
    db: Database, actor: Actor, order_id: uuid.UUID, payment: payments.PaymentView
) -> OrderView:
    """Apply the gateway's answer to a pending order: placed, or cancelled with its stock
    released (402 `payment.declined`)."""
    with db.uow() as uow:
        order = uow.session.get_one(Order, order_id, with_for_update=True)
        if order.status != OrderStatus.PENDING_PAYMENT:
            return load_view(uow, order)
        now = utcnow()
        data = {"payment_id": str(payment.id), "status": payment.status, "amount": payment.amount}
        if payment.status == "authorized":
            order.authorized_minor = payment.amount
            order.status = (
                OrderStatus.BACKORDERED if _has_backorders(uow, order) else OrderStatus.PLACED
            )
            order_timeline.record(uow, order, "payment_authorized", actor=actor, now=now, data=data)
            announce_placed(uow, order, _order_locations(uow, order), actor, now)
            uow.commit()
            return load_view(uow, order)
        if payment.status in {"pending", "unknown"}:
            return load_view(uow, order)
        order_timeline.record(
            uow,
            order,
            "payment_declined",
            actor=actor,
            now=now,
            data={**data, "decline_code": payment.decline_code},
        )
        order.status = OrderStatus.PLACED  # no longer waiting: derived from here on
        release_and_cancel(uow, order, actor=actor, now=now, reason="payment_declined")
        uow.commit()
    raise PaymentDeclined(
        "payment.declined" if payment.status == "declined" else "payment.failed",
        f"the card was refused ({payment.decline_code or payment.message})",
        {
            "order_id": str(order_id),
            "payment_id": str(payment.id),
            "decline_code": payment.decline_code,
        },
    )


def _has_backorders(uow: UnitOfWork, order: Order) -> bool:
    return any(
        line.quantity_backordered
        for line in uow.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))
    )


def _order_locations(uow: UnitOfWork, order: Order) -> list[str]:
    return list(
        uow.session.scalars(
            select(Location.code)
            .join(OrderFulfillment, OrderFulfillment.location_id == Location.id)
            .where(OrderFulfillment.order_id == order.id)
        )
    )

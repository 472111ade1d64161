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

import uuid
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Channel, Location, Order, OrderLine
from omnitill.adapters.db.repositories import sequences
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import Conflict, FieldError, ValidationFailed
from omnitill.domain.fulfillment.routing_model import OrderLine as RoutingLine
from omnitill.domain.ids import uuid7
from omnitill.domain.orders.lifecycle import PICKUP_METHODS, OrderStatus
from omnitill.domain.payments.gateway import PaymentGateway
from omnitill.domain.pricing.cart import PricedCart
from omnitill.domain.returns import bundles
from omnitill.domain.tax.provider import TaxProvider
from omnitill.services import order_routing, order_timeline, order_transfers
from omnitill.services.order_authorization import announce_placed, authorize
from omnitill.services.order_requests import (
    ORDER_DEPOSIT_PERCENT,
    AddressInput,
    OrderLineRequest,
    OrderRequest,
    channel_of,
    check_customer,
    check_shape,
    pickup_location_of,
    refuse_unroutable,
    request_hash,
)
from omnitill.services.order_views import OrderView, load_view
from omnitill.services.payments import register_and_location
from omnitill.services.pricing import (
    Address,
    CartLineRequest,
    CartRequest,
    Fulfillment,
    Place,
    PricedRequest,
    price_cart,
)
from omnitill.services.retries import run_retrying

__all__ = ["AddressInput", "OrderLineRequest", "OrderRequest", "cart_snapshot", "place"]

ORDER_NUMBER_BASE = 100_000
ORDER_SEQUENCE = "order"
REROUTE_ATTEMPTS = 3


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
    check_shape(request)
    view = _book_retrying(db, actor, request, order_id, digest, tax_provider)
    if view.status != OrderStatus.PENDING_PAYMENT:
        return view
    # A new order, or a retry of one whose gateway answer was lost: the same payment id
    # makes the gateway answer the first request, never charge twice.
    assert request.card_token is not None
    return authorize(db, actor, gateway, order_id, request.card_token)


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
        channel = channel_of(uow, request)
        pickup = pickup_location_of(uow, request)
        origin = register_and_location(uow, actor, request.register) if request.register else None
        check_customer(uow, request)
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
        transfer_routing = None
        if request.pickup_by_transfer and pickup is not None:
            result, transfer_routing = order_transfers.cover_pickups(
                uow, result=result, refs=list(priced.refs), pickup=pickup, now=now
            )
        refuse_unroutable(result, request, channel, backorders=request.kind == "special_order")
        number = ORDER_NUMBER_BASE + sequences.next_value(uow.connection, ORDER_SEQUENCE)
        backordered = {s.line_key: s.short for s in result.short_lines}
        order = Order(
            id=order_id,
            number=number,
            channel=channel.code,
            kind=request.kind,
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
            deposit_required_minor=-(-cart.total * ORDER_DEPOSIT_PERCENT[request.kind] // 100),
            origin_location_id=origin[1].id if origin else None,
            origin_register_id=origin[0].id if origin else None,
            pricing=cart_snapshot(cart),
            routing={
                **result.explanation.as_dict(),
                **({"transfer": transfer_routing} if transfer_routing else {}),
            },
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


def _replay(uow: UnitOfWork, existing: Order, digest: str) -> OrderView:
    if existing.request_hash != digest:
        raise ValidationFailed(
            "order.id_reused",
            "this order id was used for a different order",
            {"id": str(existing.id)},
            errors=[FieldError("id", "order.id_reused", "use a new id")],
        )
    return load_view(uow, existing, replayed=True)


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
    # By order line number, as sales store them, for buy-X-get-Y charge-backs on returns.
    result["promotion_groups"] = bundles.snapshot(cart)
    return result

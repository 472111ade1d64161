"""Orders from every channel and what each location does with its part of them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from omnitill.api.deps import (
    Cursor,
    DbDep,
    GatewayDep,
    Limit,
    NotifierDep,
    TaxProviderDep,
    require,
)
from omnitill.api.schemas.orders import (
    AvailabilityList,
    AvailabilityRead,
    CancelIn,
    OrderCreate,
    OrderPage,
    OrderRead,
    PickItemRead,
    PickList,
    PickOrderRead,
    PickupIn,
    RejectIn,
    RoutePreviewIn,
    RoutePreviewRead,
    StepIn,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.orders.lifecycle import Step
from omnitill.services import order_backorders, order_routing, order_service, pick_lists
from omnitill.services import order_views as views
from omnitill.services import orders as order_placing

router = APIRouter(prefix="/api/v1", tags=["orders"])
Reader = Annotated[Actor, Depends(require(Permission.ORDERS_READ))]
Placer = Annotated[Actor, Depends(require(Permission.ORDERS_CREATE))]
Fulfiller = Annotated[Actor, Depends(require(Permission.ORDERS_FULFIL))]
Canceller = Annotated[Actor, Depends(require(Permission.ORDERS_CANCEL))]


def order_json(view: views.OrderView, *, created: bool = False) -> Response:
    """The order as the API shows it (201 when just created, replays flagged)."""
    return Response(
        content=OrderRead.model_validate(view, from_attributes=True).model_dump_json(),
        status_code=status.HTTP_201_CREATED if created and not view.replayed else 200,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"} if view.replayed else None,
    )


@router.post(
    "/orders",
    response_model=OrderRead,
    status_code=status.HTTP_201_CREATED,
    summary="Place an order (web, marketplace, social, phone)",
    responses={
        200: {"description": "Replay: this order id was placed before with the same body."},
        402: {"description": "`payment.declined`: the order was cancelled, stock released."},
        409: {"description": "`order.insufficient_stock`, listing every short line."},
        422: {
            "description": "`order.unknown_channel`, `order.method_not_allowed`, "
            "`order.pickup_not_offered`, `order.unroutable_address`, `order.id_reused`, "
            "invalid lines."
        },
    },
)
def place_order(
    body: OrderCreate, actor: Placer, db: DbDep, gateway: GatewayDep, tax: TaxProviderDep
) -> Response:
    """Priced by the register's engine for the channel, routed to locations by the routing
    rules (the explanation is stored on the order), stock reserved, the card authorized.
    The body's `id` (or an Idempotency-Key header) makes a retry safe."""
    request = order_placing.OrderRequest(
        id=body.id,
        channel=body.channel,
        lines=tuple(
            order_placing.OrderLineRequest(x.sku, x.barcode, x.quantity, x.method)
            for x in body.lines
        ),
        customer=body.customer,
        customer_name=body.customer_name,
        email=body.email,
        phone=body.phone,
        ship_to=order_placing.AddressInput(**body.ship_to.model_dump()) if body.ship_to else None,
        pickup_location=body.pickup_location,
        coupons=tuple(body.coupons),
        shipping=body.shipping,
        currency=body.currency,
        card_token=body.card_token,
        external_reference=body.external_reference,
        note=body.note,
        kind=body.kind,
        register=body.till,
        pickup_by_transfer=body.pickup_by_transfer,
    )
    view = order_placing.place(
        db=db, actor=actor, gateway=gateway, request=request, tax_provider=tax
    )
    return order_json(view, created=True)


@router.get("/orders", response_model=OrderPage, summary="List orders")
def list_orders(
    actor: Reader,
    db: DbDep,
    cursor: Cursor = None,
    limit: Limit = None,
    number: Annotated[str | None, Query(description="#100123")] = None,
    status_: Annotated[str | None, Query(alias="status")] = None,
    channel: str | None = None,
    location: Annotated[str | None, Query(description="Orders with a part there.")] = None,
    email: str | None = None,
) -> OrderPage:
    """Newest first, one page; filter by number, status, channel, a location with a part
    of the order, or the customer's email. Staff bound to stores see their stores' orders."""
    items, next_cursor = views.find(
        db=db,
        actor=actor,
        number=number,
        status=status_,
        channel=channel,
        location=location,
        email=email,
        cursor=cursor,
        limit=limit,
    )
    return OrderPage(
        items=[OrderRead.model_validate(v, from_attributes=True) for v in items],
        next_cursor=next_cursor,
    )


@router.get(
    "/orders/availability",
    response_model=AvailabilityList,
    summary="Endless aisle: a SKU's stock at every location, nearest first",
)
def availability(
    actor: Reader,
    db: DbDep,
    sku: str,
    near: Annotated[str | None, Query(description="The asking store, e.g. S01.")] = None,
) -> AvailabilityList:
    """Promisable units (safety stock kept back) at every location, with the distance from
    `near` and whether the location is stale; what the register offers when its shelf is empty."""
    rows = order_routing.availability(db=db, actor=actor, sku=sku, near=near)
    return AvailabilityList(
        sku=sku, items=[AvailabilityRead.model_validate(r, from_attributes=True) for r in rows]
    )


@router.get(
    "/orders/pick-list",
    response_model=PickList,
    summary="A location's pick list: units to pick by SKU across its open orders",
)
def get_pick_list(
    actor: Reader,
    db: DbDep,
    location: Annotated[str, Query(description="The picking location, e.g. S01.")],
) -> PickList:
    """Every SKU its assigned, accepted or picking fulfillments still need, with the orders
    (number, fulfillment, units) each unit is for, oldest order first."""
    items = pick_lists.pick_list(db=db, actor=actor, location=location)
    return PickList(
        location=location,
        items=[
            PickItemRead(
                sku=i.sku,
                name=i.name,
                quantity=i.quantity,
                orders=[
                    PickOrderRead(number=n, fulfillment_id=f, quantity=q) for n, f, q in i.orders
                ],
            )
            for i in items
        ],
    )


@router.post(
    "/orders/route-preview",
    response_model=RoutePreviewRead,
    summary="Where an order would be routed now, with the reasons; nothing is booked",
)
def route_preview(body: RoutePreviewIn, actor: Reader, db: DbDep) -> RoutePreviewRead:
    """Runs the routing rules on today's stock and answers assignments, short lines and
    the explanation; books nothing."""
    ship = body.ship_to
    result = order_routing.preview(
        db=db,
        actor=actor,
        lines=[(x.sku, x.quantity, x.method) for x in body.lines],
        target=order_routing.Target(
            country=ship.country.upper() if ship else None,
            region=ship.region or None if ship else None,
            latitude=ship.latitude if ship else None,
            longitude=ship.longitude if ship else None,
            pickup_location=body.pickup_location,
        ),
    )
    data = result.as_dict()
    return RoutePreviewRead(
        assignments=data["assignments"],
        short_lines=data["short_lines"],
        explanation=data["explanation"],
    )


@router.post(
    "/orders/{order_id}/allocate",
    response_model=OrderRead,
    summary="Route backordered units against today's stock",
    responses={409: {"description": "`order.nothing_backordered`."}},
)
def allocate(order_id: uuid.UUID, actor: Fulfiller, db: DbDep) -> Response:
    """Backordered units are routed again and reserved where stock now is; what still
    finds none stays backordered."""
    return order_json(order_backorders.allocate_backorders(db=db, actor=actor, order_id=order_id))


@router.get("/orders/{order_id}", response_model=OrderRead, summary="One order")
def get_order(order_id: uuid.UUID, actor: Reader, db: DbDep) -> Response:
    """Lines, fulfillments with SLA times and tracking, payments (last four digits only),
    the full timeline and the routing explanation."""
    return order_json(views.get(db=db, actor=actor, order_id=order_id))


STEP_DOCS = {
    Step.ACCEPT: "The location accepts its part.",
    Step.PICK: "Picking has started.",
    Step.PACK: "Packed, ready to ship (ship and local delivery).",
    Step.READY: "Ready for pickup: the customer is notified with a pickup code.",
    Step.DELIVER: "Delivered (local delivery, or the carrier's last event).",
}


def _step_route(step: Step) -> None:
    path = "/orders/{order_id}/fulfillments/{fulfillment_id}/" + step.value

    def handler(
        order_id: uuid.UUID,
        fulfillment_id: uuid.UUID,
        actor: Fulfiller,
        db: DbDep,
        gateway: GatewayDep,
        notifier: NotifierDep,
        body: StepIn | None = None,
    ) -> Response:
        view = order_service.advance(
            db=db,
            actor=actor,
            gateway=gateway,
            order_id=order_id,
            fulfillment_id=fulfillment_id,
            step=step,
            note=body.note if body else "",
            notifier=notifier,
        )
        return order_json(view)

    handler.__name__ = f"fulfillment_{step.value}"
    handler.__doc__ = (
        f"{STEP_DOCS[step]} The step is checked against the fulfillment's state (409 when it "
        "cannot follow), stamped, written to the timeline and sent to the location's event "
        "stream."
    )
    router.add_api_route(
        path,
        handler,
        methods=["POST"],
        response_model=OrderRead,
        summary=STEP_DOCS[step],
        responses={409: {"description": "`order.invalid_transition` and kin."}},
    )


for _step in STEP_DOCS:
    _step_route(_step)


@router.post(
    "/orders/{order_id}/fulfillments/{fulfillment_id}/pick_up",
    response_model=OrderRead,
    summary="Hand a pickup over, verified by pickup code or number and name",
    responses={
        409: {"description": "`order.balance_due`, `order.invalid_transition`."},
        422: {"description": "`order.pickup_code_mismatch`, `order.pickup_identity_mismatch`."},
    },
)
def pick_up(
    order_id: uuid.UUID,
    fulfillment_id: uuid.UUID,
    body: PickupIn,
    actor: Fulfiller,
    db: DbDep,
    gateway: GatewayDep,
) -> Response:
    """The customer shows the QR code from their notification (`pickup_code`) or gives the
    order number and their name; nothing must be left to pay. The units leave stock."""
    view = order_service.advance(
        db=db,
        actor=actor,
        gateway=gateway,
        order_id=order_id,
        fulfillment_id=fulfillment_id,
        step=Step.PICK_UP,
        handover=order_service.Handover(body.pickup_code, body.number, body.name),
    )
    return order_json(view)


@router.post(
    "/orders/{order_id}/fulfillments/{fulfillment_id}/reject",
    response_model=OrderRead,
    summary="Reject an assignment; the order is routed again without this location",
)
def reject(
    order_id: uuid.UUID,
    fulfillment_id: uuid.UUID,
    body: RejectIn,
    actor: Fulfiller,
    db: DbDep,
    gateway: GatewayDep,
) -> Response:
    """The rejected units' reservation is released and they are routed again; the order
    never goes back to a location that refused it. What no location can take is backordered
    or cancelled."""
    view = order_service.reject(
        db=db,
        actor=actor,
        gateway=gateway,
        order_id=order_id,
        fulfillment_id=fulfillment_id,
        reason=body.reason,
        line_numbers=tuple(body.lines),
    )
    return order_json(view)


@router.post(
    "/orders/{order_id}/cancel",
    response_model=OrderRead,
    summary="Cancel the order or some units of its lines",
    responses={409: {"description": "`order.already_shipped`, `order.not_cancellable`."}},
)
def cancel(
    order_id: uuid.UUID, body: CancelIn, actor: Canceller, db: DbDep, gateway: GatewayDep
) -> Response:
    """Stock held for the cancelled units is released; the card authorization is voided
    (or captured for less later), a captured payment refunded."""
    view = order_service.cancel(
        db=db,
        actor=actor,
        gateway=gateway,
        order_id=order_id,
        reason=body.reason,
        lines=tuple(order_service.CancelLine(x.line_no, x.quantity) for x in body.lines),
        register=body.till,
        override_token=body.override_token,
    )
    return order_json(view)

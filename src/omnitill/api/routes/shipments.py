"""Shipping an order's part with a carrier label, and following the parcel."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from omnitill.api.deps import (
    CarrierDep,
    DbDep,
    GatewayDep,
    NotifierDep,
    SettingsDep,
    labels_dir,
    require,
)
from omnitill.api.routes.orders import order_json as _json
from omnitill.api.schemas.orders import (
    OrderRead,
    RateList,
    RateRead,
    ShipIn,
    TrackingPage,
    TrackingRead,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.fulfillment.carrier import Parcel
from omnitill.domain.orders.lifecycle import Step
from omnitill.services import order_service, shipments

router = APIRouter(tags=["orders"])
Fulfiller = Annotated[Actor, Depends(require(Permission.ORDERS_FULFIL))]


@router.post(
    "/api/v1/orders/{order_id}/fulfillments/{fulfillment_id}/ship",
    response_model=OrderRead,
    summary="Shipped: the units leave stock; with `label`, a carrier label is bought",
    responses={
        409: {"description": "`order.invalid_transition`, `order.already_shipped`."},
        422: {"description": "`carrier.invalid_address`, `carrier.address_undeliverable`, ..."},
        504: {"description": "`carrier.timeout`: send again, the same label is answered."},
    },
)
def ship(
    order_id: uuid.UUID,
    fulfillment_id: uuid.UUID,
    actor: Fulfiller,
    db: DbDep,
    gateway: GatewayDep,
    carrier: CarrierDep,
    notifier: NotifierDep,
    settings: SettingsDep,
    body: ShipIn | None = None,
) -> Response:
    """The label's PDF is at GET /api/v1/shipments/{tracking_number}/label; the customer is
    sent the tracking link."""
    if body is not None and body.label is not None:
        view = order_service.ship_with_label(
            db=db,
            actor=actor,
            gateway=gateway,
            carrier=carrier,
            order_id=order_id,
            fulfillment_id=fulfillment_id,
            parcel=shipments.ParcelInput(
                body.label.service, body.label.weight_grams, body.label.dimensions_mm
            ),
            labels_dir=labels_dir(settings),
            notifier=notifier,
        )
        return _json(view)
    view = order_service.advance(
        db=db,
        actor=actor,
        gateway=gateway,
        order_id=order_id,
        fulfillment_id=fulfillment_id,
        step=Step.SHIP,
        note=body.note if body else "",
    )
    return _json(view)


@router.get(
    "/api/v1/orders/{order_id}/fulfillments/{fulfillment_id}/rates",
    response_model=RateList,
    summary="The carrier's prices for this parcel, cheapest first",
)
def rates(
    order_id: uuid.UUID,
    fulfillment_id: uuid.UUID,
    actor: Fulfiller,
    db: DbDep,
    carrier: CarrierDep,
    weight_grams: Annotated[int, Query(gt=0)],
) -> RateList:
    """Every service between the store and the customer's address for a parcel of this
    weight, from the configured carrier."""
    found = shipments.rates(
        db=db,
        actor=actor,
        carrier=carrier,
        order_id=order_id,
        fulfillment_id=fulfillment_id,
        parcel=Parcel(weight_grams),
    )
    return RateList(items=[RateRead.model_validate(r, from_attributes=True) for r in found])


@router.get(
    "/api/v1/shipments/{tracking_number}/label",
    response_class=Response,
    summary="The shipping label PDF, to print again",
    responses={200: {"content": {"application/pdf": {}}}},
)
def label(tracking_number: str, actor: Fulfiller, db: DbDep, settings: SettingsDep) -> Response:
    """The PDF kept when the label was bought, for the fulfilling location."""
    pdf = shipments.label_pdf(
        db=db, actor=actor, tracking_number=tracking_number, labels_dir=labels_dir(settings)
    )
    return Response(pdf, media_type="application/pdf")


@router.post(
    "/api/v1/shipments/{tracking_number}/refresh",
    response_model=TrackingPage,
    summary="Read the carrier's tracking now (delivered parcels complete their part)",
)
def refresh(tracking_number: str, actor: Fulfiller, db: DbDep, carrier: CarrierDep) -> TrackingPage:
    """Stores the carrier's new tracking events once each; a delivered parcel delivers its
    fulfillment (and may complete the order)."""
    shipments.refresh(db=db, actor=actor, carrier=carrier, tracking_number=tracking_number)
    return _tracking(db, tracking_number)


@router.get(
    "/track/{tracking_number}",
    response_model=TrackingPage,
    summary="The customer's tracking page: status and scans, nothing else (no sign-in)",
)
def track(tracking_number: str, db: DbDep) -> TrackingPage:
    """The public tracking page linked from the shipped email: status and scans only."""
    return _tracking(db, tracking_number)


def _tracking(db: DbDep, tracking_number: str) -> TrackingPage:
    status, events = shipments.tracking(db=db, tracking_number=tracking_number)
    return TrackingPage(
        tracking_number=tracking_number,
        status=status,
        events=[TrackingRead.model_validate(e, from_attributes=True) for e in events],
    )

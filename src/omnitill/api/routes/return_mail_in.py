"""Mail-in returns (RMA): the carrier return label, receiving the parcel, cancelling."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from omnitill.api.deps import (
    CarrierDep,
    DbDep,
    GatewayDep,
    NotifierDep,
    SettingsDep,
    labels_dir,
    require,
)
from omnitill.api.schemas.return_mail_in import (
    ReturnCancel,
    ReturnLabelCreate,
    ReturnLabelRead,
    ReturnReceive,
)
from omnitill.api.schemas.returns import ReturnRead
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.services import return_label, return_mail_in
from omnitill.services.return_mail_in import LineReceived

router = APIRouter(prefix="/api/v1", tags=["returns"])
Clerk = Annotated[Actor, Depends(require(Permission.RETURNS_CREATE))]

_STATE = {
    "description": "`returns.not_authorized` (received, cancelled or settled already), "
    "`returns.not_mail_in`."
}
_MISSING = {"description": "`returns.not_found`."}


@router.post(
    "/returns/{return_id}/label",
    response_model=ReturnLabelRead,
    status_code=status.HTTP_201_CREATED,
    summary="Buy the prepaid carrier label for a mail-in return (once)",
    responses={
        200: {"description": "The label bought earlier, answered again."},
        404: _MISSING,
        409: _STATE,
        422: {
            "description": "`carrier.invalid_address` (the order has no ship-to address), "
            "`carrier.address_undeliverable`, `carrier.idempotency_key_reused`, ..."
        },
        504: {"description": "`carrier.timeout`: send again, the same label is answered."},
    },
)
def buy_label(
    return_id: uuid.UUID,
    actor: Clerk,
    db: DbDep,
    carrier: CarrierDep,
    notifier: NotifierDep,
    settings: SettingsDep,
    body: ReturnLabelCreate | None = None,
) -> Response:
    """From the order's ship-to address to the return's location. The customer is emailed
    the PDF; staff print it from GET /api/v1/returns/{id}/label.pdf."""
    parcel = body or ReturnLabelCreate()
    view = return_label.buy_label(
        db=db,
        actor=actor,
        carrier=carrier,
        return_id=return_id,
        service=parcel.service,
        weight_grams=parcel.weight_grams,
        dimensions_mm=parcel.dimensions_mm,
        labels_dir=labels_dir(settings),
        notifier=notifier,
    )
    read = ReturnLabelRead(
        return_id=view.return_id,
        number=view.number,
        carrier=view.carrier,
        tracking_number=view.tracking_number,
        label=view.label,
        label_url=f"/api/v1/returns/{view.return_id}/label.pdf",
    )
    return Response(
        content=read.model_dump_json(),
        status_code=status.HTTP_201_CREATED if view.bought else status.HTTP_200_OK,
        media_type="application/json",
    )


@router.get(
    "/returns/{return_id}/label.pdf",
    response_class=Response,
    summary="The return label PDF",
    responses={
        200: {"content": {"application/pdf": {}}},
        404: {"description": "`returns.not_found`, `returns.no_label`, `returns.label_missing`."},
    },
)
def label_pdf(return_id: uuid.UUID, actor: Clerk, db: DbDep, settings: SettingsDep) -> Response:
    """The PDF kept when the label was bought."""
    pdf = return_label.label_pdf(
        db=db, actor=actor, return_id=return_id, labels_dir=labels_dir(settings)
    )
    return Response(pdf, media_type="application/pdf")


@router.post(
    "/returns/{return_id}/receive",
    response_model=ReturnRead,
    summary="The mail-in parcel arrived: stock by disposition, then the refund",
    responses={
        404: _MISSING,
        409: {
            "description": "`returns.not_authorized` (received twice, cancelled), "
            "`returns.not_accepted_here`, `returns.tenders_exhausted`, `shift.required`."
        },
        422: {
            "description": "`returns.disposition_required` (naming each line left out), "
            "`returns.unknown_line`, `returns.line_repeated`, `returns.invalid_disposition`, "
            "`returns.invalid_condition`, `returns.currency_mismatch`."
        },
    },
)
def receive(
    return_id: uuid.UUID, body: ReturnReceive, actor: Clerk, db: DbDep, gateway: GatewayDep
) -> ReturnRead:
    """Every line of the return is named once with its disposition. The units go into the
    stock of the location that received the parcel (any store or warehouse; it becomes the
    return's location) and the refund decided at authorisation goes back to the order's
    tenders as at the counter; card refunds go to the gateway after the commit."""
    view = return_mail_in.receive(
        db=db,
        actor=actor,
        gateway=gateway,
        return_id=return_id,
        lines=tuple(LineReceived(x.line_no, x.disposition, x.condition) for x in body.lines),
        location=body.location,
        register=body.register,
    )
    return ReturnRead.model_validate(view, from_attributes=True)


@router.post(
    "/returns/{return_id}/cancel",
    response_model=ReturnRead,
    summary="Cancel a mail-in return whose parcel never came",
    responses={404: _MISSING, 409: _STATE},
)
def cancel(
    return_id: uuid.UUID,
    actor: Clerk,
    db: DbDep,
    carrier: CarrierDep,
    body: ReturnCancel | None = None,
) -> ReturnRead:
    """The units go back onto the order lines (they may be returned again); an unused
    label is voided with the carrier."""
    view = return_mail_in.cancel(
        db=db, actor=actor, carrier=carrier, return_id=return_id, note=body.note if body else ""
    )
    return ReturnRead.model_validate(view, from_attributes=True)

"""Returns and exchanges: take units back at any location, refund to the original tenders."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status

from omnitill.api.deps import DbDep, GatewayDep, OverrideHeader, require
from omnitill.api.schemas.returns import (
    ReturnCreate,
    ReturnList,
    ReturnPreview,
    ReturnRead,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.ids import uuid7
from omnitill.services import return_views, returns
from omnitill.services.return_requests import LineInput, ReturnInput, decision_json

router = APIRouter(prefix="/api/v1", tags=["returns"])
Clerk = Annotated[Actor, Depends(require(Permission.RETURNS_CREATE))]

_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {
        "description": "`returns.manager_approval_required` (with the reasons and the "
        "decision): send a manager's override token in `X-Manager-Override`."
    },
    404: {"description": "`sale.not_found`, `order.not_found`."},
    409: {
        "description": "`returns.more_than_sold` (another return took the units meanwhile), "
        "`returns.not_accepted_here`, `shift.required` (cash from a drawer), "
        "`returns.tenders_exhausted`."
    },
    422: {
        "description": "A refused line: `returns.more_than_sold`, `returns.already_returned`, "
        "`returns.window_expired`, `returns.serial_mismatch`, `returns.final_sale`, ... "
        "(`returns.refused` when several), each in `errors` with its line; "
        "`returns.unknown_line`, `returns.invalid_reason`, `returns.invalid_disposition`, "
        "`returns.customer_required`, `returns.id_reused`."
    },
}


def _input(body: ReturnCreate, override: str | None) -> ReturnInput:
    return ReturnInput(
        id=body.id or uuid7(),
        kind=body.kind,
        location=body.location,
        register=body.register,
        sale_id=body.sale_id,
        order_id=body.order_id,
        customer_id=body.customer_id,
        card_present=body.card_present,
        card_fingerprint=body.card_fingerprint,
        note=body.note,
        override_token=override,
        refund_to=tuple((str(x.payment_id), x.amount) for x in body.refund_to),
        lines=tuple(
            LineInput(
                quantity=x.quantity,
                reason=x.reason,
                condition=x.condition,
                disposition=x.disposition,
                line_id=x.line_id,
                sku=x.sku,
                serials=tuple(x.serials),
            )
            for x in body.lines
        ),
    )


@router.post(
    "/returns",
    response_model=ReturnRead,
    status_code=status.HTTP_201_CREATED,
    summary="Take a return, an exchange or a mail-in return authorisation",
    responses={200: {"description": "Replay of the same return id and body."}, **_ERRORS},
)
def create_return(
    body: ReturnCreate,
    actor: Clerk,
    db: DbDep,
    gateway: GatewayDep,
    override: OverrideHeader = None,
) -> Response:
    """Decides every line by the return policy, scores the fraud checks, takes the units off
    the purchase, puts them in this location's stock by disposition and gives the money back
    to the tenders that paid (store credit without a receipt), all in one transaction; card
    refunds go to the gateway after it. An `exchange` keeps the money as credit for the new
    sale or order (`{"method": "exchange", "code": "<return number>"}`); a `mail_in` return
    only authorises (see `/returns/{id}/receive`)."""
    view = returns.create(db=db, actor=actor, gateway=gateway, request=_input(body, override))
    read = ReturnRead.model_validate(view, from_attributes=True)
    return Response(
        content=read.model_dump_json(),
        status_code=status.HTTP_200_OK if view.replayed else status.HTTP_201_CREATED,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"} if view.replayed else None,
    )


@router.post(
    "/returns/preview",
    response_model=ReturnPreview,
    summary="What a return would refund, and why, without taking it",
    responses=_ERRORS,
)
def preview_return(
    body: ReturnCreate, actor: Clerk, db: DbDep, override: OverrideHeader = None
) -> ReturnPreview:
    """The policy's decision line by line with its reasons, the refund plan over the
    tenders, the risk score and whether a manager must approve. Writes nothing."""
    ev, currency = returns.preview(db=db, actor=actor, request=_input(body, override))
    return ReturnPreview(
        currency=currency,
        allowed=ev.decision.allowed,
        needs_manager=ev.needs_manager,
        approval_reasons=ev.approval_reasons(),
        refund_total=ev.refund_total,
        decision=decision_json(ev),
        risk=[{"code": s.code, "points": s.points, "message": s.message} for s in ev.risk.signals],
    )


@router.get("/returns", response_model=ReturnList, summary="Returns of a sale or an order")
def list_returns(
    actor: Clerk, db: DbDep, sale_id: uuid.UUID | None = None, order_id: uuid.UUID | None = None
) -> ReturnList:
    """Newest first (at most 100)."""
    items = return_views.list_returns(db=db, actor=actor, sale_id=sale_id, order_id=order_id)
    return ReturnList(items=[ReturnRead.model_validate(v, from_attributes=True) for v in items])


@router.get(
    "/returns/{return_id}",
    response_model=ReturnRead,
    summary="A return with its lines, decision and refunds",
    responses={404: {"description": "`returns.not_found`."}},
)
def get_return(return_id: uuid.UUID, actor: Clerk, db: DbDep) -> ReturnRead:
    """Its lines with the policy's reasons, the refunds per tender (card brand and last four
    only), the risk signals and the approval."""
    view = return_views.get(db=db, actor=actor, return_id=return_id)
    return ReturnRead.model_validate(view, from_attributes=True)

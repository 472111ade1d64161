"""Settling a return: refund what an exchange did not spend, or give declined card refunds
another way."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from omnitill.api.deps import DbDep, GatewayDep, require
from omnitill.api.schemas.return_settle import ReturnSettleCreate
from omnitill.api.schemas.returns import ReturnRead
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.services import return_settle
from omnitill.services.return_settle import SettleInput

router = APIRouter(prefix="/api/v1", tags=["returns"])
Clerk = Annotated[Actor, Depends(require(Permission.RETURNS_CREATE))]

_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {
        "description": "`returns.manager_approval_required`: giving a declined card refund "
        "otherwise (or a card that cannot take the rest) needs `returns.approve` or a "
        "manager's `override_token`; `override.invalid`."
    },
    404: {"description": "`returns.not_found`."},
    409: {
        "description": "`returns.not_settleable` (the return is neither exchange_open nor "
        "refund_pending), `shift.required` (cash from a drawer), `returns.tenders_exhausted`, "
        "`returns.busy`."
    },
    422: {
        "description": "`returns.fallback_required` (a card refund was declined: say how to "
        "give it), `returns.customer_required` (store credit needs the return's customer), "
        "`returns.register_required` (cash)."
    },
}


@router.post(
    "/returns/{return_id}/settle",
    response_model=ReturnRead,
    summary="Settle a return: refund an exchange's unspent credit, or declined card refunds",
    responses=_ERRORS,
)
def settle_return(
    return_id: uuid.UUID,
    body: ReturnSettleCreate,
    actor: Clerk,
    db: DbDep,
    gateway: GatewayDep,
) -> ReturnRead:
    """An open exchange: the credit not spent is refunded to the purchase's tenders now and
    the exchange closes. A return waiting on refunds: pending card refunds are sent again and
    declined ones given as `fallback` with a manager's approval (the declined row stays as
    history). Send an Idempotency-Key header to make a retry safe."""
    view = return_settle.settle(
        db=db,
        actor=actor,
        gateway=gateway,
        request=SettleInput(
            return_id=return_id,
            register=body.register,
            fallback=body.fallback,
            override_token=body.override_token,
        ),
    )
    return ReturnRead.model_validate(view, from_attributes=True)

"""Store credit of a customer: balances, ledger, and credit granted by hand."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from omnitill.api.deps import CurrentActor, DbDep, OverrideHeader
from omnitill.services import store_credit as service

router = APIRouter(prefix="/api/v1", tags=["payments"])


class StoreCreditIssue(BaseModel):
    currency: str = Field(min_length=3, max_length=3)
    amount: int = Field(description="Minor units to add.")
    reason: str = Field(max_length=200)


class StoreCreditBalance(BaseModel):
    currency: str
    balance: int


class StoreCreditEntryRead(BaseModel):
    id: str
    currency: str
    kind: str = Field(description="issue | refund | redeem")
    amount: int = Field(description="Signed change of the balance.")
    balance_after: int
    reason: str
    reference_type: str | None
    reference_id: str | None
    actor: str | None
    created_at: datetime


class StoreCreditAccountRead(BaseModel):
    balances: list[StoreCreditBalance]
    entries: list[StoreCreditEntryRead] = Field(description="Newest first, at most 200.")


@router.get(
    "/customers/{customer_id}/store-credit",
    response_model=StoreCreditAccountRead,
    summary="A customer's store credit and its ledger",
)
def get_store_credit(
    customer_id: uuid.UUID, actor: CurrentActor, db: DbDep
) -> StoreCreditAccountRead:
    """404 `customer.not_found`."""
    balances, entries = service.account(db=db, actor=actor, customer_id=customer_id)
    return StoreCreditAccountRead(
        balances=[StoreCreditBalance(currency=b.currency, balance=b.balance) for b in balances],
        entries=[
            StoreCreditEntryRead(
                id=str(e.id),
                currency=e.currency,
                kind=e.kind,
                amount=e.amount,
                balance_after=e.balance_after,
                reason=e.reason,
                reference_type=e.reference_type,
                reference_id=e.reference_id,
                actor=e.actor,
                created_at=e.created_at,
            )
            for e in entries
        ],
    )


@router.post(
    "/customers/{customer_id}/store-credit",
    response_model=StoreCreditBalance,
    status_code=status.HTTP_201_CREATED,
    summary="Grant store credit by hand (audited)",
)
def issue_store_credit(
    customer_id: uuid.UUID,
    body: StoreCreditIssue,
    actor: CurrentActor,
    db: DbDep,
    override: OverrideHeader = None,
) -> StoreCreditBalance:
    """Needs store_credit.issue or a manager override in X-Manager-Override. 422
    `store_credit.invalid_amount`, `store_credit.reason_required`; 404 `customer.not_found`."""
    balance = service.issue(
        db=db,
        actor=actor,
        customer_id=customer_id,
        currency=body.currency,
        amount=body.amount,
        reason=body.reason,
        override_token=override,
    )
    return StoreCreditBalance(currency=balance.currency, balance=balance.balance)

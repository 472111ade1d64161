"""Spending an exchange return's credit on the new sale or order (the `exchange` tender).

An exchange (`POST /api/v1/returns` with `"kind": "exchange"`) takes the goods back and keeps
what they refund as credit on the return (`exchange_credit_minor`, status `exchange_open`),
with no money moving. The register then pays the new sale, or a payment on an order, with
`{"method": "exchange", "code": "<return number>", "amount": n}`.

The credit is claimed by ONE conditional UPDATE of the return
(`exchange_applied + n <= exchange_credit AND status = 'exchange_open'`), so two sales
spending one return at the same moment never take more than it holds: the later one finds
too little left and is refused (422 `payment.exchange_credit_insufficient`). The same UPDATE
completes the return when it spends the last of the credit (`refunded_at`, `completed_at`):
nothing is left to give back. What stays unspent is refunded to the original tenders by
`POST /api/v1/returns/{id}/settle` (services/return_settle.py), which closes the credit.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import case, func, select, update

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import Return
from omnitill.domain.errors import FieldError, ValidationFailed

OPEN = "exchange_open"


def claim_in(
    uow: UnitOfWork,
    *,
    code: str | None,
    amount: int,
    currency: str,
    now: datetime,
    field: str,
) -> uuid.UUID:
    """In the caller's transaction: take `amount` of the credit of the exchange return
    numbered `code`; its id. `field` names the tender (`payments.<i>`) in a refusal: 422
    `payment.code_required`, `payment.exchange_unknown` (no exchange by that number),
    `payment.exchange_currency_mismatch`, `payment.exchange_credit_insufficient` (less
    credit left than `amount`, or the exchange was settled or completed)."""
    number = (code or "").strip().upper()
    if not number:
        raise _refused(f"{field}.code", "payment.code_required", "an exchange names its return")
    found = uow.session.execute(
        select(Return.id, Return.currency).where(Return.number == number, Return.kind == "exchange")
    ).first()
    if found is None:
        raise _refused(f"{field}.code", "payment.exchange_unknown", f"no exchange {number}")
    return_id, return_currency = found
    if return_currency != currency:
        raise _refused(
            f"{field}.code",
            "payment.exchange_currency_mismatch",
            f"{number} holds {return_currency}; this is paid in {currency}",
        )
    applied = Return.exchange_applied_minor + amount
    spent = applied == Return.exchange_credit_minor
    taken = uow.session.execute(
        update(Return)
        .where(
            Return.id == return_id,
            Return.status == OPEN,
            applied <= Return.exchange_credit_minor,
        )
        .values(
            exchange_applied_minor=applied,
            status=case((spent, "completed"), else_=Return.status),
            refunded_at=case(
                (spent, func.coalesce(Return.refunded_at, now)), else_=Return.refunded_at
            ),
            completed_at=case((spent, now), else_=Return.completed_at),
            updated_at=now,
        )
        .returning(Return.id)
        .execution_options(synchronize_session=False)
    ).first()
    if taken is None:
        left = _left(uow, return_id)
        raise ValidationFailed(
            "payment.exchange_credit_insufficient",
            f"{number} has {left} of exchange credit left",
            {"return": number, "left": left, "requested": amount},
            errors=[
                FieldError(
                    f"{field}.amount", "payment.exchange_credit_insufficient", f"at most {left}"
                )
            ],
        )
    return return_id


def restore_in(uow: UnitOfWork, *, return_id: uuid.UUID, amount: int, now: datetime) -> None:
    """In the caller's transaction: give `amount` back to the exchange's credit (the order
    it paid was cancelled). The exchange opens again, so the credit can be spent again or
    refunded to the original tenders by settle; one conditional UPDATE, never below zero."""
    done = uow.session.execute(
        update(Return)
        .where(Return.id == return_id, Return.exchange_applied_minor >= amount)
        .values(
            exchange_applied_minor=Return.exchange_applied_minor - amount,
            status=OPEN,
            completed_at=None,
            updated_at=now,
        )
        .returning(Return.id)
        .execution_options(synchronize_session=False)
    ).first()
    if done is None:
        raise ValidationFailed(
            "refund.exceeds_payment", "the exchange credit was given back already"
        )


def _left(uow: UnitOfWork, return_id: uuid.UUID) -> int:
    """What the exchange may still spend (nothing once settled or completed)."""
    row = uow.session.execute(
        select(Return.status, Return.exchange_credit_minor, Return.exchange_applied_minor).where(
            Return.id == return_id
        )
    ).one()
    status, credit, applied = row
    return max(credit - applied, 0) if status == OPEN else 0


def _refused(path: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed(code, message, errors=[FieldError(path, code, message)])

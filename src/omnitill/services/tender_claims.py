"""Claiming, at the register, a card or QR payment taken before the tenders settle.

A card payment (`POST /api/v1/payments`) or a QR link is paid before the register settles,
for a sale or an order named when it was taken. A tender then claims it by its id: it must be
a payment of the tender's method, captured, taken for this same sale or order, in the store's
currency and for exactly the tendered amount.

A sale's id is unique, so a payment pays one sale once. An order is paid several times (a
deposit, instalments, the balance), so an order's claim is recorded as a `claim` event on the
payment (`payment_events`, append-only) and a payment already claimed is refused. A payment
named by two tenders of one request is refused too: it would count twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import Payment, PaymentEvent
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.ids import uuid7

CLAIMED = "claim"  # the payment_events kind of a payment claimed by an order


def check_distinct(payment_ids: Sequence[uuid.UUID | None]) -> None:
    """422 `payment.duplicate_tender` naming every tender that repeats an earlier one's
    payment id."""
    seen: set[uuid.UUID] = set()
    errors: list[FieldError] = []
    for i, payment_id in enumerate(payment_ids):
        if payment_id is None:
            continue
        if payment_id in seen:
            errors.append(
                FieldError(f"payments.{i}.payment_id", "payment.duplicate_tender", "named twice")
            )
        seen.add(payment_id)
    if errors:
        raise ValidationFailed(
            "payment.duplicate_tender", "a payment can pay only one tender", errors=errors
        )


def claim(
    uow: UnitOfWork,
    *,
    method: str,
    payment_id: uuid.UUID | None,
    kind: str,
    owner_id: uuid.UUID,
    currency: str,
    amount: int,
    field: str,
) -> Payment:
    """The payment a tender names, checked against it (see the module doc); 422 naming
    `field` otherwise. `kind` is "sale" or "order", `owner_id` that sale's or order's id."""
    if payment_id is None:
        raise ValidationFailed(
            "payment.payment_id_required",
            f"a {method} tender names the payment taken for it",
            errors=[FieldError(field, "payment.payment_id_required", "required")],
        )
    payment = uow.session.get(Payment, payment_id, with_for_update=True)
    problem: tuple[str, str] | None = None
    if payment is None or payment.method != method:
        problem = ("payment.not_found", f"no {method} payment with this id")
    elif (payment.sale_id if kind == "sale" else payment.order_id) != owner_id:
        problem = (f"payment.wrong_{kind}", f"this payment was taken for another {kind}")
    elif payment.status != "captured":
        problem = ("payment.not_captured", f"the payment is {payment.status}")
    elif payment.currency != currency or payment.amount_minor != amount:
        problem = (
            "payment.amount_mismatch",
            f"the payment took {payment.amount_minor} {payment.currency}, "
            f"the tender says {amount} {currency}",
        )
    elif kind == "order" and claimed(uow, payment.id):
        problem = ("payment.already_claimed", "this payment already paid part of the order")
    if problem is not None:
        raise ValidationFailed(
            problem[0], problem[1], errors=[FieldError(field, problem[0], problem[1])]
        )
    assert payment is not None
    return payment


def claimed(uow: UnitOfWork, payment_id: uuid.UUID) -> bool:
    """Whether an order has claimed this payment (it then counts in the order's paid)."""
    found = uow.session.scalar(
        select(PaymentEvent.id).where(
            PaymentEvent.payment_id == payment_id, PaymentEvent.kind == CLAIMED
        )
    )
    return found is not None


def claim_row(
    *,
    payment_id: uuid.UUID,
    amount: int,
    key: str,
    order_payment_id: uuid.UUID | None,
    actor_id: uuid.UUID | None,
    now: datetime,
) -> dict[str, Any]:
    """The `payment_events` row recording an order payment's claim of a payment."""
    return {
        "id": uuid7(),
        "payment_id": payment_id,
        "kind": CLAIMED,
        "amount_minor": amount,
        "status": "captured",
        "idempotency_key": key,
        "gateway_reference": None,
        "code": None,
        "message": "",
        "reference_type": "order_payment",
        "reference_id": str(order_payment_id),
        "actor_id": actor_id,
        "created_at": now,
    }

"""Paying orders at a register: deposits, layaway instalments, special orders, endless aisle."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from omnitill.api.deps import DbDep, require
from omnitill.api.schemas.order_payments import (
    OrderPaymentCreate,
    OrderPaymentList,
    OrderPaymentTaken,
    RegisterPaymentRead,
)
from omnitill.api.schemas.orders import OrderRead
from omnitill.api.schemas.sales import PaymentRead
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.ids import uuid7
from omnitill.services import order_deposits as service
from omnitill.services.sale_payments import TenderRequest

router = APIRouter(prefix="/api/v1", tags=["orders"])
Cashier = Annotated[Actor, Depends(require(Permission.SALES_CREATE))]
Reader = Annotated[Actor, Depends(require(Permission.ORDERS_READ))]


def _read(p: service.RegisterPayment) -> RegisterPaymentRead:
    return RegisterPaymentRead(
        id=p.id,
        order_id=p.order_id,
        register=p.register,
        location=p.location,
        currency=p.currency,
        amount=p.amount,
        tendered=p.tendered,
        change_due=p.change_due,
        cash_rounding=p.cash_rounding,
        balance_due=p.balance_due,
        paid_in_full=p.paid_in_full,
        tenders=[
            PaymentRead(
                method=t.method,
                amount=t.amount,
                currency=t.currency,
                payment_id=str(t.payment_id),
                tendered=t.tendered,
                tendered_currency=t.tendered_currency,
                change=t.change,
                card_brand=t.card_brand,
                card_last4=t.card_last4,
                entry_mode=t.entry_mode,
                auth_code=t.auth_code,
            )
            for t in p.tenders
        ],
        created_at=p.created_at,
    )


@router.post(
    "/orders/{order_id}/payments",
    response_model=OrderPaymentTaken,
    status_code=status.HTTP_201_CREATED,
    summary="Pay an order at a register: a deposit, an instalment, the balance",
    responses={
        200: {"description": "Replay: this payment id was taken before with the same body."},
        404: {"description": "`order.not_found`."},
        409: {
            "description": "`order.not_payable` (cancelled or completed), "
            "`order.awaiting_payment`, `shift.required` (cash where the store manages cash)."
        },
        422: {
            "description": "`order.overpayment` (with `balance_due`), "
            "`order.deposit_too_small` (with `minimum`), `order.payment_id_reused`, "
            "`order.currency_mismatch`, and every tender refusal of a sale "
            "(`payment.wrong_order`, `payment.already_claimed`, "
            "`gift_card.insufficient_balance`, ...)."
        },
    },
)
def pay_order(order_id: uuid.UUID, body: OrderPaymentCreate, actor: Cashier, db: DbDep) -> Response:
    """Settles part or all of the order's balance with the tenders, in one transaction:
    `paid` goes up, the timeline gets `payment_received` (and `paid_in_full` when nothing
    is left to pay) and `order.payment_received` goes to the register's store. The first
    payment must reach the order's `deposit_required`."""
    result = service.pay_order(
        db=db,
        actor=actor,
        order_id=order_id,
        register=body.register,
        tenders=tuple(
            TenderRequest(p.method, p.amount, p.currency, p.payment_id, p.code)
            for p in body.payments
        ),
        payment_id=body.id or uuid7(),
        amount=body.amount,
    )
    taken = OrderPaymentTaken(
        **_read(result.payment).model_dump(),
        order=OrderRead.model_validate(result.order, from_attributes=True),
    )
    return Response(
        content=taken.model_dump_json(),
        status_code=status.HTTP_200_OK if result.replayed else status.HTTP_201_CREATED,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"} if result.replayed else None,
    )


@router.get(
    "/orders/{order_id}/payments",
    response_model=OrderPaymentList,
    summary="The payments an order took at registers",
    responses={404: {"description": "`order.not_found`."}},
)
def list_order_payments(order_id: uuid.UUID, actor: Reader, db: DbDep) -> OrderPaymentList:
    """Oldest first, each with its tenders; with the order's total, paid and balance."""
    order, items = service.list_payments(db=db, actor=actor, order_id=order_id)
    return OrderPaymentList(
        order_id=order.id,
        number=order.number,
        currency=order.currency,
        total=order.total,
        paid=order.paid,
        balance_due=order.balance_due,
        deposit_required=order.deposit_required,
        items=[_read(p) for p in items],
    )

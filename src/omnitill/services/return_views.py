"""What a return looks like to its readers: the API, the register and the receipt."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Location,
    Order,
    Register,
    Return,
    ReturnLine,
    ReturnRefund,
    Sale,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import NotFound
from omnitill.domain.orders.lifecycle import format_number


@dataclass(frozen=True, slots=True)
class ReturnLineView:
    line_no: int
    sale_line_id: uuid.UUID | None
    order_line_id: uuid.UUID | None
    sku: str
    name: str
    quantity: int
    serials: tuple[str, ...]
    condition: str
    reason: str
    disposition: str | None
    refund: int
    fee: int
    chargeback: int
    refund_to: str
    reasons: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class ReturnRefundView:
    id: uuid.UUID
    payment_id: uuid.UUID | None
    method: str
    given_as: str
    amount: int
    status: str
    fallback_reason: str | None
    card_brand: str | None
    card_last4: str | None
    message: str


@dataclass(frozen=True, slots=True)
class ReturnView:
    id: uuid.UUID
    number: str
    kind: str
    status: str
    source_type: str | None  # sale | order | None (no receipt)
    source_id: uuid.UUID | None
    source_number: str | None
    channel: str
    location: str
    register: str | None
    customer_id: uuid.UUID | None
    currency: str
    refund_total: int
    fee_total: int
    shipping_refund: int
    refunded: int
    exchange_credit: int
    exchange_applied: int
    no_receipt: bool
    risk_score: int
    risk: tuple[dict[str, Any], ...]
    decision: dict[str, Any]
    approval: dict[str, Any] | None
    lines: tuple[ReturnLineView, ...]
    refunds: tuple[ReturnRefundView, ...]
    tracking_number: str | None
    label: dict[str, Any] | None
    initiated_at: datetime
    received_at: datetime | None
    refunded_at: datetime | None
    completed_at: datetime | None
    replayed: bool = False


def view_of(uow: UnitOfWork, ret: Return) -> ReturnView:
    from omnitill.adapters.db.models import Payment

    loc = uow.session.get_one(Location, ret.location_id)
    reg = None if ret.register_id is None else uow.session.get(Register, ret.register_id)
    source_type = source_number = None
    source_id = ret.sale_id or ret.order_id
    if ret.sale_id is not None:
        source_type = "sale"
        source_number = uow.session.get_one(Sale, ret.sale_id).receipt_number
    elif ret.order_id is not None:
        source_type = "order"
        source_number = format_number(uow.session.get_one(Order, ret.order_id).number)
    lines = lines_of(uow, ret.id)
    refunds = uow.session.execute(
        select(ReturnRefund, Payment.card_brand, Payment.card_last4)
        .outerjoin(Payment, Payment.id == ReturnRefund.payment_id)
        .where(ReturnRefund.return_id == ret.id)
        .order_by(ReturnRefund.seq)
    ).all()
    return ReturnView(
        id=ret.id,
        number=ret.number,
        kind=ret.kind,
        status=ret.status,
        source_type=source_type,
        source_id=source_id,
        source_number=source_number,
        channel=ret.channel,
        location=loc.code,
        register=None if reg is None else reg.code,
        customer_id=ret.customer_id,
        currency=ret.currency,
        refund_total=ret.refund_total_minor,
        fee_total=ret.fee_total_minor,
        shipping_refund=ret.shipping_refund_minor,
        refunded=ret.refunded_minor,
        exchange_credit=ret.exchange_credit_minor,
        exchange_applied=ret.exchange_applied_minor,
        no_receipt=ret.no_receipt,
        risk_score=ret.risk_score,
        risk=tuple(ret.risk or ()),
        decision=dict(ret.decision or {}),
        approval=ret.approval,
        lines=tuple(
            ReturnLineView(
                line_no=x.line_no,
                sale_line_id=x.sale_line_id,
                order_line_id=x.order_line_id,
                sku=x.sku,
                name=x.name,
                quantity=x.quantity,
                serials=tuple(x.serials or ()),
                condition=x.condition,
                reason=x.reason_code,
                disposition=x.disposition,
                refund=x.refund_minor,
                fee=x.fee_minor,
                chargeback=x.chargeback_minor,
                refund_to=x.refund_to,
                reasons=tuple(x.reasons or ()),
            )
            for x in lines
        ),
        refunds=tuple(
            ReturnRefundView(
                id=r.id,
                payment_id=r.payment_id,
                method=r.method,
                given_as=r.given_as,
                amount=r.amount_minor,
                status=r.status,
                fallback_reason=r.fallback_reason,
                card_brand=brand,
                card_last4=last4,
                message=r.message,
            )
            for r, brand, last4 in refunds
        ),
        tracking_number=ret.tracking_number,
        label=ret.label,
        initiated_at=ret.initiated_at,
        received_at=ret.received_at,
        refunded_at=ret.refunded_at,
        completed_at=ret.completed_at,
    )


def get(*, db: Database, actor: Actor, return_id: uuid.UUID) -> ReturnView:
    actor.require(Permission.RETURNS_CREATE)
    with db.uow(write=False) as uow:
        ret = uow.session.get(Return, return_id)
        if ret is None:
            raise NotFound("returns.not_found", "no such return", {"id": str(return_id)})
        return view_of(uow, ret)


def list_returns(
    *, db: Database, actor: Actor, sale_id: uuid.UUID | None, order_id: uuid.UUID | None
) -> list[ReturnView]:
    actor.require(Permission.RETURNS_CREATE)
    with db.uow(write=False) as uow:
        stmt = select(Return).order_by(Return.initiated_at.desc()).limit(100)
        if sale_id is not None:
            stmt = stmt.where(Return.sale_id == sale_id)
        if order_id is not None:
            stmt = stmt.where(Return.order_id == order_id)
        return [view_of(uow, r) for r in uow.session.scalars(stmt)]


def lines_of(uow: UnitOfWork, return_id: uuid.UUID) -> list[ReturnLine]:
    """A return's lines, in order."""
    return list(
        uow.session.scalars(
            select(ReturnLine).where(ReturnLine.return_id == return_id).order_by(ReturnLine.line_no)
        )
    )

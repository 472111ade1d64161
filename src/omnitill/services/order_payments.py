"""The money of an order after it is placed: capture when everything was handed over,
void or refund what a cancellation takes back.

Capture happens once, when no unit is left to hand over (every line shipped, picked up or
cancelled), for what was handed over: the lines' totals less what was cancelled, plus
shipping. A cancellation before capture lowers what will be captured (or voids the
authorization when nothing is left); after capture it refunds the cancelled value to the
card. The gateway is called outside any database transaction; its answer is recorded on the
payment's ledger (services/payments.py) and on the order's timeline.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import Order, OrderLine, Payment
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.payments.gateway import PaymentGateway
from omnitill.services import order_timeline, payments, refunds
from omnitill.services.order_views import OrderView, load_view


def kept_value(order: Order, lines: list[OrderLine]) -> int:
    """What the customer owes for the units not cancelled: each line's total in proportion
    to its units kept, plus shipping unless every unit was cancelled."""
    kept = 0
    any_kept = False
    for line in lines:
        units = line.quantity - line.quantity_cancelled
        if units > 0:
            any_kept = True
        kept += (
            line.total_minor * units // line.quantity
            if units < line.quantity
            else (line.total_minor)
        )
    return kept + (order.shipping_minor if any_kept else 0)


def settle(
    *, db: Database, actor: Actor, gateway: PaymentGateway, order_id: uuid.UUID
) -> OrderView:
    """Bring the order's card payments in line with what it now owes (see the module doc):
    capture when nothing is left to hand over, void an authorization nothing is owed on,
    refund what was captured beyond what is owed."""
    with db.uow(write=False) as uow:
        order = uow.session.get_one(Order, order_id)
        lines = list(uow.session.scalars(select(OrderLine).where(OrderLine.order_id == order_id)))
        owed = kept_value(order, lines)
        left = any(x.quantity - x.quantity_cancelled - x.quantity_fulfilled > 0 for x in lines)
        cards = list(
            uow.session.scalars(
                select(Payment)
                .where(
                    Payment.order_id == order_id,
                    Payment.method == "card",
                    Payment.register_id.is_(None),  # online; register payments: deposits
                )
                .order_by(Payment.created_at)
            )
        )
    for card in cards:
        if card.status == "authorized":
            if owed <= 0:
                _void(db, actor, gateway, order_id, card)
            elif not left:
                _capture(db, actor, gateway, order_id, card, min(owed, card.amount_minor))
        elif card.status == "captured":
            over = card.amount_minor - card.refunded_minor - max(owed, 0)
            if over > 0:
                _refund(db, actor, gateway, order_id, card, over)
    with db.uow(write=False) as uow:
        return load_view(uow, uow.session.get_one(Order, order_id))


def _capture(
    db: Database,
    actor: Actor,
    gateway: PaymentGateway,
    order_id: uuid.UUID,
    card: Payment,
    amount: int,
) -> None:
    result = payments.capture(
        db=db,
        actor=actor,
        gateway=gateway,
        payment_id=card.id,
        amount=amount,
        permission=Permission.ORDERS_FULFIL,
        scoped=False,
    )
    _book(
        db,
        actor,
        order_id,
        "payment_captured",
        paid=result.amount,
        held=-card.amount_minor,
        payment_id=card.id,
    )


def _void(
    db: Database, actor: Actor, gateway: PaymentGateway, order_id: uuid.UUID, card: Payment
) -> None:
    payments.void(
        db=db,
        actor=actor,
        gateway=gateway,
        payment_id=card.id,
        permission=Permission.ORDERS_CANCEL,
        scoped=False,
    )
    _book(
        db, actor, order_id, "payment_voided", paid=0, held=-card.amount_minor, payment_id=card.id
    )


def _refund(
    db: Database,
    actor: Actor,
    gateway: PaymentGateway,
    order_id: uuid.UUID,
    card: Payment,
    amount: int,
) -> None:
    done = refunds.refund(
        db=db,
        actor=actor,
        gateway=gateway,
        payment_id=card.id,
        refund_id=uuid.uuid5(card.id, f"order-cancel:{card.refunded_minor}:{amount}"),
        amount=amount,
        reason="order cancelled",
    )
    with db.uow() as uow:
        order = uow.session.get_one(Order, order_id, with_for_update=True)
        order.refunded_minor += amount
        order.paid_minor -= amount
        order_timeline.record(
            uow,
            order,
            "refund_issued",
            actor=actor,
            now=utcnow(),
            data={"payment_id": str(card.id), "amount": amount, "refund_id": str(done.id)},
            publish="order.refunded",
        )
        uow.commit()


def _book(
    db: Database,
    actor: Actor,
    order_id: uuid.UUID,
    kind: str,
    *,
    paid: int,
    held: int,
    payment_id: uuid.UUID,
) -> None:
    with db.uow() as uow:
        order = uow.session.get_one(Order, order_id, with_for_update=True)
        order.paid_minor += paid
        order.authorized_minor = max(0, order.authorized_minor + held)
        order_timeline.record(
            uow,
            order,
            kind,
            actor=actor,
            now=utcnow(),
            data={"payment_id": str(payment_id), "amount": paid},
        )
        uow.commit()

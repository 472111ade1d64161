"""Giving back what a cancelled order was paid at registers, each tender where it came from.

When a special order or a layaway is cancelled, its deposit and instalments (the payments it
took at registers: services/order_deposits.py) go back by this policy:

- **cash**: out of the drawer of the open shift on the register doing the refund (409
  `shift.required` without one), written to the drawer's ledger as a cash refund.
- **qr**: the QR provider takes no refunds here, so a QR payment is given back in cash from
  the drawer, like cash.
- **gift_card**: back onto the card; **store_credit**: back to the customer's credit
  (services/refunds.py, in the same transaction as the refund's record).
- **card**: refunded through the gateway, referenced to the original payment
  (services/refunds.py): a lost answer is asked after and never refunded twice.

Each tender gives back what it took less what was refunded from it already (by a partial
cancellation, or by services/order_payments.settle, which refunds the captured cards of a
cancelled order): a refund has a fixed id per payment and order, so nothing is refunded twice,
and calling this again after a failure (a gateway that did not answer) finishes the job. Each
refund lowers the order's `paid`, raises its `refunded`, appends `refund_issued` to the
timeline (`order.refunded` to the register's store) and is audited. Refunds need
`payments.refund` (a manager override covers one refund); the order must be cancelled first
(409 `order.not_cancelled`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import partial

from sqlalchemy import and_, or_, select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Order, OrderEvent, Payment, PaymentEvent
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import Conflict, NotFound
from omnitill.domain.orders.lifecycle import OrderStatus
from omnitill.domain.payments.gateway import PaymentGateway
from omnitill.domain.payments.tenders import Method
from omnitill.services import audit, exchange_credit, order_timeline, refunds, shifts
from omnitill.services.auth import authorise
from omnitill.services.order_views import OrderView, load_view, visible
from omnitill.services.payments import register_and_location
from omnitill.services.retries import run_retrying
from omnitill.services.tender_claims import CLAIMED

REFUNDED = "refund_issued"
REASON = "order cancelled"
FROM_DRAWER = frozenset({Method.CASH, Method.QR})
_OWN_ROWS = (Method.CASH, Method.GIFT_CARD, Method.STORE_CREDIT, Method.EXCHANGE)


@dataclass(frozen=True, slots=True)
class OrderRefund:
    """One tender given back."""

    payment_id: uuid.UUID
    refund_id: uuid.UUID
    method: str  # the tender it came from
    given_as: str  # how it went back: cash, card, gift_card, store_credit
    amount: int
    currency: str


@dataclass(frozen=True, slots=True)
class OrderRefunds:
    order: OrderView
    refunds: tuple[OrderRefund, ...]


@dataclass(frozen=True, slots=True)
class _Due:
    payment_id: uuid.UUID
    refund_id: uuid.UUID
    method: str
    amount: int
    currency: str


def refund_order_payments(
    *,
    db: Database,
    actor: Actor,
    gateway: PaymentGateway,
    order_id: uuid.UUID,
    register: str,
    override_token: str | None = None,
) -> OrderRefunds:
    """Give back what a cancelled order took at registers (see the module doc)."""
    actor.require(Permission.ORDERS_CANCEL)
    with db.uow(write=False) as uow:
        order = uow.session.get(Order, order_id)
        if order is None or not visible(uow, actor, order):
            raise NotFound("order.not_found", "no such order", {"id": str(order_id)})
        if order.status != OrderStatus.CANCELLED:
            raise Conflict(
                "order.not_cancelled",
                "only a cancelled order gives its payments back",
                {"status": order.status},
            )
        reg, loc = register_and_location(uow, actor, register)
        due = _still_due(uow, order)
        if any(d.method in FROM_DRAWER for d in due) and shifts.open_shift_of(uow, reg.id) is None:
            raise Conflict(
                "shift.required",
                "cash goes back from a drawer: open a shift on the register first",
                {"register": reg.code},
            )
        register_id, store = reg.id, loc.code
    done: list[OrderRefund] = []
    for d in due:
        if d.method in FROM_DRAWER:
            give = partial(_from_drawer, db, actor, order_id, register_id, store, d, override_token)
            done.append(run_retrying(give))
            continue
        if d.method == Method.EXCHANGE:
            done.append(run_retrying(partial(_to_exchange_credit, db, actor, order_id, store, d)))
            continue
        refunds.refund(
            db=db,
            actor=actor,
            gateway=gateway,
            payment_id=d.payment_id,
            refund_id=d.refund_id,
            amount=d.amount,
            reason=REASON,
            override_token=override_token,
        )
        with db.uow() as uow:
            order = uow.session.get_one(Order, order_id, with_for_update=True)
            refund = _refund(d, d.method)
            if not _booked(uow, order_id, d.refund_id):
                _book(uow, actor, order, refund, store)
                uow.commit()
        done.append(refund)
    with db.uow(write=False) as uow:
        return OrderRefunds(load_view(uow, uow.session.get_one(Order, order_id)), tuple(done))


def check_can_refund(
    *,
    db: Database,
    actor: Actor,
    order_id: uuid.UUID,
    register: str,
    override_token: str | None = None,
) -> bool:
    """Before an order paid at registers is cancelled: whether anything is to give back,
    and refuse now (nothing cancelled yet) when it could not be: the register unknown or
    not the actor's, cash due with no open shift on it (409 `shift.required`), or no right
    to refund (`payments.refund`, or a manager's override token)."""
    with db.uow(write=False) as uow:
        order = uow.session.get(Order, order_id)
        if order is None or order.status in (OrderStatus.CANCELLED, OrderStatus.COMPLETED):
            return False  # the cancellation answers for these
        due = _still_due(uow, order)
        if not due:
            return False
        reg, _ = register_and_location(uow, actor, register)
        if any(d.method in FROM_DRAWER for d in due) and shifts.open_shift_of(uow, reg.id) is None:
            raise Conflict(
                "shift.required",
                "cash goes back from a drawer: open a shift on the register first",
                {"register": reg.code},
            )
    if override_token is None:
        actor.require(Permission.PAYMENTS_REFUND)
    return True


def refund_id_for(payment_id: uuid.UUID, order_id: uuid.UUID) -> uuid.UUID:
    """The one refund a payment gets when its order is cancelled (its idempotency key)."""
    return uuid.uuid5(payment_id, f"order-refund:{order_id}")


def _still_due(uow: UnitOfWork, order: Order) -> list[_Due]:
    """Each register payment of the order with what it has still to give back: the
    payments it wrote (cash, gift card, store credit) and the card and QR payments it
    claimed, in the order they were taken. A refund begun before and not yet booked on
    the order is finished with its first amount."""
    claimed = select(PaymentEvent.payment_id).where(
        PaymentEvent.kind == CLAIMED,
        PaymentEvent.payment_id.in_(select(Payment.id).where(Payment.order_id == order.id)),
    )
    rows = uow.session.scalars(
        select(Payment)
        .where(
            Payment.order_id == order.id,
            Payment.status == "captured",
            or_(
                and_(Payment.method.in_(_OWN_ROWS), Payment.register_id.is_not(None)),
                Payment.id.in_(claimed),
            ),
        )
        .order_by(Payment.created_at, Payment.id)
    ).all()
    due: list[_Due] = []
    for p in rows:
        rid = refund_id_for(p.id, order.id)
        if _booked(uow, order.id, rid):
            continue
        begun = uow.session.scalar(
            select(PaymentEvent.amount_minor).where(
                PaymentEvent.idempotency_key == f"refund:{rid}:requested"
            )
        )
        amount = begun if begun is not None else p.amount_minor - p.refunded_minor
        if amount > 0:
            due.append(_Due(p.id, rid, p.method, amount, p.currency))
    return due


def _from_drawer(
    db: Database,
    actor: Actor,
    order_id: uuid.UUID,
    register_id: uuid.UUID,
    store: str,
    d: _Due,
    override_token: str | None,
) -> OrderRefund:
    """Cash (or a QR payment) back from the register's drawer, in one transaction with its
    record on the payment, the drawer's ledger and the order."""
    refund = _refund(d, Method.CASH)
    with db.uow() as uow:
        order = uow.session.get_one(Order, order_id, with_for_update=True)
        if _booked(uow, order_id, d.refund_id):
            return refund
        shift_id = shifts.open_shift_of(uow, register_id)
        if shift_id is None:
            raise Conflict("shift.required", "open a shift on the register first")
        authorisation = authorise(
            uow,
            actor=actor,
            permission=Permission.PAYMENTS_REFUND,
            override_token=override_token,
            used_for=f"refund:{d.refund_id}",
        )
        if not refunds.from_drawer_in(
            uow,
            payment_id=d.payment_id,
            refund_id=d.refund_id,
            amount=d.amount,
            shift_id=shift_id,
            actor=actor,
            message=f"{REASON}: cash from the drawer",
            reference_type="order",
            reference_id=str(order_id),
        ):
            raise Conflict("refund.exceeds_payment", "the payment was refunded meanwhile")
        audit.record(
            uow,
            action="payment.refund",
            actor=actor,
            subject_type="payment",
            subject_id=str(d.payment_id),
            details={
                "refund": str(d.refund_id),
                "amount": d.amount,
                "currency": d.currency,
                "method": d.method,
                "given_as": Method.CASH.value,
                "reason": REASON,
                **authorisation.as_details(),
            },
        )
        _book(uow, actor, order, refund, store)
        uow.commit()
    return refund


def _to_exchange_credit(
    db: Database, actor: Actor, order_id: uuid.UUID, store: str, d: _Due
) -> OrderRefund:
    """An exchange tender goes back to the credit of its exchange return (which opens
    again), in one transaction with its record on the payment and the order."""
    refund = _refund(d, Method.EXCHANGE)
    with db.uow() as uow:
        order = uow.session.get_one(Order, order_id, with_for_update=True)
        if _booked(uow, order_id, d.refund_id):
            return refund
        payment = uow.session.get_one(Payment, d.payment_id)
        assert payment.gateway_reference is not None  # the exchange return's id
        refunds.given_otherwise_in(
            uow, payment, d.refund_id, d.amount, "exchange credit", REASON, actor
        )
        exchange_credit.restore_in(
            uow, return_id=uuid.UUID(payment.gateway_reference), amount=d.amount, now=utcnow()
        )
        audit.record(
            uow,
            action="payment.refund",
            actor=actor,
            subject_type="payment",
            subject_id=str(d.payment_id),
            details={
                "refund": str(d.refund_id),
                "amount": d.amount,
                "currency": d.currency,
                "method": d.method,
                "given_as": "exchange_credit",
                "reason": REASON,
            },
        )
        _book(uow, actor, order, refund, store)
        uow.commit()
    return refund


def _refund(d: _Due, given_as: str) -> OrderRefund:
    return OrderRefund(d.payment_id, d.refund_id, d.method, given_as, d.amount, d.currency)


def _booked(uow: UnitOfWork, order_id: uuid.UUID, refund_id: uuid.UUID) -> bool:
    """Whether the order's timeline already books this refund."""
    entries = uow.session.scalars(
        select(OrderEvent.data).where(OrderEvent.order_id == order_id, OrderEvent.kind == REFUNDED)
    )
    return any(data.get("refund_id") == str(refund_id) for data in entries)


def _book(uow: UnitOfWork, actor: Actor, order: Order, refund: OrderRefund, store: str) -> None:
    """The order's side of a refund: paid down, refunded up, on the timeline."""
    now = utcnow()
    order.paid_minor -= refund.amount
    order.refunded_minor += refund.amount
    order.updated_at = now
    order_timeline.record(
        uow,
        order,
        REFUNDED,
        actor=actor,
        now=now,
        data={
            "payment_id": str(refund.payment_id),
            "refund_id": str(refund.refund_id),
            "amount": refund.amount,
            "method": refund.method,
            "given_as": refund.given_as,
        },
        publish="order.refunded",
        locations=[store],
    )

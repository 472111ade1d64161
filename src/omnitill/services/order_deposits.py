"""Paying orders at a register: deposits, layaway instalments, special orders, endless aisle.

An order taken at a till (a special order, a layaway, an endless-aisle order) is paid there,
at once or in several payments. Each payment is a request with its own id, born on the
register, and settles part or all of the order's balance (`balance_due`: the total less what
was paid and what a card authorization holds) with any mix of tenders, exactly as a sale is
paid (services/sale_payments.py): cash with change and rounding, card and QR payments taken
for this order (`POST /api/v1/payments` with `order_id`) and claimed, gift cards, and store
credit of the order's customer.

The rules, checked with the order row locked, in one transaction:

- The amount is either asked (`amount`: the tenders must cover it exactly, as a sale's total,
  cash giving change; a deposit of 20.00 paid with a 50 note) or, when not asked, what the
  tenders apply to the balance (cash beyond the balance is change). A cash rounding (CHF
  0.05...) counts as paid, so an amount is credited whole and a balance reaches zero (the
  rounding is on the timeline entry).
- An amount above the balance, non-cash tenders above it, or any payment when nothing is due
  are refused (422 `order.overpayment`, with the balance): only cash gives change.
- The first payment must reach the deposit the order requires (50% of a special order, 20% of
  a layaway; 422 `order.deposit_too_small` with the minimum).
- A cancelled or completed order takes no payment (409 `order.not_payable`), nor one still
  waiting for its card authorization (409 `order.awaiting_payment`).

A payment raises the order's `paid`, appends `payment_received` to its timeline with the
tenders taken, emits `order.payment_received` to the register's store, and lands in the
register's audit chain. When the balance reaches zero the timeline says `paid_in_full`
(`order.paid_in_full` to the register's store and the order's locations), and the order's
pickup step (services/order_steps.py) may hand it over. The payment's id is its idempotency
key: the same id with the same body replays the first answer; with another body, or on
another order, it is refused (422 `order.payment_id_reused`).

Refunds when such an order is cancelled: services/order_deposit_refunds.py.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Location,
    Order,
    OrderFulfillment,
    Payment,
    PaymentEvent,
    Register,
)
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from omnitill.domain.inventory.lots import business_date
from omnitill.domain.orders.lifecycle import OrderStatus
from omnitill.domain.payments.tenders import Method
from omnitill.services import audit, order_deposit_views, order_timeline, sale_payments
from omnitill.services.order_deposit_views import RECEIVED, RegisterPayment, list_payments
from omnitill.services.order_views import OrderView, balance_due, load_view, visible
from omnitill.services.payments import register_and_location
from omnitill.services.retries import run_retrying
from omnitill.services.sale_payments import Target, TenderRequest, Till

PAID_IN_FULL = "paid_in_full"
CLOSED = frozenset({OrderStatus.CANCELLED, OrderStatus.COMPLETED})
# Methods that write a payments row of their own (card and QR ones are claimed).
_NEW_ROW_METHODS = (Method.CASH, Method.GIFT_CARD, Method.STORE_CREDIT, Method.EXCHANGE)


@dataclass(frozen=True, slots=True)
class OrderPaymentResult:
    payment: RegisterPayment
    order: OrderView
    replayed: bool = False


def pay_order(
    *,
    db: Database,
    actor: Actor,
    order_id: uuid.UUID,
    register: str,
    tenders: Sequence[TenderRequest],
    payment_id: uuid.UUID,
    amount: int | None = None,
) -> OrderPaymentResult:
    """Pay `amount` (None: what the tenders cover) of an order's balance at `register`
    (see the module doc)."""
    actor.require(Permission.SALES_CREATE)
    _check_shape(tenders, amount)
    digest = request_hash(order_id, register, tenders, amount)

    def once() -> OrderPaymentResult:
        return _pay(db, actor, order_id, register, tenders, amount, payment_id, digest)

    try:
        return run_retrying(once)
    except IntegrityError:
        # The same payment id taken for another order at the same instant: the other one
        # won, and this attempt now finds it and is refused.
        return run_retrying(once)


def request_hash(
    order_id: uuid.UUID, register: str, tenders: Sequence[TenderRequest], amount: int | None
) -> str:
    body = {
        "order": str(order_id),
        "register": register,
        "amount": amount,
        "tenders": [asdict(t) for t in tenders],
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _check_shape(tenders: Sequence[TenderRequest], amount: int | None) -> None:
    errors: list[FieldError] = []
    if not tenders:
        errors.append(FieldError("payments", "order.payment_required", "at least one tender"))
    if amount is not None and amount <= 0:
        errors.append(FieldError("amount", "order.invalid_amount", "must be > 0"))
    if errors:
        raise ValidationFailed(errors[0].code, "the payment is invalid", errors=errors)


def _pay(
    db: Database,
    actor: Actor,
    order_id: uuid.UUID,
    register: str,
    tenders: Sequence[TenderRequest],
    asked: int | None,
    payment_id: uuid.UUID,
    digest: str,
) -> OrderPaymentResult:
    with db.uow() as uow:
        order = locked_order(uow, actor, order_id)
        prior = _recorded(uow, order, payment_id, digest)
        if prior is not None:
            return OrderPaymentResult(prior, load_view(uow, order), replayed=True)
        reg, loc = register_and_location(uow, actor, register)
        _check_payable(order, loc)
        due = balance_due(order)
        _check_not_over(order, tenders, asked, due)
        now = utcnow()
        paid = sale_payments.take(
            uow,
            till=Till(reg.id, loc.id, loc.currency, loc.cash_management, loc.cash_rounding_minor),
            actor=actor,
            target=Target.order(order.id, payment_id),
            customer=order.customer_id,
            total=due if asked is None else asked,
            requests=tenders,
            today=business_date(now, loc.timezone),
            now=now,
            allow_partial=asked is None,
        )
        rounding = paid.settlement.cash_rounding
        amount = paid.settlement.paid - rounding
        _check_deposit(order, amount)
        order.paid_minor += amount
        order.updated_at = now
        payment = RegisterPayment(
            id=payment_id,
            order_id=order.id,
            register=reg.code,
            location=loc.code,
            currency=order.currency,
            amount=amount,
            tendered=paid.tendered,
            change_due=paid.settlement.change_due,
            cash_rounding=rounding,
            balance_due=balance_due(order),
            tenders=paid.tenders,
            created_at=now,
        )
        _announce(uow, actor, order, payment, digest, reg, loc, now)
        uow.commit()
        return OrderPaymentResult(payment, load_view(uow, order))


def locked_order(uow: UnitOfWork, actor: Actor, order_id: uuid.UUID) -> Order:
    """The order, row-locked, when the actor may see it (404 `order.not_found` otherwise)."""
    order = uow.session.get(Order, order_id, with_for_update=True)
    if order is None or not visible(uow, actor, order):
        raise NotFound("order.not_found", "no such order", {"id": str(order_id)})
    return order


def _check_payable(order: Order, loc: Location) -> None:
    if order.status in CLOSED:
        raise Conflict(
            "order.not_payable",
            f"the order is {order.status}: it takes no payment",
            {"status": order.status},
        )
    if order.status == OrderStatus.PENDING_PAYMENT:
        raise Conflict(
            "order.awaiting_payment",
            "the order's card authorization is not yet answered",
            {"order_id": str(order.id)},
        )
    if loc.currency != order.currency:
        raise ValidationFailed(
            "order.currency_mismatch",
            f"the order is in {order.currency}, this register takes {loc.currency}",
            errors=[FieldError("register", "order.currency_mismatch", loc.currency)],
        )


def _check_not_over(
    order: Order, tenders: Sequence[TenderRequest], asked: int | None, due: int
) -> None:
    """Only cash gives change: neither the amount asked nor the non-cash tenders may be more
    than the balance, and nothing may be paid once nothing is due."""
    exact = sum(t.amount for t in tenders if t.method != Method.CASH)
    if due > 0 and max(exact, asked or 0) <= due:
        return
    raise ValidationFailed(
        "order.overpayment",
        f"only {due} {order.currency} is left to pay on this order",
        {"balance_due": due, "currency": order.currency},
        errors=[FieldError("payments", "order.overpayment", f"at most {due}")],
    )


def _check_deposit(order: Order, amount: int) -> None:
    """The first payment of an order that requires a deposit must reach it."""
    first = order.paid_minor == 0 and order.authorized_minor == 0
    minimum = min(order.deposit_required_minor, order.total_minor)
    if first and amount < minimum:
        raise ValidationFailed(
            "order.deposit_too_small",
            f"the first payment must be at least the deposit of {minimum} {order.currency}",
            {"minimum": minimum, "amount": amount, "currency": order.currency},
            errors=[FieldError("payments", "order.deposit_too_small", f"at least {minimum}")],
        )


def _announce(
    uow: UnitOfWork,
    actor: Actor,
    order: Order,
    payment: RegisterPayment,
    digest: str,
    reg: Register,
    loc: Location,
    now: datetime,
) -> None:
    """The timeline entry and event of the payment (and of the order paid in full), and
    the register's audit entry."""
    data = order_deposit_views.payment_data(payment)
    order_timeline.record(
        uow,
        order,
        RECEIVED,
        actor=actor,
        now=now,
        location_id=loc.id,
        data={**data, "request_hash": digest},
        publish="order.payment_received",
        locations=[loc.code],
    )
    if payment.paid_in_full:
        order_timeline.record(
            uow,
            order,
            PAID_IN_FULL,
            actor=actor,
            now=now,
            location_id=loc.id,
            data={"total": order.total_minor, "paid": order.paid_minor},
            publish="order.paid_in_full",
            locations=sorted({loc.code, *_order_locations(uow, order)}),
        )
    audit.record(
        uow,
        action="order.payment_received",
        actor=actor,
        subject_type="order",
        subject_id=str(order.id),
        details={
            "order_payment_id": str(payment.id),
            "amount": payment.amount,
            "currency": payment.currency,
            "tenders": [{"method": t.method, "amount": t.amount} for t in payment.tenders],
        },
        chain=f"register:{reg.code}",
    )


def _recorded(
    uow: UnitOfWork, order: Order, payment_id: uuid.UUID, digest: str
) -> RegisterPayment | None:
    """The payment recorded before under this id (a replay), or None when it is new; 422
    when the id paid something else."""
    for entry, location in order_deposit_views.entries(uow, order.id):
        if entry.data.get("order_payment_id") != str(payment_id):
            continue
        if entry.data.get("request_hash") == digest:
            return order_deposit_views.from_entry(entry, location)
        raise _reused(payment_id)
    target = Target.order(order.id, payment_id)
    new_rows = select(Payment.id).where(
        Payment.idempotency_key.in_([target.key(m, 0) for m in _NEW_ROW_METHODS])
    )
    claims = select(PaymentEvent.id).where(PaymentEvent.idempotency_key == target.claim_key(0))
    if uow.session.scalar(new_rows) is not None or uow.session.scalar(claims) is not None:
        raise _reused(payment_id)  # the first tender of a payment on another order
    return None


def _reused(payment_id: uuid.UUID) -> ValidationFailed:
    return ValidationFailed(
        "order.payment_id_reused",
        "this payment id was used for another payment",
        {"id": str(payment_id)},
        errors=[FieldError("id", "order.payment_id_reused", "use a new id")],
    )


def _order_locations(uow: UnitOfWork, order: Order) -> list[str]:
    return list(
        uow.session.scalars(
            select(Location.code)
            .join(OrderFulfillment, OrderFulfillment.location_id == Location.id)
            .where(OrderFulfillment.order_id == order.id)
        )
    )


__all__ = ["OrderPaymentResult", "RegisterPayment", "TenderRequest", "list_payments", "pay_order"]

"""Facts a return is decided by, counted from the database in the caller's transaction: the
figures of the fraud check, the customer's no-receipt history, the lowest recent selling
price of an item, and the staff members who are a customer.

Every count is of returns not cancelled, initiated in a window that ends at `now` (earlier
returns: a return already flushed by the caller is left out by passing its `return_id`).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import (
    Customer,
    Location,
    Order,
    OrderLine,
    Payment,
    Return,
    ReturnRefund,
    Sale,
    SaleLine,
    User,
)
from omnitill.domain.fulfillment.geo import haversine_km
from omnitill.domain.orders.lifecycle import OrderStatus
from omnitill.domain.returns.model import NoReceiptHistory, ReturnPolicy
from omnitill.domain.returns.risk import RiskInput, RiskPolicy

CANCELLED = "cancelled"
FAILED = "failed"  # a refund the tender refused: nothing went to the card


def risk_input(
    uow: UnitOfWork,
    *,
    customer_id: uuid.UUID | None,
    card_fingerprints: Collection[str],
    no_receipt: bool,
    refund_value: int,
    purchase_value: int | None,
    cashier_id: uuid.UUID | str | None,
    buyer_employee_ids: frozenset[str],
    location_id: uuid.UUID,
    purchase_location_ids: Collection[uuid.UUID],
    risk: RiskPolicy,
    now: datetime,
    return_id: uuid.UUID | None = None,
    serial_mismatches: int = 0,
) -> RiskInput:
    """The fraud-check figures of a return about to be made.

    - `customer_returns`: the customer's returns in the velocity window (None: anonymous);
    - `card_returns`: returns in the velocity window whose refunds went (pending or done, not
      failed) to a payment with one of `card_fingerprints`, or that name one of them as the
      card shown (`returns.card_fingerprint`), each return once (None: no card);
    - `no_receipt_returns`: the customer's returns without a receipt in the no-receipt window;
    - `km_to_nearest_purchase`: great-circle distance from `location_id` to the nearest of
      `purchase_location_ids` that has coordinates (None when either side has none).
    """
    velocity = _since(now, risk.velocity_window_days)
    customer_returns = None
    no_receipt_returns = 0
    if customer_id is not None:
        customer_returns = _count(
            uow, now, return_id, Return.customer_id == customer_id, Return.initiated_at >= velocity
        )
        no_receipt_returns = _count(
            uow,
            now,
            return_id,
            Return.customer_id == customer_id,
            Return.no_receipt.is_(True),
            Return.initiated_at >= _since(now, risk.no_receipt_window_days),
        )
    card_returns = None
    prints = sorted(set(card_fingerprints))
    if prints:
        to_card = exists().where(
            ReturnRefund.return_id == Return.id,
            ReturnRefund.status != FAILED,
            Payment.id == ReturnRefund.payment_id,
            Payment.card_fingerprint.in_(prints),
        )
        card_returns = _count(
            uow,
            now,
            return_id,
            or_(Return.card_fingerprint.in_(prints), to_card),
            Return.initiated_at >= velocity,
        )
    return RiskInput(
        refund_value=refund_value,
        purchase_value=purchase_value,
        customer_returns=customer_returns,
        card_returns=card_returns,
        no_receipt=no_receipt,
        no_receipt_returns=no_receipt_returns,
        serial_mismatches=serial_mismatches,
        cashier_id=str(cashier_id) if cashier_id is not None else None,
        buyer_employee_ids=buyer_employee_ids,
        km_to_nearest_purchase=km_to_nearest(
            uow, location_id=location_id, purchase_location_ids=purchase_location_ids
        ),
    )


def no_receipt_history(
    uow: UnitOfWork,
    customer_id: uuid.UUID,
    policy: ReturnPolicy,
    now: datetime,
    *,
    return_id: uuid.UUID | None = None,
) -> NoReceiptHistory:
    """The customer's returns without a receipt over the policy's `no_receipt_period_days`:
    how many (any currency), and their value in the policy's currency: the lines' refunds
    before restocking fees (`refund_total_minor + fee_total_minor`), the amount the policy's
    value cap is measured in."""
    where = [
        Return.customer_id == customer_id,
        Return.no_receipt.is_(True),
        Return.initiated_at >= _since(now, policy.no_receipt_period_days),
        *_earlier(now, return_id),
    ]
    value = func.sum(Return.refund_total_minor + Return.fee_total_minor).filter(
        Return.currency == policy.currency
    )
    count, total = uow.session.execute(select(func.count(Return.id), value).where(*where)).one()
    return NoReceiptHistory(count=int(count), value=int(total or 0))


def lowest_price(
    uow: UnitOfWork, variant_id: uuid.UUID, days: int, now: datetime, currency: str
) -> int | None:
    """The lowest unit price `variant_id` sold at in the `days` before `now`, in `currency`:
    each line's paid total (discounts taken off, tax included) over its units, rounded
    down, across completed register sales and the lines of orders placed in the window
    (neither cancelled nor still awaiting their payment). None when it did not sell (the
    caller falls back to the current price)."""
    since = _since(now, days)
    sales = (
        select(func.min(SaleLine.total_minor // SaleLine.quantity))
        .join(Sale, Sale.id == SaleLine.sale_id)
        .where(
            SaleLine.variant_id == variant_id,
            SaleLine.quantity > 0,
            Sale.status == "completed",
            Sale.currency == currency,
            Sale.completed_at >= since,
            Sale.completed_at <= now,
        )
    )
    orders = (
        select(func.min(OrderLine.total_minor // OrderLine.quantity))
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            OrderLine.variant_id == variant_id,
            OrderLine.quantity > 0,
            Order.status.not_in([OrderStatus.CANCELLED, OrderStatus.PENDING_PAYMENT]),
            Order.currency == currency,
            Order.placed_at >= since,
            Order.placed_at <= now,
        )
    )
    prices = [uow.session.scalar(sales), uow.session.scalar(orders)]
    found = [int(p) for p in prices if p is not None]
    return min(found) if found else None


def buyer_employees(uow: UnitOfWork, customer_id: uuid.UUID) -> frozenset[str]:
    """Ids of the staff members who are this customer.

    Staff accounts and customer records are not linked, and users carry no email address:
    a user is taken to be the customer when the username, lower-cased, is the customer's
    email (retailers that log staff in by email address). No email, or usernames that are
    not addresses, means no match."""
    email = uow.session.scalar(select(Customer.email).where(Customer.id == customer_id))
    if not email:
        return frozenset()
    rows = uow.session.scalars(select(User.id).where(func.lower(User.username) == email.lower()))
    return frozenset(str(user_id) for user_id in rows)


def km_to_nearest(
    uow: UnitOfWork, *, location_id: uuid.UUID, purchase_location_ids: Iterable[uuid.UUID]
) -> float | None:
    """Great-circle km from `location_id` to the nearest purchase location with coordinates."""
    purchase = set(purchase_location_ids)
    if not purchase:
        return None
    rows = uow.session.execute(
        select(Location.id, Location.latitude, Location.longitude).where(
            Location.id.in_(purchase | {location_id}),
            Location.latitude.is_not(None),
            Location.longitude.is_not(None),
        )
    ).all()
    points = {r.id: (float(r.latitude), float(r.longitude)) for r in rows}
    here = points.get(location_id)
    there = [points[i] for i in purchase if i in points]
    if here is None or not there:
        return None
    return min(haversine_km(*here, *p) for p in there)


def _since(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def _earlier(now: datetime, return_id: uuid.UUID | None) -> list[ColumnElement[bool]]:
    where = [Return.status != CANCELLED, Return.initiated_at <= now]
    if return_id is not None:
        where.append(Return.id != return_id)
    return where


def _count(uow: UnitOfWork, now: datetime, return_id: uuid.UUID | None, *where: Any) -> int:
    stmt = select(func.count(Return.id)).where(and_(*where, *_earlier(now, return_id)))
    return int(uow.session.scalar(stmt) or 0)

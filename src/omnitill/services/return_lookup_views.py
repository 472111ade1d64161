"""What a return starts from: a sale or order found by services/return_lookup.py, with what
is left to return on each line and to refund on each payment.

`returnable` is what was sold and not yet returned: for a sale line `quantity -
quantity_returned`; for an order line `quantity_fulfilled - quantity_returned` (units never
shipped or handed over are cancelled, not returned). `refundable` is what a captured payment
took and has not refunded (`amount - refunded`); an authorization not yet captured has taken
nothing and refunds nothing. A card shows by brand and last four digits only.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import (
    Customer,
    Location,
    Order,
    OrderFulfillment,
    OrderLine,
    Payment,
    Sale,
    SaleLine,
)
from omnitill.domain.orders.lifecycle import format_number
from omnitill.domain.returns.lookup import ORDER, SALE

# Payments that took or hold money: declined, voided and failed attempts paid for nothing.
PAID = ("captured", "authorized")


@dataclass(frozen=True, slots=True)
class PurchaseRef:
    """A sale or order a search matched, and when it was bought (for the newest first)."""

    type: str  # sale | order
    id: uuid.UUID
    purchased_at: datetime


@dataclass(frozen=True, slots=True)
class LookupCustomer:
    id: uuid.UUID | None  # None: an order's guest name, no customer record
    name: str


@dataclass(frozen=True, slots=True)
class LookupLine:
    line_id: uuid.UUID
    line_no: int
    sku: str
    name: str
    quantity: int
    returnable: int
    unit_price: int
    total: int
    serials: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LookupPayment:
    payment_id: uuid.UUID
    method: str
    amount: int
    refundable: int
    card_brand: str | None
    card_last4: str | None


@dataclass(frozen=True, slots=True)
class LookupItem:
    type: str  # sale | order
    id: uuid.UUID
    number: str  # the receipt number, or "#100123"
    channel: str
    location: str | None  # code of the selling location (orders: origin, else fulfilling)
    purchased_at: datetime
    customer: LookupCustomer | None
    currency: str
    total: int
    lines: tuple[LookupLine, ...]
    payments: tuple[LookupPayment, ...]


def load_items(uow: UnitOfWork, refs: Sequence[PurchaseRef]) -> tuple[LookupItem, ...]:
    """The purchases `refs` name, in their order."""
    sale_ids = [r.id for r in refs if r.type == SALE]
    order_ids = [r.id for r in refs if r.type == ORDER]
    items = {**_sales(uow, sale_ids), **_orders(uow, order_ids)}
    return tuple(items[r.id] for r in refs if r.id in items)


def _sales(uow: UnitOfWork, ids: list[uuid.UUID]) -> dict[uuid.UUID, LookupItem]:
    if not ids:
        return {}
    lines: dict[uuid.UUID, list[LookupLine]] = defaultdict(list)
    for line in uow.session.scalars(
        select(SaleLine).where(SaleLine.sale_id.in_(ids)).order_by(SaleLine.line_no)
    ):
        lines[line.sale_id].append(
            LookupLine(
                line_id=line.id,
                line_no=line.line_no,
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                returnable=max(0, line.quantity - line.quantity_returned),
                unit_price=line.unit_price_minor,
                total=line.total_minor,
                serials=tuple(line.serials or ()),
            )
        )
    payments = _payments(uow, SALE, ids)
    rows = uow.session.execute(
        select(Sale, Location.code, Customer)
        .join(Location, Location.id == Sale.location_id)
        .outerjoin(Customer, Customer.id == Sale.customer_id)
        .where(Sale.id.in_(ids))
    )
    return {
        sale.id: LookupItem(
            type=SALE,
            id=sale.id,
            number=sale.receipt_number,
            channel=sale.channel,
            location=code,
            purchased_at=sale.completed_at,
            customer=None if customer is None else _customer(customer, ""),
            currency=sale.currency,
            total=sale.total_minor,
            lines=tuple(lines[sale.id]),
            payments=tuple(payments[sale.id]),
        )
        for sale, code, customer in rows
    }


def _orders(uow: UnitOfWork, ids: list[uuid.UUID]) -> dict[uuid.UUID, LookupItem]:
    if not ids:
        return {}
    lines: dict[uuid.UUID, list[LookupLine]] = defaultdict(list)
    for line in uow.session.scalars(
        select(OrderLine).where(OrderLine.order_id.in_(ids)).order_by(OrderLine.line_no)
    ):
        lines[line.order_id].append(
            LookupLine(
                line_id=line.id,
                line_no=line.line_no,
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                returnable=max(0, line.quantity_fulfilled - line.quantity_returned),
                unit_price=line.unit_price_minor,
                total=line.total_minor,
                serials=(),  # orders do not record the serials they shipped
            )
        )
    payments = _payments(uow, ORDER, ids)
    locations = _order_locations(uow, ids)
    rows = uow.session.execute(
        select(Order, Customer)
        .outerjoin(Customer, Customer.id == Order.customer_id)
        .where(Order.id.in_(ids))
    )
    items = {}
    for order, customer in rows:
        who = None
        if customer is not None:
            who = _customer(customer, order.customer_name)
        elif order.customer_name:
            who = LookupCustomer(None, order.customer_name)
        items[order.id] = LookupItem(
            type=ORDER,
            id=order.id,
            number=format_number(order.number),
            channel=order.channel,
            location=locations.get(order.id),
            purchased_at=order.placed_at,
            customer=who,
            currency=order.currency,
            total=order.total_minor,
            lines=tuple(lines[order.id]),
            payments=tuple(payments[order.id]),
        )
    return items


def _order_locations(uow: UnitOfWork, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Each order's selling location: where it was taken (a register's endless aisle, a
    layaway), else the first location that fulfilled it, rejections aside."""
    found: dict[uuid.UUID, str] = {}
    for order_id, code in uow.session.execute(
        select(Order.id, Location.code)
        .join(Location, Location.id == Order.origin_location_id)
        .where(Order.id.in_(ids))
    ):
        found[order_id] = code
    rest = [i for i in ids if i not in found]
    if rest:
        for order_id, code in uow.session.execute(
            select(OrderFulfillment.order_id, Location.code)
            .join(Location, Location.id == OrderFulfillment.location_id)
            .where(OrderFulfillment.order_id.in_(rest), OrderFulfillment.status != "rejected")
            .order_by(OrderFulfillment.created_at, OrderFulfillment.id)
        ):
            found.setdefault(order_id, code)
    return found


def _payments(
    uow: UnitOfWork, kind: str, ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[LookupPayment]]:
    """The tenders that took or hold money, oldest first, keyed by their sale or order."""
    column = Payment.sale_id if kind == SALE else Payment.order_id
    found: dict[uuid.UUID, list[LookupPayment]] = defaultdict(list)
    for owner, p in uow.session.execute(
        select(column, Payment)
        .where(column.in_(ids), Payment.status.in_(PAID))
        .order_by(Payment.created_at, Payment.id)
    ):
        assert owner is not None
        captured = p.status == "captured"
        found[owner].append(
            LookupPayment(
                payment_id=p.id,
                method=p.method,
                amount=p.amount_minor,
                refundable=max(0, p.amount_minor - p.refunded_minor) if captured else 0,
                card_brand=p.card_brand,
                card_last4=p.card_last4,
            )
        )
    return found


def _customer(customer: Customer, fallback: str) -> LookupCustomer:
    name = f"{customer.first_name} {customer.last_name}".strip()
    return LookupCustomer(customer.id, name or fallback)

"""Reading what orders were paid at registers: each payment as its receipt shows it, kept on
the order's timeline (`payment_received`, services/order_deposits.py) and read back from it."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Location, Order, OrderEvent
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import NotFound
from omnitill.services.order_views import OrderView, load_view, visible
from omnitill.services.sale_payments import PaidTender

RECEIVED = "payment_received"


@dataclass(frozen=True, slots=True)
class RegisterPayment:
    """One payment of an order at a register, as its receipt shows it."""

    id: uuid.UUID
    order_id: uuid.UUID
    register: str
    location: str
    currency: str
    amount: int  # what it took off the balance
    tendered: int  # everything handed over, change included
    change_due: int
    cash_rounding: int
    balance_due: int  # what was left to pay after it
    tenders: tuple[PaidTender, ...]
    created_at: datetime

    @property
    def paid_in_full(self) -> bool:
        return self.balance_due == 0


def payment_data(payment: RegisterPayment) -> dict[str, Any]:
    """The payment as its timeline entry keeps it (JSON)."""
    return {
        "order_payment_id": str(payment.id),
        "register": payment.register,
        "amount": payment.amount,
        "currency": payment.currency,
        "tendered": payment.tendered,
        "change_due": payment.change_due,
        "cash_rounding": payment.cash_rounding,
        "balance_due": payment.balance_due,
        "tenders": [{**asdict(t), "payment_id": str(t.payment_id)} for t in payment.tenders],
    }


def from_entry(entry: OrderEvent, location: str) -> RegisterPayment:
    """The payment a `payment_received` entry recorded."""
    d = entry.data
    return RegisterPayment(
        id=uuid.UUID(d["order_payment_id"]),
        order_id=entry.order_id,
        register=d["register"],
        location=location,
        currency=d["currency"],
        amount=d["amount"],
        tendered=d["tendered"],
        change_due=d["change_due"],
        cash_rounding=d["cash_rounding"],
        balance_due=d["balance_due"],
        tenders=tuple(
            PaidTender(**{**t, "payment_id": uuid.UUID(t["payment_id"])}) for t in d["tenders"]
        ),
        created_at=entry.created_at,
    )


def entries(uow: UnitOfWork, order_id: uuid.UUID) -> list[tuple[OrderEvent, str]]:
    """The order's `payment_received` entries, oldest first, with the store code."""
    rows = uow.session.execute(
        select(OrderEvent, Location.code)
        .join(Location, Location.id == OrderEvent.location_id)
        .where(OrderEvent.order_id == order_id, OrderEvent.kind == RECEIVED)
        .order_by(OrderEvent.created_at, OrderEvent.id)
    ).all()
    return [(e, code) for e, code in rows]


def list_payments(
    *, db: Database, actor: Actor, order_id: uuid.UUID
) -> tuple[OrderView, list[RegisterPayment]]:
    """The order and every payment it took at a register, oldest first."""
    actor.require(Permission.ORDERS_READ)
    with db.uow(write=False) as uow:
        order = uow.session.get(Order, order_id)
        if order is None or not visible(uow, actor, order):
            raise NotFound("order.not_found", "no such order", {"id": str(order_id)})
        items = [from_entry(e, code) for e, code in entries(uow, order.id)]
        return load_view(uow, order), items

"""Read models of the back office's people and returns pages: what a customer bought,
ordered and brought back, and returns found by status, location, kind and number.

Read-only. Staff bound to stores see their stores' sales and returns and the orders
fulfilled there only (as in the API); estate-wide roles see everything.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import Location, Order, Return, Sale
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.orders.lifecycle import format_number
from omnitill.services import order_views

LIMIT = 50  # rows per list on a customer's page


@dataclass(frozen=True, slots=True)
class SaleRow:
    id: uuid.UUID
    receipt_number: str
    location: str
    status: str
    currency: str
    total: int
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class OrderRow:
    id: uuid.UUID
    number: str
    channel: str
    status: str
    currency: str
    total: int
    placed_at: datetime


@dataclass(frozen=True, slots=True)
class ReturnRow:
    id: uuid.UUID
    number: str
    kind: str
    status: str
    location: str
    currency: str
    refund_total: int
    risk_score: int
    initiated_at: datetime


@dataclass(frozen=True, slots=True)
class CustomerActivity:
    sales: tuple[SaleRow, ...]
    orders: tuple[OrderRow, ...]
    returns: tuple[ReturnRow, ...]


def customer_activity(*, db: Database, actor: Actor, customer_id: uuid.UUID) -> CustomerActivity:
    """The customer's latest sales, orders and returns (newest first, 50 of each)."""
    actor.require(Permission.CUSTOMERS_READ)
    with db.uow(write=False) as uow:
        sales = uow.session.execute(
            select(Sale, Location.code)
            .join(Location, Location.id == Sale.location_id)
            .where(Sale.customer_id == customer_id)
            .order_by(Sale.completed_at.desc())
            .limit(LIMIT)
        ).all()
        orders = uow.session.scalars(
            select(Order)
            .where(Order.customer_id == customer_id)
            .order_by(Order.id.desc())
            .limit(LIMIT)
        ).all()
        seen_orders = [o for o in orders if order_views.visible(uow, actor, o)]
        returns = uow.session.execute(
            _returns_query().where(Return.customer_id == customer_id).limit(LIMIT)
        ).all()
        return CustomerActivity(
            sales=tuple(
                SaleRow(
                    s.id,
                    s.receipt_number,
                    code,
                    s.status,
                    s.currency,
                    s.total_minor,
                    s.completed_at,
                )
                for s, code in sales
                if actor.may_access(s.location_id)
            ),
            orders=tuple(
                OrderRow(
                    o.id,
                    format_number(o.number),
                    o.channel,
                    o.status,
                    o.currency,
                    o.total_minor,
                    o.placed_at,
                )
                for o in seen_orders
            ),
            returns=tuple(
                _return_row(r, code) for r, code in returns if actor.may_access(r.location_id)
            ),
        )


def find_returns(
    *,
    db: Database,
    actor: Actor,
    status: str | None = None,
    location: str | None = None,
    kind: str | None = None,
    number: str | None = None,
    limit: int = 100,
) -> list[ReturnRow]:
    """Returns newest first, at the actor's locations, filtered (number: a prefix)."""
    actor.require(Permission.RETURNS_CREATE)
    stmt = _returns_query().limit(limit)
    if status:
        stmt = stmt.where(Return.status == status)
    if location:
        stmt = stmt.where(Location.code == location)
    if kind:
        stmt = stmt.where(Return.kind == kind)
    if number:
        stmt = stmt.where(Return.number.startswith(number.strip().upper(), autoescape=True))
    if actor.location_ids is not None:
        stmt = stmt.where(Return.location_id.in_(actor.location_ids))
    with db.uow(write=False) as uow:
        return [_return_row(r, code) for r, code in uow.session.execute(stmt).all()]


def _returns_query() -> Select[Return, str]:
    return (
        select(Return, Location.code)
        .join(Location, Location.id == Return.location_id)
        .order_by(Return.initiated_at.desc(), Return.id.desc())
    )


def _return_row(r: Return, code: str) -> ReturnRow:
    return ReturnRow(
        r.id,
        r.number,
        r.kind,
        r.status,
        code,
        r.currency,
        r.refund_total_minor,
        r.risk_score,
        r.initiated_at,
    )

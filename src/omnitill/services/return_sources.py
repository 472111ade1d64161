"""The purchase a return takes units of, read from its snapshot: a register sale or an order.

Each line becomes the returns engine's `SoldLine` (what the customer paid for it, discounts
prorated and tax included, the tax inside it, the units and serials already returned), and
each captured payment a `PaidTender` with what it may still give back. Nothing here reads
today's catalog: prices, names and taxes are as charged.

An order line may give back the units that reached the customer (shipped or handed over):
the units never fulfilled were cancelled and refunded by the cancellation, so they count as
taken before this return's units.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import (
    Location,
    Order,
    OrderFulfillment,
    OrderLine,
    Payment,
    Product,
    Return,
    ReturnLine,
    Sale,
    SaleLine,
    Variant,
)
from omnitill.domain.errors import NotFound
from omnitill.domain.returns.model import SoldLine
from omnitill.domain.returns.tenders import ORDER, PaidTender


@dataclass(frozen=True, slots=True)
class SourceLine:
    line_id: uuid.UUID
    line_no: int
    variant_id: uuid.UUID
    sku: str
    name: str
    category_id: uuid.UUID | None
    sold: SoldLine
    unit_discounts: tuple[int, ...]
    lots: tuple[Mapping[str, Any], ...]
    quantity_returned: int  # the column: units given back by earlier returns
    limit: int  # the most units the line may ever give back (sold, or fulfilled)


@dataclass(frozen=True, slots=True)
class Source:
    kind: str  # sale | order
    id: uuid.UUID
    number: str
    channel: str
    currency: str
    customer_id: uuid.UUID | None
    cashier_id: uuid.UUID | None
    location_ids: frozenset[uuid.UUID]
    sold_at: datetime
    total: int  # what the purchase paid (an order: with its shipping)
    shipping: int
    lines: Mapping[uuid.UUID, SourceLine]
    tenders: tuple[PaidTender, ...]
    card_fingerprints: frozenset[str]
    promotion_groups: tuple[Mapping[str, Any], ...]

    @property
    def units_kept(self) -> int:
        """Units of the purchase still with the customer (before this return)."""
        return sum(line.limit - line.quantity_returned for line in self.lines.values())


def load(uow: UnitOfWork, *, sale_id: uuid.UUID | None, order_id: uuid.UUID | None) -> Source:
    if sale_id is not None:
        return _sale(uow, sale_id)
    assert order_id is not None
    return _order(uow, order_id)


def _sale(uow: UnitOfWork, sale_id: uuid.UUID) -> Source:
    sale = uow.session.get(Sale, sale_id)
    if sale is None:
        raise NotFound("sale.not_found", "no such sale", {"id": str(sale_id)})
    zone = _zone(uow, sale.location_id)
    returned = _returned_serials(uow, ReturnLine.sale_line_id, sale_id, SaleLine.sale_id)
    lines: dict[uuid.UUID, SourceLine] = {}
    for row in uow.session.scalars(
        select(SaleLine).where(SaleLine.sale_id == sale_id).order_by(SaleLine.line_no)
    ):
        lines[row.id] = SourceLine(
            line_id=row.id,
            line_no=row.line_no,
            variant_id=row.variant_id,
            sku=row.sku,
            name=row.name,
            category_id=row.category_id,
            sold=SoldLine(
                line_id=str(row.id),
                category_id=None if row.category_id is None else str(row.category_id),
                channel=sale.channel,
                sold_at=sale.completed_at,
                timezone=zone,
                quantity=row.quantity,
                paid_total=row.total_minor,
                tax_total=row.tax_total_minor,
                serials=frozenset(row.serials or ()),
                returned_quantity=row.quantity_returned,
                returned_serials=frozenset(returned.get(row.id, ())),
            ),
            unit_discounts=tuple(row.unit_discounts or ()),
            lots=tuple(row.lots or ()),
            quantity_returned=row.quantity_returned,
            limit=row.quantity,
        )
    payments = uow.session.scalars(select(Payment).where(Payment.sale_id == sale_id)).all()
    return Source(
        kind="sale",
        id=sale.id,
        number=sale.receipt_number,
        channel=sale.channel,
        currency=sale.currency,
        customer_id=sale.customer_id,
        cashier_id=sale.cashier_id,
        location_ids=frozenset({sale.location_id}),
        sold_at=sale.completed_at,
        total=sale.total_minor,
        shipping=0,
        lines=lines,
        tenders=_tenders(payments),
        card_fingerprints=_fingerprints(payments),
        promotion_groups=tuple(sale.promotion_groups or ()),
    )


def _order(uow: UnitOfWork, order_id: uuid.UUID) -> Source:
    from omnitill.domain.orders.lifecycle import format_number

    order = uow.session.get(Order, order_id)
    if order is None:
        raise NotFound("order.not_found", "no such order", {"id": str(order_id)})
    places = set(
        uow.session.scalars(
            select(OrderFulfillment.location_id).where(OrderFulfillment.order_id == order_id)
        )
    )
    if order.origin_location_id is not None:
        places.add(order.origin_location_id)
    first = order.origin_location_id or (min(places) if places else None)
    zone = _zone(uow, first) if first is not None else "UTC"
    categories = _categories(uow, order_id)
    lines: dict[uuid.UUID, SourceLine] = {}
    for row in uow.session.scalars(
        select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.line_no)
    ):
        never_fulfilled = row.quantity - row.quantity_fulfilled
        category = categories.get(row.variant_id)
        lines[row.id] = SourceLine(
            line_id=row.id,
            line_no=row.line_no,
            variant_id=row.variant_id,
            sku=row.sku,
            name=row.name,
            category_id=category,
            sold=SoldLine(
                line_id=str(row.id),
                category_id=None if category is None else str(category),
                channel=order.channel,
                sold_at=order.placed_at,
                timezone=zone,
                quantity=row.quantity,
                paid_total=row.total_minor,
                tax_total=row.tax_total_minor,
                returned_quantity=row.quantity_returned + never_fulfilled,
            ),
            unit_discounts=(),
            lots=(),
            quantity_returned=row.quantity_returned,
            limit=row.quantity_fulfilled,
        )
    payments = uow.session.scalars(select(Payment).where(Payment.order_id == order_id)).all()
    pricing = order.pricing or {}
    return Source(
        kind="order",
        id=order.id,
        number=format_number(order.number),
        channel=order.channel,
        currency=order.currency,
        customer_id=order.customer_id,
        cashier_id=None,
        location_ids=frozenset(places),
        sold_at=order.placed_at,
        total=order.total_minor,
        shipping=order.shipping_minor,
        lines=lines,
        tenders=_tenders(payments),
        card_fingerprints=_fingerprints(payments),
        promotion_groups=tuple(pricing.get("promotion_groups") or ()),
    )


def _zone(uow: UnitOfWork, location_id: uuid.UUID) -> str:
    loc = uow.session.get(Location, location_id)
    return loc.timezone if loc is not None else "UTC"


def _categories(uow: UnitOfWork, order_id: uuid.UUID) -> dict[uuid.UUID, uuid.UUID | None]:
    rows = uow.session.execute(
        select(Variant.id, Product.category_id)
        .join(Product, Product.id == Variant.product_id)
        .where(Variant.id.in_(select(OrderLine.variant_id).where(OrderLine.order_id == order_id)))
    )
    return {vid: cat for vid, cat in rows}


def _returned_serials(
    uow: UnitOfWork, column: Any, parent_id: uuid.UUID, parent_column: Any
) -> dict[uuid.UUID, list[str]]:
    """Serials given back by earlier returns (not cancelled), per sold line."""
    found: dict[uuid.UUID, list[str]] = {}
    rows = uow.session.execute(
        select(column, ReturnLine.serials)
        .join(Return, Return.id == ReturnLine.return_id)
        .where(
            Return.status != "cancelled",
            column.in_(select(SaleLine.id).where(parent_column == parent_id)),
        )
    )
    for line_id, serials in rows:
        found.setdefault(line_id, []).extend(serials or ())
    return found


def _tenders(payments: Any) -> tuple[PaidTender, ...]:
    return tuple(
        PaidTender(
            payment_id=str(p.id),
            method=p.method,
            refundable=p.amount_minor - p.refunded_minor,
            taken_at=p.created_at,
        )
        for p in payments
        if p.status == "captured" and p.method in ORDER
    )


def _fingerprints(payments: Any) -> frozenset[str]:
    return frozenset(p.card_fingerprint for p in payments if p.card_fingerprint)

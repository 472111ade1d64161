"""Reading sales back as charged: the view the API, receipts and events share."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Location,
    Register,
    Sale,
    SaleLine,
    SalePayment,
    StockException,
    User,
)
from omnitill.adapters.db.repositories.sales import Till
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import NotFound
from omnitill.domain.sales.totals import PricedSale, Settlement
from omnitill.services.pagination import (
    clamp_limit,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
)
from omnitill.services.references import scope_to_locations


@dataclass(frozen=True, slots=True)
class SaleLineView:
    line_no: int
    sku: str
    name: str
    quantity: int
    unit_price: int
    list_price: int
    subtotal: int
    discount_total: int
    tax_total: int
    total: int
    price_override_reason: str | None


@dataclass(frozen=True, slots=True)
class SalePaymentView:
    method: str
    amount: int
    currency: str


@dataclass(frozen=True, slots=True)
class SaleView:
    id: uuid.UUID
    receipt_number: str
    status: str
    location: str
    register: str
    cashier: str
    customer_id: uuid.UUID | None
    currency: str
    subtotal: int
    discount_total: int
    tax_total: int
    total: int
    tendered: int
    change_due: int
    tax_rate: Decimal
    tax_inclusive: bool
    business_date: date
    completed_at: datetime
    lines: tuple[SaleLineView, ...]
    payments: tuple[SalePaymentView, ...]
    stock_exceptions: tuple[str, ...] = field(default=())
    replayed: bool = False


def sale_payload(view: SaleView) -> dict[str, object]:
    """The JSON form of a sale used in events (amounts in minor units)."""
    return {
        "id": str(view.id),
        "receipt_number": view.receipt_number,
        "status": view.status,
        "location": view.location,
        "register": view.register,
        "currency": view.currency,
        "subtotal": view.subtotal,
        "discount_total": view.discount_total,
        "tax_total": view.tax_total,
        "total": view.total,
        "change_due": view.change_due,
        "completed_at": view.completed_at.isoformat(),
        "lines": [
            {"sku": x.sku, "quantity": x.quantity, "unit_price": x.unit_price, "total": x.total}
            for x in view.lines
        ],
        "payments": [{"method": p.method, "amount": p.amount} for p in view.payments],
    }


def view_of_new_sale(
    sale: dict[str, Any],
    till: Till,
    cashier: str,
    priced: PricedSale,
    settlement: Settlement,
    reasons: list[str | None],
    negative: list[str],
) -> SaleView:
    return SaleView(
        id=sale["id"],
        receipt_number=sale["receipt_number"],
        status=sale["status"],
        location=till.location_code,
        register=till.register_code,
        cashier=cashier,
        customer_id=sale["customer_id"],
        currency=priced.currency,
        subtotal=priced.subtotal,
        discount_total=priced.discount_total,
        tax_total=priced.tax_total,
        total=priced.total,
        tendered=settlement.tendered,
        change_due=settlement.change_due,
        tax_rate=priced.tax_rate,
        tax_inclusive=priced.tax_inclusive,
        business_date=sale["business_date"],
        completed_at=sale["completed_at"],
        lines=tuple(
            SaleLineView(
                line_no=i + 1,
                sku=p.sku,
                name=p.name,
                quantity=p.quantity,
                unit_price=p.unit_price,
                list_price=p.list_price,
                subtotal=p.subtotal,
                discount_total=p.discount_total,
                tax_total=p.tax_total,
                total=p.total,
                price_override_reason=reason if p.unit_price != p.list_price else None,
            )
            for i, (p, reason) in enumerate(zip(priced.lines, reasons, strict=True))
        ),
        payments=tuple(
            SalePaymentView(t.method, t.amount, priced.currency) for t in settlement.tenders
        ),
        stock_exceptions=tuple(negative),
    )


def load_view(uow: UnitOfWork, sale: Sale) -> SaleView:
    register_code, location_code = uow.session.execute(
        select(Register.code, Location.code)
        .join(Location, Location.id == Register.location_id)
        .where(Register.id == sale.register_id)
    ).one()
    cashier = uow.session.scalar(select(User.username).where(User.id == sale.cashier_id))
    lines = uow.session.scalars(
        select(SaleLine).where(SaleLine.sale_id == sale.id).order_by(SaleLine.line_no)
    ).all()
    payments = uow.session.scalars(
        select(SalePayment).where(SalePayment.sale_id == sale.id).order_by(SalePayment.seq)
    ).all()
    negative = uow.session.scalars(
        select(StockException.id).where(
            StockException.reference_type == "sale", StockException.reference_id == str(sale.id)
        )
    ).all()
    return SaleView(
        id=sale.id,
        receipt_number=sale.receipt_number,
        status=sale.status,
        location=location_code,
        register=register_code,
        cashier=cashier or "",
        customer_id=sale.customer_id,
        currency=sale.currency,
        subtotal=sale.subtotal_minor,
        discount_total=sale.discount_total_minor,
        tax_total=sale.tax_total_minor,
        total=sale.total_minor,
        tendered=sale.tendered_minor,
        change_due=sale.change_due_minor,
        tax_rate=sale.tax_rate,
        tax_inclusive=sale.tax_inclusive,
        business_date=sale.business_date,
        completed_at=sale.completed_at,
        lines=tuple(
            SaleLineView(
                line_no=x.line_no,
                sku=x.sku,
                name=x.name,
                quantity=x.quantity,
                unit_price=x.unit_price_minor,
                list_price=x.list_price_minor,
                subtotal=x.subtotal_minor,
                discount_total=x.discount_total_minor,
                tax_total=x.tax_total_minor,
                total=x.total_minor,
                price_override_reason=x.price_override_reason,
            )
            for x in lines
        ),
        payments=tuple(SalePaymentView(p.method, p.amount_minor, p.currency) for p in payments),
        stock_exceptions=tuple(str(n) for n in negative),
    )


def get_sale(*, db: Database, actor: Actor, sale_id: uuid.UUID) -> SaleView:
    """One sale as charged; 404 `sale.not_found`, 403 outside the actor's stores."""
    actor.require(Permission.SALES_READ)
    with db.uow(write=False) as uow:
        sale = uow.session.get(Sale, sale_id)
        if sale is None:
            raise NotFound("sale.not_found", f"no sale {sale_id}", {"id": str(sale_id)})
        _require_sale_location(uow, actor, sale)
        return load_view(uow, sale)


def _require_sale_location(uow: UnitOfWork, actor: Actor, sale: Sale) -> None:
    if not actor.may_access(sale.location_id):
        code = uow.session.scalar(select(Location.code).where(Location.id == sale.location_id))
        actor.require_location(sale.location_id, code or "")


def list_sales(
    *,
    db: Database,
    actor: Actor,
    receipt_number: str | None = None,
    location: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[SaleView], str | None]:
    """Sales newest first, filtered by receipt number or location, within the actor's stores."""
    actor.require(Permission.SALES_READ)
    page = clamp_limit(limit)
    after = decode_cursor(cursor)
    with db.uow(write=False) as uow:
        stmt = select(Sale).order_by(Sale.id.desc()).limit(page + 1)
        if receipt_number is not None:
            stmt = stmt.where(Sale.receipt_number == receipt_number)
        stmt = scope_to_locations(uow, actor, stmt, Sale.location_id, location)
        if after is not None:
            stmt = stmt.where(Sale.id < cursor_uuid(after))
        sales = uow.session.scalars(stmt).all()
        views = [load_view(uow, s) for s in sales[:page]]
    next_cursor = encode_cursor({"id": str(views[-1].id)}) if len(sales) > page else None
    return views, next_cursor

"""Receipts read the sale as charged (its snapshot), never today's catalog."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.numbers import format_currency, format_percent
from sqlalchemy import select

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import Location, Sale, User
from omnitill.domain.auth.actor import Actor
from omnitill.domain.money import minor_units
from omnitill.services.sale_views import MANUAL, SaleView, get_sale


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    name: str
    sku: str
    quantity: int
    unit_price: str
    total: str
    note: str | None
    discounts: list[tuple[str, str]]  # (promotion or reason, "-$2.00")


@dataclass(frozen=True, slots=True)
class ReceiptTax:
    """One line of the tax breakdown: "NYC sales tax 4.5% on $100.00  $4.50"."""

    label: str
    taxable: str
    tax: str


@dataclass(frozen=True, slots=True)
class Receipt:
    sale: SaleView
    store_name: str
    store_address: list[str]
    cashier_name: str
    local_time: str
    timezone: str
    lines: list[ReceiptLine]
    subtotal: str
    discount_total: str
    tax_label: str
    tax_total: str
    taxes: list[ReceiptTax]
    total: str
    payments: list[tuple[str, str]]
    change_due: str


def money_text(amount: int, currency: str, locale: str = "en_US") -> str:
    """19.99 USD as the locale writes it ("$19.99")."""
    return str(
        format_currency(Decimal(amount).scaleb(-minor_units(currency)), currency, locale=locale)
    )


def build_receipt(
    *, db: Database, actor: Actor, sale_id: uuid.UUID, locale: str = "en_US"
) -> Receipt:
    """Everything a printed or e-mailed receipt shows, formatted for `locale`."""
    view = get_sale(db=db, actor=actor, sale_id=sale_id)
    with db.uow(write=False) as uow:
        row = uow.session.execute(
            select(Location, User.display_name)
            .join(Sale, Sale.location_id == Location.id)
            .join(User, User.id == Sale.cashier_id)
            .where(Sale.id == sale_id)
        ).one()
    location, cashier_name = row

    def fmt(amount: int) -> str:
        return money_text(amount, view.currency, locale)

    tz = ZoneInfo(location.timezone)

    def pct(rate: Decimal) -> str:
        return str(format_percent(rate, format="#,##0.####%", locale=locale))

    address = [
        part
        for part in (
            location.address_line1,
            location.address_line2,
            " ".join(p for p in (location.city, location.region, location.postal_code) if p),
        )
        if part
    ]
    return Receipt(
        sale=view,
        store_name=location.name,
        store_address=address,
        cashier_name=cashier_name or view.cashier,
        local_time=view.completed_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        timezone=location.timezone,
        lines=[
            ReceiptLine(
                name=line.name,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=fmt(line.unit_price),
                total=fmt(line.subtotal),
                note=(f"Price override (was {fmt(line.list_price)}): {line.price_override_reason}")
                if line.price_override_reason
                else None,
                discounts=[
                    (a.reason if a.source == MANUAL and a.reason else a.name, f"-{fmt(a.amount)}")
                    for a in line.adjustments
                ],
            )
            for line in view.lines
        ],
        subtotal=fmt(view.subtotal),
        discount_total=fmt(view.discount_total),
        tax_label="Incl. tax" if view.tax_inclusive else "Tax",
        tax_total=fmt(view.tax_total),
        taxes=[
            ReceiptTax(label=f"{t.name} {pct(t.rate)}", taxable=fmt(t.taxable), tax=fmt(t.tax))
            for t in view.taxes
        ],
        total=fmt(view.total),
        payments=[(p.method.title(), fmt(p.amount)) for p in view.payments],
        change_due=fmt(view.change_due),
    )

"""Receipts read the sale as charged (its snapshot), never today's catalog.

A receipt prints, top to bottom: the store (name, address, its `receipt_header`), the sale's
number, time, register and cashier, each line with its discounts, the subtotal, the tax
breakdown by jurisdiction component, the total, each tender (a card by brand and last four
digits only, never more), the change, the receipt number as a Code 128 barcode and as a QR
code (`domain.returns.lookup.receipt_barcode` / `receipt_qr`: what the returns lookup scans),
and the store's return policy (`receipt_footer`). Money and dates are written for the store's
`locale` (Babel). A **gift receipt** leaves out every price, the totals and the tenders, and
keeps the lines, the codes and the policy, so the gift can be returned or exchanged.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_currency, format_percent
from sqlalchemy import select

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import Location, Sale, User
from omnitill.domain.auth.actor import Actor
from omnitill.domain.labels.barcodes import Barcode, code128
from omnitill.domain.labels.ticket import BarcodeBlock, QrBlock, Ticket, TicketBuilder
from omnitill.domain.money import minor_units
from omnitill.domain.returns.lookup import receipt_barcode, receipt_qr
from omnitill.services.sale_views import MANUAL, SalePaymentView, SaleView, get_sale

_LAST4 = re.compile(r"^\d{4}$")
_BRANDS = {
    "amex": "American Express",
    "mastercard": "Mastercard",
    "jcb": "JCB",
    "unionpay": "UnionPay",
}


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    name: str
    sku: str
    quantity: int
    unit_price: str  # "" on a gift receipt
    total: str  # "" on a gift receipt
    note: str | None
    discounts: list[tuple[str, str]]  # (promotion or reason, "-$2.00"); none on a gift receipt


@dataclass(frozen=True, slots=True)
class ReceiptTax:
    """One line of the tax breakdown: "NYC sales tax 4.5% on $100.00  $4.50"."""

    label: str
    taxable: str
    tax: str


@dataclass(frozen=True, slots=True)
class Receipt:
    """Every string a receipt prints; on a gift receipt (`gift`) the price strings are empty
    and `taxes` and `payments` are empty, so no renderer can show a price."""

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
    payments: list[tuple[str, str]]  # ("Visa ****4242", "$26.13")
    change_due: str
    locale: str = "en_US"
    gift: bool = False
    header: list[str] | None = None  # the store's receipt_header, line by line
    footer: list[str] | None = None  # the store's receipt_footer (its return policy)
    barcode: Barcode | None = None  # Code 128 of the receipt number
    qr_data: str = ""  # what the QR code holds: OT1:R:<receipt number>

    @property
    def receipt_number(self) -> str:
        return self.sale.receipt_number


def money_text(amount: int, currency: str, locale: str = "en_US") -> str:
    """19.99 USD as the locale writes it ("$19.99")."""
    return str(
        format_currency(Decimal(amount).scaleb(-minor_units(currency)), currency, locale=locale)
    )


def tender_label(payment: SalePaymentView) -> str:
    """ "Cash", "Gift card", or a card as "Visa ****4242": brand and last four only."""
    if payment.method == "card":
        brand = (payment.card_brand or "card").strip().lower()
        name = _BRANDS.get(brand, brand.title())
        last4 = payment.card_last4 or ""
        return f"{name} ****{last4}" if _LAST4.match(last4) else name
    return payment.method.replace("_", " ").capitalize()


def build_receipt(
    *,
    db: Database,
    actor: Actor,
    sale_id: uuid.UUID,
    gift: bool = False,
    locale: str | None = None,
) -> Receipt:
    """Everything a printed or e-mailed receipt shows, written for `locale` (default: the
    store's)."""
    view = get_sale(db=db, actor=actor, sale_id=sale_id)
    with db.uow(write=False) as uow:
        location, cashier_name = uow.session.execute(
            select(Location, User.display_name)
            .join(Sale, Sale.location_id == Location.id)
            .join(User, User.id == Sale.cashier_id)
            .where(Sale.id == sale_id)
        ).one()
    locale = locale or location.locale or "en_US"

    def fmt(amount: int) -> str:
        return "" if gift else money_text(amount, view.currency, locale)

    def pct(rate: Decimal) -> str:
        return str(format_percent(rate, format="#,##0.####%", locale=locale))

    city = " ".join(p for p in (location.city, location.region, location.postal_code) if p)
    address = [p for p in (location.address_line1, location.address_line2, city) if p]
    when = format_datetime(
        view.completed_at, "short", tzinfo=ZoneInfo(location.timezone), locale=locale
    )
    return Receipt(
        sale=view,
        store_name=location.name,
        store_address=address,
        cashier_name=cashier_name or view.cashier,
        local_time=str(when),
        timezone=location.timezone,
        lines=[
            ReceiptLine(
                name=line.name,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=fmt(line.unit_price),
                total=fmt(line.subtotal),
                note=(f"Price override (was {fmt(line.list_price)}): {line.price_override_reason}")
                if line.price_override_reason and not gift
                else None,
                discounts=[]
                if gift
                else [
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
        taxes=[]
        if gift
        else [
            ReceiptTax(label=f"{t.name} {pct(t.rate)}", taxable=fmt(t.taxable), tax=fmt(t.tax))
            for t in view.taxes
        ],
        total=fmt(view.total),
        payments=[] if gift else [(tender_label(p), fmt(p.amount)) for p in view.payments],
        change_due=fmt(view.change_due),
        locale=locale,
        gift=gift,
        header=location.receipt_header.splitlines(),
        footer=location.receipt_footer.splitlines(),
        barcode=code128(receipt_barcode(view.receipt_number)),
        qr_data=receipt_qr(view.receipt_number),
    )


def receipt_ticket(receipt: Receipt, *, kick_drawer: bool = False) -> Ticket:
    """The receipt laid out for a thermal roll (42 columns), with its barcode and QR code."""
    t = TicketBuilder()
    t.center(receipt.store_name, bold=True, large=True)
    for part in [*receipt.store_address, *(receipt.header or [])]:
        t.center(part)
    if receipt.gift:
        t.center("GIFT RECEIPT", bold=True)
    t.rule()
    t.pair("Receipt", receipt.receipt_number)
    t.pair("Date", receipt.local_time)
    t.pair("Register", receipt.sale.register)
    t.pair("Cashier", receipt.cashier_name)
    t.rule()
    for line in receipt.lines:
        if receipt.gift:
            t.pair(line.name, f"x{line.quantity}")
            continue
        t.row(line.name)
        t.pair(f"  {line.quantity} x {line.unit_price}", line.total)
        for label, amount in line.discounts:
            t.pair(f"  {label}", amount)
        if line.note:
            t.row(f"  {line.note}")
    t.rule()
    if not receipt.gift:
        _totals(t, receipt)
        t.rule()
    t.add(BarcodeBlock(receipt.barcode.data if receipt.barcode else receipt.receipt_number))
    t.center(receipt.receipt_number)
    t.add(QrBlock(receipt.qr_data))
    for part in receipt.footer or []:
        t.center(part)
    t.center("Thank you for shopping with us")
    return t.build(kick_drawer=kick_drawer)


def _totals(t: TicketBuilder, receipt: Receipt) -> None:
    t.pair("Subtotal", receipt.subtotal)
    if receipt.sale.discount_total:
        t.pair("Discounts", f"-{receipt.discount_total}")
    t.pair(receipt.tax_label, receipt.tax_total)
    for tax in receipt.taxes:
        t.pair(f"  {tax.label} on {tax.taxable}", tax.tax)
    t.pair("TOTAL", receipt.total, bold=True)
    for label, amount in receipt.payments:
        t.pair(label, amount)
    t.pair("Change", receipt.change_due)

"""Totals of a register sale under a single location tax rate.

The pricing issue replaces this with the full engine; until then a sale is priced from each
variant's list price (or a manager-approved override), with one tax rate per location, rounded
half-up per line. Included in `total`: line amounts after discounts, plus tax when prices
exclude it. Not included: change due, which is tendered cash above the total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.money import Rounding, round_minor


@dataclass(frozen=True, slots=True)
class SaleLineInput:
    """One priced line: `unit_price` in minor units of the sale currency."""

    variant_id: str
    sku: str
    name: str
    quantity: int
    unit_price: int
    list_price: int


@dataclass(frozen=True, slots=True)
class TaxRule:
    """The location's single rate (0.0875 = 8.75 %) and whether shelf prices include it."""

    rate: Decimal
    inclusive: bool
    rounding: Rounding = Rounding.HALF_UP


@dataclass(frozen=True, slots=True)
class PricedLine:
    variant_id: str
    sku: str
    name: str
    quantity: int
    unit_price: int
    list_price: int
    subtotal: int  # quantity x unit price, as shelf-priced (tax included when inclusive)
    discount_total: int
    tax_total: int
    total: int  # what the customer pays for the line


@dataclass(frozen=True, slots=True)
class PricedSale:
    currency: str
    lines: tuple[PricedLine, ...]
    subtotal: int
    discount_total: int
    tax_total: int
    total: int
    tax_rate: Decimal
    tax_inclusive: bool

    @property
    def taxable_total(self) -> int:
        """Net of tax: what tax was charged on."""
        return self.total - self.tax_total


def price_sale(*, currency: str, lines: Sequence[SaleLineInput], tax: TaxRule) -> PricedSale:
    """Price every line and total the sale. Raises `sale.*` codes for impossible input."""
    if not lines:
        raise ValidationFailed(
            "sale.no_lines",
            "a sale needs at least one line",
            errors=[FieldError("lines", "sale.no_lines", "at least one line is required")],
        )
    errors = [
        FieldError(f"lines.{i}.quantity", "sale.quantity_not_positive", "must be at least 1")
        for i, line in enumerate(lines)
        if line.quantity <= 0
    ]
    errors += [
        FieldError(f"lines.{i}.unit_price", "sale.price_negative", "must not be negative")
        for i, line in enumerate(lines)
        if line.unit_price < 0
    ]
    if errors:
        raise ValidationFailed("sale.invalid_lines", "some sale lines are invalid", errors=errors)

    priced: list[PricedLine] = []
    for line in lines:
        subtotal = line.unit_price * line.quantity
        discount = 0
        net_of_discount = subtotal - discount
        if tax.inclusive:
            line_tax = round_minor(
                Decimal(net_of_discount) * tax.rate / (1 + tax.rate), tax.rounding
            )
            total = net_of_discount
        else:
            line_tax = round_minor(Decimal(net_of_discount) * tax.rate, tax.rounding)
            total = net_of_discount + line_tax
        priced.append(
            PricedLine(
                variant_id=line.variant_id,
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                list_price=line.list_price,
                subtotal=subtotal,
                discount_total=discount,
                tax_total=line_tax,
                total=total,
            )
        )
    return PricedSale(
        currency=currency,
        lines=tuple(priced),
        subtotal=sum(p.subtotal for p in priced),
        discount_total=sum(p.discount_total for p in priced),
        tax_total=sum(p.tax_total for p in priced),
        total=sum(p.total for p in priced),
        tax_rate=tax.rate,
        tax_inclusive=tax.inclusive,
    )


@dataclass(frozen=True, slots=True)
class Tender:
    method: str
    amount: int


@dataclass(frozen=True, slots=True)
class Settlement:
    tenders: tuple[Tender, ...]
    tendered: int
    change_due: int


SUPPORTED_TENDERS = frozenset({"cash"})


def settle_cash(*, total: int, tenders: Sequence[Tender]) -> Settlement:
    """Check the tenders cover `total` exactly, giving change only from cash.

    Only cash is accepted until the payments issue adds cards, wallets and gift cards.
    """
    errors = [
        FieldError(f"payments.{i}.method", "payment.method_unsupported", f"{t.method!r}")
        for i, t in enumerate(tenders)
        if t.method not in SUPPORTED_TENDERS
    ]
    errors += [
        FieldError(f"payments.{i}.amount", "payment.amount_not_positive", "must be positive")
        for i, t in enumerate(tenders)
        if t.amount <= 0
    ]
    if errors:
        code = errors[0].code
        raise ValidationFailed(code, "some payments are invalid", errors=errors)
    tendered = sum(t.amount for t in tenders)
    if tendered < total:
        raise ValidationFailed(
            "payment.insufficient",
            f"payments of {tendered} do not cover the total of {total}",
            {"total": total, "tendered": tendered, "short_by": total - tendered},
            errors=[FieldError("payments", "payment.insufficient", "payments short of total")],
        )
    return Settlement(tenders=tuple(tenders), tendered=tendered, change_due=tendered - total)

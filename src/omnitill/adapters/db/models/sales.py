"""Completed register sales, stored as charged: prices, names and taxes are snapshots."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from omnitill.adapters.db.models.base import Base, id_column


class Sale(Base):
    __tablename__ = "sales"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # born on the register
    receipt_number: Mapped[str] = mapped_column(String(60), unique=True)
    register_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("registers.id"))
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"), index=True)
    cashier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    discount_total_minor: Mapped[int] = mapped_column(BigInteger)
    tax_total_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    tendered_minor: Mapped[int] = mapped_column(BigInteger)
    change_due_minor: Mapped[int] = mapped_column(BigInteger)
    tax_rate: Mapped[Decimal | None] = mapped_column(Numeric(8, 6))  # before 0004 only
    tax_inclusive: Mapped[bool]
    channel: Mapped[str] = mapped_column(String(16), default="in_store")
    exchange_rate: Mapped[Decimal | None] = mapped_column(Numeric(18, 8))
    tax_exempt_reason: Mapped[str | None] = mapped_column(String(200))
    # 0008: cash rounding of the payment (signed; the total stays as priced) and the shift.
    cash_rounding_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    shift_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    business_date: Mapped[date]  # the store's local date
    completed_at: Mapped[datetime] = mapped_column(index=True)
    # 0010: the units each promotion with a reward (buy X get Y) claimed, line by line:
    # [{"promotion_id", "kind", "buy", "get", "units": {"<line_no>": n}}], so a return can
    # charge back the benefit of a free unit the customer keeps.
    promotion_groups: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default="[]"
    )


class SaleLine(Base):
    __tablename__ = "sale_lines"

    id: Mapped[uuid.UUID] = id_column()
    sale_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales.id"), index=True)
    line_no: Mapped[int]
    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variants.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(400))
    quantity: Mapped[int] = mapped_column(BigInteger)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    list_price_minor: Mapped[int] = mapped_column(BigInteger)
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    discount_total_minor: Mapped[int] = mapped_column(BigInteger)
    tax_total_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    price_override_reason: Mapped[str | None] = mapped_column(String(200))
    # The pricing snapshot (0004): where the price came from, the net tax was computed on,
    # each unit's share of the discounts and the line's taxes, so a return refunds exactly
    # what each unit cost, at the rate it was charged.
    compare_at_minor: Mapped[int | None] = mapped_column(BigInteger)
    price_source: Mapped[str] = mapped_column(String(16), default="base")
    price_list_id: Mapped[uuid.UUID | None]
    tax_class: Mapped[str] = mapped_column(String(40), default="standard")
    tax_inclusive: Mapped[bool] = mapped_column(default=False)
    net_minor: Mapped[int | None] = mapped_column(BigInteger)
    unit_discounts: Mapped[list[int]] = mapped_column(JSON, default=list)
    taxes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # 0007: the lots the units came from ([{"lot", "expires_on", "quantity"}]), the serial
    # numbers sold, and the warranty start (the store's business date of the sale).
    lots: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    serials: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    warranty_starts_on: Mapped[date | None]
    # 0008: the gift card a gift card line activated
    gift_card_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("gift_cards.id"))
    # 0010: units returned so far, raised by one conditional UPDATE per return (never past
    # `quantity`), and the category the line was sold in (for return windows and rates).
    quantity_returned: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    category_id: Mapped[uuid.UUID | None]


class SaleAdjustment(Base):
    """One discount on one sale line, naming the promotion (or manual reason) that gave it."""

    __tablename__ = "sale_adjustments"

    id: Mapped[uuid.UUID] = id_column()
    sale_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales.id"), index=True)
    line_no: Mapped[int]
    source: Mapped[str] = mapped_column(String(40))  # a promotion id, or "manual"
    promotion_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(200))
    coupon_code: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(200))
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class SaleTax(Base):
    """The sale's tax per jurisdiction component and rate, as printed on the receipt."""

    __tablename__ = "sale_taxes"

    id: Mapped[uuid.UUID] = id_column()
    sale_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales.id"), index=True)
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    rate: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    taxable_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)


class SalePayment(Base):
    __tablename__ = "sale_payments"

    id: Mapped[uuid.UUID] = id_column()
    sale_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales.id"), index=True)
    seq: Mapped[int]
    method: Mapped[str] = mapped_column(String(24))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime]
    # 0008: the payment it settled (payments), cash handed over and change, and the card's
    # receipt facts (brand, last four, entry mode, authorization code; never the number).
    payment_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    tendered_minor: Mapped[int | None] = mapped_column(BigInteger)
    tendered_currency: Mapped[str | None] = mapped_column(String(3))
    change_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    card_brand: Mapped[str | None] = mapped_column(String(16))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    entry_mode: Mapped[str | None] = mapped_column(String(16))
    auth_code: Mapped[str | None] = mapped_column(String(16))

"""Register sale bodies (contract: shared/DESIGN.md section 8)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from omnitill.api.schemas.quotes import (
    AdjustmentRead,
    AppliedPromotionRead,
    CartLineCreate,
    DiscountCreate,
    TaxRead,
)

EXAMPLE = {
    "id": "0192f5e2-7c1a-7b3e-9d2f-3a4b5c6d7e8f",
    "location": "S01",
    "register": "S01-R1",
    "lines": [{"sku": "OXF-NVY-M", "quantity": 1}, {"barcode": "4006381333931", "quantity": 2}],
    "payments": [{"method": "cash", "amount": 10000}],
}


class SaleLineCreate(CartLineCreate):
    """A sale line is priced like a quote line; tracked variants say which units left."""

    lot: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Lot code to sell from (lot-tracked variants); omitted: first expired, "
        "first out. A named lot must be unexpired and hold the units.",
    )
    serials: list[str] | None = Field(
        default=None,
        max_length=1000,
        description="Serial numbers sold, one per unit; required for serial-tracked variants. "
        "Each must be in stock at the sale's location.",
    )


class GiftCardSoldRead(BaseModel):
    id: str
    display: str = Field(description="The number masked but its last four characters.")
    code: str | None = Field(
        default=None,
        description="The full number of a card issued by this sale: in its first answer only.",
    )


class PaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: str = Field(
        description="cash | card | gift_card | store_credit | qr | exchange (the credit of an "
        "exchange return, named by its number in `code`)"
    )
    amount: int = Field(
        description="Minor units of `currency` tendered; cash above what is due is change. "
        "Card, gift card, store credit and QR pay exact amounts (never more than is due)."
    )
    currency: str | None = Field(
        default=None,
        min_length=3,
        max_length=3,
        description="Foreign cash only: counted at the store's exchange rate for today, "
        "change in the sale's currency.",
    )
    payment_id: UUID | None = Field(
        default=None,
        description="card / qr: the payment taken for this sale (POST /api/v1/payments or "
        "/api/v1/qr-payments), captured, for exactly `amount`.",
    )
    code: str | None = Field(
        default=None, max_length=40, description="gift_card: the card number as typed or scanned."
    )


class SaleCreate(BaseModel):
    """A completed register sale. The `id` (UUID, ideally v7, made on the register) is its
    idempotency key: posting the same sale again replays the first answer."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})
    id: UUID | None = None
    location: str = Field(max_length=32, description="Store code, e.g. S01.")
    register: str = Field(max_length=40, description="Register code, e.g. S01-R1.")
    customer: UUID | None = Field(default=None, description="Customer id, if known.")
    coupons: list[str] = Field(default_factory=list, max_length=20)
    discount: DiscountCreate | None = Field(default=None, description="An order discount.")
    lines: list[SaleLineCreate] = Field(max_length=500)
    payments: list[PaymentCreate] = Field(max_length=20)


class SaleLineLotRead(BaseModel):
    lot: str | None = Field(description="Lot code; null for units no lot balance covered.")
    expires_on: date | None = Field(description="The lot's expiry date.")
    quantity: int = Field(description="Units of the line from this lot.")


class SaleLineRead(BaseModel):
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
    price_override_reason: str | None = None
    compare_at: int | None = None
    price_source: str = Field(description="price_list, base, converted or override.")
    price_list_id: str | None = None
    tax_inclusive: bool
    net: int | None = Field(description="After discounts; what tax was computed on or from.")
    unit_discounts: list[int] = Field(description="discount_total split over the units.")
    adjustments: list[AdjustmentRead]
    taxes: list[TaxRead]
    lots: list[SaleLineLotRead] = Field(
        default_factory=list, description="Lot-tracked variants: the lots the units came from."
    )
    serials: list[str] = Field(
        default_factory=list, description="Serial-tracked variants: the serial numbers sold."
    )
    warranty_starts_on: date | None = Field(
        default=None,
        description="Serial-tracked variants: the warranty start (the store's business date).",
    )
    gift_card: GiftCardSoldRead | None = Field(
        default=None, description="A gift card line: the card it activated."
    )


class PaymentRead(BaseModel):
    method: str
    amount: int = Field(description="What the tender paid of the sale.")
    currency: str
    payment_id: str | None = None
    tendered: int | None = Field(default=None, description="Cash handed over.")
    tendered_currency: str | None = None
    change: int = 0
    card_brand: str | None = None
    card_last4: str | None = Field(default=None, description="Never more of the card number.")
    entry_mode: str | None = None
    auth_code: str | None = None


class SaleRead(BaseModel):
    id: UUID
    receipt_number: str = Field(description="Gapless per register: S01-R1-000123.")
    status: str
    location: str
    register: str = Field(description="Register code, e.g. S01-R1.")
    cashier: str
    customer: UUID | None
    currency: str
    subtotal: int
    discount_total: int
    tax_total: int
    total: int
    tendered: int
    change_due: int
    cash_rounding: int = Field(
        default=0,
        description="Signed cash rounding of the payment (CHF 0.05...): the tenders paid "
        "total + cash_rounding; the total itself is as priced.",
    )
    tax_inclusive: bool
    channel: str
    taxes: list[TaxRead] = Field(description="Tax per jurisdiction component and rate.")
    promotions: list[AppliedPromotionRead]
    tax_exempt_reason: str | None
    exchange_rate: str | None
    business_date: date = Field(description="The store's local date of the sale.")
    completed_at: datetime
    lines: list[SaleLineRead]
    payments: list[PaymentRead]
    stock_exceptions: list[str] = Field(
        description="SKUs this sale drove below zero on hand; flagged for a manager."
    )


class SalePage(BaseModel):
    items: list[SaleRead]
    next_cursor: str | None

"""Register sale bodies (contract: shared/DESIGN.md section 8)."""

from __future__ import annotations

import warnings
from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

# The contract names the field "register"; pydantic warns it shadows BaseModel.register
# (the ABC registration hook), which these models never use.
warnings.filterwarnings("ignore", message='Field name "register"', category=UserWarning)

EXAMPLE = {
    "id": "0192f5e2-7c1a-7b3e-9d2f-3a4b5c6d7e8f",
    "location": "S01",
    "register": "S01-R1",
    "lines": [{"sku": "OXF-NVY-M", "quantity": 1}, {"barcode": "4006381333931", "quantity": 2}],
    "payments": [{"method": "cash", "amount": 10000}],
}


class SaleLineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str | None = Field(default=None, max_length=64, description="Give sku or barcode.")
    barcode: str | None = Field(default=None, max_length=32, description="As scanned.")
    quantity: int = Field(description="Units in the variant's base unit; at least 1.")
    unit_price: int | None = Field(
        default=None,
        description="Price override in minor units; needs the "
        "sales.price_override permission or a manager override (X-Manager-Override).",
    )
    price_override_reason: str | None = Field(default=None, max_length=200)


class PaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: str = Field(description="Tender; `cash` until the payments issue lands.")
    amount: int = Field(description="Minor units tendered; cash above the total is change.")


class SaleCreate(BaseModel):
    """A completed register sale. The `id` (UUID, ideally v7, made on the register) is its
    idempotency key: posting the same sale again replays the first answer."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})
    id: UUID | None = None
    location: str = Field(max_length=32, description="Store code, e.g. S01.")
    register: str = Field(max_length=40, description="Register code, e.g. S01-R1.")
    customer: UUID | None = Field(default=None, description="Customer id, if known.")
    coupons: list[str] = Field(default_factory=list)
    lines: list[SaleLineCreate] = Field(max_length=500)
    payments: list[PaymentCreate] = Field(max_length=20)


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


class PaymentRead(BaseModel):
    method: str
    amount: int
    currency: str


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
    tax_rate: str = Field(description="Decimal rate applied, e.g. '0.08875'.")
    tax_inclusive: bool
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

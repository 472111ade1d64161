"""Shift, drawer and report bodies. Amounts are minor units of the shift's currency;
denominations are keyed by their value in minor units ("2000" is a 20.00 note)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class ShiftOpen(BaseModel):
    id: str | None = Field(
        default=None, description="The shift's UUID, born on the register (idempotency key)."
    )
    register: str = Field(description="Register code, e.g. S01-R1.")
    denominations: dict[int, int] = Field(
        description="The counted float: value in minor units -> pieces."
    )


class CashMovementCreate(BaseModel):
    kind: str = Field(description="drop | pickup | paid_in | paid_out")
    amount: int = Field(description="Minor units, positive.")
    reason: str = Field(default="", max_length=200, description="Required for paid in/out.")


class NoSaleCreate(BaseModel):
    reason: str = Field(max_length=200)


class ShiftClose(BaseModel):
    counted: dict[str, int] = Field(
        default_factory=dict,
        description="Blind counts per tender (cash, card, qr) in minor units.",
    )
    cash_denominations: dict[int, int] | None = Field(
        default=None, description="The drawer counted by denomination, instead of counted.cash."
    )
    reason: str | None = Field(
        default=None, max_length=200, description="Why the count differs, when it does."
    )


class ShiftRead(BaseModel):
    id: str
    register: str = Field(description="Register code, e.g. S01-R1.")
    location: str
    status: str = Field(description="open | counted (count frozen, awaiting a reason) | closed")
    currency: str
    opened_by: str
    opened_at: datetime
    business_date: date
    float: int
    closed_at: datetime | None


class XReportRead(BaseModel):
    shift: ShiftRead
    cash_movements: dict[str, int] = Field(description="Signed cash per movement kind.")
    no_sales: int
    payments: dict[str, int] = Field(description="Taken per tender, refunds netted.")
    expected: dict[str, int] = Field(description="What each tender should hold now.")
    text: str = Field(description="The report for a receipt printer, 42 columns.")


class ZReportRead(BaseModel):
    shift_id: str
    register: str = Field(description="Register code, e.g. S01-R1.")
    location: str
    z_number: int
    business_date: date
    currency: str
    totals: dict[str, Any]
    variance: int
    variance_reason: str | None
    closed_by: str
    created_at: datetime
    text: str = Field(description="The report for a receipt printer, 42 columns.")


class CashManagementUpdate(BaseModel):
    enabled: bool = Field(description="Cash sales need an open shift on their register.")


class CashManagementRead(BaseModel):
    location: str
    enabled: bool
    previous: bool

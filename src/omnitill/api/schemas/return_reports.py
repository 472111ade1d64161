"""Return KPIs: money in minor units of each row's `currency`; rates are decimal strings
("0.2500" is 25 %), null when nothing sold or nothing was received."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field


class ReturnTotalsRead(BaseModel):
    currency: str
    returns: int
    units: int
    refund_value: int = Field(
        description="Everything given back: the lines after restocking fees and promotion "
        "chargebacks, plus shipping."
    )
    fees: int = Field(description="Restocking fees kept.")
    shipping_refunded: int = Field(description="The shipping part of `refund_value`.")


class ReturnReasonRead(BaseModel):
    reason_code: str
    currency: str
    units: int
    refund_value: int = Field(description="These lines' refunds after fees and chargebacks.")


class ReturnRateRead(BaseModel):
    currency: str
    units_returned: int
    units_sold: int
    unit_rate: Decimal | None
    value_returned: int = Field(description="What the returned units were paid (before fees).")
    value_sold: int = Field(description="Paid totals of the units sold (tax included).")
    value_rate: Decimal | None


class ChannelRateRead(ReturnRateRead):
    channel: str | None


class CategoryRateRead(ReturnRateRead):
    category_id: str | None = Field(description="None: lines without a category.")
    category: str | None = Field(description="The category's name.")


class ReturnRatesRead(BaseModel):
    by_channel: list[ChannelRateRead]
    by_category: list[CategoryRateRead]


class TurnaroundRead(BaseModel):
    refunded: int = Field(description="Returns refunded, the sample of the figures below.")
    median_hours: float | None
    p90_hours: float | None = Field(description="90th percentile, nearest rank.")
    open: int = Field(description="Returns neither refunded nor completed yet.")


class RestockRead(BaseModel):
    units_received: int = Field(description="Units given a disposition.")
    units_resalable: int
    rate: Decimal | None


class ReturnsReportRead(BaseModel):
    date_from: date = Field(serialization_alias="from")
    date_to: date = Field(serialization_alias="to")
    location: str | None
    totals: list[ReturnTotalsRead]
    reasons: list[ReturnReasonRead]
    return_rate: ReturnRatesRead
    turnaround: TurnaroundRead
    restock_rate: RestockRead

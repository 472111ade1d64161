"""Finding the sale or order to return: the card presented on the terminal, and what is found."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class CardLookupRequest(BaseModel):
    """The card the customer presents on the terminal, encrypted for the gateway."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={"example": {"payment_data": "p2pe:v1:...", "from": "2025-01-01"}},
    )

    payment_data: str = Field(
        min_length=1,
        max_length=8192,
        description="What the terminal read, encrypted for the gateway (or a card token); "
        "never a card number.",
    )
    date_from: date | None = Field(
        default=None, alias="from", description="First purchase date; default `to` - 90 days."
    )
    date_to: date | None = Field(
        default=None, alias="to", description="Last purchase date (included); default today."
    )


class LookupCustomerRead(BaseModel):
    id: UUID | None = Field(description="None for an order placed by a guest.")
    name: str


class LookupLineRead(BaseModel):
    line_id: UUID
    line_no: int
    sku: str
    name: str
    quantity: int
    returnable: int = Field(description="Units sold (orders: fulfilled) and not returned.")
    unit_price: int
    total: int
    serials: list[str]


class LookupPaymentRead(BaseModel):
    payment_id: UUID
    method: str
    amount: int
    refundable: int = Field(description="What the captured payment took and has not refunded.")
    card_brand: str | None
    card_last4: str | None


class LookupItemRead(BaseModel):
    type: Literal["sale", "order"]
    id: UUID
    number: str = Field(description="The receipt number, or the order's `#100123`.")
    channel: str
    location: str | None = Field(description="Code of the selling location.")
    purchased_at: datetime
    customer: LookupCustomerRead | None
    currency: str
    total: int
    lines: list[LookupLineRead]
    payments: list[LookupPaymentRead]


class LookupPage(BaseModel):
    items: list[LookupItemRead]

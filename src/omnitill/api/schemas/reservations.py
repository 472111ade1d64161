"""Stock reservations: units held at a location for an order, a pickup or a quote."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from omnitill.api.schemas.stock import StockLineIn


class ReferenceIn(BaseModel):
    type: str = Field(min_length=1, max_length=40, description="order, pickup, quote, ...")
    id: str = Field(min_length=1, max_length=64, description="The document's number, W-1001.")


class ReservationCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reference": {"type": "order", "id": "W-1001"},
                    "location": "S01",
                    "lines": [{"sku": "OXF-NVY-M", "quantity": 2}],
                    "ttl_seconds": 900,
                }
            ]
        }
    )
    reference: ReferenceIn = Field(
        description="What the stock is held for; one reservation per reference."
    )
    location: str = Field(description="Location code, e.g. S01.")
    lines: list[StockLineIn] = Field(description="Positive quantities to hold.")
    ttl_seconds: int | None = Field(
        default=None, ge=1, description="Expire after this many seconds; none = until released."
    )


class ReferenceRead(BaseModel):
    type: str
    id: str


class ReservationLineRead(BaseModel):
    sku: str
    quantity: int


class ReservationRead(BaseModel):
    id: str
    reference: ReferenceRead
    location: str
    status: str = Field(description="active, released, fulfilled or expired.")
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    actor: str | None = Field(description="Username of who reserved it.")
    lines: list[ReservationLineRead]


class ReservationPage(BaseModel):
    items: list[ReservationRead]
    next_cursor: str | None


class FulfilSerialsIn(BaseModel):
    sku: str = Field(max_length=64)
    serials: list[str] = Field(description="One serial number per reserved unit of the SKU.")


class ReservationFulfil(BaseModel):
    lines: list[FulfilSerialsIn] = Field(
        default_factory=list,
        description="The serials handed over, for serial-tracked SKUs only.",
    )

"""Transfers of stock between locations: request, ship, receive, cancel."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class TransferLineIn(BaseModel):
    sku: str = Field(max_length=64, description="The variant's SKU.")
    quantity: int = Field(description="Units asked for, in the variant's base unit; >= 1.")


class TransferCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "source": "W01",
                    "destination": "S01",
                    "lines": [{"sku": "OXF-NVY-M", "quantity": 12}],
                    "expected_on": "2026-12-04",
                    "notes": "weekend restock",
                }
            ]
        }
    )
    source: str = Field(description="Code of the location the units leave, e.g. W01.")
    destination: str = Field(description="Code of the location they go to, e.g. S01.")
    lines: list[TransferLineIn] = Field(description="One line per SKU.")
    expected_on: date | None = Field(default=None, description="When it should arrive.")
    notes: str = Field(default="", max_length=1000, description="Free text for the teams.")


class ShipLineIn(BaseModel):
    sku: str = Field(max_length=64, description="A SKU on the transfer.")
    quantity: int = Field(description="Units to ship: 0 up to the quantity requested.")
    lot: str | None = Field(
        default=None,
        max_length=64,
        description="Lot-tracked: the lot to ship from (default: first expired, first out).",
    )
    serials: list[str] = Field(
        default_factory=list, description="Serial-tracked: one serial number per unit shipped."
    )


class TransferShip(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"lines": [{"sku": "OXF-NVY-M", "quantity": 10}]}]}
    )
    lines: list[ShipLineIn] | None = Field(
        default=None,
        description="What ships; omitted: everything requested. SKUs left out ship nothing.",
    )


class LotQuantityIn(BaseModel):
    lot: str = Field(max_length=64, description="A lot code shipped on this line.")
    quantity: int = Field(description="Units of that lot that arrived.")


class ReceiveLineIn(BaseModel):
    sku: str = Field(max_length=64, description="A SKU on the transfer.")
    quantity: int = Field(description="Units that arrived (0 or more).")
    lots: list[LotQuantityIn] | None = Field(
        default=None, description="Lot-tracked, arriving short or over: which lots arrived."
    )
    serials: list[str] | None = Field(
        default=None, description="Serial-tracked, arriving short: which serials arrived."
    )


class TransferReceive(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"lines": [{"sku": "OXF-NVY-M", "quantity": 9}]}]}
    )
    lines: list[ReceiveLineIn] | None = Field(
        default=None,
        description="What arrived; omitted: exactly what shipped. When given, every line "
        "that shipped must be named (0 if nothing arrived).",
    )


class LotPortionRead(BaseModel):
    lot: str
    expires_on: date | None
    quantity: int


class TransferLineRead(BaseModel):
    line_no: int
    sku: str
    name: str
    requested: int = Field(description="Units asked for.")
    shipped: int = Field(description="Units that left the source.")
    received: int = Field(description="Units booked in at the destination.")
    not_shipped: int | None = Field(
        description="requested - shipped, once shipped (the rest was not sent)."
    )
    difference: int | None = Field(
        description="received - shipped, once received: negative short, positive over."
    )
    lots: list[LotPortionRead] = Field(description="The lots that left the source.")
    serials: list[str] = Field(description="The serial numbers that left the source.")


class DiscrepancyRead(BaseModel):
    sku: str
    shipped: int
    received: int
    difference: int = Field(description="received - shipped.")
    kind: str = Field(description="short (lost in transit) or over.")
    exception_id: str | None = Field(
        description="The `transfer_discrepancy` stock exception opened for a manager."
    )


class TransferRead(BaseModel):
    number: str = Field(description="TR-000123.")
    id: str
    source: str
    destination: str
    status: str = Field(description="requested, shipped, received or cancelled.")
    expected_on: date | None
    notes: str
    requested_by: str | None
    requested_at: datetime
    shipped_by: str | None
    shipped_at: datetime | None
    received_by: str | None
    received_at: datetime | None
    cancelled_at: datetime | None
    updated_at: datetime
    lines: list[TransferLineRead]
    discrepancies: list[DiscrepancyRead] = Field(
        description="Lines received short of or over what shipped."
    )


class TransferPage(BaseModel):
    items: list[TransferRead]
    next_cursor: str | None

"""Serial numbers (a unit's whereabouts, warranty and history) and lots with their balances."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field


class SerialEventRead(BaseModel):
    event: str = Field(description="received, sold, transferred_out, transferred_in, ...")
    from_status: str | None = Field(description="Status before the event; null when new.")
    to_status: str = Field(description="Status after the event.")
    location: str | None = Field(description="Location code where it happened.")
    reference_type: str | None = Field(description="sale, reservation, transfer, reference...")
    reference_id: str | None = Field(description="The sale id, transfer number, ...")
    actor: str | None = Field(description="Username of who moved the unit.")
    created_at: datetime


class SerialUnitRead(BaseModel):
    serial: str
    sku: str
    status: str = Field(
        description="in_stock, reserved, sold, returned, quarantined, in_transit, "
        "written_off or returned_to_vendor."
    )
    location: str | None = Field(description="Where the unit is, or where it was sold.")
    warranty_starts_on: date | None = Field(
        description="The store's business date of the sale that activated the warranty."
    )
    sale_id: UUID | None = Field(description="The sale that sold it (while sold).")
    receipt_number: str | None = Field(description="That sale's receipt number.")
    received_at: datetime = Field(description="When the unit was first received.")
    updated_at: datetime
    history: list[SerialEventRead] = Field(description="Every event, oldest first.")


class SerialLookupRead(BaseModel):
    serial: str
    items: list[SerialUnitRead] = Field(
        description="The units carrying this serial (one per variant using it; usually one)."
    )


class LotRead(BaseModel):
    sku: str
    lot: str = Field(description="Lot (batch) code.")
    expires_on: date | None = Field(description="Expiry date; null: does not expire.")
    location: str = Field(description="Location code.")
    on_hand: int = Field(description="Units of the lot at the location.")
    expired_units: int = Field(
        description="Units of on_hand the expiry sweep moved to the expired bucket."
    )
    expired: bool = Field(
        description="True once the location's business date is after expires_on; "
        "first expired first out skips it from then on."
    )
    sellable: int = Field(description="Units that may still be sold (0 once expired).")


class LotPage(BaseModel):
    items: list[LotRead]
    next_cursor: str | None

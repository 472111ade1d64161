"""Stock levels, receipts of goods and adjustments."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class StockRead(BaseModel):
    sku: str
    variant_id: str
    location: str = Field(description="Location code.")
    on_hand: int = Field(
        description="Units physically at the location (may be negative "
        "after offline sales of goods the customer held)."
    )
    reserved: int = Field(description="Units promised to orders and holds.")
    available: int = Field(description="on_hand - reserved - safety stock - unavailable.")
    updated_at: datetime


class StockPage(BaseModel):
    items: list[StockRead]
    next_cursor: str | None


class StockLineIn(BaseModel):
    sku: str | None = Field(default=None, max_length=64)
    barcode: str | None = Field(default=None, max_length=14)
    quantity: int


class StockReceiveCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "location": "W01",
                    "reference": "PO-1042",
                    "reason": "vendor delivery",
                    "lines": [{"sku": "OXF-NVY-M", "quantity": 24}],
                }
            ]
        }
    )
    location: str = Field(description="Location code, e.g. W01.")
    lines: list[StockLineIn] = Field(description="Positive quantities received.")
    reason: str = Field(default="", max_length=200)
    reference: str | None = Field(
        default=None, max_length=64, description="Delivery note or purchase order number."
    )


class StockAdjustmentCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "location": "S01",
                    "reason": "damaged in store",
                    "lines": [{"sku": "OXF-NVY-M", "quantity": -1}],
                }
            ]
        }
    )
    location: str
    lines: list[StockLineIn] = Field(description="Signed changes to on-hand; never zero.")
    reason: str = Field(max_length=200, description="Why the stock changed; required.")


class MovementRead(BaseModel):
    id: str
    sku: str
    location: str
    quantity: int
    on_hand: int = Field(description="On-hand after this movement.")


class MovementList(BaseModel):
    items: list[MovementRead]


class LedgerEntryRead(BaseModel):
    id: str
    sku: str
    location: str
    bucket: str = Field(description="Which stock state moved; `on_hand` for now.")
    quantity: int = Field(description="Signed change of the bucket.")
    kind: str = Field(description="receive, sale or adjustment.")
    reason: str
    reference_type: str | None
    reference_id: str | None = Field(description="The sale id, purchase order, ...")
    actor: str | None = Field(description="Username of who moved it.")
    created_at: datetime


class LedgerPage(BaseModel):
    items: list[LedgerEntryRead]
    next_cursor: str | None


class StockExceptionRead(BaseModel):
    id: str
    sku: str
    location: str
    kind: str = Field(description="`negative_stock`: a sale took on-hand below zero.")
    on_hand_after: int
    reference_type: str | None
    reference_id: str | None
    created_at: datetime


class StockExceptionList(BaseModel):
    items: list[StockExceptionRead]

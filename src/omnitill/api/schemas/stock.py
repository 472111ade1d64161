"""Stock levels, receipts of goods and adjustments."""

from __future__ import annotations

from datetime import date, datetime

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
    safety_stock: int = Field(description="Units kept back from promises (a setting).")
    quarantine: int = Field(description="Units of on_hand held in quarantine.")
    damaged: int = Field(description="Units of on_hand that are damaged.")
    qc: int = Field(description="Units of on_hand awaiting quality control.")
    expired: int = Field(description="Units of on_hand in lots past their expiry date.")
    available: int = Field(
        description="on_hand - reserved - safety_stock - quarantine - damaged - qc - expired; "
        "may be negative."
    )
    incoming: int = Field(
        description="Units ordered on open purchase orders, not yet received (not in on_hand)."
    )
    in_transit: int = Field(
        description="Units shipped here by transfers, not yet received (not in on_hand)."
    )
    reorder_point: int | None = Field(
        description="Replenish when available + incoming + in_transit falls to this (a setting)."
    )
    max_level: int | None = Field(description="Replenish up to this level (a setting).")
    updated_at: datetime


class StockPage(BaseModel):
    items: list[StockRead]
    next_cursor: str | None


class StockLineIn(BaseModel):
    sku: str | None = Field(default=None, max_length=64)
    barcode: str | None = Field(default=None, max_length=14)
    quantity: int


class LotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64, description="The lot (batch) code.")
    expires_on: date | None = Field(
        default=None,
        description="Expiry date; required the first time a lot is received, and a lot "
        "received again must carry the same date or none.",
    )


class ReceiptLineIn(StockLineIn):
    lot: LotIn | None = Field(
        default=None, description="The lot received into; required for lot-tracked variants."
    )
    serials: list[str] | None = Field(
        default=None,
        max_length=10_000,
        description="One serial number per unit; required for serial-tracked variants.",
    )


class StockReceiveCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "location": "W01",
                    "reference": "PO-1042",
                    "reason": "vendor delivery",
                    "lines": [
                        {"sku": "OXF-NVY-M", "quantity": 24},
                        {
                            "sku": "MILK-1L",
                            "quantity": 12,
                            "lot": {"code": "L2405", "expires_on": "2025-06-30"},
                        },
                        {"sku": "PHONE-X", "quantity": 2, "serials": ["SN-001", "SN-002"]},
                    ],
                }
            ]
        }
    )
    location: str = Field(description="Location code, e.g. W01.")
    lines: list[ReceiptLineIn] = Field(description="Positive quantities received.")
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
    lines: list[ReceiptLineIn] = Field(
        description="Signed changes to on-hand; never zero. Lot-tracked variants name the "
        "lot (with its expiry when found stock starts a new lot); serial-tracked variants "
        "name one serial per unit added or removed."
    )
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
    bucket: str = Field(
        description="on_hand, reserved, quarantine, damaged, qc, expired, incoming or in_transit."
    )
    quantity: int = Field(description="Signed change of the bucket.")
    kind: str = Field(
        description="receive, sale, adjustment, move, count, import, reserve, release, fulfil, "
        "expire, lot_expired, write_off, return_to_vendor, po_ordered, po_received, "
        "po_cancelled, po_closed, transfer_out, transfer_shipped, transfer_received, "
        "transfer_in, transfer_short or transfer_over."
    )
    reason: str
    reference_type: str | None
    reference_id: str | None = Field(description="The sale id, purchase order, ...")
    actor: str | None = Field(description="Username of who moved it.")
    created_at: datetime
    lot: str | None = Field(default=None, description="The lot code, for lot-tracked units.")


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


class StockExceptionResolve(BaseModel):
    """Close an exception by a shelf count (`counted`), or acknowledge it (no count)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"counted": 3, "reason": "shelf counted after sale"}]},
    )
    counted: int | None = Field(
        default=None, description="Units counted on the shelf; on-hand is set to it."
    )
    reason: str = Field(max_length=200, description="Required; recorded and audited.")


class StockExceptionResolved(BaseModel):
    sku: str
    location: str
    resolution: str = Field(description="`counted` or `acknowledged`.")
    on_hand: int
    counted_change: int = Field(description="The count movement's quantity (0 if none).")
    resolved: list[str] = Field(
        description="Every exception closed: all open ones of the SKU there."
    )


class SafetyStockUpdate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"sku": "OXF-NVY-M", "location": "S01", "quantity": 2}]}
    )
    sku: str = Field(max_length=64)
    location: str
    quantity: int = Field(ge=0, description="Units to keep back from what is available.")


class SafetyStockRead(BaseModel):
    sku: str
    location: str
    quantity: int
    previous: int


class StockMoveCreate(BaseModel):
    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "sku": "OXF-NVY-M",
                    "location": "S01",
                    "from": "sellable",
                    "to": "damaged",
                    "quantity": 1,
                    "reason": "torn seam",
                }
            ]
        },
    )
    sku: str = Field(max_length=64)
    location: str
    source: str = Field(alias="from", description="sellable, quarantine, damaged or qc.")
    target: str = Field(alias="to", description="sellable, quarantine, damaged or qc.")
    quantity: int = Field(ge=1)
    reason: str = Field(max_length=160, description="Why the units moved; required.")


class StockMoveRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    sku: str
    location: str
    source: str = Field(serialization_alias="from")
    target: str = Field(serialization_alias="to")
    quantity: int
    movements: list[str] = Field(description="Ids of the ledger movements written.")

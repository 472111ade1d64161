"""Reorder settings, replenishment suggestions, dispositions, stock CSV imports and the feed."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

_RP = "Replenish when available + incoming + in_transit falls to this; null clears it."
_MAX = "Replenish up to this level (>= reorder_point); null clears it."
_SAFETY = "Units kept back from `available` (0 for none)."


class ReorderSettingItem(BaseModel):
    """One level's settings; a setting left out keeps its value."""

    model_config = ConfigDict(extra="forbid")
    sku: str = Field(max_length=64, description="The variant's SKU.")
    location: str = Field(max_length=32, description="Location code, e.g. S01.")
    reorder_point: int | None = Field(default=None, description=_RP)
    max_level: int | None = Field(default=None, description=_MAX)
    safety_stock: int | None = Field(default=None, description=_SAFETY)


class ReorderSettingsUpdate(BaseModel):
    """Either one level (`sku`, `location` and its settings) or `items` (a bulk set-up)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"sku": "OXF-NVY-M", "location": "S01", "reorder_point": 4, "max_level": 12},
                {
                    "items": [
                        {"sku": "OXF-NVY-M", "location": "S01", "reorder_point": 4},
                        {"sku": "OXF-NVY-M", "location": "W01", "reorder_point": 40},
                    ]
                },
            ]
        },
    )
    sku: str | None = Field(default=None, max_length=64, description="The variant's SKU.")
    location: str | None = Field(default=None, max_length=32, description="Location code.")
    reorder_point: int | None = Field(default=None, description=_RP)
    max_level: int | None = Field(default=None, description=_MAX)
    safety_stock: int | None = Field(default=None, description=_SAFETY)
    items: list[ReorderSettingItem] | None = Field(
        default=None,
        max_length=1000,
        description="Up to 1,000 levels, applied all or nothing (instead of sku/location).",
    )

    @model_validator(mode="after")
    def _one_shape(self) -> ReorderSettingsUpdate:
        if self.items is not None and self.model_fields_set - {"items"}:
            raise ValueError("give either items or one level's fields, not both")
        return self


class ReorderSettingValues(BaseModel):
    reorder_point: int | None
    max_level: int | None
    safety_stock: int


class ReorderSettingRead(BaseModel):
    sku: str
    location: str
    reorder_point: int | None
    max_level: int | None
    safety_stock: int
    previous: ReorderSettingValues = Field(description="The settings before this change.")


class ReorderSettingList(BaseModel):
    items: list[ReorderSettingRead]


class SupplierRef(BaseModel):
    code: str
    name: str
    preferred: bool = Field(description="Marked as the variant's preferred supplier.")


class SuggestionRead(BaseModel):
    kind: str = Field(description="`transfer` (from a warehouse) or `purchase` (from a supplier).")
    sku: str
    location: str = Field(description="The location to replenish.")
    location_kind: str = Field(description="`store` or `warehouse`.")
    quantity: int = Field(description="Base units to transfer or order (whole packs to order).")
    from_location: str | None = Field(description="The warehouse a transfer comes from.")
    supplier: SupplierRef | None = Field(
        description="Who to buy from; null for a transfer, or when no supplier sells the variant."
    )
    packs: int | None = Field(description="Packs to order.")
    pack_size: int | None = Field(description="Base units per pack.")
    estimated_cost: int | None = Field(
        description="packs x the supplier's pack cost, minor units of `currency`."
    )
    currency: str | None
    projected: int = Field(description="available + incoming + in_transit.")
    available: int
    incoming: int
    in_transit: int
    reorder_point: int
    max_level: int | None
    target: int = Field(description="max_level, else reorder_point + sales over the lead time.")
    need: int = Field(description="target - projected, for the whole line (all its suggestions).")
    sold: int = Field(description="Units sold here in the velocity window.")
    velocity_per_day: float = Field(description="sold / days, rounded to 2 places.")
    days_of_cover: float | None = Field(
        description="projected / velocity, rounded to 1 place; null without sales."
    )
    lead_time_days: int
    reasoning: list[str] = Field(description="Why: the facts behind this suggestion, in order.")


class SuggestionList(BaseModel):
    items: list[SuggestionRead] = Field(description="Most urgent first (days of cover).")
    days: int = Field(description="The velocity window in days.")
    sales_since: datetime
    generated_at: datetime


class DispositionCreate(BaseModel):
    model_config = ConfigDict(
        populate_by_name=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "sku": "OXF-NVY-M",
                    "location": "S01",
                    "from": "damaged",
                    "action": "write_off",
                    "quantity": 2,
                    "reason": "torn beyond repair",
                },
                {
                    "sku": "OXF-NVY-M",
                    "location": "W01",
                    "from": "quarantine",
                    "action": "return_to_vendor",
                    "quantity": 5,
                    "reason": "faulty zips, RMA 7781",
                    "supplier": "ACME",
                },
            ]
        },
    )
    sku: str = Field(max_length=64)
    location: str = Field(max_length=32)
    source: str = Field(alias="from", description="sellable, damaged, quarantine, qc or expired.")
    action: str = Field(description="`write_off` or `return_to_vendor`.")
    quantity: int = Field(description="Base units, at least 1.")
    reason: str = Field(max_length=160, description="Why; required and audited.")
    supplier: str | None = Field(
        default=None, max_length=40, description="Supplier code; required for return_to_vendor."
    )
    lot: str | None = Field(
        default=None, max_length=64, description="Lot code (lot-tracked); default FEFO."
    )
    serials: list[str] = Field(
        default_factory=list, description="Serial numbers leaving (serial-tracked variants)."
    )


class DispositionLot(BaseModel):
    lot: str | None
    quantity: int
    serials: list[str]


class DispositionRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    sku: str
    location: str
    source: str = Field(serialization_alias="from")
    action: str
    quantity: int
    supplier: str | None
    on_hand: int = Field(description="On-hand after the units left.")
    lots: list[DispositionLot] = Field(description="Which lots (and serials) left.")
    movements: list[str] = Field(description="Ids of the ledger movements written.")


class ImportRowError(BaseModel):
    line: int = Field(description="Line in the file (the header is line 1).")
    row: str = Field(description="The row as read.")
    code: str
    message: str


class ImportReportRead(BaseModel):
    import_id: str = Field(description="Referenced by each movement (`stock_import`).")
    mode: str
    rows: int = Field(description="Data rows read.")
    applied: int = Field(description="Rows applied, including those with nothing to change.")
    changed: int = Field(description="Rows that changed stock (one movement each).")
    failed: int
    errors: list[ImportRowError]


class FeedItem(BaseModel):
    sku: str
    location: str
    on_hand: int
    available: int
    reserved: int
    incoming: int
    in_transit: int
    updated_at: datetime


class FeedPage(BaseModel):
    items: list[FeedItem]
    next_cursor: str | None = Field(description="The rest of this scan; null when done.")
    next_since: datetime = Field(
        description="Pass as `since` on the next poll: this scan's start less 60 s of overlap."
    )

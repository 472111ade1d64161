"""Request and response bodies for suppliers, purchase orders, goods receipts and incoming.

Money fields are integers in minor units of the object's `currency`; quantities are integers
in the variant's base unit (`unit`: each, g or ml).
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

_UNIT_COST = "Minor units of the order's currency per base unit."
_NEXT = "Pass back as `cursor` for the next page."


# --- suppliers ------------------------------------------------------------------------------


class SupplierCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "ACME",
                    "name": "Acme Textiles",
                    "currency": "USD",
                    "email": "orders@acme.example",
                    "lead_time_days": 10,
                }
            ]
        }
    )
    code: str = Field(max_length=40, description="Unique short code it is addressed by.")
    name: str = Field(max_length=200)
    currency: str = Field(description="ISO 4217 currency the supplier invoices in.")
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=40)
    lead_time_days: int = Field(
        7, description="Days from sending an order to delivery; the default expected date."
    )
    active: bool = Field(True, description="Inactive suppliers take no new orders.")


class SupplierUpdate(BaseModel):
    """Only the fields sent change; null clears email or phone. The code cannot change."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"lead_time_days": 14}]})
    name: str | None = Field(None, max_length=200)
    currency: str | None = Field(None, description="Applies to orders created from now on.")
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=40)
    lead_time_days: int | None = None
    active: bool | None = None


class SupplierRead(BaseModel):
    code: str
    name: str
    currency: str
    email: str | None
    phone: str | None
    lead_time_days: int
    active: bool
    created_at: datetime
    updated_at: datetime


class SupplierPage(BaseModel):
    items: list[SupplierRead]
    next_cursor: str | None = Field(description=_NEXT)


class SupplierItemIn(BaseModel):
    sku: str = Field(max_length=64, description="Our SKU of the variant.")
    supplier_sku: str | None = Field(None, max_length=64, description="The supplier's code.")
    pack_size: int = Field(1, description="Base units per pack (a case of 12: 12).")
    pack_cost: int | None = Field(
        None, description="Price of one pack, minor units of the supplier's currency."
    )
    min_order_packs: int = Field(1, description="Smallest order the supplier takes, in packs.")
    preferred: bool = Field(
        False,
        description="The supplier replenishment buys this variant from; setting it clears "
        "the flag on the variant's other suppliers.",
    )


class SupplierItemsPut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "sku": "TEE-BLK-M",
                            "supplier_sku": "AC-1001",
                            "pack_size": 12,
                            "pack_cost": 4800,
                            "min_order_packs": 2,
                            "preferred": True,
                        }
                    ]
                }
            ]
        }
    )
    items: list[SupplierItemIn] = Field(description="Added or replaced by SKU; others stay.")


class SupplierItemRead(BaseModel):
    sku: str
    name: str
    unit: str = Field(description="Base unit of the variant: each, g or ml.")
    supplier_sku: str | None
    pack_size: int
    pack_cost: int | None
    unit_cost: int | None = Field(description="pack_cost / pack_size, rounded half-up.")
    min_order_packs: int
    preferred: bool
    currency: str
    updated_at: datetime


class SupplierItemPage(BaseModel):
    items: list[SupplierItemRead]
    next_cursor: str | None = Field(description=_NEXT)


# --- purchase orders ------------------------------------------------------------------------


class PurchaseOrderLineIn(BaseModel):
    sku: str = Field(max_length=64)
    quantity: int | None = Field(None, description="Base units; give this or `packs`.")
    packs: int | None = Field(
        None, description="Packs; times `pack_size` (or the supplier item's) in base units."
    )
    pack_size: int | None = Field(None, description="Base units per pack, if not the supplier's.")
    unit_cost: int | None = Field(
        None, description=_UNIT_COST + " Default: the supplier item's pack cost / pack size."
    )


class PurchaseOrderCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "supplier": "ACME",
                    "location": "W01",
                    "expected_on": "2026-12-15",
                    "lines": [
                        {"sku": "TEE-BLK-M", "packs": 4},
                        {"sku": "TEE-BLK-L", "quantity": 30, "unit_cost": 410},
                    ],
                }
            ]
        }
    )
    supplier: str = Field(description="Supplier code.")
    location: str = Field(description="Ship-to location code, e.g. W01.")
    currency: str | None = Field(
        None, description="Optional check: must equal the supplier's currency."
    )
    expected_on: date | None = Field(
        None, description="Expected delivery date; default today + the supplier's lead time."
    )
    notes: str = Field("", max_length=1000)
    lines: list[PurchaseOrderLineIn] = Field(
        default_factory=list, description="One line per SKU; may be empty in a draft."
    )


class PurchaseOrderLinesPut(BaseModel):
    lines: list[PurchaseOrderLineIn] = Field(description="Replaces every line of the draft.")


class PurchaseOrderUpdate(BaseModel):
    """Only the fields sent change; null clears expected_on."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"expected_on": "2026-12-20"}]})
    expected_on: date | None = None
    notes: str | None = Field(None, max_length=1000)


class StatusChange(BaseModel):
    reason: str = Field("", max_length=200, description="Why; kept in the audit trail.")


class PurchaseOrderLineRead(BaseModel):
    line_no: int
    sku: str
    name: str
    unit: str = Field(description="Base unit the quantities count in: each, g or ml.")
    pack_size: int
    packs: int | None = Field(description="Packs ordered, when a whole number of packs.")
    quantity_ordered: int
    quantity_received: int
    remaining: int = Field(description="Ordered less received, never below 0.")
    unit_cost: int = Field(description=_UNIT_COST)
    total: int = Field(description="quantity_ordered x unit_cost.")


class GoodsReceiptLineRead(BaseModel):
    line_no: int | None
    sku: str
    quantity: int
    unit_cost: int | None = Field(description=_UNIT_COST)
    landed_unit_cost: int | None = Field(description="Unit cost with its landed cost share.")
    lot: str | None
    serials: list[str]


class GoodsReceiptRead(BaseModel):
    id: str
    reference: str | None = Field(description="The supplier's delivery note.")
    currency: str
    landed_cost: int = Field(description="Freight, duty and other costs of the delivery.")
    received_by: str | None
    created_at: datetime
    lines: list[GoodsReceiptLineRead]


class PurchaseOrderRead(BaseModel):
    number: str
    supplier: str
    supplier_name: str
    location: str
    status: str = Field(
        description="draft, sent, partially_received, received, closed or cancelled."
    )
    currency: str
    expected_on: date | None
    notes: str
    total: int = Field(description="Sum of the lines' totals.")
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    lines: list[PurchaseOrderLineRead]
    receipts: list[GoodsReceiptRead]


class PurchaseOrderSummary(BaseModel):
    number: str
    supplier: str
    location: str
    status: str
    currency: str
    expected_on: date | None
    line_count: int
    units_ordered: int
    units_received: int
    total: int
    created_at: datetime


class PurchaseOrderPage(BaseModel):
    items: list[PurchaseOrderSummary]
    next_cursor: str | None = Field(description=_NEXT)


# --- receiving ------------------------------------------------------------------------------


class LotIn(BaseModel):
    code: str = Field(max_length=64)
    expires_on: date | None = Field(None, description="Required when the lot is new.")


class ReceiptLineIn(BaseModel):
    sku: str | None = Field(None, max_length=64, description="Give this or `line_no`.")
    line_no: int | None = Field(None, description="The PO line number.")
    quantity: int = Field(description="Base units delivered.")
    lot: LotIn | None = Field(None, description="For lot-tracked variants.")
    serials: list[str] = Field(
        default_factory=list, description="One per unit, for serial-tracked variants."
    )


class LandedCostIn(BaseModel):
    kind: str = Field(description="freight, duty or other.")
    amount: int = Field(description="Minor units of the order's currency, >= 0.")


class ReceiptCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reference": "DN-55012",
                    "lines": [
                        {"sku": "TEE-BLK-M", "quantity": 48},
                        {"line_no": 2, "quantity": 20},
                    ],
                    "landed_costs": [{"kind": "freight", "amount": 2500}],
                }
            ]
        }
    )
    lines: list[ReceiptLineIn]
    landed_costs: list[LandedCostIn] = Field(default_factory=list)
    reference: str | None = Field(
        None, max_length=64, description="The supplier's delivery note; once per order."
    )


class ReceivedLineRead(BaseModel):
    line_no: int
    sku: str
    quantity: int
    unit_cost: int = Field(description=_UNIT_COST)
    landed_cost_share: int = Field(description="This line's part of the landed costs.")
    landed_unit_cost: int = Field(
        description="(quantity x unit_cost + landed_cost_share) / quantity, rounded half-up."
    )
    incoming_released: int = Field(description="Units that were expected and left incoming.")
    over_received: int = Field(description="Units past what the line still expected.")
    lot: str | None
    serials: list[str]


class CostUpdateRead(BaseModel):
    sku: str
    currency: str = Field(description="The variant's currency.")
    previous_cost: int | None
    cost: int | None = Field(description="Moving-average cost after the receipt.")
    updated: bool
    reason: str | None = Field(description="Why the cost was left alone, when it was.")


class ReceiptRead(BaseModel):
    id: str
    purchase_order: str
    status: str = Field(description="The order's status after the receipt.")
    location: str
    currency: str
    reference: str | None
    landed_cost: int
    cost_updated: bool = Field(description="False when some variant's cost was left alone.")
    lines: list[ReceivedLineRead]
    costs: list[CostUpdateRead]
    authorisation: dict[str, str] | None = Field(
        description="How an over-receipt was allowed (role or manager override)."
    )
    created_at: datetime


# --- incoming -------------------------------------------------------------------------------


class IncomingRead(BaseModel):
    source: str = Field(description="purchase_order or transfer.")
    document: str = Field(description="PO-000123 or TR-000045.")
    line_no: int
    sku: str
    unit: str
    location: str = Field(description="Where the units are going.")
    quantity: int = Field(description="Units still expected.")
    expected_on: date | None
    status: str = Field(description="The document's status.")
    supplier: str | None = Field(description="Supplier code, for purchase orders.")
    from_location: str | None = Field(description="Source location, for transfers.")


class IncomingList(BaseModel):
    items: list[IncomingRead]

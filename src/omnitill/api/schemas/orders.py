"""Orders from every channel: what a web shop, marketplace or phone desk sends, and what
the order looks like afterwards (lines, fulfillments per location, payments, timeline)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class OrderLineIn(BaseModel):
    sku: str | None = Field(default=None, description="The variant's SKU, or give barcode.")
    barcode: str | None = None
    quantity: int = Field(description="Units in the base unit (each, g, ml); > 0.")
    method: str = Field(
        default="ship", description="ship | pickup | curbside | local_delivery (per line)."
    )


class AddressIn(BaseModel):
    name: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = Field(default="", description="State or province code (tax, markets).")
    postal_code: str = ""
    country: str = Field(description="ISO 3166-1 alpha-2, e.g. US.")
    phone: str = ""
    latitude: float | None = Field(
        default=None, description="With longitude: lets the closest-location rule decide."
    )
    longitude: float | None = None


class OrderCreate(BaseModel):
    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "channel": "web",
                    "customer_name": "Ada Lovelace",
                    "email": "ada@example.com",
                    "pickup_location": "S01",
                    "lines": [{"sku": "OXF-NVY-M", "quantity": 1, "method": "pickup"}],
                    "card_token": "tok_4f1c0e...",
                }
            ]
        },
    )
    id: uuid.UUID | None = Field(
        default=None, description="The order's UUID, made by the caller: its idempotency key."
    )
    channel: str = Field(description="web | marketplace | social | phone | in_store.")
    lines: list[OrderLineIn]
    customer: uuid.UUID | None = Field(default=None, description="A known customer's id.")
    customer_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    ship_to: AddressIn | None = Field(default=None, description="Needed by shipped lines.")
    pickup_location: str | None = Field(
        default=None, description="The store pickup and curbside lines are collected at."
    )
    coupons: list[str] = Field(default_factory=list)
    shipping: int = Field(default=0, description="Shipping charged, minor units.")
    currency: str | None = Field(default=None, description="Default: the price lists'.")
    card_token: str | None = Field(
        default=None,
        description="The gateway's card token from the shop's payment form. The total is "
        "authorized now and captured when everything has been handed over.",
    )
    external_reference: str | None = Field(
        default=None, max_length=100, description="The marketplace's own order number."
    )
    note: str = Field(default="", max_length=500)
    kind: str = Field(
        default="standard",
        description="standard | special_order (units may wait for stock) | layaway (held at "
        "the store until paid off). Special orders and layaways are taken at a register and "
        "need a deposit: 50% and 20% of the total.",
    )
    till: str | None = Field(
        default=None,
        alias="register",
        description="The register taking it (endless aisle, layaway), e.g. S01-R1.",
    )
    pickup_by_transfer: bool = Field(
        default=False,
        description='Endless aisle "pick up here": pickup units the store lacks come from '
        "the best other location by transfer; the pickup is ready once they arrive.",
    )


class OrderLineRead(BaseModel):
    id: uuid.UUID
    line_no: int
    sku: str
    name: str
    quantity: int
    method: str
    unit_price: int
    discount_total: int
    tax_total: int
    total: int
    quantity_backordered: int
    quantity_cancelled: int
    quantity_fulfilled: int


class TrackingRead(BaseModel):
    status: str
    description: str
    location: str
    occurred_at: datetime


class ShipmentRead(BaseModel):
    id: uuid.UUID
    carrier: str
    service: str
    tracking_number: str
    status: str
    rate: int
    currency: str
    weight_grams: int
    events: list[TrackingRead]


class AllocationRead(BaseModel):
    line_no: int
    sku: str
    quantity: int
    quantity_cancelled: int


class FulfillmentRead(BaseModel):
    id: uuid.UUID
    location: str
    method: str
    status: str = Field(
        description="assigned | accepted | picking | packed | ready | shipped | picked_up | "
        "delivered | rejected | cancelled"
    )
    lines: list[AllocationRead]
    reject_reason: str | None
    arrived_at: datetime | None
    arrival_bay: str | None
    arrival_car: str | None
    created_at: datetime
    accepted_at: datetime | None
    packed_at: datetime | None
    ready_at: datetime | None
    picked_up_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    shipments: list[ShipmentRead]


class OrderPaymentRead(BaseModel):
    id: uuid.UUID
    method: str
    status: str
    amount: int
    refunded: int
    card_brand: str | None
    card_last4: str | None
    entry_mode: str | None
    decline_code: str | None
    created_at: datetime


class TimelineRead(BaseModel):
    kind: str
    at: datetime
    location: str | None
    data: dict[str, Any]


class OrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str = Field(description="The human number, #100123.")
    channel: str
    kind: str
    status: str = Field(
        description="pending_payment | placed | backordered | in_progress | completed | cancelled"
    )
    external_reference: str | None
    customer_id: uuid.UUID | None
    customer_name: str
    email: str | None
    phone: str | None
    ship_to: dict[str, Any] | None
    pickup_location: str | None
    currency: str
    subtotal: int
    discount_total: int
    tax_total: int
    shipping: int
    total: int
    paid: int = Field(description="Captured so far, less refunds.")
    authorized: int = Field(description="Held on the card, to capture when fulfilled.")
    refunded: int
    balance_due: int
    deposit_required: int
    lines: list[OrderLineRead]
    fulfillments: list[FulfillmentRead]
    payments: list[OrderPaymentRead]
    timeline: list[TimelineRead]
    routing: dict[str, Any] | None = Field(
        description="The latest routing decision: rules, every choice and why others lost."
    )
    placed_at: datetime
    completed_at: datetime | None
    cancelled_at: datetime | None


class OrderPage(BaseModel):
    items: list[OrderRead]
    next_cursor: str | None


class StepIn(BaseModel):
    note: str = Field(default="", max_length=500)


class RejectIn(BaseModel):
    reason: str = Field(description="Why, e.g. item not found on the shelf.", max_length=200)
    lines: list[int] = Field(
        default_factory=list, description="Line numbers to reject; empty: all of them."
    )


class PickupIn(BaseModel):
    pickup_code: str | None = Field(default=None, description="The code in the customer's QR code.")
    number: str | None = Field(default=None, description="The order number, with name.")
    name: str | None = None


class CancelLineIn(BaseModel):
    line_no: int
    quantity: int


class CancelIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    reason: str = Field(max_length=200)
    lines: list[CancelLineIn] = Field(
        default_factory=list, description="Units to cancel; empty: everything not shipped."
    )
    till: str | None = Field(
        default=None,
        alias="register",
        description="The register giving back what was paid at registers (cash from its "
        "drawer); default: the register that took the order.",
    )
    override_token: str | None = Field(
        default=None, description="A manager's override for the refund (payments.refund)."
    )


class AvailabilityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    location: str
    kind: str
    available: int = Field(description="Units online orders may promise (safety stock kept).")
    distance_km: float | None = Field(description="From the `near` location, when both known.")
    ships: bool
    offers_pickup: bool
    stale: bool = Field(description="Its store node is not heard from: not promised now.")


class AvailabilityList(BaseModel):
    sku: str
    items: list[AvailabilityRead]


class PreviewLineIn(BaseModel):
    sku: str
    quantity: int = Field(gt=0)
    method: str = "ship"


class RoutePreviewIn(BaseModel):
    lines: list[PreviewLineIn]
    ship_to: AddressIn | None = None
    pickup_location: str | None = None


class RoutePreviewRead(BaseModel):
    assignments: list[dict[str, Any]]
    short_lines: list[dict[str, Any]]
    explanation: dict[str, Any]


class LabelIn(BaseModel):
    service: str = Field(description="The carrier's service: ground, express, overnight.")
    weight_grams: int = Field(gt=0)
    dimensions_mm: tuple[int, int, int] | None = Field(
        default=None, description="Length, width, height of the box (dimensional weight)."
    )


class ShipIn(BaseModel):
    note: str = Field(default="", max_length=500)
    label: LabelIn | None = Field(
        default=None, description="Buy a carrier label now; without it, shipped as is."
    )


class RateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    carrier: str
    service: str
    service_name: str
    amount: int
    currency: str
    zone: int
    estimated_days: int
    billable_weight_grams: int


class RateList(BaseModel):
    items: list[RateRead]


class TrackingPage(BaseModel):
    tracking_number: str
    status: str
    events: list[TrackingRead]


class PickOrderRead(BaseModel):
    number: str
    fulfillment_id: str
    quantity: int


class PickItemRead(BaseModel):
    sku: str
    name: str
    quantity: int
    orders: list[PickOrderRead]


class PickList(BaseModel):
    location: str
    items: list[PickItemRead]

"""Returns and exchanges over HTTP: money in minor units of the return's `currency`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ReturnLineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_id: uuid.UUID | None = Field(
        None, description="The sale or order line the units were sold on (with a receipt)."
    )
    sku: str | None = Field(None, description="What came back, for a return without a receipt.")
    quantity: int
    reason: str = Field(
        description="defective, damaged_in_transit, wrong_item, wrong_size, not_as_described, "
        "changed_mind, better_price, arrived_late, other."
    )
    condition: str | None = Field(None, description="unopened, opened or damaged.")
    disposition: str | None = Field(
        None,
        description="resalable, quarantine, damaged, defective (for return to vendor) or "
        "write_off. Required except when authorising a mail-in return.",
    )
    serials: list[str] = Field(default_factory=list, description="One per unit, if tracked.")


class RefundSplit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payment_id: uuid.UUID
    amount: int


class ReturnCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = Field(None, description="Born on the register; the idempotency key.")
    kind: Literal["return", "exchange", "mail_in"] = "return"
    location: str = Field(description="Code of the location receiving the goods.")
    register: str | None = Field(None, description="Required when cash is given back.")
    sale_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = Field(
        None, description="Required without a receipt (the refund is store credit)."
    )
    card_present: bool = Field(False, description="The paying card was presented.")
    card_fingerprint: str | None = Field(
        None, description="The gateway's fingerprint of a card presented (fraud checks)."
    )
    note: str = ""
    refund_to: list[RefundSplit] = Field(
        default_factory=list,
        description="The cashier's own split of the refund over the purchase's payments; "
        "empty: the default order (store credit, gift card, card, QR, cash). A split other "
        "than the default needs a manager.",
    )
    lines: list[ReturnLineCreate]


class ReturnLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    line_no: int
    sale_line_id: uuid.UUID | None
    order_line_id: uuid.UUID | None
    sku: str
    name: str
    quantity: int
    serials: list[str]
    condition: str
    reason: str
    disposition: str | None
    refund: int
    fee: int
    chargeback: int
    refund_to: str
    reasons: list[dict[str, Any]]


class ReturnRefundRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    payment_id: uuid.UUID | None
    method: str
    given_as: str
    amount: int
    status: str
    fallback_reason: str | None
    card_brand: str | None
    card_last4: str | None
    message: str


class ReturnRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str
    kind: str
    status: str = Field(
        description="authorized (mail-in, awaiting the parcel), refund_pending, exchange_open, "
        "completed or cancelled."
    )
    source_type: str | None
    source_id: uuid.UUID | None
    source_number: str | None
    channel: str
    location: str
    register: str | None = Field(default=None, description="The register that took it.")
    customer_id: uuid.UUID | None
    currency: str
    refund_total: int
    fee_total: int
    shipping_refund: int
    refunded: int
    exchange_credit: int
    exchange_applied: int
    no_receipt: bool
    risk_score: int
    risk: list[dict[str, Any]]
    decision: dict[str, Any]
    approval: dict[str, Any] | None
    lines: list[ReturnLineRead]
    refunds: list[ReturnRefundRead]
    tracking_number: str | None
    label: dict[str, Any] | None
    initiated_at: datetime
    received_at: datetime | None
    refunded_at: datetime | None
    completed_at: datetime | None


class ReturnPreview(BaseModel):
    currency: str
    allowed: bool
    needs_manager: bool
    approval_reasons: list[str]
    refund_total: int
    decision: dict[str, Any]
    risk: list[dict[str, Any]]


class ReturnList(BaseModel):
    items: list[ReturnRead]

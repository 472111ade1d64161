"""Paying an order at a register: a deposit, a layaway instalment, the balance of a special
or endless-aisle order. Tenders are the sale's (`PaymentCreate`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from omnitill.api.schemas.orders import OrderRead
from omnitill.api.schemas.sales import PaymentCreate, PaymentRead

EXAMPLE = {
    "id": "0192f5e2-7c1a-7b3e-9d2f-3a4b5c6d7e90",
    "register": "S01-R1",
    "amount": 2000,
    "payments": [{"method": "cash", "amount": 5000}],
}


class OrderPaymentCreate(BaseModel):
    """One payment on an order at a register; its `id` is its idempotency key."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})
    id: uuid.UUID | None = Field(
        default=None,
        description="The payment's UUID, born on the register: sending the same id and body "
        "again replays the first answer. Without it, send an Idempotency-Key header.",
    )
    register: str = Field(max_length=40, description="The register taking it, e.g. S01-R1.")
    amount: int | None = Field(
        default=None,
        description="What to pay now, minor units, at most the balance: the tenders must cover "
        "it exactly (cash above it is change). Omitted: the tenders pay what they cover of the "
        "balance, cash beyond the balance being change. The first payment must reach the "
        "order's `deposit_required`.",
    )
    payments: list[PaymentCreate] = Field(
        max_length=20,
        description="Tenders, as a sale's: cash (change given), card or qr (`payment_id` of a "
        "payment taken with this `order_id`), gift_card (`code`), store_credit (the order's "
        "customer). Only cash may go beyond what is paid (as change).",
    )


class RegisterPaymentRead(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    register: str = Field(description="The register that took it, e.g. S01-R1.")
    location: str = Field(description="The register's store.")
    currency: str
    amount: int = Field(description="What this payment took off the order's balance.")
    tendered: int = Field(description="Everything handed over, change included.")
    change_due: int = Field(description="Cash given back.")
    cash_rounding: int = Field(
        description="Signed cash rounding when cash settled the whole balance (CHF 0.05...): "
        "the tenders paid amount + cash_rounding."
    )
    balance_due: int = Field(description="What was left to pay after this payment.")
    paid_in_full: bool
    tenders: list[PaymentRead]
    created_at: datetime


class OrderPaymentTaken(RegisterPaymentRead):
    # Declared again: pydantic would otherwise take BaseModel.register for its default.
    register: str = Field(description="The register that took it, e.g. S01-R1.")
    order: OrderRead = Field(description="The order after the payment.")


class OrderPaymentList(BaseModel):
    order_id: uuid.UUID
    number: str
    currency: str
    total: int
    paid: int
    balance_due: int
    deposit_required: int
    items: list[RegisterPaymentRead] = Field(
        description="Payments taken at registers, oldest first."
    )

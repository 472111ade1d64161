"""Payment bodies. Card data arrives only encrypted by the terminal for the gateway."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class CardPaymentCreate(BaseModel):
    id: uuid.UUID = Field(
        description="The payment's UUID, born on the register: its idempotency key."
    )
    register: str = Field(description="Register code, e.g. S01-R1.")
    sale_id: uuid.UUID | None = Field(default=None, description="The sale being paid.")
    order_id: uuid.UUID | None = Field(default=None, description="Or the order.")
    amount: int = Field(description="Minor units of the store's currency.")
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    payment_data: str = Field(
        max_length=4096,
        description="What the terminal sent for the gateway: sandbox P2PE data "
        "(`p2pe:v1:...`), a Stripe PaymentMethod (`pm_...`) or reader (`reader:tmr_...`).",
    )
    entry_mode: str = Field(
        description="emv_chip | nfc_tap | wallet | keyed | magstripe (as the terminal read it)."
    )
    capture: bool = Field(default=True, description="False: authorize only (orders).")


class CaptureCreate(BaseModel):
    amount: int | None = Field(default=None, description="Default: all that was authorized.")


class CardRead(BaseModel):
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None
    entry_mode: str | None


class PaymentRead(BaseModel):
    id: str
    sale_id: str | None
    order_id: str | None
    method: str
    status: str = Field(
        description="pending | authorized | captured | declined | voided | failed | unknown"
    )
    amount: int
    currency: str
    refunded: int
    card: CardRead | None = Field(description="Last four digits only, never the number.")
    auth_code: str | None
    decline_code: str | None
    message: str
    created_at: datetime


class PaymentList(BaseModel):
    items: list[PaymentRead]


class SandboxKeyRead(BaseModel):
    public_key_pem: str = Field(
        description="The sandbox processor's RSA key: a simulated terminal encrypts card "
        "data with it (RSA-OAEP, SHA-256), so omnitill never sees a card number."
    )


class QrPaymentCreate(BaseModel):
    id: uuid.UUID = Field(description="The payment's UUID, born on the register.")
    register: str = Field(description="Register code, e.g. S01-R1.")
    sale_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    amount: int = Field(description="Minor units of the store's currency.")
    ttl_seconds: int = Field(default=300, description="How long the link may be paid: 30-1800.")


class QrPaymentRead(BaseModel):
    payment: PaymentRead
    url: str = Field(description="What the QR code holds: the provider's payment page.")
    qr_svg: str = Field(description="The QR code as inline SVG, for the register or display.")
    expires_at: datetime


class QrNotification(BaseModel):
    token: str = Field(max_length=100, description="The link's token (last part of its URL).")
    status: str = Field(description="paid | failed")
    provider_reference: str = Field(max_length=100)


class RefundCreate(BaseModel):
    id: uuid.UUID = Field(description="The refund's UUID: its idempotency key.")
    amount: int = Field(description="Minor units to give back; at most what is left.")
    reason: str = Field(max_length=200)


class RefundRead(BaseModel):
    id: str
    payment_id: str
    method: str
    amount: int
    currency: str
    status: str
    refunded_total: int = Field(description="Of the payment, this refund included.")
    refundable: int = Field(description="What the payment may still give back.")
    gateway_reference: str | None

"""Returns, exchanges and mail-in returns (0010).

A return takes units of a sale or an order (or, without a receipt, of nothing) back at one
location, decides each line by the returns policy, puts each unit where its disposition says
and gives the money back to the tenders that paid, as `return_refunds` rows. What a line may
still give back is a projection on the sold line (`quantity_returned`), raised by one
conditional UPDATE, so two stores returning the same order at once never take more than was
sold; what a tender may still give back is `payments.refunded_minor`, raised the same way.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omnitill.adapters.db.models.base import Base, created_column, id_column, updated_column


class Return(Base):
    __tablename__ = "returns"
    __table_args__ = (
        Index("ix_returns_initiated_at", "initiated_at"),
        Index("ix_returns_customer_initiated", "customer_id", "initiated_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # born on the register
    number: Mapped[str] = mapped_column(String(40), unique=True)  # RMA-000123 / S01-R1-R000123
    # return | exchange | mail_in
    kind: Mapped[str] = mapped_column(String(16))
    # authorized (a mail-in return awaiting its parcel) | refund_pending | exchange_open
    # | completed | cancelled
    status: Mapped[str] = mapped_column(String(16), index=True)
    sale_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sales.id"), index=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # of the purchase; in_store without one
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"), index=True)
    register_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("registers.id"))
    shift_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("shifts.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    currency: Mapped[str] = mapped_column(String(3))
    # What the lines give back (fees deducted), the fees, shipping refunded by rule, what has
    # been given back to tenders so far, and what an exchange took as credit.
    refund_total_minor: Mapped[int] = mapped_column(BigInteger)
    fee_total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    shipping_refund_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    exchange_credit_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    exchange_applied_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    no_receipt: Mapped[bool] = mapped_column(default=False)
    risk_score: Mapped[int] = mapped_column(Integer, default=0)
    risk: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # signals
    # The decision line by line with its reasons, the refund plan as first made, and the
    # manager approval (override id, approver) when one was needed.
    decision: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    approval: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    card_fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)
    # Mail-in: the carrier, tracking number and label of the parcel coming back.
    carrier: Mapped[str | None] = mapped_column(String(32))
    tracking_number: Mapped[str | None] = mapped_column(String(64), index=True)
    label: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    request_hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(500), default="")
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    initiated_at: Mapped[datetime]
    received_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class ReturnLine(Base):
    __tablename__ = "return_lines"
    __table_args__ = (UniqueConstraint("return_id", "line_no"),)

    id: Mapped[uuid.UUID] = id_column()
    return_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("returns.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    sale_line_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sale_lines.id"), index=True)
    order_line_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("order_lines.id"), index=True
    )
    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variants.id"), index=True)
    category_id: Mapped[uuid.UUID | None]
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(400))
    quantity: Mapped[int] = mapped_column(Integer)
    serials: Mapped[list[str]] = mapped_column(JSON, default=list)
    condition: Mapped[str] = mapped_column(String(16))  # unopened | opened | damaged
    reason_code: Mapped[str] = mapped_column(String(32))  # defective | wrong_size | ...
    # resalable | quarantine | damaged | defective | write_off; None until received (mail-in)
    disposition: Mapped[str | None] = mapped_column(String(16))
    refund_minor: Mapped[int] = mapped_column(BigInteger)  # before the fee
    fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # the tax inside refund
    chargeback_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # promotion benefit
    refund_to: Mapped[str] = mapped_column(String(16))  # original_tenders | store_credit
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class ReturnRefund(Base):
    """One amount given back: to an original payment (`payment_id`), or as store credit or
    cash when no original tender could take it. Its id is the refund's idempotency key."""

    __tablename__ = "return_refunds"

    id: Mapped[uuid.UUID] = id_column()
    return_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("returns.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    payment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payments.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))  # the tender that paid (or "none")
    given_as: Mapped[str] = mapped_column(String(16))  # card | cash | gift_card | store_credit
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))  # pending | refunded | failed
    fallback_reason: Mapped[str | None] = mapped_column(String(64))
    gateway_reference: Mapped[str | None] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class ReturnPolicySetting(Base):
    """The retailer's return and fraud-check rules (one row, code `default`), as JSON the
    services turn into the domain's `ReturnPolicy` and `RiskPolicy`."""

    __tablename__ = "return_policies"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = updated_column()

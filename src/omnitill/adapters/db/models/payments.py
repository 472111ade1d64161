"""Payments, gift cards, store credit, shifts and cash (migration 0008).

A payment is one tender of a sale or an order: cash, a card through the gateway, a gift card,
store credit or a QR payment link. Its life (authorized, captured, declined, voided, refunded,
a lost gateway answer resolved) is the append-only `payment_events` ledger; `payments` holds
the current state as a projection kept in the same transaction. No card number is ever stored:
a card payment keeps the gateway's token, brand, last four, expiry, entry mode, authorization
code and fingerprint (DESIGN invariant 6).

Gift card and store credit balances, and the cash in a register's drawer during a shift, are
projections of their own append-only ledgers.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from omnitill.adapters.db.models.base import Base, created_column, id_column, updated_column


class Payment(Base):
    """One tender of a sale (`sale_id`: the register-born sale id, which may not exist yet
    while the customer is still paying) or of an order."""

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_card_fingerprint", "card_fingerprint", "created_at"),)

    id: Mapped[uuid.UUID] = id_column()
    sale_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"), index=True)
    register_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("registers.id"))
    shift_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("shifts.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))  # cash | card | gift_card | store_credit | qr
    # pending | authorized | captured | declined | voided | failed | unknown
    status: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # in `currency`, what it pays
    currency: Mapped[str] = mapped_column(String(3))
    # Cash: what was handed over (in its own currency, at `exchange_rate` for foreign cash)
    # and the change given back in `currency`.
    tendered_minor: Mapped[int | None] = mapped_column(BigInteger)
    tendered_currency: Mapped[str | None] = mapped_column(String(3))
    exchange_rate: Mapped[Decimal | None] = mapped_column(Numeric(18, 8))
    change_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    gateway: Mapped[str | None] = mapped_column(String(16))
    gateway_reference: Mapped[str | None] = mapped_column(String(100), index=True)
    entry_mode: Mapped[str | None] = mapped_column(String(16))
    card_brand: Mapped[str | None] = mapped_column(String(16))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    card_exp_month: Mapped[int | None] = mapped_column(Integer)
    card_exp_year: Mapped[int | None] = mapped_column(Integer)
    card_fingerprint: Mapped[str | None] = mapped_column(String(64))
    card_token: Mapped[str | None] = mapped_column(String(100))
    auth_code: Mapped[str | None] = mapped_column(String(16))
    decline_code: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(String(200), default="")
    gift_card_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("gift_cards.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class PaymentEvent(Base):
    """The append-only life of a payment: every gateway request and what it answered."""

    __tablename__ = "payment_events"

    id: Mapped[uuid.UUID] = id_column()
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"), index=True)
    # authorize | capture | void | refund | decline | timeout | resolve | fail
    kind: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # the payment's status after the event
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    gateway_reference: Mapped[str | None] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(200), default="")
    reference_type: Mapped[str | None] = mapped_column(String(40))  # e.g. return
    reference_id: Mapped[str | None] = mapped_column(String(64))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_column()


class QrPayment(Base):
    """A payment link shown as a QR code on the register or customer display; paid through
    the provider's callback, polled by the register, void once it expires."""

    __tablename__ = "qr_payments"

    id: Mapped[uuid.UUID] = id_column()
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # pending | paid | expired | cancelled
    expires_at: Mapped[datetime] = mapped_column(index=True)
    paid_at: Mapped[datetime | None]
    provider_reference: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_column()


# --- gift cards and store credit ------------------------------------------------------------


class GiftCard(Base):
    """A gift card. Its code is a bearer secret: only its SHA-256 and last four characters
    are kept, like a password; `balance_minor` is the sum of its ledger."""

    __tablename__ = "gift_cards"

    id: Mapped[uuid.UUID] = id_column()
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_last4: Mapped[str] = mapped_column(String(4))
    currency: Mapped[str] = mapped_column(String(3))
    balance_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16))  # inactive | active | void
    expires_on: Mapped[date | None]
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    activated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class GiftCardEntry(Base):
    """The append-only ledger of a gift card: activate, reload, redeem, refund, expire."""

    __tablename__ = "gift_card_ledger"

    id: Mapped[uuid.UUID] = id_column()
    gift_card_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("gift_cards.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # signed
    balance_after_minor: Mapped[int] = mapped_column(BigInteger)
    reference_type: Mapped[str | None] = mapped_column(String(40))
    reference_id: Mapped[str | None] = mapped_column(String(64))
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("locations.id"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_column()


class StoreCreditAccount(Base):
    """A customer's store credit in one currency; the sum of its ledger."""

    __tablename__ = "store_credit_accounts"

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    balance_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = updated_column()


class StoreCreditEntry(Base):
    """The append-only ledger of store credit: issue (a refund, a goodwill gesture), redeem."""

    __tablename__ = "store_credit_ledger"
    __table_args__ = (Index("ix_store_credit_ledger_customer", "customer_id", "currency"),)

    id: Mapped[uuid.UUID] = id_column()
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # signed
    balance_after_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200), default="")
    reference_type: Mapped[str | None] = mapped_column(String(40))
    reference_id: Mapped[str | None] = mapped_column(String(64))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_column()


class RateLimit(Base):
    """Attempts per client and purpose in a fixed window (gift card balance checks)."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_started_at: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer, default=0)


# --- shifts and cash ------------------------------------------------------------------------


class Shift(Base):
    """A register's shift: opened with a counted float, closed with a blind count and a Z
    report. Keyed by UUID so an offline store node can open one."""

    __tablename__ = "shifts"
    __table_args__ = (
        # One unclosed shift per register, enforced by the database on both engines.
        Index(
            "uq_shifts_open_register",
            "register_id",
            unique=True,
            sqlite_where=text("status != 'closed'"),
            postgresql_where=text("status != 'closed'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # born where it is opened
    register_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("registers.id"), index=True)
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))  # open | counted | closed
    opened_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime]
    float_minor: Mapped[int] = mapped_column(BigInteger)
    float_count: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The blind closing count, frozen once given: tender -> counted minor units.
    counted: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    counted_at: Mapped[datetime | None]
    closed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None]
    business_date: Mapped[date]


class CashMovement(Base):
    """The append-only ledger of a drawer: float, cash sales and change, drops and pickups,
    paid in and out, no-sale opens (amount 0), cash refunds."""

    __tablename__ = "cash_movements"

    id: Mapped[uuid.UUID] = id_column()
    shift_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shifts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # signed effect on the drawer
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(200), default="")
    reference_type: Mapped[str | None] = mapped_column(String(40))
    reference_id: Mapped[str | None] = mapped_column(String(64))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_column()


class ZReport(Base):
    """The closing report of a shift, numbered per register without gaps; never edited."""

    __tablename__ = "z_reports"
    __table_args__ = (UniqueConstraint("register_id", "z_number"),)

    id: Mapped[uuid.UUID] = id_column()
    shift_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shifts.id"), unique=True)
    register_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("registers.id"))
    z_number: Mapped[int] = mapped_column(BigInteger)
    business_date: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    # Per tender: expected, counted (blind), variance; sales, refunds, drops, paid in/out...
    totals: Mapped[dict[str, Any]] = mapped_column(JSON)
    variance_minor: Mapped[int] = mapped_column(BigInteger)
    variance_reason: Mapped[str | None] = mapped_column(String(200))
    closed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_column()

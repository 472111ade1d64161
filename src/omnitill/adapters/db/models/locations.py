"""Stores, warehouses and the registers enrolled in a store."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from omnitill.adapters.db.models.base import Base, created_column, id_column, updated_column


class Location(Base):
    __tablename__ = "locations"

    id: Mapped[uuid.UUID] = id_column()
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # store | warehouse
    address_line1: Mapped[str] = mapped_column(String(200), default="")
    address_line2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2), default="US")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    currency: Mapped[str] = mapped_column(String(3))
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(8, 6), default=Decimal(0))
    prices_include_tax: Mapped[bool] = mapped_column(default=False)
    # The in-store tax set-up (0003); None falls back to `tax_rate`.
    tax_jurisdiction_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tax_jurisdictions.id")
    )
    sells_in_store: Mapped[bool] = mapped_column(default=True)
    ships: Mapped[bool] = mapped_column(default=False)
    offers_pickup: Mapped[bool] = mapped_column(default=False)
    accepts_returns: Mapped[bool] = mapped_column(default=True)
    # 0008: whether a cash sale needs an open shift on its register, the cash rounding
    # increment (None: the currency's, see domain/payments/cash.py), and the closing
    # variance beyond which a reason is required.
    cash_management: Mapped[bool] = mapped_column(default=False, server_default="0")
    cash_rounding_minor: Mapped[int | None] = mapped_column(Integer)
    cash_variance_threshold_minor: Mapped[int] = mapped_column(
        BigInteger, default=500, server_default="500"
    )
    # 0009, order routing and fulfillment: the merchant's rank (lower first), orders it can
    # take per business day (None: no limit), local delivery radius, opening hours
    # ({"mon": [["09:00", "18:00"]], ...}; None: always open) and order cut-off ("17:00"),
    # when its store node was last heard from (None: run from the hub, never stale), the
    # market it serves (None: its country), curbside bays, and how long uncollected
    # pickups wait before a reminder and before they are cancelled.
    routing_rank: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    daily_order_capacity: Mapped[int | None] = mapped_column(Integer)
    local_delivery_radius_km: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    opening_hours: Mapped[dict[str, list[list[str]]] | None] = mapped_column(JSON)
    order_cutoff: Mapped[str | None] = mapped_column(String(5))
    last_heard_at: Mapped[datetime | None]
    market: Mapped[str | None] = mapped_column(String(16))
    offers_curbside: Mapped[bool] = mapped_column(default=False, server_default="0")
    pickup_reminder_days: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    pickup_hold_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    # 0011: how the store formats money, dates and numbers (a Babel locale), and what its
    # receipts print above the lines and at the foot (the return policy).
    locale: Mapped[str] = mapped_column(String(16), default="en_US", server_default="en_US")
    receipt_header: Mapped[str] = mapped_column(String(500), default="", server_default="")
    receipt_footer: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class Register(Base):
    """A till: an enrolled device of one store, with its own gapless receipt sequence."""

    __tablename__ = "registers"

    id: Mapped[uuid.UUID] = id_column()
    code: Mapped[str] = mapped_column(String(40), unique=True)
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    receipt_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_column()
    # 0011: the browser enrolled as this till (SHA-256 of its device key; None: not
    # enrolled), and its receipt printer (ESC/POS over TCP, usually port 9100; None: none).
    device_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    enrolled_at: Mapped[datetime | None]
    printer_host: Mapped[str | None] = mapped_column(String(255))
    printer_port: Mapped[int] = mapped_column(Integer, default=9100, server_default="9100")

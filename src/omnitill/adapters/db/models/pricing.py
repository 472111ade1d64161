"""Price lists with their per-variant prices, exchange rates and price rounding per currency."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omnitill.adapters.db.models.base import Base, created_column, id_column, updated_column


class PriceList(Base):
    """Prices in one currency for a scope; an empty scope list means "any"."""

    __tablename__ = "price_lists"

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(200), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    priority: Mapped[int] = mapped_column(default=0)
    tax_inclusive: Mapped[bool] = mapped_column(default=False)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    location_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    customer_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]  # exclusive
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class PriceListEntry(Base):
    """One variant's price in a list, in the list's currency; `tiers` holds
    ``[{"min_quantity": 6, "unit_price": 450}]``."""

    __tablename__ = "price_list_entries"
    __table_args__ = (UniqueConstraint("price_list_id", "variant_id"),)

    id: Mapped[uuid.UUID] = id_column()
    price_list_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("price_lists.id"))
    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variants.id"), index=True)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    compare_at_minor: Mapped[int | None] = mapped_column(BigInteger)
    tiers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class ExchangeRate(Base):
    """From `valid_from` on (until a later rate), one `base` buys `rate` of `quote`. Rates are
    only ever added: a change is a new row for a later date."""

    __tablename__ = "exchange_rates"
    __table_args__ = (UniqueConstraint("base", "quote", "valid_from"),)

    id: Mapped[uuid.UUID] = id_column()
    base: Mapped[str] = mapped_column(String(3))
    quote: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(Numeric(18, 8))
    valid_from: Mapped[date]
    created_at: Mapped[datetime] = created_column()


class PriceRounding(Base):
    """How converted prices land in one currency (see `domain.pricing.model.PriceRounding`)."""

    __tablename__ = "price_roundings"

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    increment: Mapped[int] = mapped_column(default=1)
    charm_ending: Mapped[int | None]

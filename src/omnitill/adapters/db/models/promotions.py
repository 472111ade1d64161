"""Promotions, their coupons (one by one or in generated batches) and the redemption ledger."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from omnitill.adapters.db.models.base import Base, created_column, id_column, updated_column


class Promotion(Base):
    """A promotion; `definition` holds the rule-specific fields (target, percent as a string,
    amount, price, tiers, buy/get, bundle, gift, min_spend, hours)."""

    __tablename__ = "promotions"

    id: Mapped[uuid.UUID] = id_column()
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    stacking: Mapped[str] = mapped_column(String(16), default="product")
    priority: Mapped[int] = mapped_column(default=0)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    currency: Mapped[str | None] = mapped_column(String(3))
    requires_coupon: Mapped[bool] = mapped_column(default=False)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    location_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    customer_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]  # exclusive
    usage_limit: Mapped[int | None]
    per_customer_limit: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class CouponBatch(Base):
    """Single-use codes generated together for one promotion."""

    __tablename__ = "coupon_batches"

    id: Mapped[uuid.UUID] = id_column()
    promotion_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("promotions.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(20), default="")
    count: Mapped[int]
    created_at: Mapped[datetime] = created_column()
    created_by: Mapped[str | None] = mapped_column(String(64))


class Coupon(Base):
    """A code entered at checkout, stored normalised (upper case). `uses` is a projection of
    the redemptions, raised by one conditional UPDATE so a spent code cannot be spent twice."""

    __tablename__ = "coupons"

    id: Mapped[uuid.UUID] = id_column()
    code: Mapped[str] = mapped_column(String(64), unique=True)
    promotion_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("promotions.id"), index=True)
    batch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("coupon_batches.id"), index=True)
    single_use: Mapped[bool] = mapped_column(default=True)
    usage_limit: Mapped[int | None]
    uses: Mapped[int] = mapped_column(default=0)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_column()


class PromotionRedemption(Base):
    """One use of a promotion by a sale or order: an append-only ledger."""

    __tablename__ = "promotion_redemptions"

    id: Mapped[uuid.UUID] = id_column()
    promotion_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("promotions.id"), index=True)
    coupon_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("coupons.id"), index=True)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    sale_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    order_ref: Mapped[str | None] = mapped_column(String(64))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = created_column()


class CatalogVersion(Base):
    """A stamp that changes with every write to one cached catalog (``promotions``), so each
    process rebuilds its in-memory copy only when it is stale."""

    __tablename__ = "catalog_versions"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    stamp: Mapped[uuid.UUID]
    changed_at: Mapped[datetime] = created_column()

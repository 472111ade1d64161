"""Tax classes, jurisdictions and the components (levies) stacked in each."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from omnitill.adapters.db.models.base import Base, created_column, id_column, updated_column


class TaxClass(Base):
    """A class products are taxed by (``standard``, ``reduced``, ``zero``, ``exempt``...)."""

    __tablename__ = "tax_classes"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = created_column()


class TaxJurisdiction(Base):
    """What applies at one place. Addresses match on `country`, then `region`, then a postal
    prefix (the most specific match wins)."""

    __tablename__ = "tax_jurisdictions"

    id: Mapped[uuid.UUID] = id_column()
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)
    region: Mapped[str] = mapped_column(String(100), default="")
    postal_prefixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    inclusive: Mapped[bool] = mapped_column(default=False)
    rounding: Mapped[str] = mapped_column(String(16), default="line")  # line | document
    rounding_mode: Mapped[str] = mapped_column(String(16), default="half_up")
    exempt_channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class TaxComponent(Base):
    """One version of one levy: a change of rate is a new row with its own validity window,
    so the tax of a past sale stays explainable. `rates` maps tax class to a decimal string."""

    __tablename__ = "tax_components"

    id: Mapped[uuid.UUID] = id_column()
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tax_jurisdictions.id"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    rates: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    compound: Mapped[bool] = mapped_column(default=False)
    applies_to_shipping: Mapped[bool] = mapped_column(default=True)
    rounding_group: Mapped[str | None] = mapped_column(String(40))
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]  # inclusive
    exempt_below: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = created_column()

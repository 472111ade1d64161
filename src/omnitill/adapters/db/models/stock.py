"""The stock ledger (append-only movements) and its projection, the stock level."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omnitill.adapters.db.models.base import Base, created_column, id_column, updated_column


def _bucket() -> Mapped[int]:
    return mapped_column(BigInteger, default=0, server_default="0")


class StockLevel(Base):
    """The buckets of one variant at one location (see domain/inventory/buckets.py).

    Each ledger bucket (on_hand, reserved, quarantine, damaged, qc, expired, incoming,
    in_transit) always equals the sum of its movements; safety_stock, reorder_point and
    max_level are settings and have none.
    """

    __tablename__ = "stock_levels"
    # 0007: the stock feed reads levels changed since a time, in this order
    __table_args__ = (
        Index("ix_stock_levels_updated_at", "updated_at", "variant_id", "location_id"),
    )

    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variants.id"), primary_key=True)
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved: Mapped[int] = _bucket()
    safety_stock: Mapped[int] = _bucket()
    quarantine: Mapped[int] = _bucket()
    damaged: Mapped[int] = _bucket()
    qc: Mapped[int] = _bucket()
    # 0007: units expired lots hold (unavailable), units ordered on open purchase orders
    # (incoming) and units shipped here by transfers not yet received (in_transit); neither
    # of the last two is part of on_hand.
    expired: Mapped[int] = _bucket()
    incoming: Mapped[int] = _bucket()
    in_transit: Mapped[int] = _bucket()
    # Replenishment settings, like safety_stock: None means not set.
    reorder_point: Mapped[int | None] = mapped_column(BigInteger)
    max_level: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = updated_column()


class StockMovement(Base):
    __tablename__ = "stock_movements"
    __table_args__ = (
        Index("ix_stock_movements_variant_location", "variant_id", "location_id"),
        # 0007: sales velocity per location for replenishment
        Index("ix_stock_movements_location_kind_created", "location_id", "kind", "created_at"),
    )

    id: Mapped[uuid.UUID] = id_column()
    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variants.id"))
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"))
    bucket: Mapped[str] = mapped_column(String(16), default="on_hand")
    quantity: Mapped[int] = mapped_column(BigInteger)  # signed change of the bucket
    # receive | sale | adjustment | move | reserve | release | fulfil | expire | count
    # | po_ordered | po_received | po_cancelled | po_closed | transfer_out | transfer_shipped
    # | transfer_received | transfer_in | transfer_short | transfer_over | lot_expired
    # | write_off | return_to_vendor | import
    kind: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(String(200), default="")
    reference_type: Mapped[str | None] = mapped_column(String(40))
    reference_id: Mapped[str | None] = mapped_column(String(64))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_column()
    # 0007: the lot an on_hand movement of a lot-tracked variant moved, and the unit cost of
    # goods received (landed), for margin reports.
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lots.id"), index=True)
    unit_cost_minor: Mapped[int | None] = mapped_column(BigInteger)


class StockException(Base):
    """Something about stock a manager must resolve, such as a sale that drove it negative."""

    __tablename__ = "stock_exceptions"

    id: Mapped[uuid.UUID] = id_column()
    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variants.id"))
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"))
    kind: Mapped[str] = mapped_column(String(24))  # negative_stock | transfer_discrepancy
    on_hand_after: Mapped[int] = mapped_column(BigInteger)
    reference_type: Mapped[str | None] = mapped_column(String(40))
    reference_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_column()
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    resolution: Mapped[str | None] = mapped_column(String(16))  # counted | acknowledged
    resolved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    resolution_note: Mapped[str | None] = mapped_column(String(200))


class Reservation(Base):
    """Units held at one location for a reference (an order, a pickup); one per reference."""

    __tablename__ = "reservations"
    __table_args__ = (
        UniqueConstraint("reference_type", "reference_id"),
        Index("ix_reservations_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[uuid.UUID] = id_column()
    reference_type: Mapped[str] = mapped_column(String(40))
    reference_id: Mapped[str] = mapped_column(String(64))
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # active | released | fulfilled | expired
    expires_at: Mapped[datetime | None] = mapped_column()
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class ReservationLine(Base):
    __tablename__ = "reservation_lines"

    reservation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reservations.id"), primary_key=True
    )
    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variants.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)

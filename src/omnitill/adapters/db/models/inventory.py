"""Purchasing, lots and serials, transfers and cycle counts (migration 0007).

Quantities are integers in the variant's base unit (`variants.unit`: each, g, ml); a supplier
sells in packs (`pack_size` base units each). Costs are integer minor units of the document's
currency. Every stock effect of these documents is a stock movement (models/stock.py) that
references the document; these tables hold the documents and the lot and serial projections.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omnitill.adapters.db.models.base import Base, created_column, id_column, updated_column


class DocumentSequence(Base):
    """A gapless counter per document kind (`purchase_order`, `transfer`, `count`): the next
    human number is one conditional increment of its row, locked until commit."""

    __tablename__ = "document_sequences"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


# --- suppliers and purchasing ------------------------------------------------------------


class Supplier(Base):
    __tablename__ = "suppliers"

    id: Mapped[uuid.UUID] = id_column()
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    lead_time_days: Mapped[int] = mapped_column(Integer, default=7)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class SupplierItem(Base):
    """What a supplier sells of one variant: its code, pack size and price per pack."""

    __tablename__ = "supplier_items"

    supplier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("suppliers.id"), primary_key=True)
    variant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("variants.id"), primary_key=True, index=True
    )
    supplier_sku: Mapped[str | None] = mapped_column(String(64))
    pack_size: Mapped[int] = mapped_column(Integer, default=1)  # base units per pack
    pack_cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    min_order_packs: Mapped[int] = mapped_column(Integer, default=1)
    preferred: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = updated_column()


class PurchaseOrder(Base):
    """draft -> sent -> partially_received -> received -> closed; cancelled from draft or
    sent. Units ordered and not yet received count as `incoming` at `location_id`."""

    __tablename__ = "purchase_orders"

    id: Mapped[uuid.UUID] = id_column()
    number: Mapped[str] = mapped_column(String(20), unique=True)  # PO-000123
    supplier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("suppliers.id"), index=True)
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"), index=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    expected_on: Mapped[date | None]
    notes: Mapped[str] = mapped_column(String(1000), default="")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class PurchaseOrderLine(Base):
    __tablename__ = "purchase_order_lines"
    __table_args__ = (UniqueConstraint("purchase_order_id", "line_no"),)

    id: Mapped[uuid.UUID] = id_column()
    purchase_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_orders.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variants.id"), index=True)
    pack_size: Mapped[int] = mapped_column(Integer, default=1)
    quantity_ordered: Mapped[int] = mapped_column(BigInteger)  # base units
    quantity_received: Mapped[int] = mapped_column(BigInteger, default=0)
    unit_cost_minor: Mapped[int] = mapped_column(BigInteger)  # per base unit


class GoodsReceipt(Base):
    """One delivery booked in, against a purchase order or not; landed costs (freight, duty)
    are spread over its lines by value and raise their unit cost."""

    __tablename__ = "goods_receipts"

    id: Mapped[uuid.UUID] = id_column()
    purchase_order_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("purchase_orders.id"), index=True
    )
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"))
    currency: Mapped[str] = mapped_column(String(3))
    landed_cost_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    reference: Mapped[str | None] = mapped_column(String(64))  # the supplier's delivery note
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_column()


class GoodsReceiptLine(Base):
    __tablename__ = "goods_receipt_lines"

    id: Mapped[uuid.UUID] = id_column()
    goods_receipt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("goods_receipts.id"), index=True)
    purchase_order_line_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("purchase_order_lines.id")
    )
    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variants.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    unit_cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    landed_unit_cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lots.id"))
    serials: Mapped[list[str]] = mapped_column(JSON, default=list)


# --- lots and serials ---------------------------------------------------------------------


class Lot(Base):
    """A batch of one variant with its expiry date (None: does not expire)."""

    __tablename__ = "lots"
    __table_args__ = (UniqueConstraint("variant_id", "code"),)

    id: Mapped[uuid.UUID] = id_column()
    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variants.id"))
    code: Mapped[str] = mapped_column(String(64))
    expires_on: Mapped[date | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = created_column()


class LotBalance(Base):
    """Units of a lot at a location: the sum of the on_hand movements that name the lot.
    `expired` counts those of them the expiry sweep moved out of sellable stock."""

    __tablename__ = "lot_balances"

    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"), primary_key=True)
    location_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("locations.id"), primary_key=True, index=True
    )
    on_hand: Mapped[int] = mapped_column(BigInteger, default=0)
    expired: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = updated_column()


class SerialUnit(Base):
    """One serial-tracked unit: where it is and what state it is in (see serial_events)."""

    __tablename__ = "serial_units"
    __table_args__ = (UniqueConstraint("variant_id", "serial"),)

    id: Mapped[uuid.UUID] = id_column()
    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variants.id"))
    serial: Mapped[str] = mapped_column(String(100), index=True)
    # in_stock | reserved | sold | returned | quarantined | in_transit | written_off
    # | returned_to_vendor
    status: Mapped[str] = mapped_column(String(24))
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("locations.id"))
    sale_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    warranty_starts_on: Mapped[date | None]
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class SerialEvent(Base):
    """The append-only history of a serial unit."""

    __tablename__ = "serial_events"

    id: Mapped[uuid.UUID] = id_column()
    serial_unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("serial_units.id"), index=True)
    event: Mapped[str] = mapped_column(String(24))  # received | sold | transferred | ...
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("locations.id"))
    reference_type: Mapped[str | None] = mapped_column(String(40))
    reference_id: Mapped[str | None] = mapped_column(String(64))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_column()


# --- transfers ----------------------------------------------------------------------------


class Transfer(Base):
    """requested -> shipped (units in transit at the destination) -> received; cancelled
    from requested. A receipt short of or over what shipped is a discrepancy."""

    __tablename__ = "transfers"

    id: Mapped[uuid.UUID] = id_column()
    number: Mapped[str] = mapped_column(String(20), unique=True)  # TR-000123
    source_location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"), index=True)
    destination_location_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("locations.id"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    expected_on: Mapped[date | None]
    notes: Mapped[str] = mapped_column(String(1000), default="")
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    shipped_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    received_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    shipped_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class TransferLine(Base):
    __tablename__ = "transfer_lines"
    __table_args__ = (UniqueConstraint("transfer_id", "line_no"),)

    id: Mapped[uuid.UUID] = id_column()
    transfer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("transfers.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variants.id"), index=True)
    quantity_requested: Mapped[int] = mapped_column(BigInteger)
    quantity_shipped: Mapped[int] = mapped_column(BigInteger, default=0)
    quantity_received: Mapped[int] = mapped_column(BigInteger, default=0)
    # What left the source: [{"lot": code, "quantity": n}] and serial numbers.
    lots: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    serials: Mapped[list[str]] = mapped_column(JSON, default=list)


# --- cycle counts -------------------------------------------------------------------------


class CountSession(Base):
    """A cycle count of a location, or of one category at it: open -> submitted -> approved
    (variances booked as `count` movements) or cancelled."""

    __tablename__ = "count_sessions"
    __table_args__ = (Index("ix_count_sessions_location_status", "location_id", "status"),)

    id: Mapped[uuid.UUID] = id_column()
    number: Mapped[str] = mapped_column(String(20), unique=True)  # CC-000123
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"))
    category_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("categories.id"))
    blind: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(16))
    started_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = created_column()
    submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class CountLine(Base):
    """One variant in a count: on_hand when the session started, and what was counted when.

    The expected quantity at `counted_at` is `expected_at_start` plus every movement of the
    variant at the location between the start and the count (sales made during the count).
    """

    __tablename__ = "count_lines"

    count_session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("count_sessions.id"), primary_key=True
    )
    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variants.id"), primary_key=True)
    expected_at_start: Mapped[int] = mapped_column(BigInteger)
    counted: Mapped[int | None] = mapped_column(BigInteger)
    counted_at: Mapped[datetime | None]
    counted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    variance: Mapped[int | None] = mapped_column(BigInteger)  # set on approval

"""Channels, orders, their fulfillments, shipments and notifications (migration 0009).

An order is born on a channel (web shop, marketplace, social, phone, or a register's endless
aisle). Its lines are priced by the same engine as the register and stored as a snapshot
(DESIGN §3). The router assigns each line's units to locations: one `order_fulfillments` row
per (location, method) with its `order_allocations` (units of a line) and one stock
reservation. A location that rejects its fulfillment leaves it `rejected` (kept as history) and
the order is routed again without it. `order_events` is the append-only timeline; SLA
timestamps live on the fulfillment (ready, picked up, shipped, delivered).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omnitill.adapters.db.models.base import Base, created_column, id_column, updated_column


class Channel(Base):
    """Where orders come from. Price lists and promotions are scoped by `code` (their
    `channels` lists); `fulfillment_methods` are the methods its orders may use."""

    __tablename__ = "channels"

    id: Mapped[uuid.UUID] = id_column()
    code: Mapped[str] = mapped_column(String(16), unique=True)  # in_store | web | marketplace ...
    name: Mapped[str] = mapped_column(String(200))
    fulfillment_methods: Mapped[list[str]] = mapped_column(JSON, default=list)
    allows_backorder: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_status_placed_at", "status", "placed_at"),
        UniqueConstraint("channel", "external_reference"),
    )

    id: Mapped[uuid.UUID] = id_column()
    number: Mapped[int] = mapped_column(BigInteger, unique=True)  # shown as #100123
    channel: Mapped[str] = mapped_column(String(16), index=True)
    # standard | special_order | layaway
    kind: Mapped[str] = mapped_column(String(16), default="standard")
    # placed | backordered | in_progress | completed | cancelled
    status: Mapped[str] = mapped_column(String(16))
    external_reference: Mapped[str | None] = mapped_column(String(100))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"), index=True)
    customer_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    ship_to: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    discount_total_minor: Mapped[int] = mapped_column(BigInteger)
    tax_total_minor: Mapped[int] = mapped_column(BigInteger)
    shipping_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    # What tenders have paid (captured) and hold (authorized), projections of `payments`.
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    authorized_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    deposit_required_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    pricing: Mapped[dict[str, Any]] = mapped_column(JSON)  # the priced cart as charged
    routing: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the latest explanation
    # The register that took an endless-aisle order, or the store of a layaway.
    origin_location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("locations.id"))
    origin_register_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("registers.id"))
    request_hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(500), default="")
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    placed_at: Mapped[datetime] = mapped_column()
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("order_id", "line_no"),)

    id: Mapped[uuid.UUID] = id_column()
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variants.id"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16))  # ship | pickup | curbside | local_delivery
    pickup_location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("locations.id"))
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    discount_total_minor: Mapped[int] = mapped_column(BigInteger)
    tax_total_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    quantity_backordered: Mapped[int] = mapped_column(Integer, default=0)
    quantity_cancelled: Mapped[int] = mapped_column(Integer, default=0)
    quantity_fulfilled: Mapped[int] = mapped_column(Integer, default=0)  # shipped or handed over
    # 0010: units returned so far (never past `quantity_fulfilled`), by conditional UPDATE.
    quantity_returned: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class OrderFulfillment(Base):
    """What one location does for an order by one method: its pick list, its reservation,
    its shipment or pickup, with the SLA timestamps."""

    __tablename__ = "order_fulfillments"
    __table_args__ = (Index("ix_order_fulfillments_location_status", "location_id", "status"),)

    id: Mapped[uuid.UUID] = id_column()
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"))
    method: Mapped[str] = mapped_column(String(16))
    # assigned | accepted | picking | packed | ready | shipped | picked_up | delivered
    # | rejected | cancelled
    status: Mapped[str] = mapped_column(String(16))
    reservation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("reservations.id"))
    reject_reason: Mapped[str | None] = mapped_column(String(200))
    # Pickup and curbside: the secret in the notification's QR code and "I'm here" link.
    pickup_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    arrived_at: Mapped[datetime | None]
    arrival_bay: Mapped[str | None] = mapped_column(String(20))
    arrival_car: Mapped[str | None] = mapped_column(String(120))
    reminded_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    packed_at: Mapped[datetime | None]
    ready_at: Mapped[datetime | None] = mapped_column(index=True)
    picked_up_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class OrderAllocation(Base):
    """`quantity` units of one order line assigned to a fulfillment."""

    __tablename__ = "order_allocations"
    __table_args__ = (UniqueConstraint("fulfillment_id", "order_line_id"),)

    id: Mapped[uuid.UUID] = id_column()
    fulfillment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("order_fulfillments.id"), index=True
    )
    order_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order_lines.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    quantity_cancelled: Mapped[int] = mapped_column(Integer, default=0)


class OrderEvent(Base):
    """The order's timeline, append-only: placed, routed, accepted, rejected, picking,
    packed, ready_for_pickup, picked_up, shipped, delivered, cancelled, completed and the
    payment, notification and arrival events between."""

    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_order_created", "order_id", "created_at"),)

    id: Mapped[uuid.UUID] = id_column()
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    kind: Mapped[str] = mapped_column(String(32))
    fulfillment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("order_fulfillments.id"))
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("locations.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_column()


class Shipment(Base):
    """A parcel bought from a carrier for one fulfillment: rate, label and tracking."""

    __tablename__ = "shipments"

    id: Mapped[uuid.UUID] = id_column()
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    fulfillment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("order_fulfillments.id"), index=True
    )
    carrier: Mapped[str] = mapped_column(String(32))
    service: Mapped[str] = mapped_column(String(32))
    tracking_number: Mapped[str] = mapped_column(String(64), unique=True)
    label_reference: Mapped[str] = mapped_column(String(100))
    rate_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    weight_grams: Mapped[int] = mapped_column(Integer)
    zone: Mapped[int] = mapped_column(Integer)
    # label_created | in_transit | out_for_delivery | delivered | exception
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class ShipmentEvent(Base):
    """A tracking event the carrier reported, append-only; unique per carrier event id."""

    __tablename__ = "shipment_events"

    id: Mapped[uuid.UUID] = id_column()
    shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipments.id"), index=True)
    carrier_event_id: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(200), default="")
    location: Mapped[str] = mapped_column(String(120), default="")
    occurred_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = created_column()


class Notification(Base):
    """A message sent to a customer (email or SMS) and what the provider answered."""

    __tablename__ = "notifications"

    id: Mapped[uuid.UUID] = id_column()
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id"), index=True)
    medium: Mapped[str] = mapped_column(String(8))  # email | sms
    template: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16))  # sent | failed
    provider_reference: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = created_column()

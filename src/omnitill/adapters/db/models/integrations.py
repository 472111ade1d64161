"""Webhook subscriptions, their deliveries and attempts, and event consumers' cursors (0009).

Events reach consumers from the outbox in `outbox_events.seq` order: the relay gives each
published event the next sequence number (services/event_relay.py). A consumer (the webhook
dispatcher) keeps its position in `event_cursors`, so it never misses nor repeats an event.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omnitill.adapters.db.models.base import Base, created_column, id_column, updated_column


class EventCursor(Base):
    """How far a named consumer has read the published events (by `seq`)."""

    __tablename__ = "event_cursors"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = updated_column()


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = id_column()
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)  # topics; [] = all
    secret: Mapped[str] = mapped_column(String(100))  # whsec_<base64>
    status: Mapped[str] = mapped_column(String(16))  # enabled | disabled | deleted
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    failing_since: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class WebhookDelivery(Base):
    """One event for one subscription, retried until it succeeds or its schedule ends."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[uuid.UUID] = id_column()
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id"), index=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outbox_events.id"))
    topic: Mapped[str] = mapped_column(String(80))
    # pending | succeeded | failed (schedule exhausted) | cancelled (endpoint disabled)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class WebhookAttempt(Base):
    """The delivery log, append-only: one row per HTTP attempt and what the endpoint said."""

    __tablename__ = "webhook_attempts"

    id: Mapped[uuid.UUID] = id_column()
    delivery_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | replay
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_excerpt: Mapped[str] = mapped_column(String(500), default="")
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_column()

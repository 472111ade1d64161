"""Webhook subscriptions, their deliveries and the attempt log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

EVENT_TYPES = (
    "Topics (`sale.completed`) or families (`order.*`: every topic starting with `order.`). "
    "An empty list receives every event."
)


class WebhookCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://shop.example/hooks/omnitill",
                    "description": "web shop order sync",
                    "event_types": ["order.*", "sale.completed"],
                }
            ]
        }
    )
    url: str = Field(max_length=2000, description="The endpoint: an absolute http(s) URL.")
    description: str = Field(default="", max_length=200)
    event_types: list[str] = Field(default_factory=list, description=EVENT_TYPES)


class WebhookUpdate(BaseModel):
    url: str | None = Field(default=None, max_length=2000)
    description: str | None = Field(default=None, max_length=200)
    event_types: list[str] | None = Field(default=None, description=EVENT_TYPES)
    status: Literal["enabled", "disabled"] | None = Field(
        default=None,
        description="`disabled` cancels the pending deliveries; `enabled` clears the failure "
        "state (use `recover` to resend what was missed).",
    )


class WebhookRead(BaseModel):
    id: str
    url: str
    description: str
    event_types: list[str]
    status: str = Field(description="enabled or disabled.")
    disabled_reason: str | None = Field(
        description="Who disabled it, or why it was disabled automatically."
    )
    failing_since: datetime | None = Field(
        description="The first failed attempt since the last success; after "
        "OMNITILL_WEBHOOK_DISABLE_AFTER_HOURS of nothing but failures the endpoint is disabled."
    )
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(WebhookRead):
    secret: str = Field(
        description="`whsec_` and base64: the HMAC key of `webhook-signature`. Shown only "
        "here (on create and rotate); keep it in the receiver."
    )


class WebhookPage(BaseModel):
    items: list[WebhookRead]
    next_cursor: str | None


class AttemptRead(BaseModel):
    attempt: int = Field(description="1 for the first attempt, counting replays.")
    trigger: str = Field(description="schedule (first attempt and retries) or replay.")
    status_code: int | None = Field(description="None when no answer came.")
    response_excerpt: str = Field(description="The first 500 characters of the answer.")
    error: str | None = Field(description="Timeout, refused connection, ...")
    duration_ms: int
    created_at: datetime


class DeliveryRead(BaseModel):
    id: str
    webhook_id: str
    event_id: str = Field(description="Sent as `webhook-id`; the same on every attempt.")
    topic: str
    status: str = Field(description="pending, succeeded, failed or cancelled.")
    attempts: int
    next_attempt_at: datetime | None = Field(
        description="When the next attempt is due (a retry, or a replay queued by recover)."
    )
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime


class DeliveryDetail(DeliveryRead):
    payload: dict[str, Any] | None = Field(description="The JSON body every attempt sends.")
    attempt_log: list[AttemptRead] = Field(description="Every attempt, oldest first.")


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    next_cursor: str | None


class RecoverRequest(BaseModel):
    since: AwareDatetime = Field(
        description="Replay every failed or cancelled delivery created since this time."
    )


class RecoverRead(BaseModel):
    queued: int = Field(description="Deliveries queued for a replay by the dispatcher.")

"""Published events: the envelope every stream, page and webhook carries."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class EventRead(BaseModel):
    id: str = Field(description="The event's UUIDv7; consumers dedupe by it.")
    seq: int = Field(description="Publish-time sequence number: gapless, in commit order.")
    type: str = Field(description="The topic, e.g. `sale.completed`, `order.placed`.")
    aggregate_type: str = Field(description="What changed: sale, reservation, order, ...")
    aggregate_id: str
    occurred_at: str = Field(description="When the change committed its event (UTC).")
    locations: list[str] = Field(description="Location codes; empty: estate-wide.")
    channel: str | None = Field(description="Sales channel code, when the event has one.")
    data: dict[str, Any] = Field(description="The topic's payload.")


class EventPage(BaseModel):
    items: list[EventRead]
    next_after: int = Field(description="Pass back as `after` for the next page.")
    has_more: bool = Field(description="The page stopped at `limit`: ask again at once.")

"""What a live stream (or a polling client) receives: its filter, who may ask, and the
replay that joins the live feed with no gap and no duplicate.

A stream names locations, channels and topics. An event passes when its topic matches, it
names one of the locations or none (an estate-wide event), and it belongs to one of the
channels or to none. Staff bound to stores see only their stores' events (and estate-wide
ones) whatever they ask, and asking for another store is 403.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import Channel, Location
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.services.database import Database
from omnitill.services.event_hub import EventHub, StreamItem
from omnitill.services.event_relay import BATCH, PublishedEvent, TopicFilter, read_after
from omnitill.services.pagination import clamp_limit
from omnitill.services.references import accessible_location


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a reader receives; None: no restriction on that field."""

    topics: TopicFilter = dataclasses.field(default_factory=TopicFilter)
    locations: frozenset[str] | None = None
    channels: frozenset[str] | None = None

    def matches(self, event: PublishedEvent) -> bool:
        if not self.topics.matches(event.topic):
            return False
        if (
            self.locations is not None
            and event.locations
            and self.locations.isdisjoint(event.locations)
        ):
            return False
        return self.channels is None or event.channel is None or event.channel in self.channels


@dataclass(frozen=True, slots=True)
class Live:
    """The replay is over: the stream is live, everything up to `position` examined."""

    position: int


HEARTBEAT = "heartbeat"


@dataclass(frozen=True, slots=True)
class EventPage:
    items: list[PublishedEvent]
    next_after: int  # pass back as `after`
    has_more: bool  # the page was cut at the limit: ask again at once


def event_filter(
    *,
    db: Database,
    actor: Actor,
    locations: Sequence[str] = (),
    channels: Sequence[str] = (),
    topics: Sequence[str] = (),
) -> EventFilter:
    """Check what a reader asks for against who asks: 403 `auth.location_forbidden` for a
    store outside theirs, 422 `location.not_found`, `channel.not_found`,
    `events.invalid_topic`."""
    actor.require(Permission.EVENTS_READ)
    topic_filter = TopicFilter.parse(topics)
    with db.uow(write=False) as uow:
        for code in locations:
            accessible_location(uow, actor, code)
        _check_channels(uow, channels)
        scope = _codes(uow, actor)
    return EventFilter(
        topics=topic_filter,
        locations=frozenset(locations) if locations else scope,
        channels=frozenset(channels) if channels else None,
    )


def page(*, db: Database, event_filter: EventFilter, after: int, limit: int | None) -> EventPage:
    """Published events after `after` that pass the filter (for polling clients)."""
    size = clamp_limit(limit)
    if after < 0:
        raise _bad_position("after")
    batch = read_after(db, after=after, limit=size, topics=event_filter.topics)
    return EventPage(
        items=[event for event in batch if event_filter.matches(event)],
        next_after=batch[-1].seq if batch else after,
        has_more=len(batch) == size,
    )


def parse_position(value: str | None, *, field: str = "Last-Event-ID") -> int | None:
    """A client's last event id (a sequence number), or 422 `events.invalid_position`."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not text.isdigit():
        raise _bad_position(field)
    return int(text)


async def follow(
    *,
    hub: EventHub,
    db: Database,
    event_filter: EventFilter,
    after: int | None,
    heartbeat_seconds: float,
) -> AsyncIterator[StreamItem | Live | str]:
    """A stream: the matching events after `after` from the database, then `Live`, then the
    live events as the hub hands them out, with `HEARTBEAT` after each quiet interval.

    Without `after` the stream starts at the hub's newest event. The stream subscribes
    before its last replay page, and drops live events it has already passed, so nothing
    committed in between is missed or sent twice. It ends when the hub closes it (overflow
    or shutdown): the client reconnects with its last event id.
    """
    position = after if after is not None else 0
    if after is not None:  # most of the replay, before the live queue starts filling
        async for item in _replay(db, event_filter, position):
            position = item.seq
            yield item
    subscription, hub_position = await hub.subscribe(event_filter.matches)
    getter: asyncio.Future[StreamItem | None] | None = None
    try:
        if after is not None:
            async for item in _replay(db, event_filter, position):
                position = item.seq
                yield item
        position = max(position, hub_position)
        yield Live(position)
        while True:
            if getter is None:
                getter = asyncio.ensure_future(subscription.queue.get())
            done, _ = await asyncio.wait({getter}, timeout=heartbeat_seconds)
            if not done:
                yield HEARTBEAT
                continue
            live = getter.result()
            getter = None
            if live is None:
                return
            if live.seq > position:
                position = live.seq
                yield live
    finally:
        if getter is not None:
            getter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await getter
        hub.unsubscribe(subscription)


async def _replay(db: Database, event_filter: EventFilter, after: int) -> AsyncIterator[StreamItem]:
    """Every matching event after `after`, page by page, until a page comes back short."""
    while True:
        batch = await asyncio.to_thread(
            read_after, db, after=after, limit=BATCH, topics=event_filter.topics
        )
        for event in batch:
            if event_filter.matches(event):
                yield StreamItem.of(event)
        if len(batch) < BATCH:
            return
        after = batch[-1].seq


def _codes(uow: UnitOfWork, actor: Actor) -> frozenset[str] | None:
    """The codes of the actor's stores; None for staff who see every location."""
    if actor.location_ids is None:
        return None
    if not actor.location_ids:
        return frozenset()
    rows = uow.session.scalars(select(Location.code).where(Location.id.in_(actor.location_ids)))
    return frozenset(rows)


def _check_channels(uow: UnitOfWork, channels: Sequence[str]) -> None:
    if not channels:
        return
    known = set(uow.session.scalars(select(Channel.code).where(Channel.code.in_(channels))))
    unknown = [c for c in channels if c not in known]
    if unknown:
        raise ValidationFailed(
            "channel.not_found",
            f"no channel {', '.join(repr(c) for c in unknown)}",
            {"channels": unknown},
            errors=[
                FieldError("channel", "channel.not_found", f"unknown channel {c!r}")
                for c in unknown
            ],
        )


def _bad_position(field: str) -> ValidationFailed:
    return ValidationFailed(
        "events.invalid_position",
        "an event id is the event's sequence number, a whole number from 0",
        errors=[FieldError(field, "events.invalid_position", "not a sequence number")],
    )

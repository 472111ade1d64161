"""Published events: the live stream (server-sent events) and pages for polling clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from omnitill.api.deps import DbDep, Limit, SettingsDep, require
from omnitill.api.schemas.events import EventPage, EventRead
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import Unavailable
from omnitill.services import event_stream
from omnitill.services.event_hub import EventHub, StreamItem

router = APIRouter(prefix="/api/v1", tags=["events"])
Reader = Annotated[Actor, Depends(require(Permission.EVENTS_READ))]

Locations = Annotated[
    list[str] | None,
    Query(
        alias="location",
        description="Location codes, repeated or comma-separated (`S01,S02`). Events that "
        "name one of them, or no location, pass. Default: every location you may see.",
    ),
]
Channels = Annotated[
    list[str] | None,
    Query(
        alias="channel",
        description="Channel codes (`web`), repeated or comma-separated. Events of one of "
        "them, or of no channel, pass.",
    ),
]
Topics = Annotated[
    str | None,
    Query(
        description="Comma-separated topics; a trailing `.*` matches a prefix "
        "(`order.*,sale.completed`). Default: every topic."
    ),
]

STREAM_DESCRIPTION = """
`text/event-stream`. Each event is one message: `id: <seq>`, `event: <topic>`,
`data: <envelope JSON>` (the same envelope as `GET /api/v1/events` and webhooks).

On connect the stream first replays every matching event after `Last-Event-ID` (the header
an EventSource sends when it reconnects, or the `last_event_id` query parameter) from the
database, then goes live with no gap and no duplicate. Once live it sends `: live` with
`id:` set to its position, so a client that reconnects before any event arrives resumes
from there. Without an id it starts at the newest event. A comment line (`: heartbeat`)
follows every quiet interval (`OMNITILL_SSE_HEARTBEAT_SECONDS`).

Staff bound to stores receive only their stores' events and estate-wide ones (events that
name no location); asking for another store is 403 `auth.location_forbidden`. A client that
falls far behind, or whose server shuts down, sees the stream end: it reconnects and
resumes from its last id.
"""


def _codes(values: list[str] | None) -> list[str]:
    """Repeated and comma-separated values, in order, once each."""
    seen: dict[str, None] = {}
    for value in values or ():
        for code in value.split(","):
            if code.strip():
                seen[code.strip()] = None
    return list(seen)


@router.get(
    "/events/stream",
    summary="Live events (server-sent events), resumable by Last-Event-ID",
    description=STREAM_DESCRIPTION,
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "The event stream."},
        403: {"description": "`auth.location_forbidden`: a store you are not bound to."},
        422: {
            "description": "`location.not_found`, `channel.not_found`, "
            "`events.invalid_topic`, `events.invalid_position`."
        },
        503: {"description": "`events.unavailable`: the server is not streaming events."},
    },
)
def stream_events(
    request: Request,
    actor: Reader,
    db: DbDep,
    settings: SettingsDep,
    location: Locations = None,
    channel: Channels = None,
    topics: Topics = None,
    last_event_id: Annotated[
        str | None,
        Query(
            description="Resume after this event id, for clients that cannot send the "
            "`Last-Event-ID` header; the header wins when both are sent."
        ),
    ] = None,
    last_event_id_header: Annotated[
        str | None, Header(alias="Last-Event-ID", include_in_schema=False)
    ] = None,
) -> StreamingResponse:
    """Stream events as they are published, after replaying the ones the client missed."""
    hub: EventHub | None = getattr(request.app.state, "event_hub", None)
    if hub is None:
        raise Unavailable("events.unavailable", "this server is not streaming events")
    field = "Last-Event-ID" if last_event_id_header is not None else "last_event_id"
    after = event_stream.parse_position(
        last_event_id_header if last_event_id_header is not None else last_event_id,
        field=field,
    )
    wanted = event_stream.event_filter(
        db=db,
        actor=actor,
        locations=_codes(location),
        channels=_codes(channel),
        topics=_codes([topics] if topics else None),
    )
    items = event_stream.follow(
        hub=hub,
        db=db,
        event_filter=wanted,
        after=after,
        heartbeat_seconds=settings.sse_heartbeat_seconds,
    )
    return StreamingResponse(
        _sse(items),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _sse(items: AsyncIterator[StreamItem | event_stream.Live | str]) -> AsyncIterator[bytes]:
    async for item in items:
        if isinstance(item, StreamItem):
            yield f"id: {item.seq}\nevent: {item.topic}\ndata: {item.data}\n\n".encode()
        elif isinstance(item, event_stream.Live):
            yield f"id: {item.position}\n: live\n\n".encode()
        else:
            yield b": heartbeat\n\n"


@router.get("/events", response_model=EventPage, summary="Published events after a position")
def list_events(
    actor: Reader,
    db: DbDep,
    after: Annotated[
        int, Query(description="Sequence number to read after (0: from the first).")
    ] = 0,
    limit: Limit = None,
    location: Locations = None,
    channel: Channels = None,
    topics: Topics = None,
) -> EventPage:
    """A page of published events in sequence order, for polling clients and debugging;
    the same filters and store restrictions as the stream."""
    wanted = event_stream.event_filter(
        db=db,
        actor=actor,
        locations=_codes(location),
        channels=_codes(channel),
        topics=_codes([topics] if topics else None),
    )
    found = event_stream.page(db=db, event_filter=wanted, after=after, limit=limit)
    return EventPage(
        items=[EventRead(**event.envelope()) for event in found.items],
        next_after=found.next_after,
        has_more=found.has_more,
    )

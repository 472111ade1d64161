"""NATS JetStream fan-out (``OMNITILL_EVENT_FANOUT=nats``).

Each published event goes to subject ``omnitill.events.<topic>`` of the stream
``OMNITILL_NATS_STREAM`` (created on subjects ``omnitill.events.>`` when missing), with the
event id as ``Nats-Msg-Id``: JetStream keeps one message per id within its duplicate window
(two minutes by default), so two relays forwarding the same event store it once. Hub
processes subscribe to the stream only to wake up; they read the events from the database.

`nats-py` is imported here only, and only when this transport is chosen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

SUBJECT_PREFIX = "omnitill.events"
# The stream is a live feed, not the archive (the outbox table is): a week of events.
STREAM_MAX_AGE_SECONDS = 7 * 24 * 3600

log = logging.getLogger("omnitill.events")


def subject_for(topic: str) -> str:
    """The subject an event of `topic` is published on (``omnitill.events.order.placed``)."""
    return f"{SUBJECT_PREFIX}.{topic}"


class JetStream:
    """A connection to NATS with the events stream; reconnects by itself once connected."""

    def __init__(self, url: str, stream: str) -> None:
        self.url = url
        self.stream = stream
        self._nc: Any = None
        self._js: Any = None
        self._subscription: Any = None

    async def connect(
        self, *, on_reconnect: Callable[[], None], timeout_seconds: float = 2.0
    ) -> None:
        """Connect and make sure the stream exists; raises TimeoutError if NATS does not
        answer within `timeout_seconds`. Once connected, the client reconnects by itself
        for ever and calls `on_reconnect` each time (messages may have been missed)."""
        import nats

        async def reconnected() -> None:
            log.info("reconnected to NATS at %s", self.url)
            on_reconnect()

        async def error(exc: Exception) -> None:
            log.warning("NATS at %s: %s", self.url, exc)

        self._nc = await asyncio.wait_for(
            nats.connect(
                self.url,
                name="omnitill",
                connect_timeout=timeout_seconds,
                max_reconnect_attempts=-1,
                reconnect_time_wait=1,
                error_cb=error,
                reconnected_cb=reconnected,
            ),
            timeout_seconds,
        )
        self._js = self._nc.jetstream(timeout=timeout_seconds)
        await self._ensure_stream()

    async def _ensure_stream(self) -> None:
        from nats.js.errors import BadRequestError, NotFoundError

        try:
            await self._js.stream_info(self.stream)
            return
        except NotFoundError:
            pass
        try:
            await self._js.add_stream(
                name=self.stream,
                subjects=[f"{SUBJECT_PREFIX}.>"],
                max_age=STREAM_MAX_AGE_SECONDS,
            )
            log.info("created the JetStream stream %s", self.stream)
        except BadRequestError:  # another process created it a moment earlier
            await self._js.stream_info(self.stream)

    @property
    def connected(self) -> bool:
        """Connected once (the client then reconnects by itself) with the stream ready."""
        return self._js is not None and self._subscription is not None

    async def publish(self, *, event_id: str, topic: str, body: bytes) -> bool:
        """Publish one event and wait for JetStream's acknowledgement; False when JetStream
        already held a message with this id (a duplicate it dropped)."""
        ack = await self._js.publish(
            subject_for(topic), body, headers={"Nats-Msg-Id": event_id}, stream=self.stream
        )
        return not ack.duplicate

    async def watch(self, on_message: Callable[[], None]) -> None:
        """Call `on_message` for every new message of the stream (an ordered, ephemeral
        consumer starting at the next message: nothing to acknowledge or clean up)."""
        from nats.js.api import DeliverPolicy

        async def wake(_msg: Any) -> None:
            on_message()

        self._subscription = await self._js.subscribe(
            f"{SUBJECT_PREFIX}.>",
            cb=wake,
            stream=self.stream,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
        )

    async def close(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()
        self._nc = self._js = self._subscription = None

"""Real time in one server process: the relay loop, the hub, and how processes wake each other.

- **Relay loop.** Every process runs one (unless ``OMNITILL_EVENT_RELAY_SECONDS=0``): woken
  when events are emitted (in this process after commit; from a process without a relay
  through PostgreSQL's ``omnitill_outbox`` notification) or every `event_relay_seconds`, it numbers
  the committed events (`event_relay.publish_pending`; the lock makes relays take turns) and
  tells the hubs: on PostgreSQL the numbering transaction notifies ``omnitill_events``; with
  ``OMNITILL_EVENT_FANOUT=nats`` it forwards each event to JetStream.
- **Hub.** One per process. It knows the last sequence number it has handed out, and when
  woken (by the local relay, by ``omnitill_events``, by a JetStream message, or by its own
  poll) it reads the events after it from the database in one query for all its
  subscribers and puts each into the queue of every subscriber whose filter matches.
  Notifications only wake it, so a lost one delays events, never loses them.
- **Slow subscribers.** Each queue is bounded; a subscriber that falls
  `SUBSCRIBER_BUFFER` events behind is closed (its client reconnects and resumes from its
  last event id), so it never holds the others up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from omnitill.adapters.events.jetstream import JetStream
from omnitill.adapters.events.postgres import EVENTS_CHANNEL, OUTBOX_CHANNEL, PgListener
from omnitill.config import Settings
from omnitill.services import events
from omnitill.services.database import Database
from omnitill.services.event_relay import (
    BATCH,
    PublishedEvent,
    advance_cursor,
    cursor_position,
    last_seq,
    publish_batch,
    read_after,
)

SUBSCRIBER_BUFFER = 1000
FAILURE_PAUSE_SECONDS = 1.0
# A relay numbers events at most this often: an event after a quiet spell goes out at once,
# and under load one numbering transaction takes every event committed in the meantime
# instead of one per checkout. Measured with benchmarks/checkout.py: one numbering per
# checkout cost 17 % more server CPU per sale at 20 ms, 4 % at 50 ms (docs/performance.md).
RELAY_MIN_INTERVAL_SECONDS = 0.05

log = logging.getLogger("omnitill.events")

STOP_ROUNDS = 20  # of cancelling what is still running, half a second apart


async def finish(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel `tasks` and wait until they end, cancelling again what is still running.

    On Python 3.11 `asyncio.wait_for` may swallow a cancellation that arrives just as the
    awaited event fires, and a loop around it then runs on: awaiting such a task once would
    hang the shutdown for ever. So: cancel, wait a little, cancel again, give up loudly."""
    pending = {task for task in tasks if not task.done()}
    for _ in range(STOP_ROUNDS):
        if not pending:
            break
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.5)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("event task failed", exc_info=task.exception())
    if pending:
        log.error("event tasks did not stop: %s", sorted(t.get_name() for t in pending))


@dataclass(frozen=True, slots=True)
class StreamItem:
    """One event as a stream sends it: its sequence number, topic and envelope (JSON)."""

    seq: int
    topic: str
    data: str

    @classmethod
    def of(cls, event: PublishedEvent) -> StreamItem:
        return cls(event.seq, event.topic, json.dumps(event.envelope(), separators=(",", ":")))


class Subscription:
    """A subscriber's bounded queue; None in the queue means the stream is over."""

    def __init__(self, matches: Callable[[PublishedEvent], bool], capacity: int) -> None:
        self.matches = matches
        self.queue: asyncio.Queue[StreamItem | None] = asyncio.Queue(capacity + 1)
        self.capacity = capacity
        self.closed = False
        self.overflowed = False

    def offer(self, item: StreamItem) -> None:
        if self.closed:
            return
        if self.queue.qsize() >= self.capacity:
            self.overflowed = True
            self.close()
            return
        self.queue.put_nowait(item)

    def close(self) -> None:
        """End the stream now: what is still queued is dropped (the client resumes)."""
        if self.closed:
            return
        self.closed = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class EventHub:
    """The process's dispatcher from the outbox to its live streams (one event loop)."""

    def __init__(
        self, db: Database, *, poll_seconds: float, buffer: int = SUBSCRIBER_BUFFER
    ) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self.buffer = buffer
        self.position = 0
        self.reads = 0  # database reads so far (one per wake-up with news, for all streams)
        self._subscriptions: set[Subscription] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._shut = False
        # Whether `position` is current. A hub with no streams reads nothing (a server
        # without screens attached pays nothing per event) and finds its place again, at
        # the newest event, when a stream arrives.
        self._placed = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="omnitill-event-hub")

    async def stop(self) -> None:
        self.shut()
        if self._task is not None:
            await finish([self._task])
            self._task = None

    def wake(self) -> None:
        """Read the database now (call from the hub's event loop)."""
        self._wake.set()

    async def subscribe(
        self, matches: Callable[[PublishedEvent], bool]
    ) -> tuple[Subscription, int]:
        """A new subscription and the position it starts after: it receives every matching
        event with a higher sequence number (none once the hub is shutting down)."""
        if not self._placed:
            newest = await asyncio.to_thread(last_seq, self.db)
            if not self._placed:  # (another stream may have placed the hub meanwhile)
                self.position = max(self.position, newest)
                self._placed = True
        subscription = Subscription(matches, self.buffer)
        if self._shut:
            subscription.close()
        else:
            self._subscriptions.add(subscription)
        return subscription, self.position

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    def shut(self) -> None:
        """End every stream and refuse new ones (the process is shutting down): clients
        reconnect to another process and resume."""
        self._shut = True
        for subscription in list(self._subscriptions):
            subscription.close()
        self._subscriptions.clear()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()
            try:
                await self._deliver()
            except Exception:
                log.exception("event hub cannot read events")
                await asyncio.sleep(FAILURE_PAUSE_SECONDS)

    async def _deliver(self) -> None:
        if not self._subscriptions or not self._placed:
            self._placed = False
            return
        while True:
            batch = await asyncio.to_thread(read_after, self.db, after=self.position, limit=BATCH)
            self.reads += 1
            for event in batch:
                item: StreamItem | None = None
                for subscription in list(self._subscriptions):
                    if subscription.matches(event):
                        item = item or StreamItem.of(event)
                        subscription.offer(item)
                        if subscription.closed:
                            self._subscriptions.discard(subscription)
                self.position = event.seq
            if len(batch) < BATCH:
                return


class Relay:
    """The relay loop of one process: numbers committed events and announces them."""

    def __init__(
        self, db: Database, *, poll_seconds: float, announce: Callable[[int], None]
    ) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self._announce = announce
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        last_run = 0.0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            since = loop.time() - last_run
            if since < RELAY_MIN_INTERVAL_SECONDS:
                await asyncio.sleep(RELAY_MIN_INTERVAL_SECONDS - since)
            self._wake.clear()
            last_run = loop.time()
            try:
                published = await asyncio.to_thread(publish_batch, self.db, limit=BATCH)
                last = published.last
                while published.count == BATCH:
                    published = await asyncio.to_thread(publish_batch, self.db, limit=BATCH)
                    last = published.last or last
                if last:
                    self._announce(last)
            except Exception:
                log.exception("event relay failed")
                await asyncio.sleep(FAILURE_PAUSE_SECONDS)


class Forwarder:
    """Forwards published events to JetStream, at least once, in its own loop (a slow or
    absent NATS never holds up numbering). Its position is the consumer cursor
    ``nats:<stream>``; any process may forward, so events numbered by a process that died
    before forwarding them go out at another's next poll."""

    def __init__(self, db: Database, jetstream: JetStream, *, poll_seconds: float) -> None:
        self.db = db
        self.jetstream = jetstream
        self.poll_seconds = poll_seconds
        self.cursor = f"nats:{jetstream.stream}"
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                await self.forward()
            except Exception as exc:
                log.warning("cannot forward events to NATS: %s", exc)
                await asyncio.sleep(FAILURE_PAUSE_SECONDS)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()

    async def forward(self) -> None:
        """Publish every event past the cursor, then move the cursor. A stream that has
        never been fed starts with the events published from now on."""
        if not self.jetstream.connected:
            return
        after = await asyncio.to_thread(cursor_position, self.db, name=self.cursor)
        if after is None:
            after = await asyncio.to_thread(last_seq, self.db)
            await asyncio.to_thread(advance_cursor, self.db, name=self.cursor, seq=after)
        while batch := await asyncio.to_thread(read_after, self.db, after=after, limit=BATCH):
            for event in batch:
                body = json.dumps(event.envelope(), separators=(",", ":")).encode()
                await self.jetstream.publish(event_id=str(event.id), topic=event.topic, body=body)
            after = batch[-1].seq
            await asyncio.to_thread(advance_cursor, self.db, name=self.cursor, seq=after)


class RealTime:
    """Everything real-time in one process, started and stopped with the app."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.fanout = _fanout(settings, db)
        relay_seconds = settings.event_relay_seconds
        poll_seconds = relay_seconds if relay_seconds > 0 else 1.0
        self.hub = EventHub(db, poll_seconds=poll_seconds)
        self.relay: Relay | None = None
        if relay_seconds > 0:
            self.relay = Relay(db, poll_seconds=relay_seconds, announce=self._announce)
        self.forwarder: Forwarder | None = None
        if self.fanout == "nats":
            jetstream = JetStream(settings.nats_url, settings.nats_stream)
            self.forwarder = Forwarder(db, jetstream, poll_seconds=poll_seconds)
        self._tasks: list[asyncio.Task[None]] = []
        self._stop_waking: Callable[[], None] | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await self.hub.start()
        channels: list[str] = []
        if self.relay is not None:
            relay = self.relay
            self._stop_waking = events.on_commit(_threadsafe(loop, relay.wake))
            self._spawn(relay.run(), "omnitill-event-relay")
            if self.db.dialect == "postgresql":
                channels.append(OUTBOX_CHANNEL)
        if self.fanout == "postgres":
            channels.append(EVENTS_CHANNEL)
        if channels:
            listener = PgListener(self.db.url, channels, self._notified)
            self._spawn(listener.run(), "omnitill-event-listener")
            with contextlib.suppress(TimeoutError):  # requests may count on it from the start
                await asyncio.wait_for(listener.tried.wait(), 5)
        if self.forwarder is not None:
            try:
                await self._open_jetstream()
            except Exception as exc:
                log.error("cannot reach NATS at %s (%s); retrying", self.settings.nats_url, exc)
                self._spawn(self._open_jetstream_later(), "omnitill-nats-connect")
            self._spawn(self.forwarder.run(), "omnitill-nats-forwarder")

    async def stop(self) -> None:
        if self._stop_waking is not None:
            self._stop_waking()
        await finish(self._tasks)
        self._tasks.clear()
        await self.hub.stop()
        if self.forwarder is not None:
            await self.forwarder.jetstream.close()

    def _spawn(self, coroutine: Awaitable[None], name: str) -> None:
        self._tasks.append(asyncio.ensure_future(coroutine))
        self._tasks[-1].set_name(name)

    def _notified(self, channel: str, _payload: str) -> None:
        if channel == OUTBOX_CHANNEL and self.relay is not None:
            self.relay.wake()
        elif channel == EVENTS_CHANNEL:
            self.hub.wake()

    def _announce(self, _last: int) -> None:
        """Events up to `_last` were just numbered here: wake the local hub and the
        forwarder; other hubs heard the PostgreSQL notification, or hear JetStream."""
        self.hub.wake()
        if self.forwarder is not None:
            self.forwarder.wake()

    async def _open_jetstream(self) -> None:
        assert self.forwarder is not None
        jetstream = self.forwarder.jetstream
        await jetstream.connect(on_reconnect=self.hub.wake)
        await jetstream.watch(self.hub.wake)

    async def _open_jetstream_later(self) -> None:
        assert self.forwarder is not None
        while True:
            await asyncio.sleep(FAILURE_PAUSE_SECONDS * 5)
            try:
                await self.forwarder.jetstream.close()
                await self._open_jetstream()
            except Exception as exc:
                log.warning("NATS still unreachable: %s", exc)
                continue
            self.hub.wake()
            self.forwarder.wake()
            return


def _threadsafe(loop: asyncio.AbstractEventLoop, call: Callable[[], None]) -> Callable[[], None]:
    """`call` run in `loop`, from any thread; a no-op once the loop has closed."""

    def wake() -> None:
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(call)

    return wake


def _fanout(settings: Settings, db: Database) -> str:
    """postgres, nats or local (in-process only: SQLite with the default setting)."""
    if settings.event_fanout == "nats":
        return "nats"
    if db.dialect == "postgresql":
        return "postgres"
    if settings.event_fanout == "postgres":
        raise ValueError("OMNITILL_EVENT_FANOUT=postgres needs a PostgreSQL database")
    return "local"

"""PostgreSQL LISTEN/NOTIFY wake-ups.

Two channels:

- `omnitill_outbox`: `events.emit` notifies it in the emitting transaction (PostgreSQL
  delivers a notification only when its transaction commits), so relays number new events
  at once instead of at their next poll;
- `omnitill_events`: the relay notifies it, with the last sequence number as payload, in the
  transaction that numbers events, so every hub process reads them at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

import psycopg
from sqlalchemy import func
from sqlalchemy.engine import make_url
from sqlalchemy.sql.functions import Function

OUTBOX_CHANNEL = "omnitill_outbox"
EVENTS_CHANNEL = "omnitill_events"

# A SQL expression that notifies relays; `events.emit` puts it in the RETURNING clause of
# the outbox insert, so the wake-up costs no extra round trip on the checkout path.
NOTIFY_OUTBOX = func.pg_notify(OUTBOX_CHANNEL, "")

RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)

log = logging.getLogger("omnitill.events")


def notify_events(last_seq: int) -> Function[Any]:
    """The SQL call telling hubs that events up to `last_seq` are published."""
    return func.pg_notify(EVENTS_CHANNEL, str(last_seq))


def conninfo(url: str) -> str:
    """A libpq connection string for a SQLAlchemy URL (``postgresql+psycopg://...``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgListener:
    """One LISTEN connection per process.

    `on_notify(channel, payload)` is called in the event loop for every notification. After
    (re)connecting it is called once per channel with an empty payload, because whatever
    was notified while the connection was down is gone: the callee re-reads the table.
    """

    def __init__(
        self, url: str, channels: Iterable[str], on_notify: Callable[[str, str], None]
    ) -> None:
        self._conninfo = conninfo(url)
        self._channels = tuple(channels)
        self._on_notify = on_notify
        self.connected = asyncio.Event()
        self.tried = asyncio.Event()  # the first attempt is over, whether it worked or not

    async def run(self) -> None:
        """Listen until cancelled, reconnecting with a growing pause after a failure."""
        failures = 0
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
            except psycopg.Error as exc:
                failures += 1
                log.warning("event listener cannot connect: %s", exc)
                self.tried.set()
                await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1])
                continue
            try:
                async with conn:
                    for channel in self._channels:
                        await conn.execute(f"LISTEN {channel}")
                    failures = 0
                    self.connected.set()
                    self.tried.set()
                    for channel in self._channels:
                        self._on_notify(channel, "")
                    async for notification in conn.notifies():
                        self._on_notify(notification.channel, notification.payload)
            except psycopg.Error as exc:
                failures += 1
                log.warning("event listener lost its connection: %s", exc)
            finally:
                self.connected.clear()
            await asyncio.sleep(RETRY_SECONDS[min(max(failures, 1), len(RETRY_SECONDS)) - 1])

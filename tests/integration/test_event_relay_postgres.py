"""PostgreSQL wake-ups of the relay and the hubs (LISTEN/NOTIFY).

These exist only as ``[postgres]`` variants: they are defined when
OMNITILL_TEST_DATABASE_URL is set, and their database fixture has the single param
``postgres`` (the shared `backend` parametrisation would add a meaningless SQLite twin).
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from omnitill.adapters.events.postgres import EVENTS_CHANNEL, OUTBOX_CHANNEL, conninfo
from omnitill.services import event_relay, events
from omnitill.services.database import Database
from tests.conftest import PG_URL, _pg_reset


@pytest.fixture(params=["postgres"])
def pg_db() -> Iterator[Database]:
    _pg_reset()
    assert PG_URL
    database = Database(PG_URL)
    yield database
    database.dispose()


def emit(db: Database, topic: str, *, commit: bool = True) -> None:
    with db.uow() as uow:
        events.emit(uow, topic=topic, aggregate_type="test", aggregate_id=topic, payload={})
        if commit:
            uow.commit()


def listen(channel: str) -> psycopg.Connection:
    assert PG_URL
    conn = psycopg.connect(conninfo(PG_URL), autocommit=True)
    conn.execute(f"LISTEN {channel}")
    return conn


def received(conn: psycopg.Connection, *, expected: int = 0, seconds: float = 2) -> list[str]:
    """The notifications that arrive: up to `expected` of them within `seconds`, or, when
    none are expected, whatever comes within a short while."""
    if not expected:
        seconds = 0.3
    return [n.payload for n in conn.notifies(timeout=seconds, stop_after=expected or None)]


if PG_URL:

    def test_publishing_notifies_hubs_with_the_last_number(pg_db):
        listener = listen(EVENTS_CHANNEL)
        try:
            for i in range(3):
                emit(pg_db, f"test.n{i}")
            assert event_relay.publish_pending(pg_db) == 3
            assert event_relay.publish_pending(pg_db) == 0  # nothing new: no notification
            emit(pg_db, "test.n3")
            assert event_relay.publish_pending(pg_db) == 4
            assert received(listener, expected=2) == ["3", "4"]
            assert received(listener) == []
        finally:
            listener.close()

    def test_an_emitter_without_a_relay_wakes_relays_when_it_commits(pg_db):
        listener = listen(OUTBOX_CHANNEL)
        try:
            emit(pg_db, "test.rolled_back", commit=False)
            assert received(listener) == []
            emit(pg_db, "test.kept")
            assert received(listener, expected=1) == [""]
            stop = events.on_commit(lambda: None)  # a relay runs in this process now:
            try:
                emit(pg_db, "test.local")  # it is called in process; no NOTIFY, no lock
                assert received(listener) == []
            finally:
                stop()
        finally:
            listener.close()

"""Hub processes as they run in production: real `omnitill serve` subprocesses on one
database. An event made through hub A reaches a stream on hub B within a second, over
PostgreSQL LISTEN/NOTIFY and over NATS JetStream; and a hub shuts down promptly with event
streams open.

The two-hub tests exist only as ``[postgres]`` variants: they are defined when
OMNITILL_TEST_DATABASE_URL is set, and their database fixture has the single param
``postgres`` (the shared `backend` parametrisation would add a SQLite twin, and two
processes on SQLite have no LISTEN/NOTIFY to test).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from omnitill.services.database import Database
from tests.conftest import PG_URL, _free_port, _pg_reset
from tests.e2e.test_event_stream import streaming
from tests.factories import PASSWORD, make_location, make_user, make_variant

ROOT = Path(__file__).resolve().parents[2]


class Hub:
    """One `omnitill serve` process."""

    def __init__(self, url: str, tmp_path: Path, **settings: str) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "OMNITILL_DATABASE_URL": url,
            "OMNITILL_DATA_DIR": str(tmp_path),
            "OMNITILL_LOG_LEVEL": "WARNING",
            **{f"OMNITILL_{name.upper()}": value for name, value in settings.items()},
        }
        self.log = (tmp_path / f"hub-{self.port}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "omnitill.cli.main", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"hub did not start:\n{self.output()}")

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def terminate(self, *, within: float = 15) -> float:
        """SIGTERM, as a process manager stops it; the seconds it took to exit."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"the hub did not exit within {within} s") from None
        finally:
            self.log.close()
        return time.monotonic() - started

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()


def sign_in(hub: Hub, username: str) -> dict[str, str]:
    answer = httpx.post(
        f"{hub.base_url}/api/v1/auth/token",
        json={"username": username, "password": PASSWORD},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def seed_store(db: Database) -> None:
    s01 = make_location(db, "S01")
    make_variant(db, sku="TEE", stock={s01: 100})
    make_user(db, "m1", "manager", ["S01"])


def reserve(hub: Hub, headers: dict[str, str], reference: str) -> str:
    answer = httpx.post(
        f"{hub.base_url}/api/v1/reservations",
        headers=headers,
        json={
            "reference": {"type": "order", "id": reference},
            "location": "S01",
            "lines": [{"sku": "TEE", "quantity": 1}],
        },
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def test_a_hub_shuts_down_promptly_with_an_event_stream_open(db, db_url, tmp_path):
    """Uvicorn waits for open responses before it stops; a stream is ended for it."""
    seed_store(db)
    hub = Hub(db_url, tmp_path)
    try:
        headers = sign_in(hub, "m1")
        with (
            httpx.Client(base_url=hub.base_url, headers=headers, timeout=10) as http,
            streaming(http) as events_,
        ):
            events_.until_live()
            took = hub.terminate()
            assert events_.next() is None  # the server ended the stream
        assert took < 10
        assert hub.process.returncode is not None
    finally:
        hub.stop()


@pytest.fixture(params=["postgres"])
def pg_db() -> Iterator[Database]:
    _pg_reset()
    assert PG_URL
    database = Database(PG_URL)
    yield database
    database.dispose()


def event_from_a_reaches_b(db: Database, tmp_path: Path, fanout: str) -> None:
    """Three reservations made through hub A; each is on hub B's stream within a second
    of A's answer (A commits before it answers)."""
    assert PG_URL
    seed_store(db)
    # Polls every 30 s: only the fan-out can bring an event to B within the second.
    hub_a = Hub(PG_URL, tmp_path, event_fanout=fanout, event_relay_seconds="30")
    hub_b = Hub(PG_URL, tmp_path, event_fanout=fanout, event_relay_seconds="30")
    try:
        headers = sign_in(hub_a, "m1")
        with (
            httpx.Client(base_url=hub_b.base_url, headers=headers, timeout=10) as http,
            streaming(http, params={"location": "S01", "topics": "reservation.*"}) as on_b,
        ):
            on_b.until_live()
            for n in range(3):
                made = reserve(hub_a, headers, f"W-{n}")
                answered = time.monotonic()
                message = on_b.next_event()
                took = time.monotonic() - answered
                assert message.event == "reservation.created"
                assert message.envelope["aggregate_id"] == made
                assert took < 1.0, f"event {n} took {took:.3f} s to reach hub B"
    finally:
        hub_a.stop()
        hub_b.stop()


if PG_URL:

    def test_an_event_made_through_hub_a_streams_from_hub_b_over_listen_notify(pg_db, tmp_path):
        event_from_a_reaches_b(pg_db, tmp_path, "postgres")

    def test_an_event_made_through_hub_a_streams_from_hub_b_over_nats_jetstream(pg_db, tmp_path):
        event_from_a_reaches_b(pg_db, tmp_path, "nats")

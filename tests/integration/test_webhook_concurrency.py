"""Several dispatchers at once (threads standing in for hub processes), and the loop the
server runs (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from functools import partial

import pytest

from omnitill.adapters.db.types import utcnow
from omnitill.domain.integrations.webhooks import RETRY_DELAYS
from omnitill.services import webhook_delivery
from tests.integration.webhook_receiver import receiving
from tests.integration.webhook_support import (
    admin_actor,
    attempts,
    deliveries,
    dispatch,
    emit,
    endpoint,
    race,
    subscribe,
    tuned,
)

admin = pytest.fixture(name="admin")(admin_actor)
receiver = pytest.fixture(name="receiver")(endpoint)


def test_two_dispatchers_racing_send_each_attempt_once(db, settings, admin):
    """Four threads run the whole dispatcher at once, pass after pass, while the endpoints
    fail the first attempts: every event reaches every endpoint exactly once with a 2xx, and
    every request the endpoints saw is one logged attempt."""
    settings = tuned(settings, webhook_disable_after_hours=1000)
    with receiving() as one, receiving() as two:
        subscribe(db, admin, one)
        subscribe(db, admin, two)
        one.fail_next = 5
        one.delay = two.delay = 0.01
        ids = {str(emit(db, "sale.completed", n=n)) for n in range(12)}
        at = utcnow()
        for step in range(4):
            assert race(4, partial(dispatch, db, settings, at)) == []
            at += RETRY_DELAYS[step]
        for receiver in (one, two):
            assert Counter(r.id for r in receiver.delivered()) == Counter(dict.fromkeys(ids, 1))
        requests = len(one.received) + len(two.received)
    assert len(attempts(db)) == requests
    assert len(deliveries(db)) == 24
    assert {d.status for d in deliveries(db)} == {"succeeded"}
    logged = Counter((a.delivery_id, a.attempt) for a in attempts(db))
    assert max(logged.values()) == 1  # no attempt number was claimed twice


def test_concurrent_fan_ins_consider_each_event_once(db, admin, receiver):
    """Three threads fan in the same 30 events in small batches until caught up: each event
    becomes one delivery, created by exactly one of them."""
    subscribe(db, admin, receiver)
    for n in range(30):
        emit(db, "sale.completed", n=n)
    made: list[int] = []

    def run() -> None:
        while True:
            got = webhook_delivery.fan_in(db=db, limit=7)
            made.append(got.deliveries)
            if got.caught_up:
                return

    assert race(3, run) == []
    assert sum(made) == 30
    assert len(deliveries(db)) == 30
    assert len({d.event_id for d in deliveries(db)}) == 30


def test_the_server_loop_delivers_on_its_own_and_stops_when_cancelled(
    db, settings, admin, receiver
):
    """What the app's lifespan runs: passes every webhook_dispatch_seconds; 0 turns it off."""
    subscribe(db, admin, receiver)
    emit(db)

    async def run_until_delivered() -> None:
        off = tuned(settings)  # webhook_dispatch_seconds=0: returns at once
        await asyncio.wait_for(webhook_delivery.run_webhook_dispatcher(db, off), timeout=1)
        assert receiver.received == []
        loop = asyncio.create_task(
            webhook_delivery.run_webhook_dispatcher(
                db, tuned(settings, webhook_dispatch_seconds=0.05)
            )
        )
        deadline = time.monotonic() + 15
        while not receiver.delivered() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop

    asyncio.run(run_until_delivered())
    assert len(receiver.delivered()) == 1
    assert [d.status for d in deliveries(db)] == ["succeeded"]

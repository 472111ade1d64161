"""The webhook dispatcher: turns published events into deliveries and sends the due ones.

Any number of hub processes (and `omnitill webhooks dispatch`) may run it at once:

- **Fan-in** reads the published events after the ``webhooks`` cursor (`event_cursors`),
  creates one delivery per enabled subscription whose event types match (and which existed
  when the event occurred), and moves the cursor, all in one transaction that holds the
  cursor row locked (the ``UPDATE ... RETURNING`` that reads it locks it on PostgreSQL;
  SQLite's write lock serialises the rest). So each event is considered exactly once.
- **Send** claims the due deliveries (conditional UPDATEs, services/webhook_attempts.py) and
  posts them from a small pool of threads, so one slow endpoint does not hold up the others.
  Retries and replays queued by `recover` are due deliveries like any other.

Every function takes `now`, so tests drive the retry schedule without sleeping.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import EventCursor, WebhookDelivery, WebhookSubscription, table
from omnitill.adapters.db.types import utcnow
from omnitill.adapters.webhooks.http import WebhookHttpClient
from omnitill.config import Settings
from omnitill.domain.ids import uuid7
from omnitill.domain.integrations.webhook_rules import (
    DeliveryStatus,
    SubscriptionStatus,
    Trigger,
)
from omnitill.services import event_relay
from omnitill.services.retries import run_retrying
from omnitill.services.webhook_attempts import (
    AttemptResult,
    Job,
    claim,
    claim_query,
    client_for,
    lease_for,
    perform,
)

CURSOR = "webhooks"
FAN_IN_BATCH = 500
FAN_IN_BATCHES = 20  # per pass: a backlog of 10 000 events is taken in one pass
SEND_BATCH = 40
SEND_BUDGET_SECONDS = 5.0
SEND_WORKERS = 8

log = logging.getLogger("omnitill.webhooks")
_C = table(EventCursor)
_D = WebhookDelivery
_S = WebhookSubscription


@dataclass(frozen=True, slots=True)
class FanIn:
    events: int  # events considered
    deliveries: int  # deliveries created
    caught_up: bool  # no published event is left after the cursor


@dataclass(frozen=True, slots=True)
class DispatchReport:
    events: int
    deliveries: int
    attempts: int
    succeeded: int
    endpoints_disabled: int


def fan_in(*, db: Database, now: datetime | None = None, limit: int = FAN_IN_BATCH) -> FanIn:
    """Create the deliveries of the next `limit` published events and move the cursor."""
    return run_retrying(partial(_fan_in, db, now or utcnow(), limit))


def send_due(
    *,
    db: Database,
    settings: Settings,
    now: datetime | None = None,
    limit: int = SEND_BATCH,
    client: WebhookHttpClient | None = None,
) -> list[AttemptResult]:
    """Claim up to `limit` due deliveries and send them; what each attempt gave."""
    at = now or utcnow()
    if not _anything_due(db, at):
        return []  # no write transaction (on SQLite, no write lock) when idle
    rounds = -(-limit // SEND_WORKERS)  # waves of sends, were every claim taken
    lease_until = at + lease_for(settings, rounds=rounds)
    jobs = run_retrying(partial(_claim_due, db, at, limit, lease_until))
    if not jobs:
        return []
    send = partial(
        _send,
        db,
        client=client or client_for(settings),
        disable_after=timedelta(hours=settings.webhook_disable_after_hours),
        now=at,
    )
    with ThreadPoolExecutor(min(SEND_WORKERS, len(jobs)), "webhook-send") as pool:
        return [r for r in pool.map(send, jobs) if r is not None]


def dispatch_once(
    *, db: Database, settings: Settings, now: datetime | None = None
) -> DispatchReport:
    """One pass: fan in every new event (up to FAN_IN_BATCHES batches), then send what is
    due, SEND_BATCH attempts at a time, until nothing is due or SEND_BUDGET_SECONDS have
    passed (the rest waits for the next pass)."""
    at = now or utcnow()
    events = deliveries = 0
    for _ in range(FAN_IN_BATCHES):
        got = fan_in(db=db, now=at)
        events, deliveries = events + got.events, deliveries + got.deliveries
        if got.caught_up:
            break
    results: list[AttemptResult] = []
    started = time.monotonic()
    while True:  # a backlog is sent in several rounds, within a time budget per pass
        sent = send_due(db=db, settings=settings, now=now)
        results += sent
        if len(sent) < SEND_BATCH or time.monotonic() - started > SEND_BUDGET_SECONDS:
            break
    return DispatchReport(
        events=events,
        deliveries=deliveries,
        attempts=len(results),
        succeeded=sum(r.succeeded for r in results),
        endpoints_disabled=sum(r.endpoint_disabled for r in results),
    )


async def run_webhook_dispatcher(db: Database, settings: Settings) -> None:
    """Every `webhook_dispatch_seconds` (0: never), one dispatch pass, in a worker thread;
    for the app's lifespan. Safe in every hub process at once."""
    every = settings.webhook_dispatch_seconds
    if every <= 0:
        return
    while True:
        await asyncio.sleep(every)
        try:
            report = await asyncio.to_thread(dispatch_once, db=db, settings=settings)
        except Exception:
            log.exception("webhook dispatch failed")
            continue
        if report.attempts or report.deliveries:
            log.info("webhooks dispatched", extra={"fields": _fields(report)})


def _fields(report: DispatchReport) -> dict[str, int]:
    return {
        "events": report.events,
        "deliveries": report.deliveries,
        "attempts": report.attempts,
        "succeeded": report.succeeded,
        "endpoints_disabled": report.endpoints_disabled,
    }


def _fan_in(db: Database, now: datetime, limit: int) -> FanIn:
    with db.uow(write=False) as uow:
        seen = uow.connection.scalar(select(_C.c.last_seq).where(_C.c.name == CURSOR))
    if seen is not None and event_relay.last_seq(db) <= seen:
        return FanIn(events=0, deliveries=0, caught_up=True)  # idle: no write transaction
    with db.uow() as uow:
        after = _lock_cursor(uow, now)
        subs = uow.connection.execute(
            select(_S.id, _S.event_types, _S.created_at).where(
                _S.status == SubscriptionStatus.ENABLED.value
            )
        ).all()
        if not subs:  # nobody listens: skip to the newest event without reading them
            newest = event_relay.last_seq(db)
            if newest > after:
                _move_cursor(uow, newest, now)
            uow.commit()
            return FanIn(events=max(newest - after, 0), deliveries=0, caught_up=True)
        events = event_relay.read_after(db, after=after, limit=limit)
        wants = [(sub, event_relay.TopicFilter.parse(sub.event_types or ())) for sub in subs]
        rows = [
            {
                "id": uuid7(),
                "subscription_id": sub.id,
                "event_id": event.id,
                "topic": event.topic,
                "status": DeliveryStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for event in events
            for sub, topics in wants
            if event.created_at >= sub.created_at and topics.matches(event.topic)
        ]
        if rows:
            uow.connection.execute(insert(_D), rows)
        if events:
            _move_cursor(uow, events[-1].seq, now)
        uow.commit()
        return FanIn(events=len(events), deliveries=len(rows), caught_up=len(events) < limit)


_BUMP = (
    update(_C)
    .where(_C.c.name == CURSOR)
    .values(updated_at=_C.c.updated_at)
    .returning(_C.c.last_seq)
)
_OPEN = {
    name: dialect.insert(_C)
    .values(name=CURSOR, last_seq=0)
    .on_conflict_do_nothing(index_elements=["name"])
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def _lock_cursor(uow: UnitOfWork, now: datetime) -> int:
    """The cursor's position, its row locked until commit (created at 0 the first time)."""
    conn = uow.connection
    row = conn.execute(_BUMP).one_or_none()
    if row is None:
        conn.execute(_OPEN[conn.dialect.name].values(updated_at=now))
        row = conn.execute(_BUMP).one()
    return int(row[0])


def _move_cursor(uow: UnitOfWork, seq: int, now: datetime) -> None:
    uow.connection.execute(
        update(_C).where(_C.c.name == CURSOR).values(last_seq=seq, updated_at=now)
    )


def _due(now: datetime) -> list[ColumnElement[bool]]:
    """Due attempts: pending deliveries (the schedule) and failed or cancelled ones queued
    by `recover` (replays)."""
    return [
        _D.status.in_([DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.CANCELLED]),
        _D.next_attempt_at <= now,
    ]


def _anything_due(db: Database, now: datetime) -> bool:
    with db.uow(write=False) as uow:
        return uow.connection.execute(claim_query().where(*_due(now)).limit(1)).first() is not None


def _claim_due(db: Database, now: datetime, limit: int, lease_until: datetime) -> list[Job]:
    """Claim up to `limit` due attempts, oldest due first."""
    due = claim_query().where(*_due(now)).order_by(_D.next_attempt_at, _D.id).limit(limit)
    with db.uow() as uow:
        rows = uow.connection.execute(due).all()
        jobs = []
        for row in sorted(rows, key=lambda r: r.id):  # one lock order for every dispatcher
            trigger = Trigger.SCHEDULE if row.status == DeliveryStatus.PENDING else Trigger.REPLAY
            job = claim(uow, row, trigger=trigger, now=now, lease_until=lease_until)
            if job is not None:
                jobs.append(job)
        uow.commit()
    return jobs


def _send(
    db: Database,
    job: Job,
    *,
    client: WebhookHttpClient,
    disable_after: timedelta,
    now: datetime,
) -> AttemptResult | None:
    try:
        return perform(db, job, client=client, disable_after=disable_after, now=now)
    except Exception:
        # The claim's lease runs out and the attempt is made again; the others go on.
        log.exception(
            "webhook attempt failed", extra={"fields": {"delivery": str(job.delivery_id)}}
        )
        return None

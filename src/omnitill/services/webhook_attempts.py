"""One attempt at one webhook delivery: claim it, POST it signed, record what happened.

**Claim.** A conditional UPDATE on the delivery's attempt counter (``... WHERE attempts =
:seen``), committed before the HTTP call: when two dispatchers (or a dispatcher and a
replay) race for the same attempt, exactly one UPDATE matches, so no attempt is sent twice.
A claim made by the schedule also pushes `next_attempt_at` forward by a lease (twice the
timeout for each wave of sends the pass makes, plus a margin): a dispatcher that dies
mid-attempt leaves the delivery to be tried again when the lease runs out, never lost.

**Send.** The body is the event's envelope (services/event_relay.py) as compact JSON, the
same bytes on every attempt; `webhook-id` is the event id, the same on every retry and
replay, so a receiver drops duplicates; `webhook-timestamp` is the wall-clock time of the
attempt (what a receiver checks against its own clock) and `webhook-signature` signs both.

**Record.** A second transaction appends the attempt to the log (append-only), moves the
delivery on (succeeded; the next retry of the schedule; failed once the schedule has run
out) and keeps the endpoint's failure state: a success clears it, a failure counts it, and
once every attempt has failed for `webhook_disable_after_hours` the endpoint is disabled, its
pending deliveries cancelled and an audit entry written (actor: none, it is the system's).
A replay is one attempt outside the schedule: a failed replay leaves the status as it was.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Row, Select, func, insert, select, update

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from omnitill.adapters.webhooks.http import HttpAnswer, WebhookHttpClient
from omnitill.config import Settings
from omnitill.domain.ids import uuid7
from omnitill.domain.integrations import webhooks as signing
from omnitill.domain.integrations.webhook_rules import (
    DeliveryStatus,
    SubscriptionStatus,
    Trigger,
    disabled_reason,
    due_for_disabling,
    excerpt,
    is_success,
)
from omnitill.services import audit, event_relay
from omnitill.services.retries import run_retrying
from omnitill.services.webhooks import disable

LEASE_MARGIN = timedelta(seconds=30)

_D = WebhookDelivery
_S = WebhookSubscription


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed attempt and what sending it needs."""

    delivery_id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    event_seq: int
    attempt: int  # this attempt's number, counting every trigger, from 1
    trigger: Trigger
    url: str
    secret: str


@dataclass(frozen=True, slots=True)
class AttemptResult:
    delivery_id: uuid.UUID
    attempt: int
    trigger: Trigger
    succeeded: bool
    status_code: int | None
    error: str | None
    delivery_status: str  # after the attempt
    endpoint_disabled: bool  # this failure disabled the endpoint


def client_for(settings: Settings) -> WebhookHttpClient:
    return WebhookHttpClient(
        timeout_seconds=settings.webhook_timeout_seconds,
        allow_private=settings.webhook_allow_private_urls,
    )


def lease_for(settings: Settings, *, rounds: int = 1) -> timedelta:
    """How long claimed scheduled attempts are left to their dispatcher, which sends them
    in `rounds` waves: twice the timeout per wave, plus a margin."""
    return timedelta(seconds=2 * settings.webhook_timeout_seconds * rounds) + LEASE_MARGIN


def claim_query() -> Select[*tuple[Any, ...]]:
    """Deliveries with their enabled endpoint and their event's sequence number: what a
    claim reads before it tries its conditional UPDATE."""
    return (
        select(
            _D.id,
            _D.status,
            _D.attempts,
            _D.subscription_id,
            _D.event_id,
            _S.url,
            _S.secret,
            OutboxEvent.seq,
        )
        .join(_S, _S.id == _D.subscription_id)
        .join(OutboxEvent, OutboxEvent.id == _D.event_id)
        .where(_S.status == SubscriptionStatus.ENABLED.value)
    )


def claim(
    uow: UnitOfWork,
    row: Row[Any],
    *,
    trigger: Trigger,
    now: datetime,
    lease_until: datetime | None,
) -> Job | None:
    """Take the next attempt of the delivery `row` (from `claim_query`), or None when
    someone else took it, or its status changed, since it was read. A scheduled claim is
    only taken while due, and leases the delivery until `lease_until`."""
    conditions = [_D.id == row.id, _D.attempts == row.attempts, _D.status == row.status]
    values: dict[str, Any] = {"attempts": _D.attempts + 1, "updated_at": now}
    if lease_until is not None:
        conditions.append(_D.next_attempt_at <= now)
        values["next_attempt_at"] = lease_until
    taken = uow.connection.execute(update(_D).where(*conditions).values(**values)).rowcount
    if taken != 1:
        return None
    return Job(
        delivery_id=row.id,
        subscription_id=row.subscription_id,
        event_id=row.event_id,
        event_seq=int(row.seq),
        attempt=int(row.attempts) + 1,
        trigger=trigger,
        url=row.url,
        secret=row.secret,
    )


def perform(
    db: Database,
    job: Job,
    *,
    client: WebhookHttpClient,
    disable_after: timedelta,
    now: datetime,
) -> AttemptResult:
    """Send the claimed attempt and record its outcome (see the module docstring)."""
    body = payload(db, job)
    if body is None:
        answer = HttpAnswer(None, "", "the event is no longer in the outbox", 0)
    else:
        stamp = int(time.time())
        headers = signing.headers(job.secret, str(job.event_id), stamp, body)
        answer = client.post(job.url, body.encode(), headers)
    return run_retrying(partial(_record, db, job, answer, disable_after=disable_after, now=now))


def payload(db: Database, job: Job) -> str | None:
    """The JSON body of the job's event: the same bytes on every attempt."""
    envelope = event_envelope(db, event_id=job.event_id, seq=job.event_seq)
    if envelope is None:
        return None
    return json.dumps(envelope, separators=(",", ":"))


def event_envelope(db: Database, *, event_id: uuid.UUID, seq: int) -> dict[str, Any] | None:
    """The envelope of the published event `seq` (None if it is not `event_id`)."""
    found = event_relay.read_after(db, after=seq - 1, limit=1)
    if not found or found[0].id != event_id:
        return None
    return found[0].envelope()


def _record(
    db: Database,
    job: Job,
    answer: HttpAnswer,
    *,
    disable_after: timedelta,
    now: datetime,
) -> AttemptResult:
    ok = is_success(answer.status_code) and answer.error is None
    with db.uow() as uow:
        # The endpoint first, then the delivery: every path that touches both (disabling,
        # recovering) locks them in this order, so they cannot deadlock.
        disabled = _keep_failure_state(
            uow, job.subscription_id, ok=ok, now=now, disable_after=disable_after
        )
        uow.connection.execute(
            insert(WebhookAttempt).values(
                id=uuid7(),
                delivery_id=job.delivery_id,
                attempt=job.attempt,
                trigger=job.trigger.value,
                status_code=answer.status_code,
                response_excerpt=excerpt(answer.body),
                error=answer.error,
                duration_ms=answer.duration_ms,
                created_at=now,
            )
        )
        status = _move_delivery(uow, job, answer, ok=ok, now=now)
        uow.commit()
    return AttemptResult(
        delivery_id=job.delivery_id,
        attempt=job.attempt,
        trigger=job.trigger,
        succeeded=ok,
        status_code=answer.status_code,
        error=answer.error,
        delivery_status=status,
        endpoint_disabled=disabled,
    )


def _move_delivery(
    uow: UnitOfWork, job: Job, answer: HttpAnswer, *, ok: bool, now: datetime
) -> str:
    """The delivery after the attempt; returns its status."""
    conn = uow.connection
    last = {"last_status_code": answer.status_code, "last_error": answer.error, "updated_at": now}
    where = _D.id == job.delivery_id
    if ok:  # delivered, whatever happened to the delivery meanwhile
        conn.execute(
            update(_D)
            .where(where)
            .values(
                status=DeliveryStatus.SUCCEEDED.value,
                delivered_at=now,
                next_attempt_at=None,
                **last,
            )
        )
    elif job.trigger is Trigger.SCHEDULE:
        delay = signing.retry_delay(_scheduled_attempts(uow, job.delivery_id))
        conn.execute(
            update(_D)
            .where(where, _D.status == DeliveryStatus.PENDING.value)
            .values(
                status=(DeliveryStatus.PENDING if delay else DeliveryStatus.FAILED).value,
                next_attempt_at=now + delay if delay else None,
                **last,
            )
        )
    else:  # a failed replay: the status stays; a pending delivery keeps its schedule
        conn.execute(update(_D).where(where).values(**last))
        conn.execute(
            update(_D)
            .where(where, _D.status != DeliveryStatus.PENDING.value)
            .values(next_attempt_at=None)
        )
    return str(conn.scalar(select(_D.status).where(where)))


def _scheduled_attempts(uow: UnitOfWork, delivery_id: uuid.UUID) -> int:
    """How many attempts the schedule has made (this one included): where the schedule is."""
    return int(
        uow.connection.scalar(
            select(func.count())
            .select_from(WebhookAttempt)
            .where(
                WebhookAttempt.delivery_id == delivery_id,
                WebhookAttempt.trigger == Trigger.SCHEDULE.value,
            )
        )
        or 0
    )


def _keep_failure_state(
    uow: UnitOfWork,
    subscription_id: uuid.UUID,
    *,
    ok: bool,
    now: datetime,
    disable_after: timedelta,
) -> bool:
    """A success clears the endpoint's failure state; a failure counts, and disables the
    endpoint once every attempt has failed for `disable_after`. True when it disabled it."""
    if ok:
        uow.connection.execute(
            update(_S)
            .where(
                _S.id == subscription_id,
                (_S.consecutive_failures > 0) | _S.failing_since.is_not(None),
            )
            .values(consecutive_failures=0, failing_since=None)
        )
        return False
    sub = uow.session.scalars(select(_S).where(_S.id == subscription_id).with_for_update()).one()
    if sub.status != SubscriptionStatus.ENABLED:
        return False  # failures after disabling do not count against the next enabling
    # Under the row lock, so concurrent failures each count.
    sub.consecutive_failures += 1
    if sub.failing_since is None:
        sub.failing_since = now
    if not due_for_disabling(sub.failing_since, now=now, after=disable_after):
        return False
    reason = disabled_reason(sub.failing_since, disable_after)
    cancelled = disable(uow, sub, reason=reason, now=now)
    audit.record(
        uow,
        action="webhook.disabled",
        actor=None,
        subject_type="webhook",
        subject_id=str(sub.id),
        details={
            "url": sub.url,
            "reason": reason,
            "consecutive_failures": sub.consecutive_failures,
            "cancelled_deliveries": cancelled,
        },
    )
    return True

"""Endpoints disabled after failing too long, recovered, and deliveries replayed (SQLite
and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from omnitill.adapters.db.models import AuditEntry
from omnitill.adapters.db.types import utcnow
from omnitill.domain.integrations.webhooks import RETRY_DELAYS
from omnitill.services import webhook_log, webhooks
from tests.integration.webhook_support import (
    admin_actor,
    attempts,
    deliveries,
    dispatch,
    emit,
    endpoint,
    subscribe,
    tuned,
)

admin = pytest.fixture(name="admin")(admin_actor)
receiver = pytest.fixture(name="receiver")(endpoint)


def test_an_endpoint_failing_for_the_limit_is_disabled_and_can_be_recovered(
    db, settings, admin, receiver
):
    settings = tuned(settings, webhook_disable_after_hours=1)
    sub = subscribe(db, admin, receiver)
    emit(db)
    receiver.fail_next = 1000
    t0 = utcnow()
    dispatch(db, settings, t0)
    dispatch(db, settings, t0 + RETRY_DELAYS[0])  # 5 s in: still enabled
    assert webhooks.get(db=db, actor=admin, webhook_id=sub.id).status == "enabled"
    emit(db)  # a second event, pending behind the first
    late = t0 + timedelta(hours=1, seconds=1)
    report = dispatch(db, settings, late)

    assert report.endpoints_disabled == 1
    view = webhooks.get(db=db, actor=admin, webhook_id=sub.id)
    assert view.status == "disabled"
    assert "every attempt failed for 1 hours" in (view.disabled_reason or "")
    assert {d.status for d in deliveries(db)} == {"cancelled"}
    with db.uow(write=False) as uow:
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "webhook.disabled")
        ).one()
    assert entry.subject_id == str(sub.id)
    assert entry.actor is None
    sent = len(receiver.received)
    emit(db)  # disabled: no delivery is created, nothing is sent
    assert dispatch(db, settings, late + timedelta(hours=1)).attempts == 0
    assert len(deliveries(db)) == 2
    assert len(receiver.received) == sent

    # the merchant fixes the endpoint, enables it and recovers what was missed
    receiver.fail_next = 0
    enabled = webhooks.update_subscription(
        db=db,
        actor=admin,
        webhook_id=sub.id,
        changes=webhooks.WebhookChanges(status="enabled"),
    )
    assert (enabled.failing_since, enabled.consecutive_failures, enabled.disabled_reason) == (
        None,
        0,
        None,
    )
    queued = webhook_log.recover(
        db=db, actor=admin, webhook_id=sub.id, since=t0 - timedelta(minutes=1)
    )
    assert queued == 2
    assert dispatch(db, settings, utcnow()).succeeded == 2
    assert {d.status for d in deliveries(db)} == {"succeeded"}
    replays = [a for a in attempts(db) if a.trigger == "replay"]
    assert len(replays) == 2
    assert {a.status_code for a in replays} == {200}
    assert len(receiver.delivered()) == 2
    assert len({r.id for r in receiver.delivered()}) == 2


def test_replay_sends_one_delivery_again_with_the_same_id(db, settings, admin, receiver):
    settings = tuned(settings)
    sub = subscribe(db, admin, receiver)
    emit(db)
    dispatch(db, settings, utcnow())
    [delivery] = deliveries(db)

    view = webhook_log.replay(
        db=db, actor=admin, settings=settings, webhook_id=sub.id, delivery_id=delivery.id
    )

    assert [r.id for r in receiver.received] == [str(delivery.event_id)] * 2
    assert [(a.attempt, a.trigger, a.status_code) for a in view.attempt_log] == [
        (1, "schedule", 200),
        (2, "replay", 200),
    ]
    assert view.status == "succeeded"
    assert view.payload is not None
    assert view.payload["id"] == str(delivery.event_id)
    # a failed replay leaves a delivered delivery delivered
    receiver.fail_next = 1
    again = webhook_log.replay(
        db=db, actor=admin, settings=settings, webhook_id=sub.id, delivery_id=delivery.id
    )
    assert again.status == "succeeded"
    assert again.attempt_log[-1].status_code == 503
    assert again.attempt_log[-1].trigger == "replay"

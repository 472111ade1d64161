"""The webhook dispatcher against a real local endpoint, on SQLite and PostgreSQL: signed
delivery, retries driven by `now`, the give-up, what counts as a failure, private
addresses, and which events each subscription receives."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from omnitill.adapters.db.models import (
    EventCursor,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from omnitill.adapters.db.types import utcnow
from omnitill.domain.integrations.webhooks import RETRY_DELAYS
from omnitill.services import event_relay
from tests.integration.webhook_receiver import receiving
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


def test_an_event_reaches_its_endpoint_signed_by_the_published_scheme(
    db, settings, admin, receiver
):
    settings = tuned(settings)
    sub = subscribe(db, admin, receiver)
    event_id = emit(db, "sale.completed", receipt_number="S01-R1-000001", total=1999)

    report = dispatch(db, settings, utcnow())

    assert (report.events, report.deliveries, report.attempts, report.succeeded) == (1, 1, 1, 1)
    [got] = receiver.received
    assert got.signature_ok
    assert got.answered == 200
    assert got.id == str(event_id)
    assert got.headers["content-type"] == "application/json"
    assert got.json["type"] == "sale.completed"
    assert got.json["data"] == {"receipt_number": "S01-R1-000001", "total": 1999}
    assert got.json["locations"] == ["S01"]
    [delivery] = deliveries(db)
    assert (delivery.status, delivery.attempts, delivery.subscription_id) == (
        "succeeded",
        1,
        sub.id,
    )
    assert delivery.delivered_at is not None
    assert delivery.next_attempt_at is None
    [attempt] = attempts(db)
    assert (attempt.trigger, attempt.status_code, attempt.error) == ("schedule", 200, None)
    assert attempt.response_excerpt == '{"ok": true}'
    with db.uow(write=False) as uow:
        cursor = uow.session.get(EventCursor, "webhooks")
    assert cursor is not None
    assert cursor.last_seq == event_relay.last_seq(db)
    # the event is considered once: another pass creates and sends nothing
    assert dispatch(db, settings, utcnow()).deliveries == 0
    assert len(receiver.received) == 1


def test_an_endpoint_that_fails_then_recovers_gets_the_event_on_a_later_attempt(
    db, settings, admin, receiver
):
    settings = tuned(settings)
    subscribe(db, admin, receiver)
    emit(db)
    receiver.fail_next = 3
    t0 = utcnow()

    assert dispatch(db, settings, t0).attempts == 1
    assert dispatch(db, settings, t0 + timedelta(seconds=4)).attempts == 0  # not due yet
    [delivery] = deliveries(db)
    assert delivery.status == "pending"
    assert delivery.next_attempt_at == t0 + RETRY_DELAYS[0]
    with db.uow(write=False) as uow:
        failing = uow.session.scalars(select(WebhookSubscription)).one()
    assert failing.failing_since == t0
    assert failing.consecutive_failures == 1

    at = t0
    for delay in RETRY_DELAYS[:3]:
        at += delay
        assert dispatch(db, settings, at).attempts == 1

    assert [r.answered for r in receiver.received] == [503, 503, 503, 200]
    assert len({r.id for r in receiver.received}) == 1  # the same webhook-id every time
    assert len({r.body for r in receiver.received}) == 1  # and the same bytes
    assert all(r.signature_ok for r in receiver.received)
    [delivery] = deliveries(db)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        "succeeded",
        4,
        200,
    )
    assert [(a.attempt, a.status_code) for a in attempts(db)] == [
        (1, 503),
        (2, 503),
        (3, 503),
        (4, 200),
    ]
    assert attempts(db)[0].response_excerpt.startswith("endpoint says no")
    assert len(attempts(db)[0].response_excerpt) == 500  # the first 500 characters
    with db.uow(write=False) as uow:
        recovered = uow.session.scalars(select(WebhookSubscription)).one()
    assert recovered.failing_since is None
    assert recovered.consecutive_failures == 0
    # delivered: later passes send it no more
    assert dispatch(db, settings, at + timedelta(days=3)).attempts == 0
    assert len(receiver.delivered()) == 1


def test_a_delivery_that_keeps_failing_is_given_up_after_the_schedule(
    db, settings, admin, receiver
):
    settings = tuned(settings, webhook_disable_after_hours=1000)
    subscribe(db, admin, receiver)
    emit(db)
    receiver.fail_next = 1000
    at = t0 = utcnow()
    dispatch(db, settings, at)
    for delay in RETRY_DELAYS:
        at += delay
        assert dispatch(db, settings, at).attempts == 1

    [delivery] = deliveries(db)
    assert delivery.status == "failed"
    assert delivery.next_attempt_at is None
    assert delivery.attempts == len(RETRY_DELAYS) + 1
    assert at - t0 >= timedelta(hours=24)  # retried for more than a day
    assert dispatch(db, settings, at + timedelta(days=30)).attempts == 0
    assert {r.id for r in receiver.received} == {str(delivery.event_id)}


def test_timeouts_refused_connections_and_redirects_are_failures(db, settings, admin):
    settings = tuned(settings, webhook_timeout_seconds=0.3)
    with receiving() as slow, receiving() as moved, receiving() as gone:
        slow.delay = 2.0
        moved.ok_status = 302
        subscribe(db, admin, slow)
        subscribe(db, admin, moved)
        subscribe(db, admin, gone)
        gone.close()  # nothing listens on its port any more
        emit(db)
        t0 = utcnow()
        report = dispatch(db, settings, t0)
    assert (report.attempts, report.succeeded) == (3, 0)
    by_url = {}
    with db.uow(write=False) as uow:
        for sub_url, attempt in uow.session.execute(
            select(WebhookSubscription.url, WebhookAttempt)
            .join(WebhookDelivery, WebhookDelivery.subscription_id == WebhookSubscription.id)
            .join(WebhookAttempt, WebhookAttempt.delivery_id == WebhookDelivery.id)
        ).all():
            by_url[sub_url] = attempt
    assert by_url[slow.url].status_code is None
    assert by_url[slow.url].error == "timed out"
    assert by_url[moved.url].status_code == 302  # not followed
    assert by_url[gone.url].status_code is None
    assert "refused" in by_url[gone.url].error.lower()
    assert all(d.status == "pending" for d in deliveries(db))
    assert all(d.next_attempt_at == t0 + RETRY_DELAYS[0] for d in deliveries(db))


def test_a_hub_that_refuses_private_addresses_does_not_connect_to_one(
    db, settings, admin, receiver
):
    """A subscription made while private addresses were allowed (or a host that now
    resolves to one) is refused at send time, before connecting."""
    subscribe(db, admin, receiver)
    emit(db)
    report = dispatch(db, tuned(settings, webhook_allow_private_urls=False), utcnow())
    assert (report.attempts, report.succeeded) == (1, 0)
    assert receiver.received == []
    [attempt] = attempts(db)
    assert attempt.error == "refused: private address 127.0.0.1"
    assert attempt.status_code is None


def test_subscriptions_receive_only_their_event_types(db, settings, admin):
    settings = tuned(settings)
    with receiving() as sales, receiving() as stock, receiving() as everything:
        subscribe(db, admin, sales, ["sale.completed"])
        subscribe(db, admin, stock, ["reservation.*"])
        subscribe(db, admin, everything)
        emit(db, "sale.completed")
        emit(db, "reservation.created")
        emit(db, "purchase_order.sent")
        dispatch(db, settings, utcnow())
        with receiving() as latecomer:  # subscribed after the events: receives none of them
            subscribe(db, admin, latecomer)
            dispatch(db, settings, utcnow())
            assert latecomer.received == []
    assert [r.json["type"] for r in sales.received] == ["sale.completed"]
    assert [r.json["type"] for r in stock.received] == ["reservation.created"]
    assert sorted(r.json["type"] for r in everything.received) == [
        "purchase_order.sent",
        "reservation.created",
        "sale.completed",
    ]

"""Fixtures and helpers the webhook integration tests share: an admin, a real receiving
endpoint, events committed and published as a sale would, the log read back, and threads
released together."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime

from sqlalchemy import select

from omnitill.adapters.db.models import WebhookAttempt, WebhookDelivery
from omnitill.config import Settings
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Role
from omnitill.services import auth, event_relay, events, webhook_delivery, webhooks
from omnitill.services.database import Database
from tests.factories import PASSWORD
from tests.integration.webhook_receiver import Receiver, receiving


def admin_actor(db: Database) -> Actor:
    """An admin (fixture `admin` in the test modules)."""
    user = auth.create_user(db=db, username="hookadmin", password=PASSWORD, role="admin")
    return Actor(user.id, "hookadmin", Role.ADMIN, None)


def endpoint() -> Iterator[Receiver]:
    """A receiving endpoint, closed after the test (fixture `receiver`)."""
    with receiving() as r:
        yield r


def tuned(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update={"webhook_dispatch_seconds": 0, **changes})


def subscribe(
    db: Database, admin: Actor, receiver: Receiver, types: list[str] | None = None
) -> webhooks.WebhookView:
    view = webhooks.create(db=db, actor=admin, url=receiver.url, event_types=types or [])
    assert view.secret
    assert view.secret.startswith("whsec_")
    receiver.secret = view.secret
    return view


def emit(db: Database, topic: str = "sale.completed", **payload: object) -> uuid.UUID:
    """Commit an event and publish it, as a sale would; returns the event id."""
    with db.uow() as uow:
        events.emit(
            uow,
            topic=topic,
            aggregate_type=topic.split(".")[0],
            aggregate_id=str(uuid.uuid4()),
            payload=dict(payload),
            locations=["S01"],
        )
        uow.commit()
    event_relay.publish_pending(db)
    return event_relay.read_after(db, after=event_relay.last_seq(db) - 1)[0].id


def deliveries(db: Database) -> list[WebhookDelivery]:
    with db.uow(write=False) as uow:
        return list(uow.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def attempts(db: Database) -> list[WebhookAttempt]:
    with db.uow(write=False) as uow:
        return list(
            uow.session.scalars(
                select(WebhookAttempt).order_by(WebhookAttempt.delivery_id, WebhookAttempt.attempt)
            )
        )


def race(threads: int, work: Callable[[], object]) -> list[BaseException]:
    """Run `work` in `threads` threads released at the same instant; what they raised."""
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            work()
        except BaseException as exc:
            errors.append(exc)

    started = [threading.Thread(target=run) for _ in range(threads)]
    for t in started:
        t.start()
    for t in started:
        t.join(timeout=120)
    return errors


def dispatch(db: Database, settings: Settings, now: datetime) -> webhook_delivery.DispatchReport:
    return webhook_delivery.dispatch_once(db=db, settings=settings, now=now)

"""Customer notifications: which senders this process uses, and sending with a record.

`send` hands one rendered message to its sender and records the outcome in `notifications`
(status ``sent`` with the provider's reference, or ``failed`` with the error), in a unit of
work of its own, with a ``notification.sent`` / ``notification.failed`` event. A failed send
is recorded and answered, never raised: the business change that asked for the message (an
order made ready for pickup) has already committed, and the caller decides whether to retry,
fall back to SMS or show staff. Call it after that change commits, never inside its unit of
work: a mail server that takes ten seconds must not hold the order's locks.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import Notification, Order
from omnitill.adapters.db.types import utcnow
from omnitill.config import Settings
from omnitill.domain.errors import NotFound
from omnitill.domain.ids import uuid7
from omnitill.domain.integrations.notifications import (
    DeliveryFailed,
    EmailSender,
    InvalidMessage,
    Medium,
    Message,
    NotConfigured,
    NotificationError,
    Sender,
    SmsMessage,
    SmsSender,
)
from omnitill.services import events

log = logging.getLogger("omnitill.notifications")
SMS_SANDBOX_FILE = "sms_sandbox.jsonl"
_M = TypeVar("_M", Message, SmsMessage)


@dataclass(frozen=True, slots=True)
class NotificationView:
    id: uuid.UUID
    order_id: uuid.UUID | None
    medium: str
    template: str
    recipient: str
    status: str  # sent | failed
    provider_reference: str | None
    error_code: str | None
    error: str | None
    created_at: datetime

    @property
    def sent(self) -> bool:
        return self.status == "sent"


def email_sender_for(settings: Settings) -> EmailSender | None:
    """SMTP when `OMNITILL_SMTP_HOST` is set; None (email is not sent) otherwise."""
    if not settings.smtp_host:
        return None
    from omnitill.adapters.notifications.smtp import SmtpEmailSender

    return SmtpEmailSender(
        settings.smtp_host,
        settings.smtp_port,
        from_address=settings.smtp_from,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        timeout_seconds=settings.smtp_timeout_seconds,
    )


def sms_sandbox_path(settings: Settings) -> Path:
    """The SMS sandbox's record of texts: in data_dir, else the working directory."""
    directory = settings.data_dir if settings.data_dir is not None else Path.cwd()
    return (directory / SMS_SANDBOX_FILE).resolve()


def sms_sender_for(settings: Settings) -> SmsSender:
    """The configured SMS provider (`OMNITILL_SMS_PROVIDER`; the sandbox is the only one)."""
    from omnitill.adapters.notifications.sms_sandbox import SandboxSmsSender

    return SandboxSmsSender(sms_sandbox_path(settings))


def send(
    db: Database,
    *,
    order_id: uuid.UUID | None,
    template: str,
    message: _M,
    sender: Sender[_M] | None,
    medium: str | None = None,
    recipient: str | None = None,
) -> NotificationView:
    """Send one message and record the outcome; a failed send is recorded, never raised.

    `medium` and `recipient` default to the message's own (email for a `Message`); given,
    they must agree with it (422 `notification.invalid_message`). An `order_id` that names
    no order is 404 `order.not_found` before anything is sent. `sender` None (no provider
    configured) records a failure `notification.not_configured`.
    """
    actual = Medium.EMAIL if isinstance(message, Message) else Medium.SMS
    if (medium is not None and medium != actual) or (
        recipient is not None and recipient != message.to
    ):
        raise InvalidMessage(
            "the medium and recipient must be those of the message",
            {"medium": medium, "message_medium": actual.value},
        )
    if order_id is not None:
        with db.uow(write=False) as uow:
            if uow.session.scalar(select(Order.id).where(Order.id == order_id)) is None:
                raise NotFound("order.not_found", "no such order", {"id": str(order_id)})
    reference, error = _deliver(message, sender, actual)
    row = Notification(
        id=uuid7(),
        order_id=order_id,
        medium=actual.value,
        template=template[:40],
        recipient=message.to[:254],
        status="failed" if error else "sent",
        provider_reference=None if reference is None else reference[:200],
        error=None if error is None else f"{error.code}: {error.message}"[:500],
        created_at=utcnow(),
    )
    with db.uow() as uow:
        uow.session.add(row)
        events.emit(
            uow,
            topic=f"notification.{row.status}",
            aggregate_type="order" if order_id is not None else "notification",
            aggregate_id=str(order_id or row.id),
            payload={
                "id": str(row.id),
                "order_id": None if order_id is None else str(order_id),
                "medium": row.medium,
                "template": row.template,
                "status": row.status,
                "error_code": None if error is None else error.code,
            },
        )
        uow.commit()
    return view(row)


def list_for_order(db: Database, *, order_id: uuid.UUID) -> list[NotificationView]:
    """The notifications of an order, oldest first."""
    with db.uow(write=False) as uow:
        rows = uow.session.scalars(
            select(Notification)
            .where(Notification.order_id == order_id)
            .order_by(Notification.created_at, Notification.id)
        ).all()
    return [view(r) for r in rows]


def view(row: Notification) -> NotificationView:
    code, _, text = (row.error or "").partition(": ")
    return NotificationView(
        id=row.id,
        order_id=row.order_id,
        medium=row.medium,
        template=row.template,
        recipient=row.recipient,
        status=row.status,
        provider_reference=row.provider_reference,
        error_code=code or None,
        error=text or None,
        created_at=row.created_at,
    )


def _deliver(
    message: _M, sender: Sender[_M] | None, medium: Medium
) -> tuple[str | None, NotificationError | None]:
    """The provider's reference, or the error that stopped the message."""
    if sender is None:
        return None, NotConfigured(f"no {medium.value} provider is configured")
    try:
        return sender.send(message), None
    except NotificationError as exc:
        return None, exc
    except Exception as exc:
        # A sender's bug must not reach the caller, whose business change has committed.
        log.exception("notification sender failed unexpectedly")
        return None, DeliveryFailed(f"{type(exc).__name__}: {exc}")

"""Sending a notification records it, sent or failed, and never raises a failed send; the SMS
sandbox checks numbers and keeps every text. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import date

import pytest
from sqlalchemy import select

from omnitill.adapters.db.models import Notification, Order, OutboxEvent
from omnitill.adapters.db.types import utcnow
from omnitill.adapters.notifications.render import render, render_sms
from omnitill.adapters.notifications.sms_sandbox import (
    UNDELIVERABLE_NUMBER,
    SandboxSmsSender,
)
from omnitill.domain.errors import NotFound
from omnitill.domain.ids import uuid7
from omnitill.domain.integrations.notifications import (
    DeliveryFailed,
    InvalidMessage,
    InvalidRecipient,
    Message,
    PickupReminder,
    RecipientRefused,
    SmsMessage,
)
from omnitill.services import notifications
from omnitill.services.notifications import sms_sender_for

REMINDER = PickupReminder(
    100123,
    "Ada",
    "Main Street",
    "1 Main St\nSpringfield",
    date(2025, 6, 14),
    "https://shop.example/pickup/tok",
)


def make_order(db, number: int = 100123) -> uuid.UUID:
    """A placed web order, as bare as the schema allows (notifications only need its id)."""
    order_id = uuid7()
    with db.uow() as uow:
        uow.session.add(
            Order(
                id=order_id,
                number=number,
                channel="web",
                status="placed",
                currency="USD",
                subtotal_minor=1000,
                discount_total_minor=0,
                tax_total_minor=0,
                total_minor=1000,
                pricing={},
                request_hash="0" * 64,
                placed_at=utcnow(),
            )
        )
        uow.commit()
    return order_id


class FakeEmail:
    """An email provider that answers a reference, or fails as told."""

    def __init__(self, error: Exception | None = None) -> None:
        self.sent: list[Message] = []
        self.error = error

    def send(self, message: Message) -> str:
        if self.error is not None:
            raise self.error
        self.sent.append(message)
        return f"<{len(self.sent)}@provider.example>"


def rows(db) -> list[Notification]:
    with db.uow(write=False) as uow:
        return list(uow.session.scalars(select(Notification).order_by(Notification.id)))


def topics(db) -> list[str]:
    with db.uow(write=False) as uow:
        return list(
            uow.session.scalars(
                select(OutboxEvent.topic)
                .where(OutboxEvent.topic.like("notification.%"))
                .order_by(OutboxEvent.id)
            )
        )


def test_a_sent_email_is_recorded_with_the_providers_reference(db):
    order_id = make_order(db)
    provider = FakeEmail()
    message = render("pickup_reminder", REMINDER, to="ada@example.com")
    sent = notifications.send(
        db,
        order_id=order_id,
        medium="email",
        template="pickup_reminder",
        recipient="ada@example.com",
        message=message,
        sender=provider,
    )
    assert provider.sent == [message]
    assert sent.sent
    assert (sent.status, sent.provider_reference, sent.error_code) == (
        "sent",
        "<1@provider.example>",
        None,
    )
    (row,) = rows(db)
    assert (row.id, row.order_id, row.medium, row.template) == (
        sent.id,
        order_id,
        "email",
        "pickup_reminder",
    )
    assert (row.recipient, row.status, row.error) == ("ada@example.com", "sent", None)
    assert notifications.list_for_order(db, order_id=order_id) == [sent]
    assert topics(db) == ["notification.sent"]


def test_a_failed_send_is_recorded_and_answered_never_raised(db):
    order_id = make_order(db)
    refused = FakeEmail(RecipientRefused("the mail server refused x: 550 no such mailbox"))
    failed = notifications.send(
        db,
        order_id=order_id,
        template="pickup_reminder",
        message=render("pickup_reminder", REMINDER, to="gone@example.com"),
        sender=refused,
    )
    assert not failed.sent
    assert (failed.status, failed.provider_reference) == ("failed", None)
    assert failed.error_code == "notification.recipient_refused"
    assert failed.error is not None
    assert "550" in failed.error
    (row,) = rows(db)
    assert row.status == "failed"
    assert row.error == "notification.recipient_refused: " + failed.error
    assert topics(db) == ["notification.failed"]


def test_no_provider_and_a_provider_bug_are_recorded_failures_too(db):
    message = render("pickup_reminder", REMINDER, to="ada@example.com")
    unconfigured = notifications.send(
        db, order_id=None, template="pickup_reminder", message=message, sender=None
    )
    assert (unconfigured.status, unconfigured.error_code) == (
        "failed",
        "notification.not_configured",
    )
    broken = notifications.send(
        db,
        order_id=None,
        template="pickup_reminder",
        message=message,
        sender=FakeEmail(RuntimeError("boom")),
    )
    assert broken.error_code == "notification.delivery_failed"
    assert broken.error == "RuntimeError: boom"
    assert [r.status for r in rows(db)] == ["failed", "failed"]


def test_an_unknown_order_is_refused_before_anything_is_sent(db):
    provider = FakeEmail()
    with pytest.raises(NotFound) as caught:
        notifications.send(
            db,
            order_id=uuid7(),
            template="pickup_reminder",
            message=render("pickup_reminder", REMINDER, to="ada@example.com"),
            sender=provider,
        )
    assert caught.value.code == "order.not_found"
    assert provider.sent == []
    assert rows(db) == []
    assert topics(db) == []


def test_a_medium_or_recipient_other_than_the_messages_is_refused(db):
    message = render("pickup_reminder", REMINDER, to="ada@example.com")
    for wrong in ({"medium": "sms"}, {"recipient": "eve@example.com"}):
        with pytest.raises(InvalidMessage):
            notifications.send(
                db,
                order_id=None,
                template="pickup_reminder",
                message=message,
                sender=FakeEmail(),
                **wrong,
            )
    assert rows(db) == []


def test_texts_are_sent_through_the_sandbox_and_recorded_both_ways(db, settings):
    order_id = make_order(db)
    sms = sms_sender_for(settings)
    assert isinstance(sms, SandboxSmsSender)
    assert sms.path == settings.data_dir / "sms_sandbox.jsonl"

    text = render_sms("pickup_reminder", REMINDER, to="+14155550123")
    sent = notifications.send(
        db, order_id=order_id, template="pickup_reminder", message=text, sender=sms
    )
    assert (sent.medium, sent.status, sent.recipient) == ("sms", "sent", "+14155550123")
    assert sent.provider_reference is not None
    assert sent.provider_reference.startswith("SM")

    failing = SmsMessage(to=UNDELIVERABLE_NUMBER, body=text.body)
    failed = notifications.send(
        db, order_id=order_id, template="pickup_reminder", message=failing, sender=sms
    )
    assert (failed.status, failed.error_code) == ("failed", "notification.delivery_failed")

    recorded = sms.messages()
    assert [(m["to"], m["status"]) for m in recorded] == [
        ("+14155550123", "delivered"),
        (UNDELIVERABLE_NUMBER, "failed"),
    ]
    assert recorded[0]["id"] == sent.provider_reference
    assert recorded[0]["body"] == text.body
    assert [v.status for v in notifications.list_for_order(db, order_id=order_id)] == [
        "sent",
        "failed",
    ]


def test_the_sms_sandbox_refuses_numbers_that_are_not_valid_e164(tmp_path):
    sms = SandboxSmsSender(tmp_path / "texts" / "sms.jsonl")
    for number in ("+15555550100", "+44770090012", "+999123456789"):  # no such numbers
        with pytest.raises(InvalidRecipient) as caught:
            sms.send(SmsMessage(to=number, body="Hello"))
        assert "E.164" in caught.value.message
        assert caught.value.status == 422
    assert sms.messages() == []
    reference = sms.send(SmsMessage(to="+447911123456", body="Hi"))
    with pytest.raises(DeliveryFailed):
        sms.send(SmsMessage(to=UNDELIVERABLE_NUMBER, body="Hi"))
    lines = (tmp_path / "texts" / "sms.jsonl").read_text().splitlines()
    assert [json.loads(line)["status"] for line in lines] == ["delivered", "failed"]
    assert json.loads(lines[0])["id"] == reference

"""Customer notifications: what an email or a text message is, who sends it, what each says.

A `Message` is an email: a text part, an optional HTML part, and attachments, of which those
with a `content_id` are shown inline in the HTML (``<img src="cid:...">``). An `SmsMessage`
is a text to an E.164 number. An `EmailSender` or `SmsSender` sends one and answers the
provider's reference (a Message-ID, a message id); a failure is a `NotificationError` with a
stable ``notification.*`` code. Each template (`Template`) is filled from a plain context
dataclass below; rendering (Jinja2) lives in adapters/notifications, sending and recording in
services/notifications. Pure: no I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar, Protocol, TypeVar

from omnitill.domain.customers.contacts import is_plausible_email
from omnitill.domain.errors import (
    DomainError,
    FieldError,
    OutcomeUnknown,
    Unavailable,
    ValidationFailed,
)

SMS_MAX_CHARS = 1600  # ten concatenated segments, the most providers accept
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_CONTENT_TYPE = re.compile(r"[a-z0-9.+-]+/[a-z0-9.+-]+")


class Medium(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class Template(StrEnum):
    ORDER_CONFIRMATION = "order_confirmation"
    READY_FOR_PICKUP = "ready_for_pickup"
    PICKUP_REMINDER = "pickup_reminder"
    PICKUP_CANCELLED = "pickup_cancelled"
    SHIPPED = "shipped"


# --- errors ---------------------------------------------------------------------------------


class NotificationError(DomainError):
    """A message could not be built or sent. Each subclass has one stable `CODE`; the HTTP
    status comes from the second base."""

    CODE: ClassVar[str] = "notification.error"

    def __init__(
        self,
        message: str,
        details: Mapping[str, Any] | None = None,
        *,
        errors: Sequence[FieldError] = (),
    ) -> None:
        super().__init__(self.CODE, message, details, errors=errors)


class InvalidRecipient(NotificationError, ValidationFailed):
    """Not an email address, or not a valid E.164 phone number."""

    CODE = "notification.invalid_recipient"


class InvalidMessage(NotificationError, ValidationFailed):
    """A message that cannot be sent as built (a subject with a line break, an empty or
    overlong text, an inline image without HTML, a template without its context)."""

    CODE = "notification.invalid_message"


class RecipientRefused(NotificationError, ValidationFailed):
    """The provider refused the recipient (no such mailbox, a number that cannot take SMS)."""

    CODE = "notification.recipient_refused"


class DeliveryFailed(NotificationError, Unavailable):
    """The provider could not be reached or refused the message."""

    CODE = "notification.delivery_failed"


class NotificationTimeout(NotificationError, OutcomeUnknown):
    """The provider did not answer in time; the message may or may not have gone."""

    CODE = "notification.timeout"


class NotConfigured(NotificationError, Unavailable):
    """No provider is configured for this medium (no SMTP server)."""

    CODE = "notification.not_configured"


# --- messages -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with an email; with a `content_id` it is shown inline in the HTML part."""

    filename: str
    content_type: str  # "image/png"
    content: bytes = field(repr=False)
    content_id: str | None = None

    def __post_init__(self) -> None:
        headers = (self.filename, self.content_id or "")
        if not _CONTENT_TYPE.fullmatch(self.content_type) or any(_breaks(h) for h in headers):
            raise InvalidMessage(
                "an attachment needs a type/subtype and a name and Content-ID on one line",
                {"filename": self.filename, "content_type": self.content_type},
            )


@dataclass(frozen=True, slots=True)
class Message:
    """An email to one address: text, optional HTML, attachments."""

    to: str
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()

    def __post_init__(self) -> None:
        if not is_plausible_email(self.to):
            raise InvalidRecipient(
                f"{self.to!r} is not an email address",
                errors=[FieldError("to", InvalidRecipient.CODE, "not an email address")],
            )
        if not self.subject.strip() or _breaks(self.subject):
            raise InvalidMessage("a subject is one non-empty line", {"subject": self.subject})
        if self.html is None and any(a.content_id for a in self.attachments):
            raise InvalidMessage("inline attachments need an HTML part to show them in")

    @property
    def inline(self) -> tuple[Attachment, ...]:
        return tuple(a for a in self.attachments if a.content_id)


@dataclass(frozen=True, slots=True)
class SmsMessage:
    """A text message to one E.164 number (``+14155550123``)."""

    to: str
    body: str

    def __post_init__(self) -> None:
        if not E164.fullmatch(self.to):
            raise InvalidRecipient(
                f"{self.to!r} is not an E.164 phone number (+, country code, number: +14155550123)",
                errors=[FieldError("to", InvalidRecipient.CODE, "not an E.164 number")],
            )
        if not self.body.strip() or len(self.body) > SMS_MAX_CHARS:
            raise InvalidMessage(
                f"a text message has 1 to {SMS_MAX_CHARS} characters",
                {"length": len(self.body)},
            )


_M = TypeVar("_M", contravariant=True)


class Sender(Protocol[_M]):
    def send(self, message: _M) -> str:
        """Send one message; answer the provider's reference for it."""
        ...


class EmailSender(Sender[Message], Protocol):
    """Sends an email; the reference is its Message-ID."""


class SmsSender(Sender[SmsMessage], Protocol):
    """Sends a text; the reference is the provider's message id."""


# --- what each template says: its context ------------------------------------------------------

Items = tuple[tuple[str, int], ...]  # (name, quantity) per line, as ordered


@dataclass(frozen=True, slots=True)
class OrderConfirmation:
    """The order was placed. `total` is in minor units of `currency`; `fulfillment` says how
    it reaches the customer ("Pick up at Main Street", "Delivery to 1 Main St, Springfield")."""

    order_number: int
    customer_name: str
    items: Items
    total: int
    currency: str
    fulfillment: str
    order_url: str | None = None

    def __post_init__(self) -> None:
        _freeze_items(self)


@dataclass(frozen=True, slots=True)
class ReadyForPickup:
    """The order waits at the store until `hold_until` (the store's local date). The QR code
    of `pickup_qr_payload` is shown at the counter; `arrival_url` (curbside only) is the
    "I'm here" link."""

    order_number: int
    customer_name: str
    store_name: str
    store_address: str  # lines separated by "\n"
    items: Items
    hold_until: date
    pickup_url: str
    pickup_qr_payload: str
    arrival_url: str | None = None
    store_hours: str = ""
    store_phone: str = ""

    def __post_init__(self) -> None:
        _freeze_items(self)

    @property
    def curbside(self) -> bool:
        return self.arrival_url is not None


@dataclass(frozen=True, slots=True)
class PickupReminder:
    """The order is still waiting; it is released after `hold_until`."""

    order_number: int
    customer_name: str
    store_name: str
    store_address: str
    hold_until: date
    pickup_url: str
    store_hours: str = ""


@dataclass(frozen=True, slots=True)
class PickupCancelled:
    """The pickup was cancelled (`reason`); `refund_note` says what happens to the money."""

    order_number: int
    customer_name: str
    store_name: str
    reason: str = "it was not collected in time"
    refund_note: str = ""


@dataclass(frozen=True, slots=True)
class Shipped:
    """The parcel left with the carrier."""

    order_number: int
    customer_name: str
    carrier: str
    service: str
    tracking_number: str
    tracking_url: str
    items: Items = ()
    estimated_delivery: date | None = None

    def __post_init__(self) -> None:
        _freeze_items(self)


Context = OrderConfirmation | ReadyForPickup | PickupReminder | PickupCancelled | Shipped

CONTEXTS: dict[Template, type[Context]] = {
    Template.ORDER_CONFIRMATION: OrderConfirmation,
    Template.READY_FOR_PICKUP: ReadyForPickup,
    Template.PICKUP_REMINDER: PickupReminder,
    Template.PICKUP_CANCELLED: PickupCancelled,
    Template.SHIPPED: Shipped,
}


def template_of(name: str, context: object) -> Template:
    """The template `name` if it exists and `context` is its context, else
    `notification.invalid_message`."""
    try:
        template = Template(name)
    except ValueError:
        raise InvalidMessage(
            f"no template {name!r}", {"templates": [t.value for t in Template]}
        ) from None
    expected = CONTEXTS[template]
    if not isinstance(context, expected):
        raise InvalidMessage(
            f"{name} is filled from a {expected.__name__}, not a {type(context).__name__}"
        )
    return template


def _freeze_items(context: Any) -> None:
    items = tuple((str(name), int(quantity)) for name, quantity in context.items)
    object.__setattr__(context, "items", items)


def _breaks(text: str) -> bool:
    return "\r" in text or "\n" in text

"""What a webhook subscription receives, and the states of its deliveries.

A subscription lists event types: exact topics (``sale.completed``) or a family pattern
(``order.*``, every topic that starts with ``order.``, the same prefix rule as the live
event stream's `topics`); an empty list receives every event.
An event type must name a topic omnitill emits: one in `TOPICS`, or one already seen in the
outbox (so a topic added later is accepted once it has happened, even before it is listed
here). Signing and the retry schedule are in `webhooks.py`; this module is pure, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from omnitill.domain.errors import FieldError, ValidationFailed


class SubscriptionStatus(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"  # by hand or automatically; its deliveries wait for nothing
    DELETED = "deleted"  # gone from the API; its delivery log is kept (append-only)


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # an attempt is due at next_attempt_at
    SUCCEEDED = "succeeded"  # an attempt got a 2xx answer
    FAILED = "failed"  # the retry schedule ran out
    CANCELLED = "cancelled"  # the endpoint was disabled or deleted before it succeeded


class Trigger(StrEnum):
    SCHEDULE = "schedule"  # the dispatcher's first attempt and its retries
    REPLAY = "replay"  # asked for by staff (one delivery, or every failed one since a time)


# The topics omnitill emits today and those the orders work announces. A topic missing here
# is still accepted once the outbox has seen it (see the module docstring).
TOPICS: tuple[str, ...] = (
    "sale.completed",
    "reservation.created",
    "reservation.released",
    "reservation.fulfilled",
    "reservation.expired",
    "purchase_order.draft",
    "purchase_order.sent",
    "purchase_order.partially_received",
    "purchase_order.received",
    "purchase_order.closed",
    "purchase_order.cancelled",
    "goods_receipt.created",
    "order.placed",
    "order.assigned",
    "order.accepted",
    "order.rejected",
    "order.picking",
    "order.packed",
    "order.ready_for_pickup",
    "order.customer_arrived",
    "order.picked_up",
    "order.pickup_expired",
    "order.shipped",
    "order.delivered",
    "order.updated",
    "order.cancelled",
    "order.completed",
    "order.refunded",
    "order.payment_received",
    "order.paid_in_full",
    "notification.sent",
    "notification.failed",
)
MAX_EVENT_TYPES = 50
EXCERPT_CHARS = 500  # of a response body kept in the delivery log
_TOPIC = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
_FAMILY = re.compile(r"^[a-z][a-z0-9_]*\.\*$")


def family(event_type: str) -> str:
    """``order`` for ``order.placed`` and for the pattern ``order.*``."""
    return event_type.split(".", 1)[0]


def is_pattern(event_type: str) -> bool:
    return event_type.endswith(".*")


def clean_event_types(values: Sequence[str]) -> tuple[str, ...]:
    """The event types stripped, without duplicates, sorted; 422 for malformed ones or too
    many (each named `event_types.<i>`). Whether each is known is `check_known`'s part."""
    errors: list[FieldError] = []
    if len(values) > MAX_EVENT_TYPES:
        errors.append(
            FieldError("event_types", "webhook.too_many_event_types", f"at most {MAX_EVENT_TYPES}")
        )
    for i, raw in enumerate(values):
        value = raw.strip()
        if not (_TOPIC.match(value) or _FAMILY.match(value)):
            errors.append(
                FieldError(
                    f"event_types.{i}",
                    "webhook.invalid_event_type",
                    "a topic such as sale.completed, or a family such as order.*",
                )
            )
    if errors:
        raise ValidationFailed(errors[0].code, "the event types are not valid", errors=errors)
    return tuple(sorted({v.strip() for v in values}))


def check_known(event_types: Sequence[str], *, seen: Collection[str] = ()) -> None:
    """422 `webhook.unknown_event_type` naming every event type that matches no topic of
    `TOPICS` nor of `seen` (topics found in the outbox)."""
    known = set(TOPICS) | set(seen)
    families = {family(t) for t in known}
    unknown = [
        (i, t)
        for i, t in enumerate(event_types)
        if (family(t) not in families if is_pattern(t) else t not in known)
    ]
    if unknown:
        raise ValidationFailed(
            "webhook.unknown_event_type",
            "no such event type: " + ", ".join(t for _, t in unknown),
            {"unknown": [t for _, t in unknown], "known": sorted(known)},
            errors=[
                FieldError(f"event_types.{i}", "webhook.unknown_event_type", f"{t} is not emitted")
                for i, t in unknown
            ],
        )


def is_success(status_code: int | None) -> bool:
    """A 2xx answer delivers; anything else (3xx included: redirects are not followed)
    fails."""
    return status_code is not None and 200 <= status_code < 300


def excerpt(text: str) -> str:
    return text[:EXCERPT_CHARS]


def due_for_disabling(failing_since: datetime | None, *, now: datetime, after: timedelta) -> bool:
    """An endpoint whose every attempt has failed for `after` (since `failing_since`, the
    first failure after its last success) is disabled."""
    return failing_since is not None and now - failing_since >= after


def disabled_reason(failing_since: datetime, after: timedelta) -> str:
    hours = after.total_seconds() / 3600
    return (
        f"every attempt failed for {hours:g} hours "
        f"(since {failing_since:%Y-%m-%d %H:%M} UTC); fix the endpoint, then enable it"
    )

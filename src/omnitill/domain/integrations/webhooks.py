"""Webhook payloads signed per the Standard Webhooks scheme, and when to retry a delivery.

Each delivery carries three headers: `webhook-id` (the event id: the same on every retry, so
a receiver drops duplicates), `webhook-timestamp` (Unix seconds of this attempt) and
`webhook-signature` (``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``, several
space-separated when a secret is being rotated). Secrets are ``whsec_`` and 24 random bytes
in base64; the HMAC key is the decoded bytes. A receiver refuses a timestamp more than five
minutes off its clock (replays). Pure rules, no I/O: the delivery worker lives in services.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import urlsplit

from omnitill.domain.errors import FieldError, Unauthenticated, ValidationFailed

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
TOLERANCE_SECONDS = 5 * 60
# Delays after each failed attempt: about 27.6 hours of retries in all (the orders issue asks
# for at least 24), then the delivery is given up (and the endpoint may be disabled).
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    raw = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a webhook secret is whsec_ and base64") from exc


def sign(secret: str, msg_id: str, timestamp: int, payload: str) -> str:
    """The `webhook-signature` value of one attempt."""
    digest = hmac.new(
        _key(secret), f"{msg_id}.{timestamp}.{payload}".encode(), hashlib.sha256
    ).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, msg_id: str, timestamp: int, payload: str) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, payload),
    }


def verify(secret: str, received: Mapping[str, str], payload: str, *, now: int) -> None:
    """What a receiver does (and what our tests do): 401 `webhook.*` unless the headers are
    present, the timestamp within TOLERANCE_SECONDS of `now`, and one `v1` signature
    matches."""
    lower = {k.lower(): v for k, v in received.items()}
    msg_id, stamp, signatures = (
        lower.get("webhook-id"),
        lower.get("webhook-timestamp"),
        lower.get("webhook-signature"),
    )
    if not msg_id or not stamp or not signatures:
        raise Unauthenticated("webhook.missing_header", "webhook-id, -timestamp, -signature")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise Unauthenticated("webhook.bad_timestamp", "not Unix seconds") from exc
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise Unauthenticated("webhook.timestamp_out_of_tolerance", "too old or too new")
    expected = sign(secret, msg_id, timestamp, payload).split(",", 1)[1]
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return
    raise Unauthenticated("webhook.bad_signature", "no signature matches")


def retry_delay(failed_attempts: int) -> timedelta | None:
    """How long to wait after the n-th failed attempt (1-based); None: give up."""
    if failed_attempts < 1 or failed_attempts > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[failed_attempts - 1]


def check_url(url: str, *, field: str = "url") -> str:
    """An endpoint must be an absolute http(s) URL with a host (422
    `webhook.invalid_url`)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(
            "webhook.invalid_url",
            "a webhook endpoint is an http or https URL",
            {"url": url},
            errors=[FieldError(field, "webhook.invalid_url", "http(s)://host/...")],
        )
    return url.strip()

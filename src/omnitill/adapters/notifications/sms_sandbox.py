"""A sandbox SMS provider: checks numbers like a real one and keeps every text in a file.

A number must be E.164 (``+`` country code and number, no spaces) and valid in its country's
numbering plan (``phonenumbers``); anything else is refused with 422
`notification.invalid_recipient` before a message exists. Each accepted text is appended as
one JSON line (id, to, body, status, created_at) to its file, so a developer, a test or the
demo reads what customers would have received; the answer is the message id (``SM`` + 32
hex, as real providers do).

Test numbers (the convention of a well-known SMS provider's magic numbers):

- ``+15005550009``: not a mobile; the text is recorded ``failed`` and
  `notification.delivery_failed` raised.
- any other valid number: recorded ``delivered``.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import phonenumbers

from omnitill.domain.errors import FieldError
from omnitill.domain.integrations.notifications import DeliveryFailed, InvalidRecipient, SmsMessage

UNDELIVERABLE_NUMBER = "+15005550009"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SandboxSmsSender:
    """Records texts in the JSON-lines file `path` (created with its directory if missing)."""

    name = "sandbox"

    def __init__(self, path: str | Path, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()

    def send(self, message: SmsMessage) -> str:
        check_number(message.to)
        delivered = message.to != UNDELIVERABLE_NUMBER
        record = {
            "id": "SM" + secrets.token_hex(16),
            "to": message.to,
            "body": message.body,
            "status": "delivered" if delivered else "failed",
            "created_at": self._clock().astimezone(UTC).isoformat(),
        }
        self._append(record)
        if not delivered:
            raise DeliveryFailed(
                f"{message.to} cannot receive text messages (not a mobile number)",
                {"to": message.to, "message_id": record["id"]},
            )
        return str(record["id"])

    def messages(self) -> list[dict[str, Any]]:
        """Every text recorded, oldest first."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as lines:
            return [json.loads(line) for line in lines if line.strip()]

    def _append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One write of one line in append mode: lines from several processes never mix.
            with self.path.open("ab") as out:
                out.write(line)


def check_number(number: str) -> str:
    """`number` if it is a valid E.164 phone number, else 422 `notification.invalid_recipient`
    saying what is wrong."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        parsed = None
    e164 = (
        None
        if parsed is None
        else phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    )
    if parsed is None or e164 != number or not phonenumbers.is_valid_number(parsed):
        raise InvalidRecipient(
            f"{number!r} is not a valid phone number in E.164 form (+, country code and "
            "number, no spaces: +14155550123)",
            {"to": number},
            errors=[FieldError("to", InvalidRecipient.CODE, "not a valid E.164 number")],
        )
    return number

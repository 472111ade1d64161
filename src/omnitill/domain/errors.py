"""One error hierarchy for every business rule.

A `DomainError` carries a stable dotted `code` (``inventory.insufficient_stock``), a human
message and structured `details`. The API maps the class to an HTTP status in one place
(`api/errors.py`); nothing else builds business errors by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one input field; `field` is a dotted path such as ``lines.0.sku``."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class DomainError(Exception):
    """A business rule refused the request. Subclasses choose the HTTP status."""

    status = 400
    title = "Request refused"

    def __init__(
        self,
        code: str,
        message: str,
        details: Mapping[str, Any] | None = None,
        *,
        errors: Sequence[FieldError] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: dict[str, Any] = dict(details or {})
        self.errors: tuple[FieldError, ...] = tuple(errors)


class ValidationFailed(DomainError):
    """Input that can never succeed as sent (HTTP 422)."""

    status = 422
    title = "Validation failed"


class NotFound(DomainError):
    """The addressed resource does not exist, or the caller may not know it exists (404)."""

    status = 404
    title = "Not found"


class Conflict(DomainError):
    """The request clashes with the current state (409)."""

    status = 409
    title = "Conflict"


class Unauthenticated(DomainError):
    """No valid credentials (401)."""

    status = 401
    title = "Authentication required"


class PermissionDenied(DomainError):
    """Authenticated, but not allowed (403)."""

    status = 403
    title = "Forbidden"


class TooManyRequests(DomainError):
    """Throttled; `details["retry_after"]` holds the seconds to wait (429)."""

    status = 429
    title = "Too many requests"


class Unavailable(DomainError):
    """A dependency (the database) does not answer (503)."""

    status = 503
    title = "Service unavailable"


class PaymentDeclined(DomainError):
    """The card network declined the payment; the attempt is recorded (402)."""

    status = 402
    title = "Payment declined"


class OutcomeUnknown(DomainError):
    """A dependency (the payment gateway) did not answer in time and the outcome is not
    known yet; nothing is retried blindly (504)."""

    status = 504
    title = "Outcome unknown"

"""The payment gateway contract: what omnitill asks of a card processor and what it keeps.

A gateway authorizes, captures, voids and refunds (full or partial, referenced to the
original payment), and answers "what happened to the request with this idempotency key?".
Every call carries an idempotency key, so a retry after a timeout can never charge twice:
on `GatewayTimeout` the outcome is unknown and the caller asks `lookup(key)` instead of
charging again. `inspect_card` reads a presented card without any payment (to find what it
paid for earlier). Card data reaches the gateway only as `payment_data` the terminal encrypted
for it (or a wallet/saved-card token); omnitill receives a `CardDetails`: token, brand, last
four, expiry, entry mode and fingerprint, never the number.

Implementations live in adapters/payments: the built-in sandbox and Stripe.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class PaymentStatus(StrEnum):
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    VOIDED = "voided"
    DECLINED = "declined"
    REFUNDED = "refunded"
    FAILED = "failed"


class DeclineCode(StrEnum):
    INSUFFICIENT_FUNDS = "insufficient_funds"
    EXPIRED_CARD = "expired_card"
    DO_NOT_HONOUR = "do_not_honour"
    SUSPECTED_FRAUD = "suspected_fraud"
    INVALID_CARD = "invalid_card"


@dataclass(frozen=True, slots=True)
class CardDetails:
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    entry_mode: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class GatewayResult:
    """What the gateway answered. `reference` identifies the payment (or refund) there."""

    status: PaymentStatus
    reference: str
    amount: int
    currency: str
    idempotency_key: str
    auth_code: str | None = None
    decline_code: str | None = None
    message: str = ""
    card: CardDetails | None = None
    payment_reference: str | None = None  # for a refund: the payment it refunds

    @property
    def approved(self) -> bool:
        return self.status not in (PaymentStatus.DECLINED, PaymentStatus.FAILED)


class GatewayTimeout(Exception):
    """The gateway did not answer in time: the request may or may not have taken effect."""


class GatewayError(Exception):
    """The gateway refused the request itself (bad reference, capture after void...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class PaymentGateway(Protocol):
    name: str

    def authorize(
        self,
        *,
        amount: int,
        currency: str,
        payment_data: str,
        entry_mode: str,
        idempotency_key: str,
        capture: bool = True,
    ) -> GatewayResult: ...

    def capture(
        self, *, reference: str, amount: int | None, idempotency_key: str
    ) -> GatewayResult: ...

    def void(self, *, reference: str, idempotency_key: str) -> GatewayResult: ...

    def refund(self, *, reference: str, amount: int, idempotency_key: str) -> GatewayResult: ...

    def lookup(self, *, idempotency_key: str) -> GatewayResult | None: ...

    def inspect_card(self, *, payment_data: str) -> CardDetails:
        """Read the card `payment_data` carries (brand, last four, expiry, fingerprint)
        without charging or holding anything: a return finds the sale the card paid.
        `GatewayError` `gateway.not_supported` where the processor cannot."""
        ...

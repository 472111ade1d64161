"""Stripe as omnitill's card processor, on the official `stripe` package (16.x).

Two ways a card reaches Stripe, told apart by the `payment_data` the register sends:

- `pm_...`: a PaymentMethod the register got from Stripe (Stripe.js for keyed entry, Apple Pay
  or Google Pay). One PaymentIntent is created and confirmed in the same request.
- `reader:tmr_...`: a Stripe Terminal smart reader (EMV chip, contactless). A `card_present`
  PaymentIntent is created, handed to the reader (`process_payment_intent`), and the reader is
  polled until the customer has tapped or dipped, was declined, or gave up. An attempt that
  does not end approved has its PaymentIntent canceled, so it can never take money later.

Every mutating request carries an idempotency key: ours for the PaymentIntent, the capture,
the cancel and the refund, and ours plus a suffix (`:process`, `:cancel`, `:cancel_action`)
for the reader steps, so a retry after a lost answer replays Stripe's first answer instead of
charging twice. Our key is also written into the PaymentIntent's and the refund's metadata
(`omnitill_idempotency_key`), which is how `lookup` finds what became of a request whose
answer was lost: the Search API first, then, because search can lag behind writes by a minute
or more, the PaymentIntents and refunds created in the last `lookup_window_seconds`.

The outcome is unknown, and `GatewayTimeout` is raised, when the connection fails or times
out, when Stripe answers 5xx or is still working on the same key (409
`idempotency_key_in_use`), and when a payment is still `processing`. Stripe never returns a
card number, and nothing here logs one: the card is known by its PaymentMethod id, brand,
last four, expiry and fingerprint.

Stripe's answers are mapped to ours in adapters/payments/stripe_mapping.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import stripe

from omnitill.adapters.payments.stripe_mapping import (
    DECLINES,
    ENTRY_MODE_FIELD,
    action_intent,
    decline_result,
    declined_by_error,
    entry_mode_of,
    failed_result,
    intent_result,
    payment_method_card,
    refund_result,
    translate,
)
from omnitill.domain.payments.gateway import (
    CardDetails,
    GatewayError,
    GatewayResult,
    GatewayTimeout,
    PaymentStatus,
)

if TYPE_CHECKING:
    from stripe import RequestOptions
    from stripe.params import PaymentIntentCaptureParams

_log = logging.getLogger(__name__)
_T = TypeVar("_T")

KEY_FIELD = "omnitill_idempotency_key"
READER_PREFIX = "reader:"


class StripeGateway:
    """The `PaymentGateway` contract on Stripe PaymentIntents and Terminal readers.

    `api_base` points the client elsewhere than https://api.stripe.com (tests use a local
    fake). `reader_wait_seconds` is how long a reader may wait for the customer's card before
    the attempt is abandoned; `lookup_window_seconds` how far back `lookup` lists recent
    payments and refunds when search has not found the key.
    """

    name = "stripe"

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str | None = None,
        timeout_seconds: float = 10,
        max_network_retries: int = 0,
        reader_wait_seconds: float = 90,
        poll_interval_seconds: float = 1.0,
        lookup_window_seconds: int = 3600,
    ) -> None:
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout_seconds),
        )
        self._reader_wait = reader_wait_seconds
        self._poll_interval = poll_interval_seconds
        self._lookup_window = lookup_window_seconds

    # --- the gateway contract ------------------------------------------------------------

    def authorize(
        self,
        *,
        amount: int,
        currency: str,
        payment_data: str,
        entry_mode: str,
        idempotency_key: str,
        capture: bool = True,
    ) -> GatewayResult:
        """Charge (or, with `capture=False`, hold) `amount` on a PaymentMethod or a reader."""
        if amount <= 0:
            raise GatewayError("gateway.invalid_amount", "the amount must be positive")
        if payment_data.startswith(READER_PREFIX + "tmr_"):
            return self._authorize_on_reader(
                amount=amount,
                currency=currency,
                reader=payment_data[len(READER_PREFIX) :],
                idempotency_key=idempotency_key,
                capture=capture,
            )
        if not payment_data.startswith("pm_"):
            raise GatewayError(
                "gateway.invalid_payment_data",
                "expected a Stripe PaymentMethod id (pm_...) or a reader (reader:tmr_...)",
            )
        try:
            intent = self._client.v1.payment_intents.create(
                {
                    "amount": amount,
                    "currency": currency.lower(),
                    "payment_method": payment_data,
                    "allowed_payment_method_types": ["card"],
                    "confirm": True,
                    "capture_method": "automatic" if capture else "manual",
                    "metadata": {KEY_FIELD: idempotency_key, ENTRY_MODE_FIELD: entry_mode},
                    "expand": ["latest_charge"],
                },
                _with_key(idempotency_key),
            )
        except stripe.CardError as err:
            return declined_by_error(err, amount, currency, idempotency_key, entry_mode)
        except stripe.StripeError as err:
            raise translate(err, "authorize") from err
        return intent_result(intent.to_dict(), idempotency_key, entry_mode)

    def capture(self, *, reference: str, amount: int | None, idempotency_key: str) -> GatewayResult:
        """Capture a held payment, all of it or `amount` (the rest of the hold is released)."""
        if amount is not None and amount <= 0:
            raise GatewayError("gateway.invalid_amount", "the amount must be positive")
        params: PaymentIntentCaptureParams = {"expand": ["latest_charge"]}
        if amount is not None:
            params["amount_to_capture"] = amount
        intent = self._send(
            "capture",
            lambda: self._client.v1.payment_intents.capture(
                reference, params, _with_key(idempotency_key)
            ),
        ).to_dict()
        return intent_result(intent, idempotency_key, entry_mode_of(intent))

    def void(self, *, reference: str, idempotency_key: str) -> GatewayResult:
        """Release a held payment (cancel the PaymentIntent): nothing is charged."""
        intent = self._send(
            "void",
            lambda: self._client.v1.payment_intents.cancel(
                reference, None, _with_key(idempotency_key)
            ),
        ).to_dict()
        return GatewayResult(
            PaymentStatus.VOIDED,
            intent["id"],
            int(intent["amount"]),
            str(intent["currency"]).upper(),
            idempotency_key,
            message="voided",
        )

    def refund(self, *, reference: str, amount: int, idempotency_key: str) -> GatewayResult:
        """Refund `amount` of a captured payment; the result references the payment."""
        if amount <= 0:
            raise GatewayError("gateway.invalid_amount", "the amount must be positive")
        refund = self._send(
            "refund",
            lambda: self._client.v1.refunds.create(
                {
                    "payment_intent": reference,
                    "amount": amount,
                    "metadata": {KEY_FIELD: idempotency_key},
                },
                _with_key(idempotency_key),
            ),
        ).to_dict()
        return refund_result(refund, idempotency_key)

    def lookup(self, *, idempotency_key: str) -> GatewayResult | None:
        """What became of the authorization or refund sent with this key; None: never made.

        The payment's state now (so a payment voided since reads VOIDED). Raises
        `GatewayTimeout` when Stripe cannot tell yet (unreachable, or the payment is still in
        progress on a reader). Captures and voids are not looked up: retry them with the same
        key, which Stripe answers from its record of the first request.
        """
        intents = self._find_intents(idempotency_key)
        if intents:
            intent = max(
                intents, key=lambda i: i.get("status") in ("succeeded", "requires_capture")
            )
            return intent_result(intent, idempotency_key, entry_mode_of(intent))
        for refund in self._recent_refunds():
            if (refund.get("metadata") or {}).get(KEY_FIELD) == idempotency_key:
                return refund_result(refund, idempotency_key)
        return None

    def inspect_card(self, *, payment_data: str) -> CardDetails:
        """The card of a PaymentMethod (`pm_...`), retrieved: nothing is charged. A reader
        cannot be asked to read a card without a payment here: `gateway.not_supported`."""
        if not payment_data.startswith("pm_"):
            raise GatewayError(
                "gateway.not_supported",
                "Stripe reads a card for a lookup from a PaymentMethod (pm_...) only",
            )
        method = self._send(
            "inspect", lambda: self._client.v1.payment_methods.retrieve(payment_data)
        ).to_dict()
        return payment_method_card(method)

    # --- Terminal ------------------------------------------------------------------------

    def _authorize_on_reader(
        self, *, amount: int, currency: str, reader: str, idempotency_key: str, capture: bool
    ) -> GatewayResult:
        intent = self._send(
            "authorize",
            lambda: self._client.v1.payment_intents.create(
                {
                    "amount": amount,
                    "currency": currency.lower(),
                    "allowed_payment_method_types": ["card_present"],
                    "capture_method": "automatic" if capture else "manual",
                    "metadata": {KEY_FIELD: idempotency_key, ENTRY_MODE_FIELD: "card_present"},
                },
                _with_key(idempotency_key),
            ),
        )
        intent_id = intent.id
        try:
            self._client.v1.terminal.readers.process_payment_intent(
                reader, {"payment_intent": intent_id}, _with_key(idempotency_key + ":process")
            )
        except stripe.StripeError as err:
            translated = translate(err, "authorize")
            if isinstance(translated, GatewayError):  # the reader never started: close it
                self._cancel_quietly(intent_id, idempotency_key)
            raise translated from err
        return self._await_reader(reader, intent_id, idempotency_key)

    def _await_reader(self, reader: str, intent_id: str, idempotency_key: str) -> GatewayResult:
        deadline = time.monotonic() + self._reader_wait
        while True:
            state = self._send(
                "authorize", lambda: self._client.v1.terminal.readers.retrieve(reader)
            ).to_dict()
            action = state.get("action") or {}
            if action_intent(action) != intent_id:
                action = {}  # the reader has moved on: the PaymentIntent tells what happened
            if action.get("status") != "in_progress":
                return self._settle_on_reader(
                    intent_id,
                    idempotency_key,
                    failure=str(action.get("failure_code") or ""),
                    message=str(action.get("failure_message") or "the reader stopped unpaid"),
                    reader_stopped=True,
                )
            if time.monotonic() >= deadline:
                return self._abandon(reader, intent_id, idempotency_key)
            time.sleep(self._poll_interval)

    def _abandon(self, reader: str, intent_id: str, idempotency_key: str) -> GatewayResult:
        """No card within the wait: stop the reader and close the attempt."""
        try:
            self._client.v1.terminal.readers.cancel_action(
                reader, None, _with_key(idempotency_key + ":cancel_action")
            )
            stopped = True
        except stripe.StripeError as err:
            _log.info("stripe: cancel_action on %s failed: %s", reader, err.user_message)
            stopped = False
        return self._settle_on_reader(
            intent_id,
            idempotency_key,
            failure="",
            message="no card was presented in time",
            reader_stopped=stopped,
        )

    def _settle_on_reader(
        self,
        intent_id: str,
        idempotency_key: str,
        *,
        failure: str,
        message: str,
        reader_stopped: bool,
    ) -> GatewayResult:
        """The reader is done with the PaymentIntent: approved, or closed (canceled) so that it
        can never take money later. If it cannot be closed while the reader may still be
        reading a card, the outcome is unknown."""
        intent = self._retrieve_intent(intent_id)
        if intent["status"] != "requires_payment_method":
            return intent_result(intent, idempotency_key, None)
        try:
            self._client.v1.payment_intents.cancel(
                intent_id, None, _with_key(idempotency_key + ":cancel")
            )
        except stripe.StripeError as err:
            if not reader_stopped:
                raise GatewayTimeout(
                    f"the reader may still take a card for {intent_id}: ask again later"
                ) from err
            _log.warning("stripe: could not cancel %s: %s", intent_id, err.user_message)
        error = intent.get("last_payment_error")
        if error or failure == "card_declined" or failure in DECLINES:
            declined = {"code": failure, "message": message, **(error or {})}
            return decline_result(declined, intent, idempotency_key, None)
        return failed_result(intent, idempotency_key, message)

    def _cancel_quietly(self, intent_id: str, idempotency_key: str) -> None:
        """Close an attempt that holds no money; if Stripe cannot be told, the PaymentIntent
        stays unconfirmed, which takes no money either."""
        try:
            self._client.v1.payment_intents.cancel(
                intent_id, None, _with_key(idempotency_key + ":cancel")
            )
        except stripe.StripeError as err:
            _log.warning("stripe: could not cancel %s: %s", intent_id, err.user_message)

    # --- lookups and plumbing ------------------------------------------------------------

    def _retrieve_intent(self, intent_id: str) -> dict[str, Any]:
        return self._send(
            "lookup",
            lambda: self._client.v1.payment_intents.retrieve(
                intent_id, {"expand": ["latest_charge"]}
            ),
        ).to_dict()

    def _find_intents(self, idempotency_key: str) -> list[dict[str, Any]]:
        escaped = idempotency_key.replace("\\", "\\\\").replace("'", "\\'")
        found = self._send(
            "lookup",
            lambda: self._client.v1.payment_intents.search(
                {
                    "query": f"metadata['{KEY_FIELD}']:'{escaped}'",
                    "expand": ["data.latest_charge"],
                    "limit": 10,
                }
            ),
        )
        intents = [intent.to_dict() for intent in found.data]
        if intents:
            return intents
        # Search is eventually consistent: a payment made a moment ago may not be indexed yet.
        recent = self._send(
            "lookup",
            lambda: self._client.v1.payment_intents.list(
                {"created": {"gte": self._since()}, "limit": 100}
            ),
        )
        return [
            self._retrieve_intent(intent["id"])
            for intent in self._each("lookup", recent.auto_paging_iter())
            if (intent.get("metadata") or {}).get(KEY_FIELD) == idempotency_key
        ]

    def _recent_refunds(self) -> Iterable[dict[str, Any]]:
        page = self._send(
            "lookup",
            lambda: self._client.v1.refunds.list({"created": {"gte": self._since()}, "limit": 100}),
        )
        return list(self._each("lookup", page.auto_paging_iter()))

    def _each(self, operation: str, items: Iterable[stripe.StripeObject]) -> list[dict[str, Any]]:
        """Every object of a paged list (fetching the next pages may fail like any request)."""
        return self._send(operation, lambda: [item.to_dict() for item in items])

    def _since(self) -> int:
        return int(time.time()) - self._lookup_window

    @staticmethod
    def _send(operation: str, request: Callable[[], _T]) -> _T:
        try:
            return request()
        except stripe.StripeError as err:
            raise translate(err, operation) from err


def _with_key(key: str) -> RequestOptions:
    return {"idempotency_key": key}

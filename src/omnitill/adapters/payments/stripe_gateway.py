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
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import stripe

from omnitill.domain.payments.gateway import (
    CardDetails,
    DeclineCode,
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
ENTRY_MODE_FIELD = "omnitill_entry_mode"
READER_PREFIX = "reader:"

_DECLINES: dict[str, DeclineCode] = {
    "insufficient_funds": DeclineCode.INSUFFICIENT_FUNDS,
    "expired_card": DeclineCode.EXPIRED_CARD,
    "do_not_honor": DeclineCode.DO_NOT_HONOUR,
    "fraudulent": DeclineCode.SUSPECTED_FRAUD,
    "stolen_card": DeclineCode.SUSPECTED_FRAUD,
    "lost_card": DeclineCode.SUSPECTED_FRAUD,
    "pickup_card": DeclineCode.SUSPECTED_FRAUD,
    "merchant_blacklist": DeclineCode.SUSPECTED_FRAUD,
    "incorrect_number": DeclineCode.INVALID_CARD,
    "invalid_number": DeclineCode.INVALID_CARD,
    "invalid_expiry_month": DeclineCode.INVALID_CARD,
    "invalid_expiry_year": DeclineCode.INVALID_CARD,
    "invalid_account": DeclineCode.INVALID_CARD,
}
# How a Terminal reader read the card (charge.payment_method_details.card_present.read_method)
_READ_METHODS = {
    "contact_emv": "emv_chip",
    "contactless_emv": "nfc_tap",
    "contactless_magstripe_mode": "nfc_tap",
    "magnetic_stripe_fallback": "magstripe",
    "magnetic_stripe_track2": "magstripe",
}
_CARD_KINDS = ("card", "card_present", "interac_present")
# Stripe error code -> ours, per operation; the sandbox uses the same codes for the same things
_CODES: dict[str, dict[str, str]] = {
    "authorize": {
        "resource_missing": "gateway.invalid_payment_data",
        "amount_too_small": "gateway.invalid_amount",
        "amount_too_large": "gateway.invalid_amount",
        "terminal_reader_offline": "terminal.reader_offline",
        "terminal_reader_busy": "terminal.reader_busy",
    },
    "capture": {
        "resource_missing": "payment.unknown_reference",
        "payment_intent_unexpected_state": "payment.not_capturable",
        "amount_too_large": "payment.capture_exceeds_authorization",
        "charge_expired_for_capture": "payment.authorization_expired",
        "amount_too_small": "gateway.invalid_amount",
    },
    "void": {
        "resource_missing": "payment.unknown_reference",
        "payment_intent_unexpected_state": "payment.not_voidable",
    },
    "refund": {
        "resource_missing": "payment.unknown_reference",
        "amount_too_large": "refund.exceeds_payment",
        "charge_already_refunded": "refund.exceeds_payment",
        "payment_intent_unexpected_state": "payment.not_refundable",
        "charge_not_refundable": "payment.not_refundable",
        "amount_too_small": "gateway.invalid_amount",
    },
}
_UNKNOWN_OUTCOME_CODES = {"idempotency_key_in_use", "terminal_reader_timeout"}


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
            return _declined_by_error(err, amount, currency, idempotency_key, entry_mode)
        except stripe.StripeError as err:
            raise _translate(err, "authorize") from err
        return _intent_result(intent.to_dict(), idempotency_key, entry_mode)

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
        return _intent_result(intent, idempotency_key, _entry_mode_of(intent))

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
        return _refund_result(refund, idempotency_key)

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
            return _intent_result(intent, idempotency_key, _entry_mode_of(intent))
        for refund in self._recent_refunds():
            if (refund.get("metadata") or {}).get(KEY_FIELD) == idempotency_key:
                return _refund_result(refund, idempotency_key)
        return None

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
            translated = _translate(err, "authorize")
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
            if _action_intent(action) != intent_id:
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
            return _intent_result(intent, idempotency_key, None)
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
        if error or failure == "card_declined" or failure in _DECLINES:
            declined = {"code": failure, "message": message, **(error or {})}
            return _declined(declined, intent, idempotency_key, None)
        return _failed(intent, idempotency_key, message)

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
            raise _translate(err, operation) from err


# --- mapping Stripe's answers to ours ------------------------------------------------------


def _with_key(key: str) -> RequestOptions:
    return {"idempotency_key": key}


def _translate(err: stripe.StripeError, operation: str) -> GatewayError | GatewayTimeout:
    """A Stripe failure as ours: unknown outcome (`GatewayTimeout`) or a refusal."""
    body = err.error.to_dict() if err.error is not None else {}
    code = str(err.code or body.get("code") or "")
    message = err.user_message or str(err)
    if isinstance(err, stripe.APIConnectionError) or code in _UNKNOWN_OUTCOME_CODES:
        _log.warning("stripe: %s outcome unknown: %s", operation, code or "no answer")
        return GatewayTimeout(f"Stripe did not answer in time ({operation}): {message}")
    if isinstance(err, stripe.APIError) and (err.http_status or 500) >= 500:
        _log.warning("stripe: %s answered %s, outcome unknown", operation, err.http_status)
        return GatewayTimeout(f"Stripe failed ({err.http_status}): the outcome is unknown")
    if isinstance(err, stripe.IdempotencyError):
        return GatewayError("gateway.idempotency_mismatch", message)
    if isinstance(err, stripe.RateLimitError):
        return GatewayError("gateway.rate_limited", message)
    if isinstance(err, stripe.AuthenticationError | stripe.PermissionError):
        return GatewayError("gateway.not_authorised", message)
    voided = (body.get("payment_intent") or {}).get("status") == "canceled"
    if operation == "capture" and code == "payment_intent_unexpected_state" and voided:
        return GatewayError("payment.capture_after_void", message)
    if code in _CODES.get(operation, {}):
        return GatewayError(_CODES[operation][code], message)
    if body.get("param") == "currency":
        return GatewayError("gateway.invalid_currency", message)
    return GatewayError(f"stripe.{code or body.get('type') or 'error'}", message)


def _intent_result(
    intent: Mapping[str, Any], idempotency_key: str, entry_mode: str | None
) -> GatewayResult:
    """A PaymentIntent (with `latest_charge` expanded) as a result. Raises `GatewayTimeout`
    while its outcome is not settled (`processing`, or a reader still waiting for a card)."""
    status = intent["status"]
    charge = _charge_of(intent)
    card = _card_of(charge, entry_mode)
    currency = str(intent["currency"]).upper()
    if status == "succeeded":
        return GatewayResult(
            PaymentStatus.CAPTURED,
            intent["id"],
            int(intent["amount_received"]),
            currency,
            idempotency_key,
            auth_code=_auth_code(charge),
            message="approved",
            card=card,
        )
    if status == "requires_capture":
        return GatewayResult(
            PaymentStatus.AUTHORIZED,
            intent["id"],
            int(intent["amount_capturable"] or intent["amount"]),
            currency,
            idempotency_key,
            auth_code=_auth_code(charge),
            message="approved",
            card=card,
        )
    error = intent.get("last_payment_error")
    if status == "canceled" and charge is not None and charge.get("status") == "succeeded":
        return GatewayResult(
            PaymentStatus.VOIDED,
            intent["id"],
            int(intent["amount"]),
            currency,
            idempotency_key,
            message="voided",
            card=card,
        )
    if status in ("canceled", "requires_payment_method") and error:
        return _declined(error, intent, idempotency_key, entry_mode)
    if status == "canceled":
        return _failed(intent, idempotency_key, "canceled before any card was approved")
    if status == "requires_action":
        return _failed(intent, idempotency_key, "the card asks for authentication (3-D Secure)")
    raise GatewayTimeout(f"the payment {intent['id']} is still {status}")


def _declined_by_error(
    err: stripe.CardError, amount: int, currency: str, idempotency_key: str, entry_mode: str
) -> GatewayResult:
    error = err.error.to_dict() if err.error is not None else {}
    intent = error.get("payment_intent") or {
        "id": error.get("charge") or "",
        "amount": amount,
        "currency": currency,
    }
    return _declined(error, intent, idempotency_key, entry_mode)


def _declined(
    error: Mapping[str, Any],
    intent: Mapping[str, Any],
    idempotency_key: str,
    entry_mode: str | None,
) -> GatewayResult:
    """A card error (`error` object, or a PaymentIntent's `last_payment_error`) as a decline."""
    reason = str(error.get("decline_code") or error.get("code") or "")
    decline = _DECLINES.get(reason, DeclineCode.DO_NOT_HONOUR)
    card = _card_of(error.get("payment_method"), entry_mode) or _card_of(
        _charge_of(intent), entry_mode
    )
    _log.info("stripe: declined %s (%s)", intent.get("id"), reason)
    return GatewayResult(
        PaymentStatus.DECLINED,
        str(intent.get("id") or ""),
        int(intent.get("amount") or 0),
        str(intent.get("currency") or "").upper(),
        idempotency_key,
        decline_code=str(decline),
        message=str(error.get("message") or f"declined: {decline}"),
        card=card,
    )


def _failed(intent: Mapping[str, Any], idempotency_key: str, message: str) -> GatewayResult:
    return GatewayResult(
        PaymentStatus.FAILED,
        intent["id"],
        int(intent["amount"]),
        str(intent["currency"]).upper(),
        idempotency_key,
        message=message,
    )


def _refund_result(refund: Mapping[str, Any], idempotency_key: str) -> GatewayResult:
    payment = refund.get("payment_intent")
    if isinstance(payment, Mapping):
        payment = payment.get("id")
    failed = refund.get("status") in ("failed", "canceled")
    return GatewayResult(
        PaymentStatus.FAILED if failed else PaymentStatus.REFUNDED,
        refund["id"],
        int(refund["amount"]),
        str(refund["currency"]).upper(),
        idempotency_key,
        message=str(refund.get("failure_reason") or refund.get("status") or ""),
        payment_reference=None if payment is None else str(payment),
    )


def _charge_of(intent: Mapping[str, Any]) -> Mapping[str, Any] | None:
    charge = intent.get("latest_charge")
    return charge if isinstance(charge, Mapping) else None


def _card_of(source: Mapping[str, Any] | None, entry_mode: str | None) -> CardDetails | None:
    """Card details from a charge (`payment_method_details`) or a PaymentMethod object."""
    if not source:
        return None
    holder = source.get("payment_method_details") or source
    kind = holder.get("type")
    info = holder.get(kind) if kind in _CARD_KINDS else None
    if not isinstance(info, Mapping):
        return None
    if kind != "card":  # read on a reader: the reader says how
        read = str(info.get("read_method") or "")
        entry_mode = "wallet" if info.get("wallet") else _READ_METHODS.get(read, read or None)
    token = source.get("payment_method") if "payment_method_details" in source else source["id"]
    return CardDetails(
        token=str(token or ""),
        brand=str(info.get("brand") or "unknown"),
        last4=str(info.get("last4") or ""),
        exp_month=int(info.get("exp_month") or 0),
        exp_year=int(info.get("exp_year") or 0),
        entry_mode=entry_mode or str(kind),
        fingerprint=str(info.get("fingerprint") or ""),
    )


def _auth_code(charge: Mapping[str, Any] | None) -> str | None:
    if charge is None:
        return None
    details = charge.get("payment_method_details") or {}
    info = details.get(details.get("type")) or {}
    code = (
        charge.get("authorization_code")
        or info.get("authorization_code")
        or (info.get("receipt") or {}).get("authorization_code")
    )
    return None if code is None else str(code)


def _entry_mode_of(intent: Mapping[str, Any]) -> str | None:
    mode = (intent.get("metadata") or {}).get(ENTRY_MODE_FIELD)
    return None if mode in (None, "card_present") else str(mode)


def _action_intent(action: Mapping[str, Any]) -> str | None:
    process = action.get("process_payment_intent") or {}
    intent = process.get("payment_intent")
    if isinstance(intent, Mapping):
        intent = intent.get("id")
    return None if intent is None else str(intent)

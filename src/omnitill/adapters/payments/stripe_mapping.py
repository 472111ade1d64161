"""Stripe's answers as omnitill's: a PaymentIntent or refund as a `GatewayResult`, a card
error as a decline with our `DeclineCode`, the card a charge or PaymentMethod was made with as
`CardDetails` (never a card number), and a Stripe failure as `GatewayTimeout` (outcome
unknown) or a `GatewayError` with our code for the operation that failed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import stripe

from omnitill.domain.payments.gateway import (
    CardDetails,
    DeclineCode,
    GatewayError,
    GatewayResult,
    GatewayTimeout,
    PaymentStatus,
)

# The Stripe adapter logs under one name, whichever of its modules writes the line.
_log = logging.getLogger("omnitill.adapters.payments.stripe_gateway")

ENTRY_MODE_FIELD = "omnitill_entry_mode"

DECLINES: dict[str, DeclineCode] = {
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
    "inspect": {
        "resource_missing": "gateway.invalid_payment_data",
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


def translate(err: stripe.StripeError, operation: str) -> GatewayError | GatewayTimeout:
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


def intent_result(
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
        return decline_result(error, intent, idempotency_key, entry_mode)
    if status == "canceled":
        return failed_result(intent, idempotency_key, "canceled before any card was approved")
    if status == "requires_action":
        return failed_result(
            intent, idempotency_key, "the card asks for authentication (3-D Secure)"
        )
    raise GatewayTimeout(f"the payment {intent['id']} is still {status}")


def declined_by_error(
    err: stripe.CardError, amount: int, currency: str, idempotency_key: str, entry_mode: str
) -> GatewayResult:
    error = err.error.to_dict() if err.error is not None else {}
    intent = error.get("payment_intent") or {
        "id": error.get("charge") or "",
        "amount": amount,
        "currency": currency,
    }
    return decline_result(error, intent, idempotency_key, entry_mode)


def decline_result(
    error: Mapping[str, Any],
    intent: Mapping[str, Any],
    idempotency_key: str,
    entry_mode: str | None,
) -> GatewayResult:
    """A card error (`error` object, or a PaymentIntent's `last_payment_error`) as a decline."""
    reason = str(error.get("decline_code") or error.get("code") or "")
    decline = DECLINES.get(reason, DeclineCode.DO_NOT_HONOUR)
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


def failed_result(intent: Mapping[str, Any], idempotency_key: str, message: str) -> GatewayResult:
    return GatewayResult(
        PaymentStatus.FAILED,
        intent["id"],
        int(intent["amount"]),
        str(intent["currency"]).upper(),
        idempotency_key,
        message=message,
    )


def refund_result(refund: Mapping[str, Any], idempotency_key: str) -> GatewayResult:
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


def payment_method_card(method: Mapping[str, Any]) -> CardDetails:
    """The card of a PaymentMethod object; `gateway.invalid_payment_data` if it holds none."""
    card = _card_of(method, "keyed")
    if card is None:
        raise GatewayError("gateway.invalid_payment_data", "the PaymentMethod is not a card")
    return card


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


def entry_mode_of(intent: Mapping[str, Any]) -> str | None:
    mode = (intent.get("metadata") or {}).get(ENTRY_MODE_FIELD)
    return None if mode in (None, "card_present") else str(mode)


def action_intent(action: Mapping[str, Any]) -> str | None:
    process = action.get("process_payment_intent") or {}
    intent = process.get("payment_intent")
    if isinstance(intent, Mapping):
        intent = intent.get("id")
    return None if intent is None else str(intent)

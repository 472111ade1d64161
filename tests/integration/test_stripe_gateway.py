"""The Stripe adapter against Stripe API responses served over real HTTP.

A small fake Stripe runs on 127.0.0.1 in a thread. It routes by method and path, records every
request (form body or query, headers), and answers with the JSON bodies in
tests/fixtures/stripe/. Those bodies were written from the API reference, not recorded live
(see the README there). The adapter reaches the fake through the official `stripe` package
and its HTTP client, so these tests exercise the real encoding, headers, error classes and
timeouts.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe

from omnitill.adapters.payments.stripe_gateway import StripeGateway
from omnitill.domain.payments.cards import find_pans
from omnitill.domain.payments.gateway import GatewayError, GatewayTimeout, PaymentStatus

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "stripe"
API_KEY = "sk_test_omnitill_fake"

PM_WALLET = "pm_1QhV3k2eZvKYlo2Cq8Lw4s9T"
PI_PAID = "pi_3QhV4A2eZvKYlo2C0pK7mN1a"
KEY_PAID = "sale-0193f2a4-card-1"
PI_HELD = "pi_3QhV5B2eZvKYlo2C1xY2zA3b"
PM_KEYED = "pm_1QhV5A2eZvKYlo2CkE4dR7uY"
READER = "tmr_FDOt2wlRZEdpd7"
PI_TAP = "pi_3QhV7D2eZvKYlo2C3mN4oP5q"
KEY_TAP = "sale-0193f2d0-card-1"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


@dataclass
class Reply:
    body: dict[str, Any]
    status: int = 200
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    params: dict[str, str]  # the form body of a POST, the query of a GET
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str | None:
        return self.headers.get("idempotency-key")


class FakeStripe:
    """Answers each (method, path) with its queued replies in turn; the last one repeats."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Reply]] = {}
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.serve(self, "GET")

            def do_POST(self) -> None:
                fake.serve(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def on(
        self,
        method: str,
        path: str,
        body: str | dict[str, Any],
        *,
        status: int = 200,
        delay: float = 0.0,
    ) -> None:
        reply = Reply(load(body) if isinstance(body, str) else body, status, delay)
        self.routes.setdefault((method, path), []).append(reply)

    def calls(self, method: str, path: str) -> list[Seen]:
        return [r for r in self.requests if (r.method, r.path) == (method, path)]

    def serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode() if length else url.query
        seen = Seen(
            method,
            url.path,
            dict(parse_qsl(raw, keep_blank_values=True)),
            {k.lower(): v for k, v in handler.headers.items()},
        )
        with self._lock:
            self.requests.append(seen)
            queue = self.routes.get((method, url.path))
            if not queue:
                reply = Reply(
                    {
                        "error": {
                            "message": f"Unrecognized request URL ({method}: {url.path}).",
                            "type": "invalid_request_error",
                        }
                    },
                    404,
                )
            else:
                reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if reply.delay:
            time.sleep(reply.delay)
        payload = json.dumps(reply.body).encode()
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.send_header("Request-Id", f"req_fake{len(self.requests):06d}")
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped waiting: that is what the timeout tests want

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    server = FakeStripe()
    yield server
    server.close()
    # whatever a test did, no card number ever went over the wire
    assert find_pans(json.dumps([r.params for r in server.requests])) == []


@pytest.fixture
def gateway(fake: FakeStripe) -> StripeGateway:
    return StripeGateway(
        API_KEY,
        api_base=fake.url,
        timeout_seconds=5,
        reader_wait_seconds=5,
        poll_interval_seconds=0.01,
    )


def pay(gateway: StripeGateway, **overrides: Any) -> Any:
    args: dict[str, Any] = {
        "amount": 1999,
        "currency": "USD",
        "payment_data": PM_WALLET,
        "entry_mode": "wallet",
        "idempotency_key": KEY_PAID,
        "capture": True,
    }
    return gateway.authorize(**{**args, **overrides})


# --- PaymentIntents from a PaymentMethod (wallets, keyed) -------------------------------------


def test_an_approval_is_captured_with_the_card_details_and_never_a_number(gateway, fake):
    fake.on("POST", "/v1/payment_intents", "payment_intent_succeeded.json")
    result = pay(gateway)
    assert result.status is PaymentStatus.CAPTURED
    assert result.approved
    assert (result.reference, result.amount, result.currency) == (PI_PAID, 1999, "USD")
    assert result.idempotency_key == KEY_PAID
    assert result.auth_code == "483921"
    card = result.card
    assert card is not None
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 12, 2031)
    assert (card.token, card.fingerprint, card.entry_mode) == (
        PM_WALLET,
        "Xt5EWLLDS7FJjR1c",
        "wallet",
    )
    assert find_pans(repr(result)) == []
    [sent] = fake.requests
    assert sent.params == {
        "amount": "1999",
        "currency": "usd",
        "payment_method": PM_WALLET,
        "allowed_payment_method_types[0]": "card",
        "confirm": "true",
        "capture_method": "automatic",
        "metadata[omnitill_idempotency_key]": KEY_PAID,
        "metadata[omnitill_entry_mode]": "wallet",
        "expand[0]": "latest_charge",
    }
    assert sent.key == KEY_PAID
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.headers["stripe-version"] == stripe.api_version


def test_a_hold_is_captured_later_for_less_than_authorized(gateway, fake):
    fake.on("POST", "/v1/payment_intents", "payment_intent_requires_capture.json")
    fake.on(
        "POST", f"/v1/payment_intents/{PI_HELD}/capture", "payment_intent_captured_in_part.json"
    )
    held = pay(
        gateway,
        amount=5000,
        payment_data=PM_KEYED,
        entry_mode="keyed",
        idempotency_key="sale-0193f2b7-card-1",
        capture=False,
    )
    assert held.status is PaymentStatus.AUTHORIZED
    assert (held.reference, held.amount, held.auth_code) == (PI_HELD, 5000, "071532")
    assert held.card is not None
    assert (held.card.brand, held.card.last4, held.card.entry_mode) == (
        "mastercard",
        "4444",
        "keyed",
    )
    assert fake.requests[0].params["capture_method"] == "manual"

    captured = gateway.capture(reference=PI_HELD, amount=3500, idempotency_key="cap-0193f2b7")
    assert captured.status is PaymentStatus.CAPTURED
    assert (captured.reference, captured.amount, captured.currency) == (PI_HELD, 3500, "USD")
    assert captured.idempotency_key == "cap-0193f2b7"
    assert captured.card is not None
    assert captured.card.entry_mode == "keyed"  # from the PaymentIntent's metadata
    [sent] = fake.calls("POST", f"/v1/payment_intents/{PI_HELD}/capture")
    assert sent.params == {"amount_to_capture": "3500", "expand[0]": "latest_charge"}
    assert sent.key == "cap-0193f2b7"


def test_a_capture_without_an_amount_takes_the_whole_hold(gateway, fake):
    fake.on(
        "POST", f"/v1/payment_intents/{PI_HELD}/capture", "payment_intent_captured_in_part.json"
    )
    gateway.capture(reference=PI_HELD, amount=None, idempotency_key="cap-all")
    [sent] = fake.requests
    assert "amount_to_capture" not in sent.params
    assert sent.key == "cap-all"


@pytest.mark.parametrize(
    ("fixture", "override", "expected", "last4"),
    [
        ("error_card_declined_insufficient_funds.json", {}, "insufficient_funds", "9995"),
        ("error_card_expired.json", {}, "expired_card", "0069"),
        ("error_card_declined_do_not_honor.json", {}, "do_not_honour", "0002"),
        ("error_card_declined_fraudulent.json", {}, "suspected_fraud", "0019"),
        (
            "error_card_declined_fraudulent.json",
            {"decline_code": "stolen_card"},
            "suspected_fraud",
            "0019",
        ),
        (
            "error_card_declined_fraudulent.json",
            {"decline_code": "lost_card"},
            "suspected_fraud",
            "0019",
        ),
        (
            "error_card_declined_do_not_honor.json",
            {"decline_code": "generic_decline"},
            "do_not_honour",
            "0002",
        ),
        (
            "error_card_declined_do_not_honor.json",
            {"code": "incorrect_number", "decline_code": None},
            "invalid_card",
            "0002",
        ),
    ],
)
def test_card_errors_are_declines_with_our_reason(
    gateway, fake, fixture, override, expected, last4
):
    body = load(fixture)
    body["error"].update(override)
    fake.on("POST", "/v1/payment_intents", body, status=402)
    result = pay(gateway, entry_mode="keyed")
    assert result.status is PaymentStatus.DECLINED
    assert not result.approved
    assert result.decline_code == expected
    assert result.reference == body["error"]["payment_intent"]["id"]
    assert (result.amount, result.currency) == (1999, "USD")
    assert result.message == body["error"]["message"]
    assert result.auth_code is None
    assert result.card is not None
    assert result.card.last4 == last4
    assert result.card.token == body["error"]["payment_method"]["id"]
    assert result.card.entry_mode == "keyed"


def test_bad_payment_data_and_amounts_are_refused_before_any_request(gateway, fake):
    with pytest.raises(GatewayError) as err:
        pay(gateway, payment_data="4242424242424242")
    assert err.value.code == "gateway.invalid_payment_data"
    with pytest.raises(GatewayError) as err:
        pay(gateway, payment_data="reader:not-a-reader")
    assert err.value.code == "gateway.invalid_payment_data"
    with pytest.raises(GatewayError) as err:
        pay(gateway, amount=0)
    assert err.value.code == "gateway.invalid_amount"
    with pytest.raises(GatewayError) as err:
        gateway.refund(reference=PI_PAID, amount=-5, idempotency_key="r")
    assert err.value.code == "gateway.invalid_amount"
    assert fake.requests == []


# --- lost answers, lookups and idempotency ---------------------------------------------------


def test_a_lost_answer_raises_timeout_then_lookup_finds_the_payment(fake):
    slow = StripeGateway(API_KEY, api_base=fake.url, timeout_seconds=0.5)
    fake.on("POST", "/v1/payment_intents", "payment_intent_succeeded.json", delay=1.5)
    fake.on("POST", "/v1/payment_intents", "payment_intent_succeeded.json")
    fake.on("GET", "/v1/payment_intents/search", "search_result_payment_intent.json")
    with pytest.raises(GatewayTimeout):
        pay(slow)

    found = slow.lookup(idempotency_key=KEY_PAID)
    assert found is not None
    assert found.status is PaymentStatus.CAPTURED
    assert (found.reference, found.amount, found.idempotency_key) == (PI_PAID, 1999, KEY_PAID)
    assert found.card is not None
    assert found.card.entry_mode == "wallet"
    [search] = fake.calls("GET", "/v1/payment_intents/search")
    assert search.params["query"] == f"metadata['omnitill_idempotency_key']:'{KEY_PAID}'"
    assert search.params["expand[0]"] == "data.latest_charge"
    assert search.key is None  # a read carries no idempotency key

    # a retry with the same key is the same request: Stripe replays it, nothing is charged twice
    again = pay(slow)
    assert again.reference == found.reference
    first, second = fake.calls("POST", "/v1/payment_intents")
    assert first.key == second.key == KEY_PAID
    assert first.params == second.params


def test_lookup_falls_back_to_recent_payments_while_search_lags(gateway, fake):
    fake.on("GET", "/v1/payment_intents/search", "search_result_empty.json")
    fake.on("GET", "/v1/payment_intents", "list_payment_intents_recent.json")
    fake.on("GET", f"/v1/payment_intents/{PI_PAID}", "payment_intent_succeeded.json")
    before = int(time.time())
    found = gateway.lookup(idempotency_key=KEY_PAID)
    assert found is not None
    assert (found.status, found.reference, found.auth_code) == (
        PaymentStatus.CAPTURED,
        PI_PAID,
        "483921",
    )
    [listing] = fake.calls("GET", "/v1/payment_intents")
    assert before - 3600 - 1 <= int(listing.params["created[gte]"]) <= int(time.time()) - 3600
    [fetched] = fake.calls("GET", f"/v1/payment_intents/{PI_PAID}")
    assert fetched.params == {"expand[0]": "latest_charge"}
    assert fake.calls("GET", "/v1/refunds") == []


def test_lookup_finds_a_refund_by_its_key_and_answers_none_for_an_unknown_key(gateway, fake):
    fake.on("GET", "/v1/payment_intents/search", "search_result_empty.json")
    fake.on("GET", "/v1/payment_intents", "list_empty.json")
    fake.on("GET", "/v1/refunds", "list_refunds_recent.json")
    refund = gateway.lookup(idempotency_key="return-0193f3c1-refund-1")
    assert refund is not None
    assert refund.status is PaymentStatus.REFUNDED
    assert (refund.reference, refund.amount, refund.payment_reference) == (
        "re_3QhV4A2eZvKYlo2C0rF9gH0i",
        1000,
        PI_PAID,
    )
    assert gateway.lookup(idempotency_key="never-sent") is None


def test_a_key_reused_with_other_parameters_is_refused(gateway, fake):
    fake.on("POST", "/v1/payment_intents", "error_idempotency_mismatch.json", status=400)
    with pytest.raises(GatewayError) as err:
        pay(gateway, amount=1)
    assert err.value.code == "gateway.idempotency_mismatch"


@pytest.mark.parametrize(
    ("fixture", "status"),
    [("error_api_error.json", 500), ("error_idempotency_key_in_use.json", 409)],
)
def test_a_server_error_or_a_request_still_running_leaves_the_outcome_unknown(
    gateway, fake, fixture, status
):
    fake.on("POST", "/v1/payment_intents", fixture, status=status)
    with pytest.raises(GatewayTimeout):
        pay(gateway)


@pytest.mark.parametrize(
    ("fixture", "status", "code"),
    [
        ("error_rate_limit.json", 429, "gateway.rate_limited"),
        ("error_authentication.json", 401, "gateway.not_authorised"),
    ],
)
def test_refusals_of_the_request_itself_are_gateway_errors(gateway, fake, fixture, status, code):
    fake.on("POST", "/v1/payment_intents", fixture, status=status)
    with pytest.raises(GatewayError) as err:
        pay(gateway)
    assert err.value.code == code


# --- void, refund and the payment life cycle ------------------------------------------------


def test_void_cancels_the_hold(gateway, fake):
    fake.on("POST", f"/v1/payment_intents/{PI_HELD}/cancel", "payment_intent_canceled.json")
    result = gateway.void(reference=PI_HELD, idempotency_key="void-0193f2b7")
    assert result.status is PaymentStatus.VOIDED
    assert (result.reference, result.amount, result.currency) == (PI_HELD, 5000, "USD")
    [sent] = fake.requests
    assert sent.key == "void-0193f2b7"


def test_a_partial_refund_references_the_payment(gateway, fake):
    fake.on("POST", "/v1/refunds", "refund_partial.json")
    result = gateway.refund(
        reference=PI_PAID, amount=1000, idempotency_key="return-0193f3c1-refund-1"
    )
    assert result.status is PaymentStatus.REFUNDED
    assert (result.reference, result.amount, result.currency) == (
        "re_3QhV4A2eZvKYlo2C0rF9gH0i",
        1000,
        "USD",
    )
    assert result.payment_reference == PI_PAID
    assert result.idempotency_key == "return-0193f3c1-refund-1"
    [sent] = fake.requests
    assert sent.params == {
        "payment_intent": PI_PAID,
        "amount": "1000",
        "metadata[omnitill_idempotency_key]": "return-0193f3c1-refund-1",
    }
    assert sent.key == "return-0193f3c1-refund-1"


@pytest.mark.parametrize(
    ("method", "path", "fixture", "code"),
    [
        ("capture", "capture", "error_capture_canceled.json", "payment.capture_after_void"),
        (
            "capture",
            "capture",
            "error_capture_amount_too_large.json",
            ("payment.capture_exceeds_authorization"),
        ),
        ("void", "cancel", "error_cancel_succeeded.json", "payment.not_voidable"),
    ],
)
def test_life_cycle_refusals_carry_the_sandbox_codes(gateway, fake, method, path, fixture, code):
    fake.on("POST", f"/v1/payment_intents/{PI_HELD}/{path}", fixture, status=400)
    if method == "capture":
        call = partial(gateway.capture, reference=PI_HELD, amount=6000, idempotency_key="k")
    else:
        call = partial(gateway.void, reference=PI_HELD, idempotency_key="k")
    with pytest.raises(GatewayError) as err:
        call()
    assert err.value.code == code


def test_a_refund_above_what_is_left_is_refused(gateway, fake):
    fake.on("POST", "/v1/refunds", "error_refund_amount_too_large.json", status=400)
    with pytest.raises(GatewayError) as err:
        gateway.refund(reference=PI_PAID, amount=2500, idempotency_key="r-too-much")
    assert err.value.code == "refund.exceeds_payment"


def test_an_unknown_reference_is_refused_by_every_operation(gateway, fake):
    missing = "pi_3QhZZZ2eZvKYlo2C9nOtThEr"
    for path in ("capture", "cancel"):
        fake.on(
            "POST",
            f"/v1/payment_intents/{missing}/{path}",
            "error_resource_missing.json",
            status=404,
        )
    fake.on("POST", "/v1/refunds", "error_resource_missing.json", status=404)
    calls = [
        lambda: gateway.capture(reference=missing, amount=None, idempotency_key="c"),
        lambda: gateway.void(reference=missing, idempotency_key="v"),
        lambda: gateway.refund(reference=missing, amount=100, idempotency_key="r"),
    ]
    for call in calls:
        with pytest.raises(GatewayError) as err:
            call()
        assert err.value.code == "payment.unknown_reference"


# --- Stripe Terminal (server-driven smart reader) --------------------------------------------


def tap(gateway: StripeGateway, **overrides: Any) -> Any:
    args: dict[str, Any] = {
        "amount": 2500,
        "payment_data": f"reader:{READER}",
        "entry_mode": "nfc_tap",
        "idempotency_key": KEY_TAP,
        "capture": False,
    }
    return pay(gateway, **{**args, **overrides})


def test_a_reader_payment_waits_for_the_tap_and_reads_the_entry_mode(gateway, fake):
    fake.on("POST", "/v1/payment_intents", "payment_intent_card_present_created.json")
    fake.on(
        "POST", f"/v1/terminal/readers/{READER}/process_payment_intent", "reader_processing.json"
    )
    fake.on("GET", f"/v1/terminal/readers/{READER}", "reader_processing.json")
    fake.on("GET", f"/v1/terminal/readers/{READER}", "reader_succeeded.json")
    fake.on(
        "GET", f"/v1/payment_intents/{PI_TAP}", "payment_intent_card_present_requires_capture.json"
    )
    result = tap(gateway)
    assert result.status is PaymentStatus.AUTHORIZED
    assert (result.reference, result.amount, result.currency) == (PI_TAP, 2500, "USD")
    assert result.auth_code == "912204"
    card = result.card
    assert card is not None
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "0077", 9, 2029)
    assert (card.entry_mode, card.fingerprint, card.token) == (
        "nfc_tap",
        "cPr3s3nTfInG9xYz",
        "pm_1QhV7E2eZvKYlo2CwX8yZ9aB",
    )
    [create] = fake.calls("POST", "/v1/payment_intents")
    assert create.params == {
        "amount": "2500",
        "currency": "usd",
        "allowed_payment_method_types[0]": "card_present",
        "capture_method": "manual",
        "metadata[omnitill_idempotency_key]": KEY_TAP,
        "metadata[omnitill_entry_mode]": "card_present",
    }
    assert create.key == KEY_TAP
    [process] = fake.calls("POST", f"/v1/terminal/readers/{READER}/process_payment_intent")
    assert process.params == {"payment_intent": PI_TAP}
    assert process.key == f"{KEY_TAP}:process"
    assert len(fake.calls("GET", f"/v1/terminal/readers/{READER}")) == 2
    assert fake.calls("POST", f"/v1/payment_intents/{PI_TAP}/cancel") == []


def test_a_declined_tap_is_a_decline_and_the_attempt_is_closed(gateway, fake):
    fake.on("POST", "/v1/payment_intents", "payment_intent_card_present_created.json")
    fake.on(
        "POST", f"/v1/terminal/readers/{READER}/process_payment_intent", "reader_processing.json"
    )
    fake.on("GET", f"/v1/terminal/readers/{READER}", "reader_failed_declined.json")
    fake.on("GET", f"/v1/payment_intents/{PI_TAP}", "payment_intent_card_present_declined.json")
    fake.on(
        "POST", f"/v1/payment_intents/{PI_TAP}/cancel", "payment_intent_card_present_canceled.json"
    )
    result = tap(gateway)
    assert result.status is PaymentStatus.DECLINED
    assert result.decline_code == "insufficient_funds"
    assert result.message == "Your card has insufficient funds."
    assert result.card is not None
    assert (result.card.last4, result.card.entry_mode) == ("9995", "emv_chip")
    [cancel] = fake.calls("POST", f"/v1/payment_intents/{PI_TAP}/cancel")
    assert cancel.key == f"{KEY_TAP}:cancel"


def test_an_offline_reader_is_refused_and_its_payment_intent_canceled(gateway, fake):
    fake.on("POST", "/v1/payment_intents", "payment_intent_card_present_created.json")
    fake.on(
        "POST",
        f"/v1/terminal/readers/{READER}/process_payment_intent",
        "error_terminal_reader_offline.json",
        status=400,
    )
    fake.on(
        "POST", f"/v1/payment_intents/{PI_TAP}/cancel", "payment_intent_card_present_canceled.json"
    )
    with pytest.raises(GatewayError) as err:
        tap(gateway)
    assert err.value.code == "terminal.reader_offline"
    assert len(fake.calls("POST", f"/v1/payment_intents/{PI_TAP}/cancel")) == 1


def test_a_reader_nobody_taps_is_stopped_and_the_attempt_fails(fake):
    impatient = StripeGateway(
        API_KEY, api_base=fake.url, reader_wait_seconds=0.05, poll_interval_seconds=0.01
    )
    fake.on("POST", "/v1/payment_intents", "payment_intent_card_present_created.json")
    fake.on(
        "POST", f"/v1/terminal/readers/{READER}/process_payment_intent", "reader_processing.json"
    )
    fake.on("GET", f"/v1/terminal/readers/{READER}", "reader_processing.json")
    fake.on("POST", f"/v1/terminal/readers/{READER}/cancel_action", "reader_idle.json")
    fake.on("GET", f"/v1/payment_intents/{PI_TAP}", "payment_intent_card_present_created.json")
    fake.on(
        "POST", f"/v1/payment_intents/{PI_TAP}/cancel", "payment_intent_card_present_canceled.json"
    )
    result = tap(impatient)
    assert result.status is PaymentStatus.FAILED
    assert not result.approved
    assert result.message == "no card was presented in time"
    [stop] = fake.calls("POST", f"/v1/terminal/readers/{READER}/cancel_action")
    assert stop.key == f"{KEY_TAP}:cancel_action"
    [cancel] = fake.calls("POST", f"/v1/payment_intents/{PI_TAP}/cancel")
    assert cancel.key == f"{KEY_TAP}:cancel"


def test_lookup_of_a_reader_payment_still_waiting_for_a_card_is_not_an_answer_yet(gateway, fake):
    waiting = load("search_result_empty.json")
    waiting["data"] = [load("payment_intent_card_present_created.json")]
    fake.on("GET", "/v1/payment_intents/search", waiting)
    with pytest.raises(GatewayTimeout):
        gateway.lookup(idempotency_key=KEY_TAP)


def test_every_mutating_request_carries_an_idempotency_key_derived_from_ours(gateway, fake):
    fake.on("POST", "/v1/payment_intents", "payment_intent_card_present_created.json")
    fake.on(
        "POST", f"/v1/terminal/readers/{READER}/process_payment_intent", "reader_processing.json"
    )
    fake.on("GET", f"/v1/terminal/readers/{READER}", "reader_failed_declined.json")
    fake.on("GET", f"/v1/payment_intents/{PI_TAP}", "payment_intent_card_present_declined.json")
    fake.on(
        "POST", f"/v1/payment_intents/{PI_TAP}/cancel", "payment_intent_card_present_canceled.json"
    )
    fake.on(
        "POST", f"/v1/payment_intents/{PI_HELD}/capture", "payment_intent_captured_in_part.json"
    )
    fake.on("POST", "/v1/refunds", "refund_partial.json")
    tap(gateway)
    gateway.capture(reference=PI_HELD, amount=3500, idempotency_key="cap-1")
    gateway.refund(reference=PI_PAID, amount=1000, idempotency_key="ref-1")
    posts = [r for r in fake.requests if r.method == "POST"]
    assert [r.key for r in posts] == [
        KEY_TAP,
        f"{KEY_TAP}:process",
        f"{KEY_TAP}:cancel",
        "cap-1",
        "ref-1",
    ]
    assert all(r.key is None for r in fake.requests if r.method == "GET")


def test_no_fixture_holds_a_card_number():
    texts = [path.read_text() for path in sorted(FIXTURES.glob("*.json"))]
    assert len(texts) >= 30
    assert all(find_pans(text) == [] for text in texts)

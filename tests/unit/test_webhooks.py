from __future__ import annotations

from datetime import timedelta

import pytest

from omnitill.domain.errors import Unauthenticated, ValidationFailed
from omnitill.domain.integrations import webhooks

# The Standard Webhooks reference test vector (its Python library's test_sign_function).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
PAYLOAD = '{"test": 2432232314}'


def test_signatures_match_the_standard_webhooks_reference_vector():
    assert webhooks.sign(SECRET, MSG_ID, TIMESTAMP, PAYLOAD) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )
    # the key may be given without its prefix
    assert webhooks.sign(SECRET.removeprefix("whsec_"), MSG_ID, TIMESTAMP, PAYLOAD) == (
        webhooks.sign(SECRET, MSG_ID, TIMESTAMP, PAYLOAD)
    )


def test_a_receiver_verifies_within_tolerance_and_among_rotated_signatures():
    sent = webhooks.headers(SECRET, MSG_ID, TIMESTAMP, PAYLOAD)
    webhooks.verify(SECRET, sent, PAYLOAD, now=TIMESTAMP + 299)
    rotated = {**sent, "webhook-signature": "v1,bm9wZQ== " + sent["webhook-signature"]}
    webhooks.verify(SECRET, rotated, PAYLOAD, now=TIMESTAMP)
    cases = [
        ({**sent}, PAYLOAD + " ", TIMESTAMP, "webhook.bad_signature"),
        ({**sent}, PAYLOAD, TIMESTAMP + 301, "webhook.timestamp_out_of_tolerance"),
        ({**sent}, PAYLOAD, TIMESTAMP - 301, "webhook.timestamp_out_of_tolerance"),
        (
            {k: v for k, v in sent.items() if k != "webhook-id"},
            PAYLOAD,
            TIMESTAMP,
            "webhook.missing_header",
        ),
        ({**sent, "webhook-timestamp": "soon"}, PAYLOAD, TIMESTAMP, "webhook.bad_timestamp"),
        (
            {**sent, "webhook-signature": "v2," + sent["webhook-signature"][3:]},
            PAYLOAD,
            TIMESTAMP,
            "webhook.bad_signature",
        ),
    ]
    for received, payload, now, code in cases:
        with pytest.raises(Unauthenticated) as err:
            webhooks.verify(SECRET, received, payload, now=now)
        assert err.value.code == code


def test_new_secrets_are_random_and_usable():
    one, two = webhooks.new_secret(), webhooks.new_secret()
    assert one != two
    assert one.startswith("whsec_")
    webhooks.verify(one, webhooks.headers(one, "e1", 10, "{}"), "{}", now=10)


def test_retries_span_more_than_a_day_then_give_up():
    delays = [webhooks.retry_delay(n) for n in range(1, 9)]
    assert delays[-1] is None
    assert sum((d for d in delays if d is not None), timedelta()) >= timedelta(hours=24)
    assert delays[:-1] == sorted(d for d in delays if d is not None)
    assert webhooks.retry_delay(0) is None


@pytest.mark.parametrize(
    "url", ["ftp://x.example/", "example.com/hook", "https://", "javascript:x"]
)
def test_an_endpoint_must_be_an_http_url(url):
    with pytest.raises(ValidationFailed) as err:
        webhooks.check_url(url)
    assert err.value.code == "webhook.invalid_url"
    assert (
        webhooks.check_url(" https://hooks.example/omnitill ") == "https://hooks.example/omnitill"
    )

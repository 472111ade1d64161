"""The sandbox processor behaves like a real one: declines, lost answers, idempotency."""

from __future__ import annotations

import pytest

from omnitill.adapters.payments.sandbox import SandboxGateway, SandboxTerminal
from omnitill.domain.payments.cards import find_pans
from omnitill.domain.payments.gateway import GatewayError, GatewayTimeout, PaymentStatus


@pytest.fixture
def gateway(tmp_path):
    return SandboxGateway(tmp_path / "sandbox.db")


@pytest.fixture
def terminal(gateway):
    return SandboxTerminal(gateway.public_key_pem())


def charge(gateway, terminal, pan, *, key="k1", amount=1999, capture=True, exp=(12, 2031)):
    data = terminal.read_card(pan, *exp)
    return gateway.authorize(
        amount=amount,
        currency="USD",
        payment_data=data,
        entry_mode="emv_chip",
        idempotency_key=key,
        capture=capture,
    )


def test_an_approval_carries_a_token_and_never_the_card_number(gateway, terminal):
    data = terminal.read_card("4242 4242 4242 4242", 12, 2031)
    assert find_pans(data) == []
    result = gateway.authorize(
        amount=1999,
        currency="USD",
        payment_data=data,
        entry_mode="nfc_tap",
        idempotency_key="k1",
    )
    assert result.status is PaymentStatus.CAPTURED
    assert result.approved
    assert result.auth_code
    assert len(result.auth_code) == 6
    card = result.card
    assert card is not None
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 12, 2031)
    assert card.entry_mode == "nfc_tap"
    assert card.token.startswith("tok_")
    assert "4242424242424242" not in repr(result)
    again = charge(gateway, terminal, "4242424242424242", key="k2")
    assert again.card is not None
    assert again.card.fingerprint == card.fingerprint
    other = charge(gateway, terminal, "5555555555554444", key="k3")
    assert other.card is not None
    assert other.card.fingerprint != card.fingerprint


@pytest.mark.parametrize(
    ("pan", "code"),
    [
        ("4000000000009995", "insufficient_funds"),
        ("4000000000000069", "expired_card"),
        ("4000000000000002", "do_not_honour"),
        ("4100000000000019", "suspected_fraud"),
    ],
)
def test_test_cards_decline_with_their_reason(gateway, terminal, pan, code):
    result = charge(gateway, terminal, pan)
    assert result.status is PaymentStatus.DECLINED
    assert result.decline_code == code
    assert not result.approved


def test_a_past_expiry_declines_as_expired(gateway, terminal):
    result = charge(gateway, terminal, "4242424242424242", exp=(1, 2020))
    assert result.decline_code == "expired_card"


def test_the_timeout_card_charges_but_loses_the_answer_and_lookup_finds_it(gateway, terminal):
    with pytest.raises(GatewayTimeout):
        charge(gateway, terminal, "4000000000000259", key="lost")
    found = gateway.lookup(idempotency_key="lost")
    assert found is not None
    assert found.status is PaymentStatus.CAPTURED
    assert gateway.lookup(idempotency_key="never-sent") is None
    # a retry with the same key answers the same payment: one charge, not two
    retry = charge(gateway, terminal, "4000000000000259", key="lost")
    assert retry.reference == found.reference


def test_requests_are_idempotent_by_key_and_a_reused_key_is_refused(gateway, terminal):
    first = charge(gateway, terminal, "4242424242424242", key="same")
    second = charge(gateway, terminal, "4242424242424242", key="same")
    assert second == first
    with pytest.raises(GatewayError) as err:
        charge(gateway, terminal, "4242424242424242", key="same", amount=1)
    assert err.value.code == "gateway.idempotency_mismatch"


def test_capture_void_and_refund_follow_the_payment_life_cycle(gateway, terminal):
    auth = charge(gateway, terminal, "4242424242424242", capture=False)
    assert auth.status is PaymentStatus.AUTHORIZED
    with pytest.raises(GatewayError) as err:
        gateway.refund(reference=auth.reference, amount=100, idempotency_key="r0")
    assert err.value.code == "payment.not_refundable"
    with pytest.raises(GatewayError) as err:
        gateway.capture(reference=auth.reference, amount=5000, idempotency_key="c0")
    assert err.value.code == "payment.capture_exceeds_authorization"
    captured = gateway.capture(reference=auth.reference, amount=1500, idempotency_key="c1")
    assert (captured.status, captured.amount) == (PaymentStatus.CAPTURED, 1500)
    refund = gateway.refund(reference=auth.reference, amount=1000, idempotency_key="r1")
    assert refund.payment_reference == auth.reference
    assert gateway.refund(reference=auth.reference, amount=1000, idempotency_key="r1") == refund
    with pytest.raises(GatewayError) as err:
        gateway.refund(reference=auth.reference, amount=501, idempotency_key="r2")
    assert err.value.code == "refund.exceeds_payment"
    gateway.refund(reference=auth.reference, amount=500, idempotency_key="r3")
    with pytest.raises(GatewayError) as err:
        gateway.void(reference=auth.reference, idempotency_key="v1")
    assert err.value.code == "payment.not_voidable"


def test_a_capture_after_a_void_is_refused(gateway, terminal):
    auth = charge(gateway, terminal, "4242424242424242", capture=False)
    assert gateway.void(reference=auth.reference, idempotency_key="v").status is (
        PaymentStatus.VOIDED
    )
    with pytest.raises(GatewayError) as err:
        gateway.capture(reference=auth.reference, amount=None, idempotency_key="c")
    assert err.value.code == "payment.capture_after_void"


def test_unreadable_data_and_unknown_references_are_refused(gateway, terminal):
    with pytest.raises(GatewayError) as err:
        gateway.authorize(
            amount=100,
            currency="USD",
            payment_data="4242424242424242",
            entry_mode="keyed",
            idempotency_key="x",
        )
    assert err.value.code == "gateway.invalid_payment_data"
    with pytest.raises(GatewayError) as err:
        charge(gateway, terminal, "4242424242424241")
    assert err.value.code == "gateway.invalid_card"
    with pytest.raises(GatewayError) as err:
        gateway.void(reference="pay_nope", idempotency_key="y")
    assert err.value.code == "payment.unknown_reference"


def test_two_processes_share_the_processor_records(tmp_path, terminal):
    path = tmp_path / "shared.db"
    one = SandboxGateway(path)
    two = SandboxGateway(path)
    assert one.public_key_pem() == two.public_key_pem()
    data = SandboxTerminal(one.public_key_pem()).read_card("4242424242424242", 12, 2031)
    paid = one.authorize(
        amount=100, currency="USD", payment_data=data, entry_mode="keyed", idempotency_key="p"
    )
    assert two.lookup(idempotency_key="p") == paid

from __future__ import annotations

from omnitill.domain.payments.cards import brand_of, find_pans, luhn_valid, redact_pans


def test_luhn_and_brands_of_well_known_test_numbers():
    cases = {
        "4242424242424242": "visa",
        "5555555555554444": "mastercard",
        "2223003122003222": "mastercard",
        "378282246310005": "amex",
        "6011111111111117": "discover",
        "3566002020360505": "jcb",
        "6200000000000005": "unionpay",
    }
    for pan, brand in cases.items():
        assert luhn_valid(pan), pan
        assert brand_of(pan) == brand
    assert not luhn_valid("4242424242424241")
    assert not luhn_valid("42424242x4242424")


def test_card_numbers_are_found_and_masked_in_any_text():
    text = 'order 1234567890123 {"pan": "4242424242424242"} tel 0041791234567'
    assert find_pans(text) == ["4242424242424242"]
    assert redact_pans(text) == (
        'order 1234567890123 {"pan": "************4242"} tel 0041791234567'
    )
    assert find_pans("42424242424242421") == []  # 17 digits, not Luhn-valid


def test_digit_runs_inside_hex_digests_are_not_card_numbers():
    digest = "ab4242424242424242cd"
    assert find_pans(digest) == []
    assert find_pans("pan=4242424242424242;") == ["4242424242424242"]

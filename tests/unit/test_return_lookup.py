"""The receipt's scan content, the lookup criteria and the refusal of card numbers, as pure
rules."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from omnitill.domain.errors import ValidationFailed
from omnitill.domain.returns.lookup import (
    LookupKind,
    LookupParams,
    card_number_fields,
    date_range,
    order_qr,
    plan_lookup,
    read_scan,
    receipt_barcode,
    receipt_qr,
)

TODAY = date(2025, 3, 1)


def test_what_a_receipt_prints_reads_back_as_the_same_purchase():
    assert receipt_qr("S01-R1-000123") == "OT1:R:S01-R1-000123"
    assert order_qr(100123) == "OT1:O:100123"
    assert read_scan(receipt_qr("S01-R1-000123")).receipt_number == "S01-R1-000123"
    assert read_scan(receipt_barcode("S01-R1-000123")).receipt_number == "S01-R1-000123"
    assert read_scan(order_qr(100123)).order_number == 100123
    assert read_scan("oT1:o:#100123\n").order_number == 100123
    assert read_scan("]C1s02-r1-000001").receipt_number == "S02-R1-000001"


@pytest.mark.parametrize("text", ["", "   ", "OT1:", "OT1:R:S01", "OT1:Q:1", "S01-R1-12", "a#1"])
def test_an_unknown_scan_is_unreadable(text):
    with pytest.raises(ValidationFailed) as refused:
        read_scan(text)
    assert refused.value.code == "returns.scan_unreadable"


def test_card_numbers_are_found_grouped_or_not_and_fingerprints_and_phones_pass():
    assert card_number_fields(
        [
            ("scan", "4242 4242 4242 4242"),
            ("email", "x-5555-5555-5555-4444@example.com"),
            ("card_fingerprint", "1234567890123456"),
            ("cardNumber", ""),
        ]
    ) == ["scan", "email", "card_fingerprint", "cardNumber"]
    assert (
        card_number_fields(
            [
                ("card_fingerprint", "a1234567890123456789b2c3d4e5f6a7"),  # hex holds digit runs
                ("phone", "+86 138 0013 8000"),
                ("receipt", "S01-R1-000123"),
                ("order", "#100123"),
                ("from", "2025-01-01"),
            ]
        )
        == []
    )
    assert card_number_fields([("phone", "4242424242424242")]) == ["phone"]


def test_a_card_search_defaults_to_the_last_90_days_and_spans_at_most_366():
    fp = plan_lookup(LookupParams(card_fingerprint="abc"), today=TODAY)
    assert fp.kind is LookupKind.CARD
    assert fp.dates is not None
    assert (fp.dates.start, fp.dates.end) == (TODAY - timedelta(days=90), TODAY)
    email = plan_lookup(LookupParams(email="A@B.co"), today=TODAY)
    assert (email.email, email.dates) == ("a@b.co", None)
    longest = date_range(TODAY - timedelta(days=366), TODAY, today=TODAY, default_days=None)
    assert longest is not None
    with pytest.raises(ValidationFailed) as too_long:
        date_range(TODAY - timedelta(days=367), TODAY, today=TODAY, default_days=None)
    assert too_long.value.code == "returns.lookup_range_too_long"


def test_blank_criteria_are_not_given():
    with pytest.raises(ValidationFailed) as refused:
        plan_lookup(LookupParams(receipt=" ", email=""), today=TODAY)
    assert refused.value.code == "returns.lookup_criteria"
    assert plan_lookup(LookupParams(receipt=" S01-R1-000001 ", email=""), today=TODAY).targets == {
        "sale"
    }

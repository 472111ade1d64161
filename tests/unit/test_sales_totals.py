from __future__ import annotations

import pytest

from omnitill.domain.errors import ValidationFailed
from omnitill.domain.sales.receipts import format_receipt_number, parse_receipt_number
from omnitill.domain.sales.totals import Tender, settle_cash


def test_cash_above_the_total_is_change():
    s = settle_cash(total=1501, tenders=[Tender("cash", 1000), Tender("cash", 1000)])
    assert s.change_due == 499
    assert s.tendered == 2000


def test_cash_short_of_the_total_is_refused_with_the_shortfall():
    with pytest.raises(ValidationFailed) as err:
        settle_cash(total=1501, tenders=[Tender("cash", 1500)])
    assert err.value.code == "payment.insufficient"
    assert err.value.details["short_by"] == 1


def test_receipt_numbers_are_register_code_and_six_digits():
    assert format_receipt_number("S01-R1", 42) == "S01-R1-000042"
    assert format_receipt_number("S01-R1", 1234567) == "S01-R1-1234567"
    assert parse_receipt_number("S01-R1-000042") == ("S01-R1", 42)
    assert parse_receipt_number("garbage") is None
    with pytest.raises(ValueError, match="start at 1"):
        format_receipt_number("S01-R1", 0)

from __future__ import annotations

from decimal import Decimal

import pytest

from omnitill.domain.errors import ValidationFailed
from omnitill.domain.sales.receipts import format_receipt_number, parse_receipt_number
from omnitill.domain.sales.totals import SaleLineInput, TaxRule, Tender, price_sale, settle_cash


def line(price, qty=1, sku="A"):
    return SaleLineInput(
        variant_id=sku, sku=sku, name=sku, quantity=qty, unit_price=price, list_price=price
    )


def test_exclusive_tax_is_added_per_line_and_rounded_half_up():
    sale = price_sale(
        currency="USD",
        lines=[line(1000, 1), line(333, 3, "B")],
        tax=TaxRule(Decimal("0.0825"), inclusive=False),
    )
    # 10.00 -> 0.825 -> 0.83 ; 9.99 -> 0.824175 -> 0.82
    assert [p.tax_total for p in sale.lines] == [83, 82]
    assert sale.subtotal == 1999
    assert sale.total == 1999 + 165
    assert sale.total == sale.subtotal - sale.discount_total + sale.tax_total


def test_inclusive_tax_is_carved_out_of_the_shelf_price():
    sale = price_sale(
        currency="EUR", lines=[line(1190)], tax=TaxRule(Decimal("0.19"), inclusive=True)
    )
    assert sale.total == 1190
    assert sale.tax_total == 190
    assert sale.taxable_total == 1000


def test_zero_decimal_currencies_tax_in_whole_units():
    sale = price_sale(
        currency="JPY", lines=[line(1234)], tax=TaxRule(Decimal("0.10"), inclusive=False)
    )
    assert sale.tax_total == 123
    assert sale.total == 1357


def test_every_bad_line_is_reported_at_once():
    with pytest.raises(ValidationFailed) as err:
        price_sale(
            currency="USD",
            lines=[line(100, 0), line(100, -1, "B")],
            tax=TaxRule(Decimal(0), inclusive=False),
        )
    assert [e.field for e in err.value.errors] == ["lines.0.quantity", "lines.1.quantity"]


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

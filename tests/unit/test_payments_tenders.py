from __future__ import annotations

from decimal import Decimal

import pytest

from omnitill.domain.errors import ValidationFailed
from omnitill.domain.payments.cash import (
    CashCount,
    cash_increment,
    check_count,
    round_cash,
)
from omnitill.domain.payments.tenders import TenderInput, convert_down, settle


def test_cash_rounds_to_the_nearest_increment_halves_up():
    assert [round_cash(a, 5) for a in (1000, 1001, 1002, 1003, 1004, 1005)] == [
        1000,
        1000,
        1000,
        1005,
        1005,
        1005,
    ]
    assert round_cash(1047, 1) == 1047
    assert round_cash(-1003, 5) == -1005
    assert cash_increment("CHF") == 5
    assert cash_increment("USD") == 1
    assert cash_increment("USD", override=5) == 5


def test_cash_with_change_and_no_rounding():
    s = settle(total=1899, currency="USD", tenders=[TenderInput("cash", 2000)])
    assert s.change_due == 101
    assert s.cash_rounding == 0
    assert s.tenders[0].applied == 1899
    assert s.balance_due == 0


def test_swiss_cash_is_rounded_but_a_card_pays_the_exact_total():
    cash = settle(total=1002, currency="CHF", tenders=[TenderInput("cash", 2000)], cash_increment=5)
    assert (cash.cash_rounding, cash.payable, cash.change_due) == (-2, 1000, 1000)
    card = settle(total=1002, currency="CHF", tenders=[TenderInput("card", 1002)], cash_increment=5)
    assert (card.cash_rounding, card.payable, card.change_due) == (0, 1002, 0)


def test_split_tender_rounds_only_the_cash_part():
    s = settle(
        total=1003,
        currency="CAD",
        tenders=[TenderInput("card", 500), TenderInput("cash", 600)],
        cash_increment=5,
    )
    # 503 left for cash, rounded to 505
    assert s.cash_rounding == 2
    assert [t.applied for t in s.tenders] == [500, 505]
    assert s.change_due == 95
    assert s.paid == s.payable == 1005


def test_a_card_may_not_pay_more_than_is_due():
    with pytest.raises(ValidationFailed) as err:
        settle(
            total=1000,
            currency="USD",
            tenders=[TenderInput("gift_card", 600), TenderInput("card", 500)],
        )
    assert err.value.code == "payment.over_tender"
    assert err.value.errors[0].field == "payments.1.amount"


def test_short_payment_is_refused_unless_it_is_a_deposit():
    with pytest.raises(ValidationFailed) as err:
        settle(total=1000, currency="USD", tenders=[TenderInput("card", 400)])
    assert err.value.code == "payment.insufficient"
    assert err.value.details["short_by"] == 600
    deposit = settle(
        total=1000, currency="USD", tenders=[TenderInput("card", 400)], allow_partial=True
    )
    assert deposit.balance_due == 600
    cash_deposit = settle(
        total=1003,
        currency="CHF",
        tenders=[TenderInput("cash", 500)],
        cash_increment=5,
        allow_partial=True,
    )
    assert (cash_deposit.cash_rounding, cash_deposit.balance_due) == (0, 503)


def test_foreign_cash_counts_at_the_rate_rounded_down_with_change_in_local_currency():
    # 20.00 EUR at 1.0857 USD = 21.714 -> 21.71 USD credited
    assert convert_down(2000, "EUR", "USD", Decimal("1.0857")) == 2171
    # 1,000 JPY (no minor units) at 0.0067 USD = 6.70 USD
    assert convert_down(1000, "JPY", "USD", Decimal("0.0067")) == 670
    s = settle(
        total=1999,
        currency="USD",
        tenders=[TenderInput("cash", 2000, "EUR", Decimal("1.0857"))],
    )
    assert s.tenders[0].applied == 1999
    assert s.tenders[0].tendered == 2000
    assert s.tenders[0].currency == "EUR"
    assert s.change_due == 172


def test_bad_tenders_are_all_named():
    with pytest.raises(ValidationFailed) as err:
        settle(
            total=1000,
            currency="USD",
            tenders=[
                TenderInput("cheque", 100),
                TenderInput("card", 0),
                TenderInput("card", 100, "EUR", Decimal("1.1")),
                TenderInput("cash", 100, "EUR"),
            ],
        )
    codes = [(e.field, e.code) for e in err.value.errors]
    assert codes == [
        ("payments.0.method", "payment.method_unsupported"),
        ("payments.1.amount", "payment.amount_not_positive"),
        ("payments.2.currency", "payment.foreign_currency_not_cash"),
        ("payments.3.rate", "payment.rate_required"),
    ]


def test_cash_when_nothing_is_due_is_refused():
    with pytest.raises(ValidationFailed) as err:
        settle(
            total=1000,
            currency="USD",
            tenders=[TenderInput("card", 1000), TenderInput("cash", 500)],
        )
    assert err.value.code == "payment.not_needed"


def test_a_float_is_counted_by_denomination():
    count = CashCount("USD", {2000: 5, 100: 20, 25: 40})
    assert check_count(count) == 10000 + 2000 + 1000
    with pytest.raises(ValidationFailed) as err:
        check_count(CashCount("USD", {300: 1, 100: -1}))
    assert [(e.field, e.code) for e in err.value.errors] == [
        ("denominations.300", "cash.unknown_denomination"),
        ("denominations.100", "cash.negative_count"),
    ]

from __future__ import annotations

import pytest

from omnitill.domain.errors import ValidationFailed
from omnitill.domain.payments.shifts import check_manual, close, render, summarize


def summary():
    return summarize(
        currency="USD",
        movements=[("float", 10000), ("sale", 2550), ("drop", -5000), ("no_sale", 0)],
        payments={"cash": 2550, "card": 8000},
    )


def test_the_expected_cash_is_the_float_plus_the_drawer_ledger():
    s = summary()
    assert s.expected_cash == 7550
    assert s.no_sales == 1
    assert s.expected() == {"card": 8000, "cash": 7550}


def test_manual_movements_need_a_kind_a_positive_amount_and_reasons():
    assert check_manual("drop", 100, "", expected_cash=500) == "drop"
    with pytest.raises(ValidationFailed) as err:
        check_manual("sale", 0, "", expected_cash=500)
    assert [e.code for e in err.value.errors] == ["cash.invalid_kind", "cash.invalid_amount"]
    with pytest.raises(ValidationFailed) as err:
        check_manual("paid_out", 100, " ", expected_cash=500)
    assert err.value.code == "cash.reason_required"
    with pytest.raises(ValidationFailed) as err:
        check_manual("pickup", 501, "", expected_cash=500)
    assert err.value.code == "cash.exceeds_drawer"
    assert check_manual("paid_in", 10**6, "change", expected_cash=0) == "paid_in"


def test_closing_compares_each_counted_tender_and_totals_the_variance():
    closing = close(summary(), counted={"cash": 7500, "card": 8000})
    assert [(t.method, t.expected, t.counted, t.variance) for t in closing.tenders] == [
        ("card", 8000, 8000, 0),
        ("cash", 7550, 7500, -50),
    ]
    assert closing.variance == -50
    assert not closing.needs_reason(500)
    assert closing.needs_reason(49)
    with pytest.raises(ValidationFailed) as err:
        close(summary(), counted={"card": 8000, "gift_card": 5})
    assert [(e.field, e.code) for e in err.value.errors] == [
        ("counted.cash", "shift.count_required"),
        ("counted.gift_card", "shift.uncountable_tender"),
    ]


def test_reports_render_for_an_80mm_printer():
    closing = close(summary(), counted={"cash": 7500})
    text = render(
        title="Z REPORT",
        header=["S01 S01-R1"],
        summary=summary(),
        closing=[(t.method, t.expected, t.counted, t.variance) for t in closing.tenders],
    )
    lines = text.splitlines()
    assert all(len(line) <= 42 for line in lines)
    assert all(len(line) == 42 for line in lines[3:])
    assert any(
        line.startswith("Expected cash in drawer") and line.endswith(" 75.50") for line in lines
    )
    assert not any(line.startswith("Cash no sale") for line in lines)
    assert any(line.startswith("cash variance") and line.endswith("-0.50") for line in lines)

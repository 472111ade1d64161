"""Golden vectors for money, each with the source of its expected figure (tests/vectors)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from omnitill.domain.money import allocate, minor_units
from omnitill.domain.tax.engine import TaxableLine, TaxInput, TaxResult, compute_tax
from omnitill.domain.tax.model import Jurisdiction, TaxComponent

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "money.json").read_text())


def _tax(amount: int, rate: Decimal, *, inclusive: bool) -> TaxResult:
    """One item under a single-rate jurisdiction, through the tax engine."""
    j = Jurisdiction(
        code="J",
        name="J",
        components=(TaxComponent("T", "Tax", {"standard": rate}),),
        inclusive=inclusive,
    )
    return compute_tax(TaxInput(j, [TaxableLine("0", "standard", 1, amount)], date(2026, 1, 1)))


@pytest.mark.parametrize("case", VECTORS["minor_units"]["cases"], ids=lambda c: c["currency"])
def test_currencies_have_their_iso_4217_minor_units(case):
    assert minor_units(case["currency"]) == case["exponent"]


@pytest.mark.parametrize("case", VECTORS["sales_tax_per_line"]["cases"], ids=lambda c: c["work"])
def test_sales_tax_rounds_half_up_to_the_cent_per_line(case):
    rate = Decimal(VECTORS["sales_tax_per_line"]["rate"])
    sale = _tax(case["amount"], rate, inclusive=False)
    assert sale.tax_total == case["tax"]
    assert sale.gross_total == case["amount"] + case["tax"]


@pytest.mark.parametrize("case", VECTORS["vat_inclusive"]["cases"], ids=lambda c: c["work"])
def test_vat_is_carved_out_of_inclusive_prices(case):
    sale = _tax(case["gross"], Decimal(case["rate"]), inclusive=True)
    assert sale.tax_total == case["tax"]
    assert sale.gross_total == case["gross"]


@pytest.mark.parametrize("case", VECTORS["allocate"]["cases"], ids=lambda c: c["work"])
def test_largest_remainder_splits_match_the_worked_examples(case):
    parts = allocate(case["total"], case["weights"])
    assert parts == case["parts"]
    assert sum(parts) == case["total"]

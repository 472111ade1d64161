"""The tax engine's per-line price basis (`TaxableLine.inclusive`), which pricing relies on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from omnitill.domain.tax.engine import TaxableLine, TaxInput, compute_tax
from omnitill.domain.tax.model import Jurisdiction, RoundingLevel, TaxComponent

ON = date(2026, 11, 30)
VAT = (TaxComponent("VAT", "VAT 20 %", {"standard": Decimal("0.20")}),)


def taxes(inclusive: bool, *lines: TaxableLine, **kw):
    j = Jurisdiction(
        "X", "X", VAT, inclusive=inclusive, rounding=kw.pop("rounding", RoundingLevel.LINE)
    )
    return compute_tax(TaxInput(jurisdiction=j, lines=lines, on=ON, **kw))


def test_a_line_without_a_basis_follows_the_jurisdiction():
    (gross,) = taxes(True, TaxableLine("a", "standard", 1, 1200)).lines
    (net,) = taxes(False, TaxableLine("a", "standard", 1, 1200)).lines
    assert (gross.net, gross.tax, gross.gross) == (1000, 200, 1200)
    assert (net.net, net.tax, net.gross) == (1200, 240, 1440)


def test_a_line_can_say_its_price_includes_tax_where_shelf_prices_do_not():
    result = taxes(
        False,
        TaxableLine("gross", "standard", 1, 1200, inclusive=True),
        TaxableLine("net", "standard", 1, 1200),
    )
    assert [(x.net, x.tax, x.gross) for x in result.lines] == [(1000, 200, 1200), (1200, 240, 1440)]
    assert (result.net_total, result.tax_total, result.gross_total) == (2200, 440, 2640)


def test_a_line_can_say_its_price_excludes_tax_where_shelf_prices_include_it():
    result = taxes(True, TaxableLine("b2b", "standard", 2, 1000, inclusive=False))
    assert (result.lines[0].net, result.lines[0].tax, result.lines[0].gross) == (1000, 200, 1200)


def test_shipping_keeps_the_jurisdictions_basis():
    result = taxes(True, TaxableLine("a", "standard", 1, 1000, inclusive=False), shipping=600)
    assert result.shipping is not None
    assert (result.shipping.net, result.shipping.tax) == (500, 100)


def test_mixed_bases_round_together_per_document():
    result = taxes(
        False,
        TaxableLine("a", "standard", 1, 33, inclusive=True),  # 5.5 exact
        TaxableLine("b", "standard", 1, 33),  # 6.6 exact
        rounding=RoundingLevel.DOCUMENT,
    )
    assert result.tax_total == 12  # 12.1 -> 12
    assert [x.gross for x in result.lines] == [33, 33 + result.lines[1].tax]


def test_an_exempt_buyer_pays_the_net_of_inclusive_lines_and_the_price_of_exclusive_ones():
    result = taxes(
        False,
        TaxableLine("gross", "standard", 1, 1200, inclusive=True),
        TaxableLine("net", "standard", 1, 1200),
        exemption_certificate="EX-1",
    )
    assert [(x.net, x.tax, x.gross) for x in result.lines] == [(1000, 0, 1000), (1200, 0, 1200)]

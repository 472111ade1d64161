"""The barcode encoders against published encodings (GS1 General Specifications 5.2 for
EAN-13, ISO/IEC 15417 for Code 128), and the ticket layout."""

from __future__ import annotations

import pytest

from omnitill.domain.errors import ValidationFailed
from omnitill.domain.labels.barcodes import (
    Symbology,
    code128,
    code128_values,
    ean13,
    ean13_modules,
    gtin_check_digit,
    is_gtin13,
    product_barcode,
)
from omnitill.domain.labels.ticket import TicketBuilder, wrap

# GS1 number sets: L (odd parity), G (even parity), R (right half), from the specification.
L = ["0001101", "0011001", "0010011", "0111101", "0100011",
     "0110001", "0101111", "0111011", "0110111", "0001011"]  # fmt: skip
G = ["0100111", "0110011", "0011011", "0100001", "0011101",
     "0111001", "0000101", "0010001", "0001001", "0010111"]  # fmt: skip
R = ["1110010", "1100110", "1101100", "1000010", "1011100",
     "1001110", "1010000", "1000100", "1001000", "1110100"]  # fmt: skip


@pytest.mark.parametrize(
    ("first_twelve", "check"),
    [
        ("400638133393", 1),  # the EAN-13 example of the GS1 / Wikipedia article
        ("978030640615", 7),  # ISBN 978-0-306-40615-7
        ("501234567890", 0),  # GS1's own example GTIN 5012345678900
        ("000000000000", 0),
    ],
)
def test_the_gtin_check_digit_matches_published_examples(first_twelve, check):
    assert gtin_check_digit(first_twelve) == check
    assert is_gtin13(first_twelve + str(check))
    assert not is_gtin13(first_twelve + str((check + 1) % 10))


def test_ean13_draws_4006381333931_with_the_parity_of_its_first_digit():
    # First digit 4: left half parity L G L L G G.
    left = L[0] + G[0] + L[6] + L[3] + G[8] + G[1]
    right = R[3] + R[3] + R[3] + R[9] + R[3] + R[1]
    expected = "101" + left + "01010" + right + "101"
    assert ean13_modules("4006381333931") == expected
    code = ean13("4006381333931")
    assert code.modules == 95
    assert len(code.bars()) == 30  # two bars per digit and two per guard
    assert code.widths[:3] == (1, 1, 1)  # the start guard


def test_ean13_refuses_a_wrong_check_digit():
    with pytest.raises(ValueError, match="GTIN-13"):
        ean13_modules("4006381333932")


def test_code128_encodes_wikipedia_in_code_set_b_with_its_mod_103_check():
    values = code128_values("Wikipedia")
    # Start B (104), then each character's value (ASCII - 32), then the check character.
    data = [55, 73, 75, 73, 80, 69, 68, 73, 65]
    check = (104 + sum(i * v for i, v in enumerate(data, start=1))) % 103
    assert values == [104, *data, check]
    code = code128("Wikipedia")
    # Start B is 2-1-1-2-1-4 and the stop pattern 2-3-3-1-1-1-2 (ISO/IEC 15417, table 1).
    assert code.widths[:6] == (2, 1, 1, 2, 1, 4)
    assert code.widths[-7:] == (2, 3, 3, 1, 1, 1, 2)
    assert code.widths[6:12] == (3, 1, 1, 3, 2, 1)  # "W" is value 55: 3-1-1-3-2-1
    assert code.modules == 11 * 11 + 13  # start, 9 characters, check: 11 each; stop 13


def test_code128_packs_digit_runs_in_code_set_c():
    assert code128_values("12345678")[:5] == [105, 12, 34, 56, 78]
    # S01-R1-000001: set B, then Code C (99) for the six digits at the end.
    values = code128_values("S01-R1-000001")
    assert values[:8] == [104, 51, 16, 17, 13, 50, 17, 13]
    assert values[8:12] == [99, 0, 0, 1]
    # A short digit run inside the text stays in set B.
    assert 99 not in code128_values("AB123CD")


def test_a_product_barcode_is_ean13_only_for_a_valid_gtin():
    assert product_barcode("4006381333931").symbology is Symbology.EAN13
    assert product_barcode("4006381333932").symbology is Symbology.CODE128
    assert product_barcode("TOTE-BLK").symbology is Symbology.CODE128
    with pytest.raises(ValidationFailed) as refused:
        product_barcode("CAFÉ", field="sku.0")
    assert [(e.field, e.code) for e in refused.value.errors] == [("sku.0", "labels.unencodable")]


def test_ticket_rows_fit_the_paper_and_keep_the_amount_flush_right():
    t = TicketBuilder(width=20)
    t.pair("A rather long product name", "$10.00")
    rows = [b.text for b in t.build().blocks]
    assert all(len(r) <= 20 for r in rows)
    assert rows[-1].endswith("$10.00")
    assert len(rows[-1]) == 20
    assert wrap("Returns within 30 days\nwith receipt", 12) == [
        "Returns",
        "within 30",
        "days",
        "with receipt",
    ]

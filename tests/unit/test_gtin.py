from __future__ import annotations

import pytest

from omnitill.domain.catalog.gtin import (
    gtin_check_digit,
    is_valid_gtin,
    normalize_scan,
    validate_gtin,
)
from omnitill.domain.errors import ValidationFailed

REAL_GTINS = [
    "96385074",  # EAN-8
    "73513537",  # EAN-8
    "036000291452",  # UPC-A
    "012345678905",  # UPC-A
    "4006381333931",  # EAN-13
    "5901234123457",  # EAN-13
    "9780306406157",  # ISBN-13 as EAN-13
    "00012345600012",  # GTIN-14
    "10614141000415",  # GTIN-14 with a packaging indicator
]


@pytest.mark.parametrize("code", REAL_GTINS)
def test_real_gtins_of_every_length_are_valid(code):
    assert is_valid_gtin(code)
    assert validate_gtin(code) == code


@pytest.mark.parametrize("code", REAL_GTINS)
def test_the_check_digit_is_computed_from_the_data_digits(code):
    assert gtin_check_digit(code[:-1]) == int(code[-1])


@pytest.mark.parametrize("code", REAL_GTINS)
def test_every_other_check_digit_is_refused(code):
    for digit in "0123456789":
        if digit != code[-1]:
            assert not is_valid_gtin(code[:-1] + digit)


def test_a_single_mistyped_digit_is_caught():
    assert not is_valid_gtin("4006381333941")
    assert not is_valid_gtin("036000291462")


@pytest.mark.parametrize(
    "code",
    ["", "1234567", "123456789", "1234567890", "12345678901", "123456789012345", "0" * 18],
)
def test_lengths_other_than_8_12_13_14_are_refused(code):
    assert not is_valid_gtin(code)


@pytest.mark.parametrize(
    "code", ["40063813339X1", "4006381333931 ", "+36000291452", "٤٠٠٦٣٨١٣٣٣٩٣١", "3.6000291452"]
)
def test_anything_but_ascii_digits_is_refused(code):
    assert not is_valid_gtin(code)


def test_validate_names_the_field_and_uses_the_stable_code():
    with pytest.raises(ValidationFailed) as err:
        validate_gtin("4006381333932", field="variants.3.barcode")
    assert err.value.code == "catalog.invalid_barcode"
    assert [e.field for e in err.value.errors] == ["variants.3.barcode"]


def test_check_digit_needs_digits():
    with pytest.raises(ValueError, match="digits"):
        gtin_check_digit("12A4")


def test_a_upc_a_scan_also_tries_its_ean_13_and_gtin_14_forms():
    assert normalize_scan("036000291452") == ["036000291452", "0036000291452", "00036000291452"]


def test_an_ean_13_reader_padding_is_undone_for_the_lookup():
    assert normalize_scan("0036000291452") == ["0036000291452", "036000291452", "00036000291452"]


def test_a_gtin_14_without_a_packaging_indicator_maps_back_to_the_shorter_forms():
    forms = normalize_scan("00036000291452")
    assert forms[0] == "00036000291452"
    assert set(forms) == {"036000291452", "0036000291452", "00036000291452"}


def test_ean_8_and_non_numeric_codes_are_looked_up_as_scanned():
    assert normalize_scan("96385074") == ["96385074"]
    assert normalize_scan("TEE-BLK-M") == ["TEE-BLK-M"]


def test_scanner_whitespace_is_trimmed():
    assert normalize_scan(" 4006381333931\n")[0] == "4006381333931"


def test_a_full_ean_13_is_not_truncated_to_twelve_digits():
    assert normalize_scan("4006381333931") == ["4006381333931", "04006381333931"]

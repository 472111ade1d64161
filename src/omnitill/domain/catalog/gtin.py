"""GTIN barcodes (GTIN-8, UPC-A/GTIN-12, EAN-13/GTIN-13, GTIN-14) and their check digit.

The check digit is the GS1 mod-10 scheme: from the rightmost data digit leftwards, weights
alternate 3, 1, 3, 1...; the check digit brings the weighted sum to a multiple of ten.
"""

from __future__ import annotations

from omnitill.domain.errors import FieldError, ValidationFailed

GTIN_LENGTHS = (8, 12, 13, 14)


def gtin_check_digit(data: str) -> int:
    """The check digit for `data`, the GTIN without its last digit."""
    if not data.isdigit():
        raise ValueError("GTIN data must be digits")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(data)))
    return (10 - total % 10) % 10


def is_valid_gtin(code: str) -> bool:
    """True for an 8, 12, 13 or 14 digit string whose last digit is the right check digit."""
    if len(code) not in GTIN_LENGTHS or not code.isdigit() or not code.isascii():
        return False
    return gtin_check_digit(code[:-1]) == int(code[-1])


def validate_gtin(code: str, *, field: str = "barcode") -> str:
    """Return `code` if it is a valid GTIN, else raise `catalog.invalid_barcode`."""
    if not is_valid_gtin(code):
        raise ValidationFailed(
            "catalog.invalid_barcode",
            f"{code!r} is not a valid GTIN-8/12/13/14 (length or check digit)",
            {"barcode": code},
            errors=[FieldError(field, "catalog.invalid_barcode", "not a valid GTIN")],
        )
    return code


def normalize_scan(code: str) -> list[str]:
    """Forms of a scanned code to look up: as scanned, and GTIN-12/13/14 paddings of it.

    Scanners report a UPC-A as 12 digits, an EAN-13 reader as 13 with a leading zero; we store
    the form the merchant entered, so a lookup tries the equivalent zero-padded lengths.
    """
    code = code.strip()
    forms = [code]
    if code.isdigit() and len(code) in (12, 13, 14):
        bare = code.lstrip("0")
        for length in (12, 13, 14):
            if len(bare) <= length:
                padded = bare.rjust(length, "0")
                if padded not in forms:
                    forms.append(padded)
    return forms

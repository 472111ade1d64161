"""Human receipt numbers: ``<REGISTER CODE>-<6-digit sequence>``, e.g. ``S01-R1-000123``.

The sequence is per register and gapless: it is taken inside the sale's transaction, so a sale
that rolls back gives its number back.
"""

from __future__ import annotations

import re

_PATTERN = re.compile(r"^(?P<register>[A-Z0-9][A-Z0-9-]*)-(?P<seq>\d{6,})$")


def format_receipt_number(register_code: str, seq: int) -> str:
    """``S01-R1`` and 42 -> ``S01-R1-000042``; sequences past 999999 grow wider."""
    if seq < 1:
        raise ValueError("receipt sequences start at 1")
    return f"{register_code}-{seq:06d}"


def parse_receipt_number(number: str) -> tuple[str, int] | None:
    """Split a receipt number into register code and sequence, or None if malformed."""
    match = _PATTERN.match(number)
    if match is None:
        return None
    return match["register"], int(match["seq"])

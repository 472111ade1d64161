"""Card numbers, only ever to recognise and refuse them.

omnitill never stores, logs or returns a primary account number (DESIGN invariant 6): the
terminal encrypts it for the gateway, and omnitill keeps the gateway's token, the brand, the
last four digits, the expiry and a fingerprint. These helpers name a brand from the leading
digits (for the sandbox and for display), and find Luhn-valid 13-19 digit runs in any text, so
logs can be scrubbed and tests can prove no card number is anywhere.
"""

from __future__ import annotations

import re

# A run of 13-19 digits standing alone: not inside a longer run of letters and digits (a
# SHA-256 in hex holds digit runs that pass the Luhn check one time in ten by chance).
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])\d{13,19}(?![0-9A-Za-z])")


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check every payment card number carries."""
    if not digits.isdigit():
        return False
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def brand_of(pan: str) -> str:
    """visa, mastercard, amex, discover, jcb, unionpay, maestro or unknown (by IIN range)."""
    if pan.startswith("4"):
        return "visa"
    two, four, six = int(pan[:2] or 0), int(pan[:4] or 0), int(pan[:6] or 0)
    if 51 <= two <= 55 or 222100 <= six <= 272099:
        return "mastercard"
    if two in (34, 37):
        return "amex"
    if pan.startswith("6011") or pan.startswith("65") or 644 <= int(pan[:3] or 0) <= 649:
        return "discover"
    if 3528 <= four <= 3589:
        return "jcb"
    if two == 62:
        return "unionpay"
    if two in (50, 56, 57, 58) or pan.startswith("6"):
        return "maestro"
    return "unknown"


def find_pans(text: str) -> list[str]:
    """Every run of 13-19 digits in `text` that passes the Luhn check."""
    return [m.group(0) for m in _DIGIT_RUN.finditer(text) if luhn_valid(m.group(0))]


def redact_pans(text: str) -> str:
    """`text` with every Luhn-valid 13-19 digit run masked but its last four digits."""

    def mask(m: re.Match[str]) -> str:
        run = m.group(0)
        return "*" * (len(run) - 4) + run[-4:] if luhn_valid(run) else run

    return _DIGIT_RUN.sub(mask, text)


def masked(last4: str) -> str:
    """How a card shows on screens and receipts: the last four digits only."""
    return f"**** {last4}"

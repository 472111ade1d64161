"""Unguessable codes people type: coupon codes, gift card numbers.

Drawn by `secrets` from a 32-letter alphabet without 0, O, 1 or I (nothing to misread), five
bits a character, then a check character (Luhn mod 32) so a mistyped code is told apart from
an unknown one: it catches every single mistyped character and most swaps of two neighbours.
Shown in groups of four: ``PREFIX-XXXX-XXXX-XXXX-XC`` (C the check character).
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: nothing to misread
BITS_PER_CHAR = 5


def normalize_code(code: str) -> str:
    """Codes compare upper-case, without surrounding or inner spaces."""
    return re.sub(r"\s+", "", code).upper()


def check_character(body: str) -> str:
    """The Luhn mod 32 check character of `body` (characters of `ALPHABET`)."""
    n = len(ALPHABET)
    total, factor = 0, 2
    for char in reversed(body):
        addend = factor * ALPHABET.index(char)
        total += addend // n + addend % n
        factor = 1 if factor == 2 else 2
    return ALPHABET[(n - total % n) % n]


def generate(random_chars: int, prefix: str = "") -> str:
    """A new code of `random_chars` random characters (5 bits each) and its check character."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(random_chars))
    chars = body + check_character(body)
    groups = "-".join(chars[i : i + 4] for i in range(0, len(chars), 4))
    return f"{prefix}-{groups}" if prefix else groups


def shape(random_chars: int) -> re.Pattern[str]:
    """What a generated code of `random_chars` characters looks like (any prefix)."""
    total = random_chars + 1
    groups, rest = divmod(total, 4)
    parts = [f"(?:[{ALPHABET}]{{4}}-){{{groups - (0 if rest else 1)}}}"]
    parts.append(f"[{ALPHABET}]{{{rest or 4}}}")
    return re.compile(rf"^(?:[A-Z0-9]{{1,20}}-)?{''.join(parts)}$")


def is_mistyped(code: str, random_chars: int) -> bool:
    """True for a code shaped like a generated one whose check character does not match."""
    code = normalize_code(code)
    if not shape(random_chars).match(code):
        return False
    chars = code.replace("-", "")[-(random_chars + 1) :]
    return check_character(chars[:-1]) != chars[-1]

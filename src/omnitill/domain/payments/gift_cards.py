"""Gift card numbers and the rules of spending one.

A gift card number is a bearer secret: 15 random characters from the unambiguous alphabet of
`domain/codes.py` (75 bits, so guessing is hopeless, and balance checks are rate-limited on
top) and a check character, shown as ``GC-XXXX-XXXX-XXXX-XXXX``. Only its SHA-256 digest and
last four characters are stored. People type it with or without the prefix, dashes and
spaces, in any case.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from omnitill.domain import codes

PREFIX = "GC"
RANDOM_CHARS = 15  # 75 bits
LENGTH = RANDOM_CHARS + 1


class GiftCardStatus(StrEnum):
    INACTIVE = "inactive"  # printed, not sold yet
    ACTIVE = "active"
    VOID = "void"


def new_code() -> str:
    return codes.generate(RANDOM_CHARS, PREFIX)


def canonical(code: str) -> str | None:
    """The 16 characters of a gift card number as typed; None when it cannot be one."""
    chars = re.sub(r"[^A-Z0-9]", "", code.upper())
    if len(chars) == LENGTH + len(PREFIX) and chars.startswith(PREFIX):
        chars = chars[len(PREFIX) :]
    if len(chars) != LENGTH or any(c not in codes.ALPHABET for c in chars):
        return None
    return chars


def is_mistyped(chars: str) -> bool:
    """True when the check character of a canonical number does not match."""
    return codes.check_character(chars[:-1]) != chars[-1]


def digest(chars: str) -> str:
    """What is stored to find a card by its number: the SHA-256 of the canonical form."""
    return hashlib.sha256(chars.encode()).hexdigest()


def display(last4: str) -> str:
    """How a card shows on screens and receipts."""
    return f"{PREFIX}-****-****-****-{last4}"


@dataclass(frozen=True, slots=True)
class CardState:
    status: str
    currency: str
    balance: int
    expires_on: date | None


def refusal(card: CardState, *, amount: int, currency: str, today: date) -> str | None:
    """Why `amount` cannot be spent from `card` today (a stable code), or None."""
    if card.status == GiftCardStatus.INACTIVE:
        return "gift_card.inactive"
    if card.status == GiftCardStatus.VOID:
        return "gift_card.void"
    if card.expires_on is not None and today > card.expires_on:
        return "gift_card.expired"
    if currency != card.currency:
        return "gift_card.currency_mismatch"
    if amount > card.balance:
        return "gift_card.insufficient_balance"
    return None

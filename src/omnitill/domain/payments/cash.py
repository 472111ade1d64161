"""Cash: rounding where a currency has no smallest coins, denominations and counted cash.

Where the smallest coins are withdrawn (Switzerland 0.05, Canada 0.05, Australia 0.05, New
Zealand 0.10, Sweden and Norway whole units, Denmark 0.50), a *cash* payment is rounded to
the nearest increment, halves up; card and other payments pay the exact total. The sale total
does not change: the difference is a cash rounding adjustment of the payment, recorded on its
own so the books balance (sale total + rounding = cash taken - change).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from omnitill.domain.errors import FieldError, ValidationFailed

# Smallest cash amount per currency, in minor units; 1 (no rounding) where not listed.
CASH_INCREMENTS: dict[str, int] = {
    "AUD": 5,
    "CAD": 5,
    "CHF": 5,
    "CZK": 100,
    "DKK": 50,
    "HUF": 500,
    "NOK": 100,
    "NZD": 10,
    "SEK": 100,
}

# Notes and coins in circulation, in minor units, largest first.
DENOMINATIONS: dict[str, tuple[int, ...]] = {
    "USD": (10000, 5000, 2000, 1000, 500, 200, 100, 50, 25, 10, 5, 1),
    "EUR": (50000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1),
    "GBP": (5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1),
    "CHF": (100000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5),
    "CAD": (10000, 5000, 2000, 1000, 500, 200, 100, 25, 10, 5),
    "AUD": (10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5),
    "JPY": (10000, 5000, 2000, 1000, 500, 100, 50, 10, 5, 1),
    "SEK": (100000, 50000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100),
    "DKK": (100000, 50000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50),
    "NOK": (100000, 50000, 20000, 10000, 5000, 2000, 1000, 500, 100),
}


def cash_increment(currency: str, override: int | None = None) -> int:
    """The cash rounding increment of `currency` (a store setting may override it)."""
    if override is not None:
        if override < 1:
            raise ValueError("a cash rounding increment is at least 1 minor unit")
        return override
    return CASH_INCREMENTS.get(currency, 1)


def round_cash(amount: int, increment: int) -> int:
    """`amount` to the nearest multiple of `increment`, halves away from zero."""
    if increment <= 1:
        return amount
    sign = -1 if amount < 0 else 1
    units, rest = divmod(abs(amount), increment)
    if rest * 2 >= increment:
        units += 1
    return sign * units * increment


@dataclass(frozen=True, slots=True)
class CashCount:
    """Counted cash by denomination (minor units -> pieces), as a float or a closing count."""

    currency: str
    pieces: Mapping[int, int]

    @property
    def total(self) -> int:
        return sum(value * n for value, n in self.pieces.items())


def check_count(count: CashCount, *, field: str = "denominations") -> int:
    """The total of a count; 422 naming every unknown denomination or negative count."""
    known = DENOMINATIONS.get(count.currency)
    errors: list[FieldError] = []
    for value, n in sorted(count.pieces.items(), reverse=True):
        if known is not None and value not in known:
            errors.append(
                FieldError(
                    f"{field}.{value}",
                    "cash.unknown_denomination",
                    f"{count.currency} has no {value} minor-unit note or coin",
                )
            )
        elif value < 1:
            errors.append(FieldError(f"{field}.{value}", "cash.unknown_denomination", "< 1"))
        if n < 0:
            errors.append(FieldError(f"{field}.{value}", "cash.negative_count", "must be >= 0"))
    if errors:
        raise ValidationFailed(errors[0].code, "the cash count is invalid", errors=errors)
    return count.total
